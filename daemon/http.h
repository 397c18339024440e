/*
 * daemon/http.h — envpoold's HTTP listener (--http-listen HOST:PORT, alias
 * --metrics-listen): a libuv TCP listener on the daemon's loop that answers
 * one request per connection from a route table (daemon/http.c, `routes[]`).
 *
 * Adding a route is one row in routes[] and one handler (as /json, Loogle's
 * endpoint, daemon/loogle.c):
 *
 *     static void route_json(http_exchange *x, const http_request *req, server *srv);
 *     { "/json", route_json, true },
 *
 * The handler runs on the loop thread for GET and HEAD of that exact path
 * (OPTIONS is answered for it when the row's cors is set; other methods get
 * 405 before it runs). It must answer exactly once with
 * http_reply — before returning, or later from the loop thread (an import on
 * a worker). When it answers later it must first call
 * http_exchange_set_cancel: the hook runs if the daemon stops before the
 * answer, and then the handler must drop x and never answer it. req and the
 * bytes it points into live until the answer (or the cancel hook).
 * Query parameters: http_query_param(req->query, "q", ...) (protocol/http.h).
 *
 * Hostile clients: a connection has HTTP_MAX_HEAD bytes for its head and
 * --http-timeout (default 10 s) to send it; the answer must be written within
 * the same time again; at most HTTP_MAX_CONNS connections at once (more are
 * closed at accept). Nothing a client does blocks the loop or other clients.
 */
#ifndef ENVPOOL_DAEMON_HTTP_H
#define ENVPOOL_DAEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/http.h"

#define HTTP_MAX_CONNS 64

typedef struct server server;
typedef struct http_exchange http_exchange;
typedef struct http_server http_server;

typedef void (*http_route_cb)(http_exchange *x, const http_request *req, server *srv);
typedef void (*http_cancel_cb)(http_exchange *x, void *arg);

typedef struct http_route {
    const char   *path;   /* exact match on the request path (query excluded) */
    http_route_cb cb;
    bool          cors;   /* answers OPTIONS (CORS preflight) too */
} http_route;

/* Starts the listener if cfg->http_listen is set; logs "http: serving ... on ADDR:PORT". 0 or negative (logged). */
int  http_start(server *srv);
/* Closes the listener and every HTTP connection (pending handlers get their cancel hook). Idempotent. */
void http_stop(server *srv);

/*
 * Answers x: status, content_type (static string, NULL none), body (stolen,
 * mem_* allocated; NULL with len 0 for none), extra header lines (NULL, or
 * lines each ending "\r\n"; copied). HEAD requests get the head only.
 */
void http_reply(http_exchange *x, int status, const char *content_type, char *body, size_t len,
                const char *extra);
/* The same with a copy of a NUL-terminated text body. */
void http_reply_text(http_exchange *x, int status, const char *content_type, const char *text);
/* Installs the cancel hook of an answer that comes later (before the handler returns). */
void http_exchange_set_cancel(http_exchange *x, http_cancel_cb cb, void *arg);

/*
 * Loogle's GET /json (daemon/loogle.c): the state is one internal JSON-RPC
 * session per listener (loogle_new at http_start; loogle_free at http_stop,
 * after the pending exchanges' cancel hooks ran). The route answers later,
 * when decl.find's reply comes back from the workers.
 */
typedef struct loogle loogle;
loogle *loogle_new(server *srv);
void    loogle_free(loogle *lg);
void    loogle_route_json(http_exchange *x, const http_request *req, server *srv, loogle *lg);

#endif
