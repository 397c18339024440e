/*
 * tests/unit/protocol/test_rpc.c — the JSON-RPC envelope: requests, notifications,
 * batches, error codes, parameter checks, pending calls, cancellation.
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
#include "tests/support/rpcsink.h"
#include "tests/support/testmain.h"
#include "util/mem.h"


/* A method that stays pending until finished by the test. */
typedef struct waiter {
    rpc_call *call;
    int       cancelled;
} waiter;

static void waiter_cancel(rpc_call *c, void *arg)
{
    waiter *w = arg;
    assert_ptr_equal(w->call, c);
    w->cancelled++;
    w->call = NULL;
}

static waiter waiters[4];
static int nwaiters;

static int slow_method(rpc_call *c, json_t *params, void *udata)
{
    (void)params;
    (void)udata;
    waiter *w = &waiters[nwaiters++];
    w->call = c;
    w->cancelled = 0;
    rpc_call_set_cancel(c, waiter_cancel, w);
    rpc_call_progress(c, 1, 3);
    return 0;
}

static int checked_method(rpc_call *c, json_t *params, void *udata)
{
    (void)udata;
    const char *name;
    int64_t limit;
    json_t *imports;
    bool flag;
    static const char *const modes[] = {"prefix", "substring", "fuzzy", NULL};
    int mode;
    int rc;
    if ((rc = rpc_param_string(c, params, "name", true, &name)) ||
        (rc = rpc_param_int(c, params, "limit", false, 1, 1000, 50, &limit)) ||
        (rc = rpc_param_strings(c, params, "imports", false, 8, &imports)) ||
        (rc = rpc_param_bool(c, params, "flag", false, &flag)) ||
        (rc = rpc_param_enum(c, params, "mode", modes, 0, &mode)))
        return rc;
    rpc_call_result(c, json_pack("{s:s,s:I,s:b,s:s}", "name", name, "limit", (json_int_t)limit,
                                 "flag", flag, "mode", modes[mode]));
    return 0;
}

static int failing_method(rpc_call *c, json_t *params, void *udata)
{
    (void)c;
    (void)params;
    (void)udata;
    return -EIO;
}

static int fake_pool(void *ctx, pool_stats *out)
{
    (void)ctx;
    out->capacity = 8;
    out->acquired = 3;
    return 0;
}

typedef struct fixture {
    rpc_server  *srv;
    rpc_session *s;
    sink         k;
} fixture;

static const char *const search_path[] = {"/lib/lean", NULL};
static const char *const formats[] = {"v1", "v2", NULL};

static int setup(void **state)
{
    rpc_global_init();
    fixture *f = calloc(1, sizeof *f);
    rpc_server_info info = {"envpoold", "9.9", search_path, formats, 42, fake_pool, NULL};
    f->srv = rpc_server_new(&info);
    rpc_method slow = {"test.slow", slow_method, NULL, NULL};
    rpc_method checked = {"test.checked", checked_method, NULL, "name,limit,imports,flag,mode"};
    rpc_method failing = {"test.fail", failing_method, NULL, NULL};
    assert_int_equal(rpc_server_add(f->srv, &slow), 0);
    assert_int_equal(rpc_server_add(f->srv, &checked), 0);
    assert_int_equal(rpc_server_add(f->srv, &failing), 0);
    f->k.msgs = json_array();
    f->s = rpc_session_new(f->srv, &sink_ops, &f->k);
    nwaiters = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rpc_session_free(f->s);
    rpc_server_free(f->srv);
    json_decref(f->k.msgs);
    free(f);
    assert_int_equal(mem_live_total(), 0);
    return 0;
}

static void test_server_info(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}");
    json_t *m = sink_last(&f->k);
    assert_int_equal(json_integer_value(json_object_get(m, "id")), 1);
    json_t *r = json_object_get(m, "result");
    assert_string_equal(json_string_value(json_object_get(r, "name")), "envpoold");
    assert_string_equal(json_string_value(json_object_get(r, "version")), "9.9");
    assert_int_equal(json_integer_value(json_object_get(r, "pid")), 42);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "search_path"), 0)), "/lib/lean");
    assert_int_equal(json_array_size(json_object_get(r, "formats")), 2);
}

static void test_parse_errors_keep_session(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{not json");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_PARSE_ERROR);
    assert_true(json_is_null(json_object_get(sink_last(&f->k), "id")));
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"server.info\"}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_PARSE_ERROR);
    char deep[300];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 10);
    deep[210] = 0;
    sink_feed(f->s, deep);
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_PARSE_ERROR);
    assert_non_null(strstr(sink_err_msg(sink_last(&f->k)), "nesting"));
    /* brackets inside strings do not count */
    assert_true(rpc_depth_ok((const uint8_t *)"[\"[[[[[\\\"[[[\"]", 14, 2));
    assert_false(rpc_depth_ok((const uint8_t *)"[[[", 3, 2));
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"server.info\"}");
    assert_string_equal(json_string_value(json_object_get(sink_last(&f->k), "id")), "x");
    assert_non_null(json_object_get(sink_last(&f->k), "result"));
    assert_int_equal(rpc_server_stats(f->srv)->server.parse_errors, 3);
}

static void test_invalid_requests(void **state)
{
    fixture *f = *state;
    const char *bad[] = {
        "42", "\"str\"", "{\"id\":1,\"method\":\"server.info\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"server.info\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}", "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\",\"params\":3}", "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t before = json_array_size(f->k.msgs);
        sink_feed(f->s, bad[i]);
        assert_int_equal(json_array_size(f->k.msgs), before + 1);
        assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_REQUEST);
    }
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\",\"params\":[1]}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_PARAMS);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"no.such\"}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_METHOD_NOT_FOUND);
    assert_int_equal(json_integer_value(json_object_get(sink_last(&f->k), "id")), 5);
    assert_non_null(strstr(sink_err_msg(sink_last(&f->k)), "no.such"));
}

static void test_notifications_silent(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"server.info\"}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"test.checked\",\"params\":{}}");
    assert_int_equal(json_array_size(f->k.msgs), 0);
    stats *st = rpc_server_stats(f->srv);
    assert_int_equal(st->unknown.requests, 1);
}

static void test_params(void **state)
{
    fixture *f = *state;
    struct { const char *params; const char *msg; } cases[] = {
        {"{}", "param 'name': required"},
        {"{\"name\":3}", "param 'name': must be a string"},
        {"{\"name\":\"\"}", "param 'name': must not be empty"},
        {"{\"name\":\"a\\u0000b\"}", NULL}, /* jansson refuses NUL: parse error */
        {"{\"name\":\"a\",\"limit\":0}", "param 'limit': must be an integer in 1..1000"},
        {"{\"name\":\"a\",\"limit\":1.5}", "param 'limit': must be an integer in 1..1000"},
        {"{\"name\":\"a\",\"imports\":[]}", "param 'imports': must not be empty"},
        {"{\"name\":\"a\",\"imports\":[\"A\",2]}", "param 'imports': item 1 must be a non-empty string"},
        {"{\"name\":\"a\",\"imports\":\"A\"}", "param 'imports': must be an array of strings"},
        {"{\"name\":\"a\",\"flag\":1}", "param 'flag': must be true or false"},
        {"{\"name\":\"a\",\"mode\":\"x\"}", "param 'mode': must be one of \"prefix\", \"substring\", \"fuzzy\""},
        {"{\"name\":\"a\",\"nmae\":1}", "param 'nmae': unknown (accepted: name,limit,imports,flag,mode)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"test.checked\",\"params\":%s}", i,
                 cases[i].params);
        sink_feed(f->s, req);
        json_t *m = sink_last(&f->k);
        if (!cases[i].msg) {
            assert_int_equal(sink_err_code(m), RPC_PARSE_ERROR);
            continue;
        }
        assert_int_equal(sink_err_code(m), RPC_INVALID_PARAMS);
        assert_string_equal(sink_err_msg(m), cases[i].msg);
        assert_int_equal(json_integer_value(json_object_get(m, "id")), (json_int_t)i);
    }
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"test.checked\",\"params\":"
            "{\"name\":\"n\",\"limit\":7,\"flag\":true,\"mode\":\"fuzzy\",\"imports\":null}}");
    json_t *r = json_object_get(sink_last(&f->k), "result");
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "limit")), 7);
    assert_string_equal(json_string_value(json_object_get(r, "mode")), "fuzzy");
    assert_true(json_is_true(json_object_get(r, "flag")));
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":100,\"method\":\"server.info\",\"params\":{\"x\":1}}");
    assert_string_equal(sink_err_msg(sink_last(&f->k)), "param 'x': unknown (server.info takes no params)");
}

static void test_internal_error(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.fail\"}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INTERNAL_ERROR);
}

static void test_batch(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"},"
            "{\"jsonrpc\":\"2.0\",\"method\":\"server.info\"},"
            "7,"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]");
    assert_int_equal(json_array_size(f->k.msgs), 1);
    json_t *b = sink_last(&f->k);
    assert_true(json_is_array(b));
    assert_int_equal(json_array_size(b), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 0), "id")), 1);
    assert_int_equal(sink_err_code(json_array_get(b, 1)), RPC_INVALID_REQUEST);
    assert_int_equal(sink_err_code(json_array_get(b, 2)), RPC_METHOD_NOT_FOUND);
    /* all notifications: nothing */
    sink_feed(f->s, "[{\"jsonrpc\":\"2.0\",\"method\":\"server.info\"}]");
    assert_int_equal(json_array_size(f->k.msgs), 1);
}

static void test_batch_too_large(void **state)
{
    fixture *f = *state;
    size_t n = RPC_MAX_BATCH + 1;
    char *buf = malloc(n * 3 + 2);
    size_t l = 0;
    buf[l++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf[l++] = ',';
        buf[l++] = '1';
    }
    buf[l++] = ']';
    rpc_session_handle(f->s, (const uint8_t *)buf, l);
    free(buf);
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_REQUEST);
    assert_int_equal(rpc_server_stats(f->srv)->server.batch_too_large, 1);
}

static void test_pending_and_cancel(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"test.slow\"}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"test.slow\"}");
    assert_int_equal(rpc_session_inflight(f->s), 2);
    /* two progress notifications so far */
    assert_int_equal(json_array_size(f->k.msgs), 2);
    assert_string_equal(json_string_value(json_object_get(sink_last(&f->k), "method")), "$/progress");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sink_last(&f->k), "params"), "id")), "b");
    /* a request that overtakes the pending ones */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"server.info\"}");
    assert_int_equal(json_integer_value(json_object_get(sink_last(&f->k), "id")), 3);
    /* cancel "a" */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"a\"}}");
    assert_int_equal(waiters[0].cancelled, 1);
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_CANCELLED);
    assert_string_equal(json_string_value(json_object_get(sink_last(&f->k), "id")), "a");
    assert_int_equal(rpc_session_inflight(f->s), 1);
    assert_int_equal(f->k.done, 1);
    /* cancel of an unknown id: nothing happens */
    size_t before = json_array_size(f->k.msgs);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"zz\"}}");
    assert_int_equal(json_array_size(f->k.msgs), before);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"$/cancelRequest\",\"params\":{\"id\":[1]}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_PARAMS);
    /* "b" completes later */
    rpc_call_result(waiters[1].call, json_string("late"));
    assert_string_equal(json_string_value(json_object_get(sink_last(&f->k), "result")), "late");
    assert_int_equal(rpc_session_inflight(f->s), 0);
    assert_int_equal(f->k.done, 2);
    stats *st = rpc_server_stats(f->srv);
    int mi = stats_method_index(st, "test.slow");
    assert_int_equal(st->methods[mi].requests, 2);
    assert_int_equal(st->methods[mi].cancelled, 1);
}

static void test_close_with_pending(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.slow\"},"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server.info\"}]");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test.slow\"}");
    assert_int_equal(rpc_session_inflight(f->s), 2);
    size_t before = json_array_size(f->k.msgs);
    rpc_session_free(f->s);
    f->s = NULL;
    assert_int_equal(waiters[0].cancelled, 1);
    assert_int_equal(waiters[1].cancelled, 1);
    assert_int_equal(json_array_size(f->k.msgs), before); /* nothing sent while closing */
}

static void test_batch_with_pending(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.slow\"},"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server.info\"}]");
    assert_int_equal(json_array_size(f->k.msgs), 1); /* the progress notification only */
    rpc_call_error(waiters[0].call, RPC_MODULE_NOT_FOUND, "module 'X' not found",
                   json_pack("{s:s}", "module", "X"));
    json_t *b = sink_last(&f->k);
    assert_true(json_is_array(b));
    assert_int_equal(json_array_size(b), 2);
    assert_int_equal(sink_err_code(json_array_get(b, 0)), RPC_MODULE_NOT_FOUND);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(json_array_get(b, 0), "error"), "data"), "module")),
                        "X");
}

static void test_lsp_output(void **state)
{
    fixture *f = *state;
    rpc_session_set_mode(f->s, FRAME_LSP);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}");
    assert_true(!strncmp(f->k.raw, "Content-Length: ", 16));
    assert_non_null(json_object_get(sink_last(&f->k), "result"));
    rpc_session_send_error(f->s, RPC_PARSE_ERROR, "frame too large", NULL);
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_PARSE_ERROR);
}

static void test_pool_stats(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pool.stats\"}");
    json_t *r = json_object_get(sink_last(&f->k), "result");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "pool"), "capacity")), 8);
    json_t *si = json_object_get(json_object_get(r, "methods"), "server.info");
    assert_int_equal(json_integer_value(json_object_get(si, "requests")), 1);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"pool.stats\",\"params\":{\"format\":\"prometheus\"}}");
    r = json_object_get(sink_last(&f->k), "result");
    const char *text = json_string_value(json_object_get(r, "text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "envpool_requests_total{method=\"server.info\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE envpool_request_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "envpool_pool_acquired_total 3\n"));
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"pool.stats\",\"params\":{\"format\":\"xml\"}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_PARAMS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
TEST_MAIN("test_rpc",
          T(test_server_info),
          T(test_parse_errors_keep_session),
          T(test_invalid_requests),
          T(test_notifications_silent),
          T(test_params),
          T(test_internal_error),
          T(test_batch),
          T(test_batch_too_large),
          T(test_pending_and_cancel),
          T(test_close_with_pending),
          T(test_batch_with_pending),
          T(test_lsp_output),
          T(test_pool_stats))
