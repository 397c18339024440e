/*
 * pool/pool_internal.h — what the files of pool/ share and tests look into:
 * error helpers, the module cache (modcache.c) and the environment builder
 * (env.c) that a ticket runs (pool.c).
 *
 * Threads: the module cache is shared by worker threads and the loop thread
 * and guards its table with one mutex; a pool_module's decoded contents are
 * immutable once published; the environment builder touches only its own
 * arguments and the module cache.
 */
#ifndef ENVPOOL_POOL_POOL_INTERNAL_H
#define ENVPOOL_POOL_POOL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lean/lean.h"
#include "pool/pool.h"

/* ---- errors (error.c) ---------------------------------------------------- */

/* Sets err (if not NULL): code, module, imported_by (either may be NULL), reason. */
int pool__fail(pool_error *err, int code, const char *module, const char *imported_by,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sets err from a region_error (mapping, validation or decoding failure of module). */
int pool__fail_region(pool_error *err, const region_error *rerr, const char *module,
                      const char *imported_by);

uint64_t pool__now_ns(void);  /* CLOCK_MONOTONIC */

/* ---- module cache (modcache.c) ------------------------------------------- */

/* A file's identity: a change in any field means another file. */
typedef struct pool_file_id {
    uint64_t dev, ino, size;
    int64_t  mtime_sec, mtime_nsec;
} pool_file_id;

/* stat(2) path into *id. 0 or -errno. */
int  pool__file_id(const char *path, pool_file_id *id);
bool pool__file_id_eq(const pool_file_id *a, const pool_file_id *b);

typedef struct pool_modcache pool_modcache;
typedef struct pool_watch pool_watch;
typedef struct pool_watch_entry pool_watch_entry;

/* Why a module was marked stale (counted per cause). */
enum pool__stale_cause {
    POOL__STALE_EVENT = 0, /* an inotify event (watch.c) */
    POOL__STALE_SCAN  = 1, /* a stat found another identity (scan, or POOL_STALE_STAT's check) */
    POOL__STALE_FAULT = 2, /* a read of the mapping faulted (file shorter than its mapping) */
};

/*
 * One mapped, validated and decoded module file. Everything but the fields
 * marked otherwise is immutable once pool__modcache_get returned it.
 */
typedef struct pool_module {
    region      *r;
    ln_module    lm;           /* decoded ModuleData */
    pool_file_id id;           /* identity when mapped */
    char        *path;         /* real path of part 0 */
    uint64_t     bytes;        /* mapped bytes, all parts */
    uint64_t     nconstants;
    uint64_t    *hashes;       /* [nconstants] Name hashes (2023+ function) of constNames */
    size_t       nimports;     /* imports followed (runtime-only imports of old eras skipped) */
    uint32_t    *import_off;   /* [nimports] offsets into import_text */
    char        *import_text;  /* NUL-terminated dotted names, one after another */
    /* --- decl.find's indexes (find_index.c), built lazily under find_lock --- */
    pthread_mutex_t find_lock;
    _Atomic(struct find_modidx *) find[2];  /* enum find_part: types, values */
    /* --- owned by the cache (under its mutex) --- */
    pool_modcache      *mc;
    struct pool_module *next;  /* hash chain */
    uint32_t     refs;
    int          state;        /* loading / ready */
    pool_watch_entry *watch;   /* its registration with the cache's watch (NULL: none) */
    /* The file at path is no longer this one (sticky): 0 while fresh, else the
       cache generation its marking produced (so the pool can tell whether a
       mark came before or after an acquirer registered). */
    atomic_uint_fast64_t stale_gen;
} pool_module;

static inline bool pool__module_is_stale(pool_module *m)
{
    return atomic_load(&m->stale_gen) != 0;
}

/* New cache with one reference. region_flags are added to REGION_OPEN_PARTS. */
pool_modcache *pool__modcache_new(unsigned region_flags);
void pool__modcache_ref(pool_modcache *mc);
void pool__modcache_unref(pool_modcache *mc);  /* frees at 0 (no module may be left) */

/*
 * Any thread. The module at path (a resolved real path): an existing mapping
 * of the same file identity (a cache hit), or a new one, mapped, validated and
 * decoded once. *out is a new reference (pool__module_unref). Errors: -errno,
 * REGION_E* (err->region filled), -ENOMEM. module/imported_by feed the error.
 */
int  pool__modcache_get(pool_modcache *mc, const char *path, const char *module,
                        const char *imported_by, pool_module **out, pool_error *err);
void pool__module_unref(pool_module *m);

/*
 * Is the file at m->path still m? Stats it; marks m stale (and bumps the
 * cache generation) if not. Any thread.
 */
bool pool__module_check(pool_module *m);
/*
 * Marks m stale for `cause` unless it already is (then nothing changes and
 * nothing is counted). Any thread; lock-free (the watch calls it under its lock).
 */
void pool__module_mark_stale(pool_module *m, enum pool__stale_cause cause);
/* Stats every mapped module (pool_scan_files). */
int  pool__modcache_scan(pool_modcache *mc, size_t *changed);
/* region_release_pages on every loaded module; returns how many. Any thread. */
size_t pool__modcache_release_pages(pool_modcache *mc);
/* Bumped whenever a module is marked stale. */
uint64_t pool__modcache_generation(pool_modcache *mc);
/*
 * Loop thread, before any load: every module loaded from now on is registered
 * with w (stolen: freed with the cache).
 */
void pool__modcache_set_watch(pool_modcache *mc, pool_watch *w);
pool_watch *pool__modcache_watch(pool_modcache *mc);  /* borrowed; NULL when not watching */
/*
 * Loop thread, before any environment is built: the source directories
 * (pool_config.source_roots, stolen: freed with the cache) where a module's
 * .lean file is looked for first. The cache carries them because
 * environments, which hold a reference to it, may outlive the pool.
 */
void pool__modcache_set_sources(pool_modcache *mc, pool_roots *src);
const pool_roots *pool__modcache_sources(const pool_modcache *mc);  /* borrowed; NULL: none */

typedef struct pool_modcache_stats {
    uint64_t mapped_bytes, modules_mapped, hits, loads;
    uint64_t find_builds, find_bytes, find_build_ns, find_cancelled;  /* decl.find indexes */
    uint64_t stale_event, stale_scan, stale_fault;  /* marks by cause */
    uint64_t declinfo_builds, declinfo_bytes, declinfo_constants;  /* environments' declaration info */
} pool_modcache_stats;
/* Any thread: a declaration info map of `bytes` covering `constants` was built (sign 1) or freed (-1). */
void pool__modcache_declinfo_count(pool_modcache *mc, int sign, uint64_t bytes, uint64_t constants);
/* Counts one index preparation abandoned by its request. Any thread. */
void pool__modcache_find_cancelled(pool_modcache *mc);

struct find_modidx;
/*
 * Any thread. Module m's decl.find index of part (0 types, 1 values),
 * built on the calling thread by the first caller (others wait on the
 * module's lock, then share it). Freed with the module. 0 and *out
 * (borrowed, valid while m is), or the build's error.
 */
int pool__module_find_index(pool_module *m, int part, const struct find_modidx **out, pool_error *err);
/* The index if it is built already (NULL otherwise). */
const struct find_modidx *pool__module_find_ready(const pool_module *m, int part);
void pool__modcache_stats(pool_modcache *mc, pool_modcache_stats *out);

/* ---- directory watches (watch.c) ------------------------------------------ */

/* inotify_add_watch's contract with errors as -errno; tests inject failures. */
typedef int (*pool_watch_add_fn)(int fd, const char *path, uint32_t mask);

/*
 * A new inotify instance (non-blocking). max_watches bounds the directories
 * watched at once (0: the kernel's limit only); past it a directory falls
 * back to the scan as if the kernel had said ENOSPC. 0 or -errno.
 */
int  pool__watch_new(uint32_t max_watches, pool_watch **out);
void pool__watch_free(pool_watch *w);  /* no registration may be left; w may be NULL */
void pool__watch_set_add_fn(pool_watch *w, pool_watch_add_fn fn); /* NULL: the real one */
int  pool__watch_fd(const pool_watch *w);
/*
 * Any thread. True when no registered module lies in a fallback directory:
 * every mapped file is watched, so a change to any of them (a truncation
 * included: IN_MODIFY) is in the queue that the next drain reads.
 */
bool pool__watch_covers_all(pool_watch *w);

/*
 * Any thread. Registers the module file at path (a real path) and watches its
 * directory (one watch per directory, counted by registrations). Never
 * fails: a directory that cannot be watched (ENOSPC, the max_watches limit,
 * any other error) is a fallback directory, left to the scan. Call it before
 * the file's identity is checked for the last time: a change after this call
 * is seen by the drain.
 */
pool_watch_entry *pool__watch_add(pool_watch *w, const char *path);
/* Any thread. The loaded module behind en; marks it stale if an event came meanwhile. */
void pool__watch_attach(pool_watch *w, pool_watch_entry *en, pool_module *m);
/* Any thread. Unregisters (en may be NULL); the directory's watch goes with its last one. */
void pool__watch_remove(pool_watch *w, pool_watch_entry *en);
/*
 * Loop thread only. Reads every event queued (non-blocking) and marks the
 * modules they name stale. Returns the number of events read.
 */
size_t pool__watch_drain(pool_watch *w);

typedef struct pool_watch_stats {
    uint64_t watches;     /* directories watched now */
    uint64_t fallbacks;   /* fallback directory records made: a directory that could not be
                             watched, counted again when needed again after its last module went */
    uint64_t events;      /* inotify events read for directories watched (and overflows) */
    uint64_t overflows;   /* queue overflows (every watched module marked) */
    uint64_t dirs;        /* directory records alive (watched, fallback, ended) */
    int      first_error; /* errno of the first directory that could not be watched */
} pool_watch_stats;
void pool__watch_stats(pool_watch *w, pool_watch_stats *out);

/* ---- environment builder (env.c) ----------------------------------------- */

typedef struct pool_build_ctl {
    atomic_uint_fast32_t loaded, total;  /* progress, read by the loop thread */
    atomic_bool          cancel;         /* set by the loop thread: stop early */
} pool_build_ctl;

/*
 * Builds the environment of imports[0..n) (checked names) on the calling
 * thread: closure in Lean's order, module mappings through mc, name index.
 * display_key (borrowed) becomes pool_env_key. *out is new (one reference).
 */
int pool__env_build(const pool_roots *roots, pool_modcache *mc, const char *const *imports,
                    size_t n, unsigned flags, const char *display_key, pool_build_ctl *ctl,
                    pool_env **out, pool_error *err);

struct pool_search_index; /* search.c */
struct pool_declinfo;     /* declinfo.c */

typedef struct pool_env_mod {
    pool_module *m;     /* a reference */
    char        *name;  /* dotted module name */
} pool_env_mod;

/*
 * Index slots: 0 = empty, else (high 32 bits of the Name hash) << 32 |
 * (ordinal + 1). The ordinal numbers every constant of the closure in import
 * order: module k's constant i is base[k] + i. Linear probing from the low
 * bits of the hash.
 */
struct pool_env {
    atomic_uint     refs;
    char           *key;          /* display key */
    pool_modcache  *mc;           /* a reference: modules point into it */
    size_t          nmods;
    pool_env_mod   *mods;         /* import order */
    uint64_t       *base;         /* [nmods + 1] first ordinal of each module */
    size_t          nmissing;
    char          **missing;      /* [2 * nmissing]: module, imported_by */
    uint64_t        total, visible;
    uint64_t       *table;        /* [mask + 1] slots */
    uint64_t        mask;
    uint64_t       *shadowed;     /* bitmap over ordinals */
    uint64_t        mapped_bytes, index_bytes, build_ns;
    uint64_t        serial;       /* pool_env_serial */
    pthread_mutex_t search_lock;  /* guards building `search` */
    _Atomic(struct pool_search_index *) search; /* built by the first search */
    pthread_mutex_t declinfo_lock; /* guards building `declinfo` */
    _Atomic(struct pool_declinfo *) declinfo;   /* built by pool_env_declinfo_build */
    void           *slot;         /* the pool's entry; loop thread only (not part of the value) */
};

/* The module holding ordinal ord (binary search over base). */
size_t pool__env_module_of(const pool_env *e, uint64_t ord);
bool   pool__env_is_shadowed(const pool_env *e, uint64_t ord);
/* Fills a reference for ordinal ord (module, index, info, name words). */
void   pool__env_ref_of(const pool_env *e, uint64_t ord, pool_const_ref *out);

void pool__search_index_free(struct pool_search_index *s);
void pool__declinfo_free(struct pool_declinfo *d);
/* Frees e's declaration info, if built, uncounting it from e->mc (env_free). */
void pool__env_declinfo_free(pool_env *e);

/*
 * The ordinal of the constant named by the Name word `name` of module k's
 * space: the env's hash table probed with its stored hash (computed for 2022
 * files), a candidate of module k compared as a Name (usually the same object),
 * one of another module by text. 0, or POOL_ENOCONST.
 */
int pool__env_find_word(const pool_env *e, size_t k, lx_word name, uint64_t *ord);

/* The environment's name table (search.c), built by its first user. 0 or its build error. */
int pool__search_get(const pool_env *e, const struct pool_search_index **out);
uint32_t pool__search_count(const struct pool_search_index *s);   /* visible constants */
typedef struct pool_search_entry {
    uint64_t    ord;    /* ordinal */
    const char *name;   /* dotted, NUL-terminated */
    size_t      len;
    uint32_t    rank;   /* position in bytewise name order */
    uint8_t     kind;   /* enum ln_const_kind, 0xff if undecodable */
} pool_search_entry;
/* Entries are numbered 0..count-1 in ordinal order. */
void pool__search_entry(const struct pool_search_index *s, uint32_t entry, pool_search_entry *out);
/* The entry of a visible ordinal (binary search); false if shadowed or out of range. */
bool pool__search_entry_of(const struct pool_search_index *s, uint64_t ord, uint32_t *entry);

/* The pool's entry for e: loop thread only (NULL outside a pool). */
void *pool__env_slot(const pool_env *e);
void  pool__env_set_slot(pool_env *e, void *slot);

#endif
