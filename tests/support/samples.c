/*
 * tests/support/samples.c — finding and reading the sample .olean files.
 */
#include "tests/support/samples.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/testmain.h"
#include "util/mem.h"

static char **found;
static size_t nfound, capfound;

const char *samples_dir(void)
{
    const char *d = getenv("ENVPOOL_SAMPLES");
    return d && *d ? d : "../shared/lean-samples";
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type == FTW_F && n > 6 && strcmp(path + n - 6, ".olean") == 0) {
        if (nfound == capfound) {
            capfound = capfound ? capfound * 2 : 32;
            char **grown = mem_try_realloc(found, capfound * sizeof *found);
            if (!grown)
                abort();
            found = grown;
        }
        found[nfound++] = mem_strdup(path);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ENVPOOL_REQUIRE_SAMPLES=1 (CI): a missing sample fails the test instead. */
static _Noreturn void absent(const char *what)
{
    const char *req = getenv("ENVPOOL_REQUIRE_SAMPLES");
    if (req && strcmp(req, "1") == 0) {
        fprintf(stderr, "samples: %s, and ENVPOOL_REQUIRE_SAMPLES=1 requires them\n", what);
        fail();
        abort(); /* fail() leaves the test; this is never reached */
    }
    test_skip("%s", what);
}

static size_t scan(void)
{
    found = NULL;
    nfound = capfound = 0;
    if (nftw(samples_dir(), visit, 16, FTW_PHYS) != 0 || nfound == 0) {
        samples_free(found, nfound);
        found = NULL;
        return 0;
    }
    qsort(found, nfound, sizeof *found, cmp_str);
    return nfound;
}

static _Noreturn void dir_absent(void)
{
    char what[600];
    snprintf(what, sizeof what, "samples absent at %s", samples_dir());
    absent(what);
}

size_t samples_list(char ***paths)
{
    if (scan() == 0)
        dir_absent();
    *paths = found;
    return nfound;
}

void samples_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(paths[i]);
    mem_free(paths);
}

char *sample_path(const char *rel)
{
    size_t n = strlen(samples_dir()) + strlen(rel) + 2;
    char *p = mem_alloc(n);
    snprintf(p, n, "%s/%s", samples_dir(), rel);
    if (access(p, R_OK) == 0)
        return p;
    mem_free(p);
    if (scan() == 0)
        dir_absent();
    samples_free(found, nfound);
    char what[1200];
    snprintf(what, sizeof what, "sample %s absent under %s", rel, samples_dir());
    absent(what);
}

uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = mem_alloc(n > 0 ? (size_t)n : 1);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        abort();
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

region *sample_module(const char *path, ln_module *m)
{
    region *r;
    region_error err;
    char msg[1024];
    if (region_open(path, REGION_OPEN_NO_FIXED, &r, &err) != 0 || ln_module_open(r, m, &err) != 0) {
        fprintf(stderr, "sample_module: %s\n", region_error_format(&err, msg, sizeof msg));
        abort();
    }
    return r;
}
