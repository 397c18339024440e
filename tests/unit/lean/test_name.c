/*
 * tests/unit/lean/test_name.c — Names: text with «» escaping as Lean prints
 * it, the 2023+ hash (checked against the base address Lean derives from it),
 * comparison with text, caller-buffer output, and wrong shapes.
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

static region *open_built(tb *b, ln_module *m)
{
    region *r = tb_open(b, tb_module(b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    region_error err;
    assert_int_equal(ln_module_open(r, m, &err), 0);
    return r;
}

static void expect_text(const ln_module *m, lx_word name, const char *want)
{
    ln_buf out;
    ln_buf_init(&out, 0);
    region_error err;
    assert_int_equal(ln_name_format(m, name, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), want);
    ln_buf_deinit(&out);
}

static void test_hash_matches_lean_base_address(void **state)
{
    (void)state;
    /* lean-olean-format.md §1.4: base = hash(module) mod 0x7f0000000000, 64 KiB aligned. */
    uint64_t h;
    assert_int_equal(ln_name_hash_text("Main", 4, &h), 0);
    assert_true(((h % 0x7f0000000000ULL) & ~0xFFFFULL) == 0x5a1ef5730000ULL);
    assert_int_equal(ln_name_hash_text("[anonymous]", 11, &h), 0);
    assert_int_equal(h, LN_NAME_ANON_HASH);
    /* escaped and plain spellings of the same name hash alike */
    uint64_t h1, h2;
    assert_int_equal(ln_name_hash_text("a.«b».c", strlen("a.«b».c"), &h1), 0);
    assert_int_equal(ln_name_hash_text("a.b.c", 5, &h2), 0);
    assert_true(h1 == h2);
    assert_int_equal(ln_name_hash_text("a..b", 4, &h), LN_EINVAL);
    assert_int_equal(ln_name_hash_text("", 0, &h), LN_EINVAL);
    assert_int_equal(ln_name_hash_text("a.«b", strlen("a.«b"), &h), LN_EINVAL);
    assert_int_equal(ln_name_hash_text("a.99999999999999999999", 22, &h), LN_EINVAL);
}

static void test_hash_of_built_names(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word n1 = tb_name(&b, "Lean.Meta.3.x");
    lx_word n2 = tb_name_str(&b, tb_name(&b, "_private.M"), "a b");
    ln_module m;
    region *r = open_built(&b, &m);
    region_error err;
    uint64_t stored, computed, text;
    assert_int_equal(ln_name_hash_stored(&m, n1, &stored, &err), 0);
    assert_int_equal(ln_name_hash_compute(&m, n1, &computed, &err), 0);
    assert_int_equal(ln_name_hash_text("Lean.Meta.3.x", 13, &text), 0);
    assert_true(stored == computed && computed == text);
    assert_int_equal(ln_name_hash_compute(&m, n2, &computed, &err), 0);
    assert_int_equal(ln_name_hash_text("_private.M.«a b»", strlen("_private.M.«a b»"), &text), 0);
    assert_true(computed == text);
    assert_int_equal(ln_name_hash_stored(&m, lx_box(0), &stored, &err), 0);
    assert_int_equal(stored, LN_NAME_ANON_HASH);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_escaping(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word a = tb_name(&b, "a");
    lx_word spaced = tb_name_str(&b, a, "b c");
    lx_word digit_first = tb_name_str(&b, lx_box(0), "1x");
    lx_word num = tb_name_num(&b, a, 3);
    lx_word greek = tb_name(&b, "α.x₁.y'.z!.w?.ℕ");
    lx_word lambda = tb_name_str(&b, lx_box(0), "λ");
    lx_word bang_first = tb_name_str(&b, a, "!x");
    lx_word has_close = tb_name_str(&b, a, "x»y");
    lx_word hyg = tb_name(&b, "x._@.M._hyg.3");
    lx_word inacc = tb_name_str(&b, tb_name_str(&b, lx_box(0), "a b"), "x✝");
    lx_word hole = tb_name(&b, "_");
    lx_word mvar = tb_name_str(&b, tb_name_str(&b, lx_box(0), "?m"), "a b");
    lx_word empty = tb_name_str(&b, a, "");
    ln_module m;
    region *r = open_built(&b, &m);
    expect_text(&m, lx_box(0), "[anonymous]");
    expect_text(&m, spaced, "a.«b c»");
    expect_text(&m, digit_first, "«1x»");
    expect_text(&m, num, "a.3");
    expect_text(&m, greek, "α.x₁.y'.z!.w?.ℕ");
    expect_text(&m, lambda, "«λ»");
    expect_text(&m, bang_first, "a.«!x»");
    expect_text(&m, has_close, "a.x»y");         /* cannot be escaped: printed raw */
    expect_text(&m, hyg, "x._@.M._hyg.3");       /* macro scopes: no escaping */
    expect_text(&m, inacc, "a b.x✝");            /* inaccessible: no escaping */
    expect_text(&m, hole, "_");
    expect_text(&m, mvar, "?m.a b");             /* pseudo-syntax root: no escaping */
    expect_text(&m, empty, "a.«»");
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_compare_with_text(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word spaced = tb_name_str(&b, tb_name(&b, "a"), "b c");
    lx_word num = tb_name(&b, "a.3");
    lx_word str3 = tb_name_str(&b, tb_name(&b, "a"), "3");
    ln_module m;
    region *r = open_built(&b, &m);
    region_error err;
    bool eq;
#define EQ(w, s) (assert_int_equal(ln_name_eq_text(&m, (w), (s), strlen(s), &eq, &err), 0), eq)
    assert_true(EQ(spaced, "a.«b c»"));
    assert_true(EQ(spaced, "a.b c"));
    assert_false(EQ(spaced, "a.b"));
    assert_false(EQ(spaced, "a.«b c».d"));
    assert_false(EQ(spaced, "a"));
    assert_true(EQ(num, "a.3"));
    assert_false(EQ(num, "a.4"));
    assert_false(EQ(str3, "a.3"));   /* a string "3" is written «3» */
    assert_true(EQ(str3, "a.«3»"));
    assert_true(EQ(lx_box(0), "[anonymous]"));
    assert_false(EQ(num, "[anonymous]"));
#undef EQ
    assert_int_equal(ln_name_eq_text(&m, num, "a..3", 4, &eq, &err), LN_EINVAL);
    assert_int_equal(ln_name_eq_text(&m, num, "", 0, &eq, &err), LN_EINVAL);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_caller_buffer(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word n = tb_name(&b, "Foo.bar");
    ln_module m;
    region *r = open_built(&b, &m);
    region_error err;
    char buf[8];
    size_t need = 0;
    assert_int_equal(ln_name_to_cstr(&m, n, buf, sizeof buf, &need, &err), 0);
    assert_string_equal(buf, "Foo.bar");
    assert_int_equal(need, 7);
    char small[5];
    assert_int_equal(ln_name_to_cstr(&m, n, small, sizeof small, &need, &err), LN_ETOOBIG);
    assert_string_equal(small, "Foo.");
    assert_int_equal(need, 7);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word s = tb_string(&b, "x");
    lx_word bad_comp = tb_ctor(&b, 1, 2, (lx_word[]){lx_box(0), lx_box(4)},
                               (const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
    lx_word no_hash = tb_ctor(&b, 1, 2, (lx_word[]){lx_box(0), s}, NULL, 0);
    lx_word bad_prefix = tb_name_str(&b, s, "y");
    ln_module m;
    region *r = open_built(&b, &m);
    region_error err;
    ln_buf out;
    ln_buf_init(&out, 0);
    const lx_word cases[] = {s, bad_comp, no_hash, bad_prefix, lx_box(7)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t h;
        bool eq;
        memset(&err, 0, sizeof err);
        assert_int_equal(ln_name_format(&m, cases[i], &out, &err), REGION_ECORRUPT);
        assert_int_equal(err.code, REGION_ECORRUPT);
        assert_int_equal(ln_name_hash_compute(&m, cases[i], &h, &err), REGION_ECORRUPT);
        assert_int_equal(ln_name_eq_text(&m, cases[i], "x", 1, &eq, &err), REGION_ECORRUPT);
    }
    memset(&err, 0, sizeof err);
    assert_int_equal(ln_name_format(&m, s, &out, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, s - TB_BASE);
    assert_non_null(strstr(err.reason, "Name"));
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_name",
          cmocka_unit_test(test_hash_matches_lean_base_address),
          cmocka_unit_test(test_hash_of_built_names),
          cmocka_unit_test(test_escaping),
          cmocka_unit_test(test_compare_with_text),
          cmocka_unit_test(test_caller_buffer),
          cmocka_unit_test(test_wrong_shapes))
