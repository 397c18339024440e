/*
 * tests/support/leanbuild.h — builds small Lean regions in memory for lean/ tests.
 *
 * A builder appends objects to a growable v2 image (base TB_BASE) the way the
 * compactor lays them out: children first, 8-byte padding, pointers absolute.
 * Names get their real 2023+ hash; Exprs get a modern Expr.Data word whose
 * looseBVarRange is computed from the children (the printer relies on it), or
 * the old 2022 layout when tb.old_expr is set. Aborts on misuse (test code).
 */
#ifndef ENVPOOL_TESTS_LEANBUILD_H
#define ENVPOOL_TESTS_LEANBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lean/lean.h"

#define TB_BASE 0x100000000ULL

typedef struct tb {
    uint8_t *buf;
    size_t   len, cap;
    bool     old_expr;  /* 2022 Expr layout: 40-byte binders, binder info in data */
} tb;

void     tb_init(tb *b);
void     tb_free(tb *b);
/* Sets the root and opens the image with region_open_buffers (asserts success). */
region  *tb_open(tb *b, lx_word root);

lx_word  tb_ctor(tb *b, uint8_t tag, unsigned nptr, const lx_word *ptrs,
                 const uint8_t *scalars, unsigned nscalar);
lx_word  tb_string(tb *b, const char *s);
lx_word  tb_array(tb *b, size_t n, const lx_word *elems);
lx_word  tb_list(tb *b, size_t n, const lx_word *elems);
/* GMP-layout big number with n limbs. */
lx_word  tb_mpz(tb *b, size_t n, const uint64_t *limbs);

/* Names: dotted text, components split on '.', all-digit components numeric. */
lx_word  tb_name(tb *b, const char *dotted);
lx_word  tb_name_str(tb *b, lx_word prefix, const char *s);
lx_word  tb_name_num(tb *b, lx_word prefix, uint64_t n);

/* Levels (zero is lx_box(0)). */
lx_word  tb_lsucc(tb *b, lx_word l);
lx_word  tb_lmax(tb *b, lx_word l1, lx_word l2);
lx_word  tb_limax(tb *b, lx_word l1, lx_word l2);
lx_word  tb_lparam(tb *b, const char *name);

/* Exprs. */
lx_word  tb_bvar(tb *b, uint64_t i);
lx_word  tb_sort(tb *b, lx_word level);
lx_word  tb_const(tb *b, const char *name, size_t nlevels, const lx_word *levels);
lx_word  tb_app(tb *b, lx_word f, lx_word a);
lx_word  tb_lam(tb *b, const char *name, lx_word type, lx_word body, uint8_t bi);
lx_word  tb_pi(tb *b, const char *name, lx_word type, lx_word body, uint8_t bi);
/* Binder with an arbitrary Name word (anonymous, hygienic...). */
lx_word  tb_binder(tb *b, uint8_t tag, lx_word name, lx_word type, lx_word body, uint8_t bi);
lx_word  tb_let(tb *b, const char *name, lx_word type, lx_word value, lx_word body);
lx_word  tb_lit_nat(tb *b, lx_word nat);
lx_word  tb_lit_str(tb *b, const char *s);
lx_word  tb_mdata(tb *b, lx_word e);
lx_word  tb_proj(tb *b, const char *type_name, uint64_t idx, lx_word e);

/* ConstantVal and ModuleData. levels: level param names. */
lx_word  tb_cval(tb *b, const char *name, size_t nlp, const char *const *lps, lx_word type);
/* Module: era LN_ERA_2022 (3 fields), LN_ERA_2023 (5) or LN_ERA_MODULE (5 + isModule). */
lx_word  tb_module(tb *b, enum ln_era era, size_t nimports, const lx_word *imports,
                   size_t nconsts, const lx_word *consts, const lx_word *names);
lx_word  tb_import(tb *b, const char *module, uint8_t f0, uint8_t f1, uint8_t f2);
/* The same with ModuleData.entries given: an Array of tb_ext pairs. */
lx_word  tb_module_entries(tb *b, enum ln_era era, size_t nimports, const lx_word *imports,
                           size_t nconsts, const lx_word *consts, const lx_word *names, lx_word entries);
/* One extension of ModuleData.entries: c0[Name, Array entries]. */
lx_word  tb_ext(tb *b, const char *name, size_t n, const lx_word *entries);

#endif
