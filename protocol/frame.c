/*
 * protocol/frame.c — cuts one connection's byte stream into frames.
 *
 * The reader owns the connection's read buffer {buf, size, start, end}: the
 * host asks for free space (frame_space), reads into it, commits, then takes
 * every complete frame (frame_next). Bytes arrive in arbitrary chunks; no
 * state depends on where a chunk ends.
 *
 * The framing is chosen from the connection's first bytes: `Content-Length:`
 * (any case, after optional whitespace) selects LSP base framing, anything
 * else newline-delimited JSON. The buffer never grows past max_frame plus room
 * for one LSP header block and a line terminator, so a peer cannot make us
 * buffer more than that: a frame that would not fit is FRAME_ETOOBIG, which
 * is sticky (the host answers with an error and closes).
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/mem.h"

#define FRAME_INITIAL_SIZE 16384u

static const char lsp_magic[] = "content-length:";

void frame_init(frame_reader *fr, size_t max_frame)
{
    memset(fr, 0, sizeof *fr);
    fr->max_frame = max_frame ? max_frame : FRAME_DEFAULT_MAX;
}

void frame_deinit(frame_reader *fr)
{
    mem_free(fr->buf);
    fr->buf = NULL;
    fr->size = fr->start = fr->end = 0;
}

/* Largest buffer we ever hold: one frame, its header block or line end. */
static size_t frame_cap(const frame_reader *fr)
{
    return fr->max_frame + FRAME_MAX_HEADER + 2;
}

int frame_space(frame_reader *fr, uint8_t **ptr, size_t *len)
{
    if (fr->start > 0) {
        size_t keep = fr->end - fr->start;
        if (keep)
            memmove(fr->buf, fr->buf + fr->start, keep);
        fr->start = 0;
        fr->end = keep;
    }
    if (fr->end == fr->size) {
        size_t cap = frame_cap(fr);
        if (fr->size >= cap)
            return -ENOSPC;
        size_t want = fr->size ? fr->size * 2 : FRAME_INITIAL_SIZE;
        if (want > cap || want < fr->size)
            want = cap;
        uint8_t *nb = mem_try_realloc(fr->buf, want);
        if (!nb)
            return -ENOMEM;
        fr->buf = nb;
        fr->size = want;
    }
    *ptr = fr->buf + fr->end;
    *len = fr->size - fr->end;
    return 0;
}

void frame_commit(frame_reader *fr, size_t n)
{
    /* The host read at most what frame_space offered: our own invariant. */
    ENVPOOL_INVARIANT(n <= fr->size - fr->end, "%zu bytes committed, %zu offered", n, fr->size - fr->end);
    fr->end += n;
}

int frame_feed(frame_reader *fr, const uint8_t *data, size_t len, size_t *taken)
{
    *taken = 0;
    while (*taken < len) {
        uint8_t *p;
        size_t room;
        int rc = frame_space(fr, &p, &room);
        if (rc < 0)
            return *taken ? 0 : rc;
        size_t n = len - *taken < room ? len - *taken : room;
        memcpy(p, data + *taken, n);
        frame_commit(fr, n);
        *taken += n;
    }
    return 0;
}

size_t frame_buffered(const frame_reader *fr)
{
    return fr->end - fr->start;
}

const char *frame_mode_name(enum frame_mode mode)
{
    switch (mode) {
    case FRAME_LINES: return "line";
    case FRAME_LSP:   return "lsp";
    default:          return "detect";
    }
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Returns 1 when the mode is known, 0 when more bytes are needed. */
static int detect(frame_reader *fr)
{
    while (fr->start < fr->end && is_space(fr->buf[fr->start]))
        fr->start++;
    size_t avail = fr->end - fr->start;
    size_t mlen = sizeof lsp_magic - 1;
    size_t n = avail < mlen ? avail : mlen;
    if (avail == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (lower(fr->buf[fr->start + i]) != (uint8_t)lsp_magic[i]) {
            fr->mode = FRAME_LINES;
            return 1;
        }
    }
    if (n < mlen)
        return 0;
    fr->mode = FRAME_LSP;
    return 1;
}

static int fail(frame_reader *fr, int err)
{
    fr->error = err;
    return err;
}

static int next_line(frame_reader *fr, const uint8_t **frame, size_t *len)
{
    for (;;) {
        size_t avail = fr->end - fr->start;
        const uint8_t *base = fr->buf + fr->start;
        const uint8_t *nl = fr->scanned < avail
            ? memchr(base + fr->scanned, '\n', avail - fr->scanned) : NULL;
        if (!nl) {
            fr->scanned = avail;
            /* max_frame bytes of payload plus an optional '\r' may still end well. */
            if (avail > fr->max_frame + 1)
                return fail(fr, FRAME_ETOOBIG);
            return 0;
        }
        size_t n = (size_t)(nl - base);
        fr->start += n + 1;
        fr->scanned = 0;
        if (n && base[n - 1] == '\r')
            n--;
        if (n > fr->max_frame)
            return fail(fr, FRAME_ETOOBIG);
        size_t i = 0;
        while (i < n && is_space(base[i]))
            i++;
        if (i == n)
            continue; /* blank line: keep-alive, ignored */
        *frame = base;
        *len = n;
        return 1;
    }
}

/* Parses the header block base[0..hlen) (without the blank line). */
static int parse_lsp_header(frame_reader *fr, const uint8_t *base, size_t hlen)
{
    bool have_len = false;
    size_t pos = 0;
    while (pos < hlen) {
        const uint8_t *eol = memchr(base + pos, '\n', hlen - pos);
        size_t lend = eol ? (size_t)(eol - base) : hlen;
        size_t l = lend;
        if (l > pos && base[l - 1] == '\r')
            l--;
        const uint8_t *line = base + pos;
        size_t llen = l - pos;
        const uint8_t *colon = memchr(line, ':', llen);
        if (!colon || colon == line)
            return fail(fr, FRAME_EHEADER);
        size_t nlen = (size_t)(colon - line);
        if (nlen == sizeof lsp_magic - 2) {
            bool match = true;
            for (size_t i = 0; i < nlen; i++)
                if (lower(line[i]) != (uint8_t)lsp_magic[i])
                    match = false;
            if (match) {
                if (have_len)
                    return fail(fr, FRAME_EHEADER);
                size_t v = nlen + 1;
                while (v < llen && (line[v] == ' ' || line[v] == '\t'))
                    v++;
                if (v == llen)
                    return fail(fr, FRAME_EHEADER);
                uint64_t val = 0;
                bool big = false;
                for (; v < llen && line[v] >= '0' && line[v] <= '9'; v++) {
                    if (val > (UINT64_MAX - 9) / 10)
                        big = true;
                    else
                        val = val * 10 + (uint64_t)(line[v] - '0');
                }
                while (v < llen && (line[v] == ' ' || line[v] == '\t'))
                    v++;
                if (v != llen)
                    return fail(fr, FRAME_EHEADER);
                if (big || val > fr->max_frame)
                    return fail(fr, FRAME_ETOOBIG);
                fr->body_len = (size_t)val;
                have_len = true;
            }
        }
        pos = lend + 1;
    }
    if (!have_len)
        return fail(fr, FRAME_EHEADER);
    return 0;
}

static int next_lsp(frame_reader *fr, const uint8_t **frame, size_t *len)
{
    if (!fr->have_header) {
        size_t avail = fr->end - fr->start;
        const uint8_t *base = fr->buf + fr->start;
        size_t lim = avail < FRAME_MAX_HEADER ? avail : FRAME_MAX_HEADER;
        size_t hlen = 0, skip = 0;
        /* The header block ends at an empty line: "\r\n\r\n" (or "\n\n"), and the
         * whole block, terminator included, must lie within FRAME_MAX_HEADER bytes
         * (decided on those bytes alone, so chunking cannot change the outcome). */
        for (size_t i = 0; i < lim; i++) {
            if (base[i] != '\n')
                continue;
            if (i + 1 < lim && base[i + 1] == '\n') {
                hlen = i; skip = i + 2; break;
            }
            if (i + 2 < lim && base[i + 1] == '\r' && base[i + 2] == '\n') {
                hlen = i; skip = i + 3; break;
            }
        }
        if (!skip) {
            if (avail >= FRAME_MAX_HEADER)
                return fail(fr, FRAME_EHEADER);
            return 0;
        }
        int rc = parse_lsp_header(fr, base, hlen);
        if (rc < 0)
            return rc;
        fr->start += skip;
        fr->have_header = true;
    }
    if (fr->end - fr->start < fr->body_len)
        return 0;
    *frame = fr->buf + fr->start;
    *len = fr->body_len;
    fr->start += fr->body_len;
    fr->have_header = false;
    fr->body_len = 0;
    return 1;
}

int frame_next(frame_reader *fr, const uint8_t **frame, size_t *len)
{
    if (fr->error)
        return fr->error;
    if (fr->mode == FRAME_DETECT && !detect(fr))
        return 0;
    if (fr->mode == FRAME_LSP)
        return next_lsp(fr, frame, len);
    return next_line(fr, frame, len);
}

/* Room for "Content-Length: <20 digits>\r\n\r\n" in front of an LSP message. */
enum { FRAME_HEAD_ROOM = 48 };

typedef struct dump_buf {
    char  *data;
    size_t len, cap;
} dump_buf;

static int dump_append(const char *buffer, size_t size, void *data)
{
    dump_buf *d = data;
    if (size > d->cap - d->len) {
        size_t cap = d->cap * 2;
        while (cap - d->len < size)
            cap *= 2;
        char *grown = mem_try_realloc(d->data, cap);
        if (!grown)
            return -1;
        d->data = grown;
        d->cap = cap;
    }
    memcpy(d->data + d->len, buffer, size);
    d->len += size;
    return 0;
}

/*
 * The message sits at d->data + FRAME_HEAD_ROOM .. d->len: put the framing
 * around it and hand the buffer over.
 */
static int frame_finish(enum frame_mode mode, dump_buf *d, char **out, size_t *out_len)
{
    size_t n = d->len - FRAME_HEAD_ROOM, start = FRAME_HEAD_ROOM;
    if (mode == FRAME_LSP) {
        char hdr[FRAME_HEAD_ROOM];
        int h = snprintf(hdr, sizeof hdr, "Content-Length: %zu\r\n\r\n", n);
        start = FRAME_HEAD_ROOM - (size_t)h;
        memcpy(d->data + start, hdr, (size_t)h);
    } else if (dump_append("\n", 1, d) < 0) {
        mem_free(d->data);
        return -ENOMEM;
    }
    if (start)
        memmove(d->data, d->data + start, d->len - start);
    *out = d->data;
    *out_len = d->len - start;
    return 0;
}

static int frame_begin(dump_buf *d, size_t hint)
{
    d->cap = FRAME_HEAD_ROOM + (hint > 256 ? hint : 256) + 1;
    d->len = FRAME_HEAD_ROOM;
    d->data = mem_try_alloc(d->cap);
    return d->data ? 0 : -ENOMEM;
}

int frame_encode(enum frame_mode mode, const json_t *json, char **out, size_t *out_len)
{
    /* One pass: jansson streams into our buffer (json_dumpb would need two). */
    dump_buf d;
    if (frame_begin(&d, 512) < 0)
        return -ENOMEM;
    if (json_dump_callback(json, dump_append, &d, JSON_COMPACT | JSON_ENCODE_ANY) != 0 ||
        d.len == FRAME_HEAD_ROOM) {
        mem_free(d.data);
        return -EINVAL;
    }
    return frame_finish(mode, &d, out, out_len);
}

int frame_encode_text(enum frame_mode mode, const char *const *parts, const size_t *lens, size_t n,
                      char **out, size_t *out_len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    dump_buf d;
    if (frame_begin(&d, total) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (dump_append(parts[i], lens[i], &d) < 0) {
            mem_free(d.data);
            return -ENOMEM;
        }
    return frame_finish(mode, &d, out, out_len);
}
