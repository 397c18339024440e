/*
 * tests/unit/util/test_u64map.c — u64map: put, get, upsert, the zero key,
 * deletion by backward shift in long probe runs, iteration, failed growth,
 * and random operations against a naive model (an unsorted array).
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
#include "util/mem.h"
#include "util/u64map.h"

static void test_basic(void **state)
{
    (void)state;
    u64map m = {0};
    uint64_t v;
    assert_false(u64map_get(&m, 5, &v)); /* = {0} is an empty map */
    assert_false(u64map_del(&m, 5, NULL));
    assert_null(u64map_ref(&m, 0));
    u64map_init(&m);
    for (uint64_t k = 0; k < 10000; k++)
        assert_int_equal(u64map_put(&m, k * 8, k + 1), 0); /* aligned "addresses", 0 among them */
    assert_int_equal(u64map_count(&m), 10000);
    for (uint64_t k = 0; k < 10000; k++) {
        assert_true(u64map_get(&m, k * 8, &v));
        assert_int_equal(v, k + 1);
        assert_false(u64map_get(&m, k * 8 + 1, NULL));
    }
    assert_int_equal(u64map_put(&m, 16, 77), 0); /* replace */
    assert_int_equal(u64map_count(&m), 10000);
    assert_int_equal(*u64map_ref(&m, 16), 77);
    uint64_t *slot;
    bool added;
    assert_int_equal(u64map_upsert(&m, 16, &slot, &added), 0);
    assert_false(added);
    assert_int_equal(*slot, 77);
    assert_int_equal(u64map_upsert(&m, UINT64_MAX, &slot, &added), 0);
    assert_true(added);
    assert_int_equal(*slot, 0);
    (*slot)++;
    assert_true(u64map_get(&m, UINT64_MAX, &v));
    assert_int_equal(v, 1);
    assert_true(u64map_del(&m, 0, &v));
    assert_int_equal(v, 1);
    assert_false(u64map_get(&m, 0, NULL));
    assert_int_equal(u64map_count(&m), 10000);
    u64map_clear(&m);
    assert_int_equal(u64map_count(&m), 0);
    assert_false(u64map_get(&m, 8, NULL));
    u64map_deinit(&m);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

/* Keys that all hash near each other: deleting from the middle of a long
 * run must keep every other key reachable (backward shift), including
 * around the end of the table. */
static void test_delete_in_runs(void **state)
{
    (void)state;
    u64map m;
    u64map_init(&m);
    assert_int_equal(u64map_reserve(&m, 100), 0);
    size_t cap = m.cap;
    /* keys whose home slot is one of the last few: their runs wrap around */
    uint64_t keys[64];
    size_t nk = 0;
    for (uint64_t k = 1; nk < 64; k++) {
        size_t home = (size_t)((k * 0x9E3779B97F4A7C15ull) >> m.shift);
        if (home >= cap - 3)
            keys[nk++] = k;
    }
    for (size_t i = 0; i < nk; i++)
        assert_int_equal(u64map_put(&m, keys[i], keys[i] ^ 0xff), 0);
    assert_int_equal(m.cap, cap); /* reserved: no growth */
    for (size_t i = 0; i < nk; i += 2)
        assert_true(u64map_del(&m, keys[i], NULL));
    for (size_t i = 0; i < nk; i++) {
        uint64_t v;
        assert_int_equal(u64map_get(&m, keys[i], &v), i % 2 == 1);
        if (i % 2)
            assert_int_equal(v, keys[i] ^ 0xff);
    }
    /* no tombstones: the occupied slots are exactly the keys left */
    size_t used = 0;
    for (size_t i = 0; i < m.cap; i++)
        used += m.s[i].key != 0;
    assert_int_equal(used, nk / 2);
    u64map_deinit(&m);
}

static void test_iterate(void **state)
{
    (void)state;
    u64map m;
    u64map_init(&m);
    uint64_t k, v, sum = 0, n = 0;
    size_t it = 0;
    assert_false(u64map_next(&m, &it, &k, &v));
    for (uint64_t i = 0; i <= 100; i++)
        assert_int_equal(u64map_put(&m, i, i * 2), 0);
    it = 0;
    while (u64map_next(&m, &it, &k, &v)) {
        assert_int_equal(v, k * 2);
        sum += k;
        n++;
    }
    assert_int_equal(n, 101);
    assert_int_equal(sum, 5050);
    assert_false(u64map_next(&m, &it, NULL, NULL)); /* stays at the end */
    u64map_deinit(&m);
}

static void test_failed_growth(void **state)
{
    (void)state;
    u64map m;
    u64map_init(&m);
    mem_fail_after(0);
    assert_int_equal(u64map_put(&m, 1, 1), -ENOMEM);
    assert_int_equal(u64map_count(&m), 0);
    assert_int_equal(u64map_put(&m, 0, 9), 0); /* the zero key needs no table */
    mem_fail_after(-1);
    uint64_t k = 1;
    while (2 * (m.n + 1) <= (m.cap ? m.cap : 0) || m.cap == 0) {
        assert_int_equal(u64map_put(&m, k++, 5), 0);
        if (m.cap && 2 * (m.n + 1) > m.cap)
            break;
    }
    size_t n = u64map_count(&m), cap = m.cap;
    mem_fail_after(0);
    assert_int_equal(u64map_put(&m, 1u << 30, 1), -ENOMEM); /* needs growth */
    assert_int_equal(u64map_put(&m, 1, 6), 0);              /* present: no growth needed */
    assert_int_equal(u64map_reserve(&m, 10 * n), -ENOMEM);
    mem_fail_after(-1);
    assert_int_equal(u64map_count(&m), n);
    assert_int_equal(m.cap, cap);
    for (uint64_t i = 1; i < k; i++)
        assert_true(u64map_get(&m, i, NULL));
    assert_false(u64map_get(&m, 1u << 30, NULL));
    assert_int_equal(u64map_reserve(&m, SIZE_MAX), -ENOMEM);
    u64map_deinit(&m);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct model { uint64_t k[4096], v[4096]; size_t n; } model;

static size_t model_find(const model *m, uint64_t k)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->k[i] == k)
            return i;
    return SIZE_MAX;
}

/* Random put, del, upsert, get, clear and injected failures over a small key
 * space (so that runs are long and deletions hit them), then the whole
 * content compared through iteration. */
static void test_random_against_model(void **state)
{
    (void)state;
    static model md;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        uint64_t space = seed % 4 == 0 ? 64 : seed % 4 == 1 ? 1000 : 4000;
        md.n = 0;
        u64map m;
        u64map_init(&m);
        for (int step = 0; step < 20000; step++) {
            uint64_t r = rng(&s) % 100;
            /* keys: small numbers, or small numbers spread over the top bits */
            uint64_t key = rng(&s) % space;
            if (seed % 2)
                key <<= 52;
            size_t at = model_find(&md, key);
            if (r < 45) {
                uint64_t val = rng(&s);
                bool fail = rng(&s) % 30 == 0;
                if (fail)
                    mem_fail_after(0);
                int rc = u64map_put(&m, key, val);
                int64_t failed = mem_fail_count();
                mem_fail_after(-1);
                if (rc) {
                    assert_int_equal(rc, -ENOMEM);
                    assert_true(fail && failed && at == SIZE_MAX);
                } else if (at == SIZE_MAX && md.n < 4096) {
                    md.k[md.n] = key;
                    md.v[md.n++] = val;
                } else if (at != SIZE_MAX) {
                    md.v[at] = val;
                } else {
                    assert_true(u64map_del(&m, key, NULL)); /* model full: undo */
                }
            } else if (r < 75) {
                uint64_t old;
                bool was = u64map_del(&m, key, &old);
                assert_int_equal(was, at != SIZE_MAX);
                if (was) {
                    assert_int_equal(old, md.v[at]);
                    md.k[at] = md.k[--md.n];
                    md.v[at] = md.v[md.n];
                }
            } else if (r < 85) {
                uint64_t *slot;
                bool added;
                if (at == SIZE_MAX && md.n == 4096)
                    continue;
                assert_int_equal(u64map_upsert(&m, key, &slot, &added), 0);
                assert_int_equal(added, at == SIZE_MAX);
                if (added) {
                    assert_int_equal(*slot, 0);
                    md.k[md.n] = key;
                    md.v[md.n++] = 0;
                    at = md.n - 1;
                }
                assert_int_equal(*slot, md.v[at]);
                md.v[at] = ++*slot;
            } else if (r < 99) {
                uint64_t v;
                assert_int_equal(u64map_get(&m, key, &v), at != SIZE_MAX);
                if (at != SIZE_MAX)
                    assert_int_equal(v, md.v[at]);
            } else {
                u64map_clear(&m);
                md.n = 0;
            }
            assert_int_equal(u64map_count(&m), md.n);
        }
        size_t it = 0, seen = 0;
        uint64_t k, v;
        while (u64map_next(&m, &it, &k, &v)) {
            size_t at = model_find(&md, k);
            assert_true(at != SIZE_MAX);
            assert_int_equal(v, md.v[at]);
            seen++;
        }
        assert_int_equal(seen, md.n);
        u64map_deinit(&m);
    }
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

TEST_MAIN("test_u64map",
          cmocka_unit_test(test_basic),
          cmocka_unit_test(test_delete_in_runs),
          cmocka_unit_test(test_iterate),
          cmocka_unit_test(test_failed_growth),
          cmocka_unit_test(test_random_against_model))
