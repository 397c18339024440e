/*
 * tests/unit/cli/test_gen_lib.c — `envpool gen --shape` is calibrated: the
 * figures `envpool gen --measure` reads from a generated small-shape library
 * lie within the bounds docs/bench.md states around those of the real
 * samples; the samples still measure what docs/bench.md says (when present);
 * the lean shape weighs what `import Lean` weighs per constant; output does
 * not depend on the number of processes and is the same for a seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/genlib.h"
#include "lean/lean.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/*
 * The samples' figures (docs/bench.md §1: `envpool gen --measure
 * ../shared/lean-samples`, 24 files, 369 constants).
 */
static const struct {
    double bytes_per_const, objects_per_const, sharing, value_share, aux_share;
    double entries_per_const, entry_bytes_per_const;
    double app, lam, forall, cnst, def, thm;
} real = {3771, 104.8, 1.90, 0.347, 0.136, 3.36, 982, 0.658, 0.162, 0.089, 0.059, 0.612, 0.360};

static void measure_lib(const char *dir, gen_measure *m)
{
    char err[1024];
    memset(m, 0, sizeof *m);
    int rc = gen_measure_dir(dir, m, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
}

static char *gen(const char *shape, uint32_t modules, uint64_t seed, unsigned jobs, gen_lib_stats *st)
{
    char *dir = tmpdir_make();
    char err[1024];
    int rc = gen_lib_write(dir, gen_shape_find(shape), "Gen", modules, seed, jobs, st, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return dir;
}

#define WITHIN(what, got, lo, hi)                                                              \
    do {                                                                                       \
        double g_ = (got);                                                                     \
        if (g_ < (lo) || g_ > (hi))                                                            \
            fail_msg("%s = %.3f, outside [%.3f, %.3f]", what, g_, (double)(lo), (double)(hi)); \
    } while (0)

static double share(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

/* The bounds of docs/bench.md §3, small shape against the samples. */
static void test_small_shape_calibrated(void **state)
{
    (void)state;
    gen_lib_stats st;
    char *dir = gen("small", 0, 1, 2, &st);
    gen_measure m;
    measure_lib(dir, &m);
    gen_ratios r;
    gen_measure_ratios(&m, &r);
    assert_int_equal(m.constants, st.constants);
    assert_int_equal(m.files, st.modules);
    WITHIN("bytes per constant / samples'", r.bytes_per_const / real.bytes_per_const, 0.7, 1.5);
    WITHIN("objects per constant / samples'", r.objects_per_const / real.objects_per_const, 0.7, 1.5);
    WITHIN("Expr references per node", r.expr_sharing, real.sharing - 0.3, real.sharing + 0.3);
    WITHIN("share of bytes in values", r.value_share_of_bytes, 0.30, 0.65);
    WITHIN("auxiliary constants", r.aux_share, 0.08, 0.22);
    WITHIN("entries per constant / samples'", r.entries_per_const / real.entries_per_const, 0.5, 2.0);
    WITHIN("entry bytes per constant / samples'", r.entry_bytes_per_const / real.entry_bytes_per_const, 0.5, 2.0);
    WITHIN("app share", r.expr_tag_share[LN_APP], real.app - 0.10, real.app + 0.10);
    WITHIN("lam share", r.expr_tag_share[LN_LAM], real.lam - 0.10, real.lam + 0.10);
    WITHIN("forallE share", r.expr_tag_share[LN_FORALL], real.forall - 0.06, real.forall + 0.06);
    WITHIN("const share", r.expr_tag_share[LN_CONST], real.cnst - 0.04, real.cnst + 0.04);
    WITHIN("def share", share(m.kinds[LN_DEF], m.constants), real.def - 0.12, real.def + 0.12);
    WITHIN("theorem share", share(m.kinds[LN_THM], m.constants), real.thm - 0.12, real.thm + 0.12);
    WITHIN("constants with a value", share(m.with_value, m.constants), 0.9, 1.0);
    /* Every auxiliary kind Lean derives is there. */
    for (int k = 0; k < GEN_AUX_N; k++)
        if (k != GEN_AUX_EQ && !m.aux[k])
            fail_msg("no %s constants", gen_aux_name((enum gen_aux)k));
    assert_true(m.ext_entries[LN_EXT_DOC] > 0 && m.ext_entries[LN_EXT_RANGE] > 0);
    assert_true(m.ext_entries[LN_EXT_INSTANCE] > 0 && m.ext_entries[LN_EXT_SIMP] > 0);
    assert_true(m.ext_entries[LN_EXT_NAMESPACE] > 0 && m.ext_entries[LN_EXT_REDUCIBILITY] > 0);
    tmpdir_remove(dir);
}

/* The figures docs/bench.md gives for the samples are still what they measure. */
static void test_samples_measure_as_documented(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    gen_measure m;
    memset(&m, 0, sizeof m);
    char err[1024];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gen_measure_file(paths[i], &m, err, sizeof err), 0);
    samples_free(paths, n);
    gen_ratios r;
    gen_measure_ratios(&m, &r);
    WITHIN("bytes per constant", r.bytes_per_const, real.bytes_per_const * 0.99, real.bytes_per_const * 1.01);
    WITHIN("objects per constant", r.objects_per_const, real.objects_per_const - 0.1, real.objects_per_const + 0.1);
    WITHIN("Expr references per node", r.expr_sharing, real.sharing - 0.01, real.sharing + 0.01);
    WITHIN("app share", r.expr_tag_share[LN_APP], real.app - 0.001, real.app + 0.001);
    WITHIN("auxiliary", r.aux_share, real.aux_share - 0.001, real.aux_share + 0.001);
    WITHIN("entries per constant", r.entries_per_const, real.entries_per_const - 0.01, real.entries_per_const + 0.01);
}

/* import Lean: 1.96 GB for 203,924 constants (9.6 KB); the lean shape must reach >= 1.5 GB at ~200k. */
static void test_lean_shape_weight(void **state)
{
    (void)state;
    gen_lib_stats st;
    char *dir = gen("lean", 12, 1, 2, &st);
    gen_measure m;
    measure_lib(dir, &m);
    gen_ratios r;
    gen_measure_ratios(&m, &r);
    /* Per module and per constant as the full shape: about 87 constants a module. */
    WITHIN("constants per module", share(m.constants, m.files - 1), 80, 96);
    WITHIN("bytes per constant", r.bytes_per_const, 7400, 10000);
    WITHIN("share of bytes in values", r.value_share_of_bytes, 0.45, 0.80);
    tmpdir_remove(dir);
}

static int same_tree(const char *a, const char *b, uint32_t modules)
{
    gen_measure ma, mb;
    measure_lib(a, &ma);
    measure_lib(b, &mb);
    (void)modules;
    return ma.bytes == mb.bytes && ma.objects == mb.objects && !memcmp(ma.expr_tags, mb.expr_tags, sizeof ma.expr_tags);
}

/* The same seed gives the same bytes with one process or three; another seed other bytes. */
static void test_deterministic(void **state)
{
    (void)state;
    gen_lib_stats s1, s2, s3;
    char *a = gen("small", 9, 5, 1, &s1), *b = gen("small", 9, 5, 3, &s2), *c = gen("small", 9, 6, 2, &s3);
    assert_int_equal(s1.bytes, s2.bytes);
    assert_true(same_tree(a, b, 9));
    char pa[4096], pb[4096];
    for (uint32_t i = 0; i < 9; i++) {
        snprintf(pa, sizeof pa, "%s/Gen/L%u/M%u.olean", a, (uint32_t)((uint64_t)i * 6 / 9), i);
        snprintf(pb, sizeof pb, "%s/Gen/L%u/M%u.olean", b, (uint32_t)((uint64_t)i * 6 / 9), i);
        size_t la, lb;
        uint8_t *ba = read_file(pa, &la), *bb = read_file(pb, &lb);
        assert_true(la == lb && memcmp(ba, bb, la) == 0);
        mem_free(ba);
        mem_free(bb);
    }
    assert_true(s3.bytes != s1.bytes || !same_tree(a, c, 9));
    tmpdir_remove(a);
    tmpdir_remove(b);
    tmpdir_remove(c);
}

static void test_unknown_shape(void **state)
{
    (void)state;
    assert_null(gen_shape_find("huge"));
    assert_non_null(gen_shape_find("mathlib"));
    char err[256];
    assert_int_equal(gen_lib_write("/proc/no/such/dir", gen_shape_find("small"), "Gen", 2, 1, 1, NULL, err,
                                   sizeof err), -1);
    assert_true(err[0] != '\0');
}

TEST_MAIN("test_gen_lib",
          cmocka_unit_test(test_small_shape_calibrated),
          cmocka_unit_test(test_samples_measure_as_documented),
          cmocka_unit_test(test_lean_shape_weight),
          cmocka_unit_test(test_deterministic),
          cmocka_unit_test(test_unknown_shape))
