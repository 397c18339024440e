/*
 * lean/constant.c — ConstantInfo and its value structs (lean-olean-format.md §4.5).
 *
 * ConstantInfo: ctor tag = kind, one pointer to the XxxVal struct (tag 0) whose
 * field 0 is ConstantVal [name, levelParams : List Name, type : Expr].
 *
 *   KIND      TAG  VAL POINTER FIELDS                                   SCALAR BYTES
 *   axiom     0    cval                                                 isUnsafe
 *   def       1    cval, value, hints, all    (2022: no all)            safety
 *   theorem   2    cval, value, all           (2022: no all)            -
 *   opaque    3    cval, value, all                                     isUnsafe
 *   quot      4    cval                                                 kind
 *   inductive 5    cval, numParams, numIndices, all, ctors, numNested   isRec, isUnsafe, isReflexive
 *                  (≤ v4.9: 5 pointers, bytes isRec, isUnsafe, isReflexive, isNested)
 *   ctor      6    cval, induct, cidx, numParams, numFields             isUnsafe
 *   rec       7    cval, all, numParams, numIndices, numMotives,        k, isUnsafe
 *                  numMinors, rules
 *
 * ReducibilityHints: opaque box(0), abbrev box(1), regular = tag 2, no pointers, u32.
 * RecursorRule: tag 0 [ctor : Name, nfields : Nat, rhs : Expr].
 * The layout variant is chosen by pointer count, per object.
 */
#include "lean/lean_internal.h"

#include <string.h>

static const char *const kind_names[] = {
    "axiom", "def", "theorem", "opaque", "quot", "inductive", "ctor", "rec",
};

const char *ln_const_kind_name(enum ln_const_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

#define NAME_OF(table, i) ((i) < sizeof table / sizeof table[0] ? table[i] : "?")

const char *ln_hints_name(unsigned hints)
{
    static const char *const names[] = {"opaque", "abbrev", "regular"};
    return NAME_OF(names, hints);
}

const char *ln_safety_name(unsigned safety)
{
    static const char *const names[] = {"unsafe", "safe", "partial"};
    return NAME_OF(names, safety);
}

const char *ln_quot_kind_name(unsigned quot_kind)
{
    static const char *const names[] = {"type", "ctor", "lift", "ind"};
    return NAME_OF(names, quot_kind);
}

/* The value struct: tag 0, one of the allowed pointer counts, min scalar bytes. */
static int val_struct(const ln_module *m, lx_word w, unsigned p1, unsigned p2, size_t min_scalar,
                      const char *what, const uint8_t **o, region_error *err)
{
    if (!lx_is_scalar(w)) {
        const uint8_t *p = NULL;
        int rc = ln_obj(m, w, what, &p, err);
        if (rc)
            return rc;
        if (lx_is_ctor(p) && lx_ctor_num_objs(p) == p2 && p2 != p1)
            return ln__shape(m, w, p, 0, p2, min_scalar, what, o, err);
        return ln__shape(m, w, p, 0, p1, min_scalar, what, o, err);
    }
    return ln__ctor(m, w, 0, p1, min_scalar, what, o, err);
}

static int nat_field(const ln_module *m, const uint8_t *o, unsigned i, uint64_t *out,
                     region_error *err)
{
    return ln_nat_u64(m, lx_ctor_get(o, i), out, err);
}

int ln_const_decode(const ln_module *m, lx_word info, ln_const *c, region_error *err)
{
    const uint8_t *o = NULL, *v = NULL, *cv = NULL;
    int rc;
    memset(c, 0, sizeof *c);
    if (lx_is_scalar(info))
        return ln__fail(m, info, err, "ConstantInfo: boxed value");
    if ((rc = ln_obj(m, info, "ConstantInfo", &o, err)))
        return rc;
    if (!lx_is_ctor(o) || lx_tag(o) > LN_REC)
        return ln__fail(m, info, err, "ConstantInfo: unknown kind tag %u", lx_tag(o));
    unsigned kind = lx_tag(o);
    if ((rc = ln__shape(m, info, o, kind, 1, 0, "ConstantInfo", &o, err)))
        return rc;
    c->kind = (enum ln_const_kind)kind;
    c->info = info;
    lx_word vw = lx_ctor_get(o, 0);

    switch (c->kind) {
    case LN_AXIOM:
        rc = val_struct(m, vw, 1, 1, 1, "AxiomVal", &v, err);
        if (!rc)
            c->is_unsafe = lx_ctor_scalars(v)[0] != 0;
        break;
    case LN_DEF:
        rc = val_struct(m, vw, 4, 3, 1, "DefinitionVal", &v, err);
        if (!rc) {
            c->value = lx_ctor_get(v, 1);
            lx_word h = lx_ctor_get(v, 2);
            if (lx_ctor_num_objs(v) == 4)
                c->all = lx_ctor_get(v, 3);
            c->safety = lx_ctor_scalars(v)[0];
            if (c->safety > LN_PARTIAL)
                rc = ln__fail(m, vw, err, "DefinitionVal: safety %u out of range", c->safety);
            else if (lx_is_scalar(h)) {
                if (lx_unbox(h) > 1)
                    rc = ln__fail(m, vw, err, "ReducibilityHints: boxed value %llu",
                                  (unsigned long long)lx_unbox(h));
                c->hints = (uint8_t)lx_unbox(h);
            } else {
                const uint8_t *ho = NULL;
                rc = ln__ctor(m, h, 2, 0, 4, "ReducibilityHints.regular", &ho, err);
                if (!rc) {
                    c->hints = LN_HINTS_REGULAR;
                    c->hints_height = lx_rd32(lx_ctor_scalars(ho));
                }
            }
        }
        break;
    case LN_THM:
        rc = val_struct(m, vw, 3, 2, 0, "TheoremVal", &v, err);
        if (!rc) {
            c->value = lx_ctor_get(v, 1);
            if (lx_ctor_num_objs(v) == 3)
                c->all = lx_ctor_get(v, 2);
        }
        break;
    case LN_OPAQUE:
        rc = val_struct(m, vw, 3, 2, 1, "OpaqueVal", &v, err);
        if (!rc) {
            c->value = lx_ctor_get(v, 1);
            if (lx_ctor_num_objs(v) == 3)
                c->all = lx_ctor_get(v, 2);
            c->is_unsafe = lx_ctor_scalars(v)[0] != 0;
        }
        break;
    case LN_QUOT:
        rc = val_struct(m, vw, 1, 1, 1, "QuotVal", &v, err);
        if (!rc)
            c->quot_kind = lx_ctor_scalars(v)[0];
        break;
    case LN_INDUCT:
        rc = val_struct(m, vw, 6, 5, 3, "InductiveVal", &v, err);
        if (!rc) {
            const uint8_t *s = lx_ctor_scalars(v);
            c->all = lx_ctor_get(v, 3);
            c->ctors = lx_ctor_get(v, 4);
            c->is_rec = s[0] != 0;
            c->is_unsafe = s[1] != 0;
            c->is_reflexive = s[2] != 0;
            if ((rc = nat_field(m, v, 1, &c->num_params, err)) ||
                (rc = nat_field(m, v, 2, &c->num_indices, err)))
                break;
            if (lx_ctor_num_objs(v) == 6) {
                c->has_num_nested = true;
                rc = nat_field(m, v, 5, &c->num_nested, err);
                c->is_nested = c->num_nested > 0;
            } else if (lx_ctor_scalar_size(v) >= 4) {
                c->is_nested = s[3] != 0;
            } else {
                rc = ln__fail(m, vw, err, "InductiveVal: 5 pointer fields but no isNested byte");
            }
        }
        break;
    case LN_CTOR:
        rc = val_struct(m, vw, 5, 5, 1, "ConstructorVal", &v, err);
        if (!rc) {
            c->induct = lx_ctor_get(v, 1);
            c->is_unsafe = lx_ctor_scalars(v)[0] != 0;
            if (!(rc = nat_field(m, v, 2, &c->cidx, err)) &&
                !(rc = nat_field(m, v, 3, &c->num_params, err)))
                rc = nat_field(m, v, 4, &c->num_fields, err);
        }
        break;
    case LN_REC:
        rc = val_struct(m, vw, 7, 7, 2, "RecursorVal", &v, err);
        if (!rc) {
            const uint8_t *s = lx_ctor_scalars(v);
            c->all = lx_ctor_get(v, 1);
            c->rules = lx_ctor_get(v, 6);
            c->k = s[0] != 0;
            c->is_unsafe = s[1] != 0;
            if (!(rc = nat_field(m, v, 2, &c->num_params, err)) &&
                !(rc = nat_field(m, v, 3, &c->num_indices, err)) &&
                !(rc = nat_field(m, v, 4, &c->num_motives, err)))
                rc = nat_field(m, v, 5, &c->num_minors, err);
        }
        break;
    }
    if (rc)
        return rc;
    if ((rc = ln__ctor(m, lx_ctor_get(v, 0), 0, 3, 0, "ConstantVal", &cv, err)))
        return rc;
    c->name = lx_ctor_get(cv, 0);
    c->level_params = lx_ctor_get(cv, 1);
    c->type = lx_ctor_get(cv, 2);
    return 0;
}

int ln_module_const(const ln_module *m, uint64_t i, ln_const *out, region_error *err)
{
    lx_word w;
    int rc = ln__array_get(m, m->constants, i, "ModuleData.constants", &w, err);
    if (rc)
        return rc;
    return ln_const_decode(m, w, out, err);
}

int ln_rec_rule_view(const ln_module *m, lx_word w, ln_rec_rule *out, region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__ctor(m, w, 0, 3, 0, "RecursorRule", &o, err);
    if (rc)
        return rc;
    out->ctor = lx_ctor_get(o, 0);
    out->rhs = lx_ctor_get(o, 2);
    return ln_nat_u64(m, lx_ctor_get(o, 1), &out->nfields, err);
}

int ln_const_format_header(const ln_module *m, const ln_const *c, ln_buf *out, region_error *err)
{
    int rc = ln_name_format(m, c->name, out, err);
    if (rc)
        return rc;
    lx_word cur = c->level_params, head;
    bool first = true;
    while ((rc = ln_list_next(m, &cur, &head, err)) == 1) {
        if ((rc = ln_buf_puts(out, first ? ".{" : ", ")))
            return rc;
        first = false;
        if ((rc = ln_name_format(m, head, out, err)))
            return rc;
    }
    if (rc < 0)
        return rc;
    return first ? 0 : ln_buf_puts(out, "}");
}
