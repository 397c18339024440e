/*
 * tests/unit/lean/test_print.c — ln_expr_format on hand-built terms: every
 * printing convention of print.c, name clashes, deep terms (no stack
 * overflow), heavily shared DAGs (bounded output) and wrong shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "tests/support/leanbuild.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Prints e (built in b) with options o (NULL: defaults); returns the code, *text the output (new). */
static int print_opts(tb *b, lx_word e, const ln_print_opts *o, char **text)
{
    region *r = tb_open(b, tb_module(b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 0);
    int rc = ln_expr_format_opts(&m, e, o, &out, &err);
    *text = mem_alloc(out.len + 1);
    memcpy(*text, ln_buf_cstr(&out), out.len + 1);
    ln_buf_deinit(&out);
    region_close(r);
    return rc;
}

static void expect_print_opts(tb *b, lx_word e, const ln_print_opts *o, const char *want)
{
    char *got;
    int rc = print_opts(b, e, o, &got);
    if (rc || strcmp(got, want))
        fprintf(stderr, "got  %s\nwant %s\n", got, want);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    mem_free(got);
}

/* Prints e (built in b) and compares with want. */
static void expect_print(tb *b, lx_word e, const char *want) { expect_print_opts(b, e, NULL, want); }

static lx_word nat(tb *b) { return tb_const(b, "Nat", 0, NULL); }

static void test_atoms(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word u = tb_lparam(&b, "u"), v = tb_lparam(&b, "v");
    lx_word lv[2] = {u, v};
    lx_word e = tb_const(&b, "Prod", 2, lv);
    expect_print(&b, e, "Prod.{u, v}");
    expect_print(&b, tb_sort(&b, lx_box(0)), "Prop");
    expect_print(&b, tb_sort(&b, tb_lsucc(&b, lx_box(0))), "Type");
    expect_print(&b, tb_sort(&b, tb_lsucc(&b, tb_lsucc(&b, lx_box(0)))), "Type 1");
    expect_print(&b, tb_sort(&b, tb_lsucc(&b, u)), "Type u");
    expect_print(&b, tb_sort(&b, u), "Sort u");
    expect_print(&b, tb_sort(&b, tb_lsucc(&b, tb_lsucc(&b, u))), "Type (u + 1)");
    expect_print(&b, tb_sort(&b, tb_lmax(&b, u, v)), "Sort (max u v)");
    expect_print(&b, tb_sort(&b, tb_lsucc(&b, tb_lmax(&b, u, tb_lsucc(&b, v)))), "Type (max u (v + 1))");
    expect_print(&b, tb_lit_nat(&b, lx_box(42)), "42");
    uint64_t limbs[2] = {0x1c86f84750c2717bULL, 0x2fULL}; /* 869052574729471422843 */
    expect_print(&b, tb_lit_nat(&b, tb_mpz(&b, 2, limbs)), "869052574729471422843");
    expect_print(&b, tb_lit_str(&b, "a\"b\\c\nd\te\x01\xc3\xa9"), "\"a\\\"b\\\\c\\nd\\te\\x01\xc3\xa9\"");
    expect_print(&b, tb_proj(&b, "Prod", 0, tb_app(&b, tb_const(&b, "f", 0, NULL), nat(&b))), "(f Nat).Prod.1");
    /* a constant is parenthesized (c.Prod.1 would be one name); nested projections chain */
    expect_print(&b, tb_proj(&b, "A.B", 1, tb_proj(&b, "Prod", 0, tb_const(&b, "c", 0, NULL))),
                 "(c).Prod.1.A.B.2");
    expect_print(&b, tb_proj(&b, "Prod", 0, tb_mdata(&b, tb_const(&b, "c", 0, NULL))), "(c).Prod.1");
    expect_print(&b, tb_proj(&b, "Prod", 1, tb_bvar(&b, 3)), "#3.Prod.2");
    expect_print(&b, tb_mdata(&b, nat(&b)), "Nat");
    expect_print(&b, tb_bvar(&b, 3), "#3");
    expect_print(&b, tb_const(&b, "a.«b c».2", 0, NULL), "a.«b c».2");
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_applications(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word f = tb_const(&b, "f", 0, NULL), g = tb_const(&b, "g", 0, NULL);
    lx_word one = tb_lit_nat(&b, lx_box(1));
    lx_word e = tb_app(&b, tb_app(&b, f, tb_app(&b, g, one)), one);
    expect_print(&b, e, "f (g 1) 1");
    lx_word u = tb_lparam(&b, "u");
    expect_print(&b, tb_app(&b, f, tb_sort(&b, u)), "f (Sort u)");
    expect_print(&b, tb_app(&b, f, tb_sort(&b, tb_lsucc(&b, lx_box(0)))), "f Type");
    lx_word lam = tb_lam(&b, "x", nat(&b), tb_bvar(&b, 0), LN_BI_DEFAULT);
    expect_print(&b, tb_app(&b, f, lam), "f (fun (x : Nat) => x)");
    expect_print(&b, tb_app(&b, lam, one), "(fun (x : Nat) => x) 1");
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_binders(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word u = tb_lparam(&b, "u");
    lx_word typeu = tb_sort(&b, tb_lsucc(&b, u));
    /* ∀ {α : Type u} [inst : Add α] (a : α), Eq α a a */
    lx_word eq = tb_const(&b, "Eq", 1, &u);
    lx_word body = tb_app(&b, tb_app(&b, tb_app(&b, eq, tb_bvar(&b, 2)), tb_bvar(&b, 0)), tb_bvar(&b, 0));
    lx_word pa = tb_pi(&b, "a", tb_bvar(&b, 1), body, LN_BI_DEFAULT);
    lx_word add = tb_app(&b, tb_const(&b, "Add", 0, NULL), tb_bvar(&b, 0));
    /* instance used by the body? no: then it prints as [Add α] → ... */
    lx_word pinst = tb_pi(&b, "inst", add, pa, LN_BI_INST);
    lx_word all = tb_pi(&b, "α", typeu, pinst, LN_BI_IMPLICIT);
    expect_print(&b, all, "∀ {α : Type u}, [Add α] → ∀ (a : α), Eq.{u} α a a");

    /* dependent instance binder keeps its name */
    lx_word uses = tb_app(&b, tb_app(&b, tb_const(&b, "P", 0, NULL), tb_bvar(&b, 1)), tb_bvar(&b, 0));
    lx_word dep = tb_pi(&b, "α", typeu, tb_pi(&b, "inst", add, uses, LN_BI_INST), LN_BI_IMPLICIT);
    expect_print(&b, dep, "∀ {α : Type u} [inst : Add α], P α inst");

    /* strict implicit, arrows right-nested, arrow domain parenthesised */
    lx_word n = tb_const(&b, "Nat", 0, NULL);
    lx_word arr = tb_pi(&b, "x", tb_pi(&b, "y", n, n, 0), tb_pi(&b, "z", n, n, 0), 0);
    expect_print(&b, arr, "(Nat → Nat) → Nat → Nat");
    lx_word strict = tb_pi(&b, "x", n, tb_app(&b, tb_const(&b, "Q", 0, NULL), tb_bvar(&b, 0)), LN_BI_STRICT);
    expect_print(&b, strict, "∀ ⦃x : Nat⦄, Q x");
    lx_word inarg = tb_app(&b, tb_const(&b, "F", 0, NULL), strict);
    expect_print(&b, inarg, "F (∀ ⦃x : Nat⦄, Q x)");

    /* fun with grouped binders and let */
    lx_word lam = tb_lam(&b, "x", n, tb_lam(&b, "y", n, tb_app(&b, tb_bvar(&b, 1), tb_bvar(&b, 0)), 1), 0);
    expect_print(&b, lam, "fun (x : Nat) {y : Nat} => x y");
    lx_word let = tb_let(&b, "z", n, tb_lit_nat(&b, lx_box(3)), tb_app(&b, tb_const(&b, "f", 0, NULL), tb_bvar(&b, 0)));
    expect_print(&b, let, "let z : Nat := 3; f z");
    expect_print(&b, tb_app(&b, tb_const(&b, "g", 0, NULL), let), "g (let z : Nat := 3; f z)");
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

/* Options: named arrows keep binder names; signature and hidden binders (module text). */
static void test_options(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word n = tb_const(&b, "Nat", 0, NULL);
    lx_word c = tb_app(&b, tb_const(&b, "C", 0, NULL), tb_bvar(&b, 0));
    /* ∀ (α : Type), [inst : C α] → (h : Nat) → Nat → α, the last arrow anonymous */
    lx_word rest = tb_pi(&b, "h", n, tb_pi(&b, "", n, tb_bvar(&b, 3), 0), 0);
    lx_word t = tb_pi(&b, "\xce\xb1", tb_sort(&b, tb_lsucc(&b, lx_box(0))), tb_pi(&b, "inst", c, rest, LN_BI_INST), 0);
    expect_print(&b, t, "\xe2\x88\x80 (\xce\xb1 : Type), [C \xce\xb1] \xe2\x86\x92 Nat \xe2\x86\x92 Nat \xe2\x86\x92 \xce\xb1");
    ln_print_opts named = {.named_arrows = true};
    expect_print_opts(&b, t, &named,
                      "\xe2\x88\x80 (\xce\xb1 : Type), [inst : C \xce\xb1] \xe2\x86\x92 (h : Nat) \xe2\x86\x92 "
                      "Nat \xe2\x86\x92 \xce\xb1");
    ln_print_opts sig = {.named_arrows = true, .signature = true, .show = 3};
    expect_print_opts(&b, t, &sig, " (\xce\xb1 : Type) [inst : C \xce\xb1] (h : Nat) : Nat \xe2\x86\x92 \xce\xb1");
    ln_print_opts hidden = {.named_arrows = true, .signature = true, .hide = 1, .show = 1};
    expect_print_opts(&b, t, &hidden, " [inst : C \xce\xb1] : (h : Nat) \xe2\x86\x92 Nat \xe2\x86\x92 \xce\xb1");
    /* a value after its parameters: fun binders hidden, names still resolve */
    lx_word v = tb_lam(&b, "x", n, tb_lam(&b, "y", n, tb_app(&b, tb_bvar(&b, 1), tb_bvar(&b, 0)), 0), 0);
    ln_print_opts body = {.hide = 2};
    expect_print_opts(&b, v, &body, "x y");
    /* fewer binders than asked for: an error, not a read past the term */
    ln_print_opts too_many = {.signature = true, .show = 5};
    char *got;
    assert_int_equal(print_opts(&b, t, &too_many, &got), REGION_ECORRUPT);
    mem_free(got);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_name_clashes(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word n = tb_const(&b, "Nat", 0, NULL), r = tb_const(&b, "R", 0, NULL);
    /* ∀ (x : Nat) (x : Nat), R x x' — both used: the inner one is renamed */
    lx_word body = tb_app(&b, tb_app(&b, r, tb_bvar(&b, 1)), tb_bvar(&b, 0));
    lx_word e = tb_pi(&b, "x", n, tb_pi(&b, "x", n, body, 0), 0);
    expect_print(&b, e, "∀ (x : Nat) (x_1 : Nat), R x x_1");
    /* shadowing an outer x that the body does not use is kept */
    lx_word body2 = tb_app(&b, tb_app(&b, r, tb_bvar(&b, 0)), tb_bvar(&b, 0));
    lx_word px = tb_app(&b, tb_const(&b, "P", 0, NULL), tb_bvar(&b, 0));
    lx_word e2 = tb_pi(&b, "x", n, tb_pi(&b, "x", px, body2, 0), 0);
    expect_print(&b, e2, "∀ (x : Nat) (x : P x), R x x");
    /* x, x_1 taken: the third is x_2 */
    lx_word body3 = tb_app(&b, tb_app(&b, tb_app(&b, r, tb_bvar(&b, 2)), tb_bvar(&b, 1)), tb_bvar(&b, 0));
    lx_word e3 = tb_pi(&b, "x", n, tb_pi(&b, "x_1", n, tb_pi(&b, "x", n, body3, 0), 0), 0);
    expect_print(&b, e3, "∀ (x : Nat) (x_1 : Nat) (x_2 : Nat), R x x_1 x_2");
    /* anonymous and hygienic names: x and a✝, superscripts on clash */
    lx_word hyg = tb_name(&b, "a._@.Mod._hyg.12");
    lx_word in = tb_binder(&b, LN_FORALL, hyg, n, tb_app(&b, tb_app(&b, r, tb_bvar(&b, 1)), tb_bvar(&b, 0)), 0);
    lx_word e4 = tb_binder(&b, LN_FORALL, hyg, n, in, 0);
    expect_print(&b, e4, "∀ (a✝ : Nat) (a✝¹ : Nat), R a✝ a✝¹");
    lx_word anon = tb_binder(&b, LN_LAM, lx_box(0), n, tb_bvar(&b, 0), 0);
    expect_print(&b, anon, "fun (x : Nat) => x");
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_old_layout(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    b.old_expr = true;
    lx_word n = tb_const(&b, "Nat", 0, NULL);
    lx_word e = tb_pi(&b, "x", n, tb_app(&b, tb_const(&b, "P", 0, NULL), tb_bvar(&b, 0)), LN_BI_IMPLICIT);
    lx_word arr = tb_pi(&b, "y", n, n, LN_BI_DEFAULT);
    /* a 2022-shaped module: the layout is read from the constant's type */
    lx_word cv = tb_cval(&b, "c", 0, NULL, e);
    uint8_t unsafe0 = 0;
    lx_word ax = tb_ctor(&b, 0, 1, &cv, &unsafe0, 1);
    lx_word ci = tb_ctor(&b, LN_AXIOM, 1, &ax, NULL, 0);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2022, 0, NULL, 1, &ci, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    assert_true(m.old_expr);
    ln_expr x;
    assert_int_equal(ln_expr_view(&m, e, &x, &err), 0);
    assert_int_equal(x.binder_info, LN_BI_IMPLICIT);
    assert_int_equal(x.loose_bvar_range, 0);
    ln_buf out;
    ln_buf_init(&out, 0);
    assert_int_equal(ln_expr_format(&m, e, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "∀ {x : Nat}, P x");
    ln_buf_reset(&out);
    assert_int_equal(ln_expr_format(&m, arr, &out, &err), 0);
    assert_string_equal(ln_buf_cstr(&out), "Nat → Nat");
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_deep_terms(void **state)
{
    (void)state;
    enum { DEPTH = 200000 };
    tb b;
    tb_init(&b);
    lx_word f = tb_const(&b, "f", 0, NULL), n = tb_const(&b, "Nat", 0, NULL);
    /* f (f (f ... Nat)): right-nested, each level adds parentheses */
    lx_word e = n;
    for (int i = 0; i < DEPTH; i++)
        e = tb_app(&b, f, e);
    /* a long spine f Nat Nat ... Nat */
    lx_word spine = f;
    for (int i = 0; i < DEPTH; i++)
        spine = tb_app(&b, spine, n);
    /* nested lambdas fun (x : Nat) => fun ... => x */
    lx_word lam = tb_bvar(&b, 0);
    for (int i = 0; i < DEPTH / 4; i++)
        lam = tb_lam(&b, "x", n, lam, 0);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 64u << 20);
    assert_int_equal(ln_expr_format(&m, e, &out, &err), 0);
    /* "f (" and ")" per level but the innermost, which is "f Nat" */
    assert_int_equal(out.len, (size_t)DEPTH * 4 + 1);
    ln_buf_reset(&out);
    assert_int_equal(ln_expr_format(&m, spine, &out, &err), 0);
    assert_int_equal(out.len, 1 + (size_t)DEPTH * 4);
    ln_buf_reset(&out);
    assert_int_equal(ln_expr_format(&m, lam, &out, &err), 0);
    assert_true(strncmp(ln_buf_cstr(&out), "fun (x : Nat) (x : Nat)", 23) == 0);
    /* innermost x is bound by the innermost binder: shadowing kept */
    assert_string_equal(ln_buf_cstr(&out) + out.len - 4, "=> x");
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_shared_dag_is_bounded(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    /* e_{k+1} = g e_k e_k: 2^60 leaves as a tree, 60 objects as a DAG */
    lx_word g = tb_const(&b, "g", 0, NULL);
    lx_word e = tb_const(&b, "a", 0, NULL);
    for (int i = 0; i < 60; i++)
        e = tb_app(&b, tb_app(&b, g, e), e);
    /* a binder over the DAG: the dependency test must stay linear */
    lx_word pi = tb_pi(&b, "x", e, e, 0);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 4096);
    assert_int_equal(ln_expr_format(&m, e, &out, &err), LN_ETOOBIG);
    assert_true(out.truncated);
    assert_true(out.len <= 4096 + 3);
    assert_string_equal(ln_buf_cstr(&out) + out.len - 3, "…");
    assert_int_equal(err.code, LN_ETOOBIG);
    ln_buf_reset(&out);
    assert_int_equal(ln_expr_format(&m, pi, &out, &err), LN_ETOOBIG);
    assert_true(strncmp(ln_buf_cstr(&out), "g (g (g", 7) == 0);
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    tb b;
    tb_init(&b);
    lx_word s = tb_string(&b, "not an expr");
    lx_word bad_tag = tb_ctor(&b, 12, 1, &s, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
    lx_word no_data = tb_ctor(&b, LN_APP, 2, (lx_word[]){s, s}, NULL, 0);
    lx_word app_of_string = tb_app(&b, tb_const(&b, "f", 0, NULL), tb_const(&b, "a", 0, NULL));
    /* app whose argument is a String: caught when printing the argument */
    lx_word weird = tb_ctor(&b, LN_APP, 2, (lx_word[]){app_of_string, s}, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
    region *r = tb_open(&b, tb_module(&b, LN_ERA_2023, 0, NULL, 0, NULL, NULL));
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 0);
    const lx_word cases[] = {s, bad_tag, no_data, weird, lx_box(5)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&err, 0, sizeof err);
        ln_buf_reset(&out);
        assert_int_equal(ln_expr_format(&m, cases[i], &out, &err), REGION_ECORRUPT);
        assert_int_equal(err.code, REGION_ECORRUPT);
        assert_string_equal(err.path, "built.olean");
        if (!lx_is_scalar(cases[i]))
            assert_true(err.offset != UINT64_MAX && err.offset < b.len);
    }
    memset(&err, 0, sizeof err);
    assert_int_equal(ln_expr_format(&m, s, &out, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, s - TB_BASE);
    ln_buf_deinit(&out);
    region_close(r);
    tb_free(&b);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_print",
          cmocka_unit_test(test_atoms),
          cmocka_unit_test(test_applications),
          cmocka_unit_test(test_binders),
          cmocka_unit_test(test_options),
          cmocka_unit_test(test_name_clashes),
          cmocka_unit_test(test_old_layout),
          cmocka_unit_test(test_deep_terms),
          cmocka_unit_test(test_shared_dag_is_bounded),
          cmocka_unit_test(test_wrong_shapes))
