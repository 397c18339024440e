/*
 * util/mem.c — counting allocator and leak accounting. See mem.h.
 */
#include "util/mem.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int64_t live[MEM_KIND_COUNT];
static _Atomic int64_t fail_after = -1; /* mem_fail_after: successes left, -1 off */
static _Atomic int64_t failed;          /* refusals since then */
static const char *leak_progname = "envpool";

static const char *const kind_names[MEM_KIND_COUNT] = {
    "allocations", "mappings", "objects", "regions",
};

static void out_of_memory(size_t n)
{
    /* Only reached for control structures whose size we chose: nothing sensible
     * to do but stop, loudly. */
    fprintf(stderr, "envpool: out of memory allocating %zu bytes\n", n);
    abort();
}

void mem_count(enum mem_kind kind, int64_t delta)
{
    atomic_fetch_add_explicit(&live[kind], delta, memory_order_relaxed);
}

int64_t mem_live(enum mem_kind kind)
{
    return atomic_load_explicit(&live[kind], memory_order_relaxed);
}

int64_t mem_live_total(void)
{
    int64_t sum = 0;
    for (int k = 0; k < MEM_KIND_COUNT; k++)
        sum += mem_live((enum mem_kind)k);
    return sum;
}

void mem_fail_after(int64_t n)
{
    atomic_store(&failed, 0);
    atomic_store(&fail_after, n < 0 ? -1 : n);
}

int64_t mem_fail_count(void) { return atomic_load(&failed); }

/* Whether this _try_ call is refused by mem_fail_after (one relaxed load when off). */
static bool injected(void)
{
    int64_t left = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (left < 0)
        return false;
    if (left == 0) {
        atomic_fetch_add(&failed, 1);
        return true;
    }
    atomic_fetch_sub(&fail_after, 1);
    return false;
}

static void *raw_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p)
        mem_count(MEM_ALLOCATIONS, 1);
    return p;
}

static void *raw_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL; /* refuse here: some allocators abort on the overflow */
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        mem_count(MEM_ALLOCATIONS, 1);
    return p;
}

void *mem_try_alloc(size_t n) { return injected() ? NULL : raw_alloc(n); }

void *mem_try_calloc(size_t count, size_t size)
{
    return injected() ? NULL : raw_calloc(count, size);
}

void *mem_try_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return mem_try_alloc(count * size);
}

void *mem_try_realloc(void *p, size_t n)
{
    if (!p)
        return mem_try_alloc(n);
    if (injected())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *mem_alloc(size_t n)
{
    void *p = raw_alloc(n);
    if (!p)
        out_of_memory(n);
    return p;
}

void *mem_calloc(size_t count, size_t size)
{
    void *p = raw_calloc(count, size);
    if (!p)
        out_of_memory(count * size);
    return p;
}

char *mem_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = mem_alloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *mem_strdup(const char *s)
{
    return mem_strndup(s, SIZE_MAX);
}

void mem_free(void *p)
{
    if (!p)
        return;
    mem_count(MEM_ALLOCATIONS, -1);
    free(p);
}

static void leak_report(void)
{
    int64_t total = mem_live_total();
    fprintf(stderr, "%s: leak check: %s; live", leak_progname, total ? "FAILED" : "ok");
    for (int k = 0; k < MEM_KIND_COUNT; k++)
        fprintf(stderr, " %s=%lld", kind_names[k], (long long)mem_live((enum mem_kind)k));
    fputc('\n', stderr);
    fflush(stderr);
    if (total)
        _exit(3);
}

void mem_leak_check_at_exit(const char *progname)
{
    static atomic_flag registered = ATOMIC_FLAG_INIT;
    const char *v = getenv("ENVPOOL_CHECK_LEAKS");
    if (!v || strcmp(v, "1") != 0)
        return;
    if (atomic_flag_test_and_set(&registered))
        return;
    if (progname)
        leak_progname = progname;
    atexit(leak_report);
}
