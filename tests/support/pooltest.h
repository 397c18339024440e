/*
 * tests/support/pooltest.h — fixtures for the pool's tests and benchmark:
 * temporary directories, generated libraries, single modules with a chosen
 * import graph, and pools over them. Every helper aborts the run on failure
 * (a fixture that silently fails would make tests pass vacuously).
 */
#ifndef ENVPOOL_TESTS_POOLTEST_H
#define ENVPOOL_TESTS_POOLTEST_H

#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"

/* A new empty directory under $TMPDIR (or /tmp). New: free with tmpdir_remove. */
char *tmpdir_make(void);
/*
 * The same on a memory file system (/dev/shm) when $TMPDIR is not set: for
 * tests that replace files thousands of times (ext4 flushes data on every
 * rename over an existing file).
 */
char *tmpdir_make_mem(void);
/* Removes dir and everything under it, and frees the string. */
void  tmpdir_remove(char *dir);

/* pool_gen_write with these options (type size 3). */
void lib_gen(const char *dir, const char *prefix, uint32_t modules, uint32_t decls,
             uint32_t fan_in, uint32_t depth, uint64_t seed);

/*
 * One module (pool_gen_module): imports and consts are comma-separated dotted
 * names ("" or NULL for none).
 */
void lib_module(const char *dir, const char *name, const char *imports, const char *consts);

/* A pool whose single root is dir. */
pool *pool_make(const char *dir, size_t capacity, uint64_t max_bytes, enum pool_stale_check mode);

/* The same with pool_config.watch set (max_watches: 0 for the kernel's limit). */
pool *pool_make_watched(const char *dir, size_t capacity, enum pool_stale_check mode,
                        uint32_t max_watches);

/* Checks the two invariants of pool_stats and resident = idle + in_use; aborts if broken. */
void pool_check_invariants(const pool *p);

#endif
