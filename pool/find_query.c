/*
 * pool/find_query.c — the parser of decl.find's query language (Loogle's).
 *
 * A query is filters separated by commas: an identifier (a constant), a
 * quoted string (a piece of the name), a term pattern, or `⊢ pattern` /
 * `|- pattern` (the conclusion). Terms are a subset of Lean's term syntax,
 * read with Lean's precedences (Init/Prelude, Init/Core, Init/Notation):
 * application, parentheses, holes `_` and named holes `?a`, numerals, string
 * literals, `Prop`/`Type _`/`Sort _`, `∀`/`∃`/`fun` binders, `→`, and the
 * notation table below, each operator read as the constant(s) it stands
 * for. Elaboration is not attempted: implicit and instance arguments are not
 * written in patterns (the matcher leaves them free), and notation whose
 * constant changed name across versions carries every candidate name.
 *
 * Hostile text: bounded length (FQ_MAX_QUERY), depth (FQ_MAX_DEPTH) and
 * node count; every error names the 1-based column (in characters) of the
 * offending token. No recursion beyond FQ_MAX_DEPTH levels.
 */
#include "pool/find_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

/* ---- notation ------------------------------------------------------------ */

enum assoc { LEFT, RIGHT, NONE };

typedef struct infix_op {
    const char *tok;
    unsigned    prec;
    enum assoc  assoc;
    const char *consts;   /* candidate constants, '|'-separated ("" = arrow) */
    uint8_t     note;
    bool        negate;   /* ∉: ¬ (a ∈ b) */
} infix_op;

/* Longest tokens first where one is a prefix of another ("<=" before "<"). */
static const infix_op infix_ops[] = {
    {"<->", 20, NONE, "Iff", 0, false},
    {"->", 25, RIGHT, "", 0, false},
    {"<=", 50, NONE, "LE.le", 0, false},
    {">=", 50, NONE, "GE.ge", 0, false},
    {"==", 50, NONE, "BEq.beq", 0, false},
    {"!=", 50, NONE, "bne", 0, false},
    {"++", 65, LEFT, "HAppend.hAppend", 0, false},
    {"&&", 35, LEFT, "and", 0, false},
    {"||", 30, LEFT, "or", 0, false},
    {"/\\", 35, RIGHT, "And", 0, false},
    {"\\/", 30, RIGHT, "Or", 0, false},
    {"::", 67, RIGHT, "List.cons", 0, false},
    {"<$>", 100, RIGHT, "Functor.map", 0, false},
    {">>=", 55, LEFT, "Bind.bind", 0, false},
    {"→", 25, RIGHT, "", 0, false},
    {"↔", 20, NONE, "Iff", 0, false},
    {"∧", 35, RIGHT, "And", 0, false},
    {"∨", 30, RIGHT, "Or", 0, false},
    {"=", 50, NONE, "Eq", 0, false},
    {"≠", 50, NONE, "Ne", 0, false},
    {"<", 50, NONE, "LT.lt", 0, false},
    {">", 50, NONE, "GT.gt", 0, false},
    {"≤", 50, NONE, "LE.le", 0, false},
    {"≥", 50, NONE, "GE.ge", 0, false},
    {"∈", 50, NONE, "Membership.mem", FQ_NOTE_MEM, false},
    {"∉", 50, NONE, "Membership.mem", FQ_NOTE_MEM, true},
    {"∣", 50, NONE, "Dvd.dvd", 0, false},
    {"⊆", 50, NONE, "HasSubset.Subset", 0, false},
    {"⊂", 50, NONE, "HasSSubset.SSubset", 0, false},
    {"+", 65, LEFT, "HAdd.hAdd", 0, false},
    {"-", 65, LEFT, "HSub.hSub", 0, false},
    {"∪", 65, LEFT, "Union.union", 0, false},
    {"*", 70, LEFT, "HMul.hMul", 0, false},
    {"/", 70, LEFT, "HDiv.hDiv", 0, false},
    {"%", 70, LEFT, "HMod.hMod", 0, false},
    {"∩", 70, LEFT, "Inter.inter", 0, false},
    {"\\", 70, LEFT, "SDiff.sdiff", 0, false},
    {"⊓", 69, LEFT, "Min.min|Inf.inf", 0, false},
    {"⊔", 68, LEFT, "Max.max|Sup.sup", 0, false},
    {"•", 73, RIGHT, "HSMul.hSMul", 0, false},
    {"^", 80, RIGHT, "HPow.hPow", 0, false},
    {"∘", 90, RIGHT, "Function.comp", 0, false},
    {"×", 35, RIGHT, "Prod", 0, false},
};

/* Nullary notation. */
static const struct { const char *tok, *consts; } atom_ops[] = {
    {"⊤", "Top.top"},
    {"⊥", "Bot.bot"},
    {"∅", "EmptyCollection.emptyCollection"},
};

enum { PREC_MAX = 1024, PREC_ARG = 1023 };

/* ---- parser state --------------------------------------------------------- */

typedef struct scope_ent {
    uint32_t text, len;  /* binder name in the arena (len 0: anonymous) */
} scope_ent;

typedef struct parser {
    const char *s;
    size_t      len, pos;
    fq_query   *q;
    fq_error   *err;
    int         rc;       /* first error (sticky) */
    unsigned    depth;
    scope_ent   scope[FQ_MAX_DEPTH * 4];
    size_t      nscope;
} parser;

static uint32_t col_of(const parser *p, size_t pos)
{
    uint32_t col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++)
        if (((unsigned char)p->s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static int fail_at(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, size_t pos, const char *fmt, ...)
{
    if (p->rc)
        return p->rc;
    p->rc = POOL_EINVAL;
    if (p->err) {
        p->err->col = col_of(p, pos);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
    }
    return p->rc;
}

static int oom(parser *p)
{
    if (!p->rc) {
        p->rc = -ENOMEM;
        if (p->err) {
            p->err->col = col_of(p, p->pos);
            snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
        }
    }
    return p->rc;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *n = mem_try_realloc(*arr, ncap * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = ncap;
    return true;
}

/* A new node (index) or UINT32_MAX on error. */
static uint32_t node_new(parser *p, uint8_t kind, size_t pos)
{
    fq_query *q = p->q;
    if (p->rc)
        return UINT32_MAX;
    if (q->nnodes >= FQ_MAX_NODES) {
        fail_at(p, pos, "query too large (more than %d terms)", FQ_MAX_NODES);
        return UINT32_MAX;
    }
    if (!grow((void **)&q->nodes, &q->cap_nodes, q->nnodes + 1, sizeof *q->nodes)) {
        oom(p);
        return UINT32_MAX;
    }
    fq_node *n = &q->nodes[q->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->col = col_of(p, pos);
    return (uint32_t)q->nnodes++;
}

/* Copies bytes into the arena (NUL-terminated); returns the offset or UINT32_MAX. */
static uint32_t text_add(parser *p, const char *s, size_t n)
{
    fq_query *q = p->q;
    if (p->rc)
        return UINT32_MAX;
    if (!grow((void **)&q->text, &q->cap_text, q->ntext + n + 1, 1)) {
        oom(p);
        return UINT32_MAX;
    }
    uint32_t off = (uint32_t)q->ntext;
    memcpy(q->text + off, s, n);
    q->text[off + n] = 0;
    q->ntext += n + 1;
    return off;
}

/* An FQ_IDENT for notation: candidates "A|B" stored as "A\0B\0". */
static uint32_t notation_ident(parser *p, const char *consts, size_t pos)
{
    uint32_t id = node_new(p, FQ_IDENT, pos);
    if (id == UINT32_MAX)
        return id;
    size_t n = strlen(consts);
    uint32_t off = text_add(p, consts, n);
    if (off == UINT32_MAX)
        return UINT32_MAX;
    uint8_t alts = 1;
    for (size_t i = 0; i < n; i++)
        if (p->q->text[off + i] == '|') {
            p->q->text[off + i] = 0;
            alts++;
        }
    fq_node *nd = &p->q->nodes[id];
    nd->text = off;
    nd->len = (uint32_t)strlen(p->q->text + off);
    nd->alts = alts;
    return id;
}

static uint32_t app_new(parser *p, uint32_t head, const uint32_t *args, size_t nargs, size_t pos)
{
    uint32_t id = node_new(p, FQ_APP, pos);
    if (id == UINT32_MAX)
        return id;
    fq_query *q = p->q;
    if (!grow((void **)&q->args, &q->cap_args, q->nargs + nargs, sizeof *q->args)) {
        oom(p);
        return UINT32_MAX;
    }
    fq_node *n = &q->nodes[id];
    n->a = head;
    n->first = (uint32_t)q->nargs;
    n->nargs = (uint32_t)nargs;
    memcpy(q->args + q->nargs, args, nargs * sizeof *args);
    q->nargs += nargs;
    return id;
}

/* ---- characters ----------------------------------------------------------- */

/* Decodes one UTF-8 code point at pos: its value and byte length, or 0 length if invalid. */
static uint32_t utf8_at(const parser *p, size_t pos, size_t *n)
{
    const unsigned char *s = (const unsigned char *)p->s + pos;
    size_t left = p->len - pos;
    *n = 0;
    if (left == 0)
        return 0;
    uint32_t c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > left)
        return 0;
    if (len == 1) {
        *n = 1;
        return c;
    }
    c &= 0x3Fu >> (len - 1);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const uint32_t minv[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < minv[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *n = len;
    return c;
}

/* Lean's isLetterLike (Init/Meta): Greek but λ Π Σ, Coptic, polytonic Greek, letterlike, math alphanumerics. */
static bool letter_like(uint32_t c)
{
    return (c >= 0x3b1 && c <= 0x3c9 && c != 0x3bb) || (c >= 0x391 && c <= 0x3A9 && c != 0x3A0 && c != 0x3A3) ||
           (c >= 0x3ca && c <= 0x3fb) || (c >= 0x1f00 && c <= 0x1ffe) || (c >= 0x2100 && c <= 0x214f) ||
           (c >= 0x1d49c && c <= 0x1d59f);
}

static bool subscript_alnum(uint32_t c)
{
    return (c >= 0x2080 && c <= 0x2089) || (c >= 0x2090 && c <= 0x209c) || (c >= 0x1d62 && c <= 0x1d6a) ||
           c == 0x2c7c;
}

static bool id_begin(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || letter_like(c);
}

static bool id_rest(uint32_t c)
{
    return id_begin(c) || (c >= '0' && c <= '9') || c == '\'' || c == '!' || c == '?' || subscript_alnum(c);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            p->pos++;
        else
            break;
    }
}

static bool at(parser *p, const char *tok)
{
    size_t n = strlen(tok);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, tok, n) == 0;
}

/* A keyword: tok followed by something that cannot continue an identifier. */
static bool at_word(parser *p, const char *tok)
{
    if (!at(p, tok))
        return false;
    size_t n;
    uint32_t c = utf8_at(p, p->pos + strlen(tok), &n);
    return n == 0 || !id_rest(c);
}

/*
 * Scans an identifier (dotted, «» components) at p->pos without consuming.
 * Returns its byte length, 0 if none starts here.
 */
static size_t scan_ident(parser *p, size_t pos)
{
    size_t i = pos;
    for (;;) {
        size_t n;
        uint32_t c = utf8_at(p, i, &n);
        if (n == 0)
            break;
        if (c == 0xAB) { /* « … » */
            size_t j = i + n;
            bool closed = false;
            while (j < p->len) {
                size_t m;
                uint32_t d = utf8_at(p, j, &m);
                if (m == 0)
                    break;
                j += m;
                if (d == 0xBB) {
                    closed = true;
                    break;
                }
            }
            if (!closed)
                return 0;
            i = j;
        } else if (id_begin(c)) {
            i += n;
            for (;;) {
                uint32_t d = utf8_at(p, i, &n);
                if (n == 0 || !id_rest(d))
                    break;
                i += n;
            }
        } else {
            break;
        }
        /* another component? */
        if (i < p->len && p->s[i] == '.') {
            size_t n2;
            uint32_t d = utf8_at(p, i + 1, &n2);
            if (n2 && (id_begin(d) || d == 0xAB)) {
                i++;
                continue;
            }
        }
        break;
    }
    return i - pos;
}

/* ---- terms ---------------------------------------------------------------- */

static uint32_t parse_term(parser *p, unsigned minprec);

/* Does a term argument start here (for application)? */
static bool arg_starts(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return false;
    char c = p->s[p->pos];
    if (c == '(' || c == '"' || c == '?' || (c >= '0' && c <= '9'))
        return true;
    for (size_t i = 0; i < sizeof atom_ops / sizeof atom_ops[0]; i++)
        if (at(p, atom_ops[i].tok))
            return true;
    if (at_word(p, "fun") || at_word(p, "forall") || at_word(p, "exists"))
        return false;
    size_t n;
    uint32_t u = utf8_at(p, p->pos, &n);
    return n && (id_begin(u) || u == 0xAB);
}

/* Looks a bound name up: its de Bruijn index, or -1. */
static int64_t scope_find(const parser *p, const char *s, size_t n)
{
    for (size_t i = p->nscope; i-- > 0;) {
        const scope_ent *e = &p->scope[i];
        if (e->len == n && memcmp(p->q->text + e->text, s, n) == 0)
            return (int64_t)(p->nscope - 1 - i);
    }
    return -1;
}

static bool scope_push(parser *p, uint32_t text, uint32_t len, size_t pos)
{
    if (p->nscope >= sizeof p->scope / sizeof p->scope[0]) {
        fail_at(p, pos, "too many binders");
        return false;
    }
    p->scope[p->nscope++] = (scope_ent){text, len};
    return true;
}

/* A universe level after Type/Sort: consumed and ignored (levels are ignored in matching). */
static void skip_level(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return;
    char c = p->s[p->pos];
    if (c == '*' || c == '_' || (c >= '0' && c <= '9')) {
        p->pos++;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        return;
    }
    if (c == '(') {
        unsigned d = 0;
        size_t start = p->pos;
        while (p->pos < p->len) {
            char x = p->s[p->pos++];
            if (x == '(')
                d++;
            else if (x == ')' && --d == 0)
                return;
        }
        fail_at(p, start, "unclosed '(' in a universe level");
        return;
    }
    size_t n = scan_ident(p, p->pos);
    if (n && !memchr(p->s + p->pos, '.', n) && !(n == 4 && at_word(p, "Prop")) && !(n == 4 && at_word(p, "Type")) &&
        !(n == 4 && at_word(p, "Sort")) && !at_word(p, "fun"))
        p->pos += n; /* a level variable u */
}

/* One binder of ∀/∃/fun: its name in the arena and its type node. */
typedef struct binder {
    uint32_t text, len;
    uint32_t type;   /* node; UINT32_MAX: none written */
    size_t   pos;
    uint32_t shift;  /* binders of its group before it: the shared type sits that much deeper */
} binder;

enum { MAX_BINDERS = 32 };

static int binder_add(parser *p, binder *out, size_t *n, size_t pos, const char *s, size_t l)
{
    if (*n >= MAX_BINDERS)
        return fail_at(p, pos, "too many binders (at most %d)", MAX_BINDERS);
    out[*n] = (binder){text_add(p, s, l), (uint32_t)l, UINT32_MAX, pos, 0};
    (*n)++;
    return p->rc;
}

/* Brings binders [from, n) into scope (their types were read before). */
static int binders_push(parser *p, const binder *bs, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        if (!scope_push(p, bs[i].text, bs[i].len, bs[i].pos))
            return p->rc;
    return 0;
}

/*
 * Binders: bare names `x y`, optionally followed by `: T` (which ends the
 * list), and groups `(x y : T)`, `{x : T}`, `⦃x⦄`, `[inst : C]`, `[C]`. Each
 * group's type sees the binders before the group, as in Lean; every binder
 * is in scope when this returns.
 */
static int parse_binders(parser *p, binder *out, size_t *nout)
{
    size_t n = 0, bare = 0; /* bare: first binder of the run of bare names not yet in scope */
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            break;
        char c = p->s[p->pos];
        bool strict = at(p, "⦃");
        char close = c == '(' ? ')' : c == '{' ? '}' : c == '[' ? ']' : 0;
        if (close || strict) {
            if (binders_push(p, out, bare, n))
                return p->rc;
            size_t open_pos = p->pos;
            p->pos += strict ? strlen("⦃") : 1;
            size_t first = n;
            skip_ws(p);
            /* [C] without a name is an anonymous instance binder */
            bool anon_inst = false;
            if (close == ']') {
                size_t l = scan_ident(p, p->pos);
                parser probe = *p;
                probe.pos = p->pos + l;
                skip_ws(&probe);
                anon_inst = !l || memchr(p->s + p->pos, '.', l) || probe.pos >= p->len || p->s[probe.pos] != ':';
            }
            if (anon_inst) {
                if (binder_add(p, out, &n, p->pos, "", 0))
                    return p->rc;
                if ((out[n - 1].type = parse_term(p, 0)) == UINT32_MAX)
                    return p->rc;
            } else {
                for (;;) {
                    skip_ws(p);
                    size_t l = scan_ident(p, p->pos);
                    if (!l || memchr(p->s + p->pos, '.', l))
                        break;
                    if (binder_add(p, out, &n, p->pos, p->s + p->pos, l))
                        return p->rc;
                    p->pos += l;
                }
                if (n == first)
                    return fail_at(p, p->pos, "expected a binder name");
                skip_ws(p);
                if (p->pos < p->len && p->s[p->pos] == ':') {
                    p->pos++;
                    uint32_t t = parse_term(p, 0);
                    if (t == UINT32_MAX)
                        return p->rc;
                    for (size_t k = first; k < n; k++) {
                        out[k].type = t;
                        out[k].shift = (uint32_t)(k - first);
                    }
                }
            }
            skip_ws(p);
            if (strict ? !at(p, "⦄") : (p->pos >= p->len || p->s[p->pos] != close))
                return fail_at(p, p->pos, "expected '%s' to close the binder opened at column %u",
                               strict ? "⦄" : close == ')' ? ")" : close == '}' ? "}" : "]", col_of(p, open_pos));
            p->pos += strict ? strlen("⦄") : 1;
            if (binders_push(p, out, first, n))
                return p->rc;
            bare = n;
            continue;
        }
        size_t l = scan_ident(p, p->pos);
        if (!l || memchr(p->s + p->pos, '.', l))
            break;
        if (binder_add(p, out, &n, p->pos, p->s + p->pos, l))
            return p->rc;
        p->pos += l;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ':') {
            /* x y : T — the type covers the run of bare names and ends the binders */
            p->pos++;
            uint32_t t = parse_term(p, 0);
            if (t == UINT32_MAX)
                return p->rc;
            for (size_t k = bare; k < n; k++) {
                out[k].type = t;
                out[k].shift = (uint32_t)(k - bare);
            }
            break;
        }
    }
    if (n == 0)
        return fail_at(p, p->pos, "expected a binder");
    if (binders_push(p, out, bare, n))
        return p->rc;
    *nout = n;
    return 0;
}

/* ∀ / ∃ / fun: binders, then ',' (or '=>' / '↦' for fun), then the body; nodes built innermost first. */
static uint32_t parse_binder_term(parser *p, int which, size_t start)
{
    /* which: 0 ∀, 1 ∃, 2 fun */
    binder bs[MAX_BINDERS];
    size_t n = 0;
    size_t scope0 = p->nscope;
    if (parse_binders(p, bs, &n))
        return UINT32_MAX;
    skip_ws(p);
    if (which == 2 ? !(at(p, "=>") || at(p, "↦")) : !at(p, ","))
        return fail_at(p, p->pos, "expected '%s' after the binders", which == 2 ? "=>" : ","), UINT32_MAX;
    p->pos += at(p, "↦") ? strlen("↦") : which == 2 ? 2 : 1;
    uint32_t body = parse_term(p, 0);
    p->nscope = scope0;
    if (body == UINT32_MAX)
        return UINT32_MAX;
    for (size_t i = n; i-- > 0;) {
        uint32_t ty = bs[i].type;
        if (ty == UINT32_MAX && (ty = node_new(p, FQ_HOLE, bs[i].pos)) == UINT32_MAX)
            return UINT32_MAX;
        uint32_t b = node_new(p, which == 0 ? FQ_PI : FQ_LAM, i == 0 ? start : bs[i].pos);
        if (b == UINT32_MAX)
            return UINT32_MAX;
        fq_node *nd = &p->q->nodes[b];
        nd->a = ty;
        nd->b = body;
        nd->text = bs[i].text;
        nd->len = bs[i].len;
        nd->num = bs[i].shift;
        body = b;
        if (which == 1) {
            uint32_t ex = notation_ident(p, "Exists", start);
            uint32_t app = ex == UINT32_MAX ? ex : app_new(p, ex, &body, 1, start);
            if (app == UINT32_MAX)
                return UINT32_MAX;
            body = app;
        }
    }
    return body;
}

/* Reads a string literal at p->pos ('"'); the unescaped bytes go to the arena. */
static uint32_t parse_string(parser *p, uint32_t *len_out)
{
    size_t start = p->pos++;
    char buf[FQ_MAX_QUERY];
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char c = p->s[p->pos];
        if (c == '\\') {
            size_t esc = p->pos++;
            if (p->pos >= p->len)
                break;
            char e = p->s[p->pos++];
            switch (e) {
            case '\\': buf[n++] = '\\'; break;
            case '"': buf[n++] = '"'; break;
            case '\'': buf[n++] = '\''; break;
            case 'n': buf[n++] = '\n'; break;
            case 't': buf[n++] = '\t'; break;
            case 'r': buf[n++] = '\r'; break;
            case 'x': {
                unsigned v = 0;
                for (int k = 0; k < 2; k++) {
                    char h = p->pos < p->len ? p->s[p->pos] : 0;
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                          : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                    if (d < 0)
                        return fail_at(p, esc, "bad \\x escape (two hex digits expected)"), UINT32_MAX;
                    v = v * 16 + (unsigned)d;
                    p->pos++;
                }
                if (v >= 0x80)
                    return fail_at(p, esc, "\\x escape above \\x7f"), UINT32_MAX;
                buf[n++] = (char)v;
                break;
            }
            default:
                return fail_at(p, esc, "unknown escape '\\%c' in a string", e), UINT32_MAX;
            }
            continue;
        }
        size_t cl;
        (void)utf8_at(p, p->pos, &cl);
        if (cl == 0)
            return fail_at(p, p->pos, "invalid UTF-8 in a string"), UINT32_MAX;
        memcpy(buf + n, p->s + p->pos, cl);
        n += cl;
        p->pos += cl;
    }
    if (p->pos >= p->len)
        return fail_at(p, start, "unterminated string"), UINT32_MAX;
    p->pos++;
    *len_out = (uint32_t)n;
    return text_add(p, buf, n);
}

/* A leading term (atoms, prefix operators, binders, parentheses); *level gets its precedence. */
static uint32_t parse_leading(parser *p, unsigned *level)
{
    skip_ws(p);
    size_t start = p->pos;
    *level = PREC_MAX;
    if (p->pos >= p->len)
        return fail_at(p, p->pos, "unexpected end of query (a term was expected)"), UINT32_MAX;
    char c = p->s[p->pos];
    if (c == '(') {
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ')') {
            p->pos++;
            return notation_ident(p, "Unit.unit", start);
        }
        uint32_t t = parse_term(p, 0);
        if (t == UINT32_MAX)
            return t;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ':')
            return fail_at(p, p->pos, "type ascriptions '(e : T)' are not supported (no elaboration; "
                                      "use the 'kinds' parameter to tell theorems from definitions)"),
                   UINT32_MAX;
        if (p->pos >= p->len || p->s[p->pos] != ')')
            return fail_at(p, p->pos, "expected ')' to close the '(' at column %u", col_of(p, start)), UINT32_MAX;
        p->pos++;
        return t;
    }
    if (c == '"') {
        uint32_t len;
        uint32_t off = parse_string(p, &len);
        if (off == UINT32_MAX)
            return off;
        uint32_t id = node_new(p, FQ_STR, start);
        if (id != UINT32_MAX) {
            p->q->nodes[id].text = off;
            p->q->nodes[id].len = len;
        }
        return id;
    }
    if (c >= '0' && c <= '9') {
        uint64_t v = 0;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            unsigned d = (unsigned)(p->s[p->pos] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return fail_at(p, start, "numeral too large (at most 2^64 - 1)"), UINT32_MAX;
            v = v * 10 + d;
            p->pos++;
        }
        if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'x' || p->s[p->pos] == 'e'))
            return fail_at(p, p->pos, "only decimal natural numerals are supported"), UINT32_MAX;
        uint32_t id = node_new(p, FQ_NUM, start);
        if (id != UINT32_MAX)
            p->q->nodes[id].num = v;
        return id;
    }
    if (c == '?') {
        size_t l = scan_ident(p, p->pos + 1);
        if (!l || memchr(p->s + p->pos + 1, '.', l))
            return fail_at(p, p->pos, "expected a hole name after '?' (as in ?a)"), UINT32_MAX;
        uint32_t id = node_new(p, FQ_NAMED, start);
        uint32_t off = text_add(p, p->s + p->pos + 1, l);
        if (id == UINT32_MAX || off == UINT32_MAX)
            return UINT32_MAX;
        p->q->nodes[id].text = off;
        p->q->nodes[id].len = (uint32_t)l;
        p->pos += 1 + l;
        return id;
    }
    if (at(p, "∀") || at_word(p, "forall") || at(p, "Π")) {
        p->pos += at(p, "∀") ? strlen("∀") : at(p, "Π") ? strlen("Π") : 6;
        *level = 0;
        return parse_binder_term(p, 0, start);
    }
    if (at(p, "∃") || at_word(p, "exists")) {
        p->pos += at(p, "∃") ? strlen("∃") : 6;
        *level = 0;
        return parse_binder_term(p, 1, start);
    }
    if (at(p, "λ") || at_word(p, "fun")) {
        p->pos += at(p, "λ") ? strlen("λ") : 3;
        *level = 0;
        return parse_binder_term(p, 2, start);
    }
    if (at(p, "¬") || (c == '!' && !at(p, "!="))) {
        bool bnot = c == '!';
        p->pos += bnot ? 1 : strlen("¬");
        uint32_t arg = parse_term(p, 40);
        uint32_t head = arg == UINT32_MAX ? arg : notation_ident(p, bnot ? "not" : "Not", start);
        return head == UINT32_MAX ? head : app_new(p, head, &arg, 1, start);
    }
    if (c == '-') {
        p->pos++;
        uint32_t arg = parse_term(p, 75);
        uint32_t head = arg == UINT32_MAX ? arg : notation_ident(p, "Neg.neg", start);
        *level = 75;
        return head == UINT32_MAX ? head : app_new(p, head, &arg, 1, start);
    }
    for (size_t i = 0; i < sizeof atom_ops / sizeof atom_ops[0]; i++)
        if (at(p, atom_ops[i].tok)) {
            p->pos += strlen(atom_ops[i].tok);
            return notation_ident(p, atom_ops[i].consts, start);
        }
    if (at_word(p, "Prop")) {
        p->pos += 4;
        uint32_t id = node_new(p, FQ_SORT, start);
        if (id != UINT32_MAX)
            p->q->nodes[id].sort = FQ_PROP;
        return id;
    }
    if (at_word(p, "Type") || at_word(p, "Sort") || at(p, "Type*") || at(p, "Sort*")) {
        bool type = at(p, "Type");
        p->pos += 4;
        if (p->pos < p->len && p->s[p->pos] == '*')
            p->pos++;
        else
            skip_level(p);
        uint32_t id = node_new(p, FQ_SORT, start);
        if (id != UINT32_MAX)
            p->q->nodes[id].sort = type ? FQ_TYPE : FQ_ANYSORT;
        return id;
    }
    if (at(p, "⊢") || at(p, "|-"))
        return fail_at(p, p->pos, "'⊢' may only begin a filter"), UINT32_MAX;
    size_t l = scan_ident(p, p->pos);
    if (l) {
        if (l == 1 && c == '_') {
            p->pos++;
            return node_new(p, FQ_HOLE, start);
        }
        const char *s = p->s + p->pos;
        p->pos += l;
        if (p->pos < p->len && p->s[p->pos] == '.')
            return fail_at(p, p->pos, "field notation and numeric name components are not supported"), UINT32_MAX;
        int64_t bv = memchr(s, '.', l) ? -1 : scope_find(p, s, l);
        if (bv >= 0) {
            uint32_t id = node_new(p, FQ_BVAR, start);
            if (id != UINT32_MAX)
                p->q->nodes[id].num = (uint64_t)bv;
            return id;
        }
        uint32_t id = node_new(p, FQ_IDENT, start);
        uint32_t off = text_add(p, s, l);
        if (id == UINT32_MAX || off == UINT32_MAX)
            return UINT32_MAX;
        p->q->nodes[id].text = off;
        p->q->nodes[id].len = (uint32_t)l;
        return id;
    }
    size_t cl;
    uint32_t u = utf8_at(p, p->pos, &cl);
    if (cl == 0)
        return fail_at(p, p->pos, "invalid UTF-8"), UINT32_MAX;
    if (c == ')' || c == ',')
        return fail_at(p, p->pos, "unexpected '%c' (a term was expected)", c), UINT32_MAX;
    (void)u;
    return fail_at(p, p->pos, "unexpected '%.*s' (not a term; see docs/protocol.md for the notation read)", (int)cl,
                   p->s + p->pos),
           UINT32_MAX;
}

static const infix_op *infix_at(parser *p)
{
    for (size_t i = 0; i < sizeof infix_ops / sizeof infix_ops[0]; i++) {
        const infix_op *op = &infix_ops[i];
        if (!at(p, op->tok))
            continue;
        /* "|-" is the turnstile, not '|'; "->" is an arrow before '-' */
        return op;
    }
    return NULL;
}

static uint32_t parse_term(parser *p, unsigned minprec)
{
    if (p->rc)
        return UINT32_MAX;
    if (++p->depth > FQ_MAX_DEPTH) {
        fail_at(p, p->pos, "query nested too deeply (more than %d levels)", FQ_MAX_DEPTH);
        p->depth--;
        return UINT32_MAX;
    }
    size_t start;
    skip_ws(p);
    start = p->pos;
    unsigned level;
    uint32_t lhs = parse_leading(p, &level);
    /* application */
    if (lhs != UINT32_MAX && level == PREC_MAX && minprec <= PREC_MAX) {
        uint32_t args[64];
        size_t n = 0;
        while (!p->rc && arg_starts(p)) {
            if (n == sizeof args / sizeof args[0]) {
                fail_at(p, p->pos, "too many arguments (at most 64)");
                break;
            }
            unsigned al;
            uint32_t a = parse_leading(p, &al);
            if (a == UINT32_MAX)
                break;
            args[n++] = a;
        }
        if (n && !p->rc) {
            const fq_node *h = &p->q->nodes[lhs];
            if (h->kind == FQ_APP) {
                /* (f a) b is f a b */
                uint32_t all[128];
                size_t hn = h->nargs;
                if (hn + n > 128) {
                    fail_at(p, start, "too many arguments");
                } else {
                    memcpy(all, p->q->args + h->first, hn * sizeof *all);
                    memcpy(all + hn, args, n * sizeof *all);
                    lhs = app_new(p, h->a, all, hn + n, start);
                }
            } else if (h->kind != FQ_IDENT && h->kind != FQ_BVAR) {
                fail_at(p, start, "only a constant or a bound variable can be applied to arguments here");
            } else {
                lhs = app_new(p, lhs, args, n, start);
            }
        }
        if (p->rc)
            lhs = UINT32_MAX;
    }
    while (lhs != UINT32_MAX && !p->rc) {
        skip_ws(p);
        if (p->pos >= p->len)
            break;
        if (at(p, "⁻¹")) {
            if (PREC_MAX < minprec)
                break;
            p->pos += strlen("⁻¹");
            uint32_t head = notation_ident(p, "Inv.inv", start);
            lhs = head == UINT32_MAX ? head : app_new(p, head, &lhs, 1, start);
            level = PREC_MAX;
            continue;
        }
        if (at(p, "|-"))
            break;
        const infix_op *op = infix_at(p);
        if (!op)
            break;
        unsigned lhs_min = op->assoc == LEFT ? op->prec : op->prec + 1;
        unsigned rhs_prec = op->assoc == RIGHT ? op->prec : op->prec + 1;
        if (op->prec < minprec || level < lhs_min)
            break;
        size_t op_pos = p->pos;
        p->pos += strlen(op->tok);
        if (!op->consts[0]) {
            /* arrow: the codomain is under an anonymous binder */
            if (!scope_push(p, 0, 0, op_pos)) {
                lhs = UINT32_MAX;
                break;
            }
            uint32_t rhs = parse_term(p, rhs_prec);
            p->nscope--;
            if (rhs == UINT32_MAX) {
                lhs = UINT32_MAX;
                break;
            }
            uint32_t pi = node_new(p, FQ_PI, start);
            if (pi == UINT32_MAX) {
                lhs = UINT32_MAX;
                break;
            }
            p->q->nodes[pi].a = lhs;
            p->q->nodes[pi].b = rhs;
            p->q->nodes[pi].text = text_add(p, "", 0);
            lhs = pi;
        } else {
            uint32_t rhs = parse_term(p, rhs_prec);
            if (rhs == UINT32_MAX) {
                lhs = UINT32_MAX;
                break;
            }
            uint32_t head = notation_ident(p, op->consts, op_pos);
            uint32_t two[2] = {lhs, rhs};
            uint32_t app = head == UINT32_MAX ? head : app_new(p, head, two, 2, start);
            if (app != UINT32_MAX)
                p->q->nodes[app].note = op->note;
            if (app != UINT32_MAX && op->negate) {
                uint32_t nh = notation_ident(p, "Not", op_pos);
                app = nh == UINT32_MAX ? nh : app_new(p, nh, &app, 1, start);
            }
            lhs = app;
        }
        level = op->prec;
    }
    p->depth--;
    return p->rc ? UINT32_MAX : lhs;
}

/* ---- filters -------------------------------------------------------------- */

static int add_filter(parser *p, const fq_filter *f)
{
    fq_query *q = p->q;
    if (!grow((void **)&q->filters, &q->cap_filters, q->nfilters + 1, sizeof *q->filters))
        return oom(p);
    q->filters[q->nfilters++] = *f;
    return 0;
}

static int parse_filter(parser *p)
{
    skip_ws(p);
    size_t start = p->pos;
    fq_filter f = {0};
    f.col = col_of(p, start);
    bool concl = false;
    if (at(p, "⊢") || at(p, "|-")) {
        p->pos += at(p, "⊢") ? strlen("⊢") : 2;
        concl = true;
    }
    uint32_t t = parse_term(p, 0);
    if (t == UINT32_MAX)
        return p->rc;
    const fq_node *n = &p->q->nodes[t];
    f.node = t;
    if (concl) {
        f.kind = FQF_CONCL;
    } else if (n->kind == FQ_STR) {
        if (n->len == 0 || (n->len == 1 && p->q->text[n->text] == '.'))
            return fail_at(p, start, "name pattern \"%.*s\" is too general", (int)n->len, p->q->text + n->text);
        f.kind = FQF_NAME;
        f.text = n->text;
        f.len = n->len;
    } else if (n->kind == FQ_IDENT && n->alts == 0) {
        f.kind = FQF_CONST;
        f.text = n->text;
        f.len = n->len;
    } else if (n->kind == FQ_HOLE) {
        return fail_at(p, start, "cannot search for _ (did you forget to put a term pattern in parentheses?)");
    } else {
        f.kind = FQF_TERM;
    }
    return add_filter(p, &f);
}

int fq_parse(const char *text, size_t len, fq_query *q, fq_error *err)
{
    memset(q, 0, sizeof *q);
    if (err) {
        err->col = 0;
        err->msg[0] = 0;
    }
    parser p = {.s = text ? text : "", .len = len, .q = q, .err = err};
    if (len > FQ_MAX_QUERY) {
        fail_at(&p, FQ_MAX_QUERY, "query longer than %d bytes", FQ_MAX_QUERY);
        return p.rc;
    }
    for (size_t i = 0; i < len; i++)
        if (text[i] == 0) {
            fail_at(&p, i, "NUL byte in the query");
            return p.rc;
        }
    skip_ws(&p);
    if (p.pos == len) {
        fail_at(&p, 0, "cannot search: no constants or name fragments in the query");
        return p.rc;
    }
    while (!p.rc) {
        if (parse_filter(&p))
            break;
        skip_ws(&p);
        if (p.pos >= len)
            break;
        if (p.s[p.pos] != ',') {
            fail_at(&p, p.pos, "expected ',' or the end of the query");
            break;
        }
        p.pos++;
    }
    if (p.rc) {
        int rc = p.rc;
        fq_query_deinit(q);
        return rc;
    }
    return 0;
}

void fq_query_deinit(fq_query *q)
{
    if (!q)
        return;
    mem_free(q->nodes);
    mem_free(q->args);
    mem_free(q->filters);
    mem_free(q->text);
    memset(q, 0, sizeof *q);
}

/* ---- printing back -------------------------------------------------------- */

/* A string literal as the parser reads it back: quote, backslash and control bytes escaped. */
static int format_string(ln_buf *out, const char *s, size_t len)
{
    int rc = ln_buf_puts(out, "\"");
    for (size_t i = 0; i < len && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = ln_buf_puts(out, "\\\""); break;
        case '\\': rc = ln_buf_puts(out, "\\\\"); break;
        case '\n': rc = ln_buf_puts(out, "\\n"); break;
        case '\t': rc = ln_buf_puts(out, "\\t"); break;
        case '\r': rc = ln_buf_puts(out, "\\r"); break;
        default:
            rc = c < 0x20 || c == 0x7f ? ln_buf_printf(out, "\\x%02x", c) : ln_buf_append(out, s + i, 1);
        }
    }
    return rc ? rc : ln_buf_puts(out, "\"");
}

static int format_node(const fq_query *q, uint32_t id, ln_buf *out, unsigned depth)
{
    if (depth > FQ_MAX_DEPTH * 4)
        return ln_buf_puts(out, "…");
    const fq_node *n = &q->nodes[id];
    int rc = 0;
    switch (n->kind) {
    case FQ_HOLE: return ln_buf_puts(out, "_");
    case FQ_NAMED: return ln_buf_printf(out, "?%s", q->text + n->text);
    case FQ_IDENT:
        if (n->alts <= 1)
            return ln_buf_puts(out, q->text + n->text);
        {
            const char *s = q->text + n->text;
            if ((rc = ln_buf_puts(out, "{")))
                return rc;
            for (unsigned k = 0; k < n->alts; k++) {
                if ((k && (rc = ln_buf_puts(out, "|"))) || (rc = ln_buf_puts(out, s)))
                    return rc;
                s += strlen(s) + 1;
            }
            return ln_buf_puts(out, "}");
        }
    case FQ_NUM: return ln_buf_printf(out, "%llu", (unsigned long long)n->num);
    case FQ_STR: return format_string(out, q->text + n->text, n->len);
    case FQ_BVAR: return ln_buf_printf(out, "#%llu", (unsigned long long)n->num);
    case FQ_SORT: return ln_buf_puts(out, n->sort == FQ_PROP ? "Prop" : n->sort == FQ_TYPE ? "Type _" : "Sort _");
    case FQ_APP:
        if ((rc = ln_buf_puts(out, "(")) || (rc = format_node(q, n->a, out, depth + 1)))
            return rc;
        for (uint32_t k = 0; k < n->nargs; k++)
            if ((rc = ln_buf_puts(out, " ")) || (rc = format_node(q, q->args[n->first + k], out, depth + 1)))
                return rc;
        return ln_buf_puts(out, ")");
    case FQ_PI:
    case FQ_LAM:
        if (n->kind == FQ_PI && n->len == 0) {
            if ((rc = ln_buf_puts(out, "(")) || (rc = format_node(q, n->a, out, depth + 1)) ||
                (rc = ln_buf_puts(out, " → ")) || (rc = format_node(q, n->b, out, depth + 1)))
                return rc;
            return ln_buf_puts(out, ")");
        }
        if ((rc = ln_buf_printf(out, "(%s %s : ", n->kind == FQ_PI ? "∀" : "fun", q->text + n->text)) ||
            (rc = format_node(q, n->a, out, depth + 1)) || (rc = ln_buf_puts(out, n->kind == FQ_PI ? ", " : " => ")) ||
            (rc = format_node(q, n->b, out, depth + 1)))
            return rc;
        return ln_buf_puts(out, ")");
    }
    return ln_buf_puts(out, "?");
}

int fq_format(const fq_query *q, ln_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < q->nfilters && !rc; i++) {
        const fq_filter *f = &q->filters[i];
        if (i && (rc = ln_buf_puts(out, ", ")))
            break;
        switch (f->kind) {
        case FQF_NAME: rc = format_string(out, q->text + f->text, f->len); break;
        case FQF_CONST: rc = ln_buf_puts(out, q->text + f->text); break;
        case FQF_CONCL:
            if ((rc = ln_buf_puts(out, "⊢ ")))
                break;
            /* fall through */
        case FQF_TERM: rc = format_node(q, f->node, out, 0); break;
        }
    }
    return rc;
}
