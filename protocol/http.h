/*
 * protocol/http.h — the HTTP/1.x request head parser and response builder
 * behind envpoold's --http-listen (GET /metrics, /healthz, and the routes of
 * daemon/http.c). Pure: bytes in, values out; no <uv.h>, no sockets.
 *
 * Why our own parser: Debian 12 packages no C build of llhttp (only the
 * JavaScript sources, node-llhttp), and its libhttp-parser-dev is
 * nodejs/http-parser 2.9.4, archived upstream and unmaintained since 2022.
 * What envpoold needs is small — a request line and header fields of a
 * request without a body, answered once and closed — so it is parsed here,
 * strictly (RFC 9112), bounded, and fuzzed (tests/fuzz/fuzz_http.c).
 *
 * Threads: any; nothing here keeps state between calls.
 */
#ifndef ENVPOOL_PROTOCOL_HTTP_H
#define ENVPOOL_PROTOCOL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD    8192u /* request line + header fields + blank line */
#define HTTP_MAX_HEADERS 64u   /* header fields in one request */

/* A piece of the request buffer (borrowed; not NUL-terminated). */
typedef struct http_span {
    const char *p;
    size_t      len;
} http_span;

enum http_method { HTTP_GET = 1, HTTP_HEAD, HTTP_OTHER };

typedef struct http_request {
    enum http_method method;
    http_span method_text; /* as sent (a token) */
    http_span target;      /* request-target as sent */
    http_span path;        /* origin-form path (absolute-form: the path after the authority) */
    http_span query;       /* after '?', without it; len 0 when absent */
    int       minor;       /* HTTP/1.<minor>: 0 or 1 */
    size_t    nheaders;
    bool      has_host;
    size_t    head_len;    /* bytes of the head, blank line included */
} http_request;

/*
 * Parses the request head at the start of buf[0..len). Returns 1 and fills
 * *req (spans point into buf) when the head is complete, 0 when more bytes
 * are needed, or the negated HTTP status of the refusal:
 *   -400  malformed request line or header field, bare CR, obs-fold, missing
 *         Host in HTTP/1.1, duplicate Host, absolute-form with a bad authority
 *   -413  a body announced (Content-Length other than 0, Transfer-Encoding):
 *         none of our routes takes one
 *   -414  request line longer than HTTP_MAX_HEAD
 *   -431  head longer than HTTP_MAX_HEAD or more than HTTP_MAX_HEADERS fields
 *   -505  a version other than HTTP/1.0 and HTTP/1.1
 * The result depends only on the bytes, never on how reads split them: once
 * it is not 0 it stays the same for any bytes appended.
 */
int http_parse_request(const uint8_t *buf, size_t len, http_request *req) __attribute__((warn_unused_result));

/* Does the span equal the NUL-terminated s (case-sensitive)? */
bool http_span_eq(http_span a, const char *s);

/*
 * Looks up the first parameter `name` of a query string (name=value pairs
 * separated by '&'; names compared undecoded) and writes its value
 * percent-decoded ('+' is a space) into out[0..cap), NUL-terminated.
 * Returns 1 found (*out_len its length), 0 absent, -EINVAL bad escape or a
 * decoded NUL, -ENOSPC longer than cap - 1.
 */
int http_query_param(http_span query, const char *name, char *out, size_t cap, size_t *out_len)
    __attribute__((warn_unused_result));

/* How many parameters `name` the query string has (compared as http_query_param does). */
size_t http_query_count(http_span query, const char *name);
/* Reason phrase of a status we send ("OK", "Not Found", ...; "Unknown" otherwise). */
const char *http_reason(int status);

/*
 * Writes the status line and headers of a response into out[0..cap):
 * Content-Type (NULL: none), Content-Length, Connection: close,
 * Cache-Control: no-store, then extra (NULL or header lines each ending in
 * "\r\n", e.g. "Allow: GET, HEAD\r\n"), then the blank line. Returns the
 * length, or -ENOSPC.
 */
int http_format_head(char *out, size_t cap, int status, const char *content_type, size_t content_length,
                     const char *extra) __attribute__((warn_unused_result));

#endif
