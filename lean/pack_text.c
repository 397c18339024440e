/*
 * lean/pack_text.c — a text module's statements and their lexical pieces:
 * cutting the text into statements (a line starting in column 1 starts one,
 * indented lines and lines starting with '|' continue it, "--" lines are
 * comments, "/-- … -/" is the doc comment of the next declaration), words,
 * top-level searches, binder groups, declaration heads, and positioned errors.
 */
#include "lean/pack_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


int ln__src_fail(const src *x, size_t off, const char *fmt, ...)
{
    if (!x->err)
        return LN_EINVAL;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < x->len; i++) {
        if (x->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)x->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->err->code = LN_EINVAL;
    x->err->offset = off;
    snprintf(x->err->path, sizeof x->err->path, "%s", x->path);
    snprintf(x->err->reason, sizeof x->err->reason, "%s:%zu:%zu: %s", x->path, line, col, msg);
    return LN_EINVAL;
}

/* ---- statements -------------------------------------------------------- */



int ln__split(const src *x, stmts *out)
{
    size_t i = 0, doc_s = 0, doc_e = 0;
    bool open = false;
    while (i < x->len) {
        size_t ls = i, le = i;
        while (le < x->len && x->s[le] != '\n')
            le++;
        i = le < x->len ? le + 1 : le;
        size_t k = ls;
        while (k < le && (x->s[k] == ' ' || x->s[k] == '\t' || x->s[k] == '\r'))
            k++;
        if (k == le || (le - k >= 2 && x->s[k] == '-' && x->s[k + 1] == '-'))
            continue; /* blank or comment */
        if (le - k >= 3 && !memcmp(x->s + k, "/--", 3)) {
            /* doc comment up to "-/" */
            size_t j = k + 3;
            while (j + 1 < x->len && !(x->s[j] == '-' && x->s[j + 1] == '/'))
                j++;
            if (j + 1 >= x->len)
                return ln__src_fail(x, k, "unterminated doc comment");
            size_t ds = k + 3, de = j;
            while (ds < de && ln__is_ws(x->s[ds]))
                ds++;
            while (de > ds && ln__is_ws(x->s[de - 1]))
                de--;
            doc_s = ds + 1; /* stored +1: 0 means "no doc comment" */
            doc_e = de + 1;
            i = j + 2;
            while (i < x->len && x->s[i] != '\n')
                i++;
            open = false;
            continue;
        }
        if (k == ls && x->s[k] != '|') {
            if (vec_push(out, (stmt){ls, le, doc_s, doc_e}))
                return -ENOMEM;
            doc_s = doc_e = 0;
            open = true;
        } else {
            if (!open)
                return ln__src_fail(x, k, "indented line outside a declaration");
            out->v[out->n - 1].end = le;
        }
    }
    return 0;
}

/* Word at off (letters, digits, _), and the offset after it. */
size_t ln__word_end(const src *x, size_t off, size_t end)
{
    while (off < end && !ln__is_ws(x->s[off]))
        off++;
    return off;
}

size_t ln__skip_ws(const src *x, size_t off, size_t end)
{
    while (off < end && ln__is_ws(x->s[off]))
        off++;
    return off;
}

bool ln__word_is(const src *x, size_t off, size_t end, const char *w)
{
    size_t n = strlen(w);
    return end - off >= n && !memcmp(x->s + off, w, n) && (end - off == n || ln__is_ws(x->s[off + n]));
}

/* First occurrence of pat at bracket depth 0 in [from, to), or to. */
size_t ln__find_top(const src *x, size_t from, size_t to, const char *pat)
{
    size_t n = strlen(pat);
    int depth = 0;
    for (size_t i = from; i < to; i++) {
        const char *c = x->s + i;
        if (*c == '"') {
            for (i++; i < to && x->s[i] != '"'; i++)
                if (x->s[i] == '\\')
                    i++;
            continue;
        }
        if (to - i >= 2 && !memcmp(c, "\xc2\xab", 2)) {
            while (i + 1 < to && memcmp(x->s + i, "\xc2\xbb", 2))
                i++;
            continue;
        }
        if (depth == 0 && to - i >= n && !memcmp(c, pat, n))
            return i;
        if (*c == '(' || *c == '[' || *c == '{' || (to - i >= 3 && !memcmp(c, "\xe2\xa6\x83", 3)))
            depth++;
        else if (*c == ')' || *c == ']' || *c == '}' || (to - i >= 3 && !memcmp(c, "\xe2\xa6\x84", 3)))
            depth--;
    }
    return to;
}



/* Binder groups in [off, end) (whitespace between them). */
int ln__groups_in(const src *x, size_t off, size_t end, group *g, size_t max, size_t *n)
{
    *n = 0;
    for (;;) {
        off = ln__skip_ws(x, off, end);
        if (off >= end)
            return 0;
        char open;
        size_t olen = 1;
        if (x->s[off] == '(' || x->s[off] == '{' || x->s[off] == '[')
            open = x->s[off];
        else if (end - off >= 3 && !memcmp(x->s + off, "\xe2\xa6\x83", 3))
            open = 's', olen = 3;
        else
            return ln__src_fail(x, off, "expected a binder such as (x : T)");
        if (*n == max)
            return ln__src_fail(x, off, "too many binders (at most %zu)", max);
        /* matching close: the first top-level closer after the opener */
        int depth = 0;
        size_t i = off;
        for (; i < end; i++) {
            const char *c = x->s + i;
            if (*c == '(' || *c == '[' || *c == '{' || (end - i >= 3 && !memcmp(c, "\xe2\xa6\x83", 3)))
                depth++;
            else if (*c == ')' || *c == ']' || *c == '}' || (end - i >= 3 && !memcmp(c, "\xe2\xa6\x84", 3))) {
                if (--depth == 0)
                    break;
            }
        }
        if (i >= end)
            return ln__src_fail(x, off, "unclosed binder");
        size_t clen = x->s[i] == ')' || x->s[i] == ']' || x->s[i] == '}' ? 1 : 3;
        group *gr = &g[(*n)++];
        gr->all = (span){off, i + clen};
        gr->open = open;
        size_t ns = ln__skip_ws(x, off + olen, i);
        size_t ne = ns;
        while (ne < i && !ln__is_ws(x->s[ne]) && x->s[ne] != ':')
            ne++;
        size_t colon = ln__skip_ws(x, ne, i);
        if (ne == ns || colon >= i || x->s[colon] != ':')
            return ln__src_fail(x, ns, "expected one name, ':' and a type in a binder");
        gr->name = (span){ns, ne};
        gr->type = (span){colon + 1, i};
        off = i + clen;
    }
}

/* ---- declaration heads -------------------------------------------------- */


int ln__parse_head(const src *x, size_t off, size_t end, head *h)
{
    memset(h, 0, sizeof *h);
    off = ln__skip_ws(x, off, end);
    h->name_s = off;
    while (off < end && !ln__is_ws(x->s[off]) && x->s[off] != ':' && x->s[off] != '(' && x->s[off] != '{' &&
           x->s[off] != '[' && !(end - off >= 2 && !memcmp(x->s + off, ".{", 2)) &&
           !(end - off >= 3 && !memcmp(x->s + off, "\xe2\xa6\x83", 3)))
        off++;
    h->name_e = off;
    if (h->name_e == h->name_s)
        return ln__src_fail(x, off, "expected a declaration name");
    if (end - off >= 2 && !memcmp(x->s + off, ".{", 2)) {
        off += 2;
        for (;;) {
            off = ln__skip_ws(x, off, end);
            size_t s = off;
            while (off < end && x->s[off] != ',' && x->s[off] != '}' && !ln__is_ws(x->s[off]))
                off++;
            if (off == s || h->nlp == 16)
                return ln__src_fail(x, s, "expected a universe name (at most 16)");
            h->lp_s[h->nlp] = s;
            h->lp_e[h->nlp++] = off;
            off = ln__skip_ws(x, off, end);
            if (off < end && x->s[off] == ',') {
                off++;
                continue;
            }
            if (off < end && x->s[off] == '}') {
                off++;
                break;
            }
            return ln__src_fail(x, off, "expected ',' or '}'");
        }
    }
    h->after = off;
    return 0;
}

