/*
 * tests/unit/pool/test_find.c — decl.find: the query parser (every syntax
 * element, errors with their column), the matcher on hand-checked patterns
 * (holes, named holes, notation, implicit arguments, conclusion, hypotheses
 * in any order, binders, universe levels ignored, numerals), resolution
 * errors with candidates, internal names, kinds, ranking and paging; and, on
 * every sample of ../shared/lean-samples, constant and string queries
 * against a brute-force scan written here, independently of the index.
 *
 * The library: the demo modules (examples/) and a module T written below,
 * packed into a temporary directory.
 */
#include <errno.h>
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
#include "lean/pack.h"
#include "pool/find_internal.h"
#include "pool/pool.h"
#include "tests/support/packtest.h"
#include "tests/support/pooltest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static const char T_TEXT[] =
    "module T\n"
    "import Demo.Logic Demo.Nat\n"
    "inductive HAdd.{u, v, w} (α : Type u) (β : Type v) (γ : Type w) : Type (max (max u v) w)\n"
    "  | mk (hAdd : α → β → γ) : HAdd.{u, v, w} α β γ\n"
    "def HAdd.hAdd.{u, v, w} {α : Type u} {β : Type v} {γ : Type w} [self : HAdd.{u, v, w} α β γ] (a : α) (b : β) : "
    "γ := HAdd.rec.{w + 1, u, v, w} α β γ (fun (t : HAdd.{u, v, w} α β γ) => γ) (fun (f : α → β → γ) => f a b) self\n"
    "def instHAddNat : HAdd.{0, 0, 0} Nat Nat Nat := HAdd.mk.{0, 0, 0} Nat Nat Nat Nat.add\n"
    "inductive LT.{u} (α : Type u) : Type u\n"
    "  | mk (lt : α → α → Prop) : LT.{u} α\n"
    "def LT.lt.{u} {α : Type u} [self : LT.{u} α] (a : α) (b : α) : Prop := LT.rec.{1, u} α (fun (t : LT.{u} α) => "
    "Prop) (fun (f : α → α → Prop) => f a b) self\n"
    "axiom instLTNat : LT.{0} Nat\n"
    "inductive Membership.{u, v} (α : Type u) (γ : Type v) : Type (max u v)\n"
    "  | mk (mem : γ → α → Prop) : Membership.{u, v} α γ\n"
    "def Membership.mem.{u, v} {α : Type u} {γ : Type v} [self : Membership.{u, v} α γ] (coll : γ) (a : α) : Prop "
    ":= Membership.rec.{1, u, v} α γ (fun (t : Membership.{u, v} α γ) => Prop) (fun (f : γ → α → Prop) => f coll a) "
    "self\n"
    "axiom Set.{u} (α : Type u) : Type u\n"
    "axiom Set.instMembership.{u} {α : Type u} : Membership.{u, u} α (Set.{u} α)\n"
    "theorem T.add_comm (a : Nat) (b : Nat) : Eq.{1} Nat (HAdd.hAdd.{0, 0, 0} Nat Nat Nat instHAddNat a b) "
    "(HAdd.hAdd.{0, 0, 0} Nat Nat Nat instHAddNat b a)\n"
    "theorem T.add_self (a : Nat) : Eq.{1} Nat (HAdd.hAdd.{0, 0, 0} Nat Nat Nat instHAddNat a a) (Nat.double a)\n"
    "theorem T.lt_two (a : Nat) (b : Nat) (h1 : LT.lt.{0} Nat instLTNat a b) (h2 : Eq.{1} Nat a Nat.zero) : "
    "LT.lt.{0} Nat instLTNat Nat.zero b\n"
    "theorem T.lt_two' (a : Nat) (b : Nat) (h2 : Eq.{1} Nat a Nat.zero) (h1 : LT.lt.{0} Nat instLTNat a b) : "
    "LT.lt.{0} Nat instLTNat Nat.zero b\n"
    "theorem T.mem_set.{u} {α : Type u} (a : α) (s : Set.{u} α) (h : Membership.mem.{u, u} α (Set.{u} α) "
    "Set.instMembership.{u} s a) : Membership.mem.{u, u} α (Set.{u} α) Set.instMembership.{u} s a\n"
    "theorem T.three : Eq.{1} Nat (HAdd.hAdd.{0, 0, 0} Nat Nat Nat instHAddNat 1 2) 3\n"
    "theorem T.ex : Exists.{1} Nat (fun (n : Nat) => Eq.{1} Nat n Nat.zero)\n"
    "theorem T.map_fun.{u} {α : Type u} (f : α → α) (l : List.{u} α) : Eq.{u + 1} (List.{u} α) "
    "(List.map.{u, u} α α (fun (x : α) => f x) l) (List.map.{u, u} α α f l)\n"
    "theorem T.match_1 : True\n"
    "theorem T.sort_prop (p : Prop) : Eq.{1} Prop p p\n"
    "theorem T.sort_type.{u} (α : Type u) : Eq.{u + 2} (Type u) α α\n";

typedef struct fixture {
    char     *dir;
    pool     *p;
    pool_env *e;
} fixture;

static void write_image(const char *dir, const char *module, const uint8_t *img, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/", dir);
    size_t off = strlen(path);
    for (const char *s = module; *s; s++) {
        if (*s == '.') {
            path[off] = 0;
            mkdir(path, 0700);
            path[off++] = '/';
        } else {
            path[off++] = *s;
        }
    }
    path[off] = 0;
    strcat(path, ".olean");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    fclose(f);
}

static int setup(void **state)
{
    fixture *f = mem_calloc(1, sizeof *f);
    f->dir = tmpdir_make();
    ln_pack *pk = ln_pack_new();
    for (size_t i = 0; i < PACKTEST_NEXAMPLES; i++) {
        char path[1024];
        size_t len, out_len;
        uint64_t n;
        uint8_t *text = packtest_example_text(packtest_examples[i], path, sizeof path, &len);
        uint8_t *img = packtest_image(pk, path, (const char *)text, len, packtest_examples[i], &out_len, &n);
        write_image(f->dir, packtest_examples[i], img, out_len);
        mem_free(img);
        mem_free(text);
    }
    size_t out_len;
    uint64_t n;
    uint8_t *img = packtest_image(pk, "T.txt", T_TEXT, strlen(T_TEXT), "T", &out_len, &n);
    write_image(f->dir, "T", img, out_len);
    mem_free(img);
    ln_pack_free(pk);
    f->p = pool_make(f->dir, 2, 0, POOL_STALE_STAT);
    const char *imps[] = {"Demo.Main", "T"};
    pool_error err;
    if (pool_acquire(f->p, imps, 2, 0, &f->e, &err) != 0) {
        fprintf(stderr, "acquire: %s\n", err.reason);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pool_release(f->p, f->e, NULL);
    pool_free(f->p);
    tmpdir_remove(f->dir);
    mem_free(f);
    return mem_live_total() == 0 ? 0 : -1;
}

/* ---- parser ---------------------------------------------------------------- */

/* Parses and prints back; returns the text (static buffer) or the error "COL: msg". */
static const char *parsed(const char *text)
{
    static char out[4096];
    fq_query q;
    fq_error err;
    int rc = fq_parse(text, strlen(text), &q, &err);
    if (rc) {
        assert_int_equal(rc, POOL_EINVAL);
        snprintf(out, sizeof out, "%u: %s", err.col, err.msg);
        return out;
    }
    ln_buf b;
    ln_buf_init(&b, 0);
    assert_int_equal(fq_format(&q, &b), 0);
    snprintf(out, sizeof out, "%s", ln_buf_cstr(&b));
    ln_buf_deinit(&b);
    fq_query_deinit(&q);
    return out;
}

static void expect_error_col(const char *text, unsigned col, const char *part)
{
    const char *r = parsed(text);
    char want[16];
    snprintf(want, sizeof want, "%u: ", col);
    if (strncmp(r, want, strlen(want)) != 0 || !strstr(r, part)) {
        fprintf(stderr, "query %s: got '%s', want column %u and '%s'\n", text, r, col, part);
        fail();
    }
}

static void test_parse_filters(void **state)
{
    (void)state;
    assert_string_equal(parsed("List.map"), "List.map");
    assert_string_equal(parsed("\"comm\""), "\"comm\"");
    assert_string_equal(parsed("List.map, \"comm\", Nat"), "List.map, \"comm\", Nat");
    assert_string_equal(parsed("⊢ _ = _"), "⊢ (Eq _ _)");
    assert_string_equal(parsed("|- _ = _"), "⊢ (Eq _ _)");
    assert_string_equal(parsed("(List.map _ (List.map _ _))"), "(List.map _ (List.map _ _))");
    /* printed back escaped, so that it parses again to the same string */
    assert_string_equal(parsed("\"a\\\"b\""), "\"a\\\"b\"");
    assert_string_equal(parsed("\"a\\\\b\\n\\t\\x01\\x7f\""), "\"a\\\\b\\n\\t\\x01\\x7f\"");
    assert_string_equal(parsed("Nat.add \"\\\"\" _"), "(Nat.add \"\\\"\" _)");
    fq_query q;
    fq_error e;
    const char *four = "Nat, \"x\", _ + _, ⊢ _";
    assert_int_equal(fq_parse(four, strlen(four), &q, &e), 0);
    assert_int_equal(q.nfilters, 4);
    assert_int_equal(q.filters[0].kind, FQF_CONST);
    assert_int_equal(q.filters[1].kind, FQF_NAME);
    assert_int_equal(q.filters[2].kind, FQF_TERM);
    assert_int_equal(q.filters[3].kind, FQF_CONCL);
    assert_int_equal(q.filters[2].col, 11);
    fq_query_deinit(&q);
}

static void test_parse_terms(void **state)
{
    (void)state;
    assert_string_equal(parsed("_ * (_ ^ _)"), "(HMul.hMul _ (HPow.hPow _ _))");
    assert_string_equal(parsed("_ * _ ^ _"), "(HMul.hMul _ (HPow.hPow _ _))");
    assert_string_equal(parsed("_ + _ * _"), "(HAdd.hAdd _ (HMul.hMul _ _))");
    assert_string_equal(parsed("_ - _ - _"), "(HSub.hSub (HSub.hSub _ _) _)");
    assert_string_equal(parsed("_ ^ _ ^ _"), "(HPow.hPow _ (HPow.hPow _ _))");
    assert_string_equal(parsed("?a = ?a"), "(Eq ?a ?a)");
    assert_string_equal(parsed("_ ≠ _"), "(Ne _ _)");
    assert_string_equal(parsed("_ < _ ∧ _ ≤ _"), "(And (LT.lt _ _) (LE.le _ _))");
    assert_string_equal(parsed("_ ∨ _ ∧ _"), "(Or _ (And _ _))");
    assert_string_equal(parsed("¬ _ ↔ _"), "(Iff (Not _) _)");
    assert_string_equal(parsed("_ ∈ _"), "(Membership.mem _ _)");
    assert_string_equal(parsed("_ ∉ _"), "(Not (Membership.mem _ _))");
    assert_string_equal(parsed("_ / _ % _"), "(HMod.hMod (HDiv.hDiv _ _) _)");
    assert_string_equal(parsed("-_ + _"), "(HAdd.hAdd (Neg.neg _) _)");
    assert_string_equal(parsed("_ → _ → _"), "(_ → (_ → _))");
    assert_string_equal(parsed("_ -> _"), "(_ → _)");
    assert_string_equal(parsed("_ ⊓ _"), "({Min.min|Inf.inf} _ _)");
    assert_string_equal(parsed("_⁻¹"), "(Inv.inv _)");
    assert_string_equal(parsed("_ ++ _ :: _"), "(HAppend.hAppend _ (List.cons _ _))");
    assert_string_equal(parsed("_ ∘ _"), "(Function.comp _ _)");
    assert_string_equal(parsed("_ × _"), "(Prod _ _)");
    assert_string_equal(parsed("_ ∣ _"), "(Dvd.dvd _ _)");
    assert_string_equal(parsed("⊤ = ⊥"), "(Eq Top.top Bot.bot)");
    assert_string_equal(parsed("0 < 2"), "(LT.lt 0 2)");
    assert_string_equal(parsed("f \"s\""), "(f \"s\")");
    assert_string_equal(parsed("(f a) b"), "(f a b)");
    assert_string_equal(parsed("List ?α"), "(List ?α)");
    assert_string_equal(parsed("(_ : Prop) = _"), parsed("(_ : Prop) = _")); /* an error (ascription) */
    assert_string_equal(parsed("Prop → Type → Type _ → Sort u → Type*"),
                        "(Prop → (Type _ → (Type _ → (Sort _ → Type _))))");
    /* binders: bound names become variables, de Bruijn from the inside */
    assert_string_equal(parsed("∀ x, x = x"), "(∀ x : _, (Eq #0 #0))");
    assert_string_equal(parsed("∀ (x : Nat) (y : Nat), x = y"), "(∀ x : Nat, (∀ y : Nat, (Eq #1 #0)))");
    assert_string_equal(parsed("∀ x y : Nat, x = y"), "(∀ x : Nat, (∀ y : Nat, (Eq #1 #0)))");
    assert_string_equal(parsed("∀ {α : Type} [inst : C α] ⦃a : α⦄, a = a"),
                        "(∀ α : Type _, (∀ inst : (C #0), (∀ a : #1, (Eq #0 #0))))");
    assert_string_equal(parsed("∀ [C], _"), "(C → _)");
    assert_string_equal(parsed("∃ x, x = 0"), "(Exists (fun x : _ => (Eq #0 0)))");
    assert_string_equal(parsed("fun x => f x"), "(fun x : _ => (f #0))");
    assert_string_equal(parsed("λ x ↦ f x"), "(fun x : _ => (f #0))");
    assert_string_equal(parsed("_ → x"), "(_ → x)");
    assert_string_equal(parsed("∀ x, _ → x"), "(∀ x : _, (_ → #1))");
    assert_string_equal(parsed("α₁ = «weird name».x"), "(Eq α₁ «weird name».x)");
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error_col("", 1, "no constants");
    expect_error_col("   ", 1, "no constants");
    expect_error_col("_", 1, "cannot search for _");
    expect_error_col("Nat, _", 6, "cannot search for _");
    expect_error_col("\"\"", 1, "too general");
    expect_error_col("\".\"", 1, "too general");
    expect_error_col("(_ + _", 7, "expected ')'");
    expect_error_col("_ + ", 5, "end of query");
    expect_error_col("Nat Nat.succ ,", 15, "end of query");
    expect_error_col("_ = _ = _", 7, "expected ','");
    expect_error_col("\"abc", 1, "unterminated");
    expect_error_col("(_ : Prop)", 4, "ascription");
    expect_error_col("∀ x x", 6, "expected ','");
    expect_error_col("fun x, x", 6, "expected '=>'");
    expect_error_col("?", 1, "hole name");
    expect_error_col("x.1", 2, "field notation");
    expect_error_col("_ + ⊢ _", 5, "may only begin");
    expect_error_col("1.5", 2, "decimal");
    expect_error_col("99999999999999999999", 1, "too large");
    expect_error_col("α + ∑ x, x", 5, "unexpected '∑'");
    expect_error_col("\"\\q\"", 2, "unknown escape");
    expect_error_col("_ = \xff", 5, "invalid UTF-8");
    char deep[600];
    memset(deep, '(', 300);
    deep[300] = 0;
    expect_error_col(deep, 129, "nested too deeply");
    fq_query q;
    fq_error e;
    assert_int_equal(fq_parse("a\0b", 3, &q, &e), POOL_EINVAL);
}

/* ---- find over the library ---------------------------------------------------- */

typedef struct found {
    int      rc;
    size_t   n;
    uint64_t count;
    char     names[64][128];
    char     next[48];
    pool_find_result res;
} found;

static found *run_find(pool_env *e, const char *query, bool internal, uint32_t limit, const char *cursor)
{
    static found f;
    memset(&f, 0, sizeof f);
    pool_find_query q = {query, strlen(query), 0, internal, limit, cursor};
    pool_error err;
    f.rc = pool_env_find(e, &q, NULL, &f.res, &err);
    if (f.rc == 0) {
        f.n = f.res.n;
        f.count = f.res.count;
        for (size_t i = 0; i < f.n && i < 64; i++)
            snprintf(f.names[i], sizeof f.names[i], "%.*s", (int)f.res.items[i].name_len, f.res.items[i].name);
        snprintf(f.next, sizeof f.next, "%s", f.res.next_cursor);
        pool_find_result_deinit(&f.res);
    }
    return &f;
}

/* The names found, comma-joined (all on one page of 64), or "ERR: message". */
static const char *names_of(pool_env *e, const char *query)
{
    static char out[8192];
    found *f = run_find(e, query, false, 64, NULL);
    if (f->rc) {
        snprintf(out, sizeof out, "ERR %d: %s", f->res.fail, f->res.message);
        return out;
    }
    out[0] = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, f->names[i]);
    }
    return out;
}

static bool has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
            return true;
    return false;
}

static void test_find_constants(void **state)
{
    fixture *f = *state;
    const char *r = names_of(f->e, "Nat.double");
    assert_true(has(r, "Nat.double")); /* the constant itself, as Loogle */
    assert_true(has(r, "T.add_self"));
    assert_true(has(r, "Nat.double_eq"));
    assert_false(has(r, "Nat.add_comm"));
    /* two constants: both mentioned */
    r = names_of(f->e, "Nat.double, HAdd.hAdd");
    assert_string_equal(r, "T.add_self");
    /* strings: case-insensitive substring of the name */
    r = names_of(f->e, "\"ADD_COMM\"");
    assert_true(has(r, "Nat.add_comm"));
    assert_true(has(r, "T.add_comm"));
    r = names_of(f->e, "Eq, \"add_\"");
    assert_true(has(r, "Nat.add_comm"));
    assert_false(has(r, "Nat.add")); /* def Nat.add's type has no Eq */
    /* unknown: candidates by last component */
    found *fo = run_find(f->e, "add_comm", false, 10, NULL);
    assert_int_equal(fo->rc, POOL_EINVAL);
    assert_int_equal(fo->res.fail, POOL_FIND_UNKNOWN);
    assert_int_equal(fo->res.col, 1);
    assert_true(fo->res.ncandidates >= 2);
    fo = run_find(f->e, "Nat, (Nat.nope _)", false, 10, NULL);
    assert_int_equal(fo->rc, POOL_EINVAL);
    assert_int_equal(fo->res.col, 7);
    assert_string_equal(fo->res.name, "Nat.nope");
    /* notation whose constant the environment lacks */
    fo = run_find(f->e, "_ * _", false, 10, NULL);
    assert_int_equal(fo->rc, POOL_EINVAL);
    assert_int_equal(fo->res.fail, POOL_FIND_UNKNOWN);
    /* internal names hidden unless asked for */
    assert_false(has(names_of(f->e, "True"), "T.match_1"));
    fo = run_find(f->e, "True", true, 64, NULL);
    bool seen = false;
    for (size_t i = 0; i < fo->n; i++)
        seen |= !strcmp(fo->names[i], "T.match_1");
    assert_true(seen);
    assert_false(has(names_of(f->e, "Nat"), "Nat.rec"));
}

static void test_find_patterns(void **state)
{
    fixture *f = *state;
    /* notation with implicit and instance arguments left out */
    assert_string_equal(names_of(f->e, "_ + _ = _ + _"), "T.add_comm");
    assert_string_equal(names_of(f->e, "?a + ?b = ?b + ?a"), "T.add_comm");
    assert_string_equal(names_of(f->e, "?a + ?a"), "T.add_self");
    assert_string_equal(names_of(f->e, "?a + ?a = _"), "T.add_self");
    assert_string_equal(names_of(f->e, "?a + ?b = ?a + ?b"), ""); /* add_comm swaps them */
    /* distinct names may match the same term (Loogle) */
    assert_true(has(names_of(f->e, "?a + ?b"), "T.add_self"));
    /* plain constants applied to explicit args */
    const char *r = names_of(f->e, "Nat.add ?n Nat.zero = ?n");
    assert_string_equal(r, "Nat.add_zero");
    r = names_of(f->e, "Nat.add Nat.zero ?n = ?n");
    assert_string_equal(r, "Nat.zero_add");
    r = names_of(f->e, "Nat.add (Nat.add _ _) _");
    assert_true(has(r, "Nat.add_assoc"));
    assert_false(has(r, "Nat.add_comm"));
    /* numerals: the raw literals of T.three */
    assert_string_equal(names_of(f->e, "1 + 2 = 3"), "T.three");
    assert_string_equal(names_of(f->e, "2 + 1"), "");
    /* ∈ : Membership.mem takes the collection first in this environment, as in Lean since 2024 */
    assert_string_equal(names_of(f->e, "?a ∈ ?s"), "T.mem_set");
    /* conclusion, hypotheses in any order */
    assert_string_equal(names_of(f->e, "⊢ 0 < 0"), "");
    r = names_of(f->e, "⊢ _ < _ → _ = _ → _ < _");
    assert_true(has(r, "T.lt_two"));
    assert_true(has(r, "T.lt_two'"));
    r = names_of(f->e, "|- ?a = Nat.zero → ?a < ?b → Nat.zero < ?b");
    assert_true(has(r, "T.lt_two"));
    assert_true(has(r, "T.lt_two'"));
    r = names_of(f->e, "|- ?a = Nat.zero → ?b < ?a → Nat.zero < ?b");
    assert_string_equal(r, ""); /* ?a ?b swapped in the hypothesis */
    r = names_of(f->e, "⊢ _ < _");
    assert_true(has(r, "T.lt_two"));
    assert_false(has(r, "T.mem_set"));
    /* the conclusion must be the whole conclusion */
    assert_string_equal(names_of(f->e, "⊢ _ + _"), "");
    /* binders: ∃, fun, bound variables */
    assert_string_equal(names_of(f->e, "∃ n, n = Nat.zero"), "T.ex");
    assert_string_equal(names_of(f->e, "∃ n, Nat.zero = n"), "");
    r = names_of(f->e, "List.map (fun x => _) _");
    assert_true(has(r, "T.map_fun"));
    assert_true(has(r, "List.map_id"));
    assert_non_null(strstr(names_of(f->e, "List.map (fun x => _ x) _"), "ERR")); /* higher-order holes: not supported */
    assert_string_equal(names_of(f->e, "List.map (fun x => x) _"), "List.map_id");
    /* sorts: levels ignored, Prop vs Type */
    assert_string_equal(names_of(f->e, "T.sort_prop, Prop"), "T.sort_prop");
    assert_non_null(strstr(names_of(f->e, "Eq, (Eq (_ : Prop))"), "ascription"));
    assert_string_equal(names_of(f->e, "\"sort_\", ⊢ ∀ (p : Prop), p = p"), "T.sort_prop");
    assert_string_equal(names_of(f->e, "\"sort_\", ⊢ ∀ (p : Type _), p = p"), "T.sort_type");
    assert_string_equal(names_of(f->e, "\"sort_\", ⊢ ∀ (p : Sort _), p = p"), "T.sort_prop,T.sort_type");
    /* a function-type pattern: hypotheses of a subterm in any order */
    r = names_of(f->e, "(?a → ?b) → List ?a → List ?b");
    assert_true(has(r, "List.map"));
    r = names_of(f->e, "List ?a → (?a → ?b) → List ?b");
    assert_true(has(r, "List.map"));
}

static void test_rank_and_pages(void **state)
{
    fixture *f = *state;
    found *all = run_find(f->e, "Nat", false, 1000, NULL);
    assert_int_equal(all->rc, 0);
    size_t total = all->n;
    assert_int_equal(all->count, total);
    char first[64][128];
    for (size_t i = 0; i < total && i < 64; i++)
        snprintf(first[i], sizeof first[i], "%s", all->names[i]);
    /* no constant besides the query's first (Algebra.secretKey : Nat), then by name */
    assert_string_equal(first[0], "Algebra.secretKey");
    /* pages of 3 joined give the same list */
    char cursor[48] = "";
    size_t got = 0;
    for (int page = 0; page < 100; page++) {
        found *p = run_find(f->e, "Nat", false, 3, cursor[0] ? cursor : NULL);
        assert_int_equal(p->rc, 0);
        assert_int_equal(p->count, total);
        for (size_t i = 0; i < p->n; i++, got++)
            if (got < 64)
                assert_string_equal(p->names[i], first[got]);
        if (!p->next[0])
            break;
        snprintf(cursor, sizeof cursor, "%s", p->next);
    }
    assert_int_equal(got, total);
    found *bad = run_find(f->e, "Nat", false, 3, "x");
    assert_int_equal(bad->rc, POOL_EINVAL);
    assert_int_equal(bad->res.fail, POOL_FIND_BAD_CURSOR);
    bad = run_find(f->e, "Nat", false, 0, NULL);
    assert_int_equal(bad->rc, POOL_EINVAL);
    /* kinds */
    pool_find_query q = {"Nat", 3, 1u << LN_THM, false, 100, NULL};
    pool_find_result res;
    pool_error err;
    assert_int_equal(pool_env_find(f->e, &q, NULL, &res, &err), 0);
    assert_true(res.n > 0);
    for (size_t i = 0; i < res.n; i++)
        assert_int_equal(res.items[i].kind, LN_THM);
    pool_find_result_deinit(&res);
    /* counters */
    pool_stats st;
    pool_stats_get(f->p, &st);
    assert_true(st.find_index_builds >= 2);
    assert_true(st.find_index_bytes > 0);
}

static void test_prepare_cancel(void **state)
{
    fixture *f = *state;
    pool_find_ctl ctl;
    memset(&ctl, 0, sizeof ctl);
    atomic_store(&ctl.cancel, true);
    pool_error err;
    assert_int_equal(pool_env_find_prepare(f->e, POOL_FIND_VALUES, &ctl, &err), POOL_ECANCELLED);
    atomic_store(&ctl.cancel, false);
    assert_int_equal(pool_env_find_prepare(f->e, POOL_FIND_VALUES, &ctl, &err), 0);
    assert_int_equal(atomic_load(&ctl.loaded), atomic_load(&ctl.total));
    pool_stats st;
    pool_stats_get(f->p, &st);
    assert_true(st.find_index_cancelled >= 1);
}

static const char *deps_of(pool_env *e, const char *name, unsigned in, uint32_t depth, bool used_by)
{
    static char out[8192];
    pool_dep_query q = {name, strlen(name), in, depth, 1000, 1000, 0};
    pool_dep_result res;
    pool_error err;
    int rc = pool_env_deps(e, &q, used_by, NULL, &res, &err);
    if (rc) {
        snprintf(out, sizeof out, "ERR %d", rc);
        return out;
    }
    out[0] = 0;
    for (size_t i = 0; i < res.n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, res.items[i].name);
    }
    pool_dep_result_deinit(&res);
    return out;
}

static void test_deps(void **state)
{
    fixture *f = *state;
    assert_string_equal(deps_of(f->e, "Nat.add_comm", POOL_DEP_TYPE, 1, false), "Eq,Nat,Nat.add");
    assert_string_equal(deps_of(f->e, "Nat.double", POOL_DEP_VALUE, 1, false), "Nat,Nat.add"); /* the value is fun (n : Nat) => Nat.add n n */
    assert_string_equal(deps_of(f->e, "Nat.double", POOL_DEP_BOTH, 1, false), "Nat,Nat.add");
    /* transitive: Nat.add's value brings Nat.rec */
    assert_true(has(deps_of(f->e, "Nat.double", POOL_DEP_VALUE, 2, false), "Nat.rec"));
    const char *r = deps_of(f->e, "Nat.double", POOL_DEP_TYPE, 1, true);
    assert_true(has(r, "Nat.double_eq"));
    assert_false(has(r, "Demo.quad"));
    r = deps_of(f->e, "Nat.double", POOL_DEP_BOTH, 1, true);
    assert_true(has(r, "Nat.double_eq"));
    assert_true(has(r, "Demo.quad"));
    assert_true(has(r, "Demo.compose"));
    assert_string_equal(deps_of(f->e, "No.such", POOL_DEP_BOTH, 1, true), "ERR -1205");
    /* paging */
    pool_dep_query q = {"Nat", 3, POOL_DEP_BOTH, 1, 1000, 2, 0};
    pool_dep_result res;
    pool_error err;
    assert_int_equal(pool_env_deps(f->e, &q, true, NULL, &res, &err), 0);
    assert_int_equal(res.n, 2);
    assert_true(res.count > 2);
    assert_int_equal(res.next_cursor, 2);
    pool_dep_result_deinit(&res);
    q.cursor = 1u << 30;
    assert_int_equal(pool_env_deps(f->e, &q, true, NULL, &res, &err), POOL_EINVAL);
}

/* ---- brute force on the samples ------------------------------------------------- */

/* Constant names in an Expr, by an independent walk (recursion on a copy-free DAG with a visited list). */
typedef struct bf_set {
    char  **names;
    size_t  n, cap;
} bf_set;

static bool bf_has(const bf_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return true;
    return false;
}

static void bf_add(bf_set *s, const char *name)
{
    if (bf_has(s, name))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->names = mem_try_realloc(s->names, s->cap * sizeof *s->names);
    }
    s->names[s->n++] = mem_strdup(name);
}

static void bf_free(bf_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        mem_free(s->names[i]);
    mem_free(s->names);
    memset(s, 0, sizeof *s);
}

typedef struct bf_seen {
    lx_word *w;
    size_t   n, cap;
} bf_seen;

static void bf_walk(const ln_module *m, lx_word e, bf_set *out, bf_seen *seen, unsigned depth)
{
    if (lx_is_scalar(e) || depth > 10000)
        return;
    for (size_t i = 0; i < seen->n; i++)
        if (seen->w[i] == e)
            return;
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? seen->cap * 2 : 64;
        seen->w = mem_try_realloc(seen->w, seen->cap * sizeof *seen->w);
    }
    seen->w[seen->n++] = e;
    ln_expr x;
    if (ln_expr_view(m, e, &x, NULL))
        return;
    char buf[1024];
    switch (x.kind) {
    case LN_CONST:
        if (ln_name_to_cstr(m, x.a, buf, sizeof buf, NULL, NULL) == 0)
            bf_add(out, buf);
        break;
    case LN_APP: bf_walk(m, x.a, out, seen, depth + 1); bf_walk(m, x.b, out, seen, depth + 1); break;
    case LN_LAM:
    case LN_FORALL: bf_walk(m, x.b, out, seen, depth + 1); bf_walk(m, x.c, out, seen, depth + 1); break;
    case LN_LET:
        bf_walk(m, x.b, out, seen, depth + 1);
        bf_walk(m, x.c, out, seen, depth + 1);
        bf_walk(m, x.d, out, seen, depth + 1);
        break;
    case LN_MDATA: bf_walk(m, x.b, out, seen, depth + 1); break;
    case LN_PROJ: bf_walk(m, x.c, out, seen, depth + 1); break;
    default: break;
    }
}

static bool ci_has(const char *h, const char *n)
{
    size_t hl = strlen(h), nl = strlen(n);
    for (size_t i = 0; i + nl <= hl; i++) {
        size_t k = 0;
        while (k < nl && (h[i + k] | (h[i + k] >= 'A' && h[i + k] <= 'Z' ? 0x20 : 0)) ==
                             (n[k] | (n[k] >= 'A' && n[k] <= 'Z' ? 0x20 : 0)))
            k++;
        if (k == nl)
            return true;
    }
    return false;
}

typedef struct bf_decl {
    char  *name;
    bf_set consts;
} bf_decl;

/* Every answer page of query (internal: true), names sorted into a set. */
static void all_pages(pool_env *e, const char *query, bf_set *out)
{
    char cursor[48] = "";
    for (;;) {
        pool_find_query q = {query, strlen(query), 0, true, 1000, cursor[0] ? cursor : NULL};
        pool_find_result res;
        pool_error err;
        int rc = pool_env_find(e, &q, NULL, &res, &err);
        if (rc) {
            fprintf(stderr, "query %s: %s\n", query, res.message);
            fail();
        }
        for (size_t i = 0; i < res.n; i++) {
            char buf[1024];
            snprintf(buf, sizeof buf, "%.*s", (int)res.items[i].name_len, res.items[i].name);
            bf_add(out, buf);
        }
        snprintf(cursor, sizeof cursor, "%s", res.next_cursor);
        pool_find_result_deinit(&res);
        if (!cursor[0])
            break;
    }
}

/* A library big enough for helper threads: built with and without them, the same answers and index bytes. */
static void test_prepare_parallel(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    lib_gen(dir, "G", 64, 12, 3, 6, 7);
    pool *pp[2];
    pool_env *ee[2];
    uint64_t bytes[2];
    for (int k = 0; k < 2; k++) {
        find__build_helpers = k ? 3 : 0;
        pp[k] = pool_make(dir, 1, 0, POOL_STALE_STAT);
        const char *imp[] = {"G"};
        pool_error err;
        assert_int_equal(pool_acquire(pp[k], imp, 1, 0, &ee[k], &err), 0);
        if (k) { /* cancelled before it starts: nothing built, the cancel counted once */
            pool_find_ctl ctl;
            memset(&ctl, 0, sizeof ctl);
            atomic_store(&ctl.cancel, true);
            assert_int_equal(pool_env_find_prepare(ee[k], POOL_FIND_TYPES, &ctl, &err), POOL_ECANCELLED);
        }
        pool_find_ctl ctl;
        memset(&ctl, 0, sizeof ctl);
        assert_int_equal(pool_env_find_prepare(ee[k], POOL_FIND_TYPES, &ctl, &err), 0);
        assert_int_equal(atomic_load(&ctl.loaded), atomic_load(&ctl.total));
        assert_int_equal(atomic_load(&ctl.total), pool_env_module_count(ee[k]));
        pool_stats st;
        pool_stats_get(pp[k], &st);
        assert_int_equal(st.find_index_builds, pool_env_module_count(ee[k]));
        assert_int_equal(st.find_index_cancelled, k ? 1 : 0);
        bytes[k] = st.find_index_bytes;
    }
    find__build_helpers = -1;
    assert_int_equal(bytes[0], bytes[1]);
    /* every 7th constant as a query: the same pages from both */
    uint64_t cur = 0;
    pool_const_ref ref;
    unsigned n = 0, checked = 0;
    ln_buf b;
    ln_buf_init(&b, 4096);
    while (pool_env_next(ee[0], &cur, &ref) == 1) {
        if (n++ % 7)
            continue;
        ln_buf_reset(&b);
        assert_int_equal(ln_name_format(pool_env_ln_module(ee[0], ref.module), ref.name, &b, NULL), 0);
        if (strpbrk(ln_buf_cstr(&b), "«»"))
            continue;
        bf_set r0 = {0}, r1 = {0};
        all_pages(ee[0], ln_buf_cstr(&b), &r0);
        all_pages(ee[1], ln_buf_cstr(&b), &r1);
        assert_int_equal(r0.n, r1.n);
        for (size_t i = 0; i < r0.n; i++)
            assert_string_equal(r0.names[i], r1.names[i]);
        assert_true(r0.n >= 1); /* the constant itself */
        bf_free(&r0);
        bf_free(&r1);
        checked++;
    }
    ln_buf_deinit(&b);
    assert_true(checked > 50);
    for (int k = 0; k < 2; k++) {
        pool_release(pp[k], ee[k], NULL);
        pool_free(pp[k]);
    }
    tmpdir_remove(dir);
}

static void check_sample(const char *path)
{
    /* root and module name from the path: .../lib[/lean]/A/B.olean, or the file's directory */
    char root[4096], module[1024];
    const char *cut = strstr(path, "/lib/lean/");
    size_t skip = 10;
    if (!cut) {
        cut = strstr(path, "/lib/");
        skip = 5;
    }
    const char *rel;
    if (cut) {
        snprintf(root, sizeof root, "%.*s", (int)(cut - path + (ptrdiff_t)skip - 1), path);
        rel = cut + skip;
    } else {
        const char *slash = strrchr(path, '/');
        snprintf(root, sizeof root, "%.*s", (int)(slash - path), path);
        rel = slash + 1;
    }
    snprintf(module, sizeof module, "%.*s", (int)(strlen(rel) - 6), rel);
    for (char *c = module; *c; c++)
        if (*c == '/')
            *c = '.';
    pool *p = pool_make(root, 1, 0, POOL_STALE_STAT);
    const char *imps[] = {module};
    pool_env *e;
    pool_error err;
    if (pool_acquire(p, imps, 1, POOL_PARTIAL, &e, &err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err.reason);
        fail();
    }
    /* brute force: every visible constant and the constants of its type */
    size_t nd = 0, capd = 0;
    bf_decl *ds = NULL;
    bf_set universe = {0};
    uint64_t cursor = 0;
    pool_const_ref ref;
    while (pool_env_next(e, &cursor, &ref) == 1) {
        const ln_module *m = pool_env_ln_module(e, ref.module);
        ln_const c;
        if (ln_const_decode(m, ref.info, &c, NULL))
            continue;
        if (nd == capd) {
            capd = capd ? capd * 2 : 64;
            ds = mem_try_realloc(ds, capd * sizeof *ds);
        }
        char buf[1024];
        assert_int_equal(ln_name_to_cstr(m, ref.name, buf, sizeof buf, NULL, NULL), 0);
        ds[nd].name = mem_strdup(buf);
        memset(&ds[nd].consts, 0, sizeof ds[nd].consts);
        bf_seen seen = {0};
        bf_walk(m, c.type, &ds[nd].consts, &seen, 0);
        mem_free(seen.w);
        for (size_t k = 0; k < ds[nd].consts.n && universe.n < 40; k++) {
            pool_const_ref r2;
            const char *cn = ds[nd].consts.names[k];
            if (pool_env_lookup(e, cn, strlen(cn), &r2) == 0)
                bf_add(&universe, cn);
        }
        nd++;
    }
    /* constant queries (single, and pairs), string queries, mixed */
    const char *strings[] = {"a", "_", "eq", "Nat", "mk", "x"};
    for (size_t qi = 0; qi < universe.n + 6 + (universe.n ? 2 : 0); qi++) {
        char query[2100];
        const char *c1 = NULL, *c2 = NULL, *s1 = NULL;
        if (qi < universe.n) {
            c1 = universe.names[qi];
            snprintf(query, sizeof query, "%s", c1);
        } else if (qi < universe.n + 6) {
            s1 = strings[qi - universe.n];
            snprintf(query, sizeof query, "\"%s\"", s1);
        } else if (qi == universe.n + 6) {
            c1 = universe.names[0];
            c2 = universe.names[universe.n - 1];
            snprintf(query, sizeof query, "%s, %s", c1, c2);
        } else {
            c1 = universe.names[universe.n / 2];
            s1 = "e";
            snprintf(query, sizeof query, "%s, \"e\"", c1);
        }
        /* names with «» escapes would need quoting in a query: skip them */
        if ((c1 && strstr(c1, "«")) || (c2 && strstr(c2, "«")))
            continue;
        bf_set want = {0}, got = {0};
        for (size_t d = 0; d < nd; d++) {
            bool ok = true;
            if (c1)
                ok &= bf_has(&ds[d].consts, c1) || !strcmp(ds[d].name, c1);
            if (c2)
                ok &= bf_has(&ds[d].consts, c2) || !strcmp(ds[d].name, c2);
            if (s1)
                ok &= ci_has(ds[d].name, s1);
            if (ok)
                bf_add(&want, ds[d].name);
        }
        all_pages(e, query, &got);
        if (want.n != got.n) {
            fprintf(stderr, "%s: query %s: brute force %zu, find %zu\n", path, query, want.n, got.n);
            fail();
        }
        for (size_t k = 0; k < want.n; k++)
            if (!bf_has(&got, want.names[k])) {
                fprintf(stderr, "%s: query %s: find misses %s\n", path, query, want.names[k]);
                fail();
            }
        bf_free(&want);
        bf_free(&got);
    }
    for (size_t d = 0; d < nd; d++) {
        mem_free(ds[d].name);
        bf_free(&ds[d].consts);
    }
    mem_free(ds);
    bf_free(&universe);
    pool_release(p, e, NULL);
    pool_free(p);
}

static void test_samples_brute_force(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    for (size_t i = 0; i < n; i++)
        check_sample(paths[i]);
    samples_free(paths, n);
}

TEST_MAIN("test_find",
          cmocka_unit_test(test_parse_filters),
          cmocka_unit_test(test_parse_terms),
          cmocka_unit_test(test_parse_errors),
          cmocka_unit_test_setup_teardown(test_find_constants, setup, teardown),
          cmocka_unit_test_setup_teardown(test_find_patterns, setup, teardown),
          cmocka_unit_test_setup_teardown(test_rank_and_pages, setup, teardown),
          cmocka_unit_test_setup_teardown(test_prepare_cancel, setup, teardown),
          cmocka_unit_test(test_prepare_parallel),
          cmocka_unit_test_setup_teardown(test_deps, setup, teardown),
          cmocka_unit_test(test_samples_brute_force))
