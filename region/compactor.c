/*
 * region/compactor.c — lays out an object graph as a compacted region and
 * writes it (see compactor.h).
 *
 * This follows Lean's object_compactor (src/runtime/compact.cpp) step by
 * step, because the byte order of the output is the order of its traversal:
 *
 *   work = [root]                (m_todo in compact.cpp)
 *   while work: curr = top(work)
 *     already placed            -> pop
 *     ctor/array: resolve every child (last to first); an unplaced child is
 *       pushed on work; if any was missing, leave curr on the stack and loop
 *       (the first field ends up on top, so it is laid out first)
 *     otherwise copy curr to the end of the buffer with a region header
 *       (m_rc 0), its slots rewritten to addresses (base + buffer offset),
 *       then "max sharing": if an identical byte string was already emitted,
 *       drop the copy and map curr to the earlier one (MPZ excepted); pop.
 *
 * The buffer starts with the file header and the root slot, so that an
 * object's address is base + its offset in the buffer, which is also its
 * offset in the file. Chained saves continue the same buffer at the next
 * 64 KiB boundary, as Lean's saveModuleDataParts does with one compactor.
 *
 * Header layouts (lean-olean-format.md section 1.1):
 *   v0: 0 "oleanfile!!!!!!!" (16) | 16 base (8)                          = 24
 *   v1: 0 "olean" | 5 version 1 | 6 githash (42) | 48 base              = 56
 *   v2: 0 "olean" | 5 version 2 | 6 flags | 7 lean_version (33) | 40 githash (40) | 80 base = 88
 * then the root slot (8) and the objects.
 */
#include "region/compactor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region/hash.h"
#include "region/heap.h"
#include "util/mem.h"
#include "util/u64map.h"
#include "util/vec.h"

#define PART_ALIGN  ((size_t)1 << 16)
#define NULL_OFFSET (~(lx_word)1) /* even, so never a boxed scalar; never an address */

/* ---------------------------------------------------------------- base */

uint64_t region_module_base(const char *key)
{
    uint64_t b = region_name_hash(key) % 0x7f0000000000ull;
    return b & ~(uint64_t)(PART_ALIGN - 1);
}

/* ---------------------------------------------------------------- tables */

/*
 * Emitted objects by content, for max sharing. Not a u64map: the key is the
 * object's bytes in the buffer, hashed afresh on growth. One word per entry, to keep
 * the table small (it is probed once per object, at random): the object's
 * buffer offset / 8 + 1 in the low 40 bits (0 = empty), the top 24 bits of
 * its content hash above. The size is read back from the object itself.
 */
#define SHARE_OFF_BITS 40
#define SHARE_OFF_MASK (((uint64_t)1 << SHARE_OFF_BITS) - 1)

typedef struct share_set {
    uint64_t *e;
    size_t    cap;
    size_t    n;
} share_set;

static int share_grow(share_set *s, const uint8_t *buf)
{
    size_t ncap = s->cap ? 2 * s->cap : 1024;
    uint64_t *ne = mem_try_calloc(ncap, sizeof *ne);
    if (!ne)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->e[i])
            continue;
        size_t off = (size_t)((s->e[i] & SHARE_OFF_MASK) - 1) * 8;
        const uint8_t *o = buf + off;
        size_t sz = lx_object_byte_size(o, 0);
        size_t j = (size_t)region_murmur64a(o, sz, 17) & (ncap - 1);
        while (ne[j])
            j = (j + 1) & (ncap - 1);
        ne[j] = s->e[i];
    }
    mem_free(s->e);
    s->e = ne;
    s->cap = ncap;
    return 0;
}

/* ---------------------------------------------------------------- session */

struct region_saved {
    VEC(uint8_t) out;   /* everything laid out so far, headers included */
    uint64_t  base;     /* address of out.v[0] */
    u64map    placed;   /* heap object (a reference held) -> output address */
    share_set share;
    VEC(lx_word) work;  /* Lean's m_todo */
    VEC(lx_word) tmp;   /* child addresses of the object being placed */
    enum region_child_order order;
    bool      max_sharing;
    int       gmp;      /* v2: 1 or 0 as the header's flags bit 0 says; -1: either */
    const region *const *deps;
    size_t    ndeps;
    region_save_stats st;
    region_error *err;
};

static int fail(region_saved *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(region_saved *s, int code, const char *fmt, ...)
{
    if (s->err) {
        va_list ap;
        va_start(ap, fmt);
        s->err->code = code;
        vsnprintf(s->err->reason, sizeof s->err->reason, fmt, ap);
        va_end(ap);
    }
    return code;
}

void region_saved_free(region_saved *s)
{
    if (!s)
        return;
    size_t it = 0;
    uint64_t key;
    while (u64map_next(&s->placed, &it, &key, NULL))
        lx_unref((lx_word)key);
    u64map_deinit(&s->placed);
    mem_free(s->share.e);
    vec_free(&s->work);
    vec_free(&s->tmp);
    vec_free(&s->out);
    mem_free(s);
}

/* Appends sz bytes (rounded up to 8), zeroed; returns their offset. */
static int buf_alloc(region_saved *s, size_t sz, size_t *off)
{
    sz = (sz + 7) & ~(size_t)7;
    if (sz > SIZE_MAX / 4 - s->out.n)
        return fail(s, -ENOMEM, "region larger than the address space");
    size_t need = s->out.n + sz;
    if (need > s->out.cap && vec_reserve(&s->out, need > ((size_t)1 << 20) ? need : (size_t)1 << 20))
        return fail(s, -ENOMEM, "out of memory growing the region buffer to %zu bytes", need);
    memset(s->out.v + s->out.n, 0, sz);
    *off = s->out.n;
    s->out.n += sz;
    return 0;
}

static int work_push(region_saved *s, lx_word w)
{
    if (vec_push(&s->work, w))
        return fail(s, -ENOMEM, "out of memory growing the traversal stack");
    return 0;
}

static const char *kind_name(uint8_t tag)
{
    switch (tag) {
    case LX_TAG_CLOSURE:      return "closure";
    case LX_TAG_EXTERNAL:     return "external object";
    case LX_TAG_STRUCT_ARRAY: return "struct array";
    case LX_TAG_RESERVED:     return "reserved-tag object";
    default:                  return "object";
    }
}

/*
 * Lean's to_offset: the output address of w, or NULL_OFFSET after pushing it
 * on work. Objects in a deps region keep their address in that region.
 */
static int to_offset(region_saved *s, lx_word w, lx_word *res)
{
    uint64_t v;
    if (lx_is_scalar(w)) {
        *res = w;
        return 0;
    }
    if (u64map_get(&s->placed, w, &v)) {
        *res = v;
        return 0;
    }
    const void *addr = (const void *)(uintptr_t)w;
    for (size_t i = 0; i < s->ndeps; i++) {
        if (region_contains(s->deps[i], addr)) {
            *res = region_word_of(s->deps[i], addr);
            s->st.dep_refs++;
            return 0;
        }
    }
    if (lx_rc(lx_heap_ptr(w)) == 0)
        return fail(s, REGION_EUNSUPPORTED,
                    "object at 0x%" PRIx64 " (tag %u) has no reference count and lies in no deps region",
                    (uint64_t)w, lx_tag(lx_heap_ptr(w)));
    *res = NULL_OFFSET;
    return work_push(s, w);
}

/* Records that heap object o now lives at output address a (takes a reference). */
static int placed_put(region_saved *s, lx_word o, uint64_t a)
{
    int rc = u64map_put(&s->placed, o, a);
    if (rc)
        return fail(s, rc, "out of memory growing the object table");
    lx_ref(o);
    return 0;
}

/* The object just copied at off (size sz): merge it with an identical earlier
 * one or record it, then map o to whichever address stays. */
static int save_max_sharing(region_saved *s, lx_word o, size_t off, size_t sz)
{
    if (!s->max_sharing) {
        s->st.objects++;
        return placed_put(s, o, s->base + off);
    }
    if (2 * (s->share.n + 1) > s->share.cap && share_grow(&s->share, s->out.v))
        return fail(s, -ENOMEM, "out of memory growing the sharing table");
    if ((off / 8 + 1) > SHARE_OFF_MASK)
        return fail(s, -EFBIG, "region larger than 8 TiB");
    uint64_t h = region_murmur64a(s->out.v + off, sz, 17);
    uint64_t tag = h >> SHARE_OFF_BITS << SHARE_OFF_BITS;
    size_t i = (size_t)h & (s->share.cap - 1);
    for (; s->share.e[i]; i = (i + 1) & (s->share.cap - 1)) {
        uint64_t e = s->share.e[i];
        if ((e & ~SHARE_OFF_MASK) != tag)
            continue;
        size_t eoff = (size_t)((e & SHARE_OFF_MASK) - 1) * 8;
        if (lx_object_byte_size(s->out.v + eoff, 0) == sz && !memcmp(s->out.v + eoff, s->out.v + off, sz)) {
            s->out.n = off; /* drop the copy */
            s->st.merged++;
            return placed_put(s, o, s->base + eoff);
        }
    }
    s->share.e[i] = tag | (off / 8 + 1);
    s->share.n++;
    s->st.objects++;
    return placed_put(s, o, s->base + off);
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void set_header(uint8_t *p, size_t sz, uint8_t tag, uint8_t other)
{
    lx_header h = {0, (uint16_t)sz, other, tag};
    memcpy(p, &h, 8);
}

/* Resolves n children (read through get) into s->tmp; *missing if any is unplaced. */
static int resolve_children(region_saved *s, const uint8_t *o, size_t first_off, size_t n, bool *missing)
{
    if (vec_reserve(&s->tmp, n))
        return fail(s, -ENOMEM, "out of memory for %zu children", n);
    *missing = false;
    for (size_t k = 0; k < n; k++) {
        size_t i = s->order == REGION_ORDER_FIELD ? n - 1 - k : k;
        lx_word c;
        int rc = to_offset(s, lx_rd64(o + first_off + 8 * i), &c);
        if (rc)
            return rc;
        if (c == NULL_OFFSET)
            *missing = true;
        s->tmp.v[i] = c;
    }
    return 0;
}

/* Places one object; *done = false if it must wait for its children. */
static int insert(region_saved *s, lx_word w, bool *done)
{
    const uint8_t *o = lx_heap_ptr(w);
    uint8_t tag = lx_tag(o);
    size_t off, sz;
    bool missing = false;
    int rc;
    *done = true;

    if (tag <= LX_MAX_CTOR_TAG || tag == LX_TAG_ARRAY) {
        bool arr = tag == LX_TAG_ARRAY;
        size_t n = arr ? (size_t)lx_array_size(o) : lx_ctor_num_objs(o);
        size_t first = arr ? LX_ARRAY_DATA_OFF : 8;
        if ((rc = resolve_children(s, o, first, n, &missing)))
            return rc;
        if (missing) {
            *done = false;
            return 0;
        }
        sz = arr ? LX_ARRAY_DATA_OFF + 8 * n : lx_cs_sz(o);
        if (!arr && (sz < 8 + 8 * n || sz % 8))
            return fail(s, REGION_EUNSUPPORTED, "constructor at 0x%" PRIx64 " has size %zu for %zu fields",
                        (uint64_t)w, sz, n);
        if ((rc = buf_alloc(s, sz, &off)))
            return rc;
        uint8_t *p = s->out.v + off;
        if (arr) {
            set_header(p, 1, LX_TAG_ARRAY, 0);
            wr64(p + LX_ARRAY_SIZE_OFF, n);
            wr64(p + LX_ARRAY_CAP_OFF, n);
        } else {
            memcpy(p, o, sz);
            set_header(p, sz, tag, lx_other(o));
        }
        for (size_t i = 0; i < n; i++)
            wr64(p + first + 8 * i, s->tmp.v[i]);
        return save_max_sharing(s, w, off, sz);
    }

    switch (tag) {
    case LX_TAG_SARRAY:
    case LX_TAG_STRING: {
        sz = lx_object_byte_size(o, w);
        if ((rc = buf_alloc(s, sz, &off)))
            return rc;
        uint8_t *p = s->out.v + off;
        memcpy(p + 8, o + 8, sz - 8);
        wr64(p + 16, lx_rd64(o + 8)); /* capacity = size */
        set_header(p, 1, tag, tag == LX_TAG_SARRAY ? lx_other(o) : 0);
        return save_max_sharing(s, w, off, sz);
    }
    case LX_TAG_MPZ: {
        sz = lx_object_byte_size(o, w);
        if (sz > 0xFFFF)
            return fail(s, REGION_EUNSUPPORTED, "big number at 0x%" PRIx64 " needs %zu bytes, more than a region header records",
                        (uint64_t)w, sz);
        bool gmp = lx_mpz_is_gmp(o, w);
        if (s->gmp >= 0 && gmp != (s->gmp == 1))
            return fail(s, REGION_EUNSUPPORTED, "big number at 0x%" PRIx64 " uses the %s layout but the header declares %s",
                        (uint64_t)w, gmp ? "GMP" : "native", gmp ? "native" : "GMP");
        if ((rc = buf_alloc(s, sz, &off)))
            return rc;
        uint8_t *p = s->out.v + off;
        memcpy(p, o, sz);
        set_header(p, sz, LX_TAG_MPZ, 0);
        if (gmp) {
            lx_mpz_view v = lx_mpz(o, w);
            wr32(p + 8, (uint32_t)v.ndigits); /* _mp_alloc = limbs */
            wr64(p + 16, s->base + off + 24);
        } else {
            wr64(p + 24, s->base + off + 32);
        }
        s->st.objects++;
        return placed_put(s, w, s->base + off); /* Lean never merges big numbers */
    }
    case LX_TAG_THUNK:
    case LX_TAG_TASK:
    case LX_TAG_REF:
    case LX_TAG_PROMISE: {
        lx_word c;
        if ((rc = to_offset(s, lx_boxed_value(o), &c)))
            return rc;
        if (c == NULL_OFFSET) {
            *done = false;
            return 0;
        }
        sz = lx_object_byte_size(o, w);
        if ((rc = buf_alloc(s, sz, &off)))
            return rc;
        uint8_t *p = s->out.v + off;
        memcpy(p, o, sz);
        set_header(p, sz, tag, lx_other(o));
        wr64(p + 8, c);
        return save_max_sharing(s, w, off, sz);
    }
    default:
        return fail(s, REGION_EUNSUPPORTED, "%s at 0x%" PRIx64 " (tag %u) cannot be compacted",
                    kind_name(tag), (uint64_t)w, tag);
    }
}

static unsigned header_size(enum region_format f)
{
    return f == REGION_V0 ? 24 : f == REGION_V1 ? 56 : 88;
}

/* Copies s into an n-byte field that is already zero (NUL padded, not terminated). */
static void put_field(uint8_t *p, const char *s, size_t n)
{
    size_t l = strnlen(s, n);
    memcpy(p, s, l);
}

static void write_header(uint8_t *p, const region_save_opts *o, uint64_t base)
{
    switch (o->format) {
    case REGION_V0:
        memcpy(p, "oleanfile!!!!!!!", 16);
        wr64(p + 16, base);
        break;
    case REGION_V1:
        memcpy(p, "olean", 5);
        p[5] = 1;
        put_field(p + 6, o->githash, 42);
        wr64(p + 48, base);
        break;
    case REGION_V2:
        memcpy(p, "olean", 5);
        p[5] = 2;
        p[6] = o->flags;
        put_field(p + 7, o->lean_version, 33);
        put_field(p + 40, o->githash, 40);
        wr64(p + 80, base);
        break;
    }
}

int region_compact(const char *key, lx_word root, const region *const *deps, size_t ndeps,
                   region_saved *prev, const region_save_opts *opts,
                   region_saved **out, const uint8_t **data, size_t *len,
                   region_save_stats *stats, region_error *err)
{
    static const region_save_opts defaults;
    region_save_opts o = opts ? *opts : defaults;
    o.lean_version[sizeof o.lean_version - 1] = 0;
    o.githash[sizeof o.githash - 1] = 0;
    if (!o.format_set)
        o.format = REGION_V2;
    region_saved *s = prev;
    size_t part, root_off, hdr_off;
    int rc;

    *out = NULL;
    if (err) {
        err->code = 0;
        err->offset = UINT64_MAX;
        err->path[0] = err->reason[0] = 0;
    }
    if (!s) {
        s = mem_calloc(1, sizeof *s);
        if (o.has_base)
            s->base = o.base;
        else if (key)
            s->base = region_module_base(key);
        else {
            s->err = err;
            rc = fail(s, -EINVAL, "no module name and no base address to save at");
            goto out;
        }
    }
    s->err = err;
    s->deps = deps;
    s->ndeps = ndeps;
    s->order = o.order;
    s->max_sharing = !o.no_max_sharing;
    if (!o.flags_set && !o.flags)
        o.flags = 1;
    s->gmp = o.format == REGION_V2 ? (o.flags & 1) : -1;
    memset(&s->st, 0, sizeof s->st);
    if (s->out.n && o.format != REGION_V2) {
        rc = fail(s, -EINVAL, "only v2 regions can be chained");
        goto out;
    }
    if (s->out.n % PART_ALIGN && (rc = buf_alloc(s, PART_ALIGN - s->out.n % PART_ALIGN, &part)))
        goto out;
    if ((rc = buf_alloc(s, header_size(o.format), &hdr_off)))
        goto out;
    part = hdr_off;
    if ((rc = buf_alloc(s, 8, &root_off)))
        goto out;

    if (!lx_is_scalar(root)) {
        lx_word dummy;
        if ((rc = to_offset(s, root, &dummy)))
            goto out;
        while (s->work.n) {
            lx_word curr = vec_last(&s->work);
            if (u64map_get(&s->placed, curr, NULL)) {
                s->work.n--;
                continue;
            }
            bool done;
            if ((rc = insert(s, curr, &done)))
                goto out;
            if (done)
                s->work.n--;
        }
    }
    lx_word r;
    if ((rc = to_offset(s, root, &r)))
        goto out;
    wr64(s->out.v + root_off, r);
    write_header(s->out.v + part, &o, s->base + part);
    s->st.bytes = s->out.n - part;
    s->st.file_offset = part;
    if (stats)
        *stats = s->st;
    *data = s->out.v + part;
    *len = s->out.n - part;
    rc = 0;
out:
    s->deps = NULL;
    s->ndeps = 0;
    vec_clear(&s->work);
    s->err = NULL;
    if (rc) {
        region_saved_free(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

/* ---------------------------------------------------------------- files */

static int io_fail(region_error *err, const char *path, int code, const char *what)
{
    if (err) {
        err->code = code;
        err->offset = UINT64_MAX;
        snprintf(err->path, sizeof err->path, "%s", path);
        snprintf(err->reason, sizeof err->reason, "%s: %s", what, strerror(-code));
    }
    return code;
}

int region_write_file_atomic(const char *path, const uint8_t *data, size_t len, region_error *err)
{
    static atomic_uint counter; /* distinct temp names for saves running at once */
    char tmp[4096], dir[4096];
    int fd = -1, dfd = -1, rc = 0;
    bool created = false;

    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) >= sizeof dir)
        return io_fail(err, path, -ENAMETOOLONG, "directory name");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1u)) >= sizeof tmp)
        return io_fail(err, path, -ENAMETOOLONG, "temporary file name");

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = io_fail(err, path, -errno, "creating the temporary file");
        goto out;
    }
    created = true;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = io_fail(err, path, -errno, "writing");
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        rc = io_fail(err, path, -errno, "fsync");
        goto out;
    }
    int cfd = fd;
    fd = -1;
    if (close(cfd) != 0) {
        rc = io_fail(err, path, -errno, "closing the temporary file");
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = io_fail(err, path, -errno, "renaming the temporary file into place");
        goto out;
    }
    created = false;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = io_fail(err, path, -errno, "fsync of the directory");
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (created)
        unlink(tmp);
    return rc;
}

int region_save(const char *path, const char *key, lx_word root,
                const region *const *deps, size_t ndeps, region_saved *prev,
                const region_save_opts *opts, region_saved **out,
                region_save_stats *stats, region_error *err)
{
    region_saved *s = NULL;
    const uint8_t *data;
    size_t len;
    int rc = region_compact(key, root, deps, ndeps, prev, opts, &s, &data, &len, stats, err);
    if (rc) {
        if (err)
            snprintf(err->path, sizeof err->path, "%s", path);
        goto out;
    }
    rc = region_write_file_atomic(path, data, len, err);
out:
    if (rc || !out) {
        region_saved_free(s);
        s = NULL;
    }
    if (out)
        *out = s;
    return rc;
}

void region_save_opts_from_info(region_save_opts *opts, const region_info *info)
{
    memset(opts, 0, sizeof *opts);
    opts->format = info->format;
    opts->format_set = true;
    opts->flags = info->flags;
    opts->flags_set = true;
    snprintf(opts->lean_version, sizeof opts->lean_version, "%s", info->lean_version);
    snprintf(opts->githash, sizeof opts->githash, "%s", info->githash);
    opts->has_base = true;
    opts->base = info->base;
}
