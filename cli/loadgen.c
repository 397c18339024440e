/*
 * cli/loadgen.c — pipelined JSON-RPC load over a Unix socket. See loadgen.h.
 *
 * Each connection keeps `depth` requests outstanding: every reply read frees a
 * slot, and all requests made possible by one read are sent in one write.
 * Latencies go into a log-linear histogram (16 sub-buckets per power of two,
 * about 6% resolution), so percentiles cost no per-request memory.
 */
#include "cli/loadgen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/mem.h"

#define HIST_SUB 16
#define HIST_BUCKETS (64 * HIST_SUB)
#define READ_CAP (256 * 1024)
#define REQ_CAP 4096

typedef struct lg_state lg_state;

typedef struct lg_slot {
    uint64_t id;
    uint64_t sent_ns;
    bool     busy;
} lg_slot;

typedef struct lg_conn {
    uv_pipe_t     pipe;
    uv_connect_t  connect_req;
    lg_state     *st;
    unsigned      index;
    lg_slot      *slots;
    unsigned      outstanding;
    uint64_t      next_id;
    bool          setup_pending;
    bool          closing;
    char         *rbuf;
    size_t        rlen;
} lg_conn;

struct lg_state {
    const loadgen_opts *o;
    uv_loop_t           loop;
    uv_timer_t          timer;
    lg_conn            *conns;
    uint64_t            issued;      /* requests handed out (bounded by requests + warmup) */
    uint64_t            replies;     /* replies to counted requests, warmup included */
    uint64_t            counted, errors, failed;
    uint64_t            t_start_ns;  /* when the warmup ended */
    uint64_t            t_end_ns;
    uint64_t            hist[HIST_BUCKETS];
    double              sum_us;
    uint64_t            max_ns;
    bool                stopping;
};

typedef struct lg_write {
    uv_write_t req;
    char      *buf;
} lg_write;

static unsigned hist_index(uint64_t ns)
{
    if (ns < HIST_SUB)
        return (unsigned)ns;
    unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)((ns >> (msb - 4)) & (HIST_SUB - 1));
    return (msb - 3) * HIST_SUB + sub;
}

static double hist_value_ns(unsigned idx)
{
    if (idx < HIST_SUB)
        return idx;
    unsigned msb = idx / HIST_SUB + 3, sub = idx % HIST_SUB;
    double lo = (double)((uint64_t)(HIST_SUB + sub) << (msb - 4));
    double width = (double)((uint64_t)1 << (msb - 4));
    return lo + width / 2;
}

static double hist_percentile(const lg_state *st, double q)
{
    uint64_t total = st->counted, want = (uint64_t)(q * (double)total), seen = 0;
    if (total == 0)
        return 0;
    if (want >= total)
        want = total - 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += st->hist[i];
        if (seen > want)
            return hist_value_ns(i) / 1000.0;
    }
    return (double)st->max_ns / 1000.0;
}

static void stop_all(lg_state *st);

static void on_close(uv_handle_t *h) { (void)h; }

static void conn_close(lg_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->pipe, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    lg_write *w = (lg_write *)req;
    lg_conn *c = req->data;
    if (status < 0 && !c->closing) {
        c->st->failed++;
        conn_close(c);
    }
    mem_free(w->buf);
    mem_free(w);
}

/* Fills free slots with new requests and sends them in one write. */
static void conn_fill(lg_conn *c)
{
    lg_state *st = c->st;
    const loadgen_opts *o = st->o;
    if (st->stopping || c->closing || c->setup_pending)
        return;
    unsigned room = o->depth - c->outstanding;
    if (room == 0)
        return;
    size_t cap = (size_t)room * REQ_CAP, len = 0;
    char *buf = mem_alloc(cap);
    uint64_t now = uv_hrtime();
    for (unsigned s = 0; s < o->depth && c->outstanding < o->depth; s++) {
        if (c->slots[s].busy)
            continue;
        if (st->issued >= o->requests + o->warmup)
            break;
        uint64_t id = c->next_id++;
        size_t n = o->make_request(o->ctx, st->issued, id, buf + len, cap - len);
        if (n == 0)
            break;
        st->issued++;
        len += n;
        c->slots[s] = (lg_slot){id, now, true};
        c->outstanding++;
    }
    if (len == 0) {
        mem_free(buf);
        return;
    }
    lg_write *w = mem_alloc(sizeof *w);
    w->buf = buf;
    w->req.data = c;
    uv_buf_t b = uv_buf_init(buf, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write) < 0) {
        mem_free(buf);
        mem_free(w);
        st->failed++;
        conn_close(c);
    }
}

static bool parse_id(const char *line, size_t len, uint64_t *id)
{
    const char *p = memmem(line, len, "\"id\":", 5);
    if (!p)
        return false;
    p += 5;
    while (p < line + len && *p == ' ')
        p++;
    if (p >= line + len || *p < '0' || *p > '9')
        return false;
    uint64_t v = 0;
    while (p < line + len && *p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    *id = v;
    return true;
}

static void on_reply(lg_conn *c, const char *line, size_t len)
{
    lg_state *st = c->st;
    if (c->setup_pending) {
        c->setup_pending = false;
        if (memmem(line, len, "\"error\"", 7))
            st->errors++;
        return;
    }
    uint64_t id;
    if (st->o->in_order) {
        if (c->outstanding == 0)
            return;
        id = c->next_id - c->outstanding; /* the oldest request */
    } else if (!parse_id(line, len, &id)) {
        return; /* a notification ($/progress) */
    }
    for (unsigned s = 0; s < st->o->depth; s++) {
        lg_slot *sl = &c->slots[s];
        if (!sl->busy || sl->id != id)
            continue;
        sl->busy = false;
        c->outstanding--;
        st->replies++;
        if (st->replies == st->o->warmup)
            st->t_start_ns = uv_hrtime();
        if (st->replies > st->o->warmup) {
            uint64_t ns = uv_hrtime() - sl->sent_ns;
            st->hist[hist_index(ns)]++;
            st->sum_us += (double)ns / 1000.0;
            if (ns > st->max_ns)
                st->max_ns = ns;
            st->counted++;
            if (st->o->in_order ? (len > 0 && line[0] == '-') : memmem(line, len, "\"error\"", 7) != NULL)
                st->errors++;
        }
        return;
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    lg_conn *c = h->data;
    *buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(READ_CAP - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    lg_conn *c = s->data;
    lg_state *st = c->st;
    if (nread < 0) {
        if (!st->stopping)
            st->failed++;
        conn_close(c);
        return;
    }
    c->rlen += (size_t)nread;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(c->rbuf + start, '\n', c->rlen - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (c->rbuf + start));
        on_reply(c, c->rbuf + start, len);
        start += len + 1;
    }
    memmove(c->rbuf, c->rbuf + start, c->rlen - start);
    c->rlen -= start;
    if (c->rlen == READ_CAP) { /* a reply larger than we accept */
        st->failed++;
        conn_close(c);
        return;
    }
    if (st->counted >= st->o->requests) {
        stop_all(st);
        return;
    }
    conn_fill(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    lg_conn *c = req->data;
    lg_state *st = c->st;
    if (status < 0) {
        st->failed++;
        conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    if (st->o->setup_line) {
        size_t n = strlen(st->o->setup_line);
        lg_write *w = mem_alloc(sizeof *w);
        w->buf = mem_alloc(n + 1);
        memcpy(w->buf, st->o->setup_line, n);
        w->buf[n] = '\n';
        w->req.data = c;
        uv_buf_t b = uv_buf_init(w->buf, (unsigned)(n + 1));
        c->setup_pending = true;
        if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write) < 0) {
            mem_free(w->buf);
            mem_free(w);
            st->failed++;
            conn_close(c);
        }
        return;
    }
    conn_fill(c);
}

/* After the setup reply, connections start their load from the read path. */
static void stop_all(lg_state *st)
{
    if (st->stopping)
        return;
    st->stopping = true;
    st->t_end_ns = uv_hrtime();
    for (unsigned i = 0; i < st->o->clients; i++)
        conn_close(&st->conns[i]);
    uv_close((uv_handle_t *)&st->timer, on_close);
}

static void on_timer(uv_timer_t *t)
{
    lg_state *st = t->data;
    stop_all(st);
}

int loadgen_run(const loadgen_opts *o, loadgen_result *res)
{
    memset(res, 0, sizeof *res);
    if (o->clients == 0 || o->depth == 0 || o->depth > 1024 || !o->make_request)
        return -EINVAL;
    lg_state *st = mem_calloc(1, sizeof *st);
    st->o = o;
    int rc = uv_loop_init(&st->loop);
    if (rc < 0) {
        mem_free(st);
        return rc;
    }
    st->conns = mem_calloc(o->clients, sizeof *st->conns);
    uv_timer_init(&st->loop, &st->timer);
    st->timer.data = st;
    uv_timer_start(&st->timer, on_timer, (uint64_t)(o->max_seconds * 1000.0), 0);
    st->t_start_ns = uv_hrtime();
    for (unsigned i = 0; i < o->clients; i++) {
        lg_conn *c = &st->conns[i];
        c->st = st;
        c->index = i;
        c->slots = mem_calloc(o->depth, sizeof *c->slots);
        c->rbuf = mem_alloc(READ_CAP);
        c->next_id = 1;
        uv_pipe_init(&st->loop, &c->pipe, 0);
        c->pipe.data = c;
        c->connect_req.data = c;
        uv_pipe_connect(&c->connect_req, &c->pipe, o->socket_path, on_connect);
    }
    uv_run(&st->loop, UV_RUN_DEFAULT);
    if (!st->stopping) { /* every connection failed before the end */
        st->t_end_ns = uv_hrtime();
        uv_close((uv_handle_t *)&st->timer, on_close);
        uv_run(&st->loop, UV_RUN_DEFAULT);
    }
    rc = uv_loop_close(&st->loop);

    res->completed = st->counted;
    res->errors = st->errors;
    res->failed_conns = st->failed;
    res->seconds = (double)(st->t_end_ns - st->t_start_ns) / 1e9;
    res->rps = res->seconds > 0 ? (double)st->counted / res->seconds : 0;
    res->mean_us = st->counted ? st->sum_us / (double)st->counted : 0;
    res->p50_us = hist_percentile(st, 0.50);
    res->p99_us = hist_percentile(st, 0.99);
    res->p999_us = hist_percentile(st, 0.999);
    res->max_us = (double)st->max_ns / 1000.0;

    for (unsigned i = 0; i < o->clients; i++) {
        mem_free(st->conns[i].slots);
        mem_free(st->conns[i].rbuf);
    }
    mem_free(st->conns);
    mem_free(st);
    return rc;
}
