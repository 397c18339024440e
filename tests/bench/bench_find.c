/*
 * tests/bench/bench_find.c — decl.find at real weight (issue 13.2): index
 * build time, decl.find latency with constants and with patterns, index
 * memory per constant.
 *
 *   build/bench/bench_find --dir DIR [--root NAME] [--rounds N] [--queries N] [--seed N] [--no-values]
 *
 * DIR is a library root (e.g. one written by `envpool gen --shape lean`) and
 * NAME the module whose import closure is the environment (default Gen).
 * Every .olean under DIR is read once first (page cache warm). Then:
 *
 *  - index build: N rounds of a cold build (module cache empty: the
 *    environment is acquired again after a drain, so its modules are mapped
 *    again without indexes) of the type indexes (what decl.find needs), and
 *    the value indexes after them (decl.used_by; not with --no-values), as the
 *    daemon's worker builds them (pool_env_find_prepare: this thread and its
 *    helper threads); wall time median, min, max, and the CPU time of this
 *    thread;
 *  - memory: pool.stats find_index_bytes after both, per constant of the
 *    environment;
 *  - queries: --queries declarations picked at random (seeded); from each
 *    declaration's type, the constants it mentions (decl.uses, in type) give
 *    a constant query ("A" and "A, B": what Loogle's users type most) and
 *    pattern queries ("A _", "⊢ A _ _", "A (B _)") — picked among a type's
 *    constants at random, so frequent constants (the Eq and Nat of a real
 *    library) come up as often as they would. Each query runs once as a warm
 *    up, then is timed once; p50, p90, max per kind, with the mean number of
 *    matches and of candidates left by the index.
 *
 * Times are wall clock of pool_env_find (parse, resolve, narrow, match,
 * rank, one page of 50): the daemon adds printing 50 types and JSON. A
 * benchmark prints figures; it never fails on a time.
 */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "util/mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: does not grow when other processes load the machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process: this thread and the build's helper threads. */
static double cpu_proc(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t warm_bytes, warm_files;

static int warm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 6 || strcmp(path + n - 6, ".olean"))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[1 << 20];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0)
        warm_bytes += (uint64_t)got;
    close(fd);
    warm_files++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const pool_error *err)
{
    char buf[1024];
    fprintf(stderr, "bench_find: %s: %s\n", what, err ? pool_error_format(err, buf, sizeof buf) : "failed");
    exit(1);
}

static pool *make_pool(const char *dir)
{
    pool_roots *roots;
    pool_error err;
    const char *dirs[] = {dir};
    if (pool_roots_new(dirs, 1, &roots, &err) != 0)
        die("roots", &err);
    pool_config cfg = {.roots = roots, .capacity = 1, .stale_check = POOL_STALE_SCAN};
    pool *p;
    if (pool_new(&cfg, &p, &err) != 0)
        die("pool", &err);
    return p;
}

static pool_env *acquire(pool *p, const char *root)
{
    pool_env *e;
    pool_error err;
    const char *imps[] = {root};
    if (pool_acquire(p, imps, 1, 0, &e, &err) != 0)
        die("acquire", &err);
    return e;
}

static uint64_t index_bytes(pool *p)
{
    pool_stats st;
    pool_stats_get(p, &st);
    return st.find_index_bytes;
}

/* xorshift64*: seeded, the same queries for the same library and seed. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

enum { K_CONST1, K_CONST2, K_PAT_APP, K_PAT_CONCL, K_PAT_NEST, NKINDS };
static const char *const kind_names[NKINDS] = {"constant  A", "constants A, B", "pattern   A _",
                                               "pattern   |- A _ _", "pattern   A (B _)"};

typedef struct query {
    int   kind;
    char *text;
} query;

typedef struct sample {
    double   *t;
    size_t    n;
    uint64_t  matches, narrowed, errors;
} sample;

int main(int argc, char **argv)
{
    const char *dir = NULL, *root = "Gen";
    unsigned rounds = 3, nq = 200;
    uint64_t seed = 1;
    bool values = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--root") && i + 1 < argc)
            root = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            nq = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-values"))
            values = false;
        else
            dir = NULL, i = argc;
    }
    if (!dir) {
        fprintf(stderr, "usage: bench_find --dir DIR [--root NAME] [--rounds N] [--queries N] [--seed N] [--no-values]\n");
        return 2;
    }
    mem_leak_check_at_exit("bench_find");
    if (rounds == 0)
        rounds = 1;
    if (nq == 0)
        nq = 1;
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    double t = now();
    nftw(dir, warm_one, 16, FTW_PHYS);
    printf("page cache warmed: %" PRIu64 " files, %.2f GB read in %.1f s\n", warm_files, (double)warm_bytes / 1e9,
           now() - t);
    fflush(stdout);

    pool *p = make_pool(dir);
    pool_error err;
    double *bt = mem_alloc(rounds * sizeof *bt), *bv = mem_alloc(rounds * sizeof *bv);
    double *ct = mem_alloc(rounds * sizeof *ct), *cv = mem_alloc(rounds * sizeof *cv);
    double *pt = mem_alloc(rounds * sizeof *pt);
    pool_env *e = NULL;
    uint64_t bytes_types = 0, bytes_all = 0;
    for (unsigned r = 0; r < rounds; r++) {
        if (e) {
            pool_release(p, e, NULL);
            pool_drain(p);
        }
        e = acquire(p, root);
        t = now();
        double c = cpu_now(), pc = cpu_proc();
        if (pool_env_find_prepare(e, POOL_FIND_TYPES, NULL, &err))
            die("type indexes", &err);
        bt[r] = now() - t;
        ct[r] = cpu_now() - c;
        pt[r] = cpu_proc() - pc;
        bytes_types = index_bytes(p);
        t = now();
        c = cpu_now();
        if (values && pool_env_find_prepare(e, POOL_FIND_VALUES, NULL, &err))
            die("value indexes", &err);
        bv[r] = now() - t;
        cv[r] = cpu_now() - c;
        bytes_all = index_bytes(p);
    }
    uint64_t nconst = pool_env_constant_total(e);
    printf("environment %s: %zu modules, %" PRIu64 " constants\n", root, pool_env_module_count(e), nconst);
    qsort(bt, rounds, sizeof *bt, cmp_double);
    qsort(bv, rounds, sizeof *bv, cmp_double);
    qsort(ct, rounds, sizeof *ct, cmp_double);
    qsort(cv, rounds, sizeof *cv, cmp_double);
    qsort(pt, rounds, sizeof *pt, cmp_double);
    printf("index build, types (decl.find): median %.0f ms, min %.0f, max %.0f over %u cold rounds; "
           "CPU time of the building thread: median %.0f ms, min %.0f; of all threads: median %.0f ms\n",
           bt[rounds / 2] * 1e3, bt[0] * 1e3, bt[rounds - 1] * 1e3, rounds, ct[rounds / 2] * 1e3, ct[0] * 1e3,
           pt[rounds / 2] * 1e3);
    printf("index build, values (decl.used_by): median %.0f ms, min %.0f, max %.0f; CPU median %.0f ms, min %.0f\n",
           bv[rounds / 2] * 1e3, bv[0] * 1e3, bv[rounds - 1] * 1e3, cv[rounds / 2] * 1e3, cv[0] * 1e3);
    printf("index memory: types %.1f MB (%.1f bytes per constant), types + values %.1f MB (%.1f bytes per "
           "constant)\n",
           (double)bytes_types / 1e6, (double)bytes_types / (double)nconst, (double)bytes_all / 1e6,
           (double)bytes_all / (double)nconst);
    fflush(stdout);
    mem_free(bt);
    mem_free(bv);
    mem_free(ct);
    mem_free(cv);
    mem_free(pt);

    /* The declarations: every visible constant's ref, then nq picked at random. */
    size_t cap = 1024, n = 0;
    pool_const_ref *refs = mem_alloc(cap * sizeof *refs);
    uint64_t cur = 0;
    pool_const_ref ref;
    while (pool_env_next(e, &cur, &ref) == 1) {
        if (n == cap) {
            pool_const_ref *more = mem_try_realloc(refs, (cap *= 2) * sizeof *refs);
            if (!more)
                die("out of memory", NULL);
            refs = more;
        }
        refs[n++] = ref;
    }
    query *qs = mem_calloc((size_t)nq * NKINDS, sizeof *qs);
    size_t nqs = 0;
    ln_buf nb;
    ln_buf_init(&nb, 4096);
    for (unsigned i = 0; i < nq * 4 && nqs < (size_t)nq * NKINDS; i++) {
        const pool_const_ref *r = &refs[rnd() % n];
        ln_buf_reset(&nb);
        if (ln_name_format(pool_env_ln_module(e, r->module), r->name, &nb, NULL))
            continue;
        char *name = mem_strdup(ln_buf_cstr(&nb));
        pool_dep_query dq = {name, strlen(name), POOL_DEP_TYPE, 1, 10000, POOL_FIND_MAX_LIMIT, 0};
        pool_dep_result dr = {0};
        if (pool_env_deps(e, &dq, false, NULL, &dr, &err) == 0) {
            /* found constants with a plain dotted name */
            const char *c[POOL_FIND_MAX_LIMIT];
            size_t nc = 0;
            for (size_t k = 0; k < dr.n; k++)
                if (dr.items[k].found && !strpbrk(dr.items[k].name, "«»'"))
                    c[nc++] = dr.items[k].name;
            if (nc >= 2) {
                const char *a = c[rnd() % nc], *b = c[rnd() % nc];
                while (b == a)
                    b = c[rnd() % nc];
                char buf[2048];
                snprintf(buf, sizeof buf, "%s", a);
                qs[nqs++] = (query){K_CONST1, mem_strdup(buf)};
                snprintf(buf, sizeof buf, "%s, %s", a, b);
                qs[nqs++] = (query){K_CONST2, mem_strdup(buf)};
                snprintf(buf, sizeof buf, "%s _", a);
                qs[nqs++] = (query){K_PAT_APP, mem_strdup(buf)};
                snprintf(buf, sizeof buf, "⊢ %s _ _", a);
                qs[nqs++] = (query){K_PAT_CONCL, mem_strdup(buf)};
                snprintf(buf, sizeof buf, "%s (%s _)", a, b);
                qs[nqs++] = (query){K_PAT_NEST, mem_strdup(buf)};
            }
        }
        pool_dep_result_deinit(&dr);
        mem_free(name);
    }
    ln_buf_deinit(&nb);
    mem_free(refs);

    sample s[NKINDS];
    memset(s, 0, sizeof s);
    for (int k = 0; k < NKINDS; k++)
        s[k].t = mem_alloc((nqs + 1) * sizeof(double));
    double total = now();
    for (size_t i = 0; i < nqs; i++) {
        pool_find_query fq = {qs[i].text, strlen(qs[i].text), 0, false, 50, NULL};
        pool_find_result res;
        memset(&res, 0, sizeof res);
        int rc = pool_env_find(e, &fq, NULL, &res, &err); /* warm up (first touch of pages) */
        pool_find_result_deinit(&res);
        memset(&res, 0, sizeof res);
        t = now();
        rc = pool_env_find(e, &fq, NULL, &res, &err);
        double dt = now() - t;
        sample *sk = &s[qs[i].kind];
        sk->t[sk->n++] = dt;
        if (rc == 0) {
            sk->matches += res.count;
            sk->narrowed += res.narrowed;
        } else {
            sk->errors++;
        }
        pool_find_result_deinit(&res);
    }
    total = now() - total;
    printf("decl.find over %zu queries from %u random declarations (%.1f s with warm-ups):\n", nqs, nq, total);
    for (int k = 0; k < NKINDS; k++) {
        sample *sk = &s[k];
        if (!sk->n)
            continue;
        qsort(sk->t, sk->n, sizeof(double), cmp_double);
        printf("  %-20s n=%-4zu p50 %7.2f ms  p90 %7.2f ms  max %7.2f ms  mean matches %8.0f, candidates %8.0f%s",
               kind_names[k], sk->n, sk->t[sk->n / 2] * 1e3, sk->t[sk->n * 9 / 10] * 1e3, sk->t[sk->n - 1] * 1e3,
               (double)sk->matches / (double)sk->n, (double)sk->narrowed / (double)sk->n,
               sk->errors ? "" : "\n");
        if (sk->errors)
            printf("  (%" PRIu64 " refused)\n", sk->errors);
    }
    /* The two figures of the targets: every constant query, every pattern query. */
    for (int g = 0; g < 2; g++) {
        double *all = mem_alloc((nqs + 1) * sizeof *all);
        size_t m = 0;
        for (int k = g ? K_PAT_APP : K_CONST1; k < (g ? NKINDS : K_PAT_APP); k++)
            for (size_t i = 0; i < s[k].n; i++)
                all[m++] = s[k].t[i];
        if (m) {
            qsort(all, m, sizeof *all, cmp_double);
            printf("  %-20s n=%-4zu p50 %7.2f ms  p90 %7.2f ms  max %7.2f ms\n", g ? "all patterns" : "all constants", m,
                   all[m / 2] * 1e3, all[m * 9 / 10] * 1e3, all[m - 1] * 1e3);
        }
        mem_free(all);
    }
    for (int k = 0; k < NKINDS; k++)
        mem_free(s[k].t);
    for (size_t i = 0; i < nqs; i++)
        mem_free(qs[i].text);
    mem_free(qs);
    pool_release(p, e, NULL);
    pool_free(p);
    return 0;
}
