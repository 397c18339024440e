/*
 * region/heap.c — reference-counted Lean objects on the heap (see heap.h).
 *
 * Objects are mem_try_calloc'ed blocks laid out exactly as Lean lays them out
 * (region/object.h), with m_rc >= 1. Freeing is Lean's own scheme
 * (lean_del_core in src/runtime/object.cpp): when an object dies, each child
 * whose count drops to 0 is pushed on an intrusive stack threaded through
 * the dead objects' headers — the link goes in bytes 0..5 (m_rc and m_cs_sz,
 * no longer needed), bytes 6..7 keep m_other and m_tag, which is all the body
 * walk needs. So releasing a graph of any depth takes no stack and no memory;
 * it relies on user-space addresses fitting in 48 bits, checked on each push.
 */
#include "region/heap.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/mem.h"

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

static uint8_t *hdr_init(uint8_t *p, uint8_t tag, uint8_t other, size_t size)
{
    lx_header h = {1, (uint16_t)(size < 65536 ? size : 1), other, tag};
    memcpy(p, &h, sizeof h);
    mem_count(MEM_OBJECTS, 1);
    return p;
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

size_t lx_object_byte_size(const uint8_t *o, lx_word w)
{
    uint8_t tag = lx_tag(o);
    if (tag <= LX_MAX_CTOR_TAG)
        return lx_cs_sz(o);
    switch (tag) {
    case LX_TAG_ARRAY:   return LX_ARRAY_DATA_OFF + 8 * (size_t)lx_array_size(o);
    case LX_TAG_SARRAY:  return 24 + (size_t)lx_other(o) * (size_t)lx_rd64(o + 8);
    case LX_TAG_STRING:  return LX_STRING_DATA_OFF + (size_t)lx_string_size(o);
    case LX_TAG_MPZ: {
        lx_mpz_view v = lx_mpz(o, w);
        return (v.digit_size == 8 ? 24 : 32) + v.digit_size * v.ndigits;
    }
    case LX_TAG_THUNK:
    case LX_TAG_TASK:    return 24;
    case LX_TAG_REF:
    case LX_TAG_PROMISE: return 16;
    default:             return 0;
    }
}

int lx_object_try_new_raw(uint8_t tag, uint8_t other, size_t size, lx_word *out)
{
    if (size < 8 || size > SIZE_MAX - 8)
        return -ENOMEM;
    uint8_t *p = mem_try_calloc(1, round8(size));
    if (!p)
        return -ENOMEM;
    *out = (lx_word)(uintptr_t)hdr_init(p, tag, other, size);
    return 0;
}

/* Objects whose size the code chose (constructors, thunks...): the aborting
 * allocator, as for any small control structure (util/mem.h). */
static lx_word new_or_abort(uint8_t tag, uint8_t other, size_t size)
{
    uint8_t *p = mem_calloc(1, round8(size));
    return (lx_word)(uintptr_t)hdr_init(p, tag, other, size);
}

lx_word lx_string_new(const char *s, size_t len)
{
    lx_word w;
    ENVPOOL_INVARIANT(len <= SIZE_MAX - 64, "a name component of %zu bytes", len);
    w = new_or_abort(LX_TAG_STRING, 0, LX_STRING_DATA_OFF + len + 1);
    uint8_t *p = lx_heap_ptr(w);
    uint64_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((uint8_t)s[i] & 0xC0) != 0x80;
    wr64(p + LX_STRING_SIZE_OFF, len + 1);
    wr64(p + LX_STRING_CAP_OFF, len + 1);
    wr64(p + LX_STRING_LEN_OFF, chars);
    if (len)
        memcpy(p + LX_STRING_DATA_OFF, s, len);
    return w;
}

lx_word lx_ctor_new(unsigned tag, unsigned num_objs, size_t scalar_size)
{
    assert(tag <= LX_MAX_CTOR_TAG && num_objs <= 255 && scalar_size < 65536);
    size_t size = round8(8 + 8 * (size_t)num_objs + scalar_size);
    assert(size < 65536);
    lx_word w = new_or_abort((uint8_t)tag, (uint8_t)num_objs, size);
    uint8_t *p = lx_heap_ptr(w);
    for (unsigned i = 0; i < num_objs; i++)
        wr64(p + 8 + 8 * (size_t)i, lx_box(0));
    return w;
}

void lx_ctor_set(lx_word o, unsigned i, lx_word v)
{
    uint8_t *p = lx_heap_ptr(o);
    assert(lx_is_ctor(p) && i < lx_ctor_num_objs(p));
    lx_word old = lx_ctor_get(p, i);
    wr64(p + 8 + 8 * (size_t)i, v);
    lx_unref(old);
}

uint8_t *lx_ctor_scalars_mut(lx_word o)
{
    uint8_t *p = lx_heap_ptr(o);
    return p + 8 + 8 * (size_t)lx_ctor_num_objs(p);
}

int lx_array_try_new(size_t n, lx_word *out)
{
    if (n > (SIZE_MAX - 64) / 8)
        return -ENOMEM;
    size_t size = LX_ARRAY_DATA_OFF + 8 * n;
    int rc = lx_object_try_new_raw(LX_TAG_ARRAY, 0, size, out);
    if (rc)
        return rc;
    uint8_t *p = lx_heap_ptr(*out);
    wr64(p + LX_ARRAY_SIZE_OFF, n);
    wr64(p + LX_ARRAY_CAP_OFF, n);
    for (size_t i = 0; i < n; i++)
        wr64(p + LX_ARRAY_DATA_OFF + 8 * i, lx_box(0));
    return 0;
}

void lx_array_set(lx_word a, size_t i, lx_word v)
{
    uint8_t *p = lx_heap_ptr(a);
    assert(lx_tag(p) == LX_TAG_ARRAY && i < lx_array_size(p));
    lx_word old = lx_array_get(p, i);
    wr64(p + LX_ARRAY_DATA_OFF + 8 * i, v);
    lx_unref(old);
}

int lx_sarray_try_new(unsigned elem_size, size_t n, const void *data, lx_word *out)
{
    assert(elem_size >= 1 && elem_size <= 255);
    if (n > (SIZE_MAX - 64) / elem_size)
        return -ENOMEM;
    int rc = lx_object_try_new_raw(LX_TAG_SARRAY, (uint8_t)elem_size, 24 + elem_size * n, out);
    if (rc)
        return rc;
    uint8_t *p = lx_heap_ptr(*out);
    wr64(p + 8, n);
    wr64(p + 16, n);
    if (data && n)
        memcpy(p + 24, data, elem_size * n);
    return 0;
}

int lx_string_try_new(const char *s, size_t len, lx_word *out)
{
    if (len > SIZE_MAX - 64)
        return -ENOMEM;
    int rc = lx_object_try_new_raw(LX_TAG_STRING, 0, LX_STRING_DATA_OFF + len + 1, out);
    if (rc)
        return rc;
    uint8_t *p = lx_heap_ptr(*out);
    uint64_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((uint8_t)s[i] & 0xC0) != 0x80;
    wr64(p + LX_STRING_SIZE_OFF, len + 1);
    wr64(p + LX_STRING_CAP_OFF, len + 1);
    wr64(p + LX_STRING_LEN_OFF, chars);
    if (len)
        memcpy(p + LX_STRING_DATA_OFF, s, len);
    return 0;
}

int lx_mpz_try_new(bool negative, const uint64_t *limbs, size_t nlimbs, lx_word *out)
{
    if (nlimbs > INT32_MAX)
        return -EOVERFLOW;
    int rc = lx_object_try_new_raw(LX_TAG_MPZ, 0, 24 + 8 * nlimbs, out);
    if (rc)
        return rc;
    uint8_t *p = lx_heap_ptr(*out);
    int32_t size = negative ? -(int32_t)nlimbs : (int32_t)nlimbs;
    wr32(p + 8, (uint32_t)nlimbs);
    wr32(p + 12, (uint32_t)size);
    wr64(p + 16, *out + 24);
    if (nlimbs)
        memcpy(p + 24, limbs, 8 * nlimbs);
    return 0;
}

int lx_mpz_native_try_new(bool negative, const uint32_t *digits, size_t ndigits,
                          const uint8_t *pad7, lx_word *out)
{
    if (ndigits > (SIZE_MAX - 64) / 4)
        return -ENOMEM;
    int rc = lx_object_try_new_raw(LX_TAG_MPZ, 0, 32 + 4 * ndigits, out);
    if (rc)
        return rc;
    uint8_t *p = lx_heap_ptr(*out);
    p[8] = negative ? 1 : 0;
    if (pad7)
        memcpy(p + 9, pad7, 7);
    wr64(p + 16, ndigits);
    wr64(p + 24, *out + 32);
    if (ndigits)
        memcpy(p + 32, digits, 4 * ndigits);
    return 0;
}

static lx_word boxed_new(uint8_t tag, size_t size, lx_word v)
{
    lx_word w = new_or_abort(tag, 0, size);
    wr64(lx_heap_ptr(w) + 8, v);
    return w;
}

lx_word lx_thunk_new(lx_word v)      { return boxed_new(LX_TAG_THUNK, 24, v); }
lx_word lx_task_new(lx_word v)       { return boxed_new(LX_TAG_TASK, 24, v); }
lx_word lx_ref_new(lx_word v)        { return boxed_new(LX_TAG_REF, 16, v); }
lx_word lx_promise_new(lx_word task) { return boxed_new(LX_TAG_PROMISE, 16, task); }

void lx_ref(lx_word o)
{
    if (lx_is_scalar(o))
        return;
    uint8_t *p = lx_heap_ptr(o);
    int32_t rc = lx_rc(p);
    if (rc == 0)
        return;
    rc++;
    wr32(p, (uint32_t)rc);
}

/* Intrusive stack of dead objects: link in header bytes 0..5. */
static void push_dead(uint8_t **dead, uint8_t *p)
{
    uintptr_t next = (uintptr_t)*dead;
    ENVPOOL_INVARIANT(!((uintptr_t)p >> 48 || next >> 48), "heap address %p does not fit in 48 bits", (void *)p);
    uint64_t hdr = (uint64_t)next | ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
    memcpy(p, &hdr, 8);
    *dead = p;
}

static uint8_t *next_dead(const uint8_t *p)
{
    return (uint8_t *)(uintptr_t)(lx_rd64(p) & 0xFFFFFFFFFFFFull);
}

/* Drops one reference of child w; pushes it on dead if it died. */
static void dec_child(uint8_t **dead, lx_word w)
{
    if (lx_is_scalar(w))
        return;
    uint8_t *c = lx_heap_ptr(w);
    int32_t rc = lx_rc(c);
    if (rc == 0)
        return;
    if (rc == 1)
        push_dead(dead, c);
    else
        wr32(c, (uint32_t)(rc - 1));
}

static void release_body(uint8_t **dead, uint8_t *p)
{
    uint8_t tag = p[7];
    if (tag <= LX_MAX_CTOR_TAG) {
        for (unsigned i = 0, n = p[6]; i < n; i++)
            dec_child(dead, lx_ctor_get(p, i));
        return;
    }
    switch (tag) {
    case LX_TAG_ARRAY: {
        uint64_t n = lx_array_size(p);
        for (uint64_t i = 0; i < n; i++)
            dec_child(dead, lx_array_get(p, i));
        break;
    }
    case LX_TAG_THUNK:
    case LX_TAG_TASK:
    case LX_TAG_REF:
    case LX_TAG_PROMISE:
        dec_child(dead, lx_rd64(p + 8));
        break;
    default: /* scalar arrays, strings, big numbers; closures/externals are leaves here */
        break;
    }
}

void lx_unref(lx_word o)
{
    if (lx_is_scalar(o))
        return;
    uint8_t *dead = NULL;
    dec_child(&dead, o);
    while (dead) {
        uint8_t *p = dead;
        dead = next_dead(p);
        release_body(&dead, p);
        mem_count(MEM_OBJECTS, -1);
        mem_free(p);
    }
}
