/*
 * lean/ext.c — the entries of ModuleData.entries that envpool understands:
 * docstrings, module docs, declaration ranges, namespaces, protected and
 * noncomputable tags, aliases, reducibility, the inline family, extern,
 * implemented_by, classes, instances, simp lemmas, structure info and
 * deprecation. docs/extension-entries.md records every name and shape per
 * era; the shapes in brief (cT[pointers | scalars]):
 *
 *   EXTENSION            ENTRY
 *   docStringExt         c0[decl, String]
 *   inheritDocStringExt  c0[decl, target]
 *   moduleDocExt         c0[String, DeclarationRange]
 *   declRangeExt         c0[decl, c0[range, selectionRange]]
 *     DeclarationRange   c0[c0[line, col], colUtf16, c0[line, col], colUtf16]
 *   namespaces/protected/noncomputable  the bare Name
 *   aliasExtension       c0[alias, target]
 *   reducibility*        c0[decl, box(status)]  (reducibilityExtra: scoped-wrapped)
 *   inlineAttrs          c0[decl, box(kind)]
 *   externAttr           c0[decl, c0[arity?, List ExternEntry]]
 *   implementedByAttr    c0[decl, impl]
 *   classExtension       c0[name | hasOutParam] or c0[name, outParams, outLevelParams]
 *   instanceExtension    Entry(c0[keys, val, priority, globalName?, synthOrder | attrKind])
 *                        (older: 3 or 4 pointers)
 *   simpExtension        Entry(SimpEntry): c0[SimpTheorem] | c1[decl] | c2[decl, eqns]
 *     SimpTheorem        c0[keys, levelParams, proof, priority, origin | post, perm, rfl]
 *   structureExt         c0[structName, fieldNames, fieldInfo(, parentInfo)]
 *   deprecatedAttr       c0[decl, c0[newName?, text?, since?]] (older: c0[decl, Option Name])
 *
 * Entry(x) is ScopedEnvExtension.Entry: c0[x] global, c1[namespace, x] scoped.
 *
 * Every object is read through lean/'s checked accessors (ln_obj, ln__ctor,
 * ln__big, ln__array_get: safe on lazily validated regions too); a wrong
 * shape is REGION_ECORRUPT at that object's offset and concerns only the
 * entry being decoded. Names are matched after dropping a `_private.….0.`
 * prefix, so extensions Lean made private keep their kind.
 */
#include "lean/lean_internal.h"

#include <string.h>

enum { DEFAULT_PRIORITY = 1000 };

const char *ln_ext_kind_name(enum ln_ext_kind k)
{
    static const char *const names[LN_EXT_NKINDS] = {
        [LN_EXT_OTHER] = "other",           [LN_EXT_DOC] = "doc",
        [LN_EXT_INHERIT_DOC] = "inherit_doc", [LN_EXT_MODULE_DOC] = "module_doc",
        [LN_EXT_RANGE] = "range",           [LN_EXT_NAMESPACE] = "namespace",
        [LN_EXT_PROTECTED] = "protected",   [LN_EXT_NONCOMPUTABLE] = "noncomputable",
        [LN_EXT_ALIAS] = "alias",           [LN_EXT_REDUCIBILITY] = "reducibility",
        [LN_EXT_INLINE] = "inline",         [LN_EXT_EXTERN] = "extern",
        [LN_EXT_IMPLEMENTED_BY] = "implemented_by", [LN_EXT_CLASS] = "class",
        [LN_EXT_INSTANCE] = "instance",     [LN_EXT_SIMP] = "simp",
        [LN_EXT_STRUCTURE] = "structure",   [LN_EXT_DEPRECATED] = "deprecated",
    };
    return (unsigned)k < LN_EXT_NKINDS ? names[k] : "other";
}

const char *ln_reducibility_name(unsigned status)
{
    static const char *const names[] = {"reducible", "semireducible", "irreducible",
                                        "implicit_reducible", "instance_reducible"};
    return status < sizeof names / sizeof names[0] ? names[status] : NULL;
}

const char *ln_inline_name(unsigned kind)
{
    static const char *const names[] = {"inline", "noinline", "macro_inline", "inline_if_reduce",
                                        "always_inline"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : NULL;
}

/* Registered names, 2022's short ones and the later declaration names. */
static const struct {
    const char      *name;
    enum ln_ext_kind kind;
} known[] = {
    {"Lean.docStringExt", LN_EXT_DOC},
    {"docstring", LN_EXT_DOC},
    {"Lean.inheritDocStringExt", LN_EXT_INHERIT_DOC},
    {"Lean.moduleDocExt", LN_EXT_MODULE_DOC},
    {"moduleDocExt", LN_EXT_MODULE_DOC},
    {"Lean.declRangeExt", LN_EXT_RANGE},
    {"declranges", LN_EXT_RANGE},
    {"Lean.namespacesExt", LN_EXT_NAMESPACE},
    {"namespaces", LN_EXT_NAMESPACE},
    {"Lean.protectedExt", LN_EXT_PROTECTED},
    {"protected", LN_EXT_PROTECTED},
    {"Lean.noncomputableExt", LN_EXT_NONCOMPUTABLE},
    {"noncomputable", LN_EXT_NONCOMPUTABLE},
    {"Lean.aliasExtension", LN_EXT_ALIAS},
    {"aliasesExt", LN_EXT_ALIAS},
    {"Lean.reducibilityAttrs", LN_EXT_REDUCIBILITY},
    {"reducibilityCore", LN_EXT_REDUCIBILITY},
    {"reducibilityExtra", LN_EXT_REDUCIBILITY},
    {"reducibility", LN_EXT_REDUCIBILITY},
    {"Lean.Compiler.inlineAttrs", LN_EXT_INLINE},
    {"inlineAttrs", LN_EXT_INLINE},
    {"Lean.externAttr", LN_EXT_EXTERN},
    {"extern", LN_EXT_EXTERN},
    {"Lean.Compiler.implementedByAttr", LN_EXT_IMPLEMENTED_BY},
    {"implementedBy", LN_EXT_IMPLEMENTED_BY},
    {"Lean.classExtension", LN_EXT_CLASS},
    {"classExt", LN_EXT_CLASS},
    {"Lean.Meta.instanceExtension", LN_EXT_INSTANCE},
    {"instanceExt", LN_EXT_INSTANCE},
    {"Lean.Meta.simpExtension", LN_EXT_SIMP},
    {"simpExt", LN_EXT_SIMP},
    {"Lean.structureExt", LN_EXT_STRUCTURE},
    {"structExt", LN_EXT_STRUCTURE},
    {"Lean.Linter.deprecatedAttr", LN_EXT_DEPRECATED},
};

enum ln_ext_kind ln_ext_classify(const ln_module *m, lx_word name)
{
    char buf[128];
    if (ln_name_to_cstr(m, name, buf, sizeof buf, NULL, NULL) != 0)
        return LN_EXT_OTHER; /* longer than any known name, or not a Name */
    const char *s = buf;
    if (strncmp(s, "_private.", 9) == 0) {
        const char *z = strstr(s + 9, ".0.");
        if (!z)
            return LN_EXT_OTHER;
        s = z + 3;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i].name) == 0)
            return known[i].kind;
    return LN_EXT_OTHER;
}

int ln_ext_get(const ln_module *m, uint64_t i, ln_ext *out, region_error *err)
{
    lx_word pair;
    const uint8_t *o = NULL, *a = NULL;
    int rc;
    if ((rc = ln__array_get(m, m->entries, i, "ModuleData.entries", &pair, err)))
        return rc;
    if ((rc = ln__ctor(m, pair, 0, 2, 0, "extension entry pair (Name × Array)", &o, err)))
        return rc;
    lx_word name = lx_ctor_get(o, 0), arr = lx_ctor_get(o, 1);
    uint64_t h;
    if (!lx_is_scalar(name) && (rc = ln_name_hash_stored(m, name, &h, err)))
        return rc;
    if ((rc = ln__big(m, arr, LX_TAG_ARRAY, "extension entries array", &a, err)))
        return rc;
    out->name = name;
    out->entries = arr;
    out->n = lx_array_size(a);
    out->kind = ln_ext_classify(m, name);
    return 0;
}

/* ---- field readers ---- */

/* w must be a Name object (not anonymous). */
static int need_name(const ln_module *m, lx_word w, const char *what, region_error *err)
{
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "%s: expected a Name, found boxed value %llu", what,
                        (unsigned long long)lx_unbox(w));
    uint64_t h;
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, what, &o, err);
    if (rc)
        return rc;
    if (lx_tag(o) != 1 && lx_tag(o) != 2)
        return ln__fail(m, w, err, "%s: expected a Name (tag 1 or 2), found tag %u", what, lx_tag(o));
    return ln_name_hash_stored(m, w, &h, err);
}

static int need_string(const ln_module *m, lx_word w, const char *what, region_error *err)
{
    const uint8_t *o = NULL;
    return ln__big(m, w, LX_TAG_STRING, what, &o, err);
}

/* Option α: none = box(0) → *out = 0; some x = c1[x] → *out = x. */
static int option(const ln_module *m, lx_word w, const char *what, lx_word *out, region_error *err)
{
    if (lx_is_scalar(w)) {
        if (lx_unbox(w) != 0)
            return ln__fail(m, w, err, "%s: boxed value %llu is not Option.none", what,
                            (unsigned long long)lx_unbox(w));
        *out = 0;
        return 0;
    }
    const uint8_t *o = NULL;
    int rc = ln__ctor(m, w, 1, 1, 0, what, &o, err);
    if (rc)
        return rc;
    *out = lx_ctor_get(o, 0);
    return 0;
}

static int opt_name(const ln_module *m, lx_word w, const char *what, lx_word *out, region_error *err)
{
    int rc = option(m, w, what, out, err);
    if (!rc && *out)
        rc = need_name(m, *out, what, err);
    return rc;
}

static int opt_string(const ln_module *m, lx_word w, const char *what, lx_word *out, region_error *err)
{
    int rc = option(m, w, what, out, err);
    if (!rc && *out)
        rc = need_string(m, *out, what, err);
    return rc;
}

/* A small enum stored as box(i) in a polymorphic position. */
static int boxed_enum(const ln_module *m, lx_word w, unsigned max, const char *what, uint32_t *out,
                      region_error *err)
{
    if (!lx_is_scalar(w))
        return ln__fail(m, w, err, "%s: expected a boxed enumeration value", what);
    if (lx_unbox(w) > max)
        return ln__fail(m, w, err, "%s: value %llu out of range 0..%u", what,
                        (unsigned long long)lx_unbox(w), max);
    *out = (uint32_t)lx_unbox(w);
    return 0;
}

/* c0[a, b]: the two fields of a pair. */
static int pair(const ln_module *m, lx_word w, const char *what, lx_word *a, lx_word *b,
                region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__ctor(m, w, 0, 2, 0, what, &o, err);
    if (rc)
        return rc;
    *a = lx_ctor_get(o, 0);
    *b = lx_ctor_get(o, 1);
    return 0;
}

static int position(const ln_module *m, lx_word w, ln_pos *p, region_error *err)
{
    lx_word line, col;
    int rc = pair(m, w, "Position", &line, &col, err);
    if (!rc)
        rc = ln_nat_u64(m, line, &p->line, err);
    if (!rc)
        rc = ln_nat_u64(m, col, &p->column, err);
    return rc;
}

static int decl_range(const ln_module *m, lx_word w, ln_range *r, region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__ctor(m, w, 0, 4, 0, "DeclarationRange", &o, err);
    if (rc)
        return rc;
    if ((rc = position(m, lx_ctor_get(o, 0), &r->start, err)) ||
        (rc = ln_nat_u64(m, lx_ctor_get(o, 1), &r->start.column_utf16, err)) ||
        (rc = position(m, lx_ctor_get(o, 2), &r->end, err)) ||
        (rc = ln_nat_u64(m, lx_ctor_get(o, 3), &r->end.column_utf16, err)))
        return rc;
    return 0;
}

static int array_size_of(const ln_module *m, lx_word w, const char *what, uint64_t *n,
                         region_error *err)
{
    const uint8_t *o = NULL;
    int rc = ln__big(m, w, LX_TAG_ARRAY, what, &o, err);
    if (!rc)
        *n = lx_array_size(o);
    return rc;
}

/*
 * ScopedEnvExtension.Entry: c0[x] global, c1[ns, x] scoped. *inner gets x.
 * Returns 1 if w had the wrapper, 0 if not (then *inner = w).
 */
static int unwrap_scoped(const ln_module *m, lx_word w, lx_word *inner, ln_ext_entry *e,
                         region_error *err)
{
    *inner = w;
    if (lx_is_scalar(w))
        return 0;
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, "extension entry", &o, err);
    if (rc)
        return rc;
    if (!lx_is_ctor(o))
        return 0;
    if (lx_tag(o) == 0 && lx_ctor_num_objs(o) == 1) {
        *inner = lx_ctor_get(o, 0);
        return 1;
    }
    if (lx_tag(o) == 1 && lx_ctor_num_objs(o) == 2) {
        rc = need_name(m, lx_ctor_get(o, 0), "scoped entry namespace", err);
        if (rc)
            return rc;
        e->scoped = true;
        e->scope = lx_ctor_get(o, 0);
        *inner = lx_ctor_get(o, 1);
        return 1;
    }
    return 0;
}

/* ---- per-kind decoders ---- */

static int dec_name_value(const ln_module *m, lx_word w, const char *what, ln_ext_entry *e,
                          lx_word *value, region_error *err)
{
    int rc = pair(m, w, what, &e->decl, value, err);
    if (!rc)
        rc = need_name(m, e->decl, what, err);
    return rc;
}

static int dec_instance(const ln_module *m, lx_word w, ln_ext_entry *e, region_error *err)
{
    lx_word x;
    int rc = unwrap_scoped(m, w, &x, e, err);
    if (rc < 0)
        return rc;
    if (lx_is_scalar(x))
        return ln__fail(m, x, err, "InstanceEntry: expected an object");
    const uint8_t *o = NULL;
    if ((rc = ln_obj(m, x, "InstanceEntry", &o, err)))
        return rc;
    unsigned np = lx_is_ctor(o) ? lx_ctor_num_objs(o) : 0;
    if (np < 3 || np > 5)
        return ln__fail(m, x, err, "InstanceEntry: expected 3 to 5 pointer fields, found %u", np);
    if ((rc = ln__ctor(m, x, 0, np, np == 5 ? 1 : 0, "InstanceEntry", &o, err)))
        return rc;
    uint64_t nkeys;
    if ((rc = array_size_of(m, lx_ctor_get(o, 0), "InstanceEntry.keys", &nkeys, err)))
        return rc;
    e->inst_val = lx_ctor_get(o, 1);
    e->priority = DEFAULT_PRIORITY;
    if (np >= 4 && (rc = ln_nat_u64(m, lx_ctor_get(o, 2), &e->priority, err)))
        return rc;
    if ((rc = opt_name(m, lx_ctor_get(o, np == 3 ? 2 : 3), "InstanceEntry.globalName?", &e->decl, err)))
        return rc;
    if (np == 5) {
        e->value = lx_ctor_scalars(o)[0];
        if (e->value > 2)
            return ln__fail(m, x, err, "InstanceEntry.attrKind: value %u out of range 0..2", e->value);
    }
    if (!e->decl) {
        /* A nameless entry: the instance constant is the head of val when it is a constant. */
        ln_expr v;
        if ((rc = ln_expr_view(m, e->inst_val, &v, err)))
            return rc;
        if (v.kind == LN_CONST)
            e->decl = v.a;
    }
    return 0;
}

static int dec_simp(const ln_module *m, lx_word w, ln_ext_entry *e, region_error *err)
{
    lx_word x = w;
    int rc;
    /* c0[x] is the scoped wrapper unless x is already a SimpTheorem (SimpEntry.thm unwrapped). */
    if (!lx_is_scalar(w)) {
        const uint8_t *o = NULL;
        bool thm_here = false;
        if ((rc = ln_obj(m, w, "simp entry", &o, err)))
            return rc;
        if (lx_is_ctor(o) && lx_tag(o) == 0 && lx_ctor_num_objs(o) == 1) {
            lx_word c = lx_ctor_get(o, 0);
            const uint8_t *co = NULL;
            if (!lx_is_scalar(c) && (rc = ln_obj(m, c, "simp entry", &co, err)))
                return rc;
            thm_here = co && lx_is_ctor(co) && lx_ctor_num_objs(co) >= 4;
        }
        if (!thm_here && (rc = unwrap_scoped(m, w, &x, e, err)) < 0)
            return rc;
    }
    if (lx_is_scalar(x))
        return ln__fail(m, x, err, "SimpEntry: expected an object");
    const uint8_t *o = NULL;
    if ((rc = ln_obj(m, x, "SimpEntry", &o, err)))
        return rc;
    unsigned tag = lx_tag(o);
    e->priority = DEFAULT_PRIORITY;
    e->post = true;
    if (tag == 1 || tag == 2) { /* toUnfold decl | toUnfoldThms decl eqns */
        if ((rc = ln__ctor(m, x, tag, tag, 0, "SimpEntry.toUnfold", &o, err)))
            return rc;
        e->decl = lx_ctor_get(o, 0);
        return need_name(m, e->decl, "SimpEntry.toUnfold", err);
    }
    if ((rc = ln__ctor(m, x, 0, 1, 0, "SimpEntry.thm", &o, err)))
        return rc;
    lx_word t = lx_ctor_get(o, 0);
    const uint8_t *to = NULL;
    if ((rc = ln__ctor(m, t, 0, 5, 2, "SimpTheorem", &to, err)))
        return rc;
    if ((rc = ln_nat_u64(m, lx_ctor_get(to, 3), &e->priority, err)))
        return rc;
    e->post = lx_ctor_scalars(to)[0] != 0;
    lx_word origin = lx_ctor_get(to, 4);
    if (lx_is_scalar(origin))
        return 0; /* Origin.other-like nullary, or Option.none (2022): no declaration */
    const uint8_t *oo = NULL;
    if ((rc = ln_obj(m, origin, "SimpTheorem.origin", &oo, err)))
        return rc;
    if (!lx_is_ctor(oo))
        return ln__fail(m, origin, err, "SimpTheorem.origin: expected a constructor");
    bool decl_origin = m->era == LN_ERA_2022 ? lx_tag(oo) == 1 : lx_tag(oo) == 0;
    if (!decl_origin)
        return 0; /* fvar, stx or other origins name no declaration */
    if ((rc = ln__ctor(m, origin, lx_tag(oo), 1, 0, "SimpTheorem.origin", &oo, err)))
        return rc;
    e->decl = lx_ctor_get(oo, 0);
    if (m->era != LN_ERA_2022 && lx_ctor_scalar_size(oo) >= 2)
        e->inverse = lx_ctor_scalars(oo)[1] != 0;
    return need_name(m, e->decl, "SimpTheorem.origin", err);
}

static int dec_extern(const ln_module *m, lx_word w, ln_ext_entry *e, region_error *err)
{
    lx_word data;
    int rc = dec_name_value(m, w, "extern entry", e, &data, err);
    if (rc)
        return rc;
    const uint8_t *o = NULL;
    if ((rc = ln__ctor(m, data, 0, 2, 0, "ExternAttrData", &o, err)))
        return rc;
    lx_word arity;
    if ((rc = option(m, lx_ctor_get(o, 0), "ExternAttrData.arity?", &arity, err)))
        return rc;
    lx_word cur = lx_ctor_get(o, 1), head;
    while ((rc = ln_list_next(m, &cur, &head, err)) == 1) {
        if (lx_is_scalar(head))
            return ln__fail(m, head, err, "ExternEntry: expected an object");
        const uint8_t *ho = NULL;
        if ((rc = ln_obj(m, head, "ExternEntry", &ho, err)))
            return rc;
        unsigned tag = lx_tag(ho);
        if (tag > 3)
            return ln__fail(m, head, err, "ExternEntry: expected constructor tag 0..3, found %u", tag);
        if ((rc = ln__ctor(m, head, tag, tag == 0 ? 1 : 2, 0, "ExternEntry", &ho, err)))
            return rc;
        if (tag != 0 && !e->text) {
            if ((rc = need_string(m, lx_ctor_get(ho, 1), "ExternEntry symbol", err)))
                return rc;
            e->text = lx_ctor_get(ho, 1);
        }
    }
    return rc < 0 ? rc : 0;
}

static int dec_deprecated(const ln_module *m, lx_word w, ln_ext_entry *e, region_error *err)
{
    lx_word d;
    int rc = dec_name_value(m, w, "deprecated entry", e, &d, err);
    if (rc)
        return rc;
    const uint8_t *o = NULL;
    if (!lx_is_scalar(d) && (rc = ln_obj(m, d, "DeprecationEntry", &o, err)))
        return rc;
    if (!o || lx_tag(o) == 1) /* older: ParametricAttribute (Option Name) */
        return opt_name(m, d, "deprecated replacement", &e->name2, err);
    if ((rc = ln__ctor(m, d, 0, 3, 0, "DeprecationEntry", &o, err)) ||
        (rc = opt_name(m, lx_ctor_get(o, 0), "DeprecationEntry.newName?", &e->name2, err)) ||
        (rc = opt_string(m, lx_ctor_get(o, 1), "DeprecationEntry.text?", &e->text, err)) ||
        (rc = opt_string(m, lx_ctor_get(o, 2), "DeprecationEntry.since?", &e->text2, err)))
        return rc;
    return 0;
}

static int dec_structure(const ln_module *m, lx_word w, ln_ext_entry *e, region_error *err)
{
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "StructureInfo: expected an object");
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, "StructureInfo", &o, err);
    if (rc)
        return rc;
    unsigned np = lx_is_ctor(o) ? lx_ctor_num_objs(o) : 0;
    if (np != 3 && np != 4)
        return ln__fail(m, w, err, "StructureInfo: expected 3 or 4 pointer fields, found %u", np);
    uint64_t ninfo;
    if ((rc = ln__ctor(m, w, 0, np, 0, "StructureInfo", &o, err)))
        return rc;
    e->decl = lx_ctor_get(o, 0);
    e->field_names = lx_ctor_get(o, 1);
    e->field_info = lx_ctor_get(o, 2);
    if ((rc = need_name(m, e->decl, "StructureInfo.structName", err)) ||
        (rc = array_size_of(m, e->field_names, "StructureInfo.fieldNames", &e->nfields, err)) ||
        (rc = array_size_of(m, e->field_info, "StructureInfo.fieldInfo", &ninfo, err)))
        return rc;
    if (ninfo != e->nfields)
        return ln__fail(m, w, err, "StructureInfo: %llu field names but %llu field infos",
                        (unsigned long long)e->nfields, (unsigned long long)ninfo);
    if (np == 4) {
        e->parent_info = lx_ctor_get(o, 3);
        if ((rc = array_size_of(m, e->parent_info, "StructureInfo.parentInfo", &e->nparents, err)))
            return rc;
    } else {
        size_t n = 0;
        if ((rc = ln_ext_struct_parents(m, e, NULL, 0, &n, err)))
            return rc;
        e->nparents = n;
    }
    return 0;
}

static int decode_entry(const ln_module *m, const ln_ext *x, lx_word w, ln_ext_entry *out,
                        region_error *err);

int ln_ext_entry_get(const ln_module *m, const ln_ext *x, uint64_t j, ln_ext_entry *out,
                     region_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = x->kind;
    if (x->kind == LN_EXT_OTHER || x->kind >= LN_EXT_NKINDS)
        return ln__fail_code(m, LN_EINVAL, err, "extension entries of this kind are not decoded");
    lx_word w;
    int rc = ln__array_get(m, x->entries, j, "extension entries", &w, err);
    if (rc)
        return rc;
    rc = decode_entry(m, x, w, out, err);
    /* A wrong boxed value has no offset of its own: name the entry's object instead. */
    if (rc == REGION_ECORRUPT && err && err->offset == UINT64_MAX && !lx_is_scalar(w))
        err->offset = region_offset_of(m->r, w);
    return rc;
}

static int decode_entry(const ln_module *m, const ln_ext *x, lx_word w, ln_ext_entry *out,
                        region_error *err)
{
    lx_word v;
    int rc;
    switch (x->kind) {
    case LN_EXT_DOC:
        if ((rc = dec_name_value(m, w, "docstring entry", out, &v, err)) ||
            (rc = need_string(m, v, "docstring", err)))
            return rc;
        out->text = v;
        return 0;
    case LN_EXT_INHERIT_DOC:
    case LN_EXT_ALIAS:
    case LN_EXT_IMPLEMENTED_BY:
        if ((rc = dec_name_value(m, w, ln_ext_kind_name(x->kind), out, &v, err)) ||
            (rc = need_name(m, v, ln_ext_kind_name(x->kind), err)))
            return rc;
        out->name2 = v;
        return 0;
    case LN_EXT_MODULE_DOC:
        if ((rc = pair(m, w, "ModuleDoc", &out->text, &v, err)) ||
            (rc = need_string(m, out->text, "ModuleDoc.doc", err)))
            return rc;
        return decl_range(m, v, &out->range, err);
    case LN_EXT_RANGE: {
        lx_word a, b;
        if ((rc = dec_name_value(m, w, "declaration range entry", out, &v, err)) ||
            (rc = pair(m, v, "DeclarationRanges", &a, &b, err)) ||
            (rc = decl_range(m, a, &out->range, err)))
            return rc;
        return decl_range(m, b, &out->selection, err);
    }
    case LN_EXT_NAMESPACE:
        if (w == lx_box(0))
            return 0; /* 4.30 registers the root namespace too: decl stays 0 */
        /* fallthrough */
    case LN_EXT_PROTECTED:
    case LN_EXT_NONCOMPUTABLE:
        out->decl = w;
        return need_name(m, w, ln_ext_kind_name(x->kind), err);
    case LN_EXT_REDUCIBILITY:
        if ((rc = unwrap_scoped(m, w, &w, out, err)) < 0)
            return rc;
        if ((rc = dec_name_value(m, w, "reducibility entry", out, &v, err)))
            return rc;
        return boxed_enum(m, v, LN_INSTANCE_REDUCIBLE, "ReducibilityStatus", &out->value, err);
    case LN_EXT_INLINE:
        if ((rc = dec_name_value(m, w, "inline entry", out, &v, err)))
            return rc;
        return boxed_enum(m, v, LN_ALWAYS_INLINE, "InlineAttributeKind", &out->value, err);
    case LN_EXT_EXTERN:
        return dec_extern(m, w, out, err);
    case LN_EXT_CLASS: {
        const uint8_t *o = NULL;
        if (!lx_is_scalar(w) && (rc = ln_obj(m, w, "ClassEntry", &o, err)))
            return rc;
        unsigned np = o && lx_is_ctor(o) ? lx_ctor_num_objs(o) : 0;
        if (np != 1 && np != 3)
            return ln__fail(m, w, err, "ClassEntry: expected 1 or 3 pointer fields, found %u", np);
        if ((rc = ln__ctor(m, w, 0, np, 0, "ClassEntry", &o, err)))
            return rc;
        out->decl = lx_ctor_get(o, 0);
        return need_name(m, out->decl, "ClassEntry.name", err);
    }
    case LN_EXT_INSTANCE:
        return dec_instance(m, w, out, err);
    case LN_EXT_SIMP:
        return dec_simp(m, w, out, err);
    case LN_EXT_STRUCTURE:
        return dec_structure(m, w, out, err);
    case LN_EXT_DEPRECATED:
        return dec_deprecated(m, w, out, err);
    default:
        return ln__fail_code(m, LN_EINVAL, err, "extension entries of this kind are not decoded");
    }
}

/* ---- structures ---- */

static int field_info(const ln_module *m, lx_word w, ln_struct_field *f, region_error *err)
{
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "StructureFieldInfo: expected an object");
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, "StructureFieldInfo", &o, err);
    if (rc)
        return rc;
    unsigned np = lx_is_ctor(o) ? lx_ctor_num_objs(o) : 0;
    if (np != 3 && np != 4)
        return ln__fail(m, w, err, "StructureFieldInfo: expected 3 or 4 pointer fields, found %u", np);
    rc = ln__ctor(m, w, 0, np, 1, "StructureFieldInfo", &o, err);
    if (rc)
        return rc;
    f->name = lx_ctor_get(o, 0);
    f->proj = lx_ctor_get(o, 1);
    f->binder_info = lx_ctor_scalars(o)[0];
    if (f->binder_info > LN_BI_INST)
        return ln__fail(m, w, err, "StructureFieldInfo.binderInfo: value %u out of range 0..3",
                        f->binder_info);
    if ((rc = need_name(m, f->name, "StructureFieldInfo.fieldName", err)) ||
        (rc = need_name(m, f->proj, "StructureFieldInfo.projFn", err)) ||
        (rc = opt_name(m, lx_ctor_get(o, 2), "StructureFieldInfo.subobject?", &f->subobject, err)))
        return rc;
    return 0;
}

int ln_ext_struct_field(const ln_module *m, const ln_ext_entry *e, uint64_t i,
                        ln_struct_field *out, region_error *err)
{
    if (e->kind != LN_EXT_STRUCTURE || i >= e->nfields)
        return ln__fail_code(m, LN_EINVAL, err, "structure field %llu out of range",
                             (unsigned long long)i);
    lx_word fname, w;
    int rc = ln__array_get(m, e->field_names, i, "StructureInfo.fieldNames", &fname, err);
    if (rc || (rc = need_name(m, fname, "StructureInfo.fieldNames", err)))
        return rc;
    /* fieldInfo is sorted by Name.quickLt (hash order), not by text: look for it. */
    for (uint64_t k = 0; k < e->nfields; k++) {
        uint64_t probe = (i + k) % e->nfields; /* usually close to i for small structures */
        if ((rc = ln__array_get(m, e->field_info, probe, "StructureInfo.fieldInfo", &w, err)) ||
            (rc = field_info(m, w, out, err)))
            return rc;
        bool eq = false;
        if ((rc = ln_name_eq(m, out->name, fname, &eq, err)))
            return rc;
        if (eq)
            return 0;
    }
    return ln__fail(m, fname, err, "StructureInfo: field name without a StructureFieldInfo");
}

int ln_ext_struct_parents(const ln_module *m, const ln_ext_entry *e, lx_word *names, size_t max,
                          size_t *n, region_error *err)
{
    size_t k = 0;
    int rc;
    if (e->kind != LN_EXT_STRUCTURE)
        return ln__fail_code(m, LN_EINVAL, err, "not a structure entry");
    if (e->parent_info) {
        for (uint64_t i = 0; i < e->nparents; i++) {
            lx_word w;
            const uint8_t *o = NULL;
            if ((rc = ln__array_get(m, e->parent_info, i, "StructureInfo.parentInfo", &w, err)) ||
                (rc = ln__ctor(m, w, 0, 2, 1, "StructureParentInfo", &o, err)) ||
                (rc = need_name(m, lx_ctor_get(o, 0), "StructureParentInfo.structName", err)))
                return rc;
            if (names && k < max)
                names[k] = lx_ctor_get(o, 0);
            k++;
        }
    } else {
        /* Older shape: the parents are the structures of the subobject fields, in field order. */
        for (uint64_t i = 0; i < e->nfields; i++) {
            ln_struct_field f;
            if ((rc = ln_ext_struct_field(m, e, i, &f, err)))
                return rc;
            if (!f.subobject)
                continue;
            if (names && k < max)
                names[k] = f.subobject;
            k++;
        }
    }
    *n = names && k > max ? max : k;
    return 0;
}

int ln_instance_class(const ln_module *m, lx_word type, lx_word *cls, region_error *err)
{
    *cls = 0;
    for (int steps = 0; steps < 100000; steps++) {
        ln_expr x;
        int rc = ln_expr_view(m, type, &x, err);
        if (rc)
            return rc;
        if (x.kind == LN_FORALL)
            type = x.c;
        else if (x.kind == LN_APP)
            type = x.a;
        else if (x.kind == LN_MDATA)
            type = x.b;
        else {
            if (x.kind == LN_CONST)
                *cls = x.a;
            return 0;
        }
    }
    return 0;
}
