/*
 * tests/unit/lean/test_constant.c — every ConstantInfo kind with its fields,
 * the 2022 and ≤ v4.9 variants chosen by pointer count, recursor rules, the
 * header text, and the errors for wrong shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "tests/support/leanbuild.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

typedef struct fixture {
    tb        b;
    region   *r;
    ln_module m;
} fixture;

static lx_word info(tb *b, uint8_t kind, unsigned nptr, const lx_word *ptrs, const uint8_t *sc,
                    unsigned nsc)
{
    lx_word val = tb_ctor(b, 0, nptr, ptrs, sc, nsc);
    return tb_ctor(b, kind, 1, &val, NULL, 0);
}

static void open_fixture(fixture *f)
{
    f->r = tb_open(&f->b, tb_module(&f->b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    region_error err;
    assert_int_equal(ln_module_open(f->r, &f->m, &err), 0);
}

static void close_fixture(fixture *f)
{
    region_close(f->r);
    tb_free(&f->b);
}

static void name_is(const ln_module *m, lx_word w, const char *want)
{
    char buf[128];
    region_error err;
    assert_int_equal(ln_name_to_cstr(m, w, buf, sizeof buf, NULL, &err), 0);
    assert_string_equal(buf, want);
}

static void test_every_kind(void **state)
{
    (void)state;
    fixture f;
    tb *b = &f.b;
    tb_init(b);
    const char *lps[2] = {"u", "v"};
    lx_word ty = tb_sort(b, lx_box(0));
    lx_word val = tb_const(b, "True", 0, NULL);
    lx_word all = tb_list(b, 1, (lx_word[]){tb_name(b, "T")});
    uint8_t one = 1, zero = 0;

    lx_word ax = info(b, LN_AXIOM, 1, (lx_word[]){tb_cval(b, "ax", 0, NULL, ty)}, &one, 1);
    uint32_t height = 7;
    lx_word regular = tb_ctor(b, 2, 0, NULL, (const uint8_t *)&height, 4);
    uint8_t partial = LN_PARTIAL;
    lx_word def = info(b, LN_DEF, 4, (lx_word[]){tb_cval(b, "d", 2, lps, ty), val, regular, all}, &partial, 1);
    lx_word abbrev = info(b, LN_DEF, 4, (lx_word[]){tb_cval(b, "d2", 0, NULL, ty), val, lx_box(1), all}, &one, 1);
    lx_word def22 = info(b, LN_DEF, 3, (lx_word[]){tb_cval(b, "d3", 0, NULL, ty), val, lx_box(0)}, &zero, 1);
    lx_word thm = info(b, LN_THM, 3, (lx_word[]){tb_cval(b, "t", 0, NULL, ty), val, all}, NULL, 0);
    lx_word thm22 = info(b, LN_THM, 2, (lx_word[]){tb_cval(b, "t2", 0, NULL, ty), val}, NULL, 0);
    lx_word op = info(b, LN_OPAQUE, 3, (lx_word[]){tb_cval(b, "o", 0, NULL, ty), val, all}, &one, 1);
    uint8_t lift = 2;
    lx_word quot = info(b, LN_QUOT, 1, (lx_word[]){tb_cval(b, "Quot.lift", 0, NULL, ty)}, &lift, 1);
    lx_word ctors = tb_list(b, 2, (lx_word[]){tb_name(b, "T.a"), tb_name(b, "T.b")});
    uint8_t ind_new[3] = {1, 0, 1};
    lx_word ind = info(b, LN_INDUCT, 6, (lx_word[]){tb_cval(b, "T", 0, NULL, ty), lx_box(2), lx_box(1), all, ctors, lx_box(3)}, ind_new, 3);
    uint8_t ind_old[4] = {0, 1, 0, 1};
    lx_word ind49 = info(b, LN_INDUCT, 5, (lx_word[]){tb_cval(b, "T9", 0, NULL, ty), lx_box(0), lx_box(0), all, ctors}, ind_old, 4);
    lx_word ctor = info(b, LN_CTOR, 5, (lx_word[]){tb_cval(b, "T.b", 0, NULL, ty), tb_name(b, "T"), lx_box(1), lx_box(2), lx_box(3)}, &zero, 1);
    lx_word rule = tb_ctor(b, 0, 3, (lx_word[]){tb_name(b, "T.a"), lx_box(4), val}, NULL, 0);
    lx_word rules = tb_list(b, 1, &rule);
    uint8_t rec_sc[2] = {1, 0};
    lx_word rec = info(b, LN_REC, 7, (lx_word[]){tb_cval(b, "T.rec", 1, lps, ty), all, lx_box(2), lx_box(1), lx_box(1), lx_box(2), rules}, rec_sc, 2);
    open_fixture(&f);
    const ln_module *m = &f.m;
    region_error err;
    ln_const c;

    assert_int_equal(ln_const_decode(m, ax, &c, &err), 0);
    assert_int_equal(c.kind, LN_AXIOM);
    assert_true(c.is_unsafe);
    name_is(m, c.name, "ax");
    assert_true(c.type == ty);

    assert_int_equal(ln_const_decode(m, def, &c, &err), 0);
    assert_int_equal(c.kind, LN_DEF);
    assert_int_equal(c.safety, LN_PARTIAL);
    assert_int_equal(c.hints, LN_HINTS_REGULAR);
    assert_int_equal(c.hints_height, 7);
    assert_true(c.value == val && c.all == all);
    ln_buf out;
    ln_buf_init(&out, 0);
    assert_int_equal(ln_const_format_header(m, &c, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "d.{u, v}");
    ln_buf_deinit(&out);
    assert_string_equal(ln_const_kind_name(c.kind), "def");

    assert_int_equal(ln_const_decode(m, abbrev, &c, &err), 0);
    assert_int_equal(c.hints, LN_HINTS_ABBREV);
    assert_int_equal(c.safety, LN_SAFE);
    assert_int_equal(ln_const_decode(m, def22, &c, &err), 0);
    assert_int_equal(c.hints, LN_HINTS_OPAQUE);
    assert_int_equal(c.safety, LN_UNSAFE);
    assert_true(c.all == 0);

    assert_int_equal(ln_const_decode(m, thm, &c, &err), 0);
    assert_int_equal(c.kind, LN_THM);
    assert_true(c.value == val && c.all == all);
    assert_int_equal(ln_const_decode(m, thm22, &c, &err), 0);
    assert_true(c.value == val && c.all == 0);

    assert_int_equal(ln_const_decode(m, op, &c, &err), 0);
    assert_int_equal(c.kind, LN_OPAQUE);
    assert_true(c.is_unsafe);

    assert_int_equal(ln_const_decode(m, quot, &c, &err), 0);
    assert_int_equal(c.kind, LN_QUOT);
    assert_int_equal(c.quot_kind, 2);

    assert_int_equal(ln_const_decode(m, ind, &c, &err), 0);
    assert_int_equal(c.kind, LN_INDUCT);
    assert_int_equal(c.num_params, 2);
    assert_int_equal(c.num_indices, 1);
    assert_true(c.has_num_nested);
    assert_int_equal(c.num_nested, 3);
    assert_true(c.is_nested);
    assert_true(c.is_rec);
    assert_false(c.is_unsafe);
    assert_true(c.is_reflexive);
    assert_true(c.ctors == ctors);

    assert_int_equal(ln_const_decode(m, ind49, &c, &err), 0);
    assert_false(c.has_num_nested);
    assert_true(c.is_nested);
    assert_false(c.is_rec);
    assert_true(c.is_unsafe);

    assert_int_equal(ln_const_decode(m, ctor, &c, &err), 0);
    assert_int_equal(c.kind, LN_CTOR);
    name_is(m, c.induct, "T");
    assert_int_equal(c.cidx, 1);
    assert_int_equal(c.num_params, 2);
    assert_int_equal(c.num_fields, 3);

    assert_int_equal(ln_const_decode(m, rec, &c, &err), 0);
    assert_int_equal(c.kind, LN_REC);
    assert_int_equal(c.num_params, 2);
    assert_int_equal(c.num_indices, 1);
    assert_int_equal(c.num_motives, 1);
    assert_int_equal(c.num_minors, 2);
    assert_true(c.k);
    assert_false(c.is_unsafe);
    lx_word cur = c.rules, head;
    assert_int_equal(ln_list_next(m, &cur, &head, &err), 1);
    ln_rec_rule rr;
    assert_int_equal(ln_rec_rule_view(m, head, &rr, &err), 0);
    name_is(m, rr.ctor, "T.a");
    assert_int_equal(rr.nfields, 4);
    assert_true(rr.rhs == val);
    close_fixture(&f);
    assert_int_equal(mem_live_total(), 0);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    fixture f;
    tb *b = &f.b;
    tb_init(b);
    lx_word ty = tb_sort(b, lx_box(0));
    lx_word cv = tb_cval(b, "x", 0, NULL, ty);
    uint8_t one = 1, bad_safety = 3;
    lx_word s = tb_string(b, "s");
    lx_word cases[8];
    size_t n = 0;
    cases[n++] = tb_ctor(b, 8, 1, &cv, NULL, 0);                              /* kind 8 */
    cases[n++] = info(b, LN_AXIOM, 2, (lx_word[]){cv, cv}, &one, 1);           /* 2 pointers */
    cases[n++] = info(b, LN_DEF, 4, (lx_word[]){cv, ty, lx_box(0), lx_box(0)}, &bad_safety, 1);
    cases[n++] = info(b, LN_DEF, 4, (lx_word[]){cv, ty, lx_box(5), lx_box(0)}, &one, 1); /* hints */
    cases[n++] = info(b, LN_CTOR, 5, (lx_word[]){cv, lx_box(0), s, lx_box(0), lx_box(0)}, &one, 1);
    cases[n++] = info(b, LN_AXIOM, 1, (lx_word[]){s}, &one, 1);               /* cval a String */
    cases[n++] = info(b, LN_INDUCT, 4, (lx_word[]){cv, lx_box(0), lx_box(0), lx_box(0)}, &one, 1);
    cases[n++] = s;
    open_fixture(&f);
    for (size_t i = 0; i < n; i++) {
        ln_const c;
        region_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(ln_const_decode(&f.m, cases[i], &c, &err), REGION_ECORRUPT);
        assert_int_equal(err.code, REGION_ECORRUPT);
        assert_true(err.offset < f.b.len);
        assert_true(err.reason[0] != '\0');
    }
    region_error err;
    ln_const c;
    assert_int_equal(ln_const_decode(&f.m, lx_box(1), &c, &err), REGION_ECORRUPT);
    close_fixture(&f);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_constant",
          cmocka_unit_test(test_every_kind),
          cmocka_unit_test(test_wrong_shapes))
