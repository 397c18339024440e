/*
 * util/mem.h — allocation and resource accounting shared by every part of envpool.
 *
 * Every heap allocation goes through mem_alloc/mem_try_alloc and friends, every
 * file mapping and every heap Lean object is counted, so that tests and the
 * ENVPOOL_CHECK_LEAKS=1 exit check can prove that nothing is left behind.
 *
 * Two flavours, as in STYLE.md:
 *   mem_alloc, mem_calloc, mem_strdup   small fixed control structures; abort the
 *                                       process on exhaustion (never on input).
 *   mem_try_alloc, mem_try_realloc ...  anything sized by a file or a peer; return
 *                                       NULL and let the caller fail one request.
 * All functions are thread-safe (counters are atomic).
 */
#ifndef ENVPOOL_UTIL_MEM_H
#define ENVPOOL_UTIL_MEM_H

#include <stddef.h>
#include <stdint.h>

void *mem_alloc(size_t n);                    /* new; aborts on exhaustion */
void *mem_calloc(size_t count, size_t size);  /* new, zeroed; aborts */
char *mem_strdup(const char *s);              /* new; aborts */
char *mem_strndup(const char *s, size_t n);   /* new; aborts */
void *mem_try_alloc(size_t n);                /* new or NULL */
void *mem_try_calloc(size_t count, size_t size);           /* new or NULL (overflow-safe) */
void *mem_try_realloc(void *p, size_t n);     /* like realloc: NULL leaves p intact */
void *mem_try_array(size_t count, size_t size);            /* count*size, NULL on overflow */
void  mem_free(void *p);                      /* p may be NULL */

/*
 * Failure injection, for tests of the paths that handle a NULL from the
 * _try_ allocators: after mem_fail_after(n), the next n calls of mem_try_*
 * succeed and every later one returns NULL, until mem_fail_after(-1) turns
 * it off (the default). The aborting allocators are never affected. A test
 * loops n = 0, 1, 2 ... until the operation succeeds, checking each failure
 * is reported and leaks nothing. Process-wide; meant for one thread.
 */
void    mem_fail_after(int64_t n);
/* How many _try_ calls were refused since the last mem_fail_after. */
int64_t mem_fail_count(void);

/* What is counted. */
enum mem_kind {
    MEM_ALLOCATIONS = 0, /* live mem_* allocations */
    MEM_MAPPINGS,        /* live file mappings (region/) */
    MEM_OBJECTS,         /* live heap Lean objects (region/object.c) */
    MEM_REGIONS,         /* live open regions */
    MEM_KIND_COUNT
};

void    mem_count(enum mem_kind kind, int64_t delta);
int64_t mem_live(enum mem_kind kind);
/* Sum of all live counts: 0 means nothing leaked. */
int64_t mem_live_total(void);

/*
 * If ENVPOOL_CHECK_LEAKS=1 is set, register an exit hook that prints the live
 * counts to stderr and turns the exit status into 3 if anything remains.
 * Every main() calls this first. Idempotent.
 */
void mem_leak_check_at_exit(const char *progname);

#endif
