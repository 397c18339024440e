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
#include "pool/pool.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: envpool gen DIR [--prefix NAME] [--modules N] [--decls N] [--fan-in N]\n"
               "                       [--depth N] [--type-size N] [--seed N] [--stats]\n"
               "       envpool gen DIR --shape lean|mathlib|small [--prefix NAME] [--modules N] [--seed N]\n"
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

int cmd_gen(int argc, char **argv)
{
    pool_gen_opts o = {.prefix = "Gen", .modules = 100, .decls = 50, .fan_in = 4,
                       .depth = 10, .type_size = 4, .seed = 1};
    const char *dir = NULL, *shape = NULL;
    bool stats = false, modules_set = false;
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
        static const struct { const char *name; uint32_t modules, decls, fan_in, depth; } shapes[] = {
            {"lean", 2300, 87, 4, 24}, {"mathlib", 7600, 83, 6, 40}, {"small", 60, 40, 4, 6}};
        size_t k = 0;
        while (k < sizeof shapes / sizeof *shapes && strcmp(shapes[k].name, shape))
            k++;
        if (k == sizeof shapes / sizeof *shapes) {
            fprintf(stderr, "envpool gen: --shape wants lean, mathlib or small, not '%s'\n", shape);
            return CLI_USAGE;
        }
        uint32_t m = modules_set ? o.modules : shapes[k].modules;
        o.modules = m;
        o.decls = shapes[k].decls;
        o.fan_in = shapes[k].fan_in;
        o.depth = shapes[k].depth < m ? shapes[k].depth : m;
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
