/*
 * tests/unit/protocol/test_fastpath.c — what the decl.get fast path recognises
 * and, above all, what it must leave to jansson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol_internal.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static bool parse(const char *s, rpc_fast_get *g)
{
    return rpc_fast_parse_get((const uint8_t *)s, strlen(s), g);
}

static void test_recognised(void **state)
{
    (void)state;
    rpc_fast_get g;
    assert_true(parse("{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"decl.get\",\"params\":{\"env\":3,\"name\":\"Nat.add\"}}", &g));
    assert_int_equal(g.id, 17);
    assert_int_equal(g.env, 3);
    assert_int_equal(g.name_len, 7);
    assert_memory_equal(g.name, "Nat.add", 7);
    assert_int_equal(g.id_len, 2);
    assert_memory_equal(g.id_text, "17", 2);
    /* Any key order, JSON whitespace anywhere between tokens. */
    assert_true(parse(" {\"params\" :{ \"name\":\"a\" ,\"env\":1},\"method\":\"decl.get\",\r\n\"id\":0,\t\"jsonrpc\":\"2.0\"} ", &g));
    assert_int_equal(g.id, 0);
    assert_true(parse("{\"jsonrpc\":\"2.0\",\"id\":123456789012345678,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}", &g));
    assert_int_equal(g.id, 123456789012345678ull);
}

static void test_imports(void **state)
{
    (void)state;
    rpc_fast_get g;
    assert_true(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"decl.get\",\"params\":{\"imports\":[\"Lean\"],\"name\":\"Nat.add\"}}", &g));
    assert_int_equal(g.nimports, 1);
    assert_int_equal(g.import_len[0], 4);
    assert_memory_equal(g.imports[0], "Lean", 4);
    assert_memory_equal(g.name, "Nat.add", 7);
    /* Order kept, whitespace anywhere, name before imports; eight names at most. */
    assert_true(parse("{\"params\":{\"name\":\"x\", \"imports\" : [ \"B.C\" ,\"A\",\"D\",\"E\",\"F\",\"G\",\"H\",\"I\" ] },"
                      "\"id\":1,\"method\":\"decl.get\",\"jsonrpc\":\"2.0\"}", &g));
    assert_int_equal(g.nimports, RPC_FAST_MAX_IMPORTS);
    assert_int_equal(g.import_len[0], 3);
    assert_memory_equal(g.imports[0], "B.C", 3);
    assert_memory_equal(g.imports[1], "A", 1);
    assert_memory_equal(g.imports[7], "I", 1);
    /* A request on a handle after one on imports: no imports left over. */
    assert_true(parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"decl.get\",\"params\":{\"env\":4,\"name\":\"y\"}}", &g));
    assert_int_equal(g.nimports, 0);
    assert_int_equal(g.env, 4);
}

static void test_left_to_jansson(void **state)
{
    (void)state;
    static const char *const refused[] = {
        /* other methods, versions, shapes */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.search\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}]",
        "{\"jsonrpc\":\"2.0\",\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        /* params the fast path does not serve */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\"],\"name\":\"x\",\"partial\":true}}",
        /* import lists: empty, too long, not plain strings, with env, repeated */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\",\"B\",\"C\",\"D\",\"E\",\"F\",\"G\",\"H\",\"I\"],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\",],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\",1],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[null],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":\"A\",\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\\u0042\"],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"imports\":[\"A\"],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\"],\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\"],\"imports\":[\"B\"],\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"imports\":[\"A\"],\"name\":\"x\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\",\"value\":false}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":[1,\"x\"]}",
        /* repeated keys: jansson's error */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"env\":2,\"name\":\"x\"}}",
        /* numbers that are not plain */
        "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":-1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1234567890123456789,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1.0,\"name\":\"x\"}}",
        /* strings that are not plain ASCII */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"a\\u002eb\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"\xce\xb1\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"a\tb\"}}",
        /* broken or trailing text */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"}} x",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"decl.get\",\"params\":{\"env\":1,\"name\":\"x\"},}",
        "",
        "{",
    };
    rpc_fast_get g;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (parse(refused[i], &g))
            fail_msg("recognised: %s", refused[i]);
}

/* Every prefix of a recognised request is refused, and nothing reads past the end. */
static void test_prefixes(void **state)
{
    (void)state;
    const char *full = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"decl.get\",\"params\":{\"env\":2,\"name\":\"List.map\"}}";
    size_t n = strlen(full);
    rpc_fast_get g;
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = mem_alloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(copy, full, len);
        assert_false(rpc_fast_parse_get(copy, len, &g));
        mem_free(copy);
    }
    assert_true(parse(full, &g));
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_fastpath",
          cmocka_unit_test(test_recognised),
          cmocka_unit_test(test_imports),
          cmocka_unit_test(test_left_to_jansson),
          cmocka_unit_test(test_prefixes))
