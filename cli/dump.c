/*
 * cli/dump.c — `envpool dump [--json|--text] FILE...`: what a .olean file holds.
 *
 * For people: the header (format, Lean version, githash, base), the layout
 * era, the imports, each constant as `kind name.{params} : type`, and a count
 * per kind. With --json: one JSON object per file, on one line:
 *
 *   {"path", "format": "v0"|"v1"|"v2", "lean_version": string|null,
 *    "githash": string|null, "base": "0x…", "objects": N,
 *    "imports": [{"module", flags}], "constants": [{"name", "kind",
 *    "level_params": [..], "type", per-kind fields}]}
 *
 * Import flags: "runtime_only" up to v4.18; "import_all", "is_exported",
 * "is_meta" in the module era. Per kind: inductive "ctors", "num_params",
 * "num_indices", "is_rec"; ctor "induct", "cidx", "num_params",
 * "num_fields"; rec "num_params", "num_indices", "num_motives", "num_minors",
 * "rules" (ctor names), "k"; def "safety" ("unsafe"|"safe"|"partial"),
 * "hints" ("opaque"|"abbrev"|"regular N"); axiom and opaque "is_unsafe".
 *
 * With --text: the module in the text module format (docs/module-format.md,
 * lean/unpack.c), which `envpool pack` reads back; its module name is the
 * dotted tail of the path (A/B/C.olean: C, B.C, A.B.C, …) whose Lean base
 * address is the file's, else the file's stem.
 *
 * Each file's output is built in memory and written only when the whole file
 * decoded, so a damaged file prints nothing on stdout but one line on stderr
 * (path, offset, reason) and makes the exit status 1; later files still run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lean/lean.h"
#include "lean/pack.h"
#include "region/compactor.h"

static const char *const format_names[] = {"v0", "v1", "v2"};
static const char *const safety_names[] = {"unsafe", "safe", "partial"};

typedef struct dump_opts {
    bool   json;
    bool   text;
    size_t max_type_bytes;
} dump_opts;

/* ---- JSON text ---- */

/* Appends s[0..n) as a JSON string; invalid UTF-8 becomes U+FFFD. */
static int json_str(ln_buf *b, const char *s, size_t n)
{
    int rc = ln_buf_puts(b, "\"");
    size_t i = 0, run = 0;
    while (!rc && i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run++;
            i++;
            continue;
        }
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok && c >= 0x80) {
            run += len;
            i += len;
            continue;
        }
        if (run && (rc = ln_buf_append(b, s + i - run, run)))
            break;
        run = 0;
        char esc[8];
        if (!ok)
            rc = ln_buf_puts(b, "\\ufffd");
        else if (c == '"')
            rc = ln_buf_puts(b, "\\\"");
        else if (c == '\\')
            rc = ln_buf_puts(b, "\\\\");
        else if (c == '\n')
            rc = ln_buf_puts(b, "\\n");
        else if (c == '\t')
            rc = ln_buf_puts(b, "\\t");
        else {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            rc = ln_buf_puts(b, esc);
        }
        i++;
    }
    if (!rc && run)
        rc = ln_buf_append(b, s + n - run, run);
    return rc ? rc : ln_buf_puts(b, "\"");
}

static int json_cstr(ln_buf *b, const char *s) { return json_str(b, s, strlen(s)); }

/* A Name as a JSON string (formatted into scratch first). */
static int json_name(ln_buf *b, ln_buf *scratch, const ln_module *m, lx_word name, region_error *err)
{
    ln_buf_reset(scratch);
    int rc = ln_name_format(m, name, scratch, err);
    return rc ? rc : json_str(b, scratch->data ? scratch->data : "", scratch->len);
}

/* A List Name as a JSON array; of_rules: a List RecursorRule, shown by its constructor names. */
static int json_name_list(ln_buf *b, ln_buf *scratch, const ln_module *m, lx_word list, bool of_rules,
                          region_error *err)
{
    int rc = ln_buf_puts(b, "[");
    lx_word head;
    bool first = true;
    while (!rc && (rc = ln_list_next(m, &list, &head, err)) == 1) {
        ln_rec_rule rule = {0};
        if (of_rules && (rc = ln_rec_rule_view(m, head, &rule, err)))
            break;
        if (!first && (rc = ln_buf_puts(b, ",")))
            break;
        first = false;
        rc = json_name(b, scratch, m, of_rules ? rule.ctor : head, err);
    }
    return rc < 0 ? rc : ln_buf_puts(b, "]");
}

static int hints_text(const ln_const *c, char *buf, size_t size)
{
    if (c->hints == LN_HINTS_OPAQUE)
        snprintf(buf, size, "opaque");
    else if (c->hints == LN_HINTS_ABBREV)
        snprintf(buf, size, "abbrev");
    else
        snprintf(buf, size, "regular %u", c->hints_height);
    return 0;
}

/* Formats c's type into tbuf (reset first); a cut text is not an error. */
static int type_text(const ln_module *m, const ln_const *c, ln_buf *tbuf, region_error *err)
{
    ln_buf_reset(tbuf);
    int rc = ln_expr_format(m, c->type, tbuf, err);
    return rc == LN_ETOOBIG ? 0 : rc;
}

static int json_const(ln_buf *b, ln_buf *scratch, ln_buf *tbuf, const ln_module *m,
                      const ln_const *c, region_error *err)
{
    int rc;
    if ((rc = ln_buf_puts(b, "{\"name\":")) || (rc = json_name(b, scratch, m, c->name, err)) ||
        (rc = ln_buf_printf(b, ",\"kind\":\"%s\",\"level_params\":", ln_const_kind_name(c->kind))) ||
        (rc = json_name_list(b, scratch, m, c->level_params, false, err)) ||
        (rc = type_text(m, c, tbuf, err)) || (rc = ln_buf_puts(b, ",\"type\":")) ||
        (rc = json_str(b, ln_buf_cstr(tbuf), tbuf->len)))
        return rc;
    switch (c->kind) {
    case LN_INDUCT:
        if ((rc = ln_buf_puts(b, ",\"ctors\":")) || (rc = json_name_list(b, scratch, m, c->ctors, false, err)))
            return rc;
        rc = ln_buf_printf(b, ",\"num_params\":%llu,\"num_indices\":%llu,\"is_rec\":%s",
                           (unsigned long long)c->num_params, (unsigned long long)c->num_indices,
                           c->is_rec ? "true" : "false");
        break;
    case LN_CTOR:
        if ((rc = ln_buf_puts(b, ",\"induct\":")) || (rc = json_name(b, scratch, m, c->induct, err)))
            return rc;
        rc = ln_buf_printf(b, ",\"cidx\":%llu,\"num_params\":%llu,\"num_fields\":%llu",
                           (unsigned long long)c->cidx, (unsigned long long)c->num_params,
                           (unsigned long long)c->num_fields);
        break;
    case LN_REC:
        if ((rc = ln_buf_printf(b, ",\"num_params\":%llu,\"num_indices\":%llu,\"num_motives\":%llu,"
                                   "\"num_minors\":%llu,\"rules\":",
                                (unsigned long long)c->num_params, (unsigned long long)c->num_indices,
                                (unsigned long long)c->num_motives, (unsigned long long)c->num_minors)) ||
            (rc = json_name_list(b, scratch, m, c->rules, true, err)))
            return rc;
        rc = ln_buf_printf(b, ",\"k\":%s", c->k ? "true" : "false");
        break;
    case LN_DEF: {
        char h[32];
        hints_text(c, h, sizeof h);
        rc = ln_buf_printf(b, ",\"safety\":\"%s\",\"hints\":\"%s\"", safety_names[c->safety], h);
        break;
    }
    case LN_AXIOM:
    case LN_OPAQUE:
        rc = ln_buf_printf(b, ",\"is_unsafe\":%s", c->is_unsafe ? "true" : "false");
        break;
    default:
        break;
    }
    return rc ? rc : ln_buf_puts(b, "}");
}

/* ---- extension entries (docs/extension-entries.md) ---- */

/*
 * A bad entry of a known extension costs only that entry: its error goes to
 * stderr (path, offset, reason, which entry), the rest is still printed, and
 * the exit status becomes 1.
 */
static void entry_error(const char *path, const ln_module *m, const ln_ext *x, uint64_t j,
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

static int json_pos(ln_buf *b, const ln_pos *p)
{
    return ln_buf_printf(b, "{\"line\":%llu,\"column\":%llu,\"column_utf16\":%llu}",
                         (unsigned long long)p->line, (unsigned long long)p->column,
                         (unsigned long long)p->column_utf16);
}

static int json_range(ln_buf *b, const ln_range *r, const ln_range *sel)
{
    int rc;
    if ((rc = ln_buf_puts(b, "{\"start\":")) || (rc = json_pos(b, &r->start)) ||
        (rc = ln_buf_puts(b, ",\"end\":")) || (rc = json_pos(b, &r->end)))
        return rc;
    if (sel && ((rc = ln_buf_puts(b, ",\"selection\":{\"start\":")) || (rc = json_pos(b, &sel->start)) ||
                (rc = ln_buf_puts(b, ",\"end\":")) || (rc = json_pos(b, &sel->end)) ||
                (rc = ln_buf_puts(b, "}"))))
        return rc;
    return ln_buf_puts(b, "}");
}

/* ,"key":NAME or ,"key":null */
static int json_opt_name(ln_buf *b, ln_buf *scratch, const ln_module *m, const char *key, lx_word name,
                         region_error *err)
{
    int rc = ln_buf_printf(b, ",\"%s\":", key);
    if (rc)
        return rc;
    return name ? json_name(b, scratch, m, name, err) : ln_buf_puts(b, "null");
}

static int json_opt_string(ln_buf *b, const ln_module *m, const char *key, lx_word s, region_error *err)
{
    int rc = ln_buf_printf(b, ",\"%s\":", key);
    if (rc || !s)
        return rc ? rc : ln_buf_puts(b, "null");
    const char *d;
    size_t n;
    return (rc = ln_string(m, s, &d, &n, err)) ? rc : json_str(b, d, n);
}

/* One decoded entry as a JSON object: "decl" first (module docs have none), then per kind. */
static int json_entry(ln_buf *b, ln_buf *scratch, const ln_module *m, const ln_ext_entry *e,
                      region_error *err)
{
    int rc;
    if (e->kind == LN_EXT_MODULE_DOC) {
        const char *d;
        size_t n;
        if ((rc = ln_string(m, e->text, &d, &n, err)) || (rc = ln_buf_puts(b, "{\"doc\":")) ||
            (rc = json_str(b, d, n)) || (rc = ln_buf_puts(b, ",\"range\":")) ||
            (rc = json_range(b, &e->range, NULL)))
            return rc;
        return ln_buf_puts(b, "}");
    }
    if ((rc = ln_buf_puts(b, "{\"decl\":")) ||
        (rc = e->decl ? json_name(b, scratch, m, e->decl, err) : ln_buf_puts(b, "null")))
        return rc;
    switch (e->kind) {
    case LN_EXT_DOC:
        rc = json_opt_string(b, m, "doc", e->text, err);
        break;
    case LN_EXT_INHERIT_DOC:
        rc = json_opt_name(b, scratch, m, "from", e->name2, err);
        break;
    case LN_EXT_RANGE:
        if (!(rc = ln_buf_puts(b, ",\"range\":")))
            rc = json_range(b, &e->range, &e->selection);
        break;
    case LN_EXT_ALIAS:
        rc = json_opt_name(b, scratch, m, "target", e->name2, err);
        break;
    case LN_EXT_IMPLEMENTED_BY:
        rc = json_opt_name(b, scratch, m, "impl", e->name2, err);
        break;
    case LN_EXT_REDUCIBILITY: {
        const char *s = ln_reducibility_name(e->value);
        rc = ln_buf_printf(b, ",\"status\":\"%s\"", s ? s : "?");
        break;
    }
    case LN_EXT_INLINE: {
        const char *s = ln_inline_name(e->value);
        rc = ln_buf_printf(b, ",\"inline\":\"%s\"", s ? s : "?");
        break;
    }
    case LN_EXT_EXTERN:
        rc = json_opt_string(b, m, "symbol", e->text, err);
        break;
    case LN_EXT_INSTANCE:
        rc = ln_buf_printf(b, ",\"priority\":%llu", (unsigned long long)e->priority);
        break;
    case LN_EXT_SIMP:
        rc = ln_buf_printf(b, ",\"priority\":%llu,\"post\":%s,\"inverse\":%s",
                           (unsigned long long)e->priority, e->post ? "true" : "false",
                           e->inverse ? "true" : "false");
        break;
    case LN_EXT_DEPRECATED:
        if (!(rc = json_opt_name(b, scratch, m, "new_name", e->name2, err)) &&
            !(rc = json_opt_string(b, m, "text", e->text, err)))
            rc = json_opt_string(b, m, "since", e->text2, err);
        break;
    case LN_EXT_STRUCTURE:
        if ((rc = ln_buf_puts(b, ",\"fields\":[")))
            break;
        for (uint64_t i = 0; i < e->nfields && !rc; i++) {
            ln_struct_field f;
            if ((rc = ln_ext_struct_field(m, e, i, &f, err)) || (i && (rc = ln_buf_puts(b, ","))) ||
                (rc = ln_buf_puts(b, "{\"name\":")) || (rc = json_name(b, scratch, m, f.name, err)) ||
                (rc = json_opt_name(b, scratch, m, "proj", f.proj, err)) ||
                (rc = json_opt_name(b, scratch, m, "subobject", f.subobject, err)))
                break;
            rc = ln_buf_puts(b, "}");
        }
        if (rc || (rc = ln_buf_puts(b, "],\"parents\":[")))
            break;
        {
            lx_word p[64];
            size_t n = 0;
            if ((rc = ln_ext_struct_parents(m, e, p, 64, &n, err)))
                break;
            for (size_t k = 0; k < n && !rc; k++)
                if (!k || !(rc = ln_buf_puts(b, ",")))
                    rc = json_name(b, scratch, m, p[k], err);
        }
        if (!rc)
            rc = ln_buf_puts(b, "]");
        break;
    default:
        break;
    }
    if (!rc && e->scoped)
        rc = json_opt_name(b, scratch, m, "scope", e->scope, err);
    return rc ? rc : ln_buf_puts(b, "}");
}

static int json_extensions(ln_buf *b, ln_buf *scratch, const char *path, const ln_module *m,
                           size_t *bad, region_error *err)
{
    int rc = ln_buf_puts(b, ",\"extensions\":[");
    for (uint64_t i = 0; i < m->nentries && !rc; i++) {
        ln_ext x;
        if ((rc = ln_ext_get(m, i, &x, err)))
            return rc; /* the entries array itself is broken: the file is */
        if ((i && (rc = ln_buf_puts(b, ","))) || (rc = ln_buf_puts(b, "{\"name\":")) ||
            (rc = x.name ? json_name(b, scratch, m, x.name, err) : ln_buf_puts(b, "null")))
            return rc;
        if (x.kind == LN_EXT_OTHER) {
            rc = ln_buf_printf(b, ",\"kind\":null,\"count\":%llu}", (unsigned long long)x.n);
            continue;
        }
        if ((rc = ln_buf_printf(b, ",\"kind\":\"%s\",\"count\":%llu,\"entries\":[",
                                ln_ext_kind_name(x.kind), (unsigned long long)x.n)))
            return rc;
        bool first = true;
        for (uint64_t j = 0; j < x.n && !rc; j++) {
            ln_ext_entry e;
            region_error eerr;
            size_t mark = b->len;
            if (!first && (rc = ln_buf_puts(b, ",")))
                break;
            if ((rc = ln_ext_entry_get(m, &x, j, &e, &eerr)) || (rc = json_entry(b, scratch, m, &e, &eerr))) {
                if (rc == -ENOMEM || rc == LN_ETOOBIG)
                    return rc;
                b->len = mark; /* drop what this entry had written */
                b->data[mark] = '\0';
                entry_error(path, m, &x, j, &eerr, bad);
                rc = 0;
                continue;
            }
            first = false;
        }
        if (!rc)
            rc = ln_buf_puts(b, "]}");
    }
    return rc ? rc : ln_buf_puts(b, "]");
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

static int text_extensions(ln_buf *b, const char *path, const ln_module *m, size_t *bad,
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
                entry_error(path, m, &x, j, &eerr, bad);
                if ((rc = ln_buf_printf(b, "      ! entry %llu: %s\n", (unsigned long long)j, eerr.reason)))
                    return rc;
            }
        }
    }
    return rc;
}

static int dump_json(ln_buf *b, const char *path, const region *r, const ln_module *m,
                     const dump_opts *o, size_t *bad, region_error *err)
{
    const region_info *in = region_get_info(r);
    ln_buf scratch, tbuf;
    ln_buf_init(&scratch, 0);
    ln_buf_init(&tbuf, o->max_type_bytes);
    int rc;
    if ((rc = ln_buf_puts(b, "{\"path\":")) || (rc = json_cstr(b, path)) ||
        (rc = ln_buf_printf(b, ",\"format\":\"%s\",\"lean_version\":", format_names[in->format])))
        goto out;
    rc = in->format == REGION_V2 ? json_cstr(b, in->lean_version) : ln_buf_puts(b, "null");
    if (rc || (rc = ln_buf_puts(b, ",\"githash\":")))
        goto out;
    rc = in->format != REGION_V0 ? json_cstr(b, in->githash) : ln_buf_puts(b, "null");
    if (rc || (rc = ln_buf_printf(b, ",\"base\":\"0x%llx\",\"objects\":%llu,\"imports\":[",
                                  (unsigned long long)in->base, (unsigned long long)in->objects)))
        goto out;
    for (uint64_t i = 0; i < m->nimports; i++) {
        ln_import im;
        if ((rc = ln_module_import(m, i, &im, err)) || (rc = ln_buf_puts(b, i ? ",{\"module\":" : "{\"module\":")) ||
            (rc = json_name(b, &scratch, m, im.module, err)))
            goto out;
        if (m->era == LN_ERA_MODULE)
            rc = ln_buf_printf(b, ",\"import_all\":%s,\"is_exported\":%s,\"is_meta\":%s}",
                               im.import_all ? "true" : "false", im.is_exported ? "true" : "false",
                               im.is_meta ? "true" : "false");
        else
            rc = ln_buf_printf(b, ",\"runtime_only\":%s}", im.runtime_only ? "true" : "false");
        if (rc)
            goto out;
    }
    if ((rc = ln_buf_puts(b, "],\"constants\":[")))
        goto out;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        ln_const c;
        if ((rc = ln_module_const(m, i, &c, err)) || (i && (rc = ln_buf_puts(b, ","))) ||
            (rc = json_const(b, &scratch, &tbuf, m, &c, err)))
            goto out;
    }
    if ((rc = ln_buf_puts(b, "]")) || (rc = json_extensions(b, &scratch, path, m, bad, err)))
        goto out;
    rc = ln_buf_puts(b, "}\n");
out:
    ln_buf_deinit(&scratch);
    ln_buf_deinit(&tbuf);
    return rc;
}

/* ---- human text ---- */

static int dump_text(ln_buf *b, const char *path, const region *r, const ln_module *m,
                     const dump_opts *o, size_t *bad, region_error *err)
{
    const region_info *in = region_get_info(r);
    ln_buf tbuf;
    ln_buf_init(&tbuf, o->max_type_bytes);
    uint64_t counts[LN_REC + 1] = {0};
    int rc;
    if ((rc = ln_buf_printf(b, "%s\n  format %s, lean %s, githash %s, base 0x%llx\n"
                               "  %llu bytes, %llu objects, layout era %s%s%s\n",
                            path, format_names[in->format],
                            in->lean_version[0] ? in->lean_version : "-",
                            in->githash[0] ? in->githash : "-", (unsigned long long)in->base,
                            (unsigned long long)in->size, (unsigned long long)in->objects,
                            ln_era_name(m->era), m->old_expr ? ", 2022 Expr layout" : "",
                            m->is_module ? ", module system" : "")))
        goto out;
    if ((rc = ln_buf_printf(b, "  imports (%llu):\n", (unsigned long long)m->nimports)))
        goto out;
    for (uint64_t i = 0; i < m->nimports; i++) {
        ln_import im;
        if ((rc = ln_module_import(m, i, &im, err)) || (rc = ln_buf_puts(b, "    import ")) ||
            (rc = ln_name_format(m, im.module, b, err)))
            goto out;
        if (m->era == LN_ERA_MODULE)
            rc = ln_buf_printf(b, "%s%s%s\n", im.import_all ? " [all]" : "",
                               im.is_exported ? "" : " [private]", im.is_meta ? " [meta]" : "");
        else
            rc = ln_buf_puts(b, im.runtime_only ? " [runtime only]\n" : "\n");
        if (rc)
            goto out;
    }
    if ((rc = ln_buf_printf(b, "  constants (%llu):\n", (unsigned long long)m->nconstants)))
        goto out;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        ln_const c;
        if ((rc = ln_module_const(m, i, &c, err)))
            goto out;
        counts[c.kind]++;
        if ((rc = ln_buf_printf(b, "    %s ", ln_const_kind_name(c.kind))) ||
            (rc = ln_const_format_header(m, &c, b, err)) || (rc = ln_buf_puts(b, " : ")) ||
            (rc = type_text(m, &c, &tbuf, err)) || (rc = ln_buf_append(b, ln_buf_cstr(&tbuf), tbuf.len)) ||
            (rc = ln_buf_puts(b, "\n")))
            goto out;
    }
    if ((rc = ln_buf_printf(b, "  summary: %llu constants", (unsigned long long)m->nconstants)))
        goto out;
    bool first = true;
    for (unsigned k = 0; k <= LN_REC && !rc; k++) {
        if (!counts[k])
            continue;
        rc = ln_buf_printf(b, "%s%s %llu", first ? " (" : ", ", ln_const_kind_name((enum ln_const_kind)k),
                           (unsigned long long)counts[k]);
        first = false;
    }
    if (!rc)
        rc = ln_buf_puts(b, first ? "\n" : ")\n");
    if (!rc)
        rc = text_extensions(b, path, m, bad, err);
out:
    ln_buf_deinit(&tbuf);
    return rc;
}

/*
 * The module name of path: the shortest dotted tail of its path (without
 * ".olean") whose base address (region_module_base) is the file's, as pack
 * and Lean choose it; else the stem. Written to name (size bytes).
 */
static void module_name_of(const char *path, uint64_t base, char *name, size_t size)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    if (n > 6 && !strcmp(buf + n - 6, ".olean"))
        buf[n -= 6] = 0;
    char *slash = strrchr(buf, '/');
    char *start = slash ? slash + 1 : buf;
    snprintf(name, size, "%s", start); /* the fallback: the stem */
    for (;;) {
        char cand[4096];
        snprintf(cand, sizeof cand, "%s", start);
        for (char *c = cand; *c; c++)
            if (*c == '/')
                *c = '.';
        if (*cand && region_module_base(cand) == base) {
            snprintf(name, size, "%s", cand);
            return;
        }
        if (start == buf)
            return;
        start--; /* at the '/' before the current tail */
        while (start > buf && start[-1] != '/')
            start--;
    }
}

static int dump_module_text(ln_buf *b, const char *path, const region *r, const ln_module *m,
                            const dump_opts *o, region_error *err)
{
    char name[4096];
    module_name_of(path, region_get_info(r)->base, name, sizeof name);
    return ln_unpack(m, name, o->max_type_bytes, b, err);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: envpool dump [--json|--text] [--max-type-bytes N] FILE.olean...\n"
               "  --json               one JSON object per file (see docs/DESIGN.md)\n"
               "  --text               the module as text that `envpool pack` reads (docs/module-format.md)\n"
               "  --max-type-bytes N   cut each printed type at N bytes (default %d; --text: fail instead)\n",
            LN_BUF_DEFAULT_LIMIT);
}

static int dump_one(const char *path, const dump_opts *o)
{
    region *r = NULL;
    region_error err;
    ln_module m;
    ln_buf out;
    char msg[1024];
    size_t bad = 0; /* malformed extension entries (reported on stderr, the rest printed) */
    memset(&err, 0, sizeof err);
    err.offset = UINT64_MAX;
    /* Whole-file text: only the file size and the per-type cap bound it. */
    ln_buf_init(&out, SIZE_MAX / 4);
    int rc = region_open(path, REGION_OPEN_PARTS, &r, &err);
    if (!rc)
        rc = ln_module_open(r, &m, &err);
    if (!rc)
        rc = o->json   ? dump_json(&out, path, r, &m, o, &bad, &err)
             : o->text ? dump_module_text(&out, path, r, &m, o, &err)
                       : dump_text(&out, path, r, &m, o, &bad, &err);
    if (rc) {
        if (err.code == 0) { /* allocation failure or a limit, not the file */
            snprintf(err.path, sizeof err.path, "%s", path);
            snprintf(err.reason, sizeof err.reason, "%s", rc == -ENOMEM ? "out of memory" : "output too large");
            err.offset = UINT64_MAX;
        }
        fprintf(stderr, "envpool dump: %s\n", region_error_format(&err, msg, sizeof msg));
    } else {
        fwrite(ln_buf_cstr(&out), 1, out.len, stdout);
    }
    ln_buf_deinit(&out);
    region_close(r);
    return rc || bad ? CLI_FAIL : CLI_OK;
}

int cmd_dump(int argc, char **argv)
{
    dump_opts o = {.json = false, .max_type_bytes = LN_BUF_DEFAULT_LIMIT};
    int status = CLI_OK, nfiles = 0;
    bool opts = true;
    /* Options may come anywhere before "--"; first pass reads them. */
    for (int i = 1; i < argc; i++) {
        if (!opts || argv[i][0] != '-' || !argv[i][1])
            continue;
        if (!strcmp(argv[i], "--")) {
            opts = false;
        } else if (!strcmp(argv[i], "--json")) {
            o.json = true;
        } else if (!strcmp(argv[i], "--text")) {
            o.text = true;
        } else if (!strcmp(argv[i], "--max-type-bytes") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0) {
                usage(stderr);
                return CLI_USAGE;
            }
            o.max_type_bytes = (size_t)v;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "envpool dump: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (o.json && o.text) {
        fprintf(stderr, "envpool dump: --json and --text exclude each other\n");
        return CLI_USAGE;
    }
    opts = true;
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--")) {
            opts = false;
            continue;
        }
        if (opts && argv[i][0] == '-' && argv[i][1]) {
            if (!strcmp(argv[i], "--max-type-bytes"))
                i++;
            continue;
        }
        nfiles++;
        if (dump_one(argv[i], &o) != CLI_OK)
            status = CLI_FAIL;
    }
    if (nfiles == 0) {
        usage(stderr);
        return CLI_USAGE;
    }
    fflush(stdout);
    return status;
}
