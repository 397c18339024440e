/*
 * cli/dump_ext.c — the extension entries of `envpool dump` (text and --json):
 * every extension of ModuleData.entries with its entry count, and the
 * entries of the ones lean/ decodes (docs/extension-entries.md), one line
 * or one JSON object each.
 *
 * JSON: "extensions": [{"name", "kind": "doc"|"range"|…|null, "count",
 * "entries": [...]}] — "entries" only for decoded kinds; each entry has
 * "decl" (null for module docs' absence of one: they have "doc" and
 * "range" instead) and per kind: doc "doc"; inherit_doc "from"; range
 * "range" {start, end, selection} (positions {line, column, column_utf16});
 * alias "target"; implemented_by "impl"; reducibility "status"; inline
 * "inline"; extern "symbol"; instance "priority"; simp "priority", "post",
 * "inverse"; deprecated "new_name", "text", "since"; structure "fields"
 * [{name, proj, subobject}], "parents"; scoped entries also "scope".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/dump_internal.h"
#include "protocol/decl_json.h"

/*
 * A bad entry of a known extension costs only that entry: its error goes to
 * stderr (path, offset, reason, which entry), the rest is still printed, and
 * the exit status becomes 1.
 */
void dump__entry_error(const char *path, const ln_module *m, const ln_ext *x, uint64_t j,
                        const region_error *err, size_t *bad)
{
    char ext[256], msg[1024];
    if (ln_name_to_cstr(m, x->name, ext, sizeof ext, NULL, NULL) < 0)
        snprintf(ext, sizeof ext, "?");
    region_error e = *err;
    if (!e.path[0])
        snprintf(e.path, sizeof e.path, "%s", path);
    fprintf(stderr, "envpool dump: %s (extension %s, entry %llu)\n",
            region_error_format(&e, msg, sizeof msg), ext, (unsigned long long)j);
    (*bad)++;
}

static int put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int put_name(json_t *o, const char *key, const ln_module *m, lx_word w, ln_buf *scratch,
                    region_error *err)
{
    if (!w)
        return put(o, key, json_null());
    json_t *v = NULL;
    int rc = decl_json_name(m, w, scratch, &v, err);
    return rc ? rc : put(o, key, v);
}

static int put_string(json_t *o, const char *key, const ln_module *m, lx_word w, region_error *err)
{
    if (!w)
        return put(o, key, json_null());
    const char *d;
    size_t n;
    int rc = ln_string(m, w, &d, &n, err);
    return rc ? rc : put(o, key, decl_json_text(d, n));
}

static int entry_json(const ln_module *m, const ln_ext_entry *e, ln_buf *scratch, json_t *o,
                      region_error *err)
{
    int rc;
    if (e->kind == LN_EXT_MODULE_DOC) {
        if ((rc = put_string(o, "doc", m, e->text, err)))
            return rc;
        return put(o, "range", decl_json_range(&e->range, NULL));
    }
    if ((rc = put_name(o, "decl", m, e->decl, scratch, err)))
        return rc;
    switch (e->kind) {
    case LN_EXT_DOC: rc = put_string(o, "doc", m, e->text, err); break;
    case LN_EXT_INHERIT_DOC: rc = put_name(o, "from", m, e->name2, scratch, err); break;
    case LN_EXT_RANGE: rc = put(o, "range", decl_json_range(&e->range, &e->selection)); break;
    case LN_EXT_ALIAS: rc = put_name(o, "target", m, e->name2, scratch, err); break;
    case LN_EXT_IMPLEMENTED_BY: rc = put_name(o, "impl", m, e->name2, scratch, err); break;
    case LN_EXT_REDUCIBILITY: rc = put(o, "status", json_string(ln_reducibility_name(e->value))); break;
    case LN_EXT_INLINE: rc = put(o, "inline", json_string(ln_inline_name(e->value))); break;
    case LN_EXT_EXTERN: rc = put_string(o, "symbol", m, e->text, err); break;
    case LN_EXT_INSTANCE: rc = put(o, "priority", json_integer((json_int_t)e->priority)); break;
    case LN_EXT_SIMP:
        if (!(rc = put(o, "priority", json_integer((json_int_t)e->priority))) &&
            !(rc = put(o, "post", json_boolean(e->post))))
            rc = put(o, "inverse", json_boolean(e->inverse));
        break;
    case LN_EXT_DEPRECATED:
        if (!(rc = put_name(o, "new_name", m, e->name2, scratch, err)) &&
            !(rc = put_string(o, "text", m, e->text, err)))
            rc = put_string(o, "since", m, e->text2, err);
        break;
    case LN_EXT_STRUCTURE: {
        json_t *fields = json_array(), *parents = json_array();
        rc = put(o, "fields", fields);
        if (!rc)
            rc = put(o, "parents", parents);
        for (uint64_t i = 0; !rc && i < e->nfields; i++) {
            ln_struct_field f;
            json_t *fo = json_object();
            if (!fo || json_array_append_new(fields, fo))
                return -ENOMEM;
            if (!(rc = ln_ext_struct_field(m, e, i, &f, err)) && !(rc = put_name(fo, "name", m, f.name, scratch, err)) &&
                !(rc = put_name(fo, "proj", m, f.proj, scratch, err)))
                rc = put_name(fo, "subobject", m, f.subobject, scratch, err);
        }
        lx_word ps[64];
        size_t np = 0;
        if (!rc)
            rc = ln_ext_struct_parents(m, e, ps, 64, &np, err);
        for (size_t i = 0; !rc && i < np; i++) {
            json_t *v = NULL;
            if (!(rc = decl_json_name(m, ps[i], scratch, &v, err)) && json_array_append_new(parents, v))
                rc = -ENOMEM;
        }
        break;
    }
    default:
        break;
    }
    if (!rc && e->scoped)
        rc = put_name(o, "scope", m, e->scope, scratch, err);
    return rc;
}

int dump__ext_json(json_t *root, const char *path, const ln_module *m, ln_buf *scratch, size_t *bad,
                   region_error *err)
{
    json_t *arr = json_array();
    int rc = put(root, "extensions", arr);
    for (uint64_t i = 0; !rc && i < m->nentries; i++) {
        ln_ext x;
        if ((rc = ln_ext_get(m, i, &x, err)))
            return rc; /* the entries array itself is broken: the file is */
        json_t *xo = json_object();
        if (!xo || json_array_append_new(arr, xo))
            return -ENOMEM;
        if ((rc = put_name(xo, "name", m, x.name, scratch, err)) ||
            (rc = put(xo, "kind", x.kind == LN_EXT_OTHER ? json_null() : json_string(ln_ext_kind_name(x.kind)))) ||
            (rc = put(xo, "count", json_integer((json_int_t)x.n))))
            return rc;
        if (x.kind == LN_EXT_OTHER)
            continue;
        json_t *entries = json_array();
        if ((rc = put(xo, "entries", entries)))
            return rc;
        for (uint64_t j = 0; j < x.n; j++) {
            ln_ext_entry e;
            region_error eerr;
            json_t *eo = json_object();
            if (!eo)
                return -ENOMEM;
            if ((rc = ln_ext_entry_get(m, &x, j, &e, &eerr)) || (rc = entry_json(m, &e, scratch, eo, &eerr))) {
                json_decref(eo);
                if (rc == -ENOMEM)
                    return rc;
                dump__entry_error(path, m, &x, j, &eerr, bad);
                rc = 0;
                continue;
            }
            if (json_array_append_new(entries, eo))
                return -ENOMEM;
        }
    }
    return rc;
}

/* The first line of s, cut to at most max bytes at a UTF-8 boundary, quoted. */
static int text_snippet(ln_buf *b, const char *s, size_t n, size_t max)
{
    size_t k = 0;
    while (k < n && s[k] != '\n')
        k++;
    bool cut = k < n;
    if (k > max) {
        k = max;
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        cut = true;
    }
    int rc = ln_buf_puts(b, "\"");
    if (!rc)
        rc = ln_buf_append(b, s, k);
    return rc ? rc : ln_buf_puts(b, cut ? "…\"" : "\"");
}

static int text_range(ln_buf *b, const ln_range *r)
{
    return ln_buf_printf(b, "%llu:%llu-%llu:%llu", (unsigned long long)r->start.line,
                         (unsigned long long)r->start.column, (unsigned long long)r->end.line,
                         (unsigned long long)r->end.column);
}

static int text_entry(ln_buf *b, const ln_module *m, const ln_ext_entry *e, region_error *err)
{
    int rc = ln_buf_puts(b, "      ");
    const char *d;
    size_t n;
    if (!rc && e->kind != LN_EXT_MODULE_DOC)
        rc = e->decl ? ln_name_format(m, e->decl, b, err) : ln_buf_puts(b, "(no declaration)");
    if (rc)
        return rc;
    switch (e->kind) {
    case LN_EXT_DOC:
        if (!(rc = ln_string(m, e->text, &d, &n, err)) && !(rc = ln_buf_puts(b, ": ")))
            rc = text_snippet(b, d, n, 72);
        break;
    case LN_EXT_MODULE_DOC:
        if (!(rc = text_range(b, &e->range)) && !(rc = ln_buf_puts(b, ": ")) &&
            !(rc = ln_string(m, e->text, &d, &n, err)))
            rc = text_snippet(b, d, n, 72);
        break;
    case LN_EXT_RANGE:
        if (!(rc = ln_buf_puts(b, " ")) && !(rc = text_range(b, &e->range)) &&
            !(rc = ln_buf_puts(b, ", name ")))
            rc = text_range(b, &e->selection);
        break;
    case LN_EXT_INHERIT_DOC:
    case LN_EXT_ALIAS:
    case LN_EXT_IMPLEMENTED_BY:
        if (!(rc = ln_buf_puts(b, e->kind == LN_EXT_ALIAS ? " → " : e->kind == LN_EXT_INHERIT_DOC
                                                                    ? " doc from " : " implemented by ")))
            rc = ln_name_format(m, e->name2, b, err);
        break;
    case LN_EXT_REDUCIBILITY:
    case LN_EXT_INLINE: {
        const char *s = e->kind == LN_EXT_INLINE ? ln_inline_name(e->value) : ln_reducibility_name(e->value);
        rc = ln_buf_printf(b, " @[%s]", s ? s : "?");
        break;
    }
    case LN_EXT_EXTERN:
        if (!(rc = ln_buf_puts(b, " @[extern")) && e->text && !(rc = ln_string(m, e->text, &d, &n, err)) &&
            !(rc = ln_buf_puts(b, " ")))
            rc = text_snippet(b, d, n, 72);
        if (!rc)
            rc = ln_buf_puts(b, "]");
        break;
    case LN_EXT_INSTANCE:
        rc = ln_buf_printf(b, " priority %llu", (unsigned long long)e->priority);
        break;
    case LN_EXT_SIMP:
        rc = ln_buf_printf(b, " priority %llu%s%s", (unsigned long long)e->priority, e->post ? "" : " ↓",
                           e->inverse ? " ←" : "");
        break;
    case LN_EXT_DEPRECATED:
        if (e->name2 && !(rc = ln_buf_puts(b, " use ")))
            rc = ln_name_format(m, e->name2, b, err);
        if (!rc && e->text2 && !(rc = ln_string(m, e->text2, &d, &n, err)) && !(rc = ln_buf_puts(b, " since ")))
            rc = ln_buf_append(b, d, n);
        break;
    case LN_EXT_STRUCTURE:
        rc = ln_buf_printf(b, " %llu fields, %llu parents", (unsigned long long)e->nfields,
                           (unsigned long long)e->nparents);
        break;
    default:
        break;
    }
    if (!rc && e->scoped && !(rc = ln_buf_puts(b, " (scoped in ")) && !(rc = ln_name_format(m, e->scope, b, err)))
        rc = ln_buf_puts(b, ")");
    return rc ? rc : ln_buf_puts(b, "\n");
}

int dump__ext_text(ln_buf *b, const char *path, const ln_module *m, size_t *bad,
                           region_error *err)
{
    uint64_t nonempty = 0;
    int rc;
    for (uint64_t i = 0; i < m->nentries; i++) {
        ln_ext x;
        if ((rc = ln_ext_get(m, i, &x, err)))
            return rc;
        nonempty += x.n != 0;
    }
    if ((rc = ln_buf_printf(b, "  extensions (%llu, %llu with entries):\n", (unsigned long long)m->nentries,
                            (unsigned long long)nonempty)))
        return rc;
    for (uint64_t i = 0; i < m->nentries && !rc; i++) {
        ln_ext x;
        if ((rc = ln_ext_get(m, i, &x, err)))
            return rc;
        if (!x.n)
            continue;
        if ((rc = ln_buf_puts(b, "    ")) ||
            (rc = x.name ? ln_name_format(m, x.name, b, err) : ln_buf_puts(b, "[anonymous]")) ||
            (rc = ln_buf_printf(b, ": %llu entr%s (%s)\n", (unsigned long long)x.n, x.n == 1 ? "y" : "ies",
                                x.kind == LN_EXT_OTHER ? "not decoded" : ln_ext_kind_name(x.kind))))
            return rc;
        for (uint64_t j = 0; j < x.n && x.kind != LN_EXT_OTHER && !rc; j++) {
            ln_ext_entry e;
            region_error eerr;
            size_t mark = b->len;
            if ((rc = ln_ext_entry_get(m, &x, j, &e, &eerr)) || (rc = text_entry(b, m, &e, &eerr))) {
                if (rc == -ENOMEM || rc == LN_ETOOBIG)
                    return rc;
                b->len = mark;
                b->data[mark] = '\0';
                dump__entry_error(path, m, &x, j, &eerr, bad);
                if ((rc = ln_buf_printf(b, "      ! entry %llu: %s\n", (unsigned long long)j, eerr.reason)))
                    return rc;
            }
        }
    }
    return rc;
}

