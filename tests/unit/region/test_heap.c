/*
 * tests/unit/region/test_heap.c — heap objects: layout through object.h's
 * accessors, reference counts, iterative release of deep graphs, region
 * objects (count 0) left alone, and the live-object count.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "region/heap.h"
#include "tests/support/heaptest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static const uint8_t *P(lx_word w) { return lx_obj(&LX_HEAP_SPACE, w); }

static void test_ctor_layout_and_counts(void **state)
{
    (void)state;
    lx_word s;
    assert_int_equal(lx_string_try_new("A", 1, &s), 0);
    lx_word n = lx_ctor_new(1, 2, 8); /* Name.str: prefix, string, u64 hash */
    assert_int_equal(mem_live(MEM_OBJECTS), 2);
    lx_ctor_set(n, 1, s);
    uint64_t h = 0x1234;
    memcpy(lx_ctor_scalars_mut(n), &h, 8);

    const uint8_t *o = P(n);
    assert_int_equal(lx_rc(o), 1);
    assert_int_equal(lx_tag(o), 1);
    assert_int_equal(lx_ctor_num_objs(o), 2);
    assert_int_equal(lx_cs_sz(o), 32);
    assert_int_equal(lx_ctor_scalar_size(o), 8);
    assert_true(lx_ctor_get(o, 0) == lx_box(0));
    assert_true(lx_ctor_get(o, 1) == s);
    assert_int_equal(lx_rd64(lx_ctor_scalars(o)), 0x1234);
    assert_int_equal(lx_object_byte_size(o, n), 32);

    /* Odd scalar sizes round up; the padding is zero. */
    lx_word lam = lx_ctor_new(6, 3, 9);
    assert_int_equal(lx_cs_sz(P(lam)), 48);
    assert_int_equal(P(lam)[47], 0);

    lx_ref(n);
    assert_int_equal(lx_refcount(n), 2);
    lx_unref(n);
    assert_int_equal(lx_refcount(n), 1);
    lx_unref(n);
    lx_unref(lam);
    assert_int_equal(mem_live(MEM_OBJECTS), 0);
    assert_int_equal(mem_live_total(), 0);
}

static void test_big_objects(void **state)
{
    (void)state;
    lx_word str, arr, sa, z, zn;
    const char text[] = "λx\0y"; /* 2-byte char, interior NUL */
    assert_int_equal(lx_string_try_new(text, sizeof text - 1, &str), 0);
    const uint8_t *o = P(str);
    assert_int_equal(lx_tag(o), LX_TAG_STRING);
    assert_int_equal(lx_string_size(o), sizeof text);
    assert_int_equal(lx_string_len(o), sizeof text - 1);
    assert_int_equal(lx_string_length(o), 4); /* λ, x, NUL, y */
    assert_memory_equal(lx_string_data(o), text, sizeof text);

    assert_int_equal(lx_array_try_new(3, &arr), 0);
    lx_array_set(arr, 1, str);
    lx_array_set(arr, 2, lx_box(7));
    o = P(arr);
    assert_int_equal(lx_array_size(o), 3);
    assert_int_equal(lx_rd64(o + LX_ARRAY_CAP_OFF), 3);
    assert_true(lx_array_get(o, 0) == lx_box(0));
    assert_true(lx_array_get(o, 1) == str);
    assert_int_equal(lx_object_byte_size(o, arr), 24 + 24);

    const uint8_t bytes[5] = {1, 2, 3, 4, 5};
    assert_int_equal(lx_sarray_try_new(1, 5, bytes, &sa), 0);
    o = P(sa);
    assert_int_equal(lx_tag(o), LX_TAG_SARRAY);
    assert_int_equal(lx_other(o), 1);
    assert_memory_equal(o + 24, bytes, 5);
    assert_int_equal(lx_object_byte_size(o, sa), 29);

    const uint64_t limbs[2] = {0x123456789abcdef0ull, 0x2f};
    assert_int_equal(lx_mpz_try_new(true, limbs, 2, &z), 0);
    lx_mpz_view v = lx_mpz(P(z), z);
    assert_true(v.negative);
    assert_int_equal(v.digit_size, 8);
    assert_int_equal(v.ndigits, 2);
    assert_memory_equal(v.digits, limbs, 16);
    assert_int_equal(lx_object_byte_size(P(z), z), 40);

    const uint32_t digits[3] = {1, 2, 3};
    assert_int_equal(lx_mpz_native_try_new(false, digits, 3, NULL, &zn), 0);
    v = lx_mpz(P(zn), zn);
    assert_false(v.negative);
    assert_int_equal(v.digit_size, 4);
    assert_int_equal(v.ndigits, 3);
    assert_int_equal(lx_object_byte_size(P(zn), zn), 44);

    /* Boxed-value kinds own their value. */
    lx_word t = lx_thunk_new(arr), task = lx_task_new(sa), ref = lx_ref_new(z);
    lx_word prom = lx_promise_new(lx_task_new(zn));
    assert_true(lx_boxed_value(P(t)) == arr);
    assert_int_equal(lx_object_byte_size(P(t), t), 24);
    assert_int_equal(lx_object_byte_size(P(ref), ref), 16);
    assert_int_equal(lx_rd64(P(t) + 16), 0); /* no closure */
    assert_int_equal(mem_live(MEM_OBJECTS), 10);
    lx_unref(t);
    lx_unref(task);
    lx_unref(ref);
    lx_unref(prom);
    assert_int_equal(mem_live_total(), 0);
}

static void test_shared_children_freed_once(void **state)
{
    (void)state;
    lx_word leaf;
    assert_int_equal(lx_string_try_new("shared", 6, &leaf), 0);
    lx_word a = lx_ctor_new(0, 2, 0), b = lx_ctor_new(0, 1, 0);
    lx_ref(leaf);
    lx_ref(leaf);
    lx_ctor_set(a, 0, leaf);
    lx_ctor_set(a, 1, leaf);
    lx_ctor_set(b, 0, leaf); /* leaf: 3 references, from a (twice) and b */
    assert_int_equal(lx_refcount(leaf), 3);
    lx_unref(a);
    assert_int_equal(lx_refcount(leaf), 1);
    assert_int_equal(mem_live(MEM_OBJECTS), 2);
    lx_ctor_set(b, 0, lx_box(3)); /* replacing a field releases the old value */
    assert_int_equal(mem_live(MEM_OBJECTS), 1);
    lx_unref(b);
    assert_int_equal(mem_live_total(), 0);
}

/* A list of a million cells, and a million-deep chain through every kind
 * that has a child: releasing either must not recurse. */
static void test_million_deep_release(void **state)
{
    (void)state;
    lx_word list = heaptest_list(1000000);
    assert_int_equal(mem_live(MEM_OBJECTS), 1000000);
    lx_unref(list);
    assert_int_equal(mem_live(MEM_OBJECTS), 0);

    lx_word chain = lx_box(0);
    for (unsigned i = 0; i < 1000000; i++) {
        lx_word a;
        switch (i % 4) {
        case 0: assert_int_equal(lx_array_try_new(1, &a), 0); lx_array_set(a, 0, chain); break;
        case 1: a = lx_thunk_new(chain); break;
        case 2: a = lx_ref_new(chain); break;
        default: a = lx_ctor_new(0, 1, 0); lx_ctor_set(a, 0, chain); break;
        }
        chain = a;
    }
    lx_unref(chain);
    assert_int_equal(mem_live_total(), 0);
}

/* Objects with count 0 (as mapped from a file) are never touched. */
static void test_region_objects_untouched(void **state)
{
    (void)state;
    _Alignas(8) uint8_t region_obj[32] = {0};
    lx_header h = {0, 32, 2, 1};
    memcpy(region_obj, &h, 8);
    uint64_t box0 = lx_box(0);
    memcpy(region_obj + 8, &box0, 8);
    memcpy(region_obj + 16, &box0, 8);
    lx_word r = (lx_word)(uintptr_t)region_obj;
    uint8_t before[32];
    memcpy(before, region_obj, 32);

    lx_ref(r);
    lx_unref(r);
    lx_unref(r);
    assert_memory_equal(region_obj, before, 32);

    lx_word parent = lx_ctor_new(0, 1, 0);
    lx_ctor_set(parent, 0, r);
    lx_unref(parent);
    assert_memory_equal(region_obj, before, 32);
    assert_int_equal(lx_refcount(r), 0);

    lx_ref(lx_box(5)); /* scalars too */
    lx_unref(lx_box(5));
    assert_int_equal(mem_live_total(), 0);
}

static void test_raw_objects(void **state)
{
    (void)state;
    lx_word c;
    assert_int_equal(lx_object_try_new_raw(LX_TAG_CLOSURE, 0, 24, &c), 0);
    assert_int_equal(lx_tag(P(c)), LX_TAG_CLOSURE);
    assert_int_equal(lx_object_byte_size(P(c), c), 0);
    lx_unref(c); /* released as a leaf */
    assert_int_equal(lx_object_try_new_raw(0, 0, 4, &c), -ENOMEM);
    lx_word big;
    assert_int_equal(lx_array_try_new(SIZE_MAX / 4, &big), -ENOMEM);
    assert_int_equal(lx_string_try_new("x", SIZE_MAX - 8, &big), -ENOMEM);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_heap",
          cmocka_unit_test(test_ctor_layout_and_counts),
          cmocka_unit_test(test_big_objects),
          cmocka_unit_test(test_shared_children_freed_once),
          cmocka_unit_test(test_million_deep_release),
          cmocka_unit_test(test_region_objects_untouched),
          cmocka_unit_test(test_raw_objects))
