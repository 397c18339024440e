/*
 * bench/minimal_server.c — the baseline envpoold is measured against: a minimal
 * libuv + jansson lookup server. It does the least a JSON-RPC lookup daemon can
 * do: parse each request line with jansson, look params.name up in a hash table,
 * build the reply with jansson, write it. No pool, no limits, no statistics.
 *
 *   minimal-server SOCKET NAMES_FILE
 *
 * NAMES_FILE has one "name<TAB>type" line per entry. The reply to
 * {"method":"decl.get","params":{"name":N}} is {"jsonrpc":"2.0","id":..,
 * "result":{"name":N,"type":T}} or a -32004 error. Stops on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

typedef struct entry {
    char         *name, *type;
    struct entry *next;
} entry;

static entry **table;
static size_t  table_size;
static uv_loop_t *loop;
static uv_pipe_t server;
static uv_signal_t sigint_h, sigterm_h;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static const entry *lookup(const char *name)
{
    for (const entry *e = table[fnv1a(name) & (table_size - 1)]; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t n = 0, cap = 0;
    char *line = NULL;
    entry *all = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        entry *e = malloc(sizeof *e);
        e->name = strdup(line);
        e->type = strdup(tab + 1);
        e->next = all;
        all = e;
        n++;
    }
    free(line);
    fclose(f);
    for (table_size = 1; table_size < 2 * n + 1; table_size <<= 1)
        ;
    table = calloc(table_size, sizeof *table);
    while (all) {
        entry *e = all;
        all = e->next;
        size_t b = fnv1a(e->name) & (table_size - 1);
        e->next = table[b];
        table[b] = e;
    }
    return 0;
}

typedef struct client {
    uv_pipe_t pipe;
    char      buf[65536];
    size_t    len;
} client;

typedef struct wreq {
    uv_write_t req;
    char      *data;
} wreq;

static void on_close(uv_handle_t *h) { if (h != (uv_handle_t *)&server && h->data) free(h->data); }
static void on_written(uv_write_t *r, int status)
{
    (void)status;
    wreq *w = (wreq *)r;
    free(w->data);
    free(w);
}

static char *answer(const char *line, size_t len)
{
    json_error_t err;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err), *reply;
    if (!req)
        return strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"parse error\"}}");
    json_t *id = json_object_get(req, "id");
    const char *name = json_string_value(json_object_get(json_object_get(req, "params"), "name"));
    const entry *e = name ? lookup(name) : NULL;
    if (e)
        reply = json_pack("{s:s,s:O,s:{s:s,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                          "result", "name", e->name, "type", e->type);
    else
        reply = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                          "error", "code", -32004, "message", "declaration not found");
    char *out = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    json_decref(req);
    return out;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    client *c = h->data;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    client *c = s->data;
    if (n < 0 || (n == 0 && c->len == sizeof c->buf)) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    c->len += (size_t)n;
    size_t start = 0;
    char *nl;
    while ((nl = memchr(c->buf + start, '\n', c->len - start))) {
        size_t len = (size_t)(nl - (c->buf + start));
        char *out = answer(c->buf + start, len);
        size_t olen = strlen(out);
        wreq *w = malloc(sizeof *w);
        w->data = realloc(out, olen + 1);
        w->data[olen] = '\n';
        uv_buf_t ob = uv_buf_init(w->data, (unsigned)(olen + 1));
        uv_write(&w->req, s, &ob, 1, on_written);
        start += len + 1;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
}

static void on_conn(uv_stream_t *srv, int status)
{
    if (status < 0)
        return;
    client *c = calloc(1, sizeof *c);
    uv_pipe_init(loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->pipe) == 0)
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    else
        uv_close((uv_handle_t *)&c->pipe, on_close);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    uv_walk(loop, walk_close, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: minimal-server SOCKET NAMES_FILE\n");
        return 2;
    }
    if (load(argv[2]) < 0) {
        fprintf(stderr, "minimal-server: cannot read %s\n", argv[2]);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    unlink(argv[1]);
    uv_pipe_init(loop, &server, 0);
    server.data = NULL;
    int rc = uv_pipe_bind(&server, argv[1]);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 512, on_conn);
    if (rc < 0) {
        fprintf(stderr, "minimal-server: %s: %s\n", argv[1], uv_strerror(rc));
        return 1;
    }
    uv_signal_init(loop, &sigint_h);
    uv_signal_init(loop, &sigterm_h);
    sigint_h.data = sigterm_h.data = NULL;
    uv_signal_start(&sigint_h, on_signal, SIGINT);
    uv_signal_start(&sigterm_h, on_signal, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    unlink(argv[1]);
    return 0;
}
