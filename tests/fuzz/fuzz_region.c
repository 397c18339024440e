/*
 * tests/fuzz/fuzz_region.c — libFuzzer target for the region reader (and,
 * through region_touch_all and region_decode_all, every read a validated region
 * allows and everything lean/ decodes and prints).
 *
 * Seeds: `make fuzz` adds ../shared/lean-samples as a read-only corpus
 * directory, so the fuzzer starts from every real file; tests/fuzz/corpus/region
 * holds small hand-made seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
        region_touch_all(r);
        region_decode_all(r);
        region_close(r);
    } else if (!err.reason[0]) {
        abort(); /* every refusal says why */
    }
    if (mem_live_total() != 0)
        abort(); /* nothing may leak, accepted or not */
    return 0;
}
