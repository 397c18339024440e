/*
 * tests/support/samples.h — the real .olean files of ../shared/lean-samples for tests.
 *
 * The directory comes from $ENVPOOL_SAMPLES (set by the Makefile), else
 * ../shared/lean-samples. Files are read in place, never copied into the repo.
 */
#ifndef ENVPOOL_TESTS_SAMPLES_H
#define ENVPOOL_TESTS_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "lean/lean.h"
#include "region/region.h"

/* The samples directory (borrowed, static). */
const char *samples_dir(void);

/*
 * All *.olean files under the samples directory, sorted by path. Returns the
 * count; *paths is new (free with samples_free). When there are none, the
 * running test is skipped ("samples absent at DIR", test_skip), or fails
 * under ENVPOOL_REQUIRE_SAMPLES=1 (CI): never a vacuous pass. Call it before
 * allocating anything the skip would leave behind.
 */
size_t samples_list(char ***paths);
void   samples_free(char **paths, size_t n);

/* Full path of a sample given its path relative to the samples dir (new).
 * A test needing one particular sample names it here: when that file is
 * absent the test is skipped saying which ("sample REL absent under DIR"),
 * or fails under ENVPOOL_REQUIRE_SAMPLES=1. */
char  *sample_path(const char *rel);

/* Opens sample path (not at its base address) and its ModuleData into *m:
 * the region, NEW (region_close). Aborts on error. */
region *sample_module(const char *path, ln_module *m);

/* Reads a whole file into a new buffer (mem_free it); aborts on error. */
uint8_t *read_file(const char *path, size_t *len);

#endif
