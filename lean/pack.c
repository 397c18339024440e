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
 *
 * This file holds the session, the module under construction, simple
 * declarations (axiom, def, theorem, opaque) and the two entry points;
 * statements and their pieces are pack_text.c's, parsing and checking
 * expressions pack_check.c's, inductive types pack_inductive.c's.
 */
#include "lean/pack_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

bool ln__known(const ln_pack *pk, uint64_t h) { return u64map_get(&pk->known, h, NULL); }

int ln_pack_know(ln_pack *pk, uint64_t h) { return u64map_put(&pk->known, h, 0); }

int ln_pack_know_region(ln_pack *pk, const region *r, region_error *err)
{
    lx_space sp = region_space(r);
    const uint8_t *mod = lx_obj(&sp, region_root(r));
    if (!lx_is_ctor(mod) || lx_ctor_num_objs(mod) < 3) {
        if (err) {
            err->code = LN_EINVAL;
            snprintf(err->reason, sizeof err->reason, "%s: not a module", region_path(r));
        }
        return LN_EINVAL;
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

/* ---- Lean objects ------------------------------------------------------ */

lx_word ln__list_of(lx_word *items, size_t n) /* items STOLEN */
{
    lx_word l = lx_box(0);
    while (n > 0)
        l = ln_mk_cons(items[--n], l);
    return l;
}

lx_word ln__cval(lx_word name, lx_word lparams, lx_word type)
{
    lx_word c = lx_ctor_new(0, 3, 0);
    lx_ctor_set(c, 0, name);
    lx_ctor_set(c, 1, lparams);
    lx_ctor_set(c, 2, type);
    return c;
}

lx_word ln__cinfo(enum ln_const_kind kind, lx_word val)
{
    lx_word c = lx_ctor_new((unsigned)kind, 1, 0);
    lx_ctor_set(c, 0, val);
    return c;
}

lx_word ln__ctor_of(unsigned nptr, const lx_word *f, size_t scalars, const uint8_t *bytes)
{
    lx_word c = lx_ctor_new(0, nptr, scalars);
    for (unsigned i = 0; i < nptr; i++)
        lx_ctor_set(c, i, f[i]);
    if (scalars)
        memcpy(lx_ctor_scalars_mut(c), bytes, scalars);
    return c;
}

/* ---- the module under construction ------------------------------------- */


int ln__add_const(module *m, ln_pack *pk, lx_word name, lx_word info)
{
    if (vec_reserve(&m->consts, m->consts.n + 1) || vec_reserve(&m->names, m->names.n + 1)) {
        lx_unref(name);
        lx_unref(info);
        return -ENOMEM;
    }
    m->consts.v[m->consts.n++] = info;
    m->names.v[m->names.n++] = name;
    return ln_pack_know(pk, ln__name_hash(name));
}

int ln__add_doc(module *m, lx_word name, const src *x, const stmt *st)
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
    m->docs.v[m->docs.n++] = ln__ctor_of(2, kv, 0, NULL);
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
        if (t == LN_CONST) {
            uint64_t dh;
            if (u64map_get(&m->heights, ln__name_hash(lx_ctor_get(o, 0)), &dh) && dh > h)
                h = (uint32_t)dh;
        } else {
            unsigned first = ln__expr_first_child(t);
            for (unsigned i = first; i < lx_ctor_num_objs(o) && n < 4096; i++)
                st[n++] = lx_ctor_get(o, i);
        }
    }
    return h + 1;
}

int ln__head_names(const src *x, const head *h, lx_word *name, lx_word *lparams, uint64_t *lph)
{
    if (ln_mk_name_text(x->s + h->name_s, h->name_e - h->name_s, name))
        return ln__src_fail(x, h->name_s, "malformed name");
    lx_word items[16];
    for (size_t i = 0; i < h->nlp; i++) {
        items[i] = ln_mk_name_str(lx_box(0), x->s + h->lp_s[i], h->lp_e[i] - h->lp_s[i]);
        lph[i] = ln__name_hash(items[i]);
    }
    *lparams = ln__list_of(items, h->nlp);
    return 0;
}

static lx_word name_lit(const char *text)
{
    lx_word n;
    if (ln_mk_name_text(text, strlen(text), &n))
        n = lx_box(0);
    return n;
}

static int decl_simple(ln_pack *pk, module *m, const src *x, const stmt *st, size_t kw_end, enum ln_const_kind kind)
{
    head h;
    int rc = ln__parse_head(x, kw_end, st->end, &h);
    if (rc)
        return rc;
    /* NAME BINDERS : TYPE := VALUE — binders become ∀ in the type, fun in the value */
    size_t colon = h.after;
    for (;;) {
        colon = ln__find_top(x, colon, st->end, ":");
        if (colon >= st->end || colon + 1 >= st->end || x->s[colon + 1] != '=')
            break;
        colon += 2;
    }
    if (colon >= st->end)
        return ln__src_fail(x, h.after, "expected ':' and a type");
    group bs[32];
    size_t nb;
    int grc = ln__groups_in(x, h.after, colon, bs, 32, &nb);
    if (grc)
        return grc;
    size_t assign = ln__find_top(x, colon + 1, st->end, ":=");
    uint64_t lph[16];
    decl_ctx d = {x, pk, st->start, st->end, lph, h.nlp, NULL, 0};
    lx_word name, lparams, type, value = 0;
    if ((rc = ln__head_names(x, &h, &name, &lparams, lph)))
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
        rc = ln__expr_text(&d, &tt, &type);
        bbuf_deinit(&tt);
    } else {
        rc = ln__expr_at(&d, colon + 1, assign, &type);
    }
    if (rc)
        goto fail_nt;
    if (assign < st->end) {
        if (kind == LN_AXIOM) {
            rc = ln__src_fail(x, assign, "an axiom has no value");
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
            rc = ln__expr_text(&d, &tv, &value);
            bbuf_deinit(&tv);
        } else {
            rc = ln__expr_at(&d, assign + 2, st->end, &value);
        }
        if (rc)
            goto fail_t;
    } else if (kind == LN_THM) {
        /* theorem without a proof: sorryAx.{0} T Bool.false, as Lean stores `sorry` */
        lx_ref(type);
        value = ln_mk_app(ln_mk_app(ln_mk_const(name_lit("sorryAx"), ln_mk_cons(lx_box(0), lx_box(0))), type),
                          ln_mk_const(name_lit("Bool.false"), lx_box(0)));
    } else if (kind != LN_AXIOM) {
        rc = ln__src_fail(x, st->start, "a %s needs a value (':= …')", kind == LN_DEF ? "def" : "opaque");
        goto fail_t;
    }
    uint32_t height = 0;
    if (kind == LN_DEF) {
        height = height_of(m, value);
        uint64_t *hv;
        if ((rc = u64map_upsert(&m->heights, ln__name_hash(name), &hv, NULL))) {
            lx_unref(value);
            goto fail_t;
        }
        if (*hv < height)
            *hv = height;
    }
    lx_ref(name);
    lx_word cv = ln__cval(name, lparams, type);
    lx_word info;
    uint8_t bytes[1];
    if (kind == LN_AXIOM) {
        bytes[0] = 0; /* isUnsafe */
        info = ln__cinfo(LN_AXIOM, ln__ctor_of(1, &cv, 1, bytes));
    } else {
        lx_ref(name);
        lx_word all = ln_mk_cons(name, lx_box(0));
        if (kind == LN_DEF) {
            lx_word hints = lx_ctor_new(2, 0, 4); /* ReducibilityHints.regular height */
            memcpy(lx_ctor_scalars_mut(hints), &height, 4);
            lx_word f[4] = {cv, value, hints, all};
            bytes[0] = 1; /* safe */
            info = ln__cinfo(LN_DEF, ln__ctor_of(4, f, 1, bytes));
        } else if (kind == LN_THM) {
            lx_word f[3] = {cv, value, all};
            info = ln__cinfo(LN_THM, ln__ctor_of(3, f, 0, NULL));
        } else {
            lx_word f[3] = {cv, value, all};
            bytes[0] = 0;
            info = ln__cinfo(LN_OPAQUE, ln__ctor_of(3, f, 1, bytes));
        }
    }
    if ((rc = ln__add_doc(m, name, x, st))) {
        lx_unref(name);
        lx_unref(info);
        return rc;
    }
    return ln__add_const(m, pk, name, info);
fail_t:
    lx_unref(type);
fail_nt:
    lx_unref(name);
    lx_unref(lparams);
    return rc;
}

/* ---- modules ----------------------------------------------------------- */

static int module_line(const src *x, const stmt *st, size_t *s, size_t *e)
{
    size_t off = ln__skip_ws(x, ln__word_end(x, st->start, st->end), st->end);
    size_t end = ln__word_end(x, off, st->end);
    if (off == end || ln__skip_ws(x, end, st->end) != st->end)
        return ln__src_fail(x, off, "expected one module name");
    *s = off;
    *e = end;
    return 0;
}

int ln_pack_scan(const char *path, const char *text, size_t len, ln_pack_header *out, region_error *err)
{
    src x = {path, text, len, err};
    stmts sts = {0};
    memset(out, 0, sizeof *out);
    int rc = ln__split(&x, &sts);
    for (size_t i = 0; i < sts.n && !rc; i++) {
        const stmt *st = &sts.v[i];
        if (ln__word_is(&x, st->start, st->end, "module")) {
            size_t s = 0, e = 0;
            if ((rc = module_line(&x, st, &s, &e)))
                break;
            if (out->module) {
                rc = ln__src_fail(&x, st->start, "a second module line");
                break;
            }
            out->module = mem_strndup(text + s, e - s);
        } else if (ln__word_is(&x, st->start, st->end, "import")) {
            if (!out->module) {
                rc = ln__src_fail(&x, st->start, "the module line comes first");
                break;
            }
            size_t off = ln__word_end(&x, st->start, st->end);
            for (;;) {
                off = ln__skip_ws(&x, off, st->end);
                if (off >= st->end)
                    break;
                size_t e = ln__word_end(&x, off, st->end);
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
            rc = ln__src_fail(&x, st->start, "expected 'module NAME' first");
        }
    }
    if (!rc && !out->module)
        rc = ln__src_fail(&x, 0, "no module line");
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
    int rc = ln__split(&x, &sts);
    for (size_t i = 0; i < sts.n && !rc; i++) {
        const stmt *st = &sts.v[i];
        size_t kw = ln__word_end(&x, st->start, st->end);
        if (ln__word_is(&x, st->start, st->end, "module"))
            continue;
        if (ln__word_is(&x, st->start, st->end, "import")) {
            size_t off = kw;
            for (;;) {
                off = ln__skip_ws(&x, off, st->end);
                if (off >= st->end)
                    break;
                size_t e = ln__word_end(&x, off, st->end);
                lx_word n;
                if (nimp == 256 || ln_mk_name_text(text + off, e - off, &n)) {
                    rc = ln__src_fail(&x, off, "bad import (at most 256)");
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
        if (ln__word_is(&x, st->start, st->end, "axiom"))
            rc = decl_simple(pk, &m, &x, st, kw, LN_AXIOM);
        else if (ln__word_is(&x, st->start, st->end, "def"))
            rc = decl_simple(pk, &m, &x, st, kw, LN_DEF);
        else if (ln__word_is(&x, st->start, st->end, "theorem"))
            rc = decl_simple(pk, &m, &x, st, kw, LN_THM);
        else if (ln__word_is(&x, st->start, st->end, "opaque"))
            rc = decl_simple(pk, &m, &x, st, kw, LN_OPAQUE);
        else if (ln__word_is(&x, st->start, st->end, "inductive"))
            rc = ln__decl_inductive(pk, &m, &x, st, kw);
        else
            rc = ln__src_fail(&x, st->start, "expected module, import, axiom, def, theorem, opaque or inductive");
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
                lx_word pair = ln__ctor_of(2, kv, 0, NULL);
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
