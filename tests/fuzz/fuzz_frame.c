/*
 * tests/fuzz/fuzz_frame.c — libFuzzer target for protocol/frame.c.
 *
 * Input: byte 0 picks max_frame (16..4111), byte 1 seeds the chunk sizes, the
 * rest is the stream. The stream is fed twice — in one piece and in small
 * chunks — and both runs must yield the same frames and the same final status
 * (framing cannot depend on where reads end). Every frame respects the limit;
 * errors are sticky; nothing leaks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"
#include "util/mem.h"

#define MAX_FRAMES 4096

typedef struct result {
    size_t   nframes;
    uint64_t hash;    /* FNV-1a over every frame, with separators */
    int      status;  /* final frame_next status (0 or error) */
    enum frame_mode mode;
} result;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void drain(frame_reader *fr, result *r, size_t max_frame)
{
    for (;;) {
        const uint8_t *f;
        size_t len;
        int rc = frame_next(fr, &f, &len);
        if (rc <= 0) {
            r->status = rc;
            if (rc < 0 && frame_next(fr, &f, &len) != rc)
                abort(); /* errors are sticky */
            return;
        }
        if (len > max_frame)
            abort();
        r->nframes++;
        r->hash = fnv(r->hash, f, len);
        r->hash = fnv(r->hash, (const uint8_t *)"|", 1);
    }
}

static void run(const uint8_t *data, size_t size, size_t max_frame, unsigned seed, bool chunked, result *r)
{
    frame_reader fr;
    frame_init(&fr, max_frame);
    memset(r, 0, sizeof *r);
    r->hash = 14695981039346656037ull;
    size_t pos = 0;
    while (pos < size && r->status == 0) {
        size_t want = size - pos;
        if (chunked) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 64;
            if (c < want)
                want = c;
        }
        size_t taken;
        int rc = frame_feed(&fr, data + pos, want, &taken);
        if (rc < 0 && rc != -ENOSPC)
            abort();
        pos += taken;
        drain(&fr, r, max_frame);
        if (taken == 0 && r->status == 0)
            abort(); /* a full buffer must have produced an error */
    }
    r->mode = fr.mode;
    frame_deinit(&fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_frame = 16 + (size_t)data[0] * 16;
    unsigned seed = data[1];
    data += 2;
    size -= 2;
    result whole, pieces;
    run(data, size, max_frame, seed, false, &whole);
    run(data, size, max_frame, seed, true, &pieces);
    if (getenv("FUZZ_FRAME_DEBUG"))
        fprintf(stderr, "whole %d frames %zu mode %d; pieces %d frames %zu mode %d\n", whole.status, whole.nframes,
                whole.mode, pieces.status, pieces.nframes, pieces.mode);
    if (whole.status != pieces.status)
        abort();
    /* Until an error both runs saw the same frames; after one, frames before it must agree. */
    if (whole.status == 0 && (whole.nframes != pieces.nframes || whole.hash != pieces.hash))
        abort();
    if (mem_live_total() != 0)
        abort();
    return 0;
}
