/*
 * lean/buf.c — ln_buf, the bounded growable text buffer every formatter of
 * lean/ writes into. Growth is geometric through mem_try_realloc; the limit is
 * a hard cap on len so that printing a heavily shared term cannot exhaust
 * memory: past it the text is cut at a UTF-8 boundary and "…" appended.
 */
#include "lean/lean.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

static const char ellipsis[] = "\xe2\x80\xa6"; /* … */

void ln_buf_init(ln_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : LN_BUF_DEFAULT_LIMIT;
    b->truncated = false;
}

void ln_buf_deinit(ln_buf *b)
{
    mem_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ln_buf_reset(ln_buf *b)
{
    b->len = 0;
    b->truncated = false;
    if (b->data)
        b->data[0] = '\0';
}

const char *ln_buf_cstr(const ln_buf *b)
{
    return b->data ? b->data : "";
}

/* Makes room for len + n + NUL bytes. */
static int reserve(ln_buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = mem_try_realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ln_buf_append(ln_buf *b, const char *s, size_t n)
{
    if (b->truncated)
        return LN_ETOOBIG;
    size_t room = b->limit > b->len ? b->limit - b->len : 0;
    if (n <= room) {
        int rc = reserve(b, n);
        if (rc)
            return rc;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    /* Cut: keep what fits, back off to a UTF-8 boundary, add the marker. */
    size_t keep = room;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
        keep--;
    int rc = reserve(b, keep + sizeof ellipsis - 1);
    if (rc)
        return rc;
    memcpy(b->data + b->len, s, keep);
    b->len += keep;
    memcpy(b->data + b->len, ellipsis, sizeof ellipsis - 1);
    b->len += sizeof ellipsis - 1;
    b->data[b->len] = '\0';
    b->truncated = true;
    return LN_ETOOBIG;
}

int ln_buf_puts(ln_buf *b, const char *s)
{
    return ln_buf_append(b, s, strlen(s));
}

int ln_buf_printf(ln_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return ln_buf_append(b, small, (size_t)n);
    char *big = mem_try_alloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = ln_buf_append(b, big, (size_t)n);
    mem_free(big);
    return rc;
}

void ln_buf_cut(ln_buf *b)
{
    if (b->truncated)
        return;
    size_t lim = b->limit;
    b->limit = b->len; /* forces the cut path, which always has room for the marker */
    if (ln_buf_append(b, ellipsis, sizeof ellipsis - 1) == -ENOMEM)
        b->truncated = true;
    b->limit = lim;
}
