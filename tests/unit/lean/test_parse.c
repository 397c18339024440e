/*
 * tests/unit/lean/test_parse.c — ln_expr_parse: parse(print(e)) rebuilds e
 * for the type of every constant in every sample, none skipped (same shape
 * and binder kinds, the same Expr.Data at every node: hash, flags, depth,
 * loose bound variable range — 2022 files, whose hashes differ, by shape and
 * by printing the result again); hand-written texts, projections with their
 * structure names; errors with offsets; no leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lean/data.h"
#include "lean/lean.h"
#include "lean/parse.h"
#include "region/hash.h"
#include "region/heap.h"
#include "region/region.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static lx_word parse_ok(const char *text)
{
    lx_word e;
    region_error err;
    int rc = ln_expr_parse(text, strlen(text), &e, &err);
    if (rc)
        fail_msg("parse '%s': %s", text, err.reason);
    return e;
}

static uint64_t data_of(lx_word e)
{
    uint64_t d;
    assert_int_equal(ln_data_expr_stored(&LX_HEAP_SPACE, e, &d), 0);
    return d;
}

static const uint8_t *H(lx_word w) { return lx_obj(&LX_HEAP_SPACE, w); }

static void test_hand_written(void **state)
{
    (void)state;
    /* ∀ {α : Type u} (a : α), α → α */
    lx_word e = parse_ok("\xe2\x88\x80 {\xce\xb1 : Type u} (a : \xce\xb1), \xce\xb1 \xe2\x86\x92 \xce\xb1");
    const uint8_t *o = H(e);
    assert_int_equal(lx_tag(o), 7);
    assert_int_equal(lx_ctor_scalars(o)[8], 1); /* implicit */
    const uint8_t *sort = H(lx_ctor_get(o, 1));
    assert_int_equal(lx_tag(sort), 3);
    const uint8_t *inner = H(lx_ctor_get(o, 2));
    assert_int_equal(lx_ctor_scalars(inner)[8], 0);
    const uint8_t *arrow = H(lx_ctor_get(inner, 2));
    assert_int_equal(lx_tag(arrow), 7);
    const uint8_t *dom = H(lx_ctor_get(arrow, 1)), *cod = H(lx_ctor_get(arrow, 2));
    assert_true(lx_ctor_get(dom, 0) == lx_box(1)); /* α under a */
    assert_true(lx_ctor_get(cod, 0) == lx_box(2)); /* α under a and the arrow */
    uint64_t d = data_of(e);
    assert_int_equal(ln_data_expr_range(d), 0);
    assert_int_equal((d >> 43) & 1, 1); /* has a level parameter */
    lx_unref(e);

    /* Constants with universes, literals, projections, let, loose variables. */
    e = parse_ok("fun (x : Nat) => let y : Nat := HAdd.hAdd.{0, 0, 0} Nat Nat Nat x 18446744073709551616; "
                 "Prod.mk.{0, 0} Nat String y \"a\\n\\\"b\\x01\"");
    assert_int_equal(lx_tag(H(e)), 6);
    lx_unref(e);
    e = parse_ok("fun (p : Prod.{0, 0} Nat Nat) => p.1");
    const uint8_t *proj = H(lx_ctor_get(H(e), 2));
    assert_int_equal(lx_tag(proj), 11);
    assert_true(lx_ctor_get(proj, 0) == lx_box(0)); /* no structure name written */
    assert_true(lx_ctor_get(proj, 1) == lx_box(0));
    lx_unref(e);
    /* e.S.i keeps the structure name; chains; parenthesized constants; escapes */
    e = parse_ok("fun (p : Prod.{0, 0} Nat Nat) => f p.Prod.1.A.«b c».2 (c).Prod.2 (g p).PProd.1 #2.Prod.1");
    const uint8_t *app = H(lx_ctor_get(H(e), 2));
    const uint8_t *bv = H(lx_ctor_get(app, 1)); /* #2.Prod.1 */
    assert_int_equal(lx_tag(bv), 11);
    assert_true(lx_ctor_get(H(lx_ctor_get(bv, 2)), 0) == lx_box(3));
    const uint8_t *a1 = H(lx_ctor_get(H(lx_ctor_get(H(lx_ctor_get(app, 0)), 0)), 0));
    const uint8_t *outer = H(lx_ctor_get(a1, 1)); /* p.Prod.1.A.«b c».2 */
    assert_int_equal(lx_tag(outer), 11);
    assert_true(lx_ctor_get(outer, 1) == lx_box(1));
    const uint8_t *sname = H(lx_ctor_get(outer, 0));
    assert_int_equal(lx_string_len(H(lx_ctor_get(sname, 1))), 3); /* "b c" */
    const uint8_t *first = H(lx_ctor_get(outer, 2));
    assert_int_equal(lx_tag(first), 11);
    assert_true(lx_ctor_get(first, 1) == lx_box(0));
    uint64_t h;
    assert_int_equal(ln_data_name_stored(&LX_HEAP_SPACE, lx_ctor_get(first, 0), &h), 0);
    assert_int_equal(h, region_name_hash("Prod"));
    lx_unref(e);
    /* arrows with binder names: the name is kept and bound in the codomain */
    e = parse_ok("(a : Nat) \xe2\x86\x92 [inst : C a] \xe2\x86\x92 {x : Nat} \xe2\x86\x92 P a");
    const uint8_t *ar = H(e);
    assert_int_equal(lx_tag(ar), 7);
    assert_int_equal(lx_ctor_scalars(ar)[8], 0);
    assert_int_not_equal(lx_ctor_get(ar, 0), lx_box(0)); /* named a */
    const uint8_t *ar2 = H(lx_ctor_get(ar, 2));
    assert_int_equal(lx_ctor_scalars(ar2)[8], 3);
    assert_true(lx_ctor_get(H(lx_ctor_get(H(lx_ctor_get(ar2, 1)), 1)), 0) == lx_box(0)); /* C a: a is #0 */
    const uint8_t *ar3 = H(lx_ctor_get(ar2, 2));
    assert_int_equal(lx_ctor_scalars(ar3)[8], 1);
    assert_true(lx_ctor_get(H(lx_ctor_get(H(lx_ctor_get(ar3, 2)), 1)), 0) == lx_box(2)); /* P a: a is #2 */
    lx_unref(e);
    /* a bound name followed by something that is not a projection is a constant */
    e = parse_ok("fun (Nat : Type) => Nat.succ");
    assert_int_equal(lx_tag(H(lx_ctor_get(H(e), 2))), 4);
    lx_unref(e);
    e = parse_ok("f #0 (g #3)");
    assert_int_equal(ln_data_expr_range(data_of(e)), 4);
    lx_unref(e);
    e = parse_ok("\xe2\x88\x80 [inst : Add.{u} \xce\xb1], Sort (max u v)");
    lx_unref(e);
    e = parse_ok("[Add.{u} \xce\xb1] \xe2\x86\x92 Sort (imax 1 (u + 2))");
    assert_int_equal(lx_ctor_scalars(H(e))[8], 3);
    lx_unref(e);
    e = parse_ok("List.{u} Type \xe2\x86\x92 \xc2\xab" "weird name\xc2\xbb.x._private.0");
    lx_unref(e);
    assert_int_equal(mem_live_total(), 0);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t offset; } bad[] = {
        {"", 0},
        {"f (x", 4},
        {"\xe2\x88\x80 (x : Nat) Nat", 14},
        {"fun x => x", 4},
        {"Sort", 4},
        {"a.{u", 4},
        {"\"unterminated", 0},
        {"f )", 2},
        {"#x", 1},
        {"(c).Prod", 3},
        {"(c).Prod.0", 3},
        {"(c).1.Prod", 3},
        {"(x : A) B", 8},
        {"[inst : C]", 10},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lx_word e;
        region_error err;
        int rc = ln_expr_parse(bad[i].text, strlen(bad[i].text), &e, &err);
        if (rc != LN_EINVAL)
            fail_msg("'%s' parsed (rc %d)", bad[i].text, rc);
        if (err.offset != bad[i].offset)
            fail_msg("'%s': error at %llu, expected %llu (%s)", bad[i].text,
                     (unsigned long long)err.offset, (unsigned long long)bad[i].offset, err.reason);
        assert_non_null(strstr(err.reason, "expected"));
    }
    /* Deep nesting is refused, not a stack overflow. */
    size_t n = 3 * LN_PARSE_MAX_DEPTH;
    char *deep = mem_alloc(2 * n + 2);
    memset(deep, '(', n);
    deep[n] = 'x';
    memset(deep + n + 1, ')', n);
    deep[2 * n + 1] = 0;
    lx_word e;
    region_error err;
    assert_int_equal(ln_expr_parse(deep, 2 * n + 1, &e, &err), LN_EINVAL);
    assert_non_null(strstr(err.reason, "nested"));
    mem_free(deep);
    assert_int_equal(mem_live_total(), 0);
}

/* Parallel walk: original (region) vs parsed (heap). */
typedef struct pairw { lx_word a, b; } pairw;

/*
 * Walks orig (in sp) and parsed (heap) in parallel: same constructor and
 * binder kind at every node, and with_data the same Expr.Data (hash, flags,
 * depth, loose bound variable range), which covers names, levels, literals
 * and bound variable indices. 2022 files use other hash functions: for them
 * with_data is false and the re-printed text stands for the leaves.
 */
static void compare(const lx_space *sp, lx_word orig, lx_word parsed, bool with_data, const char *what)
{
    size_t cap = 1024, n = 0;
    pairw *st = mem_alloc(cap * sizeof *st);
    st[n++] = (pairw){orig, parsed};
    while (n) {
        pairw pw = st[--n];
        const uint8_t *a = lx_obj(sp, pw.a), *b = H(pw.b);
        uint64_t da = 0, db = 0;
        if (with_data) {
            assert_int_equal(ln_data_expr_stored(sp, pw.a, &da), 0);
            assert_int_equal(ln_data_expr_stored(&LX_HEAP_SPACE, pw.b, &db), 0);
        }
        if (lx_tag(a) != lx_tag(b) || da != db)
            fail_msg("%s: node tag %u/%u data %016llx/%016llx", what, lx_tag(a), lx_tag(b),
                     (unsigned long long)da, (unsigned long long)db);
        unsigned t = lx_tag(a);
        if ((t == 6 || t == 7) && with_data)
            assert_int_equal(lx_ctor_scalars(a)[8], lx_ctor_scalars(b)[8]);
        unsigned first = t == 5 ? 0 : (t >= 6 && t <= 8) ? 1 : t == 11 ? 2 : 99;
        for (unsigned i = first; i < lx_ctor_num_objs(a); i++) {
            if (n == cap) {
                cap *= 2;
                st = mem_try_realloc(st, cap * sizeof *st);
                assert_non_null(st);
            }
            st[n++] = (pairw){lx_ctor_get(a, i), lx_ctor_get(b, i)};
        }
    }
    mem_free(st);
}

/*
 * For the type of every constant in every sample: parse(print(e)) has e's
 * shape and (2023+) e's cached data at every node, and prints as e does.
 */
static void test_samples_round_trip(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    uint64_t total = 0, with_data = 0, shape_only = 0, projections = 0;
    ln_module heap_m; /* prints the parsed (heap) terms */
    memset(&heap_m, 0, sizeof heap_m);
    heap_m.sp = LX_HEAP_SPACE;
    heap_m.era = LN_ERA_2023;
    for (size_t f = 0; f < n; f++) {
        ln_module m;
        region_error err;
        region *r = sample_module(paths[f], &m);
        bool data = m.era != LN_ERA_2022;
        ln_buf buf, again;
        ln_buf_init(&buf, 1 << 22);
        ln_buf_init(&again, 1 << 22);
        for (uint64_t i = 0; i < m.nconstants; i++) {
            ln_const c;
            assert_int_equal(ln_module_const(&m, i, &c, &err), 0);
            total++;
            ln_buf_reset(&buf);
            assert_int_equal(ln_expr_format(&m, c.type, &buf, &err), 0);
            lx_word e;
            if (ln_expr_parse(buf.data, buf.len, &e, &err) != 0)
                fail_msg("%s: constant %llu: %s\n  text: %.300s", paths[f], (unsigned long long)i,
                         err.reason, buf.data);
            char what[600];
            snprintf(what, sizeof what, "%s: constant %llu: %.300s", paths[f], (unsigned long long)i, buf.data);
            compare(&m.sp, c.type, e, data, what);
            ln_buf_reset(&again);
            assert_int_equal(ln_expr_format(&heap_m, e, &again, &err), 0);
            if (strcmp(ln_buf_cstr(&again), ln_buf_cstr(&buf)))
                fail_msg("%s\n  reprinted: %.300s", what, ln_buf_cstr(&again));
            projections += strstr(ln_buf_cstr(&buf), ").") != NULL;
            lx_unref(e);
            if (data)
                with_data++;
            else
                shape_only++;
        }
        ln_buf_deinit(&buf);
        ln_buf_deinit(&again);
        region_close(r);
    }
    print_message("round trip: %llu constant types in %zu samples (%llu shape and data, %llu shape "
                  "and text (2022)), %llu with a projection, 0 skipped\n",
                  (unsigned long long)total, n, (unsigned long long)with_data,
                  (unsigned long long)shape_only, (unsigned long long)projections);
    assert_int_equal(with_data + shape_only, total);
    assert_true(with_data >= 365 && shape_only > 0 && projections >= 1);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_parse",
          cmocka_unit_test(test_hand_written),
          cmocka_unit_test(test_errors),
          cmocka_unit_test(test_samples_round_trip))
