/*
 * util/chash.h — the one intrusive chained hash table of envpool.
 *
 * The entries are the caller's structs, each with a chash_link inside; the
 * table holds only the bucket array and never allocates an entry, so an
 * entry can be in the table and on other lists at once and is freed by its
 * owner after chash_remove. The caller hashes its own key and compares keys
 * itself while walking one hash's chain:
 *
 *     typedef struct entry { chash_link link; char key[32]; ... } entry;
 *     uint64_t h = my_hash(key);
 *     for (chash_link *l = chash_first(&t, h); l; l = chash_next(l))
 *         if (!strcmp(CHASH_ENTRY(l, entry, link)->key, key)) return ...;
 *     if ((rc = chash_insert(&t, &e->link, h))) ...;
 *
 * The bucket array doubles when the table holds more entries than buckets.
 * Only the first bucket array can fail to be allocated (-ENOMEM from
 * chash_insert); a later growth that fails leaves the table as it was, with
 * longer chains, and the insert succeeds. Storage is the caller's
 * (init/deinit; `= {0}` is an empty table too); not thread-safe.
 */
#ifndef ENVPOOL_UTIL_CHASH_H
#define ENVPOOL_UTIL_CHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct chash_link {
    struct chash_link *next; /* next in the bucket */
    uint64_t           hash; /* the entry's hash, as given to chash_insert */
} chash_link;

typedef struct chash {
    chash_link **b;    /* nb buckets, owned */
    size_t       nb;   /* 0 or a power of two */
    size_t       n;    /* entries */
} chash;

/* The struct of type `type` whose member `member` is the link l. */
#define CHASH_ENTRY(l, type, member) ((type *)(void *)((char *)(l) - offsetof(type, member)))

void   chash_init(chash *t);
void   chash_deinit(chash *t);    /* frees the buckets, not the entries */
size_t chash_count(const chash *t);

/* Adds l (not in any table) under hash: 0, or -ENOMEM (only for a table that
 * has no buckets yet; l is then not added). */
__attribute__((warn_unused_result)) int chash_insert(chash *t, chash_link *l, uint64_t hash);

/* Removes l, which is in t. */
void chash_remove(chash *t, chash_link *l);

/* The first entry with this hash, then the next one with the same hash. */
chash_link *chash_first(const chash *t, uint64_t hash);
chash_link *chash_next(const chash_link *l);

/*
 * Every entry, in no particular order; the entry just returned may be
 * removed (and freed), nothing else may change during the walk:
 *     chash_iter it = {0};
 *     for (chash_link *l; (l = chash_walk(&t, &it));) ...
 */
typedef struct chash_iter {
    size_t      i;    /* next bucket to start */
    chash_link *next; /* next entry to return */
} chash_iter;
chash_link *chash_walk(const chash *t, chash_iter *it);

#endif
