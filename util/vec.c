/*
 * util/vec.c — growth of the vectors of vec.h.
 */
#include "util/vec.h"

#include <stdint.h>
#include <string.h>

int vec__reserve(void *vp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -ENOMEM;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return -ENOMEM;
    /* The pointer is read and written as bytes: vp is the address of some T *,
     * which has the representation of a void * on every target we build for. */
    void *p;
    memcpy(&p, vp, sizeof p);
    void *q = mem_try_realloc(p, c * elem);
    if (!q)
        return -ENOMEM;
    memcpy(vp, &q, sizeof q);
    *cap = c;
    return 0;
}
