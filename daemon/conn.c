/*
 * daemon/conn.c — one client connection: accept, read, frame, dispatch, write, close.
 *
 * Read path: the alloc callback hands libuv the free tail of the frame
 * reader's buffer; every complete frame goes to the connection's JSON-RPC
 * session, at most CONN_FRAMES_PER_WAKEUP per wakeup (the rest waits for the
 * server's pump, so one pipelining client cannot starve the others). Reading
 * stops while the connection has --max-inflight requests waiting, or more than
 * --output-high bytes of replies unsent (until they drop below --output-low);
 * past --output-hard the client is closed. A frame over --max-frame (or a
 * broken LSP header) is answered with an error and the connection closes once
 * that error is written. --idle-timeout closes a connection with nothing in
 * flight and nothing received for that long.
 *
 * Write path: every reply is one buffer (from frame_encode); the replies
 * queued during one wakeup go out in one uv_write (a writev), and are freed
 * in its write callback.
 *
 * Lifetime: conn_close frees the session (pending calls are detached through
 * their cancel hooks) and closes both handles; the struct is freed in the last
 * close callback, after libuv has run every pending write callback. Closing is
 * never started from inside the session's callbacks (they may run while the
 * session is on the stack): those set `kill` and ask the server's pump.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/mem.h"

#define CONN_FRAMES_PER_WAKEUP 64

/* One uv_write of every reply queued since the last flush (a writev). */
typedef struct wreq {
    uv_write_t req;
    conn      *c;
    size_t     len;     /* bytes of all bufs */
    unsigned   n;
    uv_buf_t   bufs[];  /* each base is a reply buffer (mem_free) */
} wreq;

static void set_reading(conn *c, bool on);

static void touch_idle(conn *c, uv_timer_cb cb);
static void on_idle_timeout(uv_timer_t *t);

static void defer_kill(conn *c, const char *reason)
{
    if (c->kill || c->closing)
        return;
    c->kill = true;
    c->kill_reason = reason;
    set_reading(c, false);
    server_attention(c->srv, c);
}

static void on_write(uv_write_t *req, int status)
{
    wreq *w = req->data;
    conn *c = w->c;
    c->out_queued -= w->len;
    for (unsigned i = 0; i < w->n; i++)
        mem_free(w->bufs[i].base);
    mem_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, status == UV_EPIPE ? "peer went away while we wrote" : "write failed");
        return;
    }
    touch_idle(c, on_idle_timeout);
    if (c->out_paused && c->out_queued <= c->srv->cfg->output_low) {
        c->out_paused = false;
        log_msg(LOG_DEBUG, "conn %" PRIu64 ": output below --output-low, reading again", c->id);
        conn_pump(c);
    } else if (c->out_queued == 0 && (c->eof || c->draining || c->finish_after_write)) {
        conn_pump(c);
    }
}

/* Frees replies that were queued but never handed to libuv. */
static void drop_pending(conn *c)
{
    for (unsigned i = 0; i < c->npend; i++)
        mem_free(c->pend[i].base);
    c->out_queued -= c->pend_len;
    c->npend = 0;
    c->pend_len = 0;
}

/*
 * Hands every queued reply to libuv in one write: a pipelining client gets
 * one writev per wakeup instead of one write(2) (and one wakeup of its reader)
 * per reply.
 */
static void flush_out(conn *c)
{
    if (c->npend == 0 || c->closing || c->kill)
        return;
    wreq *w = mem_alloc(sizeof *w + c->npend * sizeof w->bufs[0]);
    w->c = c;
    w->len = c->pend_len;
    w->n = c->npend;
    w->req.data = w;
    memcpy(w->bufs, c->pend, c->npend * sizeof c->pend[0]);
    c->npend = 0;
    c->pend_len = 0;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, w->bufs, w->n, on_write);
    if (rc < 0) {
        c->out_queued -= w->len;
        for (unsigned i = 0; i < w->n; i++)
            mem_free(w->bufs[i].base);
        mem_free(w);
        defer_kill(c, "write failed");
    }
}

/*
 * rpc_session_ops.send: called from inside the session; never closes directly.
 * Replies are queued and flushed at the end of the pump (which the attention
 * list runs soon when this is a completion arriving outside it).
 */
static void conn_send(void *ctx, char *buf, size_t len)
{
    conn *c = ctx;
    if (c->closing || c->kill || len > UINT32_MAX) {
        mem_free(buf);
        return;
    }
    if (c->npend == CONN_MAX_IOV)
        flush_out(c);
    c->pend[c->npend++] = uv_buf_init(buf, (unsigned)len);
    c->pend_len += len;
    c->out_queued += len;
    if (!c->in_pump)
        server_attention(c->srv, c);
    const daemon_config *cfg = c->srv->cfg;
    if (c->out_queued > cfg->output_hard) {
        c->srv->st->server.output_closed++;
        log_msg(LOG_WARN, "conn %" PRIu64 ": %zu bytes of replies unsent (above --output-hard %" PRIu64
                "): closing", c->id, c->out_queued, cfg->output_hard);
        defer_kill(c, "client does not read its replies");
    } else if (c->out_queued > cfg->output_high && !c->out_paused) {
        c->out_paused = true;
        c->srv->st->server.output_paused++;
        log_msg(LOG_DEBUG, "conn %" PRIu64 ": output above --output-high, reading paused", c->id);
        set_reading(c, false);
    }
}

/* rpc_session_ops.call_done: a pending call finished; look again from the pump. */
static void conn_call_done(void *ctx)
{
    conn *c = ctx;
    server_attention(c->srv, c);
}

static const rpc_session_ops session_ops = {conn_send, conn_call_done};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = h->data;
    uint8_t *p;
    size_t len;
    if (frame_space(&c->fr, &p, &len) < 0 || len > UINT32_MAX) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = (char *)p;
    buf->len = len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = s->data;
    if (n > 0) {
        frame_commit(&c->fr, (size_t)n);
        envs_input(c->srv->envs);
        c->srv->st->server.bytes_in += (uint64_t)n;
        touch_idle(c, on_idle_timeout);
        conn_pump(c);
        return;
    }
    if (n == 0)
        return;
    if (n == UV_ENOBUFS) {
        /* The buffer is full (a frame over the limit: the pump answers) or memory ran out. */
        set_reading(c, false);
        conn_pump(c);
        if (!c->closing && !c->finish_after_write && !c->kill)
            conn_close(c, "out of memory for the read buffer");
        return;
    }
    if (n == UV_EOF) {
        c->eof = true;
        set_reading(c, false);
        conn_pump(c);
        return;
    }
    conn_close(c, "read error");
}

static void set_reading(conn *c, bool on)
{
    if (on == c->reading || c->closing)
        return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
            c->reading = true;
    } else {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
    }
}

static void touch_idle(conn *c, uv_timer_cb cb)
{
    uint64_t ms = c->srv->cfg->idle_timeout_ms;
    if (ms && !c->closing)
        uv_timer_start(&c->idle, cb, ms, 0);
}

static void on_idle_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->closing)
        return;
    if ((c->rpc && rpc_session_inflight(c->rpc) > 0) || c->out_queued > 0) {
        touch_idle(c, on_idle_timeout); /* busy, not idle */
        return;
    }
    c->srv->st->server.idle_closed++;
    log_msg(LOG_INFO, "conn %" PRIu64 ": idle for --idle-timeout, closing", c->id);
    conn_close(c, "idle timeout");
}

static void framing_error(conn *c, int rc)
{
    server *srv = c->srv;
    rpc_session_set_mode(c->rpc, c->fr.mode);
    if (rc == FRAME_ETOOBIG) {
        srv->st->server.frames_too_large++;
        char msg[96];
        snprintf(msg, sizeof msg, "frame larger than --max-frame (%" PRIu64 " bytes); closing", srv->cfg->max_frame);
        rpc_session_send_error(c->rpc, RPC_INVALID_REQUEST, msg,
                               json_pack("{s:I}", "max_frame", (json_int_t)srv->cfg->max_frame));
        log_msg(LOG_WARN, "conn %" PRIu64 ": frame over --max-frame: closing", c->id);
    } else {
        rpc_session_send_error(c->rpc, RPC_PARSE_ERROR, "malformed LSP header (Content-Length); closing", NULL);
        log_msg(LOG_WARN, "conn %" PRIu64 ": malformed LSP header: closing", c->id);
    }
    c->finish_after_write = true;
}

void conn_pump(conn *c)
{
    if (c->closing || c->in_pump)
        return;
    if (c->kill) {
        conn_close(c, c->kill_reason);
        return;
    }
    const daemon_config *cfg = c->srv->cfg;
    stats_server *st = &c->srv->st->server;
    bool more = false;
    unsigned budget = CONN_FRAMES_PER_WAKEUP;
    c->in_pump = true;
    while (!c->finish_after_write && !c->kill) {
        if (rpc_session_inflight(c->rpc) >= cfg->max_inflight) {
            if (!c->inflight_paused) {
                c->inflight_paused = true;
                st->inflight_paused++;
                log_msg(LOG_DEBUG, "conn %" PRIu64 ": --max-inflight reached, reading paused", c->id);
            }
            break;
        }
        c->inflight_paused = false;
        if (c->out_paused)
            break;
        if (budget == 0) {
            more = true;
            break;
        }
        const uint8_t *f;
        size_t len;
        int rc = frame_next(&c->fr, &f, &len);
        if (rc == 0)
            break;
        if (rc < 0) {
            framing_error(c, rc);
            break;
        }
        budget--;
        rpc_session_set_mode(c->rpc, c->fr.mode);
        rpc_session_handle(c->rpc, f, len);
    }
    c->in_pump = false;
    if (c->kill) {
        conn_close(c, c->kill_reason);
        return;
    }
    flush_out(c);
    if (more) {
        /* Frames are left: let every other connection have its turn first. */
        st->wakeup_yields++;
        set_reading(c, false);
        server_attention(c->srv, c);
        return;
    }
    size_t inflight = rpc_session_inflight(c->rpc);
    if (c->finish_after_write) {
        set_reading(c, false);
        if (c->out_queued == 0)
            conn_close(c, "framing error");
        return;
    }
    if ((c->eof || c->draining) && inflight == 0 && c->out_queued == 0 && !c->out_paused) {
        conn_close(c, c->eof ? "peer closed" : "drained");
        return;
    }
    set_reading(c, !c->eof && !c->draining && !c->out_paused && !c->inflight_paused);
}

static void on_close(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    server *srv = c->srv;
    frame_deinit(&c->fr);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->in_attn) {
        for (conn **pp = &srv->attn; *pp; pp = &(*pp)->attn_next) {
            if (*pp == c) {
                *pp = c->attn_next;
                break;
            }
        }
    }
    mem_free(c);
    server_conn_gone(srv);
}

void conn_close(conn *c, const char *reason)
{
    if (c->closing)
        return;
    set_reading(c, false);
    c->closing = true;
    server *srv = c->srv;
    log_msg(LOG_DEBUG, "conn %" PRIu64 " closed: %s", c->id, reason);
    /* Detach pending calls first: their cancel hooks may still need the session. */
    rpc_session_free(c->rpc);
    c->rpc = NULL;
    drop_pending(c);
    srv->st->server.connections_active--;
    srv->st->server.connections_closed++;
    uv_close((uv_handle_t *)&c->pipe, on_close);
    uv_close((uv_handle_t *)&c->idle, on_close);
}

void conn_drain(conn *c)
{
    if (c->closing)
        return;
    c->draining = true;
    set_reading(c, false);
    conn_pump(c);
}

static bool uid_allowed(const server *srv, uid_t uid)
{
    if (uid == 0 || uid == geteuid())
        return true;
    /* With --socket-group the socket's group permission is the gate: its members
     * may be any uid, and a group check from SO_PEERCRED would need a blocking
     * NSS lookup (supplementary groups) on the loop. */
    if (srv->cfg->socket_group)
        return true;
    for (size_t i = 0; i < srv->cfg->nallow; i++)
        if (srv->cfg->allow_uids[i] == uid)
            return true;
    return false;
}

static void on_reject_close(uv_handle_t *h)
{
    mem_free(h->data); /* the conn that never opened: only its pipe was initialised */
}

/* Closes an accepted pipe that never became a connection. */
static void reject(conn *c, const char *line)
{
    if (line) {
        uv_buf_t b = uv_buf_init((char *)line, (unsigned)strlen(line));
        (void)uv_try_write((uv_stream_t *)&c->pipe, &b, 1); /* best effort: the peer may not read */
    }
    uv_close((uv_handle_t *)&c->pipe, on_reject_close);
}

void conn_accept(server *srv)
{
    conn *c = mem_calloc(1, sizeof *c);
    uv_pipe_init(srv->loop, &c->pipe, 0);
    c->pipe.data = c;
    int rc = uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->pipe);
    if (rc < 0) {
        log_msg(LOG_WARN, "accept failed: %s", uv_strerror(rc));
        reject(c, NULL);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t clen = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
        log_msg(LOG_WARN, "connection refused: cannot read peer credentials");
        srv->st->server.refused_peer++;
        reject(c, NULL);
        return;
    }
    if (!uid_allowed(srv, cred.uid)) {
        srv->st->server.refused_peer++;
        log_msg(LOG_WARN, "connection refused: uid %u (pid %ld) is not allowed (see --allow-uid)",
                (unsigned)cred.uid, (long)cred.pid);
        reject(c, NULL);
        return;
    }
    if (srv->st->server.connections_active >= srv->cfg->max_connections) {
        srv->st->server.refused_max_connections++;
        log_msg(LOG_WARN, "connection refused: --max-connections (%" PRIu64 ") reached",
                srv->cfg->max_connections);
        reject(c, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32006,\"message\":"
                  "\"server busy: too many connections\",\"data\":{\"retry_after_ms\":1000}}}\n");
        return;
    }
    uv_timer_init(srv->loop, &c->idle);
    c->idle.data = c;
    c->open_handles = 2;
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    c->uid = cred.uid;
    c->pid = cred.pid;
    frame_init(&c->fr, srv->cfg->max_frame);
    c->rpc = rpc_session_new(srv->rpc, &session_ops, c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->st->server.connections_accepted++;
    srv->st->server.connections_active++;
    log_msg(LOG_DEBUG, "conn %" PRIu64 " accepted: uid %u pid %ld", c->id, (unsigned)cred.uid, (long)cred.pid);
    touch_idle(c, on_idle_timeout);
    conn_pump(c);
}
