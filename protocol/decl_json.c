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
