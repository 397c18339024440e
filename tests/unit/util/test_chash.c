/*
 * tests/unit/util/test_chash.c — chash: insert, lookup by hash with equal
 * hashes chained, removal (also during a walk), growth and its failure, and
 * random operations against a naive model.
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
#include "util/chash.h"
#include "util/mem.h"

typedef struct item {
    uint64_t   key;
    chash_link link;
    bool       in;
} item;

static item *find(const chash *t, uint64_t hash, uint64_t key)
{
    for (chash_link *l = chash_first(t, hash); l; l = chash_next(l)) {
        assert_int_equal(l->hash, hash);
        item *it = CHASH_ENTRY(l, item, link);
        if (it->key == key)
            return it;
    }
    return NULL;
}

static void test_basic(void **state)
{
    (void)state;
    static item items[5000];
    chash t = {0};
    assert_null(chash_first(&t, 1));
    chash_init(&t);
    for (uint64_t i = 0; i < 5000; i++) {
        items[i].key = i;
        /* hash = key / 4: four keys share each hash */
        assert_int_equal(chash_insert(&t, &items[i].link, i / 4), 0);
    }
    assert_int_equal(chash_count(&t), 5000);
    assert_true(t.nb >= 4096); /* grew */
    for (uint64_t i = 0; i < 5000; i++)
        assert_ptr_equal(find(&t, i / 4, i), &items[i]);
    assert_null(find(&t, 0, 4)); /* key 4 has hash 1 */
    size_t n = 0;
    for (chash_link *l = chash_first(&t, 7); l; l = chash_next(l))
        n++;
    assert_int_equal(n, 4);
    chash_remove(&t, &items[29].link);
    assert_null(find(&t, 7, 29));
    assert_ptr_equal(find(&t, 7, 28), &items[28]);
    assert_int_equal(chash_count(&t), 4999);
    /* walk, removing every entry as it is returned */
    chash_iter it = {0};
    n = 0;
    for (chash_link *l; (l = chash_walk(&t, &it));) {
        chash_remove(&t, l);
        n++;
    }
    assert_int_equal(n, 4999);
    assert_int_equal(chash_count(&t), 0);
    chash_deinit(&t);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static void test_failed_growth(void **state)
{
    (void)state;
    static item items[100];
    chash t;
    chash_init(&t);
    mem_fail_after(0);
    assert_int_equal(chash_insert(&t, &items[0].link, 0), -ENOMEM); /* no buckets yet */
    mem_fail_after(-1);
    assert_int_equal(chash_count(&t), 0);
    assert_int_equal(chash_insert(&t, &items[0].link, 0), 0);
    size_t nb = t.nb;
    mem_fail_after(0);
    for (uint64_t i = 1; i < 100; i++) { /* growth refused: longer chains, every insert done */
        items[i].key = i;
        assert_int_equal(chash_insert(&t, &items[i].link, i * 0x9E3779B97F4A7C15ull), 0);
    }
    assert_true(mem_fail_count() > 0);
    mem_fail_after(-1);
    assert_int_equal(t.nb, nb);
    for (uint64_t i = 1; i < 100; i++)
        assert_ptr_equal(find(&t, i * 0x9E3779B97F4A7C15ull, i), &items[i]);
    assert_int_equal(chash_insert(&t, &(item){0}.link, 5), 0 ); /* grows now */
    assert_true(t.nb > nb);
    chash_deinit(&t);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random inserts and removals of a fixed pool of items, hashes drawn from a
 * small set so that chains hold equal hashes; the model is the items' `in`
 * flag. Every lookup and a full walk are checked against it. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { N = 2000 };
    static item items[N];
    static uint64_t hash_of[N];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint64_t s = seed * 0x2545F4914F6CDD1Dull;
        uint64_t nhash = seed % 2 ? 50 : 100000;
        chash t;
        chash_init(&t);
        size_t in = 0;
        for (size_t i = 0; i < N; i++) {
            items[i] = (item){.key = i};
            hash_of[i] = rng(&s) % nhash;
        }
        for (int step = 0; step < 20000; step++) {
            size_t i = (size_t)(rng(&s) % N);
            uint64_t r = rng(&s) % 100;
            if (r < 50 && !items[i].in) {
                bool fail = rng(&s) % 20 == 0;
                if (fail)
                    mem_fail_after(0);
                bool empty = t.nb == 0;
                int rc = chash_insert(&t, &items[i].link, hash_of[i]);
                mem_fail_after(-1);
                if (rc) { /* only a table without buckets can fail */
                    assert_true(fail && empty && rc == -ENOMEM);
                    continue;
                }
                items[i].in = true;
                in++;
            } else if (r < 80 && items[i].in) {
                chash_remove(&t, &items[i].link);
                items[i].in = false;
                in--;
            } else {
                assert_ptr_equal(find(&t, hash_of[i], i), items[i].in ? &items[i] : NULL);
            }
            assert_int_equal(chash_count(&t), in);
        }
        chash_iter it = {0};
        size_t seen = 0;
        for (chash_link *l; (l = chash_walk(&t, &it));) {
            item *x = CHASH_ENTRY(l, item, link);
            assert_true(x->in);
            assert_int_equal(l->hash, hash_of[x->key]);
            seen++;
        }
        assert_int_equal(seen, in);
        chash_deinit(&t);
    }
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

TEST_MAIN("test_chash",
          cmocka_unit_test(test_basic),
          cmocka_unit_test(test_failed_growth),
          cmocka_unit_test(test_random_against_model))
