/*
 * tests/support/pooltest.c — fixtures for the pool's tests (see pooltest.h).
 */
#include "tests/support/pooltest.h"

#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"

static void die(const char *what, const pool_error *err)
{
    char buf[1024];
    fprintf(stderr, "pooltest: %s: %s\n", what, err ? pool_error_format(err, buf, sizeof buf) : "");
    abort();
}

static char *make_under(const char *base)
{
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/envpool-pool-XXXXXX", base);
    if (!mkdtemp(tmpl))
        die("mkdtemp", NULL);
    return mem_strdup(tmpl);
}

char *tmpdir_make(void)
{
    const char *base = getenv("TMPDIR");
    return make_under(base && *base ? base : "/tmp");
}

char *tmpdir_make_mem(void)
{
    const char *base = getenv("TMPDIR");
    if (base && *base)
        return make_under(base);
    struct stat st;
    return make_under(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tmpdir_remove(char *dir)
{
    if (!dir)
        return;
    if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        die("removing the temporary directory", NULL);
    mem_free(dir);
}

void lib_gen(const char *dir, const char *prefix, uint32_t modules, uint32_t decls,
             uint32_t fan_in, uint32_t depth, uint64_t seed)
{
    pool_gen_opts o = {.prefix = prefix, .modules = modules, .decls = decls, .fan_in = fan_in,
                       .depth = depth, .type_size = 3, .seed = seed};
    pool_error err;
    if (pool_gen_write(dir, &o, NULL, &err) != 0)
        die("pool_gen_write", &err);
}

/* Splits a comma list into a new array of pointers into a new copy. */
static size_t split(const char *list, char **copy, const char ***out)
{
    size_t n = 0;
    *copy = mem_strdup(list ? list : "");
    *out = mem_calloc(strlen(*copy) / 2 + 2, sizeof **out);
    for (char *s = *copy, *end; s && *s; s = end) {
        end = strchr(s, ',');
        if (end)
            *end++ = '\0';
        (*out)[n++] = s;
    }
    return n;
}

void lib_module(const char *dir, const char *name, const char *imports, const char *consts)
{
    char *c1, *c2;
    const char **imps, **cs;
    size_t ni = split(imports, &c1, &imps), nc = split(consts, &c2, &cs);
    pool_error err;
    if (pool_gen_module(dir, name, imps, ni, cs, nc, &err) != 0)
        die("pool_gen_module", &err);
    mem_free(imps);
    mem_free(cs);
    mem_free(c1);
    mem_free(c2);
}

pool *pool_make(const char *dir, size_t capacity, uint64_t max_bytes, enum pool_stale_check mode)
{
    pool_roots *roots;
    pool_error err;
    const char *dirs[] = {dir};
    if (pool_roots_new(dirs, 1, &roots, &err) != 0)
        die("pool_roots_new", &err);
    pool_config cfg = {.roots = roots, .capacity = capacity, .max_bytes = max_bytes,
                       .stale_check = mode};
    pool *p;
    if (pool_new(&cfg, &p, &err) != 0)
        die("pool_new", &err);
    return p;
}

pool *pool_make_watched(const char *dir, size_t capacity, enum pool_stale_check mode,
                        uint32_t max_watches)
{
    pool_roots *roots;
    pool_error err;
    const char *dirs[] = {dir};
    if (pool_roots_new(dirs, 1, &roots, &err) != 0)
        die("pool_roots_new", &err);
    pool_config cfg = {.roots = roots, .capacity = capacity, .stale_check = mode,
                       .watch = true, .max_watches = max_watches};
    pool *p;
    if (pool_new(&cfg, &p, &err) != 0)
        die("pool_new", &err);
    if (pool_watch_fd(p) < 0)
        die("pool_new: no inotify", NULL);
    return p;
}

void pool_check_invariants(const pool *p)
{
    pool_stats s;
    pool_stats_get(p, &s);
    if (s.acquired != s.imports_performed + s.reused ||
        s.releases != s.released_to_pool + s.released_dropped ||
        s.resident != s.idle + s.in_use) {
        fprintf(stderr, "pooltest: invariant broken: acquired %llu imports %llu reused %llu; "
                        "releases %llu to_pool %llu dropped %llu; resident %llu idle %llu in_use %llu\n",
                (unsigned long long)s.acquired, (unsigned long long)s.imports_performed,
                (unsigned long long)s.reused, (unsigned long long)s.releases,
                (unsigned long long)s.released_to_pool, (unsigned long long)s.released_dropped,
                (unsigned long long)s.resident, (unsigned long long)s.idle,
                (unsigned long long)s.in_use);
        abort();
    }
}
