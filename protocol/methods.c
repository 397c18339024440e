/*
 * protocol/methods.c — the methods that need no pool: server.info and pool.stats.
 *
 * server.info describes the daemon (what a client checks before anything
 * else); pool.stats renders the server counters of stats.c together with the
 * pool counters the host supplies through rpc_server_info.pool_stats, as JSON
 * or as Prometheus text. The methods that touch environments are registered
 * by the host, which owns the pool and the worker threads.
 */
#include "protocol/protocol_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/mem.h"

static json_t *string_array(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int server_info(rpc_call *call, json_t *params, void *udata)
{
    (void)params;
    (void)udata;
    const rpc_server *srv = rpc_call_server(call);
    const rpc_server_info *info = rpc__server_info(srv);
    const char *names[STATS_MAX_METHODS];
    size_t n = rpc__method_names(srv, names, STATS_MAX_METHODS);
    json_t *methods = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(methods, json_string(names[i]));
    uint64_t up_us = rpc__now_us() - rpc__server_started_us(srv);
    json_t *r = json_pack("{s:s,s:s,s:s,s:o,s:o,s:I,s:f,s:o,s:[ss],s:I,s:I}",
                          "name", info->name ? info->name : "envpoold",
                          "version", info->version ? info->version : "",
                          "protocol_version", RPC_PROTOCOL_VERSION,
                          "formats", string_array(info->formats),
                          "search_path", string_array(info->search_path),
                          "pid", (json_int_t)info->pid,
                          "uptime_s", (double)up_us / 1e6,
                          "methods", methods,
                          "framing", "line", "lsp",
                          "max_depth", (json_int_t)RPC_MAX_DEPTH,
                          "max_batch", (json_int_t)RPC_MAX_BATCH);
    if (!r)
        return -ENOMEM;
    rpc_call_result(call, r);
    return 0;
}

static int method_pool_stats(rpc_call *call, json_t *params, void *udata)
{
    (void)udata;
    static const char *const formats[] = {"json", "prometheus", NULL};
    int fmt;
    int rc = rpc_param_enum(call, params, "format", formats, 0, &fmt);
    if (rc < 0)
        return rc;
    rpc_server *srv = rpc_call_server(call);
    const rpc_server_info *info = rpc__server_info(srv);
    pool_stats ps;
    const pool_stats *pp = NULL;
    memset(&ps, 0, sizeof ps);
    if (info->pool_stats && info->pool_stats(info->pool_ctx, &ps) == 0)
        pp = &ps;
    const stats *st = rpc_server_stats(srv);
    if (fmt == 0) {
        json_t *r = stats_to_json(st, pp);
        if (!r)
            return -ENOMEM;
        rpc_call_result(call, r);
        return 0;
    }
    char *text;
    size_t len;
    rc = stats_to_prometheus(st, pp, &text, &len);
    if (rc < 0)
        return rc;
    json_t *r = json_pack("{s:s,s:s%}", "content_type", "text/plain; version=0.0.4",
                          "text", text, len);
    mem_free(text);
    if (!r)
        return -ENOMEM;
    rpc_call_result(call, r);
    return 0;
}

void rpc__add_builtin_methods(rpc_server *srv)
{
    static const rpc_method builtin[] = {
        {"server.info", server_info, NULL, NULL},
        {"pool.stats", method_pool_stats, NULL, "format"},
    };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        int added = rpc_server_add(srv, &builtin[i]);
        ENVPOOL_INVARIANT(added >= 0, "the table is far larger than the built-in methods");
    }
}
