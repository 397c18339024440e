/*
 * cli/client.c — a blocking JSON-RPC connection to envpoold for the CLI.
 *
 * The CLI sends one request at a time (or pipelines, in `batch`, with its own
 * poll loop over client_send_all/client_read_line); replies are single lines.
 * The receive buffer grows on demand up to the caller's limit per line.
 */
#include "cli/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "util/mem.h"

int client_default_socket(char *buf, size_t size)
{
    const char *env = getenv("ENVPOOL_SOCKET");
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else {
        const char *dir = getenv("XDG_RUNTIME_DIR");
        struct stat sb;
        n = -1;
        if (dir && *dir && geteuid() != 0) {
            n = snprintf(buf, size, "%s/envpool.sock", dir);
            if (n >= 0 && (size_t)n < size && stat(buf, &sb) < 0)
                n = -1;
        }
        if (n < 0)
            n = snprintf(buf, size, "/run/envpool/envpool.sock");
    }
    return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int client_connect(client *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->next_id = 1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    c->fd = fd;
    return 0;
}

void client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    mem_free(c->buf);
    c->buf = NULL;
    c->start = c->end = c->size = 0;
}

int client_send_all(client *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int client_read_line(client *c, const char **line, size_t *len, size_t max)
{
    size_t scanned = 0;
    for (;;) {
        char *nl = c->end - c->start > scanned
            ? memchr(c->buf + c->start + scanned, '\n', c->end - c->start - scanned) : NULL;
        if (nl) {
            *line = c->buf + c->start;
            *len = (size_t)(nl - (c->buf + c->start));
            c->start += *len + 1;
            return 1;
        }
        scanned = c->end - c->start;
        if (scanned > max)
            return -EMSGSIZE;
        if (c->start > 0) {
            memmove(c->buf, c->buf + c->start, c->end - c->start);
            c->end -= c->start;
            c->start = 0;
        }
        if (c->end == c->size) {
            size_t ns = c->size ? c->size * 2 : 65536;
            char *nb = mem_try_realloc(c->buf, ns);
            if (!nb)
                return -ENOMEM;
            c->buf = nb;
            c->size = ns;
        }
        ssize_t r = recv(c->fd, c->buf + c->end, c->size - c->end, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return 0;
        c->end += (size_t)r;
    }
}

int client_call(client *c, const char *method, json_t *params, json_t **reply)
{
    int64_t id = c->next_id++;
    json_t *req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    if (params)
        json_object_set_new(req, "params", params);
    char *out;
    size_t outlen;
    int rc = frame_encode(FRAME_LINES, req, &out, &outlen);
    json_decref(req);
    if (rc < 0)
        return rc;
    rc = client_send_all(c, out, outlen);
    mem_free(out);
    if (rc < 0)
        return rc;
    for (;;) {
        const char *line;
        size_t len;
        rc = client_read_line(c, &line, &len, 256u << 20);
        if (rc <= 0)
            return rc == 0 ? -ECONNRESET : rc;
        json_t *msg = json_loadb(line, len, 0, NULL);
        if (!json_is_object(msg)) {
            json_decref(msg);
            return -EPROTO;
        }
        json_t *rid = json_object_get(msg, "id");
        if (json_object_get(msg, "method") || !rid) {
            json_decref(msg); /* a notification ($/progress): not ours to print */
            continue;
        }
        if (json_is_integer(rid) && json_integer_value(rid) == id) {
            *reply = msg;
            return 0;
        }
        if (json_is_null(rid) && json_object_get(msg, "error")) {
            *reply = msg; /* e.g. "server busy" sent before closing */
            return 0;
        }
        json_decref(msg);
    }
}
