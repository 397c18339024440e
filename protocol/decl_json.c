/*
 * protocol/decl_json.c — a declaration (ln_const) as JSON, for decl.get and
 * for `envpool dump --json` (decl_json.h).
 *
 * `fields` is the one list of what a declaration shows: for each field the
 * kinds it belongs to, its key in each view (NULL: that view does not show
 * it) and what it shows. Rows are in decl.get's key order, which the reply
 * cache and the fast path rely on being the same on every render. A field
 * whose value does not apply to this declaration (no value asked for, a
 * pre-4.18 inductive's num_nested) is left out, not shown as null.
 *
 * Adding a field: a row in `fields` at the place it should appear, and a case
 * in field_value that computes it from the module and the declaration.
 */
#include "protocol/decl_json.h"

#include <string.h>

#include "util/mem.h"

enum decl_value {
    V_NAME, V_KIND, V_MODULE, V_LEVEL_PARAMS, V_TYPE, V_TYPE_TRUNCATED,
    V_NUM_PARAMS, V_NUM_INDICES, V_CTORS, V_IS_REC, V_IS_REFLEXIVE, V_NUM_NESTED, V_IS_NESTED,
    V_INDUCT, V_CIDX, V_NUM_FIELDS, V_NUM_MOTIVES, V_NUM_MINORS, V_K, V_RULES,
    V_SAFETY, V_HINTS, V_QUOT_KIND, V_IS_UNSAFE,
    V_VALUE, V_VALUE_TRUNCATED, V_VALUE_LIMIT,
    V_DOC, V_RANGE, V_SOURCE, V_ATTRS, V_ATTR_INFO, V_STRUCT_FIELDS, V_PARENTS,
};

#define K(kind) (1u << (kind))
#define ALL     (~0u)

typedef struct decl_field {
    unsigned        kinds;  /* K(LN_…) mask */
    const char     *key[2]; /* [DECL_JSON_RPC], [DECL_JSON_DUMP] */
    enum decl_value v;
} decl_field;

static const decl_field fields[] = {
    {ALL, {"name", "name"}, V_NAME},
    {ALL, {"kind", "kind"}, V_KIND},
    {ALL, {"module", NULL}, V_MODULE},
    {ALL, {"level_params", "level_params"}, V_LEVEL_PARAMS},
    {ALL, {"type", "type"}, V_TYPE},
    {ALL, {"type_truncated", NULL}, V_TYPE_TRUNCATED},

    {K(LN_INDUCT), {"params", "num_params"}, V_NUM_PARAMS},
    {K(LN_INDUCT), {"indices", "num_indices"}, V_NUM_INDICES},
    {K(LN_INDUCT), {"ctors", "ctors"}, V_CTORS},
    {K(LN_INDUCT), {"is_rec", "is_rec"}, V_IS_REC},
    {K(LN_INDUCT), {"is_reflexive", NULL}, V_IS_REFLEXIVE},
    {K(LN_INDUCT), {"num_nested", NULL}, V_NUM_NESTED},
    {K(LN_INDUCT), {"is_nested", NULL}, V_IS_NESTED},
    {K(LN_INDUCT), {"is_unsafe", NULL}, V_IS_UNSAFE},

    {K(LN_CTOR), {"induct", "induct"}, V_INDUCT},
    {K(LN_CTOR), {"cidx", "cidx"}, V_CIDX},
    {K(LN_CTOR), {"params", "num_params"}, V_NUM_PARAMS},
    {K(LN_CTOR), {"fields", "num_fields"}, V_NUM_FIELDS},
    {K(LN_CTOR), {"is_unsafe", NULL}, V_IS_UNSAFE},

    {K(LN_REC), {"params", "num_params"}, V_NUM_PARAMS},
    {K(LN_REC), {"indices", "num_indices"}, V_NUM_INDICES},
    {K(LN_REC), {"motives", "num_motives"}, V_NUM_MOTIVES},
    {K(LN_REC), {"minors", "num_minors"}, V_NUM_MINORS},
    {K(LN_REC), {"k", "k"}, V_K},
    {K(LN_REC), {"is_unsafe", NULL}, V_IS_UNSAFE},
    {K(LN_REC), {"rules", "rules"}, V_RULES},

    {K(LN_DEF), {"safety", "safety"}, V_SAFETY},
    {K(LN_DEF), {"hints", "hints"}, V_HINTS},
    {K(LN_QUOT), {"quot_kind", NULL}, V_QUOT_KIND},
    {K(LN_AXIOM) | K(LN_OPAQUE), {"is_unsafe", "is_unsafe"}, V_IS_UNSAFE},

    {ALL, {"doc", NULL}, V_DOC},
    {ALL, {"range", NULL}, V_RANGE},
    {ALL, {"source", NULL}, V_SOURCE},
    {ALL, {"attrs", NULL}, V_ATTRS},
    {ALL, {"attr_info", NULL}, V_ATTR_INFO},
    {K(LN_INDUCT), {"fields", NULL}, V_STRUCT_FIELDS},
    {K(LN_INDUCT), {"parents", NULL}, V_PARENTS},

    {ALL, {"value", NULL}, V_VALUE},
    {ALL, {"value_truncated", NULL}, V_VALUE_TRUNCATED},
    {ALL, {"value_limit", NULL}, V_VALUE_LIMIT},
};

typedef struct render {
    const ln_module      *m;
    const ln_const       *c;
    const decl_json_opts *o;
    ln_buf               *b;
    region_error         *err;
    bool                  type_truncated, value_truncated;
} render;

json_t *decl_json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *out = mem_try_alloc(n * 3 + 1);
    if (!out)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok) {
            json_t *probe = json_stringn(s + i, len); /* rejects overlongs and surrogates */
            ok = probe != NULL;
            json_decref(probe);
        }
        if (ok) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    j = json_stringn(out, o);
    mem_free(out);
    return j ? j : json_string("");
}

/* Formats into r->b (reset, limit set); a cut text is not an error. */
static int format_name(render *r, lx_word name)
{
    ln_buf_reset(r->b);
    r->b->limit = r->o->name_limit ? r->o->name_limit : LN_BUF_DEFAULT_LIMIT;
    int rc = ln_name_format(r->m, name, r->b, r->err);
    return rc == LN_ETOOBIG ? 0 : rc;
}

static int format_expr(render *r, lx_word e, size_t limit, bool *truncated)
{
    ln_buf_reset(r->b);
    r->b->limit = limit ? limit : LN_BUF_DEFAULT_LIMIT;
    int rc = ln_expr_format(r->m, e, r->b, r->err);
    *truncated = r->b->truncated;
    return rc == LN_ETOOBIG ? 0 : rc;
}

static json_t *buf_text(const render *r)
{
    return decl_json_text(ln_buf_cstr(r->b), r->b->len);
}

static json_t *pos_json(const ln_pos *p)
{
    return json_pack("{s:I,s:I,s:I}", "line", (json_int_t)p->line, "column", (json_int_t)p->column,
                     "column_utf16", (json_int_t)p->column_utf16);
}

json_t *decl_json_range(const ln_range *range, const ln_range *selection)
{
    json_t *o = json_pack("{s:o,s:o}", "start", pos_json(&range->start), "end", pos_json(&range->end));
    if (o && selection &&
        json_object_set_new(o, "selection", json_pack("{s:o,s:o}", "start", pos_json(&selection->start), "end",
                                                      pos_json(&selection->end))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int decl_json_name(const ln_module *m, lx_word name, ln_buf *scratch, json_t **out, region_error *err)
{
    decl_json_opts o = {0};
    render r = {.m = m, .o = &o, .b = scratch, .err = err};
    int rc = format_name(&r, name);
    *out = rc < 0 ? NULL : buf_text(&r);
    return rc;
}

/* A List Name (or, of_rules, a List RecursorRule) as an array; rules as the view shows them. */
static int name_list(render *r, lx_word list, bool of_rules, json_t **out)
{
    json_t *arr = json_array();
    *out = arr;
    lx_word head;
    int rc;
    while ((rc = ln_list_next(r->m, &list, &head, r->err)) == 1) {
        ln_rec_rule rule = {0};
        if (of_rules && (rc = ln_rec_rule_view(r->m, head, &rule, r->err)) < 0)
            return rc;
        if ((rc = format_name(r, of_rules ? rule.ctor : head)) < 0)
            return rc;
        if (of_rules && r->o->view == DECL_JSON_RPC)
            json_array_append_new(arr, json_pack("{s:o,s:I}", "ctor", buf_text(r), "fields",
                                                 (json_int_t)rule.nfields));
        else
            json_array_append_new(arr, buf_text(r));
    }
    return rc;
}

/* ---- what the extension entries say (RPC view) ---- */

static bool present(const pool_entry_ref *r) { return r->module != UINT32_MAX; }

/* The entry r of the environment, and the module its words live in. */
static int entry_of(render *r, const pool_entry_ref *er, ln_ext_entry *e, const ln_module **em)
{
    *em = pool_env_ln_module(r->o->env, er->module);
    return pool_env_entry(r->o->env, er, e, r->err);
}

static json_t *opt_name(const ln_module *m, lx_word w, ln_buf *b)
{
    json_t *v = NULL;
    region_error ignore;
    if (!w || decl_json_name(m, w, b, &v, &ignore) < 0)
        return json_null();
    return v;
}

static json_t *opt_string(const ln_module *m, lx_word w)
{
    const char *d;
    size_t n;
    region_error ignore;
    if (!w || ln_string(m, w, &d, &n, &ignore))
        return json_null();
    return decl_json_text(d, n);
}

json_t *decl_json_instance_class(const ln_module *m, const ln_const *c, ln_buf *scratch)
{
    lx_word cls = 0;
    region_error ignore;
    if (ln_instance_class(m, c->type, &cls, &ignore) || !cls)
        return json_null();
    return opt_name(m, cls, scratch);
}

static int attr_info(render *r, json_t **out)
{
    const pool_decl_info *in = r->o->info;
    json_t *o = json_object();
    *out = o;
    ln_ext_entry e;
    const ln_module *em;
    int rc;
    if (present(&in->instance) && !(rc = entry_of(r, &in->instance, &e, &em)))
        json_object_set_new(o, "instance", json_pack("{s:o,s:I}", "class",
                                                     decl_json_instance_class(r->m, r->c, r->b), "priority",
                                                     (json_int_t)e.priority));
    if (present(&in->simp) && !(rc = entry_of(r, &in->simp, &e, &em)))
        json_object_set_new(o, "simp", json_pack("{s:I,s:b,s:b}", "priority", (json_int_t)e.priority, "post",
                                                 e.post, "inverse", e.inverse));
    if (present(&in->deprecated) && !(rc = entry_of(r, &in->deprecated, &e, &em)))
        json_object_set_new(o, "deprecated", json_pack("{s:o,s:o,s:o}", "new_name", opt_name(em, e.name2, r->b),
                                                       "text", opt_string(em, e.text), "since",
                                                       opt_string(em, e.text2)));
    if (present(&in->ext_extern) && !(rc = entry_of(r, &in->ext_extern, &e, &em)))
        json_object_set_new(o, "extern", json_pack("{s:o}", "symbol", opt_string(em, e.text)));
    if (present(&in->implemented_by) && !(rc = entry_of(r, &in->implemented_by, &e, &em)))
        json_object_set_new(o, "implemented_by", json_pack("{s:o}", "impl", opt_name(em, e.name2, r->b)));
    return 0; /* a detail whose entry does not decode is left out: it costs only itself */
}

static const char *const binder_names[] = {"default", "implicit", "strict_implicit", "inst_implicit"};

/* The text of a constant's type (or value) after its first `hide` binders, from its own module. */
static json_t *const_text(render *r, lx_word name, const ln_module *nm, uint64_t hide, bool value)
{
    char text[1024];
    region_error ignore;
    pool_const_ref ref;
    ln_const pc;
    if (ln_name_to_cstr(nm, name, text, sizeof text, NULL, &ignore) ||
        pool_env_lookup(r->o->env, text, strlen(text), &ref))
        return json_null();
    const ln_module *pm = pool_env_ln_module(r->o->env, ref.module);
    if (ln_const_decode(pm, ref.info, &pc, &ignore) || (value && !pc.value))
        return json_null();
    ln_print_opts po = {.hide = hide};
    ln_buf_reset(r->b);
    r->b->limit = r->o->type_limit ? r->o->type_limit : LN_BUF_DEFAULT_LIMIT;
    int rc = ln_expr_format_opts(pm, value ? pc.value : pc.type, &po, r->b, &ignore);
    return rc && rc != LN_ETOOBIG ? json_null() : buf_text(r);
}

static int struct_fields(render *r, bool parents, json_t **out)
{
    const pool_decl_info *in = r->o->info;
    ln_ext_entry e;
    const ln_module *em;
    if (!in || !present(&in->structure) || entry_of(r, &in->structure, &e, &em)) {
        *out = json_null(); /* not a structure (or its entry does not decode) */
        return 0;
    }
    json_t *arr = json_array();
    *out = arr;
    region_error ignore;
    if (parents) {
        lx_word ps[64];
        size_t n = 0;
        if (ln_ext_struct_parents(em, &e, ps, 64, &n, &ignore) == 0)
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, opt_name(em, ps[i], r->b));
        return 0;
    }
    for (uint64_t i = 0; i < e.nfields; i++) {
        ln_struct_field f;
        if (ln_ext_struct_field(em, &e, i, &f, &ignore))
            continue;
        /* the projection's type after the structure's parameters and `self`; the default value
           is the body of the `<projFn>._default` definition, when there is one */
        json_t *type = const_text(r, f.proj, em, r->c->num_params + 1, false);
        json_t *def = json_null();
        char dn[1100];
        if (ln_name_to_cstr(em, f.proj, dn, 1024, NULL, &ignore) == 0) {
            pool_const_ref dref;
            strcat(dn, "._default");
            if (pool_env_lookup(r->o->env, dn, strlen(dn), &dref) == 0) {
                json_decref(def);
                def = const_text(r, dref.name, pool_env_ln_module(r->o->env, dref.module), r->c->num_params,
                                 true);
            }
        }
        json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o,s:s,s:o}", "name", opt_name(em, f.name, r->b),
                                             "proj", opt_name(em, f.proj, r->b), "type", type, "default", def,
                                             "binder", binder_names[f.binder_info & 3], "subobject",
                                             opt_name(em, f.subobject, r->b)));
    }
    return 0;
}

static int ext_value(render *r, enum decl_value v, json_t **out)
{
    const pool_decl_info *in = r->o->info;
    ln_ext_entry e;
    const ln_module *em;
    switch (v) {
    case V_DOC:
        *out = in && present(&in->doc) && !entry_of(r, &in->doc, &e, &em) ? opt_string(em, e.text) : json_null();
        return 0;
    case V_RANGE:
        *out = in && present(&in->range) && !entry_of(r, &in->range, &e, &em) ? decl_json_range(&e.range, &e.selection)
                                                                             : json_null();
        return 0;
    case V_SOURCE: *out = in && in->source ? decl_json_text(in->source, strlen(in->source)) : json_null(); return 0;
    case V_ATTRS:
        *out = json_array();
        for (unsigned a = 0; in && a < POOL_ATTR_COUNT; a++)
            if (in->attrs & (1u << a))
                json_array_append_new(*out, json_string(pool_attr_name((enum pool_attr)a)));
        return 0;
    case V_ATTR_INFO:
        if (!in) {
            *out = json_object();
            return 0;
        }
        return attr_info(r, out);
    case V_STRUCT_FIELDS: return struct_fields(r, false, out);
    case V_PARENTS: return struct_fields(r, true, out);
    default: return 0;
    }
}

#define JU(v) json_integer((json_int_t)(v))

/* *out: the field's value (new), or NULL when it does not apply to this declaration. */
static int field_value(render *r, enum decl_value v, json_t **out)
{
    const ln_const *c = r->c;
    const decl_json_opts *o = r->o;
    int rc;
    *out = NULL;
    switch (v) {
    case V_NAME:
        if ((rc = format_name(r, c->name)) < 0)
            return rc;
        *out = buf_text(r);
        return 0;
    case V_KIND: *out = json_string(ln_const_kind_name(c->kind)); return 0;
    case V_MODULE:
        if (o->module)
            *out = json_string(o->module);
        return 0;
    case V_LEVEL_PARAMS: return name_list(r, c->level_params, false, out);
    case V_TYPE:
        if ((rc = format_expr(r, c->type, o->type_limit, &r->type_truncated)) < 0)
            return rc;
        *out = buf_text(r);
        return 0;
    case V_TYPE_TRUNCATED:
        if (r->type_truncated)
            *out = json_true();
        return 0;
    case V_NUM_PARAMS: *out = JU(c->num_params); return 0;
    case V_NUM_INDICES: *out = JU(c->num_indices); return 0;
    case V_CTORS: return name_list(r, c->ctors, false, out);
    case V_IS_REC: *out = json_boolean(c->is_rec); return 0;
    case V_IS_REFLEXIVE: *out = json_boolean(c->is_reflexive); return 0;
    case V_NUM_NESTED:
        if (c->has_num_nested)
            *out = JU(c->num_nested);
        return 0;
    case V_IS_NESTED:
        if (!c->has_num_nested)
            *out = json_boolean(c->is_nested);
        return 0;
    case V_INDUCT:
        if ((rc = format_name(r, c->induct)) < 0)
            return rc;
        *out = buf_text(r);
        return 0;
    case V_CIDX: *out = JU(c->cidx); return 0;
    case V_NUM_FIELDS: *out = JU(c->num_fields); return 0;
    case V_NUM_MOTIVES: *out = JU(c->num_motives); return 0;
    case V_NUM_MINORS: *out = JU(c->num_minors); return 0;
    case V_K: *out = json_boolean(c->k); return 0;
    case V_RULES: return name_list(r, c->rules, true, out);
    case V_SAFETY: *out = json_string(ln_safety_name(c->safety)); return 0;
    case V_HINTS:
        if (c->hints != LN_HINTS_REGULAR)
            *out = json_string(ln_hints_name(c->hints));
        else if (o->view == DECL_JSON_RPC)
            *out = json_pack("{s:I}", ln_hints_name(c->hints), (json_int_t)c->hints_height);
        else
            *out = json_sprintf("%s %u", ln_hints_name(c->hints), (unsigned)c->hints_height);
        return 0;
    case V_QUOT_KIND: *out = json_string(ln_quot_kind_name(c->quot_kind)); return 0;
    case V_IS_UNSAFE: *out = json_boolean(c->is_unsafe); return 0;
    case V_VALUE:
        if (!o->want_value)
            return 0;
        if (!c->value) {
            *out = json_null();
            return 0;
        }
        if ((rc = format_expr(r, c->value, o->value_limit, &r->value_truncated)) < 0)
            return rc;
        *out = buf_text(r);
        return 0;
    case V_VALUE_TRUNCATED:
        if (o->want_value && c->value)
            *out = json_boolean(r->value_truncated);
        return 0;
    case V_VALUE_LIMIT:
        if (o->want_value && c->value)
            *out = JU(o->value_limit);
        return 0;
    case V_DOC: case V_RANGE: case V_SOURCE: case V_ATTRS: case V_ATTR_INFO: case V_STRUCT_FIELDS: case V_PARENTS:
        return ext_value(r, v, out);
    }
    return 0;
}

int decl_json(const ln_module *m, const ln_const *c, const decl_json_opts *o, ln_buf *scratch, json_t *out,
              region_error *err)
{
    render r = {.m = m, .c = c, .o = o, .b = scratch, .err = err};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const decl_field *f = &fields[i];
        const char *key = f->key[o->view];
        if (!key || !(f->kinds & K(c->kind)))
            continue;
        json_t *v;
        int rc = field_value(&r, f->v, &v);
        if (v)
            json_object_set_new(out, key, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}
