/*
 * util/bbuf.h — the one byte buffer of envpool: growable, optionally capped.
 *
 *     bbuf b;
 *     bbuf_init(&b, 0);                 // 0: no limit but memory
 *     bbuf_puts(&b, "fun ");
 *     bbuf_append(&b, text, n);
 *     bbuf_printf(&b, " a_%zu", k);
 *     if (b.err) ...                     // -ENOMEM or -EMSGSIZE, from the first failure
 *     use(b.data, b.len);               // NUL-terminated once anything was added
 *     bbuf_deinit(&b);
 *
 * The error is sticky: after a failure every later append adds nothing and
 * returns the same code, so a sequence of appends can be checked once at the
 * end. A limit is a hard cap on len (a peer's frame, a reply): an append that
 * would pass it adds nothing and fails with -EMSGSIZE. Growth is geometric
 * through mem_try_realloc; a failed growth keeps what was there.
 * Storage is the caller's (_init/_deinit); not thread-safe.
 */
#ifndef ENVPOOL_UTIL_BBUF_H
#define ENVPOOL_UTIL_BBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bbuf {
    char  *data;  /* owned; NULL until the first byte */
    size_t len;   /* bytes held, not counting the NUL kept after them */
    size_t cap;   /* bytes allocated */
    size_t limit; /* most bytes len may reach; 0: no limit */
    int    err;   /* 0, or the first failure's code (sticky until reset) */
} bbuf;

#define BBUF_WUR __attribute__((warn_unused_result))

void bbuf_init(bbuf *b, size_t limit);
void bbuf_deinit(bbuf *b);                  /* frees; b is empty and reusable with its limit */
void bbuf_reset(bbuf *b);                   /* len = 0, err = 0; keeps the memory */
void bbuf_truncate(bbuf *b, size_t len);    /* shortens to len (<= b->len) */
const char *bbuf_cstr(const bbuf *b);       /* borrowed; "" when empty */

/* Room for n more bytes and the NUL: 0, -ENOMEM or -EMSGSIZE (sets err). */
BBUF_WUR int bbuf_reserve(bbuf *b, size_t n);

/* Each returns 0 or err. Adding 0 bytes allocates nothing (s may then be NULL). */
int bbuf_append(bbuf *b, const void *s, size_t n);
int bbuf_puts(bbuf *b, const char *s);
int bbuf_putc(bbuf *b, char c);
int bbuf_printf(bbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Hands the bytes over (NUL-terminated, new: the caller mem_frees them, never
 * NULL when 0 is returned) and leaves b empty. *len may be NULL. 0, or b->err
 * (nothing handed over), or -ENOMEM when an empty buffer cannot get its NUL.
 */
BBUF_WUR int bbuf_steal(bbuf *b, char **out, size_t *len);

#endif
