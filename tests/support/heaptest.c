/*
 * tests/support/heaptest.c — heap object fixtures (see heaptest.h).
 */
#include "tests/support/heaptest.h"

#include "region/heap.h"

lx_word heaptest_list(unsigned n)
{
    lx_word list = lx_box(0);
    for (unsigned i = 0; i < n; i++) {
        lx_word cell = lx_ctor_new(1, 2, 0);
        lx_ctor_set(cell, 0, lx_box(i));
        lx_ctor_set(cell, 1, list);
        list = cell;
    }
    return list;
}
