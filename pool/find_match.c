/*
 * pool/find_match.c — matching a parsed term pattern against a declaration's
 * type, as Loogle does it with isDefEq at reducible transparency, but
 * syntactically (no unfolding, no elaboration):
 *
 *  - `_` matches anything; `?a` matches anything the first time and, after
 *    that, only a term equal to the first (bound variables compared by the
 *    binder they point to, universe levels ignored);
 *  - a constant applied to arguments matches an application of that
 *    constant whose explicit arguments (per the constant's binder infos)
 *    match the pattern's arguments one for one; implicit, strict-implicit
 *    and instance arguments match anything; universe levels are ignored;
 *  - `Prop` matches a sort whose level may be zero, `Type _` one whose level
 *    is not literally zero, `Sort _` any sort;
 *  - a numeral n matches `OfNat.ofNat _ n _` or the raw literal n;
 *  - `∀`/`→`/`fun` match binders of the same kind (binder names and infos
 *    ignored), bound variables the corresponding bound variable;
 *  - at the top of a filter (Loogle's matchUpToHyps), the pattern's leading
 *    ∀/→ binders are hypotheses: the pattern's conclusion must match the
 *    subterm's conclusion (after all its ∀/→ binders), then each pattern
 *    hypothesis must match a distinct hypothesis of the subterm, in any
 *    order, greedily in the pattern's order (Loogle's matchHyps);
 *  - a term filter holds when this succeeds for some subterm of the type
 *    (every distinct subterm is tried, partial applications included); a
 *    ⊢ filter when it succeeds for the type itself.
 *
 * Work is bounded per candidate (FM_BUDGET steps): past it the candidate
 * does not match and c->over says so. Expressions are read only through
 * lean/'s accessors (ln_expr_view, ln_level_view, ln_string, ln_nat_u64).
 */
#include "pool/find_internal.h"

#include <errno.h>
#include <string.h>

#include "util/mem.h"

int fm_ctx_init(fm_ctx *c, uint32_t nnamed)
{
    memset(c, 0, sizeof *c);
    c->nnamed = nnamed;
    c->holes = mem_try_calloc((size_t)nnamed + FM_MAX_PARAMS, sizeof *c->holes);
    return c->holes ? 0 : -ENOMEM;
}

void fm_ctx_deinit(fm_ctx *c)
{
    mem_free(c->holes);
    mem_free(c->undo);
    mem_free(c->stack);
    find__ws_deinit(&c->seen);
    memset(c, 0, sizeof *c);
}

static bool step(fm_ctx *c)
{
    if (++c->steps > FM_BUDGET) {
        c->over = true;
        return false;
    }
    return true;
}

/* Views e with mdata skipped; false on a decoding error or the budget. */
static bool view(fm_ctx *c, lx_word e, ln_expr *x)
{
    for (int guard = 0; guard < 1024; guard++) {
        if (!step(c) || ln_expr_view(c->lm, e, x, NULL))
            return false;
        if (x->kind != LN_MDATA)
            return true;
        e = x->b;
    }
    return false;
}

/* ---- equality of two subterms (named holes) --------------------------------- */

typedef struct eq_item {
    lx_word  a, b;
    uint32_t j;  /* binders entered below the starting points */
} eq_item;

static bool const_name_eq(fm_ctx *c, lx_word a, lx_word b)
{
    if (a == b)
        return true;
    uint64_t ha, hb;
    return ln_name_hash_compute(c->lm, a, &ha, NULL) == 0 && ln_name_hash_compute(c->lm, b, &hb, NULL) == 0 &&
           ha == hb;
}

static bool lit_eq(fm_ctx *c, const ln_expr *x, const ln_expr *y)
{
    if (x->is_str != y->is_str)
        return false;
    if (x->lit == y->lit)
        return true;
    if (x->is_str) {
        const char *s1, *s2;
        size_t n1, n2;
        return ln_string(c->lm, x->lit, &s1, &n1, NULL) == 0 && ln_string(c->lm, y->lit, &s2, &n2, NULL) == 0 &&
               n1 == n2 && memcmp(s1, s2, n1) == 0;
    }
    uint64_t v1, v2;
    return ln_nat_u64(c->lm, x->lit, &v1, NULL) == 0 && ln_nat_u64(c->lm, y->lit, &v2, NULL) == 0 && v1 == v2;
}

/*
 * a at depth da and b at depth db stand for the same term: loose bound
 * variables are compared by the binder (counted from the type's root) they
 * point to. Iterative.
 */
static bool expr_eq(fm_ctx *c, lx_word a, uint32_t da, lx_word b, uint32_t db)
{
    eq_item stack_local[64];
    eq_item *st = stack_local;
    size_t cap = 64, sp = 0;
    bool ok = true;
    st[sp++] = (eq_item){a, b, 0};
    while (ok && sp > 0) {
        eq_item it = st[--sp];
        ln_expr x, y;
        if (!view(c, it.a, &x) || !view(c, it.b, &y)) {
            ok = false;
            break;
        }
        if (it.a == it.b && da == db)
            continue;
        if (it.a == it.b && x.loose_bvar_range == 0)
            continue;
        if (x.kind != y.kind) {
            ok = false;
            break;
        }
        eq_item push[3];
        size_t np = 0;
        switch (x.kind) {
        case LN_BVAR: {
            uint64_t i1, i2;
            if (ln_nat_u64(c->lm, x.a, &i1, NULL) || ln_nat_u64(c->lm, y.a, &i2, NULL)) {
                ok = false;
                break;
            }
            if (i1 < it.j || i2 < it.j) {
                ok = i1 == i2;
            } else {
                /* binder levels from the root: depth - 1 - (i - j) */
                int64_t l1 = (int64_t)da + it.j - 1 - (int64_t)i1, l2 = (int64_t)db + it.j - 1 - (int64_t)i2;
                ok = l1 == l2 && l1 >= 0;
            }
            break;
        }
        case LN_FVAR:
        case LN_MVAR: ok = it.a == it.b; break;
        case LN_SORT: break; /* levels ignored */
        case LN_CONST: ok = const_name_eq(c, x.a, y.a); break;
        case LN_LIT: ok = lit_eq(c, &x, &y); break;
        case LN_APP:
            push[np++] = (eq_item){x.a, y.a, it.j};
            push[np++] = (eq_item){x.b, y.b, it.j};
            break;
        case LN_LAM:
        case LN_FORALL:
            push[np++] = (eq_item){x.b, y.b, it.j};
            push[np++] = (eq_item){x.c, y.c, it.j + 1};
            break;
        case LN_LET:
            push[np++] = (eq_item){x.b, y.b, it.j};
            push[np++] = (eq_item){x.c, y.c, it.j};
            push[np++] = (eq_item){x.d, y.d, it.j + 1};
            break;
        case LN_PROJ: {
            uint64_t i1, i2;
            ok = ln_nat_u64(c->lm, x.b, &i1, NULL) == 0 && ln_nat_u64(c->lm, y.b, &i2, NULL) == 0 && i1 == i2 &&
                 const_name_eq(c, x.a, y.a);
            push[np++] = (eq_item){x.c, y.c, it.j};
            break;
        }
        default: ok = false; break;
        }
        if (!ok)
            break;
        if (sp + np > cap) {
            size_t ncap = cap * 2;
            eq_item *n = mem_try_array(ncap, sizeof *n);
            if (!n) {
                c->err = -ENOMEM;
                ok = false;
                break;
            }
            memcpy(n, st, sp * sizeof *st);
            if (st != stack_local)
                mem_free(st);
            st = n;
            cap = ncap;
        }
        for (size_t k = 0; k < np; k++)
            st[sp++] = push[k];
    }
    if (st != stack_local)
        mem_free(st);
    return ok;
}

/* ---- holes -------------------------------------------------------------------- */

static size_t undo_mark(const fm_ctx *c) { return c->nundo; }

static void undo_to(fm_ctx *c, size_t mark)
{
    while (c->nundo > mark)
        c->holes[c->undo[--c->nundo]].set = 0;
}

static bool hole_match(fm_ctx *c, uint32_t h, lx_word e, uint32_t d)
{
    fm_hole *ho = &c->holes[h];
    if (ho->set)
        return expr_eq(c, ho->e, ho->depth, e, d);
    if (c->nundo == c->cap_undo) {
        size_t ncap = c->cap_undo ? c->cap_undo * 2 : 64;
        uint32_t *n = mem_try_realloc(c->undo, ncap * sizeof *n);
        if (!n) {
            c->err = -ENOMEM;
            return false;
        }
        c->undo = n;
        c->cap_undo = ncap;
    }
    *ho = (fm_hole){e, d, 1};
    c->undo[c->nundo++] = h;
    return true;
}

/* ---- structural matching --------------------------------------------------- */

/*
 * The pattern's binders in scope, innermost first: a telescope parameter
 * (a hole) or a binder entered in lockstep with the expression (`local`,
 * numbered by entry order).
 */
typedef struct pframe {
    const struct pframe *up;
    bool     param;
    uint32_t id;  /* hole id (param) or local position */
} pframe;

static const pframe *frame_up(const pframe *f, uint64_t n)
{
    while (f && n-- > 0)
        f = f->up;
    return f;
}

static bool match(fm_ctx *c, uint32_t p, const pframe *pf, lx_word e, uint32_t d, uint32_t loc);

static bool level_may_be_zero(fm_ctx *c, lx_word l)
{
    ln_level v;
    if (ln_level_view(c->lm, l, &v, NULL))
        return false;
    return v.kind != LN_LSUCC;
}

static bool level_is_zero(fm_ctx *c, lx_word l)
{
    ln_level v;
    return ln_level_view(c->lm, l, &v, NULL) == 0 && v.kind == LN_LZERO;
}

/* Whether the constant name word w is pattern constant k. */
static bool is_const(const fm_ctx *c, uint32_t k, lx_word w)
{
    uint32_t key = c->key[k];
    return key != UINT32_MAX && find__modidx_is_key(c->x, key, w);
}

/* The spine of e: head (viewed) and args[0..*n) in application order. */
static bool spine(fm_ctx *c, lx_word e, ln_expr *head, lx_word *args, size_t *n)
{
    size_t k = 0;
    lx_word rev[FM_MAX_SPINE];
    for (;;) {
        if (!view(c, e, head))
            return false;
        if (head->kind != LN_APP)
            break;
        if (k == FM_MAX_SPINE)
            return false;
        rev[k++] = head->b;
        e = head->a;
    }
    for (size_t i = 0; i < k; i++)
        args[i] = rev[k - 1 - i];
    *n = k;
    return true;
}

/* A pattern bound variable (index i) against e. */
static bool match_bvar(fm_ctx *c, uint64_t i, const pframe *pf, lx_word e, uint32_t d, uint32_t loc)
{
    const pframe *f = frame_up(pf, i);
    if (!f)
        return false;
    if (f->param)
        return hole_match(c, f->id, e, d);
    ln_expr x;
    uint64_t idx;
    return view(c, e, &x) && x.kind == LN_BVAR && ln_nat_u64(c->lm, x.a, &idx, NULL) == 0 &&
           idx == (uint64_t)(loc - 1 - f->id);
}

static bool match_app(fm_ctx *c, const fq_node *pn, const pframe *pf, lx_word e, uint32_t d, uint32_t loc)
{
    const fq_query *q = c->q;
    uint32_t head = pn->kind == FQ_APP ? pn->a : (uint32_t)(pn - q->nodes);
    const uint32_t *pargs = pn->kind == FQ_APP ? q->args + pn->first : NULL;
    uint32_t k = pn->kind == FQ_APP ? pn->nargs : 0;
    const fq_node *hn = &q->nodes[head];
    ln_expr h;
    lx_word args[FM_MAX_SPINE];
    size_t n;
    if (!spine(c, e, &h, args, &n))
        return false;
    if (hn->kind == FQ_BVAR) {
        /* a bound variable applied: every argument is explicit */
        if (n != k || h.kind != LN_BVAR)
            return false;
        lx_word hw = e;
        for (size_t i = 0; i < n; i++) {
            ln_expr a;
            if (!view(c, hw, &a) || a.kind != LN_APP)
                return false;
            hw = a.a;
        }
        if (!match_bvar(c, hn->num, pf, hw, d, loc))
            return false;
        for (uint32_t i = 0; i < k; i++)
            if (!match(c, pargs[i], pf, args[i], d, loc))
                return false;
        return true;
    }
    uint32_t ci = c->node_const[head];
    if (ci == UINT32_MAX || h.kind != LN_CONST || !is_const(c, ci, h.a))
        return false;
    const fm_const *fc = &c->consts[ci];
    uint32_t got = 0;
    for (size_t i = 0; i < n; i++) {
        bool explicit_arg = i >= fc->nbind || ((fc->explicit_mask >> i) & 1);
        if (!explicit_arg)
            continue;
        if (got == k)
            return false; /* more explicit arguments than the pattern has */
        if (!match(c, pargs[got], pf, args[i], d, loc))
            return false;
        got++;
    }
    return got == k;
}

static bool match_num(fm_ctx *c, uint64_t v, lx_word e)
{
    ln_expr x;
    if (!view(c, e, &x))
        return false;
    uint64_t got;
    if (x.kind == LN_LIT)
        return !x.is_str && ln_nat_u64(c->lm, x.lit, &got, NULL) == 0 && got == v;
    if (c->ofnat == UINT32_MAX)
        return false;
    ln_expr h;
    lx_word args[FM_MAX_SPINE];
    size_t n;
    if (!spine(c, e, &h, args, &n) || h.kind != LN_CONST || n < 2 || !is_const(c, c->ofnat, h.a))
        return false;
    ln_expr lit;
    return view(c, args[1], &lit) && lit.kind == LN_LIT && !lit.is_str &&
           ln_nat_u64(c->lm, lit.lit, &got, NULL) == 0 && got == v;
}

static bool match(fm_ctx *c, uint32_t p, const pframe *pf, lx_word e, uint32_t d, uint32_t loc)
{
    if (c->err || c->over)
        return false;
    const fq_node *pn = &c->q->nodes[p];
    ln_expr x;
    switch (pn->kind) {
    case FQ_HOLE: return true;
    case FQ_NAMED: return hole_match(c, c->node_hole[p], e, d);
    case FQ_BVAR: return match_bvar(c, pn->num, pf, e, d, loc);
    case FQ_NUM: return match_num(c, pn->num, e);
    case FQ_STR: {
        const char *s;
        size_t n;
        return view(c, e, &x) && x.kind == LN_LIT && x.is_str && ln_string(c->lm, x.lit, &s, &n, NULL) == 0 &&
               n == pn->len && memcmp(s, c->q->text + pn->text, n) == 0;
    }
    case FQ_SORT:
        if (!view(c, e, &x) || x.kind != LN_SORT)
            return false;
        return pn->sort == FQ_ANYSORT || (pn->sort == FQ_PROP ? level_may_be_zero(c, x.a) : !level_is_zero(c, x.a));
    case FQ_IDENT:
    case FQ_APP: return match_app(c, pn, pf, e, d, loc);
    case FQ_PI:
    case FQ_LAM: {
        if (!view(c, e, &x) || x.kind != (pn->kind == FQ_PI ? LN_FORALL : LN_LAM))
            return false;
        if (!match(c, pn->a, frame_up(pf, pn->num), x.b, d, loc))
            return false;
        pframe in = {pf, false, loc};
        return match(c, pn->b, &in, x.c, d + 1, loc + 1);
    }
    }
    return false;
}

/* ---- Loogle's matchUpToHyps ------------------------------------------------ */

static bool match_up_to_hyps(fm_ctx *c, uint32_t root, lx_word e, uint32_t d)
{
    /* the pattern's telescope: its leading ∀/→ binders become holes */
    uint32_t params[FM_MAX_PARAMS];
    pframe frames[FM_MAX_PARAMS];
    const pframe *pf = NULL;
    uint32_t m = 0, concl = root;
    while (c->q->nodes[concl].kind == FQ_PI && m < FM_MAX_PARAMS) {
        params[m] = concl;
        frames[m] = (pframe){pf, true, c->nnamed + m};
        pf = &frames[m];
        m++;
        concl = c->q->nodes[concl].b;
    }
    /* the subterm's telescope */
    lx_word doms[FM_MAX_SPINE];
    uint32_t n = 0;
    lx_word body = e;
    ln_expr x;
    for (;;) {
        if (!view(c, body, &x))
            return false;
        if (x.kind != LN_FORALL || n == FM_MAX_SPINE)
            break;
        doms[n++] = x.b;
        body = x.c;
    }
    if (!match(c, concl, pf, body, d + n, 0))
        return false;
    bool used[FM_MAX_SPINE] = {false};
    for (uint32_t j = 0; j < m; j++) {
        const fq_node *pn = &c->q->nodes[params[j]];
        const pframe *before = frame_up(j ? &frames[j - 1] : NULL, pn->num);
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++) {
            if (used[i])
                continue;
            size_t mark = undo_mark(c);
            if (match(c, pn->a, before, doms[i], d + i, 0)) {
                used[i] = true;
                found = true;
            } else {
                undo_to(c, mark);
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static void holes_clear(fm_ctx *c)
{
    undo_to(c, 0);
}

typedef struct walk_item {
    lx_word  e;
    uint32_t d;
} walk_item;

bool fm_filter(fm_ctx *c, const fq_filter *f, lx_word type)
{
    c->steps = 0;
    c->over = false;
    holes_clear(c);
    if (f->kind == FQF_CONCL) {
        bool ok = match_up_to_hyps(c, f->node, type, 0);
        holes_clear(c);
        return ok;
    }
    /* every distinct subterm, partial applications included */
    bool pattern_is_pi = c->q->nodes[f->node].kind == FQ_PI;
    find__ws_reset(&c->seen);
    walk_item local[256];
    walk_item *st = local;
    size_t cap = 256, sp = 0;
    bool ok = false;
    st[sp++] = (walk_item){type, 0};
    while (sp > 0 && !ok && !c->over && !c->err) {
        walk_item it = st[--sp];
        size_t slot;
        if (find__ws_find(&c->seen, it.e, NULL, &slot))
            continue;
        if (find__ws_put(&c->seen, it.e, 0)) {
            c->err = -ENOMEM;
            break;
        }
        ln_expr x;
        if (!view(c, it.e, &x))
            break;
        /* Without hypotheses in the pattern, a ∀ is tried through its body (visited anyway). */
        if (x.kind != LN_FORALL || pattern_is_pi) {
            ok = match_up_to_hyps(c, f->node, it.e, it.d);
            holes_clear(c);
            if (ok)
                break;
        }
        walk_item kids[3];
        size_t nk = 0;
        switch (x.kind) {
        case LN_APP:
            kids[nk++] = (walk_item){x.b, it.d};
            kids[nk++] = (walk_item){x.a, it.d};
            break;
        case LN_LAM:
        case LN_FORALL:
            kids[nk++] = (walk_item){x.c, it.d + 1};
            kids[nk++] = (walk_item){x.b, it.d};
            break;
        case LN_LET:
            kids[nk++] = (walk_item){x.d, it.d + 1};
            kids[nk++] = (walk_item){x.c, it.d};
            kids[nk++] = (walk_item){x.b, it.d};
            break;
        case LN_PROJ: kids[nk++] = (walk_item){x.c, it.d}; break;
        default: break;
        }
        if (sp + nk > cap) {
            size_t ncap = cap * 2;
            walk_item *nst = mem_try_array(ncap, sizeof *nst);
            if (!nst) {
                c->err = -ENOMEM;
                break;
            }
            memcpy(nst, st, sp * sizeof *st);
            if (st != local)
                mem_free(st);
            st = nst;
            cap = ncap;
        }
        for (size_t k = 0; k < nk; k++)
            if (!lx_is_scalar(kids[k].e))
                st[sp++] = kids[k];
    }
    if (st != local)
        mem_free(st);
    return ok;
}
