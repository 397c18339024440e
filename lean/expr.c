/*
 * lean/expr.c — Lean.Expr nodes (lean-olean-format.md §4.3).
 *
 *   CTOR    TAG  PTRS                                SIZE modern / 2022
 *   bvar    0    idx : Nat                           24
 *   fvar    1    FVarId (Name)                       24
 *   mvar    2    MVarId (Name)                       24
 *   sort    3    Level                               24
 *   const   4    declName, us : List Level           32
 *   app     5    fn, arg                             32
 *   lam     6    binderName, binderType, body        48 / 40  (+u8 binderInfo)
 *   forallE 7    binderName, binderType, body        48 / 40  (+u8 binderInfo)
 *   letE    8    declName, type, value, body         56 / 48  (+u8 nonDep)
 *   lit     9    Literal (natVal tag 0 / strVal 1)   24
 *   mdata   10   MData (bare List), expr             32
 *   proj    11   typeName, idx : Nat, struct         40
 *
 * Every node carries u64 Expr.Data first in its scalar area. Modern layout:
 * hash 0–31, approxDepth 32–39, flags 40–43, looseBVarRange 44–63; binder info
 * and nonDep are separate bytes. Old (2022) layout: flags 32–35, nonDep 36,
 * binderInfo 37–39, approxDepth 40–47, looseBVarRange 48–63. Whether a binder
 * node carries the extra byte is read from its own size.
 */
#include "lean/lean_internal.h"

#include <string.h>

static const unsigned expr_ptrs[] = {1, 1, 1, 1, 2, 2, 3, 3, 4, 1, 2, 3};

uint32_t ln__expr_loose_bvar_range(const ln_module *m, uint64_t data)
{
    return m->old_expr ? (uint32_t)(data >> 48) : (uint32_t)(data >> 44);
}

int ln_expr_view(const ln_module *m, lx_word w, ln_expr *e, region_error *err)
{
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "Expr: boxed value %llu", (unsigned long long)lx_unbox(w));
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, "Expr", &o, err);
    if (rc)
        return rc;
    unsigned tag = lx_tag(o);
    if (tag > LN_PROJ)
        return ln__fail(m, w, err, "Expr: unknown constructor tag %u", tag);
    rc = ln__shape(m, w, o, tag, expr_ptrs[tag], 8, "Expr", &o, err);
    if (rc)
        return rc;
    memset(e, 0, sizeof *e);
    e->kind = (enum ln_expr_kind)tag;
    e->a = lx_ctor_get(o, 0);
    if (expr_ptrs[tag] >= 2) e->b = lx_ctor_get(o, 1);
    if (expr_ptrs[tag] >= 3) e->c = lx_ctor_get(o, 2);
    if (expr_ptrs[tag] >= 4) e->d = lx_ctor_get(o, 3);
    const uint8_t *s = lx_ctor_scalars(o);
    size_t ssz = lx_ctor_scalar_size(o);
    e->data = lx_rd64(s);
    e->loose_bvar_range = ln__expr_loose_bvar_range(m, e->data);
    switch (e->kind) {
    case LN_LAM:
    case LN_FORALL:
        e->binder_info = ssz > 8 ? s[8] : (uint8_t)((e->data >> 37) & 7);
        if (e->binder_info > (ssz > 8 ? LN_BI_INST : LN_BI_AUXDECL))
            return ln__fail(m, w, err, "Expr: binder info %u out of range", e->binder_info);
        break;
    case LN_LET:
        e->non_dep = ssz > 8 ? s[8] != 0 : ((e->data >> 36) & 1) != 0;
        break;
    case LN_LIT: {
        const uint8_t *l = NULL;
        if (lx_is_scalar(e->a))
            return ln__fail(m, w, err, "Expr.lit: boxed Literal");
        if ((rc = ln_obj(m, e->a, "Literal", &l, err)))
            return rc;
        unsigned ltag = lx_tag(l);
        if ((rc = ln__shape(m, e->a, l, ltag > 1 ? 0 : ltag, 1, 0, "Literal", &l, err)))
            return rc;
        e->is_str = ltag == 1;
        e->lit = lx_ctor_get(l, 0);
        if (e->is_str) {
            const uint8_t *so = NULL;
            if ((rc = ln__big(m, e->lit, LX_TAG_STRING, "Literal.strVal", &so, err)))
                return rc;
        } else if (!lx_is_scalar(e->lit)) {
            const uint8_t *no = NULL;
            if ((rc = ln__big(m, e->lit, LX_TAG_MPZ, "Literal.natVal", &no, err)))
                return rc;
        }
        break;
    }
    default:
        break;
    }
    return 0;
}
