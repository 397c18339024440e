/*
 * protocol/stats.c — server counters and per-method latency histograms.
 *
 * The loop thread owns a `stats` value and bumps plain integers in it; this
 * file names the methods (a fixed table: labels never come from client bytes,
 * so a client cannot grow it — unknown methods share one "(unknown)" row),
 * records latencies into fixed buckets, and renders everything, together
 * with the pool counters of DESIGN.md §3, as JSON or as Prometheus text
 * exposition format 0.0.4 (`envpool_` names, HELP and TYPE lines, histograms
 * as cumulative `_bucket{le=...}` series plus `_sum` and `_count`).
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

const uint64_t stats_bucket_us[STATS_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
    100000, 250000, 500000, 1000000, 2500000, 10000000,
};

void stats_init(stats *st)
{
    memset(st, 0, sizeof *st);
}

int stats_method_index(stats *st, const char *name)
{
    for (size_t i = 0; i < st->nmethods; i++)
        if (!strcmp(st->method_names[i], name))
            return (int)i;
    if (st->nmethods == STATS_MAX_METHODS)
        return -ENOSPC;
    st->method_names[st->nmethods] = name;
    return (int)st->nmethods++;
}

void stats_record(stats *st, int mi, uint64_t latency_us, int error_code)
{
    stats_method *m = (mi >= 0 && (size_t)mi < st->nmethods) ? &st->methods[mi] : &st->unknown;
    m->requests++;
    if (error_code) {
        m->errors++;
        if (error_code == RPC_CANCELLED)
            m->cancelled++;
    }
    size_t b = 0;
    while (b < STATS_BUCKETS && latency_us > stats_bucket_us[b])
        b++;
    m->buckets[b]++;
    m->lat_count++;
    m->lat_sum_us += latency_us;
}

/* ---- JSON ---------------------------------------------------------------- */

#define JU(v) json_integer((json_int_t)(v))

static json_t *method_json(const stats_method *m)
{
    json_t *buckets = json_array();
    uint64_t cum = 0;
    for (size_t b = 0; b <= STATS_BUCKETS; b++) {
        cum += m->buckets[b];
        json_t *e = b < STATS_BUCKETS
            ? json_pack("{s:f,s:I}", "le_ms", (double)stats_bucket_us[b] / 1000.0, "count", (json_int_t)cum)
            : json_pack("{s:s,s:I}", "le_ms", "+Inf", "count", (json_int_t)cum);
        json_array_append_new(buckets, e);
    }
    return json_pack("{s:I,s:I,s:I,s:{s:I,s:f,s:o}}",
                     "requests", (json_int_t)m->requests,
                     "errors", (json_int_t)m->errors,
                     "cancelled", (json_int_t)m->cancelled,
                     "latency", "count", (json_int_t)m->lat_count,
                     "sum_ms", (double)m->lat_sum_us / 1000.0,
                     "buckets", buckets);
}

json_t *stats_to_json(const stats *st, const pool_stats *ps)
{
    const stats_server *s = &st->server;
    const stats_limits *l = &st->limits;
    json_t *root = json_object();
    json_object_set_new(root, "server", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "connections_accepted", (json_int_t)s->connections_accepted,
        "connections_active", (json_int_t)s->connections_active,
        "connections_closed", (json_int_t)s->connections_closed,
        "bytes_in", (json_int_t)s->bytes_in,
        "bytes_out", (json_int_t)s->bytes_out,
        "frames_in", (json_int_t)s->frames_in,
        "parse_errors", (json_int_t)s->parse_errors,
        "invalid_requests", (json_int_t)s->invalid_requests));
    json_object_set_new(root, "http", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},s:I,s:I}",
        "connections", (json_int_t)s->http_connections, "refused", (json_int_t)s->http_refused,
        "requests", (json_int_t)s->http_requests, "bad_requests", (json_int_t)s->http_bad_requests,
        "timeouts", (json_int_t)s->http_timeouts, "responses", "2xx", (json_int_t)s->http_responses_2xx,
        "4xx", (json_int_t)s->http_responses_4xx, "5xx", (json_int_t)s->http_responses_5xx,
        "bytes_in", (json_int_t)s->http_bytes_in, "bytes_out", (json_int_t)s->http_bytes_out));
    json_t *lim = json_object();
#define LIMIT(name, value, counter)                                                  \
    json_object_set_new(lim, name, json_pack("{s:I,s:I}", "limit", (json_int_t)(value), \
                                             "hits", (json_int_t)(counter)))
    LIMIT("max_connections", l->max_connections, s->refused_max_connections);
    LIMIT("max_frame", l->max_frame, s->frames_too_large);
    LIMIT("max_inflight", l->max_inflight, s->inflight_paused);
    LIMIT("output_high", l->output_high, s->output_paused);
    LIMIT("output_hard", l->output_hard, s->output_closed);
    LIMIT("idle_timeout_ms", l->idle_timeout_ms, s->idle_closed);
    LIMIT("max_batch", RPC_MAX_BATCH, s->batch_too_large);
#undef LIMIT
    json_object_set_new(lim, "output_low", json_pack("{s:I}", "limit", (json_int_t)l->output_low));
    json_object_set_new(lim, "peer_credentials", json_pack("{s:I}", "hits", (json_int_t)s->refused_peer));
    json_object_set_new(lim, "frames_per_wakeup", json_pack("{s:I}", "hits", (json_int_t)s->wakeup_yields));
    json_object_set_new(root, "limits", lim);
    json_t *methods = json_object();
    for (size_t i = 0; i < st->nmethods; i++)
        json_object_set_new(methods, st->method_names[i], method_json(&st->methods[i]));
    json_object_set_new(methods, "(unknown)", method_json(&st->unknown));
    json_object_set_new(root, "methods", methods);
    const stats_cache *rc = &st->reply_cache;
    json_object_set_new(root, "reply_cache", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I}", "max_bytes", (json_int_t)rc->max_bytes, "bytes", (json_int_t)rc->bytes,
        "entries", (json_int_t)rc->entries, "hits", (json_int_t)rc->hits, "misses", (json_int_t)rc->misses,
        "evictions", (json_int_t)rc->evictions));
    if (ps) {
        json_t *p = json_object();
#define POOL_JSON_(name, type, help) json_object_set_new(p, #name, JU(ps->name));
        POOL_STATS_COUNTERS(POOL_JSON_)
#undef POOL_JSON_
        json_object_set_new(p, "import_time", json_pack(
            "{s:I,s:f,s:f}", "count", (json_int_t)ps->import_count,
            "total_ms", (double)(ps->import_ns_total / 1000) / 1000.0,
            "max_ms", (double)(ps->import_ns_max / 1000) / 1000.0));
        json_object_set_new(root, "pool", p);
    }
    return root;
}

/* ---- Prometheus ---------------------------------------------------------- */

typedef struct sbuf {
    char  *p;
    size_t len, cap;
    bool   failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        while (ncap - b->len <= (size_t)n)
            ncap *= 2;
        char *np = mem_try_realloc(b->p, ncap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

static void metric(sbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    sb_printf(b, "# HELP envpool_%s %s\n# TYPE envpool_%s %s\nenvpool_%s %" PRIu64 "\n",
              name, help, name, type, name, v);
}

/* A pool counter of POOL_STATS_COUNTERS: envpool_pool_<name>, with _total for counters. */
static void pool_metric(sbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    const char *suffix = strcmp(type, "counter") == 0 ? "_total" : "";
    sb_printf(b, "# HELP envpool_pool_%s%s %s\n# TYPE envpool_pool_%s%s %s\nenvpool_pool_%s%s %" PRIu64 "\n",
              name, suffix, help, name, suffix, type, name, suffix, v);
}

static void seconds(sbuf *b, uint64_t us)
{
    sb_printf(b, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

static void method_series(sbuf *b, const char *label, const stats_method *m, int which)
{
    switch (which) {
    case 0:
        sb_printf(b, "envpool_requests_total{method=\"%s\"} %" PRIu64 "\n", label, m->requests);
        break;
    case 1:
        sb_printf(b, "envpool_request_errors_total{method=\"%s\"} %" PRIu64 "\n", label, m->errors);
        break;
    case 2:
        sb_printf(b, "envpool_requests_cancelled_total{method=\"%s\"} %" PRIu64 "\n", label, m->cancelled);
        break;
    default: {
        uint64_t cum = 0;
        for (size_t i = 0; i < STATS_BUCKETS; i++) {
            cum += m->buckets[i];
            sb_printf(b, "envpool_request_duration_seconds_bucket{method=\"%s\",le=\"", label);
            seconds(b, stats_bucket_us[i]);
            sb_printf(b, "\"} %" PRIu64 "\n", cum);
        }
        cum += m->buckets[STATS_BUCKETS];
        sb_printf(b, "envpool_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                  label, cum);
        sb_printf(b, "envpool_request_duration_seconds_sum{method=\"%s\"} ", label);
        seconds(b, m->lat_sum_us);
        sb_printf(b, "\nenvpool_request_duration_seconds_count{method=\"%s\"} %" PRIu64 "\n",
                  label, m->lat_count);
    }
    }
}

int stats_to_prometheus(const stats *st, const pool_stats *ps, char **text, size_t *len)
{
    sbuf b = {0};
    const stats_server *s = &st->server;
    if (st->version) {
        sb_printf(&b, "# HELP envpool_build_info The running envpoold's version (value always 1).\n"
                      "# TYPE envpool_build_info gauge\nenvpool_build_info{version=\"");
        for (const char *v = st->version; *v; v++) { /* label value escapes of the exposition format */
            if (*v == '\\' || *v == '"')
                sb_printf(&b, "\\%c", *v);
            else if (*v == '\n')
                sb_printf(&b, "\\n");
            else
                sb_printf(&b, "%c", *v);
        }
        sb_printf(&b, "\"} 1\n");
    }
    metric(&b, "connections_accepted_total", "counter", "Connections accepted.", s->connections_accepted);
    metric(&b, "connections_active", "gauge", "Connections open now.", s->connections_active);
    metric(&b, "connections_closed_total", "counter", "Connections closed.", s->connections_closed);
    metric(&b, "bytes_received_total", "counter", "Bytes read from clients.", s->bytes_in);
    metric(&b, "bytes_sent_total", "counter", "Bytes written to clients.", s->bytes_out);
    metric(&b, "frames_received_total", "counter", "Frames (JSON texts) received.", s->frames_in);
    metric(&b, "parse_errors_total", "counter", "Frames that were not JSON (-32700).", s->parse_errors);
    metric(&b, "invalid_requests_total", "counter", "Invalid JSON-RPC requests (-32600).", s->invalid_requests);
    metric(&b, "http_connections_total", "counter", "HTTP connections accepted (--http-listen).",
           s->http_connections);
    metric(&b, "http_refused_total", "counter", "HTTP connections closed at accept (too many open).",
           s->http_refused);
    metric(&b, "http_requests_total", "counter", "HTTP request heads routed.", s->http_requests);
    metric(&b, "http_bad_requests_total", "counter", "HTTP request heads refused by the parser.",
           s->http_bad_requests);
    metric(&b, "http_timeouts_total", "counter", "HTTP exchanges cut by --http-timeout.", s->http_timeouts);
    sb_printf(&b, "# HELP envpool_http_responses_total HTTP answers sent, by status class.\n"
                  "# TYPE envpool_http_responses_total counter\n"
                  "envpool_http_responses_total{code=\"2xx\"} %" PRIu64 "\n"
                  "envpool_http_responses_total{code=\"4xx\"} %" PRIu64 "\n"
                  "envpool_http_responses_total{code=\"5xx\"} %" PRIu64 "\n",
              s->http_responses_2xx, s->http_responses_4xx, s->http_responses_5xx);
    metric(&b, "http_bytes_received_total", "counter", "Bytes read from HTTP clients.", s->http_bytes_in);
    metric(&b, "http_bytes_sent_total", "counter", "Bytes written to HTTP clients.", s->http_bytes_out);
    const stats_cache *rc = &st->reply_cache;
    metric(&b, "reply_cache_max_bytes", "gauge", "decl.get reply cache budget (--reply-cache).", rc->max_bytes);
    metric(&b, "reply_cache_bytes", "gauge", "Bytes held by the decl.get reply cache.", rc->bytes);
    metric(&b, "reply_cache_entries", "gauge", "Replies held by the decl.get reply cache.", rc->entries);
    metric(&b, "reply_cache_hits_total", "counter", "decl.get answered from the reply cache.", rc->hits);
    metric(&b, "reply_cache_misses_total", "counter", "decl.get lookups the reply cache did not have.", rc->misses);
    metric(&b, "reply_cache_evictions_total", "counter", "Replies dropped to stay in budget.", rc->evictions);

    sb_printf(&b, "# HELP envpool_limit_hits_total Times a server limit was reached.\n"
                  "# TYPE envpool_limit_hits_total counter\n");
    struct { const char *n; uint64_t v; } hits[] = {
        {"max_connections", s->refused_max_connections}, {"peer_credentials", s->refused_peer},
        {"max_frame", s->frames_too_large}, {"max_inflight", s->inflight_paused},
        {"output_high", s->output_paused}, {"output_hard", s->output_closed},
        {"idle_timeout", s->idle_closed}, {"frames_per_wakeup", s->wakeup_yields},
        {"max_batch", s->batch_too_large},
    };
    for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++)
        sb_printf(&b, "envpool_limit_hits_total{limit=\"%s\"} %" PRIu64 "\n", hits[i].n, hits[i].v);
    sb_printf(&b, "# HELP envpool_limit Configured server limits.\n# TYPE envpool_limit gauge\n");
    const stats_limits *l = &st->limits;
    struct { const char *n; uint64_t v; } lims[] = {
        {"max_connections", l->max_connections}, {"max_frame", l->max_frame},
        {"max_inflight", l->max_inflight}, {"idle_timeout_ms", l->idle_timeout_ms},
        {"output_high", l->output_high}, {"output_low", l->output_low},
        {"output_hard", l->output_hard}, {"max_batch", RPC_MAX_BATCH},
    };
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++)
        sb_printf(&b, "envpool_limit{limit=\"%s\"} %" PRIu64 "\n", lims[i].n, lims[i].v);

    static const char *const fam[4][3] = {
        {"requests_total", "counter", "Requests and notifications handled, by method."},
        {"request_errors_total", "counter", "Error replies, by method."},
        {"requests_cancelled_total", "counter", "Requests cancelled (-32800), by method."},
        {"request_duration_seconds", "histogram", "Time from receipt to reply, by method."},
    };
    for (int w = 0; w < 4; w++) {
        sb_printf(&b, "# HELP envpool_%s %s\n# TYPE envpool_%s %s\n", fam[w][0], fam[w][2], fam[w][0],
                  fam[w][1]);
        for (size_t i = 0; i < st->nmethods; i++)
            method_series(&b, st->method_names[i], &st->methods[i], w);
        method_series(&b, "(unknown)", &st->unknown, w);
    }

    if (ps) {
#define POOL_PROM_(name, type, help) pool_metric(&b, #name, #type, help, ps->name);
        POOL_STATS_COUNTERS(POOL_PROM_)
#undef POOL_PROM_
        metric(&b, "pool_imports_timed_total", "counter", "Imports timed.", ps->import_count);
        sb_printf(&b, "# HELP envpool_pool_import_seconds_total Time spent importing.\n"
                      "# TYPE envpool_pool_import_seconds_total counter\nenvpool_pool_import_seconds_total ");
        seconds(&b, ps->import_ns_total / 1000);
        sb_printf(&b, "\n# HELP envpool_pool_import_seconds_max Longest import.\n"
                      "# TYPE envpool_pool_import_seconds_max gauge\nenvpool_pool_import_seconds_max ");
        seconds(&b, ps->import_ns_max / 1000);
        sb_printf(&b, "\n");
    }
    if (b.failed) {
        mem_free(b.p);
        return -ENOMEM;
    }
    *text = b.p;
    *len = b.len;
    return 0;
}
