/*
 * cli/genlib.h — realistic synthetic libraries (`envpool gen --shape`) and the
 * measurements they are calibrated against (`envpool gen --measure`).
 *
 * Both sit in the command-line tool, on top of lean/'s builders (lean/parse.h)
 * and region/'s compactor: nothing in the daemon's library depends on them.
 * docs/bench.md gives the measured distributions of the real samples and the
 * method.
 *
 * Thread: one thread per call; no shared state.
 */
#ifndef ENVPOOL_CLI_GENLIB_H
#define ENVPOOL_CLI_GENLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Who first reached an object in a measuring walk (each object counts once). */
enum gen_role {
    GEN_ROLE_NAMES = 0, /* ModuleData.constNames and the Name objects they hold */
    GEN_ROLE_TYPES,     /* reached from constant types */
    GEN_ROLE_VALUES,    /* from definition values, proofs, recursor rules */
    GEN_ROLE_INFO,      /* the rest of the ConstantInfo objects (lists, names, vals) */
    GEN_ROLE_ENTRIES,   /* extension entries */
    GEN_ROLE_OTHER,     /* imports, extraConstNames, the root, arrays */
    GEN_ROLE_N
};

/* Auxiliary constants, by the last component of their name. */
enum gen_aux {
    GEN_AUX_REC = 0, GEN_AUX_REC_ON, GEN_AUX_CASES_ON, GEN_AUX_NO_CONFUSION, GEN_AUX_NO_CONFUSION_TYPE,
    GEN_AUX_INJ_EQ, GEN_AUX_INJ, GEN_AUX_SIZEOF_SPEC, GEN_AUX_BELOW, GEN_AUX_BREC_ON, GEN_AUX_MATCH,
    GEN_AUX_PROOF, GEN_AUX_EQ, GEN_AUX_N
};
const char *gen_aux_name(enum gen_aux a);

enum { GEN_EXPR_TAGS = 12, GEN_EXT_KINDS = 20, GEN_CONST_KINDS = 8 };

typedef struct gen_measure {
    uint64_t files, bytes, objects, constants, imports;
    uint64_t kinds[GEN_CONST_KINDS];       /* enum ln_const_kind */
    uint64_t aux[GEN_AUX_N];               /* auxiliary constants by name */
    uint64_t with_value;                   /* constants with a value (def/thm/opaque) */
    uint64_t role_bytes[GEN_ROLE_N], role_objects[GEN_ROLE_N];
    uint64_t expr_nodes, expr_bytes;       /* distinct Expr objects of types and values */
    uint64_t expr_refs;                    /* references to them (roots and child fields) */
    uint64_t expr_tags[GEN_EXPR_TAGS];     /* distinct Expr objects by kind */
    uint64_t type_nodes, value_nodes;      /* distinct Expr objects first reached from types / values */
    uint64_t name_objs;                    /* Name.str/Name.num objects reached anywhere in Exprs or names */
    uint64_t ext_entries[GEN_EXT_KINDS], ext_bytes[GEN_EXT_KINDS]; /* enum ln_ext_kind */
    uint64_t doc_text_bytes;               /* bytes of docstring text */
    uint64_t strings, string_bytes;        /* String objects (all roles) */
} gen_measure;

/* Adds one .olean file's figures to *m. 0, or -1 with a message in err. */
int  gen_measure_file(const char *path, gen_measure *m, char *err, size_t errsize);
/* Adds every .olean under dir (recursively). */
int  gen_measure_dir(const char *dir, gen_measure *m, char *err, size_t errsize);
/* Human-readable report: totals, per-constant figures, mixes. */
void gen_measure_print(const gen_measure *m, FILE *f);

/* Derived per-constant figures used by the report, the generator and the tests. */
typedef struct gen_ratios {
    double bytes_per_const, objects_per_const, expr_nodes_per_const, expr_sharing;
    double type_nodes_per_const, value_nodes_per_const, value_share_of_bytes;
    double aux_share, entries_per_const, entry_bytes_per_const, doc_share, range_share;
    double expr_tag_share[GEN_EXPR_TAGS];
} gen_ratios;
void gen_measure_ratios(const gen_measure *m, gen_ratios *r);

/* ---- generation ---------------------------------------------------------- */

typedef struct gen_shape {
    const char *name;
    uint32_t modules, decls;     /* user declarations per module (aux constants come on top) */
    uint32_t fan_in, depth;
    uint32_t value_nodes;        /* mean Expr nodes of a value or proof */
    uint32_t type_binders;       /* mean binders of a type */
    uint32_t doc_bytes;          /* mean docstring length */
    uint32_t doc_percent;        /* user declarations with a docstring */
    uint32_t ir_nodes;           /* mean nodes of a definition's compiler-IR-like entry */
} gen_shape;

/* "lean", "mathlib", "small"; NULL if unknown. */
const gen_shape *gen_shape_find(const char *name);

typedef struct gen_lib_stats {
    uint64_t modules, constants, bytes;
} gen_lib_stats;

/*
 * Writes DIR/PREFIX.olean (importing every module nobody imports) and
 * DIR/PREFIX/Lk/Mi.olean. modules overrides the shape's count when not 0.
 * jobs processes (fork) write the modules; the bytes do not depend on it.
 * Deterministic for a seed. 0, or -1 with a message in err.
 */
int gen_lib_write(const char *dir, const gen_shape *shape, const char *prefix, uint32_t modules,
                  uint64_t seed, unsigned jobs, gen_lib_stats *st, char *err, size_t errsize);

#endif
