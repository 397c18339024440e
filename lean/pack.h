/*
 * lean/pack.h — the text module format (docs/module-format.md) turned into a
 * Lean ModuleData object on the heap, ready for region_save.
 *
 * A pack session (ln_pack) knows which constant names exist: those of the
 * modules it built and those registered from imported .olean files. A module
 * is built in two steps: ln_pack_scan reads only its header (name, imports)
 * so that the caller can order the modules; ln_pack_build reads the whole
 * text, resolves every name in every type and value against the module and
 * the known constants, derives constructor and recursor constants for each
 * inductive type, and returns the ModuleData.
 *
 * Errors are reported as "FILE:LINE:COLUMN: message" in err->reason (path in
 * err->path, byte offset in err->offset); the code is LN_EINVAL (-1102).
 *
 * Thread: a session belongs to one thread.
 */
#ifndef ENVPOOL_LEAN_PACK_H
#define ENVPOOL_LEAN_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "lean/lean.h"
#include "region/object.h"
#include "region/region.h"

typedef struct ln_pack ln_pack;

/* The Lean version and githash written into packed files' headers. */
#define LN_PACK_LEAN_VERSION "4.29.1"
#define LN_PACK_GITHASH      "envpool-pack"

ln_pack *ln_pack_new(void);          /* NEW; aborts on exhaustion */
void     ln_pack_free(ln_pack *pk);  /* pk may be NULL */

/* Registers a constant name by its Name hash (e.g. from an imported file). */
int      ln_pack_know(ln_pack *pk, uint64_t name_hash);
/* Registers every constant of an open region (an imported module). */
int      ln_pack_know_region(ln_pack *pk, const region *r, region_error *err);

typedef struct ln_pack_header {
    char   *module;    /* NEW (mem_free): "A.B.C" */
    char  **imports;   /* NEW array of NEW strings */
    size_t  nimports;
} ln_pack_header;

/* Reads the module line and the imports of text (BORROWED). */
int  ln_pack_scan(const char *path, const char *text, size_t len, ln_pack_header *out, region_error *err);
void ln_pack_header_free(ln_pack_header *h);

/*
 * Builds the module: *root is a NEW heap ModuleData (4.27+ layout: five
 * arrays and isModule), *nconsts the number of constants. The module's
 * constants become known to pk.
 */
int ln_pack_build(ln_pack *pk, const char *path, const char *text, size_t len,
                  lx_word *root, uint64_t *nconsts, region_error *err);

/*
 * The inverse (lean/unpack.c): appends the decoded module m (BORROWED) to
 * out as a text module named `name`: the header, then each declaration pack
 * understands, with values, inductive types with their constructors, doc
 * comments; what pack derives is left out, what the format cannot say is
 * named in "-- envpool:" comment lines. Packing the text of a module that
 * pack wrote gives the same bytes. Each type or value may take at most
 * max_expr_bytes of text (0: LN_BUF_DEFAULT_LIMIT); a larger one fails the
 * whole module with LN_ETOOBIG rather than cutting it. 0, REGION_ECORRUPT,
 * LN_ETOOBIG or -ENOMEM. Thread: any (reads m only).
 */
LN_WUR int ln_unpack(const ln_module *m, const char *name, size_t max_expr_bytes, ln_buf *out,
                     region_error *err);

#endif
