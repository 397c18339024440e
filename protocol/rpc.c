/*
 * protocol/rpc.c — the JSON-RPC 2.0 envelope: parse, dispatch, answer.
 *
 * A frame is checked for nesting depth (linear scan, RPC_MAX_DEPTH) and then
 * parsed with jansson (duplicate keys refused). An object is one request or
 * notification; an array is a batch, answered by one array once every element
 * has been answered. Each request becomes an rpc_call that a method handler
 * answers exactly once — before returning, or later from the loop thread (a
 * "pending" call, e.g. waiting for an import on a worker thread). Pending calls
 * are kept on their session's list so that $/cancelRequest can find them by id
 * and so that closing the session can detach them (through their cancel hook)
 * before anything is freed.
 *
 * Errors follow DESIGN.md §4. A bad frame is answered and never affects the
 * session otherwise; framing errors are the host's business (frame.c).
 */
#include "protocol/protocol_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/mem.h"

struct rpc_server {
    rpc_method      methods[STATS_MAX_METHODS];
    int             stat_index[STATS_MAX_METHODS];
    size_t          nmethods;
    stats           st;
    rpc_server_info info;
    uint64_t        started_us;
    rpc_fast_cb     fast;       /* tried before parsing (fastpath.c); NULL: none */
    void           *fast_udata;
    int             fast_mi;    /* stats row of the fast path's method */
};

typedef struct rpc_batch {
    json_t *replies;      /* array; json_null() placeholders for notifications */
    size_t  outstanding;  /* elements not answered yet (+1 while dispatching) */
} rpc_batch;

struct rpc_session {
    rpc_server     *srv;
    rpc_session_ops ops;
    void           *ctx;
    void           *data;
    void          (*data_free)(void *data);
    enum frame_mode mode;
    rpc_call       *pending;   /* doubly-linked list of pending calls */
    size_t          inflight;
    bool            closing;   /* in rpc_session_free: send nothing */
};

struct rpc_call {
    rpc_session  *s;
    rpc_batch    *batch;       /* NULL unless part of a batch */
    size_t        batch_index;
    json_t       *id;          /* new reference; NULL for a notification */
    const char   *method;      /* borrowed from the method table */
    int           mi;          /* stats row, -1 for unknown */
    uint64_t      start_us;
    bool          in_handler;  /* the handler has not returned yet */
    bool          answered;
    bool          pending;     /* on the session's list */
    rpc_cancel_cb cancel;
    void         *cancel_arg;
    rpc_call     *prev, *next;
};

/* ---- allocator and depth ----------------------------------------------- */

static void *rpc_json_malloc(size_t n)
{
    return mem_try_alloc(n);
}

void rpc_global_init(void)
{
    json_set_alloc_funcs(rpc_json_malloc, mem_free);
}

bool rpc_depth_ok(const uint8_t *buf, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

uint64_t rpc__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- server ------------------------------------------------------------ */

static int cancel_request(rpc_call *call, json_t *params, void *udata);

rpc_server *rpc_server_new(const rpc_server_info *info)
{
    rpc_global_init();
    rpc_server *srv = mem_calloc(1, sizeof *srv);
    stats_init(&srv->st);
    srv->info = *info;
    srv->started_us = rpc__now_us();
    rpc__add_builtin_methods(srv);
    rpc_method cancel = {"$/cancelRequest", cancel_request, NULL, "id"};
    int added = rpc_server_add(srv, &cancel);
    ENVPOOL_INVARIANT(added >= 0, "the table is far larger than the built-in methods");
    return srv;
}

void rpc_server_free(rpc_server *srv)
{
    mem_free(srv);
}

int rpc_server_add(rpc_server *srv, const rpc_method *m)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        if (!strcmp(srv->methods[i].name, m->name)) {
            srv->methods[i] = *m;
            return 0;
        }
    }
    if (srv->nmethods == STATS_MAX_METHODS)
        return -ENOSPC;
    int si = stats_method_index(&srv->st, m->name);
    if (si < 0)
        return si;
    srv->methods[srv->nmethods] = *m;
    srv->stat_index[srv->nmethods] = si;
    srv->nmethods++;
    return 0;
}

int rpc__server_set_fast(rpc_server *srv, const char *method, rpc_fast_cb cb, void *udata)
{
    int si = stats_method_index(&srv->st, method);
    if (si < 0)
        return si;
    srv->fast = cb;
    srv->fast_udata = udata;
    srv->fast_mi = si;
    return 0;
}

stats *rpc_server_stats(rpc_server *srv)
{
    return &srv->st;
}

const rpc_server_info *rpc__server_info(const rpc_server *srv)
{
    return &srv->info;
}

uint64_t rpc__server_started_us(const rpc_server *srv)
{
    return srv->started_us;
}

size_t rpc__method_names(const rpc_server *srv, const char **names, size_t max)
{
    size_t n = srv->nmethods < max ? srv->nmethods : max;
    for (size_t i = 0; i < n; i++)
        names[i] = srv->methods[i].name;
    return n;
}

/* ---- session ----------------------------------------------------------- */

rpc_session *rpc_session_new(rpc_server *srv, const rpc_session_ops *ops, void *ctx)
{
    rpc_session *s = mem_calloc(1, sizeof *s);
    s->srv = srv;
    s->ops = *ops;
    s->ctx = ctx;
    s->mode = FRAME_LINES;
    return s;
}

void rpc_session_set_mode(rpc_session *s, enum frame_mode mode)
{
    s->mode = mode == FRAME_LSP ? FRAME_LSP : FRAME_LINES;
}

void rpc_session_set_data(rpc_session *s, void *data, void (*free_cb)(void *data))
{
    s->data = data;
    s->data_free = free_cb;
}

void *rpc_session_data(const rpc_session *s)
{
    return s->data;
}

size_t rpc_session_inflight(const rpc_session *s)
{
    return s->inflight;
}

static void send_json(rpc_session *s, json_t *msg)
{
    if (!s->closing && msg) {
        char *buf;
        size_t len;
        if (frame_encode(s->mode, msg, &buf, &len) == 0) {
            s->srv->st.server.bytes_out += len;
            s->ops.send(s->ctx, buf, len);
        }
    }
    json_decref(msg);
}

static json_t *error_object(int code, const char *message, json_t *data)
{
    json_t *e = json_pack("{s:i,s:s}", "code", code, "message", message);
    if (e && data)
        json_object_set_new(e, "data", data);
    else
        json_decref(data);
    return e;
}

static json_t *response(json_t *id, const char *key, json_t *value)
{
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    json_object_set_new(r, key, value ? value : json_null());
    return r;
}

void rpc_session_send_error(rpc_session *s, int code, const char *message, json_t *data)
{
    if (code == RPC_PARSE_ERROR)
        s->srv->st.server.parse_errors++;
    else if (code == RPC_INVALID_REQUEST)
        s->srv->st.server.invalid_requests++;
    send_json(s, response(NULL, "error", error_object(code, message, data)));
}

void rpc_session_notify(rpc_session *s, const char *method, json_t *params)
{
    json_t *n = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
    if (n && params)
        json_object_set_new(n, "params", params);
    else
        json_decref(params);
    send_json(s, n);
}

/* ---- calls ------------------------------------------------------------- */

rpc_session *rpc_call_session(const rpc_call *c) { return c->s; }
const char *rpc_call_method(const rpc_call *c) { return c->method; }
const json_t *rpc_call_id(const rpc_call *c) { return c->id; }
rpc_server *rpc_call_server(const rpc_call *c) { return c->s->srv; }

void rpc_call_set_cancel(rpc_call *c, rpc_cancel_cb cb, void *arg)
{
    c->cancel = cb;
    c->cancel_arg = arg;
}

static void unlink_pending(rpc_call *c)
{
    rpc_session *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->pending = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->pending = false;
    s->inflight--;
}

static void batch_done(rpc_session *s, rpc_batch *b)
{
    json_t *out = json_array();
    size_t n = json_array_size(b->replies);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(b->replies, i);
        if (json_is_object(r))
            json_array_append(out, r);
    }
    json_decref(b->replies);
    mem_free(b);
    if (json_array_size(out) == 0) {
        json_decref(out); /* only notifications: no reply at all */
        return;
    }
    send_json(s, out);
}

static void call_free(rpc_call *c)
{
    json_decref(c->id);
    mem_free(c);
}

/*
 * The reply to a request could not be built (jansson allocates through
 * mem_try_alloc and returned NULL): answer -32006 from stack buffers, so that
 * every request is still answered once. Best effort: framing needs one buffer.
 */
static void send_oom_error(rpc_session *s, const json_t *id)
{
    char idnum[32] = "null";
    if (json_is_integer(id))
        snprintf(idnum, sizeof idnum, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":",
        tail[] = ",\"error\":{\"code\":-32006,\"message\":\"out of memory\",\"data\":{\"retry_after_ms\":1000}}}";
    const char *parts[] = {head, idnum, tail};
    const size_t lens[] = {sizeof head - 1, strlen(idnum), sizeof tail - 1};
    char *buf;
    size_t n;
    if (!s->closing && frame_encode_text(s->mode, parts, lens, 3, &buf, &n) == 0) {
        s->srv->st.server.bytes_out += n;
        s->ops.send(s->ctx, buf, n);
    }
}

/* Marks the call answered and records its latency and outcome. */
static void finish_mark(rpc_call *c, int code)
{
    rpc_session *s = c->s;
    /* Answering twice is a bug in a handler. */
    ENVPOOL_INVARIANT(!c->answered, "call of %s answered twice", c->method);
    c->answered = true;
    stats_record(&s->srv->st, c->mi, rpc__now_us() - c->start_us, code);
}

/* Frees an answered call unless its handler is still running. */
static void finish_release(rpc_call *c)
{
    rpc_session *s = c->s;
    if (c->in_handler)
        return;
    bool was_pending = c->pending;
    if (was_pending)
        unlink_pending(c);
    call_free(c);
    if (was_pending && s->ops.call_done && !s->closing)
        s->ops.call_done(s->ctx);
}

/* Delivers a reply (stolen; NULL for none) and frees the call unless its handler runs. */
static void finish(rpc_call *c, json_t *reply, int code)
{
    rpc_session *s = c->s;
    finish_mark(c, code);
    if (!c->id) {
        json_decref(reply); /* notifications get no reply */
        reply = NULL;
    }
    if (c->batch) {
        rpc_batch *b = c->batch;
        if (reply)
            json_array_set_new(b->replies, c->batch_index, reply);
        if (--b->outstanding == 0)
            batch_done(s, b);
    } else if (reply) {
        send_json(s, reply);
    } else if (c->id) {
        send_oom_error(s, c->id);
    }
    finish_release(c);
}

void rpc_call_result(rpc_call *c, json_t *result)
{
    finish(c, response(c->id, "result", result), 0);
}

/* Frames and sends {"jsonrpc":"2.0","id":ID,"result":TEXT} from JSON texts. */
static void send_result_text(rpc_session *s, const char *id, size_t id_len, const char *text, size_t len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":", mid[] = ",\"result\":", tail[] = "}";
    const char *parts[] = {head, id, mid, text, tail};
    const size_t lens[] = {sizeof head - 1, id_len, sizeof mid - 1, len, sizeof tail - 1};
    char *buf;
    size_t n;
    if (frame_encode_text(s->mode, parts, lens, 5, &buf, &n) == 0) {
        s->srv->st.server.bytes_out += n;
        s->ops.send(s->ctx, buf, n);
    }
}

void rpc_call_result_text(rpc_call *c, const char *text, size_t len)
{
    rpc_session *s = c->s;
    if (c->batch || !c->id) {
        /* Rare paths keep the general machinery: batches collect json_t replies. */
        json_t *r = json_loadb(text, len, 0, NULL);
        if (r)
            rpc_call_result(c, r);
        else
            rpc_call_error(c, RPC_INTERNAL_ERROR, "internal error: unreadable cached result", NULL);
        return;
    }
    finish_mark(c, 0);
    if (!s->closing) {
        char idnum[32];
        char *idtext = NULL;
        const char *id = idnum;
        size_t idlen;
        if (json_is_integer(c->id)) {
            idlen = (size_t)snprintf(idnum, sizeof idnum, "%" JSON_INTEGER_FORMAT, json_integer_value(c->id));
        } else {
            idtext = json_dumps(c->id, JSON_COMPACT | JSON_ENCODE_ANY);
            id = idtext ? idtext : "null";
            idlen = strlen(id);
        }
        send_result_text(s, id, idlen, text, len);
        if (idtext)
            mem_free(idtext); /* jansson allocates through mem_alloc (rpc_global_init) */
    }
    finish_release(c);
}

void rpc__session_fast_result(rpc_session *s, uint64_t start_us, const char *id, size_t id_len,
                              const char *result, size_t len)
{
    stats_record(&s->srv->st, s->srv->fast_mi, rpc__now_us() - start_us, 0);
    if (!s->closing)
        send_result_text(s, id, id_len, result, len);
}

void rpc_call_error(rpc_call *c, int code, const char *message, json_t *data)
{
    finish(c, response(c->id, "error", error_object(code, message, data)), code);
}

void rpc_call_errorf(rpc_call *c, int code, json_t *data, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rpc_call_error(c, code, msg, data);
}

void rpc_call_progress(rpc_call *c, uint64_t loaded, uint64_t total)
{
    if (!c->id)
        return;
    rpc_session_notify(c->s, "$/progress",
                       json_pack("{s:O,s:I,s:I}", "id", c->id, "loaded", (json_int_t)loaded,
                                 "total", (json_int_t)total));
}

/* Detaches a pending call from its handler; answers it -32800 unless closing. */
static void cancel_call(rpc_call *c)
{
    c->cancel(c, c->cancel_arg);
    if (c->s->closing) {
        stats_record(&c->s->srv->st, c->mi, rpc__now_us() - c->start_us, RPC_CANCELLED);
        c->answered = true;
        unlink_pending(c);
        call_free(c);
        return;
    }
    rpc_call_error(c, RPC_CANCELLED, "request cancelled", NULL);
}

static int cancel_request(rpc_call *call, json_t *params, void *udata)
{
    (void)udata;
    json_t *id = json_object_get(params, "id");
    if (!id || !(json_is_string(id) || json_is_integer(id))) {
        rpc_call_error(call, RPC_INVALID_PARAMS, "param 'id': must be a string or an integer", NULL);
        return -EINVAL;
    }
    for (rpc_call *c = call->s->pending; c; c = c->next) {
        if (c->id && json_equal(c->id, id)) {
            cancel_call(c);
            break;
        }
    }
    /* Not found: it has already been answered (LSP allows that); nothing to do. */
    rpc_call_result(call, json_null());
    return 0;
}

void rpc_session_free(rpc_session *s)
{
    if (!s)
        return;
    s->closing = true;
    while (s->pending) {
        rpc_call *c = s->pending;
        rpc_batch *b = c->batch;
        cancel_call(c);
        if (b && --b->outstanding == 0)
            batch_done(s, b);
    }
    if (s->data_free)
        s->data_free(s->data);
    mem_free(s);
}

/* ---- dispatch ---------------------------------------------------------- */

static const rpc_method *find_method(rpc_server *srv, const char *name, int *si)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        if (!strcmp(srv->methods[i].name, name)) {
            *si = srv->stat_index[i];
            return &srv->methods[i];
        }
    }
    *si = -1;
    return NULL;
}

/* Is name one of the comma-separated list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !memcmp(p, name, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* Answers an envelope error for one element (or the whole frame). */
static void envelope_error(rpc_session *s, rpc_batch *b, size_t idx, json_t *id, int code,
                           const char *msg)
{
    if (code == RPC_INVALID_REQUEST)
        s->srv->st.server.invalid_requests++;
    json_t *r = response(id, "error", error_object(code, msg, NULL));
    if (b)
        json_array_set_new(b->replies, idx, r);
    else
        send_json(s, r);
}

static bool valid_id(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

static void dispatch_one(rpc_session *s, json_t *req, rpc_batch *b, size_t idx)
{
    rpc_server *srv = s->srv;
    if (!json_is_object(req)) {
        envelope_error(s, b, idx, NULL, RPC_INVALID_REQUEST, "invalid request: expected an object");
        return;
    }
    json_t *id = json_object_get(req, "id");
    if (id && !valid_id(id)) {
        envelope_error(s, b, idx, NULL, RPC_INVALID_REQUEST,
                       "invalid request: 'id' must be a string, an integer or null");
        return;
    }
    json_t *ver = json_object_get(req, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0")) {
        envelope_error(s, b, idx, id, RPC_INVALID_REQUEST, "invalid request: 'jsonrpc' must be \"2.0\"");
        return;
    }
    json_t *jm = json_object_get(req, "method");
    if (!json_is_string(jm)) {
        envelope_error(s, b, idx, id, RPC_INVALID_REQUEST, "invalid request: 'method' must be a string");
        return;
    }
    json_t *params = json_object_get(req, "params");
    if (params && !json_is_object(params)) {
        /* Positional params are not used by any method: say so precisely. */
        if (json_is_array(params))
            envelope_error(s, b, idx, id, RPC_INVALID_PARAMS,
                           "invalid params: 'params' must be an object (named parameters)");
        else
            envelope_error(s, b, idx, id, RPC_INVALID_REQUEST,
                           "invalid request: 'params' must be an object");
        return;
    }
    const char *name = json_string_value(jm);
    int si;
    const rpc_method *m = find_method(srv, name, &si);

    rpc_call *c = mem_calloc(1, sizeof *c);
    c->s = s;
    c->batch = b;
    c->batch_index = idx;
    c->id = id ? json_incref(id) : NULL;
    c->method = m ? m->name : "(unknown)";
    c->mi = si;
    c->start_us = rpc__now_us();
    if (b)
        b->outstanding++;
    if (!m) {
        rpc_call_errorf(c, RPC_METHOD_NOT_FOUND, NULL, "unknown method '%.64s'", name);
        return;
    }
    json_t *own = params ? json_incref(params) : json_object();
    /* Unknown parameter names are refused: a typo must not be silently ignored. */
    const char *key;
    json_t *val;
    json_object_foreach(own, key, val) {
        if (!in_list(m->params, key)) {
            json_t *data = json_pack("{s:s}", "param", key);
            if (m->params)
                rpc_call_errorf(c, RPC_INVALID_PARAMS, data, "param '%.64s': unknown (accepted: %s)",
                                key, m->params);
            else
                rpc_call_errorf(c, RPC_INVALID_PARAMS, data, "param '%.64s': unknown (%s takes no params)",
                                key, m->name);
            json_decref(own);
            return;
        }
    }
    c->in_handler = true;
    int rc = m->cb(c, own, m->udata);
    if (!c->answered && rc == -ENOMEM)
        rpc_call_error(c, RPC_BUSY, "out of memory", json_pack("{s:i}", "retry_after_ms", 1000));
    else if (!c->answered && rc < 0)
        rpc_call_error(c, RPC_INTERNAL_ERROR, "internal error", NULL);
    c->in_handler = false;
    json_decref(own);
    if (c->answered) {
        call_free(c);
        return;
    }
    /* A pending call that nobody can detach would dangle at session close. */
    ENVPOOL_INVARIANT(c->cancel, "%s left a call pending without a cancel hook", c->method);
    c->pending = true;
    c->next = s->pending;
    if (s->pending)
        s->pending->prev = c;
    s->pending = c;
    s->inflight++;
}

void rpc_session_handle(rpc_session *s, const uint8_t *frame, size_t len)
{
    stats *st = &s->srv->st;
    st->server.frames_in++;
    if (s->srv->fast && !s->closing && s->srv->fast(s->srv->fast_udata, s, frame, len))
        return;
    if (!rpc_depth_ok(frame, len, RPC_MAX_DEPTH)) {
        char msg[80];
        snprintf(msg, sizeof msg, "parse error: nesting deeper than %d", RPC_MAX_DEPTH);
        rpc_session_send_error(s, RPC_PARSE_ERROR, msg, NULL);
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)frame, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc) {
        char msg[256];
        snprintf(msg, sizeof msg, "parse error at byte %d: %s", jerr.position, jerr.text);
        rpc_session_send_error(s, RPC_PARSE_ERROR, msg, NULL);
        return;
    }
    if (!json_is_array(doc)) {
        dispatch_one(s, doc, NULL, 0);
        json_decref(doc);
        return;
    }
    size_t n = json_array_size(doc);
    if (n == 0) {
        rpc_session_send_error(s, RPC_INVALID_REQUEST, "invalid request: empty batch", NULL);
    } else if (n > RPC_MAX_BATCH) {
        char msg[80];
        st->server.batch_too_large++;
        snprintf(msg, sizeof msg, "invalid request: batch of %zu elements (at most %d)", n, RPC_MAX_BATCH);
        rpc_session_send_error(s, RPC_INVALID_REQUEST, msg, NULL);
    } else {
        rpc_batch *b = mem_calloc(1, sizeof *b);
        b->replies = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(b->replies, json_null());
        b->outstanding = 1; /* held while dispatching */
        for (size_t i = 0; i < n; i++)
            dispatch_one(s, json_array_get(doc, i), b, i);
        if (--b->outstanding == 0)
            batch_done(s, b);
    }
    json_decref(doc);
}

/* ---- parameter checks -------------------------------------------------- */

static int bad_param(rpc_call *c, const char *name, const char *why)
{
    rpc_call_errorf(c, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", name), "param '%s': %s", name, why);
    return -EINVAL;
}

static json_t *get_param(json_t *params, const char *name)
{
    json_t *v = json_object_get(params, name);
    return json_is_null(v) ? NULL : v;
}

int rpc_param_string(rpc_call *c, json_t *params, const char *name, bool required, const char **out)
{
    json_t *v = get_param(params, name);
    if (!v)
        return required ? bad_param(c, name, "required") : 0;
    if (!json_is_string(v))
        return bad_param(c, name, "must be a string");
    if (json_string_length(v) == 0)
        return bad_param(c, name, "must not be empty");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad_param(c, name, "must not contain NUL");
    *out = json_string_value(v);
    return 0;
}

int rpc_param_int(rpc_call *c, json_t *params, const char *name, bool required, int64_t min, int64_t max,
                  int64_t def, int64_t *out)
{
    json_t *v = get_param(params, name);
    if (!v) {
        if (required)
            return bad_param(c, name, "required");
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char why[96];
        snprintf(why, sizeof why, "must be an integer in %lld..%lld", (long long)min, (long long)max);
        return bad_param(c, name, why);
    }
    *out = json_integer_value(v);
    return 0;
}

int rpc_param_bool(rpc_call *c, json_t *params, const char *name, bool def, bool *out)
{
    json_t *v = get_param(params, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return bad_param(c, name, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

int rpc_param_enum(rpc_call *c, json_t *params, const char *name, const char *const *choices, int def,
                   int *out)
{
    json_t *v = get_param(params, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (json_is_string(v)) {
        for (int i = 0; choices[i]; i++) {
            if (!strcmp(json_string_value(v), choices[i])) {
                *out = i;
                return 0;
            }
        }
    }
    char why[256] = "must be one of";
    size_t l = strlen(why);
    for (int i = 0; choices[i] && l < sizeof why; i++) {
        int n = snprintf(why + l, sizeof why - l, "%s \"%s\"", i ? "," : "", choices[i]);
        if (n < 0)
            break;
        l += (size_t)n;
    }
    return bad_param(c, name, why);
}

int rpc_param_strings(rpc_call *c, json_t *params, const char *name, bool required, size_t max_items,
                      json_t **out)
{
    json_t *v = get_param(params, name);
    if (!v) {
        *out = NULL;
        return required ? bad_param(c, name, "required") : 0;
    }
    if (!json_is_array(v))
        return bad_param(c, name, "must be an array of strings");
    size_t n = json_array_size(v);
    if (n == 0)
        return bad_param(c, name, "must not be empty");
    if (n > max_items) {
        char why[64];
        snprintf(why, sizeof why, "at most %zu items", max_items);
        return bad_param(c, name, why);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            strlen(json_string_value(e)) != json_string_length(e)) {
            char why[80];
            snprintf(why, sizeof why, "item %zu must be a non-empty string", i);
            return bad_param(c, name, why);
        }
    }
    *out = v;
    return 0;
}
