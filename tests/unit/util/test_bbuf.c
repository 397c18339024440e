/*
 * tests/unit/util/test_bbuf.c — bbuf: appends, printf (short and long), the
 * hard limit, the sticky error, failed growth, steal, and random operations
 * against a plain array.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/testmain.h"
#include "util/bbuf.h"
#include "util/mem.h"

static void test_append(void **state)
{
    (void)state;
    bbuf b;
    bbuf_init(&b, 0);
    assert_string_equal(bbuf_cstr(&b), "");
    assert_int_equal(bbuf_append(&b, NULL, 0), 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(bbuf_puts(&b, "abc"), 0);
    assert_int_equal(bbuf_putc(&b, '!'), 0);
    assert_int_equal(b.len, 30001);
    assert_int_equal(strlen(bbuf_cstr(&b)), 30001);
    assert_int_equal(b.data[30000], '!');
    bbuf_truncate(&b, 3);
    assert_string_equal(bbuf_cstr(&b), "abc");
    bbuf_reset(&b);
    assert_string_equal(bbuf_cstr(&b), "");
    /* binary bytes, NULs inside */
    assert_int_equal(bbuf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    bbuf_deinit(&b);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static void test_printf(void **state)
{
    (void)state;
    bbuf b;
    bbuf_init(&b, 0);
    assert_int_equal(bbuf_printf(&b, "a_%zu", (size_t)7), 0);
    assert_int_equal(bbuf_printf(&b, " %s", "x"), 0);
    assert_string_equal(bbuf_cstr(&b), "a_7 x");
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(bbuf_printf(&b, "[%s]", big), 0); /* longer than the room there was */
    assert_int_equal(b.len, 5 + 2 + 2999);
    assert_int_equal(b.data[5], '[');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(strlen(b.data), b.len);
    assert_int_equal(bbuf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 5 + 2 + 2999);
    bbuf_deinit(&b);
}

static void test_limit(void **state)
{
    (void)state;
    bbuf b;
    bbuf_init(&b, 8);
    assert_int_equal(bbuf_puts(&b, "12345"), 0);
    assert_int_equal(bbuf_puts(&b, "678"), 0); /* exactly the limit */
    assert_int_equal(b.len, 8);
    assert_int_equal(bbuf_putc(&b, '9'), -EMSGSIZE);
    assert_int_equal(b.err, -EMSGSIZE);
    assert_string_equal(bbuf_cstr(&b), "12345678"); /* nothing of the refused append */
    assert_int_equal(bbuf_puts(&b, ""), -EMSGSIZE); /* sticky */
    assert_int_equal(bbuf_printf(&b, "x"), -EMSGSIZE);
    char *s;
    assert_int_equal(bbuf_steal(&b, &s, NULL), -EMSGSIZE);
    bbuf_reset(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(bbuf_printf(&b, "%s", "123456"), 0);
    assert_int_equal(bbuf_printf(&b, "%d", 123), -EMSGSIZE); /* fits the room, not the limit */
    assert_string_equal(bbuf_cstr(&b), "123456");
    bbuf_reset(&b);
    assert_int_equal(bbuf_append(&b, "x", SIZE_MAX), -EMSGSIZE); /* no overflow */
    bbuf_deinit(&b);
    assert_int_equal(b.limit, 8); /* kept for reuse */
    bbuf_init(&b, 0);
    assert_int_equal(bbuf_puts(&b, "a"), 0);
    assert_int_equal(bbuf_append(&b, "x", SIZE_MAX), -ENOMEM);
    bbuf_deinit(&b);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static void test_failed_growth(void **state)
{
    (void)state;
    bbuf b;
    bbuf_init(&b, 0);
    assert_int_equal(bbuf_puts(&b, "keep"), 0);
    char big[100];
    memset(big, 'z', sizeof big);
    mem_fail_after(0);
    assert_int_equal(bbuf_append(&b, big, sizeof big), -ENOMEM);
    assert_int_equal(bbuf_printf(&b, "%.*s", 100, big), -ENOMEM); /* sticky, no allocation tried */
    assert_int_equal(mem_fail_count(), 1);
    mem_fail_after(-1);
    assert_string_equal(bbuf_cstr(&b), "keep");
    bbuf_reset(&b);
    assert_int_equal(bbuf_append(&b, big, sizeof big), 0);
    bbuf_deinit(&b);
    /* printf growing past the room, failing */
    bbuf_init(&b, 0);
    assert_int_equal(bbuf_puts(&b, "x"), 0);
    mem_fail_after(0);
    assert_int_equal(bbuf_printf(&b, "%.*s", 100, big), -ENOMEM);
    mem_fail_after(-1);
    assert_string_equal(bbuf_cstr(&b), "x");
    bbuf_deinit(&b);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static void test_steal(void **state)
{
    (void)state;
    bbuf b;
    bbuf_init(&b, 0);
    char *s;
    size_t n;
    assert_int_equal(bbuf_steal(&b, &s, &n), 0); /* empty: still a string */
    assert_string_equal(s, "");
    assert_int_equal(n, 0);
    mem_free(s);
    assert_int_equal(bbuf_puts(&b, "lean"), 0);
    assert_int_equal(bbuf_steal(&b, &s, &n), 0);
    assert_string_equal(s, "lean");
    assert_int_equal(n, 4);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    mem_free(s);
    mem_fail_after(0);
    assert_int_equal(bbuf_steal(&b, &s, &n), -ENOMEM);
    mem_fail_after(-1);
    bbuf_deinit(&b);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random appends, printfs, truncations, resets and failures under a random
 * limit, checked byte for byte against a plain array. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { MAX = 1 << 16 };
    static char model[MAX];
    char piece[304];
    for (uint64_t seed = 1; seed <= 30; seed++) {
        uint64_t s = seed * 0x2545F4914F6CDD1Dull;
        size_t limit = seed % 3 == 0 ? 0 : (size_t)(rng(&s) % 4000);
        size_t mn = 0;
        int merr = 0;
        bbuf b;
        bbuf_init(&b, limit);
        for (int step = 0; step < 5000; step++) {
            uint64_t r = rng(&s) % 100;
            size_t k = (size_t)(rng(&s) % 300);
            for (size_t i = 0; i < k; i++)
                piece[i] = (char)('a' + rng(&s) % 26);
            bool fail = rng(&s) % 40 == 0;
            int rc;
            if (r < 50) {
                if (fail)
                    mem_fail_after(0);
                rc = bbuf_append(&b, piece, k);
            } else if (r < 80) {
                if (fail)
                    mem_fail_after(0);
                rc = bbuf_printf(&b, "<%.*s>", (int)k, piece);
                k += 2;
                memmove(piece + 1, piece, k - 2);
                piece[0] = '<';
                piece[k - 1] = '>';
            } else if (r < 90) {
                size_t to = mn ? (size_t)(rng(&s) % (mn + 1)) : 0;
                bbuf_truncate(&b, to);
                if (to < mn)
                    mn = to;
                continue;
            } else {
                bbuf_reset(&b);
                mn = 0;
                merr = 0;
                continue;
            }
            int64_t failed = mem_fail_count();
            mem_fail_after(-1);
            /* the model: sticky error, then the limit, then the injected failure */
            int want = merr;
            if (!want && limit && mn + k > limit)
                want = -EMSGSIZE;
            if (!want && failed)
                want = -ENOMEM;
            if (want) {
                assert_int_equal(rc, want);
                merr = want;
            } else {
                assert_int_equal(rc, 0);
                memcpy(model + mn, piece, k);
                mn += k;
            }
            assert_int_equal(b.err, merr);
            assert_int_equal(b.len, mn);
            assert_true(!limit || b.len <= limit);
            if (mn)
                assert_memory_equal(b.data, model, mn);
            assert_int_equal(bbuf_cstr(&b)[mn], 0);
            if (mn >= MAX - 2 * sizeof piece) {
                bbuf_reset(&b);
                mn = 0;
                merr = 0;
            }
        }
        bbuf_deinit(&b);
    }
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

TEST_MAIN("test_bbuf",
          cmocka_unit_test(test_append),
          cmocka_unit_test(test_printf),
          cmocka_unit_test(test_limit),
          cmocka_unit_test(test_failed_growth),
          cmocka_unit_test(test_steal),
          cmocka_unit_test(test_random_against_model))
