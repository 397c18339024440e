/*
 * pool/declinfo.c — what an environment's extension entries say about its
 * declarations: docstrings, source ranges, attributes with their details,
 * instances by class, module docs, and each module's .lean file.
 *
 * Built once per environment by pool_env_declinfo_build (on a worker: it
 * decodes every entry of every known extension of every module once, under
 * region_guard_run), published with a release store, then read without locks.
 * A malformed entry is counted and skipped: it costs only itself.
 *
 * Layout (memory per constant is what `recs` costs; the rest is per entry):
 *   recs[ordinal]  16 bytes: doc and range entry (1 + index into ents, 0 none),
 *                  attribute bits, head of the chain of detail entries
 *   ents[]         16 bytes per recorded entry: module, extension, entry index,
 *                  next in its constant's chain, kind
 *   attr_ords      the ordinals of each attribute, in import order
 *   insts          instances sorted by (class hash, priority desc, later first)
 *   mdocs          module-doc entries, per module in source order
 * Entries are referenced, not copied: readers decode the one they show again
 * (a few checked reads), so the maps stay small.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "region/guard.h"
#include "util/mem.h"

typedef struct rec {
    uint32_t doc, range;  /* 1 + ents index, 0: none */
    uint32_t attrs;       /* bit per enum pool_attr */
    uint32_t detail;      /* 1 + ents index of the first detail entry */
} rec;

typedef struct ent {
    uint32_t module, ext, index;
    uint32_t next;        /* 1 + ents index of the next detail of the same constant */
} ent;

typedef struct inst {
    uint64_t class_hash;
    uint64_t priority;
    uint32_t ord, ent, seq;
    uint32_t module;      /* module of class_word */
    lx_word  class_word;  /* the class Name */
} inst;

struct pool_declinfo {
    uint64_t  total;
    rec      *recs;
    ent      *ents;
    size_t    nents, cap;
    uint8_t  *ent_kind;     /* [cap] enum ln_ext_kind of each ents[] */
    uint32_t  attr_off[POOL_ATTR_COUNT + 1];
    uint32_t *attr_ords;
    inst     *insts;
    size_t    ninsts, icap;
    uint32_t *mdoc_off;     /* [nmods + 1] into mdocs */
    uint32_t *mdocs;        /* ents indices */
    size_t    nmdocs, mcap;
    char    **source;       /* [nmods] */
    size_t    nmods;
    pool_declinfo_stats st;
};

static const char *const attr_names[POOL_ATTR_COUNT] = {
    "simp", "instance", "class", "reducible", "semireducible", "irreducible", "implicit_reducible",
    "instance_reducible", "inline", "noinline", "macro_inline", "inline_if_reduce", "always_inline",
    "deprecated", "protected", "noncomputable", "extern", "implemented_by",
};

const char *pool_attr_name(enum pool_attr a)
{
    return (unsigned)a < POOL_ATTR_COUNT ? attr_names[a] : "?";
}

int pool_attr_parse(const char *s, size_t len, enum pool_attr *out)
{
    for (unsigned i = 0; i < POOL_ATTR_COUNT; i++)
        if (strlen(attr_names[i]) == len && memcmp(attr_names[i], s, len) == 0) {
            *out = (enum pool_attr)i;
            return 0;
        }
    return POOL_EINVAL;
}

void pool__declinfo_free(struct pool_declinfo *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->source && i < d->nmods; i++)
        mem_free(d->source[i]);
    mem_free(d->source);
    mem_free(d->recs);
    mem_free(d->ents);
    mem_free(d->ent_kind);
    mem_free(d->attr_ords);
    mem_free(d->insts);
    mem_free(d->mdoc_off);
    mem_free(d->mdocs);
    mem_free(d);
}

void pool__env_declinfo_free(pool_env *e)
{
    struct pool_declinfo *d = atomic_load(&e->declinfo);
    if (!d)
        return;
    pool__modcache_declinfo_count(e->mc, -1, d->st.bytes, d->total);
    pool__declinfo_free(d);
}

/* ---- building ----------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    void *q = mem_try_realloc(*p, ncap * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

/* Appends an entry reference; *idx gets 1 + its index. */
static int add_ent(struct pool_declinfo *d, uint32_t k, uint32_t x, uint64_t j, enum ln_ext_kind kind,
                   uint32_t *idx)
{
    size_t cap = d->cap;
    if (j > UINT32_MAX || d->nents + 1 > UINT32_MAX)
        return POOL_ELIMIT;
    if (grow((void **)&d->ents, &cap, d->nents + 1, sizeof *d->ents))
        return -ENOMEM;
    if (cap != d->cap) {
        uint8_t *kk = mem_try_realloc(d->ent_kind, cap);
        if (!kk)
            return -ENOMEM;
        d->ent_kind = kk;
        d->cap = cap;
    }
    d->ents[d->nents] = (ent){k, x, (uint32_t)j, 0};
    d->ent_kind[d->nents] = (uint8_t)kind;
    *idx = (uint32_t)++d->nents;
    return 0;
}

static void set_reducibility(rec *r, uint32_t status)
{
    static const enum pool_attr bits[] = {POOL_ATTR_REDUCIBLE, POOL_ATTR_SEMIREDUCIBLE, POOL_ATTR_IRREDUCIBLE,
                                          POOL_ATTR_IMPLICIT_REDUCIBLE, POOL_ATTR_INSTANCE_REDUCIBLE};
    for (size_t i = 0; i < 5; i++)
        r->attrs &= ~(1u << bits[i]);
    if (status < 5)
        r->attrs |= 1u << bits[status];
}

/* The class of an instance constant (ln_instance_class of its type), or 0. */
static lx_word class_of(const ln_module *lm, lx_word info)
{
    ln_const c;
    lx_word cls = 0;
    region_error ignore;
    if (ln_const_decode(lm, info, &c, &ignore) || ln_instance_class(lm, c.type, &cls, &ignore))
        return 0;
    return cls;
}

/* DIR/A/B.lean for module A.B if that file exists, else NULL. */
static char *source_in(const char *dir, const char *name, size_t nlen)
{
    size_t dlen = strlen(dir);
    char *src = mem_try_alloc(dlen + 1 + nlen + 6);
    if (!src)
        return NULL;
    memcpy(src, dir, dlen);
    size_t at = dlen;
    if (dlen == 0 || dir[dlen - 1] != '/')
        src[at++] = '/';
    for (size_t i = 0; i < nlen; i++)
        src[at + i] = name[i] == '.' ? '/' : name[i];
    memcpy(src + at + nlen, ".lean", 6);
    if (access(src, F_OK) == 0)
        return src;
    mem_free(src);
    return NULL;
}

/*
 * The .lean file of module k: A/B.lean under the first source directory
 * (pool_config.source_roots, envpoold --source-path) that has it; else from
 * Lake's layout, which puts A/B.olean under PKG/.lake/build/lib/lean/
 * (PKG/.lake/build/lib/ and PKG/build/lib/ in older Lake) and A/B.lean under
 * PKG. NULL if no such file exists. The name was checked at resolution (no
 * '/', no empty component), so the path stays under the directory.
 */
static char *source_of(const pool_env *e, size_t k)
{
    const char *path = e->mods[k].m->path, *name = e->mods[k].name;
    size_t plen = strlen(path), nlen = strlen(name);
    const pool_roots *dirs = pool__modcache_sources(e->mc);
    for (size_t i = 0; dirs && i < pool_roots_count(dirs); i++) {
        char *s = source_in(pool_roots_get(dirs, i), name, nlen);
        if (s)
            return s;
    }
    /* the module's path relative to its root: the name with '/' for '.' plus ".olean" */
    if (plen < nlen + 6 || strcmp(path + plen - 6, ".olean") != 0)
        return NULL;
    size_t rel = plen - 6 - nlen;
    for (size_t i = 0; i < nlen; i++)
        if (path[rel + i] != (name[i] == '.' ? '/' : name[i]))
            return NULL;
    static const char *const tails[] = {"/.lake/build/lib/lean/", "/.lake/build/lib/", "/build/lib/"};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        size_t tl = strlen(tails[t]);
        if (rel < tl || memcmp(path + rel - tl, tails[t], tl) != 0)
            continue;
        size_t pkg = rel - tl + 1; /* keeps the '/' */
        char *src = mem_try_alloc(pkg + nlen + 6);
        if (!src)
            return NULL;
        memcpy(src, path, pkg);
        memcpy(src + pkg, path + rel, nlen);
        memcpy(src + pkg + nlen, ".lean", 6);
        if (access(src, F_OK) == 0)
            return src;
        mem_free(src);
        return NULL;
    }
    return NULL;
}

static int add_detail(struct pool_declinfo *d, rec *r, uint32_t k, uint32_t x, uint64_t j, enum ln_ext_kind kind)
{
    uint32_t idx;
    int rc = add_ent(d, k, x, j, kind, &idx);
    if (rc)
        return rc;
    d->ents[idx - 1].next = r->detail;
    r->detail = idx;
    return 0;
}

/* One entry of module k: what it says goes into the maps. */
static int take_entry(struct pool_declinfo *d, const pool_env *e, uint32_t k, const ln_ext *x, uint32_t xi,
                      uint64_t j, const ln_ext_entry *en)
{
    const ln_module *lm = &e->mods[k].m->lm;
    uint32_t idx;
    int rc;
    if (x->kind == LN_EXT_MODULE_DOC) {
        if ((rc = add_ent(d, k, xi, j, x->kind, &idx)) ||
            grow((void **)&d->mdocs, &d->mcap, d->nmdocs + 1, sizeof *d->mdocs))
            return rc ? rc : -ENOMEM;
        d->mdocs[d->nmdocs++] = idx - 1;
        return 0;
    }
    if (x->kind == LN_EXT_NAMESPACE || x->kind == LN_EXT_ALIAS || !en->decl)
        return 0;
    uint64_t ord;
    if (pool__env_find_word(e, k, en->decl, &ord) != 0)
        return 0; /* about a name that is not a constant here (auxiliary, or outside the env) */
    rec *r = &d->recs[ord];
    switch (x->kind) {
    case LN_EXT_DOC:
        if (!r->doc && (rc = add_ent(d, k, xi, j, x->kind, &r->doc)))
            return rc;
        return 0;
    case LN_EXT_RANGE:
        if (!r->range && (rc = add_ent(d, k, xi, j, x->kind, &r->range)))
            return rc;
        return 0;
    case LN_EXT_INHERIT_DOC:
    case LN_EXT_STRUCTURE:
        return add_detail(d, r, k, xi, j, x->kind);
    case LN_EXT_PROTECTED: r->attrs |= 1u << POOL_ATTR_PROTECTED; return 0;
    case LN_EXT_NONCOMPUTABLE: r->attrs |= 1u << POOL_ATTR_NONCOMPUTABLE; return 0;
    case LN_EXT_CLASS: r->attrs |= 1u << POOL_ATTR_CLASS; return 0;
    case LN_EXT_REDUCIBILITY: set_reducibility(r, en->value); return 0;
    case LN_EXT_INLINE:
        if (en->value <= LN_ALWAYS_INLINE)
            r->attrs |= 1u << (POOL_ATTR_INLINE + en->value);
        return 0;
    case LN_EXT_EXTERN: r->attrs |= 1u << POOL_ATTR_EXTERN; return add_detail(d, r, k, xi, j, x->kind);
    case LN_EXT_IMPLEMENTED_BY:
        r->attrs |= 1u << POOL_ATTR_IMPLEMENTED_BY;
        return add_detail(d, r, k, xi, j, x->kind);
    case LN_EXT_DEPRECATED:
        r->attrs |= 1u << POOL_ATTR_DEPRECATED;
        return add_detail(d, r, k, xi, j, x->kind);
    case LN_EXT_SIMP: r->attrs |= 1u << POOL_ATTR_SIMP; return add_detail(d, r, k, xi, j, x->kind);
    case LN_EXT_INSTANCE: {
        r->attrs |= 1u << POOL_ATTR_INSTANCE;
        if ((rc = add_detail(d, r, k, xi, j, x->kind)))
            return rc;
        pool_const_ref ref;
        pool__env_ref_of(e, ord, &ref);
        const ln_module *cm = &e->mods[ref.module].m->lm;
        lx_word cls = class_of(cm, ref.info);
        uint64_t h;
        region_error ignore;
        if (!cls || ln_name_hash_compute(cm, cls, &h, &ignore))
            return 0; /* an instance of no recognisable class: listed under its attrs only */
        if (grow((void **)&d->insts, &d->icap, d->ninsts + 1, sizeof *d->insts))
            return -ENOMEM;
        d->insts[d->ninsts] = (inst){h, en->priority, (uint32_t)ord, r->detail - 1, (uint32_t)d->ninsts,
                                     ref.module, cls};
        d->ninsts++;
        (void)lm;
        return 0;
    }
    default:
        return 0;
    }
}

static int cmp_inst(const void *a, const void *b)
{
    const inst *x = a, *y = b;
    if (x->class_hash != y->class_hash)
        return x->class_hash < y->class_hash ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->seq > y->seq ? -1 : x->seq < y->seq; /* later first */
}

typedef struct build_job {
    const pool_env       *e;
    struct pool_declinfo *d;
} build_job;

static int build_fill(void *arg)
{
    build_job *j = arg;
    const pool_env *e = j->e;
    struct pool_declinfo *d = j->d;
    int rc;
    for (size_t k = 0; k < e->nmods; k++) {
        const ln_module *lm = &e->mods[k].m->lm;
        d->mdoc_off[k] = (uint32_t)d->nmdocs;
        d->source[k] = source_of(e, k);
        for (uint64_t xi = 0; xi < lm->nentries; xi++) {
            ln_ext x;
            region_error err;
            if (ln_ext_get(lm, xi, &x, &err)) {
                d->st.bad_entries++;
                continue;
            }
            for (uint64_t i = 0; x.kind != LN_EXT_OTHER && i < x.n; i++) {
                ln_ext_entry en;
                if (ln_ext_entry_get(lm, &x, i, &en, &err)) {
                    d->st.bad_entries++;
                    continue;
                }
                d->st.entries++;
                if ((rc = take_entry(d, e, (uint32_t)k, &x, (uint32_t)xi, i, &en)))
                    return rc;
            }
        }
    }
    d->mdoc_off[e->nmods] = (uint32_t)d->nmdocs;
    /* per-attribute ordinal lists, in import order */
    uint64_t counts[POOL_ATTR_COUNT] = {0}, sum = 0;
    for (uint64_t o = 0; o < d->total; o++)
        for (unsigned a = 0; a < POOL_ATTR_COUNT; a++)
            counts[a] += (d->recs[o].attrs >> a) & 1;
    for (unsigned a = 0; a < POOL_ATTR_COUNT; a++) {
        d->attr_off[a] = (uint32_t)sum;
        sum += counts[a];
    }
    d->attr_off[POOL_ATTR_COUNT] = (uint32_t)sum;
    if (sum && !(d->attr_ords = mem_try_array(sum, sizeof *d->attr_ords)))
        return -ENOMEM;
    uint32_t fill[POOL_ATTR_COUNT];
    memcpy(fill, d->attr_off, sizeof fill);
    for (uint64_t o = 0; o < d->total; o++)
        for (unsigned a = 0; a < POOL_ATTR_COUNT; a++)
            if ((d->recs[o].attrs >> a) & 1)
                d->attr_ords[fill[a]++] = (uint32_t)o;
    if (d->ninsts)   /* qsort's base must not be NULL, even for zero elements */
        qsort(d->insts, d->ninsts, sizeof *d->insts, cmp_inst);
    return 0;
}

static int declinfo_build(const pool_env *e, struct pool_declinfo **out, pool_error *err)
{
    uint64_t t0 = pool__now_ns();
    struct pool_declinfo *d = mem_try_calloc(1, sizeof *d);
    if (!d)
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for the declaration info");
    d->total = e->total;
    d->nmods = e->nmods;
    d->recs = mem_try_calloc(e->total ? e->total : 1, sizeof *d->recs);
    d->mdoc_off = mem_try_calloc(e->nmods + 1, sizeof *d->mdoc_off);
    d->source = mem_try_calloc(e->nmods ? e->nmods : 1, sizeof *d->source);
    int rc = -ENOMEM;
    if (d->recs && d->mdoc_off && d->source) {
        build_job j = {e, d};
        rc = region_guard_run(build_fill, &j);
    }
    if (rc) {
        pool__declinfo_free(d);
        return pool__fail(err, rc, NULL, NULL, "%s",
                          rc == REGION_ESTALE ? "a module file was truncated while its entries were read"
                                              : "cannot build the declaration info");
    }
    d->st.bytes = sizeof *d + d->total * sizeof *d->recs + d->cap * (sizeof *d->ents + 1) +
                  d->attr_off[POOL_ATTR_COUNT] * sizeof *d->attr_ords + d->icap * sizeof *d->insts +
                  (d->nmods + 1) * sizeof *d->mdoc_off + d->mcap * sizeof *d->mdocs + d->nmods * sizeof *d->source;
    d->st.build_ns = pool__now_ns() - t0;
    *out = d;
    return 0;
}

static struct pool_declinfo *get(const pool_env *e)
{
    return atomic_load_explicit(&((pool_env *)e)->declinfo, memory_order_acquire);
}

bool pool_env_declinfo_ready(const pool_env *e)
{
    return get(e) != NULL;
}

int pool_env_declinfo_build(const pool_env *e, pool_error *err)
{
    if (get(e))
        return 0;
    pool_env *me = (pool_env *)e; /* the lazily built maps are the one mutable part, like search */
    int rc = 0;
    pthread_mutex_lock(&me->declinfo_lock);
    if (!atomic_load_explicit(&me->declinfo, memory_order_relaxed)) {
        struct pool_declinfo *d = NULL;
        if ((rc = declinfo_build(e, &d, err)) == 0) {
            pool__modcache_declinfo_count(e->mc, 1, d->st.bytes, d->total);
            atomic_store_explicit(&me->declinfo, d, memory_order_release);
        }
    }
    pthread_mutex_unlock(&me->declinfo_lock);
    return rc;
}

void pool_env_declinfo_stats(const pool_env *e, pool_declinfo_stats *out)
{
    const struct pool_declinfo *d = get(e);
    if (d)
        *out = d->st;
    else
        memset(out, 0, sizeof *out);
}

/* ---- reading ------------------------------------------------------------ */

static pool_entry_ref ref_of(const struct pool_declinfo *d, uint32_t idx)
{
    if (!idx)
        return (pool_entry_ref){UINT32_MAX, 0, 0};
    const ent *x = &d->ents[idx - 1];
    return (pool_entry_ref){x->module, x->ext, x->index};
}

int pool_env_entry(const pool_env *e, const pool_entry_ref *r, ln_ext_entry *out, region_error *err)
{
    if (r->module >= e->nmods)
        return LN_EINVAL;
    const ln_module *lm = &e->mods[r->module].m->lm;
    ln_ext x;
    int rc = ln_ext_get(lm, r->ext, &x, err);
    return rc ? rc : ln_ext_entry_get(lm, &x, r->index, out, err);
}

int pool_env_decl_info(const pool_env *e, const pool_const_ref *ref, pool_decl_info *out)
{
    const struct pool_declinfo *d = get(e);
    if (!d)
        return POOL_EAGAIN;
    pool_entry_ref none = {UINT32_MAX, 0, 0};
    *out = (pool_decl_info){0, none, none, none, none, none, none, none, none, NULL};
    if (ref->module >= e->nmods)
        return POOL_EINVAL;
    uint64_t ord = e->base[ref->module] + ref->index;
    if (ord >= d->total)
        return POOL_EINVAL;
    const rec *r = &d->recs[ord];
    out->attrs = r->attrs;
    out->doc = ref_of(d, r->doc);
    out->range = ref_of(d, r->range);
    out->source = d->source[ref->module];
    uint32_t inherit = 0;
    for (uint32_t i = r->detail; i; i = d->ents[i - 1].next) {
        pool_entry_ref er = ref_of(d, i);
        switch ((enum ln_ext_kind)d->ent_kind[i - 1]) {
        case LN_EXT_INSTANCE: out->instance = er; break;
        case LN_EXT_SIMP: out->simp = er; break;
        case LN_EXT_DEPRECATED: out->deprecated = er; break;
        case LN_EXT_EXTERN: out->ext_extern = er; break;
        case LN_EXT_IMPLEMENTED_BY: out->implemented_by = er; break;
        case LN_EXT_STRUCTURE: out->structure = er; break;
        case LN_EXT_INHERIT_DOC: inherit = i; break;
        default: break;
        }
    }
    if (!r->doc && inherit) { /* @[inherit_doc target]: the target's doc, one level */
        ln_ext_entry en;
        region_error ignore;
        pool_entry_ref er = ref_of(d, inherit);
        uint64_t tord;
        if (pool_env_entry(e, &er, &en, &ignore) == 0 &&
            pool__env_find_word(e, er.module, en.name2, &tord) == 0 && tord < d->total)
            out->doc = ref_of(d, d->recs[tord].doc);
    }
    return 0;
}

int pool_env_decl_doc(const pool_env *e, const pool_const_ref *ref, const char **text, size_t *len)
{
    pool_decl_info info;
    int rc = pool_env_decl_info(e, ref, &info);
    if (rc)
        return rc;
    if (info.doc.module == UINT32_MAX)
        return 0;
    ln_ext_entry en;
    region_error err;
    if ((rc = pool_env_entry(e, &info.doc, &en, &err)) ||
        (rc = ln_string(&e->mods[info.doc.module].m->lm, en.text, text, len, &err)))
        return rc;
    return 1;
}

static int page_check(uint32_t limit, uint64_t cursor, uint64_t total)
{
    if (limit == 0 || limit > POOL_SEARCH_MAX_LIMIT || (cursor && cursor - 1 > total))
        return POOL_EINVAL;
    return 0;
}

int pool_env_attr_list(const pool_env *e, enum pool_attr a, uint32_t limit, uint64_t cursor,
                       pool_const_ref *refs, size_t *n, uint64_t *next_cursor)
{
    const struct pool_declinfo *d = get(e);
    *n = 0;
    *next_cursor = 0;
    if (!d)
        return POOL_EAGAIN;
    if ((unsigned)a >= POOL_ATTR_COUNT)
        return POOL_EINVAL;
    uint64_t lo = d->attr_off[a], hi = d->attr_off[a + 1], pos = cursor ? cursor - 1 : 0;
    if (page_check(limit, cursor, hi - lo))
        return POOL_EINVAL;
    for (; pos < hi - lo && *n < limit; pos++)
        pool__env_ref_of(e, d->attr_ords[lo + pos], &refs[(*n)++]);
    if (pos < hi - lo)
        *next_cursor = pos + 1;
    return 0;
}

int pool_env_instances(const pool_env *e, const char *cls, size_t len, uint32_t limit, uint64_t cursor,
                       pool_const_ref *refs, pool_entry_ref *entries, size_t *n, uint64_t *next_cursor)
{
    const struct pool_declinfo *d = get(e);
    *n = 0;
    *next_cursor = 0;
    if (!d)
        return POOL_EAGAIN;
    uint64_t h;
    if (ln_name_hash_text(cls, len, &h))
        return POOL_EINVAL;
    size_t lo = 0, hi = d->ninsts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->insts[mid].class_hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < d->ninsts && d->insts[end].class_hash == h)
        end++;
    /* The class's slice; a hash collision with another class is filtered by the name itself. */
    uint64_t pos = cursor ? cursor - 1 : 0;
    if (page_check(limit, cursor, end - lo))
        return POOL_EINVAL;
    for (; lo + pos < end && *n < limit; pos++) {
        const inst *it = &d->insts[lo + pos];
        bool eq = false;
        region_error ignore;
        if (ln_name_eq_text(&e->mods[it->module].m->lm, it->class_word, cls, len, &eq, &ignore) || !eq)
            continue;
        pool__env_ref_of(e, it->ord, &refs[*n]);
        entries[*n] = ref_of(d, it->ent + 1);
        (*n)++;
    }
    if (lo + pos < end)
        *next_cursor = pos + 1;
    return 0;
}

int pool_env_module_docs(const pool_env *e, size_t module, uint32_t limit, uint64_t cursor,
                         pool_entry_ref *entries, size_t *n, uint64_t *next_cursor)
{
    const struct pool_declinfo *d = get(e);
    *n = 0;
    *next_cursor = 0;
    if (!d)
        return POOL_EAGAIN;
    if (module != SIZE_MAX && module >= e->nmods)
        return POOL_EINVAL;
    uint64_t lo = module == SIZE_MAX ? 0 : d->mdoc_off[module];
    uint64_t hi = module == SIZE_MAX ? d->nmdocs : d->mdoc_off[module + 1];
    uint64_t pos = cursor ? cursor - 1 : 0;
    if (page_check(limit, cursor, hi - lo))
        return POOL_EINVAL;
    for (; lo + pos < hi && *n < limit; pos++)
        entries[(*n)++] = ref_of(d, d->mdocs[lo + pos] + 1);
    if (lo + pos < hi)
        *next_cursor = pos + 1;
    return 0;
}
