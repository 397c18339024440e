/*
 * pool/find.c — decl.find over an environment: parse the query, resolve its
 * identifiers, narrow the candidates through the module indexes, apply the
 * name, kind and internal-name filters, match the term patterns, rank, page.
 *
 * Semantics (Loogle's, docs/protocol.md): a constant filter holds for a
 * declaration whose type mentions the constant or that is the constant; a
 * string filter for one whose name contains the string (ASCII letters
 * compared without case); term filters as find_match.c says. The constants
 * of term patterns narrow the candidates too (a match needs them), as do
 * numerals (OfNat.ofNat) when the environment has it. For queries of
 * constants and strings only the answer is exactly the declarations the
 * filters describe: the index is exact (names compared, not only hashes).
 *
 * Order: fewer constants in the type besides the query's first, then name
 * (bytewise). A cursor is that pair for the last item of a page, so a page
 * continues after it even if the environment was imported again meanwhile.
 */
#include "pool/find_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "region/guard.h"
#include "util/mem.h"

/* ---- index preparation ------------------------------------------------------ */

/*
 * The modules lacking an index are built by this thread and up to
 * FIND_BUILD_HELPERS helper threads (fewer on a machine with fewer CPUs, none
 * for a small environment), each taking the next module from a shared
 * counter: modules are independent (one lock per module and part, so two
 * environments preparing the same module build it once). The helpers live
 * for this call only and own nothing across it; a module build is guarded
 * (region_guard_run) on whichever thread runs it.
 */
enum { FIND_BUILD_HELPERS = 3, FIND_PARALLEL_MIN_MODULES = 32 };

int find__build_helpers = -1;

typedef struct prep_shared {
    const pool_env     *e;
    enum pool_find_part part;
    pool_find_ctl      *ctl;
    atomic_size_t       next;    /* next module to take */
    atomic_uint         done;    /* modules finished */
    atomic_bool         stop;
    pthread_mutex_t     lock;    /* rc, err */
    int                 rc;
    pool_error          err;
} prep_shared;

static void prep_fail(prep_shared *s, int rc, const pool_error *err, const char *module)
{
    pthread_mutex_lock(&s->lock);
    if (!s->rc) {
        s->rc = rc;
        if (err)
            s->err = *err;
        if (module && !s->err.module[0])
            snprintf(s->err.module, sizeof s->err.module, "%s", module);
    }
    pthread_mutex_unlock(&s->lock);
    atomic_store(&s->stop, true);
}

static void prep_loop(prep_shared *s)
{
    const pool_env *e = s->e;
    while (!atomic_load(&s->stop)) {
        if (s->ctl && atomic_load(&s->ctl->cancel)) {
            pool_error err;
            pool__fail(&err, POOL_ECANCELLED, NULL, NULL, "index build cancelled");
            prep_fail(s, POOL_ECANCELLED, &err, NULL);
            return;
        }
        size_t k = atomic_fetch_add(&s->next, 1);
        if (k >= e->nmods)
            return;
        const find_modidx *x;
        pool_error err;
        memset(&err, 0, sizeof err);
        int rc = pool__module_find_index(e->mods[k].m, (int)s->part, &x, &err);
        if (rc) {
            prep_fail(s, rc, &err, e->mods[k].name);
            return;
        }
        unsigned d = atomic_fetch_add(&s->done, 1) + 1;
        if (s->ctl)
            atomic_store(&s->ctl->loaded, (uint32_t)d);
    }
}

static void *prep_helper(void *arg)
{
    prep_loop(arg);
    return NULL;
}

int pool_env_find_prepare(const pool_env *e, enum pool_find_part part, pool_find_ctl *ctl, pool_error *err)
{
    if (ctl) {
        atomic_store(&ctl->total, (uint32_t)e->nmods);
        atomic_store(&ctl->loaded, 0);
    }
    size_t missing = 0;
    for (size_t k = 0; k < e->nmods; k++)
        missing += pool__module_find_ready(e->mods[k].m, (int)part) == NULL;
    prep_shared s;
    memset(&s, 0, sizeof s);
    s.e = e;
    s.part = part;
    s.ctl = ctl;
    atomic_init(&s.next, 0);
    atomic_init(&s.done, 0);
    atomic_init(&s.stop, false);
    pthread_mutex_init(&s.lock, NULL);
    pthread_t helpers[FIND_BUILD_HELPERS];
    size_t nh = 0;
    if (missing >= FIND_PARALLEL_MIN_MODULES) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t want = cpus > 1 ? (size_t)cpus - 1 : 0;
        if (find__build_helpers >= 0)
            want = (size_t)find__build_helpers < FIND_BUILD_HELPERS ? (size_t)find__build_helpers : FIND_BUILD_HELPERS;
        if (want > FIND_BUILD_HELPERS)
            want = FIND_BUILD_HELPERS;
        while (nh < want && pthread_create(&helpers[nh], NULL, prep_helper, &s) == 0)
            nh++; /* a helper that cannot start leaves its share to the others */
    }
    prep_loop(&s);
    for (size_t i = 0; i < nh; i++)
        pthread_join(helpers[i], NULL);
    pthread_mutex_destroy(&s.lock);
    if (s.rc == POOL_ECANCELLED)
        pool__modcache_find_cancelled(e->mc);
    if (s.rc && err)
        *err = s.err;
    return s.rc;
}

/* ---- internal names ---------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool prefix_num(const char *s, size_t n, const char *pre)
{
    size_t l = strlen(pre);
    return n > l && memcmp(s, pre, l) == 0 && digits(s + l, n - l);
}

/*
 * Loogle hides what doc-gen4 hides (isBlackListed). Without declaration
 * ranges we go by the name: a component starting with '_' or numeric,
 * match_N / proof_N / eq_N, the auxiliary recursors and no-confusion
 * constructions, the generated injectivity, sizeOf and ctorIdx lemmas; and
 * recursors.
 */
static bool internal_name(const char *s, size_t n, uint8_t kind)
{
    static const char *const aux[] = {"casesOn", "recOn", "brecOn", "binductionOn", "below", "ibelow",
                                      "noConfusion", "noConfusionType", "injEq", "inj", "sizeOf_spec",
                                      "ctorIdx", NULL};
    if (kind == LN_REC)
        return true;
    size_t start = 0;
    bool in_guil = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && (unsigned char)s[i] == 0xC2 && i + 1 < n) {
            if ((unsigned char)s[i + 1] == 0xAB)
                in_guil = true;
            else if ((unsigned char)s[i + 1] == 0xBB)
                in_guil = false;
        }
        if (i < n && (s[i] != '.' || in_guil))
            continue;
        const char *c = s + start;
        size_t l = i - start;
        if ((l && c[0] == '_') || digits(c, l) || prefix_num(c, l, "match_") || prefix_num(c, l, "proof_") ||
            prefix_num(c, l, "eq_"))
            return true;
        if (i == n)
            for (size_t k = 0; aux[k]; k++)
                if (strlen(aux[k]) == l && memcmp(aux[k], c, l) == 0)
                    return true;
        start = i + 1;
    }
    return false;
}

bool find__internal_name(const char *s, size_t n, uint8_t kind);
bool find__internal_name(const char *s, size_t n, uint8_t kind) { return internal_name(s, n, kind); }

/* ---- a query in flight --------------------------------------------------------- */

typedef struct rconst {
    uint64_t ord;     /* the constant's ordinal in e */
    char    *text;    /* its dotted name (new) */
    size_t   len;
    uint64_t hash;
    fm_const fc;
    bool     needle;  /* narrows candidates */
} rconst;

typedef struct hit {
    uint32_t extra;
    uint32_t rank;
    uint32_t entry;
} hit;

typedef struct find_job {
    const pool_env                   *e;
    const struct pool_search_index   *s;
    fq_query                          q;
    pool_find_result                 *res;
    rconst                           *consts;
    size_t                            nconsts, cap_consts;
    uint32_t                         *node_const;
    uint32_t                         *node_hole;
    uint32_t                          nnamed;
    uint32_t                          ofnat;
    uint64_t                         *cand;     /* candidate ordinals */
    size_t                            ncand;
    hit                              *hits;
    size_t                            nhits;
    fm_ctx                            fm;
    fm_const                         *fcs;
    uint32_t                         *keys;
} find_job;

static int fail(find_job *j, pool_error *err, int kind, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(find_job *j, pool_error *err, int kind, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->res->message, sizeof j->res->message, fmt, ap);
    va_end(ap);
    j->res->fail = kind;
    j->res->col = col;
    return pool__fail(err, POOL_EINVAL, NULL, NULL, "%s", j->res->message);
}

/* Name of a search entry. */
static void entry_of(const find_job *j, uint32_t entry, pool_search_entry *out)
{
    pool__search_entry(j->s, entry, out);
}

static bool ends_with_component(const char *name, size_t n, const char *t, size_t tl)
{
    return n > tl && name[n - tl - 1] == '.' && memcmp(name + n - tl, t, tl) == 0;
}

/* Explicit-binder mask of constant ord's type. */
static void explicit_mask(const pool_env *e, uint64_t ord, fm_const *fc, int64_t *first_explicit_level)
{
    pool_const_ref ref;
    pool__env_ref_of(e, ord, &ref);
    const ln_module *lm = &e->mods[ref.module].m->lm;
    ln_const c;
    memset(fc, 0, sizeof *fc);
    if (first_explicit_level)
        *first_explicit_level = -1;
    if (ln_const_decode(lm, ref.info, &c, NULL))
        return;
    lx_word t = c.type;
    for (uint32_t i = 0; i < 64; i++) {
        ln_expr x;
        if (ln_expr_view(lm, t, &x, NULL))
            break;
        if (x.kind == LN_MDATA) {
            t = x.b;
            i--;
            continue;
        }
        if (x.kind != LN_FORALL)
            break;
        if (x.binder_info == LN_BI_DEFAULT) {
            fc->explicit_mask |= 1ull << i;
            if (first_explicit_level && *first_explicit_level == -1) {
                ln_expr dom;
                uint64_t b;
                *first_explicit_level = -2;
                if (ln_expr_view(lm, x.b, &dom, NULL) == 0 && dom.kind == LN_BVAR &&
                    ln_nat_u64(lm, dom.a, &b, NULL) == 0 && b < i)
                    *first_explicit_level = (int64_t)(i - 1 - b);
            }
        }
        fc->nbind = i + 1;
        t = x.c;
    }
}

/* Adds (or finds) the resolved constant ord; returns its index. */
static int const_add(find_job *j, uint64_t ord, const char *text, size_t len, bool needle, uint32_t *out)
{
    for (size_t i = 0; i < j->nconsts; i++)
        if (j->consts[i].ord == ord) {
            j->consts[i].needle |= needle;
            *out = (uint32_t)i;
            return 0;
        }
    if (j->nconsts == j->cap_consts) {
        size_t ncap = j->cap_consts ? j->cap_consts * 2 : 16;
        rconst *n = mem_try_realloc(j->consts, ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        j->consts = n;
        j->cap_consts = ncap;
    }
    rconst *c = &j->consts[j->nconsts];
    memset(c, 0, sizeof *c);
    c->ord = ord;
    c->text = mem_try_alloc(len + 1);
    if (!c->text)
        return -ENOMEM;
    memcpy(c->text, text, len);
    c->text[len] = 0;
    c->len = len;
    if (ln_name_hash_text(text, len, &c->hash))
        c->hash = 0;
    c->needle = needle;
    explicit_mask(j->e, ord, &c->fc, NULL);
    *out = (uint32_t)j->nconsts++;
    return 0;
}

/*
 * An identifier of the query → a constant of e, as Lean resolves a name with
 * no namespace open: the exact name; else a private declaration of that
 * name (`_private.M.0.x`) if there is exactly one; else an error listing the
 * constants whose name ends in `.x`.
 */
static int resolve(find_job *j, const char *text, size_t len, uint32_t col, uint64_t *ord, pool_error *err)
{
    pool_const_ref ref;
    int rc = pool_env_lookup(j->e, text, len, &ref);
    if (rc == 0) {
        *ord = j->e->base[ref.module] + ref.index;
        return 0;
    }
    if (rc != POOL_ENOCONST)
        return fail(j, err, POOL_FIND_SYNTAX, col, "'%.*s' is not a well-formed name", (int)len, text);
    pool_find_result *res = j->res;
    uint32_t n = pool__search_count(j->s);
    size_t nprivate = 0, ncand = 0;
    uint32_t private_entry = 0;
    for (uint32_t i = 0; i < n; i++) {
        pool_search_entry se;
        entry_of(j, i, &se);
        if (!ends_with_component(se.name, se.len, text, len))
            continue;
        if (se.len > 9 && !memcmp(se.name, "_private.", 9)) {
            nprivate++;
            private_entry = i;
        }
        if (ncand < POOL_FIND_MAX_CANDIDATES)
            snprintf(res->candidates[ncand++], sizeof res->candidates[0], "%s", se.name);
    }
    if (nprivate == 1) {
        pool_search_entry se;
        entry_of(j, private_entry, &se);
        *ord = se.ord;
        return 0;
    }
    res->ncandidates = ncand;
    snprintf(res->name, sizeof res->name, "%.*s", (int)len, text);
    if (nprivate > 1)
        return fail(j, err, POOL_FIND_AMBIGUOUS, col, "ambiguous identifier '%.*s' (%zu private declarations)",
                    (int)len, text, nprivate);
    return fail(j, err, POOL_FIND_UNKNOWN, col, "unknown identifier '%.*s'", (int)len, text);
}

/* Resolves an FQ_IDENT node (notation: the first of its candidates that exists). */
static int resolve_node(find_job *j, uint32_t id, bool needle, pool_error *err)
{
    fq_node *nd = &j->q.nodes[id];
    const char *t = j->q.text + nd->text;
    uint64_t ord = 0;
    int rc;
    if (nd->alts == 0) {
        if ((rc = resolve(j, t, nd->len, nd->col, &ord, err)))
            return rc;
    } else {
        const char *s = t;
        bool found = false;
        for (unsigned k = 0; k < nd->alts && !found; k++, s += strlen(s) + 1) {
            pool_const_ref ref;
            if (pool_env_lookup(j->e, s, strlen(s), &ref) == 0) {
                ord = j->e->base[ref.module] + ref.index;
                t = s;
                found = true;
            }
        }
        if (!found) {
            snprintf(j->res->name, sizeof j->res->name, "%s", t);
            return fail(j, err, POOL_FIND_UNKNOWN, nd->col,
                        "this notation stands for %s%s, which this environment does not have", t,
                        nd->alts > 1 ? " (or another spelling)" : "");
        }
    }
    pool_const_ref ref;
    pool__env_ref_of(j->e, ord, &ref);
    pool_search_entry se;
    uint32_t entry;
    if (pool__search_entry_of(j->s, ord, &entry)) {
        entry_of(j, entry, &se);
        t = se.name;
    }
    return const_add(j, ord, t, strlen(t), needle, &j->node_const[id]);
}

/* Walks every node of the term filters: resolves identifiers, numbers named holes. */
static int prepare_terms(find_job *j, pool_error *err)
{
    fq_query *q = &j->q;
    j->node_const = mem_try_array(q->nnodes ? q->nnodes : 1, sizeof *j->node_const);
    j->node_hole = mem_try_calloc(q->nnodes ? q->nnodes : 1, sizeof *j->node_hole);
    if (!j->node_const || !j->node_hole)
        return -ENOMEM;
    for (size_t i = 0; i < q->nnodes; i++)
        j->node_const[i] = UINT32_MAX;
    bool numerals = false;
    int rc;
    for (size_t fi = 0; fi < q->nfilters; fi++) {
        fq_filter *f = &q->filters[fi];
        if (f->kind == FQF_NAME)
            continue;
        /* nodes of one filter: a DFS from its root */
        uint32_t stack[FQ_MAX_NODES], seen_named[FQ_MAX_NODES];
        size_t sp = 0;
        uint32_t named = 0; /* distinct hole names so far: hole ids 0..named-1 */
        stack[sp++] = f->node;
        while (sp) {
            uint32_t id = stack[--sp];
            fq_node *nd = &q->nodes[id];
            if (sp + 2 + (nd->kind == FQ_APP ? nd->nargs : 0) > sizeof stack / sizeof stack[0])
                return fail(j, err, POOL_FIND_SYNTAX, nd->col, "query too large");
            switch (nd->kind) {
            case FQ_IDENT:
                if ((rc = resolve_node(j, id, true, err)))
                    return rc;
                break;
            case FQ_NAMED: {
                /* the same name in this filter, the same hole */
                uint32_t h = named;
                for (uint32_t k = 0; k < named; k++) {
                    const fq_node *o = &q->nodes[seen_named[k]];
                    if (o->len == nd->len && !memcmp(q->text + o->text, q->text + nd->text, nd->len)) {
                        h = j->node_hole[seen_named[k]];
                        break;
                    }
                }
                j->node_hole[id] = h;
                if (h == named)
                    seen_named[named++] = id;
                break;
            }
            case FQ_NUM: numerals = true; break;
            case FQ_APP:
                stack[sp++] = nd->a;
                for (uint32_t k = 0; k < nd->nargs; k++)
                    stack[sp++] = q->args[nd->first + k];
                break;
            case FQ_PI:
            case FQ_LAM:
                stack[sp++] = nd->a;
                stack[sp++] = nd->b;
                break;
            default: break;
            }
        }
        if (named > j->nnamed)
            j->nnamed = named;
    }
    j->ofnat = UINT32_MAX;
    if (numerals) {
        pool_const_ref ref;
        if (pool_env_lookup(j->e, "OfNat.ofNat", 11, &ref) == 0 &&
            (rc = const_add(j, j->e->base[ref.module] + ref.index, "OfNat.ofNat", 11, true, &j->ofnat)))
            return rc;
    }
    /* ∈: Membership.mem took the collection first from 2024 on; place the arguments as this environment has it */
    for (size_t k = 0; k < q->nnodes; k++) {
        fq_node *nd = &q->nodes[k];
        if (nd->kind != FQ_APP || nd->note != FQ_NOTE_MEM || nd->nargs != 2 || j->node_const[nd->a] == UINT32_MAX)
            continue;
        fm_const fc;
        int64_t level;
        explicit_mask(j->e, j->consts[j->node_const[nd->a]].ord, &fc, &level);
        if (level == 1) {
            uint32_t t = q->args[nd->first];
            q->args[nd->first] = q->args[nd->first + 1];
            q->args[nd->first + 1] = t;
        }
    }
    return 0;
}

/* ---- candidates ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The declarations whose type mentions constant c, or that are c: sorted ordinals (new). */
static int postings(find_job *j, const rconst *c, uint64_t **out, size_t *n)
{
    const pool_env *e = j->e;
    size_t cap = 64, len = 0;
    uint64_t *v = mem_try_array(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    bool self = false;
    for (size_t k = 0; k < e->nmods; k++) {
        const pool_module *m = e->mods[k].m;
        const find_modidx *x = pool__module_find_ready(m, FIND_TYPE);
        if (!x)
            continue;
        uint32_t key = find__modidx_key(x, &m->lm, c->hash, c->text, c->len);
        if (key == UINT32_MAX)
            continue;
        for (uint32_t p = x->post_off[key]; p < x->post_off[key + 1]; p++) {
            uint64_t ord = e->base[k] + x->post[p];
            if (pool__env_is_shadowed(e, ord))
                continue;
            if (len == cap) {
                uint64_t *nv = mem_try_realloc(v, cap * 2 * sizeof *v);
                if (!nv) {
                    mem_free(v);
                    return -ENOMEM;
                }
                v = nv;
                cap *= 2;
            }
            self |= ord == c->ord;
            v[len++] = ord;
        }
    }
    if (!self) {
        if (len == cap) {
            uint64_t *nv = mem_try_realloc(v, (cap + 1) * sizeof *v);
            if (!nv) {
                mem_free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        v[len++] = c->ord;
        qsort(v, len, sizeof *v, cmp_u64);
    }
    *out = v;
    *n = len;
    return 0;
}

static int candidates(find_job *j)
{
    uint64_t *acc = NULL;
    size_t nacc = 0;
    bool any = false;
    for (size_t i = 0; i < j->nconsts; i++) {
        if (!j->consts[i].needle)
            continue;
        uint64_t *v;
        size_t n;
        int rc = postings(j, &j->consts[i], &v, &n);
        if (rc) {
            mem_free(acc);
            return rc;
        }
        if (!any) {
            acc = v;
            nacc = n;
            any = true;
            continue;
        }
        size_t a = 0, b = 0, o = 0;
        while (a < nacc && b < n) {
            if (acc[a] < v[b])
                a++;
            else if (acc[a] > v[b])
                b++;
            else {
                acc[o++] = acc[a];
                a++;
                b++;
            }
        }
        nacc = o;
        mem_free(v);
    }
    if (!any) {
        /* names only: every visible declaration */
        uint32_t n = pool__search_count(j->s);
        acc = mem_try_array(n ? n : 1, sizeof *acc);
        if (!acc)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            pool_search_entry se;
            entry_of(j, i, &se);
            acc[i] = se.ord;
        }
        nacc = n;
    }
    j->cand = acc;
    j->ncand = nacc;
    return 0;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool ci_contains(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn > hn)
        return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && lower(h[i + k]) == lower(nd[k]))
            k++;
        if (k == nn)
            return true;
    }
    return false;
}

static int cmp_hit(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->extra != y->extra)
        return x->extra < y->extra ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* "A", "A and B", "A, B and C" */
static void and_list(char *out, size_t size, const find_job *j, bool names)
{
    size_t n = 0, total = 0, used = strlen(out);
    if (names) {
        for (size_t i = 0; i < j->q.nfilters; i++)
            total += j->q.filters[i].kind == FQF_NAME;
    } else {
        for (size_t i = 0; i < j->nconsts; i++)
            total += j->consts[i].needle;
    }
    for (size_t i = 0; i < (names ? j->q.nfilters : j->nconsts); i++) {
        const char *t;
        int tl;
        if (names) {
            if (j->q.filters[i].kind != FQF_NAME)
                continue;
            t = j->q.text + j->q.filters[i].text;
            tl = (int)j->q.filters[i].len;
        } else {
            if (!j->consts[i].needle)
                continue;
            t = j->consts[i].text;
            tl = (int)j->consts[i].len;
        }
        const char *sep = n == 0 ? "" : n + 1 == total ? " and " : ", ";
        int w = snprintf(out + used, used < size ? size - used : 0, names ? "%s\"%.*s\"" : "%s%.*s", sep, tl, t);
        if (w > 0)
            used += (size_t)w;
        if (used >= size)
            break;
        n++;
    }
}

static int find_run(void *arg);

typedef struct run_args {
    find_job            *j;
    const pool_find_query *fq;
    pool_error          *err;
} run_args;

int pool_env_find(const pool_env *e, const pool_find_query *fq, pool_find_ctl *ctl, pool_find_result *res,
                  pool_error *err)
{
    memset(res, 0, sizeof *res);
    find_job j;
    memset(&j, 0, sizeof j);
    j.e = e;
    j.res = res;
    if (fq->limit == 0 || fq->limit > POOL_FIND_MAX_LIMIT)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "limit %u is not within 1..%d", fq->limit, POOL_FIND_MAX_LIMIT);
    uint64_t cur_extra = 0, cur_rank = 0;
    bool has_cursor = false;
    if (fq->cursor) {
        char *end;
        const char *c = fq->cursor;
        if (c[0] < '0' || c[0] > '9')
            goto bad_cursor;
        cur_extra = strtoull(c, &end, 10);
        if (*end != '.' || end[1] < '0' || end[1] > '9')
            goto bad_cursor;
        cur_rank = strtoull(end + 1, &end, 10);
        if (*end || cur_extra > UINT32_MAX || cur_rank > UINT32_MAX)
            goto bad_cursor;
        has_cursor = true;
    }
    fq_error perr;
    int rc = fq_parse(fq->text, fq->len, &j.q, &perr);
    if (rc == POOL_EINVAL)
        return fail(&j, err, POOL_FIND_SYNTAX, perr.col, "%s", perr.msg);
    if (rc)
        return pool__fail(err, rc, NULL, NULL, "out of memory parsing the query");
    if ((rc = pool_env_find_prepare(e, POOL_FIND_TYPES, ctl, err)) ||
        (rc = pool__search_get(e, &j.s))) {
        if (rc && err && !err->reason[0])
            pool__fail(err, rc, NULL, NULL, "cannot build the name table");
        goto out;
    }
    {
        run_args ra = {&j, fq, err};
        /* the run reads mapped files: guarded, and it owns nothing that a fault would leak but j */
        rc = region_guard_run(find_run, &ra);
        if (rc == REGION_ESTALE && err && !err->reason[0])
            pool__fail(err, rc, NULL, NULL, "a module file shrank while it was searched");
    }
    if (rc)
        goto out;
    qsort(j.hits, j.nhits, sizeof *j.hits, cmp_hit);
    res->count = j.nhits;
    size_t start = 0;
    if (has_cursor) {
        hit key = {(uint32_t)cur_extra, (uint32_t)cur_rank, 0};
        size_t lo = 0, hi = j.nhits;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_hit(&j.hits[mid], &key) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        start = lo;
    }
    size_t n = j.nhits - start < fq->limit ? j.nhits - start : fq->limit;
    res->items = mem_try_array(n ? n : 1, sizeof *res->items);
    if (!res->items) {
        rc = pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for results");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const hit *h = &j.hits[start + i];
        pool_search_entry se;
        entry_of(&j, h->entry, &se);
        pool_find_item *it = &res->items[i];
        pool__env_ref_of(e, se.ord, &it->ref);
        it->kind = se.kind;
        it->extra = h->extra;
        it->name = se.name;
        it->name_len = se.len;
    }
    res->n = n;
    if (start + n < j.nhits)
        snprintf(res->next_cursor, sizeof res->next_cursor, "%u.%u", j.hits[start + n - 1].extra,
                 j.hits[start + n - 1].rank);
out:
    for (size_t i = 0; i < j.nconsts; i++)
        mem_free(j.consts[i].text);
    mem_free(j.consts);
    mem_free(j.node_const);
    mem_free(j.node_hole);
    mem_free(j.cand);
    mem_free(j.hits);
    mem_free(j.fcs);
    mem_free(j.keys);
    fm_ctx_deinit(&j.fm);
    fq_query_deinit(&j.q);
    if (rc) {
        mem_free(res->items);
        res->items = NULL;
        res->n = 0;
    }
    return rc;
bad_cursor:
    res->fail = POOL_FIND_BAD_CURSOR;
    snprintf(res->message, sizeof res->message, "cursor is not a next_cursor of decl.find");
    return pool__fail(err, POOL_EINVAL, NULL, NULL, "%s", res->message);
}

static int find_run(void *arg)
{
    run_args *ra = arg;
    find_job *j = ra->j;
    const pool_find_query *fq = ra->fq;
    pool_error *err = ra->err;
    const pool_env *e = j->e;
    pool_find_result *res = j->res;
    int rc;
    if ((rc = prepare_terms(j, err)))
        return rc;
    bool has_terms = false, has_needles = false;
    size_t nnames = 0;
    for (size_t i = 0; i < j->q.nfilters; i++) {
        has_terms |= j->q.filters[i].kind == FQF_TERM || j->q.filters[i].kind == FQF_CONCL;
        nnames += j->q.filters[i].kind == FQF_NAME;
    }
    for (size_t i = 0; i < j->nconsts; i++)
        has_needles |= j->consts[i].needle;
    if (!has_needles && nnames == 0)
        return fail(j, err, POOL_FIND_TOO_GENERAL, j->q.filters[0].col,
                    "cannot search: no constants or name fragments in the query");
    if ((rc = candidates(j)))
        return rc;
    /* matcher context */
    if ((rc = fm_ctx_init(&j->fm, j->nnamed)))
        return rc;
    j->fcs = mem_try_array(j->nconsts ? j->nconsts : 1, sizeof *j->fcs);
    j->keys = mem_try_array(j->nconsts ? j->nconsts : 1, sizeof *j->keys);
    j->hits = mem_try_array(j->ncand ? j->ncand : 1, sizeof *j->hits);
    if (!j->fcs || !j->keys || !j->hits)
        return -ENOMEM;
    for (size_t i = 0; i < j->nconsts; i++)
        j->fcs[i] = j->consts[i].fc;
    j->fm.q = &j->q;
    j->fm.node_const = j->node_const;
    j->fm.consts = j->fcs;
    j->fm.node_hole = j->node_hole;
    j->fm.ofnat = j->ofnat;
    j->fm.key = j->keys;
    size_t nneedles = 0;
    for (size_t i = 0; i < j->nconsts; i++)
        nneedles += j->consts[i].needle;
    size_t cur_mod = SIZE_MAX;
    const find_modidx *x = NULL;
    uint64_t after_index = 0, after_names = 0;
    for (size_t ci = 0; ci < j->ncand; ci++) {
        uint64_t ord = j->cand[ci];
        uint32_t entry;
        if (!pool__search_entry_of(j->s, ord, &entry))
            continue;
        pool_search_entry se;
        entry_of(j, entry, &se);
        if (!fq->internal && internal_name(se.name, se.len, se.kind))
            continue;
        if (fq->kinds && (se.kind >= 32 || !((fq->kinds >> se.kind) & 1)))
            continue;
        after_index++;
        bool names_ok = true;
        for (size_t fi = 0; fi < j->q.nfilters && names_ok; fi++) {
            const fq_filter *f = &j->q.filters[fi];
            if (f->kind == FQF_NAME)
                names_ok = ci_contains(se.name, se.len, j->q.text + f->text, f->len);
        }
        if (!names_ok)
            continue;
        after_names++;
        size_t k = pool__env_module_of(e, ord);
        uint32_t local = (uint32_t)(ord - e->base[k]);
        if (k != cur_mod) {
            cur_mod = k;
            x = pool__module_find_ready(e->mods[k].m, FIND_TYPE);
            if (!x)
                return pool__fail(err, -ENOMEM, NULL, NULL, "index missing");
            for (size_t i = 0; i < j->nconsts; i++)
                j->keys[i] = find__modidx_key(x, &e->mods[k].m->lm, j->consts[i].hash, j->consts[i].text,
                                              j->consts[i].len);
            j->fm.lm = &e->mods[k].m->lm;
            j->fm.x = x;
        }
        if (has_terms) {
            if (x->bad[local])
                continue;
            pool_const_ref ref;
            pool__env_ref_of(e, ord, &ref);
            ln_const c;
            if (ln_const_decode(j->fm.lm, ref.info, &c, NULL))
                continue;
            bool ok = true;
            for (size_t fi = 0; fi < j->q.nfilters && ok; fi++) {
                const fq_filter *f = &j->q.filters[fi];
                if (f->kind != FQF_TERM && f->kind != FQF_CONCL)
                    continue;
                ok = fm_filter(&j->fm, f, c.type);
                if (j->fm.err)
                    return pool__fail(err, j->fm.err, NULL, NULL, "out of memory matching");
                if (j->fm.over)
                    res->over_budget++;
            }
            if (!ok)
                continue;
        }
        bool is_needle = false;
        for (size_t i = 0; i < j->nconsts; i++)
            is_needle |= j->consts[i].needle && j->consts[i].ord == ord;
        uint32_t mentioned = (uint32_t)(nneedles - (is_needle ? 1 : 0));
        uint32_t nc = x->nconsts[local];
        j->hits[j->nhits++] = (hit){nc > mentioned ? nc - mentioned : 0, se.rank, entry};
    }
    res->narrowed = after_names;
    /* Loogle's header */
    char *h = res->header;
    size_t hs = sizeof res->header;
    if (has_needles) {
        snprintf(h, hs, "Found %" PRIu64 " declaration%s mentioning ", after_index, after_index == 1 ? "" : "s");
        and_list(h, hs, j, false);
        snprintf(h + strlen(h), hs - strlen(h), ".\n");
        if (nnames) {
            snprintf(h + strlen(h), hs - strlen(h), "Of these, %" PRIu64 " %s a name containing ", after_names,
                     after_names == 1 ? "has" : "have");
            and_list(h, hs, j, true);
            snprintf(h + strlen(h), hs - strlen(h), ".\n");
        }
    } else {
        snprintf(h, hs, "Found %" PRIu64 " declaration%s whose name contains ", after_names,
                 after_names == 1 ? "" : "s");
        and_list(h, hs, j, true);
        snprintf(h + strlen(h), hs - strlen(h), ".\n");
    }
    if (has_terms)
        snprintf(h + strlen(h), hs - strlen(h), "Of these, %zu match%s your pattern(s).\n", j->nhits,
                 j->nhits == 1 ? "es" : "");
    return 0;
}

void pool_find_result_deinit(pool_find_result *res)
{
    if (!res)
        return;
    mem_free(res->items);
    res->items = NULL;
    res->n = 0;
}
