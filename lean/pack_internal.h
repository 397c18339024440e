/*
 * lean/pack_internal.h — what the files of the text-module packer share
 * (pack.c: sessions, modules and simple declarations; pack_text.c: statements
 * and their lexical pieces; pack_check.c: parsing expressions and checking
 * their names and universes; pack_inductive.c: inductive types). Not public.
 */
#ifndef ENVPOOL_LEAN_PACK_INTERNAL_H
#define ENVPOOL_LEAN_PACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lean/data.h"
#include "lean/lean.h"
#include "lean/pack.h"
#include "lean/parse.h"
#include "region/heap.h"
#include "util/bbuf.h"
#include "util/mem.h"
#include "util/u64map.h"
#include "util/vec.h"

/* Most binder groups of one declaration or constructor. */
#define MAXB 32

typedef struct src {
    const char   *path;
    const char   *s;
    size_t        len;
    region_error *err;
} src;

typedef struct stmt {
    size_t start, end;          /* the statement's bytes */
    size_t doc_start, doc_end;  /* its doc comment's text (doc_end 0: none) */
} stmt;

typedef VEC(stmt) stmts;

typedef struct span { size_t s, e; } span;

typedef struct group {
    span all;      /* "(x : T)" */
    span name;
    span type;
    char open;     /* '(' '{' '[' or 's' (⦃) */
} group;

typedef struct head {
    size_t   name_s, name_e;   /* the declared name */
    size_t   after;            /* offset after the name (and its universes) */
    size_t   nlp;
    size_t   lp_s[16], lp_e[16]; /* universe names */
} head;

typedef VEC(lx_word) word_vec;

typedef struct decl_ctx {
    const src *x;
    ln_pack   *pk;
    size_t     start, end;        /* the statement, for positions */
    uint64_t  *lparams;           /* hashes of the declaration's universe names */
    size_t     nlparams;
    const uint64_t *local;        /* names declared by this statement so far (inductive) */
    size_t     nlocal;
} decl_ctx;

typedef struct module {
    word_vec consts;  /* ConstantInfo */
    word_vec names;   /* parallel Name */
    word_vec docs;    /* (Name × String) pairs */
    u64map   heights; /* definitions so far: Name hash -> definitional height */
} module;

/* Derived declarations are written as text into a bbuf (no limit; its sticky
 * error is checked once, by ln__expr_text). */
typedef bbuf txt;

static inline void tput(txt *t, const char *s, size_t n) { (void)bbuf_append(t, s, n); }
static inline void tputs(txt *t, const char *s) { (void)bbuf_puts(t, s); }
#define tputf(t, ...) ((void)bbuf_printf((t), __VA_ARGS__))

static inline bool ln__is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* ---- pack_text.c: statements and their pieces ---- */

/* Fills x->err with "PATH:LINE:COL: message" for byte off; returns LN_EINVAL. */
int ln__src_fail(const src *x, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Cuts the text into statements (appended to out): 0, LN_EINVAL or -ENOMEM. */
int ln__split(const src *x, stmts *out);
size_t ln__word_end(const src *x, size_t off, size_t end);
size_t ln__skip_ws(const src *x, size_t off, size_t end);
bool ln__word_is(const src *x, size_t off, size_t end, const char *w);
/* First occurrence of pat at bracket depth 0 in [from, to), or to. */
size_t ln__find_top(const src *x, size_t from, size_t to, const char *pat);
/* Binder groups "(x : T)" in [off, end), at most max: 0 or LN_EINVAL. */
int ln__groups_in(const src *x, size_t off, size_t end, group *g, size_t max, size_t *n);
/* "NAME.{u, v}" at off: 0 or LN_EINVAL. */
int ln__parse_head(const src *x, size_t off, size_t end, head *h);

/* ---- pack_check.c: expressions, names, universes ---- */

uint64_t ln__name_hash(lx_word n);
bool ln__known(const ln_pack *pk, uint64_t h);
/* Parses [off, end) of the source (or generated text t) and checks that
 * every constant is known and every universe declared: 0 with *out new,
 * LN_EINVAL (positioned in the statement) or -ENOMEM. */
int ln__expr_at(const decl_ctx *d, size_t off, size_t end, lx_word *out);
int ln__expr_text(const decl_ctx *d, const txt *t, lx_word *out);
/* The first field of an Expr object with this tag (enum ln_expr_kind) that
 * is itself an Expr, the binder name, MData map, structure name and index
 * coming before; UINT_MAX for tags without Expr fields. */
unsigned ln__expr_first_child(unsigned tag);

/* ---- pack.c: objects and the module under construction ---- */

lx_word ln__list_of(lx_word *items, size_t n); /* items STOLEN */
lx_word ln__cval(lx_word name, lx_word lparams, lx_word type); /* all STOLEN */
lx_word ln__cinfo(enum ln_const_kind kind, lx_word val);      /* val STOLEN */
lx_word ln__ctor_of(unsigned nptr, const lx_word *f, size_t scalars, const uint8_t *bytes); /* f STOLEN */
/* Adds a constant (name and info STOLEN, also on failure): 0 or -ENOMEM. */
int ln__add_const(module *m, ln_pack *pk, lx_word name, lx_word info);
/* Records st's doc comment for name (borrowed): 0 or -ENOMEM. */
int ln__add_doc(module *m, lx_word name, const src *x, const stmt *st);
/* The declared name and universe list (new), the universes' hashes in lph. */
int ln__head_names(const src *x, const head *h, lx_word *name, lx_word *lparams, uint64_t *lph);

/* ---- pack_inductive.c ---- */

/* An inductive statement: the type, its constructors, its recursor. */
int ln__decl_inductive(ln_pack *pk, module *m, const src *x, const stmt *st, size_t kw_end);

#endif
