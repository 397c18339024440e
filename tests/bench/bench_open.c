/*
 * tests/bench/bench_open.c — cold open of one environment at real weight,
 * lazy against eager validation (issue 11 item 2), and the memory it costs.
 *
 *   build/bench/bench_open --dir DIR [--root NAME] [--rounds N] [--mode lazy|eager|both]
 *
 * DIR is a library root (e.g. one written by `envpool gen`, or a Lake build's
 * lib/lean) and NAME the module whose import closure is the environment
 * (default Gen). First every .olean under DIR is read once, so the page cache
 * is warm; then, for each mode, in a fresh child process: one acquire (its
 * RSS is reported once the pages the build read are released, as envpoold
 * releases them after an import: what a daemon holding it costs), then
 * N cold builds (module cache empty, page cache warm) with median, min and
 * max, and the CPU time of the building thread (user + system: what the
 * build costs when the machine is shared). A benchmark prints figures; it
 * never fails on a time.
 */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool/pool.h"
#include "util/mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) of the calling thread: the import runs on it, and
   this figure does not grow when other processes load the machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t warm_bytes, warm_files;

static int warm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || !strstr(path, ".olean") || (n > 6 && !strcmp(path + n - 6, ".ilean")))
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

/* kB fields of /proc/self/status. */
static void rss(uint64_t *total, uint64_t *anon, uint64_t *file)
{
    *total = *anon = *file = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "VmRSS: %llu", &v) == 1) *total = v;
        else if (sscanf(line, "RssAnon: %llu", &v) == 1) *anon = v;
        else if (sscanf(line, "RssFile: %llu", &v) == 1) *file = v;
    }
    fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pool *make_pool(const char *dir, enum pool_validation v)
{
    pool_roots *roots;
    pool_error err;
    const char *dirs[] = {dir};
    char buf[1024];
    if (pool_roots_new(dirs, 1, &roots, &err) != 0) {
        fprintf(stderr, "bench_open: %s\n", pool_error_format(&err, buf, sizeof buf));
        exit(1);
    }
    pool_config cfg = {.roots = roots, .capacity = 1, .stale_check = POOL_STALE_SCAN,
                       .validation = v};
    pool *p;
    if (pool_new(&cfg, &p, &err) != 0) {
        fprintf(stderr, "bench_open: %s\n", pool_error_format(&err, buf, sizeof buf));
        exit(1);
    }
    return p;
}

static pool_env *acquire(pool *p, const char *root)
{
    pool_env *e;
    pool_error err;
    const char *imps[] = {root};
    if (pool_acquire(p, imps, 1, 0, &e, &err) != 0) {
        char buf[1024];
        fprintf(stderr, "bench_open: %s\n", pool_error_format(&err, buf, sizeof buf));
        exit(1);
    }
    return e;
}

static void run_mode(const char *dir, const char *root, enum pool_validation v, unsigned rounds)
{
    const char *name = v == POOL_VALIDATE_LAZY ? "lazy" : "eager";
    uint64_t t0k, a0, f0, t1k, a1, f1;
    rss(&t0k, &a0, &f0);
    pool *p = make_pool(dir, v);
    double t = now();
    pool_env *e = acquire(p, root);
    double first = now() - t;
    (void)pool_release_pages(p); /* as envpoold does after an import (off its path) */
    rss(&t1k, &a1, &f1);
    printf("%s: environment of %zu modules, %" PRIu64 " constants, %.2f GB mapped; first build "
           "%.0f ms; RSS with it %.0f MB (anon %.0f MB, file pages %.0f MB; %.0f MB before)\n",
           name, pool_env_module_count(e), pool_env_constant_total(e),
           (double)pool_env_mapped_bytes(e) / 1e9, first * 1e3, (double)t1k / 1024,
           (double)a1 / 1024, (double)f1 / 1024, (double)t0k / 1024);
    pool_release(p, e, NULL);
    pool_drain(p);
    double *cold = mem_alloc(rounds * sizeof *cold), *cpu = mem_alloc(rounds * sizeof *cpu);
    for (unsigned r = 0; r < rounds; r++) {
        t = now();
        double c = cpu_now();
        e = acquire(p, root);
        cpu[r] = cpu_now() - c;
        cold[r] = now() - t;
        pool_release(p, e, NULL);
        pool_drain(p);
    }
    qsort(cold, rounds, sizeof *cold, cmp_double);
    qsort(cpu, rounds, sizeof *cpu, cmp_double);
    printf("%s: cold build (page cache warm): median %.1f ms, min %.1f ms, max %.1f ms over %u "
           "rounds; CPU time of the building thread: median %.1f ms, min %.1f ms\n", name,
           cold[rounds / 2] * 1e3, cold[0] * 1e3, cold[rounds - 1] * 1e3, rounds,
           cpu[rounds / 2] * 1e3, cpu[0] * 1e3);
    fflush(stdout);
    mem_free(cold);
    mem_free(cpu);
    pool_free(p);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *root = "Gen", *mode = "both";
    unsigned rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--root") && i + 1 < argc)
            root = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else
            dir = NULL, i = argc;
    }
    if (!dir || (strcmp(mode, "lazy") && strcmp(mode, "eager") && strcmp(mode, "both"))) {
        fprintf(stderr, "usage: bench_open --dir DIR [--root NAME] [--rounds N] "
                        "[--mode lazy|eager|both]\n");
        return 2;
    }
    if (rounds == 0)
        rounds = 1;
    double t = now();
    nftw(dir, warm_one, 16, FTW_PHYS);
    printf("page cache warmed: %" PRIu64 " files, %.2f GB read in %.1f s\n", warm_files,
           (double)warm_bytes / 1e9, now() - t);
    fflush(stdout);
    for (int v = POOL_VALIDATE_LAZY; v <= POOL_VALIDATE_EAGER; v++) {
        if (strcmp(mode, "both") && strcmp(mode, v == POOL_VALIDATE_LAZY ? "lazy" : "eager"))
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            mem_leak_check_at_exit("bench_open");
            run_mode(dir, root, (enum pool_validation)v, rounds);
            exit(0);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_open: the %s run failed\n", v ? "eager" : "lazy");
            return 1;
        }
    }
    return 0;
}
