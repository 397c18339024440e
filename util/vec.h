/*
 * util/vec.h — the one growable array of envpool.
 *
 * A vector is a struct with three fields, declared for its element type:
 *
 *     typedef VEC(lx_word) word_vec;
 *     word_vec st = {0};                       // empty, nothing allocated
 *     if (vec_push(&st, w)) return -ENOMEM;    // st.v[st.n - 1] == w
 *     ... st.v[i] for i < st.n ...
 *     vec_free(&st);
 *
 * Growth goes through mem_try_realloc and doubles the capacity, so pushing n
 * elements costs O(n); a failed growth returns -ENOMEM and leaves the vector
 * as it was (elements, count and capacity), so the caller can still release
 * what it holds: `p = realloc(p, n)` cannot happen here. Sizes overflowing
 * size_t fail the same way. Pointers into v are invalidated by any growth.
 * Storage is the caller's; not thread-safe.
 */
#ifndef ENVPOOL_UTIL_VEC_H
#define ENVPOOL_UTIL_VEC_H

#include <errno.h>
#include <stddef.h>

#include "util/mem.h"

#define VEC(T)             \
    struct {               \
        T     *v;          \
        size_t n, cap;     \
    }

/*
 * Makes room for `need` elements of `elem` bytes in the array whose pointer
 * is at *vp (a T **, passed as void * so any element type fits) and whose
 * capacity is *cap. 0 (also when there was room already), or -ENOMEM with
 * *vp and *cap untouched.
 */
__attribute__((warn_unused_result)) int vec__reserve(void *vp, size_t *cap, size_t need, size_t elem);

/* 0 or -ENOMEM: room for `need` elements in all (not `need` more). */
#define vec_reserve(a, need) vec__reserve(&(a)->v, &(a)->cap, (need), sizeof *(a)->v)

/* Appends one element (an expression of the element type; a compound literal
 * is fine): 0, or -ENOMEM with the vector unchanged. `a` is evaluated more
 * than once. */
#define vec_push(a, ...) \
    (vec_reserve((a), (a)->n + 1) ? -ENOMEM : ((a)->v[(a)->n++] = (__VA_ARGS__), 0))

/* The last element (n > 0), and removing it. */
#define vec_last(a) ((a)->v[(a)->n - 1])
#define vec_pop(a)  ((a)->v[--(a)->n])

/* Forgets the elements, keeps the memory. */
#define vec_clear(a) ((void)((a)->n = 0))

/* Releases the memory; the vector is empty and usable again. */
#define vec_free(a) (mem_free((a)->v), (a)->v = NULL, (a)->n = (a)->cap = 0)

#endif
