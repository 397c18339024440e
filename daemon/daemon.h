/*
 * daemon/daemon.h — envpoold's internal interfaces, shared by the files of daemon/.
 *
 *   main.c    entry point: config, logging, run the server, exit status
 *   config.c  command-line flags, defaults, validation, the startup summary
 *   log.c     one line per event on stderr, with a level
 *   server.c  the loop: listener (own socket or systemd's), signals, drain,
 *             shutdown, sd_notify and the watchdog
 *   conn.c    one client connection: read buffer, frames, limits, writes
 *   http.c    the HTTP listener (--http-listen): /metrics, /healthz, the route table (http.h)
 *   loogle.c  GET /json, Loogle's endpoint: decl.find through an internal session
 *
 * Threads: everything runs on the loop thread, except the work that server.c
 * hands to libuv's thread pool (uv_queue_work), which touches no struct here.
 */
#ifndef ENVPOOL_DAEMON_DAEMON_H
#define ENVPOOL_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <uv.h>

#include "protocol/protocol.h"

#ifndef ENVPOOL_VERSION
#define ENVPOOL_VERSION "0.1.0"
#endif

/* ---- log.c ---- */

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
/* Parses "error", "warn", "info", "debug"; 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
/*
 * Writes one line "envpoold[PID]: LEVEL: message" to stderr (one write(2) so
 * lines from a crash handler or a child never interleave). Never pass client
 * bytes: only our own words, numbers and names from our own tables.
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- config.c ---- */

#define CONFIG_MAX_ALLOW_UIDS 16
#define CONFIG_MAX_SEARCH 64

typedef struct daemon_config {
    char     socket_path[512];   /* --socket, or the default for our uid */
    char    *search_buf;         /* owned copy of the search path string (mem_*) */
    const char *search[CONFIG_MAX_SEARCH + 1]; /* roots, NULL-terminated (into search_buf) */
    char    *source_buf;         /* owned copy of the source path string (mem_*) */
    const char *source[CONFIG_MAX_SEARCH + 1]; /* --source-path dirs, NULL-terminated (into source_buf) */
    uint64_t capacity;           /* --capacity: idle environments kept */
    uint64_t max_bytes;          /* --max-bytes: mapped bytes bound, 0 none */
    uint64_t reply_cache;        /* --reply-cache: decl.get reply cache bytes, 0 none */
    uint64_t max_watches;        /* --max-watches: directories watched, 0 no watching */
    unsigned threads;            /* --threads: worker threads */
    uint64_t max_connections;    /* --max-connections */
    uint64_t max_frame;          /* --max-frame (bytes) */
    uint64_t max_inflight;       /* --max-inflight per connection */
    uint64_t idle_timeout_ms;    /* --idle-timeout (seconds on the command line), 0 off */
    uint64_t output_high, output_low, output_hard; /* --output-* water marks (bytes) */
    const char *socket_group;    /* --socket-group NAME or GID, NULL none */
    gid_t    group;              /* resolved socket_group */
    uid_t    allow_uids[CONFIG_MAX_ALLOW_UIDS]; /* --allow-uid, beyond ours and root */
    size_t   nallow;
    enum log_level log_level;    /* --log-level */
    uint64_t grace_ms;           /* --grace (seconds on the command line) */
    bool     validate_eager;     /* --validate=eager: every object of a file checked at load */
    char     http_listen[128];   /* --http-listen / --metrics-listen / $ENVPOOL_HTTP_LISTEN; "" off */
    struct sockaddr_storage http_addr; /* http_listen parsed */
    uint64_t http_timeout_ms;    /* --http-timeout (seconds on the command line) */
    char     default_imports[4096]; /* --default-imports / $ENVPOOL_DEFAULT_IMPORTS: GET /json's env; "" none */
} daemon_config;

enum { CONFIG_RUN = 0, CONFIG_EXIT_OK = 1 }; /* parse results besides errors */

/*
 * Parses argv into cfg (defaults first). Returns CONFIG_RUN, CONFIG_EXIT_OK
 * (--help/--version printed), or -EINVAL after printing the reason to stderr.
 */
int config_parse(daemon_config *cfg, int argc, char **argv);
void config_free(daemon_config *cfg);
/* Logs the effective configuration, one line. */
void config_log_summary(const daemon_config *cfg);

/* ---- server.c ---- */

typedef struct conn conn;
typedef struct server server;
typedef struct envs envs;
typedef struct http_server http_server;


struct server {
    uv_loop_t     *loop;
    daemon_config *cfg;            /* borrowed */
    rpc_server    *rpc;
    stats         *st;             /* rpc_server_stats(rpc) */
    uv_pipe_t      listener;
    bool           listening;
    bool           activated;      /* socket came from systemd: do not unlink */
    bool           owns_path;      /* we created socket_path: unlink at exit */
    uv_signal_t    sig_term, sig_int, sig_hup;
    uv_timer_t     grace_timer;
    uv_timer_t     watchdog;
    uint64_t       watchdog_usec;
    uv_idle_t      pump;           /* runs conns that need attention outside a callback */
    bool           draining;       /* SIGTERM/SIGINT received */
    bool           stopping;       /* closing every handle */
    conn          *conns;          /* all open connections */
    conn          *attn;           /* connections waiting for the pump */
    uint64_t       next_conn_id;
    int            exit_code;
    envs          *envs;           /* the pool side (borrowed) */
    http_server   *http;           /* --http-listen (daemon/http.h); NULL when off or stopped */
};

/* Runs the daemon until drained; returns the exit status. e is borrowed. */
int server_run(daemon_config *cfg, envs *e);
/* Marks c for the pump (deferred work outside the current callback). */
void server_attention(server *srv, conn *c);
/* A connection was closed and freed: the drain may be complete. */
void server_conn_gone(server *srv);

/* ---- envs.c ---- */

/* Creates the pool from cfg (roots must exist). 0 or negative (logged). *out new: envs_free. */
int envs_new(const daemon_config *cfg, envs **out);
/* Registers the environment methods on srv->rpc, starts the tick and scan timers and
   polls the pool's watch descriptor. */
int envs_attach(envs *e, server *srv);
/* The search roots as real paths, NULL-terminated (borrowed). */
const char *const *envs_roots(const envs *e);
/* Request bytes were read: the next acquire drains the watch first (pool_watch_gate).
   Every read of a client's bytes must call it. e may be NULL. */
void envs_input(envs *e);
/* rpc_server_info.pool_stats adapter (ctx: the envs). */
int envs_pool_stats(void *ctx, pool_stats *out);
/* SIGHUP: drop idle environments. */
void envs_hup(envs *e);
/* After the loop stopped: every session gone, every work done. e may be NULL. */
void envs_free(envs *e);

/* ---- conn.c ---- */

#define CONN_MAX_IOV 64 /* replies gathered into one write */

/* One client connection; loop thread only. Freed when both handles have closed. */
struct conn {
    uv_pipe_t    pipe;
    uv_timer_t   idle;          /* --idle-timeout */
    server      *srv;
    rpc_session *rpc;           /* NULL once closing */
    frame_reader fr;            /* read buffer {buf, size, start, end} */
    uint64_t     id;            /* for logs */
    uid_t        uid;
    pid_t        pid;
    size_t       out_queued;    /* reply bytes queued or handed to uv_write, not yet written */
    uv_buf_t     pend[CONN_MAX_IOV]; /* replies queued for the next flush (bases: mem_free) */
    unsigned     npend;
    size_t       pend_len;
    int          open_handles;  /* 2 until the close callbacks ran */
    bool         reading;
    bool         closing;       /* conn_close called */
    bool         kill;          /* close at the next pump (set where closing is unsafe) */
    const char  *kill_reason;
    bool         eof;           /* peer finished sending */
    bool         draining;      /* server drain: read nothing more */
    bool         out_paused;    /* above --output-high, until below --output-low */
    bool         inflight_paused;
    bool         finish_after_write; /* framing error: close once output is flushed */
    bool         in_attn;       /* on the server's attention list */
    bool         in_pump;       /* conn_pump is on the stack */
    conn        *prev, *next;   /* server's list */
    conn        *attn_next;     /* server's attention list */
};

/* Accepts one pending connection from the listener (counts, checks, logs). */
void conn_accept(server *srv);
/* Processes buffered frames, applies the limits, turns reading on or off, runs deferred closes. */
void conn_pump(conn *c);
/* Starts closing (idempotent); memory goes in the close callbacks. reason: our own words. */
void conn_close(conn *c, const char *reason);
/* Server drain: read nothing more; close once nothing is in flight or queued. */
void conn_drain(conn *c);

#endif
