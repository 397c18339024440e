/*
 * region/heap.h — Lean objects on the heap, with reference counts.
 *
 * A heap object has exactly the layout of region/object.h (Lean's 8-byte
 * header, then the body), so the read accessors there work on it with
 * LX_HEAP_SPACE; its slots hold real pointers (or boxed scalars). What differs
 * from a region object is the header's m_rc: >= 1 on the heap, 0 in a region.
 *
 * Reference counting follows STYLE.md: a new object has count 1 and belongs to
 * the caller; lx_unref frees it when the count reaches 0 and releases its
 * children iteratively (no recursion, no allocation: a million-deep list is
 * freed in constant stack). Objects whose count is 0 (region objects, mapped
 * from a file) are never freed one by one: lx_ref and lx_unref on them, and on
 * boxed scalars, do nothing. Every live heap object is counted in
 * mem_count(MEM_OBJECTS).
 *
 * Counts are plain integers: a heap object graph belongs to one thread at a
 * time (build it, save it, release it); hand it to another thread only as a
 * whole.
 *
 * Constructors take their pointer arguments as STOLEN references; setters
 * release the value they replace. Objects sized by input (arrays, strings,
 * scalar arrays, big numbers) have _try_ allocators that return -ENOMEM; the
 * small fixed ones (constructors, thunks, ...) abort on exhaustion like
 * mem_alloc.
 */
#ifndef ENVPOOL_REGION_HEAP_H
#define ENVPOOL_REGION_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/object.h"

/* Readable pointer of a heap (or mapped-at-base) object word. */
static inline uint8_t *lx_heap_ptr(lx_word w) { return (uint8_t *)(uintptr_t)w; }

/*
 * Byte size of an object, header included, before rounding up to 8 (the same
 * formula for heap and region objects): ctor m_cs_sz, array 24+8n, scalar
 * array 24+elem*n, string 32+size, MPZ 24+8*limbs (GMP) or 32+4*digits
 * (native), thunk/task 24, ref/promise 16. w is the object's word in its
 * own space (used to recognise the MPZ layout). Closures and externals: 0.
 */
size_t lx_object_byte_size(const uint8_t *o, lx_word w);

/*
 * New constructor object (count 1): tag 0..243, num_objs pointer fields
 * (initialised to box(0)), scalar_size bytes of zeroed scalar area. The total
 * 8 + 8*num_objs + scalar_size is rounded up to 8 and must stay below 65536
 * (asserted: callers pass schema constants). Aborts on exhaustion.
 */
lx_word lx_ctor_new(unsigned tag, unsigned num_objs, size_t scalar_size);
/* Sets pointer field i (< num_objs) to v (STOLEN); releases the old value. */
void    lx_ctor_set(lx_word o, unsigned i, lx_word v);
/* Writable scalar area (after the pointer fields) of a heap constructor. */
uint8_t *lx_ctor_scalars_mut(lx_word o);

/* New array of n elements, all box(0), capacity n. 0 or -ENOMEM. */
__attribute__((warn_unused_result))
int     lx_array_try_new(size_t n, lx_word *out);
/* Sets element i (< size) to v (STOLEN); releases the old value. */
void    lx_array_set(lx_word a, size_t i, lx_word v);

/* New scalar array: elem_size 1..255 bytes, n elements copied from data (may
 * be NULL for zeroes). 0 or -ENOMEM. */
__attribute__((warn_unused_result))
int     lx_sarray_try_new(unsigned elem_size, size_t n, const void *data, lx_word *out);

/* New string holding len bytes of s (BORROWED; not necessarily NUL free, a
 * NUL is appended); m_length counts the UTF-8 lead bytes. 0 or -ENOMEM. */
__attribute__((warn_unused_result))
int     lx_string_try_new(const char *s, size_t len, lx_word *out);

/* The same for a string the caller knows to be small (a name component);
 * aborts on exhaustion, like lx_ctor_new. */
lx_word lx_string_new(const char *s, size_t len);

/* New big number, GMP layout: nlimbs 64-bit limbs (least significant first,
 * BORROWED), sign separately. 0, -ENOMEM, or -EOVERFLOW above 2^31 limbs. */
__attribute__((warn_unused_result))
int     lx_mpz_try_new(bool negative, const uint64_t *limbs, size_t nlimbs, lx_word *out);
/* The same in Lean's native (non-GMP) layout, 32-bit digits. The 7 bytes
 * after the sign byte are taken from pad7 (BORROWED, may be NULL for zero),
 * so that re-saving a file keeps them. */
__attribute__((warn_unused_result))
int     lx_mpz_native_try_new(bool negative, const uint32_t *digits, size_t ndigits,
                              const uint8_t *pad7, lx_word *out);

/* Thunk (value computed, closure 0), Task (m_imp 0), Ref, Promise: v STOLEN. */
lx_word lx_thunk_new(lx_word v);
lx_word lx_task_new(lx_word v);
lx_word lx_ref_new(lx_word v);
lx_word lx_promise_new(lx_word task);
/* The value slot of a thunk, task, ref or promise (+8). */
static inline lx_word lx_boxed_value(const uint8_t *o) { return lx_rd64(o + 8); }

/*
 * New heap object of an arbitrary kind, size bytes (>= 8, rounded up to 8),
 * zeroed except for the header (count 1, tag, other, m_cs_sz = size if below
 * 65536 else 1). Only for code that fills in a body of a known layout itself
 * (the region decoder, tests that need a closure or external object). Such an
 * object's children are released by lx_unref according to its tag; closures
 * and externals are released without looking at their body. 0 or -ENOMEM.
 */
__attribute__((warn_unused_result))
int     lx_object_try_new_raw(uint8_t tag, uint8_t other, size_t size, lx_word *out);

/* Reference counting (no-ops on boxed scalars and on count-0 objects). */
void    lx_ref(lx_word o);
void    lx_unref(lx_word o);
/* Count of a heap object (0 for region objects); for tests. */
static inline int32_t lx_refcount(lx_word o) { return lx_is_scalar(o) ? 0 : lx_rc(lx_heap_ptr(o)); }

#endif
