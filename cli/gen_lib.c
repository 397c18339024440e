/*
 * cli/gen_lib.c — `envpool gen --shape lean|mathlib|small`: a synthetic
 * library that weighs what Lean's libraries weigh, built from lean/'s
 * builders (lean/parse.h: Names, Levels and Exprs with their cached data as
 * Lean computes it) and saved by region/'s compactor (which shares identical
 * objects as Lean's does).
 *
 * What is reproduced (docs/bench.md gives the measured figures and bounds):
 * - the import graph: `depth` layers, each module importing one module of
 *   the layer below and up to fan_in - 1 lower ones; the root module PREFIX
 *   imports every module nobody imports;
 * - per module, user declarations (definitions with values, theorems with
 *   proofs, opaque constants, inductive types) plus the auxiliary constants
 *   Lean derives: for an inductive type its constructors, rec, recOn,
 *   casesOn, noConfusionType, noConfusion, below, brecOn and per constructor
 *   injEq, inj, sizeOf_spec; for some definitions match_N and proof_N;
 * - types as ∀ telescopes with implicit, instance and default binders over
 *   applications; values and proofs as λ telescopes (sharing the type's
 *   binder types) over application trees, with let, literals, mdata and
 *   projections, reusing earlier subterms of the same constant (the DAG
 *   sharing of real terms); constants referring to constants of imported
 *   modules and of the module itself, with universe levels;
 * - extension entries: docstrings, declaration ranges, namespaces,
 *   instances, simp lemmas, reducibility, and compiler-IR-like entries (the
 *   bytes an IR extension adds to a real module), plus the empty extensions
 *   every module lists;
 * - names: module-qualified, namespaces and words from a shared vocabulary,
 *   so that prefixes are shared within a module as in real files.
 * Everything comes from one seeded generator: the same arguments give the
 * same bytes.
 */
#include "cli/genlib.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lean/lean.h"
#include "lean/parse.h"
#include "region/compactor.h"
#include "region/heap.h"
#include "util/mem.h"
#include "util/vec.h"

/* ---- shapes ------------------------------------------------------------- */

/* name, modules, user declarations per module, fan-in, depth, value nodes, type binders,
   doc bytes, doc percent, IR nodes */
static const gen_shape shapes[] = {
    {"lean", 2300, 74, 6, 40, 400, 4, 260, 30, 30},
    {"mathlib", 7600, 69, 8, 60, 440, 4, 260, 40, 30},
    {"small", 40, 60, 4, 6, 118, 4, 260, 3, 18},
};

const gen_shape *gen_shape_find(const char *name)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].name, name))
            return &shapes[i];
    return NULL;
}

/* ---- randomness ----------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n) { return n ? (uint32_t)(rng_next(s) % n) : 0; }
static bool chance(uint64_t *s, unsigned percent) { return below(s, 1000) < percent * 10u; }
static bool permille(uint64_t *s, unsigned pm) { return below(s, 1000) < pm; }

/* Around mean: uniform in [mean/2, 3*mean/2]. */
static uint32_t around(uint64_t *s, uint32_t mean)
{
    return mean / 2 + below(s, mean + 1);
}

/* ---- vocabulary ------------------------------------------------------------ */

static const char *const namespaces[] = {
    "Nat", "Int", "List", "Array", "Option", "Fin", "String", "Char", "Expr", "Meta", "Elab", "Term",
    "Tactic", "Syntax", "Parser", "Name", "Level", "Environment", "Monad", "IO", "HashMap", "RBMap",
    "Set", "Finset", "Real", "Complex", "Group", "Ring", "Module", "Matrix", "Filter", "Topology",
    "Measure", "Order", "Lattice", "Function", "Equiv", "Subtype", "Prod", "Sum"};
static const char *const words[] = {
    "map", "foldl", "foldr", "append", "length", "get", "set", "push", "pop", "find", "filter",
    "zip", "unzip", "reverse", "head", "tail", "cons", "nil", "insert", "erase", "contains",
    "toList", "ofList", "size", "isEmpty", "mk", "elim", "induction", "comm", "assoc", "refl",
    "symm", "trans", "congr", "eq", "ne", "lt", "le", "add", "mul", "sub", "div", "mod", "pow",
    "succ", "pred", "zero", "one", "neg", "inv", "min", "max", "mono", "injective", "surjective",
    "bijective", "continuous", "measurable", "bounded", "finite", "card", "sum", "prod", "lift",
    "bind", "pure", "seq", "run", "eval", "whnf", "instantiate", "abstract", "elab", "check"};
static const char *const suffixes[] = {"", "", "", "_left", "_right", "_iff", "_of_lt", "_self",
                                       "_zero", "_succ", "_cons", "_nil", "'", "_comm", "_def", "_eq"};
static const char *const binder_names[] = {"α", "β", "γ", "x", "y", "z", "a", "b", "n", "m", "h", "f",
                                           "g", "l", "s", "inst", "p", "q", "i", "j", "k", "hx", "hy"};
static const char *const class_words[] = {"Add", "Mul", "Monad", "BEq", "Hashable", "Inhabited", "Repr",
                                          "ToString", "DecidableEq", "LT", "LE", "Functor", "Ring",
                                          "Group", "TopologicalSpace", "MeasurableSpace"};

#define COUNT(a) (sizeof a / sizeof *a)

/* ---- naming ------------------------------------------------------------------ */

static void module_name(char *buf, size_t size, const char *prefix, const gen_shape *sh, uint32_t modules,
                        uint32_t i)
{
    uint32_t depth = sh->depth < modules ? sh->depth : modules;
    uint32_t layer = (uint32_t)((uint64_t)i * depth / modules);
    snprintf(buf, size, "%s.L%u.M%u", prefix, layer, i);
}

/* The name of user declaration j of module mod (deterministic: importers rebuild it). */
static void decl_name(char *buf, size_t size, const char *mn, uint64_t seed, uint32_t mod, uint32_t j)
{
    uint64_t s = seed ^ ((uint64_t)mod << 20) ^ j ^ 0x6e616d65ull;
    rng_next(&s);
    const char *ns = namespaces[below(&s, COUNT(namespaces))];
    const char *w = words[below(&s, COUNT(words))];
    const char *suf = suffixes[below(&s, COUNT(suffixes))];
    snprintf(buf, size, "%s.%s.%s%s%u", mn, ns, w, suf, j);
}

/* ---- building --------------------------------------------------------------- */

typedef VEC(lx_word) vec; /* of owned references */

/* Releases every element and the memory. */
static void words_release(vec *a)
{
    for (size_t i = 0; i < a->n; i++)
        lx_unref(a->v[i]);
    vec_free(a);
}

static lx_word ref(lx_word w)
{
    lx_ref(w);
    return w;
}

/* A module under construction. */
typedef struct gmod {
    uint64_t rng;
    const gen_shape *sh;
    vec      consts;      /* Expr.const nodes a term may use (imported and local) */
    vec      classes;     /* Expr.const nodes of class-like constants */
    vec      bnames;      /* binder Names */
    lx_word  lvl_u;       /* Level.param u */
    lx_word  lvl_params;  /* List Name [u] */
    lx_word  sort_u, sort_succ, prop;
    vec      terms;       /* subterms of the current constant, for sharing */
    /* outputs */
    vec      names, infos;
    vec      doc, range, ns, inst, simp, red, ir, lcnf_base, lcnf_mono, eqns;
    uint32_t line;
    bool     oom;         /* a push failed somewhere: the module fails */
} gmod;

static lx_word name_of(const char *text)
{
    lx_word n;
    if (ln_mk_name_text(text, strlen(text), &n) != 0)
        n = ln_mk_name_str(lx_box(0), text, strlen(text)); /* never: the texts are plain */
    return n;
}

static lx_word mk_list1(lx_word x) { return ln_mk_cons(x, lx_box(0)); }

static lx_word pick(vec *a, uint64_t *rng) { return ref(a->v[below(rng, (uint32_t)a->n)]); }

/* A leaf: a bound variable in scope, a constant, a literal or a sort. */
static lx_word leaf(gmod *g, unsigned depth)
{
    uint32_t r = below(&g->rng, 100);
    if (depth && r < 45)
        return ln_mk_bvar(below(&g->rng, depth < 8 ? depth : 8));
    if (r < 95)
        return pick(&g->consts, &g->rng);
    if (r < 98)
        return ln_mk_lit_nat(lx_box(below(&g->rng, 64)));
    return ref(g->sort_u);
}

static lx_word term(gmod *g, uint32_t budget, unsigned depth);

/* An application spine: head constant applied to arguments sharing budget. */
static lx_word spine(gmod *g, uint32_t budget, unsigned depth)
{
    lx_word e = pick(&g->consts, &g->rng);
    uint32_t nargs = 1 + below(&g->rng, 4);
    if (nargs > budget)
        nargs = budget ? budget : 1;
    uint32_t rest = budget > nargs ? budget - nargs : 0;
    for (uint32_t i = 0; i < nargs; i++) {
        uint32_t part = i + 1 == nargs ? rest : below(&g->rng, rest + 1);
        rest -= part;
        e = ln_mk_app(e, term(g, part, depth));
    }
    return e;
}

static lx_word remember(gmod *g, lx_word e)
{
    if (g->terms.n < 4096 && vec_push(&g->terms, ref(e)) != 0)
        g->oom = true; /* (no reference was taken) */
    return e;
}

/* A term of about budget nodes with depth binders in scope. */
static lx_word term(gmod *g, uint32_t budget, unsigned depth)
{
    if (budget <= 1)
        return leaf(g, depth);
    uint32_t r = below(&g->rng, 1000);
    if (g->terms.n && r < 80) /* a subterm met before: the DAG sharing of real proofs */
        return pick(&g->terms, &g->rng);
    lx_word e;
    if (r < 420 && budget > 3) {
        lx_word ty = term(g, 1 + budget / 10, depth);
        e = ln_mk_binder(true, pick(&g->bnames, &g->rng), ty, term(g, budget - 1 - budget / 10, depth + 1),
                         (uint8_t)(permille(&g->rng, 150) ? LN_BI_IMPLICIT : LN_BI_DEFAULT));
    } else if (r >= 420 && r < 445 && budget > 4) {
        lx_word ty = term(g, 1, depth), v = term(g, budget / 3, depth);
        e = ln_mk_let(pick(&g->bnames, &g->rng), ty, v, term(g, budget - 1 - budget / 3, depth + 1), false);
    } else if (r >= 445 && r < 448) {
        e = ln_mk_proj(name_of("Prod"), below(&g->rng, 2), term(g, budget - 1, depth));
    } else {
        e = spine(g, budget - 1, depth);
    }
    return budget > 6 ? remember(g, e) : e;
}

/* A type: ∀ {α : Sort u} [inst : C α] (x : T)..., then an application. Binder types go to *btys. */
static lx_word type_of(gmod *g, uint32_t nbinders, vec *btys, bool prop)
{
    lx_word tys[24];
    uint8_t bis[24];
    lx_word nms[24];
    if (nbinders > 24)
        nbinders = 24;
    for (uint32_t i = 0; i < nbinders; i++) {
        uint32_t r = below(&g->rng, 100);
        if (i == 0 && r < 40) {
            tys[i] = ref(g->sort_u);
            bis[i] = LN_BI_IMPLICIT;
        } else if (i > 0 && r < 20 && g->classes.n) {
            tys[i] = ln_mk_app(pick(&g->classes, &g->rng), ln_mk_bvar(below(&g->rng, i)));
            bis[i] = LN_BI_INST;
        } else {
            tys[i] = term(g, 1 + below(&g->rng, 3), i); /* at most 3 nodes: no λ in a binder type */
            bis[i] = r < 35 ? LN_BI_IMPLICIT : LN_BI_DEFAULT;
        }
        nms[i] = pick(&g->bnames, &g->rng);
        if (btys && vec_push(btys, ref(tys[i])) != 0)
            g->oom = true;
    }
    lx_word body = prop ? ln_mk_app(ln_mk_app(ln_mk_app(pick(&g->consts, &g->rng), term(g, 1, nbinders)),
                                              spine(g, below(&g->rng, 4), nbinders)),
                                    spine(g, below(&g->rng, 4), nbinders))
                        : spine(g, 1 + below(&g->rng, 4), nbinders);
    for (uint32_t i = nbinders; i-- > 0;)
        body = ln_mk_binder(false, nms[i], tys[i], body, bis[i]);
    return body;
}

/* A value: λ over the type's binder types (shared with the type), then a term. */
static lx_word value_of(gmod *g, const vec *btys, uint32_t nodes)
{
    lx_word body = term(g, nodes, (unsigned)btys->n);
    for (size_t i = btys->n; i-- > 0;)
        body = ln_mk_binder(true, pick(&g->bnames, &g->rng), ref(btys->v[i]), body, LN_BI_DEFAULT);
    return body;
}

static lx_word cval(lx_word name, lx_word lparams, lx_word type)
{
    lx_word c = lx_ctor_new(0, 3, 0);
    lx_ctor_set(c, 0, name);
    lx_ctor_set(c, 1, lparams);
    lx_ctor_set(c, 2, type);
    return c;
}

static lx_word info_of(unsigned kind, lx_word v)
{
    lx_word ci = lx_ctor_new(kind, 1, 0);
    lx_ctor_set(ci, 0, v);
    return ci;
}

/* Appends a constant: kind, name (STOLEN), type, value (STOLEN; box(0) if none). */
static int add_const(gmod *g, unsigned kind, lx_word name, lx_word type, lx_word value, lx_word extra1,
                     lx_word extra2)
{
    lx_word lp = chance(&g->rng, 40) ? ref(g->lvl_params) : lx_box(0);
    lx_word cv = cval(ref(name), lp, type), v;
    switch (kind) {
    case LN_DEF: {
        v = lx_ctor_new(0, 4, 1);
        lx_ctor_set(v, 1, value);
        lx_word h = lx_ctor_new(2, 0, 4); /* ReducibilityHints.regular height */
        uint32_t height = 1 + below(&g->rng, 200);
        memcpy(lx_ctor_scalars_mut(h), &height, 4);
        lx_ctor_set(v, 2, h);
        lx_ctor_set(v, 3, mk_list1(ref(name)));
        lx_ctor_scalars_mut(v)[0] = LN_SAFE;
        break;
    }
    case LN_THM:
        v = lx_ctor_new(0, 3, 0);
        lx_ctor_set(v, 1, value);
        lx_ctor_set(v, 2, mk_list1(ref(name)));
        break;
    case LN_OPAQUE:
        v = lx_ctor_new(0, 3, 1);
        lx_ctor_set(v, 1, value);
        lx_ctor_set(v, 2, mk_list1(ref(name)));
        break;
    case LN_INDUCT: /* extra1: List Name of constructors */
        v = lx_ctor_new(0, 6, 3);
        lx_ctor_set(v, 1, lx_box(1));
        lx_ctor_set(v, 3, mk_list1(ref(name)));
        lx_ctor_set(v, 4, extra1);
        lx_unref(value);
        break;
    case LN_CTOR: /* extra1: the inductive's Name; extra2: box(cidx) */
        v = lx_ctor_new(0, 5, 1);
        lx_ctor_set(v, 1, extra1);
        lx_ctor_set(v, 2, extra2);
        lx_ctor_set(v, 3, lx_box(1));
        lx_ctor_set(v, 4, lx_box(2));
        lx_unref(value);
        break;
    case LN_REC: /* extra1: the inductive's Name; extra2: List RecursorRule */
        v = lx_ctor_new(0, 7, 2);
        lx_ctor_set(v, 1, mk_list1(extra1));
        lx_ctor_set(v, 2, lx_box(1));
        lx_ctor_set(v, 4, lx_box(1));
        lx_ctor_set(v, 5, lx_box(2));
        lx_ctor_set(v, 6, extra2);
        lx_unref(value);
        break;
    default: /* axiom */
        v = lx_ctor_new(0, 1, 1);
        lx_unref(value);
        break;
    }
    lx_ctor_set(v, 0, cv);
    if (vec_push(&g->infos, info_of(kind, v)) || vec_push(&g->names, name))
        return -ENOMEM;
    return 0;
}

/* Expr.const of a name with the module's levels (some universe-polymorphic). */
static lx_word const_expr(gmod *g, lx_word name)
{
    lx_word lv = chance(&g->rng, 30) ? mk_list1(ref(g->lvl_u)) : lx_box(0);
    return ln_mk_const(name, lv);
}

static lx_word nat(uint64_t v) { return lx_box(v); }

static lx_word position(uint64_t line, uint64_t col)
{
    lx_word p = lx_ctor_new(0, 2, 0);
    lx_ctor_set(p, 0, nat(line));
    lx_ctor_set(p, 1, nat(col));
    return p;
}

static lx_word decl_range(uint64_t l0, uint64_t c0, uint64_t l1, uint64_t c1)
{
    lx_word r = lx_ctor_new(0, 4, 0);
    lx_ctor_set(r, 0, position(l0, c0));
    lx_ctor_set(r, 1, nat(c0));
    lx_ctor_set(r, 2, position(l1, c1));
    lx_ctor_set(r, 3, nat(c1));
    return r;
}

static lx_word pair(lx_word a, lx_word b)
{
    lx_word p = lx_ctor_new(0, 2, 0);
    lx_ctor_set(p, 0, a);
    lx_ctor_set(p, 1, b);
    return p;
}

static const char lorem[] =
    "Returns the result of applying the operation to every element, in order. The proof goes by "
    "induction on the structure; the base case is immediate from the definition and the step uses "
    "the lemma above together with associativity. See also the variant that works on arrays, which "
    "is faster in compiled code but has the same specification. Note: this is a synthetic docstring "
    "of realistic length, written by envpool gen.";

/* User-facing extension entries of one user declaration. */
static int entries_for(gmod *g, lx_word name, unsigned kind, bool instance, uint32_t lines)
{
    int rc = 0;
    uint32_t l0 = g->line, l1 = g->line + lines;
    g->line = l1 + 2;
    lx_word rg = pair(decl_range(l0, 0, l1, 20 + below(&g->rng, 60)), decl_range(l0, 4, l0, 4 + 12));
    rc |= vec_push(&g->range, pair(ref(name), rg));
    if (chance(&g->rng, g->sh->doc_percent)) {
        uint32_t off = below(&g->rng, 40), len = around(&g->rng, g->sh->doc_bytes);
        if (len > sizeof lorem - 1 - off)
            len = (uint32_t)(sizeof lorem - 1 - off);
        lx_word s;
        if (lx_string_try_new(lorem + off, len, &s))
            return -ENOMEM;
        rc |= vec_push(&g->doc, pair(ref(name), s));
    }
    if (instance) {
        lx_word ie = lx_ctor_new(0, 5, 1), keys, so;
        if (lx_array_try_new(1, &keys) || lx_array_try_new(0, &so))
            return -ENOMEM;
        lx_word key = lx_ctor_new(0, 2, 0);
        lx_ctor_set(key, 0, ref(name));
        lx_ctor_set(key, 1, lx_box(1));
        lx_array_set(keys, 0, key);
        lx_ctor_set(ie, 0, keys);
        lx_ctor_set(ie, 1, ln_mk_const(ref(name), lx_box(0)));
        lx_ctor_set(ie, 2, nat(1000));
        lx_word some = lx_ctor_new(1, 1, 0);
        lx_ctor_set(some, 0, ref(name));
        lx_ctor_set(ie, 3, some);
        lx_ctor_set(ie, 4, so);
        lx_word glob = lx_ctor_new(0, 1, 0);
        lx_ctor_set(glob, 0, ie);
        rc |= vec_push(&g->inst, glob);
        lx_word red = lx_ctor_new(0, 2, 0);
        lx_ctor_set(red, 0, ref(name));
        lx_ctor_set(red, 1, lx_box(LN_REDUCIBLE)); /* instances are @[reducible] */
        rc |= vec_push(&g->red, red);
    }
    if (kind == LN_THM && chance(&g->rng, 12)) {
        lx_word keys, lps;
        if (lx_array_try_new(2, &keys) || lx_array_try_new(0, &lps))
            return -ENOMEM;
        for (int k = 0; k < 2; k++) {
            lx_word key = lx_ctor_new(0, 2, 0);
            lx_ctor_set(key, 0, ref(g->names.v[below(&g->rng, (uint32_t)g->names.n)]));
            lx_ctor_set(key, 1, lx_box(2));
            lx_array_set(keys, (size_t)k, key);
        }
        lx_word origin = lx_ctor_new(0, 1, 2);
        lx_ctor_set(origin, 0, ref(name));
        lx_ctor_scalars_mut(origin)[0] = 1;
        lx_word st = lx_ctor_new(0, 5, 3);
        lx_ctor_set(st, 0, keys);
        lx_ctor_set(st, 1, lps);
        lx_ctor_set(st, 2, ln_mk_const(ref(name), lx_box(0)));
        lx_ctor_set(st, 3, nat(1000));
        lx_ctor_set(st, 4, origin);
        lx_ctor_scalars_mut(st)[0] = 1;
        lx_word thm = lx_ctor_new(0, 1, 0);
        lx_ctor_set(thm, 0, st);
        lx_word glob = lx_ctor_new(0, 1, 0);
        lx_ctor_set(glob, 0, thm);
        rc |= vec_push(&g->simp, glob);
    }
    /* What the compiler and elaborator record per declaration in extensions envpool
       lists but does not decode (IR, LCNF, equation lemmas…): trees of small
       constructors, numbers and names, the bytes those entries add to a module. */
    unsigned nblobs = kind == LN_DEF ? 3 : kind == LN_THM ? 1 : 0;
    for (unsigned b = 0; b < nblobs; b++) {
        uint32_t n = around(&g->rng, b == 0 ? g->sh->ir_nodes : g->sh->ir_nodes / 3);
        lx_word body = lx_box(0);
        for (uint32_t k = 0; k < n; k++) {
            lx_word node = lx_ctor_new(below(&g->rng, 12), 3, 8);
            lx_ctor_set(node, 0, nat(below(&g->rng, 40)));
            lx_ctor_set(node, 1, k % 5 == 0 ? ref(g->names.v[below(&g->rng, (uint32_t)g->names.n)]) : lx_box(k));
            lx_ctor_set(node, 2, body);
            uint64_t sc = rng_next(&g->rng) & 0xffff;
            memcpy(lx_ctor_scalars_mut(node), &sc, 8);
            body = node;
        }
        lx_word params;
        if (lx_array_try_new(b == 0 ? 2 : 0, &params))
            return -ENOMEM;
        lx_word decl = lx_ctor_new(0, 4, 0);
        lx_ctor_set(decl, 0, ref(name));
        lx_ctor_set(decl, 1, params);
        lx_ctor_set(decl, 2, nat(7));
        lx_ctor_set(decl, 3, body);
        rc |= vec_push(kind == LN_THM ? &g->eqns : b == 0 ? &g->ir : b == 1 ? &g->lcnf_base : &g->lcnf_mono, decl);
    }
    return rc ? -ENOMEM : 0;
}

/* base.suffix into buf (names here are far below the size: a cut one would only be another name). */
static void join(char *buf, size_t size, const char *base, const char *suffix)
{
    if (snprintf(buf, size, "%s.%s", base, suffix) >= (int)size)
        buf[size - 1] = '\0';
}

static lx_word suffixed(const char *base, const char *suffix)
{
    char buf[1024];
    join(buf, sizeof buf, base, suffix);
    return name_of(buf);
}

/* A user declaration j (named dn) and its auxiliary constants. */
static int user_decl(gmod *g, const char *dn, uint32_t j)
{
    uint32_t r = below(&g->rng, 1000);
    vec btys = {0};
    int rc = 0;
    for (size_t i = 0; i < g->terms.n; i++)
        lx_unref(g->terms.v[i]);
    vec_clear(&g->terms);
    lx_word name = name_of(dn);
    uint32_t nb = around(&g->rng, g->sh->type_binders);
    if (r < 12) { /* an inductive type with two constructors and Lean's auxiliary constants */
        char cn[2][1024];
        lx_word ctors = lx_box(0), rules = lx_box(0);
        for (int k = 1; k >= 0; k--) {
            join(cn[k], sizeof cn[k], dn, k ? "cons" : "mk");
            ctors = ln_mk_cons(name_of(cn[k]), ctors);
        }
        lx_word ty = type_of(g, nb / 2, NULL, false);
        rc |= add_const(g, LN_INDUCT, ref(name), ty, lx_box(0), ctors, 0);
        for (unsigned k = 0; k < 2; k++) {
            lx_word cty = type_of(g, nb, NULL, false);
            rc |= add_const(g, LN_CTOR, name_of(cn[k]), cty, lx_box(0), ref(name), lx_box(k));
            lx_word rule = lx_ctor_new(0, 3, 0);
            lx_ctor_set(rule, 0, name_of(cn[k]));
            lx_ctor_set(rule, 1, nat(2));
            vec b = {0};
            lx_word rt = type_of(g, nb, &b, false);
            lx_unref(rt);
            lx_ctor_set(rule, 2, value_of(g, &b, g->sh->value_nodes / 4));
            words_release(&b);
            rules = ln_mk_cons(rule, rules);
        }
        rc |= add_const(g, LN_REC, suffixed(dn, "rec"), type_of(g, nb + 3, NULL, false), lx_box(0),
                        ref(name), rules);
        static const char *const defs[] = {"recOn", "casesOn", "noConfusionType", "noConfusion", "below", "brecOn"};
        for (size_t k = 0; k < COUNT(defs); k++) {
            vec b = {0};
            lx_word t = type_of(g, nb + 2, &b, false);
            rc |= add_const(g, LN_DEF, suffixed(dn, defs[k]), t, value_of(g, &b, g->sh->value_nodes / 2), 0, 0);
            words_release(&b);
        }
        for (unsigned k = 0; k < 2; k++) {
            static const char *const thms[] = {"injEq", "inj", "sizeOf_spec"};
            for (size_t t = 0; t < COUNT(thms); t++) {
                if (k == 0 && t < 2)
                    continue; /* mk carries no fields here: no injectivity */
                vec b = {0};
                lx_word tt = type_of(g, nb + 1, &b, true);
                rc |= add_const(g, LN_THM, suffixed(cn[k], thms[t]), tt, value_of(g, &b, g->sh->value_nodes / 3),
                                0, 0);
                words_release(&b);
            }
        }
        rc |= entries_for(g, name, LN_INDUCT, false, 3 + below(&g->rng, 10));
    } else {
        unsigned kind = r < 560 ? LN_DEF : r < 990 ? LN_THM : LN_OPAQUE;
        bool inst = kind == LN_DEF && chance(&g->rng, 6);
        lx_word ty = type_of(g, nb, &btys, kind == LN_THM);
        lx_word val = value_of(g, &btys, around(&g->rng, g->sh->value_nodes));
        rc |= add_const(g, kind, ref(name), ty, val, 0, 0);
        if (kind == LN_DEF && chance(&g->rng, 5)) {
            vec b = {0};
            lx_word t = type_of(g, nb + 1, &b, false);
            rc |= add_const(g, LN_DEF, suffixed(dn, "match_1"), t, value_of(g, &b, g->sh->value_nodes / 2), 0, 0);
            words_release(&b);
        }
        if (chance(&g->rng, 2)) {
            vec b = {0};
            lx_word t = type_of(g, nb, &b, true);
            rc |= add_const(g, LN_THM, suffixed(dn, "proof_1"), t, value_of(g, &b, g->sh->value_nodes / 3), 0, 0);
            words_release(&b);
        }
        rc |= entries_for(g, name, kind, inst, 2 + below(&g->rng, 30));
        if (inst && vec_push(&g->classes, const_expr(g, ref(name))))
            rc = -ENOMEM;
    }
    if (!rc && vec_push(&g->consts, const_expr(g, ref(name))))
        rc = -ENOMEM;
    words_release(&btys);
    lx_unref(name);
    (void)j;
    return rc ? -ENOMEM : 0;
}

static int array_of(vec *a, lx_word *out)
{
    if (lx_array_try_new(a->n, out))
        return -ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        lx_array_set(*out, i, a->v[i]);
    vec_free(a); /* the elements moved into the array */
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0777) != 0 && errno != EEXIST ? -errno : 0;
        *p = '/';
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct gen_ctx {
    const char      *dir, *prefix;
    const gen_shape *sh;
    uint32_t         modules;
    uint64_t         seed;
    uint32_t       **imports;
    uint32_t        *nimports;
    char            *err;
    size_t           errsize;
} gen_ctx;

/* Builds and saves module mod (UINT32_MAX: the root). */
static int write_module(gen_ctx *c, uint32_t mod, uint64_t *bytes, uint64_t *nconsts)
{
    char mn[256], path[4096];
    if (mod == UINT32_MAX)
        snprintf(mn, sizeof mn, "%s", c->prefix);
    else
        module_name(mn, sizeof mn, c->prefix, c->sh, c->modules, mod);
    int n = snprintf(path, sizeof path, "%s/%s.olean", c->dir, mn);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(c->err, c->errsize, "%s: output path too long", mn);
        return -1;
    }
    for (char *p = path + strlen(c->dir) + 1; p < path + strlen(c->dir) + 1 + strlen(mn); p++)
        if (*p == '.')
            *p = '/';
    int rc = mkdirs(path);
    if (rc) {
        snprintf(c->err, c->errsize, "cannot create the directory of %s: %s", path, strerror(-rc));
        return -1;
    }
    gmod g;
    memset(&g, 0, sizeof g);
    g.rng = c->seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)mod + 1) * 0xc2b2ae3d27d4eb4full;
    g.sh = c->sh;
    g.line = 1 + below(&g.rng, 20);
    lx_word un = name_of("u");
    g.lvl_u = ln_mk_level_param(ref(un));
    g.lvl_params = mk_list1(un);
    g.sort_u = ln_mk_sort(ref(g.lvl_u));
    g.sort_succ = ln_mk_sort(ln_mk_level_succ(ref(g.lvl_u)));
    g.prop = ln_mk_sort(lx_box(0));
    rc = 0;
    for (size_t i = 0; i < COUNT(binder_names); i++)
        rc |= vec_push(&g.bnames, name_of(binder_names[i]));
    /* Constants of imported modules that terms refer to, and a few classes. */
    uint32_t ni = mod == UINT32_MAX ? 0 : c->nimports[mod];
    const uint32_t *imps = mod == UINT32_MAX ? NULL : c->imports[mod];
    char buf[1024], imn[256];
    for (uint32_t k = 0; ni && k < 640; k++) {
        uint32_t im = imps[below(&g.rng, ni)];
        module_name(imn, sizeof imn, c->prefix, c->sh, c->modules, im);
        decl_name(buf, sizeof buf, imn, c->seed, im, below(&g.rng, c->sh->decls));
        rc |= vec_push(&g.consts, const_expr(&g, name_of(buf)));
    }
    for (size_t k = 0; k < COUNT(class_words); k++) {
        snprintf(buf, sizeof buf, "%s.Class.%s", c->prefix, class_words[k]);
        rc |= vec_push(&g.classes, const_expr(&g, name_of(buf)));
        if (!ni)
            rc |= vec_push(&g.consts, const_expr(&g, name_of(buf)));
    }
    static const char *const core[] = {"Eq", "HEq", "And", "Or", "Iff", "Not", "Exists", "Eq.mpr", "Eq.mp",
                                       "congrArg", "Eq.refl", "Eq.trans", "id", "of_eq_true", "Nat", "Bool"};
    for (size_t k = 0; k < COUNT(core); k++)
        rc |= vec_push(&g.consts, const_expr(&g, name_of(core[k])));
    uint32_t ndecls = mod == UINT32_MAX ? 0 : c->sh->decls;
    for (uint32_t j = 0; j < ndecls && !rc; j++) {
        decl_name(buf, sizeof buf, mn, c->seed, mod, j);
        rc = user_decl(&g, buf, j);
    }
    /* Namespaces: the module's prefixes and each declaration's namespace. */
    if (!rc) {
        rc |= vec_push(&g.ns, name_of(c->prefix));
        for (size_t k = 0; mod != UINT32_MAX && k < COUNT(namespaces); k += 3) {
            snprintf(buf, sizeof buf, "%s.%s", mn, namespaces[k]);
            rc |= vec_push(&g.ns, name_of(buf));
        }
    }
    lx_word root = lx_box(0), imports = lx_box(0), names = lx_box(0), infos = lx_box(0), extra = lx_box(0),
            entries = lx_box(0);
    uint64_t count = g.infos.n;
    if (g.oom)
        rc = -ENOMEM;
    if (!rc && (lx_array_try_new(ni + (mod == UINT32_MAX ? c->nimports[c->modules] : 0), &imports) ||
                array_of(&g.names, &names) || array_of(&g.infos, &infos) || lx_array_try_new(0, &extra)))
        rc = -ENOMEM;
    if (!rc) {
        const uint32_t *list = mod == UINT32_MAX ? c->imports[c->modules] : imps;
        uint32_t nl = mod == UINT32_MAX ? c->nimports[c->modules] : ni;
        for (uint32_t k = 0; k < nl; k++) {
            module_name(imn, sizeof imn, c->prefix, c->sh, c->modules, list[k]);
            lx_word imp = lx_ctor_new(0, 1, 1); /* Import: module, runtimeOnly = false */
            lx_ctor_set(imp, 0, name_of(imn));
            lx_array_set(imports, k, imp);
        }
        /* Extension entries, with the names Lean 4.18 registers them under. */
        struct { const char *name; vec *v; } exts[] = {
            {"Lean.docStringExt", &g.doc}, {"Lean.declRangeExt", &g.range}, {"Lean.namespacesExt", &g.ns},
            {"Lean.Meta.instanceExtension", &g.inst}, {"Lean.Meta.simpExtension", &g.simp},
            {"reducibilityCore", &g.red}, {"Lean.IR.declMapExt", &g.ir},
            {"Lean.Compiler.LCNF.baseExt", &g.lcnf_base}, {"Lean.Compiler.LCNF.monoExt", &g.lcnf_mono},
            {"Lean.Meta.eqnsExt", &g.eqns}};
        enum { NEMPTY = 48 };
        if (lx_array_try_new(COUNT(exts) + NEMPTY, &entries))
            rc = -ENOMEM;
        for (size_t k = 0; !rc && k < COUNT(exts); k++) {
            lx_word arr;
            if (array_of(exts[k].v, &arr)) {
                rc = -ENOMEM;
                break;
            }
            lx_array_set(entries, k, pair(name_of(exts[k].name), arr));
        }
        for (size_t k = 0; !rc && k < NEMPTY; k++) { /* the extensions every module lists, empty here */
            lx_word arr;
            snprintf(buf, sizeof buf, "Lean.Gen.%sExt%zu", words[k % COUNT(words)], k);
            if (lx_array_try_new(0, &arr)) {
                rc = -ENOMEM;
                break;
            }
            lx_array_set(entries, COUNT(exts) + k, pair(name_of(buf), arr));
        }
    }
    if (!rc) {
        root = lx_ctor_new(0, 5, 0); /* ModuleData, the 2023 … 4.18 shape */
        lx_ctor_set(root, 0, imports);
        lx_ctor_set(root, 1, names);
        lx_ctor_set(root, 2, infos);
        lx_ctor_set(root, 3, extra);
        lx_ctor_set(root, 4, entries);
        imports = names = infos = extra = entries = lx_box(0);
        region_save_opts opts;
        memset(&opts, 0, sizeof opts);
        snprintf(opts.lean_version, sizeof opts.lean_version, "4.18.0");
        snprintf(opts.githash, sizeof opts.githash, "envpool-gen");
        region_save_stats ss;
        region_error rerr;
        memset(&rerr, 0, sizeof rerr);
        if (region_save(path, mn, root, NULL, 0, NULL, &opts, NULL, &ss, &rerr) < 0) {
            char msg[512];
            snprintf(c->err, c->errsize, "%s: %s", path, region_error_format(&rerr, msg, sizeof msg));
            rc = -1;
        } else {
            *bytes += ss.bytes;
            *nconsts += count;
        }
    } else if (rc == -ENOMEM) {
        snprintf(c->err, c->errsize, "%s: out of memory", mn);
    }
    lx_unref(root);
    lx_unref(imports);
    lx_unref(names);
    lx_unref(infos);
    lx_unref(extra);
    lx_unref(entries);
    vec *all[] = {&g.consts, &g.classes, &g.bnames, &g.terms, &g.names, &g.infos, &g.doc, &g.range,
                  &g.ns, &g.inst, &g.simp, &g.red, &g.ir, &g.lcnf_base, &g.lcnf_mono, &g.eqns};
    for (size_t k = 0; k < COUNT(all); k++)
        words_release(all[k]);
    lx_unref(g.lvl_u);
    lx_unref(g.lvl_params);
    lx_unref(g.sort_u);
    lx_unref(g.sort_succ);
    lx_unref(g.prop);
    return rc ? -1 : 0;
}

/*
 * Modules 0 … modules-1 by jobs processes (module i by process i mod jobs):
 * saving a module ends in fsync, so one process mostly waits for the disk.
 * Each child reports "modules constants bytes" or "!message" on a pipe.
 */
static int write_modules(gen_ctx *c, unsigned jobs, gen_lib_stats *st)
{
    if (jobs < 1)
        jobs = 1;
    if (jobs > 16)
        jobs = 16;
    int fds[16][2];
    pid_t pids[16];
    unsigned started = 0;
    int rc = 0;
    fflush(NULL);
    for (unsigned k = 0; k < jobs; k++) {
        if (pipe(fds[k]) != 0) {
            snprintf(c->err, c->errsize, "pipe: %s", strerror(errno));
            rc = -1;
            break;
        }
        pids[k] = fork();
        if (pids[k] < 0) {
            snprintf(c->err, c->errsize, "fork: %s", strerror(errno));
            close(fds[k][0]);
            close(fds[k][1]);
            rc = -1;
            break;
        }
        if (pids[k] == 0) {
            close(fds[k][0]);
            gen_lib_stats mine = {0};
            int crc = 0;
            for (uint32_t i = k; i < c->modules && !crc; i += jobs) {
                crc = write_module(c, i, &mine.bytes, &mine.constants);
                mine.modules += crc == 0;
            }
            char line[1200];
            int n = crc ? snprintf(line, sizeof line, "!%s", c->err)
                        : snprintf(line, sizeof line, "%" PRIu64 " %" PRIu64 " %" PRIu64, mine.modules,
                                   mine.constants, mine.bytes);
            if (n > 0 && write(fds[k][1], line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
                crc = -1;
            _exit(crc ? 1 : 0);
        }
        close(fds[k][1]);
        started++;
    }
    for (unsigned k = 0; k < started; k++) {
        char line[1200];
        size_t got = 0;
        ssize_t r;
        while (got < sizeof line - 1 && (r = read(fds[k][0], line + got, sizeof line - 1 - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            got += (size_t)r;
        }
        line[got] = '\0';
        close(fds[k][0]);
        int status = 0;
        while (waitpid(pids[k], &status, 0) < 0 && errno == EINTR)
            ;
        gen_lib_stats part = {0};
        if (line[0] == '!') {
            if (!rc)
                snprintf(c->err, c->errsize, "%s", line + 1);
            rc = -1;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
                   sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64, &part.modules, &part.constants,
                          &part.bytes) != 3) {
            if (!rc)
                snprintf(c->err, c->errsize, "a generating process failed (status %d)", status);
            rc = -1;
        } else {
            st->modules += part.modules;
            st->constants += part.constants;
            st->bytes += part.bytes;
        }
    }
    return rc;
}

int gen_lib_write(const char *dir, const gen_shape *sh, const char *prefix, uint32_t modules, uint64_t seed,
                  unsigned jobs, gen_lib_stats *st, char *err, size_t errsize)
{
    gen_lib_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (!modules)
        modules = sh->modules;
    uint32_t depth = sh->depth < modules ? sh->depth : modules;
    char dpath[4096];
    int n = snprintf(dpath, sizeof dpath, "%s/", dir);
    if (n < 0 || (size_t)n >= sizeof dpath) {
        snprintf(err, errsize, "output directory path too long");
        return -1;
    }
    int rc = mkdirs(dpath);
    if (rc) {
        snprintf(err, errsize, "cannot create %s: %s", dir, strerror(-rc));
        return -1;
    }
    gen_ctx c = {dir, prefix, sh, modules, seed, NULL, NULL, err, errsize};
    c.imports = mem_try_calloc(modules + 1u, sizeof *c.imports);
    c.nimports = mem_try_calloc(modules + 1u, sizeof *c.nimports);
    bool *imported = mem_try_calloc(modules + 1u, 1);
    if (!c.imports || !c.nimports || !imported) {
        snprintf(err, errsize, "out of memory for %u modules", modules);
        rc = -1;
        goto out;
    }
    uint64_t rng = seed ^ 0x656e76706f6f6cull;
    for (uint32_t i = 0; i < modules && !rc; i++) {
        uint32_t layer = (uint32_t)((uint64_t)i * depth / modules);
        if (layer == 0)
            continue;
        uint32_t lo = (uint32_t)(((uint64_t)(layer - 1) * modules + depth - 1) / depth);
        uint32_t hi = (uint32_t)(((uint64_t)layer * modules + depth - 1) / depth);
        uint32_t want = sh->fan_in < hi ? sh->fan_in : hi;
        c.imports[i] = mem_try_array(want, sizeof **c.imports);
        if (!c.imports[i]) {
            snprintf(err, errsize, "out of memory");
            rc = -1;
            break;
        }
        c.imports[i][c.nimports[i]++] = lo + below(&rng, hi - lo);
        for (uint32_t tries = 0; c.nimports[i] < want && tries < 4 * want; tries++) {
            uint32_t k = below(&rng, hi), dup = 0;
            for (uint32_t q = 0; q < c.nimports[i]; q++)
                dup |= c.imports[i][q] == k;
            if (!dup)
                c.imports[i][c.nimports[i]++] = k;
        }
        for (uint32_t q = 0; q < c.nimports[i]; q++)
            imported[c.imports[i][q]] = true;
    }
    if (!rc) {
        c.imports[modules] = mem_try_array(modules, sizeof **c.imports);
        if (!c.imports[modules]) {
            snprintf(err, errsize, "out of memory");
            rc = -1;
        }
        for (uint32_t i = 0; !rc && i < modules; i++)
            if (!imported[i])
                c.imports[modules][c.nimports[modules]++] = i;
    }
    if (!rc)
        rc = write_modules(&c, jobs, st);
    if (!rc) {
        rc = write_module(&c, UINT32_MAX, &st->bytes, &st->constants);
        st->modules += rc == 0;
    }
out:
    for (uint32_t i = 0; c.imports && i <= modules; i++)
        mem_free(c.imports[i]);
    mem_free(c.imports);
    mem_free(c.nimports);
    mem_free(imported);
    return rc;
}
