/*
 * lean/unpack.c — a decoded module written back as a text module
 * (docs/module-format.md), the inverse of lean/pack.c: `envpool dump --text`.
 *
 * Packing the text this writes gives back the same bytes for any module that
 * pack wrote, because everything pack reads from a text is written out with
 * every name the Expr holds: the printer runs with named arrows (a binder
 * name on a non-dependent arrow shows as `(a : A) → B`), inductive types and
 * constructors are written in signature form (parameters and fields as
 * binders before the colon, taken from the ∀ telescope by numParams and
 * numFields), and what pack derives is left out: constructor and recursor
 * constants of an inductive type of the module, definitions' hints and
 * safety, `all` lists, and the `sorryAx` value of a theorem without a proof.
 * Doc comments come from the module's Lean.docStringExt entries.
 *
 * What the format cannot say (quotient constants, constructors or
 * recursors without their inductive type, unsafe or partial definitions,
 * `abbrev`/opaque hints) is named in a `-- envpool: …` comment line, so a
 * reader sees what packing the text would change.
 */
#include "lean/lean_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lean/pack.h"
#include "util/mem.h"

/* A doc comment: the name word and its text. */
typedef struct doc {
    lx_word     name;
    const char *s;
    size_t      len;
} doc;

typedef struct unpack {
    const ln_module *m;
    ln_buf          *out;
    region_error    *err;
    lx_word          docs;   /* Array (Name × String), or 0 */
    uint64_t         ndocs;
    struct doc_key { uint64_t hash, index; } *doc_keys; /* ndocs, sorted by Name hash */
    uint64_t        *induct; /* Name hashes of the module's inductive types, sorted */
    size_t           ninduct;
    ln_buf           expr;   /* one expression's text, bounded (max_expr_bytes) */
} unpack;

static bool name_eq(const unpack *u, lx_word a, lx_word b)
{
    if (a == b)
        return true;
    uint64_t ha, hb;
    region_error ignore;
    if (ln_name_hash_compute(u->m, a, &ha, &ignore) || ln_name_hash_compute(u->m, b, &hb, &ignore) ||
        ha != hb)
        return false;
    char ta[512], tb[512];
    size_t na, nb;
    return !ln_name_to_cstr(u->m, a, ta, sizeof ta, &na, &ignore) &&
           !ln_name_to_cstr(u->m, b, tb, sizeof tb, &nb, &ignore) && !strcmp(ta, tb);
}

/* Finds the Lean.docStringExt entries (an array of (Name × String) pairs). */
static int find_docs(unpack *u)
{
    const ln_module *m = u->m;
    for (uint64_t i = 0; i < m->nentries; i++) {
        lx_word e;
        const uint8_t *o;
        bool is_doc;
        int rc = ln__array_get(m, m->entries, i, "ModuleData.entries", &e, u->err);
        if (rc || (rc = ln__ctor(m, e, 0, 2, 0, "extension entry pair", &o, u->err)) ||
            (rc = ln_name_eq_text(m, lx_ctor_get(o, 0), "Lean.docStringExt", 17, &is_doc, u->err)))
            return rc;
        if (!is_doc)
            continue;
        const uint8_t *arr;
        u->docs = lx_ctor_get(o, 1);
        if ((rc = ln__big(m, u->docs, LX_TAG_ARRAY, "docStringExt entries", &arr, u->err)))
            return rc;
        u->ndocs = lx_array_size(arr);
        return 0;
    }
    return 0;
}

static int doc_at(const unpack *u, uint64_t i, doc *d)
{
    lx_word e;
    const uint8_t *o;
    int rc = ln__array_get(u->m, u->docs, i, "docStringExt entries", &e, u->err);
    if (rc || (rc = ln__ctor(u->m, e, 0, 2, 0, "doc string entry", &o, u->err)))
        return rc;
    d->name = lx_ctor_get(o, 0);
    return ln_string(u->m, lx_ctor_get(o, 1), &d->s, &d->len, u->err);
}

/* An empty line, unless the text already ends with one. */
static int blank_line(const unpack *u)
{
    const ln_buf *b = u->out;
    if (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n')
        return 0;
    return ln_buf_puts(u->out, "\n");
}

static int cmp_doc_key(const void *a, const void *b)
{
    uint64_t x = ((const struct doc_key *)a)->hash, y = ((const struct doc_key *)b)->hash;
    return x < y ? -1 : x > y;
}

/* Indexes the doc strings by Name hash (Lean keeps them sorted by name, pack in file order). */
static int index_docs(unpack *u)
{
    if (!u->ndocs)
        return 0;
    u->doc_keys = mem_try_alloc(u->ndocs * sizeof *u->doc_keys);
    if (!u->doc_keys)
        return -ENOMEM;
    for (uint64_t i = 0; i < u->ndocs; i++) {
        doc d;
        int rc = doc_at(u, i, &d);
        if (rc || (rc = ln_name_hash_compute(u->m, d.name, &u->doc_keys[i].hash, u->err)))
            return rc;
        u->doc_keys[i].index = i;
    }
    qsort(u->doc_keys, u->ndocs, sizeof *u->doc_keys, cmp_doc_key);
    return 0;
}

/* "/-- text -/" for the name's doc string, if it has one (after an empty line). */
static int put_doc(const unpack *u, lx_word name)
{
    struct doc_key key = {0, 0};
    if (!u->ndocs)
        return 0;
    int rc = ln_name_hash_compute(u->m, name, &key.hash, u->err);
    if (rc)
        return rc;
    const struct doc_key *k = bsearch(&key, u->doc_keys, u->ndocs, sizeof key, cmp_doc_key);
    while (k && k > u->doc_keys && k[-1].hash == key.hash)
        k--; /* the first of equal hashes */
    for (; k && k < u->doc_keys + u->ndocs && k->hash == key.hash; k++) {
        doc d;
        if ((rc = doc_at(u, k->index, &d)))
            return rc;
        if (!name_eq(u, d.name, name))
            continue;
        if ((rc = blank_line(u)))
            return rc;
        if (memchr(d.s, 0, d.len) || strstr(d.s, "-/"))
            return ln_buf_puts(u->out, "-- envpool: a doc string that a comment cannot hold is left out\n");
        if ((rc = ln_buf_puts(u->out, "/-- ")) || (rc = ln_buf_append(u->out, d.s, d.len)))
            return rc;
        return ln_buf_puts(u->out, " -/\n");
    }
    return 0;
}

/*
 * One expression, printed into a bounded buffer first: a term too large to
 * print (or a shared DAG that would expand without end) fails with
 * LN_ETOOBIG instead of a cut text that would not pack back.
 */
static int put_expr(unpack *u, lx_word e, const ln_print_opts *o)
{
    ln_buf_reset(&u->expr);
    int rc = ln_expr_format_opts(u->m, e, o, &u->expr, u->err);
    return rc ? rc : ln_buf_append(u->out, u->expr.data, u->expr.len);
}

/* Is v `sorryAx.{0} T Bool.false` with T the constant's type (pack's theorem without a proof)? */
static bool is_pack_sorry(const unpack *u, const ln_const *c)
{
    ln_expr a, f, k, b;
    region_error ignore;
    if (ln_expr_view(u->m, c->value, &a, &ignore) || a.kind != LN_APP ||
        ln_expr_view(u->m, a.a, &f, &ignore) || f.kind != LN_APP ||
        ln_expr_view(u->m, f.a, &k, &ignore) || k.kind != LN_CONST ||
        ln_expr_view(u->m, a.b, &b, &ignore) || b.kind != LN_CONST)
        return false;
    bool is_sorry = false, is_false = false;
    ln_expr t, ty;
    if (ln_name_eq_text(u->m, k.a, "sorryAx", 7, &is_sorry, &ignore) || !is_sorry ||
        ln_name_eq_text(u->m, b.a, "Bool.false", 10, &is_false, &ignore) || !is_false ||
        ln_expr_view(u->m, f.b, &t, &ignore) || ln_expr_view(u->m, c->type, &ty, &ignore))
        return false;
    /* the level list is [0], Bool.false has none */
    lx_word cur = k.b, lvl;
    if (ln_list_next(u->m, &cur, &lvl, &ignore) != 1 || lvl != lx_box(0) || cur != lx_box(0) ||
        b.b != lx_box(0))
        return false;
    return f.b == c->type || t.data == ty.data; /* pack's file: one object, merged */
}

/* Name text without a prefix "T." (for constructor names); false if it lacks the prefix. */
static bool short_name(const char *full, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(full, prefix, n) || full[n] != '.' || !full[n + 1])
        return false;
    *rest = full + n + 1;
    return true;
}

static int note(const unpack *u, const char *what, const ln_const *c)
{
    int rc = ln_buf_printf(u->out, "-- envpool: %s ", what);
    if (rc || (rc = ln_name_format(u->m, c->name, u->out, u->err)))
        return rc;
    return ln_buf_puts(u->out, "\n");
}

/*
 * The constant of kind `kind` named `name`, searched in file order from
 * index `from` on, wrapping around (a constructor follows its type).
 */
static int find_const(const unpack *u, lx_word name, enum ln_const_kind kind, uint64_t from, ln_const *out,
                      bool *found)
{
    *found = false;
    uint64_t n = u->m->nconstants;
    for (uint64_t k = 0; k < n; k++) {
        int rc = ln_module_const(u->m, (from + k) % n, out, u->err);
        if (rc)
            return rc;
        if (out->kind == kind && name_eq(u, out->name, name)) {
            *found = true;
            return 0;
        }
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Collects the Name hashes of the module's inductive types (sorted), for own_inductive. */
static int collect_inductives(unpack *u)
{
    const ln_module *m = u->m;
    u->induct = mem_try_alloc((m->nconstants ? m->nconstants : 1) * sizeof *u->induct);
    if (!u->induct)
        return -ENOMEM;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        ln_const c;
        int rc = ln_module_const(m, i, &c, u->err);
        if (rc)
            return rc;
        if (c.kind == LN_INDUCT && (rc = ln_name_hash_compute(m, c.name, &u->induct[u->ninduct++], u->err)))
            return rc;
    }
    qsort(u->induct, u->ninduct, sizeof *u->induct, cmp_u64);
    return 0;
}

static int put_inductive(unpack *u, const ln_const *c, uint64_t index)
{
    ln_buf *out = u->out;
    int rc;
    uint64_t nall = 0;
    if (c->all && (rc = ln_list_length(u->m, c->all, &nall, u->err)))
        return rc;
    if (nall > 1 && (rc = note(u, "mutual inductive types cannot be written; only this one is:", c)))
        return rc;
    if ((c->has_num_nested ? c->num_nested > 0 : c->is_nested) &&
        (rc = note(u, "nested inductive type, which pack does not derive:", c)))
        return rc;
    char tname[512], cname[512];
    size_t need;
    if ((rc = ln_name_to_cstr(u->m, c->name, tname, sizeof tname, &need, u->err)))
        return rc;
    ln_print_opts sig = {.named_arrows = true, .signature = true, .hide = 0, .show = c->num_params};
    if ((rc = ln_buf_puts(out, "inductive ")) || (rc = ln_const_format_header(u->m, c, out, u->err)) ||
        (rc = put_expr(u, c->type, &sig)) || (rc = ln_buf_puts(out, "\n")))
        return rc;
    lx_word cur = c->ctors, cn;
    while ((rc = ln_list_next(u->m, &cur, &cn, u->err)) == 1) {
        ln_const k;
        bool found;
        const char *shortn;
        if ((rc = find_const(u, cn, LN_CTOR, index + 1, &k, &found)))
            return rc;
        if ((rc = ln_name_to_cstr(u->m, cn, cname, sizeof cname, &need, u->err)))
            return rc;
        if (!found || !short_name(cname, tname, &shortn)) {
            if ((rc = ln_buf_printf(out, "  -- envpool: constructor %s is not %s.NAME in this module\n", cname,
                                    tname)))
                return rc;
            continue;
        }
        ln_print_opts ks = {.named_arrows = true, .signature = true, .hide = c->num_params,
                            .show = k.num_fields};
        if ((rc = ln_buf_printf(out, "  | %s", shortn)) || (rc = put_expr(u, k.type, &ks)) ||
            (rc = ln_buf_puts(out, "\n")))
            return rc;
    }
    return rc;
}

/*
 * How many leading ∀ binders of type can be written before the colon, as
 * `def f (x : A) : B := b` for `def f : ∀ (x : A), B := fun (x : A) => b`:
 * named ones, and with a value (non-zero) only as many as its leading fun
 * binders repeat (same name, kind and domain), since pack puts each one in
 * front of both.
 */
static int leading_binders(const unpack *u, lx_word type, lx_word value, uint64_t *k)
{
    *k = 0;
    ln_expr t, v;
    int rc;
    for (;;) {
        if ((rc = ln_expr_view(u->m, type, &t, u->err)))
            return rc;
        if (t.kind != LN_FORALL || t.a == lx_box(0))
            return 0;
        if (value) {
            ln_expr td, vd;
            if ((rc = ln_expr_view(u->m, value, &v, u->err)))
                return rc;
            if (v.kind != LN_LAM || v.binder_info != t.binder_info || !name_eq(u, v.a, t.a))
                return 0;
            if (v.b != t.b && ((rc = ln_expr_view(u->m, v.b, &vd, u->err)) ||
                               (rc = ln_expr_view(u->m, t.b, &td, u->err)) || vd.data != td.data))
                return rc;
            value = v.c;
        }
        type = t.c;
        ++*k;
    }
}

/*
 * Is the inductive type `name` declared in this module (so pack derives its
 * constructors and recursor)? By 64-bit Name hash.
 */
static int own_inductive(const unpack *u, lx_word name, bool *own)
{
    uint64_t h;
    int rc = ln_name_hash_compute(u->m, name, &h, u->err);
    *own = !rc && bsearch(&h, u->induct, u->ninduct, sizeof *u->induct, cmp_u64) != NULL;
    return rc;
}

static int put_const(unpack *u, const ln_const *c, uint64_t index)
{
    ln_buf *out = u->out;
    int rc = 0;
    bool own = false;
    lx_word head;
    switch (c->kind) {
    case LN_CTOR:
        if ((rc = own_inductive(u, c->induct, &own)))
            return rc;
        return own ? 0 : note(u, "a constructor without its inductive type cannot be written:", c);
    case LN_REC: {
        lx_word cur = c->all;
        if (cur && (rc = ln_list_next(u->m, &cur, &head, u->err)) == 1 && (rc = own_inductive(u, head, &own)))
            return rc;
        if (rc < 0)
            return rc;
        return own ? 0 : note(u, "a recursor without its inductive type cannot be written:", c);
    }
    case LN_QUOT:
        return note(u, "quotient constants cannot be written:", c);
    case LN_INDUCT:
        if ((rc = blank_line(u)) || (rc = put_doc(u, c->name)) || (rc = put_inductive(u, c, index)))
            return rc;
        return ln_buf_puts(out, "\n");
    default:
        break;
    }
    static const char *const kw[] = {"axiom ", "def ", "theorem ", "opaque "};
    bool has_value = c->kind != LN_AXIOM && c->value && !(c->kind == LN_THM && is_pack_sorry(u, c));
    uint64_t k = 0;
    if ((rc = leading_binders(u, c->type, has_value ? c->value : 0, &k)))
        return rc;
    ln_print_opts sig = {.named_arrows = true, .signature = true, .show = k};
    ln_print_opts body = {.named_arrows = true, .hide = k};
    if (c->kind == LN_DEF && c->safety != LN_SAFE)
        rc = note(u, c->safety == LN_UNSAFE ? "unsafe definition, packed as safe:" : "partial definition, packed as safe:", c);
    else if (c->kind == LN_DEF && c->hints != LN_HINTS_REGULAR)
        rc = note(u, c->hints == LN_HINTS_ABBREV ? "abbrev hints, packed as regular:" : "opaque hints, packed as regular:", c);
    else if ((c->kind == LN_AXIOM || c->kind == LN_OPAQUE) && c->is_unsafe)
        rc = note(u, "unsafe, packed as safe:", c);
    if (rc || (rc = put_doc(u, c->name)) || (rc = ln_buf_puts(out, kw[c->kind])) ||
        (rc = ln_const_format_header(u->m, c, out, u->err)) || (rc = put_expr(u, c->type, &sig)))
        return rc;
    if (has_value && ((rc = ln_buf_puts(out, " := ")) || (rc = put_expr(u, c->value, &body))))
        return rc;
    return ln_buf_puts(out, "\n");
}

int ln_unpack(const ln_module *m, const char *name, size_t max_expr_bytes, ln_buf *out, region_error *err)
{
    unpack u = {.m = m, .out = out, .err = err};
    ln_buf_init(&u.expr, max_expr_bytes);
    int rc = find_docs(&u);
    if (rc || (rc = index_docs(&u)) || (rc = collect_inductives(&u)) ||
        (rc = ln_buf_printf(out, "module %s\n", name)))
        goto out;
    for (uint64_t i = 0; i < m->nimports; i++) {
        ln_import im;
        if ((rc = ln_module_import(m, i, &im, err)) || (rc = ln_buf_puts(out, "import ")) ||
            (rc = ln_name_format(m, im.module, out, err)) || (rc = ln_buf_puts(out, "\n")))
            goto out;
    }
    if ((rc = ln_buf_puts(out, "\n")))
        goto out;
    for (uint64_t i = 0; i < m->nconstants; i++) {
        ln_const c;
        if ((rc = ln_module_const(m, i, &c, err)) || (rc = put_const(&u, &c, i)))
            goto out;
    }
out:
    ln_buf_deinit(&u.expr);
    mem_free(u.doc_keys);
    mem_free(u.induct);
    return rc;
}
