/*
 * tests/unit/protocol/test_methods_env.c — the environment methods over a real
 * pool with a host whose "worker" is the test itself: queued imports run only
 * when the test says, so waiting, $/progress, cancellation and closing a
 * session during an import are exercised deterministically.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool/pool.h"
#include "protocol/protocol.h"
#include "protocol/protocol_internal.h"
#include "tests/support/pooltest.h"
#include "tests/support/rpcsink.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

typedef struct job {
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
} job;

static job jobs[8];
static size_t njobs;

static int defer_work(void *ctx, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
    (void)ctx;
    assert_true(njobs < 8);
    jobs[njobs++] = (job){work, done, arg};
    return 0;
}

/* Runs every queued job as a worker would, then its completion as the loop would. */
static void run_jobs(void)
{
    while (njobs) {
        job j = jobs[0];
        memmove(jobs, jobs + 1, --njobs * sizeof jobs[0]);
        j.work(j.arg);
        j.done(j.arg);
    }
}


typedef struct fixture {
    char        *dir;
    pool        *p;
    rpc_server  *srv;
    env_methods *em;
    rpc_session *s;
    sink         k;
} fixture;

static int setup(void **state)
{
    rpc_global_init();
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmpdir_make();
    lib_gen(f->dir, "T", 4, 5, 2, 2, 7);
    lib_module(f->dir, "Solo", "", "Solo.a,Solo.b");
    f->p = pool_make(f->dir, 4, 0, POOL_STALE_SCAN);
    static const char *const none[] = {NULL};
    rpc_server_info info = {"envpoold", "test", none, none, 1, env_pool_stats, f->p};
    f->srv = rpc_server_new(&info);
    env_host host = {f->p, defer_work, NULL, 1 << 20};
    f->em = env_methods_new(f->srv, &host);
    f->k.msgs = json_array();
    f->s = rpc_session_new(f->srv, &sink_ops, &f->k);
    njobs = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rpc_session_free(f->s);
    run_jobs(); /* imports still queued finish (with no one waiting) */
    pool_check_invariants(f->p);
    env_methods_free(f->em);
    rpc_server_free(f->srv);
    pool_free(f->p);
    tmpdir_remove(f->dir);
    json_decref(f->k.msgs);
    free(f);
    assert_int_equal(mem_live_total(), 0);
    return 0;
}

static void test_open_wait_and_hit(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"env.open\",\"params\":{\"imports\":[\"T\"]}}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"env.open\",\"params\":{\"imports\":[\"T\"]}}");
    assert_int_equal(json_array_size(f->k.msgs), 0); /* both wait for the one import */
    assert_int_equal(njobs, 1);
    assert_int_equal(env_methods_waiting(f->em), 2);
    assert_int_equal(rpc_session_inflight(f->s), 2);
    run_jobs();
    assert_int_equal(json_array_size(f->k.msgs), 2);
    json_t *a = json_object_get(json_array_get(f->k.msgs, 0), "result");
    json_t *b = json_object_get(json_array_get(f->k.msgs, 1), "result");
    assert_int_equal(json_integer_value(json_object_get(a, "env")), 1);
    assert_true(json_is_false(json_object_get(a, "hit")));
    assert_int_equal(json_integer_value(json_object_get(b, "env")), 2);
    assert_true(json_is_true(json_object_get(b, "hit")));
    assert_int_equal(json_integer_value(json_object_get(a, "modules")), 5);
    /* a third open is a hit, answered at once */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"env.open\",\"params\":{\"imports\":[\"T\"]}}");
    assert_true(json_is_true(json_object_get(json_object_get(sink_last(&f->k), "result"), "hit")));
    assert_int_equal(njobs, 0);
    pool_stats ps;
    pool_stats_get(f->p, &ps);
    assert_int_equal(ps.imports_performed, 1);
    assert_int_equal(ps.reused, 2);
    assert_int_equal(ps.in_use, 1);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"env.close\",\"params\":{\"env\":3}}");
    assert_true(json_is_true(json_object_get(json_object_get(sink_last(&f->k), "result"), "kept")));
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"env.close\",\"params\":{\"env\":3}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_UNKNOWN_ENV);
    /* handles 1 and 2 are released when the session goes (teardown) */
}

static void test_progress_then_result(void **state)
{
    fixture *f = *state;
    /* The "nothing yet" checks hold only if this thread was not descheduled for a
     * whole period in between (a loaded machine): each is made when the time
     * measured around it shows that, never assumed. */
    uint64_t t0 = rpc__now_us();
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"decl.get\","
            "\"params\":{\"imports\":[\"Solo\"],\"name\":\"Solo.b\"}}");
    env_methods_tick(f->em); /* too early: nothing */
    if (rpc__now_us() - t0 < RPC_PROGRESS_US)
        assert_int_equal(json_array_size(f->k.msgs), 0);
    usleep(RPC_PROGRESS_US + 20000);
    size_t before = json_array_size(f->k.msgs);
    uint64_t t1 = rpc__now_us();
    env_methods_tick(f->em);
    assert_int_equal(json_array_size(f->k.msgs), before + 1); /* a period has passed, whatever happened before */
    json_t *pr = sink_last(&f->k);
    assert_string_equal(json_string_value(json_object_get(pr, "method")), "$/progress");
    assert_string_equal(json_string_value(json_object_get(json_object_get(pr, "params"), "id")), "p");
    size_t progressed = json_array_size(f->k.msgs);
    env_methods_tick(f->em); /* not again before another period */
    if (rpc__now_us() - t1 < RPC_PROGRESS_US)
        assert_int_equal(json_array_size(f->k.msgs), progressed);
    run_jobs();
    json_t *r = json_object_get(sink_last(&f->k), "result");
    assert_string_equal(json_string_value(json_object_get(r, "name")), "Solo.b");
    assert_string_equal(json_string_value(json_object_get(r, "module")), "Solo");
    /* the temporary use was released: idle now */
    pool_stats ps;
    pool_stats_get(f->p, &ps);
    assert_int_equal(ps.in_use, 0);
    assert_int_equal(ps.idle, 1);
}

static void test_cancel_waiting(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"module.list\",\"params\":{\"imports\":[\"T\"]}}");
    assert_int_equal(njobs, 1);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":7}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_CANCELLED);
    assert_int_equal(env_methods_waiting(f->em), 0);
    assert_int_equal(rpc_session_inflight(f->s), 0);
    size_t before = json_array_size(f->k.msgs);
    run_jobs(); /* the abandoned import finishes; nobody is answered twice */
    assert_int_equal(json_array_size(f->k.msgs), before);
    pool_stats ps;
    pool_stats_get(f->p, &ps);
    assert_int_equal(ps.resident, 0);
    assert_int_equal(ps.imports_abandoned, 1);
}

static void test_close_during_import(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"env.open\",\"params\":{\"imports\":[\"Solo\"]}}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"env.open\",\"params\":{\"imports\":[\"T\"]}}");
    assert_int_equal(njobs, 2);
    run_jobs();
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"pool.drain\"}");
    /* a new key: this search waits for its import */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"decl.search\",\"params\":{\"imports\":[\"Solo\",\"T\"],\"query\":\"d\"}}");
    assert_int_equal(env_methods_waiting(f->em), 1);
    rpc_session_free(f->s); /* handles 1, 2 released; the waiting search withdrawn */
    assert_int_equal(env_methods_waiting(f->em), 0);
    f->s = rpc_session_new(f->srv, &sink_ops, &f->k);
    run_jobs();
    pool_stats ps;
    pool_stats_get(f->p, &ps);
    assert_int_equal(ps.in_use, 0);
    assert_int_equal(ps.releases, 2);
}

/* Searches run on a worker: answered when it finishes, or cancelled meanwhile. */
static void test_search_on_worker(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"env.open\",\"params\":{\"imports\":[\"Solo\"]}}");
    run_jobs();
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"decl.search\",\"params\":{\"env\":1,\"query\":\"Solo.\","
            "\"mode\":\"prefix\",\"limit\":1}}");
    assert_int_equal(njobs, 1);
    assert_int_equal(rpc_session_inflight(f->s), 1);
    run_jobs();
    json_t *r = json_object_get(sink_last(&f->k), "result");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "items"), 0), "name")),
                        "Solo.a");
    const char *cur = json_string_value(json_object_get(r, "next_cursor"));
    assert_non_null(cur);
    char req[256];
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"decl.search\",\"params\":{\"env\":1,"
             "\"query\":\"Solo.\",\"mode\":\"prefix\",\"limit\":1,\"cursor\":\"%s\"}}", cur);
    sink_feed(f->s, req);
    run_jobs();
    r = json_object_get(sink_last(&f->k), "result");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "items"), 0), "name")),
                        "Solo.b");
    assert_true(json_is_null(json_object_get(r, "next_cursor")));
    /* cancelled while queued: answered -32800 once, the job still finishes and frees */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"decl.search\",\"params\":{\"env\":1,\"query\":\"a\"}}");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":4}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_CANCELLED);
    size_t before = json_array_size(f->k.msgs);
    run_jobs();
    assert_int_equal(json_array_size(f->k.msgs), before);
    /* and a session closed with a search queued */
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"decl.search\",\"params\":{\"env\":1,\"query\":\"a\"}}");
    rpc_session_free(f->s);
    f->s = rpc_session_new(f->srv, &sink_ops, &f->k);
    run_jobs();
    assert_int_equal(json_array_size(f->k.msgs), before);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"env.open\",\"params\":{\"imports\":[\"No.Such\"]}}");
    run_jobs();
    json_t *m = sink_last(&f->k);
    assert_int_equal(sink_err_code(m), RPC_MODULE_NOT_FOUND);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(m, "error"), "data"),
                                                           "module")),
                        "No.Such");
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"env.open\",\"params\":{\"imports\":[\"a..b\"]}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_PARAMS);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"decl.get\",\"params\":{\"imports\":[\"Solo\"],\"name\":\"Solo.c\"}}");
    run_jobs();
    m = sink_last(&f->k);
    assert_int_equal(sink_err_code(m), RPC_DECL_NOT_FOUND);
    json_t *sugg = json_object_get(json_object_get(json_object_get(m, "error"), "data"), "suggestions");
    assert_true(json_array_size(sugg) >= 1);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_UNKNOWN_ENV);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"decl.search\",\"params\":{\"imports\":[\"Solo\"],"
            "\"query\":\"S\",\"cursor\":\"0\"}}");
    assert_int_equal(sink_err_code(sink_last(&f->k)), RPC_INVALID_PARAMS);
    sink_feed(f->s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"pool.stats\"}");
    json_t *jp = json_object_get(json_object_get(sink_last(&f->k), "result"), "pool");
    assert_int_equal(json_integer_value(json_object_get(jp, "import_failures")), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
TEST_MAIN("test_methods_env",
          T(test_open_wait_and_hit),
          T(test_progress_then_result),
          T(test_cancel_waiting),
          T(test_close_during_import),
          T(test_search_on_worker),
          T(test_errors))
