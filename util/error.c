/*
 * util/error.c — envpool_strerror, envpool_error_name and the invariant
 * report, all from the one table of error.h.
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    int         code;
    const char *name, *message;
} entry;

#define ENTRY(name, code, msg) {code, #name, msg},
static const entry table[] = {ENVPOOL_ERRORS(ENTRY)};
#undef ENTRY

static const entry *lookup(int code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

const char *envpool_strerror(int code)
{
    if (code == 0)
        return "ok";
    const entry *e = lookup(code);
    if (e)
        return e->message;
    if (code < 0 && code > -4096)
        return strerror(-code); /* glibc's table: static strings ("Unknown error N" past it) */
    return "unknown error";
}

const char *envpool_error_name(int code)
{
    const entry *e = lookup(code);
    if (e)
        return e->name;
    if (code < 0 && code > -4096)
        return strerrorname_np(-code); /* glibc 2.32+; NULL for a number without a name */
    return NULL;
}

void envpool__invariant_failed(const char *file, int line, const char *func, const char *cond,
                               const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "envpool: invariant broken at %s:%d (%s): %s: %s\n", file, line, func, cond, msg);
    fflush(stderr);
    abort();
}
