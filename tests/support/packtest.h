/*
 * tests/support/packtest.h — packing text modules in memory for tests: the
 * .olean image pack + region_compact would write, and that image opened as a
 * region. Helpers abort the run on failure (with the pack error), so a test
 * cannot pass on a module that was not built.
 */
#ifndef ENVPOOL_TESTS_PACKTEST_H
#define ENVPOOL_TESTS_PACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "lean/pack.h"
#include "region/region.h"

/*
 * Packs text (len bytes, BORROWED) as module `module` with session pk: the
 * file image, NEW (mem_free). *nconsts: its number of constants.
 */
uint8_t *packtest_image(ln_pack *pk, const char *path, const char *text, size_t len, const char *module,
                        size_t *out_len, uint64_t *nconsts);

/* The example library's modules (examples/NAME.txt), imports first. */
extern const char *const packtest_examples[];
enum { PACKTEST_NEXAMPLES = 8 };
/*
 * Reads the text of example module `module`: NEW (mem_free), *len bytes;
 * its path is written to path (size bytes). Aborts if it cannot be read.
 */
uint8_t *packtest_example_text(const char *module, char *path, size_t size, size_t *len);

/* Opens an image (BORROWED; must outlive the region) as a region named path. NEW. */
region *packtest_open(const uint8_t *img, size_t len, const char *path);

#endif
