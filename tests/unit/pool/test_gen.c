/*
 * tests/unit/pool/test_gen.c — synthetic libraries: deterministic for a seed,
 * different for another, the requested shape (module and constant counts,
 * layers: every import lies in a lower layer, one in the layer just below),
 * readable by the whole stack, and bad options refused.
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

#include "lean/lean.h"
#include "pool/pool.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Compares every file of library a with b; returns how many differ. */
static int compare_libs(const char *a, const char *b, pool_env *e)
{
    int differ = 0;
    for (size_t i = 0; i < pool_env_module_count(e); i++) {
        pool_module_info mi;
        pool_env_module(e, i, &mi);
        const char *rel = strstr(mi.path, "/G");
        char pa[4096], pb[4096];
        snprintf(pa, sizeof pa, "%s%s", a, rel);
        snprintf(pb, sizeof pb, "%s%s", b, rel);
        size_t la, lb;
        uint8_t *ba = read_file(pa, &la), *bb = read_file(pb, &lb);
        differ += la != lb || memcmp(ba, bb, la) != 0;
        mem_free(ba);
        mem_free(bb);
    }
    return differ;
}

static unsigned layer_of(const char *name)
{
    const char *l = strstr(name, ".L");
    assert_non_null(l);
    return (unsigned)strtoul(l + 2, NULL, 10);
}

static void test_deterministic_and_shaped(void **state)
{
    (void)state;
    char *a = tmpdir_make(), *b = tmpdir_make(), *c = tmpdir_make();
    lib_gen(a, "G", 50, 20, 4, 7, 42);
    lib_gen(b, "G", 50, 20, 4, 7, 42);
    lib_gen(c, "G", 50, 20, 4, 7, 43);

    pool *p = pool_make(a, 1, 0, POOL_STALE_STAT);
    const char *imps[] = {"G"};
    pool_env *e;
    pool_error err;
    assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), 0);
    assert_int_equal(pool_env_module_count(e), 51);
    assert_int_equal(pool_env_constant_count(e), 50 * 20);
    assert_int_equal(compare_libs(a, b, e), 0);
    assert_true(compare_libs(a, c, e) > 0);

    /* Layers: imports go down, one of them exactly one layer down. */
    unsigned max_layer = 0;
    for (size_t i = 0; i + 1 < pool_env_module_count(e); i++) {
        pool_module_info mi;
        pool_env_module(e, i, &mi);
        unsigned L = layer_of(mi.name);
        if (L > max_layer)
            max_layer = L;
        const ln_module *lm = pool_env_ln_module(e, i);
        assert_true(L == 0 ? lm->nimports == 0 : lm->nimports >= 1 && lm->nimports <= 4);
        bool below = L == 0;
        for (uint64_t k = 0; k < lm->nimports; k++) {
            ln_import imp;
            char name[128];
            assert_int_equal(ln_module_import(lm, k, &imp, NULL), 0);
            assert_int_equal(ln_name_to_cstr(lm, imp.module, name, sizeof name, NULL, NULL), 0);
            assert_true(layer_of(name) < L);
            below |= layer_of(name) + 1 == L;
        }
        assert_true(below);
        /* Every constant decodes, and types refer to imported declarations. */
        for (uint64_t k = 0; k < lm->nconstants; k++) {
            ln_const cst;
            assert_int_equal(ln_module_const(lm, k, &cst, NULL), 0);
            ln_buf out;
            ln_buf_init(&out, 0);
            assert_int_equal(ln_expr_format(lm, cst.type, &out, NULL), 0);
            assert_non_null(strstr(ln_buf_cstr(&out), "Prop")); /* ... → Sort 0 */
            ln_buf_deinit(&out);
        }
    }
    assert_int_equal(max_layer, 6);
    pool_release(p, e, NULL);
    pool_free(p);
    tmpdir_remove(a);
    tmpdir_remove(b);
    tmpdir_remove(c);
    assert_int_equal(mem_live_total(), 0);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *d = tmpdir_make();
    pool_error err;
    pool_gen_opts o = {.prefix = "G", .modules = 4, .decls = 1, .fan_in = 1, .depth = 5, .seed = 1};
    assert_int_equal(pool_gen_write(d, &o, NULL, &err), POOL_EINVAL); /* depth > modules */
    o.depth = 0;
    assert_int_equal(pool_gen_write(d, &o, NULL, &err), POOL_EINVAL);
    o.depth = 2;
    o.prefix = "G..x";
    assert_int_equal(pool_gen_write(d, &o, NULL, &err), POOL_EINVAL);
    const char *none[] = {NULL};
    assert_int_equal(pool_gen_module(d, "a/b", none, 0, none, 0, &err), POOL_EINVAL);
    tmpdir_remove(d);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_gen",
          cmocka_unit_test(test_deterministic_and_shaped),
          cmocka_unit_test(test_bad_options))
