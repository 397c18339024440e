/*
 * daemon/envs.c — the pool inside envpoold: creation from the configuration,
 * the environment methods (protocol/methods_env.c) with imports on libuv's
 * worker threads, $/progress ticks, file freshness scans, SIGHUP drain.
 *
 * Work that touches files never runs on the loop: imports (pool_ticket_run)
 * and freshness scans (pool_scan_files, every ENVS_SCAN_MS on a worker; the
 * pool runs with POOL_STALE_SCAN so an acquire never stats a file on the loop)
 * go through uv_queue_work and come back to the loop for pool_ticket_finish.
 *
 * Freshness is event-driven first: the pool watches the directory of every
 * mapped module with inotify (--max-watches) and its descriptor is polled
 * here (uv_poll_t), so events are read as they come; the pool also drains the
 * descriptor itself before deciding an acquire is a hit, which is what makes a
 * change that completed before a request visible to it. The scan stays as
 * the fallback for directories that could not be watched and for changes
 * inotify does not report (a renamed ancestor directory, remote writes on NFS).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"
#include "util/error.h"
#include "util/mem.h"

#define ENVS_TICK_MS 100
#define ENVS_SCAN_MS 1000
/* How often the mapped pages leave the daemon's page tables (pool_release_pages). */
#define ENVS_RELEASE_MS 10000

struct envs {
    pool        *pool;
    uint64_t     reply_cache;   /* --reply-cache */
    env_methods *em;
    server      *srv;
    uv_timer_t   tick;
    uv_timer_t   scan;
    uv_poll_t    watch;         /* the pool's inotify descriptor */
    bool         watching;      /* watch is initialised */
    bool         watch_warned;  /* the first watch fallback was logged */
    bool         scanning;      /* a scan is queued or running */
    uint64_t     scans;         /* scans run (worker thread, one at a time) */
    uint64_t     imports_seen;  /* imports_performed when the last scan was queued */
    bool         release_now;   /* this scan also releases pages: an import finished */
    size_t       scan_changed;  /* written by the worker, read in scan_done */
    int          scan_rc;
    const char  *roots[CONFIG_MAX_SEARCH + 1]; /* real paths (borrowed from the pool), NULL-terminated */
};

typedef struct work {
    uv_work_t req;
    void    (*work)(void *arg);
    void    (*done)(void *arg);
    void     *arg;
} work;

static void work_run(uv_work_t *r)
{
    work *w = r->data;
    w->work(w->arg);
}

static void work_after(uv_work_t *r, int status)
{
    (void)status; /* we never uv_cancel: the work always ran */
    work *w = r->data;
    w->done(w->arg);
    mem_free(w);
}

static int queue_work(void *ctx, void (*fn)(void *arg), void (*done)(void *arg), void *arg)
{
    envs *e = ctx;
    work *w = mem_alloc(sizeof *w);
    w->req.data = w;
    w->work = fn;
    w->done = done;
    w->arg = arg;
    int rc = uv_queue_work(e->srv->loop, &w->req, work_run, work_after);
    if (rc < 0) {
        log_msg(LOG_ERROR, "uv_queue_work: %s", uv_strerror(rc));
        mem_free(w);
    }
    return rc;
}

/* Dropped environments are unmapped on a worker (pool_set_reaper). */
static void reap_work(void *arg)
{
    pool_env_unref(arg);
}

static void reap_done(void *arg)
{
    (void)arg;
}

static void reap(void *ctx, pool_env *env)
{
    if (queue_work(ctx, reap_work, reap_done, env) < 0)
        pool_env_unref(env); /* no worker: pay for it here */
}

static void on_tick(uv_timer_t *t)
{
    envs *e = t->data;
    if (env_methods_waiting(e->em))
        env_methods_tick(e->em);
}

static void scan_work(void *arg)
{
    envs *e = arg;
    e->scan_changed = 0;
    e->scan_rc = pool_scan_files(e->pool, &e->scan_changed);
    if (++e->scans % (ENVS_RELEASE_MS / ENVS_SCAN_MS) == 0 || e->release_now)
        (void)pool_release_pages(e->pool);
}

static void scan_done(void *arg)
{
    envs *e = arg;
    e->scanning = false;
    if (e->scan_rc < 0)
        log_msg(LOG_WARN, "file scan failed: %s", envpool_strerror(e->scan_rc));
    else if (e->scan_changed)
        log_msg(LOG_INFO, "%zu mapped module file(s) changed on disk; their environments will be reimported",
                e->scan_changed);
}

static void on_watch(uv_poll_t *h, int status, int events)
{
    (void)events;
    envs *e = h->data;
    if (status < 0) {
        log_msg(LOG_WARN, "watch descriptor: %s; freshness falls back to the scan", uv_strerror(status));
        uv_poll_stop(h);
        return;
    }
    size_t n = pool_watch_drain(e->pool);
    if (n)
        log_msg(LOG_DEBUG, "%zu file event(s) read", n);
}

/* Logged once: the first directory whose modules are left to the scan. */
static void check_watch_fallbacks(envs *e)
{
    int err = pool_watch_first_error(e->pool);
    if (e->watch_warned || !err)
        return;
    e->watch_warned = true;
    log_msg(LOG_WARN, "a module directory could not be watched (%s)%s; such directories rely on the %d ms scan",
            strerror(err), err == ENOSPC ? ": inotify watch limit (--max-watches or fs.inotify.max_user_watches)" : "",
            ENVS_SCAN_MS);
}

static void on_scan(uv_timer_t *t)
{
    envs *e = t->data;
    check_watch_fallbacks(e);
    if (e->scanning || e->srv->stopping)
        return;
    /* A lazy import leaves what it read (fault-around windows of every file)
       in the page tables rather than pay a madvise per module on its way:
       the next scan drops them, off the loop and off the import's path. */
    uint64_t imports = pool_imports_performed(e->pool);
    e->release_now = imports != e->imports_seen;
    e->imports_seen = imports;
    e->scanning = true;
    if (queue_work(e, scan_work, scan_done, e) < 0)
        e->scanning = false;
}

int envs_new(const daemon_config *cfg, envs **out)
{
    *out = NULL;
    size_t n = 0;
    while (cfg->search[n])
        n++;
    pool_error err;
    memset(&err, 0, sizeof err);
    if (n == 0) {
        log_msg(LOG_ERROR, "no search path: give --search-path or set ENVPOOL_PATH or LEAN_PATH");
        return -EINVAL;
    }
    pool_roots *roots;
    int rc = pool_roots_new(cfg->search, n, &roots, &err);
    if (rc < 0) {
        char buf[1024];
        log_msg(LOG_ERROR, "search path: %s", pool_error_format(&err, buf, sizeof buf));
        return rc;
    }
    pool_roots *sources = NULL;
    size_t ns = 0;
    while (cfg->source[ns])
        ns++;
    if (ns && (rc = pool_roots_new(cfg->source, ns, &sources, &err)) < 0) {
        char buf[1024];
        log_msg(LOG_ERROR, "source path: %s", pool_error_format(&err, buf, sizeof buf));
        pool_roots_free(roots);
        return rc;
    }
    envs *e = mem_calloc(1, sizeof *e);
    e->reply_cache = cfg->reply_cache;
    pool_config pc = {roots, (size_t)cfg->capacity, cfg->max_bytes, 0, POOL_STALE_SCAN,
                      cfg->max_watches > 0, (uint32_t)cfg->max_watches,
                      cfg->validate_eager ? POOL_VALIDATE_EAGER : POOL_VALIDATE_LAZY, sources};
    rc = pool_new(&pc, &e->pool, &err);
    if (rc < 0) {
        char buf[1024];
        log_msg(LOG_ERROR, "pool: %s", pool_error_format(&err, buf, sizeof buf));
        mem_free(e);
        return rc;
    }
    pool_watch_gate(e->pool, true); /* conn.c and http.c report every read (envs_input) */
    if (pc.watch && pool_watch_fd(e->pool) < 0)
        log_msg(LOG_WARN, "inotify is not available; file freshness relies on the %d ms scan", ENVS_SCAN_MS);
    const pool_roots *r = pool_get_roots(e->pool);
    size_t nr = pool_roots_count(r);
    for (size_t i = 0; i < nr && i < CONFIG_MAX_SEARCH; i++)
        e->roots[i] = pool_roots_get(r, i);
    *out = e;
    return 0;
}

const char *const *envs_roots(const envs *e)
{
    return e->roots;
}

void envs_input(envs *e)
{
    if (e)
        pool_watch_input(e->pool);
}

int envs_pool_stats(void *ctx, pool_stats *out)
{
    envs *e = ctx;
    return env_pool_stats(e->pool, out);
}

int envs_attach(envs *e, server *srv)
{
    e->srv = srv;
    env_host host = {e->pool, queue_work, e, e->reply_cache};
    pool_set_reaper(e->pool, reap, e);
    e->em = env_methods_new(srv->rpc, &host);
    uv_timer_init(srv->loop, &e->tick);
    uv_timer_init(srv->loop, &e->scan);
    e->tick.data = e->scan.data = e;
    uv_timer_start(&e->tick, on_tick, ENVS_TICK_MS, ENVS_TICK_MS);
    uv_timer_start(&e->scan, on_scan, ENVS_SCAN_MS, ENVS_SCAN_MS);
    /* Timers alone must not keep a draining loop alive. */
    uv_unref((uv_handle_t *)&e->tick);
    uv_unref((uv_handle_t *)&e->scan);
    int fd = pool_watch_fd(e->pool);
    if (fd >= 0) {
        int rc = uv_poll_init(srv->loop, &e->watch, fd);
        if (rc == 0) {
            e->watching = true;
            e->watch.data = e;
            uv_poll_start(&e->watch, UV_READABLE, on_watch);
            uv_unref((uv_handle_t *)&e->watch);
        } else {
            /* Acquires still drain the descriptor; only idle reading is lost. */
            log_msg(LOG_WARN, "uv_poll_init on the watch descriptor: %s", uv_strerror(rc));
        }
    }
    return 0;
}

void envs_hup(envs *e)
{
    size_t n = pool_drain(e->pool);
    log_msg(LOG_INFO, "SIGHUP: drained %zu idle environment(s)", n);
}

void envs_free(envs *e)
{
    if (!e)
        return;
    env_methods_free(e->em);
    pool_set_reaper(e->pool, NULL, NULL); /* the loop is gone: release here */
    pool_free(e->pool);
    mem_free(e);
}
