/*
 * lean/name.c — Lean.Name: text with Lean's «» escaping, the stored hash, the
 * 2023+ hash computed from components, and comparison with dotted text.
 *
 *   CTOR       REPR   PTRS                    SCALARS
 *   anonymous  box(0) -                       -
 *   str        tag 1  prefix : Name, String   u64 hash
 *   num        tag 2  prefix : Name, Nat      u64 hash
 *
 * Hash (2023+; lean-olean-format.md §4.1): region/hash.h computes it.
 *
 * Text follows Lean's Name.toString (Init/Meta.lean): a string component that
 * is not an identifier (first char isIdFirst, the rest isIdRest) is written
 * «s» unless it contains »; escaping is turned off for the whole name when it
 * is inaccessible (last string component contains ✝ or is _inaccessible), has
 * macro scopes (last string component _hyg), or looks like pseudo-syntax (`_`,
 * root starting with # or ?). Lean additionally escapes a last component that
 * would make the whole name a parser token; without a token table we do not.
 *
 * Components are walked through the prefix chain, which strictly descends in
 * address in a validated region, so every loop here terminates.
 */
#include "lean/lean_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

enum { NAME_STR = 1, NAME_NUM = 2 };

/* ---- component access ---- */

typedef struct comp {
    int      kind;   /* NAME_STR or NAME_NUM */
    lx_word  w;      /* the Name object */
    lx_word  field;  /* String or Nat word */
    const uint8_t *obj, *fobj; /* the checked Name object and String/MPZ (NULL: boxed Nat) */
} comp;

/* One Name object: its shape checked, prefix and component out. */
static int name_step(const ln_module *m, lx_word w, comp *c, lx_word *prefix, region_error *err)
{
    const uint8_t *o = NULL;
    int rc;
    if (lx_is_scalar(w))
        return ln__fail(m, w, err, "Name: boxed value %llu is not Name.anonymous",
                        (unsigned long long)lx_unbox(w));
    if ((rc = ln_obj(m, w, "Name", &o, err)))
        return rc;
    unsigned tag = lx_tag(o);
    if (tag != NAME_STR && tag != NAME_NUM)
        return ln__fail(m, w, err, "Name: expected constructor tag 1 or 2, found tag %u", tag);
    if ((rc = ln__shape(m, w, o, tag, 2, 8, "Name", &o, err)))
        return rc;
    c->kind = (int)tag;
    c->w = w;
    c->obj = o;
    c->fobj = NULL;
    c->field = lx_ctor_get(o, 1);
    *prefix = lx_ctor_get(o, 0);
    if (tag == NAME_STR) {
        if ((rc = ln__big(m, c->field, LX_TAG_STRING, "Name.str component", &c->fobj, err)))
            return rc;
    } else if (!lx_is_scalar(c->field)) {
        if ((rc = ln__big(m, c->field, LX_TAG_MPZ, "Name.num component", &c->fobj, err)))
            return rc;
    }
    return 0;
}

static bool is_anon(lx_word w) { return lx_is_scalar(w) && lx_unbox(w) == 0; }

/*
 * Collects the components root-first into *out (stack storage `local` if it
 * fits, else a new array the caller frees when *out != local).
 */
enum { LOCAL_COMPS = 32 };
static int collect(const ln_module *m, lx_word name, comp *local, comp **out, size_t *n,
                   region_error *err)
{
    size_t depth = 0;
    lx_word w = name, prefix;
    comp c;
    int rc;
    while (!is_anon(w)) {
        if ((rc = name_step(m, w, &c, &prefix, err)))
            return rc;
        depth++;
        w = prefix;
    }
    comp *arr = local;
    if (depth > LOCAL_COMPS && !(arr = mem_try_array(depth, sizeof *arr)))
        return -ENOMEM;
    w = name;
    for (size_t i = depth; i-- > 0;) {
        (void)name_step(m, w, &arr[i], &prefix, NULL); /* checked above */
        w = prefix;
    }
    *out = arr;
    *n = depth;
    return 0;
}

static void str_of(const ln_module *m, const comp *c, const char **s, size_t *len)
{
    (void)m;
    const uint8_t *o = c->fobj; /* checked by name_step */
    *s = lx_string_data(o);
    *len = (size_t)lx_string_len(o);
}

/* ---- identifier classes (Init/Meta.lean) ---- */

/* Decodes one UTF-8 scalar; invalid input yields U+FFFD and advances one byte. */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = len - *i;
    uint32_t c = p[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || n > left) {
        (*i)++;
        return 0xFFFD;
    }
    if (n == 1) {
        (*i)++;
        return c;
    }
    c &= 0x7Fu >> n;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        c = (c << 6) | (p[k] & 0x3F);
    }
    *i += n;
    return c;
}

static bool is_letter_like(uint32_t c)
{
    return (0x3b1 <= c && c <= 0x3c9 && c != 0x3bb) ||
           (0x391 <= c && c <= 0x3A9 && c != 0x3A0 && c != 0x3A3) ||
           (0x3ca <= c && c <= 0x3fb) || (0x1f00 <= c && c <= 0x1ffe) ||
           (0x2100 <= c && c <= 0x214f) || (0x1d49c <= c && c <= 0x1d59f);
}

static bool is_sub_alnum(uint32_t c)
{
    return (0x2080 <= c && c <= 0x2089) || (0x2090 <= c && c <= 0x209c) ||
           (0x1d62 <= c && c <= 0x1d6a);
}

static bool ascii_alpha(uint32_t c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static bool ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }

static bool id_first(uint32_t c) { return ascii_alpha(c) || c == '_' || is_letter_like(c); }
static bool id_rest(uint32_t c)
{
    return ascii_alpha(c) || ascii_digit(c) || c == '_' || c == '\'' || c == '!' || c == '?' ||
           is_letter_like(c) || is_sub_alnum(c);
}

static bool needs_no_escape(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t i = 0;
    if (!id_first(utf8_next(s, len, &i)))
        return false;
    while (i < len)
        if (!id_rest(utf8_next(s, len, &i)))
            return false;
    return true;
}

static bool contains(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (!memcmp(s + i, needle, nl))
            return true;
    return false;
}

/* ---- text ---- */

/* Output sink: an ln_buf, or a caller array that records the needed length. */
typedef struct sink {
    ln_buf *b;
    char   *arr;
    size_t  size, len;
} sink;

static int put(sink *k, const char *s, size_t n)
{
    if (k->b)
        return ln_buf_append(k->b, s, n);
    if (k->len < k->size) {
        size_t room = k->size - 1 - k->len;
        size_t c = n < room ? n : room;
        memcpy(k->arr + k->len, s, c);
    }
    k->len += n;
    return 0;
}

static int format_to(const ln_module *m, lx_word name, sink *k, region_error *err)
{
    comp local[LOCAL_COMPS], *cs = NULL;
    size_t n = 0;
    int rc = collect(m, name, local, &cs, &n, err);
    if (rc)
        return rc;
    if (n == 0) {
        rc = put(k, "[anonymous]", 11);
        goto out;
    }
    /* Whole-name escaping switch (Name.toString). */
    bool escape = true;
    const comp *last_str = NULL;
    for (size_t i = n; i-- > 0;)
        if (cs[i].kind == NAME_STR) { last_str = &cs[i]; break; }
    if (last_str) {
        const char *s; size_t len;
        str_of(m, last_str, &s, &len);
        if (contains(s, len, "\xe2\x9c\x9d") || (len == 13 && !memcmp(s, "_inaccessible", 13)) ||
            (len == 4 && !memcmp(s, "_hyg", 4)))
            escape = false;
    }
    if (cs[0].kind == NAME_STR) {
        const char *s; size_t len;
        str_of(m, &cs[0], &s, &len);
        if ((n == 1 && len == 1 && s[0] == '_') || (len > 0 && (s[0] == '#' || s[0] == '?')))
            escape = false;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (i > 0 && (rc = put(k, ".", 1)))
            break;
        if (cs[i].kind == NAME_NUM) {
            if (k->b) {
                rc = ln_nat_format(m, cs[i].field, k->b, err);
            } else if (lx_is_scalar(cs[i].field)) {
                char num[24];
                int nd = snprintf(num, sizeof num, "%llu", (unsigned long long)lx_unbox(cs[i].field));
                rc = put(k, num, (size_t)nd);
            } else { /* a numeric component beyond 2^63: scratch buffer for the digits */
                ln_buf tmp;
                ln_buf_init(&tmp, 0);
                rc = ln_nat_format(m, cs[i].field, &tmp, err);
                if (!rc)
                    rc = put(k, tmp.data, tmp.len);
                ln_buf_deinit(&tmp);
            }
            continue;
        }
        const char *s; size_t len;
        str_of(m, &cs[i], &s, &len);
        if (escape && !needs_no_escape(s, len) && !contains(s, len, "\xc2\xbb")) {
            if (!(rc = put(k, "\xc2\xab", 2)) && !(rc = put(k, s, len)))
                rc = put(k, "\xc2\xbb", 2);
        } else {
            rc = put(k, s, len);
        }
    }
out:
    if (cs != local)
        mem_free(cs);
    return rc;
}

int ln_name_format(const ln_module *m, lx_word name, ln_buf *out, region_error *err)
{
    sink k = {.b = out};
    return format_to(m, name, &k, err);
}

int ln_name_to_cstr(const ln_module *m, lx_word name, char *buf, size_t size, size_t *needed,
                    region_error *err)
{
    sink k = {.arr = buf, .size = size};
    int rc = format_to(m, name, &k, err);
    if (size > 0)
        buf[k.len < size ? k.len : size - 1] = '\0';
    if (needed)
        *needed = k.len;
    if (rc)
        return rc;
    return k.len < size ? 0 : LN_ETOOBIG;
}

/* ---- hashes ---- */

int ln_name_hash_stored(const ln_module *m, lx_word name, uint64_t *hash, region_error *err)
{
    if (is_anon(name)) {
        *hash = LN_NAME_ANON_HASH;
        return 0;
    }
    comp c;
    lx_word prefix;
    int rc = name_step(m, name, &c, &prefix, err);
    if (rc)
        return rc;
    *hash = lx_rd64(lx_ctor_scalars(c.obj)); /* name_step checked 8 scalar bytes */
    return 0;
}

int ln_name_hash_compute(const ln_module *m, lx_word name, uint64_t *hash, region_error *err)
{
    comp local[LOCAL_COMPS], *cs = NULL;
    size_t n = 0;
    int rc = collect(m, name, local, &cs, &n, err);
    if (rc)
        return rc;
    uint64_t h = LN_NAME_ANON_HASH;
    for (size_t i = 0; i < n && !rc; i++) {
        if (cs[i].kind == NAME_STR) {
            const char *s; size_t len;
            str_of(m, &cs[i], &s, &len);
            h = ln_name_hash_str(h, s, len);
        } else {
            uint64_t v;
            region_error ignore;
            if (ln_nat_u64(m, cs[i].field, &v, &ignore))
                v = 17; /* Nat.hash of a number beyond 64 bits */
            h = ln_name_hash_num(h, v);
        }
    }
    if (cs != local)
        mem_free(cs);
    *hash = h;
    return rc;
}

/* ---- dotted text parsing ---- */

typedef struct text_comp {
    bool        is_num;
    uint64_t    num;
    const char *s;
    size_t      len;
} text_comp;

/*
 * Next component of dotted text starting at *pos. Returns 1 with *c filled,
 * 0 at the end, LN_EINVAL if malformed.
 */
static int text_next(const char *t, size_t len, size_t *pos, text_comp *c)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    if (i > 0) {
        if (t[i] != '.')
            return LN_EINVAL;
        i++;
    }
    memset(c, 0, sizeof *c);
    if (len - i >= 2 && !memcmp(t + i, "\xc2\xab", 2)) {
        size_t j = i + 2;
        while (j + 1 < len && memcmp(t + j, "\xc2\xbb", 2))
            j++;
        if (j + 1 >= len)
            return LN_EINVAL;
        c->s = t + i + 2;
        c->len = j - (i + 2);
        *pos = j + 2;
        return 1;
    }
    size_t j = i;
    while (j < len && t[j] != '.')
        j++;
    if (j == i)
        return LN_EINVAL;
    c->s = t + i;
    c->len = j - i;
    bool digits = true;
    for (size_t k = i; k < j; k++)
        if (!ascii_digit((unsigned char)t[k]))
            digits = false;
    if (digits) {
        uint64_t v = 0;
        for (size_t k = i; k < j; k++) {
            unsigned d = (unsigned)(t[k] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return LN_EINVAL;
            v = v * 10 + d;
        }
        c->is_num = true;
        c->num = v;
    }
    *pos = j;
    return 1;
}

static bool is_anon_text(const char *t, size_t len)
{
    return len == 11 && !memcmp(t, "[anonymous]", 11);
}

int ln_name_hash_text(const char *text, size_t len, uint64_t *hash)
{
    uint64_t h = LN_NAME_ANON_HASH;
    if (is_anon_text(text, len)) {
        *hash = h;
        return 0;
    }
    if (len == 0)
        return LN_EINVAL;
    size_t pos = 0;
    text_comp c;
    int rc;
    while ((rc = text_next(text, len, &pos, &c)) == 1)
        h = c.is_num ? ln_name_hash_num(h, c.num) : ln_name_hash_str(h, c.s, c.len);
    if (rc < 0)
        return rc;
    *hash = h;
    return 0;
}

int ln_name_eq_text(const ln_module *m, lx_word name, const char *text, size_t len, bool *equal,
                    region_error *err)
{
    comp local[LOCAL_COMPS], *cs = NULL;
    size_t n = 0;
    int rc = collect(m, name, local, &cs, &n, err);
    if (rc)
        return rc;
    *equal = false;
    if (is_anon_text(text, len)) {
        *equal = n == 0;
        goto out;
    }
    if (len == 0) {
        rc = ln__fail_code(m, LN_EINVAL, err, "name text is empty");
        goto out;
    }
    size_t pos = 0, i = 0;
    text_comp tc;
    bool same = true;
    while ((rc = text_next(text, len, &pos, &tc)) == 1) {
        if (i >= n) {
            same = false;
            continue; /* keep parsing to report malformed text */
        }
        const comp *c = &cs[i++];
        if (!same)
            continue;
        if (c->kind == NAME_NUM) {
            uint64_t v;
            region_error ignore;
            same = tc.is_num && !ln_nat_u64(m, c->field, &v, &ignore) && v == tc.num;
        } else {
            const char *s; size_t sl;
            str_of(m, c, &s, &sl);
            same = !tc.is_num && sl == tc.len && !memcmp(s, tc.s, sl);
        }
    }
    if (rc < 0) {
        rc = ln__fail_code(m, LN_EINVAL, err, "malformed name text");
        goto out;
    }
    rc = 0;
    *equal = same && i == n;
out:
    if (cs != local)
        mem_free(cs);
    return rc;
}

/* ---- binder display names ---- */

int ln__binder_display(const ln_module *m, lx_word name, ln_buf *out, region_error *err)
{
    comp local[LOCAL_COMPS], *cs = NULL;
    size_t n = 0;
    int rc = collect(m, name, local, &cs, &n, err);
    if (rc)
        return rc;
    if (n == 0) {
        rc = ln_buf_puts(out, "x");
        goto out;
    }
    bool hyg = false;
    for (size_t i = n; i-- > 0;) {
        if (cs[i].kind != NAME_STR)
            continue;
        const char *s; size_t len;
        str_of(m, &cs[i], &s, &len);
        hyg = len == 4 && !memcmp(s, "_hyg", 4);
        break;
    }
    if (!hyg) {
        rc = format_to(m, name, &(sink){.b = out}, err);
        goto out;
    }
    size_t j = 0;
    for (; j < n; j++) {
        if (cs[j].kind != NAME_STR)
            continue;
        const char *s; size_t len;
        str_of(m, &cs[j], &s, &len);
        if (len == 2 && !memcmp(s, "_@", 2))
            break;
    }
    if (j == 0)
        rc = ln_buf_puts(out, "x");
    else
        rc = format_to(m, cs[j - 1].w, &(sink){.b = out}, err);
    if (!rc)
        rc = ln_buf_puts(out, "\xe2\x9c\x9d");
out:
    if (cs != local)
        mem_free(cs);
    return rc;
}

/* ---- equality of two stored names ---- */

int ln_name_eq(const ln_module *m, lx_word a, lx_word b, bool *equal, region_error *err)
{
    /* Max sharing makes equal names one object within a file: the common case is a word compare. */
    for (;;) {
        if (a == b) {
            *equal = true;
            return 0;
        }
        if (is_anon(a) || is_anon(b)) {
            *equal = false;
            return 0;
        }
        comp ca, cb;
        lx_word pa, pb;
        int rc;
        if ((rc = name_step(m, a, &ca, &pa, err)) || (rc = name_step(m, b, &cb, &pb, err)))
            return rc;
        if (ca.kind != cb.kind) {
            *equal = false;
            return 0;
        }
        if (ca.kind == NAME_STR) {
            const char *sa, *sb;
            size_t la, lb;
            str_of(m, &ca, &sa, &la);
            str_of(m, &cb, &sb, &lb);
            if (la != lb || memcmp(sa, sb, la) != 0) {
                *equal = false;
                return 0;
            }
        } else {
            uint64_t va, vb;
            if ((rc = ln_nat_u64(m, ca.field, &va, err)) || (rc = ln_nat_u64(m, cb.field, &vb, err)))
                return rc;
            if (va != vb) {
                *equal = false;
                return 0;
            }
        }
        a = pa;
        b = pb;
    }
}
