/*
 * tests/unit/lean/test_buf.c — ln_buf: growth, the hard limit, cutting at a
 * UTF-8 boundary with the "…" marker, printf of long text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static void test_growth(void **state)
{
    (void)state;
    ln_buf b;
    ln_buf_init(&b, 0);
    assert_int_equal(b.limit, LN_BUF_DEFAULT_LIMIT);
    assert_string_equal(ln_buf_cstr(&b), "");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(ln_buf_puts(&b, "abc"), 0);
    assert_int_equal(b.len, 30000);
    assert_int_equal(strlen(ln_buf_cstr(&b)), 30000);
    ln_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(ln_buf_cstr(&b), "");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(ln_buf_printf(&b, "<%s>%d", big, 7), 0);
    assert_int_equal(b.len, 1002);
    assert_string_equal(ln_buf_cstr(&b) + 1000, ">7");
    ln_buf_deinit(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_limit_cuts_at_utf8_boundary(void **state)
{
    (void)state;
    ln_buf b;
    ln_buf_init(&b, 5);
    assert_int_equal(ln_buf_puts(&b, "ab"), 0);
    /* "αβ" is 4 bytes; only 3 fit, so the cut backs off to "α" */
    assert_int_equal(ln_buf_puts(&b, "\xce\xb1\xce\xb2"), LN_ETOOBIG);
    assert_true(b.truncated);
    assert_string_equal(ln_buf_cstr(&b), "ab\xce\xb1\xe2\x80\xa6");
    /* once cut, nothing more is appended */
    assert_int_equal(ln_buf_puts(&b, "z"), LN_ETOOBIG);
    assert_string_equal(ln_buf_cstr(&b), "ab\xce\xb1\xe2\x80\xa6");
    ln_buf_cut(&b); /* idempotent */
    assert_string_equal(ln_buf_cstr(&b), "ab\xce\xb1\xe2\x80\xa6");
    ln_buf_reset(&b);
    assert_false(b.truncated);
    assert_int_equal(ln_buf_puts(&b, "12345"), 0);
    assert_int_equal(ln_buf_puts(&b, ""), 0);
    assert_int_equal(ln_buf_puts(&b, "6"), LN_ETOOBIG);
    assert_string_equal(ln_buf_cstr(&b), "12345\xe2\x80\xa6");
    ln_buf_reset(&b);
    assert_int_equal(ln_buf_puts(&b, "1"), 0);
    ln_buf_cut(&b);
    assert_true(b.truncated);
    assert_string_equal(ln_buf_cstr(&b), "1\xe2\x80\xa6");
    ln_buf_deinit(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_buf",
          cmocka_unit_test(test_growth),
          cmocka_unit_test(test_limit_cuts_at_utf8_boundary))
