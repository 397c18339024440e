/*
 * tests/unit/lean/test_module.c — ModuleData of each era chosen by shape,
 * Import flags per era, constNames, Nat/String/List helpers, and the errors
 * for roots and arrays of the wrong shape.
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

static lx_word axiom(tb *b, const char *name)
{
    lx_word cv = tb_cval(b, name, 0, NULL, tb_sort(b, lx_box(0)));
    uint8_t unsafe0 = 0;
    lx_word val = tb_ctor(b, 0, 1, &cv, &unsafe0, 1);
    return tb_ctor(b, LN_AXIOM, 1, &val, NULL, 0);
}

static void name_is(const ln_module *m, lx_word w, const char *want)
{
    char buf[128];
    region_error err;
    assert_int_equal(ln_name_to_cstr(m, w, buf, sizeof buf, NULL, &err), 0);
    assert_string_equal(buf, want);
}

static void test_eras(void **state)
{
    (void)state;
    for (int era = LN_ERA_2022; era <= LN_ERA_MODULE; era++) {
        tb b;
        tb_init(&b);
        lx_word imps[2] = {tb_import(&b, "Init", 0, 1, 0), tb_import(&b, "Foo.Bar", 1, 0, 1)};
        lx_word cs[2] = {axiom(&b, "x"), axiom(&b, "y.z")};
        lx_word names[2] = {tb_name(&b, "x"), tb_name(&b, "y.z")};
        region *r = tb_open(&b, tb_module(&b, (enum ln_era)era, 2, imps, 2, cs, names));
        ln_module m;
        region_error err;
        assert_int_equal(ln_module_open(r, &m, &err), 0);
        assert_int_equal(m.era, era);
        assert_int_equal(m.nimports, 2);
        assert_int_equal(m.nconstants, 2);
        assert_int_equal(m.nentries, 0);
        assert_int_equal(m.is_module, era == LN_ERA_MODULE);
        ln_import im;
        assert_int_equal(ln_module_import(&m, 0, &im, &err), 0);
        name_is(&m, im.module, "Init");
        if (era == LN_ERA_MODULE) {
            assert_false(im.import_all);
            assert_true(im.is_exported);
            assert_false(im.is_meta);
            assert_false(im.runtime_only);
        } else {
            assert_false(im.runtime_only);
            assert_false(im.is_exported);
        }
        assert_int_equal(ln_module_import(&m, 1, &im, &err), 0);
        name_is(&m, im.module, "Foo.Bar");
        if (era == LN_ERA_MODULE) {
            assert_true(im.import_all);
            assert_false(im.is_exported);
            assert_true(im.is_meta);
        } else {
            assert_true(im.runtime_only);
        }
        assert_int_equal(ln_module_import(&m, 2, &im, &err), LN_EINVAL);
        lx_word nm;
        assert_int_equal(ln_module_const_name(&m, 1, &nm, &err), 0);
        name_is(&m, nm, "y.z");
        assert_int_equal(ln_module_const_name(&m, 2, &nm, &err), LN_EINVAL);
        /* 2022: not stored; later: the builder's extraConstNames is empty */
        assert_int_equal(ln_module_extra_name(&m, 0, &nm, &err), LN_EINVAL);
        assert_int_equal(m.nextra, 0);
        region_close(r);
        tb_free(&b);
    }
    assert_int_equal(mem_live_total(), 0);
}

static void expect_open_fails(tb *b, lx_word root, uint64_t offset)
{
    region *r = tb_open(b, root);
    ln_module m;
    region_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(ln_module_open(r, &m, &err), REGION_ECORRUPT);
    assert_int_equal(err.code, REGION_ECORRUPT);
    assert_int_equal(err.offset, offset);
    assert_string_equal(err.path, "built.olean");
    region_close(r);
}

static void test_bad_roots(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word s = tb_string(&b, "root");
    expect_open_fails(&b, s, s - TB_BASE);
    lx_word empty = tb_array(&b, 0, NULL);
    lx_word four = tb_ctor(&b, 0, 4, (lx_word[]){empty, empty, empty, empty}, NULL, 0);
    expect_open_fails(&b, four, four - TB_BASE);
    lx_word tag1 = tb_ctor(&b, 1, 3, (lx_word[]){empty, empty, empty}, NULL, 0);
    expect_open_fails(&b, tag1, tag1 - TB_BASE);
    /* imports is a String */
    lx_word bad_imports = tb_ctor(&b, 0, 3, (lx_word[]){s, empty, empty}, NULL, 0);
    expect_open_fails(&b, bad_imports, s - TB_BASE);
    /* constNames shorter than constants */
    lx_word one = tb_array(&b, 1, (lx_word[]){axiom(&b, "c")});
    lx_word mismatch = tb_ctor(&b, 0, 5, (lx_word[]){empty, empty, one, empty, empty}, NULL, 0);
    expect_open_fails(&b, mismatch, empty - TB_BASE);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_values(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    uint64_t one_limb[1] = {UINT64_MAX};
    uint64_t two_limbs[2] = {0, 1}; /* 2^64 */
    lx_word big1 = tb_mpz(&b, 1, one_limb);
    lx_word big2 = tb_mpz(&b, 2, two_limbs);
    static uint64_t huge_limbs[513]; /* 2^32768: one bit over LN_NAT_MAX_BITS */
    huge_limbs[512] = 1;
    lx_word huge = tb_mpz(&b, 513, huge_limbs);
    lx_word str = tb_string(&b, "héllo");
    lx_word elems[3] = {lx_box(1), lx_box(2), lx_box(3)};
    lx_word list = tb_list(&b, 3, elems);
    lx_word bad_list = tb_ctor(&b, 1, 2, (lx_word[]){lx_box(1), str}, NULL, 0);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    uint64_t v;
    assert_int_equal(ln_nat_u64(&m, lx_box(12), &v, &err), 0);
    assert_int_equal(v, 12);
    assert_int_equal(ln_nat_u64(&m, big1, &v, &err), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ln_nat_u64(&m, big2, &v, &err), REGION_ECORRUPT);
    assert_int_equal(ln_nat_u64(&m, str, &v, &err), REGION_ECORRUPT);
    ln_buf out;
    ln_buf_init(&out, 0);
    assert_int_equal(ln_nat_format(&m, big2, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "18446744073709551616");
    ln_buf_reset(&out);
    assert_int_equal(ln_nat_format(&m, big1, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "18446744073709551615");
    /* Digits that cannot fit are not computed: the buffer is cut at once. */
    ln_buf_reset(&out);
    out.limit = 20;
    assert_int_equal(ln_nat_format(&m, big2, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "18446744073709551616");
    ln_buf_reset(&out);
    out.limit = 19;
    assert_int_equal(ln_nat_format(&m, big2, &out, &err), LN_ETOOBIG);
    assert_string_equal(ln_buf_cstr(&out), "…");
    /* Nor are those of a number over LN_NAT_MAX_BITS, whatever the room. */
    ln_buf_reset(&out);
    out.limit = LN_BUF_DEFAULT_LIMIT;
    assert_int_equal(ln_nat_format(&m, huge, &out, &err), LN_ETOOBIG);
    assert_string_equal(ln_buf_cstr(&out), "…");
    ln_buf_deinit(&out);
    const char *data;
    size_t len;
    assert_int_equal(ln_string(&m, str, &data, &len, &err), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "héllo", 6);
    assert_int_equal(ln_string(&m, big1, &data, &len, &err), REGION_ECORRUPT);
    uint64_t n;
    assert_int_equal(ln_list_length(&m, list, &n, &err), 0);
    assert_int_equal(n, 3);
    lx_word cur = list, head;
    assert_int_equal(ln_list_next(&m, &cur, &head, &err), 1);
    assert_true(head == lx_box(1));
    assert_int_equal(ln_list_length(&m, bad_list, &n, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, str - TB_BASE);
    assert_int_equal(ln_list_length(&m, lx_box(3), &n, &err), REGION_ECORRUPT);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

/*
 * The checked accessors on a lazily opened image: an Array element that points
 * above its array (a cycle's way in), a field outside the file, and the good
 * objects beside them.
 */
static void test_checked_accessors_lazy(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word n1 = tb_name(&b, "A.b");
    lx_word elems[2] = {n1, lx_box(0)};
    lx_word arr = tb_array(&b, 2, elems);
    lx_word later = tb_name(&b, "C");
    /* element 1 := a Name built after the array */
    memcpy(b.buf + (arr - TB_BASE) + 24 + 8, &later, 8);
    lx_word out_ptr[2] = {lx_box(0), 0x1000}; /* a Name.str whose string is outside (below the file) */
    lx_word bad_name = tb_ctor(&b, 1, 2, out_ptr, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
    lx_word root_f[2] = {arr, bad_name};
    lx_word root = tb_ctor(&b, 0, 2, root_f, NULL, 0);
    memcpy(b.buf + 88, &root, 8);
    const uint8_t *buf = b.buf;
    size_t len = b.len;
    region *r;
    region_error err;
    assert_int_equal(region_open_buffers(&buf, &len, 1, "t.olean", &r, &err), REGION_ECORRUPT);
    assert_int_equal(region_open_buffers_flags(&buf, &len, 1, "t.olean", REGION_OPEN_LAZY, &r, &err), 0);
    ln_module m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.sp = region_space(r);

    lx_word w;
    uint64_t n;
    const uint8_t *o;
    assert_int_equal(ln_array_size(&m, arr, "names", &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ln_array_get(&m, arr, 0, "names", &w, &err), 0);
    assert_true(w == n1);
    ln_buf t;
    ln_buf_init(&t, 0);
    assert_int_equal(ln_name_format(&m, w, &t, &err), 0);
    assert_string_equal(ln_buf_cstr(&t), "A.b");
    assert_int_equal(ln_array_get(&m, arr, 1, "names", &w, &err), REGION_ECORRUPT);
    assert_non_null(strstr(err.reason, "does not lie below its array"));
    assert_int_equal(ln_array_get(&m, arr, 2, "names", &w, &err), LN_EINVAL);
    /* the Name is fine, its string component is not */
    assert_int_equal(ln_obj(&m, bad_name, "Name", &o, &err), 0);
    ln_buf_reset(&t);
    assert_int_equal(ln_name_format(&m, bad_name, &t, &err), REGION_ECORRUPT);
    if (!strstr(err.reason, "Name.str component: pointer") || !strstr(err.reason, "outside the file"))
        fail_msg("reason: %s", err.reason);
    assert_int_equal(ln_obj(&m, lx_box(3), "Level", &o, &err), REGION_ECORRUPT);
    ln_buf_deinit(&t);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_module",
          cmocka_unit_test(test_eras),
          cmocka_unit_test(test_bad_roots),
          cmocka_unit_test(test_values),
          cmocka_unit_test(test_checked_accessors_lazy))
