/*
 * protocol/methods_info.c — the paged lists made from the extension entries:
 * module.doc, instance.list, attr.list and decl.children (docs/protocol.md).
 *
 * methods_env.c acquires the environment (handle or import list) and hands
 * the call here. Every list runs on a worker: the first one of an
 * environment builds its declaration info (pool_env_declinfo_build, every
 * entry of every module decoded once) and decl.children its search
 * structures, neither of which may stall the loop. The worker also renders
 * the result (pure jansson over mapped memory, under region_guard_run); the
 * loop thread only answers. A cancelled call is detached and its job freed
 * when the worker is done.
 *
 * Paging is decl.search's: "limit" 1..1000 (default 50), "cursor" the string
 * "next_cursor" of the previous page, null after the last.
 */
#include "protocol/protocol_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "protocol/decl_json.h"
#include "region/guard.h"
#include "util/error.h"
#include "util/mem.h"

typedef struct info_job {
    const env_host *host;
    size_t         *pending;
    enum info_op    op;
    rpc_call       *call;     /* NULL once cancelled */
    json_t         *params;   /* new reference */
    pool_env       *env;      /* own reference */
    /* results, filled on the worker */
    json_t         *result;
    int             rc;
    const char     *bad_param; /* static: the param an EINVAL is about */
    char            reason[256];
} info_job;

static uint64_t param_cursor(json_t *params)
{
    const char *c = json_string_value(json_object_get(params, "cursor"));
    return c ? strtoull(c, NULL, 10) : 0;
}

static uint32_t param_limit(json_t *params)
{
    json_t *l = json_object_get(params, "limit");
    return json_is_integer(l) ? (uint32_t)json_integer_value(l) : 50;
}

static json_t *cursor_json(uint64_t next)
{
    if (!next)
        return json_null();
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)next);
    return json_string(buf);
}

static json_t *ref_name(const pool_env *e, const pool_const_ref *ref, ln_buf *b)
{
    json_t *v = NULL;
    region_error ignore;
    if (decl_json_name(pool_env_ln_module(e, ref->module), ref->name, b, &v, &ignore) < 0 || !v)
        return json_null();
    return v;
}

static const char *module_name(const pool_env *e, uint32_t k)
{
    pool_module_info mi;
    pool_env_module(e, k, &mi);
    return mi.name;
}

static const char *kind_of(const pool_env *e, const pool_const_ref *ref)
{
    ln_const c;
    region_error ignore;
    if (ln_const_decode(pool_env_ln_module(e, ref->module), ref->info, &c, &ignore))
        return "unknown";
    return ln_const_kind_name(c.kind);
}

/* A page of module docs: {"module", "doc", "range"}. */
static int page_module_doc(info_job *j, ln_buf *b)
{
    (void)b;
    const char *mod = json_string_value(json_object_get(j->params, "module"));
    size_t k = SIZE_MAX;
    if (mod) {
        for (size_t i = 0; i < pool_env_module_count(j->env) && k == SIZE_MAX; i++)
            if (!strcmp(module_name(j->env, (uint32_t)i), mod))
                k = i;
        if (k == SIZE_MAX) {
            j->bad_param = "module";
            snprintf(j->reason, sizeof j->reason, "param 'module': '%.200s' is not a module of this environment",
                     mod);
            return POOL_EINVAL;
        }
    }
    uint32_t limit = param_limit(j->params);
    pool_entry_ref *ents = mem_try_array(limit, sizeof *ents);
    if (!ents)
        return -ENOMEM;
    size_t n;
    uint64_t next;
    int rc = pool_env_module_docs(j->env, k, limit, param_cursor(j->params), ents, &n, &next);
    json_t *items = json_array();
    for (size_t i = 0; !rc && i < n; i++) {
        ln_ext_entry e;
        region_error re;
        const ln_module *em = pool_env_ln_module(j->env, ents[i].module);
        const char *d;
        size_t dl;
        if (pool_env_entry(j->env, &ents[i], &e, &re) || ln_string(em, e.text, &d, &dl, &re))
            continue; /* decoded once at the build; cannot fail unless the file changed */
        json_array_append_new(items, json_pack("{s:s,s:o,s:o}", "module", module_name(j->env, ents[i].module),
                                               "doc", decl_json_text(d, dl), "range",
                                               decl_json_range(&e.range, NULL)));
    }
    mem_free(ents);
    j->result = json_pack("{s:o,s:o}", "items", items, "next_cursor", cursor_json(next));
    return rc;
}

/* A page of instances: {"name", "module", "priority"}. */
static int page_instances(info_job *j, ln_buf *b)
{
    const char *cls = json_string_value(json_object_get(j->params, "class"));
    uint32_t limit = param_limit(j->params);
    pool_const_ref *refs = mem_try_array(limit, sizeof *refs);
    pool_entry_ref *ents = mem_try_array(limit, sizeof *ents);
    size_t n = 0;
    uint64_t next = 0;
    int rc = refs && ents ? pool_env_instances(j->env, cls, strlen(cls), limit, param_cursor(j->params), refs,
                                               ents, &n, &next)
                          : -ENOMEM;
    if (rc == POOL_EINVAL && param_cursor(j->params) == 0) {
        j->bad_param = "class";
        snprintf(j->reason, sizeof j->reason, "param 'class': not a well-formed declaration name");
    }
    json_t *items = json_array();
    for (size_t i = 0; !rc && i < n; i++) {
        ln_ext_entry e;
        region_error re;
        uint64_t prio = 0;
        if (pool_env_entry(j->env, &ents[i], &e, &re) == 0)
            prio = e.priority;
        json_array_append_new(items, json_pack("{s:o,s:s,s:I}", "name", ref_name(j->env, &refs[i], b), "module",
                                               module_name(j->env, refs[i].module), "priority", (json_int_t)prio));
    }
    mem_free(refs);
    mem_free(ents);
    j->result = json_pack("{s:s,s:o,s:o}", "class", cls, "items", items, "next_cursor", cursor_json(next));
    return rc;
}

/* A page of declarations with an attribute: {"name", "kind", "module"}. */
static int page_attrs(info_job *j, ln_buf *b)
{
    const char *attr = json_string_value(json_object_get(j->params, "attr"));
    enum pool_attr a;
    if (pool_attr_parse(attr, strlen(attr), &a))
        return POOL_EINVAL; /* checked before: not reached */
    uint32_t limit = param_limit(j->params);
    pool_const_ref *refs = mem_try_array(limit, sizeof *refs);
    size_t n = 0;
    uint64_t next = 0;
    int rc = refs ? pool_env_attr_list(j->env, a, limit, param_cursor(j->params), refs, &n, &next) : -ENOMEM;
    json_t *items = json_array();
    for (size_t i = 0; !rc && i < n; i++)
        json_array_append_new(items, json_pack("{s:o,s:s,s:s}", "name", ref_name(j->env, &refs[i], b), "kind",
                                               kind_of(j->env, &refs[i]), "module",
                                               module_name(j->env, refs[i].module)));
    mem_free(refs);
    j->result = json_pack("{s:s,s:o,s:o}", "attr", attr, "items", items, "next_cursor", cursor_json(next));
    return rc;
}

/* A page of what is directly inside a namespace: {"name", "kind" ("namespace" for one), "module"?}. */
static int page_children(info_job *j, ln_buf *b)
{
    (void)b;
    const char *ns = json_string_value(json_object_get(j->params, "namespace"));
    uint32_t limit = param_limit(j->params);
    pool_child *items = mem_try_array(limit, sizeof *items);
    size_t n = 0;
    uint64_t next = 0;
    pool_error err;
    int rc = items ? pool_env_children(j->env, ns, strlen(ns), limit, param_cursor(j->params), items, &n, &next,
                                       &err)
                   : -ENOMEM;
    if (rc)
        snprintf(j->reason, sizeof j->reason, "%s", err.reason);
    json_t *arr = json_array();
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *name = decl_json_text(items[i].item.name, items[i].item.name_len);
        if (items[i].is_namespace)
            json_array_append_new(arr, json_pack("{s:o,s:s}", "name", name, "kind", "namespace"));
        else
            json_array_append_new(arr, json_pack("{s:o,s:s,s:s}", "name", name, "kind",
                                                 items[i].item.kind <= LN_REC
                                                     ? ln_const_kind_name((enum ln_const_kind)items[i].item.kind)
                                                     : "unknown",
                                                 "module", module_name(j->env, items[i].item.ref.module)));
    }
    mem_free(items);
    j->result = json_pack("{s:s,s:o,s:o}", "namespace", ns, "items", arr, "next_cursor", cursor_json(next));
    return rc;
}

static int info_run(void *arg)
{
    info_job *j = arg;
    pool_error err;
    int rc = pool_env_declinfo_build(j->env, &err);
    if (rc) {
        snprintf(j->reason, sizeof j->reason, "%s", err.reason);
        return rc;
    }
    ln_buf b;
    ln_buf_init(&b, 64 * 1024);
    switch (j->op) {
    case INFO_MODULE_DOC: rc = page_module_doc(j, &b); break;
    case INFO_INSTANCES: rc = page_instances(j, &b); break;
    case INFO_ATTRS: rc = page_attrs(j, &b); break;
    case INFO_CHILDREN: rc = page_children(j, &b); break;
    }
    ln_buf_deinit(&b);
    return rc;
}

static void info_work(void *arg)
{
    info_job *j = arg;
    j->rc = region_guard_run(info_run, j);
}

static void info_done(void *arg)
{
    info_job *j = arg;
    (*j->pending)--;
    if (j->rc == REGION_ESTALE)
        (void)pool_env_find_shrunk(j->env);
    if (!j->call) {
        /* cancelled: nothing to answer */
    } else if (j->rc == POOL_EINVAL) {
        const char *param = j->bad_param ? j->bad_param : "cursor";
        if (!j->bad_param)
            snprintf(j->reason, sizeof j->reason, "param 'cursor': must be a next_cursor from a previous page");
        rpc_call_error(j->call, RPC_INVALID_PARAMS, j->reason, json_pack("{s:s}", "param", param));
    } else if (j->rc == REGION_ESTALE) {
        rpc_call_error(j->call, RPC_STALE, "a module file changed while it was read", NULL);
    } else if (j->rc < 0 || !j->result) {
        rpc_call_errorf(j->call, RPC_INTERNAL_ERROR, NULL, "%s", j->reason[0] ? j->reason : envpool_strerror(j->rc));
    } else {
        rpc_call_result(j->call, j->result);
        j->result = NULL;
    }
    json_decref(j->result);
    json_decref(j->params);
    pool_env_unref(j->env);
    mem_free(j);
}

static void info_cancel(rpc_call *call, void *arg)
{
    (void)call;
    info_job *j = arg;
    j->call = NULL; /* the worker finishes; info_done frees */
}

void info_start(const env_host *host, size_t *pending, enum info_op op, rpc_call *call, json_t *params,
                pool_env *env)
{
    info_job *j = mem_calloc(1, sizeof *j);
    j->host = host;
    j->pending = pending;
    j->op = op;
    j->call = call;
    j->params = json_incref(params);
    j->env = pool_env_ref(env);
    (*pending)++;
    rpc_call_set_cancel(call, info_cancel, j);
    if (host->queue_work(host->ctx, info_work, info_done, j) < 0) {
        info_work(j);
        info_done(j);
    }
}

int info_check_params(enum info_op op, rpc_call *call, json_t *params)
{
    int64_t limit;
    const char *s = NULL;
    int rc;
    if ((rc = rpc_param_int(call, params, "limit", false, 1, POOL_SEARCH_MAX_LIMIT, 50, &limit)) ||
        (rc = param_check_cursor(call, params)))
        return rc;
    switch (op) {
    case INFO_MODULE_DOC: return rpc_param_string(call, params, "module", false, &s);
    case INFO_INSTANCES: return rpc_param_string(call, params, "class", true, &s);
    case INFO_CHILDREN: {
        json_t *ns = json_object_get(params, "namespace");
        if (!json_is_string(ns)) { /* "" is the root: allowed, unlike most strings */
            rpc_call_error(call, RPC_INVALID_PARAMS, "param 'namespace': must be a string (\"\" for the root)",
                           json_pack("{s:s}", "param", "namespace"));
            return -EINVAL;
        }
        return 0;
    }
    case INFO_ATTRS: {
        if ((rc = rpc_param_string(call, params, "attr", true, &s)))
            return rc;
        enum pool_attr a;
        if (pool_attr_parse(s, strlen(s), &a)) {
            char names[512];
            size_t off = 0;
            for (unsigned i = 0; i < POOL_ATTR_COUNT; i++)
                off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                                        pool_attr_name((enum pool_attr)i));
            rpc_call_errorf(call, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "attr"),
                            "param 'attr': must be one of %s", names);
            return -EINVAL;
        }
        return 0;
    }
    }
    return 0;
}
