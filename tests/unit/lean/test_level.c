/*
 * tests/unit/lean/test_level.c — Level views for both zero encodings, the
 * level text, a deeply nested level (explicit stack), and wrong shapes.
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

static void expect_level(const ln_module *m, lx_word l, const char *want)
{
    ln_buf out;
    ln_buf_init(&out, 0);
    region_error err;
    assert_int_equal(ln_level_format(m, l, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), want);
    ln_buf_deinit(&out);
}

static void test_levels(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word u = tb_lparam(&b, "u"), v = tb_lparam(&b, "v");
    lx_word one = tb_lsucc(&b, lx_box(0));
    lx_word three = tb_lsucc(&b, tb_lsucc(&b, one));
    lx_word u2 = tb_lsucc(&b, tb_lsucc(&b, u));
    lx_word mx = tb_lmax(&b, u2, v);
    lx_word imx = tb_limax(&b, u, tb_lmax(&b, u, v));
    lx_word succ_max = tb_lsucc(&b, mx);
    uint64_t data = 0;
    lx_word zero22 = tb_ctor(&b, 0, 0, NULL, (const uint8_t *)&data, 8); /* 2022 Level.zero */
    lx_word succ22 = tb_lsucc(&b, zero22);
    lx_word mvar = tb_ctor(&b, 5, 1, (lx_word[]){tb_name(&b, "_uniq.3")}, (const uint8_t *)&data, 8);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_level l;
    assert_int_equal(ln_level_view(&m, lx_box(0), &l, &err), 0);
    assert_int_equal(l.kind, LN_LZERO);
    assert_int_equal(ln_level_view(&m, zero22, &l, &err), 0);
    assert_int_equal(l.kind, LN_LZERO);
    assert_int_equal(ln_level_view(&m, mx, &l, &err), 0);
    assert_int_equal(l.kind, LN_LMAX);
    assert_true(l.a == u2 && l.b == v);
    expect_level(&m, lx_box(0), "0");
    expect_level(&m, zero22, "0");
    expect_level(&m, succ22, "1");
    expect_level(&m, three, "3");
    expect_level(&m, u, "u");
    expect_level(&m, u2, "u + 2");
    expect_level(&m, mx, "max (u + 2) v");
    expect_level(&m, imx, "imax u (max u v)");
    expect_level(&m, succ_max, "(max (u + 2) v) + 1");
    expect_level(&m, mvar, "?_uniq.3");
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_deep_and_wrong(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word u = tb_lparam(&b, "u");
    lx_word deep = u;
    for (int i = 0; i < 100000; i++)
        deep = tb_lmax(&b, u, deep);
    lx_word s = tb_string(&b, "s");
    uint64_t data = 0;
    lx_word tag6 = tb_ctor(&b, 6, 1, &s, (const uint8_t *)&data, 8);
    lx_word succ_bad = tb_lsucc(&b, s);
    lx_word no_data = tb_ctor(&b, 1, 1, (lx_word[]){lx_box(0)}, NULL, 0);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 16u << 20);
    assert_int_equal(ln_level_format(&m, deep, &out, &err), 0);
    /* "max u " per level, parentheses around all but the outermost, the last u */
    assert_int_equal(out.len, 100000 * strlen("max u ") + 2 * 99999 + 1);
    const lx_word bad[] = {s, tag6, succ_bad, no_data, lx_box(2)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ln_buf_reset(&out);
        memset(&err, 0, sizeof err);
        assert_int_equal(ln_level_format(&m, bad[i], &out, &err), REGION_ECORRUPT);
        assert_int_equal(err.code, REGION_ECORRUPT);
    }
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_level",
          cmocka_unit_test(test_levels),
          cmocka_unit_test(test_deep_and_wrong))
