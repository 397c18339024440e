/*
 * cli/bench.c — `envpool bench`: drive a JSON-RPC server on a local socket with
 * pipelined requests and print latency percentiles and throughput.
 *
 * Requests come from a template in which {id} is replaced by the request id and
 * {name} by the next name of --names (cycled in file order), e.g.
 *   {"jsonrpc":"2.0","id":{id},"method":"decl.get","params":{"env":1,"name":"{name}"}}
 * --method decl.get|decl.search|env.open builds the usual templates; with
 * --imports, each connection first opens the environment (handle 1 on a fresh
 * connection) and requests use it. `make bench` (bench/run.sh) calls this for
 * every figure it prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/loadgen.h"
#include "util/mem.h"

typedef struct bench_ctx {
    const char *tmpl;
    char      **names;
    size_t      nnames;
} bench_ctx;

static size_t make_request(void *ctx, uint64_t seq, uint64_t id, char *buf, size_t cap)
{
    const bench_ctx *b = ctx;
    const char *name = b->nnames ? b->names[seq % b->nnames] : "";
    size_t len = 0;
    for (const char *p = b->tmpl; *p;) {
        const char *sub = NULL;
        char num[24];
        size_t skip = 1;
        if (!strncmp(p, "{id}", 4)) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)id);
            sub = num;
            skip = 4;
        } else if (!strncmp(p, "{name}", 6)) {
            sub = name;
            skip = 6;
        }
        if (sub) {
            size_t n = strlen(sub);
            if (len + n + 2 > cap)
                return 0;
            memcpy(buf + len, sub, n);
            len += n;
        } else {
            if (len + 3 > cap)
                return 0;
            buf[len++] = *p;
        }
        p += skip;
    }
    buf[len++] = '\n';
    return len;
}

static int read_names(const char *path, char ***out, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0, count = 0, slots = 0;
    char **names = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *tab = strchr(line, '\t');
        if (tab)
            *tab = '\0';
        if (!line[0] || strchr(line, '"') || strchr(line, '\\'))
            continue; /* names go into JSON unescaped */
        if (count == slots) {
            slots = slots ? slots * 2 : 1024;
            char **grown = mem_try_realloc(names, slots * sizeof *names);
            if (!grown)
                abort();
            names = grown;
        }
        names[count++] = mem_strdup(line);
    }
    free(line);
    fclose(f);
    *out = names;
    *n = count;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: envpool bench --socket PATH [options]\n\n"
        "Send pipelined JSON-RPC requests to a server and report latency and throughput.\n\n"
        "  --socket PATH       server socket (required)\n"
        "  --method M          decl.get (default), decl.search, env.open, or raw (--template)\n"
        "  --redis             talk to redis-server instead: GET {name} (inline protocol),\n"
        "                      replies matched by order; the baseline of make bench\n"
        "  --template T        request line; {id} and {name} are substituted\n"
        "  --names FILE        names for {name}, one per line (text after a tab ignored)\n"
        "  --imports A,B,...   open this environment first on each connection\n"
        "  --mode M            decl.search mode: prefix (default), substring, fuzzy\n"
        "  --clients N         connections (default 1)\n"
        "  --depth N           requests in flight per connection (default 1)\n"
        "  --requests N        replies to measure (default 100000)\n"
        "  --warmup N          replies before measuring (default 1000)\n"
        "  --seconds S         stop after S seconds in any case (default 60)\n"
        "  --json              one JSON object instead of text\n");
}

static char *imports_json(const char *csv)
{
    size_t cap = strlen(csv) * 2 + 8, len = 0;
    char *out = mem_alloc(cap);
    out[len++] = '[';
    for (const char *p = csv; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        len += (size_t)snprintf(out + len, cap - len, "%s\"%.*s\"", len > 1 ? "," : "", (int)n, p);
        p += n + (comma ? 1 : 0);
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, 0, 's'},   {"method", required_argument, 0, 'm'},
        {"template", required_argument, 0, 't'}, {"names", required_argument, 0, 'n'},
        {"imports", required_argument, 0, 'i'},  {"mode", required_argument, 0, 'M'},
        {"clients", required_argument, 0, 'c'},  {"depth", required_argument, 0, 'd'},
        {"requests", required_argument, 0, 'r'}, {"warmup", required_argument, 0, 'w'},
        {"seconds", required_argument, 0, 'S'},  {"json", no_argument, 0, 'j'},
        {"redis", no_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    const char *socket_path = NULL, *method = "decl.get", *tmpl = NULL, *names_path = NULL;
    const char *imports = NULL, *mode = "prefix";
    unsigned long clients = 1, depth = 1;
    unsigned long long requests = 100000, warmup = 1000;
    double seconds = 60;
    int json = 0, redis = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': socket_path = optarg; break;
        case 'm': method = optarg; break;
        case 't': tmpl = optarg; break;
        case 'n': names_path = optarg; break;
        case 'i': imports = optarg; break;
        case 'M': mode = optarg; break;
        case 'c': clients = strtoul(optarg, NULL, 10); break;
        case 'd': depth = strtoul(optarg, NULL, 10); break;
        case 'r': requests = strtoull(optarg, NULL, 10); break;
        case 'w': warmup = strtoull(optarg, NULL, 10); break;
        case 'S': seconds = strtod(optarg, NULL); break;
        case 'j': json = 1; break;
        case 'R': redis = 1; break;
        case 'h': usage(stdout); return CLI_OK;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    if (!socket_path || optind != argc || clients == 0 || clients > 10000 || depth == 0 ||
        depth > 1024 || requests == 0 || seconds <= 0) {
        usage(stderr);
        return CLI_USAGE;
    }

    char *imp = imports ? imports_json(imports) : NULL;
    char setup[8192], built[8192];
    const char *target = imp ? "\"env\":1" : "\"imports\":[]";
    if (imp) {
        snprintf(setup, sizeof setup,
                 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"env.open\",\"params\":{\"imports\":%s}}", imp);
    }
    if (redis) {
        tmpl = "GET {name}\r"; /* make_request ends the line with \n */
        mem_free(imp);
        imp = NULL;
    }
    if (!tmpl) {
        if (!strcmp(method, "decl.get"))
            snprintf(built, sizeof built, "{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"decl.get\","
                     "\"params\":{%s,\"name\":\"{name}\"}}", target);
        else if (!strcmp(method, "decl.search"))
            snprintf(built, sizeof built, "{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"decl.search\","
                     "\"params\":{%s,\"query\":\"{name}\",\"mode\":\"%s\",\"limit\":20}}", target, mode);
        else if (!strcmp(method, "env.open") && imp)
            snprintf(built, sizeof built, "{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"env.open\","
                     "\"params\":{\"imports\":%s}}", imp);
        else {
            fprintf(stderr, "envpool bench: --method %s needs %s\n", method,
                    !strcmp(method, "env.open") ? "--imports" : "--template");
            mem_free(imp);
            return CLI_USAGE;
        }
        tmpl = built;
    }

    bench_ctx ctx = {tmpl, NULL, 0};
    if (names_path) {
        int rc = read_names(names_path, &ctx.names, &ctx.nnames);
        if (rc < 0) {
            fprintf(stderr, "envpool bench: %s: %s\n", names_path, strerror(-rc));
            mem_free(imp);
            return CLI_FAIL;
        }
    }
    loadgen_opts o = {
        .socket_path = socket_path, .clients = (unsigned)clients, .depth = (unsigned)depth,
        .requests = requests, .max_seconds = seconds, .warmup = warmup,
        .make_request = make_request, .ctx = &ctx, .setup_line = imp ? setup : NULL,
        .in_order = redis != 0,
    };
    loadgen_result r;
    int rc = loadgen_run(&o, &r);
    for (size_t i = 0; i < ctx.nnames; i++)
        mem_free(ctx.names[i]);
    mem_free(ctx.names);
    mem_free(imp);
    if (rc < 0) {
        fprintf(stderr, "envpool bench: %s\n", strerror(-rc));
        return CLI_FAIL;
    }
    if (json)
        printf("{\"clients\":%lu,\"depth\":%lu,\"completed\":%llu,\"errors\":%llu,\"failed_connections\":%llu,"
               "\"seconds\":%.3f,\"rps\":%.0f,\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
               "\"p999_us\":%.2f,\"max_us\":%.2f}\n",
               clients, depth, (unsigned long long)r.completed, (unsigned long long)r.errors,
               (unsigned long long)r.failed_conns, r.seconds, r.rps, r.mean_us, r.p50_us, r.p99_us,
               r.p999_us, r.max_us);
    else
        printf("%llu replies in %.2f s: %.0f req/s; latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us, "
               "max %.1f us; %llu errors, %llu failed connections\n",
               (unsigned long long)r.completed, r.seconds, r.rps, r.p50_us, r.p99_us, r.p999_us,
               r.max_us, (unsigned long long)r.errors, (unsigned long long)r.failed_conns);
    if (r.completed == 0 || r.failed_conns) {
        fprintf(stderr, "envpool bench: %s\n", r.completed ? "some connections failed" : "no replies (is the server running?)");
        return r.completed ? CLI_FAIL : CLI_UNAVAILABLE;
    }
    return CLI_OK;
}
