/*
 * pool/deps.c — decl.uses and decl.used_by: the constants a declaration's
 * type and/or value refer to, and the declarations of the environment that
 * refer to it (from the module indexes of find_index.c), directly or
 * breadth first up to a depth and a count bound.
 *
 * Results are ordered by depth, then name (bytewise); a cursor is the
 * position in that order (the walk is deterministic over an immutable
 * environment, so positions are stable). Names go into one arena.
 */
#include "pool/find_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "region/guard.h"
#include "util/mem.h"

typedef struct dep {
    size_t   off, len;   /* name in the arena */
    uint32_t depth;
    bool     found;
    pool_const_ref ref;
    uint8_t  kind;
} dep;

typedef struct dep_job {
    const pool_env   *e;
    const pool_dep_query *q;
    bool              used_by;
    pool_error       *err;
    dep              *deps;
    size_t            n, cap;
    char             *arena;
    size_t            alen, acap;
    uint64_t         *slots;  /* name set: index + 1 with the hash's high bits, open addressing */
    size_t            scap;
    bool              truncated;
    find_walk        *walk;
    ln_buf            b;
    const struct pool_search_index *s;
} dep_job;

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static int set_grow(dep_job *j)
{
    size_t ncap = j->scap ? j->scap * 2 : 256;
    uint64_t *ns = mem_try_calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < j->n; i++) {
        uint64_t h = fnv(j->arena + j->deps[i].off, j->deps[i].len);
        size_t s = (size_t)h & (ncap - 1);
        while (ns[s])
            s = (s + 1) & (ncap - 1);
        ns[s] = i + 1;
    }
    mem_free(j->slots);
    j->slots = ns;
    j->scap = ncap;
    return 0;
}

/* Adds name (not yet present) at depth; 1 added, 0 present, <0 error. */
static int dep_add(dep_job *j, const char *name, size_t len, uint32_t depth)
{
    if ((j->n + 1) * 2 > j->scap && set_grow(j))
        return -ENOMEM;
    uint64_t h = fnv(name, len);
    size_t s = (size_t)h & (j->scap - 1);
    for (; j->slots[s]; s = (s + 1) & (j->scap - 1)) {
        const dep *d = &j->deps[j->slots[s] - 1];
        if (d->len == len && memcmp(j->arena + d->off, name, len) == 0)
            return 0;
    }
    if (j->n >= j->q->max) {
        j->truncated = true;
        return 0;
    }
    if (j->n == j->cap) {
        size_t ncap = j->cap ? j->cap * 2 : 64;
        dep *nd = mem_try_realloc(j->deps, ncap * sizeof *nd);
        if (!nd)
            return -ENOMEM;
        j->deps = nd;
        j->cap = ncap;
    }
    if (j->alen + len + 1 > j->acap) {
        size_t ncap = j->acap ? j->acap * 2 : 4096;
        while (ncap < j->alen + len + 1)
            ncap *= 2;
        char *na = mem_try_realloc(j->arena, ncap);
        if (!na)
            return -ENOMEM;
        j->arena = na;
        j->acap = ncap;
    }
    memcpy(j->arena + j->alen, name, len);
    j->arena[j->alen + len] = 0;
    dep *d = &j->deps[j->n];
    memset(d, 0, sizeof *d);
    d->off = j->alen;
    d->len = len;
    d->depth = depth;
    j->alen += len + 1;
    pool_const_ref ref;
    if (pool_env_lookup(j->e, name, len, &ref) == 0) {
        d->found = true;
        d->ref = ref;
        ln_const c;
        d->kind = ln_const_decode(pool_env_ln_module(j->e, ref.module), ref.info, &c, NULL) == 0 ? (uint8_t)c.kind
                                                                                                : 0xff;
    }
    j->slots[s] = ++j->n;
    return 1;
}

/* decl.uses: the constants of one declaration's parts. */
static int uses_of(dep_job *j, const pool_const_ref *ref, uint32_t depth)
{
    const ln_module *lm = pool_env_ln_module(j->e, ref->module);
    ln_const c;
    region_error re;
    int rc = ln_const_decode(lm, ref->info, &c, &re);
    if (rc)
        return rc;
    find__walk_reset(j->walk);
    if ((j->q->in & POOL_DEP_TYPE) && (rc = find__walk_expr(j->walk, lm, c.type, &re)) && rc != LN_ETOOBIG)
        return rc;
    if ((j->q->in & POOL_DEP_VALUE) && c.value && (rc = find__walk_expr(j->walk, lm, c.value, &re)) &&
        rc != LN_ETOOBIG)
        return rc;
    for (size_t k = 0; k < find__walk_count(j->walk); k++) {
        ln_buf_reset(&j->b);
        if (ln_name_format(lm, find__walk_const(j->walk, k), &j->b, &re))
            continue;
        if ((rc = dep_add(j, j->b.data, j->b.len, depth)) < 0)
            return rc;
    }
    return 0;
}

/* decl.used_by: the declarations whose parts mention name. */
static int users_of(dep_job *j, const char *name, size_t len, uint32_t depth)
{
    const pool_env *e = j->e;
    uint64_t h;
    if (ln_name_hash_text(name, len, &h))
        return 0;
    for (size_t k = 0; k < e->nmods; k++) {
        for (int part = 0; part < 2; part++) {
            if (!(j->q->in & (part == 0 ? POOL_DEP_TYPE : POOL_DEP_VALUE)))
                continue;
            const find_modidx *x = pool__module_find_ready(e->mods[k].m, part);
            if (!x)
                continue;
            uint32_t key = find__modidx_key(x, &e->mods[k].m->lm, h, name, len);
            if (key == UINT32_MAX)
                continue;
            for (uint32_t p = x->post_off[key]; p < x->post_off[key + 1]; p++) {
                uint64_t ord = e->base[k] + x->post[p];
                uint32_t entry;
                if (!pool__search_entry_of(j->s, ord, &entry))
                    continue; /* shadowed */
                pool_search_entry se;
                pool__search_entry(j->s, entry, &se);
                int rc = dep_add(j, se.name, se.len, depth);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}

static int deps_run(void *arg)
{
    dep_job *j = arg;
    const pool_dep_query *q = j->q;
    pool_const_ref ref;
    int rc = pool_env_lookup(j->e, q->name, q->len, &ref);
    if (rc)
        return rc;
    /* the queried declaration itself is not an answer: seed the set with it at depth 0 */
    if ((rc = dep_add(j, q->name, q->len, 0)) < 0)
        return rc;
    size_t level_start = 0;
    for (uint32_t depth = 1; depth <= q->depth; depth++) {
        size_t level_end = j->n;
        if (level_start == level_end)
            break;
        for (size_t i = level_start; i < level_end && !j->truncated; i++) {
            dep d = j->deps[i];
            if (j->used_by) {
                if ((rc = users_of(j, j->arena + d.off, d.len, depth)) < 0)
                    return rc;
            } else if (d.found) {
                if ((rc = uses_of(j, &d.ref, depth)) < 0)
                    return rc;
            }
        }
        level_start = level_end;
        if (j->truncated)
            break;
    }
    return 0;
}

static int cmp_dep(const void *a, const void *b, void *arena)
{
    const dep *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return strcmp((const char *)arena + x->off, (const char *)arena + y->off);
}

int pool_env_deps(const pool_env *e, const pool_dep_query *q, bool used_by, pool_find_ctl *ctl,
                  pool_dep_result *res, pool_error *err)
{
    memset(res, 0, sizeof *res);
    if (q->limit == 0 || q->limit > POOL_FIND_MAX_LIMIT || q->max == 0 || q->max > POOL_DEP_MAX ||
        q->depth == 0 || q->depth > POOL_DEP_MAX_DEPTH || !(q->in & POOL_DEP_BOTH))
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "limit, max, depth or in out of range");
    dep_job j;
    memset(&j, 0, sizeof j);
    j.e = e;
    j.q = q;
    j.used_by = used_by;
    j.err = err;
    ln_buf_init(&j.b, 64 * 1024);
    int rc = 0;
    if (used_by) {
        if (q->in & POOL_DEP_TYPE)
            rc = pool_env_find_prepare(e, POOL_FIND_TYPES, ctl, err);
        if (!rc && (q->in & POOL_DEP_VALUE))
            rc = pool_env_find_prepare(e, POOL_FIND_VALUES, ctl, err);
        if (!rc && (rc = pool__search_get(e, &j.s)))
            pool__fail(err, rc, NULL, NULL, "cannot build the name table");
    }
    if (!rc) {
        j.walk = find__walk_new();
        rc = region_guard_run(deps_run, &j);
        if (rc == POOL_ENOCONST)
            pool__fail(err, rc, NULL, NULL, "declaration '%.*s' not found", (int)(q->len > 200 ? 200 : q->len),
                       q->name);
        else if (rc == POOL_EINVAL)
            pool__fail(err, rc, NULL, NULL, "not a well-formed declaration name");
        else if (rc == REGION_ESTALE)
            pool__fail(err, rc, NULL, NULL, "a module file shrank while it was read");
        else if (rc == -ENOMEM)
            pool__fail(err, rc, NULL, NULL, "out of memory");
        else if (rc)
            pool__fail(err, rc, NULL, NULL, "cannot decode a declaration");
    }
    find__walk_free(j.walk);
    ln_buf_deinit(&j.b);
    mem_free(j.slots);
    if (rc) {
        mem_free(j.deps);
        mem_free(j.arena);
        return rc;
    }
    /* drop the seed (depth 0), order, page */
    size_t m = 0;
    for (size_t i = 0; i < j.n; i++)
        if (j.deps[i].depth > 0)
            j.deps[m++] = j.deps[i];
    qsort_r(j.deps, m, sizeof *j.deps, cmp_dep, j.arena);
    res->count = m;
    res->truncated = j.truncated;
    if (q->cursor > m) {
        mem_free(j.deps);
        mem_free(j.arena);
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "cursor %llu is past the end", (unsigned long long)q->cursor);
    }
    size_t start = (size_t)q->cursor, n = m - start < q->limit ? m - start : q->limit;
    res->items = mem_try_array(n ? n : 1, sizeof *res->items);
    if (!res->items) {
        mem_free(j.deps);
        mem_free(j.arena);
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const dep *d = &j.deps[start + i];
        res->items[i] = (pool_dep_item){j.arena + d->off, d->len, d->found, d->ref, d->kind, d->depth};
    }
    res->n = n;
    res->next_cursor = start + n < m ? start + n : 0;
    res->arena = j.arena;
    mem_free(j.deps);
    return 0;
}

void pool_dep_result_deinit(pool_dep_result *res)
{
    if (!res)
        return;
    mem_free(res->items);
    mem_free(res->arena);
    memset(res, 0, sizeof *res);
}
