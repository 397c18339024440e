/*
 * cli/pack.c — `envpool pack SRC... -o DIR`: text modules (docs/module-format.md)
 * to .olean files, DIR/A/B/C.olean for module A.B.C.
 *
 * Modules are packed in import order: a module's imports must be other
 * sources of the same run or files already in DIR. Each module is built by
 * lean/pack.c and saved by the compactor (region/compactor.h) at the base
 * address Lean would use for its name. Errors name FILE:LINE:COLUMN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "lean/pack.h"
#include "region/compactor.h"
#include "region/heap.h"
#include "region/region.h"
#include "util/mem.h"

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 1 << 16, n = 0;
    char *buf = mem_try_alloc(cap);
    int rc = buf ? 0 : -ENOMEM;
    while (!rc) {
        if (n == cap) {
            char *q = mem_try_realloc(buf, cap *= 2);
            if (!q) {
                rc = -ENOMEM;
                break;
            }
            buf = q;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f))
                rc = -EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        mem_free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* DIR/A/B/C.olean (new string). */
static char *module_path(const char *dir, const char *module)
{
    size_t n = strlen(dir) + strlen(module) + 8;
    char *p = mem_alloc(n);
    snprintf(p, n, "%s/%s.olean", dir, module);
    for (char *c = p + strlen(dir) + 1; *c && strcmp(c, ".olean"); c++)
        if (*c == '.')
            *c = '/';
    return p;
}

static int mkdirs_for(const char *path)
{
    char tmp[4096];
    if (strlen(path) >= sizeof tmp)
        return -ENAMETOOLONG;
    strcpy(tmp, path);
    for (char *c = tmp + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int cmd_pack(int argc, char **argv)
{
    const char *dir = NULL;
    bool verbose = false;
    size_t nsrc = 0;
    const char **srcs = mem_calloc((size_t)argc, sizeof *srcs);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "usage: envpool pack SRC... -o DIR [-v]\n");
            mem_free(srcs);
            return !strcmp(argv[i], "--help") ? CLI_OK : CLI_USAGE;
        } else
            srcs[nsrc++] = argv[i];
    }
    if (!dir || nsrc == 0) {
        fprintf(stderr, "usage: envpool pack SRC... -o DIR [-v]\n");
        mem_free(srcs);
        return CLI_USAGE;
    }
    int status = CLI_FAIL;
    char **texts = mem_calloc(nsrc, sizeof *texts);
    size_t *lens = mem_calloc(nsrc, sizeof *lens);
    ln_pack_header *hdr = mem_calloc(nsrc, sizeof *hdr);
    bool *done = mem_calloc(nsrc, sizeof *done);
    ln_pack *pk = ln_pack_new();
    region_error err;
    char msg[1024];
    double t0 = now_s();
    uint64_t total_consts = 0, total_bytes = 0;

    for (size_t i = 0; i < nsrc; i++) {
        int rc = read_all(srcs[i], &texts[i], &lens[i]);
        if (rc) {
            fprintf(stderr, "envpool pack: %s: %s\n", srcs[i], strerror(-rc));
            goto out;
        }
        if (ln_pack_scan(srcs[i], texts[i], lens[i], &hdr[i], &err)) {
            fprintf(stderr, "envpool pack: %s\n", err.reason);
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(hdr[i].module, hdr[j].module)) {
                fprintf(stderr, "envpool pack: %s: module %s is also defined in %s\n", srcs[i], hdr[i].module, srcs[j]);
                goto out;
            }
    }
    for (size_t left = nsrc; left > 0;) {
        size_t pick = nsrc;
        for (size_t i = 0; i < nsrc && pick == nsrc; i++) {
            if (done[i])
                continue;
            bool ready = true;
            for (size_t k = 0; k < hdr[i].nimports && ready; k++)
                for (size_t j = 0; j < nsrc; j++)
                    if (!done[j] && !strcmp(hdr[j].module, hdr[i].imports[k]))
                        ready = false;
            if (ready)
                pick = i;
        }
        if (pick == nsrc) {
            fprintf(stderr, "envpool pack: the modules import each other in a cycle\n");
            goto out;
        }
        /* Imports from DIR that are not sources of this run. */
        for (size_t k = 0; k < hdr[pick].nimports; k++) {
            bool ours = false;
            for (size_t j = 0; j < nsrc; j++)
                ours |= !strcmp(hdr[j].module, hdr[pick].imports[k]);
            if (ours)
                continue;
            char *ip = module_path(dir, hdr[pick].imports[k]);
            region *r;
            if (region_open(ip, 0, &r, &err) < 0) {
                fprintf(stderr, "envpool pack: %s: import %s: %s\n", srcs[pick], hdr[pick].imports[k],
                        region_error_format(&err, msg, sizeof msg));
                mem_free(ip);
                goto out;
            }
            int rc = ln_pack_know_region(pk, r, &err);
            region_close(r);
            mem_free(ip);
            if (rc) {
                fprintf(stderr, "envpool pack: %s\n", err.reason);
                goto out;
            }
        }
        lx_word root;
        uint64_t nconsts = 0;
        if (ln_pack_build(pk, srcs[pick], texts[pick], lens[pick], &root, &nconsts, &err)) {
            fprintf(stderr, "envpool pack: %s\n", err.reason);
            goto out;
        }
        char *op = module_path(dir, hdr[pick].module);
        region_save_opts o;
        memset(&o, 0, sizeof o);
        snprintf(o.lean_version, sizeof o.lean_version, "%s", LN_PACK_LEAN_VERSION);
        snprintf(o.githash, sizeof o.githash, "%s", LN_PACK_GITHASH);
        region_save_stats st;
        int rc = mkdirs_for(op);
        if (rc)
            fprintf(stderr, "envpool pack: %s: %s\n", op, strerror(-rc));
        else if ((rc = region_save(op, hdr[pick].module, root, NULL, 0, NULL, &o, NULL, &st, &err)))
            fprintf(stderr, "envpool pack: %s\n", region_error_format(&err, msg, sizeof msg));
        lx_unref(root);
        if (!rc && verbose)
            printf("%s: %s, %llu constants, %llu bytes\n", hdr[pick].module, op, (unsigned long long)nconsts,
                   (unsigned long long)st.bytes);
        mem_free(op);
        if (rc)
            goto out;
        total_consts += nconsts;
        total_bytes += st.bytes;
        done[pick] = true;
        left--;
    }
    if (verbose)
        printf("packed %zu modules, %llu constants, %llu bytes in %.1f ms\n", nsrc,
               (unsigned long long)total_consts, (unsigned long long)total_bytes, (now_s() - t0) * 1e3);
    status = CLI_OK;
out:
    for (size_t i = 0; i < nsrc; i++) {
        mem_free(texts[i]);
        ln_pack_header_free(&hdr[i]);
    }
    mem_free(texts);
    mem_free(lens);
    mem_free(hdr);
    mem_free(done);
    mem_free(srcs);
    ln_pack_free(pk);
    return status;
}
