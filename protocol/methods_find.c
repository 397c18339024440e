/*
 * protocol/methods_find.c — decl.find, decl.uses and decl.used_by: the
 * parameters checked on the loop thread, the work (index builds, matching,
 * printing types) on a worker, the reply back on the loop thread.
 *
 * A job holds its own reference to the environment. While it runs longer
 * than RPC_PROGRESS_US, the tick sends $/progress {loaded, total} (modules
 * indexed of the environment's modules). A cancel ($/cancelRequest, or the
 * session closing) detaches the call and asks the worker to stop between
 * modules; the job frees itself when the worker is done.
 */
#include "protocol/protocol_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "protocol/decl_json.h"
#include "region/guard.h"
#include "util/mem.h"

enum { FIND_TYPE_LIMIT = 16 * 1024 };

typedef struct find_job find_job;

struct find_jobs {
    env_host  host;
    find_job *running;   /* doubly linked */
    size_t    pending;
};

struct find_job {
    find_jobs        *fj;
    int               op;
    rpc_call         *call;      /* NULL once cancelled */
    pool_env         *env;       /* own reference */
    json_t           *params;    /* keeps strings alive */
    pool_find_ctl     ctl;
    uint64_t          last_progress_us;
    int               rc;
    pool_error        err;
    pool_find_result  fres;
    pool_dep_result   dres;
    json_t           *items;     /* built on the worker */
    find_job         *prev, *next;
};

find_jobs *rpc__find_jobs_new(const env_host *host)
{
    find_jobs *fj = mem_calloc(1, sizeof *fj);
    fj->host = *host;
    return fj;
}

size_t rpc__find_jobs_pending(const find_jobs *fj) { return fj ? fj->pending : 0; }

void rpc__find_jobs_free(find_jobs *fj)
{
    if (!fj)
        return;
    if (fj->pending) {
        fprintf(stderr, "find jobs: %zu unfinished\n", fj->pending);
        abort();
    }
    mem_free(fj);
}

void rpc__find_jobs_tick(find_jobs *fj, uint64_t now_us)
{
    for (find_job *j = fj->running; j; j = j->next) {
        if (!j->call || now_us - j->last_progress_us < RPC_PROGRESS_US)
            continue;
        j->last_progress_us = now_us;
        rpc_call_progress(j->call, atomic_load(&j->ctl.loaded), atomic_load(&j->ctl.total));
    }
}

/* ---- worker ------------------------------------------------------------------- */

typedef struct print_args {
    find_job *j;
    ln_buf   *b;
    bool      docs;   /* the environment's declaration info is built: docstrings available */
} print_args;

/* Items of decl.find as JSON, types printed: reads the mapped files, so guarded. */
static int print_items(void *arg)
{
    print_args *pa = arg;
    find_job *j = pa->j;
    for (size_t i = 0; i < j->fres.n; i++) {
        const pool_find_item *it = &j->fres.items[i];
        const ln_module *m = pool_env_ln_module(j->env, it->ref.module);
        pool_module_info mi;
        pool_env_module(j->env, it->ref.module, &mi);
        ln_buf_reset(pa->b);
        ln_const c;
        json_t *type = json_null();
        bool cut = false;
        if (ln_const_decode(m, it->ref.info, &c, NULL) == 0) {
            int rc = ln_expr_format(m, c.type, pa->b, NULL);
            if (rc == 0 || rc == LN_ETOOBIG) {
                type = decl_json_text(ln_buf_cstr(pa->b), pa->b->len);
                cut = pa->b->truncated;
            }
        }
        const char *doc = NULL;
        size_t doc_len = 0;
        if (!pa->docs || pool_env_decl_doc(j->env, &it->ref, &doc, &doc_len) != 1)
            doc = NULL;
        json_t *o = json_pack("{s:o,s:s,s:s,s:o,s:o}", "name", decl_json_text(it->name, it->name_len), "kind",
                              it->kind < 8 ? ln_const_kind_name((enum ln_const_kind)it->kind) : "?", "module",
                              mi.name, "type", type, "doc", doc ? decl_json_text(doc, doc_len) : json_null());
        if (cut)
            json_object_set_new(o, "type_truncated", json_true());
        json_array_append_new(j->items, o);
    }
    return 0;
}

static void find_work(void *arg)
{
    find_job *j = arg;
    json_t *p = j->params;
    if (j->op == FIND_OP_FIND) {
        const char *query = json_string_value(json_object_get(p, "query"));
        pool_find_query q = {query, strlen(query), 0, json_is_true(json_object_get(p, "internal")), 50,
                             json_string_value(json_object_get(p, "cursor"))};
        json_t *lim = json_object_get(p, "limit");
        if (json_is_integer(lim))
            q.limit = (uint32_t)json_integer_value(lim);
        q.kinds = param_kinds_mask(p);
        j->rc = pool_env_find(j->env, &q, &j->ctl, &j->fres, &j->err);
        if (j->rc == 0) {
            /* Docstrings come from the extension entries, decoded once per environment (like decl.get's);
               without them (out of memory) the items carry doc null. */
            pool_error derr;
            int drc = j->fres.n ? pool_env_declinfo_build(j->env, &derr) : -1;
            if (drc == REGION_ESTALE) {
                j->rc = REGION_ESTALE;
                return;
            }
            ln_buf b;
            ln_buf_init(&b, FIND_TYPE_LIMIT);
            j->items = json_array();
            print_args pa = {j, &b, drc == 0};
            if (region_guard_run(print_items, &pa) != 0)
                j->rc = REGION_ESTALE;
            ln_buf_deinit(&b);
        }
        return;
    }
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *in = json_string_value(json_object_get(p, "in"));
    pool_dep_query q = {name, strlen(name), POOL_DEP_BOTH, 1, 10000, 50, 0};
    if (in && !strcmp(in, "type"))
        q.in = POOL_DEP_TYPE;
    else if (in && !strcmp(in, "value"))
        q.in = POOL_DEP_VALUE;
    json_t *v;
    if (json_is_true(json_object_get(p, "transitive")))
        q.depth = 64;
    if (json_is_integer(v = json_object_get(p, "depth")))
        q.depth = (uint32_t)json_integer_value(v);
    if (json_is_integer(v = json_object_get(p, "max")))
        q.max = (uint32_t)json_integer_value(v);
    if (json_is_integer(v = json_object_get(p, "limit")))
        q.limit = (uint32_t)json_integer_value(v);
    const char *cursor = json_string_value(json_object_get(p, "cursor"));
    if (cursor)
        q.cursor = strtoull(cursor, NULL, 10);
    j->rc = pool_env_deps(j->env, &q, j->op == FIND_OP_USED_BY, &j->ctl, &j->dres, &j->err);
}

/* ---- replies ------------------------------------------------------------------- */

static void reply_find_error(find_job *j)
{
    rpc_call *c = j->call;
    const pool_find_result *r = &j->fres;
    if (j->rc == POOL_EINVAL && j->op == FIND_OP_FIND && r->fail) {
        json_t *data = json_pack("{s:s}", "param", r->fail == POOL_FIND_BAD_CURSOR ? "cursor" : "query");
        if (r->col)
            json_object_set_new(data, "column", json_integer(r->col));
        if (r->fail == POOL_FIND_UNKNOWN || r->fail == POOL_FIND_AMBIGUOUS) {
            json_t *cands = json_array();
            for (size_t i = 0; i < r->ncandidates; i++)
                json_array_append_new(cands, decl_json_text(r->candidates[i], strlen(r->candidates[i])));
            json_object_set_new(data, "name", decl_json_text(r->name, strlen(r->name)));
            json_object_set_new(data, "candidates", cands);
        }
        if (r->col)
            rpc_call_errorf(c, RPC_INVALID_PARAMS, data, "param 'query': column %u: %s", r->col, r->message);
        else
            rpc_call_errorf(c, RPC_INVALID_PARAMS, data, "param '%s': %s",
                            r->fail == POOL_FIND_BAD_CURSOR ? "cursor" : "query", r->message);
        return;
    }
    if (j->rc == POOL_ENOCONST) {
        rpc_call_errorf(c, RPC_DECL_NOT_FOUND, json_pack("{s:s,s:[]}", "name",
                                                         json_string_value(json_object_get(j->params, "name")),
                                                         "suggestions"),
                        "declaration '%.200s' not found", json_string_value(json_object_get(j->params, "name")));
        return;
    }
    if (j->rc == POOL_EINVAL) {
        rpc_call_errorf(c, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "cursor"), "param 'cursor': %s",
                        j->err.reason);
        return;
    }
    if (j->rc == POOL_ECANCELLED) {
        rpc_call_error(c, RPC_CANCELLED, "request cancelled", NULL);
        return;
    }
    if (j->rc == -ENOMEM) {
        rpc_call_error(c, RPC_BUSY, "out of memory", json_pack("{s:i}", "retry_after_ms", 1000));
        return;
    }
    if (j->rc == REGION_ESTALE) {
        rpc_call_error(c, RPC_STALE, "a module file changed while it was read", NULL);
        return;
    }
    char buf[1024];
    rpc_call_error(c, RPC_INTERNAL_ERROR, pool_error_format(&j->err, buf, sizeof buf), NULL);
}

static void find_reply(find_job *j)
{
    rpc_call *c = j->call;
    if (j->rc) {
        reply_find_error(j);
        return;
    }
    if (j->op == FIND_OP_FIND) {
        json_t *r = json_pack("{s:O,s:I,s:o,s:s}", "items", j->items, "count", (json_int_t)j->fres.count,
                              "next_cursor", j->fres.next_cursor[0] ? json_string(j->fres.next_cursor) : json_null(),
                              "header", j->fres.header);
        rpc_call_result(c, r);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < j->dres.n; i++) {
        const pool_dep_item *it = &j->dres.items[i];
        json_t *o = json_pack("{s:o,s:I}", "name", decl_json_text(it->name, it->name_len), "depth",
                              (json_int_t)it->depth);
        if (it->found) {
            pool_module_info mi;
            pool_env_module(j->env, it->ref.module, &mi);
            json_object_set_new(o, "kind", json_string(it->kind < 8 ? ln_const_kind_name((enum ln_const_kind)it->kind)
                                                                    : "?"));
            json_object_set_new(o, "module", json_string(mi.name));
        } else {
            json_object_set_new(o, "kind", json_null());
            json_object_set_new(o, "module", json_null());
        }
        json_array_append_new(arr, o);
    }
    json_t *nc = json_null();
    if (j->dres.next_cursor) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)j->dres.next_cursor);
        nc = json_string(buf);
    }
    rpc_call_result(c, json_pack("{s:o,s:I,s:b,s:o}", "items", arr, "count", (json_int_t)j->dres.count,
                                 "truncated", j->dres.truncated, "next_cursor", nc));
}

static void find_done(void *arg)
{
    find_job *j = arg;
    find_jobs *fj = j->fj;
    if (j->prev)
        j->prev->next = j->next;
    else
        fj->running = j->next;
    if (j->next)
        j->next->prev = j->prev;
    fj->pending--;
    if (j->call)
        find_reply(j);
    json_decref(j->items);
    pool_find_result_deinit(&j->fres);
    pool_dep_result_deinit(&j->dres);
    pool_env_unref(j->env);
    json_decref(j->params);
    mem_free(j);
}

static void find_cancel(rpc_call *call, void *arg)
{
    (void)call;
    find_job *j = arg;
    j->call = NULL;
    atomic_store(&j->ctl.cancel, true); /* the worker stops between modules; find_done frees */
}

void rpc__find_start(find_jobs *fj, int op, rpc_call *call, json_t *params, pool_env *env)
{
    find_job *j = mem_calloc(1, sizeof *j);
    j->fj = fj;
    j->op = op;
    j->call = call;
    j->env = pool_env_ref(env);
    j->params = json_incref(params);
    j->last_progress_us = rpc__now_us();
    j->next = fj->running;
    if (fj->running)
        fj->running->prev = j;
    fj->running = j;
    fj->pending++;
    rpc_call_set_cancel(call, find_cancel, j);
    if (fj->host.queue_work(fj->host.ctx, find_work, find_done, j) < 0) {
        find_work(j);
        find_done(j);
    }
}

/* ---- parameters ---------------------------------------------------------------------- */

static const char *const in_names[] = {"type", "value", "both", NULL};

int rpc__find_check(rpc_call *call, json_t *params, int op)
{
    int rc;
    int64_t limit;
    const char *cursor = NULL;
    if (op == FIND_OP_FIND) {
        const char *query;
        bool internal;
        if ((rc = rpc_param_string(call, params, "query", true, &query)) ||
            (rc = rpc_param_int(call, params, "limit", false, 1, POOL_FIND_MAX_LIMIT, 50, &limit)) ||
            (rc = rpc_param_bool(call, params, "internal", false, &internal)) ||
            (rc = param_check_kinds(call, params)) ||
            (rc = rpc_param_string(call, params, "cursor", false, &cursor)))
            return rc;
        if (strlen(query) != json_string_length(json_object_get(params, "query"))) {
            rpc_call_error(call, RPC_INVALID_PARAMS, "param 'query': contains a NUL character",
                           json_pack("{s:s}", "param", "query"));
            return -EINVAL;
        }
        return 0;
    }
    const char *name;
    int in;
    bool transitive;
    int64_t depth, max;
    if ((rc = rpc_param_string(call, params, "name", true, &name)) ||
        (rc = rpc_param_enum(call, params, "in", in_names, 2, &in)) ||
        (rc = rpc_param_bool(call, params, "transitive", false, &transitive)) ||
        (rc = rpc_param_int(call, params, "depth", false, 1, POOL_DEP_MAX_DEPTH, 1, &depth)) ||
        (rc = rpc_param_int(call, params, "max", false, 1, POOL_DEP_MAX, 10000, &max)) ||
        (rc = rpc_param_int(call, params, "limit", false, 1, POOL_FIND_MAX_LIMIT, 50, &limit)))
        return rc;
    return param_check_cursor(call, params);
}
