/*
 * tests/unit/protocol/test_http.c — the HTTP request-head parser (every
 * refusal status, limits, split invariance), query parameters, response heads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/http.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static int parse(const char *s, http_request *req)
{
    return http_parse_request((const uint8_t *)s, strlen(s), req);
}

static int status_of(const char *s)
{
    http_request req;
    return parse(s, &req);
}

static void test_simple_get(void **state)
{
    (void)state;
    http_request req;
    const char *s = "GET /metrics HTTP/1.1\r\nHost: localhost:9464\r\nUser-Agent: Prometheus/2.42.0\r\n"
                    "Accept: text/plain;version=0.0.4\r\n\r\nEXTRA";
    assert_int_equal(parse(s, &req), 1);
    assert_int_equal(req.method, HTTP_GET);
    assert_true(http_span_eq(req.method_text, "GET"));
    assert_true(http_span_eq(req.path, "/metrics"));
    assert_true(http_span_eq(req.target, "/metrics"));
    assert_int_equal(req.query.len, 0);
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.nheaders, 3);
    assert_true(req.has_host);
    assert_int_equal(req.head_len, strlen(s) - 5);
}

static void test_forms(void **state)
{
    (void)state;
    http_request req;
    assert_int_equal(parse("HEAD /json?q=List.map&imports=Init HTTP/1.0\n\n", &req), 1);
    assert_int_equal(req.method, HTTP_HEAD);
    assert_int_equal(req.minor, 0);
    assert_false(req.has_host); /* HTTP/1.0 needs none */
    assert_true(http_span_eq(req.path, "/json"));
    assert_true(http_span_eq(req.query, "q=List.map&imports=Init"));
    assert_int_equal(parse("GET http://example.org:80/metrics?x HTTP/1.1\r\nHost: a\r\n\r\n", &req), 1);
    assert_true(http_span_eq(req.path, "/metrics"));
    assert_true(http_span_eq(req.query, "x"));
    assert_int_equal(parse("GET HTTPS://h HTTP/1.1\r\nHost: a\r\n\r\n", &req), 1);
    assert_true(http_span_eq(req.path, "/"));
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &req), 1);
    assert_int_equal(req.method, HTTP_OTHER);
    assert_true(http_span_eq(req.path, "*"));
    assert_int_equal(parse("\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &req), 1);
    assert_true(http_span_eq(req.method_text, "POST"));
    /* Field values: OWS trimmed, obs-text allowed. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost:a\r\nX-Y: \t v\xc3\xa9 \t\r\n\r\n", &req), 1);
}

static void test_refusals(void **state)
{
    (void)state;
    /* Malformed request lines. */
    assert_int_equal(status_of("GET /\r\n\r\n"), -400);
    assert_int_equal(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / http/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET metrics HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET http://u@h/x HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), -505);
    assert_int_equal(status_of("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), -505);
    /* Bare CR, NUL, obs-fold, space before colon, control bytes. */
    assert_int_equal(status_of("GET / HTTP/1.1\rHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost a\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n"), -400);
    http_request req;
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    assert_int_equal(http_parse_request((const uint8_t *)nul, sizeof nul - 1, &req), -400);
    /* Host rules. */
    assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), -400);
    /* Bodies. */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), -413);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
                     -413);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"),
                     -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), -501);
}

static void test_limits(void **state)
{
    (void)state;
    static char buf[HTTP_MAX_HEAD * 2];
    http_request req;
    /* A request line that never ends: 0 until HTTP_MAX_HEAD bytes, then 414. */
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', sizeof buf - 5);
    assert_int_equal(http_parse_request((uint8_t *)buf, HTTP_MAX_HEAD - 1, &req), 0);
    assert_int_equal(http_parse_request((uint8_t *)buf, HTTP_MAX_HEAD, &req), -414);
    assert_int_equal(http_parse_request((uint8_t *)buf, sizeof buf, &req), -414);
    /* A head of many short fields: 431 past HTTP_MAX_HEADERS. */
    size_t n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 1; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "X-%u: v\r\n", i);
    memcpy(buf + n, "\r\n", 2);
    assert_int_equal(http_parse_request((uint8_t *)buf, n + 2, &req), 1);
    assert_int_equal(req.nheaders, HTTP_MAX_HEADERS);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "X-last: v\r\n\r\n");
    assert_int_equal(http_parse_request((uint8_t *)buf, n, &req), -431);
    /* A head that fills HTTP_MAX_HEAD without its blank line: 431. */
    n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(buf + n, 'v', sizeof buf - n);
    assert_int_equal(http_parse_request((uint8_t *)buf, HTTP_MAX_HEAD, &req), -431);
    /* A head of exactly HTTP_MAX_HEAD bytes is accepted. */
    n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(buf + n, 'v', HTTP_MAX_HEAD - n - 4);
    memcpy(buf + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
    assert_int_equal(http_parse_request((uint8_t *)buf, HTTP_MAX_HEAD, &req), 1);
    assert_int_equal(req.head_len, HTTP_MAX_HEAD);
}

/* Every prefix gives 0 until the verdict, and the verdict never changes after it. */
static void test_prefixes(void **state)
{
    (void)state;
    const char *cases[] = {
        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\ntrailing bytes",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "BAD\r\nmore\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *s = cases[c];
        size_t n = strlen(s);
        http_request req;
        int final = http_parse_request((const uint8_t *)s, n, &req);
        assert_int_not_equal(final, 0);
        bool decided = false;
        for (size_t k = 0; k <= n; k++) {
            int rc = http_parse_request((const uint8_t *)s, k, &req);
            if (decided)
                assert_int_equal(rc, final);
            else if (rc != 0) {
                assert_int_equal(rc, final);
                decided = true;
            }
        }
        assert_true(decided);
    }
}

static void test_query(void **state)
{
    (void)state;
    char out[32];
    size_t len;
    http_span q = {"a=1&q=List.map+%CE%B1&empty=&flag&q=second", 0};
    q.len = strlen(q.p);
    assert_int_equal(http_query_param(q, "q", out, sizeof out, &len), 1);
    assert_string_equal(out, "List.map \xce\xb1");
    assert_int_equal(len, 11);
    assert_int_equal(http_query_param(q, "a", out, sizeof out, &len), 1);
    assert_string_equal(out, "1");
    assert_int_equal(http_query_param(q, "empty", out, sizeof out, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(http_query_param(q, "flag", out, sizeof out, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(http_query_param(q, "missing", out, sizeof out, &len), 0);
    assert_int_equal(http_query_param(q, "q", out, 5, &len), -ENOSPC);
    http_span bad[] = {{"q=%", 3}, {"q=%4", 4}, {"q=%zz", 5}, {"q=%00", 5}, {"q=%4&x=1", 8}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(http_query_param(bad[i], "q", out, sizeof out, &len), -EINVAL);
    http_span none = {"", 0};
    assert_int_equal(http_query_param(none, "q", out, sizeof out, &len), 0);
}

static void test_format_head(void **state)
{
    (void)state;
    char h[256];
    int n = http_format_head(h, sizeof h, 405, "text/plain", 23, "Allow: GET, HEAD\r\n");
    assert_true(n > 0);
    assert_string_equal(h, "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
                           "Connection: close\r\nCache-Control: no-store\r\nAllow: GET, HEAD\r\n\r\n");
    n = http_format_head(h, sizeof h, 200, NULL, 0, NULL);
    assert_string_equal(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n");
    assert_int_equal(http_format_head(h, 20, 200, NULL, 0, NULL), -ENOSPC);
    assert_string_equal(http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(http_reason(299), "Unknown");
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_http",
          cmocka_unit_test(test_simple_get),
          cmocka_unit_test(test_forms),
          cmocka_unit_test(test_refusals),
          cmocka_unit_test(test_limits),
          cmocka_unit_test(test_prefixes),
          cmocka_unit_test(test_query),
          cmocka_unit_test(test_format_head))
