/*
 * tests/support/leanbuild.c — see leanbuild.h.
 */
#include "tests/support/leanbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static void die(const char *what)
{
    fprintf(stderr, "leanbuild: %s\n", what);
    abort();
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t *room(tb *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = mem_try_realloc(b->buf, cap);
        if (!p)
            die("out of memory");
        memset(p + b->cap, 0, cap - b->cap);
        b->buf = p;
        b->cap = cap;
    }
    return b->buf + b->len;
}

void tb_init(tb *b)
{
    memset(b, 0, sizeof *b);
    uint8_t *h = room(b, 96);
    memcpy(h, "olean", 5);
    h[5] = 2;
    h[6] = 1;
    memcpy(h + 7, "4.29.1", 6);
    memcpy(h + 40, "0123456789abcdef0123456789abcdef01234567", 40);
    wr64(h + 80, TB_BASE);
    b->len = 96;
}

void tb_free(tb *b)
{
    mem_free(b->buf);
    memset(b, 0, sizeof *b);
}

region *tb_open(tb *b, lx_word root)
{
    wr64(b->buf + 88, root);
    region *r = NULL;
    region_error err;
    const uint8_t *bufs[1] = {b->buf};
    size_t lens[1] = {b->len};
    if (region_open_buffers(bufs, lens, 1, "built.olean", &r, &err)) {
        char msg[1024];
        fprintf(stderr, "leanbuild: %s\n", region_error_format(&err, msg, sizeof msg));
        die("built region does not validate");
    }
    return r;
}

lx_word tb_ctor(tb *b, uint8_t tag, unsigned nptr, const lx_word *ptrs, const uint8_t *scalars,
                unsigned nscalar)
{
    size_t sz = (8 + 8 * (size_t)nptr + nscalar + 7) & ~(size_t)7;
    uint8_t *o = room(b, sz);
    memset(o, 0, sz);
    o[4] = (uint8_t)sz;
    o[5] = (uint8_t)(sz >> 8);
    o[6] = (uint8_t)nptr;
    o[7] = tag;
    for (unsigned i = 0; i < nptr; i++)
        wr64(o + 8 + 8 * i, ptrs[i]);
    if (nscalar)
        memcpy(o + 8 + 8 * nptr, scalars, nscalar);
    lx_word w = TB_BASE + b->len;
    b->len += sz;
    return w;
}

lx_word tb_string(tb *b, const char *s)
{
    size_t n = strlen(s) + 1, sz = (32 + n + 7) & ~(size_t)7;
    uint8_t *o = room(b, sz);
    memset(o, 0, sz);
    o[4] = 1;
    o[7] = LX_TAG_STRING;
    uint64_t chars = 0;
    for (size_t i = 0; i + 1 < n; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    wr64(o + 8, n);
    wr64(o + 16, n);
    wr64(o + 24, chars);
    memcpy(o + 32, s, n);
    lx_word w = TB_BASE + b->len;
    b->len += sz;
    return w;
}

lx_word tb_array(tb *b, size_t n, const lx_word *elems)
{
    size_t sz = 24 + 8 * n;
    uint8_t *o = room(b, sz);
    memset(o, 0, sz);
    o[4] = 1;
    o[7] = LX_TAG_ARRAY;
    wr64(o + 8, n);
    wr64(o + 16, n);
    for (size_t i = 0; i < n; i++)
        wr64(o + 24 + 8 * i, elems[i]);
    lx_word w = TB_BASE + b->len;
    b->len += sz;
    return w;
}

lx_word tb_list(tb *b, size_t n, const lx_word *elems)
{
    lx_word l = lx_box(0);
    for (size_t i = n; i-- > 0;) {
        lx_word p[2] = {elems[i], l};
        l = tb_ctor(b, 1, 2, p, NULL, 0);
    }
    return l;
}

lx_word tb_mpz(tb *b, size_t n, const uint64_t *limbs)
{
    size_t sz = 24 + 8 * n;
    uint8_t *o = room(b, sz);
    memset(o, 0, sz);
    o[4] = (uint8_t)sz;
    o[5] = (uint8_t)(sz >> 8);
    o[7] = LX_TAG_MPZ;
    int32_t alloc = (int32_t)n, size = (int32_t)n;
    memcpy(o + 8, &alloc, 4);
    memcpy(o + 12, &size, 4);
    lx_word w = TB_BASE + b->len;
    wr64(o + 16, w + 24);
    for (size_t i = 0; i < n; i++)
        wr64(o + 24 + 8 * i, limbs[i]);
    b->len += sz;
    return w;
}

/* ---- names ---- */

static uint64_t name_hash(tb *b, lx_word w)
{
    if (lx_is_scalar(w))
        return LN_NAME_ANON_HASH;
    uint64_t h;
    memcpy(&h, b->buf + (w - TB_BASE) + 24, 8);
    return h;
}

lx_word tb_name_str(tb *b, lx_word prefix, const char *s)
{
    uint64_t h = ln_name_hash_str(name_hash(b, prefix), s, strlen(s));
    lx_word p[2] = {prefix, tb_string(b, s)};
    return tb_ctor(b, 1, 2, p, (const uint8_t *)&h, 8);
}

lx_word tb_name_num(tb *b, lx_word prefix, uint64_t n)
{
    uint64_t h = ln_name_hash_num(name_hash(b, prefix), n);
    lx_word p[2] = {prefix, lx_box(n)};
    return tb_ctor(b, 2, 2, p, (const uint8_t *)&h, 8);
}

lx_word tb_name(tb *b, const char *dotted)
{
    lx_word w = lx_box(0);
    char comp[256];
    const char *p = dotted;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof comp)
            die("name component too long");
        memcpy(comp, p, n);
        comp[n] = '\0';
        bool digits = n > 0;
        for (size_t i = 0; i < n; i++)
            digits = digits && comp[i] >= '0' && comp[i] <= '9';
        w = digits ? tb_name_num(b, w, strtoull(comp, NULL, 10)) : tb_name_str(b, w, comp);
        p += n;
        if (*p == '.')
            p++;
    }
    return w;
}

/* ---- levels ---- */

static lx_word level(tb *b, uint8_t tag, unsigned n, lx_word a, lx_word c)
{
    lx_word p[2] = {a, c};
    uint64_t data = 0;
    return tb_ctor(b, tag, n, p, (const uint8_t *)&data, 8);
}

lx_word tb_lsucc(tb *b, lx_word l) { return level(b, 1, 1, l, 0); }
lx_word tb_lmax(tb *b, lx_word l1, lx_word l2) { return level(b, 2, 2, l1, l2); }
lx_word tb_limax(tb *b, lx_word l1, lx_word l2) { return level(b, 3, 2, l1, l2); }
lx_word tb_lparam(tb *b, const char *name) { return level(b, 4, 1, tb_name(b, name), 0); }

/* ---- exprs ---- */

static uint32_t range_of(tb *b, lx_word e)
{
    uint64_t data;
    const uint8_t *o = b->buf + (e - TB_BASE);
    memcpy(&data, o + 8 + 8 * (size_t)o[6], 8);
    return b->old_expr ? (uint32_t)(data >> 48) : (uint32_t)(data >> 44);
}

static uint32_t sub1(uint32_t r) { return r ? r - 1 : 0; }
static uint32_t max2(uint32_t a, uint32_t c) { return a > c ? a : c; }

static lx_word expr(tb *b, uint8_t tag, unsigned n, const lx_word *p, uint32_t range, uint8_t extra,
                    bool has_extra)
{
    uint8_t sc[9] = {0};
    uint64_t data;
    if (b->old_expr) {
        data = (uint64_t)range << 48;
        if (tag == LN_LAM || tag == LN_FORALL)
            data |= (uint64_t)(extra & 7) << 37;
        if (tag == LN_LET && extra)
            data |= (uint64_t)1 << 36;
        has_extra = false;
    } else {
        data = (uint64_t)range << 44;
    }
    memcpy(sc, &data, 8);
    sc[8] = extra;
    return tb_ctor(b, tag, n, p, sc, has_extra ? 9 : 8);
}

lx_word tb_bvar(tb *b, uint64_t i)
{
    lx_word p[1] = {lx_box(i)};
    return expr(b, LN_BVAR, 1, p, (uint32_t)(i + 1), 0, false);
}

lx_word tb_sort(tb *b, lx_word l)
{
    lx_word p[1] = {l};
    return expr(b, LN_SORT, 1, p, 0, 0, false);
}

lx_word tb_const(tb *b, const char *name, size_t nlevels, const lx_word *levels)
{
    lx_word p[2] = {tb_name(b, name), tb_list(b, nlevels, levels)};
    return expr(b, LN_CONST, 2, p, 0, 0, false);
}

lx_word tb_app(tb *b, lx_word f, lx_word a)
{
    lx_word p[2] = {f, a};
    return expr(b, LN_APP, 2, p, max2(range_of(b, f), range_of(b, a)), 0, false);
}

lx_word tb_binder(tb *b, uint8_t tag, lx_word name, lx_word type, lx_word body, uint8_t bi)
{
    lx_word p[3] = {name, type, body};
    return expr(b, tag, 3, p, max2(range_of(b, type), sub1(range_of(b, body))), bi, true);
}

lx_word tb_lam(tb *b, const char *name, lx_word type, lx_word body, uint8_t bi)
{
    return tb_binder(b, LN_LAM, tb_name(b, name), type, body, bi);
}

lx_word tb_pi(tb *b, const char *name, lx_word type, lx_word body, uint8_t bi)
{
    return tb_binder(b, LN_FORALL, tb_name(b, name), type, body, bi);
}

lx_word tb_let(tb *b, const char *name, lx_word type, lx_word value, lx_word body)
{
    lx_word p[4] = {tb_name(b, name), type, value, body};
    uint32_t r = max2(max2(range_of(b, type), range_of(b, value)), sub1(range_of(b, body)));
    return expr(b, LN_LET, 4, p, r, 0, true);
}

lx_word tb_lit_nat(tb *b, lx_word nat)
{
    lx_word l[1] = {nat};
    lx_word p[1] = {tb_ctor(b, 0, 1, l, NULL, 0)};
    return expr(b, LN_LIT, 1, p, 0, 0, false);
}

lx_word tb_lit_str(tb *b, const char *s)
{
    lx_word l[1] = {tb_string(b, s)};
    lx_word p[1] = {tb_ctor(b, 1, 1, l, NULL, 0)};
    return expr(b, LN_LIT, 1, p, 0, 0, false);
}

lx_word tb_mdata(tb *b, lx_word e)
{
    uint8_t one = 1;
    lx_word v = tb_ctor(b, 1, 0, NULL, &one, 1); /* DataValue.ofBool true */
    lx_word pair[2] = {tb_name(b, "noImplicitLambda"), v};
    lx_word kv = tb_ctor(b, 0, 2, pair, NULL, 0);
    lx_word p[2] = {tb_list(b, 1, &kv), e};
    return expr(b, LN_MDATA, 2, p, range_of(b, e), 0, false);
}

lx_word tb_proj(tb *b, const char *type_name, uint64_t idx, lx_word e)
{
    lx_word p[3] = {tb_name(b, type_name), lx_box(idx), e};
    return expr(b, LN_PROJ, 3, p, range_of(b, e), 0, false);
}

/* ---- constants, modules ---- */

lx_word tb_cval(tb *b, const char *name, size_t nlp, const char *const *lps, lx_word type)
{
    lx_word names[16];
    if (nlp > 16)
        die("too many level params");
    for (size_t i = 0; i < nlp; i++)
        names[i] = tb_name(b, lps[i]);
    lx_word p[3] = {tb_name(b, name), tb_list(b, nlp, names), type};
    return tb_ctor(b, 0, 3, p, NULL, 0);
}

lx_word tb_import(tb *b, const char *module, uint8_t f0, uint8_t f1, uint8_t f2)
{
    lx_word p[1] = {tb_name(b, module)};
    uint8_t s[3] = {f0, f1, f2};
    return tb_ctor(b, 0, 1, p, s, 3);
}

lx_word tb_module(tb *b, enum ln_era era, size_t nimports, const lx_word *imports,
                  size_t nconsts, const lx_word *consts, const lx_word *names)
{
    return tb_module_entries(b, era, nimports, imports, nconsts, consts, names, tb_array(b, 0, NULL));
}

lx_word tb_ext(tb *b, const char *name, size_t n, const lx_word *entries)
{
    lx_word p[2] = {tb_name(b, name), tb_array(b, n, entries)};
    return tb_ctor(b, 0, 2, p, NULL, 0);
}

lx_word tb_module_entries(tb *b, enum ln_era era, size_t nimports, const lx_word *imports,
                          size_t nconsts, const lx_word *consts, const lx_word *names, lx_word ents)
{
    lx_word imp = tb_array(b, nimports, imports);
    lx_word cs = tb_array(b, nconsts, consts);
    if (era == LN_ERA_2022) {
        lx_word p[3] = {imp, cs, ents};
        return tb_ctor(b, 0, 3, p, NULL, 0);
    }
    lx_word nm = tb_array(b, nconsts, names);
    lx_word extra = tb_array(b, 0, NULL);
    lx_word p[5] = {imp, nm, cs, extra, ents};
    uint8_t is_module = 1;
    return tb_ctor(b, 0, 5, p, &is_module, era == LN_ERA_MODULE ? 1 : 0);
}
