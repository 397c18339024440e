/*
 * lean/parse.h — building Lean values on the heap, and parsing expressions
 * written in the printer's syntax (lean/print.c) back into them.
 *
 * Builders make heap objects (region/heap.h) in the 2023+ layouts with their
 * cached data (Name hash, Level.Data, Expr.Data) computed as Lean does
 * (lean/data.h), so that a compacted result is what Lean would have written.
 * Every builder takes its object arguments STOLEN and returns a NEW reference.
 *
 * Thread: any; builders and the parser share no state.
 */
#ifndef ENVPOOL_LEAN_PARSE_H
#define ENVPOOL_LEAN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/object.h"
#include "region/region.h"

/* Names. */
lx_word ln_mk_name_str(lx_word prefix, const char *s, size_t len); /* aborts on exhaustion */
lx_word ln_mk_name_num(lx_word prefix, uint64_t n);
/* Dotted text with «» escapes and all-digit numeric components; LN_EINVAL (-1102) if malformed. */
int     ln_mk_name_text(const char *text, size_t len, lx_word *out);

/* Levels (zero is box(0)). */
lx_word ln_mk_level_succ(lx_word u);
lx_word ln_mk_level_max(lx_word u, lx_word v);
lx_word ln_mk_level_imax(lx_word u, lx_word v);
lx_word ln_mk_level_param(lx_word name);
lx_word ln_mk_level_mvar(lx_word name);

/* Nat from decimal digits (box or big number). 0, -ENOMEM or LN_EINVAL. */
int     ln_mk_nat_dec(const char *digits, size_t len, lx_word *out);

/* Expressions. binder_info: 0 default, 1 implicit, 2 strict implicit, 3 instance. */
lx_word ln_mk_bvar(uint64_t idx);
lx_word ln_mk_sort(lx_word level);
lx_word ln_mk_const(lx_word name, lx_word levels /* List Level */);
lx_word ln_mk_app(lx_word f, lx_word a);
lx_word ln_mk_binder(bool is_lambda, lx_word name, lx_word type, lx_word body, uint8_t binder_info);
lx_word ln_mk_let(lx_word name, lx_word type, lx_word value, lx_word body, bool non_dep);
lx_word ln_mk_lit_nat(lx_word nat);
lx_word ln_mk_lit_str(lx_word string);
lx_word ln_mk_proj(lx_word struct_name, uint64_t idx, lx_word e);
lx_word ln_mk_mvar(lx_word name);
/* List cons cell (tag 1 [head, tail]). */
lx_word ln_mk_cons(lx_word head, lx_word tail);

/*
 * Parses one expression in the printer's syntax (∀/fun binders with their
 * braces, → with or without a binder name, `(a : A) → B`, let, Sort/Type/Prop, name.{levels}, applications, numerals,
 * string literals, #i loose variables, ?m metavariables, e.S.1 projections
 * of field 1 of structure S; e.1 without S stands for S = [anonymous]).
 * A name bound by an enclosing binder is a bound variable; any other name is
 * a constant. Nesting is limited to LN_PARSE_MAX_DEPTH.
 * On success *out is a NEW heap Expr and 0 is returned; otherwise LN_EINVAL
 * (or -ENOMEM) with err->offset the byte offset and err->reason what was
 * expected there.
 */
enum { LN_PARSE_MAX_DEPTH = 2000 };
int ln_expr_parse(const char *text, size_t len, lx_word *out, region_error *err);

#endif
