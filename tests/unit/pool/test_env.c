/*
 * tests/unit/pool/test_env.c — environments: import closure in Lean's order,
 * the name index (every constant found, shadowing, misses), partial mode,
 * cycles, corrupt and missing modules with their error details, iteration,
 * module information, and the real sample files (every constant of every
 * sample found again by its printed name).
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static pool_env *acquire1(pool *p, const char *name, unsigned flags)
{
    pool_env *e = NULL;
    pool_error err;
    const char *imps[] = {name};
    int rc = pool_acquire(p, imps, 1, flags, &e, &err);
    if (rc) {
        char buf[1024];
        fail_msg("acquire %s: %s", name, pool_error_format(&err, buf, sizeof buf));
    }
    return e;
}

static void expect_order(pool_env *e, const char *const *names, size_t n)
{
    assert_int_equal(pool_env_module_count(e), n);
    for (size_t i = 0; i < n; i++) {
        pool_module_info mi;
        pool_env_module(e, i, &mi);
        assert_string_equal(mi.name, names[i]);
    }
}

/* A → B, C; B → D; C → D, E: Lean's order is D B E C A. */
static void diamond(const char *dir)
{
    lib_module(dir, "T.D", "", "T.D.d0,T.D.d1");
    lib_module(dir, "T.E", "", "T.E.e0");
    lib_module(dir, "T.B", "T.D", "T.B.b0,T.B.b1,T.B.b2");
    lib_module(dir, "T.C", "T.D,T.E", "T.C.c0");
    lib_module(dir, "T.A", "T.B,T.C", "T.A.a0,T.A.a1");
}

static void test_closure_order(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    diamond(dir);
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);

    pool_env *e = acquire1(p, "T.A", 0);
    const char *order[] = {"T.D", "T.B", "T.E", "T.C", "T.A"};
    expect_order(e, order, 5);
    assert_int_equal(pool_env_constant_total(e), 9);
    assert_int_equal(pool_env_constant_count(e), 9);
    assert_int_equal(pool_env_missing_count(e), 0);
    assert_string_equal(pool_env_key(e), "T.A");
    pool_release(p, e, NULL);

    /* The list order is kept: [T.C, T.B] places C's closure first. */
    const char *imps[] = {"T.C", "T.B"};
    pool_error err;
    assert_int_equal(pool_acquire(p, imps, 2, 0, &e, &err), 0);
    const char *order2[] = {"T.D", "T.E", "T.C", "T.B"};
    expect_order(e, order2, 4);
    assert_string_equal(pool_env_key(e), "T.C,T.B");
    pool_release(p, e, NULL);

    /* Each module once even when listed twice. */
    const char *twice[] = {"T.D", "T.B", "T.D"};
    assert_int_equal(pool_acquire(p, twice, 3, 0, &e, &err), 0);
    const char *order3[] = {"T.D", "T.B"};
    expect_order(e, order3, 2);
    pool_release(p, e, NULL);

    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_lookup_and_shadowing(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "S.One", "", "Foo.bar,Foo.baz,weird name.x");
    lib_module(dir, "S.Two", "S.One", "Foo.bar,Two.only");
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = acquire1(p, "S.Two", 0);

    assert_int_equal(pool_env_constant_total(e), 5);
    assert_int_equal(pool_env_constant_count(e), 4); /* Foo.bar shadowed once */

    pool_const_ref r;
    assert_int_equal(pool_env_lookup(e, "Foo.bar", 7, &r), 0);
    assert_int_equal(r.module, 1); /* the later module wins */
    assert_int_equal(r.index, 0);
    assert_int_equal(pool_env_lookup(e, "Foo.baz", 7, &r), 0);
    assert_int_equal(r.module, 0);
    assert_int_equal(r.index, 1);
    assert_int_equal(pool_env_lookup(e, "Two.only", 8, &r), 0);
    assert_int_equal(r.module, 1);
    assert_int_equal(r.index, 1);

    /* The name and info words are the module's own. */
    const ln_module *lm = pool_env_ln_module(e, r.module);
    char buf[64];
    assert_int_equal(ln_name_to_cstr(lm, r.name, buf, sizeof buf, NULL, NULL), 0);
    assert_string_equal(buf, "Two.only");
    ln_const c;
    assert_int_equal(ln_const_decode(lm, r.info, &c, NULL), 0);
    assert_int_equal(c.kind, LN_THM); /* position 1: theorem */

    /* Escaped components are found by their printed form. */
    const char *w = "«weird name».x";
    assert_int_equal(pool_env_lookup(e, w, strlen(w), &r), 0);
    assert_int_equal(r.index, 2);

    /* Misses: absent names, prefixes of names, malformed text. */
    assert_int_equal(pool_env_lookup(e, "Foo", 3, &r), POOL_ENOCONST);
    assert_int_equal(pool_env_lookup(e, "Foo.bar.x", 9, &r), POOL_ENOCONST);
    assert_int_equal(pool_env_lookup(e, "Foo.qux", 7, &r), POOL_ENOCONST);
    assert_int_equal(pool_env_lookup(e, "Foo..bar", 8, &r), POOL_EINVAL);
    assert_int_equal(pool_env_lookup(e, "", 0, &r), POOL_EINVAL);

    /* Iteration skips the shadowed constant and ends. */
    uint64_t cur = 0;
    size_t n = 0;
    bool saw_shadowed = false;
    while (pool_env_next(e, &cur, &r) == 1) {
        n++;
        if (r.module == 0 && r.index == 0)
            saw_shadowed = true;
    }
    assert_int_equal(n, 4);
    assert_false(saw_shadowed);
    assert_int_equal(pool_env_next(e, &cur, &r), 0);

    pool_release(p, e, NULL);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_missing_partial_and_cycle(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "M.Top", "M.Here,M.Gone", "M.Top.t");
    lib_module(dir, "M.Here", "M.Also.Gone", "M.Here.h");
    lib_module(dir, "M.P", "M.Q", "M.P.p");
    lib_module(dir, "M.Q", "M.P", "M.Q.q");
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = NULL;
    pool_error err;

    const char *top[] = {"M.Top"};
    assert_int_equal(pool_acquire(p, top, 1, 0, &e, &err), POOL_ENOTFOUND);
    assert_null(e);
    assert_string_equal(err.module, "M.Also.Gone");
    assert_string_equal(err.imported_by, "M.Here");

    /* Directly requested and missing: no importer. */
    const char *gone[] = {"M.Nowhere"};
    assert_int_equal(pool_acquire(p, gone, 1, 0, &e, &err), POOL_ENOTFOUND);
    assert_string_equal(err.module, "M.Nowhere");
    assert_string_equal(err.imported_by, "");

    /* Partial: what resolves is loaded, the rest listed with its importer. */
    assert_int_equal(pool_acquire(p, top, 1, POOL_PARTIAL, &e, &err), 0);
    const char *order[] = {"M.Here", "M.Top"};
    expect_order(e, order, 2);
    assert_int_equal(pool_env_missing_count(e), 2);
    const char *mod, *by;
    pool_env_missing(e, 0, &mod, &by);
    assert_string_equal(mod, "M.Also.Gone");
    assert_string_equal(by, "M.Here");
    pool_env_missing(e, 1, &mod, &by);
    assert_string_equal(mod, "M.Gone");
    assert_string_equal(by, "M.Top");
    assert_string_equal(pool_env_key(e), "partial:M.Top");
    pool_release(p, e, NULL);

    const char *cyc[] = {"M.P"};
    assert_int_equal(pool_acquire(p, cyc, 1, 0, &e, &err), POOL_ECYCLE);
    assert_string_equal(err.module, "M.P");
    assert_string_equal(err.imported_by, "M.Q");

    /* Bad names are refused before anything is looked up. */
    const char *bad[] = {"M..P"};
    assert_int_equal(pool_acquire(p, bad, 1, 0, &e, &err), POOL_EBADNAME);
    assert_int_equal(pool_acquire(p, bad, 0, 0, &e, &err), POOL_EINVAL);

    pool_stats st;
    pool_stats_get(p, &st);
    assert_int_equal(st.import_failures, 3);
    assert_int_equal(st.imports_performed, 1);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_corrupt_module(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_module(dir, "C.Good", "C.Bad", "C.Good.g");
    char path[4096];
    snprintf(path, sizeof path, "%s/C/Bad.olean", dir);
    /* A v2 header whose root points past the end. */
    uint8_t img[104];
    memset(img, 0, sizeof img);
    memcpy(img, "olean\x02\x01", 7);
    uint64_t base = 0x100000000000ull, root = base + 4096;
    memcpy(img + 80, &base, 8);
    memcpy(img + 88, &root, 8);
    write_bytes(path, img, sizeof img);

    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = NULL;
    pool_error err;
    const char *imps[] = {"C.Good"};
    assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), REGION_ECORRUPT);
    assert_string_equal(err.module, "C.Bad");
    assert_string_equal(err.imported_by, "C.Good");
    assert_non_null(strstr(err.region.path, "C/Bad.olean"));
    assert_true(err.region.offset != UINT64_MAX);
    assert_true(err.reason[0] != '\0');
    char buf[2048];
    assert_non_null(strstr(pool_error_format(&err, buf, sizeof buf), "imported by C.Good"));
    /* Partial mode does not hide a corrupt file. */
    assert_int_equal(pool_acquire(p, imps, 1, POOL_PARTIAL, &e, &err), REGION_ECORRUPT);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* Gives every Name.str object of a file the same stored hash (a crafted file). */
static int forge_hashes(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 6 || strcmp(path + n - 6, ".olean") != 0)
        return 0;
    size_t len;
    uint8_t *img = read_file(path, &len);
    static const uint8_t name_str_header[8] = {0, 0, 0, 0, 32, 0, 2, 1}; /* rc 0, 32 bytes, 2 ptrs, tag 1 */
    const uint64_t forged = 0x5eed5eed5eed5eedull;
    for (size_t off = 96; off + 32 <= len; off += 8)
        if (memcmp(img + off, name_str_header, 8) == 0)
            memcpy(img + off + 24, &forged, 8);
    write_bytes(path, img, len);
    mem_free(img);
    return 0;
}

/* Names whose stored hashes all collide: the import is refused, not quadratic. */
static void test_forged_hashes_refused(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "H", 1, 6000, 1, 1, 3);
    assert_int_equal(nftw(dir, forge_hashes, 8, FTW_PHYS), 0);
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = NULL;
    pool_error err;
    const char *imps[] = {"H"};
    assert_int_equal(pool_acquire(p, imps, 1, 0, &e, &err), REGION_ECORRUPT);
    assert_null(e);
    if (!strstr(err.reason, "collide"))
        fail_msg("reason: %s", err.reason);
    assert_true(err.module[0] != '\0');
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* Every visible constant of e is found again by its printed name. */
static size_t lookup_all(pool_env *e)
{
    uint64_t cur = 0;
    pool_const_ref r, got;
    ln_buf b;
    ln_buf_init(&b, 0);
    size_t n = 0;
    while (pool_env_next(e, &cur, &r) == 1) {
        const ln_module *lm = pool_env_ln_module(e, r.module);
        ln_buf_reset(&b);
        assert_int_equal(ln_name_format(lm, r.name, &b, NULL), 0);
        int rc = pool_env_lookup(e, ln_buf_cstr(&b), b.len, &got);
        if (rc != 0)
            fail_msg("lookup of %s: %d", ln_buf_cstr(&b), rc);
        assert_int_equal(got.module, r.module);
        assert_int_equal(got.index, r.index);
        assert_true(got.info == r.info);
        n++;
    }
    ln_buf_deinit(&b);
    return n;
}

static void test_generated_library(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "G", 60, 40, 4, 6, 7);
    pool *p = pool_make(dir, 4, 0, POOL_STALE_STAT);
    pool_env *e = acquire1(p, "G", 0);
    assert_int_equal(pool_env_module_count(e), 61);
    assert_int_equal(pool_env_constant_total(e), 60 * 40);
    assert_int_equal(pool_env_constant_count(e), 60 * 40);
    assert_int_equal(lookup_all(e), 60 * 40);
    assert_true(pool_env_index_bytes(e) <= 48 * pool_env_constant_total(e));

    /* Module information. */
    pool_module_info mi;
    pool_env_module(e, pool_env_module_count(e) - 1, &mi);
    assert_string_equal(mi.name, "G");
    assert_int_equal(mi.format, REGION_V2);
    assert_string_equal(mi.lean_version, "4.18.0");
    assert_string_equal(mi.era, "2023");
    assert_int_equal(mi.constants, 0);
    assert_non_null(strstr(mi.path, "/G.olean"));
    uint64_t sum = 0;
    for (size_t i = 0; i < pool_env_module_count(e); i++) {
        pool_env_module(e, i, &mi);
        assert_true(mi.bytes > 0);
        sum += mi.bytes;
    }
    assert_int_equal(sum, pool_env_mapped_bytes(e));

    /* Lean's order: every module comes after all of its imports. */
    for (size_t i = 0; i < pool_env_module_count(e); i++) {
        const ln_module *lm = pool_env_ln_module(e, i);
        for (uint64_t k = 0; k < lm->nimports; k++) {
            ln_import imp;
            char name[256];
            assert_int_equal(ln_module_import(lm, k, &imp, NULL), 0);
            assert_int_equal(ln_name_to_cstr(lm, imp.module, name, sizeof name, NULL, NULL), 0);
            size_t j = 0;
            for (; j < i; j++) {
                pool_env_module(e, j, &mi);
                if (!strcmp(mi.name, name))
                    break;
            }
            assert_true(j < i);
        }
    }
    pool_release(p, e, NULL);
    pool_free(p);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

/* Each real sample, linked into a temporary root as S<i>.olean, in partial mode. */
static void test_real_samples(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    assert_true(n >= 20);
    char *dir = tmpdir_make();
    for (size_t i = 0; i < n; i++) {
        char link[4096];
        snprintf(link, sizeof link, "%s/S%zu.olean", dir, i);
        assert_int_equal(symlink(paths[i], link), 0);
    }
    /* Symlinks lead outside the root: refused as such. */
    pool *p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    pool_env *e = NULL;
    pool_error err;
    const char *s0[] = {"S0"};
    assert_int_equal(pool_acquire(p, s0, 1, POOL_PARTIAL, &e, &err), POOL_EOUTSIDE);
    pool_free(p);

    /* Copies inside the root are read. */
    size_t total = 0, missing = 0;
    for (size_t i = 0; i < n; i++) {
        char link[4096];
        snprintf(link, sizeof link, "%s/S%zu.olean", dir, i);
        assert_int_equal(unlink(link), 0);
        size_t len;
        uint8_t *buf = read_file(paths[i], &len);
        write_bytes(link, buf, len);
        mem_free(buf);
    }
    p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "S%zu", i);
        const char *imps[] = {name};
        int rc = pool_acquire(p, imps, 1, POOL_PARTIAL, &e, &err);
        if (rc) {
            char buf[1024];
            fail_msg("%s (%s): %s", name, paths[i], pool_error_format(&err, buf, sizeof buf));
        }
        assert_int_equal(pool_env_module_count(e), 1);
        missing += pool_env_missing_count(e);
        total += lookup_all(e);
        pool_release(p, e, NULL);
    }
    printf("samples: %zu constants found again by name, %zu missing imports\n", total, missing);
    assert_true(total > 100);
    assert_true(missing >= n); /* every sample imports Init or more, absent here */
    pool_free(p);
    samples_free(paths, n);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_env",
          cmocka_unit_test(test_closure_order),
          cmocka_unit_test(test_lookup_and_shadowing),
          cmocka_unit_test(test_missing_partial_and_cycle),
          cmocka_unit_test(test_corrupt_module),
          cmocka_unit_test(test_forged_hashes_refused),
          cmocka_unit_test(test_generated_library),
          cmocka_unit_test(test_real_samples))
