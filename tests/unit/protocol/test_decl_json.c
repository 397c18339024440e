/*
 * tests/unit/protocol/test_decl_json.c — the declaration renderer: both views
 * of every kind a packed module holds, written out by hand; the dump view's
 * key sets exactly issue 2's; cut types; the UTF-8 repair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/decl_json.h"
#include "protocol/protocol.h"
#include "tests/support/packtest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static const char src[] =
    "module T\n"
    "inductive Nat : Type\n"
    "  | zero : Nat\n"
    "  | succ (n : Nat) : Nat\n"
    "inductive Le (n : Nat) : Nat \xe2\x86\x92 Prop\n"
    "  | refl : Le n n\n"
    "  | step (m : Nat) (h : Le n m) : Le n (Nat.succ m)\n"
    "axiom ax.{u} (\xce\xb1 : Sort u) : \xce\xb1\n"
    "def one : Nat := Nat.succ Nat.zero\n"
    "theorem t (n : Nat) : Le n n := Le.refl n\n"
    "opaque secret : Nat := Nat.zero\n";

typedef struct fixture {
    ln_pack  *pk;
    uint8_t  *img;
    region   *r;
    ln_module m;
    ln_buf    b;
} fixture;

static int setup(void **state)
{
    rpc_global_init();
    fixture *f = mem_calloc(1, sizeof *f);
    f->pk = ln_pack_new();
    size_t ilen;
    uint64_t nc;
    f->img = packtest_image(f->pk, "T", src, sizeof src - 1, "T", &ilen, &nc);
    f->r = packtest_open(f->img, ilen, "T");
    region_error err;
    assert_int_equal(ln_module_open(f->r, &f->m, &err), 0);
    ln_buf_init(&f->b, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ln_buf_deinit(&f->b);
    region_close(f->r);
    mem_free(f->img);
    ln_pack_free(f->pk);
    mem_free(f);
    assert_int_equal(mem_live_total(), 0);
    return 0;
}

/* The rendering of constant `name` in one view, as compact JSON text (NEW, mem_free). */
static char *render(fixture *f, const char *name, const decl_json_opts *o)
{
    for (uint64_t i = 0; i < f->m.nconstants; i++) {
        ln_const c;
        region_error err;
        assert_int_equal(ln_module_const(&f->m, i, &c, &err), 0);
        ln_buf_reset(&f->b);
        assert_int_equal(ln_name_format(&f->m, c.name, &f->b, &err), 0);
        if (strcmp(ln_buf_cstr(&f->b), name))
            continue;
        json_t *out = json_object();
        assert_int_equal(decl_json(&f->m, &c, o, &f->b, out, &err), 0);
        char *text = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        return text;
    }
    fail_msg("no constant %s", name);
    return NULL;
}

static void expect(fixture *f, const char *name, const decl_json_opts *o, const char *want)
{
    char *got = render(f, name, o);
    if (strcmp(got, want))
        fail_msg("%s:\n  got  %s\n  want %s", name, got, want);
    mem_free(got);
}

static const decl_json_opts rpc = {.view = DECL_JSON_RPC, .module = "T", .name_limit = 1024,
                                   .type_limit = 1024};
static const decl_json_opts rpc_value = {.view = DECL_JSON_RPC, .module = "T", .name_limit = 1024,
                                         .type_limit = 1024, .want_value = true, .value_limit = 1024};
static const decl_json_opts dump = {.view = DECL_JSON_DUMP};

static void test_rpc_view(void **state)
{
    fixture *f = *state;
    expect(f, "Le", &rpc,
           "{\"name\":\"Le\",\"kind\":\"inductive\",\"module\":\"T\",\"level_params\":[],"
           "\"type\":\"Nat \xe2\x86\x92 Nat \xe2\x86\x92 Prop\",\"params\":1,\"indices\":1,"
           "\"ctors\":[\"Le.refl\",\"Le.step\"],\"is_rec\":true,\"is_reflexive\":false,\"num_nested\":0,"
           "\"is_unsafe\":false,\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{},\"fields\":null,\"parents\":null}");
    expect(f, "Le.step", &rpc,
           "{\"name\":\"Le.step\",\"kind\":\"ctor\",\"module\":\"T\",\"level_params\":[],"
           "\"type\":\"\xe2\x88\x80 {n : Nat} (m : Nat), Le n m \xe2\x86\x92 Le n (Nat.succ m)\",\"induct\":\"Le\","
           "\"cidx\":1,\"params\":1,\"fields\":2,\"is_unsafe\":false,\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}");
    char *rec = render(f, "Nat.rec", &rpc);
    assert_non_null(strstr(rec, "\"params\":0,\"indices\":0,\"motives\":1,\"minors\":2,\"k\":false,"
                                "\"is_unsafe\":false,\"rules\":[{\"ctor\":\"Nat.zero\",\"fields\":0},"
                                "{\"ctor\":\"Nat.succ\",\"fields\":1}],\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}"));
    mem_free(rec);
    expect(f, "ax", &rpc,
           "{\"name\":\"ax\",\"kind\":\"axiom\",\"module\":\"T\",\"level_params\":[\"u\"],"
           "\"type\":\"\xe2\x88\x80 (\xce\xb1 : Sort u), \xce\xb1\",\"is_unsafe\":false,\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}");
    expect(f, "one", &rpc,
           "{\"name\":\"one\",\"kind\":\"def\",\"module\":\"T\",\"level_params\":[],\"type\":\"Nat\","
           "\"safety\":\"safe\",\"hints\":{\"regular\":1},\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}");
    expect(f, "one", &rpc_value,
           "{\"name\":\"one\",\"kind\":\"def\",\"module\":\"T\",\"level_params\":[],\"type\":\"Nat\","
           "\"safety\":\"safe\",\"hints\":{\"regular\":1},\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{},\"value\":\"Nat.succ Nat.zero\","
           "\"value_truncated\":false,\"value_limit\":1024}");
    expect(f, "Nat.zero", &rpc_value,
           "{\"name\":\"Nat.zero\",\"kind\":\"ctor\",\"module\":\"T\",\"level_params\":[],\"type\":\"Nat\","
           "\"induct\":\"Nat\",\"cidx\":0,\"params\":0,\"fields\":0,\"is_unsafe\":false,\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{},\"value\":null}");
    expect(f, "t", &rpc,
           "{\"name\":\"t\",\"kind\":\"theorem\",\"module\":\"T\",\"level_params\":[],"
           "\"type\":\"\xe2\x88\x80 (n : Nat), Le n n\",\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}");
    decl_json_opts no_module = rpc;
    no_module.module = NULL;
    expect(f, "secret", &no_module,
           "{\"name\":\"secret\",\"kind\":\"opaque\",\"level_params\":[],\"type\":\"Nat\",\"is_unsafe\":false,"
           "\"doc\":null,\"range\":null,\"source\":null,\"attrs\":[],\"attr_info\":{}}");
}

static void test_dump_view(void **state)
{
    fixture *f = *state;
    expect(f, "Le", &dump,
           "{\"name\":\"Le\",\"kind\":\"inductive\",\"level_params\":[],"
           "\"type\":\"Nat \xe2\x86\x92 Nat \xe2\x86\x92 Prop\",\"num_params\":1,\"num_indices\":1,"
           "\"ctors\":[\"Le.refl\",\"Le.step\"],\"is_rec\":true}");
    expect(f, "Le.step", &dump,
           "{\"name\":\"Le.step\",\"kind\":\"ctor\",\"level_params\":[],"
           "\"type\":\"\xe2\x88\x80 {n : Nat} (m : Nat), Le n m \xe2\x86\x92 Le n (Nat.succ m)\",\"induct\":\"Le\","
           "\"cidx\":1,\"num_params\":1,\"num_fields\":2}");
    char *rec = render(f, "Nat.rec", &dump);
    assert_non_null(strstr(rec, "\"num_params\":0,\"num_indices\":0,\"num_motives\":1,\"num_minors\":2,"
                                "\"k\":false,\"rules\":[\"Nat.zero\",\"Nat.succ\"]}"));
    mem_free(rec);
    expect(f, "one", &dump,
           "{\"name\":\"one\",\"kind\":\"def\",\"level_params\":[],\"type\":\"Nat\",\"safety\":\"safe\","
           "\"hints\":\"regular 1\"}");
    expect(f, "ax", &dump,
           "{\"name\":\"ax\",\"kind\":\"axiom\",\"level_params\":[\"u\"],"
           "\"type\":\"\xe2\x88\x80 (\xce\xb1 : Sort u), \xce\xb1\",\"is_unsafe\":false}");
    expect(f, "t", &dump,
           "{\"name\":\"t\",\"kind\":\"theorem\",\"level_params\":[],\"type\":\"\xe2\x88\x80 (n : Nat), Le n n\"}");
    /* want_value and module belong to the RPC view only */
    decl_json_opts extra = dump;
    extra.module = "T";
    extra.want_value = true;
    expect(f, "secret", &extra,
           "{\"name\":\"secret\",\"kind\":\"opaque\",\"level_params\":[],\"type\":\"Nat\",\"is_unsafe\":false}");
}

/* A type over its limit is cut with "…": flagged in the RPC view, silently in the dump view. */
static void test_cut_type(void **state)
{
    fixture *f = *state;
    for (int view = 0; view < 2; view++) {
        decl_json_opts o = view ? dump : rpc;
        o.type_limit = 8;
        char *text = render(f, "Le.step", &o);
        json_t *j = json_loads(text, 0, NULL);
        mem_free(text);
        const char *type = json_string_value(json_object_get(j, "type"));
        size_t n = strlen(type);
        assert_true(n <= 8 + 3 && n > 3);
        assert_string_equal(type + n - 3, "\xe2\x80\xa6");
        assert_int_equal(strncmp(type, "\xe2\x88\x80 {n", n - 3 < 5 ? n - 3 : 5), 0);
        if (view)
            assert_null(json_object_get(j, "type_truncated"));
        else
            assert_true(json_is_true(json_object_get(j, "type_truncated")));
        assert_string_equal(json_string_value(json_object_get(j, "induct")), "Le"); /* names are not cut */
        json_decref(j);
    }
}

static void check_text_(const char *in, size_t n, const char *want, size_t want_len)
{
    json_t *j = decl_json_text(in, n);
    assert_non_null(j);
    assert_int_equal(json_string_length(j), want_len);
    assert_memory_equal(json_string_value(j), want, want_len);
    json_decref(j);
}
/* Literals may hold NUL: lengths from sizeof. */
#define check_text(in, n, want) check_text_(in, n, want, sizeof want - 1)

static void test_utf8_repair(void **state)
{
    (void)state;
    rpc_global_init();
    check_text("abc", 3, "abc");
    check_text("\xce\xb1\xe2\x86\x92", 5, "\xce\xb1\xe2\x86\x92");         /* valid: as it is */
    check_text("a\xff" "b", 3, "a\xef\xbf\xbd" "b");                        /* stray byte */
    check_text("a\0b", 3, "a\0b");                                          /* NUL is a character */
    check_text("\0\xff", 2, "\0\xef\xbf\xbd");                                /* also beside a repair */
    check_text("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");                  /* overlong '/' */
    check_text("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    check_text("\xe2\x86", 2, "\xef\xbf\xbd\xef\xbf\xbd");                  /* cut sequence */
    check_text("", 0, "");
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_decl_json",
          cmocka_unit_test_setup_teardown(test_rpc_view, setup, teardown),
          cmocka_unit_test_setup_teardown(test_dump_view, setup, teardown),
          cmocka_unit_test_setup_teardown(test_cut_type, setup, teardown),
          cmocka_unit_test(test_utf8_repair))
