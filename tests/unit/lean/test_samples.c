/*
 * tests/unit/lean/test_samples.c — lean/ over every real sample in
 * ../shared/lean-samples: everything decodes and prints; constant names equal
 * constNames; stored Name hashes equal computed ones (2023+); imports and
 * constant counts per kind per file; and specific constants of each era with
 * their kind fields and printed types, written from what the Lean source says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

typedef struct opened {
    region   *r;
    ln_module m;
} opened;

static void open_path(const char *path, opened *o)
{
    region_error err;
    char msg[1024];
    int rc = region_open(path, 0, &o->r, &err);
    if (rc)
        fprintf(stderr, "%s\n", region_error_format(&err, msg, sizeof msg));
    assert_int_equal(rc, 0);
    rc = ln_module_open(o->r, &o->m, &err);
    if (rc)
        fprintf(stderr, "%s\n", region_error_format(&err, msg, sizeof msg));
    assert_int_equal(rc, 0);
}

static void open_sample(const char *rel, opened *o)
{
    char *path = sample_path(rel);
    open_path(path, o);
    mem_free(path);
}

static void close_sample(opened *o)
{
    region_close(o->r);
}

/* ---- everything decodes ---- */

static void check_name_list(const ln_module *m, lx_word list, ln_buf *scratch)
{
    region_error err;
    lx_word head;
    int rc;
    while ((rc = ln_list_next(m, &list, &head, &err)) == 1) {
        ln_buf_reset(scratch);
        assert_int_equal(ln_name_format(m, head, scratch, &err), 0);
    }
    assert_int_equal(rc, 0);
}

static void test_every_sample_decodes(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    assert_true(n >= 24);
    ln_buf text, scratch;
    ln_buf_init(&text, 0);
    ln_buf_init(&scratch, 0);
    uint64_t total_consts = 0, hashed = 0;
    for (size_t f = 0; f < n; f++) {
        opened o;
        open_path(paths[f], &o);
        const ln_module *m = &o.m;
        region_error err;
        for (uint64_t i = 0; i < m->nimports; i++) {
            ln_import im;
            assert_int_equal(ln_module_import(m, i, &im, &err), 0);
            ln_buf_reset(&scratch);
            assert_int_equal(ln_name_format(m, im.module, &scratch, &err), 0);
        }
        for (uint64_t i = 0; i < m->nextra; i++) {
            lx_word w;
            assert_int_equal(ln_module_extra_name(m, i, &w, &err), 0);
            ln_buf_reset(&scratch);
            assert_int_equal(ln_name_format(m, w, &scratch, &err), 0);
        }
        for (uint64_t i = 0; i < m->nconstants; i++) {
            ln_const c;
            lx_word nm;
            assert_int_equal(ln_module_const(m, i, &c, &err), 0);
            assert_int_equal(ln_module_const_name(m, i, &nm, &err), 0);
            assert_true(nm == c.name); /* constNames[i] is the very name object */
            ln_buf_reset(&scratch);
            assert_int_equal(ln_name_format(m, c.name, &scratch, &err), 0);
            bool eq = false;
            assert_int_equal(ln_name_eq_text(m, c.name, scratch.data, scratch.len, &eq, &err), 0);
            assert_true(eq);
            if (m->era != LN_ERA_2022) {
                uint64_t stored, computed, from_text;
                assert_int_equal(ln_name_hash_stored(m, c.name, &stored, &err), 0);
                assert_int_equal(ln_name_hash_compute(m, c.name, &computed, &err), 0);
                assert_int_equal(ln_name_hash_text(scratch.data, scratch.len, &from_text), 0);
                assert_true(stored == computed);
                assert_true(stored == from_text);
                hashed++;
            }
            check_name_list(m, c.level_params, &scratch);
            ln_buf_reset(&text);
            assert_int_equal(ln_const_format_header(m, &c, &text, &err), 0);
            ln_buf_reset(&text);
            assert_int_equal(ln_expr_format(m, c.type, &text, &err), 0);
            if (c.value) {
                ln_buf_reset(&text);
                int rc = ln_expr_format(m, c.value, &text, &err);
                assert_true(rc == 0 || rc == LN_ETOOBIG);
            }
            if (c.all)
                check_name_list(m, c.all, &scratch);
            if (c.kind == LN_INDUCT)
                check_name_list(m, c.ctors, &scratch);
            if (c.kind == LN_REC) {
                lx_word cur = c.rules, head;
                uint64_t nrules = 0;
                int rc;
                while ((rc = ln_list_next(m, &cur, &head, &err)) == 1) {
                    ln_rec_rule rule;
                    assert_int_equal(ln_rec_rule_view(m, head, &rule, &err), 0);
                    ln_buf_reset(&text);
                    assert_int_equal(ln_expr_format(m, rule.rhs, &text, &err), 0);
                    nrules++;
                }
                assert_int_equal(rc, 0);
                assert_int_equal(nrules, c.num_minors);
            }
            total_consts++;
        }
        close_sample(&o);
    }
    assert_true(total_consts > 300);
    assert_true(hashed > 300);
    ln_buf_deinit(&text);
    ln_buf_deinit(&scratch);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- per-file summary ---- */

typedef struct expect_file {
    const char *path;
    enum ln_era era;
    const char *imports;        /* comma-separated */
    unsigned    counts[8];      /* axiom def theorem opaque quot inductive ctor rec */
} expect_file;

static const expect_file files[] = {
    {"CS-MathInLean@143a71d/build/lib/Main.olean", LN_ERA_2023, "Init,Mathlib.Algebra.BigOperators.Basic", {0, 0, 1, 0, 0, 0, 0, 0}},
    {"CS-MathInLean@143a71d/build/lib/MyNatAdd.olean", LN_ERA_2023, "Init,MyNatDef", {0, 0, 4, 0, 0, 0, 0, 0}},
    {"CS-MathInLean@143a71d/build/lib/MyNatDef.olean", LN_ERA_2023, "Init,Mathlib.Tactic.Basic,Mathlib.Tactic.Cases", {0, 82, 13, 0, 0, 1, 2, 1}},
    {"Kryptografie_mit_Lean@03dd935/.lake/config/[anonymous]/lakefile.olean", LN_ERA_MODULE, "Init", {0}},
    {"Lean@78be3b7/.lake/build/lib/Foo/Basic.olean", LN_ERA_2023, "Init", {0, 4, 0, 0, 0, 0, 0, 0}},
    {"Lean_Playground@2ff1bf8/.lake/build/lib/lean/LeanExamples/Basic.olean", LN_ERA_MODULE, "Init", {0, 1, 0, 0, 0, 0, 0, 0}},
    {"Lean_Playground@2ff1bf8/.lake/build/lib/lean/Main.olean", LN_ERA_MODULE, "Init,LeanExamples", {0, 1, 0, 0, 0, 0, 0, 0}},
    {"Lean_Playground@91b4961/.lake/build/lib/lean/Main.olean", LN_ERA_MODULE, "Init,Logic.Prop.Syntax,Logic.Prop.Semantics,Logic.DL.Syntax,Logic.DL.Semantics", {0, 13, 0, 0, 0, 0, 0, 0}},
    {"PekingNote@d3cf948/.lake/build/lib/Main.olean", LN_ERA_2023, "Init,PekingNote", {0, 7, 0, 0, 0, 0, 0, 0}},
    {"a-weak-Silly-substitution-Calculus@f9ad27e/.lake/build/lib/lean/SSC/Syntax.olean", LN_ERA_MODULE, "Init", {0, 50, 37, 0, 0, 1, 4, 1}},
    {"kmp-casestudy-lean@fae0097/.lake/build/lib/lean/Kmpstudy.olean", LN_ERA_MODULE, "Init,Kmpstudy.Basic", {0}},
    {"lean-rsa-project@b6134a2/build/lib/Main.olean", LN_ERA_2023, "Init", {0}},
    {"lean4-playground@9c4259e/.lake/build/lib/LeanPlayground.olean", LN_ERA_2023, "Init,LeanPlayground.Basic", {0}},
    {"lean4-playground@9c4259e/.lake/build/lib/LeanPlayground/Basic.olean", LN_ERA_2023, "Init", {0, 4, 0, 0, 0, 0, 0, 0}},
    {"lean4-playground@9c4259e/.lake/build/lib/Main.olean", LN_ERA_2023, "Init,LeanPlayground", {0, 7, 0, 0, 0, 0, 0, 0}},
    {"leaningIntoGroupTheory@8c707c5/.lake/build/lib/lean/LeaningIntoGroupTheory/Basic.olean", LN_ERA_MODULE, "Init", {0, 1, 0, 0, 0, 0, 0, 0}},
    {"leaningIntoGroupTheory@8c707c5/.lake/build/lib/lean/Main.olean", LN_ERA_MODULE, "Init,LeaningIntoGroupTheory", {0, 1, 0, 0, 0, 0, 0, 0}},
    {"math190formalize@1d2de09/.lake/build/lib/Main.olean", LN_ERA_2023, "Init,Math190formalize", {0, 7, 0, 0, 0, 0, 0, 0}},
    {"math190formalize@1d2de09/.lake/build/lib/Math190formalize/Basic.olean", LN_ERA_2023, "Init", {0, 4, 0, 0, 0, 0, 0, 0}},
    {"pgraph@8af555c/.lake/build/lib/Main.olean", LN_ERA_2023, "Init,PlaneGraphs.Asymptotic,PlaneGraphs.Charging,PlaneGraphs.Counterexample,PlaneGraphs.Hull3Balance", {0, 22, 78, 0, 0, 0, 0, 0}},
    {"signatures@3e21056/build/lib/Cdclt.olean", LN_ERA_2022, "Init", {0}},
    {"signatures@3e21056/build/lib/Main.olean", LN_ERA_2022, "Init,Cdclt", {0, 4, 0, 0, 0, 0, 0, 0}},
    {"zk-lean@3ca4245/.lake/build/lib/lean/ZkLean.olean", LN_ERA_2023, "Init,ZkLean.AST,ZkLean.Builder,ZkLean.Formalism,ZkLean.LookupTable,ZkLean.Semantics", {0}},
    {"zk-lean@3ca4245/.lake/build/lib/lean/ZkLean/Formalism.olean", LN_ERA_2023, "Init,Mathlib.Control.Traversable.Basic,MPL,ZkLean.AST,ZkLean.Builder,ZkLean.LookupTable,ZkLean.Semantics", {0, 18, 0, 0, 0, 0, 0, 0}},
};

static void test_file_summaries(void **state)
{
    (void)state;
    ln_buf imports;
    ln_buf_init(&imports, 0);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        const expect_file *x = &files[f];
        opened o;
        open_sample(x->path, &o);
        region_error err;
        assert_int_equal(o.m.era, x->era);
        assert_int_equal(o.m.old_expr, x->era == LN_ERA_2022);
        ln_buf_reset(&imports);
        for (uint64_t i = 0; i < o.m.nimports; i++) {
            ln_import im;
            assert_int_equal(ln_module_import(&o.m, i, &im, &err), 0);
            if (i)
                assert_int_equal(ln_buf_puts(&imports, ","), 0);
            assert_int_equal(ln_name_format(&o.m, im.module, &imports, &err), 0);
            /* Plain imports: not runtime-only; in the module era exported, not meta, not all. */
            assert_false(im.runtime_only);
            assert_false(im.import_all);
            assert_false(im.is_meta);
            assert_int_equal(im.is_exported, x->era == LN_ERA_MODULE);
        }
        assert_string_equal(ln_buf_cstr(&imports), x->imports);
        unsigned counts[8] = {0};
        for (uint64_t i = 0; i < o.m.nconstants; i++) {
            ln_const c;
            assert_int_equal(ln_module_const(&o.m, i, &c, &err), 0);
            counts[c.kind]++;
        }
        for (int k = 0; k < 8; k++)
            if (counts[k] != x->counts[k]) {
                fprintf(stderr, "%s: %s count %u, expected %u\n", x->path,
                        ln_const_kind_name((enum ln_const_kind)k), counts[k], x->counts[k]);
                fail();
            }
        close_sample(&o);
    }
    ln_buf_deinit(&imports);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- specific constants ---- */

/* Finds a constant by name (linear; names compared as text). */
static void find_const(const ln_module *m, const char *name, ln_const *out)
{
    region_error err;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        bool eq;
        assert_int_equal(ln_module_const(m, i, out, &err), 0);
        assert_int_equal(ln_name_eq_text(m, out->name, name, strlen(name), &eq, &err), 0);
        if (eq)
            return;
    }
    fprintf(stderr, "constant %s not found\n", name);
    fail();
}

static void expect_names(const ln_module *m, lx_word list, const char *want)
{
    ln_buf b;
    ln_buf_init(&b, 0);
    region_error err;
    lx_word head;
    int rc;
    bool first = true;
    while ((rc = ln_list_next(m, &list, &head, &err)) == 1) {
        if (!first)
            assert_int_equal(ln_buf_puts(&b, ","), 0);
        first = false;
        assert_int_equal(ln_name_format(m, head, &b, &err), 0);
    }
    assert_int_equal(rc, 0);
    assert_string_equal(ln_buf_cstr(&b), want);
    ln_buf_deinit(&b);
}

static void expect_expr(const ln_module *m, lx_word e, const char *want)
{
    ln_buf b;
    ln_buf_init(&b, 0);
    region_error err;
    assert_int_equal(ln_expr_format(m, e, &b, &err), 0);
    if (strcmp(ln_buf_cstr(&b), want))
        fprintf(stderr, "got  %s\nwant %s\n", ln_buf_cstr(&b), want);
    assert_string_equal(ln_buf_cstr(&b), want);
    ln_buf_deinit(&b);
}

static void expect_header(const ln_module *m, const ln_const *c, const char *want)
{
    ln_buf b;
    ln_buf_init(&b, 0);
    region_error err;
    assert_int_equal(ln_const_format_header(m, c, &b, &err), 0);
    assert_string_equal(ln_buf_cstr(&b), want);
    ln_buf_deinit(&b);
}

static void test_era_2022(void **state)
{
    (void)state;
    opened o;
    ln_const c;
    open_sample("signatures@3e21056/build/lib/Main.olean", &o);
    /* def main : IO Unit */
    find_const(&o.m, "main", &c);
    assert_int_equal(c.kind, LN_DEF);
    assert_int_equal(c.safety, LN_SAFE);
    assert_int_equal(c.hints, LN_HINTS_REGULAR);
    assert_true(c.all == 0); /* 2022 DefinitionVal has no `all` */
    expect_names(&o.m, c.level_params, "");
    expect_expr(&o.m, c.type, "IO Unit");
    /* compiler auxiliaries are unsafe defs */
    find_const(&o.m, "main._cstage1", &c);
    assert_int_equal(c.safety, LN_UNSAFE);
    close_sample(&o);
    assert_int_equal(mem_live_total(), 0);
}

static void test_era_2023_v0(void **state)
{
    (void)state;
    opened o;
    ln_const c;
    ln_rec_rule rule;
    region_error err;
    open_sample("CS-MathInLean@143a71d/build/lib/MyNatDef.olean", &o);
    assert_int_equal(region_get_info(o.r)->format, REGION_V0);

    /* inductive MyNat | zero : MyNat | succ : MyNat → MyNat */
    find_const(&o.m, "MyNat.MyNat", &c);
    assert_int_equal(c.kind, LN_INDUCT);
    assert_int_equal(c.num_params, 0);
    assert_int_equal(c.num_indices, 0);
    assert_true(c.is_rec);
    assert_false(c.is_unsafe);
    assert_false(c.has_num_nested);
    assert_false(c.is_nested);
    expect_names(&o.m, c.ctors, "MyNat.MyNat.zero,MyNat.MyNat.succ");
    expect_names(&o.m, c.all, "MyNat.MyNat");
    expect_expr(&o.m, c.type, "Type");

    find_const(&o.m, "MyNat.MyNat.succ", &c);
    assert_int_equal(c.kind, LN_CTOR);
    assert_int_equal(c.cidx, 1);
    assert_int_equal(c.num_params, 0);
    assert_int_equal(c.num_fields, 1);
    bool eq;
    assert_int_equal(ln_name_eq_text(&o.m, c.induct, "MyNat.MyNat", 11, &eq, &err), 0);
    assert_true(eq);
    expect_expr(&o.m, c.type, "MyNat.MyNat → MyNat.MyNat");

    find_const(&o.m, "MyNat.MyNat.rec", &c);
    assert_int_equal(c.kind, LN_REC);
    expect_header(&o.m, &c, "MyNat.MyNat.rec.{u}");
    assert_int_equal(c.num_params, 0);
    assert_int_equal(c.num_indices, 0);
    assert_int_equal(c.num_motives, 1);
    assert_int_equal(c.num_minors, 2);
    assert_false(c.k);
    lx_word cur = c.rules, head;
    assert_int_equal(ln_list_next(&o.m, &cur, &head, &err), 1);
    assert_int_equal(ln_rec_rule_view(&o.m, head, &rule, &err), 0);
    assert_int_equal(rule.nfields, 0);
    assert_int_equal(ln_list_next(&o.m, &cur, &head, &err), 1);
    assert_int_equal(ln_rec_rule_view(&o.m, head, &rule, &err), 0);
    assert_int_equal(rule.nfields, 1);
    assert_int_equal(ln_name_eq_text(&o.m, rule.ctor, "MyNat.MyNat.succ", 16, &eq, &err), 0);
    assert_true(eq);
    assert_int_equal(ln_list_next(&o.m, &cur, &head, &err), 0);
    expect_expr(&o.m, c.type,
                "∀ {motive : MyNat.MyNat → Sort u}, motive MyNat.MyNat.zero → "
                "(∀ (a✝ : MyNat.MyNat), motive a✝ → motive (MyNat.MyNat.succ a✝)) → "
                "∀ (t : MyNat.MyNat), motive t");

    /* def myNatFromNat : Nat → MyNat */
    find_const(&o.m, "MyNat.myNatFromNat", &c);
    assert_int_equal(c.kind, LN_DEF);
    assert_int_equal(c.safety, LN_SAFE);
    expect_names(&o.m, c.all, "MyNat.myNatFromNat");
    expect_expr(&o.m, c.type, "Nat → MyNat.MyNat");

    /* theorem zero_is_0 : MyNat.zero = 0 (elaborated: Eq, OfNat) */
    find_const(&o.m, "MyNat.zero_is_0", &c);
    assert_int_equal(c.kind, LN_THM);
    expect_expr(&o.m, c.type,
                "Eq.{1} MyNat.MyNat MyNat.MyNat.zero "
                "(OfNat.ofNat.{0} MyNat.MyNat 0 (MyNat.instOfNatMyNat 0))");
    close_sample(&o);

    /* theorem add_succ (a d : MyNat) : a + succ d = succ (a + d) */
    open_sample("CS-MathInLean@143a71d/build/lib/MyNatAdd.olean", &o);
    find_const(&o.m, "MyNat.add_succ", &c);
    assert_int_equal(c.kind, LN_THM);
    expect_expr(&o.m, c.type,
                "∀ (a : MyNat.MyNat) (d : MyNat.MyNat), Eq.{1} MyNat.MyNat "
                "(HAdd.hAdd.{0, 0, 0} MyNat.MyNat MyNat.MyNat MyNat.MyNat "
                "(instHAdd.{0} MyNat.MyNat MyNat.instAddMyNat) a (MyNat.MyNat.succ d)) "
                "(MyNat.MyNat.succ (HAdd.hAdd.{0, 0, 0} MyNat.MyNat MyNat.MyNat MyNat.MyNat "
                "(instHAdd.{0} MyNat.MyNat MyNat.instAddMyNat) a d))");
    close_sample(&o);
    assert_int_equal(mem_live_total(), 0);
}

static void test_era_2023_v1(void **state)
{
    (void)state;
    opened o;
    ln_const c;
    /* def hello := "world" (v4.4.0) */
    open_sample("lean4-playground@9c4259e/.lake/build/lib/LeanPlayground/Basic.olean", &o);
    assert_int_equal(region_get_info(o.r)->format, REGION_V1);
    find_const(&o.m, "hello", &c);
    assert_int_equal(c.kind, LN_DEF);
    expect_expr(&o.m, c.type, "String");
    expect_expr(&o.m, c.value, "\"world\"");
    close_sample(&o);

    /* v4.9.0, with big number literals in proofs */
    open_sample("pgraph@8af555c/.lake/build/lib/Main.olean", &o);
    find_const(&o.m, "PlaneGraphs.H", &c);
    assert_int_equal(c.kind, LN_DEF);
    expect_expr(&o.m, c.type, "Nat");
    find_const(&o.m, "PlaneGraphs.main_lower_bound_hull3_class_shift_poly1_n19", &c);
    assert_int_equal(c.kind, LN_THM);
    ln_buf b;
    ln_buf_init(&b, 0);
    region_error err;
    assert_int_equal(ln_expr_format(&o.m, c.value, &b, &err), 0);
    assert_non_null(strstr(ln_buf_cstr(&b), " 869052574729471422843"));
    ln_buf_deinit(&b);
    close_sample(&o);
    assert_int_equal(mem_live_total(), 0);
}

static void test_era_4_18(void **state)
{
    (void)state;
    opened o;
    ln_const c;
    /* def eval_circuit [ZKField f] (c : ZKBuilderState f) (witness : List f) : Prop */
    open_sample("zk-lean@3ca4245/.lake/build/lib/lean/ZkLean/Formalism.olean", &o);
    assert_int_equal(region_get_info(o.r)->format, REGION_V2);
    assert_string_equal(region_get_info(o.r)->lean_version, "4.18.0");
    find_const(&o.m, "eval_circuit", &c);
    assert_int_equal(c.kind, LN_DEF);
    expect_header(&o.m, &c, "eval_circuit");
    expect_expr(&o.m, c.type, "∀ {f : Type}, [ZKField f] → ZKBuilderState f → List.{0} f → Prop");
    close_sample(&o);
    assert_int_equal(mem_live_total(), 0);
}

static void test_era_module(void **state)
{
    (void)state;
    opened o;
    ln_const c;
    open_sample("a-weak-Silly-substitution-Calculus@f9ad27e/.lake/build/lib/lean/SSC/Syntax.olean", &o);
    assert_string_equal(region_get_info(o.r)->lean_version, "4.29.1");
    /* inductive Term | var : Nat → Term | lam : Nat → Term → Term
     *                | app : Term → Term → Term | es : Term → Nat → Term → Term */
    find_const(&o.m, "SSC.Term", &c);
    assert_int_equal(c.kind, LN_INDUCT);
    assert_true(c.has_num_nested);
    assert_int_equal(c.num_nested, 0);
    assert_true(c.is_rec);
    assert_false(c.is_reflexive);
    expect_names(&o.m, c.ctors, "SSC.Term.var,SSC.Term.lam,SSC.Term.app,SSC.Term.es");
    expect_expr(&o.m, c.type, "Type");
    find_const(&o.m, "SSC.Term.lam", &c);
    assert_int_equal(c.kind, LN_CTOR);
    assert_int_equal(c.cidx, 1);
    assert_int_equal(c.num_fields, 2);
    expect_expr(&o.m, c.type, "Nat → SSC.Term → SSC.Term");
    find_const(&o.m, "SSC.Term.es", &c);
    assert_int_equal(c.cidx, 3);
    assert_int_equal(c.num_fields, 3);
    expect_expr(&o.m, c.type, "SSC.Term → Nat → SSC.Term → SSC.Term");
    find_const(&o.m, "SSC.Term.rec", &c);
    assert_int_equal(c.num_minors, 4);
    assert_int_equal(c.num_motives, 1);
    expect_header(&o.m, &c, "SSC.Term.rec.{u}");
    find_const(&o.m, "SSC.shfv", &c);
    assert_int_equal(c.kind, LN_DEF);
    expect_expr(&o.m, c.type, "SSC.Term → List.{0} Nat");
    close_sample(&o);

    /* def p : DLForm := .atom "p" (4.30.0-rc1) */
    open_sample("Lean_Playground@91b4961/.lake/build/lib/lean/Main.olean", &o);
    assert_false(o.m.is_module); /* a plain (non-`module`) file of the module era */
    find_const(&o.m, "p", &c);
    expect_expr(&o.m, c.type, "Logic.DL.DLForm");
    expect_expr(&o.m, c.value, "Logic.DL.DLForm.atom \"p\"");
    find_const(&o.m, "main", &c);
    expect_expr(&o.m, c.type, "IO Unit");
    close_sample(&o);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_samples",
          cmocka_unit_test(test_every_sample_decodes),
          cmocka_unit_test(test_file_summaries),
          cmocka_unit_test(test_era_2022),
          cmocka_unit_test(test_era_2023_v0),
          cmocka_unit_test(test_era_2023_v1),
          cmocka_unit_test(test_era_4_18),
          cmocka_unit_test(test_era_module))
