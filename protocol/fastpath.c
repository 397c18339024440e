/*
 * protocol/fastpath.c — recognises the request shape that dominates real
 * traffic, a decl.get on an open handle or on an import list:
 *
 *   {"jsonrpc":"2.0","id":17,"method":"decl.get","params":{"env":1,"name":"Nat.add"}}
 *   {"jsonrpc":"2.0","id":18,"method":"decl.get","params":{"imports":["Lean"],"name":"Nat.add"}}
 *
 * without building a JSON document. Keys may come in any order with any JSON
 * whitespace between tokens; the id and env must be plain non-negative
 * integers (at most 18 digits, no leading zero, no sign, fraction or
 * exponent); the name and the imports (1 to RPC_FAST_MAX_IMPORTS) strings of
 * printable ASCII without escapes. Anything else — other keys, a repeated
 * key, both env and imports, escapes, non-ASCII bytes, other methods,
 * "value", "partial" — is not recognised and goes through jansson as usual.
 * A recognised request is, by construction, one the general path reads the
 * same way, so the fast path can only change how fast an answer comes, never
 * which answer (methods_env.c answers it only from the reply cache, and hands
 * everything else to the general path).
 *
 * Pure: no allocation, reads exactly len bytes.
 */
#include "protocol/protocol_internal.h"

#include <string.h>

typedef struct scan {
    const uint8_t *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool eat(scan *s, uint8_t c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without escapes: [*str, *str + *len). */
static bool plain_string(scan *s, const char **str, size_t *len)
{
    if (!eat(s, '"'))
        return false;
    const uint8_t *start = s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p < 0x20 || *s->p >= 0x7f || *s->p == '\\')
            return false;
        s->p++;
    }
    if (s->p == s->end)
        return false;
    *str = (const char *)start;
    *len = (size_t)(s->p - start);
    s->p++;
    return true;
}

static bool plain_uint(scan *s, uint64_t *v, const char **text, size_t *len)
{
    skip_ws(s);
    const uint8_t *start = s->p;
    uint64_t x = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - start < 18)
        x = x * 10 + (uint64_t)(*s->p++ - '0');
    size_t n = (size_t)(s->p - start);
    if (n == 0 || (n > 1 && *start == '0'))
        return false;
    /* A longer number, a fraction or an exponent is not ours. */
    if (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return false;
    *v = x;
    if (text) {
        *text = (const char *)start;
        *len = n;
    }
    return true;
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* ["A", "B", ...]: 1..RPC_FAST_MAX_IMPORTS plain strings. */
static bool parse_imports(scan *s, rpc_fast_get *out)
{
    if (!eat(s, '['))
        return false;
    do {
        if (out->nimports == RPC_FAST_MAX_IMPORTS ||
            !plain_string(s, &out->imports[out->nimports], &out->import_len[out->nimports]))
            return false;
        out->nimports++;
    } while (eat(s, ','));
    return eat(s, ']');
}

static bool parse_params(scan *s, rpc_fast_get *out)
{
    bool have_env = false, have_name = false;
    out->nimports = 0;
    if (!eat(s, '{'))
        return false;
    do {
        const char *k;
        size_t kn;
        if (!plain_string(s, &k, &kn) || !eat(s, ':'))
            return false;
        if (key_is(k, kn, "env") && !have_env) {
            if (!plain_uint(s, &out->env, NULL, NULL))
                return false;
            have_env = true;
        } else if (key_is(k, kn, "imports") && !have_env) {
            if (!parse_imports(s, out))
                return false;
            have_env = true;
        } else if (key_is(k, kn, "name") && !have_name) {
            if (!plain_string(s, &out->name, &out->name_len))
                return false;
            have_name = true;
        } else {
            return false;
        }
    } while (eat(s, ','));
    return eat(s, '}') && have_env && have_name;
}

bool rpc_fast_parse_get(const uint8_t *buf, size_t len, rpc_fast_get *out)
{
    scan s = {buf, buf + len};
    unsigned seen = 0; /* bit per key: jsonrpc, id, method, params */
    if (!eat(&s, '{'))
        return false;
    do {
        const char *k, *v;
        size_t kn, vn;
        unsigned bit;
        if (!plain_string(&s, &k, &kn) || !eat(&s, ':'))
            return false;
        if (key_is(k, kn, "jsonrpc")) {
            bit = 1;
            if (!plain_string(&s, &v, &vn) || !key_is(v, vn, "2.0"))
                return false;
        } else if (key_is(k, kn, "id")) {
            bit = 2;
            if (!plain_uint(&s, &out->id, &out->id_text, &out->id_len))
                return false;
        } else if (key_is(k, kn, "method")) {
            bit = 4;
            if (!plain_string(&s, &v, &vn) || !key_is(v, vn, "decl.get"))
                return false;
        } else if (key_is(k, kn, "params")) {
            bit = 8;
            if (!parse_params(&s, out))
                return false;
        } else {
            return false;
        }
        if (seen & bit)
            return false; /* a repeated key: jansson's error, not ours */
        seen |= bit;
    } while (eat(&s, ','));
    if (!eat(&s, '}') || seen != 15)
        return false;
    skip_ws(&s);
    return s.p == s.end;
}
