/*
 * region/object.h — Lean 4's object layout, shared by the reader, heap objects
 * and the compactor.
 *
 * A slot word (lx_word) is either a boxed scalar (bit 0 set, value word >> 1)
 * or the address of an object. In a mapped region the address is the one the
 * file was written for (base-relative); in the heap it is a real pointer. An
 * lx_space turns a word into a readable pointer by adding a delta: 0 for heap
 * objects and for regions mapped at their base address, (map - base) otherwise.
 *
 * Object header (8 bytes, little-endian):
 *
 *   OFFSET SIZE MEANING
 *   0      4    m_rc: 0 in a region ("persistent"), >= 1 on the heap
 *   4      2    m_cs_sz: byte size of small objects; 1 for Array/ScalarArray/String
 *   6      1    m_other: ctor: number of pointer fields; ScalarArray: element size
 *   7      1    m_tag: 0..243 ctor index, else LX_TAG_*
 *
 * The accessors below do no checking: they are for objects whose shape has been
 * validated (region_open validates every object of a file before any use; heap
 * objects are built by us). Schema code (lean/) must still check tag, pointer
 * count and size before interpreting a constructor: a valid object can be of
 * the wrong kind in a hostile file.
 */
#ifndef ENVPOOL_REGION_OBJECT_H
#define ENVPOOL_REGION_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t lx_word;

enum {
    LX_MAX_CTOR_TAG  = 243,
    LX_TAG_PROMISE   = 244,
    LX_TAG_CLOSURE   = 245,
    LX_TAG_ARRAY     = 246,
    LX_TAG_STRUCT_ARRAY = 247,
    LX_TAG_SARRAY    = 248,
    LX_TAG_STRING    = 249,
    LX_TAG_MPZ       = 250,
    LX_TAG_THUNK     = 251,
    LX_TAG_TASK      = 252,
    LX_TAG_REF       = 253,
    LX_TAG_EXTERNAL  = 254,
    LX_TAG_RESERVED  = 255,
};

typedef struct lx_header {
    int32_t  rc;
    uint16_t cs_sz;
    uint8_t  other;
    uint8_t  tag;
} lx_header;
_Static_assert(sizeof(lx_header) == 8, "Lean object header is 8 bytes");

/* Fixed offsets of the big objects (section 2 of lean-olean-format.md). */
enum {
    LX_ARRAY_SIZE_OFF  = 8,  LX_ARRAY_CAP_OFF  = 16, LX_ARRAY_DATA_OFF  = 24,
    LX_STRING_SIZE_OFF = 8,  LX_STRING_CAP_OFF = 16, LX_STRING_LEN_OFF  = 24,
    LX_STRING_DATA_OFF = 32,
};

/* How to read the objects of one space (a region or the heap). */
typedef struct lx_space {
    uintptr_t delta; /* readable address = word + delta (mod 2^64) */
} lx_space;

static const lx_space LX_HEAP_SPACE = {0};

static inline bool     lx_is_scalar(lx_word w) { return (w & 1) != 0; }
static inline uint64_t lx_unbox(lx_word w)     { return w >> 1; }
static inline lx_word  lx_box(uint64_t v)      { return (v << 1) | 1; }

/* Readable pointer to the object a (non-scalar) word designates. */
static inline const uint8_t *lx_obj(const lx_space *s, lx_word w)
{
    return (const uint8_t *)(uintptr_t)(w + s->delta);
}

static inline uint64_t lx_rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t lx_rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t lx_rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static inline uint8_t  lx_tag(const uint8_t *o)      { return o[7]; }
static inline uint8_t  lx_other(const uint8_t *o)    { return o[6]; }
static inline uint16_t lx_cs_sz(const uint8_t *o)    { return lx_rd16(o + 4); }
static inline int32_t  lx_rc(const uint8_t *o)       { return (int32_t)lx_rd32(o); }
static inline bool     lx_is_ctor(const uint8_t *o)  { return o[7] <= LX_MAX_CTOR_TAG; }

/* Constructor objects. */
static inline unsigned lx_ctor_num_objs(const uint8_t *o) { return o[6]; }
static inline lx_word  lx_ctor_get(const uint8_t *o, unsigned i) { return lx_rd64(o + 8 + 8 * (size_t)i); }
/* Bytes of scalar area (including padding) after the pointer fields. */
static inline size_t   lx_ctor_scalar_size(const uint8_t *o)
{
    size_t sz = lx_cs_sz(o), ptrs = 8 + 8 * (size_t)lx_ctor_num_objs(o);
    return sz > ptrs ? sz - ptrs : 0;
}
/* Scalar area starts after the pointer fields; off is relative to it. */
static inline const uint8_t *lx_ctor_scalars(const uint8_t *o) { return o + 8 + 8 * (size_t)lx_ctor_num_objs(o); }

/* Arrays. */
static inline uint64_t lx_array_size(const uint8_t *o)      { return lx_rd64(o + LX_ARRAY_SIZE_OFF); }
static inline lx_word  lx_array_get(const uint8_t *o, uint64_t i) { return lx_rd64(o + LX_ARRAY_DATA_OFF + 8 * i); }

/* Strings: size counts the terminating NUL. */
static inline uint64_t    lx_string_size(const uint8_t *o)   { return lx_rd64(o + LX_STRING_SIZE_OFF); }
static inline uint64_t    lx_string_length(const uint8_t *o) { return lx_rd64(o + LX_STRING_LEN_OFF); }
static inline const char *lx_string_data(const uint8_t *o)   { return (const char *)(o + LX_STRING_DATA_OFF); }
/* Byte length without the NUL. */
static inline uint64_t    lx_string_len(const uint8_t *o)    { return lx_string_size(o) - 1; }

/*
 * Big numbers (tag 250), two layouts (lean-olean-format.md 2.6):
 *   GMP:    +8 i32 alloc, +12 i32 size (signed limb count), +16 u64 d = word + 24,
 *           +24 limbs (u64, least significant first)
 *   native: +8 u8 sign (1 = negative), +16 u64 size (digits), +24 u64 digits = word + 32,
 *           +32 digits (u32, least significant first)
 * The layout of an object is recognised by its self-pointer, so it works for
 * v0/v1 files (no flag) and heap objects alike. The reader guarantees that every
 * MPZ in a validated region is one or the other, with its digits in bounds.
 */
typedef struct lx_mpz_view {
    bool           negative;
    unsigned       digit_size; /* 8 (GMP limbs) or 4 (native digits) */
    size_t         ndigits;
    const uint8_t *digits;     /* little-endian digits, least significant first */
} lx_mpz_view;

static inline bool lx_mpz_is_gmp(const uint8_t *o, lx_word w) { return lx_rd64(o + 16) == w + 24; }

static inline lx_mpz_view lx_mpz(const uint8_t *o, lx_word w)
{
    lx_mpz_view v;
    if (lx_mpz_is_gmp(o, w)) {
        int32_t size = (int32_t)lx_rd32(o + 12);
        v.negative = size < 0;
        v.digit_size = 8;
        v.ndigits = size < 0 ? (size_t)(-(int64_t)size) : (size_t)size;
        v.digits = o + 24;
    } else {
        v.negative = o[8] != 0;
        v.digit_size = 4;
        v.ndigits = (size_t)lx_rd64(o + 16);
        v.digits = o + 32;
    }
    return v;
}

#endif
