/*
 * protocol/protocol.h — envpool's wire protocol, without any I/O.
 *
 * Three layers, each in its own file, all pure (no <uv.h>, no sockets): the
 * caller hands in bytes and gets bytes back through a callback.
 *
 *   frame.c    cuts a connection's byte stream into frames: one JSON text per
 *              line, or LSP base framing (`Content-Length: N\r\n\r\n` + N bytes)
 *              when the connection's first bytes say so. Owns the connection's
 *              read buffer {buf, size, start, end} and enforces the frame limit.
 *   rpc.c      JSON-RPC 2.0: parses a frame (jansson, duplicate keys refused,
 *              nesting depth bounded), dispatches requests, notifications and
 *              batches to a method table, encodes replies and errors (DESIGN.md
 *              §4 codes), lets a method finish later (an import on a worker
 *              thread) and be cancelled ($/cancelRequest).
 *   stats.c    server counters and per-method latency histograms, rendered as
 *              JSON and as Prometheus text exposition.
 *   methods.c  the methods that need no pool (server.info, pool.stats).
 *   methods_env.c  the methods served from the pool (env.*, decl.*,
 *              module.list, pool.drain), imports on the host's workers.
 *
 * Threads: everything here is called on one thread (the daemon's loop thread),
 * except rpc_global_init which is called once before any other use.
 */
#ifndef ENVPOOL_PROTOCOL_PROTOCOL_H
#define ENVPOOL_PROTOCOL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pool/pool.h"
#include "util/error.h"

/* ------------------------------------------------------------------------ */
/* Framing (frame.c)                                                          */
/* ------------------------------------------------------------------------ */

enum frame_mode {
    FRAME_DETECT = 0, /* nothing seen yet */
    FRAME_LINES,      /* newline-delimited JSON texts */
    FRAME_LSP,        /* Content-Length framing */
};

/* Errors from frame_next (negative, outside errno's range). */
enum {
    FRAME_ETOOBIG  = -2001, /* a frame exceeds max_frame */
    FRAME_EHEADER  = -2002, /* malformed LSP header block */
};

/* Bytes of LSP header block we accept before calling it malformed. */
#define FRAME_MAX_HEADER 1024u
#define FRAME_DEFAULT_MAX (1024u * 1024u)

typedef struct frame_reader {
    enum frame_mode mode;
    size_t   max_frame;   /* largest frame payload accepted */
    uint8_t *buf;         /* read buffer, mem_try_* */
    size_t   size;        /* allocated bytes of buf */
    size_t   start, end;  /* unconsumed bytes are buf[start..end) */
    size_t   scanned;     /* bytes after start already known to hold no '\n' */
    size_t   body_len;    /* LSP: length of the pending body, once its header is read */
    bool     have_header; /* LSP: header of the pending frame consumed */
    int      error;       /* sticky error: once set, frame_next keeps returning it */
} frame_reader;

/* Prepares fr (caller-owned storage); max_frame 0 means FRAME_DEFAULT_MAX. No allocation. */
void frame_init(frame_reader *fr, size_t max_frame);
/* Frees the buffer. fr may be re-initialised afterwards. */
void frame_deinit(frame_reader *fr);

/*
 * Free space to read into: *ptr and *len describe buf[end..size), after moving
 * unconsumed bytes to the front and growing the buffer (up to max_frame plus
 * header room) when needed. Returns 0, -ENOMEM, or -ENOSPC when the buffer is
 * full at its limit (frame_next will report FRAME_ETOOBIG). Pointers into the
 * buffer from an earlier frame_next become invalid.
 */
int frame_space(frame_reader *fr, uint8_t **ptr, size_t *len);
/* n bytes were written at the pointer frame_space gave. */
void frame_commit(frame_reader *fr, size_t n);
/*
 * Convenience for tests and fuzzers: copies up to len bytes in (frame_space +
 * memcpy + frame_commit); *taken says how many fit. Returns 0 or frame_space's error.
 */
int frame_feed(frame_reader *fr, const uint8_t *data, size_t len, size_t *taken);

/*
 * Next complete frame: returns 1 and sets *frame and *len (borrowed, valid until
 * the next frame_space/frame_feed/frame_deinit), 0 if more bytes are needed,
 * or FRAME_ETOOBIG / FRAME_EHEADER (sticky). Line mode skips blank lines and
 * strips a trailing '\r'.
 */
int frame_next(frame_reader *fr, const uint8_t **frame, size_t *len);
/* Bytes received but not yet returned as frames. */
size_t frame_buffered(const frame_reader *fr);
/* "line" / "lsp" / "detect". */
const char *frame_mode_name(enum frame_mode mode);

/*
 * Encodes json into one framed output buffer for mode (a trailing '\n' for
 * lines, a Content-Length header for LSP; FRAME_DETECT encodes as lines).
 * Returns 0 and *out (new, mem_free), *out_len; -ENOMEM; -EINVAL if jansson
 * cannot encode it.
 */
int frame_encode(enum frame_mode mode, const json_t *json, char **out, size_t *out_len);
/*
 * Frames a message given as JSON text in n pieces (concatenated as they are:
 * the caller guarantees they form one JSON text). Same contract as frame_encode.
 */
int frame_encode_text(enum frame_mode mode, const char *const *parts, const size_t *lens, size_t n,
                      char **out, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Statistics (stats.c)                                                       */
/* ------------------------------------------------------------------------ */

/* Latency bucket upper bounds in microseconds; the last bucket is +Inf. */
#define STATS_BUCKETS 16
extern const uint64_t stats_bucket_us[STATS_BUCKETS];

typedef struct stats_method {
    uint64_t requests;       /* requests and notifications dispatched */
    uint64_t errors;         /* error replies */
    uint64_t cancelled;      /* answered with -32800 */
    uint64_t buckets[STATS_BUCKETS + 1]; /* non-cumulative; [STATS_BUCKETS] is +Inf */
    uint64_t lat_count;
    uint64_t lat_sum_us;
} stats_method;

/* Limits as configured (reported next to the counters of each limit). */
typedef struct stats_limits {
    uint64_t max_connections, max_frame, max_inflight, idle_timeout_ms;
    uint64_t output_high, output_low, output_hard;
} stats_limits;

/* Server counters; plain integers, loop thread only. Never reset. */
typedef struct stats_server {
    uint64_t connections_accepted;
    uint64_t connections_active;
    uint64_t connections_closed;
    uint64_t bytes_in, bytes_out;
    uint64_t frames_in;
    uint64_t parse_errors;       /* -32700 replies */
    uint64_t invalid_requests;   /* -32600 replies */
    /* One counter per limit (DESIGN.md §5). */
    uint64_t refused_max_connections;
    uint64_t refused_peer;       /* SO_PEERCRED not allowed */
    uint64_t frames_too_large;
    uint64_t inflight_paused;    /* reading paused at --max-inflight */
    uint64_t output_paused;      /* reading paused above --output-high */
    uint64_t output_closed;      /* closed above --output-hard */
    uint64_t idle_closed;        /* closed by --idle-timeout */
    uint64_t wakeup_yields;      /* frames-per-wakeup bound reached */
    uint64_t batch_too_large;
    /* The HTTP listener (daemon/http.c; all 0 without --http-listen). */
    uint64_t http_connections;   /* accepted */
    uint64_t http_refused;       /* closed at accept: HTTP_MAX_CONNS open */
    uint64_t http_requests;      /* complete request heads routed */
    uint64_t http_bad_requests;  /* heads refused by the parser (4xx/5xx before routing) */
    uint64_t http_timeouts;      /* head not received, or answer not read, within --http-timeout */
    uint64_t http_responses_2xx, http_responses_4xx, http_responses_5xx;
    uint64_t http_bytes_in, http_bytes_out;
} stats_server;

/* The decl.get reply cache (replycache.c). */
typedef struct stats_cache {
    uint64_t max_bytes;          /* --reply-cache; 0 = off */
    uint64_t bytes, entries;
    uint64_t hits, misses, evictions;
} stats_cache;

#define STATS_MAX_METHODS 32

typedef struct stats {
    const char  *version;        /* envpool_build_info{version=...}; NULL: not rendered (borrowed) */
    stats_server server;
    stats_limits limits;
    stats_cache  reply_cache;
    size_t       nmethods;
    const char  *method_names[STATS_MAX_METHODS]; /* borrowed (static strings) */
    stats_method methods[STATS_MAX_METHODS];
    stats_method unknown;        /* requests for methods not in the table */
} stats;

void stats_init(stats *st);
/* Index of a method name, registering it if new; -ENOSPC when the table is full. */
int stats_method_index(stats *st, const char *name);
/* Records one completed request of method index mi (-1: unknown method). */
void stats_record(stats *st, int mi, uint64_t latency_us, int error_code);

/* JSON: {"server":{...}, "limits":{...}, "methods":{...}, "pool":{...}} (pool if non-NULL). New. */
json_t *stats_to_json(const stats *st, const pool_stats *ps);
/* Prometheus text exposition (version 0.0.4). Returns 0 and *text (new, mem_free) or -ENOMEM. */
int stats_to_prometheus(const stats *st, const pool_stats *ps, char **text, size_t *len);

/* ------------------------------------------------------------------------ */
/* JSON-RPC (rpc.c)                                                           */
/* ------------------------------------------------------------------------ */

/* Error codes of replies: RPC_PARSE_ERROR … RPC_STALE, in util/error.h with
 * every layer's codes. */

#define RPC_MAX_DEPTH 64     /* deepest nesting of arrays/objects accepted */
#define RPC_MAX_BATCH 1000   /* most elements in one batch */
#define RPC_PROTOCOL_VERSION "1"

/* Routes jansson's allocator through util/mem.h. Idempotent; call before any jansson use. */
void rpc_global_init(void);

/*
 * Checks that the nesting depth of the JSON text in buf stays within max_depth
 * (strings and escapes honoured; the text need not be valid JSON). Linear, no
 * recursion; jansson runs after it, so deep input never reaches a recursive parser.
 */
bool rpc_depth_ok(const uint8_t *buf, size_t len, unsigned max_depth);

typedef struct rpc_server  rpc_server;
typedef struct rpc_session rpc_session;
typedef struct rpc_call    rpc_call;

/*
 * A method handler. It must answer the call exactly once with rpc_call_result
 * or rpc_call_error — before returning, or later from the loop thread (then
 * the call is "pending": it counts towards the session's in-flight total and
 * may be cancelled). Returns 0, or a negative code meaning "internal failure":
 * if the call was not answered yet, it is answered with -32603.
 * params is borrowed and is an object (an absent params arrives as {}).
 */
typedef int (*rpc_method_cb)(rpc_call *call, json_t *params, void *udata);

/*
 * Called when a pending call is cancelled ($/cancelRequest) or its session
 * closes. The handler must detach from the call (the call is answered with
 * -32800, or dropped if the session is gone, and freed right after); it must
 * not answer it.
 */
typedef void (*rpc_cancel_cb)(rpc_call *call, void *arg);

typedef struct rpc_method {
    const char   *name;    /* static */
    rpc_method_cb cb;
    void         *udata;
    const char   *params;  /* comma-separated accepted param names; NULL: none accepted */
} rpc_method;

/* Host-provided information for server.info and pool.stats. All borrowed. */
typedef struct rpc_server_info {
    const char  *name, *version;
    const char *const *search_path; /* NULL-terminated */
    const char *const *formats;     /* NULL-terminated: region formats read */
    int64_t      pid;
    /* Fills the pool counters; NULL or a negative return: pool.stats has no "pool". */
    int        (*pool_stats)(void *ctx, pool_stats *out);
    void        *pool_ctx;
} rpc_server_info;

/* New server with the built-in methods (server.info, pool.stats, $/cancelRequest). */
rpc_server *rpc_server_new(const rpc_server_info *info);
void rpc_server_free(rpc_server *srv);
/* Adds or replaces a method (copied; strings borrowed). 0 or -ENOSPC. */
int rpc_server_add(rpc_server *srv, const rpc_method *m);
/* The server's counters (loop thread; the host increments server.* and sets limits). */
stats *rpc_server_stats(rpc_server *srv);

/* Per-session output: buf is stolen (mem_free it when written). */
typedef struct rpc_session_ops {
    void (*send)(void *ctx, char *buf, size_t len);
    /* A pending call finished (answered or cancelled); may be NULL. */
    void (*call_done)(void *ctx);
} rpc_session_ops;

rpc_session *rpc_session_new(rpc_server *srv, const rpc_session_ops *ops, void *ctx);
/*
 * Cancels every pending call (their cancel callbacks run; nothing is sent)
 * and frees the session. Host resources tied to the session (env handles)
 * go through the data hook of rpc_session_set_data, which runs last.
 */
void rpc_session_free(rpc_session *s);
/* Output framing of replies (follow the frame_reader's detected mode). */
void rpc_session_set_mode(rpc_session *s, enum frame_mode mode);
/*
 * Host data attached to the session (e.g. its env handles); borrowed. free_cb
 * (may be NULL) runs from rpc_session_free after pending calls are cancelled.
 */
void  rpc_session_set_data(rpc_session *s, void *data, void (*free_cb)(void *data));
void *rpc_session_data(const rpc_session *s);
/* Requests accepted and not answered yet. */
size_t rpc_session_inflight(const rpc_session *s);

/*
 * Handles one frame: parses, dispatches, sends the replies that are ready.
 * Never fails the session: a bad frame is answered with an error.
 */
void rpc_session_handle(rpc_session *s, const uint8_t *frame, size_t len);
/* Sends a framing-level error (id null) — e.g. frame too large — before the host closes. */
void rpc_session_send_error(rpc_session *s, int code, const char *message, json_t *data);
/* Sends a notification (params stolen). */
void rpc_session_notify(rpc_session *s, const char *method, json_t *params);

/* The call's session, method name (borrowed), id (borrowed; NULL for a notification). */
rpc_session  *rpc_call_session(const rpc_call *c);
const char   *rpc_call_method(const rpc_call *c);
const json_t *rpc_call_id(const rpc_call *c);
/* Answers with result (stolen). The call may be freed during this call. */
void rpc_call_result(rpc_call *c, json_t *result);
/*
 * The same with the result given as JSON text (borrowed; must be one valid
 * JSON value): the reply is assembled around it without building a json_t,
 * which is what makes cached decl.get answers cheap.
 */
void rpc_call_result_text(rpc_call *c, const char *text, size_t len);
/* Answers with an error; message is copied, data stolen (may be NULL). */
void rpc_call_error(rpc_call *c, int code, const char *message, json_t *data);
/* printf-style message variant. */
void rpc_call_errorf(rpc_call *c, int code, json_t *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Installs the cancel hook of a pending call (before returning from the handler). */
void rpc_call_set_cancel(rpc_call *c, rpc_cancel_cb cb, void *arg);
/* Sends {"method":"$/progress","params":{"id":ID,"loaded":L,"total":T}} for this call. */
void rpc_call_progress(rpc_call *c, uint64_t loaded, uint64_t total);
/* Host-visible server of a call (for counters). */
rpc_server *rpc_call_server(const rpc_call *c);

/*
 * Parameter checks. Each returns 0 and the value, or answers the call with
 * -32602 and a message naming the param and the reason ("param 'limit': must
 * be an integer in 1..1000") and returns -EINVAL: the handler then returns.
 * Optional params that are absent leave *out at def.
 */
int rpc_param_string(rpc_call *c, json_t *params, const char *name, bool required,
                     const char **out) __attribute__((warn_unused_result));
int rpc_param_int(rpc_call *c, json_t *params, const char *name, bool required,
                  int64_t min, int64_t max, int64_t def, int64_t *out)
    __attribute__((warn_unused_result));
int rpc_param_bool(rpc_call *c, json_t *params, const char *name, bool def, bool *out)
    __attribute__((warn_unused_result));
/* One of choices (NULL-terminated); *out is the index. */
int rpc_param_enum(rpc_call *c, json_t *params, const char *name, const char *const *choices,
                   int def, int *out) __attribute__((warn_unused_result));
/* A non-empty array of non-empty strings of at most max_items; *out borrowed. */
int rpc_param_strings(rpc_call *c, json_t *params, const char *name, bool required,
                      size_t max_items, json_t **out) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------------ */
/* Methods over the pool (methods_env.c)                                      */
/* ------------------------------------------------------------------------ */

struct pool;

/* Longest printed type and value in decl.get; longer text is cut ("…", *_truncated). */
#define RPC_TYPE_LIMIT  (64u * 1024u)
#define RPC_VALUE_LIMIT (64u * 1024u)
#define RPC_MAX_IMPORTS 1024      /* names in one import list */
#define RPC_MAX_HANDLES 4096      /* open env handles per session */
#define RPC_PROGRESS_US 200000u   /* $/progress after an import ran this long, then as often */

/* What the host gives the environment methods. */
typedef struct env_host {
    struct pool *pool;   /* borrowed; loop thread only */
    /*
     * Runs work(arg) on a worker thread, then done(arg) on the loop thread.
     * Returns 0, or a negative code (then neither runs).
     */
    int  (*queue_work)(void *ctx, void (*work)(void *arg), void (*done)(void *arg), void *arg);
    void  *ctx;
    uint64_t reply_cache_bytes; /* decl.get reply cache budget; 0 = no cache */
} env_host;

typedef struct env_methods env_methods;

/*
 * Registers env.open, env.close, decl.get, decl.search, module.list and
 * pool.drain on srv, served from host->pool. Returns a new env_methods (free
 * with env_methods_free once every session is gone and every queued work is done).
 */
env_methods *env_methods_new(rpc_server *srv, const env_host *host);
void env_methods_free(env_methods *em);
/* Sends $/progress for every call that has waited RPC_PROGRESS_US since its last one. Loop thread. */
void env_methods_tick(env_methods *em);
/* Calls waiting for an import, and decl.find / uses / used_by jobs running. */
size_t env_methods_waiting(const env_methods *em);
/* rpc_server_info.pool_stats adapter: ctx is the struct pool. */
int env_pool_stats(void *ctx, pool_stats *out);

#endif
