/*
 * cli/cmd_client.c — the `envpool` commands that talk to a running envpoold:
 * get, search, open, modules, stats, drain, call and batch.
 *
 * Every command takes --socket PATH (default: see client_default_socket),
 * --json (print the daemon's result as JSON instead of the human form) and
 * --help. Exit status (cli/cli.h): 0 success, 1 the daemon answered with an
 * error, 2 usage, 69 the daemon is unreachable.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "protocol/protocol.h"
#include "util/mem.h"

/* ---- shared option handling -------------------------------------------- */

typedef struct copts {
    const char *cmd;
    char        socket[512];
    const char *imports;   /* comma-separated */
    bool        json;
    bool        prometheus;
    bool        partial;
    bool        value;
    const char *mode;
    const char *kinds;
    const char *cursor;
    const char *module;
    long        limit;
    bool        all;        /* follow next_cursor to the last page */
    bool        internal;
    bool        transitive;
    const char *in;
    long        depth, max;
} copts;

enum {
    O_SOCKET = 300, O_IMPORTS, O_JSON, O_PROM, O_PARTIAL, O_VALUE, O_MODE, O_KINDS, O_CURSOR,
    O_LIMIT, O_HELP, O_MODULE, O_ALL, O_INTERNAL, O_IN, O_TRANSITIVE, O_DEPTH, O_MAX,
};

static const struct option all_options[] = {
    {"socket", required_argument, NULL, O_SOCKET},   {"imports", required_argument, NULL, O_IMPORTS},
    {"json", no_argument, NULL, O_JSON},             {"prometheus", no_argument, NULL, O_PROM},
    {"partial", no_argument, NULL, O_PARTIAL},       {"value", no_argument, NULL, O_VALUE},
    {"mode", required_argument, NULL, O_MODE},       {"kinds", required_argument, NULL, O_KINDS},
    {"cursor", required_argument, NULL, O_CURSOR},   {"limit", required_argument, NULL, O_LIMIT},
    {"help", no_argument, NULL, O_HELP},             {"module", required_argument, NULL, O_MODULE},
    {"all", no_argument, NULL, O_ALL},               {"internal", no_argument, NULL, O_INTERNAL},
    {"in", required_argument, NULL, O_IN},           {"transitive", no_argument, NULL, O_TRANSITIVE},
    {"depth", required_argument, NULL, O_DEPTH},     {"max", required_argument, NULL, O_MAX},
    {NULL, 0, NULL, 0},
};

static const char common_help[] =
    "  --socket PATH   daemon socket (default $ENVPOOL_SOCKET, $XDG_RUNTIME_DIR/envpool.sock,\n"
    "                  /run/envpool/envpool.sock)\n"
    "  --json          print the daemon's answer as JSON\n"
    "  --help          this text\n";

/*
 * Parses the options a command accepts (`accepted`: O_* values, 0-terminated).
 * Returns -1 to go on, else the exit status (help printed or usage error).
 */
static int parse_opts(copts *o, const char *cmd, int argc, char **argv, const int *accepted,
                      const char *usage_text)
{
    rpc_global_init(); /* jansson allocates through util/mem.h from here on */
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->limit = -1;
    o->depth = -1;
    o->max = -1;
    const char *sock = NULL;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", all_options, NULL)) != -1) {
        bool ok = opt == O_SOCKET || opt == O_JSON || opt == O_HELP || opt == 'h';
        for (const int *a = accepted; !ok && *a; a++)
            ok = *a == opt;
        if (!ok || opt == '?') {
            fprintf(stderr, "envpool %s: unknown option '%s' (see 'envpool %s --help')\n", cmd,
                    argv[optind - 1], cmd);
            return CLI_USAGE;
        }
        switch (opt) {
        case 'h':
        case O_HELP: fputs(usage_text, stdout); fputs(common_help, stdout); return CLI_OK;
        case O_SOCKET: sock = optarg; break;
        case O_IMPORTS: o->imports = optarg; break;
        case O_JSON: o->json = true; break;
        case O_PROM: o->prometheus = true; break;
        case O_PARTIAL: o->partial = true; break;
        case O_VALUE: o->value = true; break;
        case O_MODE: o->mode = optarg; break;
        case O_KINDS: o->kinds = optarg; break;
        case O_CURSOR: o->cursor = optarg; break;
        case O_MODULE: o->module = optarg; break;
        case O_ALL: o->all = true; break;
        case O_INTERNAL: o->internal = true; break;
        case O_TRANSITIVE: o->transitive = true; break;
        case O_IN:
            if (strcmp(optarg, "type") && strcmp(optarg, "value") && strcmp(optarg, "both")) {
                fprintf(stderr, "envpool %s: --in must be type, value or both\n", cmd);
                return CLI_USAGE;
            }
            o->in = optarg;
            break;
        case O_DEPTH:
        case O_MAX: {
            char *end;
            long v = strtol(optarg, &end, 10);
            long top = opt == O_DEPTH ? 1000 : 1000000;
            if (!*optarg || *end || v < 1 || v > top) {
                fprintf(stderr, "envpool %s: --%s must be 1..%ld\n", cmd, opt == O_DEPTH ? "depth" : "max", top);
                return CLI_USAGE;
            }
            *(opt == O_DEPTH ? &o->depth : &o->max) = v;
            break;
        }
        case O_LIMIT: {
            char *end;
            o->limit = strtol(optarg, &end, 10);
            if (*end || o->limit < 1 || o->limit > 1000) {
                fprintf(stderr, "envpool %s: --limit must be 1..1000\n", cmd);
                return CLI_USAGE;
            }
            break;
        }
        default:
            fprintf(stderr, "envpool %s: option '%s' needs a value\n", cmd, argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (sock) {
        if (strlen(sock) >= sizeof o->socket) {
            fprintf(stderr, "envpool %s: --socket path is too long\n", cmd);
            return CLI_USAGE;
        }
        strcpy(o->socket, sock);
    } else if (client_default_socket(o->socket, sizeof o->socket) < 0) {
        fprintf(stderr, "envpool %s: default socket path is too long; use --socket\n", cmd);
        return CLI_USAGE;
    }
    return -1;
}

static int connect_or_report(const copts *o, client *c)
{
    int rc = client_connect(c, o->socket);
    if (rc < 0) {
        fprintf(stderr, "envpool %s: cannot connect to %s: %s%s\n", o->cmd, o->socket, strerror(-rc),
                (rc == -ENOENT || rc == -ECONNREFUSED) ? " (is envpoold running?)" : "");
        return CLI_UNAVAILABLE;
    }
    return 0;
}

/* "A,B,C" -> ["A","B","C"] (new). */
static json_t *split_imports(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        if (!e)
            break;
        p = e + 1;
    }
    return a;
}

static void print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        mem_free(s);
    }
}

/* Prints the error of a reply; returns the exit status. */
static int report_error(const copts *o, const json_t *reply)
{
    const json_t *e = json_object_get(reply, "error");
    int code = (int)json_integer_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    fprintf(stderr, "envpool %s: %s (error %d)\n", o->cmd, msg ? msg : "error", code);
    const json_t *data = json_object_get(e, "data");
    const json_t *sugg = json_object_get(data, "suggestions");
    if (!sugg)
        sugg = json_object_get(data, "candidates"); /* decl.find: what an unknown or ambiguous name may mean */
    if (json_array_size(sugg) > 0) {
        fprintf(stderr, "  did you mean:");
        size_t i;
        json_t *v;
        json_array_foreach(sugg, i, v) {
            const char *name = json_is_string(v) ? json_string_value(v)
                                                 : json_string_value(json_object_get(v, "name"));
            fprintf(stderr, "%s %s", i ? "," : "", name ? name : "?");
        }
        fprintf(stderr, "\n");
    } else if (sugg) {
        fprintf(stderr, "  (no similar names)\n");
    } else if (data) {
        char *d = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
        if (d) {
            fprintf(stderr, "  %s\n", d);
            mem_free(d);
        }
    }
    return CLI_FAIL;
}

/*
 * Connects, calls method with params (stolen), and on success hands the result
 * to show (or prints it as JSON with --json). Returns the exit status.
 */
static int call_and_show(const copts *o, const char *method, json_t *params,
                         int (*show)(const copts *o, const json_t *result))
{
    client c;
    int rc = connect_or_report(o, &c);
    if (rc) {
        json_decref(params);
        return rc;
    }
    json_t *reply = NULL;
    rc = client_call(&c, method, params, &reply);
    client_close(&c);
    if (rc < 0) {
        fprintf(stderr, "envpool %s: %s\n", o->cmd,
                rc == -EPROTO ? "the daemon sent something that is not JSON-RPC"
                              : rc == -ECONNRESET ? "the daemon closed the connection" : strerror(-rc));
        return rc == -ECONNRESET ? CLI_UNAVAILABLE : CLI_FAIL;
    }
    int status;
    if (json_object_get(reply, "error")) {
        status = report_error(o, reply);
    } else {
        const json_t *result = json_object_get(reply, "result");
        if (o->json || !show) {
            print_json(result);
            status = CLI_OK;
        } else {
            status = show(o, result);
        }
    }
    json_decref(reply);
    return status;
}

static const char *jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/*
 * A field's value as people read it: strings bare, lists comma-separated
 * ("(none)" when empty), objects as "key value" pairs ({"regular":1} reads
 * "regular 1", a recursor rule "ctor Nat.succ fields 1").
 */
static void print_value(const json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), stdout);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        if (json_array_size(v) == 0)
            fputs("(none)", stdout);
        json_array_foreach(v, i, e) {
            if (i)
                fputs(", ", stdout);
            print_value(e);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        bool first = true;
        json_object_foreach((json_t *)v, k, e) {
            printf("%s%s ", first ? "" : " ", k);
            print_value(e);
            first = false;
        }
    } else {
        char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        fputs(d ? d : "?", stdout);
        mem_free(d);
    }
}

static void print_field(const char *key, const json_t *v)
{
    printf("  %s: ", key);
    print_value(v);
    putchar('\n');
}

static int require_imports(const copts *o)
{
    if (!o->imports || !*o->imports) {
        fprintf(stderr, "envpool %s: --imports A,B,... is required\n", o->cmd);
        return CLI_USAGE;
    }
    return 0;
}

/* ---- get ---------------------------------------------------------------- */

/* "FILE:LINE:COL" (COL from 1, as editors and terminals link it; Lean stores it from 0),
   with the module name in place of the file when the source was not found. */
static void print_location(const json_t *r)
{
    const json_t *start = json_object_get(json_object_get(r, "range"), "start");
    if (!start)
        return;
    const char *file = json_string_value(json_object_get(r, "source"));
    printf("  at: %s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT "\n", file ? file : jstr(r, "module"),
           json_integer_value(json_object_get(start, "line")), json_integer_value(json_object_get(start, "column")) + 1);
}

/* What the extension entries say: doc, location, attributes with their details, structure fields and parents. */
static void show_decl_info(const json_t *r)
{
    const char *doc = json_string_value(json_object_get(r, "doc"));
    if (doc) {
        printf("  doc: ");
        for (const char *p = doc; *p; p++) {
            putchar(*p);
            if (*p == '\n' && p[1])
                fputs("       ", stdout);
        }
        if (!*doc || doc[strlen(doc) - 1] != '\n')
            putchar('\n');
    }
    print_location(r);
    const json_t *attrs = json_object_get(r, "attrs"), *info = json_object_get(r, "attr_info");
    if (json_array_size(attrs) > 0) {
        printf("  attrs: ");
        size_t i;
        json_t *a;
        json_array_foreach(attrs, i, a) {
            const char *name = json_string_value(a);
            printf("%s%s", i ? ", " : "", name ? name : "?");
            const json_t *d = name ? json_object_get(info, name) : NULL;
            if (d) {
                printf(" (");
                print_value(d);
                printf(")");
            }
        }
        putchar('\n');
    }
    const json_t *fields = json_object_get(r, "fields");
    if (json_is_array(fields)) {
        size_t i;
        json_t *f;
        printf("  fields:%s\n", json_array_size(fields) ? "" : " (none)");
        json_array_foreach(fields, i, f) {
            printf("    %s : %s", jstr(f, "name"), json_is_string(json_object_get(f, "type")) ? jstr(f, "type") : "?");
            if (json_is_string(json_object_get(f, "default")))
                printf(" := %s", jstr(f, "default"));
            putchar('\n');
        }
    }
    const json_t *parents = json_object_get(r, "parents");
    if (json_is_array(parents) && json_array_size(parents) > 0)
        print_field("parents", parents);
}

static int show_decl(const copts *o, const json_t *r)
{
    (void)o;
    const json_t *lps = json_object_get(r, "level_params");
    printf("%s %s", jstr(r, "kind"), jstr(r, "name"));
    if (json_array_size(lps) > 0) {
        printf(".{");
        size_t i;
        json_t *v;
        json_array_foreach(lps, i, v) printf("%s%s", i ? ", " : "", json_is_string(v) ? json_string_value(v) : "?");
        printf("}");
    }
    printf(" : %s\n", jstr(r, "type"));
    show_decl_info(r);
    const char *key;
    json_t *v;
    static const char *const shown[] = {"kind", "name", "type", "level_params", "value", "value_truncated",
                                        "value_limit", "type_truncated", "doc", "range", "source", "attrs",
                                        "attr_info", "parents", NULL};
    json_object_foreach((json_t *)r, key, v) {
        bool skip = false;
        for (size_t k = 0; shown[k] && !skip; k++)
            skip = !strcmp(key, shown[k]);
        /* "fields": a constructor's count is printed as the others; a structure's list by show_decl_info */
        if (skip || (!strcmp(key, "fields") && !json_is_integer(v)))
            continue;
        print_field(key, v);
    }
    if (json_is_true(json_object_get(r, "type_truncated")))
        printf("  (type cut at %u bytes)\n", RPC_TYPE_LIMIT);
    if (json_is_string(json_object_get(r, "value")))
        printf("  := %s\n", jstr(r, "value"));
    else if (json_object_get(r, "value"))
        printf("  (no value: a %s has none)\n", jstr(r, "kind"));
    if (json_is_true(json_object_get(r, "value_truncated")))
        printf("  (value cut at %" JSON_INTEGER_FORMAT " bytes)\n", json_integer_value(json_object_get(r, "value_limit")));
    return CLI_OK;
}

int cmd_get(int argc, char **argv)
{
    static const int acc[] = {O_IMPORTS, O_VALUE, O_PARTIAL, 0};
    copts o;
    int rc = parse_opts(&o, "get", argc, argv, acc,
                        "usage: envpool get --imports A,B,... [--partial] [--value] NAME\n\n"
                        "Print a declaration: kind, name, universe parameters, type, its docstring,\n"
                        "where it is (FILE:LINE:COL, or MODULE:LINE:COL when the .lean file was not\n"
                        "found), its attributes, module and the kind-specific fields. --value also\n"
                        "prints the definition's value; --partial skips modules that are not found.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc - 1) {
        fprintf(stderr, "envpool get: expected one declaration NAME (see 'envpool get --help')\n");
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o,s:s}", "imports", split_imports(o.imports), "name", argv[optind]);
    if (o.value)
        json_object_set_new(params, "value", json_true());
    if (o.partial)
        json_object_set_new(params, "partial", json_true());
    return call_and_show(&o, "decl.get", params, show_decl);
}

/* ---- doc / instances / children / attr ---------------------------------- */

static int show_module_docs(const copts *o, const json_t *r)
{
    (void)o;
    const json_t *items = json_object_get(r, "items");
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) {
        const json_t *start = json_object_get(json_object_get(v, "range"), "start");
        printf("%s%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT "\n%s\n", i ? "\n" : "", jstr(v, "module"),
               json_integer_value(json_object_get(start, "line")),
               json_integer_value(json_object_get(start, "column")) + 1, jstr(v, "doc"));
    }
    if (json_array_size(items) == 0)
        printf("no module docs\n");
    const char *next = json_string_value(json_object_get(r, "next_cursor"));
    if (next)
        printf("(more: --cursor %s)\n", next);
    return CLI_OK;
}

/* A page of {"name", "kind"|"priority", "module"} items, one per line. */
static int show_items(const copts *o, const json_t *r)
{
    (void)o;
    const json_t *items = json_object_get(r, "items");
    size_t width = 0, i;
    json_t *v;
    json_array_foreach(items, i, v) {
        size_t l = strlen(jstr(v, "name"));
        if (l > width)
            width = l;
    }
    if (width > 60)
        width = 60;
    json_array_foreach(items, i, v) {
        if (json_is_integer(json_object_get(v, "priority")))
            printf("%-*s  priority %-6" JSON_INTEGER_FORMAT " %s\n", (int)width, jstr(v, "name"),
                   json_integer_value(json_object_get(v, "priority")), jstr(v, "module"));
        else
            printf("%-*s  %-11s %s\n", (int)width, jstr(v, "name"), jstr(v, "kind"), jstr(v, "module"));
    }
    if (json_array_size(items) == 0)
        printf("none\n");
    const char *next = json_string_value(json_object_get(r, "next_cursor"));
    if (next)
        printf("(more: --cursor %s)\n", next);
    return CLI_OK;
}

/* The paged commands: method, the one positional argument's param name (NULL: none), usage. */
static int paged_command(int argc, char **argv, const char *cmd, const char *method, const char *arg_param,
                         const char *usage, int (*show)(const copts *, const json_t *))
{
    static const int acc[] = {O_IMPORTS, O_PARTIAL, O_LIMIT, O_CURSOR, O_MODULE, 0};
    copts o;
    int rc = parse_opts(&o, cmd, argc, argv, acc, usage);
    if (rc >= 0)
        return rc;
    if (optind != argc - (arg_param ? 1 : 0)) {
        fprintf(stderr, "envpool %s: wrong arguments (see 'envpool %s --help')\n", cmd, cmd);
        return CLI_USAGE;
    }
    if (o.module && strcmp(cmd, "doc") != 0) {
        fprintf(stderr, "envpool %s: --module is for 'envpool doc'\n", cmd);
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o}", "imports", split_imports(o.imports));
    if (arg_param)
        json_object_set_new(params, arg_param, json_string(argv[optind]));
    if (o.module)
        json_object_set_new(params, "module", json_string(o.module));
    if (o.partial)
        json_object_set_new(params, "partial", json_true());
    if (o.limit > 0)
        json_object_set_new(params, "limit", json_integer(o.limit));
    if (o.cursor)
        json_object_set_new(params, "cursor", json_string(o.cursor));
    return call_and_show(&o, method, params, show);
}

int cmd_doc(int argc, char **argv)
{
    return paged_command(argc, argv, "doc", "module.doc", NULL,
                         "usage: envpool doc --imports A,B,... [--module M] [--partial] [--limit N] [--cursor C]\n\n"
                         "Print the module docstrings (/-! ... -/) of the environment's modules, or of\n"
                         "module M, each after its MODULE:LINE:COL.\n\n",
                         show_module_docs);
}

int cmd_instances(int argc, char **argv)
{
    return paged_command(argc, argv, "instances", "instance.list", "class",
                         "usage: envpool instances --imports A,B,... [--partial] [--limit N] [--cursor C] CLASS\n\n"
                         "List the instances of CLASS in the environment with their priorities, in the\n"
                         "order Lean tries them (higher priority first, then the later declared).\n\n",
                         show_items);
}

int cmd_children(int argc, char **argv)
{
    return paged_command(argc, argv, "children", "decl.children", "namespace",
                         "usage: envpool children --imports A,B,... [--partial] [--limit N] [--cursor C] NAMESPACE\n\n"
                         "List what is directly inside NAMESPACE (\"\" for the root): declarations and\n"
                         "sub-namespaces, in name order.\n\n",
                         show_items);
}

int cmd_attr(int argc, char **argv)
{
    return paged_command(argc, argv, "attr", "attr.list", "attr",
                         "usage: envpool attr --imports A,B,... [--partial] [--limit N] [--cursor C] ATTR\n\n"
                         "List every declaration with attribute ATTR (simp, instance, class, reducible,\n"
                         "irreducible, inline, deprecated, protected, extern, implemented_by, ...).\n\n",
                         show_items);
}

/* ---- search ------------------------------------------------------------- */

static int show_search(const copts *o, const json_t *r)
{
    (void)o;
    const json_t *items = json_object_get(r, "items");
    size_t width = 0, i;
    json_t *v;
    json_array_foreach(items, i, v) {
        size_t l = strlen(jstr(v, "name"));
        if (l > width)
            width = l;
    }
    if (width > 60)
        width = 60;
    json_array_foreach(items, i, v)
        printf("%-*s  %-11s %s\n", (int)width, jstr(v, "name"), jstr(v, "kind"), jstr(v, "module"));
    if (json_array_size(items) == 0)
        printf("no matches\n");
    const char *next = json_string_value(json_object_get(r, "next_cursor"));
    if (next)
        printf("(more: --cursor %s)\n", next);
    return CLI_OK;
}

int cmd_search(int argc, char **argv)
{
    static const int acc[] = {O_IMPORTS, O_MODE, O_KINDS, O_LIMIT, O_CURSOR, 0};
    copts o;
    int rc = parse_opts(&o, "search", argc, argv, acc,
                        "usage: envpool search --imports A,B,... [--mode prefix|substring|fuzzy]\n"
                        "                      [--kinds K,...] [--limit N] [--cursor C] QUERY\n\n"
                        "List declarations whose names match QUERY (default mode: substring).\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc - 1) {
        fprintf(stderr, "envpool search: expected one QUERY (see 'envpool search --help')\n");
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o,s:s,s:s}", "imports", split_imports(o.imports), "query", argv[optind],
                               "mode", o.mode ? o.mode : "substring");
    if (o.kinds)
        json_object_set_new(params, "kinds", split_imports(o.kinds));
    if (o.limit > 0)
        json_object_set_new(params, "limit", json_integer(o.limit));
    if (o.cursor)
        json_object_set_new(params, "cursor", json_string(o.cursor));
    return call_and_show(&o, "decl.search", params, show_search);
}

/* ---- find / uses / used-by ---------------------------------------------- */

/*
 * Calls method with params (stolen); with --all follows next_cursor on the
 * same connection and joins the pages' items into the first page's result
 * (next_cursor null at the end). Shows the result as call_and_show does.
 */
static int call_pages(const copts *o, const char *method, json_t *params,
                      int (*show)(const copts *o, const json_t *result))
{
    if (!o->all)
        return call_and_show(o, method, params, show);
    client c;
    int rc = connect_or_report(o, &c);
    if (rc) {
        json_decref(params);
        return rc;
    }
    json_t *acc = NULL;
    int status = CLI_OK;
    for (;;) {
        json_t *reply = NULL;
        rc = client_call(&c, method, json_copy(params), &reply);
        if (rc < 0) {
            fprintf(stderr, "envpool %s: %s\n", o->cmd,
                    rc == -EPROTO ? "the daemon sent something that is not JSON-RPC"
                                  : rc == -ECONNRESET ? "the daemon closed the connection" : strerror(-rc));
            status = rc == -ECONNRESET ? CLI_UNAVAILABLE : CLI_FAIL;
            break;
        }
        if (json_object_get(reply, "error")) {
            status = report_error(o, reply);
            json_decref(reply);
            break;
        }
        json_t *result = json_object_get(reply, "result");
        json_t *next = json_object_get(result, "next_cursor");
        if (!acc) {
            acc = json_incref(result);
        } else {
            json_array_extend(json_object_get(acc, "items"), json_object_get(result, "items"));
            json_object_set(acc, "next_cursor", next ? next : json_null());
        }
        const char *cur = json_string_value(json_object_get(params, "cursor"));
        const char *nc = json_string_value(next);
        if (!nc || (cur && !strcmp(cur, nc))) {
            json_object_set_new(acc, "next_cursor", json_null());
            json_decref(reply);
            break;
        }
        json_object_set_new(params, "cursor", json_string(nc));
        json_decref(reply);
    }
    client_close(&c);
    json_decref(params);
    if (acc && status == CLI_OK) {
        if (o->json || !show) {
            print_json(acc);
        } else {
            status = show(o, acc);
        }
    }
    json_decref(acc);
    return status;
}

static void print_more(const json_t *r)
{
    const char *next = json_string_value(json_object_get(r, "next_cursor"));
    if (next)
        printf("(more: --cursor %s, or --all)\n", next);
}

static int show_find(const copts *o, const json_t *r)
{
    (void)o;
    const char *header = jstr(r, "header");
    fputs(header, stdout);
    if (*header && header[strlen(header) - 1] != '\n')
        putchar('\n');
    const json_t *items = json_object_get(r, "items");
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) {
        printf("%s  %s  %s\n", jstr(v, "name"), jstr(v, "kind"), jstr(v, "module"));
        printf("  : %s%s\n", json_is_string(json_object_get(v, "type")) ? jstr(v, "type") : "?",
               json_is_true(json_object_get(v, "type_truncated")) ? " (cut)" : "");
    }
    print_more(r);
    return CLI_OK;
}

static int show_deps(const copts *o, const json_t *r)
{
    const json_t *items = json_object_get(r, "items");
    size_t width = 0, i;
    json_t *v;
    bool deep = false;
    json_array_foreach(items, i, v) {
        size_t l = strlen(jstr(v, "name"));
        if (l > width)
            width = l;
        deep |= json_integer_value(json_object_get(v, "depth")) > 1;
    }
    if (width > 60)
        width = 60;
    json_array_foreach(items, i, v) {
        bool found = json_is_string(json_object_get(v, "module"));
        printf("%-*s  %-11s %s", (int)width, jstr(v, "name"), found ? jstr(v, "kind") : "-",
               found ? jstr(v, "module") : "(not in this environment)");
        if (deep || o->transitive)
            printf("  depth %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(v, "depth")));
        putchar('\n');
    }
    if (json_array_size(items) == 0)
        printf("none\n");
    if (json_is_true(json_object_get(r, "truncated")))
        printf("(the walk stopped after %" JSON_INTEGER_FORMAT " declarations: raise --max)\n",
               json_integer_value(json_object_get(r, "count")));
    print_more(r);
    return CLI_OK;
}

int cmd_find(int argc, char **argv)
{
    static const int acc[] = {O_IMPORTS, O_PARTIAL, O_KINDS, O_LIMIT, O_CURSOR, O_ALL, O_INTERNAL, 0};
    copts o;
    int rc = parse_opts(&o, "find", argc, argv, acc,
                        "usage: envpool find --imports A,B,... [--partial] [--kinds K,...] [--internal]\n"
                        "                    [--limit N] [--cursor C | --all] QUERY\n\n"
                        "List the declarations whose types match QUERY, in Loogle's query language:\n"
                        "comma-separated filters that must all hold, each a constant (List.map: the\n"
                        "type mentions it), a quoted string (\"comm\": the name contains it), a term\n"
                        "pattern with holes (_ * (_ ^ _), List.map _ (List.map _ _), ?a + ?b = ?b + ?a)\n"
                        "or |- PATTERN (the conclusion matches; hypotheses in any order). Fewer extra\n"
                        "constants first, then by name. --kinds keeps those kinds (axiom, def, theorem,\n"
                        "opaque, quot, inductive, ctor, rec); --internal also shows internal names\n"
                        "(_private, matchers, proof_N, noConfusion, ...); --all fetches every page;\n"
                        "--partial skips modules that are not found.\n"
                        "Example: envpool find --imports Init 'List.map, |- List.length _ = _'\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc - 1) {
        fprintf(stderr, "envpool find: expected one QUERY (see 'envpool find --help')\n");
        return CLI_USAGE;
    }
    if (o.all && o.cursor) {
        fprintf(stderr, "envpool find: --all and --cursor exclude each other\n");
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o,s:s}", "imports", split_imports(o.imports), "query", argv[optind]);
    if (o.partial)
        json_object_set_new(params, "partial", json_true());
    if (o.kinds)
        json_object_set_new(params, "kinds", split_imports(o.kinds));
    if (o.internal)
        json_object_set_new(params, "internal", json_true());
    if (o.limit > 0 || o.all)
        json_object_set_new(params, "limit", json_integer(o.limit > 0 ? o.limit : 1000));
    if (o.cursor)
        json_object_set_new(params, "cursor", json_string(o.cursor));
    return call_pages(&o, "decl.find", params, show_find);
}

static int deps_command(int argc, char **argv, const char *cmd, const char *method, const char *usage)
{
    static const int acc[] = {O_IMPORTS, O_PARTIAL, O_IN, O_TRANSITIVE, O_DEPTH, O_MAX, O_LIMIT, O_CURSOR, O_ALL, 0};
    copts o;
    int rc = parse_opts(&o, cmd, argc, argv, acc, usage);
    if (rc >= 0)
        return rc;
    if (optind != argc - 1) {
        fprintf(stderr, "envpool %s: expected one declaration NAME (see 'envpool %s --help')\n", cmd, cmd);
        return CLI_USAGE;
    }
    if (o.all && o.cursor) {
        fprintf(stderr, "envpool %s: --all and --cursor exclude each other\n", cmd);
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o,s:s}", "imports", split_imports(o.imports), "name", argv[optind]);
    if (o.partial)
        json_object_set_new(params, "partial", json_true());
    if (o.in)
        json_object_set_new(params, "in", json_string(o.in));
    if (o.transitive)
        json_object_set_new(params, "transitive", json_true());
    if (o.depth > 0)
        json_object_set_new(params, "depth", json_integer(o.depth));
    if (o.max > 0)
        json_object_set_new(params, "max", json_integer(o.max));
    if (o.limit > 0 || o.all)
        json_object_set_new(params, "limit", json_integer(o.limit > 0 ? o.limit : 1000));
    if (o.cursor)
        json_object_set_new(params, "cursor", json_string(o.cursor));
    return call_pages(&o, method, params, show_deps);
}

int cmd_uses(int argc, char **argv)
{
    return deps_command(argc, argv, "uses", "decl.uses",
                        "usage: envpool uses --imports A,B,... [--partial] [--in type|value|both] [--transitive]\n"
                        "                    [--depth N] [--max N] [--limit N] [--cursor C | --all] NAME\n\n"
                        "List the constants NAME's type and/or value refer to (default: both), nearest\n"
                        "first, then by name. --transitive follows them (up to 64 steps, or --depth N\n"
                        "steps; --depth alone implies it) and stops after --max declarations (default\n"
                        "10000). Constants the environment lacks are listed as not in it.\n\n");
}

int cmd_used_by(int argc, char **argv)
{
    return deps_command(argc, argv, "used-by", "decl.used_by",
                        "usage: envpool used-by --imports A,B,... [--partial] [--in type|value|both] [--transitive]\n"
                        "                       [--depth N] [--max N] [--limit N] [--cursor C | --all] NAME\n\n"
                        "List the declarations of the environment whose type and/or value refer to NAME\n"
                        "(default: both), nearest first, then by name. --transitive also lists what\n"
                        "uses those (up to 64 steps, or --depth N steps) and stops after --max\n"
                        "declarations (default 10000).\n\n");
}

/* ---- open / modules ----------------------------------------------------- */

static int show_open(const copts *o, const json_t *r)
{
    printf("%s %s: %" JSON_INTEGER_FORMAT " modules, %" JSON_INTEGER_FORMAT " constants, %.1f ms (%s)\n",
           json_is_true(json_object_get(r, "hit")) ? "reused" : "imported", o->imports,
           json_integer_value(json_object_get(r, "modules")), json_integer_value(json_object_get(r, "constants")),
           json_number_value(json_object_get(r, "load_ms")),
           json_is_true(json_object_get(r, "hit")) ? "pool hit" : "pool miss");
    const json_t *missing = json_object_get(r, "missing");
    if (json_array_size(missing) > 0) {
        printf("missing:");
        size_t i;
        json_t *v;
        json_array_foreach(missing, i, v) printf(" %s", json_is_string(v) ? json_string_value(v) : "?");
        printf("\n");
    }
    return CLI_OK;
}

int cmd_open(int argc, char **argv)
{
    static const int acc[] = {O_IMPORTS, O_PARTIAL, 0};
    copts o;
    int rc = parse_opts(&o, "open", argc, argv, acc,
                        "usage: envpool open --imports A,B,... [--partial]\n\n"
                        "Import an environment into the daemon's pool (or find it there) and report\n"
                        "its size and load time. --partial skips modules that are not found.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "envpool open: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    json_t *params = json_pack("{s:o}", "imports", split_imports(o.imports));
    if (o.partial)
        json_object_set_new(params, "partial", json_true());
    return call_and_show(&o, "env.open", params, show_open);
}

static int show_modules(const copts *o, const json_t *r)
{
    (void)o;
    const json_t *mods = json_is_array(r) ? r : json_object_get(r, "modules");
    size_t i;
    json_t *v;
    printf("%-40s %-7s %-12s %10s %12s  %s\n", "MODULE", "FORMAT", "LEAN", "CONSTANTS", "BYTES", "PATH");
    json_array_foreach(mods, i, v) {
        json_t *fmt = json_object_get(v, "format");
        char fbuf[32];
        if (json_is_string(fmt))
            snprintf(fbuf, sizeof fbuf, "%s", json_string_value(fmt));
        else
            snprintf(fbuf, sizeof fbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(fmt));
        printf("%-40s %-7s %-12s %10" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "  %s\n", jstr(v, "name"),
               fbuf, jstr(v, "lean_version"), json_integer_value(json_object_get(v, "constants")),
               json_integer_value(json_object_get(v, "bytes")), jstr(v, "path"));
    }
    return CLI_OK;
}

int cmd_modules(int argc, char **argv)
{
    static const int acc[] = {O_IMPORTS, 0};
    copts o;
    int rc = parse_opts(&o, "modules", argc, argv, acc,
                        "usage: envpool modules --imports A,B,...\n\n"
                        "List the modules of an environment in import order.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "envpool modules: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    if ((rc = require_imports(&o)))
        return rc;
    return call_and_show(&o, "module.list", json_pack("{s:o}", "imports", split_imports(o.imports)),
                         show_modules);
}

/* ---- stats / drain ------------------------------------------------------ */

static json_int_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* Upper bound of the bucket holding quantile q, as text ("≤ 2.5 ms"). */
static void quantile(const json_t *lat, double q, char *out, size_t size)
{
    json_int_t count = jint(lat, "count");
    const json_t *b = json_object_get(lat, "buckets");
    snprintf(out, size, "-");
    if (count <= 0)
        return;
    size_t i;
    json_t *v;
    json_array_foreach(b, i, v) {
        if ((double)jint(v, "count") >= q * (double)count) {
            json_t *le = json_object_get(v, "le_ms");
            if (json_is_number(le))
                snprintf(out, size, "<=%gms", json_number_value(le));
            else
                snprintf(out, size, ">%gms", 10000.0);
            return;
        }
    }
}

static int show_stats(const copts *o, const json_t *r)
{
    if (o->prometheus) {
        fputs(jstr(r, "text"), stdout);
        return CLI_OK;
    }
    const json_t *s = json_object_get(r, "server");
    printf("server: %" JSON_INTEGER_FORMAT " connections open, %" JSON_INTEGER_FORMAT " accepted, %"
           JSON_INTEGER_FORMAT " bytes in, %" JSON_INTEGER_FORMAT " bytes out, %" JSON_INTEGER_FORMAT
           " parse errors, %" JSON_INTEGER_FORMAT " invalid requests\n",
           jint(s, "connections_active"), jint(s, "connections_accepted"), jint(s, "bytes_in"), jint(s, "bytes_out"),
           jint(s, "parse_errors"), jint(s, "invalid_requests"));
    const json_t *p = json_object_get(r, "pool");
    if (p) {
        /* One row per pool counter, in pool.stats order (POOL_STATS_COUNTERS). */
        printf("%-18s %12s\n", "POOL", "VALUE");
#define POOL_ROW_(name, type, help) printf("%-18s %12" JSON_INTEGER_FORMAT "\n", #name, jint(p, #name));
        POOL_STATS_COUNTERS(POOL_ROW_)
#undef POOL_ROW_
        const json_t *it = json_object_get(p, "import_time");
        printf("%-18s %12" JSON_INTEGER_FORMAT " imports, %.3f ms total, %.3f ms longest\n", "import_time",
               jint(it, "count"), json_number_value(json_object_get(it, "total_ms")),
               json_number_value(json_object_get(it, "max_ms")));
    }
    printf("%-18s %10s %8s %10s %10s\n", "METHOD", "REQUESTS", "ERRORS", "P50", "P99");
    const char *key;
    json_t *m;
    json_object_foreach(json_object_get(r, "methods"), key, m) {
        if (jint(m, "requests") == 0)
            continue;
        char p50[32], p99[32];
        const json_t *lat = json_object_get(m, "latency");
        quantile(lat, 0.5, p50, sizeof p50);
        quantile(lat, 0.99, p99, sizeof p99);
        printf("%-18s %10" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT " %10s %10s\n", key, jint(m, "requests"),
               jint(m, "errors"), p50, p99);
    }
    printf("%-18s %12s %8s\n", "LIMIT", "VALUE", "HITS");
    json_object_foreach(json_object_get(r, "limits"), key, m) {
        json_t *lim = json_object_get(m, "limit");
        char lbuf[32] = "-";
        if (lim)
            snprintf(lbuf, sizeof lbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(lim));
        json_t *hits = json_object_get(m, "hits");
        char hbuf[32] = "-";
        if (hits)
            snprintf(hbuf, sizeof hbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(hits));
        printf("%-18s %12s %8s\n", key, lbuf, hbuf);
    }
    return CLI_OK;
}

int cmd_stats(int argc, char **argv)
{
    static const int acc[] = {O_PROM, 0};
    copts o;
    int rc = parse_opts(&o, "stats", argc, argv, acc,
                        "usage: envpool stats [--prometheus]\n\n"
                        "Print the daemon's pool and server counters and latency by method.\n"
                        "--prometheus prints the Prometheus text exposition instead.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "envpool stats: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    if (o.prometheus && o.json) {
        fprintf(stderr, "envpool stats: --prometheus and --json exclude each other\n");
        return CLI_USAGE;
    }
    return call_and_show(&o, "pool.stats",
                         json_pack("{s:s}", "format", o.prometheus ? "prometheus" : "json"), show_stats);
}

static int show_drain(const copts *o, const json_t *r)
{
    (void)o;
    json_int_t n = json_is_integer(r) ? json_integer_value(r) : jint(r, "drained");
    printf("drained %" JSON_INTEGER_FORMAT " idle environment%s\n", n, n == 1 ? "" : "s");
    return CLI_OK;
}

int cmd_drain(int argc, char **argv)
{
    static const int acc[] = {0};
    copts o;
    int rc = parse_opts(&o, "drain", argc, argv, acc,
                        "usage: envpool drain\n\nDrop every idle environment from the daemon's pool.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "envpool drain: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    return call_and_show(&o, "pool.drain", NULL, show_drain);
}

/* ---- call --------------------------------------------------------------- */

int cmd_call(int argc, char **argv)
{
    static const int acc[] = {0};
    copts o;
    int rc = parse_opts(&o, "call", argc, argv, acc,
                        "usage: envpool call METHOD [PARAMS-JSON]\n\n"
                        "Send one JSON-RPC request and print its result as JSON (an error goes to\n"
                        "stderr, exit status 1). Example: envpool call decl.get "
                        "'{\"imports\":[\"Init\"],\"name\":\"Nat.add\"}'\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc - 1 && optind != argc - 2) {
        fprintf(stderr, "envpool call: expected METHOD [PARAMS-JSON] (see 'envpool call --help')\n");
        return CLI_USAGE;
    }
    json_t *params = NULL;
    if (optind == argc - 2) {
        json_error_t err;
        params = json_loads(argv[optind + 1], 0, &err);
        if (!json_is_object(params)) {
            fprintf(stderr, "envpool call: PARAMS must be a JSON object%s%s\n", params ? "" : ": ",
                    params ? "" : err.text);
            json_decref(params);
            return CLI_USAGE;
        }
    }
    o.json = true;
    return call_and_show(&o, argv[optind], params, NULL);
}

/* ---- batch -------------------------------------------------------------- */

/*
 * Lines from stdin are sent pipelined (at most BATCH_WINDOW awaiting replies);
 * replies are printed in input order. Request ids are rewritten to our own
 * numbers on the way out and restored on the way back, so duplicate or absent
 * ids in the input cannot confuse the matching. A line that expects a reply
 * but carries no usable id (an invalid request) is matched with the daemon's
 * id-null reply, which comes in order because the daemon answers invalid
 * requests as it reads them.
 */
#define BATCH_WINDOW 64

typedef struct bslot {
    bool    used;
    bool    expects;     /* a reply will come */
    bool    anonymous;   /* its reply carries no id of ours */
    bool    done;
    int64_t first_id;    /* ids first_id .. first_id+nids-1 are ours */
    size_t  nids;
    json_t *orig;        /* original ids, in order (array) */
    json_t *reply;       /* new, once done (NULL: print nothing) */
} bslot;

typedef struct batch {
    bslot   slots[BATCH_WINDOW];
    size_t  head, count;     /* ring of lines in input order */
    int64_t next_id;
    char   *out;             /* bytes to send */
    size_t  out_len, out_cap;
    int     errors;
} batch;

static void slot_clear(bslot *s)
{
    json_decref(s->orig);
    json_decref(s->reply);
    memset(s, 0, sizeof *s);
}

static int out_append(batch *b, const char *p, size_t n)
{
    if (b->out_len + n > b->out_cap) {
        size_t nc = b->out_cap ? b->out_cap : 65536;
        while (nc < b->out_len + n)
            nc *= 2;
        char *np = mem_try_realloc(b->out, nc);
        if (!np)
            return -ENOMEM;
        b->out = np;
        b->out_cap = nc;
    }
    memcpy(b->out + b->out_len, p, n);
    b->out_len += n;
    return 0;
}

static bool is_notification(const json_t *r)
{
    return json_is_object(r) && !json_object_get(r, "id") && json_is_string(json_object_get(r, "method")) &&
           !strcmp(jstr(r, "jsonrpc"), "2.0");
}

static bool usable_id(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

/* Rewrites the ids of one request object; returns whether it expects a reply. */
static bool rewrite(batch *b, bslot *s, json_t *r)
{
    if (is_notification(r))
        return false;
    json_t *id = json_object_get(r, "id");
    if (json_is_object(r) && id && usable_id(id) && json_is_string(json_object_get(r, "method"))) {
        json_array_append(s->orig, id);
        json_object_set_new(r, "id", json_integer(b->next_id++));
        s->nids++;
    }
    return true;
}

static void print_reply(json_t *reply)
{
    char *d = json_dumps(reply, JSON_COMPACT | JSON_ENCODE_ANY);
    if (d) {
        puts(d);
        mem_free(d);
    }
}

static void flush_done(batch *b)
{
    while (b->count > 0 && b->slots[b->head].done) {
        bslot *s = &b->slots[b->head];
        if (s->reply)
            print_reply(s->reply);
        slot_clear(s);
        b->head = (b->head + 1) % BATCH_WINDOW;
        b->count--;
    }
    fflush(stdout);
}

/* Takes one input line into a new slot. Returns 0 or -ENOMEM. */
static int batch_line(batch *b, const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return 0; /* blank */
    bslot *s = &b->slots[(b->head + b->count) % BATCH_WINDOW];
    b->count++;
    s->used = true;
    s->orig = json_array();
    s->first_id = b->next_id;
    json_error_t err;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!req) {
        char msg[256];
        snprintf(msg, sizeof msg, "parse error at byte %d: %s", err.position, err.text);
        s->reply = json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", "error", "code", RPC_PARSE_ERROR,
                             "message", msg);
        s->done = true;
        b->errors++;
        return 0;
    }
    if (json_is_array(req)) {
        size_t k;
        json_t *e;
        bool expects = json_array_size(req) == 0;
        json_array_foreach(req, k, e) expects |= rewrite(b, s, e);
        s->expects = expects;
    } else {
        s->expects = rewrite(b, s, req);
    }
    s->anonymous = s->expects && s->nids == 0;
    s->done = !s->expects;
    char *text;
    size_t tlen;
    int rc = frame_encode(FRAME_LINES, req, &text, &tlen);
    json_decref(req);
    if (rc < 0)
        return rc;
    rc = out_append(b, text, tlen);
    mem_free(text);
    return rc;
}

static bslot *find_slot(batch *b, const json_t *msg)
{
    const json_t *probe = msg;
    if (json_is_array(msg)) {
        size_t k;
        json_t *e;
        json_array_foreach(msg, k, e) {
            if (json_is_integer(json_object_get(e, "id"))) {
                probe = e;
                break;
            }
        }
    }
    const json_t *id = json_is_object(probe) ? json_object_get(probe, "id") : NULL;
    for (size_t i = 0; i < b->count; i++) {
        bslot *s = &b->slots[(b->head + i) % BATCH_WINDOW];
        if (s->done || !s->expects)
            continue;
        if (json_is_integer(id) && s->nids) {
            json_int_t v = json_integer_value(id);
            if (v >= s->first_id && v < s->first_id + (json_int_t)s->nids)
                return s;
        } else if ((!id || json_is_null(id)) && s->anonymous) {
            return s;
        }
    }
    return NULL;
}

static void restore_ids(bslot *s, json_t *msg)
{
    json_t *one = msg;
    size_t n = json_is_array(msg) ? json_array_size(msg) : 1;
    for (size_t k = 0; k < n; k++) {
        if (json_is_array(msg))
            one = json_array_get(msg, k);
        json_t *id = json_object_get(one, "id");
        if (!json_is_integer(id))
            continue;
        /* Compared before subtracting: the daemon's id may be any integer. */
        json_int_t v = json_integer_value(id);
        if (v >= s->first_id && v - s->first_id < (json_int_t)s->nids)
            json_object_set(one, "id", json_array_get(s->orig, (size_t)(v - s->first_id)));
    }
}

static void batch_reply(batch *b, const char *line, size_t len)
{
    json_t *msg = json_loadb(line, len, JSON_DECODE_ANY, NULL);
    if (!msg)
        return;
    if (json_is_object(msg) && json_object_get(msg, "method")) {
        json_decref(msg); /* $/progress */
        return;
    }
    bslot *s = find_slot(b, msg);
    if (!s) {
        json_decref(msg);
        return;
    }
    restore_ids(s, msg);
    if (json_is_object(msg) && json_object_get(msg, "error"))
        b->errors++;
    s->reply = msg;
    s->done = true;
}

int cmd_batch(int argc, char **argv)
{
    static const int acc[] = {0};
    copts o;
    int rc = parse_opts(&o, "batch", argc, argv, acc,
                        "usage: envpool batch < requests.jsonl\n\n"
                        "Send the JSON-RPC requests on stdin (one per line, batches allowed), pipelined,\n"
                        "and print the replies on stdout in the order of the requests. Notifications\n"
                        "get no line. Exit status 1 if any reply is an error.\n\n");
    if (rc >= 0)
        return rc;
    if (optind != argc) {
        fprintf(stderr, "envpool batch: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    client c;
    if ((rc = connect_or_report(&o, &c)))
        return rc;
    batch *b = mem_calloc(1, sizeof *b);
    b->next_id = 1;
    char *line = NULL;
    size_t cap = 0;
    bool in_eof = false;
    int status = CLI_OK;
    while (!in_eof || b->count > 0 || b->out_len > 0) {
        while (!in_eof && b->count < BATCH_WINDOW && b->out_len < (1u << 20)) {
            errno = 0;
            ssize_t n = getline(&line, &cap, stdin);
            if (n < 0) {
                in_eof = true;
                break;
            }
            if (n > 0 && line[n - 1] == '\n')
                n--;
            if (batch_line(b, line, (size_t)n) < 0) {
                fprintf(stderr, "envpool batch: out of memory\n");
                status = CLI_FAIL;
                goto out;
            }
        }
        flush_done(b);
        if (in_eof && b->count == 0 && b->out_len == 0)
            break;
        struct pollfd pfd = {c.fd, (short)(POLLIN | (b->out_len ? POLLOUT : 0)), 0};
        /* Buffered but unread reply lines first. */
        if (!(c.end > c.start && memchr(c.buf + c.start, '\n', c.end - c.start)) && poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "envpool batch: poll: %s\n", strerror(errno));
            status = CLI_FAIL;
            goto out;
        }
        if (b->out_len && (pfd.revents & POLLOUT)) {
            ssize_t w = send(c.fd, b->out, b->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "envpool batch: the daemon closed the connection (%s)\n", strerror(errno));
                status = CLI_UNAVAILABLE;
                goto out;
            }
            if (w > 0) {
                memmove(b->out, b->out + w, b->out_len - (size_t)w);
                b->out_len -= (size_t)w;
            }
        }
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) || (c.end > c.start)) {
            const char *rl;
            size_t rlen;
            /* One read, then every complete line already buffered. */
            rc = client_read_line(&c, &rl, &rlen, 256u << 20);
            if (rc <= 0) {
                fprintf(stderr, "envpool batch: the daemon closed the connection with %zu request(s) unanswered\n",
                        b->count);
                status = CLI_UNAVAILABLE;
                goto out;
            }
            batch_reply(b, rl, rlen);
        }
    }
    if (b->errors)
        status = CLI_FAIL;
out:
    flush_done(b);
    for (size_t i = 0; i < BATCH_WINDOW; i++)
        slot_clear(&b->slots[i]);
    mem_free(b->out);
    mem_free(b);
    free(line); /* from getline: libc's allocator */
    client_close(&c);
    return status;
}
