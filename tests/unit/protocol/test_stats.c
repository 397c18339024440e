/*
 * tests/unit/protocol/test_stats.c — counters, histogram buckets, JSON and
 * Prometheus rendering.
 */
#include <errno.h>
#include <inttypes.h>
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

static void test_method_table(void **state)
{
    (void)state;
    stats st;
    stats_init(&st);
    assert_int_equal(stats_method_index(&st, "a"), 0);
    assert_int_equal(stats_method_index(&st, "b"), 1);
    assert_int_equal(stats_method_index(&st, "a"), 0);
    static char names[STATS_MAX_METHODS][8];
    for (int i = 2; i < STATS_MAX_METHODS; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        assert_int_equal(stats_method_index(&st, names[i]), i);
    }
    assert_int_equal(stats_method_index(&st, "overflow"), -ENOSPC);
}

static void test_buckets(void **state)
{
    (void)state;
    stats st;
    stats_init(&st);
    int a = stats_method_index(&st, "a");
    stats_record(&st, a, 0, 0);             /* first bucket */
    stats_record(&st, a, 50, 0);            /* le 50us inclusive */
    stats_record(&st, a, 51, RPC_CANCELLED); /* next bucket */
    stats_record(&st, a, 99999999, RPC_INVALID_PARAMS); /* +Inf */
    stats_record(&st, -1, 10, RPC_METHOD_NOT_FOUND);
    assert_int_equal(st.methods[a].buckets[0], 2);
    assert_int_equal(st.methods[a].buckets[1], 1);
    assert_int_equal(st.methods[a].buckets[STATS_BUCKETS], 1);
    assert_int_equal(st.methods[a].requests, 4);
    assert_int_equal(st.methods[a].errors, 2);
    assert_int_equal(st.methods[a].cancelled, 1);
    assert_int_equal(st.methods[a].lat_sum_us, 0 + 50 + 51 + 99999999);
    assert_int_equal(st.unknown.requests, 1);
    assert_int_equal(st.unknown.errors, 1);
}

/* Every sample line's family has HELP and TYPE lines before it; histogram buckets are cumulative. */
static void check_exposition(const char *text)
{
    char typed[128][96];
    int ntyped = 0;
    double prev_bucket = -1;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        assert_non_null(e); /* every line ends with \n */
        char line[512];
        size_t l = (size_t)(e - p);
        assert_true(l < sizeof line);
        memcpy(line, p, l);
        line[l] = 0;
        p = e + 1;
        if (!strncmp(line, "# HELP ", 7))
            continue;
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_true(ntyped < 128);
            sscanf(line + 7, "%95s", typed[ntyped++]);
            prev_bucket = -1;
            continue;
        }
        char name[128];
        size_t nl = strcspn(line, "{ ");
        assert_true(nl < sizeof name);
        memcpy(name, line, nl);
        name[nl] = 0;
        assert_true(!strncmp(name, "envpool_", 8));
        const char *fam = ntyped ? typed[ntyped - 1] : "";
        assert_true(!strncmp(name, fam, strlen(fam)));
        double v = strtod(strrchr(line, ' ') + 1, NULL);
        if (strstr(name, "_bucket")) {
            if (strstr(line, "le=\"0.000050\""))
                prev_bucket = -1;
            assert_true(v >= prev_bucket);
            prev_bucket = v;
        }
    }
}

static void test_prometheus(void **state)
{
    (void)state;
    rpc_global_init();
    stats st;
    stats_init(&st);
    int a = stats_method_index(&st, "decl.get");
    stats_record(&st, a, 120, 0);
    stats_record(&st, a, 3000, 0);
    st.server.connections_accepted = 5;
    st.limits.max_frame = 1048576;
    pool_stats ps = {.capacity = 4, .imports_performed = 2, .import_ns_total = 1500000999};
    char *text;
    size_t len;
    assert_int_equal(stats_to_prometheus(&st, &ps, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    check_exposition(text);
    assert_non_null(strstr(text, "envpool_connections_accepted_total 5\n"));
    assert_non_null(strstr(text, "envpool_request_duration_seconds_bucket{method=\"decl.get\",le=\"0.000250\"} 1\n"));
    assert_non_null(strstr(text, "envpool_request_duration_seconds_bucket{method=\"decl.get\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "envpool_request_duration_seconds_sum{method=\"decl.get\"} 0.003120\n"));
    assert_non_null(strstr(text, "envpool_request_duration_seconds_count{method=\"decl.get\"} 2\n"));
    assert_non_null(strstr(text, "envpool_limit{limit=\"max_frame\"} 1048576\n"));
    assert_non_null(strstr(text, "envpool_pool_import_seconds_total 1.500000\n"));
    mem_free(text);
    /* without a pool: no pool series */
    assert_int_equal(stats_to_prometheus(&st, NULL, &text, &len), 0);
    check_exposition(text);
    assert_null(strstr(text, "envpool_pool_"));
    mem_free(text);
    assert_int_equal(mem_live_total(), 0);
}

static void test_json(void **state)
{
    (void)state;
    rpc_global_init();
    stats st;
    stats_init(&st);
    int a = stats_method_index(&st, "decl.get");
    stats_record(&st, a, 120, 0);
    st.server.frames_too_large = 2;
    st.limits.max_frame = 100;
    pool_stats ps = {.capacity = 4, .acquired = 3, .reused = 1, .imports_performed = 2};
    json_t *j = stats_to_json(&st, &ps);
    assert_non_null(j);
    json_t *mf = json_object_get(json_object_get(j, "limits"), "max_frame");
    assert_int_equal(json_integer_value(json_object_get(mf, "limit")), 100);
    assert_int_equal(json_integer_value(json_object_get(mf, "hits")), 2);
    json_t *p = json_object_get(j, "pool");
    assert_int_equal(json_integer_value(json_object_get(p, "acquired")),
                     json_integer_value(json_object_get(p, "reused")) +
                         json_integer_value(json_object_get(p, "imports_performed")));
    json_t *lat = json_object_get(json_object_get(json_object_get(j, "methods"), "decl.get"), "latency");
    assert_int_equal(json_integer_value(json_object_get(lat, "count")), 1);
    json_t *buckets = json_object_get(lat, "buckets");
    assert_int_equal(json_array_size(buckets), STATS_BUCKETS + 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(buckets, STATS_BUCKETS), "count")), 1);
    json_decref(j);
    j = stats_to_json(&st, NULL);
    assert_null(json_object_get(j, "pool"));
    json_decref(j);
    assert_int_equal(mem_live_total(), 0);
}

/* Every counter of POOL_STATS_COUNTERS reaches both renderings under its name, with its own value. */
static void test_pool_counters_every_view(void **state)
{
    (void)state;
    rpc_global_init();
    stats st;
    stats_init(&st);
    pool_stats ps = {0};
    uint64_t v = 1000;
    size_t n = 0;
#define SET_(name, type, help) ps.name = v++, n++;
    POOL_STATS_COUNTERS(SET_)
#undef SET_
    json_t *j = stats_to_json(&st, &ps);
    json_t *p = json_object_get(j, "pool");
    assert_int_equal(json_object_size(p), n + 1); /* + import_time */
    char *text;
    size_t len;
    assert_int_equal(stats_to_prometheus(&st, &ps, &text, &len), 0);
    check_exposition(text);
    char line[160];
#define CHECK_(name, type, help)                                                                   \
    assert_int_equal(json_integer_value(json_object_get(p, #name)), ps.name);                      \
    snprintf(line, sizeof line, "\nenvpool_pool_%s%s %" PRIu64 "\n", #name,                         \
             strcmp(#type, "counter") ? "" : "_total", ps.name);                                   \
    assert_non_null(strstr(text, line));                                                           \
    snprintf(line, sizeof line, "\n# TYPE envpool_pool_%s%s %s\n", #name,                          \
             strcmp(#type, "counter") ? "" : "_total", #type);                                     \
    assert_non_null(strstr(text, line));
    POOL_STATS_COUNTERS(CHECK_)
#undef CHECK_
    mem_free(text);
    json_decref(j);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_stats",
          cmocka_unit_test(test_method_table),
          cmocka_unit_test(test_buckets),
          cmocka_unit_test(test_prometheus),
          cmocka_unit_test(test_json),
          cmocka_unit_test(test_pool_counters_every_view))
