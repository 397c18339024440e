/*
 * pool/find_internal.h — what the files of decl.find share and tests look
 * into: the query language's syntax tree (find_query.c), the per-module
 * inverted indexes (find_index.c) and the matcher (find_match.c).
 *
 * A query is Loogle's: a comma-separated list of filters that must all hold
 * (docs/protocol.md, "decl.find"). The parser knows no environment: notation
 * becomes applications of the constants it stands for (a list of candidates
 * where the name changed across Lean and Mathlib versions), identifiers stay
 * text, and resolution against an environment happens in find.c.
 */
#ifndef ENVPOOL_POOL_FIND_INTERNAL_H
#define ENVPOOL_POOL_FIND_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "pool/pool_internal.h"

/* ---- query syntax (find_query.c) ----------------------------------------- */

enum fq_kind {
    FQ_HOLE = 0,  /* _ */
    FQ_NAMED,     /* ?a: text = "a"; the same name matches the same term */
    FQ_IDENT,     /* a constant (or, once resolved, a bound variable): text */
    FQ_NUM,       /* numeral n: OfNat.ofNat _ n _ (or the raw literal) */
    FQ_STR,       /* string literal inside a term: text (unescaped) */
    FQ_APP,       /* head applied to explicit args: a = head, args[first .. first+nargs) */
    FQ_PI,        /* ∀ (x : a), b  and  a → b (text empty, binder anonymous) */
    FQ_LAM,       /* fun (x : a) => b */
    FQ_BVAR,      /* a variable bound in the pattern: num = de Bruijn index */
    FQ_SORT,      /* sort = FQ_PROP / FQ_TYPE / FQ_ANYSORT */
};

enum { FQ_PROP = 0, FQ_TYPE = 1, FQ_ANYSORT = 2 };

/* Notation whose arguments need the environment to be placed. */
enum { FQ_NOTE_NONE = 0, FQ_NOTE_MEM = 1 /* ∈: Membership.mem's argument order changed in 2024 */ };

typedef struct fq_node {
    uint8_t  kind;      /* enum fq_kind */
    uint8_t  sort;      /* FQ_SORT */
    uint8_t  note;      /* FQ_NOTE_* (on the FQ_APP of a notation) */
    uint8_t  alts;      /* FQ_IDENT from notation: text holds alts names separated by '\0' */
    uint32_t col;       /* 1-based column (characters) where the node starts in the query */
    uint32_t text, len; /* bytes in the query's text arena */
    uint32_t a, b;      /* children (node indices) */
    uint32_t first, nargs; /* FQ_APP: args are arg[first .. first + nargs) */
    uint64_t num;       /* FQ_NUM value, FQ_BVAR index; FQ_PI/FQ_LAM: the domain's shift (a
                           type shared by `(x y : T)` is read under the earlier names of its group) */
} fq_node;

enum fq_filter_kind {
    FQF_CONST = 0,  /* a bare identifier: the type mentions the constant (or is it) */
    FQF_NAME,       /* "text": the name contains it (ASCII case-insensitive) */
    FQF_TERM,       /* a term pattern: some subterm of the type matches */
    FQF_CONCL,      /* ⊢ pattern: the conclusion matches, hypotheses in any order */
};

typedef struct fq_filter {
    uint8_t  kind;  /* enum fq_filter_kind */
    uint32_t col;
    uint32_t node;  /* FQF_CONST, FQF_TERM, FQF_CONCL: the root node */
    uint32_t text, len; /* FQF_NAME: the string; FQF_CONST: the identifier */
} fq_filter;

typedef struct fq_query {
    fq_node   *nodes;
    size_t     nnodes, cap_nodes;
    uint32_t  *args;
    size_t     nargs, cap_args;
    fq_filter *filters;
    size_t     nfilters, cap_filters;
    char      *text;    /* arena: identifier and string bytes (NUL after each) */
    size_t     ntext, cap_text;
} fq_query;

enum {
    FQ_MAX_QUERY = 4096,  /* bytes of query text accepted */
    FQ_MAX_DEPTH = 128,   /* nesting of the term parser */
    FQ_MAX_NODES = 4096,
};

/* Where and why a query does not parse. Caller storage. */
typedef struct fq_error {
    uint32_t col;         /* 1-based column in characters */
    char     msg[200];
} fq_error;

/*
 * Parses text[0..len) (UTF-8; invalid bytes are a syntax error). 0 and *q
 * (caller storage, fq_query_deinit it), or POOL_EINVAL with *err (column and
 * message) and nothing to free, or -ENOMEM. Pure; any thread.
 */
int  fq_parse(const char *text, size_t len, fq_query *q, fq_error *err) __attribute__((warn_unused_result));
void fq_query_deinit(fq_query *q);
static inline const char *fq_text(const fq_query *q, uint32_t off) { return q->text + off; }

/*
 * The query again as text, each filter in the parser's own syntax (constants
 * of notation by their full names). For tests and error messages. Appends to
 * out; 0 or ln_buf's errors.
 */
int fq_format(const fq_query *q, ln_buf *out) __attribute__((warn_unused_result));

/* ---- inverted indexes (find_index.c) ------------------------------------- */

enum find_part { FIND_TYPE = 0, FIND_VALUE = 1 };

/*
 * One module's index of one part (types or values): every constant name its
 * declarations refer to (a key) → the declarations that do (a posting list
 * of indices into the module's constants, ascending). Immutable once built;
 * shared by every environment that maps the module, freed with the module.
 */
typedef struct find_modidx {
    uint32_t  ndecls;
    uint32_t  nkeys;
    uint64_t *key_hash;   /* [nkeys] 2023+ Name hash of the key */
    lx_word  *key_name;   /* [nkeys] a Name word of the key in this module */
    uint32_t *key_alias;  /* [nkeys + 1] aliases of key k: alias[key_alias[k] .. key_alias[k+1]) */
    lx_word  *alias;      /* other Name words with the same name (crafted or odd files) */
    uint32_t *post_off;   /* [nkeys + 1] */
    uint32_t *post;       /* [post_off[nkeys]] declaration indices */
    uint32_t *nconsts;    /* [ndecls] distinct constants in the declaration's part */
    uint8_t  *bad;        /* [ndecls] 1 if the part could not be read whole (corrupt, budget) */
    uint32_t *slots;      /* [mask + 1] key + 1, 0 = empty (open addressing on key_hash) */
    uint32_t  mask;
    uint64_t  bytes;      /* heap bytes of all of the above */
    uint64_t  build_ns;
} find_modidx;

/* Builds module m's index of part (on the calling thread). 0 and *out (new), or errors. */
int  find__modidx_build(const pool_module *m, enum find_part part, find_modidx **out,
                        pool_error *err);
void find__modidx_free(find_modidx *x);
/* Key of name (hash h, dotted text) in x: index or UINT32_MAX. Compares the name itself. */
uint32_t find__modidx_key(const find_modidx *x, const ln_module *lm, uint64_t h, const char *text,
                          size_t len);
/* Whether w is a Name word of key k. */
bool find__modidx_is_key(const find_modidx *x, uint32_t k, lx_word w);

/*
 * Distinct constant names an Expr refers to, in first-seen order, through a
 * visited set (Exprs are DAGs). Walks only through lean/'s accessors, bounded
 * by FIND_WALK_BUDGET steps. Used by the index builder and decl.uses.
 */
enum { FIND_WALK_BUDGET = 1 << 22 };
typedef struct find_walk find_walk;
find_walk *find__walk_new(void);
void       find__walk_free(find_walk *w);
/*
 * Adds the constants of e (in module lm) to the walk's current set. 0,
 * LN_ETOOBIG when the budget ran out (what was seen is kept), or a decoding
 * error. find__walk_reset empties the set (O(1) amortised).
 */
int    find__walk_expr(find_walk *w, const ln_module *lm, lx_word e, region_error *err);
void   find__walk_reset(find_walk *w);
size_t find__walk_count(const find_walk *w);
lx_word find__walk_const(const find_walk *w, size_t i);

/*
 * A set (or map to u32) of nonzero words: open addressing with generation
 * stamps, so find__ws_reset is O(1). Zero-initialised storage is an empty set.
 */
typedef struct find_wset {
    lx_word  *keys;
    uint32_t *gen;
    uint32_t *val;
    size_t    cap, count;
    uint32_t  cur;
} find_wset;
void find__ws_deinit(find_wset *s);
void find__ws_reset(find_wset *s);
/* 1 and *val (may be NULL) if w is present; 0 otherwise (*slot is scratch). */
int  find__ws_find(const find_wset *s, lx_word w, uint32_t *val, size_t *slot);
/* Adds w → val if absent. 0 or -ENOMEM. */
int  find__ws_put(find_wset *s, lx_word w, uint32_t val);

/* ---- matching (find_match.c) --------------------------------------------- */

/* A pattern constant, resolved against the environment. */
typedef struct fm_const {
    uint64_t explicit_mask; /* bit i: the constant's i-th leading binder is explicit */
    uint32_t nbind;         /* leading binders known (at most 64); later arguments count as explicit */
} fm_const;

typedef struct fm_hole {
    lx_word  e;      /* the subterm it stands for */
    uint32_t depth;  /* binders above e in the declaration's type */
    uint8_t  set;
} fm_hole;

enum { FM_MAX_PARAMS = 64, FM_MAX_SPINE = 256, FM_BUDGET = 1 << 20 };

/*
 * What the matcher needs for one candidate. The query side (q, node_const,
 * consts, node_hole, nnamed, ofnat) is fixed per query; the module side (lm,
 * x, key: the key of every pattern constant in x, UINT32_MAX when the
 * module never mentions it) changes with the candidate's module. Scratch is
 * owned by the context (fm_ctx_deinit).
 */
typedef struct fm_ctx {
    const fq_query    *q;
    const uint32_t    *node_const; /* [nnodes] const index of a resolved FQ_IDENT, else UINT32_MAX */
    const fm_const    *consts;
    const uint32_t    *node_hole;  /* [nnodes] hole id of an FQ_NAMED */
    uint32_t           nnamed;     /* named holes; telescope parameters use ids after them */
    uint32_t           ofnat;      /* const index of OfNat.ofNat, UINT32_MAX if absent */
    const ln_module   *lm;
    const find_modidx *x;
    const uint32_t    *key;        /* [nconsts] */
    fm_hole           *holes;      /* [nnamed + FM_MAX_PARAMS] */
    uint32_t          *undo;
    size_t             nundo, cap_undo;
    lx_word           *stack;
    size_t             cap_stack;
    find_wset          seen;       /* subterms visited by the walk of one candidate */
    uint64_t           steps;
    bool               over;       /* the step budget ran out on this candidate */
    int                err;        /* -ENOMEM seen */
} fm_ctx;

/* Allocates the holes for nnamed named holes. 0 or -ENOMEM. */
int  fm_ctx_init(fm_ctx *c, uint32_t nnamed);
void fm_ctx_deinit(fm_ctx *c);
/* Whether the declaration type `type` (in c->lm) satisfies term filter f (FQF_TERM or FQF_CONCL). */
bool fm_filter(fm_ctx *c, const fq_filter *f, lx_word type);

/* Helper threads of pool_env_find_prepare: -1 (default) one per CPU beyond the first, at most 3; tests set it. */
extern int find__build_helpers;

#endif
