/*
 * lean/parse.c — heap builders for Name/Level/Expr with Lean's cached data,
 * and a parser for the expression printer's syntax (see parse.h).
 *
 * Grammar (what lean/print.c writes):
 *
 *   expr   := ('∀' | 'fun') binder+ (',' | '=>') expr
 *           | binder '→' expr                 arrow with a binder name
 *           | 'let' ident ':' expr ':=' expr ';' expr
 *           | '[' expr ']' '→' expr            instance arrow
 *           | app ['→' expr]
 *   binder := '(' ident ':' expr ')' | '{' … '}' | '⦃' … '⦄' | '[' … ']'
 *   app    := ('Type' | 'Sort') [latom] | arg+
 *   arg    := ident ['.{' level (',' level)* '}'] | nat | string | '#' nat
 *           | '?' ident | 'Prop' | 'Type' | '(' expr ')'   then proj*
 *   proj   := '.' [name '.'] nat       field nat (from 1) of structure name
 *                                      ([anonymous] if left out), no spaces
 *   level  := ('max' | 'imax') latom latom | latom ['+' nat]
 *   latom  := nat | ident | '?' ident | '(' level ')'
 *
 * The parser is recursive descent; its depth is bounded (LN_PARSE_MAX_DEPTH)
 * and a deeper text is refused with an error rather than risking the stack.
 * Bound variables are resolved by name against a stack of the enclosing
 * binders (the printer makes every name in scope distinct). `x.Prod.1` with
 * x bound lexes as one identifier; it is a projection of x when what follows
 * the bound prefix ends with a numeric component, else a constant.
 */
#include "lean/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/data.h"
#include "region/heap.h"
#include "util/error.h"
#include "util/mem.h"

/* ---- builders ---------------------------------------------------------- */

static void set_data(lx_word o, uint64_t d) { memcpy(lx_ctor_scalars_mut(o), &d, 8); }

lx_word ln_mk_name_str(lx_word prefix, const char *s, size_t len)
{
    uint64_t ph = LN_DATA_NAME_ANON_HASH;
    (void)ln_data_name_stored(&LX_HEAP_SPACE, prefix, &ph);
    lx_word str = lx_string_new(s, len);
    lx_word n = lx_ctor_new(1, 2, 8);
    lx_ctor_set(n, 0, prefix);
    lx_ctor_set(n, 1, str);
    set_data(n, region_name_hash_str(ph, s, len));
    return n;
}

lx_word ln_mk_name_num(lx_word prefix, uint64_t v)
{
    uint64_t ph = LN_DATA_NAME_ANON_HASH;
    (void)ln_data_name_stored(&LX_HEAP_SPACE, prefix, &ph);
    lx_word n = lx_ctor_new(2, 2, 8);
    lx_ctor_set(n, 0, prefix);
    lx_ctor_set(n, 1, lx_box(v));
    set_data(n, region_name_hash_num(ph, v));
    return n;
}

static bool all_digits(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int ln_mk_name_text(const char *t, size_t len, lx_word *out)
{
    lx_word n = lx_box(0);
    size_t i = 0;
    if (len == 11 && !memcmp(t, "[anonymous]", 11)) {
        *out = n;
        return 0;
    }
    while (i < len) {
        if (i > 0) {
            if (t[i] != '.')
                goto bad;
            i++;
        }
        if (len - i >= 2 && !memcmp(t + i, "\xc2\xab", 2)) {
            size_t j = i + 2;
            while (j + 1 < len && memcmp(t + j, "\xc2\xbb", 2))
                j++;
            if (j + 1 >= len)
                goto bad;
            n = ln_mk_name_str(n, t + i + 2, j - i - 2);
            i = j + 2;
            continue;
        }
        size_t j = i;
        while (j < len && t[j] != '.')
            j++;
        if (j == i)
            goto bad;
        if (all_digits(t + i, j - i) && j - i < 19) {
            uint64_t v = 0;
            for (size_t k = i; k < j; k++)
                v = v * 10 + (uint64_t)(t[k] - '0');
            n = ln_mk_name_num(n, v);
        } else {
            n = ln_mk_name_str(n, t + i, j - i);
        }
        i = j;
    }
    if (len == 0)
        goto bad;
    *out = n;
    return 0;
bad:
    lx_unref(n);
    return LN_EINVAL;
}

static lx_word level_node(unsigned tag, lx_word a, lx_word b, unsigned nptr)
{
    lx_word l = lx_ctor_new(tag, nptr, 8);
    lx_ctor_set(l, 0, a);
    if (nptr == 2)
        lx_ctor_set(l, 1, b);
    uint64_t d = 0;
    (void)ln_data_level_compute(&LX_HEAP_SPACE, l, &d);
    set_data(l, d);
    return l;
}

lx_word ln_mk_level_succ(lx_word u)             { return level_node(1, u, 0, 1); }
lx_word ln_mk_level_max(lx_word u, lx_word v)  { return level_node(2, u, v, 2); }
lx_word ln_mk_level_imax(lx_word u, lx_word v) { return level_node(3, u, v, 2); }
lx_word ln_mk_level_param(lx_word name)         { return level_node(4, name, 0, 1); }
lx_word ln_mk_level_mvar(lx_word name)          { return level_node(5, name, 0, 1); }

int ln_mk_nat_dec(const char *s, size_t len, lx_word *out)
{
    if (!all_digits(s, len))
        return LN_EINVAL;
    if (len < 19) {
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (uint64_t)(s[i] - '0');
        *out = lx_box(v);
        return 0;
    }
    /* 32-bit digits, then paired into 64-bit limbs */
    size_t cap = len / 9 + 2, n = 0;
    uint32_t *d32 = mem_try_calloc(cap, 4);
    uint64_t *limbs = mem_try_calloc(cap / 2 + 1, 8);
    if (!d32 || !limbs) {
        mem_free(d32);
        mem_free(limbs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < len; i++) { /* d32 = d32 * 10 + digit */
        uint64_t carry = (uint64_t)(s[i] - '0');
        for (size_t k = 0; k < n; k++) {
            uint64_t x = (uint64_t)d32[k] * 10 + carry;
            d32[k] = (uint32_t)x;
            carry = x >> 32;
        }
        if (carry)
            d32[n++] = (uint32_t)carry;
    }
    size_t n32 = n;
    n = (n32 + 1) / 2;
    for (size_t k = 0; k < n; k++)
        limbs[k] = d32[2 * k] | (2 * k + 1 < n32 ? (uint64_t)d32[2 * k + 1] << 32 : 0);
    mem_free(d32);
    int rc = 0;
    if (n == 0 || (n == 1 && limbs[0] < ((uint64_t)1 << 63)))
        *out = lx_box(n ? limbs[0] : 0);
    else
        rc = lx_mpz_try_new(false, limbs, n, out);
    mem_free(limbs);
    return rc;
}

static lx_word expr_node(unsigned tag, unsigned nptr, size_t scalars, const lx_word *kids, uint8_t byte)
{
    lx_word e = lx_ctor_new(tag, nptr, scalars);
    for (unsigned i = 0; i < nptr; i++)
        lx_ctor_set(e, i, kids[i]);
    if (scalars > 8)
        lx_ctor_scalars_mut(e)[8] = byte;
    uint64_t d = 0;
    (void)ln_data_expr_compute(&LX_HEAP_SPACE, e, &d);
    set_data(e, d);
    return e;
}

lx_word ln_mk_bvar(uint64_t idx)              { lx_word k[1] = {lx_box(idx)}; return expr_node(0, 1, 8, k, 0); }
lx_word ln_mk_mvar(lx_word name)              { lx_word k[1] = {name}; return expr_node(2, 1, 8, k, 0); }
lx_word ln_mk_sort(lx_word level)             { lx_word k[1] = {level}; return expr_node(3, 1, 8, k, 0); }
lx_word ln_mk_const(lx_word name, lx_word ls) { lx_word k[2] = {name, ls}; return expr_node(4, 2, 8, k, 0); }
lx_word ln_mk_app(lx_word f, lx_word a)       { lx_word k[2] = {f, a}; return expr_node(5, 2, 8, k, 0); }

lx_word ln_mk_binder(bool is_lambda, lx_word name, lx_word type, lx_word body, uint8_t bi)
{
    lx_word k[3] = {name, type, body};
    return expr_node(is_lambda ? 6 : 7, 3, 9, k, bi);
}

lx_word ln_mk_let(lx_word name, lx_word type, lx_word value, lx_word body, bool non_dep)
{
    lx_word k[4] = {name, type, value, body};
    return expr_node(8, 4, 9, k, non_dep);
}

static lx_word literal(unsigned tag, lx_word v)
{
    lx_word l = lx_ctor_new(tag, 1, 0);
    lx_ctor_set(l, 0, v);
    lx_word k[1] = {l};
    return expr_node(9, 1, 8, k, 0);
}

lx_word ln_mk_lit_nat(lx_word nat)    { return literal(0, nat); }
lx_word ln_mk_lit_str(lx_word string) { return literal(1, string); }

lx_word ln_mk_proj(lx_word struct_name, uint64_t idx, lx_word e)
{
    lx_word k[3] = {struct_name, lx_box(idx), e};
    return expr_node(11, 3, 8, k, 0);
}

lx_word ln_mk_cons(lx_word head, lx_word tail)
{
    lx_word c = lx_ctor_new(1, 2, 0);
    lx_ctor_set(c, 0, head);
    lx_ctor_set(c, 1, tail);
    return c;
}

/* ---- lexer ------------------------------------------------------------- */

enum tok {
    T_EOF, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_LSTRICT, T_RSTRICT,
    T_COMMA, T_COLON, T_ASSIGN, T_SEMI, T_ARROW, T_FORALL, T_DARROW, T_HASH, T_QUEST, T_PLUS,
    T_PROJ,    /* '.1' or '.S.1' right after an argument (projection) */
    T_UNIV,    /* '.{' right after an identifier */
    T_NAT, T_STRING, T_IDENT, T_BAD,
};

typedef struct parser {
    const char   *s;
    size_t        len, pos;
    enum tok      tok;       /* current token */
    size_t        tstart, tlen;
    bool          space_before; /* whitespace before the current token */
    region_error *err;
    int           rc;
    /* binders in scope: printed names */
    struct { size_t off, len; } *scope;
    size_t        nscope, cscope;
    unsigned      depth;
} parser;

static bool is_special_mb(const char *p, size_t n)
{
    static const char *const sp[] = {"\xe2\x88\x80", "\xe2\x86\x92", "\xe2\xa6\x83", "\xe2\xa6\x84"};
    for (size_t i = 0; i < 4; i++)
        if (n >= 3 && !memcmp(p, sp[i], 3))
            return true;
    return false;
}

static bool id_start_at(const parser *p, size_t i)
{
    if (i >= p->len)
        return false;
    unsigned char c = (unsigned char)p->s[i];
    if (c >= 0x80)
        return !is_special_mb(p->s + i, p->len - i) && !(p->len - i >= 2 && !memcmp(p->s + i, "\xc2\xbb", 2));
    return (c | 32) >= 'a' && (c | 32) <= 'z' ? true : c == '_';
}

static bool id_rest_at(const parser *p, size_t i)
{
    if (i >= p->len)
        return false;
    unsigned char c = (unsigned char)p->s[i];
    if (id_start_at(p, i))
        return true;
    return (c >= '0' && c <= '9') || c == '\'' || c == '!' || c == '?';
}

/*
 * An identifier from byte i: components separated by '.', each «escaped» or a
 * run of identifier characters (digits included, for numeric components).
 * *end is where it stops; false for an unterminated «.
 */
static bool scan_ident(const parser *p, size_t i, size_t *end)
{
    size_t j = i;
    for (;;) {
        if (p->len - j >= 2 && !memcmp(p->s + j, "\xc2\xab", 2)) {
            size_t k = j + 2;
            while (k + 1 < p->len && memcmp(p->s + k, "\xc2\xbb", 2))
                k++;
            if (k + 1 >= p->len) {
                *end = p->len;
                return false;
            }
            j = k + 2;
        } else {
            while (id_rest_at(p, j)) {
                unsigned char b = (unsigned char)p->s[j];
                j += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            }
        }
        /* continue through '.' followed by a component start */
        if (j + 1 < p->len && p->s[j] == '.' &&
            (id_start_at(p, j + 1) || (p->s[j + 1] >= '0' && p->s[j + 1] <= '9') ||
             (p->len - j - 1 >= 2 && !memcmp(p->s + j + 1, "\xc2\xab", 2)))) {
            j++;
            continue;
        }
        *end = j > p->len ? p->len : j;
        return true;
    }
}

static void lex(parser *p)
{
    size_t i = p->pos;
    p->space_before = false;
    while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\n' || p->s[i] == '\t' || p->s[i] == '\r')) {
        i++;
        p->space_before = true;
    }
    p->tstart = i;
    if (i >= p->len) {
        p->tok = T_EOF;
        p->tlen = 0;
        p->pos = i;
        return;
    }
    const char *c = p->s + i;
    size_t rem = p->len - i;
    enum tok t = T_BAD;
    size_t n = 1;
#define IS(lit) (rem >= sizeof(lit) - 1 && !memcmp(c, lit, sizeof(lit) - 1) && (n = sizeof(lit) - 1))
    if (IS("\xe2\x88\x80")) t = T_FORALL;
    else if (IS("\xe2\x86\x92")) t = T_ARROW;
    else if (IS("\xe2\xa6\x83")) t = T_LSTRICT;
    else if (IS("\xe2\xa6\x84")) t = T_RSTRICT;
    else if (IS("=>")) t = T_DARROW;
    else if (IS(":=")) t = T_ASSIGN;
    else if (IS(".{")) t = T_UNIV;
#undef IS
    else {
        n = 1;
        switch (*c) {
        case '(': t = T_LPAREN; break;
        case ')': t = T_RPAREN; break;
        case '{': t = T_LBRACE; break;
        case '}': t = T_RBRACE; break;
        case '[': t = T_LBRACK; break;
        case ']': t = T_RBRACK; break;
        case ',': t = T_COMMA; break;
        case ':': t = T_COLON; break;
        case ';': t = T_SEMI; break;
        case '#': t = T_HASH; break;
        case '?': t = T_QUEST; break;
        case '+': t = T_PLUS; break;
        case '.': { /* .1 or .S.1 (projection), right after an argument */
            size_t end;
            if (rem > 1 && ((c[1] >= '0' && c[1] <= '9') || id_start_at(p, i + 1) ||
                            (rem >= 3 && !memcmp(c + 1, "\xc2\xab", 2)))) {
                t = scan_ident(p, i + 1, &end) ? T_PROJ : T_BAD;
                n = end - i;
            }
            break;
        }
        case '"': {
            t = T_BAD;
            while (n < rem) {
                if (c[n] == '\\' && n + 1 < rem) {
                    n += 2;
                    continue;
                }
                if (c[n++] == '"') {
                    t = T_STRING;
                    break;
                }
            }
            break;
        }
        default:
            if (*c >= '0' && *c <= '9') {
                while (n < rem && c[n] >= '0' && c[n] <= '9')
                    n++;
                t = T_NAT;
            } else if (rem >= 2 && !memcmp(c, "\xc2\xab", 2) ? true : id_start_at(p, i)) {
                size_t end;
                t = scan_ident(p, i, &end) ? T_IDENT : T_BAD;
                n = end - i;
            }
        }
    }
    p->tok = t;
    p->tlen = n;
    p->pos = i + n;
}

static int perr(parser *p, const char *what)
{
    if (p->rc)
        return p->rc;
    p->rc = LN_EINVAL;
    if (p->err) {
        p->err->code = LN_EINVAL;
        p->err->offset = p->tstart;
        snprintf(p->err->reason, sizeof p->err->reason, "expected %s at byte %zu (found '%.*s')", what,
                 p->tstart, (int)(p->tlen > 24 ? 24 : p->tlen), p->s + p->tstart);
    }
    return p->rc;
}

static bool tok_is_word(const parser *p, const char *w)
{
    size_t n = strlen(w);
    return p->tok == T_IDENT && p->tlen == n && !memcmp(p->s + p->tstart, w, n);
}

static int expect(parser *p, enum tok t, const char *what)
{
    if (p->tok != t)
        return perr(p, what);
    lex(p);
    return 0;
}

/* ---- scope ------------------------------------------------------------- */

static int scope_push(parser *p, size_t off, size_t len)
{
    if (p->nscope == p->cscope) {
        size_t c = p->cscope ? 2 * p->cscope : 32;
        void *q = mem_try_realloc(p->scope, c * sizeof *p->scope);
        if (!q)
            return p->rc = -ENOMEM;
        p->scope = q;
        p->cscope = c;
    }
    p->scope[p->nscope].off = off;
    p->scope[p->nscope].len = len;
    p->nscope++;
    return 0;
}

/* de Bruijn index of a bound name, or -1. */
static int64_t scope_find(const parser *p, const char *s, size_t len)
{
    for (size_t k = p->nscope; k-- > 0;)
        if (p->scope[k].len == len && !memcmp(p->s + p->scope[k].off, s, len))
            return (int64_t)(p->nscope - 1 - k);
    return -1;
}

/* ---- projections ------------------------------------------------------ */

/* End of the name component at s[i] (an «escaped» one may hold '.'). */
static size_t comp_end(const char *s, size_t n, size_t i)
{
    if (n - i >= 2 && !memcmp(s + i, "\xc2\xab", 2)) {
        size_t k = i + 2;
        while (k + 1 < n && memcmp(s + k, "\xc2\xbb", 2))
            k++;
        return k + 1 < n ? k + 2 : n;
    }
    while (i < n && s[i] != '.')
        i++;
    return i;
}

/* Does s (the text after a '.') end with a numeric component, as "1" or "Prod.1" do? */
static bool is_proj_suffix(const char *s, size_t n)
{
    size_t i = 0, last = 0;
    while (i < n) {
        last = i;
        i = comp_end(s, n, i) + 1;
    }
    return n > 0 && all_digits(s + last, n - last);
}

/*
 * Applies the projections written after a '.' to *e: "2" is field 2 of a
 * structure not named ([anonymous]), "PProd.2" field 2 of PProd, and
 * "Prod.1.PProd.2" two projections, innermost first. A numeric component
 * ends each projection, so a structure name has no numeric component. On
 * error *e is released.
 */
static int apply_proj(parser *p, const char *s, size_t n, lx_word *e)
{
    size_t i = 0, name_start = 0;
    while (i <= n) {
        size_t j = comp_end(s, n, i);
        if (all_digits(s + i, j - i)) {
            uint64_t v = 0;
            for (size_t k = i; k < j && k < i + 10; k++)
                v = v * 10 + (uint64_t)(s[k] - '0');
            lx_word sname = lx_box(0);
            if (v == 0 || j - i > 9) {
                lx_unref(*e);
                return perr(p, "a projection index from 1 to 999999999");
            }
            if (i > name_start && ln_mk_name_text(s + name_start, i - 1 - name_start, &sname)) {
                lx_unref(*e);
                return perr(p, "a structure name before the projection index");
            }
            *e = ln_mk_proj(sname, v - 1, *e);
            name_start = j + 1;
        }
        i = j + 1;
    }
    if (name_start <= n) {
        lx_unref(*e);
        return perr(p, "a projection index after the structure name");
    }
    return 0;
}

/* ---- levels ------------------------------------------------------------ */

static int parse_level(parser *p, lx_word *out);

static int parse_latom(parser *p, lx_word *out)
{
    if (++p->depth > LN_PARSE_MAX_DEPTH)
        return perr(p, "less deeply nested text");
    int rc = 0;
    if (p->tok == T_NAT) {
        lx_word l = lx_box(0);
        uint64_t k = 0;
        for (size_t i = 0; i < p->tlen; i++) {
            k = k * 10 + (uint64_t)(p->s[p->tstart + i] - '0');
            if (k > 100000) {
                p->depth--;
                return perr(p, "a universe below 100000");
            }
        }
        for (uint64_t i = 0; i < k; i++)
            l = ln_mk_level_succ(l);
        *out = l;
        lex(p);
    } else if (p->tok == T_QUEST || p->tok == T_IDENT) {
        bool mv = p->tok == T_QUEST;
        if (mv)
            lex(p);
        lx_word name;
        if (p->tok != T_IDENT || ln_mk_name_text(p->s + p->tstart, p->tlen, &name)) {
            p->depth--;
            return perr(p, "a universe name");
        }
        *out = mv ? ln_mk_level_mvar(name) : ln_mk_level_param(name);
        lex(p);
    } else if (p->tok == T_LPAREN) {
        lex(p);
        if (!(rc = parse_level(p, out)) && (rc = expect(p, T_RPAREN, "')'")))
            lx_unref(*out);
    } else {
        rc = perr(p, "a universe level");
    }
    p->depth--;
    return rc;
}

static int parse_level(parser *p, lx_word *out)
{
    int rc;
    if (tok_is_word(p, "max") || tok_is_word(p, "imax")) {
        bool im = tok_is_word(p, "imax");
        lex(p);
        lx_word a, b;
        if ((rc = parse_latom(p, &a)))
            return rc;
        if ((rc = parse_latom(p, &b))) {
            lx_unref(a);
            return rc;
        }
        *out = im ? ln_mk_level_imax(a, b) : ln_mk_level_max(a, b);
        return 0;
    }
    if ((rc = parse_latom(p, out)))
        return rc;
    if (p->tok == T_PLUS) {
        lex(p);
        if (p->tok != T_NAT || p->tlen > 5) {
            lx_unref(*out);
            return perr(p, "a small number after '+'");
        }
        uint64_t k = 0;
        for (size_t i = 0; i < p->tlen; i++)
            k = k * 10 + (uint64_t)(p->s[p->tstart + i] - '0');
        for (uint64_t i = 0; i < k; i++)
            *out = ln_mk_level_succ(*out);
        lex(p);
    }
    return 0;
}

/* ---- expressions ------------------------------------------------------- */

static int parse_expr(parser *p, lx_word *out);

static bool starts_arg(const parser *p)
{
    switch (p->tok) {
    case T_LPAREN: case T_NAT: case T_STRING: case T_HASH: case T_QUEST:
        return true;
    case T_IDENT:
        return !tok_is_word(p, "fun") && !tok_is_word(p, "let") && !tok_is_word(p, "Sort");
    default:
        return false;
    }
}

static int parse_string(parser *p, lx_word *out)
{
    const char *s = p->s + p->tstart + 1;
    size_t n = p->tlen - 2;
    char *buf = mem_try_alloc(n + 1);
    if (!buf)
        return p->rc = -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            buf[k++] = s[i];
            continue;
        }
        char e = s[++i];
        if (e == 'n') buf[k++] = '\n';
        else if (e == 't') buf[k++] = '\t';
        else if (e == '\\' || e == '"') buf[k++] = e;
        else if (e == 'x' && i + 2 < n + 1) {
            unsigned v = 0;
            for (int d = 0; d < 2; d++) {
                char h = s[++i];
                v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
            }
            buf[k++] = (char)v;
        } else {
            mem_free(buf);
            return perr(p, "a known string escape");
        }
    }
    lx_word str;
    int rc = lx_string_try_new(buf, k, &str);
    mem_free(buf);
    if (rc)
        return p->rc = rc;
    *out = ln_mk_lit_str(str);
    lex(p);
    return 0;
}

/* An identifier: bound variable, projection of one, or constant with levels. */
static int parse_ident(parser *p, lx_word *out)
{
    const char *s = p->s + p->tstart;
    size_t n = p->tlen;
    int64_t idx = scope_find(p, s, n);
    if (idx >= 0) {
        *out = ln_mk_bvar((uint64_t)idx);
        lex(p);
        return 0;
    }
    /* x.S.1 where x is bound: projections of a variable. */
    for (size_t cut = 0; cut < n; cut++) {
        if (s[cut] != '.' || !is_proj_suffix(s + cut + 1, n - cut - 1))
            continue;
        int64_t b = scope_find(p, s, cut);
        if (b < 0)
            continue;
        lx_word e = ln_mk_bvar((uint64_t)b);
        int rc = apply_proj(p, s + cut + 1, n - cut - 1, &e);
        if (rc)
            return rc;
        *out = e;
        lex(p);
        return 0;
    }
    lx_word name;
    if (ln_mk_name_text(s, n, &name))
        return perr(p, "a well-formed name");
    lex(p);
    lx_word levels = lx_box(0);
    if (p->tok == T_UNIV && !p->space_before) {
        lex(p);
        lx_word items[64];
        size_t k = 0;
        int rc = 0;
        for (;;) {
            if (k == 64) {
                rc = perr(p, "at most 64 universe arguments");
                break;
            }
            if ((rc = parse_level(p, &items[k])))
                break;
            k++;
            if (p->tok == T_COMMA) {
                lex(p);
                continue;
            }
            rc = expect(p, T_RBRACE, "',' or '}'");
            break;
        }
        if (rc) {
            for (size_t i = 0; i < k; i++)
                lx_unref(items[i]);
            lx_unref(name);
            return rc;
        }
        while (k > 0)
            levels = ln_mk_cons(items[--k], levels);
    }
    *out = ln_mk_const(name, levels);
    return 0;
}

static int parse_sort(parser *p, bool allow_level, lx_word *out)
{
    bool type = tok_is_word(p, "Type");
    lex(p);
    lx_word l = lx_box(0);
    int rc;
    bool has = allow_level && (p->tok == T_NAT || p->tok == T_LPAREN || p->tok == T_QUEST ||
                              (p->tok == T_IDENT && !tok_is_word(p, "fun") && !tok_is_word(p, "let")));
    if (has && (rc = parse_latom(p, &l)))
        return rc;
    if (!has && !type)
        return perr(p, "a universe after Sort");
    *out = ln_mk_sort(type ? ln_mk_level_succ(l) : l);
    return 0;
}

static int parse_arg(parser *p, lx_word *out)
{
    int rc = 0;
    switch (p->tok) {
    case T_LPAREN:
        lex(p);
        if ((rc = parse_expr(p, out)))
            return rc;
        if ((rc = expect(p, T_RPAREN, "')'"))) {
            lx_unref(*out);
            return rc;
        }
        break;
    case T_NAT: {
        lx_word v;
        if ((rc = ln_mk_nat_dec(p->s + p->tstart, p->tlen, &v)))
            return p->rc = rc;
        *out = ln_mk_lit_nat(v);
        lex(p);
        break;
    }
    case T_STRING:
        if ((rc = parse_string(p, out)))
            return rc;
        break;
    case T_HASH: { /* loose bound variable #i, relative to the binders in scope */
        lex(p);
        if (p->tok != T_NAT || p->tlen > 15)
            return perr(p, "a number after '#'");
        uint64_t v = 0;
        for (size_t i = 0; i < p->tlen; i++)
            v = v * 10 + (uint64_t)(p->s[p->tstart + i] - '0');
        *out = ln_mk_bvar(v + p->nscope);
        lex(p);
        break;
    }
    case T_QUEST: {
        lex(p);
        lx_word name;
        if (p->tok != T_IDENT || ln_mk_name_text(p->s + p->tstart, p->tlen, &name))
            return perr(p, "a metavariable name");
        *out = ln_mk_mvar(name);
        lex(p);
        break;
    }
    case T_IDENT:
        if (tok_is_word(p, "Prop")) {
            *out = ln_mk_sort(lx_box(0));
            lex(p);
        } else if (tok_is_word(p, "Type")) {
            if ((rc = parse_sort(p, false, out)))
                return rc;
        } else if ((rc = parse_ident(p, out))) {
            return rc;
        }
        break;
    default:
        return perr(p, "an expression");
    }
    while (p->tok == T_PROJ && !p->space_before) {
        if ((rc = apply_proj(p, p->s + p->tstart + 1, p->tlen - 1, out)))
            return rc;
        lex(p);
    }
    return 0;
}

static int parse_app(parser *p, lx_word *out)
{
    int rc;
    if (tok_is_word(p, "Type") || tok_is_word(p, "Sort"))
        return parse_sort(p, true, out);
    if ((rc = parse_arg(p, out)))
        return rc;
    while (starts_arg(p)) {
        lx_word a;
        if ((rc = parse_arg(p, &a))) {
            lx_unref(*out);
            return rc;
        }
        *out = ln_mk_app(*out, a);
    }
    return 0;
}

static uint8_t bracket_info(enum tok t)
{
    return t == T_LBRACE ? 1 : t == T_LSTRICT ? 2 : t == T_LBRACK ? 3 : 0;
}

static enum tok closer(enum tok t)
{
    return t == T_LBRACE ? T_RBRACE : t == T_LSTRICT ? T_RSTRICT : t == T_LBRACK ? T_RBRACK : T_RPAREN;
}

static void unref_n(const lx_word *w, size_t n)
{
    while (n > 0)
        lx_unref(w[--n]);
}

/*
 * The binder name at the current token (an identifier), NEW; its text is
 * at *off, *len; the token is consumed. A name ln_mk_name_text refuses
 * (e.g. a✝ with odd bytes) becomes one string component.
 */
static lx_word binder_name(parser *p, size_t *off, size_t *len)
{
    lx_word name;
    *off = p->tstart;
    *len = p->tlen;
    if (ln_mk_name_text(p->s + *off, *len, &name))
        name = ln_mk_name_str(lx_box(0), p->s + *off, *len);
    lex(p);
    return name;
}

/* Parses an expression in the scope of one more binder, named by s[off, off + len). */
static int parse_in_scope(parser *p, size_t off, size_t len, lx_word *out)
{
    int rc = scope_push(p, off, len);
    if (rc)
        return rc;
    rc = parse_expr(p, out);
    p->nscope--;
    return rc;
}

/* ∀/fun binders ... body. */
static int parse_binders(parser *p, bool lam, lx_word *out)
{
    lex(p);
    lx_word names[256], types[256];
    uint8_t infos[256];
    size_t k = 0;
    int rc = 0;
    while (p->tok == T_LPAREN || p->tok == T_LBRACE || p->tok == T_LSTRICT || p->tok == T_LBRACK) {
        if (k == 256) {
            rc = perr(p, "at most 256 binders in one group");
            goto fail;
        }
        enum tok open = p->tok;
        lex(p);
        if (p->tok != T_IDENT) {
            rc = perr(p, "a binder name");
            goto fail;
        }
        size_t noff, nlen;
        names[k] = binder_name(p, &noff, &nlen);
        if ((rc = expect(p, T_COLON, "':'"))) {
            lx_unref(names[k]);
            goto fail;
        }
        if ((rc = parse_expr(p, &types[k]))) {
            lx_unref(names[k]);
            goto fail;
        }
        infos[k] = bracket_info(open);
        k++;
        if ((rc = expect(p, closer(open), "a closing bracket")) || (rc = scope_push(p, noff, nlen)))
            goto fail;
    }
    if (k == 0) {
        rc = perr(p, "a binder");
        goto fail;
    }
    if ((rc = expect(p, lam ? T_DARROW : T_COMMA, lam ? "'=>'" : "','")))
        goto fail;
    lx_word body;
    if ((rc = parse_expr(p, &body)))
        goto fail;
    while (k > 0) {
        k--;
        body = ln_mk_binder(lam, names[k], types[k], body, infos[k]);
        p->nscope--;
    }
    *out = body;
    return 0;
fail:
    p->nscope -= k < p->nscope ? k : p->nscope;
    while (k > 0) {
        k--;
        lx_unref(names[k]);
        lx_unref(types[k]);
    }
    return rc;
}

static int parse_let(parser *p, lx_word *out)
{
    lex(p);
    if (p->tok != T_IDENT)
        return perr(p, "a let name");
    size_t noff, nlen, k = 0;
    lx_word w[4]; /* name, type, value, body: the first k are built */
    w[k++] = binder_name(p, &noff, &nlen);
    int rc = expect(p, T_COLON, "':'");
    if (!rc && !(rc = parse_expr(p, &w[k])))
        k++;
    if (!rc)
        rc = expect(p, T_ASSIGN, "':='");
    if (!rc && !(rc = parse_expr(p, &w[k])))
        k++;
    if (!rc)
        rc = expect(p, T_SEMI, "';'");
    if (!rc && !(rc = parse_in_scope(p, noff, nlen, &w[k])))
        k++;
    if (rc) {
        unref_n(w, k);
        return rc;
    }
    *out = ln_mk_let(w[0], w[1], w[2], w[3], false);
    return 0;
}

/* Is the current token an opening bracket followed by `ident :` (a binder)? */
static bool at_binder(parser *p)
{
    if (p->tok != T_LPAREN && p->tok != T_LBRACE && p->tok != T_LSTRICT && p->tok != T_LBRACK)
        return false;
    parser save = *p;
    lex(p);
    bool yes = p->tok == T_IDENT;
    if (yes) {
        lex(p);
        yes = p->tok == T_COLON;
    }
    *p = save;
    return yes;
}

/* (x : A) → B, and likewise [x : C] → B, {x : A} → B, ⦃x : A⦄ → B. */
static int parse_named_arrow(parser *p, lx_word *out)
{
    enum tok open = p->tok;
    lex(p);
    size_t noff, nlen, k = 0;
    lx_word w[3]; /* name, type, body: the first k are built */
    w[k++] = binder_name(p, &noff, &nlen);
    int rc = expect(p, T_COLON, "':'");
    if (!rc && !(rc = parse_expr(p, &w[k])))
        k++;
    if (!rc)
        rc = expect(p, closer(open), "a closing bracket");
    if (!rc)
        rc = expect(p, T_ARROW, "'\xe2\x86\x92'");
    if (!rc && !(rc = parse_in_scope(p, noff, nlen, &w[k])))
        k++;
    if (rc) {
        unref_n(w, k);
        return rc;
    }
    *out = ln_mk_binder(false, w[0], w[1], w[2], bracket_info(open));
    return 0;
}

static int parse_expr(parser *p, lx_word *out)
{
    if (++p->depth > LN_PARSE_MAX_DEPTH)
        return perr(p, "less deeply nested text");
    int rc;
    if (p->tok == T_FORALL || tok_is_word(p, "fun")) {
        rc = parse_binders(p, p->tok != T_FORALL, out);
    } else if (at_binder(p)) {
        rc = parse_named_arrow(p, out);
    } else if (tok_is_word(p, "let")) {
        rc = parse_let(p, out);
    } else {
        uint8_t bi = 0;
        lx_word dom;
        if (p->tok == T_LBRACK) { /* [C] → B */
            lex(p);
            if ((rc = parse_expr(p, &dom)))
                goto out;
            if ((rc = expect(p, T_RBRACK, "']'"))) {
                lx_unref(dom);
                goto out;
            }
            bi = 3;
            if (p->tok != T_ARROW) {
                lx_unref(dom);
                rc = perr(p, "'→' after an instance binder");
                goto out;
            }
        } else if ((rc = parse_app(p, &dom))) {
            goto out;
        }
        if (p->tok != T_ARROW) {
            *out = dom;
            goto out;
        }
        lex(p);
        /* an unnamed variable: nothing can refer to it by name */
        lx_word body;
        if ((rc = parse_in_scope(p, 0, 0, &body))) {
            lx_unref(dom);
            goto out;
        }
        *out = ln_mk_binder(false, lx_box(0), dom, body, bi);
    }
out:
    p->depth--;
    return rc;
}

int ln_expr_parse(const char *text, size_t len, lx_word *out, region_error *err)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.len = len;
    p.err = err;
    if (err) {
        err->code = 0;
        err->offset = UINT64_MAX;
        err->path[0] = err->reason[0] = 0;
    }
    lex(&p);
    int rc = parse_expr(&p, out);
    if (!rc && p.tok != T_EOF) {
        lx_unref(*out);
        rc = perr(&p, "the end of the expression");
    }
    mem_free(p.scope);
    return rc ? (p.rc ? p.rc : rc) : 0;
}
