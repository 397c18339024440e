/*
 * tests/fuzz/fuzz_http.c — libFuzzer target for protocol/http.c.
 *
 * Byte 0 seeds the read sizes, the rest is what a client sends. The bytes
 * are parsed whole, and again as the daemon reads them (in pieces, parsing
 * only when a piece brings a '\n' or fills the buffer): both must reach the
 * same verdict, spans must lie inside the head, every refusal is a status we
 * document, and the query decoder and counter (of /json's parameters) agree
 * on whatever query the head carried.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/http.h"

static bool inside(http_span s, const uint8_t *buf, size_t head)
{
    const char *b = (const char *)buf;
    return s.len == 0 || (s.p >= b && s.p + s.len <= b + head) || (s.len == 1 && !memcmp(s.p, "/", 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned seed = data[0];
    data++;
    size--;
    http_request whole;
    int w = http_parse_request(data, size, &whole);
    switch (w) {
    case 0: case 1: case -400: case -413: case -414: case -431: case -501: case -505: break;
    default: abort();
    }
    if (w == 1) {
        if (whole.head_len > size || whole.head_len > HTTP_MAX_HEAD || whole.nheaders > HTTP_MAX_HEADERS)
            abort();
        if (!inside(whole.method_text, data, whole.head_len) || !inside(whole.target, data, whole.head_len) ||
            !inside(whole.path, data, whole.head_len) || !inside(whole.query, data, whole.head_len))
            abort();
        static const char *const names[] = {"q", "imports", ""};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            char out[256];
            size_t len;
            int q = http_query_param(whole.query, names[k], out, sizeof out, &len);
            if (q == 1 && (len >= sizeof out || out[len] != 0 || strlen(out) != len))
                abort();
            if (q != 0 && q != 1 && q != -22 && q != -28)
                abort();
            /* the counter /json uses to refuse a repeated parameter agrees with the lookup */
            size_t n = http_query_count(whole.query, names[k]);
            if ((n == 0) != (q == 0))
                abort();
            /* a buffer as long as the query always holds the decoded value (decoding never grows it) */
            char big[HTTP_MAX_HEAD + 1];
            size_t blen;
            int qb = http_query_param(whole.query, names[k], big, whole.query.len + 1, &blen);
            if (qb == -28 || (qb == 1 && blen > whole.query.len))
                abort();
        }
    }
    /* As the daemon reads: a bounded buffer, parse on a new line or when full. */
    static uint8_t buf[HTTP_MAX_HEAD];
    size_t have = 0, pos = 0;
    int verdict = 0;
    unsigned r = seed * 2654435761u + 1;
    while (pos < size && have < sizeof buf && verdict == 0) {
        r = r * 1103515245u + 12345u;
        size_t n = 1 + (r >> 16) % 97;
        if (n > size - pos)
            n = size - pos;
        if (n > sizeof buf - have)
            n = sizeof buf - have;
        memcpy(buf + have, data + pos, n);
        size_t old = have;
        have += n;
        pos += n;
        if (!memchr(buf + old, '\n', n) && have < sizeof buf)
            continue;
        http_request req;
        verdict = http_parse_request(buf, have, &req);
        if (verdict == 1 && req.head_len != whole.head_len)
            abort();
    }
    /* The whole input decided iff the pieces did (the buffer holds the first HTTP_MAX_HEAD bytes). */
    if (verdict != w)
        abort();
    return 0;
}
