/*
 * protocol/decl_json.h — a declaration as JSON: the one renderer behind the
 * daemon's decl.get and `envpool dump --json`, and the one UTF-8 repair for
 * JSON strings made from module bytes.
 *
 * The two views show the same facts; they differ in some keys and shapes
 * (decl.get: "params", hints {"regular": N}, rules [{ctor, fields}];
 * dump --json, fixed by issue 2: "num_params", hints "regular N", rules
 * [ctor names]). decl_json.c names every field once, with its key in each
 * view, in one table: a new field (doc, range, attributes…) is one row there
 * and one case in its field_value.
 */
#ifndef ENVPOOL_PROTOCOL_DECL_JSON_H
#define ENVPOOL_PROTOCOL_DECL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lean/lean.h"
#include "pool/pool.h"

/* Which view: decl.get's result (docs/protocol.md) or a constant of dump --json (DESIGN.md §2). */
enum decl_json_view { DECL_JSON_RPC = 0, DECL_JSON_DUMP = 1 };

typedef struct decl_json_opts {
    enum decl_json_view view;
    const char *module;      /* borrowed; "module" key (RPC view); NULL: no such key */
    size_t      name_limit;  /* ln_buf limits for names, the type and the value (0: the default) */
    size_t      type_limit;
    bool        want_value;  /* RPC view: "value", "value_truncated", "value_limit" */
    size_t      value_limit;
    /*
     * RPC view: what the environment's extension entries say (pool_env_decl_info
     * of this constant in env; both borrowed): "doc", "range", "source",
     * "attrs", "attr_info", and for inductives "fields" / "parents". NULL
     * info: those keys are null / [] / {} (nothing is made up).
     */
    const pool_env       *env;
    const pool_decl_info *info;
} decl_json_opts;

/*
 * Adds c's fields to the object out (in the view's order), formatting through
 * scratch (caller-owned; its limit is set per field). Texts longer than their
 * limit are cut (RPC view: "type_truncated"/"value_truncated"), not an error.
 * 0, or a negative lean/region code with *err filled by the decoder (out then
 * holds the fields added so far). Any thread.
 */
int decl_json(const ln_module *m, const ln_const *c, const decl_json_opts *o, ln_buf *scratch, json_t *out,
              region_error *err);

/*
 * A JSON string from bytes that should be UTF-8: kept as they are when they
 * are (NUL included: JSON writes it \u0000); otherwise each byte that does not
 * start a valid sequence (stray, cut, overlong, surrogate) becomes U+FFFD.
 * New; NULL only when even "" cannot be allocated.
 */
json_t *decl_json_text(const char *s, size_t n);

/*
 * A source range as Lean stores it: {"start": P, "end": P} plus, when
 * selection is not NULL, "selection": {"start": P, "end": P}; each P is
 * {"line" (from 1), "column" (from 0, codepoints), "column_utf16"}. New; NULL on ENOMEM.
 */
json_t *decl_json_range(const ln_range *range, const ln_range *selection);

/*
 * The class of an instance constant c of module m as a JSON string (the head
 * constant of its type after the ∀ binders), or null. New.
 */
json_t *decl_json_instance_class(const ln_module *m, const ln_const *c, ln_buf *scratch);

/* A Name as a JSON string (formatted through scratch; a cut name is not an error). 0 or an error. */
int decl_json_name(const ln_module *m, lx_word name, ln_buf *scratch, json_t **out, region_error *err);

#endif
