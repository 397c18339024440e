/*
 * lean/pack_check.c — expressions of a text module: parsed by ln_expr_parse
 * (lean/parse.c), then every constant they mention looked up among the known
 * names (the session's and the statement's own), every universe parameter
 * among the declaration's.
 */
#include "lean/pack_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Dotted text of a heap Name (for messages); no escaping. */
static void name_text(lx_word n, char *buf, size_t size)
{
    lx_word comps[64];
    size_t k = 0;
    while (!lx_is_scalar(n) && k < 64) {
        comps[k++] = n;
        n = lx_ctor_get(lx_heap_ptr(n), 0);
    }
    size_t len = 0;
    buf[0] = 0;
    while (k > 0 && len + 1 < size) {
        const uint8_t *o = lx_heap_ptr(comps[--k]);
        lx_word c = lx_ctor_get(o, 1);
        int w;
        if (lx_tag(o) == 1) /* Name.str; else Name.num */
            w = snprintf(buf + len, size - len, "%s%s", len ? "." : "", lx_string_data(lx_heap_ptr(c)));
        else
            w = snprintf(buf + len, size - len, "%s%llu", len ? "." : "", (unsigned long long)lx_unbox(c));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

uint64_t ln__name_hash(lx_word n)
{
    uint64_t h = LN_DATA_NAME_ANON_HASH;
    (void)ln_data_name_stored(&LX_HEAP_SPACE, n, &h);
    return h;
}



static size_t find_text(const decl_ctx *d, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = d->start; i + n <= d->end; i++)
        if (!memcmp(d->x->s + i, needle, n))
            return i;
    return d->start;
}

unsigned ln__expr_first_child(unsigned tag)
{
    switch (tag) {
    case LN_APP:    return 0; /* fn, arg */
    case LN_LAM:
    case LN_FORALL:
    case LN_LET:    return 1; /* after the binder name */
    case LN_MDATA:  return 1; /* after the KVMap */
    case LN_PROJ:   return 2; /* after the structure name and the index */
    default:        return UINT_MAX; /* bvar, fvar, mvar, sort, const, lit */
    }
}

/*
 * Is every universe parameter in l declared? 0 yes, 1 no (*bad names it),
 * -ENOMEM. The stack (st, the caller's scratch, left empty) grows with the
 * level: a fixed one would have to skip what does not fit and so let an
 * undeclared universe through.
 */
static int level_check(const decl_ctx *d, word_vec *st, lx_word l, lx_word *bad)
{
    int rc = 0;
    vec_clear(st);
    if (vec_push(st, l))
        return -ENOMEM;
    while (st->n && !rc) {
        lx_word w = vec_pop(st);
        if (lx_is_scalar(w))
            continue;
        const uint8_t *o = lx_heap_ptr(w);
        unsigned t = lx_tag(o);
        if (t == LN_LPARAM) {
            uint64_t h = ln__name_hash(lx_ctor_get(o, 0));
            bool found = false;
            for (size_t i = 0; i < d->nlparams; i++)
                found |= d->lparams[i] == h;
            if (!found) {
                *bad = lx_ctor_get(o, 0);
                rc = 1;
            }
        } else if (t == LN_LSUCC || t == LN_LMAX || t == LN_LIMAX) {
            for (unsigned i = 0; i < lx_ctor_num_objs(o) && !rc; i++)
                if (vec_push(st, lx_ctor_get(o, i)))
                    rc = -ENOMEM;
        }
    }
    vec_clear(st);
    return rc;
}

/* Every constant known, every universe declared. */
static int check_expr(const decl_ctx *d, lx_word e)
{
    word_vec st = {0}, lst = {0}; /* the expression's stack, level_check's */
    int rc = vec_reserve(&st, 256);
    if (rc || (rc = vec_push(&st, e)))
        goto out;
    char nm[256];
    while (st.n && !rc) {
        lx_word w = vec_pop(&st);
        const uint8_t *o = lx_heap_ptr(w);
        unsigned t = lx_tag(o);
        lx_word bad;
        int lv = t == LN_SORT ? level_check(d, &lst, lx_ctor_get(o, 0), &bad) : 0;
        if (lv < 0) {
            rc = lv;
        } else if (lv > 0) {
            name_text(bad, nm, sizeof nm);
            rc = ln__src_fail(d->x, find_text(d, nm), "unknown universe '%s'", nm);
        } else if (t == LN_CONST) {
            uint64_t h = ln__name_hash(lx_ctor_get(o, 0));
            bool ok = ln__known(d->pk, h);
            for (size_t i = 0; i < d->nlocal && !ok; i++)
                ok = d->local[i] == h;
            if (!ok) {
                name_text(lx_ctor_get(o, 0), nm, sizeof nm);
                rc = ln__src_fail(d->x, find_text(d, nm), "unknown constant '%s'", nm);
                break;
            }
            for (lx_word c = lx_ctor_get(o, 1); !lx_is_scalar(c); c = lx_ctor_get(lx_heap_ptr(c), 1)) {
                if ((lv = level_check(d, &lst, lx_ctor_get(lx_heap_ptr(c), 0), &bad)) < 0) {
                    rc = lv;
                    break;
                }
                if (lv > 0) {
                    name_text(bad, nm, sizeof nm);
                    rc = ln__src_fail(d->x, find_text(d, nm), "unknown universe '%s'", nm);
                    break;
                }
            }
        } else {
            unsigned first = ln__expr_first_child(t);
            for (unsigned i = first; i < lx_ctor_num_objs(o) && !rc; i++)
                if (vec_push(&st, lx_ctor_get(o, i)))
                    rc = -ENOMEM;
        }
    }
out:
    vec_free(&st);
    vec_free(&lst);
    return rc;
}

/* Parses [off, end) as an expression and checks it. */
int ln__expr_at(const decl_ctx *d, size_t off, size_t end, lx_word *out)
{
    region_error perr;
    *out = lx_box(0); /* on failure too: nothing to release */
    int rc = ln_expr_parse(d->x->s + off, end - off, out, &perr);
    if (rc)
        *out = lx_box(0);
    if (rc)
        return rc == -ENOMEM ? rc : ln__src_fail(d->x, off + (perr.offset <= end - off ? perr.offset : 0), "%s", perr.reason);
    if ((rc = check_expr(d, *out))) {
        lx_unref(*out);
        *out = lx_box(0);
        return rc;
    }
    return 0;
}

/* Parses generated text; the error position is the statement's. */
int ln__expr_text(const decl_ctx *d, const txt *t, lx_word *out)
{
    *out = lx_box(0); /* on failure too: nothing to release */
    if (t->err)
        return t->err;
    region_error perr;
    int rc = ln_expr_parse(bbuf_cstr(t), t->len, out, &perr);
    if (rc)
        *out = lx_box(0);
    if (rc)
        return rc == -ENOMEM ? rc
                             : ln__src_fail(d->x, d->start, "in a derived declaration: %s (%.120s)", perr.reason,
                                        bbuf_cstr(t));
    if ((rc = check_expr(d, *out))) {
        lx_unref(*out);
        *out = lx_box(0);
        return rc;
    }
    return 0;
}

