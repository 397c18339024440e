/*
 * pool/gen.c — synthetic libraries of real .olean files, for `envpool gen`,
 * the pool's tests and its benchmarks.
 *
 * Each module is built as a heap object graph in the shape Lean 4.18 writes
 * (ModuleData with constNames, Import with runtimeOnly, InductiveVal with
 * numNested; lean-olean-format.md §4) and saved by the compactor, so the files
 * go through exactly the reader, decoder and index that real files do. The
 * import graph has `depth` layers; a module imports one module of the layer
 * below (so the depth is real) and up to fan_in - 1 others from lower layers.
 * Types are ∀-chains over Sort 0 and constants of imported modules, so that
 * the expressions have the sizes asked for. Everything comes from one seeded
 * generator: the same options give the same bytes.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "region/compactor.h"
#include "region/heap.h"
#include "util/mem.h"

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) % n); }

/* A Name object for dotted text (plain components), hashes as Lean computes them. */
static int mk_name(const char *text, lx_word *out)
{
    lx_word name = lx_box(0);
    uint64_t h = LN_NAME_ANON_HASH;
    const char *p = text;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        lx_word s;
        if (lx_string_try_new(p, len, &s)) {
            lx_unref(name);
            return -ENOMEM;
        }
        h = region_name_hash_str(h, p, len);
        lx_word n = lx_ctor_new(1, 2, 8);
        lx_ctor_set(n, 0, name);
        lx_ctor_set(n, 1, s);
        memcpy(lx_ctor_scalars_mut(n), &h, 8);
        name = n;
        if (!dot)
            break;
        p = dot + 1;
    }
    *out = name;
    return 0;
}

/* Expr.Data, modern layout: hash in bits 0-31, approxDepth in 32-39 (closed terms). */
static void set_data(lx_word e, uint32_t hash, unsigned depth)
{
    uint64_t d = hash | (uint64_t)(depth > 255 ? 255 : depth) << 32;
    memcpy(lx_ctor_scalars_mut(e), &d, 8);
}

static uint32_t expr_hash(lx_word e)
{
    return lx_is_scalar(e) ? 7 : (uint32_t)lx_rd64(lx_ctor_scalars(lx_heap_ptr(e)));
}

static unsigned expr_depth(lx_word e)
{
    return lx_is_scalar(e) ? 0 : (unsigned)((lx_rd64(lx_ctor_scalars(lx_heap_ptr(e))) >> 32) & 0xff);
}

static lx_word mk_sort0(void)
{
    lx_word e = lx_ctor_new(3, 1, 8); /* Expr.sort Level.zero */
    lx_ctor_set(e, 0, lx_box(0));
    set_data(e, 2221, 0);
    return e;
}

static lx_word mk_const(lx_word name /* stolen */)
{
    lx_word e = lx_ctor_new(4, 2, 8);
    lx_ctor_set(e, 0, name);
    lx_ctor_set(e, 1, lx_box(0));
    uint64_t h;
    memcpy(&h, lx_ctor_scalars(lx_heap_ptr(name)), 8);
    set_data(e, (uint32_t)(h ^ (h >> 32)), 0);
    return e;
}

static lx_word mk_forall(lx_word binder, lx_word type, lx_word body) /* all stolen */
{
    lx_word e = lx_ctor_new(7, 3, 9);
    uint32_t h = expr_hash(type) * 31u + expr_hash(body) * 17u + 7u;
    unsigned d = expr_depth(type) > expr_depth(body) ? expr_depth(type) : expr_depth(body);
    lx_ctor_set(e, 0, binder);
    lx_ctor_set(e, 1, type);
    lx_ctor_set(e, 2, body);
    set_data(e, h, d + 1);
    lx_ctor_scalars_mut(e)[8] = 0; /* BinderInfo.default */
    return e;
}

static lx_word mk_list1(lx_word head /* stolen */)
{
    lx_word c = lx_ctor_new(1, 2, 0);
    lx_ctor_set(c, 0, head);
    lx_ctor_set(c, 1, lx_box(0));
    return c;
}

static void module_name(char *buf, size_t size, const pool_gen_opts *o, uint32_t i)
{
    uint32_t layer = (uint32_t)((uint64_t)i * o->depth / o->modules);
    snprintf(buf, size, "%s.L%u.M%u", o->prefix, layer, i);
}

static void decl_name(char *buf, size_t size, const pool_gen_opts *o, uint32_t mod, uint32_t j)
{
    char mn[256];
    module_name(mn, sizeof mn, o, mod);
    if (j % 6 == 5)
        snprintf(buf, size, "%s.d%u.mk", mn, j - 1); /* the constructor of d(j-1) */
    else
        snprintf(buf, size, "%s.d%u", mn, j);
}

typedef struct gen_module {
    uint32_t *imports;  /* module numbers */
    uint32_t  nimports;
    bool      imported; /* some module imports it */
} gen_module;

/* Picks a constant for a binder type into buf; false means use Sort 0. */
typedef bool (*pick_fn)(void *ctx, uint64_t *rng, char *buf, size_t size);

/* The type of a declaration: ∀ (a : T1) ... (a : Tn), Sort 0, each Ti a picked constant or Sort 0. */
static int mk_type(uint32_t type_size, pick_fn pick, void *ctx, uint64_t *rng, lx_word sort0,
                   lx_word binder, lx_word *out)
{
    lx_ref(sort0);
    lx_word body = sort0;
    for (uint32_t k = 0; k < type_size; k++) {
        lx_word ty;
        char dn[320];
        if (pick && pick(ctx, rng, dn, sizeof dn)) {
            lx_word n;
            if (mk_name(dn, &n)) {
                lx_unref(body);
                return -ENOMEM;
            }
            ty = mk_const(n);
        } else {
            lx_ref(sort0);
            ty = sort0;
        }
        lx_ref(binder);
        body = mk_forall(binder, ty, body);
    }
    *out = body;
    return 0;
}

/*
 * Constant number j of a module, named dn; its kind cycles with j % 6: def,
 * theorem, axiom, opaque, inductive (with constructor dn.mk), and the
 * constructor of the inductive before it (prev; an axiom if there is none).
 */
static int mk_constant(uint32_t j, const char *dn, const char *prev, uint32_t type_size,
                       pick_fn pick, void *ctx, uint64_t *rng, lx_word sort0, lx_word binder,
                       lx_word *info, lx_word *name)
{
    lx_word n, type, extra = lx_box(0);
    unsigned sel = (j % 6 == 5 && !prev) ? 2 : j % 6;
    if (mk_name(dn, &n))
        return -ENOMEM;
    if (sel == 4 || sel == 5) {
        char cn[340];
        snprintf(cn, sizeof cn, "%s.mk", dn);
        if (mk_name(sel == 4 ? cn : prev, &extra)) {
            lx_unref(n);
            return -ENOMEM;
        }
    }
    if (mk_type(type_size, pick, ctx, rng, sort0, binder, &type)) {
        lx_unref(n);
        lx_unref(extra);
        return -ENOMEM;
    }
    lx_word cval = lx_ctor_new(0, 3, 0);
    lx_ref(n);
    lx_ctor_set(cval, 0, n);
    lx_ctor_set(cval, 1, lx_box(0));
    lx_ctor_set(cval, 2, type);
    static const unsigned kinds[6] = {LN_DEF, LN_THM, LN_AXIOM, LN_OPAQUE, LN_INDUCT, LN_CTOR};
    lx_word v;
    switch (sel) {
    case 0: /* def */
        v = lx_ctor_new(0, 4, 1);
        lx_ref(sort0);
        lx_ctor_set(v, 1, sort0);
        lx_ctor_set(v, 2, lx_box(1)); /* ReducibilityHints.abbrev */
        lx_ref(n);
        lx_ctor_set(v, 3, mk_list1(n));
        lx_ctor_scalars_mut(v)[0] = LN_SAFE;
        break;
    case 1: /* theorem */
    case 3: /* opaque */
        v = lx_ctor_new(0, 3, sel == 3 ? 1 : 0);
        lx_ref(sort0);
        lx_ctor_set(v, 1, sort0);
        lx_ref(n);
        lx_ctor_set(v, 2, mk_list1(n));
        break;
    case 2: /* axiom */
        v = lx_ctor_new(0, 1, 1);
        break;
    case 4: /* inductive: params, indices, all, ctors, numNested */
        v = lx_ctor_new(0, 6, 3);
        lx_ref(n);
        lx_ctor_set(v, 3, mk_list1(n));
        lx_ctor_set(v, 4, mk_list1(extra));
        break;
    default: /* constructor: induct, cidx, numParams, numFields */
        v = lx_ctor_new(0, 5, 1);
        lx_ctor_set(v, 1, extra);
        break;
    }
    lx_ctor_set(v, 0, cval);
    lx_word ci = lx_ctor_new(kinds[sel], 1, 0);
    lx_ctor_set(ci, 0, v);
    *info = ci;
    *name = n;
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0777) != 0 && errno != EEXIST ? -errno : 0;
        *p = '/';
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Builds and saves one module file: DIR/A/B/C.olean for module mn, with the
 * given imports and constant names (kinds by position, see mk_constant).
 */
static int write_file(const char *dir, const char *mn, const char *const *imports, size_t nimports,
                      const char *const *names_in, size_t nconsts, uint32_t type_size,
                      pick_fn pick, void *ctx, uint64_t *rng, uint64_t *bytes, pool_error *err)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s.olean", dir, mn);
    if (n < 0 || (size_t)n >= sizeof path)
        return pool__fail(err, -ENAMETOOLONG, mn, NULL, "output path too long");
    for (char *p = path + strlen(dir) + 1; p < path + strlen(dir) + 1 + strlen(mn); p++)
        if (*p == '.')
            *p = '/';
    int rc = mkdirs(path);
    if (rc)
        return pool__fail(err, rc, mn, NULL, "cannot create the directory of %s: %s", path,
                          strerror(-rc));

    const lx_word none = lx_box(0); /* lx_unref ignores boxed words */
    lx_word imps = none, names = none, consts = none, extra = none, entries = none, root = none;
    lx_word sort0 = mk_sort0(), binder = none;
    if (mk_name("a", &binder) || lx_array_try_new(nimports, &imps) ||
        lx_array_try_new(nconsts, &names) || lx_array_try_new(nconsts, &consts) ||
        lx_array_try_new(0, &extra) || lx_array_try_new(0, &entries))
        goto fail;
    for (size_t i = 0; i < nimports; i++) {
        lx_word iname;
        if (mk_name(imports[i], &iname))
            goto fail;
        lx_word imp = lx_ctor_new(0, 1, 1); /* Import: module, runtimeOnly = false */
        lx_ctor_set(imp, 0, iname);
        lx_array_set(imps, i, imp);
    }
    for (size_t j = 0; j < nconsts; j++) {
        lx_word info, name;
        const char *prev = j > 0 && j % 6 == 5 ? names_in[j - 1] : NULL;
        if (mk_constant((uint32_t)j, names_in[j], prev, type_size, pick, ctx, rng, sort0, binder,
                        &info, &name))
            goto fail;
        lx_array_set(consts, j, info);
        lx_array_set(names, j, name);
    }
    root = lx_ctor_new(0, 5, 0); /* ModuleData, the 2023 … 4.18 shape */
    lx_ctor_set(root, 0, imps);
    lx_ctor_set(root, 1, names);
    lx_ctor_set(root, 2, consts);
    lx_ctor_set(root, 3, extra);
    lx_ctor_set(root, 4, entries);
    imps = names = consts = extra = entries = none;

    region_save_opts opts;
    memset(&opts, 0, sizeof opts);
    snprintf(opts.lean_version, sizeof opts.lean_version, "4.18.0");
    snprintf(opts.githash, sizeof opts.githash, "envpool-gen");
    region_save_stats ss;
    region_error rerr;
    memset(&rerr, 0, sizeof rerr);
    if ((rc = region_save(path, mn, root, NULL, 0, NULL, &opts, NULL, &ss, &rerr)) < 0) {
        rc = pool__fail_region(err, &rerr, mn, NULL);
        goto out;
    }
    if (bytes)
        *bytes += ss.bytes;
    rc = 0;
    goto out;
fail:
    rc = pool__fail(err, -ENOMEM, mn, NULL, "out of memory building the module");
out:
    lx_unref(imps);
    lx_unref(names);
    lx_unref(consts);
    lx_unref(extra);
    lx_unref(entries);
    lx_unref(root);
    lx_unref(sort0);
    lx_unref(binder);
    return rc;
}

int pool_gen_module(const char *dir, const char *name, const char *const *imports,
                    size_t nimports, const char *const *consts, size_t nconsts, pool_error *err)
{
    if (pool_name_check(name, strlen(name), err) != 0)
        return POOL_EINVAL;
    uint64_t rng = 1;
    return write_file(dir, name, imports, nimports, consts, nconsts, 1, NULL, NULL, &rng, NULL, err);
}

typedef struct gen_ctx {
    const pool_gen_opts *o;
    const gen_module    *gm;
} gen_ctx;

/* Three binder types in four refer to a declaration of an imported module. */
static bool gen_pick(void *ctx, uint64_t *rng, char *buf, size_t size)
{
    const gen_ctx *c = ctx;
    if (c->gm->nimports == 0 || c->o->decls == 0 || rng_below(rng, 4) == 0)
        return false;
    decl_name(buf, size, c->o, c->gm->imports[rng_below(rng, c->gm->nimports)],
              rng_below(rng, c->o->decls));
    return true;
}

/* Generated module mod (UINT32_MAX: the root). */
static int write_module(const char *dir, const pool_gen_opts *o, const gen_module *gm,
                        uint32_t mod, uint64_t *rng, pool_gen_stats *st, pool_error *err)
{
    char mn[256];
    uint32_t ndecls = mod == UINT32_MAX ? 0 : o->decls;
    if (mod == UINT32_MAX)
        snprintf(mn, sizeof mn, "%s", o->prefix);
    else
        module_name(mn, sizeof mn, o, mod);
    char *text = mem_try_calloc((size_t)gm->nimports + ndecls, 320);
    const char **ptrs = mem_try_calloc((size_t)gm->nimports + ndecls, sizeof *ptrs);
    if (!text || !ptrs) {
        mem_free(text);
        mem_free(ptrs);
        return pool__fail(err, -ENOMEM, mn, NULL, "out of memory building the module");
    }
    for (uint32_t i = 0; i < gm->nimports; i++) {
        module_name(text + 320 * (size_t)i, 320, o, gm->imports[i]);
        ptrs[i] = text + 320 * (size_t)i;
    }
    for (uint32_t j = 0; j < ndecls; j++) {
        size_t k = (size_t)gm->nimports + j;
        decl_name(text + 320 * k, 320, o, mod, j);
        ptrs[k] = text + 320 * k;
    }
    gen_ctx ctx = {o, gm};
    int rc = write_file(dir, mn, ptrs, gm->nimports, ptrs + gm->nimports, ndecls, o->type_size,
                        gen_pick, &ctx, rng, &st->bytes, err);
    if (rc == 0) {
        st->modules++;
        st->constants += ndecls;
    }
    mem_free(text);
    mem_free(ptrs);
    return rc;
}

int pool_gen_write(const char *dir, const pool_gen_opts *o, pool_gen_stats *st, pool_error *err)
{
    pool_gen_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (!o->prefix || pool_name_check(o->prefix, strlen(o->prefix), err) != 0)
        return pool__fail(err, POOL_EINVAL, o->prefix, NULL, "bad module prefix");
    if (o->modules == 0 || o->depth == 0 || o->depth > o->modules || o->fan_in == 0)
        return pool__fail(err, POOL_EINVAL, NULL, NULL,
                          "need modules >= 1, 1 <= depth <= modules, fan_in >= 1");
    char dpath[4096];
    int n = snprintf(dpath, sizeof dpath, "%s/", dir);
    if (n < 0 || (size_t)n >= sizeof dpath)
        return pool__fail(err, -ENAMETOOLONG, NULL, NULL, "output directory path too long");
    int rc = mkdirs(dpath);
    if (rc)
        return pool__fail(err, rc, NULL, NULL, "cannot create %s: %s", dir, strerror(-rc));

    uint64_t rng = o->seed ^ 0x656e76706f6f6cull;
    gen_module *gm = mem_try_calloc(o->modules + 1u, sizeof *gm);
    if (!gm)
        return pool__fail(err, -ENOMEM, NULL, NULL, "out of memory for %u modules", o->modules);
    /* First module of each layer, to pick imports from the layer below. */
    rc = 0;
    for (uint32_t i = 0; i < o->modules && !rc; i++) {
        uint32_t layer = (uint32_t)((uint64_t)i * o->depth / o->modules);
        if (layer == 0)
            continue;
        /* modules of layer L are [ceil(L*N/D), ceil((L+1)*N/D)) */
        uint32_t below_lo = (uint32_t)(((uint64_t)(layer - 1) * o->modules + o->depth - 1) / o->depth);
        uint32_t below_hi = (uint32_t)(((uint64_t)layer * o->modules + o->depth - 1) / o->depth);
        uint32_t want = o->fan_in < below_hi ? o->fan_in : below_hi;
        gm[i].imports = mem_try_array(want, sizeof *gm[i].imports);
        if (!gm[i].imports) {
            rc = pool__fail(err, -ENOMEM, NULL, NULL, "out of memory");
            break;
        }
        gm[i].imports[gm[i].nimports++] = below_lo + rng_below(&rng, below_hi - below_lo);
        for (uint32_t tries = 0; gm[i].nimports < want && tries < 4 * want; tries++) {
            uint32_t c = rng_below(&rng, below_hi);
            bool dup = false;
            for (uint32_t k = 0; k < gm[i].nimports && !dup; k++)
                dup = gm[i].imports[k] == c;
            if (!dup)
                gm[i].imports[gm[i].nimports++] = c;
        }
        for (uint32_t k = 0; k < gm[i].nimports; k++)
            gm[gm[i].imports[k]].imported = true;
    }
    /* The root imports every module nobody imports. */
    gen_module *rootm = &gm[o->modules];
    if (!rc) {
        rootm->imports = mem_try_array(o->modules, sizeof *rootm->imports);
        if (!rootm->imports)
            rc = pool__fail(err, -ENOMEM, NULL, NULL, "out of memory");
        for (uint32_t i = 0; i < o->modules && !rc; i++)
            if (!gm[i].imported)
                rootm->imports[rootm->nimports++] = i;
    }
    for (uint32_t i = 0; i < o->modules && !rc; i++)
        rc = write_module(dir, o, &gm[i], i, &rng, st, err);
    if (!rc)
        rc = write_module(dir, o, rootm, UINT32_MAX, &rng, st, err);
    for (uint32_t i = 0; i <= o->modules; i++)
        mem_free(gm[i].imports);
    mem_free(gm);
    return rc;
}
