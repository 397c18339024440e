/*
 * tests/support/packtest.c — in-memory packing for tests (see packtest.h).
 */
#include "tests/support/packtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "region/compactor.h"
#include "tests/support/samples.h"
#include "region/heap.h"
#include "util/mem.h"

#ifndef EXAMPLES_DIR
#define EXAMPLES_DIR "examples"
#endif

const char *const packtest_examples[PACKTEST_NEXAMPLES] = {
    "Demo.Logic", "Demo.Bool", "Demo.Nat", "Demo.List", "Demo.Option", "Demo.Prod", "Demo.Algebra", "Demo.Main",
};

uint8_t *packtest_example_text(const char *module, char *path, size_t size, size_t *len)
{
    snprintf(path, size, "%s/%s.txt", EXAMPLES_DIR, module);
    return read_file(path, len);
}

uint8_t *packtest_image(ln_pack *pk, const char *path, const char *text, size_t len, const char *module,
                        size_t *out_len, uint64_t *nconsts)
{
    lx_word root;
    region_error err;
    char msg[1024];
    if (ln_pack_build(pk, path, text, len, &root, nconsts, &err) != 0) {
        fprintf(stderr, "packtest: %s\n", err.reason);
        abort();
    }
    region_save_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.lean_version, sizeof o.lean_version, "%s", LN_PACK_LEAN_VERSION);
    snprintf(o.githash, sizeof o.githash, "%s", LN_PACK_GITHASH);
    region_saved *s;
    const uint8_t *data;
    if (region_compact(module, root, NULL, 0, NULL, &o, &s, &data, out_len, NULL, &err) != 0) {
        fprintf(stderr, "packtest: %s\n", region_error_format(&err, msg, sizeof msg));
        abort();
    }
    uint8_t *copy = mem_alloc(*out_len);
    memcpy(copy, data, *out_len);
    region_saved_free(s);
    lx_unref(root);
    return copy;
}

region *packtest_open(const uint8_t *img, size_t len, const char *path)
{
    region *r;
    region_error err;
    char msg[1024];
    const uint8_t *bufs[1] = {img};
    if (region_open_buffers(bufs, &len, 1, path, &r, &err) != 0) {
        fprintf(stderr, "packtest: %s\n", region_error_format(&err, msg, sizeof msg));
        abort();
    }
    return r;
}
