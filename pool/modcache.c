/*
 * pool/modcache.c — the module cache: one mapping per file identity.
 *
 * A module file is mapped, validated (region_open) and decoded (ModuleData,
 * import names, constant Name hashes) once per identity (device, inode, size,
 * mtime), shared by every environment that uses it, and unmapped when the
 * last reference goes. Worker threads build environments concurrently, so the
 * table is guarded by one mutex; a module being loaded sits in the table in
 * state LOADING and other threads that want the same file wait on a condition
 * variable instead of mapping it a second time. The expensive work (mapping,
 * validation, decoding) runs outside the lock.
 *
 * Staleness: a module whose file no longer has its identity (replaced,
 * touched, removed) is marked stale, for good; lookups skip stale modules, so
 * the next environment maps the new file while the old mapping lives on until
 * the environments using it are gone. Each marking bumps a generation counter
 * so that the pool can tell in O(1) that nothing changed since its last look.
 * Marks come from three places, counted apart: the watch's events (watch.c),
 * stats (the scan, POOL_STALE_STAT's check) and faults on a mapping.
 *
 * With a watch, a new module is registered after its first stat and before
 * the second one: a change before the registration shows in the second stat
 * (the load fails as "changed while it was being mapped"), a change after it
 * is an event.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "region/guard.h"
#include "pool/find_internal.h"
#include "util/mem.h"

enum { MOD_LOADING = 0, MOD_READY = 1 };

struct pool_modcache {
    pthread_mutex_t lock;
    pthread_cond_t  loaded;      /* signalled when a LOADING module leaves that state */
    atomic_uint     refs;
    unsigned        region_flags;
    pool_module   **buckets;     /* chained on (dev, ino); under lock */
    size_t          nbuckets, count;
    /* counters, under lock */
    uint64_t        mapped_bytes, modules_mapped, hits, loads;
    atomic_uint_fast64_t generation;
    /* decl.find indexes: built on workers, so atomics rather than the lock */
    atomic_uint_fast64_t find_builds, find_bytes, find_build_ns, find_cancelled;
    atomic_uint_fast64_t stale_by[3];  /* marks by enum pool__stale_cause */
    atomic_uint_fast64_t decl_builds, decl_bytes, decl_consts; /* declaration info (declinfo.c) */
    pool_watch     *watch;       /* owned; NULL when not watching */
    pool_roots     *sources;     /* owned; NULL: no source directories (immutable once set) */
};

int pool__file_id(const char *path, pool_file_id *id)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    id->size = (uint64_t)st.st_size;
    id->mtime_sec = (int64_t)st.st_mtim.tv_sec;
    id->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
    return 0;
}

bool pool__file_id_eq(const pool_file_id *a, const pool_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

static size_t id_bucket(const pool_modcache *mc, const pool_file_id *id)
{
    uint64_t h = id->ino * 0x9e3779b97f4a7c15ull ^ id->dev;
    return (size_t)(h ^ (h >> 29)) & (mc->nbuckets - 1);
}

pool_modcache *pool__modcache_new(unsigned region_flags)
{
    pool_modcache *mc = mem_calloc(1, sizeof *mc);
    pthread_mutex_init(&mc->lock, NULL);
    pthread_cond_init(&mc->loaded, NULL);
    atomic_init(&mc->refs, 1);
    atomic_init(&mc->generation, 0);
    atomic_init(&mc->find_builds, 0);
    atomic_init(&mc->find_bytes, 0);
    atomic_init(&mc->find_build_ns, 0);
    atomic_init(&mc->find_cancelled, 0);
    for (size_t i = 0; i < 3; i++)
        atomic_init(&mc->stale_by[i], 0);
    atomic_init(&mc->decl_builds, 0);
    atomic_init(&mc->decl_bytes, 0);
    atomic_init(&mc->decl_consts, 0);
    mc->region_flags = region_flags | REGION_OPEN_PARTS;
    mc->nbuckets = 64;
    mc->buckets = mem_calloc(mc->nbuckets, sizeof *mc->buckets);
    return mc;
}

void pool__modcache_ref(pool_modcache *mc) { atomic_fetch_add(&mc->refs, 1); }

void pool__modcache_unref(pool_modcache *mc)
{
    if (!mc || atomic_fetch_sub(&mc->refs, 1) != 1)
        return;
    if (mc->count != 0) {
        fprintf(stderr, "envpool: module cache freed with %zu modules mapped\n", mc->count);
        abort();
    }
    pthread_cond_destroy(&mc->loaded);
    pthread_mutex_destroy(&mc->lock);
    pool__watch_free(mc->watch);
    pool_roots_free(mc->sources);
    mem_free(mc->buckets);
    mem_free(mc);
}

void pool__modcache_set_watch(pool_modcache *mc, pool_watch *w)
{
    pool__watch_free(mc->watch);
    mc->watch = w;
}

pool_watch *pool__modcache_watch(pool_modcache *mc) { return mc->watch; }

void pool__modcache_set_sources(pool_modcache *mc, pool_roots *src)
{
    pool_roots_free(mc->sources);
    mc->sources = src;
}

const pool_roots *pool__modcache_sources(const pool_modcache *mc) { return mc->sources; }

/* Under lock. */
static void table_grow(pool_modcache *mc)
{
    size_t nb = mc->nbuckets * 2;
    pool_module **b = mem_calloc(nb, sizeof *b);
    pool_module **old = mc->buckets;
    size_t oldn = mc->nbuckets;
    mc->buckets = b;
    mc->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++)
        for (pool_module *m = old[i], *next; m; m = next) {
            next = m->next;
            size_t k = id_bucket(mc, &m->id);
            m->next = b[k];
            b[k] = m;
        }
    mem_free(old);
}

/* Under lock. */
static void table_remove(pool_modcache *mc, pool_module *m)
{
    pool_module **pp = &mc->buckets[id_bucket(mc, &m->id)];
    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next;
    mc->count--;
}

static void module_free(pool_module *m)
{
    for (int part = 0; part < 2; part++) {
        find_modidx *x = atomic_load_explicit(&m->find[part], memory_order_acquire);
        if (x)
            atomic_fetch_sub(&m->mc->find_bytes, x->bytes);
        find__modidx_free(x);
    }
    pthread_mutex_destroy(&m->find_lock);
    if (m->watch)
        pool__watch_remove(m->mc->watch, m->watch);
    region_close(m->r);
    mem_free(m->hashes);
    mem_free(m->import_off);
    mem_free(m->import_text);
    mem_free(m->path);
    mem_free(m);
}

/* What module_decode works on: all of it owned by its caller (region/guard.h). */
typedef struct decode_job {
    pool_module *m;
    const char  *module, *imported_by;
    pool_error  *err;
    ln_buf       text;      /* import names, NUL-separated */
    bool         returned;  /* false after a fault abandoned module_decode */
} decode_job;

/*
 * Decodes what every environment needs of a module, once per mapping: the
 * import names (as text) and the Name hash of every constant. Runs under
 * region_guard_run: it allocates only into m and j, which the caller frees.
 */
static int module_decode(void *arg)
{
    decode_job *j = arg;
    pool_module *m = j->m;
    const char *module = j->module, *imported_by = j->imported_by;
    pool_error *err = j->err;
    ln_buf *text = &j->text;
    region_error rerr;
    memset(&rerr, 0, sizeof rerr);
    int rc = ln_module_open(m->r, &m->lm, &rerr);
    if (rc) {
        rc = pool__fail_region(err, &rerr, module, imported_by);
        goto out;
    }
    m->nconstants = m->lm.nconstants;
    if (m->lm.nconstants > 0) {
        m->hashes = mem_try_array((size_t)m->lm.nconstants, sizeof *m->hashes);
        if (!m->hashes) {
            rc = pool__fail(err, -ENOMEM, module, imported_by,
                            "out of memory for %llu constant hashes",
                            (unsigned long long)m->lm.nconstants);
            goto out;
        }
    }
    bool compute = m->lm.era == LN_ERA_2022; /* stored hashes use an older function */
    for (uint64_t i = 0; i < m->lm.nconstants; i++) {
        lx_word name;
        if ((rc = ln_module_const_name(&m->lm, i, &name, &rerr)) ||
            (rc = compute ? ln_name_hash_compute(&m->lm, name, &m->hashes[i], &rerr)
                          : ln_name_hash_stored(&m->lm, name, &m->hashes[i], &rerr))) {
            rc = pool__fail_region(err, &rerr, module, imported_by);
            goto out;
        }
    }

    if (m->lm.nimports > 0) {
        m->import_off = mem_try_array((size_t)m->lm.nimports, sizeof *m->import_off);
        if (!m->import_off) {
            rc = pool__fail(err, -ENOMEM, module, imported_by, "out of memory for imports");
            goto out;
        }
    }
    for (uint64_t i = 0; i < m->lm.nimports; i++) {
        ln_import imp;
        if ((rc = ln_module_import(&m->lm, i, &imp, &rerr))) {
            rc = pool__fail_region(err, &rerr, module, imported_by);
            goto out;
        }
        /* Lean's importModulesCore skips runtime-only imports (pre-module-system eras). */
        if (m->lm.era != LN_ERA_MODULE && imp.runtime_only)
            continue;
        if (text->len > UINT32_MAX - 4096) {
            rc = pool__fail(err, POOL_ELIMIT, module, imported_by, "import names too long");
            goto out;
        }
        m->import_off[m->nimports++] = (uint32_t)text->len;
        if ((rc = ln_name_format(&m->lm, imp.module, text, &rerr))) {
            if (rc == LN_ETOOBIG || rc == -ENOMEM)
                rc = pool__fail(err, rc == -ENOMEM ? -ENOMEM : POOL_ELIMIT, module, imported_by,
                                "import names too long");
            else
                rc = pool__fail_region(err, &rerr, module, imported_by);
            goto out;
        }
        if ((rc = ln_buf_append(text, "", 1))) { /* the NUL separator */
            rc = pool__fail(err, POOL_ELIMIT, module, imported_by, "import names too long");
            goto out;
        }
    }
    if (text->len > 0) {
        m->import_text = mem_try_alloc(text->len);
        if (!m->import_text) {
            rc = pool__fail(err, -ENOMEM, module, imported_by, "out of memory for imports");
            goto out;
        }
        memcpy(m->import_text, text->data, text->len);
    }
out:
    j->returned = true;
    return rc;
}

int pool__modcache_get(pool_modcache *mc, const char *path, const char *module,
                       const char *imported_by, pool_module **out, pool_error *err)
{
    pool_file_id id = {0};
    int rc;
    *out = NULL;
    if ((rc = pool__file_id(path, &id)) < 0)
        return pool__fail(err, rc == -ENOENT ? REGION_ESTALE : rc, module, imported_by,
                          "%s: %s", path, strerror(-rc));

    pthread_mutex_lock(&mc->lock);
    for (;;) {
        pool_module *found = NULL;
        for (pool_module *m = mc->buckets[id_bucket(mc, &id)]; m; m = m->next)
            if (pool__file_id_eq(&m->id, &id) && !pool__module_is_stale(m) &&
                strcmp(m->path, path) == 0) {
                found = m;
                break;
            }
        if (!found)
            break;
        if (found->state == MOD_LOADING) {
            pthread_cond_wait(&mc->loaded, &mc->lock);
            continue; /* it may have failed and gone: look again */
        }
        found->refs++;
        mc->hits++;
        pthread_mutex_unlock(&mc->lock);
        *out = found;
        return 0;
    }
    pool_module *m = mem_calloc(1, sizeof *m);
    m->id = id;
    m->path = mem_strdup(path);
    m->mc = mc;
    m->refs = 1;
    m->state = MOD_LOADING;
    pthread_mutex_init(&m->find_lock, NULL);
    atomic_init(&m->find[0], NULL);
    atomic_init(&m->find[1], NULL);
    atomic_init(&m->stale_gen, 0);
    if (mc->count + 1 > mc->nbuckets)
        table_grow(mc);
    size_t k = id_bucket(mc, &id);
    m->next = mc->buckets[k];
    mc->buckets[k] = m;
    mc->count++;
    pthread_mutex_unlock(&mc->lock);
    if (mc->watch)
        m->watch = pool__watch_add(mc->watch, path);

    region_error rerr;
    memset(&rerr, 0, sizeof rerr);
    pool_file_id after = {0};
    if ((rc = region_open(path, mc->region_flags, &m->r, &rerr)) < 0) {
        rc = pool__fail_region(err, &rerr, module, imported_by);
    } else if ((rc = pool__file_id(path, &after)) < 0 || !pool__file_id_eq(&id, &after)) {
        rc = pool__fail(err, REGION_ESTALE, module, imported_by,
                        "%s changed while it was being mapped", path);
        if (err)
            snprintf(err->region.path, sizeof err->region.path, "%s", path);
    } else {
        /* Decoding reads the mapped pages: guarded, so a file truncated in
           place meanwhile fails this load instead of killing the process. */
        decode_job j = {m, module, imported_by, err, {0}, false};
        ln_buf_init(&j.text, 0);
        if ((rc = region_guard_run(module_decode, &j)) < 0 && !j.returned) {
            rc = pool__fail(err, REGION_ESTALE, module, imported_by,
                            "%s shrank while it was being decoded", path);
            if (err)
                snprintf(err->region.path, sizeof err->region.path, "%s", path);
        }
        ln_buf_deinit(&j.text);
    }
    if (rc == 0) {
        m->bytes = region_get_info(m->r)->size;
        if (m->watch)
            pool__watch_attach(mc->watch, m->watch, m);
        /* An eager load read every byte: out of the page tables at once, or
           a build's resident set would grow to the whole library. A lazy
           one read little (header, root, arrays, names): its owner releases
           the pages later, in one pass (pool_release_pages; envpoold's scan
           after an import), which keeps a madvise per module off the build. */
        if (!(mc->region_flags & REGION_OPEN_LAZY))
            region_release_pages(m->r);
    }

    pthread_mutex_lock(&mc->lock);
    if (rc == 0) {
        m->state = MOD_READY;
        mc->mapped_bytes += m->bytes;
        mc->modules_mapped++;
        mc->loads++;
    } else {
        table_remove(mc, m);
    }
    pthread_cond_broadcast(&mc->loaded);
    pthread_mutex_unlock(&mc->lock);
    if (rc) {
        module_free(m);
        return rc;
    }
    pool__modcache_ref(mc);
    *out = m;
    return 0;
}

void pool__module_unref(pool_module *m)
{
    if (!m)
        return;
    pool_modcache *mc = m->mc;
    pthread_mutex_lock(&mc->lock);
    if (--m->refs > 0) {
        pthread_mutex_unlock(&mc->lock);
        return;
    }
    table_remove(mc, m);
    mc->mapped_bytes -= m->bytes;
    mc->modules_mapped--;
    pthread_mutex_unlock(&mc->lock);
    module_free(m);
    pool__modcache_unref(mc);
}

void pool__module_mark_stale(pool_module *m, enum pool__stale_cause cause)
{
    if (pool__module_is_stale(m))
        return;
    /* The generation moves first, so that anyone who sees the mark also sees
       a generation at least as new as the one it records. */
    uint64_t gen = atomic_fetch_add(&m->mc->generation, 1) + 1;
    uint_fast64_t expected = 0;
    if (atomic_compare_exchange_strong(&m->stale_gen, &expected, gen))
        atomic_fetch_add(&m->mc->stale_by[cause], 1);
}

bool pool__module_check(pool_module *m)
{
    if (pool__module_is_stale(m))
        return false;
    pool_file_id now = {0};
    if (pool__file_id(m->path, &now) == 0 && pool__file_id_eq(&now, &m->id))
        return true;
    pool__module_mark_stale(m, POOL__STALE_SCAN);
    return false;
}

uint64_t pool__modcache_generation(pool_modcache *mc)
{
    return atomic_load(&mc->generation);
}

int pool__modcache_scan(pool_modcache *mc, size_t *changed)
{
    size_t n = 0, nchanged = 0;
    pthread_mutex_lock(&mc->lock);
    pool_module **list = mem_try_array(mc->count ? mc->count : 1, sizeof *list);
    if (!list) {
        pthread_mutex_unlock(&mc->lock);
        return -ENOMEM;
    }
    /* Take references so that the stats can run outside the lock. */
    for (size_t i = 0; i < mc->nbuckets; i++)
        for (pool_module *m = mc->buckets[i]; m; m = m->next)
            if (m->state == MOD_READY && !pool__module_is_stale(m)) {
                m->refs++;
                list[n++] = m;
            }
    pthread_mutex_unlock(&mc->lock);
    for (size_t i = 0; i < n; i++) {
        if (!pool__module_check(list[i]))
            nchanged++;
        pool__module_unref(list[i]);
    }
    mem_free(list);
    if (changed)
        *changed = nchanged;
    return 0;
}

size_t pool__modcache_release_pages(pool_modcache *mc)
{
    /* Under the lock: a module in the table stays mapped while it is held, and
       one madvise per module is cheap (7,600 modules: a few ms). */
    size_t n = 0;
    pthread_mutex_lock(&mc->lock);
    for (size_t i = 0; i < mc->nbuckets; i++)
        for (pool_module *m = mc->buckets[i]; m; m = m->next)
            if (m->state == MOD_READY) {
                region_release_pages(m->r);
                n++;
            }
    pthread_mutex_unlock(&mc->lock);
    return n;
}

void pool__modcache_stats(pool_modcache *mc, pool_modcache_stats *out)
{
    pthread_mutex_lock(&mc->lock);
    out->mapped_bytes = mc->mapped_bytes;
    out->modules_mapped = mc->modules_mapped;
    out->hits = mc->hits;
    out->loads = mc->loads;
    pthread_mutex_unlock(&mc->lock);
    out->stale_event = atomic_load(&mc->stale_by[POOL__STALE_EVENT]);
    out->stale_scan = atomic_load(&mc->stale_by[POOL__STALE_SCAN]);
    out->stale_fault = atomic_load(&mc->stale_by[POOL__STALE_FAULT]);
    out->find_builds = atomic_load(&mc->find_builds);
    out->find_bytes = atomic_load(&mc->find_bytes);
    out->find_build_ns = atomic_load(&mc->find_build_ns);
    out->find_cancelled = atomic_load(&mc->find_cancelled);
    out->declinfo_builds = atomic_load(&mc->decl_builds);
    out->declinfo_bytes = atomic_load(&mc->decl_bytes);
    out->declinfo_constants = atomic_load(&mc->decl_consts);
}

void pool__modcache_declinfo_count(pool_modcache *mc, int sign, uint64_t bytes, uint64_t constants)
{
    if (sign > 0) {
        atomic_fetch_add(&mc->decl_builds, 1);
        atomic_fetch_add(&mc->decl_bytes, bytes);
        atomic_fetch_add(&mc->decl_consts, constants);
    } else {
        atomic_fetch_sub(&mc->decl_bytes, bytes);
        atomic_fetch_sub(&mc->decl_consts, constants);
    }
}

void pool__modcache_find_cancelled(pool_modcache *mc)
{
    atomic_fetch_add(&mc->find_cancelled, 1);
}

const struct find_modidx *pool__module_find_ready(const pool_module *m, int part)
{
    return atomic_load_explicit(&((pool_module *)m)->find[part & 1], memory_order_acquire);
}

int pool__module_find_index(pool_module *m, int part, const struct find_modidx **out, pool_error *err)
{
    part &= 1;
    find_modidx *x = atomic_load_explicit(&m->find[part], memory_order_acquire);
    int rc = 0;
    if (!x) {
        pthread_mutex_lock(&m->find_lock);
        x = atomic_load_explicit(&m->find[part], memory_order_relaxed);
        if (!x && (rc = find__modidx_build(m, (enum find_part)part, &x, err)) == 0) {
            atomic_fetch_add(&m->mc->find_builds, 1);
            atomic_fetch_add(&m->mc->find_bytes, x->bytes);
            atomic_fetch_add(&m->mc->find_build_ns, x->build_ns);
            atomic_store_explicit(&m->find[part], x, memory_order_release);
        }
        pthread_mutex_unlock(&m->find_lock);
    }
    *out = x;
    return rc;
}
