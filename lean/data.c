/*
 * lean/data.c — Name hashes, Level.Data and Expr.Data as Lean computes them
 * (see data.h for the bit layouts and sources).
 *
 * Object shapes read here (2023+; lean-olean-format.md §4):
 *   Name   str/num  tag 1/2, 2 ptrs, u64 hash                    32 bytes
 *   Level  succ 1 [u] | max 2, imax 3 [u, v] | param 4, mvar 5 [name], u64 data
 *   Expr   bvar 0 [idx] 24 | fvar 1, mvar 2 [name] 24 | sort 3 [level] 24
 *          const 4 [name, levels] 32 | app 5 [f, a] 32 | lam 6, forallE 7
 *          [name, type, body] 48 | letE 8 [name, type, value, body] 56
 *          lit 9 [literal] 24 | mdata 10 [kvmap, e] 32 | proj 11 [name, idx, e] 40
 *   each with the u64 data first in its scalar area.
 */
#include "lean/data.h"

#include <string.h>

#include "region/region.h"

/* ---- Level ------------------------------------------------------------- */

uint64_t ln_data_level_make(uint64_t hash, uint64_t depth, bool has_mvar, bool has_param)
{
    return (uint64_t)(uint32_t)hash | (uint64_t)has_mvar << 32 | (uint64_t)has_param << 33 | depth << 40;
}

uint64_t ln_data_level_zero(void) { return ln_data_level_make(2221, 0, false, false); }

uint64_t ln_data_level_succ(uint64_t u)
{
    return ln_data_level_make(region_hash_mix(2243, ln_data_hash32(u)), ln_data_level_depth(u) + 1ull,
                              (u >> 32) & 1, (u >> 33) & 1);
}

static uint64_t level_bin(uint64_t seed, uint64_t u, uint64_t v)
{
    unsigned du = ln_data_level_depth(u), dv = ln_data_level_depth(v);
    return ln_data_level_make(region_hash_mix(seed, region_hash_mix(ln_data_hash32(u), ln_data_hash32(v))),
                              (du > dv ? du : dv) + 1ull, ((u | v) >> 32) & 1, ((u | v) >> 33) & 1);
}

uint64_t ln_data_level_max(uint64_t u, uint64_t v)  { return level_bin(2251, u, v); }
uint64_t ln_data_level_imax(uint64_t u, uint64_t v) { return level_bin(2267, u, v); }
uint64_t ln_data_level_param(uint64_t name_hash)    { return ln_data_level_make(region_hash_mix(2239, name_hash), 0, false, true); }
uint64_t ln_data_level_mvar(uint64_t name_hash)     { return ln_data_level_make(region_hash_mix(2237, name_hash), 0, true, false); }

/* ---- Expr -------------------------------------------------------------- */

uint64_t ln_data_expr_make(uint64_t hash, uint32_t range, uint32_t approx_depth,
                           bool has_fvar, bool has_expr_mvar, bool has_level_mvar,
                           bool has_level_param)
{
    uint64_t d = approx_depth > 255 ? 255 : approx_depth;
    return (uint64_t)(uint32_t)hash | d << 32 | (uint64_t)has_fvar << 40 | (uint64_t)has_expr_mvar << 41 |
           (uint64_t)has_level_mvar << 42 | (uint64_t)has_level_param << 43 | (uint64_t)range << 44;
}

#define FLAGS_MASK ((uint64_t)15 << 40)

/* Data with the flags of `flags` (bits 40..43) and the other fields given. */
static uint64_t with_flags(uint64_t hash, uint32_t range, uint32_t depth, uint64_t flags)
{
    return ln_data_expr_make(hash, range, depth, false, false, false, false) | (flags & FLAGS_MASK);
}

uint64_t ln_data_expr_bvar(uint64_t idx_hash, uint32_t range)
{
    return ln_data_expr_make(region_hash_mix(7, idx_hash), range, 0, false, false, false, false);
}

uint64_t ln_data_expr_sort(uint64_t lvl)
{
    return ln_data_expr_make(region_hash_mix(11, ln_data_hash32(lvl)), 0, 0, false, false, (lvl >> 32) & 1, (lvl >> 33) & 1);
}

uint64_t ln_data_expr_const(uint64_t name_hash, uint64_t levels_hash, bool lvl_mvar, bool lvl_param)
{
    return ln_data_expr_make(region_hash_mix(5, region_hash_mix(name_hash, levels_hash)), 0, 0, false, false,
                             lvl_mvar, lvl_param);
}

uint64_t ln_data_expr_app(uint64_t f, uint64_t a)
{
    unsigned df = ln_data_expr_depth(f), da = ln_data_expr_depth(a);
    uint32_t rf = ln_data_expr_range(f), ra = ln_data_expr_range(a);
    return with_flags(region_hash_mix(f, a), rf > ra ? rf : ra, (df > da ? df : da) + 1u, f | a);
}

uint64_t ln_data_expr_binder(uint64_t t, uint64_t b)
{
    unsigned dt = ln_data_expr_depth(t), db = ln_data_expr_depth(b);
    uint32_t d = (dt > db ? dt : db) + 1u;
    uint32_t rt = ln_data_expr_range(t), rb = ln_data_expr_range(b);
    rb = rb ? rb - 1 : 0;
    return with_flags(region_hash_mix(d, region_hash_mix(ln_data_hash32(t), ln_data_hash32(b))),
                      rt > rb ? rt : rb, d, t | b);
}

uint64_t ln_data_expr_let(uint64_t t, uint64_t v, uint64_t b)
{
    unsigned dt = ln_data_expr_depth(t), dv = ln_data_expr_depth(v), db = ln_data_expr_depth(b);
    uint32_t d = dt > dv ? dt : dv;
    d = (d > db ? d : db) + 1u;
    uint32_t rt = ln_data_expr_range(t), rv = ln_data_expr_range(v), rb = ln_data_expr_range(b);
    rb = rb ? rb - 1 : 0;
    uint32_t r = rt > rv ? rt : rv;
    r = r > rb ? r : rb;
    uint64_t h = region_hash_mix(d, region_hash_mix(ln_data_hash32(t), region_hash_mix(ln_data_hash32(v), ln_data_hash32(b))));
    return with_flags(h, r, d, t | v | b);
}

uint64_t ln_data_expr_lit(uint64_t literal_hash)
{
    return ln_data_expr_make(region_hash_mix(3, literal_hash), 0, 0, false, false, false, false);
}

uint64_t ln_data_expr_mdata(uint64_t e)
{
    uint32_t d = ln_data_expr_depth(e) + 1u;
    return with_flags(region_hash_mix(d, ln_data_hash32(e)), ln_data_expr_range(e), d, e);
}

uint64_t ln_data_expr_proj(uint64_t struct_name_hash, uint64_t idx_hash, uint64_t e)
{
    uint32_t d = ln_data_expr_depth(e) + 1u;
    uint64_t h = region_hash_mix(d, region_hash_mix(struct_name_hash, region_hash_mix(idx_hash, ln_data_hash32(e))));
    return with_flags(h, ln_data_expr_range(e), d, e);
}

/* ---- objects ----------------------------------------------------------- */

/* The ctor at w if it has this tag range, pointer count and size. */
static const uint8_t *ctor(const lx_space *sp, lx_word w, unsigned nptr, unsigned size)
{
    if (lx_is_scalar(w))
        return NULL;
    const uint8_t *o = lx_obj(sp, w);
    if (!lx_is_ctor(o) || lx_ctor_num_objs(o) != nptr || lx_cs_sz(o) != size)
        return NULL;
    return o;
}

int ln_data_name_stored(const lx_space *sp, lx_word name, uint64_t *hash)
{
    if (name == lx_box(0)) {
        *hash = LN_DATA_NAME_ANON_HASH;
        return 0;
    }
    const uint8_t *o = ctor(sp, name, 2, 32);
    if (!o || (lx_tag(o) != 1 && lx_tag(o) != 2))
        return REGION_ECORRUPT;
    *hash = lx_rd64(lx_ctor_scalars(o));
    return 0;
}

int ln_data_nat_hash(const lx_space *sp, lx_word nat, uint64_t *hash)
{
    if (lx_is_scalar(nat)) {
        *hash = lx_unbox(nat);
        return 0;
    }
    const uint8_t *o = lx_obj(sp, nat);
    if (lx_tag(o) != LX_TAG_MPZ)
        return REGION_ECORRUPT;
    lx_mpz_view v = lx_mpz(o, nat);
    uint64_t lo = 0;
    if (v.digit_size == 8 && v.ndigits >= 1)
        lo = lx_rd64(v.digits);
    else if (v.digit_size == 4)
        lo = (v.ndigits >= 1 ? lx_rd32(v.digits) : 0) | (uint64_t)(v.ndigits >= 2 ? lx_rd32(v.digits + 4) : 0) << 32;
    *hash = v.negative ? 0 - lo : lo;
    return 0;
}

static bool nat_fits_u64(const lx_space *sp, lx_word nat)
{
    if (lx_is_scalar(nat))
        return true;
    lx_mpz_view v = lx_mpz(lx_obj(sp, nat), nat);
    return v.digit_size == 8 ? v.ndigits <= 1 : v.ndigits <= 2;
}

int ln_data_name_compute(const lx_space *sp, lx_word name, uint64_t *hash)
{
    if (name == lx_box(0)) {
        *hash = LN_DATA_NAME_ANON_HASH;
        return 0;
    }
    const uint8_t *o = ctor(sp, name, 2, 32);
    uint64_t ph;
    if (!o || ln_data_name_stored(sp, lx_ctor_get(o, 0), &ph))
        return REGION_ECORRUPT;
    lx_word c = lx_ctor_get(o, 1);
    if (lx_tag(o) == 1) {
        if (lx_is_scalar(c) || lx_tag(lx_obj(sp, c)) != LX_TAG_STRING)
            return REGION_ECORRUPT;
        const uint8_t *s = lx_obj(sp, c);
        *hash = region_name_hash_str(ph, lx_string_data(s), (size_t)lx_string_len(s));
        return 0;
    }
    if (lx_tag(o) != 2)
        return REGION_ECORRUPT;
    uint64_t n;
    if (ln_data_nat_hash(sp, c, &n))
        return REGION_ECORRUPT;
    *hash = region_name_hash_num(ph, nat_fits_u64(sp, c) ? n : 17);
    return 0;
}

int ln_data_level_stored(const lx_space *sp, lx_word level, uint64_t *data)
{
    if (level == lx_box(0)) {
        *data = ln_data_level_zero();
        return 0;
    }
    if (lx_is_scalar(level))
        return REGION_ECORRUPT;
    const uint8_t *o = lx_obj(sp, level);
    uint8_t tag = lx_tag(o);
    unsigned nptr = tag == 2 || tag == 3 ? 2 : 1;
    if (tag < 1 || tag > 5 || !ctor(sp, level, nptr, 8 + 8 * nptr + 8))
        return REGION_ECORRUPT;
    *data = lx_rd64(lx_ctor_scalars(o));
    return 0;
}

int ln_data_level_compute(const lx_space *sp, lx_word level, uint64_t *data)
{
    uint64_t u, v, h;
    if (level == lx_box(0)) {
        *data = ln_data_level_zero();
        return 0;
    }
    if (ln_data_level_stored(sp, level, &u))
        return REGION_ECORRUPT;
    const uint8_t *o = lx_obj(sp, level);
    switch (lx_tag(o)) {
    case 1:
        if (ln_data_level_stored(sp, lx_ctor_get(o, 0), &u))
            return REGION_ECORRUPT;
        *data = ln_data_level_succ(u);
        return 0;
    case 2:
    case 3:
        if (ln_data_level_stored(sp, lx_ctor_get(o, 0), &u) || ln_data_level_stored(sp, lx_ctor_get(o, 1), &v))
            return REGION_ECORRUPT;
        *data = lx_tag(o) == 2 ? ln_data_level_max(u, v) : ln_data_level_imax(u, v);
        return 0;
    default:
        if (ln_data_name_stored(sp, lx_ctor_get(o, 0), &h))
            return REGION_ECORRUPT;
        *data = lx_tag(o) == 4 ? ln_data_level_param(h) : ln_data_level_mvar(h);
        return 0;
    }
}

static const struct { uint8_t nptr, size; } expr_shape[12] = {
    {1, 24}, {1, 24}, {1, 24}, {1, 24}, {2, 32}, {2, 32},
    {3, 48}, {3, 48}, {4, 56}, {1, 24}, {2, 32}, {3, 40},
};

int ln_data_expr_stored(const lx_space *sp, lx_word expr, uint64_t *data)
{
    if (lx_is_scalar(expr))
        return REGION_ECORRUPT;
    const uint8_t *o = lx_obj(sp, expr);
    uint8_t tag = lx_tag(o);
    if (tag > 11 || !ctor(sp, expr, expr_shape[tag].nptr, expr_shape[tag].size))
        return REGION_ECORRUPT;
    *data = lx_rd64(lx_ctor_scalars(o));
    return 0;
}

int ln_data_expr_compute(const lx_space *sp, lx_word expr, uint64_t *data)
{
    uint64_t a, b, c, h;
    if (ln_data_expr_stored(sp, expr, &a))
        return REGION_ECORRUPT;
    const uint8_t *o = lx_obj(sp, expr);
    lx_word f0 = lx_ctor_get(o, 0);
    switch (lx_tag(o)) {
    case 0: { /* bvar */
        if (ln_data_nat_hash(sp, f0, &h))
            return REGION_ECORRUPT;
        if (!lx_is_scalar(f0) || lx_unbox(f0) >= (1u << 20) - 1)
            return REGION_ECORRUPT; /* Lean asserts range < 2^20 */
        *data = ln_data_expr_bvar(h, (uint32_t)lx_unbox(f0) + 1);
        return 0;
    }
    case 1: /* fvar: mixHash 13 (hash fvarId) */
    case 2: /* mvar: mixHash 17 (hash mvarId) */
        /* FVarId/MVarId derive Hashable: mixHash (ctor index 0) (hash name).
         * Unverified: no stored (closed) term contains a free or meta variable. */
        if (ln_data_name_stored(sp, f0, &h))
            return REGION_ECORRUPT;
        *data = ln_data_expr_make(region_hash_mix(lx_tag(o) == 1 ? 13 : 17, region_hash_mix(0, h)), 0, 0,
                                  lx_tag(o) == 1, lx_tag(o) == 2, false, false);
        return 0;
    case 3:
        if (ln_data_level_stored(sp, f0, &b))
            return REGION_ECORRUPT;
        *data = ln_data_expr_sort(b);
        return 0;
    case 4: { /* const */
        if (ln_data_name_stored(sp, f0, &h))
            return REGION_ECORRUPT;
        uint64_t lh = 7;
        bool mv = false, pa = false;
        lx_word cur = lx_ctor_get(o, 1);
        /* Terminates: a validated region has no cycles (pointers go to lower
         * addresses), and heap objects are built children first. */
        while (cur != lx_box(0)) {
            const uint8_t *cell = ctor(sp, cur, 2, 24);
            if (!cell || lx_tag(cell) != 1 || ln_data_level_stored(sp, lx_ctor_get(cell, 0), &b))
                return REGION_ECORRUPT;
            lh = region_hash_mix(lh, ln_data_hash32(b));
            mv |= (b >> 32) & 1;
            pa |= (b >> 33) & 1;
            cur = lx_ctor_get(cell, 1);
        }
        *data = ln_data_expr_const(h, lh, mv, pa);
        return 0;
    }
    case 5:
        if (ln_data_expr_stored(sp, f0, &a) || ln_data_expr_stored(sp, lx_ctor_get(o, 1), &b))
            return REGION_ECORRUPT;
        *data = ln_data_expr_app(a, b);
        return 0;
    case 6:
    case 7:
        if (ln_data_expr_stored(sp, lx_ctor_get(o, 1), &a) || ln_data_expr_stored(sp, lx_ctor_get(o, 2), &b))
            return REGION_ECORRUPT;
        *data = ln_data_expr_binder(a, b);
        return 0;
    case 8:
        if (ln_data_expr_stored(sp, lx_ctor_get(o, 1), &a) || ln_data_expr_stored(sp, lx_ctor_get(o, 2), &b) ||
            ln_data_expr_stored(sp, lx_ctor_get(o, 3), &c))
            return REGION_ECORRUPT;
        *data = ln_data_expr_let(a, b, c);
        return 0;
    case 9: { /* lit: natVal [Nat] / strVal [String] */
        const uint8_t *lit = ctor(sp, f0, 1, 16);
        if (!lit)
            return REGION_ECORRUPT;
        lx_word v = lx_ctor_get(lit, 0);
        if (lx_tag(lit) == 0) {
            if (ln_data_nat_hash(sp, v, &h))
                return REGION_ECORRUPT;
        } else if (lx_tag(lit) == 1 && !lx_is_scalar(v) && lx_tag(lx_obj(sp, v)) == LX_TAG_STRING) {
            const uint8_t *s = lx_obj(sp, v);
            h = region_murmur64a(lx_string_data(s), (size_t)lx_string_len(s), 11);
        } else {
            return REGION_ECORRUPT;
        }
        *data = ln_data_expr_lit(h);
        return 0;
    }
    case 10:
        if (ln_data_expr_stored(sp, lx_ctor_get(o, 1), &a))
            return REGION_ECORRUPT;
        *data = ln_data_expr_mdata(a);
        return 0;
    default: /* 11 proj */
        if (ln_data_name_stored(sp, f0, &h) || ln_data_nat_hash(sp, lx_ctor_get(o, 1), &b) ||
            ln_data_expr_stored(sp, lx_ctor_get(o, 2), &a))
            return REGION_ECORRUPT;
        *data = ln_data_expr_proj(h, b, a);
        return 0;
    }
}
