/*
 * tests/support/damage.h — seeded mutations of region images, shared by the
 * damage test and the fuzz target's self-check.
 */
#ifndef ENVPOOL_TESTS_DAMAGE_H
#define ENVPOOL_TESTS_DAMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lean/lean.h"
#include "region/region.h"

typedef struct damage_stats {
    unsigned long accepted, rejected, unsupported;
    unsigned long decoded;        /* accepted, touched and decoded without any refusal */
    unsigned long refused_read;   /* accepted, but some object or decoder refused on reading */
    unsigned long eager_accepted; /* lazy runs: of the accepted, how many the eager pass accepts */
} damage_stats;

/*
 * Copies img, applies one mutation chosen by seed, opens the result, and if it
 * validates reads every object reachable from the root (region_touch_all).
 * Counts the outcome in *st. A rejection must carry a reason and an offset
 * within the image (or none); anything else aborts the test.
 */
void damage_one(const uint8_t *img, size_t len, uint64_t seed, damage_stats *st);
/*
 * The same with region_open flags. With REGION_OPEN_LAZY the open checks
 * little, so damage shows as refusals when objects are read (refused_read);
 * a file the eager pass also accepts must then read exactly as it does
 * eagerly (clean or refused alike), else the test aborts.
 */
void damage_one_flags(const uint8_t *img, size_t len, uint64_t seed, unsigned flags,
                      damage_stats *st);

/*
 * Reads every object reachable from the root of r once (iteratively), so that
 * an unchecked read shows under the sanitizers. Each object is taken through
 * region_object and each pointer read out of it must lie below it
 * (region_below), as a lazy reader must. Returns the objects visited, or -1
 * if any was refused (only possible for a lazily opened region).
 */
long region_touch_all(const region *r);

/*
 * Decodes the module as lean/ does for dump: imports, names and hashes, every
 * constant with its printed type and value, recursor rules. Returns 0 if all
 * decoded, a negative code if anything was refused (a clean refusal is fine for
 * damaged input; a crash is not).
 */
int region_decode_all(const region *r);

/*
 * Decodes every entry of every extension lean/ knows (names, strings,
 * structure fields and parents). A refusal must carry a reason and an offset
 * inside the file (or none), else the test aborts. 0 if all decoded.
 */
int region_decode_entries(const ln_module *m, region_error *err);

/*
 * Entry damage: one mutation aimed at an object reachable from
 * ModuleData.entries of img (a field pointed at another earlier entry object,
 * a field boxed, the tag, a scalar byte, the pointer count), then the region
 * is opened and, when valid, its entries decoded (region_decode_entries);
 * then opened lazily (REGION_OPEN_LAZY) and its entries decoded again.
 * targets: from damage_entry_targets.
 */
void damage_entry_one(const uint8_t *img, size_t len, const uint64_t *targets, size_t ntargets,
                      uint64_t seed, damage_stats *st);
/* The file offsets of the objects reachable from img's entries (new array, mem_free; at most 4096). */
size_t damage_entry_targets(const uint8_t *img, size_t len, uint64_t **targets);

#endif
