/*
 * pool/pool.c — the pool: environments keyed by their ordered import list,
 * one import per key at a time, an LRU of idle environments bounded by count
 * and by mapped bytes, and the counters of DESIGN.md §3.
 *
 * Everything here runs on the loop thread except pool_ticket_run (a worker:
 * it touches only its ticket, the immutable roots and the thread-safe module
 * cache) and pool_scan_files (module cache only). So the pool needs no lock:
 * counters are plain integers, updated in pairs within one call so that
 * acquired = imports_performed + reused and releases = released_to_pool +
 * released_dropped hold whenever the loop thread looks.
 *
 * Keys: the import names after validation, in order, with the partial flag.
 * They are hashed and compared without allocation (a hit allocates nothing);
 * the stored form is the flag byte followed by each name and a NUL.
 *
 * Life of a key: absent → ticket in flight (waiters gather) → resident entry
 * (users > 0: in use; users == 0: idle, in the LRU list) → dropped (capacity,
 * bytes, stale, drain). A ticket whose waiters all cancel leaves the table at
 * once ("orphaned"), so a new acquire of the key starts afresh while the old
 * worker winds down; its finish only frees it.
 *
 * Freshness. An acquire first drains the watch (watch.c), then looks the key
 * up; a resident environment with a stale module is never a hit. Idle, it is
 * dropped (evicted_stale); in use, it is "detached": it leaves the key table
 * (stale_in_use) and lives on for its holders, and the last release drops it,
 * while the key goes to a fresh import. Each waiter records the module cache
 * generation when it registered; a module's stale mark records the generation
 * it produced. A finished build whose modules were marked before some waiter
 * registered is not given to that waiter (its request came after the change
 * was seen): those waiters move to a new ticket, and the build goes to the
 * others, detached.
 */
#include "pool/pool_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/mem.h"

typedef struct entry {
    char         *key;        /* stored key (see above) */
    size_t        keylen;
    uint64_t      hash;
    pool_env     *env;        /* the pool's reference */
    uint32_t      users;      /* uses handed out and not released (+1 while finishing) */
    uint64_t      seen_gen;   /* module cache generation last found clean (POOL_STALE_SCAN) */
    bool          detached;   /* found stale while in use: out of the key table, dropped at
                                 its last release */
    struct entry *prev, *next;/* LRU links while idle; head = most recently released */
    struct entry *hnext;
} entry;

struct pool_waiter {
    pool_ticket        *t;
    pool_acquire_cb     cb;
    void               *cookie;
    struct pool_waiter *prev, *next;
    uint64_t            gen;       /* module cache generation when it registered */
    bool                cancelled; /* withdrawn while its ticket was finishing */
};

struct pool_ticket {
    char          *key;
    size_t         keylen;
    uint64_t       hash;
    char          *display;      /* pool_env_key */
    char         **imports;      /* [n] copies */
    size_t         n;
    unsigned       flags;
    const pool_roots *roots;     /* borrowed from the pool (immutable) */
    pool_modcache *mc;           /* a reference */
    pool_build_ctl ctl;
    pool_waiter   *whead, *wtail;/* loop thread */
    size_t         nwaiters;
    bool           in_table;     /* false once orphaned */
    bool           ran, finishing;
    /* result, written by the worker, read by finish */
    int            rc;
    pool_env      *env;
    pool_error     err;
    uint64_t       ns;
    uint64_t       gen;          /* module cache generation when the build started */
    pool_ticket   *hnext;
};

struct pool {
    pool_roots    *roots;
    pool_modcache *mc;
    size_t         capacity;
    uint64_t       max_bytes;
    enum pool_stale_check stale_check;
    entry        **eb;          /* entries by key */
    size_t         neb, nentries;
    pool_ticket  **tb;          /* tickets in flight by key */
    size_t         ntb, ntickets;
    size_t         tickets_alive; /* including orphans not yet finished */
    entry         *lru_head, *lru_tail;
    size_t         idle;
    pool_reap_cb   reap;        /* lets dropped environments go elsewhere (NULL: here) */
    void          *reap_ctx;
    pool_watch    *watch;       /* the module cache's (borrowed); NULL when not watching */
    size_t         ndetached;   /* detached entries (held, stale, out of the key table) */
    bool           drain_gated; /* drain only after pool_watch_input (a server's reads) */
    bool           input_pending; /* request bytes were read since the last drain */
    pool_stats     st;          /* counters (never reset); gauges are filled by pool_stats_get */
};

/* ---- keys ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t key_hash(const char *const *imports, size_t n, unsigned flags)
{
    uint8_t f = (uint8_t)flags;
    uint64_t h = fnv(0xcbf29ce484222325ull, &f, 1);
    for (size_t i = 0; i < n; i++)
        h = fnv(h, imports[i], strlen(imports[i]) + 1);
    return h;
}

static bool key_match(const char *key, size_t keylen, const char *const *imports, size_t n,
                      unsigned flags)
{
    if (keylen == 0 || (uint8_t)key[0] != (uint8_t)flags)
        return false;
    size_t pos = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(imports[i]) + 1;
        if (pos + len > keylen || memcmp(key + pos, imports[i], len) != 0)
            return false;
        pos += len;
    }
    return pos == keylen;
}

/* ---- tables ---------------------------------------------------------------- */

static entry *entry_find(const pool *p, uint64_t h, const char *const *imports, size_t n,
                         unsigned flags)
{
    for (entry *e = p->eb[h & (p->neb - 1)]; e; e = e->hnext)
        if (e->hash == h && key_match(e->key, e->keylen, imports, n, flags))
            return e;
    return NULL;
}

static void entry_insert(pool *p, entry *e)
{
    if (p->nentries + 1 > p->neb) {
        size_t nb = p->neb * 2;
        entry **b = mem_calloc(nb, sizeof *b);
        for (size_t i = 0; i < p->neb; i++)
            for (entry *x = p->eb[i], *next; x; x = next) {
                next = x->hnext;
                x->hnext = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        mem_free(p->eb);
        p->eb = b;
        p->neb = nb;
    }
    entry **head = &p->eb[e->hash & (p->neb - 1)];
    e->hnext = *head;
    *head = e;
    p->nentries++;
}

static pool_ticket *ticket_find(const pool *p, uint64_t h, const char *const *imports, size_t n,
                                unsigned flags)
{
    for (pool_ticket *t = p->tb[h & (p->ntb - 1)]; t; t = t->hnext)
        if (t->hash == h && key_match(t->key, t->keylen, imports, n, flags))
            return t;
    return NULL;
}

static void ticket_insert(pool *p, pool_ticket *t)
{
    if (p->ntickets + 1 > p->ntb) {
        size_t nb = p->ntb * 2;
        pool_ticket **b = mem_calloc(nb, sizeof *b);
        for (size_t i = 0; i < p->ntb; i++)
            for (pool_ticket *x = p->tb[i], *next; x; x = next) {
                next = x->hnext;
                x->hnext = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        mem_free(p->tb);
        p->tb = b;
        p->ntb = nb;
    }
    pool_ticket **head = &p->tb[t->hash & (p->ntb - 1)];
    t->hnext = *head;
    *head = t;
    t->in_table = true;
    p->ntickets++;
}

static void ticket_unlink(pool *p, pool_ticket *t)
{
    if (!t->in_table)
        return;
    pool_ticket **pp = &p->tb[t->hash & (p->ntb - 1)];
    while (*pp != t)
        pp = &(*pp)->hnext;
    *pp = t->hnext;
    t->in_table = false;
    p->ntickets--;
}

/* ---- LRU and dropping -------------------------------------------------------- */

static void lru_push_head(pool *p, entry *e)
{
    e->prev = NULL;
    e->next = p->lru_head;
    if (p->lru_head)
        p->lru_head->prev = e;
    else
        p->lru_tail = e;
    p->lru_head = e;
    p->idle++;
}

static void lru_remove(pool *p, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        p->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        p->lru_tail = e->prev;
    e->prev = e->next = NULL;
    p->idle--;
}

/*
 * Removes an idle entry from the pool and lets its environment go: to the
 * reaper if one is set and `defer`, else released here. Byte-budget evictions
 * do not defer: the budget loop needs the mapped bytes to fall as it drops.
 */
static void drop_idle_as(pool *p, entry *e, bool defer)
{
    assert(e->users == 0);
    lru_remove(p, e);
    entry **pp = &p->eb[e->hash & (p->neb - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    p->nentries--;
    pool__env_set_slot(e->env, NULL);
    if (p->reap && defer)
        p->reap(p->reap_ctx, e->env);
    else
        pool_env_unref(e->env);
    mem_free(e->key);
    mem_free(e);
}

static void drop_idle(pool *p, entry *e)
{
    drop_idle_as(p, e, true);
}

/* An entry in use found stale: out of the key table; its holders keep it. */
static void entry_detach(pool *p, entry *e)
{
    assert(e->users > 0 && !e->detached);
    entry **pp = &p->eb[e->hash & (p->neb - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    e->hnext = NULL;
    p->nentries--;
    e->detached = true;
    p->ndetached++;
}

/* The last use of a detached entry went. */
static void drop_detached(pool *p, entry *e)
{
    assert(e->users == 0 && e->detached);
    p->ndetached--;
    pool__env_set_slot(e->env, NULL);
    if (p->reap)
        p->reap(p->reap_ctx, e->env);
    else
        pool_env_unref(e->env);
    mem_free(e->key);
    mem_free(e);
}

void pool_set_reaper(pool *p, pool_reap_cb reap, void *ctx)
{
    p->reap = reap;
    p->reap_ctx = ctx;
}

static uint64_t mapped_bytes(const pool *p)
{
    pool_modcache_stats st;
    pool__modcache_stats(p->mc, &st);
    return st.mapped_bytes;
}

/*
 * Drops least recently used idle entries while the limits are exceeded.
 * `released` (may be NULL) is an entry that just became idle: if it has to go
 * itself, it is not counted as an eviction (its release counts as dropped)
 * and false is returned.
 */
static bool enforce_limits(pool *p, const entry *released)
{
    bool survives = true;
    while (p->idle > p->capacity) {
        entry *v = p->lru_tail;
        if (v == released)
            survives = false;
        else
            p->st.evicted_capacity++;
        drop_idle(p, v);
    }
    while (p->max_bytes && p->idle > 0 && mapped_bytes(p) > p->max_bytes) {
        entry *v = p->lru_tail;
        if (v == released)
            survives = false;
        else
            p->st.evicted_bytes++;
        drop_idle_as(p, v, false);
    }
    return survives;
}

static bool entry_is_stale(pool *p, entry *e)
{
    pool_env *env = e->env;
    if (p->stale_check == POOL_STALE_STAT) {
        for (size_t i = 0; i < env->nmods; i++)
            if (!pool__module_check(env->mods[i].m))
                return true;
        return false;
    }
    uint64_t gen = pool__modcache_generation(p->mc);
    if (e->seen_gen == gen)
        return false;
    for (size_t i = 0; i < env->nmods; i++)
        if (pool__module_is_stale(env->mods[i].m))
            return true;
    e->seen_gen = gen;
    return false;
}

/* The generation of the earliest stale mark among env's modules (UINT64_MAX: none). */
static uint64_t env_stale_since(const pool_env *env)
{
    uint64_t first = UINT64_MAX;
    for (size_t i = 0; i < env->nmods; i++) {
        uint64_t g = atomic_load(&env->mods[i].m->stale_gen);
        if (g != 0 && g < first)
            first = g;
    }
    return first;
}

/* ---- life of the pool ---------------------------------------------------------- */

int pool_new(const pool_config *cfg, pool **out, pool_error *err)
{
    *out = NULL;
    if (!cfg->roots) {
        pool_roots_free(cfg->source_roots);
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "no search roots");
    }
    if (cfg->stale_check != POOL_STALE_STAT && cfg->stale_check != POOL_STALE_SCAN) {
        pool_roots_free(cfg->roots);
        pool_roots_free(cfg->source_roots);
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "unknown stale check mode");
    }
    pool *p = mem_calloc(1, sizeof *p);
    p->roots = cfg->roots;
    p->mc = pool__modcache_new(cfg->region_flags |
                               (cfg->validation == POOL_VALIDATE_EAGER ? 0 : REGION_OPEN_LAZY));
    if (cfg->source_roots)
        pool__modcache_set_sources(p->mc, cfg->source_roots);
    p->capacity = cfg->capacity;
    p->max_bytes = cfg->max_bytes;
    p->stale_check = cfg->stale_check;
    p->neb = 64;
    p->eb = mem_calloc(p->neb, sizeof *p->eb);
    p->ntb = 16;
    p->tb = mem_calloc(p->ntb, sizeof *p->tb);
    if (cfg->watch) {
        /* No inotify (EMFILE, ENOSYS): the pool still works, on the scan alone. */
        pool_watch *w;
        if (pool__watch_new(cfg->max_watches, &w) == 0) {
            pool__modcache_set_watch(p->mc, w);
            p->watch = w;
        }
    }
    *out = p;
    return 0;
}

void pool_free(pool *p)
{
    if (!p)
        return;
    ENVPOOL_INVARIANT(p->tickets_alive == 0 && p->nentries == p->idle && p->ndetached == 0,
                      "pool_free with %zu imports in flight and %zu environments in use", p->tickets_alive,
                      p->nentries - p->idle + p->ndetached);
    while (p->lru_tail)
        drop_idle(p, p->lru_tail);
    mem_free(p->eb);
    mem_free(p->tb);
    pool__modcache_unref(p->mc);
    pool_roots_free(p->roots);
    mem_free(p);
}

const pool_roots *pool_get_roots(const pool *p) { return p->roots; }

void pool_set_capacity(pool *p, size_t capacity)
{
    p->capacity = capacity;
    enforce_limits(p, NULL);
}

void pool_set_max_bytes(pool *p, uint64_t max_bytes)
{
    p->max_bytes = max_bytes;
    enforce_limits(p, NULL);
}

/* ---- acquire --------------------------------------------------------------------- */

static pool_waiter *waiter_add(pool_ticket *t, pool_acquire_cb cb, void *cookie, uint64_t gen)
{
    pool_waiter *w = mem_calloc(1, sizeof *w);
    w->t = t;
    w->cb = cb;
    w->cookie = cookie;
    w->gen = gen;
    w->prev = t->wtail;
    if (t->wtail)
        t->wtail->next = w;
    else
        t->whead = w;
    t->wtail = w;
    t->nwaiters++;
    return w;
}

static void ticket_free(pool_ticket *t)
{
    for (size_t i = 0; i < t->n; i++)
        mem_free(t->imports[i]);
    mem_free(t->imports);
    mem_free(t->key);
    mem_free(t->display);
    pool_env_unref(t->env);
    pool__modcache_unref(t->mc);
    mem_free(t);
}

static int ticket_new(pool *p, const char *const *imports, size_t n, unsigned flags,
                      uint64_t h, pool_ticket **out, pool_error *err)
{
    size_t keylen = 1, displen = (flags & POOL_PARTIAL) ? 8 : 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(imports[i]);
        keylen += len + 1;
        displen += len + 1;
    }
    pool_ticket *t = mem_calloc(1, sizeof *t);
    t->key = mem_try_alloc(keylen);
    t->display = mem_try_alloc(displen + 1);
    t->imports = mem_try_calloc(n, sizeof *t->imports);
    if (!t->key || !t->display || !t->imports) {
        mem_free(t->key);
        mem_free(t->display);
        mem_free(t->imports);
        mem_free(t);
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for an import of %zu modules", n);
    }
    t->keylen = keylen;
    t->hash = h;
    t->flags = flags;
    t->key[0] = (char)(uint8_t)flags;
    char *k = t->key + 1, *d = t->display;
    if (flags & POOL_PARTIAL)
        d = stpcpy(d, "partial:");
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(imports[i]);
        memcpy(k, imports[i], len + 1);
        k += len + 1;
        if (i)
            *d++ = ',';
        memcpy(d, imports[i], len);
        d += len;
    }
    *d = '\0';
    for (; t->n < n; t->n++) {
        t->imports[t->n] = mem_try_alloc(strlen(imports[t->n]) + 1);
        if (!t->imports[t->n]) {
            t->mc = NULL;
            ticket_free(t);
            return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for an import of %zu modules", n);
        }
        strcpy(t->imports[t->n], imports[t->n]);
    }
    t->roots = p->roots;
    pool__modcache_ref(p->mc);
    t->mc = p->mc;
    atomic_init(&t->ctl.loaded, 0);
    atomic_init(&t->ctl.total, 0);
    atomic_init(&t->ctl.cancel, false);
    *out = t;
    return 0;
}

/*
 * What the watch queue holds concerns an acquire: a change completed before
 * it was asked for must not be a hit. Gated (a server), the queue is read
 * once per batch of request bytes: a request read before a drain was sent
 * before it, so that drain saw every change completed before the request.
 */
static void drain_for_acquire(pool *p)
{
    if (!p->watch || (p->drain_gated && !p->input_pending))
        return;
    pool__watch_drain(p->watch);
    p->input_pending = false;
}

/* The entry of a key if it may be a hit; a stale one is dropped or detached. */
static entry *fresh_entry(pool *p, uint64_t h, const char *const *imports, size_t n, unsigned flags)
{
    entry *e = entry_find(p, h, imports, n, flags);
    if (e && entry_is_stale(p, e)) {
        if (e->users == 0) {
            drop_idle(p, e);
            p->st.evicted_stale++;
        } else {
            entry_detach(p, e);
            p->st.stale_in_use++;
        }
        e = NULL;
    }
    return e;
}

static int check_key(const char *const *imports, size_t n, unsigned flags, pool_error *err)
{
    if (n == 0)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "the import list is empty");
    if (flags & ~(unsigned)POOL_PARTIAL)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "unknown acquire flags 0x%x", flags);
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!imports[i])
            return pool__fail(err, POOL_EINVAL, NULL, NULL, "import %zu is missing", i);
        if ((rc = pool_name_check(imports[i], strlen(imports[i]), err)))
            return rc;
    }
    return 0;
}

pool_env *pool_peek(pool *p, const char *const *imports, size_t n, unsigned flags)
{
    if (check_key(imports, n, flags, NULL) < 0)
        return NULL;
    drain_for_acquire(p);
    entry *e = fresh_entry(p, key_hash(imports, n, flags), imports, n, flags);
    return e ? e->env : NULL;
}

void pool_count_use(pool *p, pool_env *env)
{
    entry *e = pool__env_slot(env);
    ENVPOOL_INVARIANT(e && e->env == env && !e->detached, "pool_count_use of an environment not resident in this pool");
    if (e->users == 0) {
        lru_remove(p, e);
        lru_push_head(p, e);
    }
    p->st.acquired++;
    p->st.reused++;
    p->st.releases++;
    p->st.released_to_pool++;
}

bool pool_watch_covers_all(const pool *p)
{
    return p->watch && pool__watch_covers_all(p->watch);
}

void pool_watch_gate(pool *p, bool on)
{
    p->drain_gated = on;
    p->input_pending = true;
}

void pool_watch_input(pool *p)
{
    p->input_pending = true;
}

int pool_acquire_begin(pool *p, const char *const *imports, size_t n, unsigned flags,
                       pool_acquire_cb cb, void *cookie, pool_env **env,
                       pool_ticket **ticket, pool_waiter **waiter, pool_error *err)
{
    *env = NULL;
    if (ticket)
        *ticket = NULL;
    if (waiter)
        *waiter = NULL;
    int krc = check_key(imports, n, flags, err);
    if (krc < 0)
        return krc;
    drain_for_acquire(p);
    uint64_t gen = pool__modcache_generation(p->mc);
    uint64_t h = key_hash(imports, n, flags);
    entry *e = fresh_entry(p, h, imports, n, flags);
    if (e) {
        if (e->users == 0)
            lru_remove(p, e);
        e->users++;
        p->st.acquired++;
        p->st.reused++;
        *env = e->env;
        return POOL_HIT;
    }
    pool_ticket *t = ticket_find(p, h, imports, n, flags);
    if (t) {
        pool_waiter *w = waiter_add(t, cb, cookie, gen);
        if (waiter)
            *waiter = w;
        return POOL_WAITING;
    }
    int rc = ticket_new(p, imports, n, flags, h, &t, err);
    if (rc)
        return rc;
    assert(ticket != NULL);
    ticket_insert(p, t);
    p->tickets_alive++;
    pool_waiter *w = waiter_add(t, cb, cookie, gen);
    if (waiter)
        *waiter = w;
    *ticket = t;
    return POOL_STARTED;
}

void pool_ticket_run(pool_ticket *t)
{
    uint64_t t0 = pool__now_ns();
    /* Taken before any file is looked at: a scan that marks one of this build's
       modules stale later bumps the generation past it, so the first acquire of
       the new environment looks at the marks (POOL_STALE_SCAN). */
    t->gen = pool__modcache_generation(t->mc);
    t->rc = pool__env_build(t->roots, t->mc, (const char *const *)t->imports, t->n, t->flags,
                            t->display, &t->ctl, &t->env, &t->err);
    t->ns = pool__now_ns() - t0;
    t->ran = true;
}

/*
 * Moves the waiters of a finishing ticket that registered at or after
 * generation `since` (the first stale mark among the build's modules) to a
 * new ticket for the key, in order. *list is the finishing ticket's waiter
 * chain and is left holding the others. Returns the new ticket (in the key
 * table) or NULL: nobody registered that late, or no memory for a ticket
 * (then everyone gets this build, as before there was a watch).
 */
static pool_ticket *split_late_waiters(pool *p, pool_ticket *t, pool_waiter **list, uint64_t since)
{
    bool any = false;
    for (pool_waiter *w = *list; w && !any; w = w->next)
        any = w->gen >= since;
    if (!any)
        return NULL;
    pool_ticket *again;
    if (ticket_new(p, (const char *const *)t->imports, t->n, t->flags, t->hash, &again, NULL) != 0)
        return NULL;
    pool_waiter *keep = NULL, **ktail = &keep;
    for (pool_waiter *w = *list, *next; w; w = next) {
        next = w->next;
        w->next = NULL;
        if (w->gen >= since) {
            w->t = again;
            w->prev = again->wtail;
            if (again->wtail)
                again->wtail->next = w;
            else
                again->whead = w;
            again->wtail = w;
            again->nwaiters++;
        } else {
            *ktail = w;
            ktail = &w->next;
        }
    }
    *list = keep;
    ticket_insert(p, again);
    p->tickets_alive++;
    p->st.imports_restarted++;
    return again;
}

pool_ticket *pool_ticket_finish(pool *p, pool_ticket *t)
{
    assert(t->ran && !t->finishing);
    ticket_unlink(p, t);
    p->tickets_alive--;
    t->finishing = true;

    if (t->nwaiters == 0) {
        p->st.imports_abandoned++;
        ticket_free(t);
        return NULL;
    }
    pool_waiter *w = t->whead;
    t->whead = t->wtail = NULL;
    if (t->rc != 0) {
        p->st.import_failures++;
        while (w) {
            pool_waiter *next = w->next;
            if (!w->cancelled)
                w->cb(w->cookie, NULL, &t->err);
            mem_free(w);
            w = next;
        }
        ticket_free(t);
        return NULL;
    }

    /* Waiters whose requests came after one of this build's files was seen
       to change get a fresh import; the build goes to the others. */
    pool_ticket *again = NULL;
    uint64_t since = env_stale_since(t->env);
    if (since != UINT64_MAX)
        again = split_late_waiters(p, t, &w, since);
    if (!w) {
        ticket_free(t);
        return again;
    }

    /* Install, pinned (users = 1) so that callbacks releasing at once cannot drop it.
       Detached when the key has gone to a fresh import already. */
    entry *e = mem_calloc(1, sizeof *e);
    e->key = t->key;
    e->keylen = t->keylen;
    e->hash = t->hash;
    e->env = t->env;
    e->users = 1;
    e->seen_gen = t->gen;
    t->key = NULL;
    t->env = NULL;
    pool__env_set_slot(e->env, e);
    if (again) {
        e->detached = true;
        p->ndetached++;
    } else {
        entry_insert(p, e);
    }
    p->st.import_count++;
    p->st.import_ns_total += t->ns;
    if (t->ns > p->st.import_ns_max)
        p->st.import_ns_max = t->ns;

    bool first = true;
    while (w) {
        pool_waiter *next = w->next;
        if (!w->cancelled) {
            e->users++;
            p->st.acquired++;
            if (first)
                p->st.imports_performed++;
            else
                p->st.reused++;
            first = false;
            w->cb(w->cookie, e->env, NULL);
        }
        mem_free(w);
        w = next;
    }
    ticket_free(t);
    if (--e->users == 0) {
        if (e->detached)
            drop_detached(p, e);
        else
            lru_push_head(p, e);
    }
    enforce_limits(p, NULL);
    return again;
}

void pool_waiter_cancel(pool *p, pool_waiter *w)
{
    pool_ticket *t = w->t;
    if (t->finishing) {
        w->cancelled = true; /* finish is walking its list: it skips and frees w */
        return;
    }
    if (w->prev)
        w->prev->next = w->next;
    else
        t->whead = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        t->wtail = w->prev;
    t->nwaiters--;
    mem_free(w);
    if (t->nwaiters == 0) {
        atomic_store(&t->ctl.cancel, true);
        ticket_unlink(p, t); /* orphaned: the next acquire of the key starts afresh */
    }
}

void pool_ticket_progress(const pool_ticket *t, uint32_t *loaded, uint32_t *total)
{
    *loaded = (uint32_t)atomic_load(&((pool_ticket *)t)->ctl.loaded);
    *total = (uint32_t)atomic_load(&((pool_ticket *)t)->ctl.total);
}

void pool_waiter_progress(const pool_waiter *w, uint32_t *loaded, uint32_t *total)
{
    pool_ticket_progress(w->t, loaded, total);
}

typedef struct sync_result {
    pool_env  *env;
    pool_error err;
    bool       done;
} sync_result;

static void sync_cb(void *cookie, pool_env *env, const pool_error *err)
{
    sync_result *r = cookie;
    r->done = true;
    r->env = env;
    if (err)
        r->err = *err;
}

int pool_acquire(pool *p, const char *const *imports, size_t n, unsigned flags,
                 pool_env **env, pool_error *err)
{
    sync_result res;
    memset(&res, 0, sizeof res);
    pool_ticket *t;
    pool_waiter *w;
    int rc = pool_acquire_begin(p, imports, n, flags, sync_cb, &res, env, &t, &w, err);
    if (rc < 0 || rc == POOL_HIT)
        return rc < 0 ? rc : 0;
    if (rc == POOL_WAITING) {
        pool_waiter_cancel(p, w);
        return pool__fail(err, -EAGAIN, NULL, NULL,
                          "an import of this key is in flight on another path");
    }
    /* A build that mapped a file changed before this acquire starts over. */
    do
        pool_ticket_run(t);
    while ((t = pool_ticket_finish(p, t)) != NULL);
    assert(res.done);
    if (res.env) {
        *env = res.env;
        return 0;
    }
    if (err)
        *err = res.err;
    return res.err.code ? res.err.code : POOL_EINVAL;
}

/* ---- release, drain, scan, stats ------------------------------------------------- */

void pool_release(pool *p, pool_env *env, bool *kept)
{
    entry *e = pool__env_slot(env);
    ENVPOOL_INVARIANT(e && e->env == env && e->users > 0, "pool_release of an environment not in use in this pool");
    bool stays = true;
    if (--e->users == 0 && e->detached) {
        drop_detached(p, e);
        stays = false;
    } else if (e->users == 0) {
        lru_push_head(p, e);
        stays = enforce_limits(p, e);
    }
    p->st.releases++;
    if (stays)
        p->st.released_to_pool++;
    else
        p->st.released_dropped++;
    if (kept)
        *kept = stays;
}

size_t pool_drain(pool *p)
{
    size_t n = 0;
    while (p->lru_tail) {
        drop_idle(p, p->lru_tail);
        n++;
    }
    p->st.drains++;
    p->st.drained += n;
    return n;
}

int pool_scan_files(pool *p, size_t *changed)
{
    return pool__modcache_scan(p->mc, changed);
}

size_t pool_release_pages(pool *p)
{
    return pool__modcache_release_pages(p->mc);
}

int pool_watch_fd(const pool *p)
{
    return p->watch ? pool__watch_fd(p->watch) : -1;
}

size_t pool_watch_drain(pool *p)
{
    p->input_pending = false;
    return p->watch ? pool__watch_drain(p->watch) : 0;
}

int pool_watch_first_error(const pool *p)
{
    if (!p->watch)
        return 0;
    pool_watch_stats ws;
    pool__watch_stats(p->watch, &ws);
    return ws.first_error;
}

uint64_t pool_imports_performed(const pool *p)
{
    return p->st.imports_performed;
}

void pool_stats_get(const pool *p, pool_stats *out)
{
    pool_modcache_stats mc;
    pool__modcache_stats(p->mc, &mc);
    *out = p->st;
    out->capacity = p->capacity;
    out->max_bytes = p->max_bytes;
    out->resident = p->nentries;
    out->idle = p->idle;
    out->in_use = p->nentries - p->idle;
    out->importing = p->tickets_alive;
    out->mapped_bytes = mc.mapped_bytes;
    out->modules_mapped = mc.modules_mapped;
    out->module_cache_hits = mc.hits;
    out->find_index_builds = mc.find_builds;
    out->find_index_bytes = mc.find_bytes;
    out->find_index_cancelled = mc.find_cancelled;
    out->declinfo_builds = mc.declinfo_builds;
    out->declinfo_bytes = mc.declinfo_bytes;
    out->declinfo_constants = mc.declinfo_constants;
    out->stale_held = p->ndetached;
    out->stale_marks_event = mc.stale_event;
    out->stale_marks_scan = mc.stale_scan;
    out->stale_marks_fault = mc.stale_fault;
    if (p->watch) {
        pool_watch_stats ws;
        pool__watch_stats(p->watch, &ws);
        out->watches = ws.watches;
        out->watch_fallbacks = ws.fallbacks;
        out->watch_events = ws.events;
        out->watch_overflows = ws.overflows;
    }
}
