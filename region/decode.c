/*
 * region/decode.c — a region's objects copied to the heap (see decode.h).
 *
 * One forward pass over the file: the writer emits children before parents,
 * and the reader has checked that every pointer targets the start of an
 * earlier object, so by the time an object is reached every object it points
 * to already has its heap copy. A table indexed by file offset / 8 maps each
 * object start to its copy; it holds one reference to each copy, dropped at
 * the end, so objects nothing points to are freed and the rest survive
 * through their parents and the root. No recursion anywhere.
 */
#include "region/decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "region/heap.h"
#include "util/mem.h"

typedef struct decoder {
    uint64_t      base;
    uint64_t      size;   /* bytes of part 0 */
    lx_word      *copy;   /* file offset / 8 -> heap copy (0: not an object start) */
    region_error *err;
} decoder;

static int dec_fail(decoder *d, int code, uint64_t off, const char *what)
{
    if (d->err) {
        d->err->code = code;
        d->err->offset = off;
        snprintf(d->err->reason, sizeof d->err->reason, "%s", what);
    }
    return code;
}

/* Heap copy of the object a word designates, with a new reference. */
static int map_word(decoder *d, lx_word w, uint64_t at, lx_word *out)
{
    if (lx_is_scalar(w)) {
        *out = w;
        return 0;
    }
    uint64_t off = w - d->base;
    if (off >= d->size || off % 8 || !d->copy[off / 8])
        return dec_fail(d, REGION_EUNSUPPORTED, at, "pointer outside part 0 (multi-part module)");
    *out = d->copy[off / 8];
    lx_ref(*out);
    return 0;
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Heap copy of the object o (word w, at file offset off). */
static int copy_object(decoder *d, const uint8_t *o, lx_word w, uint64_t off, size_t sz, lx_word *out)
{
    uint8_t tag = lx_tag(o);
    int rc;
    if (tag == LX_TAG_MPZ) {
        lx_mpz_view v = lx_mpz(o, w);
        if (v.digit_size == 8) {
            uint64_t *limbs = mem_try_array(v.ndigits ? v.ndigits : 1, 8);
            if (!limbs)
                return dec_fail(d, -ENOMEM, off, "out of memory");
            memcpy(limbs, v.digits, 8 * v.ndigits);
            rc = lx_mpz_try_new(v.negative, limbs, v.ndigits, out);
            mem_free(limbs);
        } else {
            uint32_t *digits = mem_try_array(v.ndigits ? v.ndigits : 1, 4);
            if (!digits)
                return dec_fail(d, -ENOMEM, off, "out of memory");
            memcpy(digits, v.digits, 4 * v.ndigits);
            rc = lx_mpz_native_try_new(o[8] != 0, digits, v.ndigits, o + 9, out);
            mem_free(digits);
            if (!rc)
                lx_heap_ptr(*out)[8] = o[8]; /* the sign byte as stored */
        }
        return rc ? dec_fail(d, rc, off, "out of memory") : 0;
    }
    if ((rc = lx_object_try_new_raw(tag, lx_other(o), sz, out)))
        return dec_fail(d, rc, off, "out of memory");
    uint8_t *p = lx_heap_ptr(*out);
    memcpy(p + 8, o + 8, sz - 8);

    size_t first, n;
    if (tag <= LX_MAX_CTOR_TAG) {
        first = 8;
        n = lx_ctor_num_objs(o);
    } else if (tag == LX_TAG_ARRAY) {
        first = LX_ARRAY_DATA_OFF;
        n = (size_t)lx_array_size(o);
    } else if (tag == LX_TAG_THUNK || tag == LX_TAG_TASK || tag == LX_TAG_REF || tag == LX_TAG_PROMISE) {
        first = 8;
        n = 1;
    } else {
        return 0; /* strings, scalar arrays: no pointers */
    }
    for (size_t i = 0; i < n; i++) {
        lx_word c;
        /* Until its slot is set, keep the copy releasable: box(0) is a no-op. */
        wr64(p + first + 8 * i, lx_box(0));
        if ((rc = map_word(d, lx_rd64(o + first + 8 * i), off + first + 8 * i, &c))) {
            for (size_t j = i + 1; j < n; j++)
                wr64(p + first + 8 * j, lx_box(0));
            lx_unref(*out);
            return rc;
        }
        wr64(p + first + 8 * i, c);
    }
    return 0;
}

int region_decode(const region *r, lx_word *root, uint64_t *nobjects, region_error *err)
{
    const region_info *info = region_get_info(r);
    lx_space sp = region_space(r);
    decoder d = {info->base, 0, NULL, err};
    uint64_t count = 0;
    int rc = 0;

    if (err) {
        err->code = 0;
        err->offset = UINT64_MAX;
        snprintf(err->path, sizeof err->path, "%s", region_path(r));
        err->reason[0] = 0;
    }
    /* Part 0 ends where the first object not in it would start: walk to the
     * end of the validated objects of part 0, whose size region_offset_of
     * bounds. */
    d.size = info->size;
    if (info->nparts > 1) {
        /* only part 0 is decoded; find its length by walking until an object
         * address leaves part 0 */
        d.size = 0;
        for (uint64_t off = info->header_size + 8;; ) {
            lx_word w = info->base + off;
            if (region_offset_of(r, w) != off)
                break;
            const uint8_t *o = lx_obj(&sp, w);
            off += (lx_object_byte_size(o, w) + 7) & ~(uint64_t)7;
            d.size = off;
        }
    }
    d.copy = mem_try_calloc((size_t)(d.size / 8) + 1, sizeof *d.copy);
    if (!d.copy)
        return dec_fail(&d, -ENOMEM, UINT64_MAX, "out of memory for the object table");

    for (uint64_t off = info->header_size + 8; off < d.size;) {
        lx_word w = d.base + off;
        const uint8_t *o = lx_obj(&sp, w);
        size_t sz = lx_object_byte_size(o, w);
        if ((rc = copy_object(&d, o, w, off, sz, &d.copy[off / 8])))
            goto out;
        count++;
        off += (sz + 7) & ~(size_t)7;
    }
    if ((rc = map_word(&d, region_root(r), info->header_size, root)))
        goto out;
    if (nobjects)
        *nobjects = count;
out:
    for (size_t i = 0; i < d.size / 8; i++)
        if (d.copy[i])
            lx_unref(d.copy[i]);
    mem_free(d.copy);
    return rc;
}
