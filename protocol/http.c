/*
 * protocol/http.c — strict, bounded HTTP/1.x request heads (RFC 9112) and
 * response heads; see protocol/http.h for why this is ours and not a library.
 *
 * The head is read line by line from the start of the buffer each time it
 * is called, and only its first HTTP_MAX_HEAD bytes are ever looked at, so
 * the verdict is a function of those bytes alone (the fuzz target feeds the
 * same bytes whole and in pieces and compares). A line ends at LF, with an
 * optional CR before it; any other CR, any control byte, obs-fold, and
 * whitespace before a field's colon are refused (request smuggling lives in
 * the lenient corners of HTTP parsers, so there are none here).
 */
#include "protocol/http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* tchar of RFC 9110 §5.6.2. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool span_ieq(const char *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != s[i])
            return false;
    return true;
}

bool http_span_eq(http_span a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

/* Splits target into path and query; 0 or -400. */
static int parse_target(http_request *req)
{
    const char *t = req->target.p;
    size_t n = req->target.len, i = 0;
    for (size_t k = 0; k < n; k++)
        if (!is_vchar((unsigned char)t[k]) || t[k] == '#')
            return -400;
    if (t[0] == '/') {
        i = 0;
    } else if (n == 1 && t[0] == '*') {
        req->path = req->target;
        return 0;
    } else {
        /* absolute-form: scheme "://" authority path-abempty */
        size_t s = 0;
        if (n >= 7 && span_ieq(t, 7, "http://"))
            s = 7;
        else if (n >= 8 && span_ieq(t, 8, "https://"))
            s = 8;
        else
            return -400;
        size_t a = s;
        while (a < n && t[a] != '/' && t[a] != '?')
            a++;
        if (a == s)
            return -400; /* empty authority */
        for (size_t k = s; k < a; k++)
            if (t[k] == '@')
                return -400; /* userinfo is not for requests */
        i = a;
    }
    size_t q = i;
    while (q < n && t[q] != '?')
        q++;
    req->path = (http_span){t + i, q - i};
    if (req->path.len == 0)
        req->path = (http_span){"/", 1};
    req->query = q < n ? (http_span){t + q + 1, n - q - 1} : (http_span){t + n, 0};
    return 0;
}

static int parse_request_line(const char *l, size_t n, http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i >= n || l[i] != ' ')
        return -400;
    req->method_text = (http_span){l, i};
    if (i == 3 && !memcmp(l, "GET", 3))
        req->method = HTTP_GET;
    else if (i == 4 && !memcmp(l, "HEAD", 4))
        req->method = HTTP_HEAD;
    else
        req->method = HTTP_OTHER;
    size_t t = ++i;
    while (i < n && l[i] != ' ')
        i++;
    if (i == t || i >= n)
        return -400;
    req->target = (http_span){l + t, i - t};
    i++;
    if (n - i != 8 || memcmp(l + i, "HTTP/", 5) || l[i + 6] != '.')
        return -400;
    char major = l[i + 5], minor = l[i + 7];
    if (major < '0' || major > '9' || minor < '0' || minor > '9')
        return -400;
    if (major != '1' || minor > '1')
        return -505;
    req->minor = minor - '0';
    return parse_target(req);
}

/* Content-Length value: 1*DIGIT; sets *v (saturating). 0 or -400. */
static int parse_length(const char *p, size_t n, uint64_t *v)
{
    if (n == 0)
        return -400;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -400;
        x = x > UINT64_MAX / 10 - 1 ? UINT64_MAX : x * 10 + (uint64_t)(p[i] - '0');
    }
    *v = x;
    return 0;
}

typedef struct head_state {
    int      nhost;
    int      nlength;
    uint64_t length;
    bool     chunked;
} head_state;

static int parse_field(const char *l, size_t n, head_state *hs)
{
    if (l[0] == ' ' || l[0] == '\t')
        return -400; /* obs-fold */
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i >= n || l[i] != ':')
        return -400; /* no name, or whitespace/garbage before the colon */
    size_t name_len = i++;
    for (size_t k = i; k < n; k++) {
        unsigned char c = (unsigned char)l[k];
        if (c != ' ' && c != '\t' && !is_vchar(c) && c < 0x80)
            return -400;
    }
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    size_t e = n;
    while (e > i && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    const char *v = l + i;
    size_t vlen = e - i;
    if (span_ieq(l, name_len, "host")) {
        hs->nhost++;
    } else if (span_ieq(l, name_len, "content-length")) {
        uint64_t x;
        if (parse_length(v, vlen, &x) < 0)
            return -400;
        if (hs->nlength++ && x != hs->length)
            return -400;
        hs->length = x;
    } else if (span_ieq(l, name_len, "transfer-encoding")) {
        hs->chunked = true;
    }
    return 0;
}

int http_parse_request(const uint8_t *buf, size_t len, http_request *req)
{
    memset(req, 0, sizeof *req);
    const char *b = (const char *)buf;
    size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    size_t pos = 0;
    bool have_line = false;
    head_state hs = {0};
    for (;;) {
        const char *nl = pos < lim ? memchr(b + pos, '\n', lim - pos) : NULL;
        if (!nl) {
            if (len < HTTP_MAX_HEAD)
                return 0;
            return have_line ? -431 : -414;
        }
        size_t end = (size_t)(nl - b), n = end - pos;
        if (n && b[end - 1] == '\r')
            n--;
        const char *l = b + pos;
        if (memchr(l, '\r', n) || memchr(l, '\0', n))
            return -400;
        pos = end + 1;
        if (!have_line) {
            if (n == 0)
                continue; /* RFC 9112 §2.2: empty lines before the request line are ignored */
            int rc = parse_request_line(l, n, req);
            if (rc < 0)
                return rc;
            have_line = true;
            continue;
        }
        if (n == 0)
            break;
        if (++req->nheaders > HTTP_MAX_HEADERS)
            return -431;
        int rc = parse_field(l, n, &hs);
        if (rc < 0)
            return rc;
    }
    if (hs.nhost > 1 || (req->minor == 1 && hs.nhost == 0))
        return -400;
    if (hs.chunked)
        return -501;
    if (hs.nlength && hs.length)
        return -413;
    req->has_host = hs.nhost == 1;
    req->head_len = pos;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int http_query_param(http_span query, const char *name, char *out, size_t cap, size_t *out_len)
{
    if (!query.p)
        return 0; /* no query at all (an asterisk-form target) */
    size_t nlen = strlen(name), i = 0;
    while (i <= query.len) {
        size_t e = i;
        while (e < query.len && query.p[e] != '&')
            e++;
        size_t eq = i;
        while (eq < e && query.p[eq] != '=')
            eq++;
        if (eq - i == nlen && !memcmp(query.p + i, name, nlen)) {
            size_t o = 0;
            for (size_t k = eq < e ? eq + 1 : e; k < e; k++) {
                char c = query.p[k];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    if (e - k < 3)
                        return -EINVAL; /* '%' needs two hex digits before the pair ends */
                    int hi = hexval(query.p[k + 1]), lo = hexval(query.p[k + 2]);
                    if (hi < 0 || lo < 0)
                        return -EINVAL;
                    c = (char)(hi * 16 + lo);
                    if (!c)
                        return -EINVAL;
                    k += 2;
                }
                if (o + 1 >= cap)
                    return -ENOSPC;
                out[o++] = c;
            }
            if (cap == 0)
                return -ENOSPC;
            out[o] = 0;
            *out_len = o;
            return 1;
        }
        i = e + 1;
    }
    return 0;
}

size_t http_query_count(http_span query, const char *name)
{
    if (!query.p)
        return 0;
    size_t n = 0, nlen = strlen(name), i = 0;
    while (i <= query.len) {
        size_t e = i;
        while (e < query.len && query.p[e] != '&')
            e++;
        size_t eq = i;
        while (eq < e && query.p[eq] != '=')
            eq++;
        if (eq - i == nlen && !memcmp(query.p + i, name, nlen))
            n++;
        i = e + 1;
    }
    return n;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

int http_format_head(char *out, size_t cap, int status, const char *content_type, size_t content_length,
                     const char *extra)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n"
                     "Cache-Control: no-store\r\n%s\r\n",
                     status, http_reason(status), content_type ? "Content-Type: " : "",
                     content_type ? content_type : "", content_type ? "\r\n" : "", content_length,
                     extra ? extra : "");
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}
