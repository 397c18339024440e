/*
 * tests/unit/pool/test_watch.c — directory watches (pool/watch.c) and what the
 * pool does with them: one watch per directory counted by registrations,
 * events marking exactly the modules they name (companions included, other
 * files not), an event before a module is attached, ENOSPC and --max-watches
 * falling back to the scan, a directory removed and recreated, and in the pool:
 * no hit after a change, a stale environment in use leaving its key, late
 * waiters of a build moved to a fresh import, faults marking at once. Real
 * inotify on real files throughout; failures are injected, not provoked.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "region/guard.h"
#include "tests/support/pooltest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static char *path_of(const char *dir, const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return mem_strdup(buf);
}

static void mkdir_in(const char *dir, const char *rel)
{
    char *p = path_of(dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
    mem_free(p);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = path_of(dir, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    mem_free(p);
}

static pool_watch_stats wstats(pool_watch *w)
{
    pool_watch_stats s;
    pool__watch_stats(w, &s);
    return s;
}

static pool_modcache_stats mstats(pool_modcache *mc)
{
    pool_modcache_stats s;
    pool__modcache_stats(mc, &s);
    return s;
}

static pool_stats pstats(const pool *p)
{
    pool_stats s;
    pool_stats_get(p, &s);
    return s;
}

static int add_enospc(int fd, const char *path, uint32_t mask)
{
    (void)fd;
    (void)path;
    (void)mask;
    return -ENOSPC;
}

/* ---- bookkeeping ---------------------------------------------------------- */

static void test_dir_refcounts(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    mkdir_in(dir, "A");
    mkdir_in(dir, "B");
    pool_watch *w;
    assert_int_equal(pool__watch_new(0, &w), 0);
    char *ax = path_of(dir, "A/x.olean"), *ay = path_of(dir, "A/y.olean"), *bz = path_of(dir, "B/z.olean");
    pool_watch_entry *e1 = pool__watch_add(w, ax);
    pool_watch_entry *e2 = pool__watch_add(w, ay);
    assert_int_equal(wstats(w).watches, 1);  /* one watch for A, two registrations */
    pool_watch_entry *e3 = pool__watch_add(w, bz);
    pool_watch_entry *e4 = pool__watch_add(w, ax); /* the same file twice (old and new mapping) */
    pool_watch_stats s = wstats(w);
    assert_int_equal(s.watches, 2);
    assert_int_equal(s.dirs, 2);
    assert_int_equal(s.fallbacks, 0);
    assert_int_equal(s.first_error, 0);

    pool__watch_remove(w, e1);
    pool__watch_remove(w, e4);
    assert_int_equal(wstats(w).watches, 2);  /* y still holds A */
    pool__watch_remove(w, e2);
    s = wstats(w);
    assert_int_equal(s.watches, 1);
    assert_int_equal(s.dirs, 1);
    /* A is no longer watched: a change there is not an event. */
    write_file(dir, "A/y.olean", "changed");
    (void)pool__watch_drain(w);
    assert_int_equal(wstats(w).events, 0);
    /* B is: an event for a file nobody registered counts but marks nothing. */
    write_file(dir, "B/other", "x");
    assert_true(pool__watch_drain(w) > 0);
    assert_true(wstats(w).events > 0);
    pool__watch_remove(w, e3);
    s = wstats(w);
    assert_int_equal(s.watches, 0);
    assert_int_equal(s.dirs, 0);
    pool__watch_free(w);
    mem_free(ax);
    mem_free(ay);
    mem_free(bz);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_enospc_fallback(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    mkdir_in(dir, "A");
    pool_watch *w;
    assert_int_equal(pool__watch_new(0, &w), 0);
    pool__watch_set_add_fn(w, add_enospc);
    char *ax = path_of(dir, "A/x.olean"), *ay = path_of(dir, "A/y.olean");
    pool_watch_entry *e1 = pool__watch_add(w, ax);
    pool_watch_entry *e2 = pool__watch_add(w, ay);
    pool_watch_stats s = wstats(w);
    assert_int_equal(s.watches, 0);
    assert_int_equal(s.fallbacks, 1);   /* one directory, whatever its registrations */
    assert_int_equal(s.dirs, 1);
    assert_int_equal(s.first_error, ENOSPC);
    /* The limit frees up: the next registration is watched; the old ones stay on the scan. */
    pool__watch_set_add_fn(w, NULL);
    pool_watch_entry *e3 = pool__watch_add(w, ax);
    s = wstats(w);
    assert_int_equal(s.watches, 1);
    assert_int_equal(s.fallbacks, 1);
    assert_int_equal(s.dirs, 2);
    pool__watch_remove(w, e1);
    pool__watch_remove(w, e2);
    assert_int_equal(wstats(w).dirs, 1);
    pool__watch_remove(w, e3);
    assert_int_equal(wstats(w).dirs, 0);
    pool__watch_free(w);
    mem_free(ax);
    mem_free(ay);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_max_watches(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    mkdir_in(dir, "A");
    mkdir_in(dir, "B");
    pool_watch *w;
    assert_int_equal(pool__watch_new(1, &w), 0);
    char *ax = path_of(dir, "A/x.olean"), *ay = path_of(dir, "A/y.olean"), *bz = path_of(dir, "B/z.olean");
    pool_watch_entry *e1 = pool__watch_add(w, ax);
    pool_watch_entry *e2 = pool__watch_add(w, bz);  /* over the limit */
    pool_watch_entry *e3 = pool__watch_add(w, ay);  /* A's watch is shared, not a new one */
    pool_watch_stats s = wstats(w);
    assert_int_equal(s.watches, 1);
    assert_int_equal(s.fallbacks, 1);
    assert_int_equal(s.first_error, ENOSPC);
    /* The refused watch was removed from the kernel again: B reports nothing. */
    write_file(dir, "B/z.olean", "x");
    (void)pool__watch_drain(w);
    assert_int_equal(wstats(w).events, 0);
    pool__watch_remove(w, e1);
    pool__watch_remove(w, e2);
    pool__watch_remove(w, e3);
    assert_int_equal(wstats(w).dirs, 0);
    pool__watch_free(w);
    mem_free(ax);
    mem_free(ay);
    mem_free(bz);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- events on real modules ------------------------------------------------- */

static pool_modcache *watched_cache(uint32_t max_watches)
{
    pool_modcache *mc = pool__modcache_new(0);
    pool_watch *w;
    assert_int_equal(pool__watch_new(max_watches, &w), 0);
    pool__modcache_set_watch(mc, w);
    return mc;
}

static pool_module *load(pool_modcache *mc, const char *dir, const char *rel, const char *name)
{
    char *p = path_of(dir, rel);
    pool_module *m;
    pool_error err;
    assert_int_equal(pool__modcache_get(mc, p, name, NULL, &m, &err), 0);
    mem_free(p);
    return m;
}

static void test_events_mark_named_modules(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "W.A", "", "W.A.x");
    lib_module(dir, "W.B", "", "W.B.x");
    lib_module(dir, "W.C", "", "W.C.x");
    pool_modcache *mc = watched_cache(0);
    pool_watch *w = pool__modcache_watch(mc);
    pool_module *a = load(mc, dir, "W/A.olean", "W.A");
    pool_module *b = load(mc, dir, "W/B.olean", "W.B");
    pool_module *c = load(mc, dir, "W/C.olean", "W.C");
    assert_int_equal(wstats(w).watches, 1);
    (void)pool__watch_drain(w);

    /* Files that are not a mapped module's mark nothing. */
    write_file(dir, "W/A.ilean", "{}");
    write_file(dir, "W/A.olean.hash", "123");
    assert_true(pool__watch_drain(w) > 0);
    assert_false(pool__module_is_stale(a));

    /* Replaced by rename (the compactor's atomic write). */
    uint64_t g0 = pool__modcache_generation(mc);
    lib_module(dir, "W.A", "", "W.A.x,W.A.y");
    assert_false(pool__module_is_stale(a)); /* nothing read yet */
    assert_true(pool__watch_drain(w) > 0);
    assert_true(pool__module_is_stale(a));
    assert_true(pool__modcache_generation(mc) > g0);
    assert_false(pool__module_is_stale(b));

    /* A companion part names its module. */
    write_file(dir, "W/B.olean.server", "x");
    (void)pool__watch_drain(w);
    assert_true(pool__module_is_stale(b));

    /* Metadata only (chmod) counts too: the identity may have changed. */
    char *pc = path_of(dir, "W/C.olean");
    assert_int_equal(chmod(pc, 0600), 0);
    (void)pool__watch_drain(w);
    assert_true(pool__module_is_stale(c));

    pool_modcache_stats s = mstats(mc);
    assert_int_equal(s.stale_event, 3);
    assert_int_equal(s.stale_scan, 0);
    /* Marks are sticky and counted once. */
    lib_module(dir, "W.A", "", "W.A.z");
    (void)pool__watch_drain(w);
    assert_int_equal(mstats(mc).stale_event, 3);
    /* The scan has nothing left to find. */
    size_t changed;
    assert_int_equal(pool__modcache_scan(mc, &changed), 0);
    assert_int_equal(changed, 0);

    pool__module_unref(a);
    pool__module_unref(b);
    pool__module_unref(c);
    assert_int_equal(wstats(w).dirs, 0);
    pool__modcache_unref(mc);
    mem_free(pc);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_event_before_attach(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "W.A", "", "W.A.x");
    pool_modcache *mc = pool__modcache_new(0); /* loads without a watch of its own */
    pool_watch *w;
    assert_int_equal(pool__watch_new(0, &w), 0);
    char *pa = path_of(dir, "W/A.olean");
    pool_module *a = load(mc, dir, "W/A.olean", "W.A");
    /* Registered while loading; the file changes before the load attaches. */
    pool_watch_entry *en = pool__watch_add(w, pa);
    lib_module(dir, "W.A", "", "W.A.y");
    assert_true(pool__watch_drain(w) > 0);
    assert_false(pool__module_is_stale(a));
    pool__watch_attach(w, en, a);
    assert_true(pool__module_is_stale(a));
    assert_int_equal(mstats(mc).stale_event, 1);
    pool__watch_remove(w, en);
    pool__module_unref(a);
    pool__watch_free(w);
    pool__modcache_unref(mc);
    mem_free(pa);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_fallback_dir_left_to_scan(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "W.A", "", "W.A.x");
    pool_modcache *mc = watched_cache(0);
    pool_watch *w = pool__modcache_watch(mc);
    pool__watch_set_add_fn(w, add_enospc);
    pool_module *a = load(mc, dir, "W/A.olean", "W.A");
    assert_int_equal(wstats(w).fallbacks, 1);
    lib_module(dir, "W.A", "", "W.A.y");
    (void)pool__watch_drain(w);
    assert_false(pool__module_is_stale(a)); /* no watch, no event */
    size_t changed;
    assert_int_equal(pool__modcache_scan(mc, &changed), 0);
    assert_int_equal(changed, 1);
    assert_true(pool__module_is_stale(a));
    pool_modcache_stats s = mstats(mc);
    assert_int_equal(s.stale_scan, 1);
    assert_int_equal(s.stale_event, 0);
    pool__module_unref(a);
    pool__modcache_unref(mc);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_dir_removed_and_recreated(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "D.M", "", "D.M.x");
    pool_modcache *mc = watched_cache(0);
    pool_watch *w = pool__modcache_watch(mc);
    pool_module *m1 = load(mc, dir, "D/M.olean", "D.M");
    char *pd = path_of(dir, "D"), *pm = path_of(dir, "D/M.olean");
    assert_int_equal(unlink(pm), 0);
    assert_int_equal(rmdir(pd), 0);
    assert_true(pool__watch_drain(w) > 0);
    assert_true(pool__module_is_stale(m1)); /* its file's IN_DELETE */
    /* The removed directory's IN_DELETE_SELF waits until m1's mapping (which
       pins the directory's dentry) goes: its watch lingers until then. */
    pool_watch_stats s = wstats(w);
    assert_int_equal(s.watches, 1);
    assert_int_equal(s.dirs, 1);

    lib_module(dir, "D.M", "", "D.M.y");  /* the directory again, a new inode */
    pool_module *m2 = load(mc, dir, "D/M.olean", "D.M");
    assert_false(pool__module_is_stale(m2));
    s = wstats(w);
    assert_int_equal(s.watches, 2);       /* a load always asks the kernel: the new inode */
    assert_int_equal(s.dirs, 2);
    lib_module(dir, "D.M", "", "D.M.z");
    (void)pool__watch_drain(w);
    assert_true(pool__module_is_stale(m2)); /* watched afresh */

    /* A directory moved away: its modules are gone from their paths. */
    pool_module *m3 = load(mc, dir, "D/M.olean", "D.M");
    char *moved = path_of(dir, "D.old");
    assert_int_equal(rename(pd, moved), 0);
    (void)pool__watch_drain(w);
    assert_true(pool__module_is_stale(m3));
    assert_int_equal(wstats(w).watches, 1); /* only the removed directory's, pinned by m1 */

    pool__module_unref(m1);
    pool__module_unref(m2);
    pool__module_unref(m3);
    assert_int_equal(wstats(w).dirs, 0);
    pool__modcache_unref(mc);
    mem_free(pd);
    mem_free(pm);
    mem_free(moved);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- the pool ----------------------------------------------------------------- */

static bool has_const(const pool_env *e, const char *name)
{
    pool_const_ref r;
    return pool_env_lookup(e, name, strlen(name), &r) == 0;
}

static void test_pool_no_hit_after_change(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "P", "", "P.one");
    pool *p = pool_make_watched(dir, 4, POOL_STALE_SCAN, 0);
    const char *key[] = {"P"};
    pool_env *e;
    pool_error err;
    for (int round = 0; round < 50; round++) {
        const char *want = round % 2 ? "P.one" : "P.two";
        lib_module(dir, "P", "", want); /* then at once: no scan, no wait */
        assert_int_equal(pool_acquire(p, key, 1, 0, &e, &err), 0);
        assert_true(has_const(e, want));
        pool_release(p, e, NULL);
        pool_check_invariants(p);
    }
    pool_stats s = pstats(p);
    assert_int_equal(s.imports_performed, 50);
    assert_int_equal(s.reused, 0);
    assert_int_equal(s.evicted_stale, 49);
    assert_int_equal(s.stale_marks_event, 49);
    assert_int_equal(s.watches, 1);
    assert_true(s.watch_events >= 49);
    assert_int_equal(s.resident, 1);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_pool_stale_in_use(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "P", "", "P.one");
    pool *p = pool_make_watched(dir, 4, POOL_STALE_SCAN, 0);
    const char *key[] = {"P"};
    pool_env *held, *fresh, *again;
    pool_error err;
    assert_int_equal(pool_acquire(p, key, 1, 0, &held, &err), 0);
    lib_module(dir, "P", "", "P.two");
    assert_int_equal(pool_acquire(p, key, 1, 0, &fresh, &err), 0);
    assert_ptr_not_equal(held, fresh);
    assert_true(has_const(fresh, "P.two"));
    assert_true(has_const(held, "P.one"));  /* the holder keeps what it mapped */
    pool_stats s = pstats(p);
    assert_int_equal(s.stale_in_use, 1);
    assert_int_equal(s.stale_held, 1);
    assert_int_equal(s.resident, 1);
    assert_int_equal(s.evicted_stale, 0);
    /* The key is the fresh one now. */
    assert_int_equal(pool_acquire(p, key, 1, 0, &again, &err), 0);
    assert_ptr_equal(again, fresh);
    pool_release(p, again, NULL);
    bool kept = true;
    pool_release(p, held, &kept);
    assert_false(kept);
    s = pstats(p);
    assert_int_equal(s.stale_held, 0);
    assert_int_equal(s.released_dropped, 1);
    pool_check_invariants(p);
    pool_release(p, fresh, &kept);
    assert_true(kept);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

typedef struct got {
    pool_env *env;
    int       calls;
} got;

static void on_got(void *cookie, pool_env *env, const pool_error *err)
{
    got *g = cookie;
    assert_null(err);
    g->env = env;
    g->calls++;
}

static void test_pool_late_waiter_restarts(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "P", "", "P.one");
    pool *p = pool_make_watched(dir, 4, POOL_STALE_SCAN, 0);
    const char *key[] = {"P"};
    got a = {0}, b = {0}, c = {0};
    pool_env *env;
    pool_ticket *t, *t2;
    pool_error err;
    assert_int_equal(pool_acquire_begin(p, key, 1, 0, on_got, &a, &env, &t, NULL, &err), POOL_STARTED);
    pool_ticket_run(t);                  /* maps P.one */
    assert_int_equal(pool_acquire_begin(p, key, 1, 0, on_got, &b, &env, &t2, NULL, &err), POOL_WAITING);
    lib_module(dir, "P", "", "P.two");   /* the rebuild completes ... */
    assert_int_equal(pool_acquire_begin(p, key, 1, 0, on_got, &c, &env, &t2, NULL, &err), POOL_WAITING);
    /* ... before c asked: c must not get the build of P.one; a and b asked before. */
    pool_ticket *again = pool_ticket_finish(p, t);
    assert_non_null(again);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(c.calls, 0);
    assert_ptr_equal(a.env, b.env);
    assert_true(has_const(a.env, "P.one"));
    pool_stats s = pstats(p);
    assert_int_equal(s.imports_restarted, 1);
    assert_int_equal(s.stale_held, 1);   /* the old build no longer stands for the key */
    assert_int_equal(s.resident, 0);
    assert_int_equal(s.importing, 1);
    pool_check_invariants(p);
    pool_ticket_run(again);
    assert_null(pool_ticket_finish(p, again));
    assert_int_equal(c.calls, 1);
    assert_true(has_const(c.env, "P.two"));
    s = pstats(p);
    assert_int_equal(s.imports_performed, 2);
    assert_int_equal(s.reused, 1);
    assert_int_equal(s.acquired, 3);
    pool_release(p, a.env, NULL);
    pool_release(p, b.env, NULL);
    pool_release(p, c.env, NULL);
    s = pstats(p);
    assert_int_equal(s.stale_held, 0);
    assert_int_equal(s.idle, 1);
    pool_check_invariants(p);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_pool_fault_marks(void **state)
{
    (void)state;
    assert_int_equal(region_guard_install(), 0);
    char *dir = tmpdir_make_mem();
    lib_gen(dir, "F", 2, 400, 1, 1, 5);  /* files of several pages */
    pool *p = pool_make(dir, 4, 0, POOL_STALE_SCAN);  /* no watch: only the fault can tell */
    const char *key[] = {"F"};
    pool_env *e, *e2;
    pool_error err;
    assert_int_equal(pool_acquire(p, key, 1, 0, &e, &err), 0);
    assert_int_equal(pool_env_find_shrunk(e), SIZE_MAX);
    size_t k = pool_env_module_count(e) - 1;
    pool_module_info mi;
    pool_env_module(e, k, &mi);
    assert_true(mi.bytes > 0);
    assert_int_equal(truncate(mi.path, 0), 0);
    assert_int_equal(pool_env_find_shrunk(e), k);
    assert_int_equal(pstats(p).stale_marks_fault, 1);
    assert_int_equal(pool_env_find_shrunk(e), k);  /* still shrunk, counted once */
    assert_int_equal(pstats(p).stale_marks_fault, 1);
    /* Held and stale: the next acquire does not hit it (the file is empty now). */
    assert_true(pool_acquire(p, key, 1, 0, &e2, &err) < 0);
    pool_stats s = pstats(p);
    assert_int_equal(s.stale_in_use, 1);
    assert_int_equal(s.stale_marks_scan, 0);
    pool_release(p, e, NULL);
    assert_int_equal(pstats(p).stale_held, 0);
    pool_check_invariants(p);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/*
 * What the daemon's fast path relies on: pool_peek finds what an acquire
 * would hit and counts nothing; pool_count_use counts one acquire + release;
 * gated, the drain waits for pool_watch_input (a read of request bytes) and
 * then sees the change; a directory left to the scan ends covers_all.
 */
static void test_pool_peek_gated(void **state)
{
    (void)state;
    char *dir = tmpdir_make_mem();
    lib_module(dir, "P", "", "P.one");
    lib_module(dir, "Q.R", "", "Q.R.one");
    pool *p = pool_make_watched(dir, 4, POOL_STALE_SCAN, 1);
    const char *key[] = {"P"}, *other[] = {"Q.R"};
    pool_env *e;
    pool_error err;
    assert_null(pool_peek(p, key, 1, 0));
    assert_null(pool_peek(p, key, 0, 0));
    const char *bad[] = {"P..x"};
    assert_null(pool_peek(p, bad, 1, 0));
    assert_int_equal(pool_acquire(p, key, 1, 0, &e, &err), 0);
    assert_ptr_equal(pool_peek(p, key, 1, 0), e); /* in use: still the hit */
    pool_release(p, e, NULL);
    assert_true(pool_watch_covers_all(p));
    pool_stats before = pstats(p);
    assert_ptr_equal(pool_peek(p, key, 1, 0), e);
    assert_null(pool_peek(p, key, 1, POOL_PARTIAL)); /* another key */
    pool_stats s = pstats(p);
    assert_int_equal(s.acquired, before.acquired);
    pool_count_use(p, e);
    s = pstats(p);
    assert_int_equal(s.acquired, before.acquired + 1);
    assert_int_equal(s.reused, before.reused + 1);
    assert_int_equal(s.releases, before.releases + 1);
    assert_int_equal(s.released_to_pool, before.released_to_pool + 1);
    assert_int_equal(s.idle, 1);
    assert_int_equal(pool_imports_performed(p), s.imports_performed);
    pool_check_invariants(p);

    pool_watch_gate(p, true);
    assert_ptr_equal(pool_peek(p, key, 1, 0), e); /* the gate's first drain */
    lib_module(dir, "P", "", "P.two");
    /* No request bytes read since that drain: no request can have been sent after the change. */
    assert_ptr_equal(pool_peek(p, key, 1, 0), e);
    pool_watch_input(p);
    assert_null(pool_peek(p, key, 1, 0));
    assert_int_equal(pstats(p).evicted_stale, 1);
    assert_int_equal(pool_acquire(p, key, 1, 0, &e, &err), 0);
    assert_true(has_const(e, "P.two"));
    pool_release(p, e, NULL);

    /* Q.R's directory is past --max-watches 1: left to the scan, so not every file is watched. */
    assert_int_equal(pool_acquire(p, other, 1, 0, &e, &err), 0);
    assert_false(pool_watch_covers_all(p));
    pool_release(p, e, NULL);
    pool_drain(p);
    assert_true(pool_watch_covers_all(p)); /* its last module went, and the fallback with it */
    pool_check_invariants(p);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_watch",
          cmocka_unit_test(test_dir_refcounts),
          cmocka_unit_test(test_enospc_fallback),
          cmocka_unit_test(test_max_watches),
          cmocka_unit_test(test_events_mark_named_modules),
          cmocka_unit_test(test_event_before_attach),
          cmocka_unit_test(test_fallback_dir_left_to_scan),
          cmocka_unit_test(test_dir_removed_and_recreated),
          cmocka_unit_test(test_pool_no_hit_after_change),
          cmocka_unit_test(test_pool_stale_in_use),
          cmocka_unit_test(test_pool_late_waiter_restarts),
          cmocka_unit_test(test_pool_fault_marks),
          cmocka_unit_test(test_pool_peek_gated))
