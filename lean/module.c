/*
 * lean/module.c — the ModuleData root and the generic values every decoder
 * uses (Array, List, Nat, String), plus the shape checks of lean_internal.h.
 *
 * ModuleData by era (lean-olean-format.md §4.6), told apart by shape:
 *
 *   ERA     PTRS  SIZE  FIELDS
 *   2022    3     32    imports, constants, entries
 *   2023    5     48    imports, constNames, constants, extraConstNames, entries
 *   module  5     56    the same 5, then u8 isModule
 *
 * Import is tag 0 with [module : Name] and Bool bytes: runtimeOnly up to
 * v4.18; importAll, isExported, isMeta in the module era. Both are 24 bytes,
 * so the ModuleData size decides which.
 *
 * The Expr.Data layout (old 2022 vs modern) is decided from the first
 * lam/forallE found at the top of a constant's type: 40 bytes old, 48 modern.
 */
#include "lean/lean_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

__attribute__((format(printf, 5, 0)))
static void vfill(const ln_module *m, region_error *err, int code, uint64_t off,
                  const char *fmt, va_list ap)
{
    if (!err)
        return;
    err->code = code;
    err->offset = off;
    snprintf(err->path, sizeof err->path, "%s", m && m->r ? region_path(m->r) : "");
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
}

int ln__fail(const ln_module *m, lx_word w, region_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uint64_t off = (!lx_is_scalar(w) && m && m->r) ? region_offset_of(m->r, w) : UINT64_MAX;
    vfill(m, err, REGION_ECORRUPT, off, fmt, ap);
    va_end(ap);
    return REGION_ECORRUPT;
}

int ln__fail_code(const ln_module *m, int code, region_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfill(m, err, code, UINT64_MAX, fmt, ap);
    va_end(ap);
    return code;
}

int ln_obj(const ln_module *m, lx_word w, const char *what, const uint8_t **o, region_error *err)
{
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "%s: expected an object, found boxed value %llu",
                        what, (unsigned long long)lx_unbox(w));
    if (!m->r) { /* heap objects: built by us */
        *o = lx_obj(&m->sp, w);
        return 0;
    }
    if (!err)
        return region_object(m->r, w, o, NULL);
    int rc = region_object(m->r, w, o, err);
    if (rc < 0) { /* "what: reason", cut to fit */
        size_t n = strlen(what) + 2, len = strlen(err->reason);
        if (n < sizeof err->reason) {
            if (len > sizeof err->reason - 1 - n)
                len = sizeof err->reason - 1 - n;
            memmove(err->reason + n, err->reason, len);
            memcpy(err->reason, what, n - 2);
            memcpy(err->reason + n - 2, ": ", 2);
            err->reason[n + len] = '\0';
        }
    }
    return rc;
}

int ln__ctor(const ln_module *m, lx_word w, unsigned tag, unsigned nptrs, size_t min_scalar,
             const char *what, const uint8_t **o, region_error *err)
{
    const uint8_t *p = NULL;
    int rc = ln_obj(m, w, what, &p, err);
    if (rc)
        return rc;
    return ln__shape(m, w, p, tag, nptrs, min_scalar, what, o, err);
}

int ln__shape(const ln_module *m, lx_word w, const uint8_t *p, unsigned tag, unsigned nptrs,
              size_t min_scalar, const char *what, const uint8_t **o, region_error *err)
{
    if (lx_tag(p) != tag || !lx_is_ctor(p))
        return ln__fail(m, w, err, "%s: expected constructor tag %u, found tag %u",
                        what, tag, lx_tag(p));
    if (lx_ctor_num_objs(p) != nptrs)
        return ln__fail(m, w, err, "%s: expected %u pointer fields, found %u",
                        what, nptrs, lx_ctor_num_objs(p));
    if (lx_ctor_scalar_size(p) < min_scalar)
        return ln__fail(m, w, err, "%s: expected at least %zu scalar bytes, found %zu",
                        what, min_scalar, lx_ctor_scalar_size(p));
    *o = p;
    return 0;
}

int ln__big(const ln_module *m, lx_word w, unsigned tag, const char *what,
            const uint8_t **o, region_error *err)
{
    const uint8_t *p = NULL;
    int rc = ln_obj(m, w, what, &p, err);
    if (rc)
        return rc;
    if (lx_tag(p) != tag)
        return ln__fail(m, w, err, "%s: expected object tag %u, found tag %u", what, tag, lx_tag(p));
    *o = p;
    return 0;
}

int ln__array_get(const ln_module *m, lx_word arr, uint64_t i, const char *what,
                  lx_word *out, region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__big(m, arr, LX_TAG_ARRAY, what, &o, err);
    if (rc)
        return rc;
    if (i >= lx_array_size(o))
        return ln__fail_code(m, LN_EINVAL, err, "%s: index %llu out of range (size %llu)", what,
                             (unsigned long long)i, (unsigned long long)lx_array_size(o));
    lx_word e = lx_array_get(o, i);
    if (!region_below(e, arr))
        return ln__fail(m, arr, err, "%s: element %llu (0x%llx) does not lie below its array",
                        what, (unsigned long long)i, (unsigned long long)e);
    *out = e;
    return 0;
}

int ln_array_get(const ln_module *m, lx_word w, uint64_t i, const char *what, lx_word *out,
                 region_error *err)
{
    return ln__array_get(m, w, i, what, out, err);
}

int ln_array_size(const ln_module *m, lx_word w, const char *what, uint64_t *n,
                  region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__big(m, w, LX_TAG_ARRAY, what, &o, err);
    if (rc)
        return rc;
    *n = lx_array_size(o);
    return 0;
}

const char *ln_era_name(enum ln_era era)
{
    switch (era) {
    case LN_ERA_2022: return "2022";
    case LN_ERA_2023: return "2023";
    case LN_ERA_MODULE: return "module";
    }
    return "?";
}

/* The Expr.Data layout, from the first binder at the top of a constant type. */
static void detect_expr_layout(ln_module *m)
{
    m->old_expr = m->era == LN_ERA_2022;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        lx_word ci, w;
        const uint8_t *c, *val, *cv, *t;
        /* Every read checked (err NULL: a shape that does not fit is skipped). */
        if (ln__array_get(m, m->constants, i, "ModuleData.constants", &ci, NULL) ||
            lx_is_scalar(ci) || ln_obj(m, ci, "ConstantInfo", &c, NULL) ||
            !lx_is_ctor(c) || lx_ctor_num_objs(c) != 1 || lx_is_scalar(w = lx_ctor_get(c, 0)) ||
            ln_obj(m, w, "value", &val, NULL) ||
            !lx_is_ctor(val) || lx_ctor_num_objs(val) < 1 || lx_is_scalar(w = lx_ctor_get(val, 0)) ||
            ln_obj(m, w, "ConstantVal", &cv, NULL) ||
            !lx_is_ctor(cv) || lx_ctor_num_objs(cv) != 3 || lx_is_scalar(w = lx_ctor_get(cv, 2)) ||
            ln_obj(m, w, "type", &t, NULL))
            continue;
        if ((lx_tag(t) == LN_LAM || lx_tag(t) == LN_FORALL) && lx_ctor_num_objs(t) == 3) {
            if (lx_cs_sz(t) == 40) { m->old_expr = true; return; }
            if (lx_cs_sz(t) == 48) { m->old_expr = false; return; }
        }
    }
}

int ln_module_open(const region *r, ln_module *m, region_error *err)
{
    memset(m, 0, sizeof *m);
    m->r = r;
    m->sp = region_space(r);
    m->root = region_root(r);
    const uint8_t *o = NULL;
    int rc;
    if (lx_is_scalar(m->root))
        return ln__fail(m, m->root, err, "ModuleData: root is a boxed value");
    if ((rc = ln_obj(m, m->root, "ModuleData", &o, err)))
        return rc;
    if (!lx_is_ctor(o) || lx_tag(o) != 0)
        return ln__fail(m, m->root, err, "ModuleData: expected constructor tag 0, found tag %u", lx_tag(o));
    switch (lx_ctor_num_objs(o)) {
    case 3:
        m->era = LN_ERA_2022;
        m->imports = lx_ctor_get(o, 0);
        m->constants = lx_ctor_get(o, 1);
        m->entries = lx_ctor_get(o, 2);
        break;
    case 5:
        m->era = lx_ctor_scalar_size(o) >= 1 ? LN_ERA_MODULE : LN_ERA_2023;
        m->imports = lx_ctor_get(o, 0);
        m->const_names = lx_ctor_get(o, 1);
        m->constants = lx_ctor_get(o, 2);
        m->extra_names = lx_ctor_get(o, 3);
        m->entries = lx_ctor_get(o, 4);
        if (m->era == LN_ERA_MODULE)
            m->is_module = lx_ctor_scalars(o)[0] != 0;
        break;
    default:
        return ln__fail(m, m->root, err, "ModuleData: expected 3 or 5 pointer fields, found %u",
                        lx_ctor_num_objs(o));
    }
    if ((rc = ln_array_size(m, m->imports, "ModuleData.imports", &m->nimports, err)) ||
        (rc = ln_array_size(m, m->constants, "ModuleData.constants", &m->nconstants, err)) ||
        (rc = ln_array_size(m, m->entries, "ModuleData.entries", &m->nentries, err)))
        return rc;
    if (m->era != LN_ERA_2022) {
        uint64_t nnames;
        if ((rc = ln_array_size(m, m->const_names, "ModuleData.constNames", &nnames, err)) ||
            (rc = ln_array_size(m, m->extra_names, "ModuleData.extraConstNames", &m->nextra, err)))
            return rc;
        if (nnames != m->nconstants)
            return ln__fail(m, m->const_names, err,
                            "ModuleData: %llu constNames for %llu constants",
                            (unsigned long long)nnames, (unsigned long long)m->nconstants);
    }
    detect_expr_layout(m);
    return 0;
}

int ln_module_import(const ln_module *m, uint64_t i, ln_import *out, region_error *err)
{
    lx_word w;
    const uint8_t *o = NULL;
    int rc = ln__array_get(m, m->imports, i, "ModuleData.imports", &w, err);
    if (rc)
        return rc;
    size_t nbytes = m->era == LN_ERA_MODULE ? 3 : 1;
    if ((rc = ln__ctor(m, w, 0, 1, nbytes, "Import", &o, err)))
        return rc;
    memset(out, 0, sizeof *out);
    out->module = lx_ctor_get(o, 0);
    const uint8_t *s = lx_ctor_scalars(o);
    if (m->era == LN_ERA_MODULE) {
        out->import_all = s[0] != 0;
        out->is_exported = s[1] != 0;
        out->is_meta = s[2] != 0;
    } else {
        out->runtime_only = s[0] != 0;
    }
    return 0;
}

int ln_module_const_name(const ln_module *m, uint64_t i, lx_word *name, region_error *err)
{
    if (m->era != LN_ERA_2022)
        return ln__array_get(m, m->const_names, i, "ModuleData.constNames", name, err);
    ln_const c;
    int rc = ln_module_const(m, i, &c, err);
    if (rc)
        return rc;
    *name = c.name;
    return 0;
}

int ln_module_const_info(const ln_module *m, uint64_t i, lx_word *info, region_error *err)
{
    return ln__array_get(m, m->constants, i, "ModuleData.constants", info, err);
}

int ln_module_extra_name(const ln_module *m, uint64_t i, lx_word *name, region_error *err)
{
    if (m->era == LN_ERA_2022)
        return ln__fail_code(m, LN_EINVAL, err, "extraConstNames: not stored in 2022 files");
    return ln__array_get(m, m->extra_names, i, "ModuleData.extraConstNames", name, err);
}

/* ---- Nat, String, List ---- */

int ln_nat_u64(const ln_module *m, lx_word w, uint64_t *out, region_error *err)
{
    if (lx_is_scalar(w)) {
        *out = lx_unbox(w);
        return 0;
    }
    const uint8_t *o = NULL;
    int rc = ln__big(m, w, LX_TAG_MPZ, "Nat", &o, err);
    if (rc)
        return rc;
    lx_mpz_view v = lx_mpz(o, w);
    if (v.negative)
        return ln__fail(m, w, err, "Nat: negative big number");
    uint64_t val = 0;
    for (size_t i = 0; i < v.ndigits; i++) {
        uint64_t d = v.digit_size == 8 ? lx_rd64(v.digits + 8 * i) : lx_rd32(v.digits + 4 * i);
        if (d == 0)
            continue;
        unsigned shift = (unsigned)(i * v.digit_size * 8);
        if (shift >= 64 || (shift && (d >> (64 - shift)) != 0))
            return ln__fail(m, w, err, "Nat: value does not fit 64 bits");
        val |= d << shift;
    }
    *out = val;
    return 0;
}

int ln_nat_format(const ln_module *m, lx_word w, ln_buf *out, region_error *err)
{
    if (lx_is_scalar(w))
        return ln_buf_printf(out, "%llu", (unsigned long long)lx_unbox(w));
    const uint8_t *o = NULL;
    int rc = ln__big(m, w, LX_TAG_MPZ, "Nat", &o, err);
    if (rc)
        return rc;
    lx_mpz_view v = lx_mpz(o, w);
    /* Work in base 2^32 limbs, most significant first, dividing by 10^9. */
    size_t n = v.ndigits * (v.digit_size / 4);
    while (n > 0 && lx_rd32(v.digits + 4 * (n - 1)) == 0)
        n--;
    if (n == 0)
        return ln_buf_puts(out, "0");
    /*
     * The conversion is quadratic in n, and a file may hold a number as large
     * as itself: past LN_NAT_MAX_BITS, or when even the shortest decimal form
     * of this many bits cannot fit the room left in out, cut instead of
     * computing digits that would be thrown away.
     */
    uint32_t top = lx_rd32(v.digits + 4 * (n - 1));
    uint64_t bits = 32 * (uint64_t)(n - 1) + 32 - (uint64_t)__builtin_clz(top);
    uint64_t min_digits = (bits - 1) * 30102 / 100000 + 1; /* a lower bound (log10 2 > 0.30102) */
    size_t room = out->limit > out->len ? out->limit - out->len : 0;
    if (bits > LN_NAT_MAX_BITS || min_digits + (v.negative ? 1 : 0) > room) {
        ln_buf_cut(out);
        return LN_ETOOBIG;
    }
    uint32_t *limbs = mem_try_array(n, sizeof *limbs);
    /* Each base-2^32 limb yields at most 10 decimal digits: 2 chunks of 10^9. */
    uint32_t *chunks = mem_try_array(2 * n + 1, sizeof *chunks);
    if (!limbs || !chunks) {
        mem_free(limbs);
        mem_free(chunks);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) /* limbs[0] most significant */
        limbs[n - 1 - i] = lx_rd32(v.digits + 4 * i);
    size_t nchunks = 0, start = 0;
    while (start < n && limbs[start] == 0)
        start++;
    while (start < n) {
        uint64_t rem = 0;
        for (size_t i = start; i < n; i++) {
            uint64_t cur = (rem << 32) | limbs[i];
            limbs[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nchunks++] = (uint32_t)rem;
        while (start < n && limbs[start] == 0)
            start++;
    }
    rc = 0;
    if (v.negative)
        rc = ln_buf_puts(out, "-");
    if (nchunks == 0 && !rc)
        rc = ln_buf_puts(out, "0");
    for (size_t i = nchunks; i-- > 0 && !rc;)
        rc = ln_buf_printf(out, i + 1 == nchunks ? "%u" : "%09u", chunks[i]);
    mem_free(limbs);
    mem_free(chunks);
    return rc;
}

int ln_string(const ln_module *m, lx_word w, const char **data, size_t *len, region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__big(m, w, LX_TAG_STRING, "String", &o, err);
    if (rc)
        return rc;
    *data = lx_string_data(o);
    *len = (size_t)lx_string_len(o);
    return 0;
}

int ln_list_next(const ln_module *m, lx_word *cursor, lx_word *head, region_error *err)
{
    lx_word w = *cursor;
    if (lx_is_scalar(w)) {
        if (lx_unbox(w) != 0)
            return ln__fail(m, w, err, "List: boxed value %llu is not List.nil",
                            (unsigned long long)lx_unbox(w));
        return 0;
    }
    const uint8_t *o = NULL;
    int rc = ln__ctor(m, w, 1, 2, 0, "List.cons", &o, err);
    if (rc)
        return rc;
    *head = lx_ctor_get(o, 0);
    *cursor = lx_ctor_get(o, 1);
    return 1;
}

int ln_list_length(const ln_module *m, lx_word list, uint64_t *n, region_error *err)
{
    uint64_t k = 0;
    lx_word head;
    int rc;
    while ((rc = ln_list_next(m, &list, &head, err)) == 1)
        k++;
    if (rc < 0)
        return rc;
    *n = k;
    return 0;
}
