/*
 * tests/unit/util/test_vec.c — VEC: push, growth, reserve, failed growth
 * leaving the vector intact, and random operations against a fixed array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/testmain.h"
#include "util/mem.h"
#include "util/vec.h"

typedef struct pair { uint32_t a; uint64_t b; } pair;
typedef VEC(pair) pair_vec;
typedef VEC(uint64_t) u64_vec;

static void test_push_and_grow(void **state)
{
    (void)state;
    pair_vec v = {0};
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(vec_push(&v, (pair){i, (uint64_t)i * 3}), 0);
    assert_int_equal(v.n, 10000);
    assert_true(v.cap >= v.n);
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(v.v[i].a, i);
        assert_int_equal(v.v[i].b, (uint64_t)i * 3);
    }
    assert_int_equal(vec_last(&v).a, 9999);
    assert_int_equal(vec_pop(&v).a, 9999);
    assert_int_equal(v.n, 9999);
    vec_clear(&v);
    assert_int_equal(v.n, 0);
    assert_non_null(v.v);
    vec_free(&v);
    assert_null(v.v);
    assert_int_equal(v.cap, 0);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static void test_reserve(void **state)
{
    (void)state;
    u64_vec v = {0};
    assert_int_equal(vec_reserve(&v, 0), 0);
    assert_null(v.v); /* nothing asked, nothing allocated */
    assert_int_equal(vec_reserve(&v, 1000), 0);
    size_t cap = v.cap;
    assert_true(cap >= 1000);
    uint64_t *before = v.v;
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(vec_push(&v, i), 0);
    assert_ptr_equal(v.v, before); /* reserved: no growth */
    assert_int_equal(v.cap, cap);
    /* sizes that overflow are refused, the vector kept */
    assert_int_equal(vec_reserve(&v, SIZE_MAX / 4), -ENOMEM);
    assert_int_equal(vec_reserve(&v, SIZE_MAX), -ENOMEM);
    assert_ptr_equal(v.v, before);
    assert_int_equal(v.n, 1000);
    vec_free(&v);
}

/* A growth that fails leaves elements, count and capacity as they were. */
static void test_failed_growth_keeps_vector(void **state)
{
    (void)state;
    u64_vec v = {0};
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(vec_push(&v, i), 0);
    assert_int_equal(v.cap, 8);
    uint64_t *before = v.v;
    mem_fail_after(0);
    assert_int_equal(vec_push(&v, 99), -ENOMEM);
    assert_int_equal(mem_fail_count(), 1);
    mem_fail_after(-1);
    assert_ptr_equal(v.v, before);
    assert_int_equal(v.n, 8);
    assert_int_equal(v.cap, 8);
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(v.v[i], i);
    assert_int_equal(vec_push(&v, 8), 0);
    assert_int_equal(v.v[8], 8);
    vec_free(&v);
    /* the first allocation failing: still empty */
    mem_fail_after(0);
    assert_int_equal(vec_push(&v, 1), -ENOMEM);
    mem_fail_after(-1);
    assert_null(v.v);
    assert_int_equal(v.n, 0);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random push, pop, clear, reserve and injected failures against a plain array. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { MAX = 5000 };
    static uint64_t model[MAX];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        size_t mn = 0;
        u64_vec v = {0};
        for (int step = 0; step < 20000; step++) {
            uint64_t r = rng(&s) % 100;
            if (r < 60 && mn < MAX) {
                uint64_t x = rng(&s);
                bool fail = rng(&s) % 50 == 0;
                if (fail)
                    mem_fail_after(0);
                int rc = vec_push(&v, x);
                mem_fail_after(-1);
                if (rc == 0)
                    model[mn++] = x;
                else
                    assert_true(fail && rc == -ENOMEM);
            } else if (r < 90 && mn > 0) {
                assert_int_equal(vec_pop(&v), model[--mn]);
            } else if (r < 92) {
                vec_clear(&v);
                mn = 0;
            } else {
                assert_int_equal(vec_reserve(&v, (size_t)(rng(&s) % MAX)), 0);
            }
            assert_int_equal(v.n, mn);
            assert_true(v.n <= v.cap);
        }
        for (size_t i = 0; i < mn; i++)
            assert_int_equal(v.v[i], model[i]);
        vec_free(&v);
    }
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

TEST_MAIN("test_vec",
          cmocka_unit_test(test_push_and_grow),
          cmocka_unit_test(test_reserve),
          cmocka_unit_test(test_failed_growth_keeps_vector),
          cmocka_unit_test(test_random_against_model))
