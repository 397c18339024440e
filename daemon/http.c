/*
 * daemon/http.c — the HTTP listener: accept, read one request head, route,
 * answer, close.
 *
 * Each TCP connection carries one exchange (a request and its answer, then
 * `Connection: close`): Prometheus and curl are content with that, and it
 * leaves no keep-alive or pipelining state for a client to abuse. Life of a
 * connection, every step bounded:
 *
 *   READING  the head accumulates in a fixed HTTP_MAX_HEAD buffer; it is
 *            parsed only when a read brings a new '\n' (so a client dribbling
 *            bytes costs O(lines), not O(bytes²)). --http-timeout from accept
 *            to a complete head, else 408.
 *   PENDING  a route answers later (/json: decl.find on a worker); reading
 *            is off. Only http_stop ends it early, through the cancel hook.
 *   WRITING  one uv_write of head + body; --http-timeout for it.
 *   LINGER   after the write, shutdown(SHUT_WR) and read until the client's
 *            EOF, discarding (at most HTTP_LINGER_BYTES, within
 *            HTTP_LINGER_MS): closing with unread input would send a reset
 *            that can destroy the answer in flight.
 *
 * At most HTTP_MAX_CONNS connections exist at once; one over the limit is
 * closed at accept and counted. /healthz answers 200 while serving and 503
 * once the daemon drains (the HTTP listener stays up until the daemon stops,
 * so a load balancer sees the 503).
 */
#include "daemon/daemon.h"
#include "daemon/http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

#define HTTP_LINGER_MS    2000
#define HTTP_LINGER_BYTES (64u * 1024u)
#define HTTP_HEAD_ROOM    1024

static void route_metrics(http_exchange *x, const http_request *req, server *srv);
static void route_healthz(http_exchange *x, const http_request *req, server *srv);
static void route_json(http_exchange *x, const http_request *req, server *srv);

/* The route table: one row per path (GET and HEAD; OPTIONS where cors is set; anything else is 405). */
static const http_route routes[] = {
    {"/metrics", route_metrics, false},
    {"/healthz", route_healthz, false},
    {"/json", route_json, true},
};

enum hstate { HS_READING, HS_PENDING, HS_WRITING, HS_LINGER };

struct http_exchange {
    uv_tcp_t       tcp;
    uv_timer_t     timer;
    uv_write_t     wr;
    uv_shutdown_t  shut;
    http_server   *hs;
    enum hstate    state;
    bool           closing;
    bool           head_only;     /* HEAD: no body */
    int            open_handles;
    uint64_t       id;
    http_cancel_cb cancel;
    void          *cancel_arg;
    http_request   req;
    size_t         len;           /* bytes in buf */
    size_t         discarded;     /* LINGER: bytes read and dropped */
    char          *body;          /* mem_*; freed after the write */
    char           head[HTTP_HEAD_ROOM];
    char           buf[HTTP_MAX_HEAD];
    http_exchange *prev, *next;
};

struct http_server {
    server        *srv;
    uv_tcp_t       listener;
    bool           listening;     /* listener open (its close callback frees hs once no conn is left) */
    bool           stopped;       /* http_stop ran */
    bool           full_logged;   /* the HTTP_MAX_CONNS warning was logged since the last drop below it */
    http_exchange *conns;
    size_t         nconns;
    uint64_t       next_id;
    char           addr[96];      /* as bound, for logs */
    loogle        *lg;            /* GET /json (daemon/loogle.c) */
};

/* ---- lifetime ----------------------------------------------------------- */

/* hs goes when the listener and every connection have closed, in whatever order libuv runs their callbacks. */
static void maybe_free_server(http_server *hs)
{
    if (hs->stopped && !hs->listening && hs->nconns == 0)
        mem_free(hs);
}

static void on_close(uv_handle_t *h)
{
    http_exchange *x = h->data;
    if (--x->open_handles > 0)
        return;
    http_server *hs = x->hs;
    if (x->prev)
        x->prev->next = x->next;
    else
        hs->conns = x->next;
    if (x->next)
        x->next->prev = x->prev;
    if (--hs->nconns < HTTP_MAX_CONNS / 2)
        hs->full_logged = false;
    mem_free(x->body);
    mem_free(x);
    maybe_free_server(hs);
}

static void xclose(http_exchange *x, const char *why)
{
    if (x->closing)
        return;
    x->closing = true;
    log_msg(LOG_DEBUG, "http %" PRIu64 " closed: %s", x->id, why);
    if (x->state == HS_PENDING && x->cancel) {
        http_cancel_cb cb = x->cancel;
        x->cancel = NULL;
        cb(x, x->cancel_arg);
    }
    uv_close((uv_handle_t *)&x->tcp, on_close);
    uv_close((uv_handle_t *)&x->timer, on_close);
}

static void on_timeout(uv_timer_t *t)
{
    http_exchange *x = t->data;
    stats_server *st = &x->hs->srv->st->server;
    if (x->state == HS_READING) {
        st->http_timeouts++;
        log_msg(LOG_DEBUG, "http %" PRIu64 ": no complete request within --http-timeout", x->id);
        http_reply_text(x, 408, "text/plain; charset=utf-8", "408 Request Timeout: no complete request head in time\n");
        return;
    }
    if (x->state == HS_WRITING)
        st->http_timeouts++;
    xclose(x, x->state == HS_WRITING ? "answer not read within --http-timeout" : "linger over");
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    http_exchange *x = h->data;
    if (x->state == HS_LINGER) {
        /* Discarded bytes: the head buffer is free again once the answer is out. */
        b->base = x->buf;
        b->len = sizeof x->buf;
        return;
    }
    b->base = x->buf + x->len;
    b->len = sizeof x->buf - x->len;
}

static void dispatch(http_exchange *x);

static void refuse(http_exchange *x, int status)
{
    x->hs->srv->st->server.http_bad_requests++;
    char text[96];
    snprintf(text, sizeof text, "%d %s\n", status, http_reason(status));
    http_reply_text(x, status, "text/plain; charset=utf-8", text);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    http_exchange *x = s->data;
    if (x->closing)
        return;
    if (n < 0) {
        if (x->state == HS_LINGER || n == UV_EOF)
            xclose(x, n == UV_EOF ? "peer closed" : "read error");
        else
            xclose(x, "read error");
        return;
    }
    if (n == 0)
        return;
    x->hs->srv->st->server.http_bytes_in += (uint64_t)n;
    envs_input(x->hs->srv->envs);
    if (x->state == HS_LINGER) {
        x->discarded += (size_t)n;
        if (x->discarded > HTTP_LINGER_BYTES)
            xclose(x, "client kept sending after the answer");
        return;
    }
    if (x->state != HS_READING)
        return;
    size_t old = x->len;
    x->len += (size_t)n;
    if (!memchr(x->buf + old, '\n', (size_t)n) && x->len < sizeof x->buf)
        return; /* no new line ended: the verdict cannot have changed */
    int rc = http_parse_request((const uint8_t *)x->buf, x->len, &x->req);
    if (rc == 0)
        return;
    uv_read_stop((uv_stream_t *)&x->tcp);
    if (rc < 0)
        refuse(x, -rc);
    else
        dispatch(x);
}

/* ---- routing ------------------------------------------------------------ */

static void dispatch(http_exchange *x)
{
    server *srv = x->hs->srv;
    const http_request *req = &x->req;
    x->head_only = req->method == HTTP_HEAD;
    srv->st->server.http_requests++;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!http_span_eq(req->path, routes[i].path))
            continue;
        if (routes[i].cors && http_span_eq(req->method_text, "OPTIONS")) {
            /* a browser's preflight before a GET with a custom header (X-Loogle-Client) */
            http_reply(x, 200, NULL, NULL, 0,
                       "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: GET, HEAD\r\n"
                       "Access-Control-Allow-Headers: User-Agent, X-Loogle-Client\r\n");
            return;
        }
        if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
            static const char text[] = "405 Method Not Allowed\n";
            http_reply(x, 405, "text/plain; charset=utf-8", mem_strdup(text), sizeof text - 1,
                       routes[i].cors ? "Allow: GET, HEAD, OPTIONS\r\n" : "Allow: GET, HEAD\r\n");
            return;
        }
        x->state = HS_PENDING;
        uv_timer_stop(&x->timer);
        routes[i].cb(x, req, srv);
        if (x->state == HS_PENDING && !x->cancel) {
            log_msg(LOG_ERROR, "http route %s neither answered nor installed a cancel hook", routes[i].path);
            http_reply_text(x, 500, "text/plain; charset=utf-8", "500 Internal Server Error\n");
        }
        return;
    }
    http_reply_text(x, 404, "text/plain; charset=utf-8", "404 Not Found\n");
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    http_exchange *x = r->data;
    if (x->closing)
        return;
    if (status < 0) {
        xclose(x, "shutdown failed");
        return;
    }
    x->state = HS_LINGER;
    uv_timer_start(&x->timer, on_timeout, HTTP_LINGER_MS, 0);
    if (uv_read_start((uv_stream_t *)&x->tcp, on_alloc, on_read) < 0)
        xclose(x, "cannot read");
}

static void on_write(uv_write_t *r, int status)
{
    http_exchange *x = r->data;
    mem_free(x->body);
    x->body = NULL;
    if (x->closing)
        return;
    if (status < 0) {
        xclose(x, "write failed");
        return;
    }
    x->shut.data = x;
    if (uv_shutdown(&x->shut, (uv_stream_t *)&x->tcp, on_shutdown) < 0)
        xclose(x, "shutdown failed");
}

void http_reply(http_exchange *x, int status, const char *content_type, char *body, size_t len,
                const char *extra)
{
    if (x->closing || (x->state != HS_READING && x->state != HS_PENDING)) {
        mem_free(body);
        return;
    }
    if (status < 100 || status > 599)
        status = 500;
    stats_server *st = &x->hs->srv->st->server;
    if (status < 300)
        st->http_responses_2xx++;
    else if (status < 500)
        st->http_responses_4xx++;
    else
        st->http_responses_5xx++;
    x->cancel = NULL;
    int hl = http_format_head(x->head, sizeof x->head, status, content_type, len, extra);
    if (hl < 0 || len > UINT32_MAX) {
        mem_free(body);
        xclose(x, "answer head too large");
        return;
    }
    x->body = body;
    uv_buf_t bufs[2] = {uv_buf_init(x->head, (unsigned)hl), uv_buf_init(body, (unsigned)len)};
    unsigned nb = (x->head_only || !body || !len) ? 1 : 2;
    x->state = HS_WRITING;
    uv_read_stop((uv_stream_t *)&x->tcp);
    uv_timer_start(&x->timer, on_timeout, x->hs->srv->cfg->http_timeout_ms, 0);
    x->wr.data = x;
    st->http_bytes_out += (uint64_t)hl + (nb == 2 ? len : 0);
    if (uv_write(&x->wr, (uv_stream_t *)&x->tcp, bufs, nb, on_write) < 0) {
        mem_free(x->body);
        x->body = NULL;
        xclose(x, "write failed");
    }
}

void http_reply_text(http_exchange *x, int status, const char *content_type, const char *text)
{
    size_t n = strlen(text);
    char *b = mem_try_alloc(n ? n : 1);
    if (!b) {
        xclose(x, "out of memory");
        return;
    }
    memcpy(b, text, n);
    http_reply(x, status, content_type, b, n, NULL);
}

void http_exchange_set_cancel(http_exchange *x, http_cancel_cb cb, void *arg)
{
    x->cancel = cb;
    x->cancel_arg = arg;
}

/* ---- built-in routes ---------------------------------------------------- */

static void route_healthz(http_exchange *x, const http_request *req, server *srv)
{
    (void)req;
    if (srv->draining)
        http_reply_text(x, 503, "text/plain; charset=utf-8", "draining\n");
    else
        http_reply_text(x, 200, "text/plain; charset=utf-8", "ok\n");
}

static void route_metrics(http_exchange *x, const http_request *req, server *srv)
{
    (void)req;
    pool_stats ps;
    bool have_pool = envs_pool_stats(srv->envs, &ps) == 0;
    char *text = NULL;
    size_t len = 0;
    if (stats_to_prometheus(srv->st, have_pool ? &ps : NULL, &text, &len) < 0) {
        http_reply_text(x, 500, "text/plain; charset=utf-8", "500 out of memory rendering metrics\n");
        return;
    }
    http_reply(x, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL);
}

static void route_json(http_exchange *x, const http_request *req, server *srv)
{
    loogle_route_json(x, req, srv, srv->http ? srv->http->lg : NULL);
}

/* ---- listener ----------------------------------------------------------- */

static void on_reject_close(uv_handle_t *h)
{
    mem_free(h->data);
}

static void on_connection(uv_stream_t *l, int status)
{
    http_server *hs = l->data;
    server *srv = hs->srv;
    if (status < 0) {
        log_msg(LOG_WARN, "http listener: %s", uv_strerror(status));
        return;
    }
    if (srv->stopping)
        return;
    http_exchange *x = mem_calloc(1, sizeof *x);
    uv_tcp_init(srv->loop, &x->tcp);
    x->tcp.data = x;
    if (uv_accept(l, (uv_stream_t *)&x->tcp) < 0 || hs->nconns >= HTTP_MAX_CONNS) {
        if (hs->nconns >= HTTP_MAX_CONNS) {
            srv->st->server.http_refused++;
            if (!hs->full_logged) /* once per episode: a flood must not flood the log too */
                log_msg(LOG_WARN, "http: %d connections open; refusing more (counted in envpool_http_refused_total)",
                        HTTP_MAX_CONNS);
            hs->full_logged = true;
        }
        uv_close((uv_handle_t *)&x->tcp, on_reject_close);
        return;
    }
    uv_timer_init(srv->loop, &x->timer);
    x->timer.data = x;
    x->open_handles = 2;
    x->hs = hs;
    x->id = ++hs->next_id;
    x->state = HS_READING;
    x->next = hs->conns;
    if (hs->conns)
        hs->conns->prev = x;
    hs->conns = x;
    hs->nconns++;
    srv->st->server.http_connections++;
    uv_timer_start(&x->timer, on_timeout, srv->cfg->http_timeout_ms, 0);
    if (uv_read_start((uv_stream_t *)&x->tcp, on_alloc, on_read) < 0)
        xclose(x, "cannot read");
}

static void on_listener_close(uv_handle_t *h)
{
    http_server *hs = h->data;
    hs->listening = false;
    maybe_free_server(hs);
}

int http_start(server *srv)
{
    const daemon_config *cfg = srv->cfg;
    if (!cfg->http_listen[0])
        return 0;
    http_server *hs = mem_calloc(1, sizeof *hs);
    hs->srv = srv;
    uv_tcp_init(srv->loop, &hs->listener);
    hs->listener.data = hs;
    hs->listening = true;
    srv->http = hs;
    int rc = uv_tcp_bind(&hs->listener, (const struct sockaddr *)&cfg->http_addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&hs->listener, 128, on_connection);
    if (rc < 0) {
        log_msg(LOG_ERROR, "--http-listen %s: %s", cfg->http_listen, uv_strerror(rc));
        return rc;
    }
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getsockname(&hs->listener, (struct sockaddr *)&sa, &salen) == 0) {
        if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        }
    }
    snprintf(hs->addr, sizeof hs->addr, sa.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
    hs->lg = loogle_new(srv);
    log_msg(LOG_INFO, "http: serving /metrics, /healthz and /json on %s", hs->addr);
    return 0;
}

void http_stop(server *srv)
{
    http_server *hs = srv->http;
    if (!hs)
        return;
    srv->http = NULL;
    hs->stopped = true;
    for (http_exchange *x = hs->conns, *next; x; x = next) {
        next = x->next;
        xclose(x, "daemon stopping");
    }
    loogle_free(hs->lg); /* after the cancel hooks: cancels the decl.find calls still running */
    hs->lg = NULL;
    if (hs->listening)
        uv_close((uv_handle_t *)&hs->listener, on_listener_close);
    else
        maybe_free_server(hs);
}
