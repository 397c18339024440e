/*
 * lean/pack_inductive.c — an `inductive` statement of a text module: the
 * type, its constructors and its recursor (see pack.c for the format).
 *
 * The statement is read once (ind_parse: header, parameters, indices, sort,
 * constructor lines with their fields, which fields are recursive and the
 * index arguments of each result); then the three kinds of constants are
 * built in turn (ind_type, ind_ctors, ind_recursor), each as text in the
 * printer's syntax that expr_text parses and checks, named as Lean names
 * them: T, T.c, T.rec with motive, minors after the constructors, and the
 * elimination universe u (or u_1, … when u is taken).
 */
#include "lean/pack_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "region/hash.h"

#define MAXC 64 /* constructors */
#define MAXI 8  /* indices */

typedef struct ctor_src {
    span   name;            /* short name */
    group  fields[MAXB];
    size_t nfields;
    bool   rec[MAXB];       /* field is recursive */
    span   rec_idx[MAXB][MAXI];
    span   res_idx[MAXI];   /* index arguments of the result type */
} ctor_src;

/* Everything the three builders share. */
typedef struct ind {
    ln_pack     *pk;
    module      *m;
    const src   *x;
    const stmt  *st;
    head         h;
    size_t       cstart[MAXC], nc;  /* constructor lines ('|') */
    size_t       colon, hdr_end;    /* the header's ':' and end */
    group        params[MAXB];
    size_t       np;
    span         idx[MAXI];
    size_t       ni;
    bool         is_prop, any_rec, large, kflag;
    const char  *T;                 /* the type's name, Tn bytes */
    size_t       Tn;
    txt          lv, Tapp;          /* ".{u, v}" (or empty) and "T.{u, v} params" */
    ctor_src    *cs;                /* nc */
    uint64_t    *local;             /* hashes of T, T.c…, T.rec: names this statement declares */
    uint64_t     lph[17];           /* universe parameters, and the elimination universe */
    char         v[16];             /* the elimination universe's name */
    lx_word      name, lparams;     /* T and its universe list (owned) */
    lx_word      ctor_names[MAXC];  /* T.c; [names_from, names_to) still owned */
    size_t       names_from, names_to;
    decl_ctx     d;
} ind;

/* Top-level whitespace-separated tokens of an application text. */
static size_t app_tokens(const src *x, size_t off, size_t end, span *t, size_t max)
{
    size_t n = 0;
    for (;;) {
        off = ln__skip_ws(x, off, end);
        if (off >= end || n == max)
            return n;
        size_t s = off;
        int depth = 0;
        while (off < end && (depth > 0 || !ln__is_ws(x->s[off]))) {
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

/* put_groups into a text of its own, then appended to t after `sep` (when any). */
static void put_groups_sep(txt *t, const char *sep, const src *x, const group *g, size_t n)
{
    txt tmp;
    bbuf_init(&tmp, 0);
    put_groups(&tmp, x, g, n, false);
    if (tmp.err && !t->err)
        t->err = tmp.err;
    if (tmp.len) {
        tputs(t, sep);
        tput(t, tmp.data, tmp.len);
    }
    bbuf_deinit(&tmp);
}

static void put_names(txt *t, const src *x, const group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tputs(t, " ");
        put_span(t, x, g[i].name);
    }
}

/* " (a_1 : I1) … (t : T params a_1 …)": the indices and the major premise, as binders. */
static void put_major(txt *t, const ind *I)
{
    for (size_t k = 0; k < I->ni; k++) {
        tputf(t, " (a_%zu :", k + 1);
        put_span(t, I->x, I->idx[k]);
        tputs(t, ")");
    }
    tputs(t, " (t : ");
    tput(t, I->Tapp.data, I->Tapp.len);
    for (size_t k = 0; k < I->ni; k++)
        tputf(t, " a_%zu", k + 1);
    tputs(t, ")");
}

/* "T.c" as a name. */
static int ctor_name(const ind *I, size_t c, lx_word *out)
{
    txt cn;
    bbuf_init(&cn, 0);
    tput(&cn, I->T, I->Tn);
    tputs(&cn, ".");
    put_span(&cn, I->x, I->cs[c].name);
    int rc = cn.err ? cn.err : ln_mk_name_text(cn.data, cn.len, out) ? 1 : 0;
    bbuf_deinit(&cn);
    return rc;
}

/* ---- reading the statement ---------------------------------------------- */

/* One constructor line: its name, fields, result indices, recursive fields. */
static int parse_ctor(ind *I, size_t c)
{
    const src *x = I->x;
    ctor_src *cs = &I->cs[c];
    size_t cend = c + 1 < I->nc ? I->cstart[c + 1] : I->st->end;
    size_t ns = ln__skip_ws(x, I->cstart[c] + 1, cend), ne = ns;
    while (ne < cend && !ln__is_ws(x->s[ne]) && x->s[ne] != ':' && x->s[ne] != '(' && x->s[ne] != '{' &&
           x->s[ne] != '[')
        ne++;
    if (ne == ns)
        return ln__src_fail(x, ns, "expected a constructor name");
    cs->name = (span){ns, ne};
    size_t cc = ln__find_top(x, ne, cend, ":");
    if (cc >= cend)
        return ln__src_fail(x, ne, "expected ':' and the constructor's result type");
    int rc = ln__groups_in(x, ne, cc, cs->fields, MAXB, &cs->nfields);
    if (rc)
        return rc;
    span toks[64];
    size_t nt = app_tokens(x, cc + 1, cend, toks, 64);
    if (nt != 1 + I->np + I->ni || !head_is(x, toks[0], I->T, I->Tn))
        return ln__src_fail(x, cc + 1, "the result type must be %.*s applied to its %zu parameters and %zu indices",
                            (int)I->Tn, I->T, I->np, I->ni);
    for (size_t k = 0; k < I->ni; k++)
        cs->res_idx[k] = toks[1 + I->np + k];
    for (size_t f = 0; f < cs->nfields; f++) {
        span ft[64];
        size_t nft = app_tokens(x, cs->fields[f].type.s, cs->fields[f].type.e, ft, 64);
        if (nft >= 1 && head_is(x, ft[0], I->T, I->Tn)) {
            if (nft != 1 + I->np + I->ni)
                return ln__src_fail(x, ft[0].s, "a recursive field must apply %.*s to all parameters and indices",
                                    (int)I->Tn, I->T);
            cs->rec[f] = I->any_rec = true;
            for (size_t k = 0; k < I->ni; k++)
                cs->rec_idx[f][k] = ft[1 + I->np + k];
        }
    }
    return 0;
}

static int ind_parse(ind *I, size_t kw_end)
{
    const src *x = I->x;
    const stmt *st = I->st;
    head *h = &I->h;
    int rc = ln__parse_head(x, kw_end, st->end, h);
    if (rc)
        return rc;
    /* Constructors: lines whose first non-blank character is '|'. */
    for (size_t i = h->after; i < st->end; i++) {
        if (x->s[i] != '\n')
            continue;
        size_t k = i + 1;
        while (k < st->end && (x->s[k] == ' ' || x->s[k] == '\t'))
            k++;
        if (k < st->end && x->s[k] == '|') {
            if (I->nc == MAXC)
                return ln__src_fail(x, k, "at most 64 constructors");
            I->cstart[I->nc++] = k;
        }
    }
    I->hdr_end = I->nc ? I->cstart[0] : st->end;
    I->colon = ln__find_top(x, h->after, I->hdr_end, ":");
    if (I->colon >= I->hdr_end)
        return ln__src_fail(x, h->after, "expected ':' and the type's sort");
    if ((rc = ln__groups_in(x, h->after, I->colon, I->params, MAXB, &I->np)))
        return rc;
    /* Indices: A → B → Sort. */
    size_t p = I->colon + 1;
    for (;;) {
        size_t a = ln__find_top(x, p, I->hdr_end, "\xe2\x86\x92");
        if (a >= I->hdr_end)
            break;
        if (I->ni == MAXI)
            return ln__src_fail(x, p, "at most 8 indices");
        I->idx[I->ni++] = (span){p, a};
        p = a + 3;
    }
    span sort = {ln__skip_ws(x, p, I->hdr_end), I->hdr_end};
    while (sort.e > sort.s && ln__is_ws(x->s[sort.e - 1]))
        sort.e--;
    I->is_prop = (sort.e - sort.s == 4 && !memcmp(x->s + sort.s, "Prop", 4)) ||
                 (sort.e - sort.s == 6 && !memcmp(x->s + sort.s, "Sort 0", 6));

    I->T = x->s + h->name_s;
    I->Tn = h->name_e - h->name_s;
    if (h->nlp) {
        tputs(&I->lv, ".{");
        for (size_t i = 0; i < h->nlp; i++) {
            if (i)
                tputs(&I->lv, ", ");
            tput(&I->lv, x->s + h->lp_s[i], h->lp_e[i] - h->lp_s[i]);
        }
        tputs(&I->lv, "}");
    }
    tput(&I->Tapp, I->T, I->Tn);
    tput(&I->Tapp, I->lv.data, I->lv.len);
    put_names(&I->Tapp, x, I->params, I->np);

    I->cs = mem_try_calloc(I->nc ? I->nc : 1, sizeof *I->cs);
    I->local = mem_try_calloc(I->nc + 2, sizeof *I->local);
    if (!I->cs || !I->local)
        return -ENOMEM;
    for (size_t c = 0; c < I->nc; c++)
        if ((rc = parse_ctor(I, c)))
            return rc;
    I->large = !I->is_prop || I->nc == 0 || (I->nc == 1 && I->cs[0].nfields == 0);
    I->kflag = I->is_prop && I->nc == 1 && I->cs[0].nfields == 0;

    /* The elimination universe: u, else u_1, u_2, … */
    snprintf(I->v, sizeof I->v, "u");
    for (unsigned k = 1;; k++) {
        bool clash = false;
        for (size_t i = 0; i < h->nlp; i++)
            clash |= h->lp_e[i] - h->lp_s[i] == strlen(I->v) && !memcmp(x->s + h->lp_s[i], I->v, strlen(I->v));
        if (!clash)
            break;
        snprintf(I->v, sizeof I->v, "u_%u", k);
    }
    return 0;
}

/* ---- the type, the constructors ----------------------------------------- */

/* The InductiveVal, and the constructors' names (owned by I from here). */
static int ind_type(ind *I)
{
    const src *x = I->x;
    int rc = ln__head_names(x, &I->h, &I->name, &I->lparams, I->lph);
    if (rc)
        return rc;
    I->local[0] = ln__name_hash(I->name);
    I->d = (decl_ctx){x, I->pk, I->st->start, I->st->end, I->lph, I->h.nlp, I->local, 1};
    txt t;
    bbuf_init(&t, 0);
    if (I->np) {
        tputs(&t, "\xe2\x88\x80 ");
        put_groups(&t, x, I->params, I->np, false);
        tputs(&t, ", ");
    }
    tput(&t, x->s + I->colon + 1, I->hdr_end - I->colon - 1);
    lx_word type;
    rc = ln__expr_text(&I->d, &t, &type);
    bbuf_deinit(&t);
    if (rc)
        return rc;
    for (size_t c = 0; c < I->nc; c++) {
        if ((rc = ctor_name(I, c, &I->ctor_names[c]))) {
            lx_unref(type);
            return rc < 0 ? rc : ln__src_fail(x, I->cs[c].name.s, "malformed constructor name");
        }
        I->names_to = c + 1;
        I->local[1 + c] = ln__name_hash(I->ctor_names[c]);
    }
    lx_word cl[MAXC];
    for (size_t c = 0; c < I->nc; c++) {
        lx_ref(I->ctor_names[c]);
        cl[c] = I->ctor_names[c];
    }
    lx_word name = I->name;
    I->name = lx_box(0); /* its reference goes to add_const */
    lx_ref(name);
    lx_ref(name);
    lx_ref(I->lparams);
    lx_word f[6] = {ln__cval(name, I->lparams, type), lx_box(I->np), lx_box(I->ni), ln_mk_cons(name, lx_box(0)),
                    ln__list_of(cl, I->nc), lx_box(0)};
    uint8_t b[3] = {I->any_rec, 0, 0};
    lx_word info = ln__cinfo(LN_INDUCT, ln__ctor_of(6, f, 3, b));
    if ((rc = ln__add_doc(I->m, name, x, I->st))) {
        lx_unref(name);
        lx_unref(info);
        return rc;
    }
    if ((rc = ln__add_const(I->m, I->pk, name, info)))
        return rc;
    I->d.nlocal = 1 + I->nc;
    return 0;
}

static int ind_ctors(ind *I)
{
    const src *x = I->x;
    txt t;
    bbuf_init(&t, 0);
    int rc = 0;
    for (size_t c = 0; c < I->nc && !rc; c++) {
        const ctor_src *cs = &I->cs[c];
        bbuf_truncate(&t, 0);
        if (I->np || cs->nfields) {
            tputs(&t, "\xe2\x88\x80 ");
            put_groups(&t, x, I->params, I->np, true);
            put_groups(&t, x, cs->fields, cs->nfields, false);
            tputs(&t, ", ");
        }
        size_t cend = c + 1 < I->nc ? I->cstart[c + 1] : I->st->end;
        size_t cc = ln__find_top(x, cs->name.e, cend, ":");
        tput(&t, x->s + cc + 1, cend - cc - 1);
        lx_word ctype;
        if ((rc = ln__expr_text(&I->d, &t, &ctype)))
            break;
        lx_ref(I->lparams);
        lx_word name = I->ctor_names[c];
        I->names_from = c + 1; /* its reference goes to add_const */
        lx_ref(name);
        lx_word head_name;
        if (ln_mk_name_text(I->T, I->Tn, &head_name))
            head_name = lx_box(0);
        lx_word f[5] = {ln__cval(name, I->lparams, ctype), head_name, lx_box(c), lx_box(I->np),
                        lx_box(cs->nfields)};
        uint8_t b[1] = {0};
        rc = ln__add_const(I->m, I->pk, name, ln__cinfo(LN_CTOR, ln__ctor_of(5, f, 1, b)));
    }
    bbuf_deinit(&t);
    return rc;
}

/* ---- the recursor --------------------------------------------------------- */

/* The minor premises, as binders "(c : ∀ fields ihs, motive idx (T.c params fields))". */
static void put_minors(txt *minors, const ind *I)
{
    const src *x = I->x;
    for (size_t c = 0; c < I->nc; c++) {
        const ctor_src *cs = &I->cs[c];
        tputs(minors, " (");
        put_span(minors, x, cs->name);
        tputs(minors, " : ");
        if (cs->nfields > 0) {
            tputs(minors, "\xe2\x88\x80 ");
            put_groups_sep(minors, "", x, cs->fields, cs->nfields);
            for (size_t f = 0; f < cs->nfields; f++) {
                if (!cs->rec[f])
                    continue;
                tputs(minors, " (");
                put_span(minors, x, cs->fields[f].name);
                tputs(minors, "_ih : motive");
                for (size_t k = 0; k < I->ni; k++) {
                    tputs(minors, " ");
                    put_span(minors, x, cs->rec_idx[f][k]);
                }
                tputs(minors, " ");
                put_span(minors, x, cs->fields[f].name);
                tputs(minors, ")");
            }
            tputs(minors, ", ");
        }
        tputs(minors, "motive");
        for (size_t k = 0; k < I->ni; k++) {
            tputs(minors, " ");
            put_span(minors, x, cs->res_idx[k]);
        }
        tputs(minors, " (");
        tput(minors, I->T, I->Tn);
        tputs(minors, ".");
        put_span(minors, x, cs->name);
        tput(minors, I->lv.data, I->lv.len);
        put_names(minors, x, I->params, I->np);
        put_names(minors, x, cs->fields, cs->nfields);
        tputs(minors, "))");
    }
}

/* The texts every part of the recursor repeats. */
typedef struct rec_text {
    txt name;   /* "T.rec" */
    txt lv;     /* ".{v, u…}", empty when there is no universe */
    txt motive; /* "∀ (a_1 : I1) … (t : T params a_1 …), Sort v" */
    txt minors;
} rec_text;

/* Rule c: "fun params {motive} minors fields => c fields (T.rec … motive minors idx f)…". */
static int ind_rule(ind *I, const rec_text *r, size_t c, txt *t, lx_word *out)
{
    const src *x = I->x;
    const ctor_src *cs = &I->cs[c];
    bbuf_truncate(t, 0);
    tputs(t, "fun ");
    put_groups(t, x, I->params, I->np, true);
    tputs(t, " {motive : ");
    tput(t, r->motive.data, r->motive.len);
    tputs(t, "}");
    tput(t, r->minors.data, r->minors.len);
    put_groups_sep(t, " ", x, cs->fields, cs->nfields);
    tputs(t, " => ");
    put_span(t, x, cs->name);
    put_names(t, x, cs->fields, cs->nfields);
    for (size_t f = 0; f < cs->nfields; f++) {
        if (!cs->rec[f])
            continue;
        tputs(t, " (");
        tput(t, r->name.data, r->name.len);
        tput(t, r->lv.data, r->lv.len);
        put_names(t, x, I->params, I->np);
        tputs(t, " motive");
        for (size_t k = 0; k < I->nc; k++) {
            tputs(t, " ");
            put_span(t, x, I->cs[k].name);
        }
        for (size_t k = 0; k < I->ni; k++) {
            tputs(t, " ");
            put_span(t, x, cs->rec_idx[f][k]);
        }
        tputs(t, " ");
        put_span(t, x, cs->fields[f].name);
        tputs(t, ")");
    }
    lx_word rhs;
    int rc = ln__expr_text(&I->d, t, &rhs);
    if (rc)
        return rc;
    lx_word cn;
    if (ctor_name(I, c, &cn))
        cn = lx_box(0);
    lx_word rf[3] = {cn, lx_box(cs->nfields), rhs};
    *out = ln__ctor_of(3, rf, 0, NULL);
    return 0;
}

static int ind_recursor(ind *I)
{
    const src *x = I->x;
    const head *h = &I->h;
    rec_text r;
    txt t;
    bbuf_init(&r.name, 0);
    bbuf_init(&r.lv, 0);
    bbuf_init(&r.motive, 0);
    bbuf_init(&r.minors, 0);
    bbuf_init(&t, 0);
    lx_word rname = lx_box(0), rtype = lx_box(0), rules[MAXC];
    size_t nrules = 0;
    int rc;

    tput(&r.name, I->T, I->Tn);
    tputs(&r.name, ".rec");
    if (I->large || h->nlp) {
        tputs(&r.lv, ".{");
        if (I->large)
            tputs(&r.lv, I->v);
        for (size_t i = 0; i < h->nlp; i++) {
            if (i || I->large)
                tputs(&r.lv, ", ");
            tput(&r.lv, x->s + h->lp_s[i], h->lp_e[i] - h->lp_s[i]);
        }
        tputs(&r.lv, "}");
    }
    /* motive : ∀ (a_1 : I1) … (t : T params a_1 …), Sort v */
    tputs(&r.motive, "\xe2\x88\x80");
    put_major(&r.motive, I);
    tputs(&r.motive, ", ");
    if (I->large) {
        tputs(&r.motive, "Sort ");
        tputs(&r.motive, I->v);
    } else {
        tputs(&r.motive, "Prop");
    }
    put_minors(&r.minors, I);
    tputs(&t, "\xe2\x88\x80 ");
    put_groups(&t, x, I->params, I->np, true);
    tputs(&t, " {motive : ");
    tput(&t, r.motive.data, r.motive.len);
    tputs(&t, "}");
    tput(&t, r.minors.data, r.minors.len);
    put_major(&t, I);
    tputs(&t, ", motive");
    for (size_t k = 0; k < I->ni; k++)
        tputf(&t, " a_%zu", k + 1);
    tputs(&t, " t");
    if (r.name.err || ln_mk_name_text(r.name.data, r.name.len, &rname)) {
        rc = -ENOMEM;
        goto out;
    }
    I->local[1 + I->nc] = ln__name_hash(rname);
    I->d.nlocal = 2 + I->nc;
    I->lph[h->nlp] = region_name_hash_str(LN_DATA_NAME_ANON_HASH, I->v, strlen(I->v));
    I->d.nlparams = h->nlp + (I->large ? 1 : 0);
    if ((rc = ln__expr_text(&I->d, &t, &rtype)))
        goto out;
    for (; nrules < I->nc; nrules++)
        if ((rc = ind_rule(I, &r, nrules, &t, &rules[nrules])))
            goto out;

    lx_word lps[17];
    size_t nl = 0;
    if (I->large)
        lps[nl++] = ln_mk_name_str(lx_box(0), I->v, strlen(I->v));
    for (size_t i = 0; i < h->nlp; i++)
        lps[nl++] = ln_mk_name_str(lx_box(0), x->s + h->lp_s[i], h->lp_e[i] - h->lp_s[i]);
    lx_word tn;
    if (ln_mk_name_text(I->T, I->Tn, &tn))
        tn = lx_box(0);
    lx_ref(rname);
    lx_word f[7] = {ln__cval(rname, ln__list_of(lps, nl), rtype), ln_mk_cons(tn, lx_box(0)), lx_box(I->np),
                    lx_box(I->ni), lx_box(1), lx_box(I->nc), ln__list_of(rules, I->nc)};
    uint8_t b[2] = {I->kflag, 0};
    rc = ln__add_const(I->m, I->pk, rname, ln__cinfo(LN_REC, ln__ctor_of(7, f, 2, b)));
    rname = rtype = lx_box(0);
    nrules = 0;
out:
    for (size_t k = 0; k < nrules; k++)
        lx_unref(rules[k]);
    lx_unref(rtype);
    lx_unref(rname);
    bbuf_deinit(&t);
    bbuf_deinit(&r.name);
    bbuf_deinit(&r.lv);
    bbuf_deinit(&r.motive);
    bbuf_deinit(&r.minors);
    return rc;
}

int ln__decl_inductive(ln_pack *pk, module *m, const src *x, const stmt *st, size_t kw_end)
{
    ind *I = mem_try_calloc(1, sizeof *I); /* about 60 KiB: not on the stack */
    if (!I)
        return -ENOMEM;
    I->pk = pk;
    I->m = m;
    I->x = x;
    I->st = st;
    I->name = I->lparams = lx_box(0);
    bbuf_init(&I->lv, 0);
    bbuf_init(&I->Tapp, 0);
    int rc = ind_parse(I, kw_end);
    if (!rc)
        rc = ind_type(I);
    if (!rc)
        rc = ind_ctors(I);
    if (!rc)
        rc = ind_recursor(I);
    for (size_t c = I->names_from; c < I->names_to; c++)
        lx_unref(I->ctor_names[c]);
    lx_unref(I->name);
    lx_unref(I->lparams);
    mem_free(I->cs);
    mem_free(I->local);
    bbuf_deinit(&I->lv);
    bbuf_deinit(&I->Tapp);
    mem_free(I);
    return rc;
}
