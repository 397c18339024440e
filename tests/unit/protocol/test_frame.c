/*
 * tests/unit/protocol/test_frame.c — the framer: line and LSP framing, detection,
 * arbitrary chunking, limits, encoding.
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

#include "protocol/protocol.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Feeds text in chunks of `chunk` bytes, collecting frames joined by '|'. */
static int run(size_t max_frame, const char *text, size_t textlen, size_t chunk, char *out, size_t outsz,
               enum frame_mode *mode)
{
    frame_reader fr;
    frame_init(&fr, max_frame);
    size_t pos = 0, olen = 0;
    int rc = 0;
    out[0] = 0;
    while (rc >= 0) {
        const uint8_t *f;
        size_t flen;
        while ((rc = frame_next(&fr, &f, &flen)) == 1) {
            assert_true(olen + flen + 2 < outsz);
            memcpy(out + olen, f, flen);
            olen += flen;
            out[olen++] = '|';
            out[olen] = 0;
        }
        if (rc < 0 || pos == textlen)
            break;
        size_t n = textlen - pos < chunk ? textlen - pos : chunk, taken;
        int frc = frame_feed(&fr, (const uint8_t *)text + pos, n, &taken);
        if (frc < 0) {
            rc = frc;
            break;
        }
        pos += taken;
    }
    if (mode)
        *mode = fr.mode;
    frame_deinit(&fr);
    return rc;
}

static void test_lines_any_chunking(void **state)
{
    (void)state;
    const char *t = "{\"a\":1}\n\n  \r\n{\"b\":2}\r\n[3]\npartial";
    for (size_t chunk = 1; chunk <= strlen(t); chunk++) {
        char out[256];
        enum frame_mode mode;
        int rc = run(0, t, strlen(t), chunk, out, sizeof out, &mode);
        assert_int_equal(rc, 0);
        assert_string_equal(out, "{\"a\":1}|{\"b\":2}|[3]|");
        assert_int_equal(mode, FRAME_LINES);
    }
    assert_int_equal(mem_live_total(), 0);
}

static void test_lsp_any_chunking(void **state)
{
    (void)state;
    const char *t = "Content-Length: 7\r\n\r\n{\"a\":1}"
                    "content-length:3\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n[2]"
                    "Content-Length: 0\r\n\r\n"
                    "Content-Length: 5\r\n\r\n{\"b\"";
    for (size_t chunk = 1; chunk <= strlen(t); chunk++) {
        char out[256];
        enum frame_mode mode;
        int rc = run(0, t, strlen(t), chunk, out, sizeof out, &mode);
        assert_int_equal(rc, 0);
        assert_string_equal(out, "{\"a\":1}|[2]||");
        assert_int_equal(mode, FRAME_LSP);
    }
    assert_int_equal(mem_live_total(), 0);
}

static void test_detect_prefix_lookalike(void **state)
{
    (void)state;
    char out[64];
    enum frame_mode mode;
    /* Starts like the LSP magic but diverges: lines. */
    assert_int_equal(run(0, "Content-Lx\n", 11, 1, out, sizeof out, &mode), 0);
    assert_int_equal(mode, FRAME_LINES);
    assert_string_equal(out, "Content-Lx|");
    /* Not enough bytes to decide yet. */
    assert_int_equal(run(0, "Conte", 5, 5, out, sizeof out, &mode), 0);
    assert_int_equal(mode, FRAME_DETECT);
    assert_int_equal(mem_live_total(), 0);
}

static void test_line_too_big(void **state)
{
    (void)state;
    char big[200];
    memset(big, 'x', sizeof big);
    big[0] = '"';
    char out[512];
    /* 100 bytes allowed: a 150-byte line without newline fails once 102 bytes are seen. */
    assert_int_equal(run(100, big, 150, 7, out, sizeof out, NULL), FRAME_ETOOBIG);
    /* exactly max_frame with CRLF is fine */
    char ok[110];
    memset(ok, 'y', 100);
    memcpy(ok + 100, "\r\n", 2);
    assert_int_equal(run(100, ok, 102, 3, out, sizeof out, NULL), 0);
    assert_int_equal(strlen(out), 101);
    /* 101 bytes then newline: too big */
    char bad[110];
    memset(bad, 'y', 101);
    bad[101] = '\n';
    assert_int_equal(run(100, bad, 102, 200, out, sizeof out, NULL), FRAME_ETOOBIG);
    assert_int_equal(mem_live_total(), 0);
}

static void test_lsp_errors(void **state)
{
    (void)state;
    char out[64];
    const char *big = "Content-Length: 101\r\n\r\n";
    assert_int_equal(run(100, big, strlen(big), 4, out, sizeof out, NULL), FRAME_ETOOBIG);
    const char *huge = "Content-Length: 99999999999999999999999\r\n\r\n";
    assert_int_equal(run(100, huge, strlen(huge), 4, out, sizeof out, NULL), FRAME_ETOOBIG);
    const char *nodigits = "Content-Length: x\r\n\r\n";
    assert_int_equal(run(100, nodigits, strlen(nodigits), 4, out, sizeof out, NULL), FRAME_EHEADER);
    const char *nolen = "Content-Length: 2\r\n\r\n{}X-Foo: 1\r\n\r\n";
    assert_int_equal(run(100, nolen, strlen(nolen), 4, out, sizeof out, NULL), FRAME_EHEADER);
    assert_string_equal(out, "{}|");
    const char *twice = "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(run(100, twice, strlen(twice), 100, out, sizeof out, NULL), FRAME_EHEADER);
    const char *nocolon = "Content-Length: 2\r\n\r\n{}garbage\r\n\r\n";
    assert_int_equal(run(100, nocolon, strlen(nocolon), 100, out, sizeof out, NULL), FRAME_EHEADER);
    /* A header block that never ends. */
    char endless[2100] = "Content-Length: 2\r\nX: ";
    size_t l = strlen(endless);
    memset(endless + l, 'a', sizeof endless - l);
    assert_int_equal(run(100, endless, sizeof endless, 64, out, sizeof out, NULL), FRAME_EHEADER);
    assert_int_equal(mem_live_total(), 0);
}

/* The header block, terminator included, must fit in FRAME_MAX_HEADER bytes, however it arrives. */
static void test_lsp_header_limit(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        char text[FRAME_MAX_HEADER + 64];
        const char *head = "Content-Length: 2\r\nX-Pad: ";
        size_t l = strlen(head);
        memcpy(text, head, l);
        size_t pad = FRAME_MAX_HEADER - l - 4 + (size_t)extra; /* "\r\n\r\n" ends at the limit (+extra) */
        memset(text + l, 'p', pad);
        memcpy(text + l + pad, "\r\n\r\n{}", 6);
        size_t len = l + pad + 6;
        for (size_t chunk = 1; chunk <= len; chunk = chunk * 3 + 1) {
            char out[64];
            int rc = run(100, text, len, chunk, out, sizeof out, NULL);
            if (extra) {
                assert_int_equal(rc, FRAME_EHEADER);
            } else {
                assert_int_equal(rc, 0);
                assert_string_equal(out, "{}|");
            }
        }
    }
    assert_int_equal(mem_live_total(), 0);
}

static void test_sticky_error(void **state)
{
    (void)state;
    frame_reader fr;
    frame_init(&fr, 4);
    size_t taken;
    assert_int_equal(frame_feed(&fr, (const uint8_t *)"123456789\n{}\n", 13, &taken), 0);
    const uint8_t *f;
    size_t len;
    assert_int_equal(frame_next(&fr, &f, &len), FRAME_ETOOBIG);
    assert_int_equal(frame_next(&fr, &f, &len), FRAME_ETOOBIG);
    frame_deinit(&fr);
    assert_int_equal(mem_live_total(), 0);
}

static void test_space_bounded(void **state)
{
    (void)state;
    frame_reader fr;
    frame_init(&fr, 10);
    uint8_t *p;
    size_t room, total = 0;
    int rc;
    while ((rc = frame_space(&fr, &p, &room)) == 0) {
        memset(p, 'a', room);
        frame_commit(&fr, room);
        total += room;
        assert_true(total < 1000000);
    }
    assert_int_equal(rc, -ENOSPC);
    assert_true(total <= 10 + FRAME_MAX_HEADER + 2);
    const uint8_t *f;
    size_t len;
    assert_int_equal(frame_next(&fr, &f, &len), FRAME_ETOOBIG);
    frame_deinit(&fr);
    assert_int_equal(mem_live_total(), 0);
}

static void test_encode(void **state)
{
    (void)state;
    rpc_global_init();
    json_t *j = json_pack("{s:s}", "k", "a\nb");
    char *out;
    size_t len;
    assert_int_equal(frame_encode(FRAME_LINES, j, &out, &len), 0);
    assert_int_equal(len, strlen("{\"k\":\"a\\nb\"}\n"));
    assert_memory_equal(out, "{\"k\":\"a\\nb\"}\n", len);
    mem_free(out);
    assert_int_equal(frame_encode(FRAME_LSP, j, &out, &len), 0);
    const char *want = "Content-Length: 12\r\n\r\n{\"k\":\"a\\nb\"}";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    /* Round trip through the reader. */
    frame_reader fr;
    frame_init(&fr, 0);
    size_t taken;
    assert_int_equal(frame_feed(&fr, (const uint8_t *)out, len, &taken), 0);
    const uint8_t *f;
    size_t flen;
    assert_int_equal(frame_next(&fr, &f, &flen), 1);
    assert_int_equal(flen, 12);
    assert_memory_equal(f, "{\"k\":\"a\\nb\"}", 12);
    frame_deinit(&fr);
    mem_free(out);
    json_decref(j);
    assert_string_equal(frame_mode_name(FRAME_LSP), "lsp");
    assert_string_equal(frame_mode_name(FRAME_LINES), "line");
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_frame",
          cmocka_unit_test(test_lines_any_chunking),
          cmocka_unit_test(test_lsp_any_chunking),
          cmocka_unit_test(test_detect_prefix_lookalike),
          cmocka_unit_test(test_line_too_big),
          cmocka_unit_test(test_lsp_errors),
          cmocka_unit_test(test_lsp_header_limit),
          cmocka_unit_test(test_sticky_error),
          cmocka_unit_test(test_space_bounded),
          cmocka_unit_test(test_encode))
