/*
 * cli/dump_internal.h — what cli/dump.c and cli/dump_ext.c share: the
 * extension-entry part of `envpool dump` (text and --json).
 */
#ifndef ENVPOOL_CLI_DUMP_INTERNAL_H
#define ENVPOOL_CLI_DUMP_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "lean/lean.h"

/*
 * A malformed entry of a known extension: one stderr line (path, offset,
 * reason, extension and entry index) and *bad counted. The rest is still
 * printed; dump's exit status becomes 1.
 */
void dump__entry_error(const char *path, const ln_module *m, const ln_ext *x, uint64_t j,
                       const region_error *err, size_t *bad);
/* Adds "extensions" to root. 0, -ENOMEM, or a decoding error of the entries array itself. */
int dump__ext_json(json_t *root, const char *path, const ln_module *m, ln_buf *scratch, size_t *bad,
                   region_error *err);
/* Appends the "extensions (N, K with entries):" section of the text view. */
int dump__ext_text(ln_buf *b, const char *path, const ln_module *m, size_t *bad, region_error *err);

#endif
