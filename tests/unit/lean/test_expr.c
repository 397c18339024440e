/*
 * tests/unit/lean/test_expr.c — ln_expr_view on every constructor, in the
 * modern and the 2022 layout (binder info and nonDep from their own byte or
 * from the data word), literals, and wrong shapes.
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

static void check_layout(bool old)
{
    tb b;
    tb_init(&b);
    b.old_expr = old;
    lx_word n = tb_const(&b, "Nat", 0, NULL);
    lx_word bv = tb_bvar(&b, 2);
    lx_word so = tb_sort(&b, lx_box(0));
    lx_word ap = tb_app(&b, n, bv);
    lx_word lam = tb_lam(&b, "x", n, bv, LN_BI_STRICT);
    lx_word pi = tb_pi(&b, "y", n, tb_bvar(&b, 0), LN_BI_INST);
    lx_word let = tb_let(&b, "z", n, bv, tb_bvar(&b, 0));
    lx_word ln = tb_lit_nat(&b, lx_box(5));
    lx_word ls = tb_lit_str(&b, "s");
    lx_word md = tb_mdata(&b, bv);
    lx_word pj = tb_proj(&b, "Prod", 1, bv);
    /* a constant whose type is a binder, so ln_module_open sees the layout */
    lx_word cv = tb_cval(&b, "c", 0, NULL, lam);
    uint8_t zero = 0;
    lx_word ax = tb_ctor(&b, 0, 1, &cv, &zero, 1);
    lx_word ci = tb_ctor(&b, LN_AXIOM, 1, &ax, NULL, 0);
    lx_word name = tb_name(&b, "c");
    region *r = tb_open(&b, tb_module(&b, old ? LN_ERA_2022 : LN_ERA_2023, 0, NULL, 1, &ci, &name));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    assert_int_equal(m.old_expr, old);
    ln_expr x;
    assert_int_equal(ln_expr_view(&m, bv, &x, &err), 0);
    assert_int_equal(x.kind, LN_BVAR);
    assert_true(x.a == lx_box(2));
    assert_int_equal(x.loose_bvar_range, 3);
    assert_int_equal(ln_expr_view(&m, so, &x, &err), 0);
    assert_int_equal(x.kind, LN_SORT);
    assert_int_equal(ln_expr_view(&m, n, &x, &err), 0);
    assert_int_equal(x.kind, LN_CONST);
    assert_true(x.b == lx_box(0));
    assert_int_equal(ln_expr_view(&m, ap, &x, &err), 0);
    assert_int_equal(x.kind, LN_APP);
    assert_true(x.a == n && x.b == bv);
    assert_int_equal(x.loose_bvar_range, 3);
    assert_int_equal(ln_expr_view(&m, lam, &x, &err), 0);
    assert_int_equal(x.kind, LN_LAM);
    assert_int_equal(x.binder_info, LN_BI_STRICT);
    assert_true(x.b == n && x.c == bv);
    assert_int_equal(x.loose_bvar_range, 2);
    assert_int_equal(ln_expr_view(&m, pi, &x, &err), 0);
    assert_int_equal(x.kind, LN_FORALL);
    assert_int_equal(x.binder_info, LN_BI_INST);
    assert_int_equal(x.loose_bvar_range, 0);
    assert_int_equal(ln_expr_view(&m, let, &x, &err), 0);
    assert_int_equal(x.kind, LN_LET);
    assert_true(x.b == n && x.c == bv);
    assert_false(x.non_dep);
    assert_int_equal(ln_expr_view(&m, ln, &x, &err), 0);
    assert_int_equal(x.kind, LN_LIT);
    assert_false(x.is_str);
    assert_true(x.lit == lx_box(5));
    assert_int_equal(ln_expr_view(&m, ls, &x, &err), 0);
    assert_true(x.is_str);
    const char *s;
    size_t len;
    assert_int_equal(ln_string(&m, x.lit, &s, &len, &err), 0);
    assert_int_equal(len, 1);
    assert_int_equal(ln_expr_view(&m, md, &x, &err), 0);
    assert_int_equal(x.kind, LN_MDATA);
    assert_true(x.b == bv);
    assert_int_equal(ln_expr_view(&m, pj, &x, &err), 0);
    assert_int_equal(x.kind, LN_PROJ);
    assert_true(x.b == lx_box(1) && x.c == bv);
    region_close(r);
    tb_free(&b);
}

static void test_modern_layout(void **state)
{
    (void)state;
    check_layout(false);
    assert_int_equal(mem_live_total(), 0);
}

static void test_old_layout(void **state)
{
    (void)state;
    check_layout(true);
    assert_int_equal(mem_live_total(), 0);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    uint8_t sc[9] = {0};
    lx_word s = tb_string(&b, "s");
    lx_word cases[6];
    size_t n = 0;
    cases[n++] = tb_ctor(&b, 12, 1, &s, sc, 8);                        /* tag 12 */
    cases[n++] = tb_ctor(&b, LN_APP, 3, (lx_word[]){s, s, s}, sc, 8);    /* 3 pointers */
    cases[n++] = tb_ctor(&b, LN_BVAR, 1, (lx_word[]){lx_box(0)}, NULL, 0); /* no data */
    sc[8] = 9;
    cases[n++] = tb_ctor(&b, LN_LAM, 3, (lx_word[]){lx_box(0), s, s}, sc, 9); /* binder info 9 */
    cases[n++] = tb_ctor(&b, LN_LIT, 1, &s, sc, 8);                     /* Literal is a String */
    cases[n++] = s;
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    for (size_t i = 0; i < n; i++) {
        ln_expr x;
        memset(&err, 0, sizeof err);
        assert_int_equal(ln_expr_view(&m, cases[i], &x, &err), REGION_ECORRUPT);
        assert_int_equal(err.code, REGION_ECORRUPT);
        assert_true(err.offset < b.len);
    }
    ln_expr x;
    assert_int_equal(ln_expr_view(&m, lx_box(0), &x, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, UINT64_MAX);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_expr",
          cmocka_unit_test(test_modern_layout),
          cmocka_unit_test(test_old_layout),
          cmocka_unit_test(test_wrong_shapes))
