/*
 * cli/client.h — a blocking JSON-RPC client for envpoold, used by the CLI's
 * daemon commands (cli/cmd_client.c). One connection, newline framing.
 * Single-threaded; nothing here is shared.
 */
#ifndef ENVPOOL_CLI_CLIENT_H
#define ENVPOOL_CLI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct client {
    int      fd;
    char    *buf;          /* received bytes, mem_try_* */
    size_t   start, end, size;
    int64_t  next_id;
} client;

/*
 * The socket the CLI talks to when --socket is not given: $ENVPOOL_SOCKET,
 * else $XDG_RUNTIME_DIR/envpool.sock if it exists, else /run/envpool/envpool.sock.
 * Returns 0 or -ENAMETOOLONG.
 */
int client_default_socket(char *buf, size_t size);

/* Connects (blocking). 0 or -errno (-ENAMETOOLONG for a path that does not fit). */
int client_connect(client *c, const char *path);
void client_close(client *c);

/* Writes all of buf; 0 or -errno. */
int client_send_all(client *c, const char *buf, size_t len);
/*
 * Reads one line (without '\n'); *line is borrowed until the next read.
 * Returns 1, 0 at end of stream, -EMSGSIZE past max bytes, or -errno.
 */
int client_read_line(client *c, const char **line, size_t *len, size_t max);

/*
 * Sends a request (params stolen, may be NULL) and waits for its reply,
 * skipping notifications. Returns 0 and *reply (new: the whole response
 * object, with "result" or "error"), or -errno / -EPROTO (unparseable reply).
 */
int client_call(client *c, const char *method, json_t *params, json_t **reply);

#endif
