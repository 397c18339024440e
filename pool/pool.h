/*
 * pool/pool.h — environments and the pool: module resolution, one mapping per
 * module file, import closures with a name index, lazily built search
 * structures, and the LRU pool with its statistics (DESIGN.md §3).
 *
 * Pure C, no event loop. The pool is owned by one thread, "the loop thread"
 * (the daemon's libuv loop; a test's or the CLI's main thread). Imports are
 * split so that the expensive part runs elsewhere:
 *
 *   loop:    pool_acquire_begin()  hit → an environment at once;
 *                                  miss → a ticket (POOL_STARTED), or the caller
 *                                  joins the import already in flight for the
 *                                  key (POOL_WAITING)
 *   worker:  pool_ticket_run()     resolution, mapping through the module cache,
 *                                  validation, decoding, name index; touches no
 *                                  pool state except the module cache (mutex)
 *   loop:    pool_ticket_finish()  installs the environment (or not, on error),
 *                                  calls every waiter's callback, frees the ticket
 *
 * pool_acquire() does the three steps on the calling thread (CLI, tests, bench).
 *
 * Counting (pool_stats): every acquire that delivers an environment counts once
 * in `acquired` and exactly once in `imports_performed` (the first waiter of a
 * successful import) or `reused` (a hit, or a further waiter of an import);
 * every pool_release counts once in `releases` and exactly once in
 * `released_to_pool` (the environment stays resident: idle, or still used by
 * others) or `released_dropped` (it is gone after this release: capacity 0,
 * byte budget, or it was found stale while in use and replaced). Both sums
 * hold at every instant because each pair is updated together. A failed import counts in
 * `import_failures` only; an import whose waiters all cancelled counts in
 * `imports_abandoned` only. Environments are never cached after a failure.
 *
 * Ownership words follow STYLE.md: borrowed, new (caller releases), stolen.
 */
#ifndef ENVPOOL_POOL_POOL_H
#define ENVPOOL_POOL_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/region.h"
#include "util/error.h"

#define POOL_WUR __attribute__((warn_unused_result))

struct ln_module; /* lean/lean.h */

/* ------------------------------------------------------------------------ */
/* Errors.                                                                   */

/*
 * Codes: 0, a negative errno, REGION_E* (corrupt/unsupported/stale file,
 * details in pool_error.region), or POOL_E*: all in util/error.h, the one
 * registry (POOL_ENOTFOUND: module not found under any root, with module and
 * imported_by; POOL_EBADNAME, POOL_EOUTSIDE, POOL_ECANCELLED, POOL_ENOCONST,
 * POOL_ECYCLE, POOL_ELIMIT, POOL_EINVAL, POOL_EAGAIN: see there).
 */

/* What went wrong, with everything a client needs to act on it. Caller storage. */
typedef struct pool_error {
    int          code;            /* as above; 0 if none */
    char         module[256];     /* the module concerned ("" if none) */
    char         imported_by[256];/* its importer ("" when requested directly) */
    region_error region;          /* REGION_E* and I/O errors: path, offset, reason */
    char         reason[256];     /* one-line human text (always set when code != 0) */
} pool_error;

/* One line: "module M (imported by I): REASON" and the region's path/offset; returns buf. */
const char *pool_error_format(const pool_error *err, char *buf, size_t size);
/* Stable short name of a code: "not found", "bad name", "corrupt region", ... */
/* envpool_strerror (util/error.h) under its older name. */
const char *pool_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Resolution (pool/resolve.c). Immutable after creation; any thread.        */

typedef struct pool_roots pool_roots;

/*
 * Search roots from directories (borrowed strings). Each must exist and is
 * kept as its real path; order is kept (the first root that has a module
 * wins). Duplicates are kept once. *out is new (pool_roots_free).
 */
POOL_WUR int pool_roots_new(const char *const *dirs, size_t n, pool_roots **out, pool_error *err);
/*
 * The search path policy, decided here once (DESIGN.md §3): the first of
 * `given` (the --search-path flag; may be NULL), $ENVPOOL_PATH and $LEAN_PATH
 * that names a directory; a value with none (unset, "", ":::") counts as not
 * given, so an empty flag falls back to the variables. Returns that
 * colon-separated list (borrowed: given, or the environment's string), or
 * NULL when none names a directory. Reads the environment: call it from one
 * thread, at start-up.
 */
const char *pool_search_list(const char *given);
/*
 * The roots of pool_search_list(list); empty entries are skipped. No search
 * path at all is POOL_EINVAL ("no search path: give --search-path or set
 * ENVPOOL_PATH or LEAN_PATH").
 */
POOL_WUR int pool_roots_from_env(const char *list, pool_roots **out, pool_error *err);
void        pool_roots_free(pool_roots *r);                       /* r may be NULL */
size_t      pool_roots_count(const pool_roots *r);
const char *pool_roots_get(const pool_roots *r, size_t i);       /* borrowed real path */

/* Checks a dotted module name (len bytes). 0 or POOL_EBADNAME (err says which component). */
POOL_WUR int pool_name_check(const char *name, size_t len, pool_error *err);

/*
 * Module name → *path (new, mem_free), the real path of A/B/C.olean under the
 * first root that has it. imported_by (borrowed, may be NULL) only feeds the
 * error. POOL_EBADNAME, POOL_ENOTFOUND, POOL_EOUTSIDE (a symlink leads out of
 * the root), -ENOMEM.
 */
POOL_WUR int pool_resolve(const pool_roots *r, const char *module, const char *imported_by,
                          char **path, pool_error *err);

/* ------------------------------------------------------------------------ */
/* Environments (pool/env.c, pool/search.c).                                 */

/*
 * An import closure with its name index. Immutable once built: every accessor
 * below may be called from any thread by anyone holding a reference. The
 * lazily built search structures are built once, under a lock, by the first
 * search.
 */
typedef struct pool_env pool_env;

/* Any thread. pool_env_ref returns e (a new reference); unref releases one. */
pool_env *pool_env_ref(pool_env *e);
void      pool_env_unref(pool_env *e);  /* e may be NULL */

/* The key: the import names joined by ',' and prefixed "partial:" in partial mode. Borrowed. */
const char *pool_env_key(const pool_env *e);

typedef struct pool_module_info {
    const char *name;          /* borrowed, e.g. "Foo.Bar" */
    const char *path;          /* borrowed real path of part 0 */
    enum region_format format; /* header version */
    const char *lean_version;  /* borrowed; "" before v2 headers */
    const char *era;           /* borrowed: "2022", "2023", "module" */
    uint64_t    constants;     /* constants in the module (including shadowed) */
    uint64_t    bytes;         /* mapped bytes, all parts */
} pool_module_info;

size_t pool_env_module_count(const pool_env *e);
/* Module i in import order (0 ≤ i < count). */
void   pool_env_module(const pool_env *e, size_t i, pool_module_info *out);
/* The decoded ModuleData of module i, for lean/ calls. Borrowed, valid while e is. */
const struct ln_module *pool_env_ln_module(const pool_env *e, size_t i);

/*
 * Faults (any thread). A read of module i's mapping faulted (the file is
 * shorter than its mapping now): mark it stale at once, so that the next
 * acquire of any environment using it imports afresh.
 */
void   pool_env_mark_fault(const pool_env *e, size_t i);
/*
 * Reads the last mapped byte of every module under region_guard_run, marks
 * each whose read faults stale (cause fault) and returns the index of the
 * first (SIZE_MAX: none). For a fault whose module is not known.
 */
size_t pool_env_find_shrunk(const pool_env *e);

/* Partial mode: the modules that did not resolve, and who imported them. Borrowed. */
size_t pool_env_missing_count(const pool_env *e);
void   pool_env_missing(const pool_env *e, size_t i, const char **module, const char **imported_by);

uint64_t pool_env_constant_count(const pool_env *e);  /* visible names (shadowed ones not counted) */
uint64_t pool_env_constant_total(const pool_env *e);  /* every constant of every module */
uint64_t pool_env_mapped_bytes(const pool_env *e);    /* sum of its modules' mapped bytes */
uint64_t pool_env_index_bytes(const pool_env *e);     /* heap bytes of the name index */
uint64_t pool_env_build_ns(const pool_env *e);        /* wall time of the import that built it */
/*
 * A number no other environment of this process ever had (1, 2, ...): lets a
 * cache keyed by environment outlive the environment without confusing it
 * with a later one at the same address.
 */
uint64_t pool_env_serial(const pool_env *e);

/* A constant found in an environment. */
typedef struct pool_const_ref {
    uint32_t module;  /* index in pool_env_module order (the module that won) */
    uint32_t index;   /* index in that module's constants array */
    lx_word  info;    /* the ConstantInfo word (in that module's space) */
    lx_word  name;    /* the Name word */
} pool_const_ref;

/*
 * Looks up a dotted name (len bytes, as ln_name_format prints it: «» escapes,
 * all-digit components are numbers). 0 and *out, POOL_ENOCONST, or
 * POOL_EINVAL for malformed text. Uses the Name hashes stored in the files and
 * confirms the match against the stored name; later modules shadow earlier
 * ones. Owns nothing while it reads the mapped files, so a caller may run it
 * under region_guard_run.
 */
POOL_WUR int pool_env_lookup(const pool_env *e, const char *name, size_t len, pool_const_ref *out);

/*
 * Iteration over the visible constants in import order, then constant order.
 * *cursor starts at 0; returns 1 with *out and an advanced cursor, 0 at the end.
 */
int pool_env_next(const pool_env *e, uint64_t *cursor, pool_const_ref *out);

enum pool_search_mode { POOL_SEARCH_PREFIX = 0, POOL_SEARCH_SUBSTRING, POOL_SEARCH_FUZZY };
enum { POOL_SEARCH_MAX_LIMIT = 1000 };

typedef struct pool_search_query {
    enum pool_search_mode mode;
    const char *text;     /* borrowed, len bytes; matched against the dotted names */
    size_t      len;
    uint32_t    kinds;    /* bit (1u << enum ln_const_kind) per kind wanted; 0 = all */
    uint32_t    limit;    /* 1..POOL_SEARCH_MAX_LIMIT */
    uint64_t    cursor;   /* 0 = first page; else a next_cursor from the previous page */
} pool_search_query;

typedef struct pool_search_item {
    pool_const_ref ref;
    uint8_t        kind;      /* enum ln_const_kind */
    int32_t        score;     /* higher is better; prefix/substring: by position and length */
    const char    *name;      /* borrowed dotted name, NUL-terminated, valid while e is */
    size_t         name_len;
} pool_search_item;

/*
 * Runs one page of a search. items has room for q->limit entries; *n gets the
 * number filled, *next_cursor the cursor of the next page (0 when there is
 * none). Order: prefix and substring by name; fuzzy by score, then name.
 * Pages are stable: the environment never changes, so a cursor names the same
 * position forever. POOL_EINVAL (bad limit, cursor or mode), -ENOMEM,
 * REGION_ESTALE (the first search found a module file truncated under its
 * mapping: it reads the files under region_guard_run, so install the guard).
 * Any thread; the first search builds the structures (O(constants)).
 */
POOL_WUR int pool_env_search(const pool_env *e, const pool_search_query *q,
                             pool_search_item *items, size_t *n, uint64_t *next_cursor,
                             pool_error *err);

/* ------------------------------------------------------------------------ */
/* What the extension entries say about declarations (pool/declinfo.c).      */

/*
 * Built once per environment, on the first call of pool_env_declinfo_build
 * (a worker's job: it decodes every module's extension entries, O(entries)),
 * then read by any thread without locks. Until then pool_env_declinfo_ready
 * is false and the readers below return POOL_EAGAIN.
 */
enum pool_attr {
    POOL_ATTR_SIMP = 0, POOL_ATTR_INSTANCE, POOL_ATTR_CLASS,
    POOL_ATTR_REDUCIBLE, POOL_ATTR_SEMIREDUCIBLE, POOL_ATTR_IRREDUCIBLE,
    POOL_ATTR_IMPLICIT_REDUCIBLE, POOL_ATTR_INSTANCE_REDUCIBLE,
    POOL_ATTR_INLINE, POOL_ATTR_NOINLINE, POOL_ATTR_MACRO_INLINE, POOL_ATTR_INLINE_IF_REDUCE,
    POOL_ATTR_ALWAYS_INLINE,
    POOL_ATTR_DEPRECATED, POOL_ATTR_PROTECTED, POOL_ATTR_NONCOMPUTABLE, POOL_ATTR_EXTERN,
    POOL_ATTR_IMPLEMENTED_BY,
    POOL_ATTR_COUNT
};
/* "simp" "instance" "class" "reducible" … "implemented_by" (Lean's attribute spelling). */
const char *pool_attr_name(enum pool_attr a);
/* The attribute named s (len bytes). 0, or POOL_EINVAL. */
POOL_WUR int pool_attr_parse(const char *s, size_t len, enum pool_attr *out);

/* Any thread, never blocks: has pool_env_declinfo_build finished for e? */
bool pool_env_declinfo_ready(const pool_env *e);
/*
 * Decodes the extension entries of every module of e (at most once per
 * environment: concurrent callers wait for the first). Reads the mapped files
 * under region_guard_run (REGION_ESTALE if one was truncated). A malformed
 * entry is skipped and counted (pool_env_declinfo_stats), never an error.
 * 0, -ENOMEM, REGION_ESTALE. Worker threads (never the loop: O(entries)).
 */
POOL_WUR int pool_env_declinfo_build(const pool_env *e, pool_error *err);

typedef struct pool_declinfo_stats {
    uint64_t entries;      /* decoded entries of known extensions */
    uint64_t bad_entries;  /* malformed ones, skipped */
    uint64_t bytes;        /* heap bytes of the per-environment maps */
    uint64_t build_ns;
} pool_declinfo_stats;
void pool_env_declinfo_stats(const pool_env *e, pool_declinfo_stats *out); /* zeros before the build */

/* One extension entry: module (pool_env_module order), extension index in its ModuleData.entries, entry index. */
typedef struct pool_entry_ref {
    uint32_t module, ext;
    uint64_t index;
} pool_entry_ref;

/* What the entries say about one constant. A ref with module UINT32_MAX is absent. */
typedef struct pool_decl_info {
    uint32_t       attrs;        /* bit (1u << enum pool_attr) */
    pool_entry_ref doc;          /* docStringExt (or, one level, the inherit_doc target's) */
    pool_entry_ref range;        /* declRangeExt */
    pool_entry_ref instance, simp, deprecated, ext_extern, implemented_by, structure;
    const char    *source;       /* the module's .lean file if found (borrowed), else NULL */
} pool_decl_info;

/*
 * The info of the constant ref (from pool_env_lookup & co.). 0 (absent
 * parts marked as above), POOL_EAGAIN before the build. Any thread; O(1)
 * plus a short chain walk. The entries named are decoded again by the caller
 * (ln_ext_get + ln_ext_entry_get on pool_env_ln_module(e, ref.module)).
 */
POOL_WUR int pool_env_decl_info(const pool_env *e, const pool_const_ref *ref, pool_decl_info *out);

/*
 * The docstring of a constant as stored (borrowed bytes in the mapped file,
 * valid while e is; may contain any UTF-8): 1 and (*text, *len), 0 when it has
 * none, POOL_EAGAIN before pool_env_declinfo_build, REGION_ECORRUPT if its
 * entry does not decode. Any thread. (For decl.find and other callers that
 * want `doc` next to search results.)
 */
POOL_WUR int pool_env_decl_doc(const pool_env *e, const pool_const_ref *ref, const char **text, size_t *len);

struct ln_ext_entry; /* lean/lean.h */
/* Decodes an entry named by a ref (module, ext, index) of e. 0 or a lean/ error. */
POOL_WUR int pool_env_entry(const pool_env *e, const pool_entry_ref *r, struct ln_ext_entry *out,
                            region_error *err);

/*
 * Paged lists (cursor: 0 = first page, else a next_cursor; *next_cursor 0 at
 * the end; limit 1..POOL_SEARCH_MAX_LIMIT). POOL_EAGAIN before the build,
 * POOL_EINVAL for a bad limit or cursor.
 *
 * pool_env_attr_list: every constant with attribute a, in import order.
 * pool_env_instances: the instances of the class named (dotted text), in the
 * order Lean tries them (higher priority first; among equal priorities the
 * one declared later first); refs[i] the instance constant, entries[i] its
 * instance entry. pool_env_module_docs: the module docs of module `module`
 * (SIZE_MAX: of every module, in import order), in source order.
 */
POOL_WUR int pool_env_attr_list(const pool_env *e, enum pool_attr a, uint32_t limit, uint64_t cursor,
                                pool_const_ref *refs, size_t *n, uint64_t *next_cursor);
POOL_WUR int pool_env_instances(const pool_env *e, const char *cls, size_t len, uint32_t limit,
                                uint64_t cursor, pool_const_ref *refs, pool_entry_ref *entries, size_t *n,
                                uint64_t *next_cursor);
POOL_WUR int pool_env_module_docs(const pool_env *e, size_t module, uint32_t limit, uint64_t cursor,
                                  pool_entry_ref *entries, size_t *n, uint64_t *next_cursor);

/*
 * decl.children: one page of what is directly inside namespace ns (dotted
 * text, "" for the root): declarations (is_namespace false, item.ref and
 * item.name the constant) and sub-namespaces (is_namespace true, item.name /
 * item.name_len the namespace, not NUL-terminated at name_len; item.ref
 * unset), merged in name order. Uses the search structures (built on first
 * use, like pool_env_search). Any thread; POOL_EINVAL, -ENOMEM, REGION_ESTALE.
 */
typedef struct pool_child {
    bool             is_namespace;
    pool_search_item item;
} pool_child;
POOL_WUR int pool_env_children(const pool_env *e, const char *ns, size_t len, uint32_t limit, uint64_t cursor,
                               pool_child *items, size_t *n, uint64_t *next_cursor, pool_error *err);
/* Type-pattern search and dependencies (pool/find*.c, pool/deps.c).          */

/*
 * Progress and cancellation of work that builds decl.find's module indexes:
 * the worker stores loaded/total (modules indexed / modules of the
 * environment), another thread may set cancel; the work then stops between
 * modules with POOL_ECANCELLED. Zero-initialise.
 */
typedef struct pool_find_ctl {
    _Atomic uint32_t loaded, total;
    _Atomic bool     cancel;
} pool_find_ctl;

enum pool_find_part { POOL_FIND_TYPES = 0, POOL_FIND_VALUES = 1 };

/*
 * Builds the decl.find index of `part` for every module of e that lacks one
 * (shared with every environment mapping the module; freed with it). ctl may
 * be NULL. 0, POOL_ECANCELLED, -ENOMEM, REGION_ESTALE (a file shrank under
 * its mapping; runs guarded). Any thread.
 */
POOL_WUR int pool_env_find_prepare(const pool_env *e, enum pool_find_part part, pool_find_ctl *ctl,
                                   pool_error *err);

enum { POOL_FIND_MAX_LIMIT = 1000, POOL_FIND_MAX_CANDIDATES = 16 };

typedef struct pool_find_query {
    const char *text;      /* borrowed, len bytes: the query (docs/protocol.md) */
    size_t      len;
    uint32_t    kinds;     /* bit (1u << enum ln_const_kind) per kind wanted; 0 = all */
    bool        internal;  /* also declarations with internal names */
    uint32_t    limit;     /* 1..POOL_FIND_MAX_LIMIT */
    const char *cursor;    /* NULL for the first page, else a next_cursor (NUL-terminated) */
} pool_find_query;

typedef struct pool_find_item {
    pool_const_ref ref;
    uint8_t        kind;      /* enum ln_const_kind (0xff if undecodable) */
    uint32_t       extra;     /* constants in its type besides the query's (the rank) */
    const char    *name;      /* borrowed dotted name, valid while e is */
    size_t         name_len;
} pool_find_item;

/* Why a query failed, for the client (with POOL_EINVAL). Caller storage. */
enum pool_find_fail {
    POOL_FIND_SYNTAX = 1,    /* col, message */
    POOL_FIND_UNKNOWN,       /* name: no such constant; candidates: names ending in it */
    POOL_FIND_AMBIGUOUS,     /* name: several constants it may mean; candidates */
    POOL_FIND_TOO_GENERAL,   /* nothing to narrow the search with */
    POOL_FIND_BAD_CURSOR,
};

typedef struct pool_find_result {
    pool_find_item *items;   /* new (mem_free), n of them */
    size_t          n;
    uint64_t        count;       /* every match (all pages) */
    uint64_t        narrowed;    /* declarations the index and name filters left before patterns */
    uint64_t        over_budget; /* candidates given up on (matching work bound) */
    char            next_cursor[48]; /* "" on the last page */
    char            header[1024];    /* Loogle's summary ("Found N declarations mentioning ...") */
    /* on POOL_EINVAL: */
    int             fail;            /* enum pool_find_fail */
    uint32_t        col;             /* 1-based column of the mistake (0: none) */
    char            message[256];
    char            name[256];
    size_t          ncandidates;
    char            candidates[POOL_FIND_MAX_CANDIDATES][256];
} pool_find_result;

/*
 * decl.find: the declarations of e matching every filter of the query, in
 * order of fewer extra constants, then name; one page of them. Builds the
 * type indexes first (through ctl, which may be NULL). 0 and *res (items
 * new); POOL_EINVAL with res->fail and the details (err->reason a one-line
 * text); POOL_ECANCELLED; -ENOMEM; REGION_ESTALE. Any thread.
 */
POOL_WUR int pool_env_find(const pool_env *e, const pool_find_query *q, pool_find_ctl *ctl,
                           pool_find_result *res, pool_error *err);
void pool_find_result_deinit(pool_find_result *res);

enum pool_dep_in { POOL_DEP_TYPE = 1, POOL_DEP_VALUE = 2, POOL_DEP_BOTH = 3 };

typedef struct pool_dep_query {
    const char *name;       /* borrowed dotted name, len bytes */
    size_t      len;
    unsigned    in;         /* enum pool_dep_in */
    uint32_t    depth;      /* 1 = direct only; more = transitive up to this many steps */
    uint32_t    max;        /* most declarations collected (transitive), 1..POOL_DEP_MAX */
    uint32_t    limit;      /* page size, 1..POOL_FIND_MAX_LIMIT */
    uint64_t    cursor;     /* 0 first page, else a next_cursor */
} pool_dep_query;

enum { POOL_DEP_MAX = 1000000, POOL_DEP_MAX_DEPTH = 1000 };

typedef struct pool_dep_item {
    const char    *name;     /* borrowed from the result's arena, NUL-terminated */
    size_t         name_len;
    bool           found;    /* the environment has it (ref, kind valid) */
    pool_const_ref ref;
    uint8_t        kind;
    uint32_t       depth;    /* steps from the queried declaration (1 = direct) */
} pool_dep_item;

typedef struct pool_dep_result {
    pool_dep_item *items;    /* new (mem_free) */
    size_t         n;
    uint64_t       count;    /* collected in all (all pages) */
    bool           truncated;/* max reached before the walk ended */
    uint64_t       next_cursor; /* 0 on the last page */
    char          *arena;    /* new: names of constants the environment lacks */
} pool_dep_result;

/*
 * decl.uses (used_by false): the constants q->name's type and/or value refer
 * to; decl.used_by (true): the declarations of e whose type and/or value
 * refer to it (from the indexes, built through ctl). Breadth first, by depth
 * then name. 0 and *res; POOL_ENOCONST; POOL_EINVAL (bad limits or cursor);
 * POOL_ECANCELLED; -ENOMEM; REGION_ESTALE. Any thread.
 */
POOL_WUR int pool_env_deps(const pool_env *e, const pool_dep_query *q, bool used_by, pool_find_ctl *ctl,
                           pool_dep_result *res, pool_error *err);
void pool_dep_result_deinit(pool_dep_result *res);

/* ------------------------------------------------------------------------ */
/* The pool (pool/pool.c).                                                   */

typedef struct pool        pool;
typedef struct pool_ticket pool_ticket;  /* one import in flight */
typedef struct pool_waiter pool_waiter;  /* one acquirer waiting for it */

/* How an idle environment is found stale at acquire. */
enum pool_stale_check {
    /* stat(2) every file of the idle environment's closure at its acquire: exact,
       O(modules) syscalls on the loop thread. */
    POOL_STALE_STAT = 0,
    /* only consult what the last pool_scan_files() saw: O(1) per acquire; the
       owner runs pool_scan_files() (any thread) as often as it wants freshness. */
    POOL_STALE_SCAN = 1,
};

/* How module files are checked when mapped (docs/DESIGN.md §2, "Validation modes"). */
enum pool_validation {
    /* headers, root, ModuleData arrays and every constant's Name at load; every
       later read through lean/'s checked accessors (REGION_OPEN_LAZY) */
    POOL_VALIDATE_LAZY = 0,
    /* one linear pass over every object of every file at load (envpoold --validate=eager) */
    POOL_VALIDATE_EAGER = 1,
};

typedef struct pool_config {
    pool_roots *roots;        /* stolen (freed by pool_free, or by pool_new on failure) */
    size_t      capacity;     /* max idle environments kept; 0 = keep none */
    uint64_t    max_bytes;    /* max mapped bytes before idle ones go; 0 = unlimited */
    unsigned    region_flags; /* REGION_OPEN_* added to REGION_OPEN_PARTS */
    enum pool_stale_check stale_check;
    /* Watch the directory of every mapped module with inotify (pool_watch_fd):
       a change is seen by the next acquire, whatever the stale_check mode. */
    bool        watch;
    uint32_t    max_watches;  /* directories watched at most (0: the kernel's limit) */
    enum pool_validation  validation;
    /* Directories where a module A.B's source A/B.lean is looked for first
       (envpoold --source-path), before the Lake layout derivation (DESIGN
       "Extension entries"); stolen like roots; NULL: none. */
    pool_roots *source_roots;
} pool_config;

/* Loop thread. *out is new (pool_free). */
POOL_WUR int pool_new(const pool_config *cfg, pool **out, pool_error *err);
/*
 * Loop thread. Drops every idle environment and frees the pool. Preconditions
 * (asserted): no environment in use, no ticket unfinished. Environments still
 * referenced through pool_env_ref stay valid (they hold their own mappings).
 */
void pool_free(pool *p);

const pool_roots *pool_get_roots(const pool *p);   /* borrowed; any thread */

/*
 * Where dropped environments go. Freeing an environment whose last use ended
 * unmaps its files — thousands of munmap calls for a large closure — which the
 * loop thread should not wait for. With a reaper set, an environment the
 * pool lets go (capacity eviction, drain, staleness, a release past the
 * capacity) is handed to reap(ctx, env), which owns that reference and must
 * pool_env_unref it, on any thread. Evictions for --max-bytes still release
 * on the spot: the budget is checked against the bytes mapped, which only fall
 * once the files are unmapped. NULL (the default): always on the spot.
 * Loop thread.
 */
typedef void (*pool_reap_cb)(void *ctx, pool_env *env);
void pool_set_reaper(pool *p, pool_reap_cb reap, void *ctx);

/* Loop thread. Take effect at once (evicting idle environments as needed). */
void pool_set_capacity(pool *p, size_t capacity);
void pool_set_max_bytes(pool *p, uint64_t max_bytes);

/* acquire flags */
enum { POOL_PARTIAL = 1u << 0 }; /* load what resolves, list what is missing */

/*
 * Called on the loop thread from pool_ticket_finish, once per waiter that was
 * not cancelled. On success env is a new use of the environment (give it back
 * with pool_release) and err is NULL; on failure env is NULL and err (borrowed,
 * valid during the call) says why. The waiter is freed after the call. The
 * callback may call any pool function except pool_ticket_finish of this ticket.
 */
typedef void (*pool_acquire_cb)(void *cookie, pool_env *env, const pool_error *err);

/* pool_acquire_begin results (>= 0) */
enum { POOL_HIT = 0, POOL_STARTED = 1, POOL_WAITING = 2 };

/*
 * Loop thread. Validates the key (imports[0..n), borrowed; n ≥ 1; flags).
 *  POOL_HIT:     *env is a new use (pool_release it); cb is not called.
 *  POOL_STARTED: *ticket is set: run pool_ticket_run(*ticket) on a worker, then
 *                pool_ticket_finish(p, *ticket) on the loop thread. *waiter is
 *                the caller's registration; cb(cookie, ...) runs from finish.
 *  POOL_WAITING: an import of this key is in flight; the caller is registered
 *                (*waiter) and cb runs from that import's finish.
 *  < 0:          invalid key (POOL_EBADNAME, POOL_EINVAL) or -ENOMEM, *err filled;
 *                nothing counted.
 * env and ticket must not be NULL; waiter may be NULL if the caller never
 * cancels. A waiter is valid until its callback returns or it is cancelled.
 */
POOL_WUR int pool_acquire_begin(pool *p, const char *const *imports, size_t n, unsigned flags,
                                pool_acquire_cb cb, void *cookie, pool_env **env,
                                pool_ticket **ticket, pool_waiter **waiter, pool_error *err);

/*
 * Worker thread (or any thread), exactly once per ticket. Builds the
 * environment. Touches only the ticket, the roots and the module cache.
 */
void pool_ticket_run(pool_ticket *t);

/*
 * Loop thread, exactly once per ticket, after pool_ticket_run returned. Installs
 * the environment (success and at least one waiter), calls the waiters'
 * callbacks in registration order, enforces capacity and max_bytes, frees t.
 *
 * Returns NULL, or a new ticket for the same key (run and finish it like one
 * from pool_acquire_begin): the build mapped a file that was marked stale
 * before some waiters registered, so those waiters — whose requests came after
 * the change was seen — wait for a fresh import instead of getting this one
 * (imports_restarted). The environment still goes to the earlier waiters, but
 * no longer stands for the key.
 */
POOL_WUR pool_ticket *pool_ticket_finish(pool *p, pool_ticket *t);

/*
 * Loop thread. Withdraws a waiter: its callback will not be called and w is
 * freed. When the last waiter of a ticket withdraws, the worker stops early
 * (between modules) and the import ends as POOL_ECANCELLED (imports_abandoned).
 * The ticket must still be finished.
 */
void pool_waiter_cancel(pool *p, pool_waiter *w);

/* Any thread: progress of the import a waiter waits for (modules mapped / modules known so far). */
void pool_waiter_progress(const pool_waiter *w, uint32_t *loaded, uint32_t *total);
void pool_ticket_progress(const pool_ticket *t, uint32_t *loaded, uint32_t *total);

/*
 * Loop thread. begin + run + finish on the calling thread. 0 and *env (a new
 * use, pool_release it) or a negative code with *err.
 */
POOL_WUR int pool_acquire(pool *p, const char *const *imports, size_t n, unsigned flags,
                          pool_env **env, pool_error *err);

/*
 * Loop thread. The environment a pool_acquire_begin of the key would hit now
 * (after the same validation, drain and stale check), or NULL; nothing is
 * counted and no use is taken: the result is valid until the next pool call.
 * For answers served in place (the reply cache): pool_count_use then counts
 * the acquire and release that the answer stands for.
 */
pool_env *pool_peek(pool *p, const char *const *imports, size_t n, unsigned flags);
void      pool_count_use(pool *p, pool_env *env);

/*
 * Loop thread. Gives back one use obtained from an acquire. *kept (may be
 * NULL): true if the environment stays resident (idle at the head of the LRU,
 * or still in use by others), false if it was dropped by this release.
 */
void pool_release(pool *p, pool_env *env, bool *kept);

/* Loop thread. Drops every idle environment; returns how many. */
size_t pool_drain(pool *p);

/*
 * Watching (pool_config.watch). pool_watch_fd is the inotify descriptor (-1
 * when not watching): poll it for readability on the loop and call
 * pool_watch_drain, which reads every queued event without blocking and
 * marks the modules they name stale. pool_acquire_begin drains too, before it
 * decides on a hit, so a change that completed before the acquire was asked
 * for is seen by it. Loop thread.
 */
int    pool_watch_fd(const pool *p);
size_t pool_watch_drain(pool *p);

/*
 * A server reads requests in batches: pool_watch_gate(p, true) makes acquires
 * drain only when pool_watch_input was called since the last drain, and the
 * server calls it after every read of request bytes. Every request read
 * before a drain was sent before it, so the guarantee above holds with one
 * read(2) per batch instead of one per request. Loop thread.
 */
void   pool_watch_gate(pool *p, bool on);
void   pool_watch_input(pool *p);
/*
 * True when every mapped module's directory is watched (none fell back to the
 * scan): then an environment an acquire or pool_peek finds had no file
 * changed — nor cut short — before the last drain. Loop thread.
 */
bool   pool_watch_covers_all(const pool *p);
/* errno of the first directory that could not be watched (0: none yet). Loop thread. */
int    pool_watch_first_error(const pool *p);

/*
 * Any thread (touches only the module cache): stats every mapped file and
 * marks the ones whose identity (device, inode, size, mtime) changed or that
 * vanished. *changed (may be NULL) gets how many were newly marked. With
 * POOL_STALE_SCAN this is what makes idle environments stale.
 */
POOL_WUR int pool_scan_files(pool *p, size_t *changed);

/*
 * Any thread: drops this process's page table entries for every mapped module
 * (region_release_pages). The bytes stay in the page cache; later reads fault
 * them back in. Reads of the files may run meanwhile. Every read faults in a
 * 64 KiB window (the kernel's fault-around), so a daemon serving random
 * lookups would otherwise grow its resident set towards the mapped bytes;
 * the daemon calls this every ENVS_RELEASE_MS. Returns the modules released.
 */
size_t pool_release_pages(pool *p);

/*
 * Every pool counter, once: X(name, type, help) with type `counter` (never
 * goes down; Prometheus envpool_pool_<name>_total) or `gauge` (a level now;
 * envpool_pool_<name>). This one list generates pool_stats' fields, the
 * "pool" object of pool.stats (keys in this order), its Prometheus lines
 * (help text as written here) and the POOL rows of `envpool stats`.
 *
 * Adding a counter is one line here, plus the code that bumps it: a counter
 * the pool itself bumps is p->st.<name>++ in pool.c and is copied by
 * pool_stats_get as it is; a gauge or a module cache figure is filled in
 * pool_stats_get. Import time (count, total, max) has its own shape (seconds
 * in Prometheus, an "import_time" object in JSON) and stays outside the list.
 */
#define POOL_STATS_COUNTERS(X)                                                                     \
    X(capacity, gauge, "Idle environments kept at most (--capacity).")                            \
    X(max_bytes, gauge, "Mapped bytes kept at most (--max-bytes; 0 = no bound).")                 \
    X(resident, gauge, "Environments resident (idle + in use).")                                  \
    X(idle, gauge, "Environments idle in the LRU.")                                               \
    X(in_use, gauge, "Environments held by at least one user.")                                   \
    X(imports_performed, counter, "Imports run.")                                                 \
    X(reused, counter, "Acquires served by a resident environment.")                              \
    X(acquired, counter, "Acquires (imports_performed + reused).")                                \
    X(import_failures, counter, "Imports that failed.")                                           \
    X(releases, counter, "Releases (released_to_pool + released_dropped).")                       \
    X(released_to_pool, counter, "Releases that left an idle environment.")                       \
    X(released_dropped, counter, "Releases that dropped the environment.")                        \
    X(evicted_capacity, counter, "Idle environments evicted by --capacity.")                      \
    X(evicted_bytes, counter, "Idle environments evicted by --max-bytes.")                        \
    X(evicted_stale, counter, "Environments dropped because a file changed.")                     \
    X(drains, counter, "Drain operations.")                                                       \
    X(drained, counter, "Idle environments dropped by drains.")                                   \
    X(mapped_bytes, gauge, "Bytes of module files mapped.")                                       \
    X(modules_mapped, gauge, "Module files mapped.")                                              \
    X(module_cache_hits, counter, "Module mappings shared instead of mapped again.")              \
    X(importing, gauge, "Imports running now.")                                                   \
    X(imports_abandoned, counter, "Imports whose every waiter cancelled.")                        \
    X(find_index_builds, counter, "decl.find module indexes built (types or values).")            \
    X(find_index_bytes, gauge, "Heap bytes of decl.find module indexes alive.")                    \
    X(find_index_cancelled, counter, "Index preparations abandoned because the request went.")                        \
    X(stale_in_use, counter, "Environments in use found stale: their key went to a fresh import.") \
    X(stale_held, gauge, "Stale environments still held (not counted in resident).")              \
    X(imports_restarted, counter, "Imports redone for requests that came after a file changed.")   \
    X(stale_marks_event, counter, "Modules marked stale by a file watch event.")                  \
    X(stale_marks_scan, counter, "Modules marked stale by the periodic stat scan.")               \
    X(stale_marks_fault, counter, "Modules marked stale by a fault reading their mapping.")       \
    X(watches, gauge, "Module directories watched with inotify.")                                 \
    X(watch_fallbacks, counter, "Times a module directory could not be watched (left to the scan).") \
    X(watch_events, counter, "File watch events read.")                                           \
    X(watch_overflows, counter, "File watch queue overflows (every watched module marked stale).") \
    X(declinfo_builds, counter, "Declaration info maps built (once per environment, on a worker).") \
    X(declinfo_bytes, gauge, "Heap bytes of the declaration info maps of environments alive.")     \
    X(declinfo_constants, gauge, "Constants covered by those maps (bytes per constant: the ratio).")

typedef struct pool_stats {
#define POOL_STATS_FIELD_(name, type, help) uint64_t name;
    POOL_STATS_COUNTERS(POOL_STATS_FIELD_)
#undef POOL_STATS_FIELD_
    uint64_t import_count, import_ns_total, import_ns_max;  /* successful imports' build time */
} pool_stats;

/* Loop thread. The imports_performed counter alone: no lock (pool_stats_get takes the module cache's). */
uint64_t pool_imports_performed(const pool *p);
/* Loop thread. A consistent snapshot (module cache counters read under its lock). */
void pool_stats_get(const pool *p, pool_stats *out);

/* ------------------------------------------------------------------------ */
/* Synthetic libraries (pool/gen.c): `envpool gen`, tests and benchmarks.    */

typedef struct pool_gen_opts {
    const char *prefix;    /* borrowed: root module name and prefix of every name ("Gen") */
    uint32_t    modules;   /* modules besides the root, >= 1 */
    uint32_t    decls;     /* declarations per module */
    uint32_t    fan_in;    /* imports per module (fewer when fewer modules lie below) */
    uint32_t    depth;     /* layers of the import graph, 1..modules */
    uint32_t    type_size; /* binders in each declaration's type */
    uint64_t    seed;      /* same options and seed, same bytes */
} pool_gen_opts;

typedef struct pool_gen_stats {
    uint64_t modules;   /* files written, the root included */
    uint64_t constants;
    uint64_t bytes;
} pool_gen_stats;

/*
 * Writes a library under dir (created if missing): modules PREFIX.L<layer>.M<i>
 * in `depth` layers, each importing one module of the layer below and up to
 * fan_in - 1 more from any lower layer (seeded choice), with `decls`
 * declarations (def, theorem, axiom, opaque, inductive with its constructor)
 * whose types refer to declarations of imported modules; and the root module
 * PREFIX importing every module no other module imports, so that the closure
 * of [PREFIX] is the whole library. Files are Lean 4.18-shaped v2 .olean files
 * written by the compactor (region_save). st may be NULL. Caller's thread.
 */
POOL_WUR int pool_gen_write(const char *dir, const pool_gen_opts *o, pool_gen_stats *st,
                            pool_error *err);

/*
 * Writes one module, DIR/A/B/C.olean for name A.B.C, importing imports[0..n)
 * and declaring consts[0..m) (borrowed dotted names; kinds by position: def,
 * theorem, axiom, opaque, inductive, and at positions 6k+5 the constructor of
 * the inductive before). For tests that need a precise import graph.
 */
POOL_WUR int pool_gen_module(const char *dir, const char *name, const char *const *imports,
                             size_t n, const char *const *consts, size_t m, pool_error *err);

#endif
