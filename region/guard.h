/*
 * region/guard.h — surviving files that shrink under a mapping.
 *
 * A mapped region whose file is truncated in place (not replaced by rename,
 * which keeps the old inode alive) loses pages: reading them raises SIGBUS.
 * region_guard_run runs a function with a per-thread recovery point; a SIGBUS
 * inside it returns REGION_ESTALE from region_guard_run instead of killing
 * the process. The daemon installs the handler once at start.
 *
 * Contract for fn: it may read regions and write to memory owned by its
 * caller (e.g. an ln_buf the caller releases), but must not own resources of
 * its own across a region read (no allocation it alone would free, no lock
 * held), since a fault abandons it mid-way. Guards nest per thread.
 */
#ifndef ENVPOOL_REGION_GUARD_H
#define ENVPOOL_REGION_GUARD_H

/* Installs the SIGBUS handler (idempotent; call from the main thread at start). */
int region_guard_install(void);

/* Runs fn(arg); returns its result, or REGION_ESTALE if a SIGBUS interrupted it. */
int region_guard_run(int (*fn)(void *arg), void *arg);

/* Reads the byte at addr under a guard: 0 if it is readable, REGION_ESTALE if
   that raised SIGBUS (its page is gone from the file). */
int region_guard_probe(const void *addr);

#endif
