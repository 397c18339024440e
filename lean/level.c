/*
 * lean/level.c — Lean.Level (lean-olean-format.md §4.2) and its text.
 *
 *   CTOR   TAG  PTRS      SCALARS
 *   zero   0    -         box(0) since 2023; 2022: a ctor with u64 data (16 bytes)
 *   succ   1    l         u64 data
 *   max    2    l1, l2    u64 data
 *   imax   3    l1, l2    u64 data
 *   param  4    Name      u64 data
 *   mvar   5    Name      u64 data
 *
 * Text as Lean prints levels: 0, 3, u, u + 1, max u v, imax u v, ?u, with
 * parentheses around compound arguments. Printing uses an explicit stack, so a
 * deeply nested level from a hostile file cannot overflow the C stack.
 */
#include "lean/lean_internal.h"

#include <errno.h>
#include <string.h>

#include "util/mem.h"

static const unsigned level_ptrs[] = {0, 1, 2, 2, 1, 1};

int ln_level_view(const ln_module *m, lx_word w, ln_level *out, region_error *err)
{
    memset(out, 0, sizeof *out);
    if (lx_is_scalar(w)) {
        if (lx_unbox(w) != 0)
            return ln__fail(m, w, err, "Level: boxed value %llu is not Level.zero",
                            (unsigned long long)lx_unbox(w));
        out->kind = LN_LZERO;
        return 0;
    }
    const uint8_t *o = NULL;
    int rc = ln_obj(m, w, "Level", &o, err);
    if (rc)
        return rc;
    unsigned tag = lx_tag(o);
    if (tag > LN_LMVAR)
        return ln__fail(m, w, err, "Level: unknown constructor tag %u", tag);
    rc = ln__shape(m, w, o, tag, level_ptrs[tag], 8, "Level", &o, err);
    if (rc)
        return rc;
    out->kind = (enum ln_level_kind)tag;
    if (level_ptrs[tag] >= 1)
        out->a = lx_ctor_get(o, 0);
    if (level_ptrs[tag] >= 2)
        out->b = lx_ctor_get(o, 1);
    return 0;
}

/* Explicit-stack printer. */
typedef struct ltask {
    const char *text;  /* non-NULL: emit this */
    lx_word     w;     /* else print this level */
    bool        paren; /* parenthesise a compound level */
    uint64_t    plus;  /* text == NULL && plus: emit " + plus" (w unused) */
    bool        is_plus;
} ltask;

typedef struct lstack {
    ltask *t;
    size_t n, cap;
} lstack;

static int push(lstack *s, ltask t)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        ltask *p = mem_try_realloc(s->t, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        s->t = p;
        s->cap = cap;
    }
    s->t[s->n++] = t;
    return 0;
}

static int push_text(lstack *s, const char *text) { return push(s, (ltask){.text = text}); }
static int push_level(lstack *s, lx_word w, bool paren) { return push(s, (ltask){.w = w, .paren = paren}); }

int ln_level_format(const ln_module *m, lx_word w, ln_buf *out, region_error *err)
{
    lstack s = {0};
    int rc = push_level(&s, w, false);
    while (!rc && s.n > 0) {
        ltask t = s.t[--s.n];
        if (t.text) {
            rc = ln_buf_puts(out, t.text);
            continue;
        }
        if (t.is_plus) {
            rc = ln_buf_printf(out, " + %llu", (unsigned long long)t.plus);
            continue;
        }
        ln_level l;
        if ((rc = ln_level_view(m, t.w, &l, err)))
            break;
        switch (l.kind) {
        case LN_LZERO:
            rc = ln_buf_puts(out, "0");
            break;
        case LN_LSUCC: {
            uint64_t k = 0;
            lx_word base = t.w;
            while (!rc && l.kind == LN_LSUCC) {
                k++;
                base = l.a;
                rc = ln_level_view(m, base, &l, err);
            }
            if (rc)
                break;
            if (l.kind == LN_LZERO) {
                rc = ln_buf_printf(out, "%llu", (unsigned long long)k);
                break;
            }
            /* pushed in reverse: "(" base " + k" ")" */
            if (t.paren)
                rc = push_text(&s, ")");
            if (!rc)
                rc = push(&s, (ltask){.is_plus = true, .plus = k});
            if (!rc)
                rc = push_level(&s, base, true);
            if (!rc && t.paren)
                rc = push_text(&s, "(");
            break;
        }
        case LN_LMAX:
        case LN_LIMAX:
            if (t.paren)
                rc = push_text(&s, ")");
            if (!rc) rc = push_level(&s, l.b, true);
            if (!rc) rc = push_text(&s, " ");
            if (!rc) rc = push_level(&s, l.a, true);
            if (!rc) rc = push_text(&s, l.kind == LN_LMAX ? "max " : "imax ");
            if (!rc && t.paren)
                rc = push_text(&s, "(");
            break;
        case LN_LPARAM:
            rc = ln_name_format(m, l.a, out, err);
            break;
        case LN_LMVAR:
            if (!(rc = ln_buf_puts(out, "?")))
                rc = ln_name_format(m, l.a, out, err);
            break;
        }
    }
    mem_free(s.t);
    return rc;
}
