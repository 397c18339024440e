/*
 * protocol/protocol_internal.h — shared between the files of protocol/ only.
 */
#ifndef ENVPOOL_PROTOCOL_INTERNAL_H
#define ENVPOOL_PROTOCOL_INTERNAL_H

#include "protocol/protocol.h"
#include "pool/pool.h"

/* The host information given to rpc_server_new (borrowed). */
const rpc_server_info *rpc__server_info(const rpc_server *srv);
/* Monotonic microseconds when the server was created. */
uint64_t rpc__server_started_us(const rpc_server *srv);
/* Monotonic clock in microseconds. */
uint64_t rpc__now_us(void);
/* Names of the registered methods, in registration order (borrowed). */
size_t rpc__method_names(const rpc_server *srv, const char **names, size_t max);
/* Registers server.info and pool.stats (methods.c). */
void rpc__add_builtin_methods(rpc_server *srv);

/*
 * Fast path (fastpath.c): a decl.get on an open handle recognised without
 * jansson. Spans point into the frame.
 */
enum { RPC_FAST_MAX_IMPORTS = 8 };
typedef struct rpc_fast_get {
    uint64_t    id;
    const char *id_text;   /* the id as written (digits) */
    size_t      id_len;
    uint64_t    env;       /* when nimports == 0 */
    size_t      nimports;  /* 1..RPC_FAST_MAX_IMPORTS: "imports" instead of "env" */
    const char *imports[RPC_FAST_MAX_IMPORTS]; /* printable ASCII, no escapes */
    size_t      import_len[RPC_FAST_MAX_IMPORTS];
    const char *name;      /* printable ASCII, no escapes */
    size_t      name_len;
} rpc_fast_get;
bool rpc_fast_parse_get(const uint8_t *buf, size_t len, rpc_fast_get *out);

/*
 * A handler tried on every frame before it is parsed: returns true if it has
 * answered the frame completely (through rpc_session_fast_result), false to
 * let the general path parse and dispatch it. Loop thread.
 */
typedef bool (*rpc_fast_cb)(void *udata, rpc_session *s, const uint8_t *frame, size_t len);
/* Installs the fast handler; method names the stats row its answers count in. */
int  rpc__server_set_fast(rpc_server *srv, const char *method, rpc_fast_cb cb, void *udata);
/* Sends {"jsonrpc":"2.0","id":ID,"result":TEXT} (both given as JSON text) and counts it. */
void rpc__session_fast_result(rpc_session *s, uint64_t start_us, const char *id, size_t id_len,
                              const char *result, size_t len);

/*
 * Reply cache (replycache.c): rendered decl.get results by (environment
 * serial, name). Loop thread only. max_bytes 0 disables it. st is borrowed
 * (the server's counters) and must outlive every call but replycache_free,
 * which does not touch it.
 */
typedef struct replycache replycache;
replycache *replycache_new(uint64_t max_bytes, stats_cache *st);
void        replycache_free(replycache *c);
/*
 * On a hit, *text (borrowed, valid until the next put), *text_len and *probe
 * (the address given to replycache_put).
 */
bool replycache_get(replycache *c, uint64_t serial, const char *name, size_t len,
                    const char **text, size_t *text_len, const uint8_t **probe);
/*
 * Remembers a copy of text; evicts the oldest entries to stay in budget.
 * probe: region_last_byte of the module that answered (borrowed; read by the
 * caller under region_guard_run before serving a hit).
 */
void replycache_put(replycache *c, uint64_t serial, const char *name, size_t len,
                    const char *text, size_t text_len, const uint8_t *probe);

/* ---- params.c: parameters several methods share ---- */

/* "kinds" (optional, at most 8 kind names): 0, or -EINVAL with the call answered -32602. */
int      param_check_kinds(rpc_call *call, json_t *params);
/* The kinds of checked params as bits 1 << ln_const_kind (0: every kind). */
unsigned param_kinds_mask(json_t *params);
/* "cursor" (optional): digits, not 0 (a next_cursor); 0, or -EINVAL with the call answered. */
int      param_check_cursor(rpc_call *call, json_t *params);

/* ---- methods_info.c: the lists made from extension entries ---- */

enum info_op { INFO_MODULE_DOC, INFO_INSTANCES, INFO_ATTRS, INFO_CHILDREN };

/* The params of op (limit, cursor and its own): 0, or -EINVAL with the call answered -32602. Loop thread. */
int info_check_params(enum info_op op, rpc_call *call, json_t *params);
/*
 * Answers call (params borrowed, env borrowed: the job takes its own
 * reference) from a worker job queued with host->queue_work; *pending counts
 * the job until its done callback. Loop thread.
 */
void info_start(const env_host *host, size_t *pending, enum info_op op, rpc_call *call, json_t *params,
                pool_env *env);
/*
 * decl.find, decl.uses, decl.used_by (methods_find.c): jobs on the host's
 * workers with $/progress and cancellation. Loop thread.
 */
typedef struct find_jobs find_jobs;
enum { FIND_OP_FIND = 0, FIND_OP_USES = 1, FIND_OP_USED_BY = 2 };
find_jobs *rpc__find_jobs_new(const env_host *host);
void       rpc__find_jobs_free(find_jobs *fj);  /* aborts if a job is unfinished */
size_t     rpc__find_jobs_pending(const find_jobs *fj);
void       rpc__find_jobs_tick(find_jobs *fj, uint64_t now_us);
/* Checks op's params; 0, or answers -32602 and returns -EINVAL. */
int        rpc__find_check(rpc_call *call, json_t *params, int op);
/* Starts op on env (a reference is taken) for call; answers later. */
void       rpc__find_start(find_jobs *fj, int op, rpc_call *call, json_t *params, pool_env *env);

#endif
