/*
 * lean/pack.c — text modules (docs/module-format.md) to ModuleData objects.
 *
 * The text is cut into statements: a line starting in column 1 starts one,
 * indented lines and lines starting with '|' continue it, "--" lines are
 * comments, "/-- … -/" is the doc comment of the next declaration. Types and
 * values are parsed by ln_expr_parse (lean/parse.c), then every constant they
 * mention is looked up among the known names, every universe parameter among
 * the declaration's. Inductive types get their constructors and recursor
 * built as text in the printer's syntax (types, minor premises, recursor
 * rules, named as Lean names them: T.c, T.rec, motive, minors after the
 * constructors, elimination universe u or u_1…) and parsed the same way, so
 * all de Bruijn bookkeeping is the parser's.
 *
 * Objects are built in the 4.27+ layouts (lean-olean-format.md §4.5–4.6).
 */
#include "lean/pack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lean/data.h"
#include "lean/parse.h"
#include "region/heap.h"
#include "util/bbuf.h"
#include "util/mem.h"
#include "util/u64map.h"
#include "util/vec.h"

#define EINVAL_LN (-1102)

/* ---- session: known Name hashes ---------------------------------------- */

struct ln_pack {
    u64map known; /* Name hashes, values unused */
};

ln_pack *ln_pack_new(void)
{
    ln_pack *pk = mem_calloc(1, sizeof(ln_pack));
    u64map_init(&pk->known);
    return pk;
}

void ln_pack_free(ln_pack *pk)
{
    if (!pk)
        return;
    u64map_deinit(&pk->known);
    mem_free(pk);
}

static bool known(const ln_pack *pk, uint64_t h) { return u64map_get(&pk->known, h, NULL); }

int ln_pack_know(ln_pack *pk, uint64_t h) { return u64map_put(&pk->known, h, 0); }

int ln_pack_know_region(ln_pack *pk, const region *r, region_error *err)
{
    lx_space sp = region_space(r);
    const uint8_t *mod = lx_obj(&sp, region_root(r));
    if (!lx_is_ctor(mod) || lx_ctor_num_objs(mod) < 3) {
        if (err) {
            err->code = EINVAL_LN;
            snprintf(err->reason, sizeof err->reason, "%s: not a module", region_path(r));
        }
        return EINVAL_LN;
    }
    /* constants: field 2 (2023+) or 1 (2022); each ConstantInfo -> val -> cval -> name */
    lx_word arr = lx_ctor_get(mod, lx_ctor_num_objs(mod) == 3 ? 1 : 2);
    const uint8_t *a = lx_obj(&sp, arr);
    for (uint64_t i = 0; i < lx_array_size(a); i++) {
        const uint8_t *ci = lx_obj(&sp, lx_array_get(a, i));
        const uint8_t *val = lx_obj(&sp, lx_ctor_get(ci, 0));
        const uint8_t *cval = lx_obj(&sp, lx_ctor_get(val, 0));
        uint64_t h;
        if (ln_data_name_stored(&sp, lx_ctor_get(cval, 0), &h) == 0 && ln_pack_know(pk, h))
            return -ENOMEM;
    }
    return 0;
}

/* ---- positions and errors ---------------------------------------------- */

typedef struct src {
    const char   *path;
    const char   *s;
    size_t        len;
    region_error *err;
} src;

static int src_fail(const src *x, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int src_fail(const src *x, size_t off, const char *fmt, ...)
{
    if (!x->err)
        return EINVAL_LN;
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
    x->err->code = EINVAL_LN;
    x->err->offset = off;
    snprintf(x->err->path, sizeof x->err->path, "%s", x->path);
    snprintf(x->err->reason, sizeof x->err->reason, "%s:%zu:%zu: %s", x->path, line, col, msg);
    return EINVAL_LN;
}

/* ---- statements -------------------------------------------------------- */

typedef struct stmt {
    size_t start, end;          /* the statement's bytes */
    size_t doc_start, doc_end;  /* its doc comment's text (doc_end 0: none) */
} stmt;

typedef VEC(stmt) stmts;

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int split(const src *x, stmts *out)
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
                return src_fail(x, k, "unterminated doc comment");
            size_t ds = k + 3, de = j;
            while (ds < de && is_ws(x->s[ds]))
                ds++;
            while (de > ds && is_ws(x->s[de - 1]))
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
                return src_fail(x, k, "indented line outside a declaration");
            out->v[out->n - 1].end = le;
        }
    }
    return 0;
}

/* Word at off (letters, digits, _), and the offset after it. */
static size_t word_end(const src *x, size_t off, size_t end)
{
    while (off < end && !is_ws(x->s[off]))
        off++;
    return off;
}

static size_t skip_ws(const src *x, size_t off, size_t end)
{
    while (off < end && is_ws(x->s[off]))
        off++;
    return off;
}

static bool word_is(const src *x, size_t off, size_t end, const char *w)
{
    size_t n = strlen(w);
    return end - off >= n && !memcmp(x->s + off, w, n) && (end - off == n || is_ws(x->s[off + n]));
}

/* First occurrence of pat at bracket depth 0 in [from, to), or to. */
static size_t find_top(const src *x, size_t from, size_t to, const char *pat)
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

/* ---- generated text ---------------------------------------------------- */

/* Derived declarations are written as text into a bbuf (no limit; its sticky
 * error is checked once, by expr_text). */
typedef bbuf txt;

static void tput(txt *t, const char *s, size_t n) { (void)bbuf_append(t, s, n); }
static void tputs(txt *t, const char *s) { (void)bbuf_puts(t, s); }
#define tputf(t, ...) ((void)bbuf_printf((t), __VA_ARGS__))

/* ---- names and checks -------------------------------------------------- */

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
        if (lx_tag(o) == 1)
            w = snprintf(buf + len, size - len, "%s%s", len ? "." : "", lx_string_data(lx_heap_ptr(c)));
        else
            w = snprintf(buf + len, size - len, "%s%llu", len ? "." : "", (unsigned long long)lx_unbox(c));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static uint64_t name_hash(lx_word n)
{
    uint64_t h = LN_DATA_NAME_ANON_HASH;
    (void)ln_data_name_stored(&LX_HEAP_SPACE, n, &h);
    return h;
}

typedef VEC(lx_word) word_vec;

typedef struct decl_ctx {
    const src *x;
    ln_pack   *pk;
    size_t     start, end;        /* the statement, for positions */
    uint64_t  *lparams;           /* hashes of the declaration's universe names */
    size_t     nlparams;
    const uint64_t *local;        /* names declared by this statement so far (inductive) */
    size_t     nlocal;
} decl_ctx;

static size_t find_text(const decl_ctx *d, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = d->start; i + n <= d->end; i++)
        if (!memcmp(d->x->s + i, needle, n))
            return i;
    return d->start;
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
        if (t == 4) {
            uint64_t h = name_hash(lx_ctor_get(o, 0));
            bool found = false;
            for (size_t i = 0; i < d->nlparams; i++)
                found |= d->lparams[i] == h;
            if (!found) {
                *bad = lx_ctor_get(o, 0);
                rc = 1;
            }
        } else if (t >= 1 && t <= 3) {
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
        int lv = t == 3 ? level_check(d, &lst, lx_ctor_get(o, 0), &bad) : 0;
        if (lv < 0) {
            rc = lv;
        } else if (lv > 0) {
            name_text(bad, nm, sizeof nm);
            rc = src_fail(d->x, find_text(d, nm), "unknown universe '%s'", nm);
        } else if (t == 4) {
            uint64_t h = name_hash(lx_ctor_get(o, 0));
            bool ok = known(d->pk, h);
            for (size_t i = 0; i < d->nlocal && !ok; i++)
                ok = d->local[i] == h;
            if (!ok) {
                name_text(lx_ctor_get(o, 0), nm, sizeof nm);
                rc = src_fail(d->x, find_text(d, nm), "unknown constant '%s'", nm);
                break;
            }
            for (lx_word c = lx_ctor_get(o, 1); !lx_is_scalar(c); c = lx_ctor_get(lx_heap_ptr(c), 1)) {
                if ((lv = level_check(d, &lst, lx_ctor_get(lx_heap_ptr(c), 0), &bad)) < 0) {
                    rc = lv;
                    break;
                }
                if (lv > 0) {
                    name_text(bad, nm, sizeof nm);
                    rc = src_fail(d->x, find_text(d, nm), "unknown universe '%s'", nm);
                    break;
                }
            }
        } else if (t >= 5 && t <= 11) {
            unsigned first = t == 5 ? 0 : (t >= 6 && t <= 8) ? 1 : t == 10 ? 1 : t == 11 ? 2 : 99;
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
static int expr_at(const decl_ctx *d, size_t off, size_t end, lx_word *out)
{
    region_error perr;
    int rc = ln_expr_parse(d->x->s + off, end - off, out, &perr);
    if (rc)
        return rc == -ENOMEM ? rc : src_fail(d->x, off + (perr.offset <= end - off ? perr.offset : 0), "%s", perr.reason);
    if ((rc = check_expr(d, *out))) {
        lx_unref(*out);
        return rc;
    }
    return 0;
}

/* Parses generated text; the error position is the statement's. */
static int expr_text(const decl_ctx *d, const txt *t, lx_word *out)
{
    if (t->err)
        return t->err;
    region_error perr;
    int rc = ln_expr_parse(bbuf_cstr(t), t->len, out, &perr);
    if (rc)
        return rc == -ENOMEM ? rc
                             : src_fail(d->x, d->start, "in a derived declaration: %s (%.120s)", perr.reason,
                                        bbuf_cstr(t));
    if ((rc = check_expr(d, *out))) {
        lx_unref(*out);
        return rc;
    }
    return 0;
}

/* ---- Lean objects ------------------------------------------------------ */

static lx_word list_of(lx_word *items, size_t n) /* items STOLEN */
{
    lx_word l = lx_box(0);
    while (n > 0)
        l = ln_mk_cons(items[--n], l);
    return l;
}

static lx_word cval(lx_word name, lx_word lparams, lx_word type)
{
    lx_word c = lx_ctor_new(0, 3, 0);
    lx_ctor_set(c, 0, name);
    lx_ctor_set(c, 1, lparams);
    lx_ctor_set(c, 2, type);
    return c;
}

static lx_word cinfo(unsigned kind, lx_word val)
{
    lx_word c = lx_ctor_new(kind, 1, 0);
    lx_ctor_set(c, 0, val);
    return c;
}

static lx_word ctor_of(unsigned nptr, const lx_word *f, size_t scalars, const uint8_t *bytes)
{
    lx_word c = lx_ctor_new(0, nptr, scalars);
    for (unsigned i = 0; i < nptr; i++)
        lx_ctor_set(c, i, f[i]);
    if (scalars)
        memcpy(lx_ctor_scalars_mut(c), bytes, scalars);
    return c;
}

/* ---- the module under construction ------------------------------------- */

typedef struct module {
    word_vec consts;  /* ConstantInfo */
    word_vec names;   /* parallel Name */
    word_vec docs;    /* (Name × String) pairs */
    u64map   heights; /* definitions so far: Name hash -> definitional height */
} module;

static int add_const(module *m, ln_pack *pk, lx_word name, lx_word info)
{
    if (vec_reserve(&m->consts, m->consts.n + 1) || vec_reserve(&m->names, m->names.n + 1)) {
        lx_unref(name);
        lx_unref(info);
        return -ENOMEM;
    }
    m->consts.v[m->consts.n++] = info;
    m->names.v[m->names.n++] = name;
    return ln_pack_know(pk, name_hash(name));
}

static int add_doc(module *m, lx_word name, const src *x, const stmt *st)
{
    if (!st->doc_end)
        return 0;
    if (vec_reserve(&m->docs, m->docs.n + 1))
        return -ENOMEM;
    lx_word s;
    size_t a = st->doc_start - 1, b = st->doc_end - 1;
    if (lx_string_try_new(x->s + a, b - a, &s))
        return -ENOMEM;
    lx_ref(name);
    lx_word kv[2] = {name, s};
    m->docs.v[m->docs.n++] = ctor_of(2, kv, 0, NULL);
    return 0;
}

/* Height of a definition: 1 + the highest local definition its value uses. */
static uint32_t height_of(const module *m, lx_word value)
{
    uint32_t h = 0;
    lx_word st[4096];
    size_t n = 0;
    st[n++] = value;
    while (n) {
        const uint8_t *o = lx_heap_ptr(st[--n]);
        unsigned t = lx_tag(o);
        if (t == 4) {
            uint64_t dh;
            if (u64map_get(&m->heights, name_hash(lx_ctor_get(o, 0)), &dh) && dh > h)
                h = (uint32_t)dh;
        } else if (t >= 5 && t <= 11 && t != 9) {
            unsigned first = t == 5 ? 0 : t == 11 ? 2 : 1;
            for (unsigned i = first; i < lx_ctor_num_objs(o) && n < 4096; i++)
                st[n++] = lx_ctor_get(o, i);
        }
    }
    return h + 1;
}

typedef struct span { size_t s, e; } span;

typedef struct group {
    span all;      /* "(x : T)" */
    span name;
    span type;
    char open;     /* '(' '{' '[' or 's' (⦃) */
} group;

/* Binder groups in [off, end) (whitespace between them). */
static int groups_in(const src *x, size_t off, size_t end, group *g, size_t max, size_t *n)
{
    *n = 0;
    for (;;) {
        off = skip_ws(x, off, end);
        if (off >= end)
            return 0;
        char open;
        size_t olen = 1;
        if (x->s[off] == '(' || x->s[off] == '{' || x->s[off] == '[')
            open = x->s[off];
        else if (end - off >= 3 && !memcmp(x->s + off, "\xe2\xa6\x83", 3))
            open = 's', olen = 3;
        else
            return src_fail(x, off, "expected a binder such as (x : T)");
        if (*n == max)
            return src_fail(x, off, "too many binders (at most %zu)", max);
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
            return src_fail(x, off, "unclosed binder");
        size_t clen = x->s[i] == ')' || x->s[i] == ']' || x->s[i] == '}' ? 1 : 3;
        group *gr = &g[(*n)++];
        gr->all = (span){off, i + clen};
        gr->open = open;
        size_t ns = skip_ws(x, off + olen, i);
        size_t ne = ns;
        while (ne < i && !is_ws(x->s[ne]) && x->s[ne] != ':')
            ne++;
        size_t colon = skip_ws(x, ne, i);
        if (ne == ns || colon >= i || x->s[colon] != ':')
            return src_fail(x, ns, "expected one name, ':' and a type in a binder");
        gr->name = (span){ns, ne};
        gr->type = (span){colon + 1, i};
        off = i + clen;
    }
}

/* ---- declarations ------------------------------------------------------ */

typedef struct head {
    size_t   name_s, name_e;   /* the declared name */
    size_t   after;            /* offset after the name (and its universes) */
    size_t   nlp;
    size_t   lp_s[16], lp_e[16]; /* universe names */
} head;

static int parse_head(const src *x, size_t off, size_t end, head *h)
{
    memset(h, 0, sizeof *h);
    off = skip_ws(x, off, end);
    h->name_s = off;
    while (off < end && !is_ws(x->s[off]) && x->s[off] != ':' && x->s[off] != '(' && x->s[off] != '{' &&
           x->s[off] != '[' && !(end - off >= 2 && !memcmp(x->s + off, ".{", 2)) &&
           !(end - off >= 3 && !memcmp(x->s + off, "\xe2\xa6\x83", 3)))
        off++;
    h->name_e = off;
    if (h->name_e == h->name_s)
        return src_fail(x, off, "expected a declaration name");
    if (end - off >= 2 && !memcmp(x->s + off, ".{", 2)) {
        off += 2;
        for (;;) {
            off = skip_ws(x, off, end);
            size_t s = off;
            while (off < end && x->s[off] != ',' && x->s[off] != '}' && !is_ws(x->s[off]))
                off++;
            if (off == s || h->nlp == 16)
                return src_fail(x, s, "expected a universe name (at most 16)");
            h->lp_s[h->nlp] = s;
            h->lp_e[h->nlp++] = off;
            off = skip_ws(x, off, end);
            if (off < end && x->s[off] == ',') {
                off++;
                continue;
            }
            if (off < end && x->s[off] == '}') {
                off++;
                break;
            }
            return src_fail(x, off, "expected ',' or '}'");
        }
    }
    h->after = off;
    return 0;
}

static int head_names(const src *x, const head *h, lx_word *name, lx_word *lparams, uint64_t *lph)
{
    if (ln_mk_name_text(x->s + h->name_s, h->name_e - h->name_s, name))
        return src_fail(x, h->name_s, "malformed name");
    lx_word items[16];
    for (size_t i = 0; i < h->nlp; i++) {
        items[i] = ln_mk_name_str(lx_box(0), x->s + h->lp_s[i], h->lp_e[i] - h->lp_s[i]);
        lph[i] = name_hash(items[i]);
    }
    *lparams = list_of(items, h->nlp);
    return 0;
}

static lx_word name_lit(const char *text)
{
    lx_word n;
    if (ln_mk_name_text(text, strlen(text), &n))
        n = lx_box(0);
    return n;
}

static int decl_simple(ln_pack *pk, module *m, const src *x, const stmt *st, size_t kw_end, unsigned kind)
{
    head h;
    int rc = parse_head(x, kw_end, st->end, &h);
    if (rc)
        return rc;
    /* NAME BINDERS : TYPE := VALUE — binders become ∀ in the type, fun in the value */
    size_t colon = h.after;
    for (;;) {
        colon = find_top(x, colon, st->end, ":");
        if (colon >= st->end || colon + 1 >= st->end || x->s[colon + 1] != '=')
            break;
        colon += 2;
    }
    if (colon >= st->end)
        return src_fail(x, h.after, "expected ':' and a type");
    group bs[32];
    size_t nb;
    int grc = groups_in(x, h.after, colon, bs, 32, &nb);
    if (grc)
        return grc;
    size_t assign = find_top(x, colon + 1, st->end, ":=");
    uint64_t lph[16];
    decl_ctx d = {x, pk, st->start, st->end, lph, h.nlp, NULL, 0};
    lx_word name, lparams, type, value = 0;
    if ((rc = head_names(x, &h, &name, &lparams, lph)))
        return rc;
    if (nb) {
        txt tt;
        bbuf_init(&tt, 0);
        tputs(&tt, "\xe2\x88\x80");
        for (size_t i = 0; i < nb; i++) {
            tputs(&tt, " ");
            tput(&tt, x->s + bs[i].all.s, bs[i].all.e - bs[i].all.s);
        }
        tputs(&tt, ", ");
        tput(&tt, x->s + colon + 1, assign - colon - 1);
        rc = expr_text(&d, &tt, &type);
        bbuf_deinit(&tt);
    } else {
        rc = expr_at(&d, colon + 1, assign, &type);
    }
    if (rc)
        goto fail_nt;
    if (assign < st->end) {
        if (kind == 0) {
            rc = src_fail(x, assign, "an axiom has no value");
        } else if (nb) {
            txt tv;
            bbuf_init(&tv, 0);
            tputs(&tv, "fun");
            for (size_t i = 0; i < nb; i++) {
                tputs(&tv, " ");
                tput(&tv, x->s + bs[i].all.s, bs[i].all.e - bs[i].all.s);
            }
            tputs(&tv, " => ");
            tput(&tv, x->s + assign + 2, st->end - assign - 2);
            rc = expr_text(&d, &tv, &value);
            bbuf_deinit(&tv);
        } else {
            rc = expr_at(&d, assign + 2, st->end, &value);
        }
        if (rc)
            goto fail_t;
    } else if (kind == 2) {
        /* theorem without a proof: sorryAx.{0} T Bool.false, as Lean stores `sorry` */
        lx_ref(type);
        value = ln_mk_app(ln_mk_app(ln_mk_const(name_lit("sorryAx"), ln_mk_cons(lx_box(0), lx_box(0))), type),
                          ln_mk_const(name_lit("Bool.false"), lx_box(0)));
    } else if (kind != 0) {
        rc = src_fail(x, st->start, "a %s needs a value (':= …')", kind == 1 ? "def" : "opaque");
        goto fail_t;
    }
    uint32_t height = 0;
    if (kind == 1) {
        height = height_of(m, value);
        uint64_t *hv;
        if ((rc = u64map_upsert(&m->heights, name_hash(name), &hv, NULL))) {
            lx_unref(value);
            goto fail_t;
        }
        if (*hv < height)
            *hv = height;
    }
    lx_ref(name);
    lx_word cv = cval(name, lparams, type);
    lx_word info;
    uint8_t bytes[1];
    if (kind == 0) {
        bytes[0] = 0; /* isUnsafe */
        info = cinfo(0, ctor_of(1, &cv, 1, bytes));
    } else {
        lx_ref(name);
        lx_word all = ln_mk_cons(name, lx_box(0));
        if (kind == 1) {
            lx_word hints = lx_ctor_new(2, 0, 4);
            memcpy(lx_ctor_scalars_mut(hints), &height, 4);
            lx_word f[4] = {cv, value, hints, all};
            bytes[0] = 1; /* safe */
            info = cinfo(1, ctor_of(4, f, 1, bytes));
        } else if (kind == 2) {
            lx_word f[3] = {cv, value, all};
            info = cinfo(2, ctor_of(3, f, 0, NULL));
        } else {
            lx_word f[3] = {cv, value, all};
            bytes[0] = 0;
            info = cinfo(3, ctor_of(3, f, 1, bytes));
        }
    }
    if ((rc = add_doc(m, name, x, st))) {
        lx_unref(name);
        lx_unref(info);
        return rc;
    }
    return add_const(m, pk, name, info);
fail_t:
    lx_unref(type);
fail_nt:
    lx_unref(name);
    lx_unref(lparams);
    return rc;
}

/* ---- inductive types --------------------------------------------------- */

/* Top-level whitespace-separated tokens of an application text. */
static size_t app_tokens(const src *x, size_t off, size_t end, span *t, size_t max)
{
    size_t n = 0;
    for (;;) {
        off = skip_ws(x, off, end);
        if (off >= end || n == max)
            return n;
        size_t s = off;
        int depth = 0;
        while (off < end && (depth > 0 || !is_ws(x->s[off]))) {
            char c = x->s[off];
            if (c == '(' || c == '[' || c == '{')
                depth++;
            else if (c == ')' || c == ']' || c == '}')
                depth--;
            else if (c == '"') {
                for (off++; off < end && x->s[off] != '"'; off++)
                    if (x->s[off] == '\\' && off + 1 < end)
                        off++;
                if (off >= end)
                    break; /* unterminated: the token ends with the text, not past it */
            }
            off++;
        }
        t[n++] = (span){s, off};
    }
}

static bool head_is(const src *x, span tok, const char *name, size_t nlen)
{
    size_t e = tok.e;
    for (size_t i = tok.s; i + 1 < tok.e; i++)
        if (x->s[i] == '.' && x->s[i + 1] == '{') {
            e = i;
            break;
        }
    return e - tok.s == nlen && !memcmp(x->s + tok.s, name, nlen);
}

#define MAXB 32

typedef struct ctor_src {
    span   name;            /* short name */
    group  fields[MAXB];
    size_t nfields;
    bool   rec[MAXB];       /* field is recursive */
    span   rec_idx[MAXB][8];
    span   res_idx[8];      /* index arguments of the result type */
} ctor_src;

static void put_span(txt *t, const src *x, span s) { tput(t, x->s + s.s, s.e - s.s); }

static void put_groups(txt *t, const src *x, const group *g, size_t n, bool implicit)
{
    for (size_t i = 0; i < n; i++) {
        if (t->len && t->data[t->len - 1] != ' ')
            tputs(t, " ");
        if (!implicit || g[i].open == '[' || g[i].open == '{') {
            put_span(t, x, g[i].all);
            continue;
        }
        tputs(t, "{");
        put_span(t, x, g[i].name);
        tputs(t, " :");
        put_span(t, x, g[i].type);
        tputs(t, "}");
    }
}

static void put_names(txt *t, const src *x, const group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tputs(t, " ");
        put_span(t, x, g[i].name);
    }
}

/* " (a_1 : I1) … (t : T params a_1 …)": the indices and the major premise, as binders. */
static void put_major(txt *t, const src *x, const span *idx, size_t ni, const txt *Tapp)
{
    for (size_t k = 0; k < ni; k++) {
        tputf(t, " (a_%zu :", k + 1);
        put_span(t, x, idx[k]);
        tputs(t, ")");
    }
    tputs(t, " (t : ");
    tput(t, Tapp->data, Tapp->len);
    for (size_t k = 0; k < ni; k++)
        tputf(t, " a_%zu", k + 1);
    tputs(t, ")");
}

static int decl_inductive(ln_pack *pk, module *m, const src *x, const stmt *st, size_t kw_end)
{
    head h;
    int rc = parse_head(x, kw_end, st->end, &h);
    if (rc)
        return rc;
    /* Constructors: lines whose first non-blank character is '|'. */
    size_t cstart[64], nc = 0;
    for (size_t i = h.after; i < st->end; i++) {
        if (x->s[i] != '\n')
            continue;
        size_t k = i + 1;
        while (k < st->end && (x->s[k] == ' ' || x->s[k] == '\t'))
            k++;
        if (k < st->end && x->s[k] == '|') {
            if (nc == 64)
                return src_fail(x, k, "at most 64 constructors");
            cstart[nc++] = k;
        }
    }
    size_t hdr_end = nc ? cstart[0] : st->end;
    size_t colon = find_top(x, h.after, hdr_end, ":");
    if (colon >= hdr_end)
        return src_fail(x, h.after, "expected ':' and the type's sort");
    group params[MAXB];
    size_t np;
    if ((rc = groups_in(x, h.after, colon, params, MAXB, &np)))
        return rc;
    /* Indices: A → B → Sort. */
    span idx[8], sort;
    size_t ni = 0, p = colon + 1;
    for (;;) {
        size_t a = find_top(x, p, hdr_end, "\xe2\x86\x92");
        if (a >= hdr_end)
            break;
        if (ni == 8)
            return src_fail(x, p, "at most 8 indices");
        idx[ni++] = (span){p, a};
        p = a + 3;
    }
    sort = (span){skip_ws(x, p, hdr_end), hdr_end};
    while (sort.e > sort.s && is_ws(x->s[sort.e - 1]))
        sort.e--;
    bool is_prop = (sort.e - sort.s == 4 && !memcmp(x->s + sort.s, "Prop", 4)) ||
                   (sort.e - sort.s == 6 && !memcmp(x->s + sort.s, "Sort 0", 6));

    const char *T = x->s + h.name_s;
    size_t Tn = h.name_e - h.name_s;
    txt lv, Tapp;
    bbuf_init(&lv, 0);
    bbuf_init(&Tapp, 0);
    if (h.nlp) {
        tputs(&lv, ".{");
        for (size_t i = 0; i < h.nlp; i++) {
            if (i)
                tputs(&lv, ", ");
            tput(&lv, x->s + h.lp_s[i], h.lp_e[i] - h.lp_s[i]);
        }
        tputs(&lv, "}");
    }
    tput(&Tapp, T, Tn);
    if (lv.len)
        tput(&Tapp, lv.data, lv.len);
    put_names(&Tapp, x, params, np);

    /* Constructors' fields, recursive fields and result indices. */
    ctor_src *cs = mem_try_calloc(nc ? nc : 1, sizeof *cs);
    uint64_t *local = mem_try_calloc(nc + 2, 8);
    txt t, motive, minors, recname, reclv;
    bbuf_init(&t, 0);
    bbuf_init(&motive, 0);
    bbuf_init(&minors, 0);
    bbuf_init(&recname, 0);
    bbuf_init(&reclv, 0);
    lx_word name = lx_box(0), lparams = lx_box(0);
    uint64_t lph[17];
    if (!cs || !local) {
        rc = -ENOMEM;
        goto out;
    }
    bool any_rec = false;
    for (size_t c = 0; c < nc; c++) {
        size_t cend = c + 1 < nc ? cstart[c + 1] : st->end;
        size_t ns = skip_ws(x, cstart[c] + 1, cend), ne = ns;
        while (ne < cend && !is_ws(x->s[ne]) && x->s[ne] != ':' && x->s[ne] != '(' && x->s[ne] != '{' && x->s[ne] != '[')
            ne++;
        if (ne == ns) {
            rc = src_fail(x, ns, "expected a constructor name");
            goto out;
        }
        cs[c].name = (span){ns, ne};
        size_t cc = find_top(x, ne, cend, ":");
        if (cc >= cend) {
            rc = src_fail(x, ne, "expected ':' and the constructor's result type");
            goto out;
        }
        if ((rc = groups_in(x, ne, cc, cs[c].fields, MAXB, &cs[c].nfields)))
            goto out;
        span toks[64];
        size_t nt = app_tokens(x, cc + 1, cend, toks, 64);
        if (nt != 1 + np + ni || !head_is(x, toks[0], T, Tn)) {
            rc = src_fail(x, cc + 1, "the result type must be %.*s applied to its %zu parameters and %zu indices",
                          (int)Tn, T, np, ni);
            goto out;
        }
        for (size_t k = 0; k < ni; k++)
            cs[c].res_idx[k] = toks[1 + np + k];
        for (size_t f = 0; f < cs[c].nfields; f++) {
            span ft[64];
            size_t nft = app_tokens(x, cs[c].fields[f].type.s, cs[c].fields[f].type.e, ft, 64);
            if (nft >= 1 && head_is(x, ft[0], T, Tn)) {
                if (nft != 1 + np + ni) {
                    rc = src_fail(x, ft[0].s, "a recursive field must apply %.*s to all parameters and indices",
                                  (int)Tn, T);
                    goto out;
                }
                cs[c].rec[f] = any_rec = true;
                for (size_t k = 0; k < ni; k++)
                    cs[c].rec_idx[f][k] = ft[1 + np + k];
            }
        }
    }
    bool large = !is_prop || nc == 0 || (nc == 1 && cs[0].nfields == 0);
    bool kflag = is_prop && nc == 1 && cs[0].nfields == 0;

    /* The elimination universe: u, else u_1, u_2, … */
    char v[16] = "u";
    for (unsigned k = 1;; k++) {
        bool clash = false;
        for (size_t i = 0; i < h.nlp; i++)
            clash |= h.lp_e[i] - h.lp_s[i] == strlen(v) && !memcmp(x->s + h.lp_s[i], v, strlen(v));
        if (!clash)
            break;
        snprintf(v, sizeof v, "u_%u", k);
    }

    /* The inductive type itself. */
    if ((rc = head_names(x, &h, &name, &lparams, lph)))
        goto out;
    local[0] = name_hash(name);
    decl_ctx d = {x, pk, st->start, st->end, lph, h.nlp, local, 1};
    if (np) {
        tputs(&t, "\xe2\x88\x80 ");
        put_groups(&t, x, params, np, false);
        tputs(&t, ", ");
    }
    tput(&t, x->s + colon + 1, hdr_end - colon - 1);
    lx_word type;
    if ((rc = expr_text(&d, &t, &type)))
        goto out;
    lx_word ctor_names[64];
    for (size_t c = 0; c < nc; c++) {
        txt cn;
        bbuf_init(&cn, 0);
        tput(&cn, T, Tn);
        tputs(&cn, ".");
        put_span(&cn, x, cs[c].name);
        if (cn.err || ln_mk_name_text(cn.data, cn.len, &ctor_names[c])) {
            bbuf_deinit(&cn);
            for (size_t k = 0; k < c; k++)
                lx_unref(ctor_names[k]);
            lx_unref(type);
            rc = cn.err ? -ENOMEM : src_fail(x, cs[c].name.s, "malformed constructor name");
            goto out;
        }
        bbuf_deinit(&cn);
        local[1 + c] = name_hash(ctor_names[c]);
    }
    {
        lx_word cl[64];
        for (size_t c = 0; c < nc; c++) {
            lx_ref(ctor_names[c]);
            cl[c] = ctor_names[c];
        }
        lx_ref(name);
        lx_ref(name);
        lx_ref(lparams);
        lx_word f[6] = {cval(name, lparams, type), lx_box(np), lx_box(ni), ln_mk_cons(name, lx_box(0)),
                        list_of(cl, nc), lx_box(0)};
        uint8_t b[3] = {any_rec, 0, 0};
        lx_word info = cinfo(5, ctor_of(6, f, 3, b));
        if ((rc = add_doc(m, name, x, st)) || (rc = add_const(m, pk, name, info))) {
            for (size_t c = 0; c < nc; c++)
                lx_unref(ctor_names[c]);
            name = lx_box(0);
            goto out;
        }
        name = lx_box(0);
    }
    d.nlocal = 1 + nc;

    /* Constructors. */
    for (size_t c = 0; c < nc; c++) {
        bbuf_truncate(&t, 0);
        if (np || cs[c].nfields) {
            tputs(&t, "\xe2\x88\x80 ");
            put_groups(&t, x, params, np, true);
            put_groups(&t, x, cs[c].fields, cs[c].nfields, false);
            tputs(&t, ", ");
        }
        size_t cend = c + 1 < nc ? cstart[c + 1] : st->end;
        size_t cc = find_top(x, cs[c].name.e, cend, ":");
        tput(&t, x->s + cc + 1, cend - cc - 1);
        lx_word ctype;
        if ((rc = expr_text(&d, &t, &ctype))) {
            for (size_t k = c; k < nc; k++)
                lx_unref(ctor_names[k]);
            goto out;
        }
        lx_ref(lparams);
        lx_ref(ctor_names[c]);
        lx_word head_name;
        if (ln_mk_name_text(T, Tn, &head_name))
            head_name = lx_box(0);
        lx_word f[5] = {cval(ctor_names[c], lparams, ctype), head_name, lx_box(c), lx_box(np),
                        lx_box(cs[c].nfields)};
        uint8_t b[1] = {0};
        if ((rc = add_const(m, pk, ctor_names[c], cinfo(6, ctor_of(5, f, 1, b))))) {
            for (size_t k = c + 1; k < nc; k++)
                lx_unref(ctor_names[k]);
            goto out;
        }
    }

    /* Recursor. */
    tput(&recname, T, Tn);
    tputs(&recname, ".rec");
    tputs(&reclv, ".{");
    if (large)
        tputs(&reclv, v);
    for (size_t i = 0; i < h.nlp; i++) {
        if (i || large)
            tputs(&reclv, ", ");
        tput(&reclv, x->s + h.lp_s[i], h.lp_e[i] - h.lp_s[i]);
    }
    tputs(&reclv, "}");
    if (!large && !h.nlp)
        bbuf_truncate(&reclv, 0);
    /* motive : ∀ (a_1 : I1) … (t : T params a_1 …), Sort v */
    tputs(&motive, "\xe2\x88\x80");
    put_major(&motive, x, idx, ni, &Tapp);
    tputs(&motive, ", ");
    if (large) {
        tputs(&motive, "Sort ");
        tputs(&motive, v);
    } else {
        tputs(&motive, "Prop");
    }
    /* minor premises, as binders "(c : ∀ fields ihs, motive idx (T.c params fields))" */
    for (size_t c = 0; c < nc; c++) {
        tputs(&minors, " (");
        put_span(&minors, x, cs[c].name);
        tputs(&minors, " : ");
        bool binders = cs[c].nfields > 0;
        if (binders) {
            tputs(&minors, "\xe2\x88\x80 ");
            txt tmp;
            bbuf_init(&tmp, 0);
            put_groups(&tmp, x, cs[c].fields, cs[c].nfields, false);
            if (tmp.err)
                minors.err = tmp.err;
            tput(&minors, tmp.data, tmp.len);
            bbuf_deinit(&tmp);
            for (size_t f = 0; f < cs[c].nfields; f++) {
                if (!cs[c].rec[f])
                    continue;
                tputs(&minors, " (");
                put_span(&minors, x, cs[c].fields[f].name);
                tputs(&minors, "_ih : motive");
                for (size_t k = 0; k < ni; k++) {
                    tputs(&minors, " ");
                    put_span(&minors, x, cs[c].rec_idx[f][k]);
                }
                tputs(&minors, " ");
                put_span(&minors, x, cs[c].fields[f].name);
                tputs(&minors, ")");
            }
            tputs(&minors, ", ");
        }
        tputs(&minors, "motive");
        for (size_t k = 0; k < ni; k++) {
            tputs(&minors, " ");
            put_span(&minors, x, cs[c].res_idx[k]);
        }
        tputs(&minors, " (");
        tput(&minors, T, Tn);
        tputs(&minors, ".");
        put_span(&minors, x, cs[c].name);
        if (lv.len)
            tput(&minors, lv.data, lv.len);
        put_names(&minors, x, params, np);
        put_names(&minors, x, cs[c].fields, cs[c].nfields);
        tputs(&minors, "))");
    }
    bbuf_truncate(&t, 0);
    tputs(&t, "\xe2\x88\x80 ");
    put_groups(&t, x, params, np, true);
    tputs(&t, " {motive : ");
    tput(&t, motive.data, motive.len);
    tputs(&t, "}");
    tput(&t, minors.data, minors.len);
    put_major(&t, x, idx, ni, &Tapp);
    tputs(&t, ", motive");
    for (size_t k = 0; k < ni; k++)
        tputf(&t, " a_%zu", k + 1);
    tputs(&t, " t");
    lx_word rname;
    if (recname.err || ln_mk_name_text(recname.data, recname.len, &rname)) {
        rc = -ENOMEM;
        goto out;
    }
    local[1 + nc] = name_hash(rname);
    d.nlocal = 2 + nc;
    lph[h.nlp] = region_name_hash_str(LN_DATA_NAME_ANON_HASH, v, strlen(v));
    d.nlparams = h.nlp + (large ? 1 : 0);
    lx_word rtype;
    if ((rc = expr_text(&d, &t, &rtype))) {
        lx_unref(rname);
        goto out;
    }
    lx_word rules[64];
    for (size_t c = 0; c < nc; c++) {
        bbuf_truncate(&t, 0);
        tputs(&t, "fun ");
        put_groups(&t, x, params, np, true);
        tputs(&t, " {motive : ");
        tput(&t, motive.data, motive.len);
        tputs(&t, "}");
        tput(&t, minors.data, minors.len);
        txt tmp;
        bbuf_init(&tmp, 0);
        put_groups(&tmp, x, cs[c].fields, cs[c].nfields, false);
        if (tmp.err)
            t.err = tmp.err;
        if (tmp.len) {
            tputs(&t, " ");
            tput(&t, tmp.data, tmp.len);
        }
        bbuf_deinit(&tmp);
        tputs(&t, " => ");
        put_span(&t, x, cs[c].name);
        put_names(&t, x, cs[c].fields, cs[c].nfields);
        for (size_t f = 0; f < cs[c].nfields; f++) {
            if (!cs[c].rec[f])
                continue;
            tputs(&t, " (");
            tput(&t, recname.data, recname.len);
            tput(&t, bbuf_cstr(&reclv), reclv.len);
            put_names(&t, x, params, np);
            tputs(&t, " motive");
            for (size_t k = 0; k < nc; k++) {
                tputs(&t, " ");
                put_span(&t, x, cs[k].name);
            }
            for (size_t k = 0; k < ni; k++) {
                tputs(&t, " ");
                put_span(&t, x, cs[c].rec_idx[f][k]);
            }
            tputs(&t, " ");
            put_span(&t, x, cs[c].fields[f].name);
            tputs(&t, ")");
        }
        lx_word rhs;
        if ((rc = expr_text(&d, &t, &rhs))) {
            for (size_t k = 0; k < c; k++)
                lx_unref(rules[k]);
            lx_unref(rname);
            lx_unref(rtype);
            goto out;
        }
        lx_word cn;
        txt full;
        bbuf_init(&full, 0);
        tput(&full, T, Tn);
        tputs(&full, ".");
        put_span(&full, x, cs[c].name);
        if (full.err || ln_mk_name_text(full.data, full.len, &cn))
            cn = lx_box(0);
        bbuf_deinit(&full);
        lx_word rf[3] = {cn, lx_box(cs[c].nfields), rhs};
        rules[c] = ctor_of(3, rf, 0, NULL);
    }
    {
        lx_word lps[17];
        size_t nl = 0;
        if (large)
            lps[nl++] = ln_mk_name_str(lx_box(0), v, strlen(v));
        for (size_t i = 0; i < h.nlp; i++)
            lps[nl++] = ln_mk_name_str(lx_box(0), x->s + h.lp_s[i], h.lp_e[i] - h.lp_s[i]);
        lx_word tn;
        if (ln_mk_name_text(T, Tn, &tn))
            tn = lx_box(0);
        lx_ref(rname);
        lx_word f[7] = {cval(rname, list_of(lps, nl), rtype), ln_mk_cons(tn, lx_box(0)), lx_box(np), lx_box(ni),
                        lx_box(1), lx_box(nc), list_of(rules, nc)};
        uint8_t b[2] = {kflag, 0};
        rc = add_const(m, pk, rname, cinfo(7, ctor_of(7, f, 2, b)));
    }
out:
    lx_unref(name);
    lx_unref(lparams);
    mem_free(cs);
    mem_free(local);
    bbuf_deinit(&t);
    bbuf_deinit(&motive);
    bbuf_deinit(&minors);
    bbuf_deinit(&recname);
    bbuf_deinit(&reclv);
    bbuf_deinit(&lv);
    bbuf_deinit(&Tapp);
    return rc;
}

/* ---- modules ----------------------------------------------------------- */

static int module_line(const src *x, const stmt *st, size_t *s, size_t *e)
{
    size_t off = skip_ws(x, word_end(x, st->start, st->end), st->end);
    size_t end = word_end(x, off, st->end);
    if (off == end || skip_ws(x, end, st->end) != st->end)
        return src_fail(x, off, "expected one module name");
    *s = off;
    *e = end;
    return 0;
}

int ln_pack_scan(const char *path, const char *text, size_t len, ln_pack_header *out, region_error *err)
{
    src x = {path, text, len, err};
    stmts sts = {0};
    memset(out, 0, sizeof *out);
    int rc = split(&x, &sts);
    for (size_t i = 0; i < sts.n && !rc; i++) {
        const stmt *st = &sts.v[i];
        if (word_is(&x, st->start, st->end, "module")) {
            size_t s = 0, e = 0;
            if ((rc = module_line(&x, st, &s, &e)))
                break;
            if (out->module) {
                rc = src_fail(&x, st->start, "a second module line");
                break;
            }
            out->module = mem_strndup(text + s, e - s);
        } else if (word_is(&x, st->start, st->end, "import")) {
            if (!out->module) {
                rc = src_fail(&x, st->start, "the module line comes first");
                break;
            }
            size_t off = word_end(&x, st->start, st->end);
            for (;;) {
                off = skip_ws(&x, off, st->end);
                if (off >= st->end)
                    break;
                size_t e = word_end(&x, off, st->end);
                char **q = mem_try_realloc(out->imports, (out->nimports + 1) * sizeof *q);
                if (!q) {
                    rc = -ENOMEM;
                    break;
                }
                out->imports = q;
                out->imports[out->nimports++] = mem_strndup(text + off, e - off);
                off = e;
            }
        } else if (!out->module) {
            rc = src_fail(&x, st->start, "expected 'module NAME' first");
        }
    }
    if (!rc && !out->module)
        rc = src_fail(&x, 0, "no module line");
    vec_free(&sts);
    if (rc)
        ln_pack_header_free(out);
    return rc;
}

void ln_pack_header_free(ln_pack_header *h)
{
    mem_free(h->module);
    for (size_t i = 0; i < h->nimports; i++)
        mem_free(h->imports[i]);
    mem_free(h->imports);
    memset(h, 0, sizeof *h);
}

static int array_of(lx_word *items, size_t n, lx_word *out) /* items STOLEN */
{
    int rc = lx_array_try_new(n, out);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            lx_unref(items[i]);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        lx_array_set(*out, i, items[i]);
    return 0;
}

int ln_pack_build(ln_pack *pk, const char *path, const char *text, size_t len,
                  lx_word *root, uint64_t *nconsts, region_error *err)
{
    src x = {path, text, len, err};
    stmts sts = {0};
    module m;
    memset(&m, 0, sizeof m);
    lx_word imports[256];
    size_t nimp = 0;
    int rc = split(&x, &sts);
    for (size_t i = 0; i < sts.n && !rc; i++) {
        const stmt *st = &sts.v[i];
        size_t kw = word_end(&x, st->start, st->end);
        if (word_is(&x, st->start, st->end, "module"))
            continue;
        if (word_is(&x, st->start, st->end, "import")) {
            size_t off = kw;
            for (;;) {
                off = skip_ws(&x, off, st->end);
                if (off >= st->end)
                    break;
                size_t e = word_end(&x, off, st->end);
                lx_word n;
                if (nimp == 256 || ln_mk_name_text(text + off, e - off, &n)) {
                    rc = src_fail(&x, off, "bad import (at most 256)");
                    break;
                }
                lx_word imp = lx_ctor_new(0, 1, 3);
                lx_ctor_set(imp, 0, n);
                lx_ctor_scalars_mut(imp)[1] = 1; /* importAll 0, isExported 1, isMeta 0 */
                imports[nimp++] = imp;
                off = e;
            }
            continue;
        }
        if (word_is(&x, st->start, st->end, "axiom"))
            rc = decl_simple(pk, &m, &x, st, kw, 0);
        else if (word_is(&x, st->start, st->end, "def"))
            rc = decl_simple(pk, &m, &x, st, kw, 1);
        else if (word_is(&x, st->start, st->end, "theorem"))
            rc = decl_simple(pk, &m, &x, st, kw, 2);
        else if (word_is(&x, st->start, st->end, "opaque"))
            rc = decl_simple(pk, &m, &x, st, kw, 3);
        else if (word_is(&x, st->start, st->end, "inductive"))
            rc = decl_inductive(pk, &m, &x, st, kw);
        else
            rc = src_fail(&x, st->start, "expected module, import, axiom, def, theorem, opaque or inductive");
    }
    lx_word parts[5] = {lx_box(0), lx_box(0), lx_box(0), lx_box(0), lx_box(0)};
    if (!rc) {
        size_t nn = m.names.n;
        lx_word *nm = mem_try_alloc((nn ? nn : 1) * sizeof *nm);
        if (!nm) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 0; i < nn; i++) {
                lx_ref(m.names.v[i]);
                nm[i] = m.names.v[i];
            }
            rc = array_of(imports, nimp, &parts[0]);
            nimp = 0;
            if (!rc)
                rc = array_of(nm, nn, &parts[1]);
            else
                for (size_t i = 0; i < nn; i++)
                    lx_unref(nm[i]);
            mem_free(nm);
        }
        if (!rc) {
            rc = array_of(m.consts.v, m.consts.n, &parts[2]);
            m.consts.n = 0;
        }
        if (!rc)
            rc = lx_array_try_new(0, &parts[3]);
        if (!rc && m.docs.n) {
            /* Lean.docStringExt entries: (declName, doc) pairs */
            lx_word docs, ent;
            rc = array_of(m.docs.v, m.docs.n, &docs);
            m.docs.n = 0;
            if (!rc) {
                lx_word kv[2] = {name_lit("Lean.docStringExt"), docs};
                lx_word pair = ctor_of(2, kv, 0, NULL);
                rc = array_of(&pair, 1, &ent);
                if (!rc)
                    parts[4] = ent;
            }
        } else if (!rc) {
            rc = lx_array_try_new(0, &parts[4]);
        }
    }
    if (!rc) {
        lx_word md = lx_ctor_new(0, 5, 1); /* isModule = 0 */
        for (unsigned i = 0; i < 5; i++)
            lx_ctor_set(md, i, parts[i]);
        *root = md;
        if (nconsts)
            *nconsts = 0;
        if (nconsts)
            *nconsts = lx_array_size(lx_heap_ptr(lx_ctor_get(lx_heap_ptr(md), 2)));
    } else {
        for (unsigned i = 0; i < 5; i++)
            lx_unref(parts[i]);
    }
    for (size_t i = 0; i < nimp; i++)
        lx_unref(imports[i]);
    for (size_t i = 0; i < m.consts.n; i++)
        lx_unref(m.consts.v[i]);
    for (size_t i = 0; i < m.docs.n; i++)
        lx_unref(m.docs.v[i]);
    for (size_t i = 0; i < m.names.n; i++)
        lx_unref(m.names.v[i]);
    vec_free(&m.names);
    vec_free(&m.consts);
    vec_free(&m.docs);
    u64map_deinit(&m.heights);
    vec_free(&sts);
    return rc;
}
