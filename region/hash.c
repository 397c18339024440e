/*
 * region/hash.c — MurmurHash64A, Lean's mixHash and Name.hash (see hash.h).
 * The bytes are read little-endian 8 at a time, as Lean reads them on the
 * x86-64 and aarch64 machines that write .olean files.
 */
#include "region/hash.h"

#include <string.h>

#include "region/object.h"

static const uint64_t MUL = 0xc6a4a7935bd1e995ull;

uint64_t region_murmur64a(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ ((uint64_t)len * MUL);
    size_t nblocks = len / 8;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k = lx_rd64(p + 8 * i);
        k *= MUL;
        k ^= k >> 47;
        k *= MUL;
        h ^= k;
        h *= MUL;
    }
    const uint8_t *tail = p + 8 * nblocks;
    size_t rest = len & 7;
    if (rest) {
        for (size_t i = rest; i-- > 0;)
            h ^= (uint64_t)tail[i] << (8 * i);
        h *= MUL;
    }
    h ^= h >> 47;
    h *= MUL;
    h ^= h >> 47;
    return h;
}

uint64_t region_hash_mix(uint64_t h, uint64_t k)
{
    k *= MUL;
    k ^= k >> 47;
    k ^= MUL; /* sic: Lean's hash64 mixes with ^=, not *= (lean-olean-format.md §4.1) */
    h ^= k;
    h *= MUL;
    return h;
}

uint64_t region_name_hash_str(uint64_t prefix_hash, const char *s, size_t len)
{
    return region_hash_mix(prefix_hash, region_murmur64a(s, len, 11));
}

uint64_t region_name_hash_num(uint64_t prefix_hash, uint64_t n)
{
    return region_hash_mix(prefix_hash, n);
}

uint64_t region_name_hash(const char *key)
{
    uint64_t h = REGION_NAME_ANON_HASH;
    const char *p = key;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        h = region_name_hash_str(h, p, n);
        if (!dot)
            break;
        p = dot + 1;
    }
    return h;
}
