/*
 * tests/unit/pool/test_search.c — declaration search: prefix, substring and
 * fuzzy modes, the kinds filter, limits, paging (pages joined equal one big
 * page; cursors stable), bad arguments, shadowed names reported once, and
 * concurrent first searches from several threads building the structures once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "region/guard.h"
#include "region/region.h"
#include "tests/support/pooltest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

typedef struct fixture {
    char     *dir;
    pool     *p;
    pool_env *e;
} fixture;

static int setup(void **state)
{
    fixture *f = mem_calloc(1, sizeof *f);
    f->dir = tmpdir_make();
    /* positions: 0 def, 1 theorem, 2 axiom, 3 opaque, 4 inductive, 5 its ctor */
    lib_module(f->dir, "X.Base", "",
               "Nat.add,Nat.add_comm,Nat.zero,Nat.succ_ne,List,List.mk,"
               "List.map,List.map_id,listLength,Array.push");
    lib_module(f->dir, "X.Top", "X.Base", "Nat.add,Top.addAll,Top.nat_add_assoc");
    f->p = pool_make(f->dir, 2, 0, POOL_STALE_STAT);
    const char *imps[] = {"X.Top"};
    pool_error err;
    if (pool_acquire(f->p, imps, 1, 0, &f->e, &err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pool_release(f->p, f->e, NULL);
    pool_free(f->p);
    tmpdir_remove(f->dir);
    mem_free(f);
    return mem_live_total() == 0 ? 0 : -1;
}

static size_t run(pool_env *e, enum pool_search_mode mode, const char *q, uint32_t kinds,
                  uint32_t limit, uint64_t cursor, pool_search_item *items, uint64_t *next)
{
    pool_search_query sq = {mode, q, strlen(q), kinds, limit, cursor};
    size_t n;
    pool_error err;
    assert_int_equal(pool_env_search(e, &sq, items, &n, next, &err), 0);
    return n;
}

static void test_prefix(void **state)
{
    fixture *f = *state;
    pool_search_item it[20];
    uint64_t next;
    size_t n = run(f->e, POOL_SEARCH_PREFIX, "Nat.", 0, 20, 0, it, &next);
    assert_int_equal(n, 4); /* Nat.add once (shadowed), add_comm, succ_ne, zero */
    assert_int_equal(next, 0);
    assert_string_equal(it[0].name, "Nat.add");
    assert_int_equal(it[0].ref.module, 1); /* the winner */
    assert_string_equal(it[1].name, "Nat.add_comm");
    assert_string_equal(it[2].name, "Nat.succ_ne");
    assert_string_equal(it[3].name, "Nat.zero");
    assert_int_equal(it[3].kind, LN_AXIOM);
    assert_int_equal(it[0].name_len, 7);
    assert_true(it[0].score > it[1].score); /* shorter completion first by score */

    /* Case matters for prefixes; an empty prefix lists everything in name order. */
    assert_int_equal(run(f->e, POOL_SEARCH_PREFIX, "nat.", 0, 20, 0, it, &next), 0);
    n = run(f->e, POOL_SEARCH_PREFIX, "", 0, 20, 0, it, &next);
    assert_int_equal(n, 12);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(it[i - 1].name, it[i].name) < 0);
}

static void test_substring_and_kinds(void **state)
{
    fixture *f = *state;
    pool_search_item it[20];
    uint64_t next;
    size_t n = run(f->e, POOL_SEARCH_SUBSTRING, "add", 0, 20, 0, it, &next);
    assert_int_equal(n, 4); /* Nat.add, Nat.add_comm, Top.addAll, Top.nat_add_assoc */
    assert_string_equal(it[0].name, "Nat.add");
    assert_string_equal(it[3].name, "Top.nat_add_assoc");

    /* Kinds: theorems only (position 1 of each module). */
    n = run(f->e, POOL_SEARCH_SUBSTRING, "", 1u << LN_THM, 20, 0, it, &next);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(it[i].kind, LN_THM);
    n = run(f->e, POOL_SEARCH_PREFIX, "List", (1u << LN_INDUCT) | (1u << LN_CTOR), 20, 0, it, &next);
    assert_int_equal(n, 2);
    assert_string_equal(it[0].name, "List");
    assert_int_equal(it[0].kind, LN_INDUCT);
    assert_string_equal(it[1].name, "List.mk");
    assert_int_equal(it[1].kind, LN_CTOR);
}

static void test_fuzzy(void **state)
{
    fixture *f = *state;
    pool_search_item it[20];
    uint64_t next;
    size_t n = run(f->e, POOL_SEARCH_FUZZY, "lmap", 0, 20, 0, it, &next);
    assert_true(n >= 2);
    /* List.map: L, m-a-p consecutive at a component start: the best. */
    assert_string_equal(it[0].name, "List.map");
    for (size_t i = 1; i < n; i++)
        assert_true(it[i - 1].score >= it[i].score);
    /* Not a subsequence anywhere. */
    assert_int_equal(run(f->e, POOL_SEARCH_FUZZY, "zzq", 0, 20, 0, it, &next), 0);
    /* Case-insensitive. */
    n = run(f->e, POOL_SEARCH_FUZZY, "NATADDCOMM", 0, 20, 0, it, &next);
    assert_int_equal(n, 1);
    assert_string_equal(it[0].name, "Nat.add_comm");
}

/* Pages of every size, joined, give the one-page answer, for every mode. */
static void test_paging(void **state)
{
    fixture *f = *state;
    static const char *const queries[3] = {"", "a", "at"};
    for (int mode = POOL_SEARCH_PREFIX; mode <= POOL_SEARCH_FUZZY; mode++) {
        pool_search_item all[20], page[20];
        uint64_t next;
        const char *q = queries[mode];
        size_t n = run(f->e, (enum pool_search_mode)mode, q, 0, 20, 0, all, &next);
        assert_true(n >= 5);
        for (uint32_t limit = 1; limit <= 4; limit++) {
            size_t got = 0;
            uint64_t cursor = 0;
            int pages = 0;
            do {
                size_t k = run(f->e, (enum pool_search_mode)mode, q, 0, limit, cursor, page, &next);
                assert_true(k <= limit);
                for (size_t i = 0; i < k; i++, got++) {
                    assert_true(got < n);
                    assert_string_equal(page[i].name, all[got].name);
                    assert_int_equal(page[i].score, all[got].score);
                }
                /* A cursor names the same place when used again. */
                if (next) {
                    pool_search_item again[4];
                    uint64_t next2;
                    size_t k2 = run(f->e, (enum pool_search_mode)mode, q, 0, limit, next, again, &next2);
                    assert_true(k2 >= 1);
                }
                cursor = next;
                pages++;
            } while (cursor != 0);
            assert_int_equal(got, n);
            assert_int_equal(pages, (int)((n + limit - 1) / limit));
        }
    }
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    pool_search_item it[4];
    size_t n;
    uint64_t next;
    pool_error err;
    pool_search_query q = {POOL_SEARCH_PREFIX, "N", 1, 0, 0, 0};
    assert_int_equal(pool_env_search(f->e, &q, it, &n, &next, &err), POOL_EINVAL);
    q.limit = POOL_SEARCH_MAX_LIMIT + 1;
    assert_int_equal(pool_env_search(f->e, &q, it, &n, &next, &err), POOL_EINVAL);
    q.limit = 4;
    q.cursor = 1000000;
    assert_int_equal(pool_env_search(f->e, &q, it, &n, &next, &err), POOL_EINVAL);
    q.cursor = 0;
    q.mode = (enum pool_search_mode)7;
    assert_int_equal(pool_env_search(f->e, &q, it, &n, &next, &err), POOL_EINVAL);
    assert_non_null(strstr(err.reason, "mode"));
    /* No text at all is the empty query. */
    pool_search_query all = {POOL_SEARCH_PREFIX, NULL, 0, 0, 4, 0};
    assert_int_equal(pool_env_search(f->e, &all, it, &n, &next, &err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(next, 5);
    all.len = 3;
    assert_int_equal(pool_env_search(f->e, &all, it, &n, &next, &err), POOL_EINVAL);
}

typedef struct job {
    pool_env *e;
    size_t    n;
} job;

static void *search_thread(void *arg)
{
    job *j = arg;
    pool_search_item it[50];
    pool_search_query q = {POOL_SEARCH_SUBSTRING, "1", 1, 0, 50, 0};
    uint64_t next;
    pool_error err;
    if (pool_env_search(j->e, &q, it, &j->n, &next, &err) != 0)
        j->n = SIZE_MAX;
    return NULL;
}

static void test_concurrent_first_search(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "P", 20, 30, 3, 4, 9);
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    const char *imps[] = {"P"};
    pool_env *e;
    pool_error err;
    assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), 0);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].e = pool_env_ref(e);
        assert_int_equal(pthread_create(&th[i], NULL, search_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].n, jobs[0].n);
        pool_env_unref(jobs[i].e);
    }
    assert_true(jobs[0].n > 0 && jobs[0].n <= 50);
    pool_release(p, e, NULL);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* Truncates every .olean under dir to 0 bytes, in place (the inode stays mapped). */
static void truncate_all(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.olean' -exec truncate -s 0 {} +", dir);
    assert_int_equal(system(cmd), 0);
}

/*
 * The first search reads every name from the mapped files. A file truncated
 * in place under its mapping must fail that search (REGION_ESTALE), not kill
 * the process with SIGBUS; a later search tries again and fails the same way.
 */
static void test_truncated_under_mapping(void **state)
{
    (void)state;
    assert_int_equal(region_guard_install(), 0);
    char *dir = tmpdir_make();
    lib_gen(dir, "T", 6, 40, 2, 3, 5);
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    const char *imps[] = {"T"};
    pool_env *e;
    pool_error err;
    assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), 0);
    truncate_all(dir);
    pool_search_query q = {POOL_SEARCH_PREFIX, "T", 1, 0, 10, 0};
    pool_search_item items[10];
    size_t n;
    uint64_t next;
    assert_int_equal(pool_env_search(e, &q, items, &n, &next, &err), REGION_ESTALE);
    assert_int_equal(n, 0);
    assert_int_equal(pool_env_search(e, &q, items, &n, &next, &err), REGION_ESTALE);
    pool_release(p, e, NULL);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_search",
          cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
          cmocka_unit_test_setup_teardown(test_substring_and_kinds, setup, teardown),
          cmocka_unit_test_setup_teardown(test_fuzzy, setup, teardown),
          cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
          cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
          cmocka_unit_test(test_concurrent_first_search),
          cmocka_unit_test(test_truncated_under_mapping))
