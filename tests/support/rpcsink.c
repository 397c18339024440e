/*
 * tests/support/rpcsink.c — collected session output. See rpcsink.h.
 */
#include "tests/support/rpcsink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/mem.h"

static void sink_send(void *ctx, char *buf, size_t len)
{
    sink *k = ctx;
    if (len < sizeof k->raw) {
        memcpy(k->raw, buf, len);
        k->rawlen = len;
    }
    /* Line mode: strip the newline; LSP: skip the header. */
    const char *body = buf;
    size_t blen = len;
    const char *sep = memmem(buf, len, "\r\n\r\n", 4);
    if (!strncmp(buf, "Content-Length:", 15) && sep) {
        body = sep + 4;
        blen = len - (size_t)(body - buf);
    } else {
        assert_int_equal(buf[len - 1], '\n');
        blen--;
        assert_null(memchr(buf, '\n', blen));
    }
    json_error_t e;
    json_t *j = json_loadb(body, blen, 0, &e);
    assert_non_null(j);
    json_array_append_new(k->msgs, j);
    mem_free(buf);
}

static void sink_done(void *ctx)
{
    ((sink *)ctx)->done++;
}

const rpc_session_ops sink_ops = {sink_send, sink_done};

void sink_feed(rpc_session *s, const char *text)
{
    rpc_session_handle(s, (const uint8_t *)text, strlen(text));
}

json_t *sink_last(const sink *k)
{
    size_t n = json_array_size(k->msgs);
    assert_true(n > 0);
    return json_array_get(k->msgs, n - 1);
}

int sink_err_code(const json_t *m)
{
    return (int)json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

const char *sink_err_msg(const json_t *m)
{
    return json_string_value(json_object_get(json_object_get(m, "error"), "message"));
}
