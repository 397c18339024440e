/*
 * tests/bench/bench_region.c — reader throughput over real files: validation alone
 * (region_open_buffers on images in memory, so the page cache and mmap are out
 * of the figure) and validation + full decode (every constant's name, kind
 * fields and printed type, as `envpool dump` does).
 *
 *   build/bench/bench_region [--seconds S] FILE.olean...
 *
 * Prints MB/s for both, single-threaded. Used by `make bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lean/lean.h"
#include "region/region.h"
#include "util/mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = mem_alloc(n > 0 ? (size_t)n : 1);
    if (n <= 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        mem_free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int decode(const region *r, ln_buf *b)
{
    ln_module m;
    if (ln_module_open(r, &m, NULL) < 0)
        return -1;
    for (uint64_t i = 0; i < m.nconstants; i++) {
        ln_const c;
        lx_word name;
        if (ln_module_const_name(&m, i, &name, NULL) < 0 || ln_module_const(&m, i, &c, NULL) < 0)
            return -1;
        ln_buf_reset(b);
        if (ln_const_format_header(&m, &c, b, NULL) < 0)
            return -1;
        ln_buf_reset(b);
        int rc = ln_expr_format(&m, c.type, b, NULL);
        if (rc < 0 && rc != LN_ETOOBIG)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    mem_leak_check_at_exit("bench-region");
    double seconds = 2;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "--seconds")) {
        seconds = atof(argv[2]);
        first = 3;
    }
    int n = argc - first;
    if (n <= 0) {
        fprintf(stderr, "usage: bench-region [--seconds S] FILE.olean...\n");
        return 2;
    }
    uint8_t **bufs = mem_alloc((size_t)n * sizeof *bufs);
    size_t *lens = mem_alloc((size_t)n * sizeof *lens), total = 0;
    for (int i = 0; i < n; i++) {
        bufs[i] = slurp(argv[first + i], &lens[i]);
        if (!bufs[i]) {
            fprintf(stderr, "bench-region: cannot read %s\n", argv[first + i]);
            return 1;
        }
        total += lens[i];
    }
    ln_buf b;
    ln_buf_init(&b, 64 * 1024);
    for (int pass = 0; pass < 2; pass++) {
        double t0 = now(), t;
        size_t bytes = 0, rounds = 0;
        do {
            for (int i = 0; i < n; i++) {
                region *r;
                const uint8_t *p = bufs[i];
                if (region_open_buffers(&p, &lens[i], 1, argv[first + i], &r, NULL) < 0) {
                    fprintf(stderr, "bench-region: %s does not validate\n", argv[first + i]);
                    return 1;
                }
                if (pass == 1 && decode(r, &b) < 0) {
                    fprintf(stderr, "bench-region: %s does not decode\n", argv[first + i]);
                    return 1;
                }
                region_close(r);
                bytes += lens[i];
            }
            rounds++;
            t = now() - t0;
        } while (t < seconds);
        printf("%-22s %8.1f MB/s  (%zu files, %.1f MB, %zu rounds, 1 core)\n",
               pass == 0 ? "validation" : "validation + decode", (double)bytes / t / 1e6, (size_t)n,
               (double)total / 1e6, rounds);
    }
    ln_buf_deinit(&b);
    for (int i = 0; i < n; i++)
        mem_free(bufs[i]);
    mem_free(bufs);
    mem_free(lens);
    return 0;
}
