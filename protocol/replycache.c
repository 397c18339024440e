/*
 * protocol/replycache.c — rendered decl.get results, keyed by environment and
 * declaration name.
 *
 * An environment never changes once built, so the `result` JSON of
 * decl.get (without a value) for a name in it never changes either. Caching
 * the rendered text turns a repeated lookup into one hash, one memcmp and a
 * copy: no name-index probe, no decoding, no printing, no JSON building. Keys
 * carry pool_env_serial, which no later environment reuses, so entries of a
 * dropped environment are never served; they age out in insertion order
 * (FIFO) when the byte budget is reached. Each entry keeps the address of
 * the last mapped byte of the module that answered: the caller reads it
 * under the SIGBUS guard before serving a hit, so a file truncated in place
 * gives the same -32007 as an uncached read instead of old data.
 *
 * Loop thread only: no locks. Memory is bounded by max_bytes (entry headers
 * included) plus the bucket array, sized once from max_bytes.
 */
#include "protocol/protocol_internal.h"

#include <string.h>

#include "region/hash.h"
#include "util/mem.h"

typedef struct rc_entry rc_entry;
struct rc_entry {
    rc_entry *chain;      /* next in the bucket */
    rc_entry *younger;    /* next in insertion order */
    uint64_t  hash, serial;
    const uint8_t *probe;  /* last byte of the answering module's mapping */
    uint32_t  name_len, text_len;
    char      data[];     /* name, then text (not NUL-terminated) */
};

struct replycache {
    rc_entry     **buckets;
    size_t         mask;
    rc_entry      *oldest, *youngest;
    stats_cache   *st;    /* borrowed: the server's counters */
};

enum { RC_EXPECTED_ENTRY = 512, RC_MIN_BUCKETS = 1024 };

replycache *replycache_new(uint64_t max_bytes, stats_cache *st)
{
    replycache *c = mem_calloc(1, sizeof *c);
    c->st = st;
    st->max_bytes = max_bytes;
    if (max_bytes == 0)
        return c;
    size_t n = RC_MIN_BUCKETS;
    while (n < max_bytes / RC_EXPECTED_ENTRY && n < ((size_t)1 << 26))
        n <<= 1;
    c->buckets = mem_calloc(n, sizeof *c->buckets);
    c->mask = n - 1;
    return c;
}

static uint64_t key_hash(uint64_t serial, const char *name, size_t len)
{
    return region_hash_mix(region_murmur64a(name, len, 0x5eed), serial);
}

static size_t entry_bytes(const rc_entry *e)
{
    return sizeof *e + e->name_len + e->text_len;
}

static void evict_oldest(replycache *c)
{
    rc_entry *e = c->oldest;
    rc_entry **pp = &c->buckets[e->hash & c->mask];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    c->oldest = e->younger;
    if (!c->oldest)
        c->youngest = NULL;
    c->st->bytes -= entry_bytes(e);
    c->st->entries--;
    c->st->evictions++;
    mem_free(e);
}

void replycache_free(replycache *c)
{
    if (!c)
        return;
    /* c->st is not touched: at shutdown the server that owns the counters
     * may already be gone. */
    while (c->oldest) {
        rc_entry *e = c->oldest;
        c->oldest = e->younger;
        mem_free(e);
    }
    mem_free(c->buckets);
    mem_free(c);
}

bool replycache_get(replycache *c, uint64_t serial, const char *name, size_t len,
                    const char **text, size_t *text_len, const uint8_t **probe)
{
    if (!c->buckets)
        return false;
    uint64_t h = key_hash(serial, name, len);
    for (rc_entry *e = c->buckets[h & c->mask]; e; e = e->chain) {
        if (e->hash == h && e->serial == serial && e->name_len == len &&
            memcmp(e->data, name, len) == 0) {
            *text = e->data + e->name_len;
            *text_len = e->text_len;
            *probe = e->probe;
            c->st->hits++;
            return true;
        }
    }
    c->st->misses++;
    return false;
}

void replycache_put(replycache *c, uint64_t serial, const char *name, size_t len,
                    const char *text, size_t text_len, const uint8_t *probe)
{
    if (!c->buckets || len > UINT32_MAX || text_len > UINT32_MAX)
        return;
    size_t need = sizeof(rc_entry) + len + text_len;
    if (need > c->st->max_bytes / 8)
        return; /* one entry never takes more than an eighth of the budget */
    while (c->oldest && c->st->bytes + need > c->st->max_bytes)
        evict_oldest(c);
    rc_entry *e = mem_try_alloc(need);
    if (!e)
        return; /* a cache: failing to remember is fine */
    e->hash = key_hash(serial, name, len);
    e->serial = serial;
    e->probe = probe;
    e->name_len = (uint32_t)len;
    e->text_len = (uint32_t)text_len;
    memcpy(e->data, name, len);
    memcpy(e->data + len, text, text_len);
    e->chain = c->buckets[e->hash & c->mask];
    c->buckets[e->hash & c->mask] = e;
    e->younger = NULL;
    if (c->youngest)
        c->youngest->younger = e;
    else
        c->oldest = e;
    c->youngest = e;
    c->st->bytes += need;
    c->st->entries++;
}
