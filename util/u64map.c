/*
 * util/u64map.c — the open-addressing map of u64map.h.
 */
#include "util/u64map.h"

#include <errno.h>
#include <string.h>

#include "util/mem.h"

#define MIN_CAP 16

void u64map_init(u64map *m) { memset(m, 0, sizeof *m); }

void u64map_deinit(u64map *m)
{
    mem_free(m->s);
    u64map_init(m);
}

void u64map_clear(u64map *m)
{
    if (m->s)
        memset(m->s, 0, m->cap * sizeof *m->s);
    m->n = 0;
    m->has_zero = false;
    m->zero_val = 0;
}

size_t u64map_count(const u64map *m) { return m->n + (m->has_zero ? 1 : 0); }

static size_t home(const u64map *m, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);
}

/* The slot holding key, or the empty slot where it would go (cap > 0). */
static size_t probe(const u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1, i = home(m, key);
    while (m->s[i].key && m->s[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static int resize(u64map *m, size_t cap)
{
    u64map_slot *ns = mem_try_calloc(cap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    u64map old = *m;
    m->s = ns;
    m->cap = cap;
    m->shift = 64;
    for (size_t c = cap; c > 1; c >>= 1)
        m->shift--;
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].key)
            m->s[probe(m, old.s[i].key)] = old.s[i];
    mem_free(old.s);
    return 0;
}

int u64map_reserve(u64map *m, size_t n)
{
    if (n > SIZE_MAX / 4)
        return -ENOMEM;
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while (cap < 2 * n)
        cap *= 2;
    return cap == m->cap ? 0 : resize(m, cap);
}

bool u64map_get(const u64map *m, uint64_t key, uint64_t *val)
{
    const uint64_t *v = u64map_ref((u64map *)m, key);
    if (v && val)
        *val = *v;
    return v != NULL;
}

uint64_t *u64map_ref(u64map *m, uint64_t key)
{
    if (!key)
        return m->has_zero ? &m->zero_val : NULL;
    if (!m->cap)
        return NULL;
    size_t i = probe(m, key);
    return m->s[i].key ? &m->s[i].val : NULL;
}

int u64map_upsert(u64map *m, uint64_t key, uint64_t **val, bool *added)
{
    bool is_new;
    if (!key) {
        is_new = !m->has_zero;
        if (is_new)
            m->zero_val = 0;
        m->has_zero = true;
        *val = &m->zero_val;
    } else {
        size_t i = m->cap ? probe(m, key) : 0;
        if (!m->cap || !m->s[i].key) {
            if (2 * (m->n + 1) > m->cap) {
                int rc = resize(m, m->cap ? 2 * m->cap : MIN_CAP);
                if (rc)
                    return rc;
            }
            i = probe(m, key);
        }
        is_new = !m->s[i].key;
        if (is_new) {
            m->s[i].key = key;
            m->s[i].val = 0;
            m->n++;
        }
        *val = &m->s[i].val;
    }
    if (added)
        *added = is_new;
    return 0;
}

int u64map_put(u64map *m, uint64_t key, uint64_t val)
{
    uint64_t *v;
    int rc = u64map_upsert(m, key, &v, NULL);
    if (!rc)
        *v = val;
    return rc;
}

bool u64map_del(u64map *m, uint64_t key, uint64_t *old)
{
    if (!key) {
        if (!m->has_zero)
            return false;
        if (old)
            *old = m->zero_val;
        m->has_zero = false;
        return true;
    }
    if (!m->cap)
        return false;
    size_t mask = m->cap - 1, i = probe(m, key);
    if (!m->s[i].key)
        return false;
    if (old)
        *old = m->s[i].val;
    /* Backward shift: walk the run after the hole; an entry moves into the
     * hole when its home slot does not lie cyclically in (hole, entry]. */
    for (size_t j = (i + 1) & mask; m->s[j].key; j = (j + 1) & mask) {
        size_t h = home(m, m->s[j].key);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            m->s[i] = m->s[j];
            i = j;
        }
    }
    m->s[i].key = 0;
    m->s[i].val = 0;
    m->n--;
    return true;
}

bool u64map_next(const u64map *m, size_t *it, uint64_t *key, uint64_t *val)
{
    /* *it: 0 the zero key, i + 1 slot i */
    if (*it == 0) {
        *it = 1;
        if (m->has_zero) {
            if (key)
                *key = 0;
            if (val)
                *val = m->zero_val;
            return true;
        }
    }
    for (size_t i = *it - 1; i < m->cap; i++) {
        if (m->s[i].key) {
            if (key)
                *key = m->s[i].key;
            if (val)
                *val = m->s[i].val;
            *it = i + 2;
            return true;
        }
    }
    *it = m->cap + 1;
    return false;
}
