/*
 * protocol/methods_env.c — the methods served from the pool: env.open,
 * env.close, decl.get, decl.search, module.list, pool.drain, and (answered by
 * methods_info.c) module.doc, instance.list, attr.list, decl.children.
 *
 * An environment comes either from a handle the session opened (`env`) or
 * from an import list (`imports`, acquired for the one request and released
 * after it). Acquiring may finish at once (a pool hit) or later: the import
 * runs on a worker thread through the host's queue_work, and the call stays
 * pending until pool_ticket_finish delivers the environment to our callback
 * on the loop thread. A pending call can be cancelled ($/cancelRequest, or its
 * session closing): the pool waiter is withdrawn and the call answered -32800.
 * Calls waiting longer than RPC_PROGRESS_US get $/progress notifications from
 * env_methods_tick. Searches run on a worker too (the first one builds the
 * environment's search structures).
 *
 * Handles are per session, numbered from 1 and never reused in a session;
 * each is one use of a pool environment, released by env.close or when the
 * session goes. Reading module data (lookups, printing) runs under
 * region_guard_run so that a file truncated under its mapping gives -32007
 * instead of SIGBUS.
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

enum env_op { OP_OPEN, OP_GET, OP_SEARCH, OP_MODULES, OP_MODULE_DOC, OP_INSTANCES, OP_ATTRS, OP_CHILDREN,
              OP_FIND, OP_USES, OP_USED_BY };

typedef struct env_wait env_wait;

struct env_methods {
    rpc_server *srv;
    env_host    host;
    env_wait   *waiting;   /* calls waiting for an import (doubly linked) */
    size_t      nwaiting;
    size_t      tickets;   /* queued imports not finished yet */
    replycache *cache;     /* rendered decl.get results (loop thread) */
    size_t      searches;  /* searches queued on workers and not finished */
    find_jobs  *finds;     /* decl.find / uses / used_by on workers */
};

/*
 * One session's handles. Numbers are issued 1, 2, 3... and never reused on
 * the session; only open ones are stored (open addressing, linear probing,
 * backward-shift deletion), so memory follows the handles open now — at most
 * RPC_MAX_HANDLES — not every handle ever issued.
 */
typedef struct env_table {
    env_methods *em;
    uint64_t    *keys;    /* handle numbers; 0 = empty slot */
    pool_env   **envs;    /* the use each open handle holds */
    size_t       cap;     /* slots: 0 or a power of two */
    size_t       open;
    uint64_t     issued;  /* the last number given out */
} env_table;

struct env_wait {
    env_methods *em;
    rpc_call    *call;
    json_t      *params;      /* new reference */
    enum env_op  op;
    pool_waiter *waiter;
    bool         started;     /* this request started the import (a miss) */
    uint64_t     start_us, last_progress_us;
    env_wait    *prev, *next;
};

typedef struct ticket_job {
    env_methods *em;
    pool_ticket *t;
} ticket_job;

/* ---- helpers ------------------------------------------------------------ */

/* Answers the call with the error a pool failure deserves. */
static void reply_pool_error(rpc_call *c, int code, const pool_error *err)
{
    char buf[1024];
    const char *text = err ? pool_error_format(err, buf, sizeof buf) : envpool_strerror(code);
    const region_error *re = err ? &err->region : NULL;
    switch (code) {
    case POOL_ENOTFOUND:
    case POOL_EOUTSIDE:
        rpc_call_error(c, RPC_MODULE_NOT_FOUND, text,
                       json_pack("{s:s,s:s*}", "module", err ? err->module : "",
                                 "imported_by", err && err->imported_by[0] ? err->imported_by : NULL));
        return;
    case POOL_EBADNAME:
    case POOL_EINVAL:
        rpc_call_error(c, RPC_INVALID_PARAMS, text, NULL);
        return;
    case POOL_ECANCELLED:
        rpc_call_error(c, RPC_CANCELLED, "request cancelled", NULL);
        return;
    case POOL_ECYCLE:
        rpc_call_error(c, RPC_CORRUPT_REGION, text,
                       json_pack("{s:s,s:s,s:s}", "module", err ? err->module : "", "imported_by",
                                 err ? err->imported_by : "", "reason", "import cycle"));
        return;
    case REGION_ECORRUPT:
        rpc_call_error(c, RPC_CORRUPT_REGION, text,
                       json_pack("{s:s,s:o,s:s,s:s}", "path", re ? re->path : "", "offset",
                                 re && re->offset != UINT64_MAX ? json_integer((json_int_t)re->offset)
                                                                : json_null(),
                                 "reason", re ? re->reason : "", "module", err ? err->module : ""));
        return;
    case REGION_EUNSUPPORTED:
        rpc_call_error(c, RPC_UNSUPPORTED, text,
                       json_pack("{s:s,s:s,s:s}", "path", re ? re->path : "", "reason", re ? re->reason : "",
                                 "module", err ? err->module : ""));
        return;
    case REGION_ESTALE:
    case -ENOENT:
        rpc_call_error(c, RPC_STALE, text,
                       json_pack("{s:s,s:s}", "path", re ? re->path : "", "module", err ? err->module : ""));
        return;
    case -ENOMEM:
        rpc_call_error(c, RPC_BUSY, "out of memory", json_pack("{s:i}", "retry_after_ms", 1000));
        return;
    default:
        rpc_call_error(c, RPC_INTERNAL_ERROR, text, NULL);
        return;
    }
}

/* Errors of lean/ decoding and guarded reads. */
static void reply_read_error(rpc_call *c, int code, const region_error *re, const char *module)
{
    pool_error pe;
    memset(&pe, 0, sizeof pe);
    pe.code = code;
    if (re)
        pe.region = *re;
    if (module)
        snprintf(pe.module, sizeof pe.module, "%s", module);
    if (code == LN_ETOOBIG || code == LN_EINVAL)
        code = RPC_INTERNAL_ERROR;
    snprintf(pe.reason, sizeof pe.reason, "%s", code == REGION_ESTALE ? "a module file changed while it was read"
                                                  : re && re->reason[0] ? re->reason : envpool_strerror(code));
    reply_pool_error(c, code, &pe);
}

/* ---- session handles ---------------------------------------------------- */

static void table_free(void *data)
{
    env_table *t = data;
    for (size_t i = 0; i < t->cap; i++)
        if (t->keys[i])
            pool_release(t->em->host.pool, t->envs[i], NULL);
    mem_free(t->keys);
    mem_free(t->envs);
    mem_free(t);
}

static env_table *table_of(env_methods *em, rpc_session *s)
{
    env_table *t = rpc_session_data(s);
    if (!t) {
        t = mem_calloc(1, sizeof *t);
        t->em = em;
        rpc_session_set_data(s, t, table_free);
    }
    return t;
}

static size_t table_slot(const env_table *t, uint64_t h)
{
    return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 32) & (t->cap - 1);
}

static void table_insert(env_table *t, uint64_t h, pool_env *env)
{
    size_t i = table_slot(t, h);
    while (t->keys[i])
        i = (i + 1) & (t->cap - 1);
    t->keys[i] = h;
    t->envs[i] = env;
}

/* Stores a use of env under a new handle; 0 and *h, or -ENOSPC / -ENOMEM (env untouched). */
static int table_put(env_table *t, pool_env *env, size_t *h)
{
    if (t->open >= RPC_MAX_HANDLES)
        return -ENOSPC;
    if ((t->open + 1) * 2 > t->cap) {
        env_table grown = *t;
        grown.cap = t->cap ? t->cap * 2 : 8;
        grown.keys = mem_try_calloc(grown.cap, sizeof *grown.keys);
        grown.envs = mem_try_calloc(grown.cap, sizeof *grown.envs);
        if (!grown.keys || !grown.envs) {
            mem_free(grown.keys);
            mem_free(grown.envs);
            return -ENOMEM;
        }
        for (size_t i = 0; i < t->cap; i++)
            if (t->keys[i])
                table_insert(&grown, t->keys[i], t->envs[i]);
        mem_free(t->keys);
        mem_free(t->envs);
        *t = grown;
    }
    table_insert(t, ++t->issued, env);
    t->open++;
    *h = (size_t)t->issued;
    return 0;
}

static pool_env *table_get(const env_table *t, int64_t h)
{
    if (!t || h < 1 || t->cap == 0)
        return NULL;
    for (size_t i = table_slot(t, (uint64_t)h); t->keys[i]; i = (i + 1) & (t->cap - 1))
        if (t->keys[i] == (uint64_t)h)
            return t->envs[i];
    return NULL;
}

/* Forgets open handle h (it must be open); its use is the caller's to release. */
static void table_remove(env_table *t, uint64_t h)
{
    size_t i = table_slot(t, h);
    while (t->keys[i] != h)
        i = (i + 1) & (t->cap - 1);
    /* Backward shift: pull later members of the probe run into the hole. */
    for (size_t j = (i + 1) & (t->cap - 1); t->keys[j]; j = (j + 1) & (t->cap - 1)) {
        size_t home = table_slot(t, t->keys[j]);
        if (((j - home) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
            t->keys[i] = t->keys[j];
            t->envs[i] = t->envs[j];
            i = j;
        }
    }
    t->keys[i] = 0;
    t->envs[i] = NULL;
    t->open--;
}

/* ---- operations on an environment ---------------------------------------- */

typedef struct op_ctx {
    rpc_call  *call;
    json_t    *params;
    pool_env  *env;
    bool       hit;
    uint64_t   start_us;
    bool       temporary;   /* acquired for this request: release afterwards */
} op_ctx;

static void op_open(env_methods *em, op_ctx *o)
{
    env_table *t = table_of(em, rpc_call_session(o->call));
    size_t h;
    int rc = table_put(t, o->env, &h);
    if (rc < 0) {
        pool_release(em->host.pool, o->env, NULL);
        rpc_call_errorf(o->call, RPC_BUSY, json_pack("{s:i}", "retry_after_ms", 1000),
                        "%s: close some env handles first (at most %d per connection)",
                        rc == -ENOSPC ? "too many open environments" : "out of memory", RPC_MAX_HANDLES);
        return;
    }
    json_t *r = json_pack("{s:I,s:s,s:b,s:I,s:I,s:f}", "env", (json_int_t)h, "key", pool_env_key(o->env),
                          "hit", o->hit, "modules", (json_int_t)pool_env_module_count(o->env),
                          "constants", (json_int_t)pool_env_constant_count(o->env),
                          "load_ms", (double)(rpc__now_us() - o->start_us) / 1000.0);
    size_t nm = pool_env_missing_count(o->env);
    if (json_is_true(json_object_get(o->params, "partial"))) {
        json_t *missing = json_array();
        for (size_t i = 0; i < nm; i++) {
            const char *mod, *by;
            pool_env_missing(o->env, i, &mod, &by);
            json_array_append_new(missing, json_pack("{s:s,s:s*}", "module", mod, "imported_by", by && *by ? by : NULL));
        }
        json_object_set_new(r, "missing", missing);
    }
    rpc_call_result(o->call, r);
}

typedef struct get_job {
    const pool_env *env;
    const char     *name;
    size_t          name_len;
    bool            want_value;
    json_t         *out;    /* caller-owned result object */
    ln_buf         *b;      /* caller-owned scratch */
    region_error    re;
    bool            not_found;
    const uint8_t  *probe;  /* last mapped byte of the answering module */
    size_t          module; /* index of the answering module (SIZE_MAX before the lookup) */
} get_job;

static int get_run(void *arg)
{
    get_job *j = arg;
    pool_const_ref ref;
    int rc = pool_env_lookup(j->env, j->name, j->name_len, &ref);
    if (rc == POOL_ENOCONST) {
        j->not_found = true;
        return 0;
    }
    if (rc < 0)
        return rc;
    const ln_module *m = pool_env_ln_module(j->env, ref.module);
    j->probe = region_last_byte(m->r);
    j->module = ref.module;
    ln_const c;
    if ((rc = ln_const_decode(m, ref.info, &c, &j->re)) < 0)
        return rc;
    pool_module_info mi;
    pool_env_module(j->env, ref.module, &mi);
    pool_decl_info info;
    bool have_info = pool_env_decl_info(j->env, &ref, &info) == 0; /* built before op_get runs */
    decl_json_opts o = {.view = DECL_JSON_RPC, .module = mi.name, .name_limit = RPC_TYPE_LIMIT,
                        .type_limit = RPC_TYPE_LIMIT, .want_value = j->want_value,
                        .value_limit = RPC_VALUE_LIMIT, .env = j->env, .info = have_info ? &info : NULL};
    return decl_json(m, &c, &o, j->b, j->out, &j->re);
}

/*
 * Suggestions for a name that was not found run on a worker: the first
 * search of an environment builds its search structures (O(constants)) and a
 * fuzzy scan reads every name, neither of which may stall the loop. The job
 * holds its own reference to the environment and a copy of the name; a
 * cancel only detaches the call.
 */
enum { SUGGEST_MAX = 5 };

typedef struct suggest_job {
    env_methods      *em;
    rpc_call         *call;      /* NULL once cancelled */
    pool_env         *env;       /* own reference */
    char             *name;      /* new copy */
    size_t            len;
    pool_search_item  items[SUGGEST_MAX];
    size_t            n;
} suggest_job;

/* One search page of up to SUGGEST_MAX names; returns how many. */
static size_t suggest(suggest_job *j, enum pool_search_mode mode, const char *text, size_t len)
{
    uint64_t next;
    pool_error err;
    pool_search_query q = {mode, text, len, 0, SUGGEST_MAX, 0};
    if (len == 0 || pool_env_search(j->env, &q, j->items, &j->n, &next, &err) < 0)
        j->n = 0;
    return j->n;
}

/*
 * Names close to one that was not found: fuzzy matches (the query's letters
 * in order), else names sharing the longest prefix (down to half the name),
 * else names containing its last component.
 */
static void suggest_work(void *arg)
{
    suggest_job *j = arg;
    const char *name = j->name;
    size_t len = j->len;
    if (suggest(j, POOL_SEARCH_FUZZY, name, len))
        return;
    for (size_t l = len - 1; l >= (len + 1) / 2 && l > 0; l--)
        if (suggest(j, POOL_SEARCH_PREFIX, name, l))
            return;
    const char *dot = memrchr(name, '.', len);
    if (dot && (size_t)(dot - name) + 1 < len)
        suggest(j, POOL_SEARCH_SUBSTRING, dot + 1, len - (size_t)(dot - name) - 1);
}

static void suggest_done(void *arg)
{
    suggest_job *j = arg;
    j->em->searches--;
    if (j->call) {
        json_t *arr = json_array();
        for (size_t i = 0; i < j->n; i++)
            json_array_append_new(arr, decl_json_text(j->items[i].name, j->items[i].name_len));
        rpc_call_errorf(j->call, RPC_DECL_NOT_FOUND,
                        json_pack("{s:s%,s:o}", "name", j->name, j->len, "suggestions", arr),
                        "declaration '%.200s' not found in [%.200s]", j->name, pool_env_key(j->env));
    }
    pool_env_unref(j->env);
    mem_free(j->name);
    mem_free(j);
}

static void suggest_cancel(rpc_call *call, void *arg)
{
    (void)call;
    suggest_job *j = arg;
    j->call = NULL; /* the worker finishes; suggest_done frees */
}

static void reply_not_found(env_methods *em, op_ctx *o, const char *name, size_t len)
{
    suggest_job *j = mem_calloc(1, sizeof *j);
    j->em = em;
    j->call = o->call;
    j->env = pool_env_ref(o->env);
    j->name = mem_strndup(name, len);
    j->len = len;
    em->searches++;
    rpc_call_set_cancel(o->call, suggest_cancel, j);
    if (em->host.queue_work(em->host.ctx, suggest_work, suggest_done, j) < 0) {
        suggest_work(j);
        suggest_done(j);
    }
}

/*
 * Whether a cached answer may still be served. An environment acquired for
 * this request through its import list was found fresh by a drain that
 * followed the request's read; with every file watched, a file cut short
 * before then (IN_MODIFY) made it stale, so no probe is needed. Otherwise
 * (a handle, a file left to the scan) the module's last mapped byte is read
 * under the SIGBUS guard: a truncated file loses its tail first.
 */
static bool cached_answer_current(env_methods *em, bool via_imports, const uint8_t *probe)
{
    if (via_imports && pool_watch_covers_all(em->host.pool))
        return true;
    return region_guard_probe(probe) == 0;
}

/*
 * decl.get: from the reply cache when this environment answered the same
 * name before (without a value); otherwise looked up, decoded and printed
 * under the SIGBUS guard, and the rendered result remembered.
 */
static void op_get(env_methods *em, op_ctx *o)
{
    const char *name = json_string_value(json_object_get(o->params, "name"));
    size_t name_len = strlen(name);
    bool want_value = json_is_true(json_object_get(o->params, "value"));
    uint64_t serial = pool_env_serial(o->env);
    const char *cached;
    size_t cached_len;
    const uint8_t *probe;
    if (!want_value && replycache_get(em->cache, serial, name, name_len, &cached, &cached_len, &probe)) {
        if (cached_answer_current(em, o->temporary, probe)) {
            rpc_call_result_text(o->call, cached, cached_len);
            return;
        }
        /* The file shrank under its mapping: answer as an uncached read would. */
    }
    ln_buf b;
    ln_buf_init(&b, RPC_TYPE_LIMIT);
    get_job j = {o->env, name, name_len, want_value, json_object(), &b, {0}, false, NULL, SIZE_MAX};
    int rc = region_guard_run(get_run, &j);
    ln_buf_deinit(&b);
    if (rc == POOL_EINVAL) {
        json_decref(j.out);
        rpc_call_errorf(o->call, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "name"),
                        "param 'name': not a well-formed declaration name");
    } else if (rc < 0) {
        json_decref(j.out);
        /* A fault under the guard fills no region_error: name the module it hit,
           and mark it stale so that the next acquire imports afresh. */
        pool_module_info mi = {0};
        if (rc == REGION_ESTALE && j.module == SIZE_MAX)
            j.module = pool_env_find_shrunk(o->env);
        else if (rc == REGION_ESTALE)
            pool_env_mark_fault(o->env, j.module);
        if (j.module != SIZE_MAX)
            pool_env_module(o->env, j.module, &mi);
        if (rc == REGION_ESTALE && !j.re.path[0] && mi.path) {
            snprintf(j.re.path, sizeof j.re.path, "%s", mi.path);
            j.re.offset = UINT64_MAX;
        }
        reply_read_error(o->call, rc, &j.re, mi.name);
    } else if (j.not_found) {
        json_decref(j.out);
        reply_not_found(em, o, name, name_len);
    } else if (!want_value && (cached = json_dumps(j.out, JSON_COMPACT)) != NULL) {
        replycache_put(em->cache, serial, name, name_len, cached, strlen(cached), j.probe);
        rpc_call_result_text(o->call, cached, strlen(cached));
        mem_free((void *)cached); /* jansson allocates through mem_alloc */
        json_decref(j.out);
    } else {
        rpc_call_result(o->call, j.out);
    }
}

/*
 * The resident environment of a fast request's import list (pool_peek: the
 * one an acquire would hit), or NULL. The names are copied into buf to be
 * NUL-terminated; a list that does not fit is left to the general path.
 */
static pool_env *fast_peek(env_methods *em, const rpc_fast_get *g, char *buf, size_t cap)
{
    const char *names[RPC_FAST_MAX_IMPORTS];
    size_t used = 0;
    for (size_t i = 0; i < g->nimports; i++) {
        if (g->import_len[i] >= cap - used)
            return NULL;
        memcpy(buf + used, g->imports[i], g->import_len[i]);
        buf[used + g->import_len[i]] = '\0';
        names[i] = buf + used;
        used += g->import_len[i] + 1;
    }
    return pool_peek(em->host.pool, names, g->nimports, 0);
}

/*
 * The fast path: a plain decl.get on an open handle or a resident import
 * list whose answer is in the reply cache is answered straight from the
 * frame's bytes (fastpath.c); with imports, the acquire and release it
 * stands for are counted as the general path would count them. Everything
 * else — an unknown handle, an import list not resident (or stale), a cache
 * miss, a shrunken file — goes the general way, which gives the error,
 * imports, or fills the cache.
 */
static bool fast_decl_get(void *udata, rpc_session *s, const uint8_t *frame, size_t len)
{
    env_methods *em = udata;
    uint64_t start = rpc__now_us();
    rpc_fast_get g;
    char names[1024];
    if (!rpc_fast_parse_get(frame, len, &g))
        return false;
    pool_env *env = g.nimports ? fast_peek(em, &g, names, sizeof names)
                               : table_get(rpc_session_data(s), (int64_t)g.env);
    if (!env)
        return false;
    const char *text;
    size_t text_len;
    const uint8_t *probe;
    if (!replycache_get(em->cache, pool_env_serial(env), g.name, g.name_len, &text, &text_len, &probe) ||
        !cached_answer_current(em, g.nimports > 0, probe))
        return false;
    if (g.nimports)
        pool_count_use(em->host.pool, env);
    rpc__session_fast_result(s, start, g.id_text, g.id_len, text, text_len);
    return true;
}

static const char *const mode_names[] = {"prefix", "substring", "fuzzy", NULL};

/*
 * A search runs on a worker: the first search of an environment builds its
 * search structures (O(constants)), which must not stall the loop. The job
 * holds its own reference to the environment; a cancel only detaches the call.
 */
typedef struct search_job {
    env_methods       *em;
    rpc_call          *call;     /* NULL once cancelled */
    pool_env          *env;      /* own reference (pool_env_ref) */
    json_t            *params;   /* keeps the query text alive */
    pool_search_query  q;
    pool_search_item  *items;
    size_t             n;
    uint64_t           next;
    int                rc;
    pool_error         err;
} search_job;

static void search_work(void *arg)
{
    search_job *j = arg;
    j->rc = pool_env_search(j->env, &j->q, j->items, &j->n, &j->next, &j->err);
}

static void search_reply(search_job *j)
{
    rpc_call *c = j->call;
    if (j->rc == POOL_EINVAL) {
        rpc_call_errorf(c, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "cursor"), "param 'cursor': %s",
                        j->err.reason);
        return;
    }
    if (j->rc < 0) {
        reply_pool_error(c, j->rc, &j->err);
        return;
    }
    json_t *arr = json_array();
    for (size_t k = 0; k < j->n; k++) {
        pool_module_info mi;
        pool_env_module(j->env, j->items[k].ref.module, &mi);
        json_array_append_new(arr, json_pack("{s:o,s:s,s:s,s:i}", "name",
                                             decl_json_text(j->items[k].name, j->items[k].name_len), "kind",
                                             ln_const_kind_name((enum ln_const_kind)j->items[k].kind), "module",
                                             mi.name, "score", (int)j->items[k].score));
    }
    json_t *nc = json_null();
    if (j->next) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)j->next);
        nc = json_string(buf);
    }
    rpc_call_result(c, json_pack("{s:o,s:o}", "items", arr, "next_cursor", nc));
}

static void search_done(void *arg)
{
    search_job *j = arg;
    j->em->searches--;
    if (j->rc == REGION_ESTALE) /* a file shrank under the first search's build */
        (void)pool_env_find_shrunk(j->env);
    if (j->call)
        search_reply(j);
    mem_free(j->items);
    pool_env_unref(j->env);
    json_decref(j->params);
    mem_free(j);
}

static void search_cancel(rpc_call *call, void *arg)
{
    (void)call;
    search_job *j = arg;
    j->call = NULL; /* the worker finishes; search_done frees */
}

static void op_search(env_methods *em, op_ctx *o)
{
    json_t *p = o->params;
    const char *query = json_string_value(json_object_get(p, "query"));
    const char *mode_text = json_string_value(json_object_get(p, "mode"));
    int mode = POOL_SEARCH_SUBSTRING;
    for (int i = 0; mode_text && mode_names[i]; i++)
        if (!strcmp(mode_text, mode_names[i]))
            mode = i;
    pool_search_query q = {(enum pool_search_mode)mode, query, strlen(query), 0, 50, 0};
    q.kinds = param_kinds_mask(p);
    json_t *lim = json_object_get(p, "limit");
    if (json_is_integer(lim))
        q.limit = (uint32_t)json_integer_value(lim);
    const char *cursor = json_string_value(json_object_get(p, "cursor"));
    if (cursor)
        q.cursor = strtoull(cursor, NULL, 10);
    pool_search_item *items = mem_try_array(q.limit, sizeof *items);
    if (!items) {
        reply_pool_error(o->call, -ENOMEM, NULL);
        return;
    }
    search_job *j = mem_calloc(1, sizeof *j);
    j->em = em;
    j->call = o->call;
    j->env = pool_env_ref(o->env);
    j->params = json_incref(p);
    j->q = q;
    j->items = items;
    em->searches++;
    rpc_call_set_cancel(o->call, search_cancel, j);
    if (em->host.queue_work(em->host.ctx, search_work, search_done, j) < 0) {
        search_work(j);
        search_done(j);
    }
}

static void op_modules(op_ctx *o)
{
    json_t *arr = json_array();
    size_t n = pool_env_module_count(o->env);
    for (size_t i = 0; i < n; i++) {
        pool_module_info mi;
        pool_env_module(o->env, i, &mi);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "name", mi.name, "path", mi.path,
                                             "format", region_format_name(mi.format), "lean_version", mi.lean_version,
                                             "era", mi.era, "constants", (json_int_t)mi.constants, "bytes",
                                             (json_int_t)mi.bytes));
    }
    rpc_call_result(o->call, json_pack("{s:s,s:o}", "key", pool_env_key(o->env), "modules", arr));
}

/*
 * decl.get shows what the extension entries say, so the environment's
 * declaration info must exist first. Building it decodes every entry of every
 * module (O(entries)), which never runs on the loop: the first decl.get of an
 * environment builds it on a worker and is answered from there; later ones
 * find it ready (pool_env_declinfo_ready, an atomic load) and stay on the loop.
 */
typedef struct info_job {
    env_methods *em;
    rpc_call    *call;    /* NULL once cancelled */
    json_t      *params;  /* new reference */
    pool_env    *env;     /* own reference */
    bool         hit;
    uint64_t     start_us;
    int          rc;
    pool_error   err;
} info_job;

static void info_work(void *arg)
{
    info_job *j = arg;
    j->rc = pool_env_declinfo_build(j->env, &j->err);
}

static void info_done(void *arg)
{
    info_job *j = arg;
    j->em->searches--;
    if (j->rc == REGION_ESTALE)
        (void)pool_env_find_shrunk(j->env);
    if (j->call && j->rc < 0) {
        reply_pool_error(j->call, j->rc, &j->err);
    } else if (j->call) {
        op_ctx o = {j->call, j->params, j->env, j->hit, j->start_us, false};
        op_get(j->em, &o);
    }
    pool_env_unref(j->env);
    json_decref(j->params);
    mem_free(j);
}

static void info_cancel(rpc_call *call, void *arg)
{
    (void)call;
    info_job *j = arg;
    j->call = NULL; /* the worker finishes; info_done frees */
}

static void op_get_when_ready(env_methods *em, op_ctx *o)
{
    if (pool_env_declinfo_ready(o->env)) {
        op_get(em, o);
        return;
    }
    info_job *j = mem_calloc(1, sizeof *j);
    j->em = em;
    j->call = o->call;
    j->params = json_incref(o->params);
    j->env = pool_env_ref(o->env);
    j->hit = o->hit;
    j->start_us = o->start_us;
    em->searches++;
    rpc_call_set_cancel(o->call, info_cancel, j);
    if (em->host.queue_work(em->host.ctx, info_work, info_done, j) < 0) {
        info_work(j);
        info_done(j);
    }
}

static void run_op(env_methods *em, enum env_op op, op_ctx *o)
{
    switch (op) {
    case OP_OPEN: op_open(em, o); return; /* keeps the use */
    case OP_GET: op_get_when_ready(em, o); break;
    case OP_SEARCH: op_search(em, o); break;
    case OP_MODULES: op_modules(o); break;
    case OP_MODULE_DOC: info_start(&em->host, &em->searches, INFO_MODULE_DOC, o->call, o->params, o->env); break;
    case OP_INSTANCES: info_start(&em->host, &em->searches, INFO_INSTANCES, o->call, o->params, o->env); break;
    case OP_ATTRS: info_start(&em->host, &em->searches, INFO_ATTRS, o->call, o->params, o->env); break;
    case OP_CHILDREN: info_start(&em->host, &em->searches, INFO_CHILDREN, o->call, o->params, o->env); break;
    case OP_FIND: rpc__find_start(em->finds, FIND_OP_FIND, o->call, o->params, o->env); break;
    case OP_USES: rpc__find_start(em->finds, FIND_OP_USES, o->call, o->params, o->env); break;
    case OP_USED_BY: rpc__find_start(em->finds, FIND_OP_USED_BY, o->call, o->params, o->env); break;
    }
    if (o->temporary)
        pool_release(em->host.pool, o->env, NULL);
}

/* ---- acquiring ----------------------------------------------------------- */

static void wait_unlink(env_wait *w)
{
    env_methods *em = w->em;
    if (w->prev)
        w->prev->next = w->next;
    else
        em->waiting = w->next;
    if (w->next)
        w->next->prev = w->prev;
    em->nwaiting--;
}

static void wait_free(env_wait *w)
{
    json_decref(w->params);
    mem_free(w);
}

static void on_acquired(void *cookie, pool_env *env, const pool_error *err)
{
    env_wait *w = cookie;
    wait_unlink(w);
    if (!env) {
        reply_pool_error(w->call, err ? err->code : RPC_INTERNAL_ERROR, err);
    } else {
        op_ctx o = {w->call, w->params, env, !w->started, w->start_us, w->op != OP_OPEN};
        run_op(w->em, w->op, &o);
    }
    wait_free(w);
}

static void on_cancel(rpc_call *call, void *arg)
{
    (void)call;
    env_wait *w = arg;
    pool_waiter_cancel(w->em->host.pool, w->waiter);
    wait_unlink(w);
    wait_free(w);
}

static void ticket_work(void *arg)
{
    ticket_job *j = arg;
    pool_ticket_run(j->t);
}

static void queue_ticket(env_methods *em, pool_ticket *t);

static void ticket_done(void *arg)
{
    ticket_job *j = arg;
    env_methods *em = j->em;
    em->tickets--;
    pool_ticket *again = pool_ticket_finish(em->host.pool, j->t);
    mem_free(j);
    if (again) /* later waiters asked after a file of that build changed */
        queue_ticket(em, again);
}

/* Runs a ticket on a worker and finishes it on the loop. */
static void queue_ticket(env_methods *em, pool_ticket *t)
{
    ticket_job *j = mem_alloc(sizeof *j);
    j->em = em;
    j->t = t;
    em->tickets++;
    if (em->host.queue_work(em->host.ctx, ticket_work, ticket_done, j) < 0) {
        /* No worker: import here rather than leave the ticket hanging. */
        ticket_work(j);
        ticket_done(j);
    }
}

/* Acquires imports (already checked) and runs op now or when the import finishes. */
static int acquire_then(env_methods *em, rpc_call *call, json_t *params, json_t *imports, unsigned flags,
                        enum env_op op)
{
    size_t n = json_array_size(imports);
    const char **names = mem_try_array(n, sizeof *names);
    if (!names) {
        reply_pool_error(call, -ENOMEM, NULL);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = json_string_value(json_array_get(imports, i));
    env_wait *w = mem_calloc(1, sizeof *w);
    w->em = em;
    w->call = call;
    w->op = op;
    w->start_us = w->last_progress_us = rpc__now_us();
    pool_env *env = NULL;
    pool_ticket *t = NULL;
    pool_error err;
    memset(&err, 0, sizeof err);
    int rc = pool_acquire_begin(em->host.pool, names, n, flags, on_acquired, w, &env, &t, &w->waiter, &err);
    mem_free(names);
    if (rc < 0) {
        mem_free(w);
        if (rc == POOL_EBADNAME || rc == POOL_EINVAL)
            rpc_call_errorf(call, RPC_INVALID_PARAMS, json_pack("{s:s}", "param", "imports"), "param 'imports': %s",
                            err.reason);
        else
            reply_pool_error(call, rc, &err);
        return 0;
    }
    if (rc == POOL_HIT) {
        mem_free(w);
        op_ctx o = {call, params, env, true, rpc__now_us(), op != OP_OPEN};
        run_op(em, op, &o);
        return 0;
    }
    w->params = json_incref(params);
    w->started = rc == POOL_STARTED;
    w->next = em->waiting;
    if (em->waiting)
        em->waiting->prev = w;
    em->waiting = w;
    em->nwaiting++;
    rpc_call_set_cancel(call, on_cancel, w);
    if (rc == POOL_STARTED)
        queue_ticket(em, t);
    return 0;
}

/* ---- methods ------------------------------------------------------------- */

/*
 * The environment of a request: `env` (a handle of this session) or `imports`
 * (acquired for this request). Runs op now or later. Returns the handler's status.
 */
static int with_env(env_methods *em, rpc_call *call, json_t *params, enum env_op op)
{
    json_t *jenv = json_object_get(params, "env");
    json_t *imports = NULL;
    int64_t h = 0;
    int rc;
    bool has_imports = json_object_get(params, "imports") && !json_is_null(json_object_get(params, "imports"));
    if (jenv && !json_is_null(jenv) && has_imports) {
        rpc_call_error(call, RPC_INVALID_PARAMS, "params 'env' and 'imports': give one, not both",
                       json_pack("{s:s}", "param", "env"));
        return -EINVAL;
    }
    if (!has_imports) {
        if ((rc = rpc_param_int(call, params, "env", false, 1, INT64_MAX, 0, &h)))
            return rc;
        if (h == 0) {
            rpc_call_error(call, RPC_INVALID_PARAMS, "param 'env': required (or give 'imports')",
                           json_pack("{s:s}", "param", "env"));
            return -EINVAL;
        }
        pool_env *env = table_get(rpc_session_data(rpc_call_session(call)), h);
        if (!env) {
            rpc_call_errorf(call, RPC_UNKNOWN_ENV, json_pack("{s:I}", "env", (json_int_t)h),
                            "unknown env handle %lld on this connection", (long long)h);
            return 0;
        }
        op_ctx o = {call, params, env, true, rpc__now_us(), false};
        run_op(em, op, &o);
        return 0;
    }
    bool partial = false;
    if ((rc = rpc_param_strings(call, params, "imports", true, RPC_MAX_IMPORTS, &imports)) ||
        (json_object_get(params, "partial") && (rc = rpc_param_bool(call, params, "partial", false, &partial))))
        return rc;
    /* "partial" with "imports": the same key as env.open with partial (only where the method accepts it) */
    return acquire_then(em, call, params, imports, partial ? POOL_PARTIAL : 0, op);
}

static int m_env_open(rpc_call *call, json_t *params, void *udata)
{
    env_methods *em = udata;
    json_t *imports;
    bool partial;
    int rc;
    if ((rc = rpc_param_strings(call, params, "imports", true, RPC_MAX_IMPORTS, &imports)) ||
        (rc = rpc_param_bool(call, params, "partial", false, &partial)))
        return rc;
    return acquire_then(em, call, params, imports, partial ? POOL_PARTIAL : 0, OP_OPEN);
}

static int m_env_close(rpc_call *call, json_t *params, void *udata)
{
    env_methods *em = udata;
    int64_t h;
    int rc;
    if ((rc = rpc_param_int(call, params, "env", true, 1, INT64_MAX, 0, &h)))
        return rc;
    env_table *t = rpc_session_data(rpc_call_session(call));
    pool_env *env = table_get(t, h);
    if (!env) {
        rpc_call_errorf(call, RPC_UNKNOWN_ENV, json_pack("{s:I}", "env", (json_int_t)h),
                        "unknown env handle %lld on this connection", (long long)h);
        return 0;
    }
    table_remove(t, (uint64_t)h);
    bool kept = false;
    pool_release(em->host.pool, env, &kept);
    rpc_call_result(call, json_pack("{s:b}", "kept", kept));
    return 0;
}

static int m_decl_get(rpc_call *call, json_t *params, void *udata)
{
    const char *name;
    bool value;
    int rc;
    if ((rc = rpc_param_string(call, params, "name", true, &name)) ||
        (rc = rpc_param_bool(call, params, "value", false, &value)))
        return rc;
    return with_env(udata, call, params, OP_GET);
}

static int m_decl_search(rpc_call *call, json_t *params, void *udata)
{
    const char *query;
    int mode, rc;
    int64_t limit;
    if ((rc = rpc_param_string(call, params, "query", true, &query)) ||
        (rc = rpc_param_enum(call, params, "mode", mode_names, 1, &mode)) ||
        (rc = rpc_param_int(call, params, "limit", false, 1, POOL_SEARCH_MAX_LIMIT, 50, &limit)) ||
        (rc = param_check_kinds(call, params)) || (rc = param_check_cursor(call, params)))
        return rc;
    return with_env(udata, call, params, OP_SEARCH);
}

static int m_module_doc(rpc_call *call, json_t *params, void *udata)
{
    int rc = info_check_params(INFO_MODULE_DOC, call, params);
    return rc ? rc : with_env(udata, call, params, OP_MODULE_DOC);
}

static int m_instance_list(rpc_call *call, json_t *params, void *udata)
{
    int rc = info_check_params(INFO_INSTANCES, call, params);
    return rc ? rc : with_env(udata, call, params, OP_INSTANCES);
}

static int m_attr_list(rpc_call *call, json_t *params, void *udata)
{
    int rc = info_check_params(INFO_ATTRS, call, params);
    return rc ? rc : with_env(udata, call, params, OP_ATTRS);
}

static int m_decl_children(rpc_call *call, json_t *params, void *udata)
{
    int rc = info_check_params(INFO_CHILDREN, call, params);
    return rc ? rc : with_env(udata, call, params, OP_CHILDREN);
}

static int m_decl_find(rpc_call *call, json_t *params, void *udata)
{
    int rc = rpc__find_check(call, params, FIND_OP_FIND);
    return rc ? rc : with_env(udata, call, params, OP_FIND);
}

static int m_decl_uses(rpc_call *call, json_t *params, void *udata)
{
    int rc = rpc__find_check(call, params, FIND_OP_USES);
    return rc ? rc : with_env(udata, call, params, OP_USES);
}

static int m_decl_used_by(rpc_call *call, json_t *params, void *udata)
{
    int rc = rpc__find_check(call, params, FIND_OP_USED_BY);
    return rc ? rc : with_env(udata, call, params, OP_USED_BY);
}

static int m_module_list(rpc_call *call, json_t *params, void *udata)
{
    return with_env(udata, call, params, OP_MODULES);
}

static int m_pool_drain(rpc_call *call, json_t *params, void *udata)
{
    (void)params;
    env_methods *em = udata;
    size_t n = pool_drain(em->host.pool);
    rpc_call_result(call, json_pack("{s:I}", "drained", (json_int_t)n));
    return 0;
}

env_methods *env_methods_new(rpc_server *srv, const env_host *host)
{
    env_methods *em = mem_calloc(1, sizeof *em);
    em->srv = srv;
    em->host = *host;
    em->finds = rpc__find_jobs_new(host);
    em->cache = replycache_new(host->reply_cache_bytes, &rpc_server_stats(srv)->reply_cache);
    const rpc_method methods[] = {
        {"env.open", m_env_open, em, "imports,partial"},
        {"env.close", m_env_close, em, "env"},
        {"decl.get", m_decl_get, em, "env,imports,name,value,partial"},
        {"decl.search", m_decl_search, em, "env,imports,query,mode,kinds,limit,cursor"},
        {"module.list", m_module_list, em, "env,imports"},
        {"module.doc", m_module_doc, em, "env,imports,module,limit,cursor,partial"},
        {"instance.list", m_instance_list, em, "env,imports,class,limit,cursor,partial"},
        {"attr.list", m_attr_list, em, "env,imports,attr,limit,cursor,partial"},
        {"decl.children", m_decl_children, em, "env,imports,namespace,limit,cursor,partial"},
        {"decl.find", m_decl_find, em, "env,imports,query,limit,cursor,internal,kinds,partial"},
        {"decl.uses", m_decl_uses, em, "env,imports,name,in,transitive,depth,max,limit,cursor,partial"},
        {"decl.used_by", m_decl_used_by, em, "env,imports,name,in,transitive,depth,max,limit,cursor,partial"},
        {"pool.drain", m_pool_drain, em, NULL},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int added = rpc_server_add(srv, &methods[i]);
        ENVPOOL_INVARIANT(added >= 0, "the method table is sized for every method we have");
    }
    if (host->reply_cache_bytes) {
        int fast = rpc__server_set_fast(srv, "decl.get", fast_decl_get, em);
        ENVPOOL_INVARIANT(fast >= 0, "decl.get was registered just above");
    }
    return em;
}

void env_methods_free(env_methods *em)
{
    if (!em)
        return;
    ENVPOOL_INVARIANT(!em->waiting && !em->tickets && !em->searches && !rpc__find_jobs_pending(em->finds),
                      "%zu calls waiting, %zu imports and %zu searches unfinished", em->nwaiting, em->tickets,
                      em->searches);
    replycache_free(em->cache);
    rpc__find_jobs_free(em->finds);
    mem_free(em);
}

size_t env_methods_waiting(const env_methods *em)
{
    return em->nwaiting + rpc__find_jobs_pending(em->finds);
}

void env_methods_tick(env_methods *em)
{
    uint64_t now = rpc__now_us();
    rpc__find_jobs_tick(em->finds, now);
    for (env_wait *w = em->waiting; w; w = w->next) {
        if (now - w->last_progress_us < RPC_PROGRESS_US)
            continue;
        w->last_progress_us = now;
        uint32_t loaded = 0, total = 0;
        pool_waiter_progress(w->waiter, &loaded, &total);
        rpc_call_progress(w->call, loaded, total);
    }
}

int env_pool_stats(void *ctx, pool_stats *out)
{
    pool_stats_get(ctx, out);
    return 0;
}
