/*
 * tests/unit/pool/test_pool.c — the pool: counters after scripted scenarios
 * (hit, miss, LRU drop order, byte budget, capacity 0, drain, stale
 * replacement in both stale-check modes, failed imports not cached, waiters
 * on an import in flight, cancellation, progress), and a model-based test:
 * 100,000 seeded random steps (acquire, release, drain, file replaced, file
 * removed, capacity and byte-budget changes) checked after every step against
 * a small reference model, invariants included.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool/pool.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static pool_stats stats(const pool *p)
{
    pool_stats s;
    pool_check_invariants(p);
    pool_stats_get(p, &s);
    return s;
}

static pool_env *get(pool *p, const char *name)
{
    pool_env *e = NULL;
    pool_error err;
    const char *imps[] = {name};
    int rc = pool_acquire(p, imps, 1, 0, &e, &err);
    if (rc) {
        char buf[1024];
        fail_msg("acquire %s: %s", name, pool_error_format(&err, buf, sizeof buf));
    }
    pool_check_invariants(p);
    return e;
}

static void put(pool *p, pool_env *e, bool want_kept)
{
    bool kept;
    pool_release(p, e, &kept);
    assert_int_equal(kept, want_kept);
    pool_check_invariants(p);
}

/* Five independent modules K.M0..K.M4, each with `decls` constants. */
static void five(const char *dir, unsigned decls)
{
    for (int i = 0; i < 5; i++) {
        char name[32], consts[4096] = "";
        snprintf(name, sizeof name, "K.M%d", i);
        for (unsigned j = 0; j < decls; j++) {
            char c[64];
            snprintf(c, sizeof c, "%sK.M%d.c%u", j ? "," : "", i, j);
            strcat(consts, c);
        }
        lib_module(dir, name, "", consts);
    }
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    five(dir, 3);
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);

    pool_env *a = get(p, "K.M0");
    pool_stats s = stats(p);
    assert_int_equal(s.imports_performed, 1);
    assert_int_equal(s.reused, 0);
    assert_int_equal(s.in_use, 1);
    assert_int_equal(s.modules_mapped, 1);
    assert_int_equal(s.import_count, 1);
    assert_true(s.import_ns_total >= s.import_ns_max);

    /* A second acquirer of a key in use shares the environment. */
    pool_env *b = get(p, "K.M0");
    assert_ptr_equal(a, b);
    s = stats(p);
    assert_int_equal(s.reused, 1);
    assert_int_equal(s.acquired, 2);
    assert_int_equal(s.resident, 1);

    put(p, a, true); /* still in use by b */
    s = stats(p);
    assert_int_equal(s.in_use, 1);
    assert_int_equal(s.idle, 0);
    put(p, b, true); /* idle now */
    s = stats(p);
    assert_int_equal(s.idle, 1);
    assert_int_equal(s.released_to_pool, 2);

    /* A hit on an idle environment. */
    pool_env *c = get(p, "K.M0");
    assert_ptr_equal(a, c);
    s = stats(p);
    assert_int_equal(s.reused, 2);
    assert_int_equal(s.imports_performed, 1);
    assert_int_equal(s.idle, 0);
    put(p, c, true);

    /* [K.M0, K.M1] and [K.M1, K.M0] are different keys; modules are shared. */
    const char *ab[] = {"K.M0", "K.M1"}, *ba[] = {"K.M1", "K.M0"};
    pool_env *x, *y;
    pool_error err;
    assert_int_equal(pool_acquire(p, ab, 2, 0, &x, &err), 0);
    assert_int_equal(pool_acquire(p, ba, 2, 0, &y, &err), 0);
    assert_ptr_not_equal(x, y);
    s = stats(p);
    assert_int_equal(s.imports_performed, 3);
    assert_int_equal(s.modules_mapped, 2);
    assert_true(s.module_cache_hits >= 3);
    put(p, x, true);
    put(p, y, true);
    assert_int_equal(stats(p).resident, 3);

    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void use_and_release(pool *p, const char *name)
{
    pool_env *e = get(p, name);
    put(p, e, true);
}

static uint64_t imports_of(pool *p) { return stats(p).imports_performed; }

static void test_lru_order_and_capacity(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    five(dir, 2);
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);

    use_and_release(p, "K.M0");
    use_and_release(p, "K.M1");
    use_and_release(p, "K.M2"); /* M0, the least recently used, goes */
    pool_stats s = stats(p);
    assert_int_equal(s.evicted_capacity, 1);
    assert_int_equal(s.idle, 2);
    assert_int_equal(s.modules_mapped, 2);

    uint64_t before = imports_of(p);
    use_and_release(p, "K.M1"); /* hit: M1 becomes the most recent */
    assert_int_equal(imports_of(p), before);
    use_and_release(p, "K.M3"); /* evicts M2, not M1 */
    assert_int_equal(stats(p).evicted_capacity, 2);
    before = imports_of(p);
    use_and_release(p, "K.M1");
    assert_int_equal(imports_of(p), before); /* still there */
    use_and_release(p, "K.M2");
    assert_int_equal(imports_of(p), before + 1); /* was evicted */

    /* Environments in use are never evicted; capacity bounds idle ones only. */
    pool_env *held[3] = {get(p, "K.M0"), get(p, "K.M1"), get(p, "K.M4")};
    s = stats(p);
    assert_int_equal(s.in_use, 3);
    for (int i = 0; i < 3; i++)
        put(p, held[i], true);
    s = stats(p);
    assert_int_equal(s.idle, 2);

    /* Shrinking the capacity at run time evicts at once, oldest first. */
    pool_set_capacity(p, 1);
    s = stats(p);
    assert_int_equal(s.idle, 1);
    assert_int_equal(s.capacity, 1);
    before = imports_of(p);
    use_and_release(p, "K.M4"); /* the most recently released survived */
    assert_int_equal(imports_of(p), before);

    /* Capacity 0: the last release drops the environment. */
    pool_set_capacity(p, 0);
    assert_int_equal(stats(p).idle, 0);
    pool_env *e = get(p, "K.M0");
    pool_env *f = get(p, "K.M0");
    put(p, e, true);
    put(p, f, false);
    s = stats(p);
    assert_int_equal(s.released_dropped, 1);
    assert_int_equal(s.resident, 0);
    assert_int_equal(s.modules_mapped, 0);
    assert_int_equal(s.mapped_bytes, 0);

    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_byte_budget(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    five(dir, 40);
    pool *p = pool_make(dir, 10, 0, POOL_STALE_STAT);
    pool_env *e = get(p, "K.M0");
    uint64_t one = pool_env_mapped_bytes(e);
    assert_true(one > 0);
    assert_int_equal(stats(p).mapped_bytes, one);
    put(p, e, true);
    use_and_release(p, "K.M1");
    use_and_release(p, "K.M2");
    assert_int_equal(stats(p).idle, 3);

    /* Room for two modules and a half: the oldest idle one goes. */
    pool_set_max_bytes(p, one * 5 / 2);
    pool_stats s = stats(p);
    assert_int_equal(s.evicted_bytes, 1);
    assert_int_equal(s.idle, 2);
    assert_true(s.mapped_bytes <= one * 5 / 2);
    uint64_t before = imports_of(p);
    use_and_release(p, "K.M2");
    use_and_release(p, "K.M1");
    assert_int_equal(imports_of(p), before);

    /* A new import pushes the budget: idle ones make room, least recent first (M2). */
    use_and_release(p, "K.M3");
    s = stats(p);
    assert_int_equal(s.evicted_bytes, 2);
    before = imports_of(p);
    use_and_release(p, "K.M1");
    assert_int_equal(imports_of(p), before);

    /* The budget counts mapped bytes, so a held environment cannot be evicted:
       below one module's size, every release drops. */
    pool_set_max_bytes(p, one / 2);
    assert_int_equal(stats(p).idle, 0);
    pool_env *h = get(p, "K.M4");
    put(p, h, false);
    s = stats(p);
    assert_int_equal(s.released_dropped, 1);
    assert_int_equal(s.mapped_bytes, 0);

    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_drain(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    five(dir, 2);
    pool *p = pool_make(dir, 8, 0, POOL_STALE_STAT);
    use_and_release(p, "K.M0");
    use_and_release(p, "K.M1");
    use_and_release(p, "K.M2");
    pool_env *held = get(p, "K.M3");
    assert_int_equal(pool_drain(p), 3);
    pool_stats s = stats(p);
    assert_int_equal(s.drains, 1);
    assert_int_equal(s.drained, 3);
    assert_int_equal(s.idle, 0);
    assert_int_equal(s.in_use, 1);
    assert_int_equal(s.modules_mapped, 1);
    assert_int_equal(pool_drain(p), 0);
    assert_int_equal(stats(p).drains, 2);
    put(p, held, true);
    assert_int_equal(stats(p).idle, 1);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* A reaper that keeps what it is given, so the test can look before releasing. */
typedef struct reaped {
    pool_env *envs[8];
    size_t    n;
} reaped;

static void keep_reaped(void *ctx, pool_env *env)
{
    reaped *r = ctx;
    assert_true(r->n < 8);
    r->envs[r->n++] = env;
}

/* With a reaper, drained and capacity-evicted environments go to it (still
 * mapped until it lets go); byte-budget evictions never do. */
static void test_reaper(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    five(dir, 20);
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    reaped r = {{NULL}, 0};
    pool_set_reaper(p, keep_reaped, &r);
    use_and_release(p, "K.M0");
    use_and_release(p, "K.M1");
    use_and_release(p, "K.M2");          /* capacity 2: K.M0 goes to the reaper */
    assert_int_equal(r.n, 1);
    assert_int_equal(stats(p).evicted_capacity, 1);
    assert_int_equal(stats(p).modules_mapped, 3); /* the reaper still holds K.M0 */
    assert_int_equal(pool_drain(p), 2);
    assert_int_equal(r.n, 3);
    assert_int_equal(stats(p).idle, 0);
    for (size_t i = 0; i < r.n; i++)
        pool_env_unref(r.envs[i]);
    assert_int_equal(stats(p).modules_mapped, 0);

    /* The byte budget drops on the spot, so it stops as soon as it fits. */
    r.n = 0;
    pool_set_capacity(p, 10);
    pool_env *e = get(p, "K.M0");
    uint64_t one = pool_env_mapped_bytes(e);
    put(p, e, true);
    use_and_release(p, "K.M1");
    use_and_release(p, "K.M2");
    pool_set_max_bytes(p, one * 5 / 2);
    pool_stats s = stats(p);
    assert_int_equal(r.n, 0);
    assert_int_equal(s.evicted_bytes, 1);
    assert_int_equal(s.idle, 2);

    pool_set_reaper(p, NULL, NULL);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_stale_replacement(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "R.Base", "", "R.Base.x");
    lib_module(dir, "R.Top", "R.Base", "R.Top.y");
    lib_module(dir, "R.Other", "", "R.Other.z");
    for (int mode = POOL_STALE_STAT; mode <= POOL_STALE_SCAN; mode++) {
        pool *p = pool_make(dir, 4, 0, (enum pool_stale_check)mode);
        pool_env *old = get(p, "R.Top");
        put(p, old, true);
        use_and_release(p, "R.Other");

        /* The imported module is rewritten: a new file identity. */
        lib_module(dir, "R.Base", "", "R.Base.x,R.Base.new");
        if (mode == POOL_STALE_SCAN) {
            /* Without a scan the change is not seen: a hit on the old environment. */
            pool_env *same = get(p, "R.Top");
            assert_ptr_equal(same, old);
            put(p, same, true);
            size_t changed = 99;
            assert_int_equal(pool_scan_files(p, &changed), 0);
            assert_int_equal(changed, 1);
        }
        pool_env *fresh = get(p, "R.Top");
        pool_stats s = stats(p);
        assert_int_equal(s.evicted_stale, 1);
        assert_int_equal(s.imports_performed, 3);
        assert_int_equal(pool_env_constant_total(fresh), 3);
        pool_const_ref r;
        assert_int_equal(pool_env_lookup(fresh, "R.Base.new", 10, &r), 0);

        /* An environment in use that went stale leaves its key: the next acquire
           imports afresh, and the holder keeps what it mapped until it lets go. */
        lib_module(dir, "R.Base", "", "R.Base.x");
        if (mode == POOL_STALE_SCAN)
            assert_int_equal(pool_scan_files(p, NULL), 0);
        pool_env *again = get(p, "R.Top");
        assert_ptr_not_equal(again, fresh);
        s = stats(p);
        assert_int_equal(s.stale_in_use, 1);
        assert_int_equal(s.stale_held, 1);
        assert_int_equal(s.evicted_stale, 1);
        assert_int_equal(pool_env_lookup(fresh, "R.Base.new", 10, &r), 0);
        assert_int_equal(pool_env_lookup(again, "R.Base.new", 10, &r), POOL_ENOCONST);
        put(p, fresh, false);
        assert_int_equal(stats(p).stale_held, 0);
        put(p, again, true);

        /* Unrelated idle environments are untouched. */
        uint64_t before = imports_of(p);
        use_and_release(p, "R.Other");
        assert_int_equal(imports_of(p), before);

        /* A removed file: the idle environment is dropped and the import fails. */
        char path[4096];
        snprintf(path, sizeof path, "%s/R/Base.olean", dir);
        assert_int_equal(unlink(path), 0);
        if (mode == POOL_STALE_SCAN)
            assert_int_equal(pool_scan_files(p, NULL), 0);
        pool_env *none = NULL;
        pool_error err;
        const char *top[] = {"R.Top"};
        assert_int_equal(pool_acquire(p, top, 1, 0, &none, &err), POOL_ENOTFOUND);
        assert_string_equal(err.module, "R.Base");
        assert_string_equal(err.imported_by, "R.Top");
        s = stats(p);
        assert_int_equal(s.evicted_stale, 2);
        assert_int_equal(s.import_failures, 1);
        assert_int_equal(s.resident, 1); /* R.Other */
        lib_module(dir, "R.Base", "", "R.Base.x");
        pool_free(p);
    }
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_failed_import_not_cached(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "F.Top", "F.Later", "F.Top.t");
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = NULL;
    pool_error err;
    const char *imps[] = {"F.Top"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), POOL_ENOTFOUND);
        assert_string_equal(err.module, "F.Later");
        assert_string_equal(err.imported_by, "F.Top");
    }
    pool_stats s = stats(p);
    assert_int_equal(s.import_failures, 2);
    assert_int_equal(s.resident, 0);
    assert_int_equal(s.acquired, 0);
    assert_int_equal(s.modules_mapped, 0); /* F.Top was mapped during the attempt, then let go */

    lib_module(dir, "F.Later", "", "F.Later.l");
    e = get(p, "F.Top");
    assert_int_equal(pool_env_module_count(e), 2);
    put(p, e, true);
    assert_int_equal(stats(p).imports_performed, 1);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- the split acquire: waiters, cancellation, progress ------------------- */

typedef struct got {
    int        calls;
    pool_env  *env;
    int        code;
    char       module[256];
    pool      *p;
    bool       release_at_once;
} got;

static void on_done(void *cookie, pool_env *env, const pool_error *err)
{
    got *g = cookie;
    g->calls++;
    g->env = env;
    g->code = err ? err->code : 0;
    if (err)
        snprintf(g->module, sizeof g->module, "%s", err->module);
    if (env && g->release_at_once) {
        pool_release(g->p, env, NULL);
        g->env = NULL;
    }
}

static void test_waiters(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "W", 12, 5, 3, 4, 3);
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    const char *imps[] = {"W"};
    got g[3];
    memset(g, 0, sizeof g);
    pool_env *env;
    pool_ticket *t, *t2;
    pool_waiter *w[3];
    pool_error err;

    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g[0], &env, &t, &w[0], &err),
                     POOL_STARTED);
    assert_null(env);
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g[1], &env, &t2, &w[1], &err),
                     POOL_WAITING);
    assert_null(t2);
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g[2], &env, &t2, &w[2], &err),
                     POOL_WAITING);
    pool_stats s = stats(p);
    assert_int_equal(s.importing, 1);
    assert_int_equal(s.acquired, 0);
    uint32_t loaded, total;
    pool_waiter_progress(w[1], &loaded, &total);
    assert_int_equal(loaded, 0);

    pool_waiter_cancel(p, w[2]);
    pool_ticket_run(t);
    pool_ticket_progress(t, &loaded, &total);
    assert_int_equal(loaded, 13);
    assert_int_equal(total, 13);
    assert_int_equal(g[0].calls, 0); /* nothing before finish */
    assert_null(pool_ticket_finish(p, t));
    assert_int_equal(g[0].calls, 1);
    assert_int_equal(g[1].calls, 1);
    assert_int_equal(g[2].calls, 0);
    assert_non_null(g[0].env);
    assert_ptr_equal(g[0].env, g[1].env);
    s = stats(p);
    assert_int_equal(s.importing, 0);
    assert_int_equal(s.imports_performed, 1);
    assert_int_equal(s.reused, 1);
    assert_int_equal(s.acquired, 2);
    assert_int_equal(s.in_use, 1);

    /* Now resident: begin is a hit. */
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g[2], &env, &t, &w[2], &err),
                     POOL_HIT);
    assert_ptr_equal(env, g[0].env);
    pool_release(p, env, NULL);
    pool_release(p, g[0].env, NULL);
    pool_release(p, g[1].env, NULL);
    s = stats(p);
    assert_int_equal(s.idle, 1);
    assert_int_equal(s.releases, 3);

    /* Every waiter of a failed import gets the error; nothing is cached. */
    memset(g, 0, sizeof g);
    const char *bad[] = {"W.Missing"};
    assert_int_equal(pool_acquire_begin(p, bad, 1, 0, on_done, &g[0], &env, &t, &w[0], &err),
                     POOL_STARTED);
    assert_int_equal(pool_acquire_begin(p, bad, 1, 0, on_done, &g[1], &env, &t2, &w[1], &err),
                     POOL_WAITING);
    pool_ticket_run(t);
    assert_null(pool_ticket_finish(p, t));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_null(g[i].env);
        assert_int_equal(g[i].code, POOL_ENOTFOUND);
        assert_string_equal(g[i].module, "W.Missing");
    }
    s = stats(p);
    assert_int_equal(s.import_failures, 1);
    assert_int_equal(s.resident, 1);

    /* Invalid keys fail in begin and count nothing. */
    const char *badname[] = {"W/x"};
    assert_int_equal(pool_acquire_begin(p, badname, 1, 0, on_done, &g[0], &env, &t, &w[0], &err),
                     POOL_EBADNAME);
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0x80, on_done, &g[0], &env, &t, &w[0], &err),
                     POOL_EINVAL);

    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_cancel_all_and_restart(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "C", 8, 4, 2, 3, 5);
    pool *p = pool_make(dir, 0, 0, POOL_STALE_STAT);
    const char *imps[] = {"C"};
    got g1, g2, g3;
    memset(&g1, 0, sizeof g1);
    memset(&g2, 0, sizeof g2);
    memset(&g3, 0, sizeof g3);
    pool_env *env;
    pool_ticket *t1, *t2;
    pool_waiter *w1, *w2, *w3;
    pool_error err;

    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g1, &env, &t1, &w1, &err),
                     POOL_STARTED);
    pool_waiter_cancel(p, w1);
    /* The abandoned ticket left the table: a new acquire starts afresh. */
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g2, &env, &t2, &w2, &err),
                     POOL_STARTED);
    assert_ptr_not_equal(t1, t2);
    assert_int_equal(stats(p).importing, 2);
    pool_ticket_run(t1); /* stops at once: cancelled */
    assert_null(pool_ticket_finish(p, t1));
    assert_int_equal(g1.calls, 0);
    pool_stats s = stats(p);
    assert_int_equal(s.imports_abandoned, 1);
    assert_int_equal(s.import_failures, 0);
    assert_int_equal(s.modules_mapped, 0);

    /* Capacity 0 and callbacks that release at once: the pin keeps the
       environment for the second waiter. */
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g3, &env, &t1, &w3, &err),
                     POOL_WAITING);
    g2.p = g3.p = p;
    g2.release_at_once = g3.release_at_once = true;
    pool_ticket_run(t2);
    assert_null(pool_ticket_finish(p, t2));
    assert_int_equal(g2.calls, 1);
    assert_int_equal(g3.calls, 1);
    assert_int_equal(g2.code, 0);
    assert_int_equal(g3.code, 0);
    s = stats(p);
    assert_int_equal(s.imports_performed, 1);
    assert_int_equal(s.reused, 1);
    assert_int_equal(s.releases, 2);
    assert_int_equal(s.released_to_pool, 2); /* still pinned while callbacks ran */
    assert_int_equal(s.resident, 0);        /* capacity 0: gone after finish */
    assert_int_equal(s.evicted_capacity, 1);
    assert_int_equal(s.mapped_bytes, 0);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* pool_acquire refuses to block on an import started by someone else. */
static void test_sync_acquire_during_async(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "Y.A", "", "Y.A.a");
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    const char *imps[] = {"Y.A"};
    got g;
    memset(&g, 0, sizeof g);
    pool_env *env;
    pool_ticket *t;
    pool_waiter *w;
    pool_error err;
    assert_int_equal(pool_acquire_begin(p, imps, 1, 0, on_done, &g, &env, &t, &w, &err), POOL_STARTED);
    assert_int_equal(pool_acquire(p, imps, 1, 0, &env, &err), -EAGAIN);
    pool_ticket_run(t);
    assert_null(pool_ticket_finish(p, t));
    assert_int_equal(g.calls, 1);
    pool_release(p, g.env, NULL);
    pool_stats s = stats(p);
    assert_int_equal(s.acquired, 1);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- imports on worker threads, as the daemon runs them ------------------------ */

enum { TH_KEYS = 12, TH_STEPS = 400, TH_MAXHELD = TH_STEPS };

typedef struct done_queue {
    pthread_mutex_t lock;
    pool_ticket    *done[TH_STEPS];
    size_t          n;
} done_queue;

typedef struct worker_job {
    pool_ticket *t;
    done_queue  *q;
    pool        *p;   /* for pool_scan_files only */
} worker_job;

static void *worker_main(void *arg)
{
    worker_job *j = arg;
    pool_ticket_run(j->t);
    size_t changed;
    if (pool_scan_files(j->p, &changed) != 0) /* thread-safe: module cache only */
        abort();
    pthread_mutex_lock(&j->q->lock);
    j->q->done[j->q->n++] = j->t;
    pthread_mutex_unlock(&j->q->lock);
    return NULL;
}

typedef struct th_state {
    pool_env *held[TH_MAXHELD];
    size_t    nheld;
    uint64_t  delivered;
} th_state;

static void th_on_done(void *cookie, pool_env *env, const pool_error *err)
{
    th_state *st = cookie;
    if (err || !env) {
        char buf[1024];
        fprintf(stderr, "worker import failed: %s\n", err ? pool_error_format(err, buf, sizeof buf) : "?");
        abort();
    }
    st->delivered++;
    if (st->nheld == TH_MAXHELD)
        abort();
    st->held[st->nheld++] = env;
}

static void test_worker_threads(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "T", 48, 20, 4, 6, 13);
    pool *p = pool_make(dir, 3, 0, POOL_STALE_SCAN);
    done_queue q;
    memset(&q, 0, sizeof q);
    pthread_mutex_init(&q.lock, NULL);
    pthread_t threads[TH_STEPS];
    worker_job jobs[TH_STEPS];
    size_t nthreads = 0, finished = 0;
    th_state st;
    memset(&st, 0, sizeof st);
    uint64_t hits = 0, rng = 77;

    for (int step = 0; step < TH_STEPS; step++) {
        char name[32];
        int i = (int)(rnd(&rng) % TH_KEYS) * 4 + 3;
        snprintf(name, sizeof name, "T.L%d.M%d", i * 6 / 48, i);
        const char *imps[] = {name};
        pool_env *env;
        pool_ticket *t;
        pool_error err;
        int rc = pool_acquire_begin(p, imps, 1, 0, th_on_done, &st, &env, &t, NULL, &err);
        assert_true(rc >= 0);
        if (rc == POOL_HIT) {
            hits++;
            assert_true(st.nheld < TH_MAXHELD);
            st.held[st.nheld++] = env;
        } else if (rc == POOL_STARTED) {
            jobs[nthreads] = (worker_job){t, &q, p};
            assert_int_equal(pthread_create(&threads[nthreads], NULL, worker_main, &jobs[nthreads]), 0);
            nthreads++;
        }
        /* The loop: finish what the workers completed, give some environments back. */
        pthread_mutex_lock(&q.lock);
        size_t ready = q.n;
        pool_ticket *batch[TH_STEPS];
        memcpy(batch, q.done, ready * sizeof *batch);
        q.n = 0;
        pthread_mutex_unlock(&q.lock);
        for (size_t k = 0; k < ready; k++, finished++)
            assert_null(pool_ticket_finish(p, batch[k]));
        while (st.nheld > 8 || (st.nheld > 0 && rnd(&rng) % 3 == 0)) {
            size_t k = (size_t)(rnd(&rng) % st.nheld);
            pool_release(p, st.held[k], NULL);
            st.held[k] = st.held[--st.nheld];
        }
        pool_check_invariants(p);
    }
    for (size_t k = 0; k < nthreads; k++)
        assert_int_equal(pthread_join(threads[k], NULL), 0);
    for (size_t k = 0; k < q.n; k++, finished++)
        assert_null(pool_ticket_finish(p, q.done[k]));
    assert_int_equal(finished, nthreads);
    while (st.nheld > 0)
        pool_release(p, st.held[--st.nheld], NULL);
    pool_stats s = stats(p);
    assert_int_equal(s.acquired, hits + st.delivered);
    assert_int_equal(s.imports_performed, nthreads);
    assert_int_equal(s.import_failures, 0);
    assert_int_equal(s.importing, 0);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(hits + st.delivered, TH_STEPS); /* every acquire delivered once */
    assert_true(nthreads >= TH_KEYS);               /* every key imported at least once */
    pthread_mutex_destroy(&q.lock);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- model-based test ------------------------------------------------------------ */

enum { NMOD = 6, NKEY = 9, NVAR = 3, MAXHELD = 16 };
static const char *const mod_names[NMOD] = {"Q.A0", "Q.A1", "Q.A2", "Q.B0", "Q.B1", "Q.C0"};
static const char *const mod_imports[NMOD] = {"", "Q.A0", "Q.A1", "", "Q.B0,Q.A0", ""};
/* Keys as lists of module numbers, -1 terminated. */
static const int keys[NKEY][3] = {
    {2, -1}, {1, -1}, {4, -1}, {5, -1}, {2, 4, -1}, {4, 2, -1}, {5, 1, -1}, {0, -1}, {3, 5, -1},
};
static const unsigned mod_deps[NMOD] = {0x1, 0x3, 0x7, 0x8, 0x19, 0x20}; /* closure bitmasks */

typedef struct mkey {
    bool      resident;
    uint32_t  users;
    uint64_t  stamp;        /* LRU: larger = more recently released */
    uint32_t  ver[NMOD];    /* file versions it was built from */
    uint64_t  size[NMOD];
    pool_env *env;
} mkey;

typedef struct model {
    mkey     k[NKEY];
    mkey     d[MAXHELD];    /* detached: found stale in use, held, out of the key table */
    int      dk[MAXHELD];   /* the key each was built for */
    int      nd;
    bool     present[NMOD];
    uint32_t ver[NMOD];
    uint64_t size[NMOD];
    size_t   capacity;
    uint64_t max_bytes, clock;
    pool_stats s;           /* expected counters */
} model;

static unsigned closure_of(int k)
{
    unsigned m = 0;
    for (int i = 0; keys[k][i] >= 0; i++)
        m |= mod_deps[keys[k][i]];
    return m;
}

static uint64_t model_mapped(const model *m, uint64_t *nmods)
{
    /* Distinct (module, version) pairs among resident keys and detached environments. */
    uint64_t bytes = 0, n = 0;
    for (int j = 0; j < NMOD; j++) {
        uint32_t seen[NKEY + MAXHELD];
        int nseen = 0;
        for (int x = 0; x < NKEY + m->nd; x++) {
            const mkey *mk = x < NKEY ? &m->k[x] : &m->d[x - NKEY];
            int k = x < NKEY ? x : m->dk[x - NKEY];
            if ((x < NKEY && !mk->resident) || !(closure_of(k) >> j & 1))
                continue;
            bool dup = false;
            for (int y = 0; y < nseen && !dup; y++)
                dup = seen[y] == mk->ver[j];
            if (!dup) {
                seen[nseen++] = mk->ver[j];
                bytes += mk->size[j];
                n++;
            }
        }
    }
    *nmods = n;
    return bytes;
}

static int model_lru_tail(const model *m)
{
    int best = -1;
    for (int k = 0; k < NKEY; k++)
        if (m->k[k].resident && m->k[k].users == 0 && (best < 0 || m->k[k].stamp < m->k[best].stamp))
            best = k;
    return best;
}

static uint64_t model_idle(const model *m)
{
    uint64_t n = 0;
    for (int k = 0; k < NKEY; k++)
        n += m->k[k].resident && m->k[k].users == 0;
    return n;
}

static void model_drop(model *m, int k)
{
    m->k[k].resident = false;
    m->k[k].env = NULL;
}

/* Returns false if `released` itself was dropped. */
static bool model_enforce(model *m, int released)
{
    bool survives = true;
    while (model_idle(m) > m->capacity) {
        int v = model_lru_tail(m);
        if (v == released)
            survives = false;
        else
            m->s.evicted_capacity++;
        model_drop(m, v);
    }
    uint64_t n;
    while (m->max_bytes && model_idle(m) > 0 && model_mapped(m, &n) > m->max_bytes) {
        int v = model_lru_tail(m);
        if (v == released)
            survives = false;
        else
            m->s.evicted_bytes++;
        model_drop(m, v);
    }
    return survives;
}

static bool model_stale(const model *m, int k)
{
    unsigned c = closure_of(k);
    for (int j = 0; j < NMOD; j++)
        if ((c >> j & 1) && (!m->present[j] || m->ver[j] != m->k[k].ver[j]))
            return true;
    return false;
}

static void compare(const pool *p, const model *m, uint64_t step)
{
    pool_stats s;
    pool_check_invariants(p);
    pool_stats_get(p, &s);
    uint64_t nmods, bytes = model_mapped(m, &nmods), idle = model_idle(m), resident = 0;
    for (int k = 0; k < NKEY; k++)
        resident += m->k[k].resident;
#define EQ(field, want)                                                                        \
    if ((uint64_t)(s.field) != (uint64_t)(want))                                               \
        fail_msg("step %llu: %s is %llu, model says %llu", (unsigned long long)step, #field,   \
                 (unsigned long long)(s.field), (unsigned long long)(want));
    EQ(imports_performed, m->s.imports_performed);
    EQ(reused, m->s.reused);
    EQ(acquired, m->s.acquired);
    EQ(import_failures, m->s.import_failures);
    EQ(releases, m->s.releases);
    EQ(released_to_pool, m->s.released_to_pool);
    EQ(released_dropped, m->s.released_dropped);
    EQ(evicted_capacity, m->s.evicted_capacity);
    EQ(evicted_bytes, m->s.evicted_bytes);
    EQ(evicted_stale, m->s.evicted_stale);
    EQ(stale_in_use, m->s.stale_in_use);
    EQ(stale_held, m->nd);
    EQ(drains, m->s.drains);
    EQ(drained, m->s.drained);
    EQ(resident, resident);
    EQ(idle, idle);
    EQ(in_use, resident - idle);
    EQ(capacity, m->capacity);
    EQ(max_bytes, m->max_bytes);
    EQ(mapped_bytes, bytes);
    EQ(modules_mapped, nmods);
    EQ(importing, 0);
#undef EQ
}

typedef struct variant {
    uint8_t *bytes;
    size_t   len;
} variant;

static void install(const char *dir, int j, const variant *v)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/Q/%s.olean", dir, mod_names[j] + 2);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(v->bytes, 1, v->len, f), v->len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}


static void test_model(void **state)
{
    (void)state;
    const uint64_t steps = 100000;
    uint64_t seed = 0x5eed0001;
    const char *env_seed = getenv("POOL_MODEL_SEED");
    if (env_seed)
        seed = strtoull(env_seed, NULL, 0);
    printf("model: seed 0x%llx (POOL_MODEL_SEED), %llu steps\n", (unsigned long long)seed,
           (unsigned long long)steps);

    /* Three variants of every module, built once, copied in as new files. */
    char *tdir = tmpdir_make(), *dir = tmpdir_make_mem();
    variant var[NMOD][NVAR];
    for (int j = 0; j < NMOD; j++)
        for (int v = 0; v < NVAR; v++) {
            char consts[2048] = "";
            for (int c = 0; c < 2 + 7 * v; c++) {
                char one[64];
                snprintf(one, sizeof one, "%s%s.c%d", c ? "," : "", mod_names[j], c);
                strcat(consts, one);
            }
            char sub[4200], path[4300];
            snprintf(sub, sizeof sub, "%s/v%d", tdir, v);
            lib_module(sub, mod_names[j], mod_imports[j], consts);
            snprintf(path, sizeof path, "%s/Q/%s.olean", sub, mod_names[j] + 2);
            var[j][v].bytes = read_file(path, &var[j][v].len);
        }
    char qdir[4200];
    snprintf(qdir, sizeof qdir, "%s/Q", dir);
    assert_int_equal(mkdir(qdir, 0777), 0);

    model m;
    memset(&m, 0, sizeof m);
    m.capacity = 3;
    for (int j = 0; j < NMOD; j++) {
        install(dir, j, &var[j][0]);
        m.present[j] = true;
        m.size[j] = var[j][0].len;
    }
    pool *p = pool_make(dir, m.capacity, 0, POOL_STALE_STAT);
    struct { int k; pool_env *env; } held[MAXHELD];
    int nheld = 0;
    uint64_t rng = seed | 1;

    for (uint64_t step = 0; step < steps; step++) {
        unsigned op = (unsigned)(rnd(&rng) % 100);
        if (op < 40 && nheld < MAXHELD) { /* acquire */
            int k = (int)(rnd(&rng) % NKEY);
            const char *imps[3];
            size_t n = 0;
            for (; keys[k][n] >= 0; n++)
                imps[n] = mod_names[keys[k][n]];
            mkey *mk = &m.k[k];
            bool hit = false;
            if (mk->resident && model_stale(&m, k)) {
                if (mk->users == 0) {
                    model_drop(&m, k);
                    m.s.evicted_stale++;
                } else { /* detached: the holders keep it, the key imports afresh */
                    m.d[m.nd] = *mk;
                    m.dk[m.nd++] = k;
                    model_drop(&m, k);
                    m.s.stale_in_use++;
                }
            }
            if (mk->resident)
                hit = true;
            pool_env *env = NULL;
            pool_error err;
            int rc = pool_acquire(p, imps, n, 0, &env, &err);
            if (hit) {
                assert_int_equal(rc, 0);
                assert_ptr_equal(env, mk->env);
                mk->users++;
                m.s.acquired++;
                m.s.reused++;
            } else {
                bool ok = true;
                unsigned c = closure_of(k);
                for (int j = 0; j < NMOD; j++)
                    if ((c >> j & 1) && !m.present[j])
                        ok = false;
                if (!ok) {
                    if (rc != POOL_ENOTFOUND)
                        fail_msg("step %llu: import of key %d gave %d, model expects not found",
                                 (unsigned long long)step, k, rc);
                    m.s.import_failures++;
                } else {
                    if (rc != 0)
                        fail_msg("step %llu: import of key %d failed: %d %s",
                                 (unsigned long long)step, k, rc, err.reason);
                    mk->resident = true;
                    mk->users = 1;
                    mk->env = env;
                    for (int j = 0; j < NMOD; j++) {
                        mk->ver[j] = m.ver[j];
                        mk->size[j] = m.size[j];
                    }
                    m.s.acquired++;
                    m.s.imports_performed++;
                    model_enforce(&m, -1);
                }
            }
            if (rc == 0) {
                held[nheld].k = k;
                held[nheld].env = env;
                nheld++;
            }
        } else if (op < 72) { /* release */
            if (nheld == 0)
                continue;
            int h = (int)(rnd(&rng) % (uint64_t)nheld);
            int k = held[h].k;
            pool_env *env = held[h].env;
            bool kept;
            pool_release(p, env, &kept);
            held[h] = held[--nheld];
            mkey *mk = &m.k[k];
            bool stays = true;
            if (!(mk->resident && mk->env == env)) { /* a detached one */
                int d = 0;
                while (d < m.nd && m.d[d].env != env)
                    d++;
                assert_true(d < m.nd);
                if (--m.d[d].users == 0) {
                    stays = false;
                    m.d[d] = m.d[m.nd - 1];
                    m.dk[d] = m.dk[m.nd - 1];
                    m.nd--;
                }
            } else if (--mk->users == 0) {
                mk->stamp = ++m.clock;
                stays = model_enforce(&m, k);
            }
            m.s.releases++;
            if (stays)
                m.s.released_to_pool++;
            else
                m.s.released_dropped++;
            assert_int_equal(kept, stays);
        } else if (op < 75) { /* drain */
            uint64_t n = 0;
            for (int k = 0; k < NKEY; k++)
                if (m.k[k].resident && m.k[k].users == 0) {
                    model_drop(&m, k);
                    n++;
                }
            assert_int_equal(pool_drain(p), n);
            m.s.drains++;
            m.s.drained += n;
        } else if (op < 86) { /* a file replaced (or put back) */
            int j = (int)(rnd(&rng) % NMOD), v = (int)(rnd(&rng) % NVAR);
            install(dir, j, &var[j][v]);
            m.present[j] = true;
            m.ver[j]++;
            m.size[j] = var[j][v].len;
        } else if (op < 88) { /* a file removed */
            int j = (int)(rnd(&rng) % NMOD);
            if (!m.present[j])
                continue;
            char path[4300];
            snprintf(path, sizeof path, "%s/Q/%s.olean", dir, mod_names[j] + 2);
            assert_int_equal(unlink(path), 0);
            m.present[j] = false;
            m.ver[j]++;
        } else if (op < 94) { /* capacity */
            m.capacity = (size_t)(rnd(&rng) % 5);
            pool_set_capacity(p, m.capacity);
            model_enforce(&m, -1);
        } else { /* byte budget: none, or about 2, 4 or 8 modules' worth */
            static const uint64_t budgets[4] = {0, 2, 4, 8};
            m.max_bytes = budgets[rnd(&rng) % 4] * var[0][1].len;
            pool_set_max_bytes(p, m.max_bytes);
            model_enforce(&m, -1);
        }
        compare(p, &m, step);
    }
    pool_stats s = stats(p);
    printf("model: %llu acquired (%llu imports, %llu reused), %llu failures, evicted %llu/%llu/%llu "
           "(capacity/bytes/stale), %llu released dropped\n",
           (unsigned long long)s.acquired, (unsigned long long)s.imports_performed,
           (unsigned long long)s.reused, (unsigned long long)s.import_failures,
           (unsigned long long)s.evicted_capacity, (unsigned long long)s.evicted_bytes,
           (unsigned long long)s.evicted_stale, (unsigned long long)s.released_dropped);
    /* Every kind of event happened. */
    assert_true(s.reused > 1000 && s.imports_performed > 1000 && s.import_failures > 100);
    assert_true(s.evicted_capacity > 100 && s.evicted_bytes > 100 && s.evicted_stale > 100);
    assert_true(s.released_dropped > 100 && s.drained > 100 && s.stale_in_use > 100);

    while (nheld > 0)
        pool_release(p, held[--nheld].env, NULL);
    pool_free(p);
    for (int j = 0; j < NMOD; j++)
        for (int v = 0; v < NVAR; v++)
            mem_free(var[j][v].bytes);
    tmpdir_remove(dir);
    tmpdir_remove(tdir);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_pool",
          cmocka_unit_test(test_hit_and_miss),
          cmocka_unit_test(test_lru_order_and_capacity),
          cmocka_unit_test(test_byte_budget),
          cmocka_unit_test(test_drain),
          cmocka_unit_test(test_reaper),
          cmocka_unit_test(test_stale_replacement),
          cmocka_unit_test(test_failed_import_not_cached),
          cmocka_unit_test(test_waiters),
          cmocka_unit_test(test_cancel_all_and_restart),
          cmocka_unit_test(test_sync_acquire_during_async),
          cmocka_unit_test(test_worker_threads),
          cmocka_unit_test(test_model))
