/*
 * lean/lean_internal.h — helpers shared by the files of lean/ (not public).
 *
 * ln__ctor checks that a word is an object of the expected constructor shape
 * and reports the mismatch with the object's file offset; every decoder goes
 * through it (or ln__big for arrays and strings, or ln_obj to look at a tag
 * first) before reading fields. All three run region_object first, so a read
 * is safe on a lazily opened region too (region/region.h).
 */
#ifndef ENVPOOL_LEAN_LEAN_INTERNAL_H
#define ENVPOOL_LEAN_LEAN_INTERNAL_H

#include "lean/lean.h"

/* Fills err (if not NULL) with REGION_ECORRUPT at w's offset; returns REGION_ECORRUPT. */
int ln__fail(const ln_module *m, lx_word w, region_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same with an explicit code and no offset (UINT64_MAX). */
int ln__fail_code(const ln_module *m, int code, region_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * w must be a constructor object with tag `tag`, exactly `nptrs` pointer
 * fields and at least `min_scalar` scalar bytes; what names the expected
 * value in the error. On success *o is the readable object.
 */
int ln__ctor(const ln_module *m, lx_word w, unsigned tag, unsigned nptrs, size_t min_scalar,
             const char *what, const uint8_t **o, region_error *err);
/* ln__ctor's shape checks for p, the object of w already taken with ln_obj. */
int ln__shape(const ln_module *m, lx_word w, const uint8_t *p, unsigned tag, unsigned nptrs,
              size_t min_scalar, const char *what, const uint8_t **o, region_error *err);
/* w must be an object (not boxed) of tag `tag` (Array, String...). */
int ln__big(const ln_module *m, lx_word w, unsigned tag, const char *what,
            const uint8_t **o, region_error *err);

/* Array element i of an array word, checking the shape, the index and that the
   element lies below the array (region_below). */
int ln__array_get(const ln_module *m, lx_word arr, uint64_t i, const char *what,
                  lx_word *out, region_error *err);

/* Expr.Data field decoding for either layout. */
uint32_t ln__expr_loose_bvar_range(const ln_module *m, uint64_t data);

/*
 * Appends the name a binder shows: a hygienic name (macro scopes, last string
 * component _hyg) as its base followed by ✝ (x✝ when the base is empty),
 * anonymous as x, anything else as ln_name_format prints it.
 */
int ln__binder_display(const ln_module *m, lx_word name, ln_buf *out, region_error *err);

#endif
