/*
 * tests/unit/protocol/test_replycache.c — the decl.get reply cache: keys,
 * byte budget, eviction order, counters, and a budget of 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol_internal.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static const uint8_t probe_byte = 7;

static void test_hits_and_keys(void **state)
{
    (void)state;
    stats_cache st = {0};
    replycache *c = replycache_new(1 << 20, &st);
    const char *t;
    size_t n;
    const uint8_t *probe;
    assert_false(replycache_get(c, 1, "Nat.add", 7, &t, &n, &probe));
    replycache_put(c, 1, "Nat.add", 7, "{\"a\":1}", 7, &probe_byte);
    assert_true(replycache_get(c, 1, "Nat.add", 7, &t, &n, &probe));
    assert_int_equal(n, 7);
    assert_memory_equal(t, "{\"a\":1}", 7);
    assert_ptr_equal(probe, &probe_byte);
    /* Another environment (serial), or another name, is another key. */
    assert_false(replycache_get(c, 2, "Nat.add", 7, &t, &n, &probe));
    assert_false(replycache_get(c, 1, "Nat.ad", 6, &t, &n, &probe));
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.entries, 1);
    assert_true(st.bytes > 14);
    replycache_free(c);
    assert_int_equal(mem_live_total(), 0);
}

static void test_budget_evicts_oldest(void **state)
{
    (void)state;
    stats_cache st = {0};
    replycache *c = replycache_new(64 * 1024, &st);
    char name[32], text[200];
    memset(text, 'x', sizeof text);
    for (int i = 0; i < 2000; i++) {
        int k = snprintf(name, sizeof name, "N.c%d", i);
        replycache_put(c, 1, name, (size_t)k, text, sizeof text, &probe_byte);
        assert_true(st.bytes <= st.max_bytes);
    }
    assert_true(st.evictions > 0);
    assert_int_equal(st.entries + st.evictions, 2000);
    const char *t;
    size_t n;
    const uint8_t *probe;
    /* The newest are there, the oldest went first. */
    assert_true(replycache_get(c, 1, "N.c1999", 7, &t, &n, &probe));
    assert_false(replycache_get(c, 1, "N.c0", 4, &t, &n, &probe));
    /* An entry larger than an eighth of the budget is not kept. */
    static char big[16 * 1024];
    replycache_put(c, 1, "Big", 3, big, sizeof big, &probe_byte);
    assert_false(replycache_get(c, 1, "Big", 3, &t, &n, &probe));
    replycache_free(c);
    assert_int_equal(mem_live_total(), 0);
}

static void test_zero_budget(void **state)
{
    (void)state;
    stats_cache st = {0};
    replycache *c = replycache_new(0, &st);
    replycache_put(c, 1, "A", 1, "1", 1, &probe_byte);
    const char *t;
    size_t n;
    const uint8_t *probe;
    assert_false(replycache_get(c, 1, "A", 1, &t, &n, &probe));
    assert_int_equal(st.entries, 0);
    replycache_free(c);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_replycache",
          cmocka_unit_test(test_hits_and_keys),
          cmocka_unit_test(test_budget_evicts_oldest),
          cmocka_unit_test(test_zero_budget))
