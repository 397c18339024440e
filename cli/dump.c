/*
 * cli/dump.c — `envpool dump FILE...`: what a .olean file holds.
 * (Header and validation only for now; lean/ decoding extends it.)
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "region/region.h"

static const char *const format_names[] = {"v0", "v1", "v2"};

int cmd_dump(int argc, char **argv)
{
    int status = CLI_OK;
    if (argc < 2) {
        fprintf(stderr, "usage: envpool dump FILE.olean...\n");
        return CLI_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        region *r;
        region_error err;
        if (region_open(argv[i], REGION_OPEN_PARTS, &r, &err) < 0) {
            char msg[1024];
            fprintf(stderr, "envpool dump: %s\n", region_error_format(&err, msg, sizeof msg));
            status = CLI_FAIL;
            continue;
        }
        const region_info *in = region_get_info(r);
        printf("%s\n  format %s, lean %s, githash %s, base 0x%llx, %llu bytes, %llu objects\n",
               argv[i], format_names[in->format], in->lean_version[0] ? in->lean_version : "-",
               in->githash[0] ? in->githash : "-", (unsigned long long)in->base,
               (unsigned long long)in->size, (unsigned long long)in->objects);
        region_close(r);
    }
    return status;
}
