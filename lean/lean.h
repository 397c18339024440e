/*
 * lean/lean.h — Lean 4 data on top of a validated region: ModuleData, Import,
 * Name, Level, Expr, ConstantInfo, and an expression printer in Lean syntax.
 *
 * Everything here is a view: the decoders read the region in place and hand
 * back words (lx_word) and scalars; nothing is copied unless the caller asks
 * for text in a buffer (ln_buf) or a caller-provided char array. Every
 * function is pure over an immutable region, so any number of threads may call
 * any of them at once on the same module (the ln_module struct is never
 * written after ln_module_open).
 *
 * Layouts differ between Lean versions ("eras", lean-olean-format.md §4.7).
 * The era is chosen from object shapes (ModuleData pointer count and size,
 * lam/forallE/letE sizes, InductiveVal pointer count), never from the header
 * version alone. Every decoding function checks tag, pointer count and size
 * before reading an object and returns REGION_ECORRUPT on a wrong shape, with
 * err->offset the file offset of the offending object (region_offset_of) and
 * err->path the region's path. err may be NULL everywhere.
 *
 * Words handed out are valid as long as the region stays open. A boxed word
 * (bit 0 set) stands for a nullary constructor or a small number, as in Lean:
 * box(0) is Name.anonymous, List.nil, Level.zero (2023+) or Nat 0 depending on
 * the field.
 */
#ifndef ENVPOOL_LEAN_LEAN_H
#define ENVPOOL_LEAN_LEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region/hash.h"
#include "region/region.h"
#include "util/error.h"

#define LN_WUR __attribute__((warn_unused_result))

/* ------------------------------------------------------------------------ */
/* Growable text buffer with a hard size limit.                              */

/*
 * Output of the formatters. Appends never fail silently: past `limit` bytes
 * the buffer is cut at a UTF-8 boundary, "…" is appended, `truncated` is set
 * and LN_ETOOBIG returned; on allocation failure -ENOMEM. data is always
 * NUL-terminated once anything was appended (ln_buf_cstr gives "" otherwise).
 * Caller-owned storage: ln_buf_init / ln_buf_deinit. Not thread-safe (one
 * buffer per thread).
 */
typedef struct ln_buf {
    char  *data;      /* new (mem_try_*), owned by the buffer */
    size_t len;       /* bytes used, excluding the NUL */
    size_t cap;       /* bytes allocated */
    size_t limit;     /* maximum len (0: LN_BUF_DEFAULT_LIMIT) */
    bool   truncated; /* the limit was hit and "…" appended */
} ln_buf;

enum { LN_BUF_DEFAULT_LIMIT = 1 << 20 };

void ln_buf_init(ln_buf *b, size_t limit);
void ln_buf_deinit(ln_buf *b);
void ln_buf_reset(ln_buf *b);                 /* len = 0, truncated = false; keeps memory */
const char *ln_buf_cstr(const ln_buf *b);     /* borrowed; "" when empty */
/* Marks the buffer cut: appends "…" once and sets truncated (best effort on ENOMEM). */
void ln_buf_cut(ln_buf *b);
LN_WUR int ln_buf_append(ln_buf *b, const char *s, size_t n);
LN_WUR int ln_buf_puts(ln_buf *b, const char *s);
LN_WUR int ln_buf_printf(ln_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Error codes beyond region.h's (util/error.h): LN_ETOOBIG, output limit
 * reached (text cut, "…" appended); LN_EINVAL, bad argument (malformed name
 * text, index out of range). */

/* ------------------------------------------------------------------------ */
/* Module.                                                                   */

/* Layout families (lean-olean-format.md §4.6, §4.7). */
enum ln_era {
    LN_ERA_2022   = 0, /* ModuleData [imports, constants, entries]; old Expr.Data */
    LN_ERA_2023   = 1, /* + constNames, extraConstNames (2023-02 … v4.18) */
    LN_ERA_MODULE = 2, /* + u8 isModule; Import importAll/isExported/isMeta (v4.27+) */
};

/*
 * A decoded ModuleData root. Plain values, caller storage, immutable after
 * ln_module_open; r is borrowed and must outlive the module.
 */
typedef struct ln_module {
    const region *r;
    lx_space      sp;
    enum ln_era   era;
    bool          old_expr;     /* 2022 Expr.Data layout (lam/forallE 40 bytes) */
    bool          is_module;    /* ModuleData.isModule (LN_ERA_MODULE only) */
    lx_word       root;
    lx_word       imports;      /* Array Import */
    lx_word       const_names;  /* Array Name, or 0 (2022) */
    lx_word       constants;    /* Array ConstantInfo */
    lx_word       extra_names;  /* Array Name, or 0 (2022) */
    lx_word       entries;      /* Array (Name × Array EnvExtensionEntry) */
    uint64_t      nimports, nconstants, nextra, nentries;
} ln_module;

/* Decodes the root of an open region as ModuleData. 0 or REGION_ECORRUPT. */
LN_WUR int ln_module_open(const region *r, ln_module *m, region_error *err);

const char *ln_era_name(enum ln_era era);  /* "2022", "2023", "module" */

typedef struct ln_import {
    lx_word module;        /* Name */
    /* LN_ERA_2022 / LN_ERA_2023: */
    bool    runtime_only;
    /* LN_ERA_MODULE: */
    bool    import_all, is_exported, is_meta;
} ln_import;

LN_WUR int ln_module_import(const ln_module *m, uint64_t i, ln_import *out, region_error *err);
/* constNames[i] (2023+), or the name inside constants[i] for 2022 files. */
LN_WUR int ln_module_const_name(const ln_module *m, uint64_t i, lx_word *name, region_error *err);
LN_WUR int ln_module_extra_name(const ln_module *m, uint64_t i, lx_word *name, region_error *err);
/* constants[i] as a word (ConstantInfo), checked like every read. */
LN_WUR int ln_module_const_info(const ln_module *m, uint64_t i, lx_word *info, region_error *err);

/* ------------------------------------------------------------------------ */
/* Checked object access.                                                    */

/*
 * THE way to read an object of a module: w must be an object that passes
 * region_object (inside the region, aligned, header sane, extent inside,
 * every constructor pointer field below it); on a heap module (m->r NULL) it
 * is taken as it is. On success *o is readable for the object's whole extent
 * (lx_cs_sz for constructors, lx_array_size elements, the string's bytes)
 * and the constructor fields read with lx_ctor_get may be passed to ln_obj
 * again. An array element must be taken with ln_array_get (it checks the
 * element lies below the array). `what` names the expected value in err.
 * REGION_ECORRUPT on any failure. Every decoder in lean/ reads through this,
 * so they are safe on lazily opened regions (REGION_OPEN_LAZY); code outside
 * lean/ that reads objects must use it too, never lx_obj.
 */
LN_WUR int ln_obj(const ln_module *m, lx_word w, const char *what, const uint8_t **o,
                  region_error *err);
/* Element i of the Array w: shape, index (LN_EINVAL when out of range) and the below rule. */
LN_WUR int ln_array_get(const ln_module *m, lx_word w, uint64_t i, const char *what,
                        lx_word *out, region_error *err);
/* Element count of the Array w. */
LN_WUR int ln_array_size(const ln_module *m, lx_word w, const char *what, uint64_t *n,
                         region_error *err);

/* ------------------------------------------------------------------------ */
/* Generic values.                                                           */

/* Reads a Nat that must fit 64 bits (box(n), or an MPZ of at most one limb). */
LN_WUR int ln_nat_u64(const ln_module *m, lx_word w, uint64_t *out, region_error *err);
/*
 * Appends a Nat in decimal. A Nat over LN_NAT_MAX_BITS bits, or one whose
 * digits cannot all fit out's limit, is not converted (the conversion is
 * quadratic): out is cut ("…") and LN_ETOOBIG returned.
 */
enum { LN_NAT_MAX_BITS = 32768 };
LN_WUR int ln_nat_format(const ln_module *m, lx_word w, ln_buf *out, region_error *err);
/* A String object: borrowed bytes (not counting the NUL; may contain NULs). */
LN_WUR int ln_string(const ln_module *m, lx_word w, const char **data, size_t *len, region_error *err);

/*
 * List iteration: *cursor starts as the list word; each call stores the head
 * in *head, advances *cursor and returns 1; returns 0 at the end (box(0)).
 */
LN_WUR int ln_list_next(const ln_module *m, lx_word *cursor, lx_word *head, region_error *err);
/* Length of a List (walks it). */
LN_WUR int ln_list_length(const ln_module *m, lx_word list, uint64_t *n, region_error *err);

/* ------------------------------------------------------------------------ */
/* Names.                                                                    */

/* Appends the name as dotted text with Lean's «» escaping ("[anonymous]" for anonymous). */
LN_WUR int ln_name_format(const ln_module *m, lx_word name, ln_buf *out, region_error *err);
/*
 * The same text into a caller array. *needed (if not NULL) gets the length
 * without the NUL. Returns LN_ETOOBIG (buf cut, NUL-terminated) if size is too small.
 */
LN_WUR int ln_name_to_cstr(const ln_module *m, lx_word name, char *buf, size_t size,
                           size_t *needed, region_error *err);
/*
 * Stored hash (1723 for anonymous). In 2022 files it is an older, different
 * function: an index that is looked up by text (ln_name_hash_text) must key
 * on ln_name_hash_compute, which is the same function for every era.
 */
LN_WUR int ln_name_hash_stored(const ln_module *m, lx_word name, uint64_t *hash, region_error *err);
/* Hash computed from the components with the 2023+ function (equals the stored one in 2023+ files). */
LN_WUR int ln_name_hash_compute(const ln_module *m, lx_word name, uint64_t *hash, region_error *err);
/*
 * Compares a stored name with dotted text as ln_name_format prints it (escaped
 * components «…» are accepted, as are all-digit components for numeric parts).
 * *equal is set. LN_EINVAL if text is malformed.
 */
LN_WUR int ln_name_eq_text(const ln_module *m, lx_word name, const char *text, size_t len,
                           bool *equal, region_error *err);
/* Are two stored names equal (component by component; equal words are equal at once)? */
LN_WUR int ln_name_eq(const ln_module *m, lx_word a, lx_word b, bool *equal, region_error *err);
/* 2023+ Name hash of dotted text (same parsing as ln_name_eq_text). 0 or LN_EINVAL. */
LN_WUR int ln_name_hash_text(const char *text, size_t len, uint64_t *hash);

/* The pieces of the 2023+ hash, for writers and indexes: region/hash.h's,
 * under lean/'s names (a component n ≥ 2^64 hashes as 17). */
enum { LN_NAME_ANON_HASH = REGION_NAME_ANON_HASH };
static inline uint64_t ln_name_hash_str(uint64_t prefix_hash, const char *s, size_t len)
{
    return region_name_hash_str(prefix_hash, s, len);
}
static inline uint64_t ln_name_hash_num(uint64_t prefix_hash, uint64_t n)
{
    return region_name_hash_num(prefix_hash, n);
}

/* ------------------------------------------------------------------------ */
/* Levels.                                                                   */

enum ln_level_kind { LN_LZERO, LN_LSUCC, LN_LMAX, LN_LIMAX, LN_LPARAM, LN_LMVAR };

typedef struct ln_level {
    enum ln_level_kind kind;
    lx_word a;  /* succ: the level; max/imax: left; param/mvar: Name */
    lx_word b;  /* max/imax: right */
} ln_level;

LN_WUR int ln_level_view(const ln_module *m, lx_word w, ln_level *out, region_error *err);
/* Appends the level in Lean syntax: 0, u, u + 1, max u v, imax u v, ?u. */
LN_WUR int ln_level_format(const ln_module *m, lx_word w, ln_buf *out, region_error *err);

/* ------------------------------------------------------------------------ */
/* Expressions.                                                              */

enum ln_expr_kind {
    LN_BVAR = 0, LN_FVAR, LN_MVAR, LN_SORT, LN_CONST, LN_APP, LN_LAM, LN_FORALL,
    LN_LET, LN_LIT, LN_MDATA, LN_PROJ,
};

enum ln_binder_info { LN_BI_DEFAULT = 0, LN_BI_IMPLICIT, LN_BI_STRICT, LN_BI_INST, LN_BI_AUXDECL };

typedef struct ln_expr {
    enum ln_expr_kind kind;
    /*
     * Fields by kind (all words):
     *   bvar:  a = idx (Nat)            fvar/mvar: a = Name
     *   sort:  a = Level                const: a = Name, b = List Level
     *   app:   a = fn, b = arg          lam/forall: a = binder Name, b = type, c = body
     *   let:   a = Name, b = type, c = value, d = body
     *   lit:   a = Literal; is_str tells which, lit = the Nat or String word
     *   mdata: a = KVMap (List), b = expr
     *   proj:  a = struct type Name, b = idx (Nat), c = struct expr
     */
    lx_word  a, b, c, d;
    lx_word  lit;
    bool     is_str;
    uint8_t  binder_info;   /* enum ln_binder_info (lam/forall) */
    bool     non_dep;       /* let */
    uint64_t data;          /* the stored Expr.Data word */
    uint32_t loose_bvar_range; /* decoded from data for either layout */
} ln_expr;

LN_WUR int ln_expr_view(const ln_module *m, lx_word w, ln_expr *out, region_error *err);

/*
 * Appends e in Lean syntax (see print.c for the conventions: binder braces,
 * ∀/fun/let, → for non-dependent arrows, Sort/Type/Prop, .{u} on constants,
 * de Bruijn indices resolved to names with fresh x_1-style names on clashes,
 * e.S.1 projections, mdata skipped, all arguments shown). Iterative; output is
 * bounded by out->limit (LN_ETOOBIG, text cut with "…"), work by a step budget
 * proportional to the limit. Loose bound variables print as #i.
 */
LN_WUR int ln_expr_format(const ln_module *m, lx_word e, ln_buf *out, region_error *err);

typedef struct ln_print_opts {
    /* A non-dependent arrow whose binder has a name prints as (a : A) → B
     * ([a : C] → B for an instance), not A → B: nothing of the Expr is lost. */
    bool     named_arrows;
    /* Signature form: the first `hide` ∀ binders of e are brought into scope
     * by name without being printed, the next `show` are printed one by one
     * as " (x : A)" in their braces (never as arrows), then " : " and the
     * rest: `inductive T` + " (α : Type u) : Type u". REGION_ECORRUPT if e
     * has fewer binders. Without signature, `hide` leading ∀ or fun binders
     * are brought into scope and the rest printed (a value after its
     * parameters: `def f (x : A) : B :=` + " b"). */
    bool     signature;
    uint64_t hide, show;
} ln_print_opts;

/* ln_expr_format with options (o BORROWED; NULL: the defaults above, all off). */
LN_WUR int ln_expr_format_opts(const ln_module *m, lx_word e, const ln_print_opts *o, ln_buf *out,
                               region_error *err);

/* ------------------------------------------------------------------------ */
/* Constants.                                                                */

enum ln_const_kind {
    LN_AXIOM = 0, LN_DEF, LN_THM, LN_OPAQUE, LN_QUOT, LN_INDUCT, LN_CTOR, LN_REC,
};
/* "axiom" "def" "theorem" "opaque" "quot" "inductive" "ctor" "rec" */
const char *ln_const_kind_name(enum ln_const_kind k);

enum ln_hints_kind { LN_HINTS_OPAQUE = 0, LN_HINTS_ABBREV, LN_HINTS_REGULAR };
enum ln_safety { LN_UNSAFE = 0, LN_SAFE, LN_PARTIAL };
/* The one spelling of each: "opaque" "abbrev" "regular"; "unsafe" "safe" "partial";
 * quot kinds "type" "ctor" "lift" "ind". "?" for a value outside the enum. */
const char *ln_hints_name(unsigned hints);
const char *ln_safety_name(unsigned safety);
const char *ln_quot_kind_name(unsigned quot_kind);

typedef struct ln_const {
    enum ln_const_kind kind;
    lx_word  info;          /* the ConstantInfo object */
    lx_word  name;          /* Name */
    lx_word  level_params;  /* List Name */
    lx_word  type;          /* Expr */
    lx_word  value;         /* def/theorem/opaque: Expr; else 0 */
    lx_word  all;           /* List Name (def/thm/opaque/induct/rec); 0 when absent (2022 def/thm) */
    bool     is_unsafe;     /* axiom, opaque, induct, ctor, rec */
    /* def */
    uint8_t  safety;        /* enum ln_safety */
    uint8_t  hints;         /* enum ln_hints_kind */
    uint32_t hints_height;  /* regular */
    /* quot */
    uint8_t  quot_kind;     /* 0 type, 1 ctor, 2 lift, 3 ind */
    /* inductive */
    uint64_t num_params, num_indices;  /* also ctor (num_params), rec */
    lx_word  ctors;         /* List Name */
    bool     is_rec, is_reflexive;
    bool     has_num_nested; /* v4.18+: num_nested valid; else is_nested */
    uint64_t num_nested;
    bool     is_nested;
    /* ctor */
    lx_word  induct;        /* Name */
    uint64_t cidx, num_fields;
    /* rec */
    uint64_t num_motives, num_minors;
    lx_word  rules;         /* List RecursorRule */
    bool     k;
} ln_const;

LN_WUR int ln_const_decode(const ln_module *m, lx_word info, ln_const *out, region_error *err);
LN_WUR int ln_module_const(const ln_module *m, uint64_t i, ln_const *out, region_error *err);

typedef struct ln_rec_rule {
    lx_word  ctor;      /* Name */
    uint64_t nfields;
    lx_word  rhs;       /* Expr */
} ln_rec_rule;

LN_WUR int ln_rec_rule_view(const ln_module *m, lx_word w, ln_rec_rule *out, region_error *err);

/* Appends "name.{u, v}" (no braces when there are no level params). */
LN_WUR int ln_const_format_header(const ln_module *m, const ln_const *c, ln_buf *out, region_error *err);

/* ------------------------------------------------------------------------ */
/* Extension entries (lean/ext.c; names and shapes: docs/extension-entries.md) */

/*
 * The extensions whose entries are decoded. Every other extension is
 * LN_EXT_OTHER: listed (name, entry count), never an error.
 */
enum ln_ext_kind {
    LN_EXT_OTHER = 0,
    LN_EXT_DOC,               /* docStringExt: decl, text */
    LN_EXT_INHERIT_DOC,       /* inheritDocStringExt: decl, name2 = where the doc comes from */
    LN_EXT_MODULE_DOC,        /* moduleDocExt: text, range */
    LN_EXT_RANGE,             /* declRangeExt: decl, range, selection */
    LN_EXT_NAMESPACE,         /* namespacesExt: decl = the namespace */
    LN_EXT_PROTECTED,         /* protectedExt: decl */
    LN_EXT_NONCOMPUTABLE,     /* noncomputableExt: decl */
    LN_EXT_ALIAS,             /* aliasExtension: decl = alias, name2 = target */
    LN_EXT_REDUCIBILITY,      /* reducibilityAttrs / reducibilityCore / reducibilityExtra: decl, value */
    LN_EXT_INLINE,            /* inlineAttrs: decl, value = enum ln_inline_kind */
    LN_EXT_EXTERN,            /* externAttr: decl, text = symbol or pattern of the first entry (0: none) */
    LN_EXT_IMPLEMENTED_BY,    /* implementedByAttr: decl, name2 = the implementation */
    LN_EXT_CLASS,             /* classExtension: decl = the class */
    LN_EXT_INSTANCE,          /* instanceExtension: decl (0 for a nameless local), priority, value = attrKind */
    LN_EXT_SIMP,              /* simpExtension: decl (0 when no declaration), priority, post, inverse */
    LN_EXT_STRUCTURE,         /* structureExt: decl = the structure, fields / parents */
    LN_EXT_DEPRECATED,        /* deprecatedAttr: decl, name2 = newName (0), text, text2 = since */
    LN_EXT_NKINDS
};

/* "doc", "inherit_doc", "module_doc", "range", "namespace", "protected", ... ("other") */
const char *ln_ext_kind_name(enum ln_ext_kind k);

enum ln_reducibility { LN_REDUCIBLE = 0, LN_SEMIREDUCIBLE, LN_IRREDUCIBLE, LN_IMPLICIT_REDUCIBLE,
                       LN_INSTANCE_REDUCIBLE };
/* "reducible" "semireducible" "irreducible" "implicit_reducible" "instance_reducible" (NULL: unknown) */
const char *ln_reducibility_name(unsigned status);
enum ln_inline_kind { LN_INLINE = 0, LN_NOINLINE, LN_MACRO_INLINE, LN_INLINE_IF_REDUCE, LN_ALWAYS_INLINE };
/* "inline" "noinline" "macro_inline" "inline_if_reduce" "always_inline" (NULL: unknown) */
const char *ln_inline_name(unsigned kind);

/* One extension of ModuleData.entries. */
typedef struct ln_ext {
    enum ln_ext_kind kind;
    lx_word  name;     /* the extension's Name */
    lx_word  entries;  /* Array EnvExtensionEntry */
    uint64_t n;        /* number of entries */
} ln_ext;

/* entries[i] (i < m->nentries): its name, kind and entry array. 0, REGION_ECORRUPT, LN_EINVAL. */
LN_WUR int ln_ext_get(const ln_module *m, uint64_t i, ln_ext *out, region_error *err);
/* The kind of an extension name (a `_private.….0.` prefix is ignored). Never fails: OTHER. */
enum ln_ext_kind ln_ext_classify(const ln_module *m, lx_word name);

/* A source position as Lean stores it: line from 1, column from 0 in codepoints. */
typedef struct ln_pos {
    uint64_t line, column;
    uint64_t column_utf16;  /* the same column in UTF-16 code units */
} ln_pos;

typedef struct ln_range {
    ln_pos start, end;
} ln_range;

/* One decoded entry; which fields mean something depends on kind (see enum ln_ext_kind). */
typedef struct ln_ext_entry {
    enum ln_ext_kind kind;
    lx_word  decl;         /* Name, or 0 */
    lx_word  name2;        /* Name, or 0 */
    lx_word  text;         /* String, or 0 */
    lx_word  text2;        /* String, or 0 */
    ln_range range;        /* RANGE, MODULE_DOC */
    ln_range selection;    /* RANGE */
    uint32_t value;        /* REDUCIBILITY status, INLINE kind, INSTANCE attrKind */
    uint64_t priority;     /* INSTANCE, SIMP */
    bool     post;         /* SIMP: post-lemma (false: `↓`) */
    bool     inverse;      /* SIMP: `←` (only where Origin stores it) */
    bool     scoped;       /* a scoped entry of a ScopedEnvExtension */
    lx_word  scope;        /* its namespace (Name), or 0 */
    lx_word  inst_val;     /* INSTANCE: the Expr */
    /* STRUCTURE */
    lx_word  field_names;  /* Array Name, in declaration order */
    lx_word  field_info;   /* Array StructureFieldInfo, sorted by name */
    lx_word  parent_info;  /* Array StructureParentInfo, or 0 (older shape) */
    uint64_t nfields, nparents;
} ln_ext_entry;

/*
 * Decodes entry j of x. A malformed entry is REGION_ECORRUPT with the
 * offset of the offending object and what was expected; it says nothing
 * about the other entries, which stay decodable. OTHER extensions: LN_EINVAL.
 */
LN_WUR int ln_ext_entry_get(const ln_module *m, const ln_ext *x, uint64_t j, ln_ext_entry *out,
                            region_error *err);

typedef struct ln_struct_field {
    lx_word name;        /* field name (one component) */
    lx_word proj;        /* projection function */
    lx_word subobject;   /* parent structure Name if the field is a subobject, else 0 */
    uint8_t binder_info; /* enum ln_binder_info */
} ln_struct_field;

/*
 * The class of an instance whose type is `type`: the head constant after its
 * ∀ binders (through applications and mdata), *cls = its Name, or 0 when the
 * type has no constant head. Bounded (100,000 nodes).
 */
LN_WUR int ln_instance_class(const ln_module *m, lx_word type, lx_word *cls, region_error *err);

/* Field i (< e->nfields) of a STRUCTURE entry, in declaration order. */
LN_WUR int ln_ext_struct_field(const ln_module *m, const ln_ext_entry *e, uint64_t i,
                               ln_struct_field *out, region_error *err);
/*
 * Direct parents of a STRUCTURE entry: parentInfo's structName where stored
 * (e->parent_info), else the subobject fields' structures. *n gets the count
 * when names is NULL; otherwise names[0..max) are filled and *n = how many.
 */
LN_WUR int ln_ext_struct_parents(const ln_module *m, const ln_ext_entry *e, lx_word *names,
                                 size_t max, size_t *n, region_error *err);

#endif
