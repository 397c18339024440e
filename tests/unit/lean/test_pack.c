/*
 * tests/unit/lean/test_pack.c — ln_pack on the example library and on small
 * texts: every packed module passes the reader's validation and lean/'s
 * decoders, every Expr/Level/Name carries the data Lean would compute,
 * every constant type prints and parses back to the same data, derived
 * constructors and recursors are where Lean puts them, packing is
 * deterministic, and errors point at file:line:column.
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

#include <cmocka.h>

#include "lean/data.h"
#include "lean/lean.h"
#include "lean/pack.h"
#include "lean/parse.h"
#include "region/compactor.h"
#include "region/heap.h"
#include "region/region.h"
#include "tests/support/packtest.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Every Expr reachable from the constants: stored data = computed data. */
static uint64_t check_module(const ln_module *m)
{
    uint64_t nodes = 0;
    region_error err;
    ln_buf buf;
    ln_buf_init(&buf, 1 << 20);
    for (uint64_t i = 0; i < m->nconstants; i++) {
        ln_const c;
        assert_int_equal(ln_module_const(m, i, &c, &err), 0);
        lx_word stack[8192];
        size_t n = 0;
        stack[n++] = c.type;
        if (c.value)
            stack[n++] = c.value;
        if (c.kind == LN_REC) {
            lx_word cur = c.rules, h;
            while (ln_list_next(m, &cur, &h, &err) == 1) {
                ln_rec_rule rr;
                assert_int_equal(ln_rec_rule_view(m, h, &rr, &err), 0);
                stack[n++] = rr.rhs;
            }
        }
        while (n) {
            lx_word w = stack[--n];
            uint64_t stored, computed;
            assert_int_equal(ln_data_expr_stored(&m->sp, w, &stored), 0);
            assert_int_equal(ln_data_expr_compute(&m->sp, w, &computed), 0);
            assert_int_equal(stored, computed);
            nodes++;
            const uint8_t *o = lx_obj(&m->sp, w);
            unsigned t = lx_tag(o);
            unsigned first = t == 5 ? 0 : (t >= 6 && t <= 8) ? 1 : t == 11 ? 2 : 99;
            for (unsigned k = first; k < lx_ctor_num_objs(o) && n < 8190; k++)
                stack[n++] = lx_ctor_get(o, k);
        }
        /* print, parse back: same data */
        ln_buf_reset(&buf);
        assert_int_equal(ln_expr_format(m, c.type, &buf, &err), 0);
        lx_word e;
        if (ln_expr_parse(buf.data, buf.len, &e, &err))
            fail_msg("parse back '%s': %s", buf.data, err.reason);
        uint64_t a, b;
        assert_int_equal(ln_data_expr_stored(&m->sp, c.type, &a), 0);
        assert_int_equal(ln_data_expr_stored(&LX_HEAP_SPACE, e, &b), 0);
        assert_int_equal(a, b);
        lx_unref(e);
    }
    ln_buf_deinit(&buf);
    return nodes;
}

static void test_example_library(void **state)
{
    (void)state;
    ln_pack *pk = ln_pack_new(), *pk2 = ln_pack_new();
    uint64_t total = 0, nodes = 0;
    for (size_t i = 0; i < (size_t)PACKTEST_NEXAMPLES; i++) {
        char path[256];
        size_t tlen, len, len2;
        uint8_t *text = packtest_example_text(packtest_examples[i], path, sizeof path, &tlen);
        ln_pack_header h;
        region_error err;
        assert_int_equal(ln_pack_scan(path, (const char *)text, tlen, &h, &err), 0);
        assert_string_equal(h.module, packtest_examples[i]);
        ln_pack_header_free(&h);
        uint64_t nc;
        uint8_t *img = packtest_image(pk, path, (const char *)text, tlen, packtest_examples[i], &len, &nc);
        uint8_t *img2 = packtest_image(pk2, path, (const char *)text, tlen, packtest_examples[i], &len2, &nc);
        assert_int_equal(len, len2); /* deterministic */
        assert_memory_equal(img, img2, len);
        total += nc;

        region *r = packtest_open(img, len, path);
        assert_int_equal(region_get_info(r)->base, region_module_base(packtest_examples[i]));
        ln_module m;
        assert_int_equal(ln_module_open(r, &m, &err), 0);
        assert_int_equal(m.era, LN_ERA_MODULE);
        assert_int_equal(m.nconstants, nc);
        nodes += check_module(&m);
        region_close(r);
        mem_free(img);
        mem_free(img2);
        mem_free(text);
    }
    print_message("example library: %llu constants, %llu Expr nodes checked\n", (unsigned long long)total,
                  (unsigned long long)nodes);
    assert_true(total >= 150);
    ln_pack_free(pk);
    ln_pack_free(pk2);
    assert_int_equal(mem_live_total(), 0);
}

/* The derived constants of an inductive type, as Lean names and numbers them. */
static void test_inductive_derivation(void **state)
{
    (void)state;
    static const char text[] =
        "module T\n"
        "inductive Nat : Type\n"
        "  | zero : Nat\n"
        "  | succ (n : Nat) : Nat\n"
        "/-- a doc -/\n"
        "inductive Vec.{u} (α : Type u) : Nat → Type u\n"
        "  | nil : Vec.{u} α Nat.zero\n"
        "  | cons (n : Nat) (a : α) (v : Vec.{u} α n) : Vec.{u} α (Nat.succ n)\n";
    ln_pack *pk = ln_pack_new();
    size_t len;
    uint64_t nc;
    uint8_t *img = packtest_image(pk, "t.txt", text, sizeof text - 1, "T", &len, &nc);
    assert_int_equal(nc, 8); /* Nat, 2 ctors, rec; Vec, 2 ctors, rec */
    region *r = packtest_open(img, len, "t");
    region_error err;
    ln_module m;
    assert_int_equal(ln_module_open(r, &m, &err), 0);
    static const char *const names[] = {"Nat", "Nat.zero", "Nat.succ", "Nat.rec",
                                        "Vec", "Vec.nil", "Vec.cons", "Vec.rec"};
    static const enum ln_const_kind kinds[] = {LN_INDUCT, LN_CTOR, LN_CTOR, LN_REC, LN_INDUCT, LN_CTOR, LN_CTOR, LN_REC};
    for (uint64_t i = 0; i < 8; i++) {
        ln_const c;
        assert_int_equal(ln_module_const(&m, i, &c, &err), 0);
        bool eq;
        assert_int_equal(ln_name_eq_text(&m, c.name, names[i], strlen(names[i]), &eq, &err), 0);
        assert_true(eq);
        assert_int_equal(c.kind, kinds[i]);
        if (i == 4) {
            assert_int_equal(c.num_params, 1);
            assert_int_equal(c.num_indices, 1);
            assert_true(c.is_rec);
        }
        if (i == 6) {
            assert_int_equal(c.cidx, 1);
            assert_int_equal(c.num_params, 1);
            assert_int_equal(c.num_fields, 3);
        }
        if (i == 7) {
            assert_int_equal(c.num_motives, 1);
            assert_int_equal(c.num_minors, 2);
            assert_int_equal(c.num_indices, 1);
            uint64_t nlp;
            assert_int_equal(ln_list_length(&m, c.level_params, &nlp, &err), 0);
            assert_int_equal(nlp, 2); /* u_1 (elimination), u */
            ln_buf b;
            ln_buf_init(&b, 1 << 16);
            assert_int_equal(ln_const_format_header(&m, &c, &b, &err), 0);
            assert_string_equal(b.data, "Vec.rec.{u_1, u}");
            ln_buf_reset(&b);
            assert_int_equal(ln_expr_format(&m, c.type, &b, &err), 0);
            assert_non_null(strstr(b.data, "motive n v \xe2\x86\x92 motive (Nat.succ n) (Vec.cons.{u} \xce\xb1 n a v)"));
            ln_buf_deinit(&b);
        }
    }
    check_module(&m);
    region_close(r);
    mem_free(img);
    ln_pack_free(pk);
    assert_int_equal(mem_live_total(), 0);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } cases[] = {
        {"module M\naxiom a : Nat\n", "t.txt:2:11: unknown constant 'Nat'"},
        {"module M\naxiom T : Type\naxiom b.{u} : Sort v\n", "t.txt:3:20: unknown universe 'v'"},
        {"module M\naxiom T : Type\ndef f : T\n", "t.txt:3:1: a def needs a value"},
        {"module M\naxiom T : Type\naxiom x : (T\n", "t.txt:3:13: expected ')'"},
        {"  indented\nmodule M\n", "t.txt:1:3: indented line outside a declaration"},
        {"module M\nlemma x : T\n", "t.txt:2:1: expected module, import"},
        {"module M\naxiom T : Type\ninductive I : Type\n  | mk : T\n", "t.txt:4:9: the result type must be I"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ln_pack *pk = ln_pack_new();
        lx_word root;
        region_error err;
        int rc = ln_pack_build(pk, "t.txt", cases[i].text, strlen(cases[i].text), &root, NULL, &err);
        if (rc == 0)
            fail_msg("case %zu packed", i);
        if (!strstr(err.reason, cases[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, err.reason, cases[i].want);
        ln_pack_free(pk);
    }
    /* Headers: module first; imports listed. */
    ln_pack_header h;
    region_error err;
    assert_int_equal(ln_pack_scan("t.txt", "import A\n", 9, &h, &err), LN_EINVAL);
    assert_non_null(strstr(err.reason, "t.txt:1:1"));
    assert_int_equal(ln_pack_scan("t.txt", "module X.Y\nimport A B\nimport C\n", 31, &h, &err), 0);
    assert_string_equal(h.module, "X.Y");
    assert_int_equal(h.nimports, 3);
    assert_string_equal(h.imports[2], "C");
    ln_pack_header_free(&h);
    assert_int_equal(mem_live_total(), 0);
}

/* Damaged texts (bytes replaced, deleted, duplicated) fail cleanly or pack:
 * never a crash, never a leak. Deterministic (fixed seed). */
static void test_damaged_texts(void **state)
{
    (void)state;
    static const char pieces[][4] = {"(", ")", "{", "}", "[", "]", ":", ":=", ",", "|", ".", ".{", " ", "\n",
                                     "\xe2\x88\x80", "\xe2\x86\x92", "#", "?", "0", "\"", "\xc2\xab", "=>"};
    uint64_t seed = 0x9e3779b97f4a7c15ull, ok = 0, failed = 0;
    for (size_t f = 0; f < (size_t)PACKTEST_NEXAMPLES; f++) {
        char path[256];
        size_t len;
        uint8_t *text = packtest_example_text(packtest_examples[f], path, sizeof path, &len);
        char *buf = mem_alloc(len + 64);
        for (int round = 0; round < 60; round++) {
            memcpy(buf, text, len);
            size_t n = len;
            for (int k = 0; k < 3; k++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                size_t at = (size_t)(seed >> 33) % n;
                const char *pc = pieces[(seed >> 20) % (sizeof pieces / sizeof pieces[0])];
                size_t pl = strlen(pc);
                switch ((seed >> 8) % 3) {
                case 0: /* replace */
                    if (at + pl <= n)
                        memcpy(buf + at, pc, pl);
                    break;
                case 1: /* delete up to 5 bytes */
                    {
                        size_t d = 1 + (seed >> 40) % 5;
                        if (at + d <= n) {
                            memmove(buf + at, buf + at + d, n - at - d);
                            n -= d;
                        }
                    }
                    break;
                default: /* insert */
                    if (n + pl <= len + 60) {
                        memmove(buf + at + pl, buf + at, n - at);
                        memcpy(buf + at, pc, pl);
                        n += pl;
                    }
                    break;
                }
            }
            ln_pack *pk = ln_pack_new();
            /* the imports of the damaged module: everything before it */
            for (size_t g = 0; g < f; g++) {
                char ip[256];
                size_t il;
                uint8_t *it = packtest_example_text(packtest_examples[g], ip, sizeof ip, &il);
                lx_word r;
                region_error e;
                assert_int_equal(ln_pack_build(pk, ip, (const char *)it, il, &r, NULL, &e), 0);
                lx_unref(r);
                mem_free(it);
            }
            lx_word root;
            region_error err;
            if (ln_pack_build(pk, path, buf, n, &root, NULL, &err) == 0) {
                ok++;
                lx_unref(root);
            } else {
                failed++;
                assert_non_null(strstr(err.reason, path));
            }
            ln_pack_free(pk);
            assert_int_equal(mem_live(MEM_OBJECTS), 0);
        }
        mem_free(buf);
        mem_free(text);
    }
    print_message("damaged texts: %llu packed, %llu refused\n", (unsigned long long)ok, (unsigned long long)failed);
    assert_true(failed > 0);
    assert_int_equal(mem_live_total(), 0);
}

/*
 * A universe expression whose every `max` keeps a pending branch: checking it
 * needs a stack as deep as the expression, and an undeclared universe at the
 * bottom must still be found (a fixed stack used to skip what did not fit).
 */
static void test_deep_universe_checked(void **state)
{
    (void)state;
    enum { DEPTH = 300 };
    size_t cap = 64 + DEPTH * 24;
    char *text = mem_alloc(cap);
    size_t n = (size_t)snprintf(text, cap, "module M\naxiom b.{u} : Sort ");
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)snprintf(text + n, cap - n, "(max (u + 1) ");
    n += (size_t)snprintf(text + n, cap - n, "v");
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)snprintf(text + n, cap - n, ")");
    n += (size_t)snprintf(text + n, cap - n, "\n");
    ln_pack *pk = ln_pack_new();
    lx_word root;
    region_error err;
    assert_int_not_equal(ln_pack_build(pk, "t.txt", text, n, &root, NULL, &err), 0);
    assert_non_null(strstr(err.reason, "unknown universe 'v'"));
    ln_pack_free(pk);
    mem_free(text);
    assert_int_equal(mem_live_total(), 0);
}

/*
 * Every allocation of a build made to fail in turn (mem_fail_after): each
 * failure is reported as -ENOMEM, never as a parse error, and leaves nothing
 * behind; once no allocation fails the module is the one built without
 * injection. The text has every kind of statement, doc comments, universes,
 * indices and recursive fields, and enough statements to grow every vector
 * (the statement list once leaked its old block when a growth failed).
 */
static void test_allocation_failures(void **state)
{
    (void)state;
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text,
        "module M\n"
        "/-- Naturals. -/\n"
        "inductive N : Type\n"
        "  | zero : N\n"
        "  | succ (n : N) : N\n"
        "inductive Vec.{u} (α : Type u) : N → Type u\n"
        "  | nil : Vec.{u} α N.zero\n"
        "  | cons (n : N) (x : α) (xs : Vec.{u} α n) : Vec.{u} α (N.succ n)\n"
        "inductive True : Prop\n"
        "  | intro : True\n"
        "/-- Two. -/\n"
        "def N.two : N := N.succ (N.succ N.zero)\n"
        "def N.id (n : N) : N := n\n"
        "theorem T.t (n : N) : True\n"
        "axiom A.{u} : Sort u\n"
        "opaque N.o : N := N.two\n");
    for (int i = 0; i < 80; i++) /* past the 64 statements the old list started with */
        n += (size_t)snprintf(text + n, sizeof text - n, "def d%d (a : N) : N := N.succ (N.id a)\n", i);
    int64_t base = mem_live_total();
    /* the reference build */
    ln_pack *pk = ln_pack_new();
    lx_word ref;
    region_error err;
    uint64_t nref = 0;
    assert_int_equal(ln_pack_build(pk, "t.txt", text, n, &ref, &nref, &err), 0);
    ln_pack_free(pk);
    int64_t with_ref = mem_live_total();
    int failures = 0;
    for (int64_t k = 0;; k++) {
        pk = ln_pack_new();
        lx_word root;
        uint64_t nc = 0;
        mem_fail_after(k);
        int rc = ln_pack_build(pk, "t.txt", text, n, &root, &nc, &err);
        int64_t refused = mem_fail_count();
        mem_fail_after(-1);
        ln_pack_free(pk);
        if (rc == 0) {
            assert_int_equal(nc, nref);
            lx_unref(root);
            if (refused == 0)
                break;
        } else {
            if (rc != -ENOMEM)
                fail_msg("allocation %lld refused: %d (%s), not -ENOMEM", (long long)k, rc, err.reason);
            assert_true(refused > 0);
            failures++;
        }
        assert_int_equal(mem_live_total(), with_ref); /* nothing left by the failed build */
        assert_true(k < 100000);
    }
    assert_true(failures > 50); /* the text really allocates that often */
    lx_unref(ref);
    assert_int_equal(mem_live_total(), base);
}

TEST_MAIN("test_pack",
          cmocka_unit_test(test_example_library),
          cmocka_unit_test(test_inductive_derivation),
          cmocka_unit_test(test_errors),
          cmocka_unit_test(test_deep_universe_checked),
          cmocka_unit_test(test_allocation_failures),
          cmocka_unit_test(test_damaged_texts))
