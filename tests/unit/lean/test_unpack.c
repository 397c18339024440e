/*
 * tests/unit/lean/test_unpack.c — ln_unpack, a module written back as a text
 * module: the exact text for a module that uses every declaration kind and
 * the syntax that matters for bytes (named arrows, binders before the colon
 * only where the value repeats them, inductive parameters and fields, doc
 * comments, theorems without a proof, projections, let, literals); packing
 * that text gives the same bytes, for it and for every example module; every
 * sample written by Lean unpacks, with what the format cannot say named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lean/lean.h"
#include "lean/pack.h"
#include "tests/support/packtest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Packs text, unpacks it, packs the result with a fresh session: same bytes. Returns the unpacked text (new). */
static char *round_trip(ln_pack *pk, ln_pack *pk2, const char *module, const char *text, size_t len)
{
    size_t ilen, ilen2;
    uint64_t nc, nc2;
    uint8_t *img = packtest_image(pk, module, text, len, module, &ilen, &nc);
    region *r = packtest_open(img, ilen, module);
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 1 << 24);
    if (ln_unpack(&m, module, 0, &out, &err) != 0)
        fail_msg("unpack %s: %s", module, err.reason);
    uint8_t *img2 = packtest_image(pk2, module, out.data, out.len, module, &ilen2, &nc2);
    if (ilen != ilen2 || memcmp(img, img2, ilen))
        fail_msg("%s: unpacked text packs to other bytes (%zu vs %zu):\n%s", module, ilen, ilen2, out.data);
    assert_int_equal(nc, nc2);
    char *copy = mem_alloc(out.len + 1);
    memcpy(copy, out.data, out.len + 1);
    ln_buf_deinit(&out);
    region_close(r);
    mem_free(img);
    mem_free(img2);
    return copy;
}

static void test_module_text(void **state)
{
    (void)state;
    static const char src[] =
        "module T\n"
        "axiom String : Type\n"
        "inductive Nat : Type\n"
        "  | zero : Nat\n"
        "  | succ (n : Nat) : Nat\n"
        "/-- Pairs.\n"
        "  Two lines. -/\n"
        "inductive Prod.{u, v} (\xce\xb1 : Type u) (\xce\xb2 : Type v) : Type (max u v)\n"
        "  | mk (fst : \xce\xb1) (snd : \xce\xb2) : Prod.{u, v} \xce\xb1 \xce\xb2\n"
        "inductive Le (n : Nat) : Nat \xe2\x86\x92 Prop\n"
        "  | refl : Le n n\n"
        "  | step \xe2\xa6\x83m : Nat\xe2\xa6\x84 (h : Le n m) : Le n (Nat.succ m)\n"
        "axiom Class.{u} (\xce\xb1 : Type u) : Type u\n"
        "def fst.{u, v} {\xce\xb1 : Type u} {\xce\xb2 : Type v} (p : Prod.{u, v} \xce\xb1 \xce\xb2) : \xce\xb1 := p.Prod.1\n"
        "def succ' : Nat \xe2\x86\x92 Nat := Nat.succ\n"
        "def twice (f : Nat \xe2\x86\x92 Nat) (x : Nat) : Nat := let y : Nat := f x; f y\n"
        "theorem le_step (n : Nat) (m : Nat) (h : Le n m) : Le n (Nat.succ m) := Le.step n m h\n"
        "-- binders after the colon: written before it, the same Expr\n"
        "theorem le_self {a : Nat} (h : Le a a) : (h2 : Le a a) \xe2\x86\x92 Le a a\n"
        "def inst_arrow.{u} (\xce\xb1 : Type u) : [inst : Class.{u} \xce\xb1] \xe2\x86\x92 \xce\xb1 \xe2\x86\x92 \xce\xb1 := "
        "fun [inst : Class.{u} \xce\xb1] (a : \xce\xb1) => a\n"
        "def other_names (n : Nat) : Nat \xe2\x86\x92 Nat := fun (k : Nat) => Nat.succ n\n"
        "axiom named_inside (f : (x : Nat) \xe2\x86\x92 Nat) : Nat \xe2\x86\x92 (h : Nat) \xe2\x86\x92 Nat\n"
        "opaque secret : Nat := Nat.zero\n"
        "def big : Nat := 18446744073709551616\n"
        "def s : String := \"a\\\"b\\n\"\n";
    static const char want[] =
        "module T\n"
        "\n"
        "axiom String : Type\n"
        "\n"
        "inductive Nat : Type\n"
        "  | zero : Nat\n"
        "  | succ (n : Nat) : Nat\n"
        "\n"
        "/-- Pairs.\n"
        "  Two lines. -/\n"
        "inductive Prod.{u, v} (\xce\xb1 : Type u) (\xce\xb2 : Type v) : Type (max u v)\n"
        "  | mk (fst : \xce\xb1) (snd : \xce\xb2) : Prod.{u, v} \xce\xb1 \xce\xb2\n"
        "\n"
        "inductive Le (n : Nat) : Nat \xe2\x86\x92 Prop\n"
        "  | refl : Le n n\n"
        "  | step \xe2\xa6\x83m : Nat\xe2\xa6\x84 (h : Le n m) : Le n (Nat.succ m)\n"
        "\n"
        "axiom Class.{u} (\xce\xb1 : Type u) : Type u\n"
        "def fst.{u, v} {\xce\xb1 : Type u} {\xce\xb2 : Type v} (p : Prod.{u, v} \xce\xb1 \xce\xb2) : \xce\xb1 := p.Prod.1\n"
        "def succ' : Nat \xe2\x86\x92 Nat := Nat.succ\n"
        "def twice (f : Nat \xe2\x86\x92 Nat) (x : Nat) : Nat := let y : Nat := f x; f y\n"
        "theorem le_step (n : Nat) (m : Nat) (h : Le n m) : Le n (Nat.succ m) := Le.step n m h\n"
        "theorem le_self {a : Nat} (h : Le a a) (h2 : Le a a) : Le a a\n"
        "def inst_arrow.{u} (\xce\xb1 : Type u) [inst : Class.{u} \xce\xb1] : \xce\xb1 \xe2\x86\x92 \xce\xb1 := fun (a : \xce\xb1) => a\n"
        "def other_names (n : Nat) : Nat \xe2\x86\x92 Nat := fun (k : Nat) => Nat.succ n\n"
        "axiom named_inside (f : (x : Nat) \xe2\x86\x92 Nat) : Nat \xe2\x86\x92 (h : Nat) \xe2\x86\x92 Nat\n"
        "opaque secret : Nat := Nat.zero\n"
        "def big : Nat := 18446744073709551616\n"
        "def s : String := \"a\\\"b\\n\"\n";
    ln_pack *pk = ln_pack_new(), *pk2 = ln_pack_new();
    char *text = round_trip(pk, pk2, "T", src, sizeof src - 1);
    if (strcmp(text, want))
        fail_msg("got:\n%s", text);
    mem_free(text);

    /* An expression over the per-expression limit fails the module, never a cut text. */
    ln_pack *pk3 = ln_pack_new();
    size_t ilen;
    uint64_t nc;
    uint8_t *img = packtest_image(pk3, "T", src, sizeof src - 1, "T", &ilen, &nc);
    region *r = packtest_open(img, ilen, "T");
    ln_module m;
    region_error err;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    ln_buf out;
    ln_buf_init(&out, 0);
    assert_int_equal(ln_unpack(&m, "T", 16, &out, &err), LN_ETOOBIG);
    assert_int_equal(err.code, LN_ETOOBIG);
    ln_buf_deinit(&out);
    region_close(r);
    mem_free(img);
    ln_pack_free(pk3);
    ln_pack_free(pk);
    ln_pack_free(pk2);
    assert_int_equal(mem_live_total(), 0);
}

/* Every example module: text → pack → unpack → pack gives the same bytes. */
static void test_example_library(void **state)
{
    (void)state;
    ln_pack *pk = ln_pack_new(), *pk2 = ln_pack_new();
    size_t n = PACKTEST_NEXAMPLES;
    for (size_t i = 0; i < n; i++) {
        char path[256];
        size_t len;
        uint8_t *src = packtest_example_text(packtest_examples[i], path, sizeof path, &len);
        char *text = round_trip(pk, pk2, packtest_examples[i], (const char *)src, len);
        mem_free(text);
        mem_free(src);
    }
    print_message("unpack: %zu example modules re-pack byte for byte\n", n);
    ln_pack_free(pk);
    ln_pack_free(pk2);
    assert_int_equal(mem_live_total(), 0);
}

/* Files written by Lean: every one unpacks; what pack cannot say is named. */
static void test_samples(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths), notes = 0, decls = 0;
    for (size_t f = 0; f < n; f++) {
        ln_module m;
        region_error err;
        region *r = sample_module(paths[f], &m);
        ln_buf out;
        ln_buf_init(&out, 1 << 26);
        if (ln_unpack(&m, "Sample", 0, &out, &err) != 0)
            fail_msg("%s: %s", paths[f], err.reason);
        assert_true(strncmp(out.data, "module Sample\n", 14) == 0);
        for (const char *p = out.data; (p = strstr(p, "\n-- envpool: ")); p++)
            notes++;
        for (const char *p = out.data; (p = strstr(p, "\ndef ")); p++)
            decls++;
        ln_buf_deinit(&out);
        region_close(r);
    }
    print_message("unpack: %zu samples, %zu definitions, %zu notes on what the format cannot say\n", n, decls,
                  notes);
    assert_true(decls > 0 && notes > 0);
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_unpack",
          cmocka_unit_test(test_module_text),
          cmocka_unit_test(test_example_library),
          cmocka_unit_test(test_samples))
