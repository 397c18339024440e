/*
 * tests/support/heaptest.h — heap object fixtures for the heap and
 * compactor tests.
 */
#ifndef ENVPOOL_TESTS_HEAPTEST_H
#define ENVPOOL_TESTS_HEAPTEST_H

#include "region/object.h"

/* A heap List of n cons cells (tag 1 [head, tail]) holding box(n-1) … box(0): NEW. */
lx_word heaptest_list(unsigned n);

#endif
