/*
 * region/reader.c — maps compacted region files and validates every object
 * before anyone reads them.
 *
 * File headers (little-endian; lean-olean-format.md §1):
 *
 *   v0  OFFSET SIZE MEANING             v1  OFFSET SIZE MEANING
 *       0      16   "oleanfile!!!!!!!"      0      5    "olean"
 *       16     8    base address            5      1    version = 1
 *       24     8    root pointer            6      42   githash, NUL padded
 *       32     ...  objects                 48     8    base address
 *                                           56     8    root pointer
 *   v2  OFFSET SIZE MEANING                 64     ...  objects
 *       0      5    "olean"
 *       5      1    version = 2
 *       6      1    flags (bit 0: GMP big numbers; bits 1-7 reserved, 0)
 *       7      33   Lean version, NUL padded, maybe unterminated
 *       40     40   githash, NUL padded
 *       80     8    base address
 *       88     8    root pointer
 *       96     ...  objects
 *
 * A pointer word w (bit 0 clear) means file offset w - base. Objects follow
 * each other with 8-byte padding and no gaps; the walk ends exactly at EOF.
 *
 * Validation is one linear pass per part. Each object is checked against the
 * bytes that remain (header, tag, size fields before any multiplication), every
 * pointer field must target the start of an object already seen — in this part
 * at a lower offset, or in an earlier part — which rules out cycles, forward
 * references and pointers into the middle of objects. Object starts are kept in
 * a bitmap (one bit per 8 bytes) that lives only during validation.
 *
 * Multi-part modules (.olean, .olean.server, .olean.private) share one address
 * space: part k's header names its own base, and parts are mapped into one
 * contiguous reservation so that a single delta translates every pointer.
 */
#include "region/region.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region/guard.h"
#include "util/mem.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "envpool reads .olean files in place and needs a little-endian machine");
_Static_assert(sizeof(void *) == 8, "envpool needs a 64-bit machine");

#define REGION_MAX_PARTS 3
#define PART_ALIGN 65536u

static const char *const part_suffixes[REGION_MAX_PARTS] = {"", ".server", ".private"};

struct region_part {
    const uint8_t *data;      /* readable address of the part's byte 0 */
    uint64_t       size;
    uint64_t       base;      /* base address from the part's header */
    unsigned       hsize;     /* header size (root slot at hsize) */
    uint64_t      *starts;    /* validation bitmap, one bit per 8 bytes (NULL after) */
    char          *path;
};

struct region {
    region_info        info;
    bool               lazy;      /* opened with REGION_OPEN_LAZY: objects checked as read */
    lx_space           space;
    lx_word            root;
    void              *map;       /* reservation or single mapping (NULL: borrowed/copied) */
    size_t             map_len;
    void              *copy;      /* mem_* buffer holding copied parts, if any */
    unsigned           nparts;
    bool               counted;   /* opened successfully: counted in MEM_REGIONS */
    struct region_part parts[REGION_MAX_PARTS];
};

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 5, 6)))
static int fail(region_error *err, int code, const char *path, uint64_t offset,
                const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->offset = offset;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return code;
}

const char *region_format_name(enum region_format f)
{
    static const char *const names[] = {"v0", "v1", "v2"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

const char *region_error_format(const region_error *err, char *buf, size_t size)
{
    if (err->offset != UINT64_MAX)
        snprintf(buf, size, "%s: offset %" PRIu64 ": %s", err->path, err->offset, err->reason);
    else
        snprintf(buf, size, "%s: %s", err->path, err->reason);
    return buf;
}

/* ---- headers ----------------------------------------------------------- */

static void copy_field(char *dst, size_t dstsize, const uint8_t *src, size_t n)
{
    size_t len = 0;
    while (len < n && len + 1 < dstsize && src[len] != '\0')
        len++;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int parse_header(const uint8_t *buf, size_t len, const char *path,
                        region_info *info, region_error *err)
{
    memset(info, 0, sizeof *info);
    if (len >= 16 && memcmp(buf, "oleanfile!!!!!!!", 16) == 0) {
        info->format = REGION_V0;
        info->header_size = 24;
    } else if (len >= 6 && memcmp(buf, "olean", 5) == 0) {
        uint8_t version = buf[5];
        if (version == 1) {
            info->format = REGION_V1;
            info->header_size = 56;
        } else if (version == 2) {
            info->format = REGION_V2;
            info->header_size = 88;
        } else {
            return fail(err, REGION_EUNSUPPORTED, path, 5,
                        "header version %u is not supported (envpool reads 0, 1 and 2)", version);
        }
    } else if (len < 16 && (len < 5 || memcmp(buf, "olean", 5) == 0)) {
        return fail(err, REGION_ECORRUPT, path, 0,
                    "file is %zu bytes, too short for an .olean header", len);
    } else {
        return fail(err, REGION_ECORRUPT, path, 0, "not an .olean file (bad magic)");
    }

    unsigned hs = info->header_size;
    if (len < (size_t)hs + 8)
        return fail(err, REGION_ECORRUPT, path, 0,
                    "file is %zu bytes, too short for its %u-byte header and root", len, hs);
    switch (info->format) {
    case REGION_V0:
        info->base = lx_rd64(buf + 16);
        break;
    case REGION_V1:
        copy_field(info->githash, sizeof info->githash, buf + 6, 42);
        info->base = lx_rd64(buf + 48);
        break;
    case REGION_V2:
        info->flags = buf[6];
        copy_field(info->lean_version, sizeof info->lean_version, buf + 7, 33);
        copy_field(info->githash, sizeof info->githash, buf + 40, 40);
        info->base = lx_rd64(buf + 80);
        if (info->flags & ~1u)
            return fail(err, REGION_EUNSUPPORTED, path, 6,
                        "header flags 0x%02x set reserved bits", info->flags);
        break;
    }
    if (info->base & 7)
        return fail(err, REGION_ECORRUPT, path, hs - 8,
                    "base address 0x%" PRIx64 " is not 8-byte aligned", info->base);
    if (info->base > UINT64_MAX - len)
        return fail(err, REGION_ECORRUPT, path, hs - 8,
                    "base address 0x%" PRIx64 " plus the file size overflows", info->base);
    info->size = len;
    info->nparts = 1;
    return 0;
}

int region_parse_header(const uint8_t *buf, size_t len, region_info *info, region_error *err)
{
    return parse_header(buf, len, "(buffer)", info, err);
}

/* ---- validation -------------------------------------------------------- */

static inline bool bit_test(const uint64_t *bits, uint64_t off)
{
    uint64_t i = off >> 3;
    return (bits[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *bits, uint64_t off)
{
    uint64_t i = off >> 3;
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

typedef struct validator {
    const region *r;
    unsigned      k;          /* part being validated */
    region_error *err;
    bool          local;      /* one object checked on its own (region_object), no bitmap */
} validator;

static const char *tag_name(uint8_t tag)
{
    switch (tag) {
    case LX_TAG_PROMISE:      return "promise";
    case LX_TAG_CLOSURE:      return "closure";
    case LX_TAG_ARRAY:        return "array";
    case LX_TAG_STRUCT_ARRAY: return "struct array";
    case LX_TAG_SARRAY:       return "scalar array";
    case LX_TAG_STRING:       return "string";
    case LX_TAG_MPZ:          return "big number";
    case LX_TAG_THUNK:        return "thunk";
    case LX_TAG_TASK:         return "task";
    case LX_TAG_REF:          return "ref";
    case LX_TAG_EXTERNAL:     return "external";
    case LX_TAG_RESERVED:     return "reserved";
    default:                  return "constructor";
    }
}

/*
 * A slot at file offset slot_off of part v->k, inside the object starting at
 * obj_off, holds w. Scalars are fine; pointers must target an object start seen
 * before this object.
 */
static int check_pointer(const validator *v, uint64_t obj_off, uint64_t slot_off, lx_word w)
{
    if (lx_is_scalar(w))
        return 0;
    const region *r = v->r;
    const struct region_part *p = &r->parts[v->k];
    if (v->local) {
        /* Without the bitmap only the local rule is left: the target lies below
           the object holding it (parts lie in address order, so an earlier
           part's object is below too). The target itself is checked when it
           is read. Strictly falling addresses keep every walk finite. */
        if (w < p->base + obj_off)
            return 0;
        return fail(v->err, REGION_ECORRUPT, p->path, slot_off,
                    "pointer 0x%" PRIx64 " does not lie below the object holding it "
                    "(forward or cyclic)", w);
    }
    for (unsigned j = 0; j <= v->k; j++) {
        const struct region_part *q = &r->parts[j];
        uint64_t limit = j == v->k ? obj_off : q->size;
        if (w < q->base || w - q->base >= limit)
            continue;
        uint64_t off = w - q->base;
        if ((off & 7) == 0 && off >= (uint64_t)q->hsize + 8 && bit_test(q->starts, off))
            return 0;
        return fail(v->err, REGION_ECORRUPT, p->path, slot_off,
                    "pointer 0x%" PRIx64 " does not target the start of an object%s",
                    w, j == v->k ? "" : " of an earlier part");
    }
    return fail(v->err, REGION_ECORRUPT, p->path, slot_off,
                "pointer 0x%" PRIx64 " does not target an earlier object "
                "(forward, cyclic or out of the file)", w);
}

/* Size in bytes of the object at off (before padding), or an error. */
static int object_size(const validator *v, uint64_t off, uint64_t *out)
{
    const region *r = v->r;
    const struct region_part *p = &r->parts[v->k];
    const uint8_t *o = p->data + off;
    uint64_t avail = p->size - off; /* >= 8, checked by the caller */
    uint8_t tag = lx_tag(o);
    lx_word self = p->base + off;
    int rc;

    if (lx_rc(o) != 0)
        return fail(v->err, REGION_ECORRUPT, p->path, off,
                    "object has reference count %d, must be 0 in a region", lx_rc(o));

    if (tag <= LX_MAX_CTOR_TAG) {
        uint64_t sz = lx_cs_sz(o), nptr = lx_other(o);
        if (sz % 8 != 0 || sz < 8 + 8 * nptr)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 4,
                        "constructor size %" PRIu64 " does not fit %" PRIu64 " pointer fields",
                        sz, nptr);
        if (sz > avail)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 4,
                        "constructor of %" PRIu64 " bytes runs past the end of the file", sz);
        for (uint64_t i = 0; i < nptr; i++)
            if ((rc = check_pointer(v, off, off + 8 + 8 * i, lx_rd64(o + 8 + 8 * i))) < 0)
                return rc;
        *out = sz;
        return 0;
    }

    switch (tag) {
    case LX_TAG_ARRAY: {
        if (avail < 24)
            return fail(v->err, REGION_ECORRUPT, p->path, off, "array header runs past the end of the file");
        uint64_t n = lx_rd64(o + 8), cap = lx_rd64(o + 16);
        if (n != cap)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                        "array capacity %" PRIu64 " differs from its size %" PRIu64, cap, n);
        if (n > (avail - 24) / 8)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 8,
                        "array of %" PRIu64 " elements runs past the end of the file", n);
        /* One object on its own: elements are checked as they are read
           (region_below), else every element read would cost O(n). */
        for (uint64_t i = 0; i < n && !v->local; i++)
            if ((rc = check_pointer(v, off, off + 24 + 8 * i, lx_rd64(o + 24 + 8 * i))) < 0)
                return rc;
        *out = 24 + 8 * n;
        return 0;
    }
    case LX_TAG_SARRAY: {
        unsigned esz = lx_other(o);
        if (avail < 24)
            return fail(v->err, REGION_ECORRUPT, p->path, off, "scalar array header runs past the end of the file");
        if (esz == 0)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 6, "scalar array element size is 0");
        uint64_t n = lx_rd64(o + 8), cap = lx_rd64(o + 16);
        if (n != cap)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                        "scalar array capacity %" PRIu64 " differs from its size %" PRIu64, cap, n);
        if (n > (avail - 24) / esz)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 8,
                        "scalar array of %" PRIu64 " elements runs past the end of the file", n);
        *out = 24 + n * esz;
        return 0;
    }
    case LX_TAG_STRING: {
        if (avail < 32)
            return fail(v->err, REGION_ECORRUPT, p->path, off, "string header runs past the end of the file");
        uint64_t n = lx_rd64(o + 8), cap = lx_rd64(o + 16), len = lx_rd64(o + 24);
        if (n == 0 || n > avail - 32)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 8,
                        "string size %" PRIu64 " does not fit in the file", n);
        if (n != cap)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                        "string capacity %" PRIu64 " differs from its size %" PRIu64, cap, n);
        if (o[32 + n - 1] != 0)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 32 + n - 1,
                        "string is not NUL-terminated");
        if (len > n - 1)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 24,
                        "string length %" PRIu64 " exceeds its %" PRIu64 " bytes", len, n - 1);
        *out = 32 + n;
        return 0;
    }
    case LX_TAG_MPZ: {
        bool gmp;
        if (avail < 24)
            return fail(v->err, REGION_ECORRUPT, p->path, off, "big number header runs past the end of the file");
        if (r->info.format == REGION_V2)
            gmp = (r->info.flags & 1) != 0;
        else
            gmp = lx_rd64(o + 16) == self + 24;
        if (gmp) {
            int32_t alloc = (int32_t)lx_rd32(o + 8), size = (int32_t)lx_rd32(o + 12);
            if (lx_rd64(o + 16) != self + 24)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                            "big number limb pointer is not the object's own limbs");
            if (alloc <= 0 || size == INT32_MIN || (size < 0 ? -size : size) > alloc)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 8,
                            "big number limb counts %d/%d are inconsistent", alloc, size);
            if ((uint64_t)alloc > (avail - 24) / 8)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 8,
                            "big number of %d limbs runs past the end of the file", alloc);
            *out = 24 + 8 * (uint64_t)alloc;
        } else {
            if (avail < 32)
                return fail(v->err, REGION_ECORRUPT, p->path, off, "big number header runs past the end of the file");
            uint64_t n = lx_rd64(o + 16);
            if (lx_rd64(o + 24) != self + 32)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 24,
                            "big number digit pointer is not the object's own digits");
            if (o[8] > 1)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 8, "big number sign %u is not 0 or 1", o[8]);
            if (n == 0 || n > (avail - 32) / 4)
                return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                            "big number of %" PRIu64 " digits does not fit in the file", n);
            *out = 32 + 4 * n;
        }
        return 0;
    }
    case LX_TAG_THUNK:
    case LX_TAG_TASK:
    case LX_TAG_REF:
    case LX_TAG_PROMISE: {
        /* one value pointer; thunks and tasks add a closure/implementation word that must be 0 */
        bool two = tag == LX_TAG_THUNK || tag == LX_TAG_TASK;
        uint64_t size = two ? 24 : 16;
        if (avail < size)
            return fail(v->err, REGION_ECORRUPT, p->path, off, "%s runs past the end of the file", tag_name(tag));
        if ((rc = check_pointer(v, off, off + 8, lx_rd64(o + 8))) < 0)
            return rc;
        if (two && lx_rd64(o + 16) != 0)
            return fail(v->err, REGION_ECORRUPT, p->path, off + 16,
                        "%s has a live closure or implementation pointer", tag_name(tag));
        *out = size;
        return 0;
    }
    default:
        return fail(v->err, REGION_ECORRUPT, p->path, off + 7,
                    "object tag %u (%s) is not allowed in a region", tag, tag_name(tag));
    }
}

static int validate_part(region *r, unsigned k, region_error *err)
{
    struct region_part *p = &r->parts[k];
    validator v = {r, k, err, false};
    uint64_t nbits = (p->size + 7) / 8;
    p->starts = mem_try_calloc((size_t)((nbits + 63) / 64), 8);
    if (!p->starts)
        return fail(err, -ENOMEM, p->path, UINT64_MAX, "out of memory for the validation bitmap");

    uint64_t off = (uint64_t)p->hsize + 8, count = 0;
    while (off < p->size) {
        uint64_t sz = 0;
        int rc;
        if (p->size - off < 8)
            return fail(err, REGION_ECORRUPT, p->path, off,
                        "%" PRIu64 " trailing bytes are not an object", p->size - off);
        if ((rc = object_size(&v, off, &sz)) < 0)
            return rc;
        uint64_t padded = (sz + 7) & ~(uint64_t)7;
        if (padded > p->size - off)
            return fail(err, REGION_ECORRUPT, p->path, off,
                        "%s of %" PRIu64 " bytes runs past the end of the file",
                        tag_name(lx_tag(p->data + off)), sz);
        bit_set(p->starts, off);
        off += padded;
        count++;
    }
    r->info.objects += count;

    /* The root slot: the root must be an object of this part or an earlier one. */
    lx_word root = lx_rd64(p->data + p->hsize);
    if (lx_is_scalar(root))
        return fail(err, REGION_ECORRUPT, p->path, p->hsize, "root is a scalar, not an object");
    int rc = check_pointer(&v, p->size, p->hsize, root);
    if (rc < 0)
        return fail(err, REGION_ECORRUPT, p->path, p->hsize,
                    "root pointer 0x%" PRIx64 " does not target an object", root);
    if (k == 0)
        r->root = root;
    return 0;
}

static void drop_bitmaps(region *r)
{
    for (unsigned k = 0; k < r->nparts; k++) {
        mem_free(r->parts[k].starts);
        r->parts[k].starts = NULL;
    }
}

/*
 * Parts must follow one another in address space, each starting on a 64 KiB
 * boundary less than 64 KiB after the previous one ends (how Lean's
 * saveModuleDataParts lays them out). Sets *span to the bytes from part 0's
 * base to the end of the last part.
 */
static int check_part_layout(const region *r, uint64_t *span, region_error *err)
{
    for (unsigned k = 1; k < r->nparts; k++) {
        const struct region_part *q = &r->parts[k - 1], *p = &r->parts[k];
        if (p->base < q->base + q->size || p->base - (q->base + q->size) >= PART_ALIGN ||
            (p->base - r->parts[0].base) % PART_ALIGN != 0)
            return fail(err, REGION_ECORRUPT, p->path, 80,
                        "part base 0x%" PRIx64 " does not follow the previous part", p->base);
    }
    const struct region_part *last = &r->parts[r->nparts - 1];
    *span = last->base + last->size - r->parts[0].base;
    return 0;
}

/*
 * Checks the headers of all parts (already in r->parts[k].data/size), fills
 * r->info and checks that the parts lie one after another in address space.
 * Returns the span in bytes from part 0's base to the end of the last part.
 */
static int check_parts(region *r, uint64_t *span, region_error *err)
{
    for (unsigned k = 0; k < r->nparts; k++) {
        struct region_part *p = &r->parts[k];
        region_info pi;
        int rc = parse_header(p->data, (size_t)p->size, p->path, &pi, err);
        if (rc < 0)
            return rc;
        p->base = pi.base;
        p->hsize = pi.header_size;
        if (k == 0) {
            r->info = pi;
            continue;
        }
        if (pi.format != REGION_V2 || r->info.format != REGION_V2)
            return fail(err, REGION_ECORRUPT, p->path, 0, "multi-part modules need v2 headers");
        r->info.size += p->size;
    }
    r->info.nparts = r->nparts;
    return check_part_layout(r, span, err);
}

/*
 * Lazy open: the headers (checked by check_parts) and the root object alone.
 * Everything else is checked as it is read (region_object).
 */
static int check_root_lazy(region *r, region_error *err)
{
    const struct region_part *p = &r->parts[0];
    lx_word root = lx_rd64(p->data + p->hsize);
    if (lx_is_scalar(root))
        return fail(err, REGION_ECORRUPT, p->path, p->hsize, "root is a scalar, not an object");
    if (root < p->base || root - p->base >= p->size)
        return fail(err, REGION_ECORRUPT, p->path, p->hsize,
                    "root pointer 0x%" PRIx64 " does not target an object of the file", root);
    const uint8_t *o;
    int rc = region_object(r, root, &o, err);
    if (rc < 0)
        return rc;
    r->root = root;
    return 0;
}

static int validate_all(region *r, region_error *err)
{
    int rc = 0;
    if (r->lazy)
        return check_root_lazy(r, err);
    for (unsigned k = 0; k < r->nparts && rc == 0; k++)
        rc = validate_part(r, k, err);
    drop_bitmaps(r);
    if (rc == 0)
        r->info.validated = true;
    return rc;
}

int region_object(const region *r, lx_word w, const uint8_t **o, region_error *err)
{
    if (lx_is_scalar(w))
        return fail(err, REGION_ECORRUPT, r->parts[0].path, UINT64_MAX,
                    "boxed value %" PRIu64 " where an object was expected", lx_unbox(w));
    for (unsigned k = r->nparts; k-- > 0;) {
        const struct region_part *p = &r->parts[k];
        if (w < p->base || w - p->base >= p->size)
            continue;
        uint64_t off = w - p->base;
        if ((off & 7) != 0 || off < (uint64_t)p->hsize + 8)
            return fail(err, REGION_ECORRUPT, p->path, off,
                        "pointer 0x%" PRIx64 " is %s", w,
                        (off & 7) ? "not 8-byte aligned" : "inside the file header");
        if (p->size - off < 8)
            return fail(err, REGION_ECORRUPT, p->path, off,
                        "object at the last %" PRIu64 " bytes of the file is cut", p->size - off);
        validator v = {r, k, err, true};
        uint64_t sz;
        int rc = object_size(&v, off, &sz);
        if (rc < 0)
            return rc;
        *o = p->data + off;
        return 0;
    }
    return fail(err, REGION_ECORRUPT, r->parts[0].path, UINT64_MAX,
                "pointer 0x%" PRIx64 " is outside the file", w);
}

/* ---- opening ----------------------------------------------------------- */

static region *region_alloc(void)
{
    region *r = mem_calloc(1, sizeof *r);
    return r;
}

void region_close(region *r)
{
    if (!r)
        return;
    drop_bitmaps(r);
    if (r->map) {
        munmap(r->map, r->map_len);
        mem_count(MEM_MAPPINGS, -1);
    }
    mem_free(r->copy);
    for (unsigned k = 0; k < REGION_MAX_PARTS; k++)
        mem_free(r->parts[k].path);
    if (r->counted)
        mem_count(MEM_REGIONS, -1);
    mem_free(r);
}

static void finish_open(region *r)
{
    r->space.delta = (uintptr_t)r->parts[0].data - (uintptr_t)r->parts[0].base;
    r->info.mapped_at_base = r->space.delta == 0;
    r->counted = true;
    mem_count(MEM_REGIONS, 1);
}

int region_open_buffers(const uint8_t *const *bufs, const size_t *lens, size_t n,
                        const char *name, region **out, region_error *err)
{
    return region_open_buffers_flags(bufs, lens, n, name, 0, out, err);
}

int region_open_buffers_flags(const uint8_t *const *bufs, const size_t *lens, size_t n,
                              const char *name, unsigned flags, region **out, region_error *err)
{
    *out = NULL;
    if (n == 0 || n > REGION_MAX_PARTS)
        return fail(err, -EINVAL, name, UINT64_MAX, "a region has 1 to %d parts", REGION_MAX_PARTS);
    region *r = region_alloc();
    r->lazy = (flags & REGION_OPEN_LAZY) != 0;
    r->nparts = (unsigned)n;
    for (unsigned k = 0; k < n; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", name, part_suffixes[k]);
        r->parts[k].path = mem_strdup(path);
        r->parts[k].data = bufs[k];
        r->parts[k].size = lens[k];
    }
    uint64_t span;
    int rc = check_parts(r, &span, err);
    if (rc == 0 && n > 1) {
        /* Give the parts one address space by copying them into place. */
        r->copy = mem_try_alloc((size_t)span);
        if (!r->copy) {
            rc = fail(err, -ENOMEM, name, UINT64_MAX, "out of memory for %" PRIu64 " bytes", span);
        } else {
            memset(r->copy, 0, (size_t)span);
            for (unsigned k = 0; k < n; k++) {
                uint8_t *dst = (uint8_t *)r->copy + (r->parts[k].base - r->parts[0].base);
                memcpy(dst, bufs[k], lens[k]);
                r->parts[k].data = dst;
            }
        }
    }
    if (rc == 0)
        rc = validate_all(r, err);
    if (rc < 0) {
        region_close(r);
        return rc;
    }
    finish_open(r);
    *out = r;
    return 0;
}

/* Maps len bytes of fd at want (if want != 0 and allowed), else anywhere. */
static void *map_file(int fd, size_t len, uint64_t want)
{
    if (want && (want & 0xfff) == 0 && want < 0x800000000000ull && len <= 0x800000000000ull - want) {
        void *p = mmap((void *)(uintptr_t)want, len, PROT_READ,
                       MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
        if (p != MAP_FAILED) {
            if ((uintptr_t)p == want)
                return p;
            munmap(p, len); /* a kernel that took the address as a hint */
        }
    }
    return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
}

static int open_part(const char *path, int *fd, uint64_t *size, region_error *err)
{
    struct stat st;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return fail(err, -errno, path, UINT64_MAX, "%s", strerror(errno));
    int fs = fstat(*fd, &st);
    if (fs < 0 || !S_ISREG(st.st_mode)) {
        int e = fs < 0 ? errno : EINVAL; /* st is unset when fstat fails */
        close(*fd);
        *fd = -1;
        return fail(err, -e, path, UINT64_MAX, "%s", e == EINVAL ? "not a regular file" : strerror(e));
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

typedef struct mapped_check {
    region       *r;
    region_error *err;
    bool          returned;  /* false after a fault abandoned check_mapped */
} mapped_check;

/*
 * Headers again (through the mapping) and the validation pass: the first
 * reads of the mapped pages. A file truncated in place meanwhile makes them
 * fault, so region_open runs this under region_guard_run; it writes only to
 * the region and the error, which region_open owns and releases.
 */
static int check_mapped(void *arg)
{
    mapped_check *mc = arg;
    region *r = mc->r;
    uint64_t span, bases[REGION_MAX_PARTS];
    int rc;
    for (unsigned k = 0; k < r->nparts; k++)
        bases[k] = r->parts[k].base;
    if ((rc = check_parts(r, &span, mc->err)) < 0) {
        mc->returned = true;
        return rc;
    }
    for (unsigned k = 0; k < r->nparts; k++)
        if (bases[k] != r->parts[k].base)
            rc = fail(mc->err, REGION_ESTALE, r->parts[k].path, 0, "file changed while being opened");
    if (rc == 0)
        rc = validate_all(r, mc->err);
    mc->returned = true;
    return rc;
}

int region_open(const char *path, unsigned flags, region **out, region_error *err)
{
    int fds[REGION_MAX_PARTS] = {-1, -1, -1};
    uint8_t heads[REGION_MAX_PARTS][96];
    region *r = NULL;
    int rc = 0;

    *out = NULL;
    r = region_alloc();
    r->lazy = (flags & REGION_OPEN_LAZY) != 0;
    r->nparts = 1;
    for (unsigned k = 0; k < REGION_MAX_PARTS; k++) {
        if (k > 0 && !(flags & REGION_OPEN_PARTS))
            break;
        char ppath[4096];
        int n = snprintf(ppath, sizeof ppath, "%s%s", path, part_suffixes[k]);
        if (n < 0 || (size_t)n >= sizeof ppath) {
            rc = fail(err, -ENAMETOOLONG, path, UINT64_MAX, "path too long");
            goto out;
        }
        if (k > 0 && access(ppath, F_OK) != 0)
            break;
        uint64_t size = 0;
        if ((rc = open_part(ppath, &fds[k], &size, err)) < 0)
            goto out;
        r->parts[k].path = mem_strdup(ppath);
        r->parts[k].size = size;
        r->nparts = k + 1;
        /* Headers first, through pread, so nothing is mapped for a file we refuse. */
        ssize_t got = pread(fds[k], heads[k], sizeof heads[k], 0);
        if (got < 0) {
            rc = fail(err, -errno, ppath, 0, "%s", strerror(errno));
            goto out;
        }
        if ((uint64_t)got < size && got < (ssize_t)sizeof heads[k]) {
            rc = fail(err, REGION_ESTALE, ppath, 0, "file shrank while being read");
            goto out;
        }
        region_info pi;
        if ((rc = parse_header(heads[k], (size_t)got, ppath, &pi, err)) < 0)
            goto out;
        r->parts[k].base = pi.base;
        r->parts[k].hsize = pi.header_size;
    }

    /* Addresses: part k goes at base_k - base_0 from the start of one span. */
    uint64_t span;
    if ((rc = check_part_layout(r, &span, err)) < 0)
        goto out;
    if (span > SIZE_MAX / 2) {
        rc = fail(err, REGION_ECORRUPT, path, UINT64_MAX, "file too large");
        goto out;
    }

    uint64_t want = (flags & REGION_OPEN_NO_FIXED) ? 0 : r->parts[0].base;
    if (r->nparts == 1) {
        void *m = map_file(fds[0], (size_t)span, want);
        if (m == MAP_FAILED) {
            rc = fail(err, -errno, path, UINT64_MAX, "mmap: %s", strerror(errno));
            goto out;
        }
        r->map = m;
        r->map_len = (size_t)span;
        mem_count(MEM_MAPPINGS, 1);
        r->parts[0].data = m;
    } else {
        void *m = MAP_FAILED;
        if (want && (want & 0xfff) == 0 && want < 0x800000000000ull &&
            span <= 0x800000000000ull - want) {
            m = mmap((void *)(uintptr_t)want, (size_t)span, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (m != MAP_FAILED && (uintptr_t)m != want) {
                munmap(m, (size_t)span);
                m = MAP_FAILED;
            }
        }
        if (m == MAP_FAILED)
            m = mmap(NULL, (size_t)span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            rc = fail(err, -errno, path, UINT64_MAX, "mmap: %s", strerror(errno));
            goto out;
        }
        r->map = m;
        r->map_len = (size_t)span;
        mem_count(MEM_MAPPINGS, 1);
        for (unsigned k = 0; k < r->nparts; k++) {
            uint8_t *at = (uint8_t *)m + (r->parts[k].base - r->parts[0].base);
            if (mmap(at, (size_t)r->parts[k].size, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                     fds[k], 0) == MAP_FAILED) {
                rc = fail(err, -errno, r->parts[k].path, UINT64_MAX, "mmap: %s", strerror(errno));
                goto out;
            }
            r->parts[k].data = at;
        }
    }
    if (flags & REGION_OPEN_WILLNEED)
        madvise(r->map, r->map_len, MADV_WILLNEED);

    mapped_check mc = {r, err, false};
    if ((rc = region_guard_run(check_mapped, &mc)) < 0 && !mc.returned)
        rc = fail(err, REGION_ESTALE, path, UINT64_MAX, "file shrank while being validated");
    if (rc < 0)
        goto out;
    finish_open(r);

out:
    for (unsigned k = 0; k < REGION_MAX_PARTS; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    if (rc < 0) {
        region_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- access ------------------------------------------------------------ */

const region_info *region_get_info(const region *r) { return &r->info; }
const char *region_path(const region *r)             { return r->parts[0].path; }
lx_space region_space(const region *r)               { return r->space; }
lx_word region_root(const region *r)                 { return r->root; }

bool region_contains(const region *r, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    for (unsigned k = 0; k < r->nparts; k++) {
        uintptr_t lo = (uintptr_t)r->parts[k].data;
        if (a >= lo && a - lo < r->parts[k].size)
            return true;
    }
    return false;
}

const uint8_t *region_last_byte(const region *r)
{
    const struct region_part *last = &r->parts[r->nparts - 1];
    return last->data + last->size - 1;
}

lx_word region_word_of(const region *r, const void *addr)
{
    return (lx_word)((uintptr_t)addr - r->space.delta);
}

void region_release_pages(const region *r)
{
    if (r->map)
        (void)madvise(r->map, r->map_len, MADV_DONTNEED); /* a hint: failure changes nothing */
}

uint64_t region_offset_of(const region *r, lx_word w)
{
    for (unsigned k = r->nparts; k-- > 0;)
        if (w >= r->parts[k].base && w - r->parts[k].base < r->parts[k].size)
            return w - r->parts[k].base;
    return UINT64_MAX;
}
