/*
 * region/hash.h — Lean's runtime hashes, the one implementation in envpool:
 * MurmurHash64A (src/runtime/hash.cpp, Lean's string hash with seed 11),
 * mixHash (src/runtime/hash.h, lean_uint64_mix_hash) and the 2023+ Name.hash
 * built from them (lean-olean-format.md §4.1):
 *
 *   anonymous 1723;  str p s = mix(p, murmur64a(s, 11));
 *   num p n = mix(p, n < 2^64 ? n : 17)
 *
 * They live in region/ because the compactor needs the Name hash of a module
 * name for its base address; lean/ (cached Name/Level/Expr data) and pool/
 * use the same functions.
 *
 * Pure functions; any thread.
 */
#ifndef ENVPOOL_REGION_HASH_H
#define ENVPOOL_REGION_HASH_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash64A of len bytes at data (borrowed), as Lean's hash_str. */
uint64_t region_murmur64a(const void *data, size_t len, uint64_t seed);
/* Lean's mixHash (hash(u64, u64)); note Lean's k ^= m where Murmur has k *= m. */
uint64_t region_hash_mix(uint64_t h, uint64_t k);

/* Name.hash: the anonymous name, and one component appended to a prefix's hash. */
enum { REGION_NAME_ANON_HASH = 1723 };
uint64_t region_name_hash_str(uint64_t prefix_hash, const char *s, size_t len);
/* n is the component if it is below 2^64; pass 17 for a larger one (Lean's rule). */
uint64_t region_name_hash_num(uint64_t prefix_hash, uint64_t n);
/* Name.hash of key split at every '.' into string components (a module name). */
uint64_t region_name_hash(const char *key);

#endif
