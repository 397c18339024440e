/*
 * tests/fuzz/fuzz_entries.c — libFuzzer target for extension-entry decoding
 * (lean/ext.c): the input is a region image; when it validates, every entry
 * of every extension lean/ knows is decoded with its names, strings,
 * structure fields and parents (region_decode_entries), and every refusal
 * must say what and where.
 *
 * Seeds: tests/fuzz/corpus/entries holds a small hand-built module with one
 * extension of each decoded kind; `make fuzz` adds ../shared/lean-samples.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lean/lean.h"
#include "region/region.h"
#include "tests/support/damage.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    region *r;
    region_error err;
    const uint8_t *bufs[1] = {data};
    if (region_open_buffers(bufs, &size, 1, "fuzz.olean", &r, &err) == 0) {
        ln_module m;
        if (ln_module_open(r, &m, &err) == 0)
            (void)region_decode_entries(&m, &err);
        else if (!err.reason[0])
            abort();
        region_close(r);
    } else if (!err.reason[0]) {
        abort(); /* every refusal says why */
    }
    if (mem_live_total() != 0)
        abort(); /* nothing may leak, accepted or not */
    return 0;
}
