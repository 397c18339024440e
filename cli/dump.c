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
 * "is_meta" in the module era. Each constant is decl_json's dump view
 * (protocol/decl_json.c, the renderer decl.get uses too): per kind,
 * inductive "ctors", "num_params", "num_indices", "is_rec"; ctor "induct",
 * "cidx", "num_params", "num_fields"; rec "num_params", "num_indices",
 * "num_motives", "num_minors", "rules" (ctor names), "k"; def "safety"
 * ("unsafe"|"safe"|"partial"), "hints" ("opaque"|"abbrev"|"regular N");
 * axiom and opaque "is_unsafe".
 *
 * With --text: the module in the text module format (docs/module-format.md,
 * lean/unpack.c), which `envpool pack` reads back; its module name is the
 * dotted tail of the path (A/B/C.olean: C, B.C, A.B.C, …) whose Lean base
 * address is the file's, else the file's stem.
 *
 * Both views end with the module's extension entries (cli/dump_ext.c): a
 * malformed entry of a known extension is one stderr line and exit status 1,
 * and costs only itself.
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
#include "cli/dump_internal.h"
#include "lean/lean.h"
#include "lean/pack.h"
#include "protocol/decl_json.h"
#include "region/compactor.h"


typedef struct dump_opts {
    bool   json;
    bool   text;
    size_t max_type_bytes;
} dump_opts;

/* ---- JSON ---- */

/* Set on an object; a NULL value (out of memory) makes the whole output fail. */
static int put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int import_json(const ln_module *m, uint64_t i, ln_buf *scratch, json_t *arr, region_error *err)
{
    ln_import im;
    json_t *name;
    int rc = ln_module_import(m, i, &im, err);
    if (rc || (rc = decl_json_name(m, im.module, scratch, &name, err)))
        return rc;
    json_t *o = json_object();
    if (!o || json_array_append_new(arr, o) || put(o, "module", name))
        return -ENOMEM;
    if (m->era == LN_ERA_MODULE)
        return put(o, "import_all", json_boolean(im.import_all)) || put(o, "is_exported", json_boolean(im.is_exported)) ||
                       put(o, "is_meta", json_boolean(im.is_meta))
                   ? -ENOMEM
                   : 0;
    return put(o, "runtime_only", json_boolean(im.runtime_only));
}

static int append_json(const char *text, size_t n, void *b)
{
    return ln_buf_append(b, text, n) ? -1 : 0;
}

/* The file's object; its constants through decl_json's dump view. */
static int dump_json(ln_buf *b, const char *path, const region *r, const ln_module *m,
                     const dump_opts *o, size_t *bad, region_error *err)
{
    const region_info *in = region_get_info(r);
    ln_buf scratch;
    ln_buf_init(&scratch, 0);
    json_t *root = json_object(), *imports = json_array(), *constants = json_array();
    int rc = -ENOMEM;
    if (!root || !imports || !constants || put(root, "path", decl_json_text(path, strlen(path))) ||
        put(root, "format", json_string(region_format_name(in->format))) ||
        put(root, "lean_version", in->format == REGION_V2 ? decl_json_text(in->lean_version, strlen(in->lean_version))
                                                          : json_null()) ||
        put(root, "githash", in->format != REGION_V0 ? decl_json_text(in->githash, strlen(in->githash)) : json_null()) ||
        put(root, "base", json_sprintf("0x%llx", (unsigned long long)in->base)) ||
        put(root, "objects", json_integer((json_int_t)in->objects)))
        goto out;
    rc = put(root, "imports", json_incref(imports));
    for (uint64_t i = 0; !rc && i < m->nimports; i++)
        rc = import_json(m, i, &scratch, imports, err);
    if (rc || (rc = put(root, "constants", json_incref(constants))))
        goto out;
    decl_json_opts dj = {.view = DECL_JSON_DUMP, .type_limit = o->max_type_bytes};
    for (uint64_t i = 0; !rc && i < m->nconstants; i++) {
        ln_const c;
        json_t *co = json_object();
        if (!co || json_array_append_new(constants, co))
            rc = -ENOMEM;
        else if (!(rc = ln_module_const(m, i, &c, err)))
            rc = decl_json(m, &c, &dj, &scratch, co, err);
    }
    if (rc || (rc = dump__ext_json(root, path, m, &scratch, bad, err)))
        goto out;
    rc = json_dump_callback(root, append_json, b, JSON_COMPACT) ? -ENOMEM : ln_buf_puts(b, "\n");
out:
    json_decref(root);
    json_decref(imports);
    json_decref(constants);
    ln_buf_deinit(&scratch);
    return rc;
}

/* ---- human text ---- */

/* Formats c's type into tbuf (reset first); a cut text is not an error. */
static int type_text(const ln_module *m, const ln_const *c, ln_buf *tbuf, region_error *err)
{
    ln_buf_reset(tbuf);
    int rc = ln_expr_format(m, c->type, tbuf, err);
    return rc == LN_ETOOBIG ? 0 : rc;
}

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
                            path, region_format_name(in->format),
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
        rc = dump__ext_text(b, path, m, bad, err);
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
    size_t bad = 0; /* malformed extension entries: reported on stderr, the rest still printed */
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
