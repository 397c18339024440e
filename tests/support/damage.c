/*
 * tests/support/damage.c — seeded mutations of region images. See damage.h.
 */
#include "tests/support/damage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "lean/pack.h"
#include "util/mem.h"

/* splitmix64: small, seedable, good enough to pick mutations. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n) { return n ? next(s) % n : 0; }

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- walking a validated region ----------------------------------------- */

typedef struct wordset {
    uint64_t *slots;
    size_t    cap, used;
} wordset;

static int ws_add(wordset *ws, uint64_t w) /* 1 if new */
{
    if ((ws->used + 1) * 2 > ws->cap) {
        size_t ncap = ws->cap ? ws->cap * 2 : 1024;
        uint64_t *n = mem_calloc(ncap, sizeof *n);
        for (size_t i = 0; i < ws->cap; i++) {
            if (!ws->slots[i])
                continue;
            size_t j = (ws->slots[i] * 0x9e3779b97f4a7c15ull >> 20) & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = ws->slots[i];
        }
        mem_free(ws->slots);
        ws->slots = n;
        ws->cap = ncap;
    }
    size_t j = (w * 0x9e3779b97f4a7c15ull >> 20) & (ws->cap - 1);
    while (ws->slots[j]) {
        if (ws->slots[j] == w)
            return 0;
        j = (j + 1) & (ws->cap - 1);
    }
    ws->slots[j] = w;
    ws->used++;
    return 1;
}

long region_touch_all(const region *r)
{
    wordset seen = {0};
    bool refused = false;
    size_t cap = 1024, top = 0, visited = 0;
    uint64_t *stack = mem_alloc(cap * sizeof *stack);
    volatile uint64_t sink = 0;

    stack[top++] = region_root(r);
    while (top) {
        lx_word w = stack[--top];
        if (lx_is_scalar(w) || !ws_add(&seen, w))
            continue;
        visited++;
        const uint8_t *o;
        if (region_object(r, w, &o, NULL) < 0) { /* only a lazily opened region refuses */
            refused = true;
            continue;
        }
        uint8_t tag = lx_tag(o);
        uint64_t nptr = 0, first = 8;
        if (tag <= LX_MAX_CTOR_TAG) {
            nptr = lx_ctor_num_objs(o);
            for (size_t i = 8 + 8 * nptr; i < lx_cs_sz(o); i++)
                sink += o[i];
        } else if (tag == LX_TAG_ARRAY) {
            nptr = lx_array_size(o);
            first = 24;
        } else if (tag == LX_TAG_STRING) {
            for (uint64_t i = 0; i < lx_string_size(o); i++)
                sink += (uint8_t)lx_string_data(o)[i];
        } else if (tag == LX_TAG_MPZ) {
            lx_mpz_view m = lx_mpz(o, w);
            for (size_t i = 0; i < m.ndigits * m.digit_size; i++)
                sink += m.digits[i];
        } else if (tag == LX_TAG_SARRAY) {
            uint64_t bytes = lx_array_size(o) * lx_other(o);
            for (uint64_t i = 0; i < bytes; i++)
                sink += o[24 + i];
        } else {
            nptr = 1; /* thunk, task, ref, promise: one value pointer */
        }
        for (uint64_t i = 0; i < nptr; i++) {
            if (top == cap) {
                cap *= 2;
                uint64_t *grown = mem_try_realloc(stack, cap * sizeof *stack);
                if (!grown)
                    abort();
                stack = grown;
            }
            lx_word child = rd64(o + first + 8 * i);
            if (!region_below(child, w)) { /* array elements: the caller's check */
                refused = true;
                continue;
            }
            stack[top++] = child;
        }
    }
    (void)sink;
    mem_free(stack);
    mem_free(seen.slots);
    return refused ? -1 : (long)visited;
}

/* ---- decoding everything lean/ knows ----------------------------------- */

/* A refusal must say what and where: a reason, and an offset inside the file or none. */
static void check_refusal(const ln_module *m, const region_error *err)
{
    uint64_t size = region_get_info(m->r)->size;
    if (!err->reason[0] || (err->offset != UINT64_MAX && err->offset >= size)) {
        fprintf(stderr, "entry refusal without a reason or with offset %llu of %llu: '%s'\n",
                (unsigned long long)err->offset, (unsigned long long)size, err->reason);
        abort();
    }
}

int region_decode_entries(const ln_module *m, region_error *err)
{
    int bad = 0;
    ln_buf b;
    ln_buf_init(&b, 64 * 1024);
    for (uint64_t i = 0; i < m->nentries; i++) {
        ln_ext x;
        if (ln_ext_get(m, i, &x, err) < 0) {
            check_refusal(m, err);
            bad = -1;
            continue;
        }
        for (uint64_t j = 0; x.kind != LN_EXT_OTHER && j < x.n; j++) {
            ln_ext_entry e;
            region_error eerr;
            if (ln_ext_entry_get(m, &x, j, &e, &eerr) < 0) {
                check_refusal(m, &eerr);
                bad = -1;
                continue;
            }
            lx_word words[4] = {e.decl, e.name2, e.text, e.text2};
            for (int k = 0; k < 4; k++) {
                const char *d;
                size_t n;
                ln_buf_reset(&b);
                if (words[k] && (k < 2 ? ln_name_format(m, words[k], &b, &eerr)
                                       : ln_string(m, words[k], &d, &n, &eerr)) < 0)
                    bad = -1;
            }
            for (uint64_t f = 0; x.kind == LN_EXT_STRUCTURE && f < e.nfields; f++) {
                ln_struct_field sf;
                if (ln_ext_struct_field(m, &e, f, &sf, &eerr) < 0) {
                    check_refusal(m, &eerr);
                    bad = -1;
                }
            }
            lx_word ps[8];
            size_t np;
            if (x.kind == LN_EXT_STRUCTURE && ln_ext_struct_parents(m, &e, ps, 8, &np, &eerr) < 0)
                bad = -1;
        }
    }
    ln_buf_deinit(&b);
    return bad;
}

int region_decode_all(const region *r)
{
    ln_module m;
    region_error err;
    int rc = ln_module_open(r, &m, &err);
    if (rc < 0)
        return rc;
    ln_buf b;
    ln_buf_init(&b, 64 * 1024);
    int bad = 0;
    for (uint64_t i = 0; i < m.nimports; i++) {
        ln_import imp;
        if (ln_module_import(&m, i, &imp, &err) < 0 || ln_name_format(&m, imp.module, &b, &err) < 0)
            bad = -1;
    }
    for (uint64_t i = 0; i < m.nconstants; i++) {
        ln_const c;
        lx_word name;
        uint64_t h;
        ln_buf_reset(&b);
        if (ln_module_const_name(&m, i, &name, &err) < 0 || ln_name_hash_stored(&m, name, &h, &err) < 0 ||
            ln_name_hash_compute(&m, name, &h, &err) < 0) {
            bad = -1;
        }
        if (ln_module_const(&m, i, &c, &err) < 0) {
            bad = -1;
            continue;
        }
        if (ln_const_format_header(&m, &c, &b, &err) < 0)
            bad = -1;
        ln_buf_reset(&b);
        if (ln_expr_format(&m, c.type, &b, &err) < 0)
            bad = -1;
        if (c.value) {
            ln_buf_reset(&b);
            if (ln_expr_format(&m, c.value, &b, &err) < 0)
                bad = -1;
        }
        lx_word cur = c.rules, head;
        while (c.kind == LN_REC && ln_list_next(&m, &cur, &head, &err) == 1) {
            ln_rec_rule rule;
            if (ln_rec_rule_view(&m, head, &rule, &err) < 0)
                bad = -1;
        }
    }
    if (region_decode_entries(&m, &err) < 0)
        bad = -1;
    /* the module as text (envpool dump --text), a walk of its own */
    ln_buf t;
    ln_buf_init(&t, 1 << 20);
    if (ln_unpack(&m, "M", 64 * 1024, &t, &err) < 0)
        bad = -1;
    ln_buf_deinit(&t);
    ln_buf_deinit(&b);
    return bad;
}

/* ---- mutations ---------------------------------------------------------- */

static size_t header_size(const uint8_t *img, size_t len)
{
    /* "oleanfile!!!!!!!" (v0) also starts with "olean": v1/v2 have their version byte at 5 */
    if (len >= 6 && memcmp(img, "olean", 5) == 0 && img[5] != 'f')
        return img[5] == 2 ? 88 : 56;
    return 24;
}

/* Finds an 8-aligned slot at or after a random place that holds an in-file pointer. */
static size_t find_pointer_slot(const uint8_t *img, size_t len, size_t hs, uint64_t base, uint64_t *s)
{
    size_t start = hs + 8 + below(s, len > hs + 8 ? (len - hs - 8) / 8 : 1) * 8;
    for (size_t k = 0; k + 8 <= len; k += 8) {
        size_t pos = hs + 8 + (start - hs - 8 + k) % (len - hs - 8 > 0 ? len - hs - 8 : 8);
        pos &= ~(size_t)7;
        if (pos + 8 > len)
            continue;
        uint64_t w = rd64(img + pos);
        if (!(w & 1) && w >= base + hs + 8 && w < base + len)
            return pos;
    }
    return hs; /* the root slot always is one */
}

/* Every draw from the generator is its own statement: argument evaluation
 * order differs between compilers, and the same seed must give the same damage. */
static void mutate(uint8_t *m, size_t *len, size_t cap, uint64_t *s)
{
    size_t n = *len, hs = header_size(m, n);
    uint64_t base = n >= hs ? rd64(m + hs - 8) : 0;
    size_t body = n > hs + 8 ? n - hs - 8 : 1;
    size_t pos8 = (hs + 8 + below(s, body)) & ~(size_t)7;
    if (pos8 + 8 > n)
        pos8 = hs;

    switch (below(s, 12)) {
    case 0: /* truncation */
        *len = below(s, n);
        break;
    case 1: /* bit flips */
        for (uint64_t k = 1 + below(s, 8); k > 0; k--) {
            size_t p = below(s, n);
            m[p] ^= (uint8_t)(1u << below(s, 8));
        }
        break;
    case 2: { /* a pointer redirected forwards (or into its own object: a cycle) */
        size_t p = find_pointer_slot(m, n, hs, base, s);
        wr64(m + p, base + ((p + 8 * below(s, 64)) & ~(size_t)7));
        break;
    }
    case 3: { /* a pointer out of range */
        size_t p = find_pointer_slot(m, n, hs, base, s);
        wr64(m + p, next(s) & ~(uint64_t)1);
        break;
    }
    case 4: { /* an unaligned pointer */
        size_t p = find_pointer_slot(m, n, hs, base, s);
        wr64(m + p, rd64(m + p) + 2 + 2 * below(s, 3));
        break;
    }
    case 5: { /* the root redirected to an earlier object or into the middle of one */
        size_t at = hs + 8 + below(s, body);
        size_t mask = below(s, 2) ? 7 : 3;
        wr64(m + hs, base + (at & ~mask));
        break;
    }
    case 6: { /* a huge size or capacity field */
        uint64_t v = below(s, 2) ? UINT64_MAX - below(s, 64) : (uint64_t)1 << (32 + below(s, 31));
        wr64(m + pos8, v);
        break;
    }
    case 7: { /* header damage */
        size_t at = below(s, hs + 8 < n ? hs + 8 : n);
        m[at] = (uint8_t)next(s);
        break;
    }
    case 8: { /* an object header byte (rc, size, pointer count, tag) */
        size_t at = pos8 + below(s, 8);
        m[at] = (uint8_t)next(s);
        break;
    }
    case 9: { /* two words swapped */
        size_t q = (hs + 8 + below(s, body)) & ~(size_t)7;
        if (q + 8 <= n) {
            uint64_t a = rd64(m + pos8), b = rd64(m + q);
            wr64(m + pos8, b);
            wr64(m + q, a);
        }
        break;
    }
    case 10: { /* bytes appended */
        size_t extra = 1 + below(s, 64);
        if (n + extra <= cap) {
            for (size_t i = 0; i < extra; i++)
                m[n + i] = (uint8_t)next(s);
            *len = n + extra;
        }
        break;
    }
    default: /* a pointer pointing at the slot itself */
        wr64(m + pos8, base + pos8);
        break;
    }
}

/*
 * The objects reachable from ModuleData.entries (up to max), by a walk of the
 * clean image: where entry damage is aimed.
 */
static size_t entry_objects(const region *r, uint64_t *out, size_t max)
{
    ln_module m;
    region_error err;
    if (ln_module_open(r, &m, &err) < 0)
        return 0;
    lx_space sp = region_space(r);
    wordset seen = {0};
    size_t cap = 256, top = 0, n = 0;
    uint64_t *stack = mem_alloc(cap * sizeof *stack);
    stack[top++] = m.entries;
    while (top && n < max) {
        lx_word w = stack[--top];
        if (lx_is_scalar(w) || !ws_add(&seen, w))
            continue;
        out[n++] = w;
        const uint8_t *o = lx_obj(&sp, w);
        uint64_t nptr = 0, first = 8;
        if (lx_tag(o) <= LX_MAX_CTOR_TAG) {
            nptr = lx_ctor_num_objs(o);
        } else if (lx_tag(o) == LX_TAG_ARRAY) {
            nptr = lx_array_size(o);
            first = 24;
        }
        for (uint64_t i = 0; i < nptr; i++) {
            if (top == cap) {
                cap *= 2;
                uint64_t *grown = mem_try_realloc(stack, cap * sizeof *stack);
                if (!grown)
                    abort();
                stack = grown;
            }
            stack[top++] = rd64(o + first + 8 * i);
        }
    }
    mem_free(stack);
    mem_free(seen.slots);
    return n;
}

size_t damage_entry_targets(const uint8_t *img, size_t len, uint64_t **targets)
{
    enum { MAX_TARGETS = 4096 };
    region *clean = NULL;
    region_error err;
    const uint8_t *cb[1] = {img};
    if (region_open_buffers(cb, &len, 1, "clean.olean", &clean, &err) < 0)
        abort(); /* the caller passes real, valid samples */
    uint64_t *t = mem_alloc(MAX_TARGETS * sizeof *t);
    size_t n = entry_objects(clean, t, MAX_TARGETS);
    /* as file offsets, so damage needs no region */
    for (size_t i = 0; i < n; i++)
        t[i] = region_offset_of(clean, t[i]);
    region_close(clean);
    *targets = t;
    return n;
}

void damage_entry_one(const uint8_t *img, size_t len, const uint64_t *targets, size_t nt, uint64_t seed,
                      damage_stats *st)
{
    uint64_t s = seed;
    region_error err;
    uint8_t *m = mem_alloc(len);
    memcpy(m, img, len);
    size_t hs = header_size(img, len);
    uint64_t base = rd64(img + hs - 8);
    if (nt > 1) {
        size_t off = (size_t)targets[1 + below(&s, nt - 1)]; /* not the entries array itself */
        const uint8_t *o = img + off;
        size_t osz = 8;
        unsigned nptr = lx_tag(o) <= LX_MAX_CTOR_TAG ? lx_ctor_num_objs(o) : 0;
        if (lx_tag(o) <= LX_MAX_CTOR_TAG)
            osz = lx_cs_sz(o);
        switch (below(&s, 6)) {
        case 0: case 1: { /* a field pointing at another, earlier object: valid region, wrong shape */
            size_t other = (size_t)targets[below(&s, nt)];
            if (nptr && other < off)
                wr64(m + off + 8 + 8 * below(&s, nptr), base + other);
            break;
        }
        case 2: /* a field replaced by a boxed value */
            if (nptr)
                wr64(m + off + 8 + 8 * below(&s, nptr), (next(&s) % 64) * 2 + 1);
            break;
        case 3: /* the constructor tag */
            m[off + 7] = (uint8_t)below(&s, 8);
            break;
        case 4: /* a scalar byte (enum values, flags) */
            if (osz > 8 + 8 * (size_t)nptr)
                m[off + 8 + 8 * nptr + below(&s, osz - 8 - 8 * nptr)] = (uint8_t)next(&s);
            break;
        default: /* the pointer count */
            m[off + 6] = (uint8_t)below(&s, 6);
            break;
        }
    }

    region *r = NULL;
    const uint8_t *bufs[1] = {m};
    int rc = region_open_buffers(bufs, &len, 1, "damaged.olean", &r, &err);
    if (rc == 0) {
        ln_module lm;
        if (ln_module_open(r, &lm, &err) == 0 && region_decode_entries(&lm, &err) == 0)
            st->decoded++;
        region_close(r);
        st->accepted++;
    } else {
        if (rc != REGION_ECORRUPT || !err.reason[0]) {
            fprintf(stderr, "entry damage seed %llu: unexpected refusal %d '%s'\n", (unsigned long long)seed, rc,
                    err.reason);
            abort();
        }
        st->rejected++;
    }
    /* The same bytes opened lazily (the daemon's default): every read is checked as it happens. */
    if (region_open_buffers_flags(bufs, &len, 1, "damaged.olean", REGION_OPEN_LAZY, &r, &err) == 0) {
        ln_module lm;
        if (ln_module_open(r, &lm, &err) == 0)
            (void)region_decode_entries(&lm, &err);
        region_close(r);
    }
    mem_free(m);
}

void damage_one(const uint8_t *img, size_t len, uint64_t seed, damage_stats *st)
{
    damage_one_flags(img, len, seed, 0, st);
}

/* Opens m[0..n) with flags; touches and decodes it if accepted. 1 accepted and read
   cleanly, 0 accepted and some read refused, <0 the open's error code. */
static int open_and_read(const uint8_t *m, size_t n, unsigned flags, region_error *err)
{
    region *r = NULL;
    const uint8_t *bufs[1] = {m};
    int rc = region_open_buffers_flags(bufs, &n, 1, "damaged.olean", flags, &r, err);
    if (rc < 0)
        return rc;
    long touched = region_touch_all(r);
    int decoded = region_decode_all(r);
    region_close(r);
    return touched >= 0 && decoded == 0 ? 1 : 0;
}

void damage_one_flags(const uint8_t *img, size_t len, uint64_t seed, unsigned flags,
                      damage_stats *st)
{
    uint64_t s = seed;
    size_t cap = len + 64, n = len;
    uint8_t *m = mem_alloc(cap);
    memcpy(m, img, len);
    for (uint64_t k = 1 + below(&s, 3); k > 0; k--)
        mutate(m, &n, cap, &s);

    region_error err;
    int rc = open_and_read(m, n, flags, &err);
    if (rc >= 0) {
        st->accepted++;
        if (rc == 1)
            st->decoded++;
        else
            st->refused_read++;
        if (flags & REGION_OPEN_LAZY) {
            /* A file the eager pass accepts must read the same lazily. */
            region_error eerr;
            int eager = open_and_read(m, n, 0, &eerr);
            if (eager >= 0 && eager != rc) {
                fprintf(stderr, "damage seed %llu: eager read %d, lazy read %d\n",
                        (unsigned long long)seed, eager, rc);
                abort();
            }
            if (eager >= 0)
                st->eager_accepted++;
        }
    } else {
        if (rc != REGION_ECORRUPT && rc != REGION_EUNSUPPORTED) {
            fprintf(stderr, "damage seed %llu: unexpected code %d\n", (unsigned long long)seed, rc);
            abort();
        }
        if (!err.reason[0] || (err.offset != UINT64_MAX && err.offset >= n + 8)) {
            fprintf(stderr, "damage seed %llu: bad error: offset %llu of %zu, '%s'\n",
                    (unsigned long long)seed, (unsigned long long)err.offset, n, err.reason);
            abort();
        }
        st->rejected++;
        if (rc == REGION_EUNSUPPORTED)
            st->unsupported++;
    }
    mem_free(m);
}
