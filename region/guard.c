/*
 * region/guard.c — SIGBUS recovery for reads of mapped regions. See guard.h.
 *
 * The handler only acts when the faulting thread is inside region_guard_run;
 * otherwise it restores the default action and returns, so the fault repeats
 * and the process dies with a core as it should for a genuine bug.
 */
#include "region/guard.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "region/region.h"

static _Thread_local sigjmp_buf *guard_point;

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
    (void)info;
    (void)ctx;
    if (guard_point)
        siglongjmp(*guard_point, 1);
    signal(sig, SIG_DFL);
}

int region_guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

/* The probed byte is stored so that the load has a use: valgrind's JIT drops a
   load whose value goes nowhere (a volatile read included), and the fault
   with it. */
static _Thread_local volatile unsigned char probe_sink;

static int probe_byte(void *arg)
{
    const volatile unsigned char *p = arg;
    probe_sink = *p;
    return 0;
}

int region_guard_probe(const void *addr)
{
    return region_guard_run(probe_byte, (void *)addr);
}

int region_guard_run(int (*fn)(void *arg), void *arg)
{
    sigjmp_buf here;
    sigjmp_buf *volatile outer = guard_point;
    /* No mask to save: SA_NODEFER leaves SIGBUS unblocked in the handler, so
     * the jump back finds the mask as it was, and we spare a syscall per run. */
    if (sigsetjmp(here, 0)) {
        guard_point = outer;
        return REGION_ESTALE;
    }
    guard_point = &here;
    int rc = fn(arg);
    guard_point = outer;
    return rc;
}
