/*
 * pool/error.c — pool_error: filling it, formatting it, naming codes.
 *
 * Every failure of resolution, mapping, validation or import ends in one
 * pool_error that carries what a client needs to act on it: the module, who
 * imported it, and for file trouble the region reader's path, offset and reason.
 */
#include "pool/pool_internal.h"
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int pool__fail(pool_error *err, int code, const char *module, const char *imported_by,
               const char *fmt, ...)
{
    if (!err)
        return code;
    memset(err, 0, sizeof *err);
    err->code = code;
    err->region.offset = UINT64_MAX;
    copy_str(err->module, sizeof err->module, module);
    copy_str(err->imported_by, sizeof err->imported_by, imported_by);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return code;
}

int pool__fail_region(pool_error *err, const region_error *rerr, const char *module,
                      const char *imported_by)
{
    int code = rerr->code ? rerr->code : REGION_ECORRUPT;
    if (!err)
        return code;
    pool__fail(err, code, module, imported_by, "%s", rerr->reason);
    err->region = *rerr;
    err->region.code = code;
    return code;
}

const char *pool_strerror(int code) { return envpool_strerror(code); }

const char *pool_error_format(const pool_error *err, char *buf, size_t size)
{
    char where[640] = "";
    if (err->region.path[0] && err->region.offset != UINT64_MAX)
        snprintf(where, sizeof where, " [%s: offset %llu]", err->region.path,
                 (unsigned long long)err->region.offset);
    else if (err->region.path[0])
        snprintf(where, sizeof where, " [%s]", err->region.path);
    if (err->module[0] && err->imported_by[0])
        snprintf(buf, size, "module %s (imported by %s): %s%s", err->module, err->imported_by,
                 err->reason, where);
    else if (err->module[0])
        snprintf(buf, size, "module %s: %s%s", err->module, err->reason, where);
    else
        snprintf(buf, size, "%s%s", err->reason, where);
    return buf;
}

uint64_t pool__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
