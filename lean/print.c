/*
 * lean/print.c — an Expr as Lean syntax, without the Lean runtime.
 *
 * Conventions (what a reader of `envpool dump` sees):
 * - Binders: ∀ and fun group consecutive binders of the same kind, each in its
 *   braces: (x : A) default, {x : A} implicit, ⦃x : A⦄ strict implicit,
 *   [x : C] instance implicit: `∀ {α : Type u} [inst : Add α] (a : α), P a`,
 *   `fun (x : Nat) => b`. A non-dependent ∀ (body does not use the variable)
 *   with a default binder prints as `A → B`; with an instance binder as
 *   `[C] → B`. `let x : T := v; b`.
 * - Names: a bound variable prints as its binder's name. A hygienic name
 *   (macro scopes) prints as its base with ✝ (`a✝`), an anonymous one as `x`.
 *   When a binder's name is already bound by an enclosing binder that its
 *   body refers to, it gets a fresh name: suffix _1, _2, … (`x_1`), or
 *   superscript digits after ✝ (`a✝¹`), as Lean does; so every occurrence
 *   is unambiguous. Harmless shadowing is kept. Free names (constants) are
 *   not considered. A loose bound variable prints as #i.
 * - Sorts: Prop, Type, Type 1, Type u, Type (max u v), Sort u, Sort (max u v).
 *   Constants carry their universe arguments: `List.{u} α`.
 * - Applications show every argument, implicit ones included (the file does
 *   not say which are implicit; this is pp.explicit without the @).
 * - Literals: 42 (any size), "text" with Lean's escapes (\n \t \\ \" \xHH).
 * - Projections: `e.S.i`, field i (from 1) of structure S, e.g. `p.Prod.1`,
 *   `(f x).PProd.2`: Lean's `.1` notation with the structure's name in
 *   front of the index, so that the text says everything the Expr holds.
 *   A constant (or free/meta variable, sort) is parenthesized, `(c).Prod.1`,
 *   since `c.Prod.1` would read as one name. A structure name that is
 *   [anonymous] (only in built terms) is left out: `e.1`.
 * - Metadata (mdata) is skipped; free variables print their name, metavariables ?name.
 *
 * Options (ln_expr_format_opts): named_arrows writes a non-dependent arrow
 * whose binder has a name as `(a : A) → B` (`[inst : C] → B`), so that the
 * text keeps every name the Expr holds (the module text of lean/unpack.c);
 * signature prints a declaration's `BINDERS : TYPE` from its ∀ telescope.
 *
 * Work is iterative over an explicit task stack (no recursion on file data).
 * Output is bounded by the buffer's limit and work by a step budget
 * proportional to it: a heavily shared DAG is expanded only until the text is
 * cut ("…", LN_ETOOBIG). The dependency test for arrows memoizes
 * (node, index) pairs, so it is linear in the DAG, not in the tree.
 */
#include "lean/lean_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"
#include "util/u64map.h"
#include "util/vec.h"

enum prec { P_TOP = 0, P_DOM = 1, P_FN = 2, P_ARG = 3 };

enum task_kind {
    T_TEXT,  /* emit text */
    T_EXPR,  /* print w at prec */
    T_NUM,   /* emit n in decimal */
    T_NAME,  /* emit the Name w */
    T_OPEN,  /* binder w (lam/forall): choose name, emit "(x : ", then type, then T_CLOSE */
    T_LET,   /* let node w */
    T_CLOSE, /* emit text, bring the pending name (arena off, len) into scope */
    T_ANON,  /* bring an unnamed variable into scope (arrow) */
    T_POP,   /* leave n scopes */
};

typedef struct task {
    uint8_t     kind;
    uint8_t     prec;
    const char *text;
    lx_word     w;
    uint64_t    n;    /* T_NUM value, T_POP count, T_CLOSE arena offset */
    uint64_t    len;  /* T_CLOSE name length */
} task;

typedef struct scope_ent {
    size_t   off, len;  /* name in the arena */
    uint64_t hash;      /* 0 for an unnamed (arrow) variable */
} scope_ent;

/* (node, index) pairs visited by one dependency test; gen stamps clear it in O(1).
 * Not a u64map: the key is two words, and the O(1) clear between the many
 * short tests of one print is what keeps choose_name linear. */
typedef struct mslot { lx_word w; uint64_t k; uint32_t gen; } mslot;

typedef struct pr {
    const ln_module *m;
    ln_buf          *out;
    region_error    *err;
    VEC(task)        t;      /* work stack */
    VEC(scope_ent)   sc;     /* binders in scope, innermost last */
    ln_buf           arena;  /* binder names in scope, and the pending ones */
    u64map           hs;     /* multiset of the names in scope: hash -> count (> 0) */
    mslot           *ms;     size_t nms, cms; uint32_t gen;
    VEC(struct dfs_ent { lx_word w; uint64_t k; }) dfs;
    uint64_t         steps, max_steps;
    bool             named_arrows;  /* ln_print_opts.named_arrows */
} pr;

static int push(pr *p, task t)
{
    return vec_push(&p->t, t);
}

static int push_text(pr *p, const char *s) { return push(p, (task){.kind = T_TEXT, .text = s}); }
static int push_expr(pr *p, lx_word w, enum prec prec)
{
    return push(p, (task){.kind = T_EXPR, .w = w, .prec = (uint8_t)prec});
}

/* ---- name multiset ---- */

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h | 1; /* never 0: 0 marks empty slots and unnamed variables */
}

static uint64_t hcount(pr *p, uint64_t key)
{
    uint64_t n;
    return u64map_get(&p->hs, key, &n) ? n : 0;
}

/* Adds delta to key's count; a count reaching 0 leaves the map. */
static int hadd(pr *p, uint64_t key, int64_t delta)
{
    uint64_t *n;
    int rc = u64map_upsert(&p->hs, key, &n, NULL);
    if (rc)
        return rc;
    *n = (uint64_t)((int64_t)*n + delta);
    if (!*n)
        (void)u64map_del(&p->hs, key, NULL);
    return 0;
}

/* ---- dependency test: does e have loose bvar k? ---- */

static bool memo_insert(pr *p, lx_word w, uint64_t k, int *rc)
{
    *rc = 0;
    if (2 * (p->nms + 1) > p->cms) {
        size_t nc = p->cms ? 2 * p->cms : 256;
        mslot *old = p->ms, *nw = mem_try_calloc(nc, sizeof *nw);
        size_t oc = p->cms;
        if (!nw) {
            *rc = -ENOMEM;
            return false;
        }
        p->ms = nw;
        p->cms = nc;
        p->nms = 0;
        for (size_t i = 0; i < oc; i++) {
            if (old[i].gen != p->gen || !old[i].w)
                continue;
            size_t j = (size_t)((old[i].w ^ old[i].k * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL) & (nc - 1);
            while (nw[j].gen == p->gen && nw[j].w)
                j = (j + 1) & (nc - 1);
            nw[j] = old[i];
            p->nms++;
        }
        mem_free(old);
    }
    size_t mask = p->cms - 1;
    size_t j = (size_t)((w ^ k * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL) & mask;
    while (p->ms[j].gen == p->gen && p->ms[j].w) {
        if (p->ms[j].w == w && p->ms[j].k == k)
            return false;
        j = (j + 1) & mask;
    }
    p->ms[j] = (mslot){.w = w, .k = k, .gen = p->gen};
    p->nms++;
    return true;
}

static int dfs_push(pr *p, lx_word w, uint64_t k)
{
    return vec_push(&p->dfs, (struct dfs_ent){w, k});
}

static int has_loose_bvar(pr *p, lx_word e, uint64_t k0, bool *found)
{
    int rc;
    *found = false;
    p->gen++;
    if (p->gen == 0) { /* wrapped: really clear */
        if (p->ms)
            memset(p->ms, 0, p->cms * sizeof *p->ms);
        p->gen = 1;
    }
    p->nms = 0;
    vec_clear(&p->dfs);
    if ((rc = dfs_push(p, e, k0)))
        return rc;
    while (p->dfs.n > 0) {
        struct dfs_ent top = vec_pop(&p->dfs);
        lx_word w = top.w;
        uint64_t k = top.k;
        if (++p->steps > p->max_steps)
            return LN_ETOOBIG;
        ln_expr x;
        if ((rc = ln_expr_view(p->m, w, &x, p->err)))
            return rc;
        if (x.loose_bvar_range <= k)
            continue;
        if (!memo_insert(p, w, k, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        switch (x.kind) {
        case LN_BVAR:
            if (lx_is_scalar(x.a) && lx_unbox(x.a) == k) {
                *found = true;
                return 0;
            }
            break;
        case LN_APP:
            if ((rc = dfs_push(p, x.a, k)) || (rc = dfs_push(p, x.b, k)))
                return rc;
            break;
        case LN_LAM:
        case LN_FORALL:
            if ((rc = dfs_push(p, x.b, k)) || (rc = dfs_push(p, x.c, k + 1)))
                return rc;
            break;
        case LN_LET:
            if ((rc = dfs_push(p, x.b, k)) || (rc = dfs_push(p, x.c, k)) ||
                (rc = dfs_push(p, x.d, k + 1)))
                return rc;
            break;
        case LN_MDATA:
            if ((rc = dfs_push(p, x.b, k)))
                return rc;
            break;
        case LN_PROJ:
            if ((rc = dfs_push(p, x.c, k)))
                return rc;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- scope ---- */

static const char *const superscripts[] = {
    "\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3", "\xe2\x81\xb4",
    "\xe2\x81\xb5", "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8", "\xe2\x81\xb9",
};

/*
 * Appends the display name of binder `name` (whose scope is `body`) to the
 * arena; off and len locate it. The name is kept when no enclosing binder
 * has it, or when the body refers to none of the enclosing binders that have
 * it (shadowing is then harmless, as in Lean); otherwise a fresh suffix is
 * added until no name in scope equals it.
 */
static int choose_name(pr *p, lx_word name, lx_word body, size_t *off, size_t *len)
{
    size_t start = p->arena.len;
    int rc = ln__binder_display(p->m, name, &p->arena, p->err);
    if (rc)
        return rc;
    size_t base_len = p->arena.len - start;
    uint64_t h = fnv(p->arena.data + start, base_len);
    bool clash = false;
    if (hcount(p, h) > 0) {
        /* Only the innermost (looseBVarRange - 1) enclosing binders can be used by the body. */
        ln_expr bx;
        if ((rc = ln_expr_view(p->m, body, &bx, p->err)))
            return rc;
        size_t reach = bx.loose_bvar_range > 0 ? (size_t)bx.loose_bvar_range - 1 : 0;
        size_t lo = p->sc.n > reach ? p->sc.n - reach : 0;
        for (size_t j = p->sc.n; j-- > lo && !clash;) {
            const scope_ent *s = &p->sc.v[j];
            if (++p->steps > p->max_steps)
                return LN_ETOOBIG;
            if (s->hash != h || s->len != base_len ||
                memcmp(p->arena.data + s->off, p->arena.data + start, base_len))
                continue;
            /* Entry j is bvar (nsc - 1 - j) here, one more inside the body. */
            if ((rc = has_loose_bvar(p, body, (uint64_t)(p->sc.n - j), &clash)))
                return rc;
        }
    }
    const char *dagger = "\xe2\x9c\x9d";
    bool inacc = base_len >= 3 && !memcmp(p->arena.data + p->arena.len - 3, dagger, 3);
    for (uint64_t k = 1; clash; k++) {
        if (++p->steps > p->max_steps)
            return LN_ETOOBIG;
        p->arena.len = start + base_len;
        if (inacc) {
            char digits[24];
            int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)k);
            for (int i = 0; i < nd && !rc; i++)
                rc = ln_buf_puts(&p->arena, superscripts[digits[i] - '0']);
        } else {
            rc = ln_buf_printf(&p->arena, "_%llu", (unsigned long long)k);
        }
        if (rc)
            return rc;
        clash = hcount(p, fnv(p->arena.data + start, p->arena.len - start)) > 0;
    }
    *off = start;
    *len = p->arena.len - start;
    return 0;
}

static int scope_push(pr *p, size_t off, size_t len, bool named)
{
    int rc = vec_reserve(&p->sc, p->sc.n + 1);
    if (rc)
        return rc;
    uint64_t h = named ? fnv(p->arena.data + off, len) : 0;
    if (named && (rc = hadd(p, h, 1)))
        return rc;
    p->sc.v[p->sc.n++] = (scope_ent){.off = off, .len = len, .hash = h};
    return 0;
}

static int scope_pop(pr *p, uint64_t n)
{
    for (; n > 0 && p->sc.n > 0; n--) {
        scope_ent *s = &p->sc.v[--p->sc.n];
        if (s->hash) {
            int rc = hadd(p, s->hash, -1);
            if (rc)
                return rc;
        }
        p->arena.len = s->off;
    }
    return 0;
}

/* ---- pieces ---- */

static const char *open_bracket(uint8_t bi)
{
    switch (bi) {
    case LN_BI_IMPLICIT: return "{";
    case LN_BI_STRICT:   return "\xe2\xa6\x83"; /* ⦃ */
    case LN_BI_INST:     return "[";
    default:             return "(";
    }
}

static const char *close_bracket(uint8_t bi)
{
    switch (bi) {
    case LN_BI_IMPLICIT: return "}";
    case LN_BI_STRICT:   return "\xe2\xa6\x84"; /* ⦄ */
    case LN_BI_INST:     return "]";
    default:             return ")";
    }
}

static int put_string_lit(pr *p, lx_word w)
{
    const char *s;
    size_t n;
    int rc = ln_string(p->m, w, &s, &n, p->err);
    if (rc || (rc = ln_buf_puts(p->out, "\"")))
        return rc;
    size_t run = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            snprintf(hex, sizeof hex, "\\x%02x", c);
            esc = hex;
        }
        if (!esc) {
            run++;
            continue;
        }
        if (run && (rc = ln_buf_append(p->out, s + i - run, run)))
            break;
        run = 0;
        rc = ln_buf_puts(p->out, esc);
    }
    if (!rc && run)
        rc = ln_buf_append(p->out, s + n - run, run);
    return rc ? rc : ln_buf_puts(p->out, "\"");
}

/* Sort: Prop, Type, Type n, Type u, Sort u. Returns whether it needs parens as an argument. */
static int sort_text(pr *p, lx_word lvl, bool paren_if_compound)
{
    ln_level l;
    int rc = ln_level_view(p->m, lvl, &l, p->err);
    if (rc)
        return rc;
    if (l.kind == LN_LZERO)
        return ln_buf_puts(p->out, "Prop");
    const char *head = "Sort ";
    lx_word arg = lvl;
    if (l.kind == LN_LSUCC) {
        ln_level inner;
        if ((rc = ln_level_view(p->m, l.a, &inner, p->err)))
            return rc;
        if (inner.kind == LN_LZERO)
            return ln_buf_puts(p->out, "Type");
        head = "Type ";
        arg = l.a;
    }
    if (paren_if_compound && (rc = ln_buf_puts(p->out, "(")))
        return rc;
    if ((rc = ln_buf_puts(p->out, head)))
        return rc;
    ln_level al;
    if ((rc = ln_level_view(p->m, arg, &al, p->err)))
        return rc;
    bool compound = al.kind == LN_LMAX || al.kind == LN_LIMAX;
    if (al.kind == LN_LSUCC) { /* u + 1 is compound, a numeral is not */
        lx_word b = arg;
        ln_level bl = al;
        while (!rc && bl.kind == LN_LSUCC) {
            b = bl.a;
            rc = ln_level_view(p->m, b, &bl, p->err);
        }
        if (rc)
            return rc;
        compound = bl.kind != LN_LZERO;
    }
    if (compound && (rc = ln_buf_puts(p->out, "(")))
        return rc;
    if ((rc = ln_level_format(p->m, arg, p->out, p->err)))
        return rc;
    if (compound && (rc = ln_buf_puts(p->out, ")")))
        return rc;
    return paren_if_compound ? ln_buf_puts(p->out, ")") : 0;
}

static int const_text(pr *p, const ln_expr *x)
{
    int rc = ln_name_format(p->m, x->a, p->out, p->err);
    lx_word cur = x->b, head;
    bool first = true;
    while (!rc && (rc = ln_list_next(p->m, &cur, &head, p->err)) == 1) {
        if ((rc = ln_buf_puts(p->out, first ? ".{" : ", ")))
            break;
        first = false;
        rc = ln_level_format(p->m, head, p->out, p->err);
    }
    if (rc < 0)
        return rc;
    return first ? 0 : ln_buf_puts(p->out, "}");
}

/* Is this ∀ printed as an arrow? */
static int is_arrow(pr *p, const ln_expr *x, bool *arrow)
{
    *arrow = false;
    if (x->kind != LN_FORALL || x->binder_info == LN_BI_IMPLICIT || x->binder_info == LN_BI_STRICT)
        return 0;
    bool dep;
    int rc = has_loose_bvar(p, x->c, 0, &dep);
    if (rc)
        return rc;
    *arrow = !dep;
    return 0;
}

/* Reverses the last n tasks (pushed in forward order). */
static void reverse_tail(pr *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        task tmp = p->t.v[p->t.n - 1 - i];
        p->t.v[p->t.n - 1 - i] = p->t.v[p->t.n - n + i];
        p->t.v[p->t.n - n + i] = tmp;
    }
}

/* ∀ or fun group starting at node w (kind LN_FORALL or LN_LAM). */
static int binder_group(pr *p, lx_word w, const ln_expr *first)
{
    enum ln_expr_kind kind = first->kind;
    int rc = ln_buf_puts(p->out, kind == LN_LAM ? "fun " : "\xe2\x88\x80 ");
    if (rc)
        return rc;
    /* Count the group and find the body. */
    uint64_t k = 0;
    lx_word cur = w;
    ln_expr x = *first;
    for (;;) {
        k++;
        cur = x.c;
        if ((rc = ln_expr_view(p->m, cur, &x, p->err)))
            return rc;
        if (x.kind != kind)
            break;
        bool arrow;
        if ((rc = is_arrow(p, &x, &arrow)))
            return rc;
        if (arrow)
            break;
        if (++p->steps > p->max_steps)
            return LN_ETOOBIG;
    }
    /* Stack (top last): POP k, body, ", ", OPEN_k … " " OPEN_1. */
    if ((rc = push(p, (task){.kind = T_POP, .n = k})) ||
        (rc = push_expr(p, cur, P_TOP)) ||
        (rc = push_text(p, kind == LN_LAM ? " => " : ", ")))
        return rc;
    size_t before = p->t.n;
    lx_word node = w;
    for (uint64_t i = 0; i < k; i++) {
        if (i > 0 && (rc = push_text(p, " ")))
            return rc;
        if ((rc = push(p, (task){.kind = T_OPEN, .w = node})))
            return rc;
        if ((rc = ln_expr_view(p->m, node, &x, p->err)))
            return rc;
        node = x.c;
    }
    reverse_tail(p, p->t.n - before);
    return 0;
}

static int do_expr(pr *p, lx_word w, enum prec prec)
{
    ln_expr x;
    int rc = ln_expr_view(p->m, w, &x, p->err);
    if (rc)
        return rc;
    while (x.kind == LN_MDATA) {
        w = x.b;
        if (++p->steps > p->max_steps)
            return LN_ETOOBIG;
        if ((rc = ln_expr_view(p->m, w, &x, p->err)))
            return rc;
    }
    bool arrow = false;
    if (x.kind == LN_FORALL && (rc = is_arrow(p, &x, &arrow)))
        return rc;
    bool binder_like = x.kind == LN_FORALL || x.kind == LN_LAM || x.kind == LN_LET;
    bool app_like = x.kind == LN_APP;
    if (x.kind == LN_SORT) {
        ln_level l;
        if ((rc = ln_level_view(p->m, x.a, &l, p->err)))
            return rc;
        if (l.kind == LN_LZERO)
            return ln_buf_puts(p->out, "Prop");
        return sort_text(p, x.a, prec >= P_ARG);
    }
    if ((binder_like && prec > P_TOP) || (app_like && prec >= P_ARG)) {
        if ((rc = ln_buf_puts(p->out, "(")) || (rc = push_text(p, ")")))
            return rc;
    }
    switch (x.kind) {
    case LN_BVAR: {
        uint64_t i;
        region_error ignore;
        if (ln_nat_u64(p->m, x.a, &i, &ignore) == 0 && i < p->sc.n) {
            const scope_ent *s = &p->sc.v[p->sc.n - 1 - i];
            if (s->len)
                return ln_buf_append(p->out, p->arena.data + s->off, s->len);
            return ln_buf_printf(p->out, "#%llu", (unsigned long long)i);
        }
        if ((rc = ln_buf_puts(p->out, "#")))
            return rc;
        if (lx_is_scalar(x.a))
            return ln_buf_printf(p->out, "%llu", (unsigned long long)(lx_unbox(x.a) - p->sc.n));
        return ln_nat_format(p->m, x.a, p->out, p->err);
    }
    case LN_FVAR:
        return ln_name_format(p->m, x.a, p->out, p->err);
    case LN_MVAR:
        if ((rc = ln_buf_puts(p->out, "?")))
            return rc;
        return ln_name_format(p->m, x.a, p->out, p->err);
    case LN_CONST:
        return const_text(p, &x);
    case LN_APP: {
        /* Spine: push args last-first, then the head. */
        lx_word f = w;
        ln_expr y = x;
        while (y.kind == LN_APP) {
            if ((rc = push_expr(p, y.b, P_ARG)) || (rc = push_text(p, " ")))
                return rc;
            if (++p->steps > p->max_steps)
                return LN_ETOOBIG;
            f = y.a;
            if ((rc = ln_expr_view(p->m, f, &y, p->err)))
                return rc;
        }
        return push_expr(p, f, P_FN);
    }
    case LN_LAM:
        return binder_group(p, w, &x);
    case LN_FORALL:
        if (!arrow)
            return binder_group(p, w, &x);
        if (p->named_arrows && !(lx_is_scalar(x.a) && lx_unbox(x.a) == 0)) {
            /* (a : A) → B: POP, body, " → ", then the binder as in a ∀ group. */
            if ((rc = push(p, (task){.kind = T_POP, .n = 1})) || (rc = push_expr(p, x.c, P_TOP)) ||
                (rc = push_text(p, " \xe2\x86\x92 ")))
                return rc;
            return push(p, (task){.kind = T_OPEN, .w = w});
        }
        /* POP, body, " → ", ANON, then the domain ([C] for instances). */
        if ((rc = push(p, (task){.kind = T_POP, .n = 1})) || (rc = push_expr(p, x.c, P_TOP)) ||
            (rc = push_text(p, " \xe2\x86\x92 ")) || (rc = push(p, (task){.kind = T_ANON})))
            return rc;
        if (x.binder_info == LN_BI_INST) {
            if ((rc = push_text(p, "]")) || (rc = push_expr(p, x.b, P_TOP)))
                return rc;
            return ln_buf_puts(p->out, "[");
        }
        return push_expr(p, x.b, P_DOM);
    case LN_LET:
        return push(p, (task){.kind = T_LET, .w = w});
    case LN_LIT:
        if (x.is_str)
            return put_string_lit(p, x.lit);
        return ln_nat_format(p->m, x.lit, p->out, p->err);
    case LN_PROJ: {
        /* e.S.i: S the structure's name (omitted when anonymous), i from 1. */
        uint64_t idx;
        if ((rc = ln_nat_u64(p->m, x.b, &idx, p->err)))
            return rc;
        if ((rc = push(p, (task){.kind = T_NUM, .n = idx + 1})) || (rc = push_text(p, ".")))
            return rc;
        if (!(lx_is_scalar(x.a) && lx_unbox(x.a) == 0) &&
            ((rc = push(p, (task){.kind = T_NAME, .w = x.a})) || (rc = push_text(p, "."))))
            return rc;
        /* A name would run into the suffix (c.S.1 reads as one constant): parenthesize. */
        ln_expr y;
        lx_word inner = x.c;
        if ((rc = ln_expr_view(p->m, inner, &y, p->err)))
            return rc;
        while (y.kind == LN_MDATA) {
            inner = y.b;
            if (++p->steps > p->max_steps)
                return LN_ETOOBIG;
            if ((rc = ln_expr_view(p->m, inner, &y, p->err)))
                return rc;
        }
        if (y.kind == LN_CONST || y.kind == LN_FVAR || y.kind == LN_MVAR || y.kind == LN_SORT) {
            if ((rc = ln_buf_puts(p->out, "(")) || (rc = push_text(p, ")")))
                return rc;
            return push_expr(p, inner, P_TOP);
        }
        return push_expr(p, inner, P_ARG);
    }
    case LN_SORT:
    case LN_MDATA:
        break;
    }
    return 0;
}

static int do_open(pr *p, lx_word w)
{
    ln_expr x;
    size_t off, len;
    int rc = ln_expr_view(p->m, w, &x, p->err);
    if (rc || (rc = choose_name(p, x.a, x.c, &off, &len)))
        return rc;
    if ((rc = ln_buf_puts(p->out, open_bracket(x.binder_info))) ||
        (rc = ln_buf_append(p->out, p->arena.data + off, len)) ||
        (rc = ln_buf_puts(p->out, " : ")))
        return rc;
    if ((rc = push(p, (task){.kind = T_CLOSE, .text = close_bracket(x.binder_info), .n = off, .len = len})))
        return rc;
    return push_expr(p, x.b, P_TOP);
}

static int do_let(pr *p, lx_word w)
{
    ln_expr x;
    size_t off, len;
    int rc = ln_expr_view(p->m, w, &x, p->err);
    if (rc || (rc = choose_name(p, x.a, x.d, &off, &len)))
        return rc;
    if ((rc = ln_buf_puts(p->out, "let ")) ||
        (rc = ln_buf_append(p->out, p->arena.data + off, len)) ||
        (rc = ln_buf_puts(p->out, " : ")))
        return rc;
    if ((rc = push(p, (task){.kind = T_POP, .n = 1})) || (rc = push_expr(p, x.d, P_TOP)) ||
        (rc = push(p, (task){.kind = T_CLOSE, .text = "; ", .n = off, .len = len})) ||
        (rc = push_expr(p, x.c, P_TOP)) || (rc = push_text(p, " := ")))
        return rc;
    return push_expr(p, x.b, P_TOP);
}

/*
 * Signature form: brings the first o->hide ∀ binders of e into scope by name,
 * then queues " (x : A)" for each of the next o->show, " : " and the rest.
 */
static int signature(pr *p, lx_word e, const ln_print_opts *o)
{
    lx_word node = e, first_shown = e;
    ln_expr x;
    int rc;
    uint64_t show = o->signature ? o->show : 0;
    for (uint64_t i = 0; i < o->hide + show; i++) {
        if ((rc = ln_expr_view(p->m, node, &x, p->err)))
            return rc;
        if (x.kind != LN_FORALL && !(x.kind == LN_LAM && !o->signature))
            return ln__fail(p->m, node, p->err, "Expr: binder %llu of a signature is not a %s",
                            (unsigned long long)i, o->signature ? "\xe2\x88\x80" : "\xe2\x88\x80 or fun");
        if (i < o->hide) {
            size_t off, len;
            if ((rc = choose_name(p, x.a, x.c, &off, &len)) || (rc = scope_push(p, off, len, true)))
                return rc;
            first_shown = x.c;
        }
        node = x.c;
    }
    if (!o->signature)
        return push_expr(p, node, P_TOP);
    /* Stack (top last): POP, rest, " : ", OPEN_show … " " OPEN_1 " ". */
    if ((rc = push(p, (task){.kind = T_POP, .n = show})) || (rc = push_expr(p, node, P_TOP)) ||
        (rc = push_text(p, " : ")))
        return rc;
    size_t before = p->t.n;
    node = first_shown;
    for (uint64_t i = 0; i < show; i++) {
        if ((rc = push_text(p, " ")) || (rc = push(p, (task){.kind = T_OPEN, .w = node})) ||
            (rc = ln_expr_view(p->m, node, &x, p->err)))
            return rc;
        node = x.c;
    }
    reverse_tail(p, p->t.n - before);
    return 0;
}

int ln_expr_format(const ln_module *m, lx_word e, ln_buf *out, region_error *err)
{
    return ln_expr_format_opts(m, e, NULL, out, err);
}

int ln_expr_format_opts(const ln_module *m, lx_word e, const ln_print_opts *o, ln_buf *out,
                        region_error *err)
{
    pr p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.out = out;
    p.err = err;
    p.named_arrows = o && o->named_arrows;
    ln_buf_init(&p.arena, SIZE_MAX / 4);
    p.max_steps = 64 * (uint64_t)out->limit + 100000;
    int rc = o && (o->signature || o->hide) ? signature(&p, e, o) : push_expr(&p, e, P_TOP);
    while (!rc && p.t.n > 0) {
        task t = p.t.v[--p.t.n];
        if (++p.steps > p.max_steps) {
            rc = LN_ETOOBIG;
            break;
        }
        switch (t.kind) {
        case T_TEXT:  rc = ln_buf_puts(out, t.text); break;
        case T_EXPR:  rc = do_expr(&p, t.w, (enum prec)t.prec); break;
        case T_NUM:   rc = ln_buf_printf(out, "%llu", (unsigned long long)t.n); break;
        case T_NAME:  rc = ln_name_format(p.m, t.w, out, err); break;
        case T_OPEN:  rc = do_open(&p, t.w); break;
        case T_LET:   rc = do_let(&p, t.w); break;
        case T_CLOSE:
            if (!(rc = ln_buf_puts(out, t.text)))
                rc = scope_push(&p, (size_t)t.n, (size_t)t.len, true);
            break;
        case T_ANON:  rc = scope_push(&p, p.arena.len, 0, false); break;
        case T_POP:   rc = scope_pop(&p, t.n); break;
        }
    }
    if (rc == LN_ETOOBIG)
        ln_buf_cut(out); /* the step budget may run out before the byte limit */
    if (rc == LN_ETOOBIG && err)
        ln__fail_code(m, LN_ETOOBIG, err, "expression text cut at %zu bytes", out->len);
    vec_free(&p.t);
    vec_free(&p.sc);
    u64map_deinit(&p.hs);
    mem_free(p.ms);
    vec_free(&p.dfs);
    ln_buf_deinit(&p.arena);
    return rc;
}
