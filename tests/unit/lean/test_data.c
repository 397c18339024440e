/*
 * tests/unit/lean/test_data.c — Name hashes, Level.Data and Expr.Data
 * computed in C against the values Lean stored in every 2023+ sample: every
 * Name, Level and Expr reachable from the constants (types, values, recursor
 * rules, level parameters) must carry exactly the data we compute from its
 * children.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lean/data.h"
#include "region/compactor.h"
#include "region/region.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* ---- a visited set and a work stack ----------------------------------- */

typedef struct wset {
    uint64_t *k;
    size_t    cap, n;
} wset;

static bool wset_add(wset *s, uint64_t key) /* true if new */
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 4096;
        uint64_t *nk = mem_calloc(ncap, 8);
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->k[i])
                continue;
            size_t j = (size_t)(s->k[i] * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = s->k[i];
        }
        mem_free(s->k);
        s->k = nk;
        s->cap = ncap;
    }
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (s->cap - 1);
    for (; s->k[i]; i = (i + 1) & (s->cap - 1))
        if (s->k[i] == key)
            return false;
    s->k[i] = key;
    s->n++;
    return true;
}

enum { K_EXPR = 1, K_LEVEL = 2, K_NAME = 3 };

typedef struct walk {
    const lx_space *sp;
    wset      seen;
    uint64_t *stack; /* (word << 2 | kind) */
    size_t    n, cap;
    uint64_t  exprs, levels, names;
} walk;

static void push(walk *w, lx_word x, unsigned kind)
{
    if (lx_is_scalar(x))
        return;
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->stack = mem_try_realloc(w->stack, w->cap * 8);
        assert_non_null(w->stack);
    }
    w->stack[w->n++] = (uint64_t)x << 2 | kind;
}

static const uint8_t *obj(walk *w, lx_word x) { return lx_obj(w->sp, x); }

static void push_list(walk *w, lx_word list, unsigned kind)
{
    while (!lx_is_scalar(list)) {
        const uint8_t *cell = obj(w, list);
        assert_int_equal(lx_ctor_num_objs(cell), 2);
        push(w, lx_ctor_get(cell, 0), kind);
        list = lx_ctor_get(cell, 1);
    }
}

static void check_all(walk *w, const char *path)
{
    while (w->n) {
        uint64_t top = w->stack[--w->n];
        lx_word x = top >> 2;
        unsigned kind = top & 3;
        if (!wset_add(&w->seen, top))
            continue;
        const uint8_t *o = obj(w, x);
        uint64_t stored, computed;
        if (kind == K_NAME) {
            assert_int_equal(ln_data_name_stored(w->sp, x, &stored), 0);
            assert_int_equal(ln_data_name_compute(w->sp, x, &computed), 0);
            if (stored != computed)
                fail_msg("%s: Name at 0x%llx: stored hash %llx, computed %llx", path,
                         (unsigned long long)x, (unsigned long long)stored, (unsigned long long)computed);
            w->names++;
            push(w, lx_ctor_get(o, 0), K_NAME);
        } else if (kind == K_LEVEL) {
            assert_int_equal(ln_data_level_stored(w->sp, x, &stored), 0);
            assert_int_equal(ln_data_level_compute(w->sp, x, &computed), 0);
            if (stored != computed)
                fail_msg("%s: Level (tag %u) at 0x%llx: stored %llx, computed %llx", path, lx_tag(o),
                         (unsigned long long)x, (unsigned long long)stored, (unsigned long long)computed);
            w->levels++;
            unsigned t = lx_tag(o);
            for (unsigned i = 0; i < lx_ctor_num_objs(o); i++)
                push(w, lx_ctor_get(o, i), t >= 4 ? K_NAME : K_LEVEL);
        } else {
            assert_int_equal(ln_data_expr_stored(w->sp, x, &stored), 0);
            assert_int_equal(ln_data_expr_compute(w->sp, x, &computed), 0);
            if (stored != computed)
                fail_msg("%s: Expr (tag %u) at 0x%llx: stored %016llx, computed %016llx", path, lx_tag(o),
                         (unsigned long long)x, (unsigned long long)stored, (unsigned long long)computed);
            w->exprs++;
            switch (lx_tag(o)) {
            case 3: push(w, lx_ctor_get(o, 0), K_LEVEL); break;
            case 4: push(w, lx_ctor_get(o, 0), K_NAME); push_list(w, lx_ctor_get(o, 1), K_LEVEL); break;
            case 5: push(w, lx_ctor_get(o, 0), K_EXPR); push(w, lx_ctor_get(o, 1), K_EXPR); break;
            case 6:
            case 7:
            case 8:
                push(w, lx_ctor_get(o, 0), K_NAME);
                for (unsigned i = 1; i < lx_ctor_num_objs(o); i++)
                    push(w, lx_ctor_get(o, i), K_EXPR);
                break;
            case 10: push(w, lx_ctor_get(o, 1), K_EXPR); break;
            case 11: push(w, lx_ctor_get(o, 0), K_NAME); push(w, lx_ctor_get(o, 2), K_EXPR); break;
            default: break;
            }
        }
    }
}

/* Every Expr, Level and Name under the constants of each 2023+ sample. */
static void test_samples_data_match(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths), checked = 0;
    uint64_t total_exprs = 0, total_levels = 0, total_names = 0;
    for (size_t i = 0; i < n; i++) {
        region *r;
        region_error err;
        assert_int_equal(region_open(paths[i], REGION_OPEN_NO_FIXED, &r, &err), 0);
        lx_space sp = region_space(r);
        const uint8_t *mod = lx_obj(&sp, region_root(r));
        if (lx_ctor_num_objs(mod) == 3) { /* 2022: other hashes and layouts */
            region_close(r);
            continue;
        }
        walk w;
        memset(&w, 0, sizeof w);
        w.sp = &sp;
        const uint8_t *consts = lx_obj(&sp, lx_ctor_get(mod, 2));
        for (uint64_t k = 0; k < lx_array_size(consts); k++) {
            const uint8_t *ci = lx_obj(&sp, lx_array_get(consts, k));
            const uint8_t *val = lx_obj(&sp, lx_ctor_get(ci, 0));
            const uint8_t *cval = lx_obj(&sp, lx_ctor_get(val, 0));
            push(&w, lx_ctor_get(cval, 0), K_NAME);
            push_list(&w, lx_ctor_get(cval, 1), K_NAME);
            push(&w, lx_ctor_get(cval, 2), K_EXPR);
            unsigned kind = lx_tag(ci);
            if (kind >= 1 && kind <= 3)
                push(&w, lx_ctor_get(val, 1), K_EXPR); /* def/theorem/opaque value */
            if (kind == 7) {
                lx_word rules = lx_ctor_get(val, 6);
                while (!lx_is_scalar(rules)) {
                    const uint8_t *cell = lx_obj(&sp, rules);
                    const uint8_t *rule = lx_obj(&sp, lx_ctor_get(cell, 0));
                    push(&w, lx_ctor_get(rule, 0), K_NAME);
                    push(&w, lx_ctor_get(rule, 2), K_EXPR);
                    rules = lx_ctor_get(cell, 1);
                }
            }
        }
        check_all(&w, paths[i]);
        if (lx_array_size(consts) > 0)
            assert_true(w.exprs > 0 && w.names > 0);
        total_exprs += w.exprs;
        total_levels += w.levels;
        total_names += w.names;
        checked++;
        mem_free(w.stack);
        mem_free(w.seen.k);
        region_close(r);
    }
    print_message("checked %zu files: %llu Expr, %llu Level, %llu Name objects\n", checked,
                  (unsigned long long)total_exprs, (unsigned long long)total_levels,
                  (unsigned long long)total_names);
    assert_int_equal(checked, 22); /* all but the two 2022-04 files */
    assert_true(total_levels > 0);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

static void test_known_values(void **state)
{
    (void)state;
    /* The module base of "Main" depends on the Name hash (0x5a1ef5730000 in every 2023+ file). */
    uint64_t h = region_name_hash_str(LN_DATA_NAME_ANON_HASH, "Main", 4);
    assert_int_equal(h, region_name_hash("Main"));
    assert_int_equal((h % 0x7f0000000000ull) & ~0xFFFFull, 0x5a1ef5730000ull);
    /* Level.zero and one. */
    uint64_t z = ln_data_level_zero();
    assert_int_equal(z, 2221);
    uint64_t one = ln_data_level_succ(z);
    assert_int_equal(ln_data_level_depth(one), 1);
    assert_int_equal(ln_data_level_depth(ln_data_level_max(one, z)), 2);
    assert_int_equal((ln_data_level_param(h) >> 33) & 1, 1);
    /* Binder ranges: a body using bvar 0 closes it. */
    uint64_t b0 = ln_data_expr_bvar(0, 1), prop = ln_data_expr_sort(z);
    assert_int_equal(ln_data_expr_range(b0), 1);
    assert_int_equal(ln_data_expr_range(ln_data_expr_binder(prop, b0)), 0);
    assert_int_equal(ln_data_expr_range(ln_data_expr_app(b0, prop)), 1);
    assert_int_equal(ln_data_expr_depth(ln_data_expr_app(b0, prop)), 1);
    /* approxDepth saturates at 255. */
    uint64_t e = prop;
    for (int i = 0; i < 300; i++)
        e = ln_data_expr_app(e, prop);
    assert_int_equal(ln_data_expr_depth(e), 255);
}

TEST_MAIN("test_data",
          cmocka_unit_test(test_known_values),
          cmocka_unit_test(test_samples_data_match))
