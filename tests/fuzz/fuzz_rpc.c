/*
 * tests/fuzz/fuzz_rpc.c — libFuzzer target for protocol/rpc.c, stats.c, methods.c.
 *
 * The input is a byte stream on one session (framed by frame.c, so both line
 * and LSP framing are reached). The environment methods run against a small
 * real pool over a generated library (modules F, F.L0.M0, F.L0.M1, F.L1.M2;
 * constants F.L0.M0.d0 … d4.mk), with imports run inline (the host's
 * queue_work declines, so the ticket is finished before the handler returns).
 * Besides the built-in methods, "t.wait" leaves
 * its call pending (answered or cancelled later), so batches mixing pending
 * and immediate calls, $/cancelRequest and session close with calls pending
 * are all exercised. Every output must be one well-formed framed JSON text;
 * after the session is freed nothing may be left allocated.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"
#include "protocol/protocol.h"
#include "util/mem.h"

static char libdir[64];

#define MAX_WAITERS 64

static rpc_call *waiters[MAX_WAITERS];
static size_t nwaiters;

static void waiter_cancel(rpc_call *c, void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    if (waiters[i] != c)
        abort();
    waiters[i] = NULL;
}

static int t_wait(rpc_call *c, json_t *params, void *udata)
{
    (void)udata;
    int64_t n;
    if (rpc_param_int(c, params, "n", false, 0, 100, 0, &n) < 0)
        return -1;
    if (nwaiters == MAX_WAITERS || n == 0) {
        rpc_call_result(c, json_integer(n));
        return 0;
    }
    waiters[nwaiters] = c;
    rpc_call_set_cancel(c, waiter_cancel, (void *)(uintptr_t)nwaiters);
    nwaiters++;
    rpc_call_progress(c, 1, 2);
    return 0;
}

static int t_strings(rpc_call *c, json_t *params, void *udata)
{
    (void)udata;
    json_t *imports;
    const char *name;
    bool flag;
    static const char *const modes[] = {"prefix", "substring", "fuzzy", NULL};
    int mode;
    if (rpc_param_strings(c, params, "imports", true, 16, &imports) < 0 ||
        rpc_param_string(c, params, "name", false, &name) < 0 ||
        rpc_param_bool(c, params, "flag", false, &flag) < 0 ||
        rpc_param_enum(c, params, "mode", modes, 0, &mode) < 0)
        return -1;
    rpc_call_result(c, json_copy(imports));
    return 0;
}

static void on_send(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    const char *body = buf;
    size_t blen = len;
    if (len >= 16 && !memcmp(buf, "Content-Length: ", 16)) {
        const char *sep = memmem(buf, len, "\r\n\r\n", 4);
        if (!sep)
            abort();
        body = sep + 4;
        blen = len - (size_t)(body - buf);
        if ((size_t)strtoul(buf + 16, NULL, 10) != blen)
            abort();
    } else {
        if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1))
            abort();
        blen--;
    }
    json_t *j = json_loadb(body, blen, 0, NULL);
    if (!j)
        abort();
    json_decref(j);
    mem_free(buf);
}

static const rpc_session_ops ops = {on_send, NULL};
static const char *const search[] = {"/nonexistent", NULL};

static int no_workers(void *ctx, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
    (void)ctx;
    (void)work;
    (void)done;
    (void)arg;
    return -ENOSYS;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_libdir(void)
{
    nftw(libdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rpc_global_init();
    snprintf(libdir, sizeof libdir, "/tmp/envpool-fuzz-rpc.XXXXXX");
    if (!mkdtemp(libdir))
        abort();
    pool_gen_opts o = {"F", 3, 6, 2, 2, 2, 1};
    pool_error err;
    atexit(remove_libdir);
    if (pool_gen_write(libdir, &o, NULL, &err) < 0)
        abort();
    if (mem_live_total() != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpc_global_init();
    const char *dirs[] = {libdir};
    pool_roots *roots;
    pool *p;
    pool_error perr;
    if (pool_roots_new(dirs, 1, &roots, &perr) < 0)
        abort();
    pool_config pc = {roots, 2, 0, 0, POOL_STALE_SCAN};
    if (pool_new(&pc, &p, &perr) < 0)
        abort();
    rpc_server_info info = {"envpoold", "fuzz", search, search, 1, env_pool_stats, p};
    rpc_server *srv = rpc_server_new(&info);
    env_host host = {p, no_workers, NULL, 1 << 20};
    env_methods *em = env_methods_new(srv, &host);
    rpc_method w = {"t.wait", t_wait, NULL, "n"};
    rpc_method s = {"t.strings", t_strings, NULL, "imports,name,flag,mode"};
    if (rpc_server_add(srv, &w) < 0 || rpc_server_add(srv, &s) < 0)
        abort();
    rpc_session *sess = rpc_session_new(srv, &ops, NULL);
    frame_reader fr;
    frame_init(&fr, 65536);
    nwaiters = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t taken;
        if (frame_feed(&fr, data + pos, size - pos, &taken) < 0)
            break;
        pos += taken;
        const uint8_t *f;
        size_t len;
        int rc;
        while ((rc = frame_next(&fr, &f, &len)) == 1) {
            rpc_session_set_mode(sess, fr.mode);
            rpc_session_handle(sess, f, len);
            /* Answer the oldest pending call now and then. */
            if (nwaiters && (len & 1)) {
                for (size_t i = 0; i < nwaiters; i++) {
                    if (waiters[i]) {
                        rpc_call *c = waiters[i];
                        waiters[i] = NULL;
                        rpc_call_result(c, json_true());
                        break;
                    }
                }
            }
        }
        if (rc < 0) {
            rpc_session_send_error(sess, RPC_INVALID_REQUEST, "frame", NULL);
            break;
        }
        if (taken == 0)
            break;
    }
    rpc_session_free(sess); /* cancels whatever is still pending */
    for (size_t i = 0; i < nwaiters; i++)
        if (waiters[i])
            abort();
    frame_deinit(&fr);
    env_methods_free(em);
    rpc_server_free(srv);
    pool_free(p);
    if (mem_live_total() != 0)
        abort();
    return 0;
}
