/*
 * daemon/server.c — envpoold's loop: listener, signals, drain, shutdown, systemd.
 *
 * One libuv loop owns everything. The listener is systemd's socket when
 * activated (LISTEN_FDS), else our own: the path is checked for length (no
 * silent truncation), a live daemon on it makes us refuse, a stale socket file
 * is removed, and the new socket is created under a umask that makes it 0600
 * (0660 and chowned with --socket-group) from its first instant.
 *
 * SIGTERM/SIGINT: stop accepting, unlink the socket, let every connection
 * finish what it already received (within --grace), then close every handle
 * with uv_walk; uv_loop_close must then succeed and we exit 0. A second
 * signal closes the connections at once. SIGHUP drops idle environments.
 * The pump (a uv_idle handle, active only while needed) runs connections that
 * had work deferred: frames beyond the per-wakeup bound, closes requested
 * from inside a callback, completions of pending calls.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon/http.h"
#include "util/mem.h"

static void notify(const char *state)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

/* ---- attention pump ---------------------------------------------------- */

static void on_pump(uv_idle_t *h)
{
    server *srv = h->data;
    /* Connections queued while this round runs go to a fresh list, served next round.
     * Nothing is freed during a round (frees happen in close callbacks), so walking
     * the detached list is safe; on_close unlinks a conn from srv->attn. */
    conn *list = srv->attn;
    srv->attn = NULL;
    while (list) {
        conn *c = list;
        list = c->attn_next;
        c->attn_next = NULL;
        c->in_attn = false;
        conn_pump(c);
    }
    if (!srv->attn)
        uv_idle_stop(h);
}

void server_attention(server *srv, conn *c)
{
    if (c->in_attn || srv->stopping)
        return;
    c->in_attn = true;
    c->attn_next = srv->attn;
    srv->attn = c;
    uv_idle_start(&srv->pump, on_pump);
}

/* ---- shutdown ---------------------------------------------------------- */

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void unlink_socket(server *srv)
{
    if (srv->owns_path) {
        if (unlink(srv->cfg->socket_path) < 0 && errno != ENOENT)
            log_msg(LOG_WARN, "cannot remove %s: %s", srv->cfg->socket_path, strerror(errno));
        srv->owns_path = false;
    }
}

static void stop_listening(server *srv)
{
    if (srv->listening) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listening = false;
    }
    unlink_socket(srv);
}

void server_conn_gone(server *srv)
{
    if (srv->draining && !srv->conns && !srv->stopping) {
        srv->stopping = true;
        log_msg(LOG_INFO, "all connections closed; stopping");
        http_stop(srv); /* its handles free memory in their close callbacks: not walk_close's */
        uv_walk(srv->loop, walk_close, NULL);
    }
}

static void on_grace(uv_timer_t *t)
{
    server *srv = t->data;
    unsigned n = 0;
    for (conn *c = srv->conns; c; c = c->next)
        n++;
    log_msg(LOG_WARN, "grace period over: closing %u connection(s) with requests still in flight", n);
    for (conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c, "grace period over");
    }
}

static void start_drain(server *srv, const char *why)
{
    if (srv->draining) {
        log_msg(LOG_WARN, "%s again: closing every connection now", why);
        on_grace(&srv->grace_timer);
        return;
    }
    srv->draining = true;
    log_msg(LOG_INFO, "%s: draining (no new connections; in-flight requests get %.3fs)", why,
            (double)srv->cfg->grace_ms / 1000.0);
    notify("STOPPING=1\nSTATUS=draining");
    stop_listening(srv);
    uv_timer_start(&srv->grace_timer, on_grace, srv->cfg->grace_ms, 0);
    for (conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        conn_drain(c);
    }
    server_conn_gone(srv);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *srv = h->data;
    if (signum == SIGHUP) {
        envs_hup(srv->envs);
        return;
    }
    start_drain(srv, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    notify("WATCHDOG=1");
}

/* ---- listener ---------------------------------------------------------- */

static void on_connection(uv_stream_t *l, int status)
{
    server *srv = l->data;
    if (status < 0) {
        log_msg(LOG_WARN, "listener: %s", uv_strerror(status));
        return;
    }
    if (srv->draining)
        return;
    conn_accept(srv);
}

/* Is someone listening on path? 1 yes, 0 stale or absent, negative error (logged). */
static int probe_socket(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) < 0) {
        if (errno == ENOENT)
            return 0;
        log_msg(LOG_ERROR, "cannot inspect %s: %s", path, strerror(errno));
        return -errno;
    }
    if (!S_ISSOCK(sb.st_mode)) {
        log_msg(LOG_ERROR, "%s exists and is not a socket; refusing to replace it", path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_msg(LOG_ERROR, "socket: %s", strerror(errno));
        return -errno;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int err = errno;
    close(fd);
    if (rc == 0) {
        log_msg(LOG_ERROR, "another daemon is listening on %s; refusing to start", path);
        return 1;
    }
    if (err == ECONNREFUSED) {
        if (unlink(path) < 0 && errno != ENOENT) {
            log_msg(LOG_ERROR, "cannot remove stale socket %s: %s", path, strerror(errno));
            return -errno;
        }
        log_msg(LOG_INFO, "removed stale socket %s", path);
        return 0;
    }
    log_msg(LOG_ERROR, "cannot probe %s: %s", path, strerror(err));
    return -err;
}

static int listen_own(server *srv)
{
    const char *path = srv->cfg->socket_path;
    struct sockaddr_un sa;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path) {
        log_msg(LOG_ERROR, "socket path %s is %zu bytes; a Unix socket path holds at most %zu", path, len,
                sizeof sa.sun_path - 1);
        return -ENAMETOOLONG;
    }
    int rc = probe_socket(path);
    if (rc != 0)
        return rc > 0 ? -EADDRINUSE : rc;
    uv_pipe_init(srv->loop, &srv->listener, 0);
    srv->listener.data = srv;
    srv->listening = true;
    mode_t old = umask(srv->cfg->socket_group ? 0117 : 0177);
#if UV_VERSION_HEX >= 0x012e00
    rc = uv_pipe_bind2(&srv->listener, path, len, UV_PIPE_NO_TRUNCATE);
#else
    rc = uv_pipe_bind(&srv->listener, path); /* length checked above: no truncation */
#endif
    umask(old);
    if (rc < 0) {
        log_msg(LOG_ERROR, "cannot bind %s: %s", path, uv_strerror(rc));
        return rc;
    }
    srv->owns_path = true;
    if (srv->cfg->socket_group && chown(path, (uid_t)-1, srv->cfg->group) < 0) {
        log_msg(LOG_ERROR, "cannot give %s to group %s: %s", path, srv->cfg->socket_group, strerror(errno));
        return -errno;
    }
    if (chmod(path, srv->cfg->socket_group ? 0660 : 0600) < 0) {
        log_msg(LOG_ERROR, "cannot chmod %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

/* 1 if systemd passed us the socket, 0 if not, negative on error. */
static int listen_activated(server *srv)
{
#ifdef HAVE_SYSTEMD
    int n = sd_listen_fds(1);
    if (n <= 0)
        return n < 0 ? n : 0;
    if (n > 1) {
        log_msg(LOG_ERROR, "systemd passed %d sockets; envpoold.socket should declare exactly one", n);
        return -EINVAL;
    }
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
        log_msg(LOG_ERROR, "the socket systemd passed is not a listening Unix stream socket");
        return -EINVAL;
    }
    uv_pipe_init(srv->loop, &srv->listener, 0);
    srv->listener.data = srv;
    srv->listening = true;
    int rc = uv_pipe_open(&srv->listener, fd);
    if (rc < 0) {
        log_msg(LOG_ERROR, "cannot use the socket systemd passed: %s", uv_strerror(rc));
        return rc;
    }
    srv->activated = true;
    return 1;
#else
    (void)srv;
    return 0;
#endif
}

/* ---- run --------------------------------------------------------------- */


int server_run(daemon_config *cfg, envs *e)
{
    /* server.info's "formats": every region format the reader accepts, as region/ spells them. */
    const char *formats_read[] = {region_format_name(REGION_V0), region_format_name(REGION_V1),
                                  region_format_name(REGION_V2), NULL};
    server srv;
    memset(&srv, 0, sizeof srv);
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        log_msg(LOG_ERROR, "uv_loop_init: %s", uv_strerror(rc));
        return 1;
    }
    srv.loop = &loop;
    srv.cfg = cfg;
    srv.exit_code = 0;
    srv.envs = e;
    rpc_server_info info = {
        .name = "envpoold", .version = ENVPOOL_VERSION, .search_path = envs_roots(e),
        .formats = formats_read, .pid = (int64_t)getpid(), .pool_stats = envs_pool_stats, .pool_ctx = e,
    };
    srv.rpc = rpc_server_new(&info);
    srv.st = rpc_server_stats(srv.rpc);
    srv.st->version = ENVPOOL_VERSION;
    srv.st->limits = (stats_limits){
        .max_connections = cfg->max_connections, .max_frame = cfg->max_frame,
        .max_inflight = cfg->max_inflight, .idle_timeout_ms = cfg->idle_timeout_ms,
        .output_high = cfg->output_high, .output_low = cfg->output_low, .output_hard = cfg->output_hard,
    };
    if ((rc = envs_attach(e, &srv)) < 0)
        goto fail;

    uv_idle_init(&loop, &srv.pump);
    srv.pump.data = &srv;
    uv_timer_init(&loop, &srv.grace_timer);
    srv.grace_timer.data = &srv;
    uv_timer_init(&loop, &srv.watchdog);
    srv.watchdog.data = &srv;
    uv_signal_init(&loop, &srv.sig_term);
    uv_signal_init(&loop, &srv.sig_int);
    uv_signal_init(&loop, &srv.sig_hup);
    srv.sig_term.data = srv.sig_int.data = srv.sig_hup.data = &srv;
    uv_signal_start(&srv.sig_term, on_signal, SIGTERM);
    uv_signal_start(&srv.sig_int, on_signal, SIGINT);
    uv_signal_start(&srv.sig_hup, on_signal, SIGHUP);

    rc = listen_activated(&srv);
    if (rc == 0)
        rc = listen_own(&srv);
    if (rc < 0)
        goto fail;
    rc = uv_listen((uv_stream_t *)&srv.listener, 511, on_connection);
    if (rc < 0) {
        log_msg(LOG_ERROR, "listen: %s", uv_strerror(rc));
        goto fail;
    }
    if ((rc = http_start(&srv)) < 0)
        goto fail;
#ifdef HAVE_SYSTEMD
    if (sd_watchdog_enabled(1, &srv.watchdog_usec) > 0 && srv.watchdog_usec >= 2000) {
        uint64_t every = srv.watchdog_usec / 2000;
        uv_timer_start(&srv.watchdog, on_watchdog, every, every);
        log_msg(LOG_INFO, "systemd watchdog: pinging every %" PRIu64 " ms", every);
    }
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s\nMAINPID=%ld", cfg->socket_path, (long)getpid());
#else
    (void)on_watchdog;
#endif
    log_msg(LOG_INFO, "listening on %s%s", srv.activated ? "the socket systemd passed" : cfg->socket_path,
            srv.activated ? "" : (cfg->socket_group ? " (mode 0660)" : " (mode 0600)"));

    uv_run(&loop, UV_RUN_DEFAULT);
    goto close;

fail:
    srv.exit_code = 1;
    srv.draining = srv.stopping = true;
    stop_listening(&srv);
    http_stop(&srv);
    uv_walk(&loop, walk_close, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
close:
    unlink_socket(&srv);
    rc = uv_loop_close(&loop);
    if (rc != 0) {
        log_msg(LOG_ERROR, "uv_loop_close: %s (a handle was left open)", uv_strerror(rc));
        srv.exit_code = 1;
    }
    rpc_server_free(srv.rpc);
    if (srv.exit_code == 0)
        log_msg(LOG_INFO, "stopped");
    return srv.exit_code;
}
