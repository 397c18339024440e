/*
 * tests/unit/pool/test_declinfo.c — what an environment's extension entries
 * say about its declarations (pool/declinfo.c), over real samples opened as
 * partial environments: nothing before the build (POOL_EAGAIN), docstrings
 * and ranges (zk-lean Formalism, checked against ZkLean/Formalism.lean),
 * attributes and their lists with paging, instances by class in Lean's
 * order, module docs, namespace children, the source file found in a Lake
 * layout, and builds from several threads at once happening once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

typedef struct fixture {
    pool     *p;
    pool_env *e;
} fixture;

/* A partial environment of module `mod` under the sample directory `root` (relative to the samples). */
static fixture open_sample(const char *root, const char *mod)
{
    fixture f;
    char *dir = sample_path(root);
    f.p = pool_make(dir, 2, 0, POOL_STALE_STAT);
    mem_free(dir);
    pool_error err;
    const char *imps[] = {mod};
    if (pool_acquire(f.p, imps, 1, POOL_PARTIAL, &f.e, &err) != 0)
        fail_msg("cannot open %s: %s", mod, err.reason);
    return f;
}

static void close_sample(fixture *f)
{
    pool_release(f->p, f->e, NULL);
    pool_free(f->p);
}

static pool_const_ref lookup(const pool_env *e, const char *name)
{
    pool_const_ref ref;
    if (pool_env_lookup(e, name, strlen(name), &ref) != 0)
        fail_msg("no constant %s", name);
    return ref;
}

static void build(const pool_env *e)
{
    pool_error err;
    assert_int_equal(pool_env_declinfo_build(e, &err), 0);
    assert_true(pool_env_declinfo_ready(e));
}

static void test_docs_and_ranges(void **state)
{
    (void)state;
    fixture f = open_sample("zk-lean@3ca4245/.lake/build/lib/lean", "ZkLean.Formalism");
    pool_const_ref ref = lookup(f.e, "run_circuit");
    pool_decl_info info;
    const char *text;
    size_t len;
    pool_entry_ref er = {0, 0, 0};
    size_t n;
    uint64_t next;
    assert_false(pool_env_declinfo_ready(f.e));
    assert_int_equal(pool_env_decl_info(f.e, &ref, &info), POOL_EAGAIN);
    assert_int_equal(pool_env_decl_doc(f.e, &ref, &text, &len), POOL_EAGAIN);
    assert_int_equal(pool_env_module_docs(f.e, SIZE_MAX, 10, 0, &er, &n, &next), POOL_EAGAIN);
    build(f.e);
    build(f.e); /* once: the second call finds it built */

    /* ZkLean/Formalism.lean:11 "/-- Run a circuit‑building *program* and then evaluate the resulting circuit. -/" */
    assert_int_equal(pool_env_decl_doc(f.e, &ref, &text, &len), 1);
    const char *want = "Run a circuit\u2011building *program* and then evaluate the resulting circuit. ";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    assert_int_equal(pool_env_decl_info(f.e, &ref, &info), 0);
    assert_int_equal(info.attrs, 0);
    assert_null(info.source); /* the samples directory has no .lean files */
    ln_ext_entry e;
    region_error rerr;
    assert_int_equal(pool_env_entry(f.e, &info.range, &e, &rerr), 0);
    assert_int_equal(e.range.start.line, 11); /* :11 doc comment … :18 "  semantics witness state₁" */
    assert_int_equal(e.range.end.line, 18);
    assert_int_equal(e.range.end.column, 26);
    assert_int_equal(e.selection.start.line, 12);
    assert_int_equal(e.selection.start.column, 4);

    /* A constant without a doc comment: compiler auxiliary run_circuit.match_1 */
    pool_const_ref aux = lookup(f.e, "run_circuit.match_1");
    assert_int_equal(pool_env_decl_doc(f.e, &aux, &text, &len), 0);
    assert_int_equal(pool_env_decl_info(f.e, &aux, &info), 0);
    assert_int_equal(info.range.module, UINT32_MAX);
    assert_true(info.attrs & (1u << POOL_ATTR_INLINE)); /* Lean.Compiler.inlineAttrs (dump shows it) */

    pool_declinfo_stats st;
    pool_env_declinfo_stats(f.e, &st);
    assert_true(st.entries >= 8);
    assert_int_equal(st.bad_entries, 0);
    assert_true(st.bytes >= pool_env_constant_total(f.e) * 16);
    close_sample(&f);
    assert_int_equal(mem_live_total(), 0);
}

static void test_attrs_instances_paging(void **state)
{
    (void)state;
    fixture f = open_sample("CS-MathInLean@143a71d/build/lib", "MyNatDef");
    build(f.e);
    pool_const_ref refs[16], all[16];
    pool_entry_ref ents[16];
    size_t n, total = 0;
    uint64_t next = 0;
    char name[256];
    /* 9 instance entries (dump: Lean.Meta.instanceExtension), in pages of 4 */
    do {
        assert_int_equal(pool_env_attr_list(f.e, POOL_ATTR_INSTANCE, 4, next, refs, &n, &next), 0);
        assert_true(n <= 4);
        memcpy(all + total, refs, n * sizeof *refs);
        total += n;
    } while (next);
    assert_int_equal(total, 9);
    assert_int_equal(pool_env_attr_list(f.e, POOL_ATTR_INSTANCE, 16, 0, refs, &n, &next), 0);
    assert_int_equal(n, 9);
    assert_int_equal(next, 0);
    assert_memory_equal(refs, all, 9 * sizeof *refs); /* pages joined = one page */
    assert_int_equal(pool_env_attr_list(f.e, POOL_ATTR_INSTANCE, 0, 0, refs, &n, &next), POOL_EINVAL);
    assert_int_equal(pool_env_attr_list(f.e, POOL_ATTR_INSTANCE, 4, 999, refs, &n, &next), POOL_EINVAL);
    assert_int_equal(pool_env_attr_list(f.e, POOL_ATTR_COUNT, 4, 0, refs, &n, &next), POOL_EINVAL);

    /* reducible and protected (Lean.reducibilityAttrs, Lean.protectedExt) */
    pool_decl_info info;
    pool_const_ref c = lookup(f.e, "MyNat.MyNat.casesOn");
    assert_int_equal(pool_env_decl_info(f.e, &c, &info), 0);
    assert_true(info.attrs & (1u << POOL_ATTR_REDUCIBLE));
    assert_true(info.attrs & (1u << POOL_ATTR_PROTECTED));
    assert_false(info.attrs & (1u << POOL_ATTR_INSTANCE));

    /* instances of BEq: MyNat.instBEqMyNat, priority 1000 */
    assert_int_equal(pool_env_instances(f.e, "BEq", 3, 10, 0, refs, ents, &n, &next), 0);
    assert_int_equal(n, 1);
    region_error rerr;
    assert_int_equal(ln_name_to_cstr(pool_env_ln_module(f.e, refs[0].module), refs[0].name, name, sizeof name,
                                     NULL, &rerr), 0);
    assert_string_equal(name, "MyNat.instBEqMyNat");
    ln_ext_entry e;
    assert_int_equal(pool_env_entry(f.e, &ents[0], &e, &rerr), 0);
    assert_int_equal(e.kind, LN_EXT_INSTANCE);
    assert_int_equal(e.priority, 1000);
    pool_decl_info ii;
    assert_int_equal(pool_env_decl_info(f.e, &refs[0], &ii), 0);
    assert_true(ii.attrs & (1u << POOL_ATTR_INSTANCE));
    assert_int_equal(ii.instance.module, ents[0].module);
    /* Inhabited has two (instInhabitedMyNat, instInhabitedMyNat_1): equal priority, later first */
    assert_int_equal(pool_env_instances(f.e, "Inhabited", 9, 1, 0, refs, ents, &n, &next), 0);
    assert_int_equal(n, 1);
    assert_true(next != 0);
    assert_int_equal(ln_name_to_cstr(pool_env_ln_module(f.e, refs[0].module), refs[0].name, name, sizeof name,
                                     NULL, &rerr), 0);
    assert_string_equal(name, "MyNat.instInhabitedMyNat_1");
    assert_int_equal(pool_env_instances(f.e, "Inhabited", 9, 1, next, refs, ents, &n, &next), 0);
    assert_int_equal(n, 1);
    assert_int_equal(next, 0);
    assert_int_equal(pool_env_instances(f.e, "NoSuchClass", 11, 10, 0, refs, ents, &n, &next), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pool_env_instances(f.e, "a..b", 4, 10, 0, refs, ents, &n, &next), POOL_EINVAL);

    enum pool_attr a;
    assert_int_equal(pool_attr_parse("implemented_by", 14, &a), 0);
    assert_int_equal(a, POOL_ATTR_IMPLEMENTED_BY);
    assert_string_equal(pool_attr_name(POOL_ATTR_MACRO_INLINE), "macro_inline");
    assert_int_equal(pool_attr_parse("simpp", 5, &a), POOL_EINVAL);
    close_sample(&f);
    assert_int_equal(mem_live_total(), 0);
}

static void test_module_docs_and_children(void **state)
{
    (void)state;
    fixture f = open_sample("CS-MathInLean@143a71d/build/lib", "MyNatAdd");
    build(f.e);
    pool_entry_ref ents[4];
    size_t n;
    uint64_t next;
    /* MyNatAdd has two module docs (# Addition World…, Notice that…) and imports MyNatDef (none) */
    assert_int_equal(pool_env_module_docs(f.e, SIZE_MAX, 1, 0, ents, &n, &next), 0);
    assert_int_equal(n, 1);
    assert_true(next != 0);
    ln_ext_entry e;
    region_error rerr;
    assert_int_equal(pool_env_entry(f.e, &ents[0], &e, &rerr), 0);
    assert_int_equal(e.range.start.line, 17);
    assert_int_equal(pool_env_module_docs(f.e, SIZE_MAX, 1, next, ents, &n, &next), 0);
    assert_int_equal(n, 1);
    assert_int_equal(next, 0);
    assert_int_equal(pool_env_module_docs(f.e, 9999, 1, 0, ents, &n, &next), POOL_EINVAL);

    /* children of MyNat: declarations and sub-namespaces (MyNat.MyNat is both) */
    pool_child items[64];
    pool_error err;
    assert_int_equal(pool_env_children(f.e, "MyNat", 5, 64, 0, items, &n, &next, &err), 0);
    assert_int_equal(next, 0);
    bool decl_mynat = false, ns_mynat = false, one = false;
    for (size_t i = 0; i < n; i++) {
        const char *nm = items[i].item.name;
        size_t l = items[i].item.name_len;
        assert_true(l > 6 && memcmp(nm, "MyNat.", 6) == 0);
        assert_null(memchr(nm + 6, '.', l - 6)); /* directly inside */
        if (l == 11 && memcmp(nm, "MyNat.MyNat", 11) == 0)
            *(items[i].is_namespace ? &ns_mynat : &decl_mynat) = true;
        if (l == 9 && memcmp(nm, "MyNat.one", 9) == 0 && !items[i].is_namespace)
            one = true;
    }
    assert_true(decl_mynat && ns_mynat && one);
    /* paging: pages of 2 joined give the same list */
    pool_child paged[64];
    size_t total = 0;
    next = 0;
    do {
        size_t k;
        assert_int_equal(pool_env_children(f.e, "MyNat", 5, 2, next, paged + total, &k, &next, &err), 0);
        total += k;
    } while (next && total < 64);
    assert_int_equal(total, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(paged[i].is_namespace, items[i].is_namespace);
        assert_int_equal(paged[i].item.name_len, items[i].item.name_len);
        assert_memory_equal(paged[i].item.name, items[i].item.name, n ? items[i].item.name_len : 0);
    }
    /* the root: MyNat is a namespace there */
    assert_int_equal(pool_env_children(f.e, "", 0, 64, 0, items, &n, &next, &err), 0);
    bool root_ns = false;
    for (size_t i = 0; i < n; i++)
        root_ns |= items[i].is_namespace && items[i].item.name_len == 5 && memcmp(items[i].item.name, "MyNat", 5) == 0;
    assert_true(root_ns);
    assert_int_equal(pool_env_children(f.e, "MyNat", 5, 0, 0, items, &n, &next, &err), POOL_EINVAL);
    assert_int_equal(pool_env_children(f.e, "MyNat", 5, 2, 999999, items, &n, &next, &err), POOL_EINVAL);
    close_sample(&f);
    assert_int_equal(mem_live_total(), 0);
}

static void put_file(const char *dir, const char *rel, const void *bytes, size_t len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *o = fopen(path, "wb");
    assert_non_null(o);
    assert_int_equal(fwrite(bytes, 1, len, o), len);
    assert_int_equal(fclose(o), 0);
}

/* decl.get's source of run_circuit in a pool over lib with source directories srcs[0..nsrc). */
static char *source_with(const char *lib, const char *const *srcs, size_t nsrc)
{
    pool_roots *roots, *sources = NULL;
    pool_error err;
    assert_int_equal(pool_roots_new(&lib, 1, &roots, &err), 0);
    if (nsrc)
        assert_int_equal(pool_roots_new(srcs, nsrc, &sources, &err), 0);
    pool_config cfg = {.roots = roots, .capacity = 2, .stale_check = POOL_STALE_STAT, .source_roots = sources};
    pool *p;
    assert_int_equal(pool_new(&cfg, &p, &err), 0);
    const char *imps[] = {"ZkLean.Formalism"};
    pool_env *e;
    assert_int_equal(pool_acquire(p, imps, 1, POOL_PARTIAL, &e, &err), 0);
    build(e);
    pool_const_ref ref = lookup(e, "run_circuit");
    pool_decl_info info;
    assert_int_equal(pool_env_decl_info(e, &ref, &info), 0);
    char *got = info.source ? mem_strdup(info.source) : NULL;
    pool_release(p, e, NULL);
    pool_free(p);
    return got;
}

/*
 * Lake's layout: PKG/.lake/build/lib/lean/A/B.olean has its source at
 * PKG/A/B.lean. Source directories (--source-path) come first, in order; one
 * without the file is passed over, and none having it leaves the derivation.
 */
static void test_source_in_lake_layout(void **state)
{
    (void)state;
    /* first: a skip for an absent sample must leave nothing allocated */
    char *sample = sample_path("zk-lean@3ca4245/.lake/build/lib/lean/ZkLean/Formalism.olean");
    char *dir = tmpdir_make();
    char lib[2048];
    snprintf(lib, sizeof lib, "%s/pkg/.lake/build/lib/lean", dir);
    const char *mk[] = {"pkg", "pkg/.lake", "pkg/.lake/build", "pkg/.lake/build/lib", "pkg/.lake/build/lib/lean",
                        "pkg/.lake/build/lib/lean/ZkLean", "pkg/ZkLean", "empty", "other", "other/ZkLean",
                        "flat", "flat/ZkLean"};
    for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++) {
        char d[8192];
        snprintf(d, sizeof d, "%s/%s", dir, mk[i]);
        assert_int_equal(mkdir(d, 0700), 0);
    }
    size_t len;
    uint8_t *bytes = read_file(sample, &len);
    put_file(lib, "ZkLean/Formalism.olean", bytes, len);
    put_file(dir, "flat/ZkLean/Formalism.olean", bytes, len); /* no Lake layout around it */
    const char *text = "-- the module's source\n";
    put_file(dir, "pkg/ZkLean/Formalism.lean", text, strlen(text));
    put_file(dir, "other/ZkLean/Formalism.lean", text, strlen(text));

    char lake_src[8192], other_src[8192], empty[4096], other[4096], flat[4096];
    snprintf(lake_src, sizeof lake_src, "%s/pkg/ZkLean/Formalism.lean", dir);
    snprintf(other_src, sizeof other_src, "%s/other/ZkLean/Formalism.lean", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    snprintf(flat, sizeof flat, "%s/flat", dir);
    char *real_lake = realpath(lake_src, NULL), *real_other = realpath(other_src, NULL);

    char *got = source_with(lib, NULL, 0);               /* derived */
    assert_non_null(got);
    assert_string_equal(got, real_lake);
    mem_free(got);
    const char *both[] = {empty, other};
    got = source_with(lib, both, 2);                     /* the source path first, past a directory without it */
    assert_non_null(got);
    assert_string_equal(got, real_other);
    mem_free(got);
    const char *only_empty[] = {empty};
    got = source_with(lib, only_empty, 1);               /* not under the source path: derived */
    assert_non_null(got);
    assert_string_equal(got, real_lake);
    mem_free(got);
    assert_null(source_with(flat, NULL, 0));             /* no layout to derive from */
    got = source_with(flat, both, 2);
    assert_non_null(got);
    assert_string_equal(got, real_other);
    mem_free(got);

    free(real_lake);
    free(real_other);
    mem_free(bytes);
    mem_free(sample);
    tmpdir_remove(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void *build_thread(void *arg)
{
    pool_error err;
    return (void *)(intptr_t)pool_env_declinfo_build(arg, &err);
}

static void test_concurrent_builds(void **state)
{
    (void)state;
    fixture f = open_sample("pgraph@8af555c/.lake/build/lib", "Main");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, build_thread, f.e), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        assert_int_equal(pthread_join(t[i], &rc), 0);
        assert_int_equal((intptr_t)rc, 0);
    }
    pool_declinfo_stats st;
    pool_env_declinfo_stats(f.e, &st);
    assert_true(st.entries >= 84); /* pgraph Main: 84 ranges alone */
    /* pool.stats: built once, its bytes and constants alive until the environment goes */
    pool_stats ps;
    pool_stats_get(f.p, &ps);
    assert_int_equal(ps.declinfo_builds, 1);
    assert_int_equal(ps.declinfo_bytes, st.bytes);
    assert_int_equal(ps.declinfo_constants, pool_env_constant_total(f.e));
    pool_release(f.p, f.e, NULL);
    assert_int_equal(pool_drain(f.p), 1);
    pool_stats_get(f.p, &ps);
    assert_int_equal(ps.declinfo_builds, 1);
    assert_int_equal(ps.declinfo_bytes, 0);
    assert_int_equal(ps.declinfo_constants, 0);
    pool_free(f.p);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_declinfo",
          cmocka_unit_test(test_docs_and_ranges),
          cmocka_unit_test(test_attrs_instances_paging),
          cmocka_unit_test(test_module_docs_and_children),
          cmocka_unit_test(test_source_in_lake_layout),
          cmocka_unit_test(test_concurrent_builds))
