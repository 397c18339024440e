/*
 * util/chash.c — the intrusive chained hash table of chash.h.
 */
#include "util/chash.h"

#include <errno.h>
#include <string.h>

#include "util/mem.h"

#define MIN_BUCKETS 16

void chash_init(chash *t) { memset(t, 0, sizeof *t); }

void chash_deinit(chash *t)
{
    mem_free(t->b);
    chash_init(t);
}

size_t chash_count(const chash *t) { return t->n; }

/* The bucket of a hash: its high bits mixed down, so that hashes differing
 * only there still spread. */
static size_t bucket(size_t nb, uint64_t hash)
{
    return (size_t)((hash ^ (hash >> 29) ^ (hash >> 47)) & (nb - 1));
}

static int rehash(chash *t, size_t nb)
{
    chash_link **nbk = mem_try_calloc(nb, sizeof *nbk);
    if (!nbk)
        return -ENOMEM;
    for (size_t i = 0; i < t->nb; i++) {
        for (chash_link *l = t->b[i], *next; l; l = next) {
            next = l->next;
            size_t j = bucket(nb, l->hash);
            l->next = nbk[j];
            nbk[j] = l;
        }
    }
    mem_free(t->b);
    t->b = nbk;
    t->nb = nb;
    return 0;
}

int chash_insert(chash *t, chash_link *l, uint64_t hash)
{
    if (!t->nb) {
        int rc = rehash(t, MIN_BUCKETS);
        if (rc)
            return rc;
    } else if (t->n >= t->nb && t->nb <= SIZE_MAX / 2 / sizeof *t->b) {
        (void)rehash(t, 2 * t->nb); /* on failure: longer chains, still correct */
    }
    size_t i = bucket(t->nb, hash);
    l->hash = hash;
    l->next = t->b[i];
    t->b[i] = l;
    t->n++;
    return 0;
}

void chash_remove(chash *t, chash_link *l)
{
    chash_link **pp = &t->b[bucket(t->nb, l->hash)];
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    l->next = NULL;
    t->n--;
}

chash_link *chash_first(const chash *t, uint64_t hash)
{
    if (!t->nb)
        return NULL;
    chash_link *l = t->b[bucket(t->nb, hash)];
    while (l && l->hash != hash)
        l = l->next;
    return l;
}

chash_link *chash_next(const chash_link *l)
{
    uint64_t hash = l->hash;
    for (l = l->next; l && l->hash != hash; l = l->next)
        ;
    return (chash_link *)l;
}

chash_link *chash_walk(const chash *t, chash_iter *it)
{
    while (!it->next) {
        if (it->i >= t->nb)
            return NULL;
        it->next = t->b[it->i++];
    }
    chash_link *l = it->next;
    it->next = l->next; /* taken now, so that l may be removed */
    return l;
}
