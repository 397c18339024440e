/*
 * util/u64map.h — the one open-addressing map of envpool: uint64_t keys to
 * uint64_t values.
 *
 * Linear probing in a power-of-two table kept at most half full, Fibonacci
 * hashing (the key times 2^64/phi, top bits), deletion by backward shift (no
 * tombstones: a table that sees many deletions stays as fast as a fresh one).
 * Every key is allowed, 0 included (it is kept beside the table, since 0
 * marks an empty slot). Keys that are already well mixed (name hashes) and
 * keys that are not (8-aligned addresses) both spread well.
 *
 * Growth goes through mem_try_calloc; a failed growth returns -ENOMEM and
 * leaves the map as it was. Pointers from u64map_ref are invalidated by the
 * next put or del. Storage is the caller's (init/deinit; `= {0}` is an empty
 * map too); not thread-safe.
 */
#ifndef ENVPOOL_UTIL_U64MAP_H
#define ENVPOOL_UTIL_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct u64map_slot {
    uint64_t key; /* 0: empty */
    uint64_t val;
} u64map_slot;

typedef struct u64map {
    u64map_slot *s;        /* cap slots, owned */
    size_t       cap;      /* 0 or a power of two */
    size_t       n;        /* keys in s (key 0 not counted) */
    unsigned     shift;    /* 64 - log2(cap) */
    bool         has_zero; /* key 0 is present, its value in zero_val */
    uint64_t     zero_val;
} u64map;

#define U64MAP_WUR __attribute__((warn_unused_result))

void u64map_init(u64map *m);
void u64map_deinit(u64map *m);  /* frees; m is empty and reusable */
void u64map_clear(u64map *m);   /* removes every key, keeps the memory (O(cap)) */
size_t u64map_count(const u64map *m);

/* Room for n keys without growing: 0 or -ENOMEM (map unchanged). */
U64MAP_WUR int u64map_reserve(u64map *m, size_t n);

/* Whether key is present; its value in *val (val may be NULL). */
bool u64map_get(const u64map *m, uint64_t key, uint64_t *val);
/* Borrowed pointer to key's value, or NULL when absent. */
uint64_t *u64map_ref(u64map *m, uint64_t key);

/*
 * Finds key, adding it with value 0 when absent: 0 with *val pointing at its
 * value (borrowed) and *added saying whether it is new (added may be NULL),
 * or -ENOMEM with the map unchanged.
 */
U64MAP_WUR int u64map_upsert(u64map *m, uint64_t key, uint64_t **val, bool *added);
/* Sets key to val (adding or replacing): 0 or -ENOMEM (map unchanged). */
U64MAP_WUR int u64map_put(u64map *m, uint64_t key, uint64_t val);

/* Removes key: whether it was there (its value in *old; old may be NULL). */
bool u64map_del(u64map *m, uint64_t key, uint64_t *old);

/*
 * Iteration in no particular order, with no put or del meanwhile:
 *     size_t it = 0; uint64_t k, v;
 *     while (u64map_next(m, &it, &k, &v)) ...
 * k or v may be NULL.
 */
bool u64map_next(const u64map *m, size_t *it, uint64_t *key, uint64_t *val);

#endif
