/*
 * daemon/loogle.c — Loogle's JSON endpoint on the HTTP listener:
 * `GET /json?q=QUERY[&imports=A,B]`, so that an existing Loogle client
 * (editor extensions, LeanSearchClient's #loogle, scripts) can be pointed at
 * a local envpoold unchanged.
 *
 * The answer has the shape of Loogle's `/json` (nomeata/loogle, server.py
 * and Loogle.lean's toJson, read for the shape only):
 *
 *   no q, or an empty one       200 {}
 *   a result                    200 {"header", "heartbeats", "count", "hits": [{"name","type","module","doc"}]}
 *   a query Loogle would refuse 200 {"error", "heartbeats", "suggestions"?}
 *   busy                        503 {"error"} with Retry-After
 *
 * with at most LOOGLE_MAX_HITS hits, as Loogle's default --max-results.
 * Beyond Loogle: `imports=A,B` picks the environment (else --default-imports),
 * and strict input: a bad percent escape, a decoded NUL, text that is not
 * UTF-8, or q/imports given twice is 400 with a one-line JSON error.
 *
 * How it runs: each request becomes a decl.find call on one internal
 * rpc_session owned by the listener, so the import (if the environment is not
 * resident) and the search run on workers exactly as for a socket client, the
 * call is counted under decl.find, and the loop never waits. Replies come
 * back through the session's send hook, matched by request id. When the
 * daemon stops first, the exchange's cancel hook detaches the request and
 * freeing the session cancels the call.
 */
#include "daemon/daemon.h"
#include "daemon/http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

#define LOOGLE_MAX_HITS 200

typedef struct lg_req lg_req;

struct lg_req {
    loogle        *lg;
    http_exchange *x;       /* NULL once the exchange went (daemon stopping) */
    json_int_t     id;
    char          *query;   /* as sent to decl.find (for suggestions) */
    lg_req        *prev, *next;
};

struct loogle {
    server      *srv;
    rpc_session *s;
    lg_req      *pending;
    json_int_t   next_id;
};

static const char content_json[] = "application/json";
static const char cors[] = "Access-Control-Allow-Origin: *\r\n";

/* Sends obj (stolen) as the answer of x. */
static void answer(http_exchange *x, int status, json_t *obj, const char *extra)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text) {
        http_reply_text(x, 500, "text/plain; charset=utf-8", "500 out of memory\n");
        return;
    }
    char hdr[128];
    snprintf(hdr, sizeof hdr, "%s%s", cors, extra ? extra : "");
    http_reply(x, status, content_json, text, strlen(text), hdr);
}

static void answer_error(http_exchange *x, int status, const char *msg)
{
    answer(x, status, json_pack("{s:s}", "error", msg), NULL);
}

static void unlink_req(lg_req *r)
{
    loogle *lg = r->lg;
    if (r->prev)
        r->prev->next = r->next;
    else
        lg->pending = r->next;
    if (r->next)
        r->next->prev = r->prev;
    mem_free(r->query);
    mem_free(r);
}

/* Byte offset of the 1-based character column col of s, or -1. */
static long offset_of_column(const char *s, uint32_t col)
{
    uint32_t c = 1;
    size_t i = 0;
    for (; s[i] && c < col; i++)
        if (((unsigned char)s[i + 1] & 0xC0) != 0x80)
            c++;
    return c == col ? (long)i : -1;
}

/*
 * Loogle's suggestions for a name that does not resolve: the whole query
 * again with the name replaced by each candidate, and, when the filter is
 * the bare name, with it quoted (a search of names containing it).
 */
static json_t *suggestions(const char *query, const json_t *data)
{
    const char *name = json_string_value(json_object_get(data, "name"));
    const json_t *cands = json_object_get(data, "candidates");
    json_int_t col = json_integer_value(json_object_get(data, "column"));
    if (!name || col <= 0 || col > UINT32_MAX)
        return NULL;
    long off = offset_of_column(query, (uint32_t)col);
    size_t nl = strlen(name), ql = strlen(query);
    if (off < 0 || (size_t)off + nl > ql || memcmp(query + off, name, nl))
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(cands, i, v) {
        const char *cand = json_string_value(v);
        if (!cand)
            continue;
        size_t cl = strlen(cand);
        char *t = mem_alloc(ql - nl + cl + 1);
        memcpy(t, query, (size_t)off);
        memcpy(t + off, cand, cl);
        memcpy(t + off + cl, query + off + nl, ql - (size_t)off - nl + 1);
        json_array_append_new(out, json_string(t));
        mem_free(t);
    }
    size_t b = (size_t)off, e = (size_t)off + nl;
    while (b > 0 && query[b - 1] == ' ')
        b--;
    while (query[e] == ' ')
        e++;
    if ((b == 0 || query[b - 1] == ',') && (query[e] == 0 || query[e] == ',')) {
        char *t = mem_alloc(ql + 3);
        memcpy(t, query, (size_t)off);
        t[off] = '"';
        memcpy(t + off + 1, name, nl);
        t[off + 1 + nl] = '"';
        memcpy(t + off + 2 + nl, query + off + nl, ql - (size_t)off - nl + 1);
        json_t *js = json_string(t);
        if (js)
            json_array_append_new(out, js);
        mem_free(t);
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* decl.find's reply (the JSON-RPC response object) into Loogle's shape. */
static void answer_reply(lg_req *r, const json_t *reply)
{
    http_exchange *x = r->x;
    const json_t *err = json_object_get(reply, "error");
    if (err) {
        int code = (int)json_integer_value(json_object_get(err, "code"));
        const char *msg = json_string_value(json_object_get(err, "message"));
        const json_t *data = json_object_get(err, "data");
        if (!msg)
            msg = "error";
        if (code == RPC_INVALID_PARAMS && !strncmp(msg, "param 'query': ", 15))
            msg += 15;
        if (code == RPC_BUSY) {
            answer(x, 503, json_pack("{s:s}", "error", msg), "Retry-After: 5\r\n");
            return;
        }
        json_t *o = json_pack("{s:s,s:i}", "error", msg, "heartbeats", 0);
        json_t *sugg = code == RPC_INVALID_PARAMS ? suggestions(r->query, data) : NULL;
        if (sugg)
            json_object_set_new(o, "suggestions", sugg);
        answer(x, code == RPC_INTERNAL_ERROR ? 500 : 200, o, NULL);
        return;
    }
    const json_t *res = json_object_get(reply, "result");
    json_int_t count = json_integer_value(json_object_get(res, "count"));
    const char *header = json_string_value(json_object_get(res, "header"));
    char more[96] = "";
    if (count > LOOGLE_MAX_HITS)
        snprintf(more, sizeof more, "Of these, the first %d are shown.\n", LOOGLE_MAX_HITS);
    char *h = mem_alloc(strlen(header ? header : "") + strlen(more) + 1);
    strcpy(h, header ? header : "");
    strcat(h, more);
    json_t *hits = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(res, "items"), i, it) {
        json_t *type = json_object_get(it, "type"), *doc = json_object_get(it, "doc");
        json_array_append_new(hits, json_pack("{s:O,s:O,s:O,s:O}", "name", json_object_get(it, "name"), "type",
                                              type ? type : json_null(), "module", json_object_get(it, "module"),
                                              "doc", doc ? doc : json_null()));
    }
    json_t *o = json_pack("{s:s,s:i,s:I,s:o}", "header", h, "heartbeats", 0, "count", count, "hits", hits);
    mem_free(h);
    answer(x, 200, o, NULL);
}

/* rpc_session_ops.send: a reply (or a $/progress notification, dropped) of the internal session. */
static void lg_send(void *ctx, char *buf, size_t len)
{
    loogle *lg = ctx;
    json_t *msg = json_loadb(buf, len, 0, NULL);
    mem_free(buf);
    const json_t *id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        for (lg_req *r = lg->pending; r; r = r->next) {
            if (r->id != json_integer_value(id))
                continue;
            if (r->x)
                answer_reply(r, msg);
            unlink_req(r);
            break;
        }
    }
    json_decref(msg);
}

static const rpc_session_ops lg_ops = {lg_send, NULL};

loogle *loogle_new(server *srv)
{
    loogle *lg = mem_calloc(1, sizeof *lg);
    lg->srv = srv;
    lg->s = rpc_session_new(srv->rpc, &lg_ops, lg);
    return lg;
}

void loogle_free(loogle *lg)
{
    if (!lg)
        return;
    while (lg->pending)
        unlink_req(lg->pending);
    rpc_session_free(lg->s); /* cancels the calls still running: their replies are never sent */
    mem_free(lg);
}

static void lg_cancel(http_exchange *x, void *arg)
{
    (void)x;
    lg_req *r = arg;
    r->x = NULL; /* the reply, if it comes, is dropped */
}

/* Loogle's normalisation: trimmed, a leading "#find " dropped, every whitespace byte a space. */
static char *normalise(char *q)
{
    for (char *p = q; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
            *p = ' ';
    while (*q == ' ')
        q++;
    if (!strncmp(q, "#find ", 6))
        q += 6;
    while (*q == ' ')
        q++;
    size_t n = strlen(q);
    while (n && q[n - 1] == ' ')
        q[--n] = 0;
    return q;
}

/*
 * Decodes parameter name into a new string (*out, mem_free), NULL when absent.
 * 0, or answers 400 and returns -1.
 */
static int get_param(http_exchange *x, const http_request *req, const char *name, char **out)
{
    *out = NULL;
    size_t n = http_query_count(req->query, name);
    char msg[160];
    if (n > 1) {
        snprintf(msg, sizeof msg, "parameter '%s' given %zu times; give it once", name, n);
        answer_error(x, 400, msg);
        return -1;
    }
    if (n == 0)
        return 0;
    size_t cap = req->query.len + 1, len = 0;
    char *buf = mem_alloc(cap);
    int rc = http_query_param(req->query, name, buf, cap, &len);
    if (rc != 1) {
        mem_free(buf);
        snprintf(msg, sizeof msg,
                 rc == -EINVAL ? "parameter '%s': bad percent-encoding ('%%' must be followed by two hex digits, "
                                 "and %%00 is refused)"
                               : "parameter '%s' could not be decoded",
                 name);
        answer_error(x, 400, msg);
        return -1;
    }
    json_t *utf8 = json_stringn(buf, len);
    if (!utf8) {
        mem_free(buf);
        snprintf(msg, sizeof msg, "parameter '%s' is not UTF-8 once decoded", name);
        answer_error(x, 400, msg);
        return -1;
    }
    json_decref(utf8);
    *out = buf;
    return 0;
}

/* "A,B" (spaces around names allowed) into a JSON array (new), or NULL if it names no module. */
static json_t *split_imports(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    for (;;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        if (!e)
            break;
        p = e + 1;
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

void loogle_route_json(http_exchange *x, const http_request *req, server *srv, loogle *lg)
{
    char *qbuf = NULL, *ibuf = NULL;
    if (get_param(x, req, "q", &qbuf) || get_param(x, req, "imports", &ibuf)) {
        mem_free(qbuf);
        return;
    }
    char *q = qbuf ? normalise(qbuf) : NULL;
    if (!q || !*q) {
        /* Loogle answers a request without a query with an empty object. */
        mem_free(qbuf);
        mem_free(ibuf);
        answer(x, 200, json_object(), NULL);
        return;
    }
    const char *imports_text = ibuf ? ibuf : srv->cfg->default_imports[0] ? srv->cfg->default_imports : NULL;
    json_t *imports = imports_text ? split_imports(imports_text) : NULL;
    mem_free(ibuf);
    if (!imports) {
        mem_free(qbuf);
        answer_error(x, 400, "no environment: pass imports=A,B or start envpoold with --default-imports A,B");
        return;
    }
    if (json_array_size(imports) > RPC_MAX_IMPORTS) {
        mem_free(qbuf);
        json_decref(imports);
        answer_error(x, 400, "parameter 'imports' names too many modules");
        return;
    }
    if (srv->draining || !lg) {
        mem_free(qbuf);
        json_decref(imports);
        answer(x, 503, json_pack("{s:s}", "error", "envpoold is shutting down"), "Retry-After: 5\r\n");
        return;
    }
    lg_req *r = mem_calloc(1, sizeof *r);
    r->lg = lg;
    r->x = x;
    r->id = ++lg->next_id;
    r->query = mem_strdup(q);
    mem_free(qbuf);
    r->next = lg->pending;
    if (lg->pending)
        lg->pending->prev = r;
    lg->pending = r;
    json_t *call = json_pack("{s:s,s:I,s:s,s:{s:o,s:s,s:i}}", "jsonrpc", "2.0", "id", r->id, "method", "decl.find",
                             "params", "imports", imports, "query", r->query, "limit", LOOGLE_MAX_HITS);
    char *text = call ? json_dumps(call, JSON_COMPACT) : NULL;
    json_decref(call);
    if (!text) {
        unlink_req(r);
        http_reply_text(x, 500, "text/plain; charset=utf-8", "500 out of memory\n");
        return;
    }
    http_exchange_set_cancel(x, lg_cancel, r);
    /* The answer may come before this returns (a refused call); then r is gone already. */
    rpc_session_handle(lg->s, (const uint8_t *)text, strlen(text));
    mem_free(text);
}
