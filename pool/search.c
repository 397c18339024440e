/*
 * pool/search.c — declaration search over an environment: prefix, substring
 * and fuzzy matching of dotted names, a kinds filter, and stable paging.
 *
 * The structures are built by the first search of an environment (most
 * environments are never searched, and the name index does not need them):
 * every visible constant's dotted name printed once into one text arena, its
 * kind, and a permutation sorting the names bytewise. Building takes the
 * environment's search_lock; later searches read the published pointer
 * (acquire) without locking, so any number of threads search at once.
 *
 * Order and cursors. Prefix and substring results come in name order and a
 * cursor is 1 + the position in the sorted names where the next page starts.
 * Fuzzy results come by score (higher first), then name; a cursor is 1 + the
 * rank where the next page starts. The environment never changes, so a
 * cursor means the same place for as long as the environment lives.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "region/guard.h"
#include "util/mem.h"

enum { KIND_UNKNOWN = 0xff };

struct pool_search_index {
    uint32_t  n;
    uint32_t *sorted;  /* [n] entry numbers in name order */
    uint32_t *ord;     /* [n] ordinal of entry e */
    uint32_t *off;     /* [n] offset of entry e's name in text */
    uint32_t *len;     /* [n] its length */
    uint8_t  *kind;    /* [n] enum ln_const_kind, or KIND_UNKNOWN if undecodable */
    uint32_t *rank;    /* [n] position of entry e in name order (inverse of sorted) */
    char     *text;    /* NUL-terminated names */
};

void pool__search_index_free(struct pool_search_index *s)
{
    if (!s)
        return;
    mem_free(s->sorted);
    mem_free(s->ord);
    mem_free(s->off);
    mem_free(s->len);
    mem_free(s->kind);
    mem_free(s->rank);
    mem_free(s->text);
    mem_free(s);
}

static int cmp_names(const void *a, const void *b, void *arg)
{
    const struct pool_search_index *s = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(s->text + s->off[x], s->text + s->off[y]);
    if (c)
        return c;
    return s->ord[x] < s->ord[y] ? -1 : s->ord[x] > s->ord[y];
}

/* What index_fill works on: all of it owned by index_build (see region/guard.h). */
typedef struct fill_job {
    const pool_env           *e;
    struct pool_search_index *s;
    ln_buf                    name;
    size_t                    tcap, tlen;
} fill_job;

/*
 * Prints every visible name into the arena. It reads the mapped files, so it
 * runs under region_guard_run: a file truncated in place under its mapping
 * fails the build with REGION_ESTALE instead of killing the process.
 */
static int index_fill(void *arg)
{
    fill_job *j = arg;
    struct pool_search_index *s = j->s;
    const pool_env *e = j->e;
    size_t k = 0, n = s->n;
    uint64_t cursor = 0;
    pool_const_ref ref;
    uint32_t last = 0;
    while (pool_env_next(e, &cursor, &ref) == 1 && k < n) {
        const ln_module *lm = &e->mods[ref.module].m->lm;
        /* Modules come in order: once one is printed, the pages it touched
           (every name and ConstantInfo) leave our page tables, so the resident
           set never holds more than about one module's share of them. */
        if (ref.module != last) {
            region_release_pages(e->mods[last].m->r);
            last = ref.module;
        }
        region_error ignore;
        ln_buf_reset(&j->name);
        if (ln_name_format(lm, ref.name, &j->name, &ignore) != 0 && j->name.len == 0 &&
            ln_buf_puts(&j->name, "[undecodable]") != 0)
            return -ENOMEM;
        size_t need = j->tlen + j->name.len + 1;
        if (need > UINT32_MAX)
            return POOL_ELIMIT;
        if (need > j->tcap) {
            size_t ncap = j->tcap ? j->tcap * 2 : 4096;
            while (ncap < need)
                ncap *= 2;
            char *t = mem_try_realloc(s->text, ncap);
            if (!t)
                return -ENOMEM;
            s->text = t;
            j->tcap = ncap;
        }
        memcpy(s->text + j->tlen, ln_buf_cstr(&j->name), j->name.len + 1);
        ln_const c;
        s->kind[k] = ln_const_decode(lm, ref.info, &c, &ignore) == 0 ? (uint8_t)c.kind : KIND_UNKNOWN;
        s->ord[k] = (uint32_t)(cursor - 1);
        s->off[k] = (uint32_t)j->tlen;
        s->len[k] = (uint32_t)j->name.len;
        s->sorted[k] = (uint32_t)k;
        j->tlen = need;
        k++;
    }
    s->n = (uint32_t)k;
    if (e->nmods > 0)
        region_release_pages(e->mods[last].m->r);
    return 0;
}

static int index_build(const pool_env *e, struct pool_search_index **out)
{
    struct pool_search_index *s = mem_calloc(1, sizeof *s);
    size_t n = (size_t)e->visible;
    int rc = -ENOMEM;
    fill_job j = {e, s, {0}, 0, 0};
    ln_buf_init(&j.name, 0);
    s->n = (uint32_t)n;
    s->sorted = mem_try_array(n ? n : 1, sizeof *s->sorted);
    s->ord = mem_try_array(n ? n : 1, sizeof *s->ord);
    s->off = mem_try_array(n ? n : 1, sizeof *s->off);
    s->len = mem_try_array(n ? n : 1, sizeof *s->len);
    s->kind = mem_try_alloc(n ? n : 1);
    s->rank = mem_try_array(n ? n : 1, sizeof *s->rank);
    if (!s->sorted || !s->ord || !s->off || !s->len || !s->kind || !s->rank)
        goto out;
    if ((rc = region_guard_run(index_fill, &j)) != 0)
        goto out;
    qsort_r(s->sorted, s->n, sizeof *s->sorted, cmp_names, s);
    for (uint32_t pos = 0; pos < s->n; pos++)
        s->rank[s->sorted[pos]] = pos;
out:
    ln_buf_deinit(&j.name);
    if (rc) {
        pool__search_index_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int index_get(const pool_env *e, struct pool_search_index **out)
{
    struct pool_search_index *s = atomic_load_explicit(&e->search, memory_order_acquire);
    if (s) {
        *out = s;
        return 0;
    }
    /* The lazily built structures are the one mutable part of an environment. */
    pool_env *me = (pool_env *)e;
    int rc = 0;
    pthread_mutex_lock(&me->search_lock);
    s = atomic_load_explicit(&me->search, memory_order_relaxed);
    if (!s && (rc = index_build(e, &s)) == 0)
        atomic_store_explicit(&me->search, s, memory_order_release);
    pthread_mutex_unlock(&me->search_lock);
    *out = s;
    return rc;
}

int pool__search_get(const pool_env *e, const struct pool_search_index **out)
{
    struct pool_search_index *s;
    int rc = index_get(e, &s);
    *out = s;
    return rc;
}

uint32_t pool__search_count(const struct pool_search_index *s) { return s->n; }

bool pool__search_entry_of(const struct pool_search_index *s, uint64_t ord, uint32_t *entry)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->ord[mid] < ord)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->ord[lo] == ord) {
        *entry = lo;
        return true;
    }
    return false;
}

void pool__search_entry(const struct pool_search_index *s, uint32_t entry, pool_search_entry *out)
{
    out->ord = s->ord[entry];
    out->name = s->text + s->off[entry];
    out->len = s->len[entry];
    out->rank = s->rank[entry];
    out->kind = s->kind[entry];
}

static bool kind_ok(const pool_search_query *q, uint8_t kind)
{
    return q->kinds == 0 || (kind < 32 && (q->kinds >> kind) & 1);
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/*
 * Greedy left-to-right subsequence match, ASCII case-insensitive. Rewards
 * consecutive matches, matches at the start of a component, exact case, and
 * short names. Returns false if q is not a subsequence of name.
 */
static bool fuzzy_score(const char *name, size_t nlen, const char *q, size_t qlen, int32_t *score)
{
    size_t j = 0;
    int64_t sc = 0;
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < nlen && j < qlen; i++) {
        if (lower(name[i]) != lower(q[j]))
            continue;
        int s = 1;
        if (prev != SIZE_MAX && i == prev + 1)
            s += 5;
        if (i == 0 || name[i - 1] == '.' || name[i - 1] == '_')
            s += 10;
        if (name[i] == q[j])
            s += 1;
        sc += s;
        prev = i;
        j++;
    }
    if (j < qlen)
        return false;
    sc -= (int64_t)((nlen - qlen) / 8);
    *score = (int32_t)(sc < INT32_MIN ? INT32_MIN : sc);
    return true;
}

static void fill_item(const pool_env *e, const struct pool_search_index *s, uint32_t ent,
                      int32_t score, pool_search_item *it)
{
    pool__env_ref_of(e, s->ord[ent], &it->ref);
    it->kind = s->kind[ent];
    it->score = score;
    it->name = s->text + s->off[ent];
    it->name_len = s->len[ent];
}

/* First position in sorted order whose name is >= q (bytewise). */
static uint32_t lower_bound(const struct pool_search_index *s, const char *q, size_t qlen)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t ent = s->sorted[mid];
        size_t l = s->len[ent] < qlen ? s->len[ent] : qlen;
        int c = memcmp(s->text + s->off[ent], q, l);
        if (c < 0 || (c == 0 && s->len[ent] < qlen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct ranked {
    int32_t  score;
    uint32_t pos;  /* position in sorted order */
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int pool_env_search(const pool_env *e, const pool_search_query *q, pool_search_item *items,
                    size_t *n, uint64_t *next_cursor, pool_error *err)
{
    *n = 0;
    *next_cursor = 0;
    if (q->limit == 0 || q->limit > POOL_SEARCH_MAX_LIMIT)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "limit %u is not within 1..%d",
                          q->limit, POOL_SEARCH_MAX_LIMIT);
    if (q->mode != POOL_SEARCH_PREFIX && q->mode != POOL_SEARCH_SUBSTRING &&
        q->mode != POOL_SEARCH_FUZZY)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "unknown search mode %d", (int)q->mode);
    if (q->len > 0 && !q->text)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "query text missing");
    const char *text = q->text ? q->text : "";
    struct pool_search_index *s;
    int rc = index_get(e, &s);
    if (rc)
        return pool__fail(err, rc, NULL, NULL, "%s",
                          rc == REGION_ESTALE ? "a module file shrank while its names were read"
                                              : "cannot build the search structures");
    if (q->cursor > (uint64_t)s->n + 1)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "cursor %llu is not from this environment",
                          (unsigned long long)q->cursor);
    size_t got = 0;

    if (q->mode == POOL_SEARCH_PREFIX || q->mode == POOL_SEARCH_SUBSTRING) {
        uint32_t pos = q->cursor ? (uint32_t)(q->cursor - 1) : 0;
        bool prefix = q->mode == POOL_SEARCH_PREFIX;
        if (prefix) {
            uint32_t lo = lower_bound(s, text, q->len);
            if (pos < lo)
                pos = lo;
        }
        for (; pos < s->n; pos++) {
            uint32_t ent = s->sorted[pos];
            const char *name = s->text + s->off[ent];
            size_t len = s->len[ent];
            int32_t score;
            if (prefix) {
                if (len < q->len || memcmp(name, text, q->len) != 0)
                    break; /* past the range of names with this prefix */
                size_t extra = len - q->len;
                score = 1000 - (int32_t)(extra > 999 ? 999 : extra);
            } else {
                const char *hit = q->len ? memmem(name, len, text, q->len) : name;
                if (!hit)
                    continue;
                size_t at = (size_t)(hit - name);
                score = 1000 - (int32_t)(at > 999 ? 999 : at);
                if (at == 0 || name[at - 1] == '.')
                    score += 1000;
            }
            if (!kind_ok(q, s->kind[ent]))
                continue;
            if (got == q->limit) {
                *next_cursor = (uint64_t)pos + 1;
                break;
            }
            fill_item(e, s, ent, score, &items[got++]);
        }
        *n = got;
        return 0;
    }

    /* Fuzzy: rank every match, then cut the page. */
    ranked *all = mem_try_array(s->n ? s->n : 1, sizeof *all);
    if (!all)
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for a fuzzy search");
    size_t m = 0;
    for (uint32_t pos = 0; pos < s->n; pos++) {
        uint32_t ent = s->sorted[pos];
        int32_t score;
        if (kind_ok(q, s->kind[ent]) &&
            fuzzy_score(s->text + s->off[ent], s->len[ent], text, q->len, &score))
            all[m++] = (ranked){score, pos};
    }
    qsort(all, m, sizeof *all, cmp_ranked);
    size_t start = q->cursor ? (size_t)(q->cursor - 1) : 0;
    for (size_t r = start; r < m; r++) {
        if (got == q->limit) {
            *next_cursor = (uint64_t)r + 1;
            break;
        }
        fill_item(e, s, s->sorted[all[r].pos], all[r].score, &items[got++]);
    }
    mem_free(all);
    *n = got;
    return 0;
}

/* ---- namespace children --------------------------------------------------- */

/* Length of the first dotted component of s[0..n) (a «…» span may hold dots). */
static size_t first_component(const char *s, size_t n)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (!quoted && s[i] == '.')
            return i;
        if (i + 1 < n && (unsigned char)s[i] == 0xc2 && ((unsigned char)s[i + 1] == 0xab || (unsigned char)s[i + 1] == 0xbb))
            quoted = (unsigned char)s[i + 1] == 0xab; /* « opens, » closes */
    }
    return n;
}

int pool_env_children(const pool_env *e, const char *ns, size_t len, uint32_t limit, uint64_t cursor,
                      pool_child *items, size_t *n, uint64_t *next_cursor, pool_error *err)
{
    *n = 0;
    *next_cursor = 0;
    if (limit == 0 || limit > POOL_SEARCH_MAX_LIMIT)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "limit %u is not within 1..%d", limit,
                          POOL_SEARCH_MAX_LIMIT);
    if (len > 4096)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "namespace longer than 4096 bytes");
    struct pool_search_index *s;
    int rc = index_get(e, &s);
    if (rc)
        return pool__fail(err, rc, NULL, NULL, "%s", rc == REGION_ESTALE ? "a module file was truncated"
                                                                          : "cannot build the search structures");
    /* Names directly inside ns start with "ns." (or anything, at the root). */
    char pre[4098];
    size_t plen = 0;
    if (len) {
        memcpy(pre, ns, len);
        pre[len] = '.';
        plen = len + 1;
    }
    uint32_t start = lower_bound(s, pre, plen), pos = start;
    if (cursor) {
        if (cursor - 1 < start || cursor - 1 > s->n)
            return pool__fail(err, POOL_EINVAL, NULL, NULL, "cursor %llu is not a position of this listing",
                              (unsigned long long)cursor);
        pos = (uint32_t)(cursor - 1);
    }
    while (pos < s->n && *n < limit) {
        uint32_t ent = s->sorted[pos];
        const char *name = s->text + s->off[ent];
        size_t nlen = s->len[ent];
        if (nlen < plen || memcmp(name, pre, plen) != 0)
            break; /* past the namespace */
        size_t c = first_component(name + plen, nlen - plen);
        if (plen + c == nlen) { /* a declaration directly inside */
            pool_child *it = &items[(*n)++];
            it->is_namespace = false;
            fill_item(e, s, ent, 0, &it->item);
            pos++;
            continue;
        }
        /* a sub-namespace: listed once, then everything under it is skipped */
        pool_child *it = &items[(*n)++];
        it->is_namespace = true;
        memset(&it->item, 0, sizeof it->item);
        it->item.name = name;
        it->item.name_len = plen + c;
        char sub[4098 + 256];
        size_t sl = plen + c + 1;
        if (sl > sizeof sub) {
            pos++;
            continue;
        }
        memcpy(sub, name, plen + c);
        sub[plen + c] = '.';
        uint32_t after = pos + 1;
        /* first position not starting with "sub." (sorted: they are contiguous) */
        uint32_t lo2 = after, hi2 = s->n;
        while (lo2 < hi2) {
            uint32_t mid = lo2 + (hi2 - lo2) / 2;
            uint32_t me = s->sorted[mid];
            const char *mn = s->text + s->off[me];
            if (s->len[me] >= sl && memcmp(mn, sub, sl) == 0)
                lo2 = mid + 1;
            else if (memcmp(mn, sub, s->len[me] < sl ? s->len[me] : sl) < 0 ||
                     (memcmp(mn, sub, s->len[me] < sl ? s->len[me] : sl) == 0 && s->len[me] < sl))
                lo2 = mid + 1;
            else
                hi2 = mid;
        }
        pos = lo2 > after ? lo2 : after;
    }
    if (pos < s->n && *n == limit) {
        uint32_t ent = s->sorted[pos];
        if (s->len[ent] >= plen && memcmp(s->text + s->off[ent], pre, plen) == 0)
            *next_cursor = (uint64_t)pos + 1;
    }
    return 0;
}
