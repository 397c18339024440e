/*
 * tests/unit/pool/test_modcache.c — the module cache: one mapping per file
 * identity, shared and unmapped with the last reference, counters, staleness
 * (replaced and vanished files, the generation, scans), failed loads not
 * cached, and threads loading the same files at once mapping each only once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool/pool_internal.h"
#include "tests/support/pooltest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static char *path_of(const char *dir, const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return mem_strdup(buf);
}

static void test_sharing_and_counters(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "Mc.A", "Mc.B", "Mc.A.x,Mc.A.y");
    char *pa = path_of(dir, "Mc/A.olean");
    struct stat st;
    assert_int_equal(stat(pa, &st), 0);
    pool_modcache *mc = pool__modcache_new(0);
    pool_module *m1, *m2;
    pool_error err;
    assert_int_equal(pool__modcache_get(mc, pa, "Mc.A", NULL, &m1, &err), 0);
    assert_int_equal(pool__modcache_get(mc, pa, "Mc.A", NULL, &m2, &err), 0);
    assert_ptr_equal(m1, m2);
    assert_int_equal(mem_live(MEM_MAPPINGS), 1);
    pool_modcache_stats s;
    pool__modcache_stats(mc, &s);
    assert_int_equal(s.modules_mapped, 1);
    assert_int_equal(s.loads, 1);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.mapped_bytes, (uint64_t)st.st_size);
    /* Decoded once: imports as text, hashes of the constant names. */
    assert_int_equal(m1->nimports, 1);
    assert_string_equal(m1->import_text + m1->import_off[0], "Mc.B");
    assert_int_equal(m1->nconstants, 2);
    uint64_t h;
    assert_int_equal(ln_name_hash_text("Mc.A.y", 6, &h), 0);
    assert_true(m1->hashes[1] == h);

    pool__module_unref(m1);
    assert_int_equal(mem_live(MEM_MAPPINGS), 1);
    pool__module_unref(m2);
    assert_int_equal(mem_live(MEM_MAPPINGS), 0);
    pool__modcache_stats(mc, &s);
    assert_int_equal(s.modules_mapped, 0);
    assert_int_equal(s.mapped_bytes, 0);

    pool__modcache_unref(mc);
    mem_free(pa);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_staleness(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "Mc.A", "", "Mc.A.x");
    char *pa = path_of(dir, "Mc/A.olean");
    pool_modcache *mc = pool__modcache_new(0);
    pool_module *old, *cur;
    pool_error err;
    assert_int_equal(pool__modcache_get(mc, pa, "Mc.A", NULL, &old, &err), 0);
    assert_true(pool__module_check(old));
    uint64_t g0 = pool__modcache_generation(mc);

    lib_module(dir, "Mc.A", "", "Mc.A.x,Mc.A.z"); /* replaced: new identity */
    size_t changed;
    assert_int_equal(pool__modcache_scan(mc, &changed), 0);
    assert_int_equal(changed, 1);
    assert_true(pool__modcache_generation(mc) > g0);
    assert_false(pool__module_check(old)); /* sticky */
    assert_int_equal(pool__modcache_get(mc, pa, "Mc.A", NULL, &cur, &err), 0);
    assert_ptr_not_equal(old, cur);
    assert_int_equal(old->nconstants, 1); /* the old mapping stays readable */
    assert_int_equal(cur->nconstants, 2);
    assert_int_equal(mem_live(MEM_MAPPINGS), 2);
    assert_int_equal(pool__modcache_scan(mc, &changed), 0);
    assert_int_equal(changed, 0);

    /* Vanished. */
    assert_int_equal(unlink(pa), 0);
    assert_false(pool__module_check(cur));
    pool_module *none = NULL;
    assert_true(pool__modcache_get(mc, pa, "Mc.A", "Imp", &none, &err) < 0);
    assert_null(none);
    assert_string_equal(err.module, "Mc.A");
    assert_string_equal(err.imported_by, "Imp");
    pool__module_unref(old);
    pool__module_unref(cur);
    pool__modcache_unref(mc);
    mem_free(pa);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_corrupt_not_cached(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    char *p = path_of(dir, "Bad.olean");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("this is not an olean file, just some text", f);
    fclose(f);
    pool_modcache *mc = pool__modcache_new(0);
    pool_module *m = NULL;
    pool_error err;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pool__modcache_get(mc, p, "Bad", NULL, &m, &err), REGION_ECORRUPT);
        assert_non_null(strstr(err.region.path, "Bad.olean"));
    }
    pool_modcache_stats s;
    pool__modcache_stats(mc, &s);
    assert_int_equal(s.modules_mapped, 0);
    assert_int_equal(s.loads, 0);
    pool__modcache_unref(mc);
    mem_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

enum { NTHREADS = 4, NFILES = 41 };

typedef struct shared {
    pool_modcache    *mc;
    char             *paths[NFILES];
    pthread_barrier_t go;
} shared;

typedef struct worker {
    shared      *sh;
    pool_module *got[NFILES];
    int          failures;
} worker;

static void *load_all(void *arg)
{
    worker *w = arg;
    pool_error err;
    pthread_barrier_wait(&w->sh->go);
    for (int i = 0; i < NFILES; i++)
        if (pool__modcache_get(w->sh->mc, w->sh->paths[i], "T", NULL, &w->got[i], &err) != 0)
            w->failures++;
    return NULL;
}

static void test_threads_map_once(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "Th", 40, 30, 3, 5, 11);
    shared sh;
    sh.mc = pool__modcache_new(0);
    pool_roots *roots;
    pool_error err;
    const char *dirs[] = {dir};
    assert_int_equal(pool_roots_new(dirs, 1, &roots, &err), 0);
    for (int i = 0; i < NFILES; i++) {
        char name[64];
        if (i == NFILES - 1)
            snprintf(name, sizeof name, "Th");
        else
            snprintf(name, sizeof name, "Th.L%d.M%d", i * 5 / 40, i);
        assert_int_equal(pool_resolve(roots, name, NULL, &sh.paths[i], &err), 0);
    }
    pthread_barrier_init(&sh.go, NULL, NTHREADS);
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    memset(w, 0, sizeof w);
    for (int t = 0; t < NTHREADS; t++) {
        w[t].sh = &sh;
        assert_int_equal(pthread_create(&th[t], NULL, load_all, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pool_modcache_stats s;
    pool__modcache_stats(sh.mc, &s);
    assert_int_equal(s.modules_mapped, NFILES);
    assert_int_equal(s.loads, NFILES);
    assert_int_equal(s.hits, (NTHREADS - 1) * NFILES);
    assert_int_equal(mem_live(MEM_REGIONS), NFILES);
    for (int t = 0; t < NTHREADS; t++) {
        assert_int_equal(w[t].failures, 0);
        for (int i = 0; i < NFILES; i++) {
            assert_ptr_equal(w[t].got[i], w[0].got[i]);
            pool__module_unref(w[t].got[i]);
        }
    }
    assert_int_equal(mem_live(MEM_MAPPINGS), 0);
    pthread_barrier_destroy(&sh.go);
    for (int i = 0; i < NFILES; i++)
        mem_free(sh.paths[i]);
    pool_roots_free(roots);
    pool__modcache_unref(sh.mc);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* A lazily loaded module reads the same after its pages left the page tables. */
static void test_release_pages(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "Rp.A", "", "Rp.A.x,Rp.A.y");
    char *pa = path_of(dir, "Rp/A.olean");
    pool_modcache *mc = pool__modcache_new(REGION_OPEN_LAZY);
    pool_module *m;
    pool_error err;
    assert_int_equal(pool__modcache_get(mc, pa, "Rp.A", NULL, &m, &err), 0);
    assert_false(region_get_info(m->r)->validated);
    ln_buf b;
    ln_buf_init(&b, 0);
    for (int round = 0; round < 2; round++) {
        lx_word name;
        assert_int_equal(ln_module_const_name(&m->lm, 1, &name, NULL), 0);
        ln_buf_reset(&b);
        assert_int_equal(ln_name_format(&m->lm, name, &b, NULL), 0);
        assert_string_equal(ln_buf_cstr(&b), "Rp.A.y");
        assert_int_equal(pool__modcache_release_pages(mc), 1);
    }
    ln_buf_deinit(&b);
    pool__module_unref(m);
    assert_int_equal(pool__modcache_release_pages(mc), 0);
    pool__modcache_unref(mc);
    mem_free(pa);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_modcache",
          cmocka_unit_test(test_sharing_and_counters),
          cmocka_unit_test(test_staleness),
          cmocka_unit_test(test_corrupt_not_cached),
          cmocka_unit_test(test_threads_map_once),
          cmocka_unit_test(test_release_pages))
