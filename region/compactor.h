/*
 * region/compactor.h — writing compacted regions (.olean files) from objects.
 *
 * region_save is Lean's object_compactor plus saveModuleDataParts
 * (src/runtime/compact.cpp, src/library/module.cpp): it lays out every object
 * reachable from a root in the order Lean's compactor does, so that saving a
 * decoded file gives back the same bytes, and writes the file atomically.
 *
 * Objects given to it are heap objects (region/heap.h, real pointers in their
 * slots) and, optionally, objects of already-open regions named in deps: those
 * are referenced by their address in that region's file, not copied. A
 * region object that lies in no deps region is refused, as are closures and
 * external objects.
 *
 * A save returns a session handle; passing it as prev to a later save chains
 * the two like the parts of a multi-part module: the later file starts at the
 * next 64 KiB boundary of the same address space and points at objects the
 * earlier one emitted instead of copying them. The session keeps a reference
 * to every heap object it emitted (so their addresses stay theirs) until
 * region_saved_free.
 *
 * Thread: a session belongs to one thread at a time; objects must not be
 * modified by anyone during a save.
 */
#ifndef ENVPOOL_REGION_COMPACTOR_H
#define ENVPOOL_REGION_COMPACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/hash.h" /* region_name_hash: the key -> base rule below */
#include "region/object.h"
#include "region/region.h"

/* Order in which a constructor's (or array's) children are laid out. */
enum region_child_order {
    /* Children in field order, each before the next (Lean since ~2022-09: the
     * compactor scans fields last to first and pushes the unseen ones, so the
     * first field is on top of its stack). */
    REGION_ORDER_FIELD = 0,
    /* Children in reverse field order (the older compactor scanned first to
     * last, so the last field was emitted first). */
    REGION_ORDER_REVERSE = 1,
};

/* Header and layout choices. A zeroed struct means: v2, flags 1 (GMP), empty
 * version strings, base from the key, Lean's current order and sharing. */
typedef struct region_save_opts {
    enum region_format      format;        /* header version (v0/v1 only to re-save such files) */
    bool                    format_set;    /* use format as given (else v2) */
    uint8_t                 flags;         /* v2 flags byte; 0 in a zeroed struct means 1 */
    bool                    flags_set;     /* use flags as given even when 0 */
    char                    lean_version[34]; /* v2: written NUL padded to 33 bytes */
    char                    githash[43];   /* v1: 42 bytes, v2: 40 bytes, NUL padded */
    bool                    has_base;      /* use base rather than the key's */
    uint64_t                base;
    enum region_child_order order;
    bool                    no_max_sharing; /* do not merge byte-identical objects (pre-2022 compactors) */
} region_save_opts;

/* Options that reproduce a read file's header: format, flags, Lean version, githash, base. */
void region_save_opts_from_info(region_save_opts *opts, const region_info *info);

typedef struct region_saved region_saved;

/* What a save did (for measurements and tests). */
typedef struct region_save_stats {
    uint64_t objects;     /* objects emitted by this save */
    uint64_t merged;      /* distinct heap objects merged into an identical earlier one */
    uint64_t dep_refs;    /* pointer slots that refer into a deps region */
    uint64_t bytes;       /* bytes of the file written */
    uint64_t file_offset; /* where this part starts in the session's address space */
} region_save_stats;

/*
 * Lean's base address for a module named key ("A.B.C", split at '.'):
 * Name.hash mod 0x7f0000000000, rounded down to 64 KiB.
 */
uint64_t region_module_base(const char *key);

/*
 * Saves the graph under root (BORROWED) to path.
 *   key   module name, for the base address (ignored when prev is given or
 *         opts->has_base); may be NULL then.
 *   deps  ndeps open regions (BORROWED) whose objects are referenced in place.
 *   prev  STOLEN: the session of an earlier save to continue, or NULL.
 *   opts  BORROWED, NULL for defaults.
 *   out   NEW session handle (release with region_saved_free), or NULL if the
 *         caller does not chain; on failure *out is NULL and prev is released.
 *   stats optional.
 * Writes a temporary file in path's directory, fsyncs it, renames it over
 * path and fsyncs the directory; on failure nothing is left behind.
 * Returns 0, -errno (I/O, -ENOMEM), or REGION_EUNSUPPORTED for an object that
 * cannot be compacted (closure, external, region object outside deps), with
 * err (optional) naming the object or the failing step.
 */
__attribute__((warn_unused_result))
int region_save(const char *path, const char *key, lx_word root,
                const region *const *deps, size_t ndeps, region_saved *prev,
                const region_save_opts *opts, region_saved **out,
                region_save_stats *stats, region_error *err);

/*
 * The same without writing: lays out root after prev's bytes and returns the
 * new part's bytes in *data and *len (BORROWED from the session, valid until its
 * next use). The session is returned in *out (NEW; prev STOLEN) and must be
 * freed by the caller even on success.
 */
__attribute__((warn_unused_result))
int region_compact(const char *key, lx_word root, const region *const *deps, size_t ndeps,
                   region_saved *prev, const region_save_opts *opts,
                   region_saved **out, const uint8_t **data, size_t *len,
                   region_save_stats *stats, region_error *err);

/* Writes len bytes to path atomically (temp file, fsync, rename, fsync dir). */
__attribute__((warn_unused_result))
int region_write_file_atomic(const char *path, const uint8_t *data, size_t len, region_error *err);

void region_saved_free(region_saved *s); /* s may be NULL */

#endif
