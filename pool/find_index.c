/*
 * pool/find_index.c — the inverted indexes behind decl.find, decl.uses and
 * decl.used_by: per module and per part (types, values), every constant name
 * the module's declarations refer to → the declarations that refer to it.
 *
 * Why per module: environments share modules (the module cache maps a file
 * once), so an index built for one environment serves every other one that
 * imports the module, and it dies with the mapping. An environment's answer
 * is the union of its modules' posting lists, minus shadowed declarations.
 *
 * Expressions are walked only through lean/'s accessors (ln_expr_view, the
 * name functions), iteratively with a visited set (Exprs are DAGs: a walk
 * without one is exponential on shared subterms) and a step budget, so a
 * crafted file cannot make a walk unbounded. A declaration whose walk fails
 * (corrupt object, budget) is marked `bad`: it keeps what was seen, and the
 * matcher skips it.
 *
 * Keys are names, not Name objects: every name word is hashed with the 2023+
 * function (computed, never trusted from the file), and two words with the
 * same hash are one key only if their text is equal; other words of an
 * existing key become its aliases, so the matcher can compare words.
 */
#include "pool/find_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "region/guard.h"
#include "util/mem.h"

/* ---- word sets ------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

void find__ws_deinit(find_wset *s)
{
    mem_free(s->keys);
    mem_free(s->gen);
    mem_free(s->val);
    memset(s, 0, sizeof *s);
}

void find__ws_reset(find_wset *s)
{
    s->count = 0;
    if (++s->cur == 0) { /* wrapped: clear the stamps for real */
        if (s->gen)
            memset(s->gen, 0, s->cap * sizeof *s->gen);
        s->cur = 1;
    }
}

static int find__ws_grow(find_wset *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 256;
    find_wset n = {mem_try_calloc(ncap, sizeof(lx_word)), mem_try_calloc(ncap, sizeof(uint32_t)),
                  mem_try_calloc(ncap, sizeof(uint32_t)), ncap, 0, 1};
    if (!n.keys || !n.gen || !n.val) {
        find__ws_deinit(&n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->gen[i] != s->cur)
            continue;
        size_t j = (size_t)mix(s->keys[i]) & (ncap - 1);
        while (n.gen[j] == n.cur)
            j = (j + 1) & (ncap - 1);
        n.keys[j] = s->keys[i];
        n.val[j] = s->val[i];
        n.gen[j] = n.cur;
        n.count++;
    }
    find__ws_deinit(s);
    *s = n;
    return 0;
}

/* Finds w: 1 and *val, or 0 (slot remembered in *slot for ws_put_at). */
int find__ws_find(const find_wset *s, lx_word w, uint32_t *val, size_t *slot)
{
    if (!s->cap)
        return 0;
    size_t j = (size_t)mix(w) & (s->cap - 1);
    while (s->gen[j] == s->cur) {
        if (s->keys[j] == w) {
            if (val)
                *val = s->val[j];
            return 1;
        }
        j = (j + 1) & (s->cap - 1);
    }
    *slot = j;
    return 0;
}

/* Inserts w (absent) with val. 0 or -ENOMEM. */
int find__ws_put(find_wset *s, lx_word w, uint32_t val)
{
    if ((s->count + 1) * 2 > s->cap && find__ws_grow(s))
        return -ENOMEM;
    size_t slot = 0;
    if (find__ws_find(s, w, NULL, &slot))
        return 0;
    s->keys[slot] = w;
    s->val[slot] = val;
    s->gen[slot] = s->cur;
    s->count++;
    return 0;
}

/* ---- expression walks ------------------------------------------------------ */

struct find_walk {
    find_wset seen;      /* Expr words visited */
    find_wset names;     /* const name words recorded */
    lx_word *consts;    /* names in first-seen order */
    size_t   nconsts, cap_consts;
    lx_word *stack;
    size_t   cap_stack;
};

find_walk *find__walk_new(void)
{
    return mem_calloc(1, sizeof(find_walk));
}

void find__walk_free(find_walk *w)
{
    if (!w)
        return;
    find__ws_deinit(&w->seen);
    find__ws_deinit(&w->names);
    mem_free(w->consts);
    mem_free(w->stack);
    mem_free(w);
}

void find__walk_reset(find_walk *w)
{
    find__ws_reset(&w->seen);
    find__ws_reset(&w->names);
    w->nconsts = 0;
}

size_t find__walk_count(const find_walk *w) { return w->nconsts; }
lx_word find__walk_const(const find_walk *w, size_t i) { return w->consts[i]; }

static int push(find_walk *w, size_t *sp, lx_word e)
{
    if (lx_is_scalar(e))
        return 0;
    if (*sp == w->cap_stack) {
        size_t ncap = w->cap_stack ? w->cap_stack * 2 : 256;
        lx_word *n = mem_try_realloc(w->stack, ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        w->stack = n;
        w->cap_stack = ncap;
    }
    w->stack[(*sp)++] = e;
    return 0;
}

int find__walk_expr(find_walk *w, const ln_module *lm, lx_word root, region_error *err)
{
    size_t sp = 0;
    int rc = push(w, &sp, root);
    uint64_t steps = 0;
    while (!rc && sp > 0) {
        lx_word e = w->stack[--sp];
        size_t slot = 0;
        if (find__ws_find(&w->seen, e, NULL, &slot))
            continue;
        if (++steps > FIND_WALK_BUDGET)
            return LN_ETOOBIG;
        if ((rc = find__ws_put(&w->seen, e, 0)))
            break;
        ln_expr x;
        if ((rc = ln_expr_view(lm, e, &x, err)))
            break;
        switch (x.kind) {
        case LN_CONST:
            if (!find__ws_find(&w->names, x.a, NULL, &slot)) {
                if ((rc = find__ws_put(&w->names, x.a, 0)))
                    break;
                if (w->nconsts == w->cap_consts) {
                    size_t ncap = w->cap_consts ? w->cap_consts * 2 : 64;
                    lx_word *n = mem_try_realloc(w->consts, ncap * sizeof *n);
                    if (!n) {
                        rc = -ENOMEM;
                        break;
                    }
                    w->consts = n;
                    w->cap_consts = ncap;
                }
                w->consts[w->nconsts++] = x.a;
            }
            break;
        case LN_APP:
            rc = push(w, &sp, x.b);
            if (!rc)
                rc = push(w, &sp, x.a);
            break;
        case LN_LAM:
        case LN_FORALL:
            rc = push(w, &sp, x.c);
            if (!rc)
                rc = push(w, &sp, x.b);
            break;
        case LN_LET:
            rc = push(w, &sp, x.d);
            if (!rc)
                rc = push(w, &sp, x.c);
            if (!rc)
                rc = push(w, &sp, x.b);
            break;
        case LN_MDATA:
            rc = push(w, &sp, x.b);
            break;
        case LN_PROJ:
            rc = push(w, &sp, x.c);
            break;
        default:
            break;
        }
    }
    return rc;
}

/* ---- module indexes -------------------------------------------------------- */

void find__modidx_free(find_modidx *x)
{
    if (!x)
        return;
    mem_free(x->key_hash);
    mem_free(x->key_name);
    mem_free(x->key_alias);
    mem_free(x->alias);
    mem_free(x->post_off);
    mem_free(x->post);
    mem_free(x->nconsts);
    mem_free(x->bad);
    mem_free(x->slots);
    mem_free(x);
}

/* Everything a build owns, so that a fault abandoning it leaks nothing (region/guard.h). */
typedef struct build_job {
    const pool_module *m;
    enum find_part     part;
    find_modidx       *x;
    find_walk         *walk;
    find_wset           word_key;   /* name word → key */
    uint64_t          *pairs;      /* (key << 32) | decl */
    size_t             npairs, cap_pairs;
    uint32_t          *last_decl;  /* [keys] last decl that counted key (dedup) */
    size_t             cap_keys, cap_last;
    lx_word           *alias_word; /* (alias word, key) pairs before packing */
    uint32_t          *alias_key;
    size_t             nalias, cap_alias, cap_alias_key;
    ln_buf             t1, t2;
    region_error       rerr;
} build_job;

static bool grow_arr(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *n = mem_try_realloc(*p, ncap * elem);
    if (!n)
        return false;
    *p = n;
    *cap = ncap;
    return true;
}

/* Whether two name words of the module spell the same name. */
static bool same_text(build_job *j, lx_word a, lx_word b)
{
    ln_buf_reset(&j->t1);
    ln_buf_reset(&j->t2);
    if (ln_name_format(&j->m->lm, a, &j->t1, &j->rerr) || ln_name_format(&j->m->lm, b, &j->t2, &j->rerr))
        return false;
    return j->t1.len == j->t2.len && memcmp(j->t1.data, j->t2.data, j->t1.len) == 0;
}

/*
 * The key of name word w (hash h, not in word_key), created if new. With
 * `scan` (another key has this hash) the keys are searched for the same
 * text first: linear, but only on a hash collision or a duplicated name
 * object, which real files do not have.
 */
static int key_new(build_job *j, lx_word w, uint64_t h, bool scan, uint32_t *key)
{
    find_modidx *x = j->x;
    for (uint32_t k = 0; scan && k < x->nkeys; k++) {
        if (x->key_hash[k] != h)
            continue;
        if (same_text(j, x->key_name[k], w)) {
            if (!grow_arr((void **)&j->alias_word, &j->cap_alias, j->nalias + 1, sizeof(lx_word)) ||
                !grow_arr((void **)&j->alias_key, &j->cap_alias_key, j->nalias + 1, sizeof(uint32_t)))
                return -ENOMEM;
            j->alias_word[j->nalias] = w;
            j->alias_key[j->nalias++] = k;
            *key = k;
            return find__ws_put(&j->word_key, w, k);
        }
    }
    if (x->nkeys == UINT32_MAX - 1)
        return POOL_ELIMIT;
    size_t cap = j->cap_keys;
    if (!grow_arr((void **)&x->key_hash, &cap, x->nkeys + 1, sizeof *x->key_hash))
        return -ENOMEM;
    cap = j->cap_keys;
    if (!grow_arr((void **)&x->key_name, &cap, x->nkeys + 1, sizeof *x->key_name))
        return -ENOMEM;
    cap = j->cap_keys;
    if (!grow_arr((void **)&j->last_decl, &cap, x->nkeys + 1, sizeof *j->last_decl))
        return -ENOMEM;
    j->cap_keys = cap;
    x->key_hash[x->nkeys] = h;
    x->key_name[x->nkeys] = w;
    j->last_decl[x->nkeys] = UINT32_MAX;
    *key = x->nkeys++;
    return find__ws_put(&j->word_key, w, *key);
}

/*
 * The key of name word w. Words seen before come from word_key; a new word
 * is hashed, and by_hash (hash | 1, so never 0 → a key) says whether the
 * name may exist already under another word.
 */
static int key_of(build_job *j, find_wset *by_hash, lx_word w, uint32_t *key)
{
    size_t slot;
    if (find__ws_find(&j->word_key, w, key, &slot))
        return 0;
    uint64_t h;
    int rc = ln_name_hash_compute(&j->m->lm, w, &h, &j->rerr);
    if (rc)
        return rc;
    uint32_t k;
    if (find__ws_find(by_hash, h | 1, &k, &slot))
        return key_new(j, w, h, true, key);
    if ((rc = key_new(j, w, h, false, key)))
        return rc;
    return find__ws_put(by_hash, h | 1, *key);
}

static int build_run(void *arg)
{
    build_job *j = arg;
    const pool_module *m = j->m;
    const ln_module *lm = &m->lm;
    find_modidx *x = j->x;
    find_wset by_hash = {0};
    int rc = 0;
    if (m->nconstants > UINT32_MAX - 1)
        return POOL_ELIMIT;
    x->ndecls = (uint32_t)m->nconstants;
    x->nconsts = mem_try_calloc(x->ndecls ? x->ndecls : 1, sizeof *x->nconsts);
    x->bad = mem_try_calloc(x->ndecls ? x->ndecls : 1, 1);
    if (!x->nconsts || !x->bad)
        return -ENOMEM;
    for (uint32_t i = 0; i < x->ndecls && !rc; i++) {
        ln_const c;
        if (ln_module_const(lm, i, &c, &j->rerr)) {
            x->bad[i] = 1;
            continue;
        }
        lx_word e = j->part == FIND_TYPE ? c.type : c.value;
        if (!e)
            continue;
        find__walk_reset(j->walk);
        int wrc = find__walk_expr(j->walk, lm, e, &j->rerr);
        if (wrc == -ENOMEM) {
            rc = wrc;
            break;
        }
        if (wrc)
            x->bad[i] = 1;
        uint32_t distinct = 0;
        for (size_t k = 0; k < find__walk_count(j->walk); k++) {
            uint32_t key;
            int krc = key_of(j, &by_hash, find__walk_const(j->walk, k), &key);
            if (krc == -ENOMEM || krc == POOL_ELIMIT) {
                rc = krc;
                break;
            }
            if (krc) {
                x->bad[i] = 1;
                continue;
            }
            if (j->last_decl[key] == i)
                continue;
            j->last_decl[key] = i;
            distinct++;
            if (!grow_arr((void **)&j->pairs, &j->cap_pairs, j->npairs + 1, sizeof *j->pairs)) {
                rc = -ENOMEM;
                break;
            }
            j->pairs[j->npairs++] = ((uint64_t)key << 32) | i;
        }
        x->nconsts[i] = distinct;
    }
    find__ws_deinit(&by_hash);
    if (rc)
        return rc;
    /* Counting sort of the pairs by key: postings come out in declaration order. */
    x->post_off = mem_try_calloc((size_t)x->nkeys + 1, sizeof *x->post_off);
    x->post = mem_try_array(j->npairs ? j->npairs : 1, sizeof *x->post);
    x->key_alias = mem_try_calloc((size_t)x->nkeys + 1, sizeof *x->key_alias);
    x->alias = mem_try_array(j->nalias ? j->nalias : 1, sizeof *x->alias);
    if (!x->post_off || !x->post || !x->key_alias || !x->alias)
        return -ENOMEM;
    for (size_t p = 0; p < j->npairs; p++)
        x->post_off[(j->pairs[p] >> 32) + 1]++;
    for (uint32_t k = 0; k < x->nkeys; k++)
        x->post_off[k + 1] += x->post_off[k];
    for (uint32_t k = 0; k < x->nkeys; k++)
        j->last_decl[k] = x->post_off[k]; /* reused as the fill cursor */
    for (size_t p = 0; p < j->npairs; p++)
        x->post[j->last_decl[j->pairs[p] >> 32]++] = (uint32_t)j->pairs[p];
    for (size_t a = 0; a < j->nalias; a++)
        x->key_alias[j->alias_key[a] + 1]++;
    for (uint32_t k = 0; k < x->nkeys; k++)
        x->key_alias[k + 1] += x->key_alias[k];
    for (uint32_t k = 0; k < x->nkeys; k++)
        j->last_decl[k] = x->key_alias[k];
    for (size_t a = 0; a < j->nalias; a++)
        x->alias[j->last_decl[j->alias_key[a]]++] = j->alias_word[a];
    /* Lookup table: open addressing on the key hash. */
    size_t cap = 16;
    while (cap < (size_t)x->nkeys * 2)
        cap *= 2;
    x->slots = mem_try_calloc(cap, sizeof *x->slots);
    if (!x->slots)
        return -ENOMEM;
    x->mask = (uint32_t)(cap - 1);
    for (uint32_t k = 0; k < x->nkeys; k++) {
        size_t s = (size_t)mix(x->key_hash[k]) & x->mask;
        while (x->slots[s])
            s = (s + 1) & x->mask;
        x->slots[s] = k + 1;
    }
    x->bytes = sizeof *x + (uint64_t)x->nkeys * (sizeof(uint64_t) + sizeof(lx_word) + 2 * sizeof(uint32_t)) +
               (uint64_t)j->npairs * sizeof(uint32_t) + (uint64_t)j->nalias * sizeof(lx_word) +
               (uint64_t)x->ndecls * (sizeof(uint32_t) + 1) + cap * sizeof(uint32_t) + 2 * sizeof(uint32_t);
    return 0;
}

static void job_deinit(build_job *j)
{
    find__walk_free(j->walk);
    find__ws_deinit(&j->word_key);
    mem_free(j->pairs);
    mem_free(j->last_decl);
    mem_free(j->alias_word);
    mem_free(j->alias_key);
    ln_buf_deinit(&j->t1);
    ln_buf_deinit(&j->t2);
}

int find__modidx_build(const pool_module *m, enum find_part part, find_modidx **out, pool_error *err)
{
    uint64_t t0 = pool__now_ns();
    build_job j;
    memset(&j, 0, sizeof j);
    j.m = m;
    j.part = part;
    j.x = mem_try_calloc(1, sizeof *j.x);
    j.walk = find__walk_new();
    ln_buf_init(&j.t1, 4096);
    ln_buf_init(&j.t2, 4096);
    int rc = j.x ? region_guard_run(build_run, &j) : -ENOMEM;
    job_deinit(&j);
    if (rc) {
        find__modidx_free(j.x);
        if (rc == REGION_ESTALE)
            return pool__fail(err, rc, NULL, NULL, "%s shrank while its index was built", m->path);
        if (rc == POOL_ELIMIT)
            return pool__fail(err, rc, NULL, NULL, "%s: too many names for an index", m->path);
        if (rc == -ENOMEM)
            return pool__fail(err, rc, NULL, NULL, "out of memory building the index of %s", m->path);
        return pool__fail_region(err, &j.rerr, NULL, NULL);
    }
    j.x->build_ns = pool__now_ns() - t0;
    *out = j.x;
    return 0;
}

uint32_t find__modidx_key(const find_modidx *x, const ln_module *lm, uint64_t h, const char *text, size_t len)
{
    if (!x->nkeys)
        return UINT32_MAX;
    for (size_t s = (size_t)mix(h) & x->mask; x->slots[s]; s = (s + 1) & x->mask) {
        uint32_t k = x->slots[s] - 1;
        if (x->key_hash[k] != h)
            continue;
        bool eq = false;
        region_error ignore;
        if (ln_name_eq_text(lm, x->key_name[k], text, len, &eq, &ignore) == 0 && eq)
            return k;
    }
    return UINT32_MAX;
}

bool find__modidx_is_key(const find_modidx *x, uint32_t k, lx_word w)
{
    if (x->key_name[k] == w)
        return true;
    for (uint32_t a = x->key_alias[k]; a < x->key_alias[k + 1]; a++)
        if (x->alias[a] == w)
            return true;
    return false;
}
