/*
 * cli/gen_measure.c — what a library weighs, object by object: the figures
 * `envpool gen --shape` is calibrated against (docs/bench.md).
 *
 * Each file is opened eagerly (every object validated, so the walks below may
 * read without further checks) and walked from its root: first the constant
 * names, then for each constant its type and its value (proof, recursor
 * rules) as Expr DAGs, then the rest of its ConstantInfo, then the extension
 * entries, then whatever is left. An object is counted once, for the walk
 * that reached it first (a bitmap over the file's 8-byte words); Expr nodes
 * are counted by kind, and every reference to one (roots and child fields,
 * also to a node already seen) is counted too, so references / nodes says how
 * much the compactor's sharing saves.
 */
#include "cli/genlib.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "region/heap.h"
#include "region/region.h"
#include "util/mem.h"
#include "util/vec.h"

static const char *const aux_names[GEN_AUX_N] = {
    "rec", "recOn", "casesOn", "noConfusion", "noConfusionType", "injEq", "inj", "sizeOf_spec",
    "below", "brecOn", "match_N", "proof_N", "eq_N"};

const char *gen_aux_name(enum gen_aux a) { return a < GEN_AUX_N ? aux_names[a] : "?"; }

typedef struct walker {
    const region *r;
    ln_module     m;
    lx_space      sp;
    uint64_t      base, size;
    uint8_t      *seen;     /* one bit per 8-byte word of the file */
    VEC(lx_word)  stack;
    bool          oom;      /* a push failed: the measurement fails */
    gen_measure  *out;
} walker;

static bool mark(walker *w, lx_word x)
{
    uint64_t off = region_offset_of(w->r, x) / 8;
    if (off >= w->size / 8)
        return false; /* not in part 0 (cannot happen for single-part files) */
    uint8_t bit = (uint8_t)(1u << (off & 7));
    if (w->seen[off >> 3] & bit)
        return false;
    w->seen[off >> 3] |= bit;
    return true;
}

static void push(walker *w, lx_word x)
{
    if (!lx_is_scalar(x) && vec_push(&w->stack, x))
        w->oom = true;
}

static void count(walker *w, const uint8_t *o, lx_word x, enum gen_role role)
{
    size_t sz = lx_object_byte_size(o, x);
    w->out->role_bytes[role] += sz;
    w->out->role_objects[role]++;
    if (lx_tag(o) == LX_TAG_STRING) {
        w->out->strings++;
        w->out->string_bytes += sz;
    }
}

/* Every object reachable from x not seen yet, for role. */
static void walk_generic(walker *w, lx_word x, enum gen_role role)
{
    size_t base = w->stack.n;
    push(w, x);
    while (w->stack.n > base) {
        lx_word y = vec_pop(&w->stack);
        if (!mark(w, y))
            continue;
        const uint8_t *o = lx_obj(&w->sp, y);
        count(w, o, y, role);
        if (lx_is_ctor(o)) {
            for (unsigned i = 0; i < lx_ctor_num_objs(o); i++)
                push(w, lx_ctor_get(o, i));
        } else if (lx_tag(o) == LX_TAG_ARRAY) {
            for (uint64_t i = 0; i < lx_array_size(o); i++)
                push(w, lx_array_get(o, i));
        } else if (lx_tag(o) == LX_TAG_THUNK || lx_tag(o) == LX_TAG_TASK || lx_tag(o) == LX_TAG_REF) {
            push(w, lx_rd64(o + 8));
        }
    }
}

/* The Expr DAG at x: Expr nodes counted by kind, their names/levels/literals generically. */
static void walk_expr(walker *w, lx_word x, enum gen_role role)
{
    size_t base = w->stack.n;
    if (!lx_is_scalar(x))
        w->out->expr_refs++;
    push(w, x);
    while (w->stack.n > base) {
        lx_word y = vec_pop(&w->stack);
        if (!mark(w, y))
            continue;
        const uint8_t *o = lx_obj(&w->sp, y);
        unsigned tag = lx_tag(o), n = lx_is_ctor(o) ? lx_ctor_num_objs(o) : 0;
        if (tag >= GEN_EXPR_TAGS || !lx_is_ctor(o)) {
            /* not an Expr after all (cannot be, in a valid file): count it plainly */
            count(w, o, y, role);
            continue;
        }
        count(w, o, y, role);
        w->out->expr_nodes++;
        w->out->expr_bytes += lx_object_byte_size(o, y);
        w->out->expr_tags[tag]++;
        if (role == GEN_ROLE_TYPES)
            w->out->type_nodes++;
        else
            w->out->value_nodes++;
        /* Expr children: app f a; lam/forall type body; let type value body; mdata e; proj e. */
        unsigned first = 0, last = 0; /* [first, last) of Expr fields */
        switch (tag) {
        case LN_APP: first = 0; last = 2; break;
        case LN_LAM: case LN_FORALL: first = 1; last = 3; break;
        case LN_LET: first = 1; last = 4; break;
        case LN_MDATA: first = 1; last = 2; break;
        case LN_PROJ: first = 2; last = 3; break;
        default: break;
        }
        if (last > n)
            last = n;
        for (unsigned i = 0; i < n; i++) {
            lx_word c = lx_ctor_get(o, i);
            if (i >= first && i < last) {
                if (!lx_is_scalar(c))
                    w->out->expr_refs++;
                push(w, c);
            } else if (!lx_is_scalar(c)) {
                walk_generic(w, c, role);
            }
        }
    }
}

static int last_component(const ln_module *m, lx_word name, char *buf, size_t size)
{
    region_error e;
    ln_buf b;
    ln_buf_init(&b, 4096);
    int rc = ln_name_format(m, name, &b, &e);
    if (rc == 0) {
        const char *s = ln_buf_cstr(&b), *dot = strrchr(s, '.');
        snprintf(buf, size, "%s", dot ? dot + 1 : s);
    }
    ln_buf_deinit(&b);
    return rc;
}

static bool numbered(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) || !s[n])
        return false;
    for (const char *p = s + n; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void classify_aux(walker *w, lx_word name)
{
    char last[256];
    if (last_component(&w->m, name, last, sizeof last) != 0)
        return;
    int a = -1;
    for (int k = 0; k < GEN_AUX_MATCH; k++)
        if (!strcmp(last, aux_names[k]))
            a = k;
    if (numbered(last, "match_"))
        a = GEN_AUX_MATCH;
    else if (numbered(last, "proof_"))
        a = GEN_AUX_PROOF;
    else if (numbered(last, "eq_"))
        a = GEN_AUX_EQ;
    if (a >= 0)
        w->out->aux[a]++;
}

static int fail(char *err, size_t size, const char *path, const region_error *e)
{
    char msg[512];
    snprintf(err, size, "%s: %s", path, region_error_format(e, msg, sizeof msg));
    return -1;
}

int gen_measure_file(const char *path, gen_measure *out, char *err, size_t errsize)
{
    region *r = NULL;
    region_error e;
    memset(&e, 0, sizeof e);
    if (region_open(path, 0, &r, &e) != 0)
        return fail(err, errsize, path, &e);
    walker w = {.r = r, .sp = region_space(r), .out = out};
    const region_info *info = region_get_info(r);
    int rc = -1;
    if (ln_module_open(r, &w.m, &e) != 0) {
        fail(err, errsize, path, &e);
        goto done;
    }
    w.size = info->size;
    w.seen = mem_try_calloc(info->size / 64 + 1, 1);
    if (!w.seen) {
        snprintf(err, errsize, "%s: out of memory", path);
        goto done;
    }
    out->files++;
    out->bytes += info->size;
    out->objects += info->objects;
    out->constants += w.m.nconstants;
    out->imports += w.m.nimports;
    if (w.m.const_names)
        walk_generic(&w, w.m.const_names, GEN_ROLE_NAMES);
    for (uint64_t i = 0; i < w.m.nconstants; i++) {
        ln_const c;
        if (ln_module_const(&w.m, i, &c, &e) != 0) {
            fail(err, errsize, path, &e);
            goto done;
        }
        if ((unsigned)c.kind < GEN_CONST_KINDS)
            out->kinds[c.kind]++;
        classify_aux(&w, c.name);
        walk_expr(&w, c.type, GEN_ROLE_TYPES);
        if (c.value && !lx_is_scalar(c.value)) {
            out->with_value++;
            walk_expr(&w, c.value, GEN_ROLE_VALUES);
        }
        if (c.kind == LN_REC && c.rules) {
            lx_word cur = c.rules, head;
            while (ln_list_next(&w.m, &cur, &head, &e) == 0 && head) {
                ln_rec_rule rr;
                if (ln_rec_rule_view(&w.m, head, &rr, &e) == 0)
                    walk_expr(&w, rr.rhs, GEN_ROLE_VALUES);
            }
        }
        walk_generic(&w, c.info, GEN_ROLE_INFO);
    }
    for (uint64_t i = 0; i < w.m.nentries; i++) {
        ln_ext x;
        if (ln_ext_get(&w.m, i, &x, &e) != 0)
            continue;
        unsigned k = (unsigned)x.kind < GEN_EXT_KINDS ? (unsigned)x.kind : 0;
        out->ext_entries[k] += x.n;
        uint64_t before = out->role_bytes[GEN_ROLE_ENTRIES];
        walk_generic(&w, x.entries, GEN_ROLE_ENTRIES);
        out->ext_bytes[k] += out->role_bytes[GEN_ROLE_ENTRIES] - before;
        if (x.kind == LN_EXT_DOC) {
            for (uint64_t j = 0; j < x.n; j++) {
                ln_ext_entry en;
                const char *s;
                size_t len;
                if (ln_ext_entry_get(&w.m, &x, j, &en, &e) == 0 && en.text &&
                    ln_string(&w.m, en.text, &s, &len, &e) == 0)
                    out->doc_text_bytes += len;
            }
        }
    }
    walk_generic(&w, w.m.root, GEN_ROLE_OTHER);
    if (w.oom) {
        snprintf(err, errsize, "%s: out of memory", path);
        goto done;
    }
    rc = 0;
done:
    mem_free(w.seen);
    vec_free(&w.stack);
    region_close(r);
    return rc;
}

static gen_measure *dir_out;
static char *dir_err;
static size_t dir_errsize;
static int dir_rc;

static int dir_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 6 || strcmp(path + n - 6, ".olean"))
        return 0;
    if (gen_measure_file(path, dir_out, dir_err, dir_errsize) != 0) {
        dir_rc = -1;
        return 1;
    }
    return 0;
}

int gen_measure_dir(const char *dir, gen_measure *m, char *err, size_t errsize)
{
    dir_out = m;
    dir_err = err;
    dir_errsize = errsize;
    dir_rc = 0;
    if (nftw(dir, dir_one, 16, FTW_PHYS) < 0 && dir_rc == 0) {
        snprintf(err, errsize, "%s: cannot walk the directory", dir);
        return -1;
    }
    return dir_rc;
}

static double per(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

void gen_measure_ratios(const gen_measure *m, gen_ratios *r)
{
    memset(r, 0, sizeof *r);
    uint64_t aux = 0, entries = 0;
    for (int k = 0; k < GEN_AUX_N; k++)
        aux += m->aux[k];
    for (int k = 0; k < GEN_EXT_KINDS; k++)
        entries += m->ext_entries[k];
    r->bytes_per_const = per(m->bytes, m->constants);
    r->objects_per_const = per(m->objects, m->constants);
    r->expr_nodes_per_const = per(m->expr_nodes, m->constants);
    r->expr_sharing = per(m->expr_refs, m->expr_nodes);
    r->type_nodes_per_const = per(m->type_nodes, m->constants);
    r->value_nodes_per_const = per(m->value_nodes, m->constants);
    r->value_share_of_bytes = per(m->role_bytes[GEN_ROLE_VALUES], m->bytes);
    r->aux_share = per(aux, m->constants);
    r->entries_per_const = per(entries, m->constants);
    r->entry_bytes_per_const = per(m->role_bytes[GEN_ROLE_ENTRIES], m->constants);
    r->doc_share = per(m->ext_entries[LN_EXT_DOC], m->constants);
    r->range_share = per(m->ext_entries[LN_EXT_RANGE], m->constants);
    for (int k = 0; k < GEN_EXPR_TAGS; k++)
        r->expr_tag_share[k] = per(m->expr_tags[k], m->expr_nodes);
}

void gen_measure_print(const gen_measure *m, FILE *f)
{
    static const char *const roles[GEN_ROLE_N] = {"names", "types", "values", "info", "entries", "other"};
    static const char *const tags[GEN_EXPR_TAGS] = {"bvar", "fvar", "mvar", "sort", "const", "app",
                                                    "lam", "forallE", "letE", "lit", "mdata", "proj"};
    gen_ratios r;
    gen_measure_ratios(m, &r);
    fprintf(f, "files %" PRIu64 ", bytes %" PRIu64 ", objects %" PRIu64 ", constants %" PRIu64
               ", imports %" PRIu64 "\n", m->files, m->bytes, m->objects, m->constants, m->imports);
    fprintf(f, "per constant: %.0f bytes, %.1f objects, %.1f Expr nodes (types %.1f, values %.1f), "
               "Expr references/node %.2f\n", r.bytes_per_const, r.objects_per_const, r.expr_nodes_per_const,
            r.type_nodes_per_const, r.value_nodes_per_const, r.expr_sharing);
    fprintf(f, "bytes by role:");
    for (int k = 0; k < GEN_ROLE_N; k++)
        fprintf(f, " %s %.1f%%", roles[k], 100 * per(m->role_bytes[k], m->bytes));
    fprintf(f, "\nExpr mix:");
    for (int k = 0; k < GEN_EXPR_TAGS; k++)
        if (m->expr_tags[k])
            fprintf(f, " %s %.1f%%", tags[k], 100 * r.expr_tag_share[k]);
    fprintf(f, "\nkinds:");
    for (int k = 0; k < GEN_CONST_KINDS; k++)
        if (m->kinds[k])
            fprintf(f, " %s %.1f%%", ln_const_kind_name((enum ln_const_kind)k), 100 * per(m->kinds[k], m->constants));
    fprintf(f, "; with a value %.1f%%\nauxiliary %.1f%%:", 100 * per(m->with_value, m->constants),
            100 * r.aux_share);
    for (int k = 0; k < GEN_AUX_N; k++)
        if (m->aux[k])
            fprintf(f, " %s %.1f%%", aux_names[k], 100 * per(m->aux[k], m->constants));
    fprintf(f, "\nentries per constant %.2f, %.0f bytes per constant:", r.entries_per_const,
            r.entry_bytes_per_const);
    for (int k = 0; k < GEN_EXT_KINDS && k < LN_EXT_NKINDS; k++)
        if (m->ext_entries[k])
            fprintf(f, " %s %.2f (%.0f B)", ln_ext_kind_name((enum ln_ext_kind)k), per(m->ext_entries[k], m->constants),
                    per(m->ext_bytes[k], m->constants));
    fprintf(f, "\ndocstrings: %.0f bytes of text each; strings %.1f%% of bytes\n",
            per(m->doc_text_bytes, m->ext_entries[LN_EXT_DOC]), 100 * per(m->string_bytes, m->bytes));
}
