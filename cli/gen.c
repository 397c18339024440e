/*
 * cli/gen.c — `envpool gen DIR`: write a synthetic library of real .olean
 * files (pool_gen_write) for tests, demos and benchmarks.
 *
 * The defaults give a small library; the shape of `import Lean` is roughly
 * --modules 2300 --decls 87 --fan-in 8 --depth 40. Output is deterministic for
 * a seed. --stats prints what was written and how long it took.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/genlib.h"
#include "pool/pool.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: envpool gen DIR [--prefix NAME] [--modules N] [--decls N] [--fan-in N]\n"
               "                       [--depth N] [--type-size N] [--seed N] [--stats]\n"
               "       envpool gen DIR --shape lean|mathlib|small [--prefix NAME] [--modules N] [--seed N]\n"
               "                       [--jobs N] [--stats]   (calibrated; docs/bench.md)\n"
               "       envpool gen --measure FILE.olean|DIR...   (the figures gen is calibrated against)\n"
               "Writes DIR/NAME.olean (importing everything) and DIR/NAME/L*/M*.olean.\n"
               "Defaults: --prefix Gen --modules 100 --decls 50 --fan-in 4 --depth 10\n"
               "          --type-size 4 --seed 1\n");
}

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || v > UINT32_MAX || s[0] == '-') {
        fprintf(stderr, "envpool gen: %s wants a number below 2^32, not '%s'\n", opt, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* envpool gen --measure PATH...: the figures of real (or generated) files, docs/bench.md. */
static int measure(int argc, char **argv)
{
    gen_measure m;
    memset(&m, 0, sizeof m);
    char err[1024];
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        int rc = n > 6 && !strcmp(argv[i] + n - 6, ".olean") ? gen_measure_file(argv[i], &m, err, sizeof err)
                                                             : gen_measure_dir(argv[i], &m, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "envpool gen --measure: %s\n", err);
            return CLI_FAIL;
        }
    }
    gen_measure_print(&m, stdout);
    return CLI_OK;
}

int cmd_gen(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--measure")) {
        if (argc == 2) {
            fprintf(stderr, "envpool gen --measure: name files or directories\n");
            return CLI_USAGE;
        }
        return measure(argc - 2, argv + 2);
    }
    pool_gen_opts o = {.prefix = "Gen", .modules = 100, .decls = 50, .fan_in = 4,
                       .depth = 10, .type_size = 4, .seed = 1};
    const char *dir = NULL, *shape = NULL;
    bool stats = false, modules_set = false;
    uint32_t jobs = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint32_t *slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--stats")) {
            stats = true;
            continue;
        } else if (!strcmp(a, "--modules")) {
            slot = &o.modules;
            modules_set = true;
        } else if (!strcmp(a, "--decls")) {
            slot = &o.decls;
        } else if (!strcmp(a, "--fan-in")) {
            slot = &o.fan_in;
        } else if (!strcmp(a, "--depth")) {
            slot = &o.depth;
        } else if (!strcmp(a, "--jobs")) {
            slot = &jobs;
        } else if (!strcmp(a, "--type-size")) {
            slot = &o.type_size;
        } else if (!strcmp(a, "--shape")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "envpool gen: --shape needs a value\n");
                return CLI_USAGE;
            }
            shape = argv[++i];
            continue;
        } else if (!strcmp(a, "--prefix") || !strcmp(a, "--seed")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "envpool gen: %s needs a value\n", a);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--prefix")) {
                o.prefix = argv[++i];
            } else {
                char *end;
                errno = 0;
                o.seed = strtoull(argv[++i], &end, 0);
                if (errno || *end || end == argv[i]) {
                    fprintf(stderr, "envpool gen: --seed wants a number, not '%s'\n", argv[i]);
                    return CLI_USAGE;
                }
            }
            continue;
        } else if (a[0] == '-') {
            fprintf(stderr, "envpool gen: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else if (!dir) {
            dir = a;
            continue;
        } else {
            fprintf(stderr, "envpool gen: more than one directory given\n");
            return CLI_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "envpool gen: %s needs a value\n", a);
            return CLI_USAGE;
        }
        if (parse_u32(a, argv[++i], slot) < 0)
            return CLI_USAGE;
    }
    if (!dir) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (shape) {
        const gen_shape *sh = gen_shape_find(shape);
        if (!sh) {
            fprintf(stderr, "envpool gen: --shape wants lean, mathlib or small, not '%s'\n", shape);
            return CLI_USAGE;
        }
        if (!o.prefix[0] || strchr(o.prefix, '.') || strchr(o.prefix, '/')) {
            fprintf(stderr, "envpool gen: --prefix wants one name component, not '%s'\n", o.prefix);
            return CLI_USAGE;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gen_lib_stats st;
        char err[1024];
        if (gen_lib_write(dir, sh, o.prefix, modules_set ? o.modules : 0, o.seed, jobs, &st, err, sizeof err) != 0) {
            fprintf(stderr, "envpool gen: %s\n", err);
            return CLI_FAIL;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (stats) {
            double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            fprintf(stderr, "envpool gen: %" PRIu64 " modules, %" PRIu64 " constants, %" PRIu64
                            " bytes in %.2f s\n", st.modules, st.constants, st.bytes, s);
        }
        return CLI_OK;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pool_gen_stats st;
    pool_error err;
    if (pool_gen_write(dir, &o, &st, &err) != 0) {
        char msg[1024];
        fprintf(stderr, "envpool gen: %s\n", pool_error_format(&err, msg, sizeof msg));
        return err.code == POOL_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (stats) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr, "envpool gen: %" PRIu64 " modules, %" PRIu64 " constants, %" PRIu64
                        " bytes in %.2f s\n", st.modules, st.constants, st.bytes, s);
    }
    return CLI_OK;
}
