/*
 * tests/unit/region/test_damage.c — seeded damage of the real samples.
 *
 * Each mutation (truncation, bit flips, pointers redirected forwards, out of
 * range, unaligned or into themselves, huge size/capacity fields, header
 * damage) must either validate — and then every object reachable from the
 * root can be walked and read and lean/ decodes and prints every constant or
 * refuses with an error — or be refused with REGION_ECORRUPT /
 * REGION_EUNSUPPORTED and a reason. A crash, a sanitizer report or a hang
 * fails the run. ENVPOOL_DAMAGE_ROUNDS overrides the number of mutations
 * (default 50,000 over all samples); ENVPOOL_DAMAGE_SEED the seed. The same
 * mutations (the first 10,000 by default) run again opened lazily
 * (REGION_OPEN_LAZY), where the checks happen as objects are read.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "region/region.h"
#include "tests/support/damage.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static void run_damage(unsigned flags)
{
    char **paths;
    size_t n = samples_list(&paths);
    const char *e = getenv("ENVPOOL_DAMAGE_ROUNDS");
    /* Lazily every accepted file is also read eagerly, and far more files are
       accepted (then refused while read): 10,000 by default keeps the test
       inside the runner's time limit on a loaded machine. */
    unsigned long rounds = e ? strtoul(e, NULL, 10) : (flags & REGION_OPEN_LAZY) ? 10000 : 50000;
    e = getenv("ENVPOOL_DAMAGE_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 10) : 20261121;

    uint8_t **bufs = mem_alloc(n * sizeof *bufs);
    size_t *lens = mem_alloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++)
        bufs[i] = read_file(paths[i], &lens[i]);

    damage_stats st = {0};
    for (unsigned long round = 0; round < rounds; round++) {
        size_t i = round % n;
        damage_one_flags(bufs[i], lens[i], seed + round, flags, &st);
    }
    bool lazy = flags & REGION_OPEN_LAZY;
    fprintf(stderr, "damage (%s): %lu mutations: %lu accepted (%lu read cleanly, %lu refused on "
            "reading), %lu rejected at open (%lu unsupported)\n", lazy ? "lazy" : "eager", rounds,
            st.accepted, st.decoded, st.refused_read, st.rejected, st.unsupported);
    assert_int_equal(st.accepted + st.rejected, rounds);
    assert_int_equal(st.decoded + st.refused_read, st.accepted);
    /* Most damage must be caught: a reader that accepts everything fails here.
       Lazily, damage is caught when the damaged object is read. */
    if (lazy)
        assert_true(st.rejected + st.refused_read > rounds / 2);
    else
        assert_true(st.rejected > rounds / 2);

    for (size_t i = 0; i < n; i++)
        mem_free(bufs[i]);
    mem_free(bufs);
    mem_free(lens);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

/* 10,000 mutations aimed at the extension entries of the samples that have decoded ones. */
static void test_entry_damage(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    const char *e = getenv("ENVPOOL_ENTRY_DAMAGE_ROUNDS");
    unsigned long rounds = e ? strtoul(e, NULL, 10) : 10000;
    uint8_t **bufs = mem_alloc(n * sizeof *bufs);
    size_t *lens = mem_alloc(n * sizeof *lens), k = 0;
    uint64_t **targets = mem_alloc(n * sizeof *targets);
    size_t *ntargets = mem_alloc(n * sizeof *ntargets);
    for (size_t i = 0; i < n; i++) {
        bufs[k] = read_file(paths[i], &lens[k]);
        ln_module m;
        region *r = sample_module(paths[i], &m);
        bool known = false;
        for (uint64_t j = 0; j < m.nentries && !known; j++) {
            ln_ext x;
            region_error err;
            known = ln_ext_get(&m, j, &x, &err) == 0 && x.kind != LN_EXT_OTHER && x.n > 0;
        }
        region_close(r);
        if (known) {
            ntargets[k] = damage_entry_targets(bufs[k], lens[k], &targets[k]);
            k++;
        } else {
            mem_free(bufs[k]);
        }
    }
    assert_true(k >= 10);
    damage_stats st = {0};
    for (unsigned long round = 0; round < rounds; round++)
        damage_entry_one(bufs[round % k], lens[round % k], targets[round % k], ntargets[round % k], 77 + round,
                         &st);
    fprintf(stderr, "entry damage: %lu mutations over %zu samples: %lu accepted (%lu decoded cleanly), "
            "%lu rejected\n", rounds, k, st.accepted, st.decoded, st.rejected);
    assert_int_equal(st.accepted + st.rejected, rounds);
    /* Aimed mutations mostly keep the region valid: the entry decoders are what gets exercised. */
    assert_true(st.accepted > rounds / 2);
    assert_true(st.decoded < st.accepted); /* some damage must be refused by the entry decoders */
    for (size_t i = 0; i < k; i++) {
        mem_free(bufs[i]);
        mem_free(targets[i]);
    }
    mem_free(bufs);
    mem_free(lens);
    mem_free(targets);
    mem_free(ntargets);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

static void test_seeded_damage(void **state)
{
    (void)state;
    run_damage(0);
}

/* The same mutations opened lazily: nothing unchecked is read, and what the
   eager pass accepts reads the same (damage_one_flags aborts otherwise). */
static void test_seeded_damage_lazy(void **state)
{
    (void)state;
    run_damage(REGION_OPEN_LAZY);
}

TEST_MAIN("test_damage",
          cmocka_unit_test(test_seeded_damage),
          cmocka_unit_test(test_seeded_damage_lazy),
          cmocka_unit_test(test_entry_damage))
