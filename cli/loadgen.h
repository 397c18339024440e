/*
 * cli/loadgen.h — the load generator behind `envpool bench`: C connections to a
 * local Unix socket, each keeping D newline-delimited JSON-RPC requests in
 * flight, bounded in requests and in time; latency per request (send to reply)
 * into a log-linear histogram.
 *
 * Runs its own libuv loop on the calling thread. Talks only to the given
 * socket path. Replies are matched to requests by their "id" (or by order,
 * for the Redis baseline: the same client measures both).
 */
#ifndef ENVPOOL_CLI_LOADGEN_H
#define ENVPOOL_CLI_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes request number seq with JSON-RPC id `id` into buf (at most cap bytes,
 * ending with '\n'); returns the length, or 0 if it does not fit.
 */
typedef size_t (*loadgen_request_cb)(void *ctx, uint64_t seq, uint64_t id, char *buf, size_t cap);

typedef struct loadgen_opts {
    const char        *socket_path;
    unsigned           clients;      /* connections, >= 1 */
    unsigned           depth;        /* requests in flight per connection, 1..1024 */
    uint64_t           requests;     /* stop after this many replies in all */
    double             max_seconds;  /* ...or after this long */
    uint64_t           warmup;       /* replies not counted in the histogram */
    loadgen_request_cb make_request;
    void              *ctx;
    /* Optional line sent first on each connection; its reply is awaited and not
     * counted (e.g. env.open so that later requests can use "env":1). */
    const char        *setup_line;
    /* Replies come one line each, in request order, without ids (Redis's
     * inline protocol: "GET key" answered "$-1" or "-ERR ..."); errors are
     * the lines starting with '-'. */
    bool               in_order;
} loadgen_opts;

typedef struct loadgen_result {
    uint64_t completed;     /* replies counted (after warmup) */
    uint64_t errors;        /* replies carrying "error" */
    uint64_t failed_conns;  /* connections that could not connect or broke */
    double   seconds;       /* wall time of the measured part */
    double   rps;
    double   mean_us, p50_us, p99_us, p999_us, max_us;
} loadgen_result;

/* Returns 0, or a negative errno/uv error if nothing could run; fills *res. */
int loadgen_run(const loadgen_opts *opts, loadgen_result *res);

#endif
