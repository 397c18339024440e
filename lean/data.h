/*
 * lean/data.h — the cached data Lean stores in Name, Level and Expr objects,
 * computed in C exactly as Lean computes it (2023+ layouts).
 *
 *   Name.hash  (u64)  anonymous 1723; str p s = mix(p, murmur64a(s, 11));
 *                     num p n = mix(p, n < 2^64 ? n : 17)
 *   Level.Data (u64)  hash 0-31 | hasMVar 32 | hasParam 33 | depth 40-63
 *   Expr.Data  (u64)  hash 0-31 | approxDepth 32-39 | hasFVar 40 | hasExprMVar 41
 *                     | hasLevelMVar 42 | hasLevelParam 43 | looseBVarRange 44-63
 *
 * Formulas from src/Lean/Level.lean (Level.data), src/Lean/Expr.lean
 * (Expr.data, mkData, mkAppData) and src/runtime/hash.h (mixHash). Each
 * node's data depends only on its children's data, so the functions below
 * take the children's words and read their stored data: checking every node
 * of a file against its children's stored data checks the whole file
 * without recursion.
 *
 * Pure functions; thread-safe. The region-reading ones return 0 or
 * REGION_ECORRUPT on an object of the wrong shape (no error details: callers
 * know where they were).
 */
#ifndef ENVPOOL_LEAN_DATA_H
#define ENVPOOL_LEAN_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "region/hash.h"
#include "region/object.h"

/* Name: the hash functions are region/hash.h's (mixHash, MurmurHash64A, Name.hash). */
enum { LN_DATA_NAME_ANON_HASH = REGION_NAME_ANON_HASH };

/* Level.Data from its parts, and per constructor. */
uint64_t ln_data_level_make(uint64_t hash, uint64_t depth, bool has_mvar, bool has_param);
uint64_t ln_data_level_zero(void);
uint64_t ln_data_level_succ(uint64_t u);
uint64_t ln_data_level_max(uint64_t u, uint64_t v);
uint64_t ln_data_level_imax(uint64_t u, uint64_t v);
uint64_t ln_data_level_param(uint64_t name_hash);
uint64_t ln_data_level_mvar(uint64_t name_hash);

static inline uint32_t ln_data_hash32(uint64_t d)        { return (uint32_t)d; }
static inline unsigned ln_data_level_depth(uint64_t d)   { return (unsigned)(d >> 40); }
static inline unsigned ln_data_expr_depth(uint64_t d)    { return (unsigned)((d >> 32) & 255); }
static inline uint32_t ln_data_expr_range(uint64_t d)    { return (uint32_t)(d >> 44); }

/* Expr.Data from its parts (approx_depth saturates at 255; range < 2^20). */
uint64_t ln_data_expr_make(uint64_t hash, uint32_t range, uint32_t approx_depth,
                           bool has_fvar, bool has_expr_mvar, bool has_level_mvar,
                           bool has_level_param);
uint64_t ln_data_expr_bvar(uint64_t idx_hash, uint32_t range);
uint64_t ln_data_expr_sort(uint64_t level_data);
/* levels_hash: foldl (fun r l => mix r l.hash) 7; flags: any level has mvar/param. */
uint64_t ln_data_expr_const(uint64_t name_hash, uint64_t levels_hash, bool lvl_mvar, bool lvl_param);
uint64_t ln_data_expr_app(uint64_t f, uint64_t a);
uint64_t ln_data_expr_binder(uint64_t t, uint64_t b);            /* lam and forallE */
uint64_t ln_data_expr_let(uint64_t t, uint64_t v, uint64_t b);
uint64_t ln_data_expr_lit(uint64_t literal_hash);
uint64_t ln_data_expr_mdata(uint64_t e);
uint64_t ln_data_expr_proj(uint64_t struct_name_hash, uint64_t idx_hash, uint64_t e);

/* ---- on objects of a region (or the heap, with LX_HEAP_SPACE) ---------- */

/* Stored hash of a Name word (1723 for box(0)). */
int ln_data_name_stored(const lx_space *sp, lx_word name, uint64_t *hash);
/* Hash computed from the Name's own components and its prefix's stored hash. */
int ln_data_name_compute(const lx_space *sp, lx_word name, uint64_t *hash);
/* Hash of a Nat word as Lean's Hashable Nat (UInt64.ofNat: low 64 bits). */
int ln_data_nat_hash(const lx_space *sp, lx_word nat, uint64_t *hash);

/* Stored Level.Data of a Level word (box(0) = zero). */
int ln_data_level_stored(const lx_space *sp, lx_word level, uint64_t *data);
/* Level.Data computed from the children's stored data. */
int ln_data_level_compute(const lx_space *sp, lx_word level, uint64_t *data);

/* Stored Expr.Data of a (2023+ layout) Expr object. */
int ln_data_expr_stored(const lx_space *sp, lx_word expr, uint64_t *data);
/* Expr.Data computed from the children's stored data (2023+ layout). */
int ln_data_expr_compute(const lx_space *sp, lx_word expr, uint64_t *data);

#endif
