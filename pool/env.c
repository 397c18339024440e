/*
 * pool/env.c — environments: the import closure of an ordered import list,
 * in Lean's order, and the name index over all its constants.
 *
 * Closure: as Lean's importModulesCore, depth first over each module's
 * imports in their stored order, each module once (marked before its own
 * imports are visited), a module placed after everything it imports. The walk
 * keeps an explicit stack (import graphs come from files: no recursion), and a
 * module met again while it is still on the stack is an import cycle, which
 * Lean's files never contain and we report. In partial mode a module that
 * resolves nowhere is listed with its importer and skipped.
 *
 * Name index: open addressing over every constant, keyed by the Name hashes
 * the files already store (decoded once per mapping by the module cache), 8
 * bytes a slot at a load factor of at most 3/4, plus one bit per constant
 * marking those shadowed by a later module of the same name. A lookup hashes
 * the query text with Lean's function, probes, and confirms the one candidate
 * by comparing the stored name with the text.
 *
 * An environment never changes after pool__env_build returns, except for the
 * lazily built search structures (search.c, under search_lock) and the pool's
 * slot pointer (loop thread only).
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "region/guard.h"
#include "util/error.h"
#include "util/mem.h"

/* ---- reference counting and accessors ------------------------------------- */

pool_env *pool_env_ref(pool_env *e)
{
    unsigned old = atomic_fetch_add(&e->refs, 1);
    ENVPOOL_INVARIANT(old != 0, "pool_env_ref on a freed environment");
    return e;
}

static void env_free(pool_env *e)
{
    for (size_t i = 0; i < e->nmods; i++) {
        pool__module_unref(e->mods[i].m);
        mem_free(e->mods[i].name);
    }
    for (size_t i = 0; i < 2 * e->nmissing; i++)
        mem_free(e->missing[i]);
    pool__search_index_free(atomic_load(&e->search));
    pthread_mutex_destroy(&e->search_lock);
    pool__env_declinfo_free(e);
    pthread_mutex_destroy(&e->declinfo_lock);
    mem_free(e->missing);
    mem_free(e->mods);
    mem_free(e->base);
    mem_free(e->table);
    mem_free(e->shadowed);
    mem_free(e->key);
    pool__modcache_unref(e->mc);
    mem_free(e);
}

void pool_env_unref(pool_env *e)
{
    if (e && atomic_fetch_sub(&e->refs, 1) == 1)
        env_free(e);
}

const char *pool_env_key(const pool_env *e)       { return e->key; }
size_t pool_env_module_count(const pool_env *e)   { return e->nmods; }
size_t pool_env_missing_count(const pool_env *e)  { return e->nmissing; }
uint64_t pool_env_constant_count(const pool_env *e) { return e->visible; }
uint64_t pool_env_constant_total(const pool_env *e) { return e->total; }
uint64_t pool_env_mapped_bytes(const pool_env *e) { return e->mapped_bytes; }
uint64_t pool_env_index_bytes(const pool_env *e)  { return e->index_bytes; }
uint64_t pool_env_build_ns(const pool_env *e)     { return e->build_ns; }
uint64_t pool_env_serial(const pool_env *e)       { return e->serial; }

void pool_env_missing(const pool_env *e, size_t i, const char **module, const char **imported_by)
{
    *module = e->missing[2 * i];
    *imported_by = e->missing[2 * i + 1];
}

const struct ln_module *pool_env_ln_module(const pool_env *e, size_t i)
{
    return &e->mods[i].m->lm;
}

void pool_env_module(const pool_env *e, size_t i, pool_module_info *out)
{
    const pool_module *m = e->mods[i].m;
    const region_info *ri = region_get_info(m->r);
    out->name = e->mods[i].name;
    out->path = m->path;
    out->format = ri->format;
    out->lean_version = ri->lean_version;
    out->era = ln_era_name(m->lm.era);
    out->constants = m->nconstants;
    out->bytes = m->bytes;
}

size_t pool__env_module_of(const pool_env *e, uint64_t ord)
{
    /* Last k with base[k] <= ord; empty modules share a base with the next.
       Branch-free halving: base[0] = 0 <= ord always. */
    const uint64_t *b = e->base;
    size_t n = e->nmods;
    while (n > 1) {
        size_t half = n / 2;
        b = b[half] <= ord ? b + half : b;
        n -= half;
    }
    return (size_t)(b - e->base);
}

bool pool__env_is_shadowed(const pool_env *e, uint64_t ord)
{
    return (e->shadowed[ord / 64] >> (ord % 64)) & 1;
}

/*
 * Name word of constant i of m, read through the checked accessors. It cannot
 * fail (module_decode read every name once already); 0 if it did: word 0 is
 * outside every region, so whatever reads it next refuses it.
 */
static lx_word const_name_word(const pool_module *m, uint64_t i)
{
    lx_word w = 0;
    if (ln_module_const_name(&m->lm, i, &w, NULL))
        return 0;
    return w;
}

/* Reference to constant i of module k whose name word is already known. */
static void ref_fill(const pool_env *e, size_t k, uint64_t i, lx_word name, pool_const_ref *out)
{
    const pool_module *m = e->mods[k].m;
    out->module = (uint32_t)k;
    out->index = (uint32_t)i;
    /* i < nconstants; on a refused element info is 0 and ln_const_decode refuses it. */
    if (ln_module_const_info(&m->lm, i, &out->info, NULL))
        out->info = 0;
    out->name = name;
}

void pool__env_ref_of(const pool_env *e, uint64_t ord, pool_const_ref *out)
{
    size_t k = pool__env_module_of(e, ord);
    uint64_t i = ord - e->base[k];
    ref_fill(e, k, i, const_name_word(e->mods[k].m, i), out);
}

/* ---- lookup and iteration ------------------------------------------------- */

/*
 * Plain dotted text: no «» escapes, no all-digit (numeric) component, no
 * empty component, not "[anonymous]". Such text hashes and compares
 * component by component without the general parser: the fast path of lookups.
 */
static bool plain_text(const char *t, size_t len, uint64_t *hash)
{
    if (len == 0 || (len == 11 && !memcmp(t, "[anonymous]", 11)))
        return false;
    uint64_t h = LN_NAME_ANON_HASH;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && t[i] != '.') {
            if ((unsigned char)t[i] == 0xc2 && i + 1 < len && (unsigned char)t[i + 1] == 0xab)
                return false; /* « */
            continue;
        }
        if (i == start)
            return false;
        bool digits = true;
        for (size_t k = start; k < i && digits; k++)
            digits = t[k] >= '0' && t[k] <= '9';
        if (digits)
            return false;
        h = ln_name_hash_str(h, t + start, i - start);
        start = i + 1;
    }
    *hash = h;
    return true;
}

/* Does the stored name w equal plain text t (see plain_text)? Walks from the last component. */
static bool name_eq_plain(const ln_module *lm, lx_word w, const char *t, size_t len)
{
    size_t end = len;
    for (;;) {
        if (lx_is_scalar(w))
            return false; /* anonymous (or junk) before the text ran out */
        const uint8_t *o, *so;
        if (ln_obj(lm, w, "Name", &o, NULL))
            return false; /* refused by the checked accessor */
        if (lx_tag(o) != 1 || lx_ctor_num_objs(o) != 2)
            return false; /* Name.num, or not a Name */
        lx_word sw = lx_ctor_get(o, 1);
        if (lx_is_scalar(sw) || ln_obj(lm, sw, "Name.str component", &so, NULL))
            return false;
        if (lx_tag(so) != LX_TAG_STRING)
            return false;
        size_t start = end;
        while (start > 0 && t[start - 1] != '.')
            start--;
        uint64_t slen = lx_string_len(so);
        if (slen != end - start || memcmp(lx_string_data(so), t + start, end - start) != 0)
            return false;
        w = lx_ctor_get(o, 0);
        if (start == 0)
            return lx_is_scalar(w) && lx_unbox(w) == 0;
        end = start - 1;
    }
}

int pool_env_lookup(const pool_env *e, const char *name, size_t len, pool_const_ref *out)
{
    uint64_t h;
    bool plain = plain_text(name, len, &h);
    if (!plain && ln_name_hash_text(name, len, &h) != 0)
        return POOL_EINVAL;
    if (!e->table)
        return POOL_ENOCONST;
    uint64_t tag = h >> 32;
    for (uint64_t i = h & e->mask;; i = (i + 1) & e->mask) {
        uint64_t s = e->table[i];
        if (s == 0)
            return POOL_ENOCONST;
        if ((s >> 32) != tag)
            continue;
        uint64_t ord = (s & 0xffffffffu) - 1;
        size_t k = pool__env_module_of(e, ord);
        const pool_module *m = e->mods[k].m;
        uint64_t idx = ord - e->base[k];
        /* 32 hash bits matched; the name itself decides (no second memory touch for hashes). */
        bool equal = false;
        lx_word nw = const_name_word(m, idx);
        if (plain) {
            equal = name_eq_plain(&m->lm, nw, name, len);
        } else {
            region_error ignore;
            int rc = ln_name_eq_text(&m->lm, nw, name, len, &equal, &ignore);
            if (rc == LN_EINVAL)
                return POOL_EINVAL;
            if (rc)
                equal = false;
        }
        if (equal) {
            ref_fill(e, k, idx, nw, out);
            return 0;
        }
    }
}

int pool__env_find_word(const pool_env *e, size_t k, lx_word name, uint64_t *ord)
{
    const ln_module *lm = &e->mods[k].m->lm;
    uint64_t h;
    region_error ignore;
    if (lx_is_scalar(name) || !e->table)
        return POOL_ENOCONST;
    int rc = lm->era == LN_ERA_2022 ? ln_name_hash_compute(lm, name, &h, &ignore)
                                    : ln_name_hash_stored(lm, name, &h, &ignore);
    if (rc)
        return POOL_ENOCONST;
    char text[1024];
    bool have_text = false;
    uint64_t tag = h >> 32;
    for (uint64_t i = h & e->mask;; i = (i + 1) & e->mask) {
        uint64_t s = e->table[i];
        if (s == 0)
            return POOL_ENOCONST;
        if ((s >> 32) != tag)
            continue;
        uint64_t cand = (s & 0xffffffffu) - 1;
        size_t ck = pool__env_module_of(e, cand);
        const pool_module *m = e->mods[ck].m;
        lx_word nw = const_name_word(m, cand - e->base[ck]);
        bool equal = false;
        if (ck == k) { /* same module: usually the very same object (max sharing) */
            if (ln_name_eq(lm, nw, name, &equal, &ignore))
                equal = false;
        } else {
            if (!have_text) {
                if (ln_name_to_cstr(lm, name, text, sizeof text, NULL, &ignore))
                    return POOL_ENOCONST;
                have_text = true;
            }
            if (ln_name_eq_text(&m->lm, nw, text, strlen(text), &equal, &ignore))
                equal = false;
        }
        if (equal) {
            *ord = cand;
            return 0;
        }
    }
}

int pool_env_next(const pool_env *e, uint64_t *cursor, pool_const_ref *out)
{
    for (uint64_t ord = *cursor; ord < e->total; ord++) {
        if (pool__env_is_shadowed(e, ord))
            continue;
        pool__env_ref_of(e, ord, out);
        *cursor = ord + 1;
        return 1;
    }
    *cursor = e->total;
    return 0;
}

/* ---- building -------------------------------------------------------------- */

/* Visited set of module names for one closure walk: open addressing. */
enum { SEEN_ACTIVE = 1, SEEN_DONE = 2, SEEN_MISSING = 3 };

typedef struct seen_set {
    char   **names;   /* owned */
    uint8_t *state;
    size_t   cap, count;
} seen_set;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static void seen_deinit(seen_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        mem_free(s->names[i]);
    mem_free(s->names);
    mem_free(s->state);
}

/* Slot of name (its own or the empty one where it would go). */
static size_t seen_slot(const seen_set *s, const char *name)
{
    size_t i = (size_t)str_hash(name) & (s->cap - 1);
    while (s->names[i] && strcmp(s->names[i], name) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int seen_grow(seen_set *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 64;
    seen_set n = {mem_try_calloc(ncap, sizeof(char *)), mem_try_calloc(ncap, 1), ncap, s->count};
    if (!n.names || !n.state) {
        mem_free(n.names);
        mem_free(n.state);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->names[i]) {
            size_t j = seen_slot(&n, s->names[i]);
            n.names[j] = s->names[i];
            n.state[j] = s->state[i];
        }
    mem_free(s->names);
    mem_free(s->state);
    *s = n;
    return 0;
}

/* State of name (0 if unseen). */
static uint8_t seen_get(const seen_set *s, const char *name)
{
    if (!s->cap)
        return 0;
    size_t i = seen_slot(s, name);
    return s->names[i] ? s->state[i] : 0;
}

/* Sets the state of name, adding it if new; *key gets the set's copy. */
static int seen_put(seen_set *s, const char *name, uint8_t state, const char **key)
{
    if ((s->count + 1) * 2 > s->cap) {
        int rc = seen_grow(s);
        if (rc)
            return rc;
    }
    size_t i = seen_slot(s, name);
    if (!s->names[i]) {
        s->names[i] = mem_try_alloc(strlen(name) + 1);
        if (!s->names[i])
            return -ENOMEM;
        strcpy(s->names[i], name);
        s->count++;
    }
    s->state[i] = state;
    if (key)
        *key = s->names[i];
    return 0;
}

typedef struct frame {
    pool_module *m;     /* NULL for the requested list itself */
    const char  *name;  /* owned by the seen set; NULL for the list */
    size_t       next;  /* next import to visit */
} frame;

/* Appends to a mem_try array, doubling; 0 or -ENOMEM. */
static int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = mem_try_realloc(*arr, ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int add_missing(pool_env *e, size_t *cap, const char *module, const char *imported_by)
{
    if (grow_array((void **)&e->missing, cap, 2 * (e->nmissing + 1), sizeof(char *)))
        return -ENOMEM;
    char *a = mem_try_alloc(strlen(module) + 1);
    char *b = mem_try_alloc(strlen(imported_by) + 1);
    if (!a || !b) {
        mem_free(a);
        mem_free(b);
        return -ENOMEM;
    }
    strcpy(a, module);
    strcpy(b, imported_by);
    e->missing[2 * e->nmissing] = a;
    e->missing[2 * e->nmissing + 1] = b;
    e->nmissing++;
    return 0;
}

static int walk_closure(pool_env *e, const pool_roots *roots, pool_modcache *mc,
                        const char *const *imports, size_t n, unsigned flags,
                        pool_build_ctl *ctl, pool_error *err)
{
    seen_set seen = {0};
    frame *stack = NULL;
    size_t depth = 0, stack_cap = 0, mods_cap = 0, missing_cap = 0;
    int rc = 0;

    if ((rc = grow_array((void **)&stack, &stack_cap, 1, sizeof *stack)))
        goto nomem;
    stack[depth++] = (frame){NULL, NULL, 0};
    while (depth > 0) {
        frame *f = &stack[depth - 1];
        size_t nimp = f->m ? f->m->nimports : n;
        if (f->next == nimp) {
            /* All imports placed: the module itself comes next in Lean's order. */
            if (f->m) {
                if ((rc = grow_array((void **)&e->mods, &mods_cap, e->nmods + 1, sizeof *e->mods)))
                    goto nomem;
                char *name = mem_try_alloc(strlen(f->name) + 1);
                if (!name)
                    goto nomem;
                strcpy(name, f->name);
                e->mods[e->nmods++] = (pool_env_mod){f->m, name};
                f->m = NULL;
                if ((rc = seen_put(&seen, name, SEEN_DONE, NULL)))
                    goto nomem;
                if (ctl)
                    atomic_fetch_add(&ctl->loaded, 1);
            }
            depth--;
            continue;
        }
        const char *imp = f->m ? f->m->import_text + f->m->import_off[f->next] : imports[f->next];
        const char *by = f->name ? f->name : "";
        f->next++;
        uint8_t st = seen_get(&seen, imp);
        if (st == SEEN_ACTIVE) {
            rc = pool__fail(err, POOL_ECYCLE, imp, by, "import cycle: %s imports %s, which imports it",
                            by, imp);
            goto out;
        }
        if (st != 0)
            continue;
        if (ctl && atomic_load(&ctl->cancel)) {
            rc = pool__fail(err, POOL_ECANCELLED, NULL, NULL, "import cancelled");
            goto out;
        }
        char *path = NULL;
        rc = pool_resolve(roots, imp, f->m ? by : NULL, &path, err);
        if (rc == POOL_ENOTFOUND && (flags & POOL_PARTIAL)) {
            if ((rc = add_missing(e, &missing_cap, imp, by)) ||
                (rc = seen_put(&seen, imp, SEEN_MISSING, NULL)))
                goto nomem;
            continue;
        }
        if (rc)
            goto out;
        pool_module *m = NULL;
        rc = pool__modcache_get(mc, path, imp, f->m ? by : NULL, &m, err);
        mem_free(path);
        if (rc)
            goto out;
        const char *key = NULL;
        if ((rc = grow_array((void **)&stack, &stack_cap, depth + 1, sizeof *stack)) ||
            (rc = seen_put(&seen, imp, SEEN_ACTIVE, &key))) {
            pool__module_unref(m);
            goto nomem;
        }
        stack[depth++] = (frame){m, key, 0};
        if (ctl)
            atomic_fetch_add(&ctl->total, 1);
    }
    goto out;
nomem:
    rc = pool__fail(err, -ENOMEM, NULL, NULL, "out of memory while importing");
out:
    for (size_t i = 0; i < depth; i++)
        pool__module_unref(stack[i].m);
    mem_free(stack);
    seen_deinit(&seen);
    return rc;
}

/* Do two stored names (in possibly different modules) print the same? x, y: scratch. */
static bool same_name(const pool_module *a, uint64_t ia, const pool_module *b, uint64_t ib,
                      ln_buf *x, ln_buf *y)
{
    region_error ignore;
    ln_buf_reset(x);
    ln_buf_reset(y);
    return ln_name_format(&a->lm, const_name_word(a, ia), x, &ignore) == 0 &&
           ln_name_format(&b->lm, const_name_word(b, ib), y, &ignore) == 0 &&
           x->len == y->len && memcmp(ln_buf_cstr(x), ln_buf_cstr(y), x->len) == 0;
}

/* What fill_index works on: all of it owned by build_index (region/guard.h). */
typedef struct index_job {
    pool_env *e;
    ln_buf    x, y;
    size_t    bad_module;  /* where a probe run got too long */
} index_job;

/*
 * Inserts every constant into the name table. Confirming a duplicate name
 * prints both names from the mapped files, so this runs under
 * region_guard_run: a file truncated in place fails the import.
 */
/*
 * The index places names by the hashes stored in the files. Lean's hash
 * spreads real names well (the longest probe run at Mathlib scale is a few
 * dozen slots), but a crafted file could give every constant one hash and
 * make the build quadratic: a run longer than this refuses the import instead.
 */
enum { INDEX_MAX_PROBE = 4096 };

static int fill_index(void *arg)
{
    index_job *ij = arg;
    pool_env *e = ij->e;
    uint64_t visible = 0;
    for (size_t k = 0; k < e->nmods; k++) {
        const pool_module *m = e->mods[k].m;
        for (uint64_t i = 0; i < m->nconstants; i++) {
            uint64_t h = m->hashes[i], ord = e->base[k] + i;
            uint64_t slot = (h >> 32) << 32 | (ord + 1);
            uint64_t j = h & e->mask;
            for (unsigned probes = 0;; j = (j + 1) & e->mask) {
                if (++probes > INDEX_MAX_PROBE) {
                    ij->bad_module = k;
                    return POOL_ELIMIT;
                }
                uint64_t s = e->table[j];
                if (s == 0) {
                    e->table[j] = slot;
                    visible++;
                    break;
                }
                if ((s >> 32) != (h >> 32))
                    continue;
                uint64_t old = (s & 0xffffffffu) - 1;
                size_t ok = pool__env_module_of(e, old);
                const pool_module *om = e->mods[ok].m;
                if (om->hashes[old - e->base[ok]] == h &&
                    same_name(om, old - e->base[ok], m, i, &ij->x, &ij->y)) {
                    /* A later module declares the name again: it wins. */
                    e->shadowed[old / 64] |= 1ull << (old % 64);
                    e->table[j] = slot;
                    break;
                }
            }
        }
    }
    e->visible = visible;
    return 0;
}

static int build_index(pool_env *e, pool_error *err)
{
    e->base = mem_try_array(e->nmods + 1, sizeof *e->base);
    if (!e->base)
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for the name index");
    uint64_t total = 0;
    for (size_t k = 0; k < e->nmods; k++) {
        e->base[k] = total;
        total += e->mods[k].m->nconstants;
        e->mapped_bytes += e->mods[k].m->bytes;
    }
    e->base[e->nmods] = total;
    e->total = total;
    if (total >= UINT32_MAX || e->nmods >= UINT32_MAX)
        return pool__fail(err, POOL_ELIMIT, NULL, NULL,
                          "%llu constants in %zu modules: more than an index can number",
                          (unsigned long long)total, e->nmods);
    uint64_t cap = 16;
    while (cap * 3 < total * 4 + 4)
        cap *= 2;
    e->table = mem_try_calloc((size_t)cap, sizeof *e->table);
    e->shadowed = mem_try_calloc((size_t)(total / 64 + 1), sizeof *e->shadowed);
    if (!e->table || !e->shadowed)
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for the name index");
    e->mask = cap - 1;
    e->index_bytes = cap * sizeof *e->table + (total / 64 + 1) * 8 + (e->nmods + 1) * 8;

    index_job ij = {e, {0}, {0}, SIZE_MAX};
    ln_buf_init(&ij.x, 0);
    ln_buf_init(&ij.y, 0);
    int rc = region_guard_run(fill_index, &ij);
    ln_buf_deinit(&ij.x);
    ln_buf_deinit(&ij.y);
    if (rc == POOL_ELIMIT)
        return pool__fail(err, REGION_ECORRUPT, e->mods[ij.bad_module].name, NULL,
                          "more than %d names collide on their stored hashes (a damaged or crafted file)",
                          INDEX_MAX_PROBE);
    if (rc < 0)
        return pool__fail(err, rc, NULL, NULL, "a module file shrank while the name index was built");
    return 0;
}

int pool__env_build(const pool_roots *roots, pool_modcache *mc, const char *const *imports,
                    size_t n, unsigned flags, const char *display_key, pool_build_ctl *ctl,
                    pool_env **out, pool_error *err)
{
    uint64_t t0 = pool__now_ns();
    *out = NULL;
    pool_env *e = mem_calloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    atomic_init(&e->search, NULL);
    pthread_mutex_init(&e->search_lock, NULL);
    atomic_init(&e->declinfo, NULL);
    pthread_mutex_init(&e->declinfo_lock, NULL);
    e->key = mem_strdup(display_key);
    pool__modcache_ref(mc);
    e->mc = mc;
    int rc = walk_closure(e, roots, mc, imports, n, flags, ctl, err);
    if (rc == 0)
        rc = build_index(e, err);
    if (rc) {
        env_free(e);
        return rc;
    }
    e->build_ns = pool__now_ns() - t0;
    static _Atomic uint64_t serials;
    e->serial = atomic_fetch_add(&serials, 1) + 1;
    *out = e;
    return 0;
}

void *pool__env_slot(const pool_env *e)        { return e->slot; }
void  pool__env_set_slot(pool_env *e, void *s) { e->slot = s; }

/* ---- faults ------------------------------------------------------------------ */

void pool_env_mark_fault(const pool_env *e, size_t i)
{
    if (i < e->nmods)
        pool__module_mark_stale(e->mods[i].m, POOL__STALE_FAULT);
}

size_t pool_env_find_shrunk(const pool_env *e)
{
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < e->nmods; i++) {
        const uint8_t *last = region_last_byte(e->mods[i].m->r);
        if (region_guard_probe(last) != 0) {
            pool__module_mark_stale(e->mods[i].m, POOL__STALE_FAULT);
            if (first == SIZE_MAX)
                first = i;
        }
    }
    return first;
}
