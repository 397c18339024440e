/*
 * tests/unit/region/test_reader.c — region_open / region_open_buffers on the real
 * samples, on hand-made regions and on files damaged in specific ways.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "region/region.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static int open_buf(const uint8_t *buf, size_t len, region **r, region_error *err)
{
    return region_open_buffers(&buf, &len, 1, "test.olean", r, err);
}

/* ---- a tiny v2 region builder ----------------------------------------- */

typedef struct builder {
    uint8_t  buf[4096];
    size_t   len;
    uint64_t base;
} builder;

static void b_init(builder *b, uint64_t base)
{
    memset(b, 0, sizeof *b);
    memcpy(b->buf, "olean", 5);
    b->buf[5] = 2;
    b->buf[6] = 1;
    memcpy(b->buf + 7, "4.29.1", 6);
    memcpy(b->buf + 40, "0123456789abcdef0123456789abcdef01234567", 40);
    wr64(b->buf + 80, base);
    b->base = base;
    b->len = 96; /* header + root slot */
}

/* Appends a constructor with the given pointer words and scalar bytes; returns its word. */
static uint64_t b_ctor(builder *b, uint8_t tag, unsigned nptr, const uint64_t *ptrs, unsigned scalars)
{
    uint8_t *o = b->buf + b->len;
    size_t sz = 8 + 8 * nptr + scalars;
    sz = (sz + 7) & ~(size_t)7;
    wr32(o, 0);
    o[4] = (uint8_t)sz;
    o[5] = (uint8_t)(sz >> 8);
    o[6] = (uint8_t)nptr;
    o[7] = tag;
    for (unsigned i = 0; i < nptr; i++)
        wr64(o + 8 + 8 * i, ptrs[i]);
    uint64_t w = b->base + b->len;
    b->len += sz;
    return w;
}

static uint64_t b_string(builder *b, const char *s)
{
    uint8_t *o = b->buf + b->len;
    size_t n = strlen(s) + 1;
    o[4] = 1;
    o[7] = LX_TAG_STRING;
    wr64(o + 8, n);
    wr64(o + 16, n);
    wr64(o + 24, n - 1);
    memcpy(o + 32, s, n);
    uint64_t w = b->base + b->len;
    b->len += (32 + n + 7) & ~(size_t)7;
    return w;
}

static void b_root(builder *b, uint64_t w) { wr64(b->buf + 88, w); }

/* ---- samples ----------------------------------------------------------- */

static void test_every_sample_validates(void **state)
{
    (void)state;
    char **paths;
    size_t n = samples_list(&paths);
    assert_true(n >= 24);
    for (size_t i = 0; i < n; i++) {
        region *r = NULL;
        region_error err;
        int rc = region_open(paths[i], REGION_OPEN_PARTS, &r, &err);
        if (rc != 0) {
            char msg[1024];
            fail_msg("%s", region_error_format(&err, msg, sizeof msg));
        }
        const region_info *in = region_get_info(r);
        assert_true(in->objects > 0);
        /* The root is a ModuleData constructor, tag 0 with 3 or 5 pointer fields. */
        lx_space sp = region_space(r);
        const uint8_t *root = lx_obj(&sp, region_root(r));
        assert_int_equal(lx_tag(root), 0);
        assert_true(lx_ctor_num_objs(root) == 3 || lx_ctor_num_objs(root) == 5);

        /* The same bytes read from memory validate to the same object count. */
        size_t len;
        uint8_t *buf = read_file(paths[i], &len);
        region *rb = NULL;
        assert_int_equal(open_buf(buf, len, &rb, &err), 0);
        assert_int_equal(region_get_info(rb)->objects, in->objects);
        assert_int_equal(region_get_info(rb)->size, len);
        assert_false(region_get_info(rb)->mapped_at_base);
        region_close(rb);
        mem_free(buf);
        region_close(r);
    }
    samples_free(paths, n);
    assert_int_equal(mem_live_total(), 0);
}

static void test_headers_of_each_era(void **state)
{
    (void)state;
    static const struct {
        const char *rel;
        enum region_format format;
        const char *lean_version, *githash;
        uint64_t base, objects;
    } want[] = {
        {"signatures@3e21056/build/lib/Main.olean", REGION_V0, "", "", 0x2eb0183b0000, 298},
        {"CS-MathInLean@143a71d/build/lib/MyNatDef.olean", REGION_V0, "", "", 0x5e6729020000, 3999},
        {"pgraph@8af555c/.lake/build/lib/Main.olean", REGION_V1, "",
         "8f9843a4a5fe1b0c2f24c74097f296e2818771ee", 0x5a1ef5730000, 9339},
        {"zk-lean@3ca4245/.lake/build/lib/lean/ZkLean/Formalism.olean", REGION_V2, "4.18.0",
         "11ccbced796476be020459a83c599b301a765d3e", 0x482666370000, 1926},
        {"leaningIntoGroupTheory@8c707c5/.lake/build/lib/lean/Main.olean", REGION_V2, "4.29.1",
         "v4.29.1", 0x5a1ef5730000, 507},
        {"Lean_Playground@91b4961/.lake/build/lib/lean/Main.olean", REGION_V2, "4.30.0-rc1",
         "714601baf118066cbf3f282361339c6d06665b2a", 0x5a1ef5730000, 1701},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *p = sample_path(want[i].rel);
        region *r;
        region_error err;
        assert_int_equal(region_open(p, 0, &r, &err), 0);
        const region_info *in = region_get_info(r);
        assert_int_equal(in->format, want[i].format);
        assert_string_equal(in->lean_version, want[i].lean_version);
        assert_string_equal(in->githash, want[i].githash);
        assert_int_equal(in->base, want[i].base);
        assert_int_equal(in->objects, want[i].objects);
        assert_int_equal(in->nparts, 1);
        assert_string_equal(region_path(r), p);
        region_close(r);
        mem_free(p);
    }
    assert_int_equal(mem_live_total(), 0);
}

/* A region mapped at its base and one mapped elsewhere read the same root. */
static void test_fixed_and_relocated_mapping(void **state)
{
    (void)state;
    char *p = sample_path("zk-lean@3ca4245/.lake/build/lib/lean/ZkLean.olean");
    region *a, *b;
    region_error err;
    assert_int_equal(region_open(p, 0, &a, &err), 0);
    assert_int_equal(region_open(p, REGION_OPEN_NO_FIXED | REGION_OPEN_WILLNEED, &b, &err), 0);
    assert_true(region_get_info(a)->mapped_at_base); /* nothing else is at 0x3e077dd40000 */
    assert_false(region_get_info(b)->mapped_at_base);
    lx_space sa = region_space(a), sb = region_space(b);
    assert_int_equal(sa.delta, 0);
    const uint8_t *ra = lx_obj(&sa, region_root(a)), *rb = lx_obj(&sb, region_root(b));
    assert_int_equal(region_root(a), region_root(b));
    assert_memory_equal(ra, rb, lx_cs_sz(ra));
    assert_true(region_contains(b, rb));
    assert_false(region_contains(b, ra));
    assert_int_equal(region_word_of(b, rb), region_root(b));
    assert_int_equal(region_offset_of(b, region_root(b)) + region_get_info(b)->base, region_root(b));
    region_close(a);
    region_close(b);
    mem_free(p);
    assert_int_equal(mem_live(MEM_MAPPINGS), 0);
    assert_int_equal(mem_live_total(), 0);
}

/* ---- hand-made regions ------------------------------------------------- */

static void test_builder_region_validates(void **state)
{
    (void)state;
    builder b;
    b_init(&b, 0x100000000);
    uint64_t s = b_string(&b, "hello");
    uint64_t ptrs[2] = {lx_box(0), s};
    uint64_t name = b_ctor(&b, 1, 2, ptrs, 8);
    b_root(&b, name);
    region *r;
    region_error err;
    assert_int_equal(open_buf(b.buf, b.len, &r, &err), 0);
    assert_int_equal(region_get_info(r)->objects, 2);
    lx_space sp = region_space(r);
    const uint8_t *o = lx_obj(&sp, region_root(r));
    const uint8_t *str = lx_obj(&sp, lx_ctor_get(o, 1));
    assert_string_equal(lx_string_data(str), "hello");
    assert_int_equal(lx_string_len(str), 5);
    region_close(r);
    assert_int_equal(mem_live_total(), 0);
}

static void expect_corrupt(const uint8_t *buf, size_t len, uint64_t offset, const char *reason_part)
{
    region *r = (region *)0x1;
    region_error err;
    int rc = open_buf(buf, len, &r, &err);
    assert_int_equal(rc, REGION_ECORRUPT);
    assert_null(r);
    assert_int_equal(err.code, REGION_ECORRUPT);
    if (offset != UINT64_MAX)
        assert_int_equal(err.offset, offset);
    if (!strstr(err.reason, reason_part))
        fail_msg("reason '%s' lacks '%s'", err.reason, reason_part);
    assert_string_equal(err.path, "test.olean");
    assert_int_equal(mem_live_total(), 0);
}

static void test_rejects_bad_pointers(void **state)
{
    (void)state;
    builder b;
    b_init(&b, 0x100000000);
    uint64_t s = b_string(&b, "x");          /* at offset 96 */
    uint64_t fwd = b.base + b.len + 48;      /* a forward reference */
    uint64_t ptrs[2] = {s, fwd};
    uint64_t c = b_ctor(&b, 0, 2, ptrs, 0);  /* at offset 136, slot 1 at 152 */
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 152, "does not target an earlier object");

    ptrs[1] = s + 8; /* into the middle of the string */
    b_init(&b, 0x100000000);
    s = b_string(&b, "x");
    ptrs[0] = s;
    ptrs[1] = s + 8;
    c = b_ctor(&b, 0, 2, ptrs, 0);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 152, "does not target the start of an object");

    b_init(&b, 0x100000000);
    s = b_string(&b, "x");
    ptrs[0] = s;
    ptrs[1] = 0x50; /* below the base */
    c = b_ctor(&b, 0, 2, ptrs, 0);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 152, "does not target an earlier object");

    /* An object pointing at itself: a cycle. */
    b_init(&b, 0x100000000);
    ptrs[0] = b.base + b.len;
    c = b_ctor(&b, 0, 1, ptrs, 0);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 104, "does not target an earlier object");
}

static void test_rejects_bad_objects(void **state)
{
    (void)state;
    builder b;
    uint64_t ptrs[1];

    /* A closure. */
    b_init(&b, 0x100000000);
    ptrs[0] = lx_box(1);
    uint64_t c = b_ctor(&b, 0, 1, ptrs, 0);
    b.buf[96 + 7] = LX_TAG_CLOSURE;
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 103, "closure");

    /* A reference count. */
    b_init(&b, 0x100000000);
    c = b_ctor(&b, 0, 1, ptrs, 0);
    wr32(b.buf + 96, 1);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 96, "reference count 1");

    /* A constructor size that cannot hold its pointers. */
    b_init(&b, 0x100000000);
    c = b_ctor(&b, 0, 1, ptrs, 0);
    b.buf[96 + 6] = 9;
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 100, "does not fit 9 pointer fields");

    /* A string without its NUL. */
    b_init(&b, 0x100000000);
    c = b_string(&b, "abcdef");
    b.buf[96 + 32 + 6] = 'g';
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 96 + 32 + 6, "not NUL-terminated");

    /* A string size far beyond the file. */
    b_init(&b, 0x100000000);
    c = b_string(&b, "abc");
    wr64(b.buf + 96 + 8, UINT64_MAX - 3);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len, 104, "does not fit in the file");

    /* Truncated in the middle of an object. */
    b_init(&b, 0x100000000);
    c = b_string(&b, "abcdefghijklmnop");
    b_root(&b, c);
    expect_corrupt(b.buf, b.len - 8, 104, "string size");

    /* Trailing garbage after the last object. */
    b_init(&b, 0x100000000);
    c = b_ctor(&b, 0, 1, ptrs, 0);
    b_root(&b, c);
    expect_corrupt(b.buf, b.len + 4, b.len, "trailing bytes");

    /* A scalar root. */
    b_init(&b, 0x100000000);
    b_ctor(&b, 0, 1, ptrs, 0);
    b_root(&b, lx_box(3));
    expect_corrupt(b.buf, b.len, 88, "root is a scalar");

    /* A root that is not an object start. */
    b_init(&b, 0x100000000);
    c = b_ctor(&b, 0, 1, ptrs, 0);
    b_root(&b, c + 8);
    expect_corrupt(b.buf, b.len, 88, "root pointer");
}

/* ---- lazy open and the checked accessor -------------------------------- */

static int open_lazy(const uint8_t *buf, size_t len, region **r, region_error *err)
{
    return region_open_buffers_flags(&buf, &len, 1, "test.olean", REGION_OPEN_LAZY, r, err);
}

static void expect_refused(const region *r, lx_word w, uint64_t offset, const char *reason_part)
{
    region_error err;
    const uint8_t *o = NULL;
    assert_int_equal(region_object(r, w, &o, &err), REGION_ECORRUPT);
    assert_int_equal(err.code, REGION_ECORRUPT);
    if (offset != UINT64_MAX)
        assert_int_equal(err.offset, offset);
    if (!strstr(err.reason, reason_part))
        fail_msg("reason '%s' lacks '%s'", err.reason, reason_part);
    assert_string_equal(err.path, "test.olean");
}

static void test_lazy_open_checks_root_only(void **state)
{
    (void)state;
    builder b;
    b_init(&b, 0x100000000);
    uint64_t s = b_string(&b, "hello");                 /* 96 */
    uint64_t fwd = b.base + 4000;                        /* a forward reference */
    uint64_t ptrs[2] = {s, fwd};
    uint64_t bad = b_ctor(&b, 0, 2, ptrs, 0);            /* 136: slot 1 at 152 */
    ptrs[0] = s;
    ptrs[1] = bad;
    uint64_t root = b_ctor(&b, 0, 2, ptrs, 0);           /* 160 */
    b_root(&b, root);

    region *r;
    region_error err;
    /* Eagerly the forward pointer is refused at open ... */
    assert_int_equal(open_buf(b.buf, b.len, &r, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, 152);
    /* ... lazily only when its object is read. */
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), 0);
    assert_false(region_get_info(r)->validated);
    assert_int_equal(region_get_info(r)->objects, 0);
    const uint8_t *o = NULL;
    assert_int_equal(region_object(r, region_root(r), &o, &err), 0);
    assert_int_equal(lx_ctor_num_objs(o), 2);
    assert_int_equal(region_object(r, lx_ctor_get(o, 0), &o, &err), 0);
    assert_string_equal(lx_string_data(o), "hello");
    expect_refused(r, bad, 152, "does not lie below");
    region_close(r);

    /* An eagerly validated region passes every check of the accessor too. */
    b_init(&b, 0x100000000);
    s = b_string(&b, "hello");
    ptrs[0] = lx_box(0);
    ptrs[1] = s;
    b_root(&b, b_ctor(&b, 1, 2, ptrs, 8));
    assert_int_equal(open_buf(b.buf, b.len, &r, &err), 0);
    assert_true(region_get_info(r)->validated);
    assert_int_equal(region_object(r, region_root(r), &o, &err), 0);
    assert_int_equal(region_object(r, s, &o, &err), 0);
    region_close(r);

    /* A root the lazy open refuses: its own field points up at itself. */
    b_init(&b, 0x100000000);
    ptrs[0] = b.base + b.len;
    b_root(&b, b_ctor(&b, 0, 1, ptrs, 0));
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), REGION_ECORRUPT);
    assert_int_equal(err.offset, 104);
    assert_non_null(strstr(err.reason, "does not lie below"));
    /* A root outside the file, or a scalar one. */
    b_root(&b, b.base + 8192);
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), REGION_ECORRUPT);
    b_root(&b, lx_box(1));
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), REGION_ECORRUPT);
    assert_int_equal(mem_live_total(), 0);
}

static void test_region_object_refusals(void **state)
{
    (void)state;
    builder b;
    b_init(&b, 0x100000000);
    uint64_t ptrs[1] = {lx_box(1)};
    uint64_t c1 = b_ctor(&b, 0, 1, ptrs, 0);             /* 96, 16 bytes */
    uint64_t s = b_string(&b, "abcdef");                 /* 112, 40 bytes */
    uint64_t c2 = b_ctor(&b, 0, 1, ptrs, 0);             /* 152 */
    uint64_t c3 = b_ctor(&b, 0, 1, ptrs, 0);             /* 168 */
    uint64_t c4 = b_ctor(&b, 0, 1, ptrs, 0);             /* 184 */
    uint64_t s2 = b_string(&b, "xyz");                   /* 200 */
    uint64_t ptrs2[3] = {c1, s, c2};
    uint64_t root = b_ctor(&b, 0, 3, ptrs2, 0);
    b_root(&b, root);
    wr32(b.buf + (c2 - b.base), 7);                      /* rc 7 */
    b.buf[c3 - b.base + 7] = LX_TAG_CLOSURE;             /* a closure */
    b.buf[c4 - b.base + 6] = 200;                        /* 200 pointer fields in 16 bytes */
    b.buf[s2 - b.base + 32 + 3] = 'w';                   /* no NUL */

    region *r;
    region_error err;
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), 0);
    const uint8_t *o;
    assert_int_equal(region_object(r, c1, &o, &err), 0);
    assert_int_equal(region_object(r, s, &o, &err), 0);
    expect_refused(r, lx_box(5), UINT64_MAX, "boxed value");
    expect_refused(r, c1 + 4, 100, "not 8-byte aligned");
    expect_refused(r, b.base + 8, 8, "inside the file header");
    expect_refused(r, b.base + 88, 88, "inside the file header");
    expect_refused(r, b.base + b.len, UINT64_MAX, "outside the file");
    expect_refused(r, 0, UINT64_MAX, "outside the file");
    expect_refused(r, c2, c2 - b.base, "reference count 7");
    expect_refused(r, c3, c3 - b.base + 7, "closure");
    expect_refused(r, c4, c4 - b.base + 4, "does not fit 200 pointer fields");
    expect_refused(r, s2, s2 - b.base + 32 + 3, "not NUL-terminated");
    /* Into the middle of the string: its bytes "abcdef\0" are no sane header. */
    expect_refused(r, s + 32, UINT64_MAX, "");
    region_close(r);

    /* A constructor whose size runs past the end of the file. */
    b_init(&b, 0x100000000);
    ptrs[0] = lx_box(1);
    uint64_t big = b_ctor(&b, 0, 1, ptrs, 0);
    uint64_t ptrs3[1] = {big};
    b_root(&b, b_ctor(&b, 0, 1, ptrs3, 0));
    b.buf[big - b.base + 4] = 0;
    b.buf[big - b.base + 5] = 0x10;                      /* 4096 bytes */
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), 0);
    expect_refused(r, big, big - b.base + 4, "runs past the end of the file");
    region_close(r);
    assert_int_equal(mem_live_total(), 0);
}

/*
 * What a crafted file can do under lazy: a pointer into the middle of a
 * string whose bytes form a sane object reads as that object. It stays inside
 * the file, and its own fields must point below it.
 */
static void test_lazy_accepts_overlapping_objects(void **state)
{
    (void)state;
    builder b;
    b_init(&b, 0x100000000);
    /* A string whose data (at offset 96 + 32 = 128) holds a fake constructor
       header with one field pointing to box(0) and 8 scalar bytes. */
    uint64_t s = b_string(&b, "0123456789abcdef01234567");
    uint8_t *d = b.buf + (s - b.base) + 32;
    wr32(d, 0);
    d[4] = 24;
    d[5] = 0;
    d[6] = 1;
    d[7] = 0;
    wr64(d + 8, lx_box(0));
    memset(d + 16, 'z', 8);
    uint64_t ptrs[1] = {s + 32};
    b_root(&b, b_ctor(&b, 0, 1, ptrs, 0));
    region *r;
    region_error err;
    assert_int_equal(open_buf(b.buf, b.len, &r, &err), REGION_ECORRUPT); /* eager refuses */
    assert_int_equal(open_lazy(b.buf, b.len, &r, &err), 0);
    const uint8_t *o;
    assert_int_equal(region_object(r, s + 32, &o, &err), 0);
    assert_int_equal(lx_ctor_num_objs(o), 1);
    assert_true(region_contains(r, o + lx_cs_sz(o) - 1));
    region_close(r);
    assert_int_equal(mem_live_total(), 0);
}

static void test_region_below(void **state)
{
    (void)state;
    assert_true(region_below(lx_box(7), 0x1000));
    assert_true(region_below(0x0ff8, 0x1000));
    assert_false(region_below(0x1000, 0x1000));
    assert_false(region_below(0x2000, 0x1000));
}

static void test_rejects_bad_headers(void **state)
{
    (void)state;
    builder b;
    region *r;
    region_error err;
    uint64_t ptrs[1] = {lx_box(0)};

    b_init(&b, 0x100000000);
    b_root(&b, b_ctor(&b, 0, 1, ptrs, 0));

    uint8_t copy[4096];
    memcpy(copy, b.buf, b.len);
    copy[5] = 3;
    assert_int_equal(open_buf(copy, b.len, &r, &err), REGION_EUNSUPPORTED);
    assert_int_equal(err.offset, 5);
    assert_non_null(strstr(err.reason, "version 3"));

    memcpy(copy, b.buf, b.len);
    copy[6] = 0x81;
    assert_int_equal(open_buf(copy, b.len, &r, &err), REGION_EUNSUPPORTED);
    assert_non_null(strstr(err.reason, "reserved"));

    memcpy(copy, b.buf, b.len);
    copy[0] = 'X';
    expect_corrupt(copy, b.len, 0, "bad magic");

    expect_corrupt(b.buf, 50, 0, "too short");
    expect_corrupt(b.buf, 3, 0, "too short");

    memcpy(copy, b.buf, b.len);
    wr64(copy + 80, 0x100000004);
    expect_corrupt(copy, b.len, 80, "not 8-byte aligned");

    memcpy(copy, b.buf, b.len);
    wr64(copy + 80, UINT64_MAX - 7);
    expect_corrupt(copy, b.len, 80, "overflows");
    assert_int_equal(mem_live_total(), 0);
}

/* ---- multi-part modules ------------------------------------------------ */

static void build_two_parts(builder *p0, builder *p1, uint64_t target_in_p0)
{
    b_init(p0, 0x6f1234560000);
    uint64_t s = b_string(p0, "shared");
    uint64_t ptrs[1] = {s};
    b_root(p0, b_ctor(p0, 0, 1, ptrs, 0));
    b_init(p1, 0x6f1234560000 + 65536); /* part 1 starts at the next 64 KiB boundary */
    ptrs[0] = target_in_p0 ? target_in_p0 : s;
    b_root(p1, b_ctor(p1, 0, 1, ptrs, 0));
}

static void test_multipart_in_memory(void **state)
{
    (void)state;
    builder p0, p1;
    build_two_parts(&p0, &p1, 0);
    const uint8_t *bufs[2] = {p0.buf, p1.buf};
    size_t lens[2] = {p0.len, p1.len};
    region *r;
    region_error err;
    assert_int_equal(region_open_buffers(bufs, lens, 2, "mp.olean", &r, &err), 0);
    assert_int_equal(region_get_info(r)->nparts, 2);
    assert_int_equal(region_get_info(r)->objects, 3);
    assert_int_equal(region_get_info(r)->size, p0.len + p1.len);
    region_close(r);

    /* A pointer into the middle of an object of the earlier part. */
    build_two_parts(&p0, &p1, 0x6f1234560000 + 96 + 8);
    bufs[0] = p0.buf;
    bufs[1] = p1.buf;
    assert_int_equal(region_open_buffers(bufs, lens, 2, "mp.olean", &r, &err), REGION_ECORRUPT);
    assert_string_equal(err.path, "mp.olean.server");
    assert_int_equal(err.offset, 104);
    assert_non_null(strstr(err.reason, "earlier part"));

    /* Overlapping parts. */
    build_two_parts(&p0, &p1, 0);
    wr64(p1.buf + 80, 0x6f1234560000 + 64);
    assert_int_equal(region_open_buffers(bufs, lens, 2, "mp.olean", &r, &err), REGION_ECORRUPT);
    assert_non_null(strstr(err.reason, "does not follow"));
    assert_int_equal(mem_live_total(), 0);
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_multipart_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/envpool-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p0path[256], p1path[256];
    snprintf(p0path, sizeof p0path, "%s/M.olean", dir);
    snprintf(p1path, sizeof p1path, "%s/M.olean.server", dir);
    builder p0, p1;
    build_two_parts(&p0, &p1, 0);
    write_file(p0path, p0.buf, p0.len);
    write_file(p1path, p1.buf, p1.len);

    region *r;
    region_error err;
    for (unsigned flags = 0; flags < 2; flags++) {
        assert_int_equal(region_open(p0path, REGION_OPEN_PARTS | (flags ? REGION_OPEN_NO_FIXED : 0),
                                     &r, &err), 0);
        assert_int_equal(region_get_info(r)->nparts, 2);
        assert_int_equal(region_get_info(r)->mapped_at_base, flags == 0);
        lx_space sp = region_space(r);
        /* Part 1's root points at part 0's string: follow it through one delta. */
        const uint8_t *root1 = lx_obj(&sp, 0x6f1234560000 + 65536 + 96);
        const uint8_t *s = lx_obj(&sp, lx_ctor_get(root1, 0));
        assert_string_equal(lx_string_data(s), "shared");
        region_close(r);
    }
    /* Without REGION_OPEN_PARTS only part 0 is read. */
    assert_int_equal(region_open(p0path, 0, &r, &err), 0);
    assert_int_equal(region_get_info(r)->nparts, 1);
    region_close(r);

    unlink(p0path);
    unlink(p1path);
    rmdir(dir);
    assert_int_equal(mem_live_total(), 0);
}

static void test_missing_and_special_files(void **state)
{
    (void)state;
    region *r;
    region_error err;
    assert_int_equal(region_open("/nonexistent/X.olean", 0, &r, &err), -ENOENT);
    assert_string_equal(err.path, "/nonexistent/X.olean");
    assert_int_equal(region_open("/tmp", 0, &r, &err), -EINVAL);
    assert_non_null(strstr(err.reason, "not a regular file"));
    char msg[1024];
    region_error_format(&err, msg, sizeof msg);
    assert_string_equal(msg, "/tmp: not a regular file");
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_reader",
          cmocka_unit_test(test_every_sample_validates),
          cmocka_unit_test(test_headers_of_each_era),
          cmocka_unit_test(test_fixed_and_relocated_mapping),
          cmocka_unit_test(test_builder_region_validates),
          cmocka_unit_test(test_rejects_bad_pointers),
          cmocka_unit_test(test_rejects_bad_objects),
          cmocka_unit_test(test_rejects_bad_headers),
          cmocka_unit_test(test_lazy_open_checks_root_only),
          cmocka_unit_test(test_region_object_refusals),
          cmocka_unit_test(test_lazy_accepts_overlapping_objects),
          cmocka_unit_test(test_region_below),
          cmocka_unit_test(test_multipart_in_memory),
          cmocka_unit_test(test_multipart_files),
          cmocka_unit_test(test_missing_and_special_files))
