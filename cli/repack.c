/*
 * cli/repack.c — `envpool repack IN.olean -o OUT.olean`: decode a whole file
 * into heap objects and save it again with the compactor.
 *
 * The output keeps the input's header (version, flags, Lean version, githash)
 * and base address, so for a file written by Lean's compactor it is the same
 * bytes — the proof that region/compactor.c lays objects out as Lean does.
 * The child order of Lean's compactor changed over the years (compactor.h),
 * so unless --order is given, repack tries the current order first, then the
 * other, then both without merging identical objects, and keeps the first
 * layout that reproduces the input. If none does, it writes the current one
 * and says where the bytes first differ (exit status 1).
 *
 * --stats prints objects, bytes and the compactor's throughput to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "region/compactor.h"
#include "region/decode.h"
#include "region/heap.h"
#include "region/region.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: envpool repack IN.olean -o OUT.olean [--order field|reverse] [--no-sharing] [--stats]\n");
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t first_difference(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return i;
    return n;
}

int cmd_repack(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int forced_order = -1;
    bool no_sharing = false, show_stats = false;
    region *r = NULL;
    region_saved *sess = NULL;
    lx_word root = lx_box(0);
    region_error err;
    char msg[1024];
    int status = CLI_FAIL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--order") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "field"))
                forced_order = REGION_ORDER_FIELD;
            else if (!strcmp(argv[i], "reverse"))
                forced_order = REGION_ORDER_REVERSE;
            else {
                usage(stderr);
                return CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--no-sharing")) {
            no_sharing = true;
        } else if (!strcmp(argv[i], "--stats")) {
            show_stats = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (argv[i][0] != '-' && !in) {
            in = argv[i];
        } else {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return CLI_USAGE;
    }

    if (region_open(in, 0, &r, &err) < 0) {
        fprintf(stderr, "envpool repack: %s\n", region_error_format(&err, msg, sizeof msg));
        return CLI_FAIL;
    }
    const region_info *info = region_get_info(r);
    lx_space sp = region_space(r);
    const uint8_t *orig = lx_obj(&sp, info->base);
    size_t orig_len = (size_t)info->size;

    double t0 = now_seconds();
    uint64_t nobj = 0;
    if (region_decode(r, &root, &nobj, &err) < 0) {
        fprintf(stderr, "envpool repack: %s\n", region_error_format(&err, msg, sizeof msg));
        goto out;
    }
    double t_decode = now_seconds() - t0;

    region_save_opts opts;
    region_save_opts_from_info(&opts, info);

    /* Layouts to try, in order; a forced choice is the only one. */
    struct { int order; bool no_sharing; } tries[4] = {
        {REGION_ORDER_FIELD, false}, {REGION_ORDER_REVERSE, false},
        {REGION_ORDER_FIELD, true},  {REGION_ORDER_REVERSE, true},
    };
    size_t ntries = 4;
    if (forced_order >= 0 || no_sharing) {
        tries[0].order = forced_order >= 0 ? forced_order : REGION_ORDER_FIELD;
        tries[0].no_sharing = no_sharing;
        ntries = 1;
    }

    const uint8_t *data = NULL;
    size_t len = 0;
    double t_compact = 0;
    region_save_stats st;
    bool same = false;
    uint64_t diff = 0;
    for (size_t k = 0; k < ntries && !same; k++) {
        region_saved_free(sess);
        sess = NULL;
        opts.order = (enum region_child_order)tries[k].order;
        opts.no_max_sharing = tries[k].no_sharing;
        double t1 = now_seconds();
        if (region_compact(NULL, root, NULL, 0, NULL, &opts, &sess, &data, &len, &st, &err) < 0) {
            snprintf(err.path, sizeof err.path, "%s", in);
            fprintf(stderr, "envpool repack: %s\n", region_error_format(&err, msg, sizeof msg));
            goto out;
        }
        t_compact = now_seconds() - t1;
        same = len == orig_len && !memcmp(data, orig, len);
        if (k == 0)
            diff = first_difference(data, len, orig, orig_len);
    }
    if (!same) {
        /* Write Lean's current layout (or the forced one). */
        region_saved_free(sess);
        sess = NULL;
        opts.order = (enum region_child_order)tries[0].order;
        opts.no_max_sharing = tries[0].no_sharing;
        if (region_compact(NULL, root, NULL, 0, NULL, &opts, &sess, &data, &len, &st, &err) < 0) {
            fprintf(stderr, "envpool repack: %s\n", region_error_format(&err, msg, sizeof msg));
            goto out;
        }
    }
    if (region_write_file_atomic(out, data, len, &err) < 0) {
        fprintf(stderr, "envpool repack: %s\n", region_error_format(&err, msg, sizeof msg));
        goto out;
    }
    if (show_stats) {
        double mb = (double)len / 1e6;
        fprintf(stderr,
                "envpool repack: %s: %llu objects decoded in %.3f ms; compacted %llu objects, %zu bytes "
                "(%llu merged) in %.3f ms: %.1f MB/s, %.0f objects/s; order %s%s\n",
                in, (unsigned long long)nobj, t_decode * 1e3, (unsigned long long)st.objects, len,
                (unsigned long long)st.merged, t_compact * 1e3, t_compact > 0 ? mb / t_compact : 0.0,
                t_compact > 0 ? (double)st.objects / t_compact : 0.0,
                opts.order == REGION_ORDER_FIELD ? "field" : "reverse",
                opts.no_max_sharing ? ", no sharing" : "");
    }
    if (same) {
        status = CLI_OK;
    } else {
        fprintf(stderr, "envpool repack: %s: output differs from the input (%zu vs %zu bytes, first difference at offset %llu)\n",
                in, len, orig_len, (unsigned long long)diff);
        status = CLI_FAIL;
    }
out:
    region_saved_free(sess);
    lx_unref(root);
    region_close(r);
    return status;
}
