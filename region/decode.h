/*
 * region/decode.h — a whole region back into heap objects.
 *
 * region_decode turns every object of an open region (part 0) into a heap
 * object of the same shape (region/heap.h), sharing preserved: an object
 * referenced from several places becomes one heap object with that many
 * references. It is how `envpool repack` re-saves a file, and how tests build
 * large realistic graphs.
 *
 * Thread: any; r is only read.
 */
#ifndef ENVPOOL_REGION_DECODE_H
#define ENVPOOL_REGION_DECODE_H

#include <stdint.h>

#include "region/object.h"
#include "region/region.h"

/*
 * Decodes r (BORROWED). On success *root is a NEW reference to the heap copy
 * of the root object (lx_unref it) and *nobjects (optional) the number of
 * objects decoded. Returns 0, -ENOMEM, or REGION_EUNSUPPORTED for a
 * multi-part region whose part 0 points into another part, with err filled.
 */
__attribute__((warn_unused_result))
int region_decode(const region *r, lx_word *root, uint64_t *nobjects, region_error *err);

#endif
