/*
 * util/bbuf.c — the byte buffer of bbuf.h.
 */
#include "util/bbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

void bbuf_init(bbuf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
    b->err = 0;
}

void bbuf_deinit(bbuf *b)
{
    mem_free(b->data);
    bbuf_init(b, b->limit);
}

void bbuf_reset(bbuf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

void bbuf_truncate(bbuf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

const char *bbuf_cstr(const bbuf *b) { return b->data ? b->data : ""; }

int bbuf_reserve(bbuf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (b->limit && (n > b->limit || b->len > b->limit - n))
        return b->err = -EMSGSIZE;
    if (n > SIZE_MAX - 1 - b->len)
        return b->err = -ENOMEM;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t c = b->cap ? b->cap : 64;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : 2 * c;
    char *p = mem_try_realloc(b->data, c);
    if (!p)
        return b->err = -ENOMEM;
    b->data = p;
    b->cap = c;
    return 0;
}

int bbuf_append(bbuf *b, const void *s, size_t n)
{
    if (n == 0)
        return b->err; /* nothing to add: no allocation either */
    int rc = bbuf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int bbuf_puts(bbuf *b, const char *s) { return bbuf_append(b, s, strlen(s)); }

int bbuf_putc(bbuf *b, char c) { return bbuf_append(b, &c, 1); }

int bbuf_printf(bbuf *b, const char *fmt, ...)
{
    if (b->err)
        return b->err;
    /* First into the room there is; again only when that was too small. */
    size_t room = b->data ? b->cap - b->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (b->data)
            b->data[b->len] = '\0';
        return b->err = -EINVAL;
    }
    if ((size_t)n >= room) {
        if (b->data)
            b->data[b->len] = '\0';
        int rc = bbuf_reserve(b, (size_t)n);
        if (rc)
            return rc;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    } else if (b->limit && (size_t)n > b->limit - b->len) {
        b->data[b->len] = '\0';
        return b->err = -EMSGSIZE;
    }
    b->len += (size_t)n;
    return 0;
}

int bbuf_steal(bbuf *b, char **out, size_t *len)
{
    if (b->err)
        return b->err;
    if (!b->data && bbuf_reserve(b, 0))
        return b->err;
    b->data[b->len] = '\0';
    *out = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}
