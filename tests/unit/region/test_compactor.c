/*
 * tests/unit/region/test_compactor.c — region_save / region_compact: Lean's
 * object order (every sample re-saves to the same bytes), sharing, max
 * sharing, chained saves, deps, refusals, determinism, atomic writes, deep
 * graphs, Lean's module base address, and no leaks.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "region/compactor.h"
#include "region/decode.h"
#include "region/heap.h"
#include "region/region.h"
#include "tests/support/heaptest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* ---- helpers ------------------------------------------------------------ */

static char g_dir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/envpool-test-compactor-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    return rmdir(g_dir);
}

static size_t dir_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static lx_word str(const char *s)
{
    lx_word w;
    assert_int_equal(lx_string_try_new(s, strlen(s), &w), 0);
    return w;
}

/* Name.str prefix s with its real hash, as Lean builds it. */
static lx_word name_str(lx_word prefix, const char *s, uint64_t *hash)
{
    uint64_t h = region_name_hash_str(*hash, s, strlen(s));
    lx_word n = lx_ctor_new(1, 2, 8);
    lx_ctor_set(n, 0, prefix);
    lx_ctor_set(n, 1, str(s));
    memcpy(lx_ctor_scalars_mut(n), &h, 8);
    *hash = h;
    return n;
}

static lx_word pair(lx_word a, lx_word b)
{
    lx_word p = lx_ctor_new(0, 2, 0);
    lx_ctor_set(p, 0, a);
    lx_ctor_set(p, 1, b);
    return p;
}

static uint64_t rd64(const uint8_t *p) { return lx_rd64(p); }

/* Word at file offset off of a saved image whose base is base. */
static const uint8_t *at(const uint8_t *img, uint64_t base, lx_word w) { return img + (w - base); }

static region_save_opts opts_v2(void)
{
    region_save_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.lean_version, sizeof o.lean_version, "4.29.1");
    snprintf(o.githash, sizeof o.githash, "0123456789abcdef0123456789abcdef01234567");
    return o;
}

/* ---- tests -------------------------------------------------------------- */

/* Lean's base address: every 2023+ "Main" module is at 0x5a1ef5730000. */
static void test_module_base(void **state)
{
    (void)state;
    assert_int_equal(region_module_base("Main"), 0x5a1ef5730000ull);
    assert_int_equal(region_name_hash(""), region_name_hash_str(1723, "", 0));
    assert_int_equal(region_module_base("A.B") % 65536, 0);
    assert_true(region_module_base("A.B") < 0x7f0000000000ull);
}

/* Every 2023+ sample was written at the base of its module name (needs the
 * six samples named below). */
static void test_samples_at_module_base(void **state)
{
    (void)state;
    static const struct { const char *rel, *module; } cases[] = {
        {"lean4-playground@9c4259e/.lake/build/lib/LeanPlayground/Basic.olean", "LeanPlayground.Basic"},
        {"kmp-casestudy-lean@fae0097/.lake/build/lib/lean/Kmpstudy.olean", "Kmpstudy"},
        {"zk-lean@3ca4245/.lake/build/lib/lean/ZkLean.olean", "ZkLean"},
        {"zk-lean@3ca4245/.lake/build/lib/lean/ZkLean/Formalism.olean", "ZkLean.Formalism"},
        {"CS-MathInLean@143a71d/build/lib/MyNatDef.olean", "MyNatDef"},
        {"pgraph@8af555c/.lake/build/lib/Main.olean", "Main"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = sample_path(cases[i].rel);
        region *r;
        assert_int_equal(region_open(p, 0, &r, NULL), 0);
        assert_int_equal(region_get_info(r)->base, region_module_base(cases[i].module));
        region_close(r);
        mem_free(p);
    }
    assert_int_equal(mem_live_total(), 0);
}

/*
 * Every sample, decoded to the heap and compacted again with its own header
 * and base, gives back the file byte for byte: 2023-10 and later files with
 * Lean's current child order, the 2022-04 and 2023-02 ones with the older
 * reverse order (the compactor scanned fields first to last then).
 */
static void test_resave_samples_byte_identical(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    assert_true(n >= 24);
    size_t reverse = 0;
    for (size_t i = 0; i < n; i++) {
        region *r;
        region_error err;
        assert_int_equal(region_open(paths[i], 0, &r, &err), 0);
        const region_info *info = region_get_info(r);
        size_t flen;
        uint8_t *file = read_file(paths[i], &flen);

        lx_word root;
        uint64_t nobj;
        assert_int_equal(region_decode(r, &root, &nobj, &err), 0);
        assert_int_equal(nobj, info->objects);

        region_save_opts o;
        region_save_opts_from_info(&o, info);
        bool old = strstr(paths[i], "signatures@") || strstr(paths[i], "lean-rsa-project@");
        o.order = old ? REGION_ORDER_REVERSE : REGION_ORDER_FIELD;
        reverse += old;

        region_saved *s;
        const uint8_t *data;
        size_t len;
        region_save_stats st;
        assert_int_equal(region_compact(NULL, root, NULL, 0, NULL, &o, &s, &data, &len, &st, &err), 0);
        if (len != flen || memcmp(data, file, len))
            fail_msg("%s: re-saved bytes differ (%zu vs %zu bytes)", paths[i], len, flen);
        assert_int_equal(st.objects, info->objects);
        assert_int_equal(st.merged, 0);
        region_saved_free(s);

        /* The other order does not reproduce it: the test can tell them apart. */
        o.order = old ? REGION_ORDER_FIELD : REGION_ORDER_REVERSE;
        assert_int_equal(region_compact(NULL, root, NULL, 0, NULL, &o, &s, &data, &len, NULL, &err), 0);
        if (info->objects > 10)
            assert_true(len != flen || memcmp(data, file, len) != 0);
        region_saved_free(s);

        lx_unref(root);
        mem_free(file);
        region_close(r);
    }
    assert_int_equal(reverse, 3);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

/* A shared object is emitted once; identical distinct objects are merged
 * (Lean's max sharing), except big numbers. The file reads back. */
static void test_sharing(void **state)
{
    (void)state;
    uint64_t h = 1723;
    lx_word nm = name_str(lx_box(0), "Nat", &h);
    lx_ref(nm);
    lx_word p = pair(nm, nm);                       /* same object twice */
    lx_word q = pair(str("twin"), str("twin"));     /* equal strings, distinct objects */
    const uint64_t limb = 1ull << 63;
    lx_word z1, z2;
    assert_int_equal(lx_mpz_try_new(false, &limb, 1, &z1), 0);
    assert_int_equal(lx_mpz_try_new(false, &limb, 1, &z2), 0);
    lx_word root = pair(pair(p, q), pair(z1, z2));

    char path[512];
    snprintf(path, sizeof path, "%s/Share.olean", g_dir);
    region_save_opts o = opts_v2();
    region_save_stats st;
    region_error err;
    assert_int_equal(region_save(path, "Share", root, NULL, 0, NULL, &o, NULL, &st, &err), 0);
    /* objects: "Nat", Name, p, "twin", q, pair(p,q), z1, z2, pair(z1,z2), root */
    assert_int_equal(st.objects, 10);
    assert_int_equal(st.merged, 1);

    region *r;
    assert_int_equal(region_open(path, REGION_OPEN_NO_FIXED, &r, &err), 0);
    const region_info *info = region_get_info(r);
    assert_int_equal(info->objects, 10);
    assert_int_equal(info->base, region_module_base("Share"));
    assert_int_equal(info->format, REGION_V2);
    assert_int_equal(info->flags, 1);
    assert_string_equal(info->lean_version, "4.29.1");
    lx_space sp = region_space(r);
    const uint8_t *ro = lx_obj(&sp, region_root(r));
    const uint8_t *pq = lx_obj(&sp, lx_ctor_get(ro, 0));
    const uint8_t *rp = lx_obj(&sp, lx_ctor_get(pq, 0));
    const uint8_t *rq = lx_obj(&sp, lx_ctor_get(pq, 1));
    const uint8_t *zz = lx_obj(&sp, lx_ctor_get(ro, 1));
    assert_true(lx_ctor_get(rp, 0) == lx_ctor_get(rp, 1));
    assert_true(lx_ctor_get(rq, 0) == lx_ctor_get(rq, 1));
    assert_true(lx_ctor_get(zz, 0) != lx_ctor_get(zz, 1));
    /* Children precede parents; the first field is laid out first. */
    assert_true(lx_ctor_get(pq, 0) < lx_ctor_get(pq, 1));
    assert_true(lx_ctor_get(ro, 0) < region_root(r));
    const uint8_t *nat = lx_obj(&sp, lx_ctor_get(rp, 0));
    assert_int_equal(lx_rd64(lx_ctor_scalars(nat)), h);
    assert_int_equal(lx_rc(nat), 0);
    lx_mpz_view v = lx_mpz(lx_obj(&sp, lx_ctor_get(zz, 0)), lx_ctor_get(zz, 0));
    assert_int_equal(v.ndigits, 1);
    assert_int_equal(lx_rd64(v.digits), limb);
    region_close(r);

    lx_unref(root);
    assert_int_equal(dir_entries(g_dir), 1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mem_live_total(), 0);
}

/* Every object kind survives a save and the reader's validation. */
static void test_all_kinds(void **state)
{
    (void)state;
    lx_word sa, arr, zn;
    const double fl[2] = {1.5, -2.0};
    assert_int_equal(lx_sarray_try_new(8, 2, fl, &sa), 0);
    assert_int_equal(lx_array_try_new(4, &arr), 0);
    const uint32_t digits[2] = {7, 9};
    assert_int_equal(lx_mpz_native_try_new(true, digits, 2, NULL, &zn), 0);
    lx_array_set(arr, 0, lx_thunk_new(sa));
    lx_array_set(arr, 1, lx_task_new(str("t")));
    lx_array_set(arr, 2, lx_ref_new(zn));
    lx_array_set(arr, 3, lx_promise_new(lx_task_new(lx_box(42))));

    char path[512];
    snprintf(path, sizeof path, "%s/Kinds.olean", g_dir);
    region_save_opts o = opts_v2();
    region_error err;
    /* The header's flags must agree with the big numbers' layout. */
    assert_int_equal(region_save(path, "Kinds", arr, NULL, 0, NULL, &o, NULL, NULL, &err), REGION_EUNSUPPORTED);
    assert_non_null(strstr(err.reason, "native layout"));
    assert_int_equal(dir_entries(g_dir), 0);
    o.flags = 0;
    o.flags_set = true;
    assert_int_equal(region_save(path, "Kinds", arr, NULL, 0, NULL, &o, NULL, NULL, &err), 0);
    region *r;
    if (region_open(path, REGION_OPEN_NO_FIXED, &r, &err) != 0) {
        char msg[1024];
        fail_msg("%s", region_error_format(&err, msg, sizeof msg));
    }
    lx_space sp = region_space(r);
    const uint8_t *a = lx_obj(&sp, region_root(r));
    assert_int_equal(lx_tag(a), LX_TAG_ARRAY);
    assert_int_equal(lx_cs_sz(a), 1);
    assert_int_equal(lx_array_size(a), 4);
    const uint8_t *th = lx_obj(&sp, lx_array_get(a, 0));
    assert_int_equal(lx_tag(th), LX_TAG_THUNK);
    assert_int_equal(lx_cs_sz(th), 24);
    const uint8_t *s = lx_obj(&sp, lx_boxed_value(th));
    assert_int_equal(lx_tag(s), LX_TAG_SARRAY);
    assert_int_equal(lx_other(s), 8);
    assert_memory_equal(s + 24, fl, 16);
    const uint8_t *rf = lx_obj(&sp, lx_array_get(a, 2));
    lx_word zw = lx_boxed_value(rf);
    lx_mpz_view v = lx_mpz(lx_obj(&sp, zw), zw);
    assert_true(v.negative);
    assert_int_equal(v.digit_size, 4);
    assert_int_equal(v.ndigits, 2);
    const uint8_t *pr = lx_obj(&sp, lx_array_get(a, 3));
    assert_int_equal(lx_tag(pr), LX_TAG_PROMISE);
    const uint8_t *tk = lx_obj(&sp, lx_boxed_value(pr));
    assert_int_equal(lx_tag(tk), LX_TAG_TASK);
    assert_true(lx_boxed_value(tk) == lx_box(42));
    region_close(r);
    lx_unref(arr);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mem_live_total(), 0);
}

/* A chained save continues the address space at the next 64 KiB and points
 * at objects the first save emitted. The reader accepts the pair as parts. */
static void test_chained_save(void **state)
{
    (void)state;
    uint64_t h = 1723;
    lx_word shared = name_str(name_str(lx_box(0), "Lean", &h), "Expr", &h);
    lx_ref(shared);
    lx_word part0 = pair(shared, str("public"));
    lx_word part1 = pair(shared, str("server only"));

    char p0[512], p1[512];
    snprintf(p0, sizeof p0, "%s/Chain.olean", g_dir);
    snprintf(p1, sizeof p1, "%s/Chain.olean.server", g_dir);
    region_save_opts o = opts_v2();
    region_saved *s;
    region_save_stats st0, st1;
    region_error err;
    assert_int_equal(region_save(p0, "Chain", part0, NULL, 0, NULL, &o, &s, &st0, &err), 0);
    assert_non_null(s);
    assert_int_equal(st0.objects, 6);
    assert_int_equal(region_save(p1, NULL, part1, NULL, 0, s, &o, &s, &st1, &err), 0);
    assert_int_equal(st1.objects, 2); /* the string and the pair; the name is part 0's */
    assert_int_equal(st1.file_offset, 65536);
    region_saved_free(s);

    uint64_t base = region_module_base("Chain");
    size_t len0, len1;
    uint8_t *f0 = read_file(p0, &len0), *f1 = read_file(p1, &len1);
    assert_int_equal(rd64(f0 + 80), base);
    assert_int_equal(rd64(f1 + 80), base + 65536);
    assert_int_equal(len1, 88 + 8 + 48 + 24); /* "server only" and the pair */
    const uint8_t *root1 = at(f1, base + 65536, rd64(f1 + 88));
    const uint8_t *root0 = at(f0, base, rd64(f0 + 88));
    assert_true(lx_ctor_get(root1, 0) == lx_ctor_get(root0, 0));
    assert_true(lx_ctor_get(root1, 0) < base + len0);
    mem_free(f0);
    mem_free(f1);

    region *r;
    if (region_open(p0, REGION_OPEN_PARTS | REGION_OPEN_NO_FIXED, &r, &err) != 0) {
        char msg[1024];
        fail_msg("%s", region_error_format(&err, msg, sizeof msg));
    }
    assert_int_equal(region_get_info(r)->nparts, 2);
    region_close(r);

    lx_unref(part0);
    lx_unref(part1);
    assert_int_equal(unlink(p0), 0);
    assert_int_equal(unlink(p1), 0);
    assert_int_equal(mem_live_total(), 0);
}

/* Objects of an open region given in deps are referenced at their address in
 * that file, not copied; other region objects are refused. */
static void test_deps_referenced(void **state)
{
    (void)state;
    char *dep_path = sample_path("pgraph@8af555c/.lake/build/lib/Main.olean");
    region *dep;
    region_error err;
    assert_int_equal(region_open(dep_path, REGION_OPEN_NO_FIXED, &dep, &err), 0);
    lx_space sp = region_space(dep);
    lx_word dep_root = region_root(dep);
    const uint8_t *mod = lx_obj(&sp, dep_root);
    lx_word imports = lx_ctor_get(mod, 0);
    /* Heap slots hold readable addresses. */
    lx_word root = pair((lx_word)(uintptr_t)mod, (lx_word)(uintptr_t)lx_obj(&sp, imports));

    char path[512];
    snprintf(path, sizeof path, "%s/UsesDep.olean", g_dir);
    region_save_opts o = opts_v2();
    region_save_stats st;
    const region *deps[1] = {dep};
    assert_int_equal(region_save(path, "UsesDep", root, deps, 1, NULL, &o, NULL, &st, &err), 0);
    assert_int_equal(st.objects, 1);
    assert_int_equal(st.dep_refs, 2);
    size_t len;
    uint8_t *f = read_file(path, &len);
    assert_int_equal(len, 88 + 8 + 24);
    const uint8_t *ro = at(f, region_module_base("UsesDep"), rd64(f + 88));
    assert_true(lx_ctor_get(ro, 0) == dep_root);
    assert_true(lx_ctor_get(ro, 1) == imports);
    mem_free(f);
    assert_int_equal(unlink(path), 0);

    /* Without deps, the region objects cannot be placed: refused, no file. */
    assert_int_equal(region_save(path, "UsesDep", root, NULL, 0, NULL, &o, NULL, NULL, &err),
                     REGION_EUNSUPPORTED);
    assert_non_null(strstr(err.reason, "no deps region"));
    assert_int_equal(dir_entries(g_dir), 0);

    lx_unref(root);
    region_close(dep);
    mem_free(dep_path);
    assert_int_equal(mem_live_total(), 0);
}

/* Closures and external objects are refused with an error naming them, and
 * nothing is written. */
static void test_closures_refused(void **state)
{
    (void)state;
    static const uint8_t tags[2] = {LX_TAG_CLOSURE, LX_TAG_EXTERNAL};
    static const char *const names[2] = {"closure", "external object"};
    for (int k = 0; k < 2; k++) {
        lx_word bad;
        assert_int_equal(lx_object_try_new_raw(tags[k], 0, 24, &bad), 0);
        lx_word root = pair(str("fine"), pair(lx_box(1), bad));
        char path[512], addr[64];
        snprintf(path, sizeof path, "%s/Bad.olean", g_dir);
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)bad);
        region_error err;
        region_saved *s = (region_saved *)&err; /* must be reset to NULL */
        assert_int_equal(region_save(path, "Bad", root, NULL, 0, NULL, NULL, &s, NULL, &err),
                         REGION_EUNSUPPORTED);
        assert_null(s);
        assert_non_null(strstr(err.reason, names[k]));
        assert_non_null(strstr(err.reason, addr));
        assert_string_equal(err.path, path);
        assert_int_equal(dir_entries(g_dir), 0);
        lx_unref(root);
    }
    assert_int_equal(mem_live_total(), 0);
}

/* The same graph gives the same bytes, whatever the heap addresses. */
static void test_deterministic(void **state)
{
    (void)state;
    region_save_opts o = opts_v2();
    uint8_t *first = NULL;
    size_t first_len = 0;
    for (int round = 0; round < 3; round++) {
        /* Rebuild from scratch, with an unrelated allocation shifting addresses. */
        lx_word noise = lx_ctor_new(0, (unsigned)round * 3, 0);
        uint64_t h = 1723;
        lx_word n = name_str(name_str(lx_box(0), "Std", &h), "Data", &h);
        lx_word list = lx_box(0);
        for (int i = 0; i < 50; i++) {
            lx_word cell = lx_ctor_new(1, 2, 0);
            lx_ref(n);
            lx_ctor_set(cell, 0, pair(n, lx_box((uint64_t)i % 7)));
            lx_ctor_set(cell, 1, list);
            list = cell;
        }
        lx_unref(n);
        region_saved *s;
        const uint8_t *data;
        size_t len;
        region_error err;
        assert_int_equal(region_compact("Det", list, NULL, 0, NULL, &o, &s, &data, &len, NULL, &err), 0);
        if (!first) {
            first = mem_alloc(len);
            memcpy(first, data, len);
            first_len = len;
        } else {
            assert_int_equal(len, first_len);
            assert_memory_equal(data, first, len);
        }
        region_saved_free(s);
        lx_unref(list);
        lx_unref(noise);
    }
    /* 50 cells + 7 distinct pairs (max sharing) + 2 names + 2 strings. */
    assert_int_equal(first_len, 96 + 50 * 24 + 7 * 24 + 2 * 32 + 2 * 40);
    mem_free(first);
    assert_int_equal(mem_live_total(), 0);
}

/* A failing write leaves nothing behind: missing parent directory; target
 * that is a directory (the rename fails after the temp file was written). */
static void test_atomic_write_failures(void **state)
{
    (void)state;
    lx_word root = pair(str("a"), str("b"));
    region_error err;
    char path[512];

    snprintf(path, sizeof path, "%s/missing/M.olean", g_dir);
    int rc = region_save(path, "M", root, NULL, 0, NULL, NULL, NULL, NULL, &err);
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(err.path, path);
    assert_int_equal(dir_entries(g_dir), 0);

    snprintf(path, sizeof path, "%s/IsADir.olean", g_dir);
    assert_int_equal(mkdir(path, 0755), 0);
    rc = region_save(path, "M", root, NULL, 0, NULL, NULL, NULL, NULL, &err);
    assert_true(rc == -EISDIR || rc == -EEXIST || rc == -ENOTEMPTY);
    assert_non_null(strstr(err.reason, "renaming"));
    assert_int_equal(dir_entries(g_dir), 1); /* only the directory itself */
    assert_int_equal(rmdir(path), 0);

    /* An existing file is replaced whole. */
    snprintf(path, sizeof path, "%s/Old.olean", g_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old contents that are longer than nothing", f);
    fclose(f);
    assert_int_equal(region_save(path, "M", root, NULL, 0, NULL, NULL, NULL, NULL, &err), 0);
    region *r;
    assert_int_equal(region_open(path, REGION_OPEN_NO_FIXED, &r, &err), 0);
    assert_int_equal(region_get_info(r)->objects, 3);
    region_close(r);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(dir_entries(g_dir), 0);

    lx_unref(root);
    assert_int_equal(mem_live_total(), 0);
}

/* The compactor's traversal uses its own stack: a million-deep list. */
static void test_million_deep_list(void **state)
{
    (void)state;
    lx_word list = heaptest_list(1000000);
    region_saved *s;
    const uint8_t *data;
    size_t len;
    region_save_stats st;
    region_error err;
    region_save_opts o = opts_v2();
    assert_int_equal(region_compact("Deep", list, NULL, 0, NULL, &o, &s, &data, &len, &st, &err), 0);
    assert_int_equal(st.objects, 1000000);
    assert_int_equal(len, 96 + 24 * (size_t)1000000);
    /* The innermost cell (box 0) comes first, the root last. */
    assert_int_equal(rd64(data + 96 + 8), lx_box(0));
    assert_int_equal(rd64(data + 88), region_module_base("Deep") + len - 24);
    region_saved_free(s);
    lx_unref(list);
    assert_int_equal(mem_live_total(), 0);
}

/* A scalar root and a root that is itself in a dep. */
static void test_trivial_roots(void **state)
{
    (void)state;
    region_saved *s;
    const uint8_t *data;
    size_t len;
    region_error err;
    region_save_opts o = opts_v2();
    o.format = REGION_V0;
    o.format_set = true;
    o.has_base = true;
    o.base = 0x10000;
    assert_int_equal(region_compact(NULL, lx_box(5), NULL, 0, NULL, &o, &s, &data, &len, NULL, &err), 0);
    assert_int_equal(len, 32);
    assert_memory_equal(data, "oleanfile!!!!!!!", 16);
    assert_int_equal(rd64(data + 16), 0x10000);
    assert_int_equal(rd64(data + 24), lx_box(5));
    region_saved_free(s);
    /* No key and no base: refused. */
    assert_int_equal(region_compact(NULL, lx_box(5), NULL, 0, NULL, NULL, &s, &data, &len, NULL, &err), -EINVAL);
    assert_null(s);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN_FIXTURES("test_compactor", setup_dir, teardown_dir,
                   cmocka_unit_test(test_module_base),
                   cmocka_unit_test(test_samples_at_module_base),
                   cmocka_unit_test(test_resave_samples_byte_identical),
                   cmocka_unit_test(test_sharing),
                   cmocka_unit_test(test_all_kinds),
                   cmocka_unit_test(test_chained_save),
                   cmocka_unit_test(test_deps_referenced),
                   cmocka_unit_test(test_closures_refused),
                   cmocka_unit_test(test_deterministic),
                   cmocka_unit_test(test_atomic_write_failures),
                   cmocka_unit_test(test_million_deep_list),
                   cmocka_unit_test(test_trivial_roots))
