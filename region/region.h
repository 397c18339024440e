/*
 * region/region.h — compacted region files (Lean 4 .olean): open, validate, read.
 *
 * A region is one module file, plus its multi-part companions (.olean.server,
 * .olean.private) when asked for, mapped read-only. region_open maps the file
 * at the base address its header names when it can (MAP_FIXED_NOREPLACE), so
 * pointers are usable as they stand; otherwise anywhere, and lx_space.delta
 * translates.
 *
 * Two ways to trust the bytes (docs/DESIGN.md §2, "Validation modes"):
 *  - eager (default): before the caller sees anything, one linear pass
 *    validates every object (see reader.c); a file that fails is unmapped and
 *    reported with its path, byte offset and reason. After a successful open,
 *    every pointer word reachable from the root designates the start of a
 *    validated object at a lower address.
 *  - lazy (REGION_OPEN_LAZY): the open checks the headers and the root
 *    object only; every later read must go through region_object, which
 *    checks the one object it hands out (inside a part, aligned, rc 0, a tag
 *    a region may hold, its extent inside the part, strings terminated, big
 *    numbers' digits in bounds, and each pointer field of a constructor or
 *    thunk/task/ref below the object itself). Array elements are not checked
 *    by region_object (that would make every element read O(n)): a reader
 *    takes element i with region_below(elem, array) (lean/ does).
 * Readers (lean/) go through region_object in both modes, so one code path
 * serves both; they must still check tags and shapes, which lean/ does.
 *
 * Thread safety: an open region is immutable; any number of threads may read it.
 * region_open/region_close may run on any thread.
 */
#ifndef ENVPOOL_REGION_REGION_H
#define ENVPOOL_REGION_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/object.h"
#include "util/error.h"

/* Error codes: negative errno values, or REGION_ECORRUPT (the bytes break a
 * rule of the format), REGION_EUNSUPPORTED (well-formed, a format we do not
 * read: v3, big-endian...), REGION_ESTALE (the file changed while we looked
 * at it): util/error.h, the registry of every layer's codes. */

enum region_format { REGION_V0 = 0, REGION_V1 = 1, REGION_V2 = 2 };
/* "v0" "v1" "v2" ("?" for anything else): the one spelling of a format. */
const char *region_format_name(enum region_format f);

/* Where and why a file was refused. */
typedef struct region_error {
    int      code;         /* REGION_E* or -errno; 0 if none */
    uint64_t offset;       /* byte offset in the file named by path (UINT64_MAX: none) */
    char     path[512];    /* the file (the part, for multi-part modules) */
    char     reason[256];  /* what was wrong, e.g. "object tag 245 (closure) is not allowed" */
} region_error;

/* Formats "PATH: offset N: REASON" (or "PATH: REASON") into buf; returns buf. */
const char *region_error_format(const region_error *err, char *buf, size_t size);

typedef struct region region;

typedef struct region_info {
    enum region_format format;
    uint8_t  flags;            /* v2 flags byte; 0 otherwise */
    char     lean_version[34]; /* v2 only, NUL-terminated ("" otherwise) */
    char     githash[43];      /* v1/v2, NUL-terminated ("" for v0) */
    uint64_t base;             /* base address of part 0 */
    uint64_t size;             /* bytes of all parts */
    uint64_t objects;          /* objects in all parts */
    unsigned header_size;      /* 24, 56 or 88 (excluding the root slot) */
    unsigned nparts;           /* 1 + number of companion parts */
    bool     mapped_at_base;   /* pointers usable as they stand (delta 0) */
    bool     validated;        /* every object checked at open (eager); objects is 0 otherwise */
} region_info;

/* region_open flags */
enum {
    REGION_OPEN_PARTS    = 1u << 0, /* also map PATH.server and PATH.private if present */
    REGION_OPEN_NO_FIXED = 1u << 1, /* never map at the header's base address */
    REGION_OPEN_WILLNEED = 1u << 2, /* madvise(MADV_WILLNEED) before validating */
    REGION_OPEN_LAZY     = 1u << 3, /* check headers and root only; objects as read (region_object) */
};

/*
 * Opens, maps and validates PATH. On success *out is new (release with
 * region_close) and 0 is returned. On failure returns REGION_E* or -errno,
 * fills *err (if not NULL) and maps nothing. The validation pass runs under
 * region_guard_run: with the guard installed, a file truncated in place while
 * it is validated gives REGION_ESTALE instead of SIGBUS. Any thread.
 */
__attribute__((warn_unused_result))
int region_open(const char *path, unsigned flags, region **out, region_error *err);

/*
 * Validates a file image held in memory (BORROWED: buf must outlive the region
 * and stay unchanged). name is used in errors. Used by tests and fuzzers and by
 * anyone who read a file rather than mapping it. Parts: bufs[0..n) in order.
 */
__attribute__((warn_unused_result))
int region_open_buffers(const uint8_t *const *bufs, const size_t *lens, size_t n,
                        const char *name, region **out, region_error *err);

/* region_open_buffers with REGION_OPEN_* flags (only REGION_OPEN_LAZY has a meaning here). */
__attribute__((warn_unused_result))
int region_open_buffers_flags(const uint8_t *const *bufs, const size_t *lens, size_t n,
                              const char *name, unsigned flags, region **out, region_error *err);

void region_close(region *r);                 /* r may be NULL */

const region_info *region_get_info(const region *r);
const char *region_path(const region *r);     /* path of part 0 (or the name given) */
lx_space    region_space(const region *r);
lx_word     region_root(const region *r);     /* the root object (ModuleData) */

/*
 * The checked accessor: w must designate an object of r that passes the local
 * checks listed at the top of this file. On success *o is its readable
 * address and 0 is returned; otherwise REGION_ECORRUPT with err (if not NULL)
 * naming the part, the offset and what was wrong. Valid for eager and lazy
 * regions alike (an eagerly validated object always passes). Reads mapped
 * bytes: call under region_guard_run where the file may shrink.
 */
__attribute__((warn_unused_result))
int region_object(const region *r, lx_word w, const uint8_t **o, region_error *err);

/*
 * The local rule for a pointer read out of an object at parent: a scalar, or
 * an address below the parent's. Every walk that keeps to it ends, since
 * addresses fall strictly at each step.
 */
static inline bool region_below(lx_word w, lx_word parent) { return lx_is_scalar(w) || w < parent; }

/* Is addr (a readable address) inside this region's mapped bytes? */
bool     region_contains(const region *r, const void *addr);
/* Readable address back to the word the file uses for it (addr must be contained). */
lx_word  region_word_of(const region *r, const void *addr);
/*
 * Readable address of the last byte of the last part. A file truncated in
 * place loses its tail first, so reading this byte under region_guard_run
 * (guard.h) tells whether the mapping is still whole.
 */
const uint8_t *region_last_byte(const region *r);
/*
 * Drops this process's page table entries for the region's mapped pages
 * (madvise MADV_DONTNEED: a read-only file mapping loses nothing, the bytes
 * stay in the page cache and the next read faults them back in). The pool
 * calls it once a module is decoded and indexed, so the daemon's resident
 * set holds what requests read, not everything the load touched. No-op for
 * regions over buffers.
 */
void region_release_pages(const region *r);

/* File offset of an object word within part 0's numbering (for error messages). */
uint64_t region_offset_of(const region *r, lx_word w);

/* Header parsing alone (no mapping): fills info from the first bytes of a file. */
__attribute__((warn_unused_result))
int region_parse_header(const uint8_t *buf, size_t len, region_info *info, region_error *err);

#endif
