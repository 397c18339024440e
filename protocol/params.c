/*
 * protocol/params.c — parameter checks shared by the environment methods
 * (decl.search, decl.find, decl.uses/used_by, the info lists): "kinds" and
 * "cursor" mean the same everywhere, so they are checked and read in one place.
 */
#include "protocol/protocol_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"

/* The bit of a kind name (1 << ln_const_kind), or 0 when it names none. */
static unsigned kind_bit(const char *name)
{
    for (int k = LN_AXIOM; k <= LN_REC; k++)
        if (!strcmp(name, ln_const_kind_name((enum ln_const_kind)k)))
            return 1u << k;
    return 0;
}

int param_check_kinds(rpc_call *call, json_t *params)
{
    json_t *kinds;
    int rc = rpc_param_strings(call, params, "kinds", false, 8, &kinds);
    if (rc)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(kinds, i, v) {
        if (!kind_bit(json_string_value(v))) {
            rpc_call_errorf(call, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "kinds"),
                            "param 'kinds': item %zu must be one of axiom, def, theorem, opaque, quot, "
                            "inductive, ctor, rec",
                            i);
            return -EINVAL;
        }
    }
    return 0;
}

unsigned param_kinds_mask(json_t *params)
{
    unsigned mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(params, "kinds"), i, v)
        mask |= kind_bit(json_string_value(v));
    return mask;
}

static bool cursor_valid(const char *cursor)
{
    char *end;
    errno = 0;
    unsigned long long cv = strtoull(cursor, &end, 10);
    return !(errno || *end || cursor[0] < '0' || cursor[0] > '9' || cv == 0);
}

int param_check_cursor(rpc_call *call, json_t *params)
{
    const char *cursor = NULL;
    int rc = rpc_param_string(call, params, "cursor", false, &cursor);
    if (rc || !cursor)
        return rc;
    if (!cursor_valid(cursor)) {
        rpc_call_error(call, RPC_INVALID_PARAMS, "param 'cursor': must be a next_cursor from a previous page",
                       json_pack("{s:s}", "param", "cursor"));
        return -EINVAL;
    }
    return 0;
}
