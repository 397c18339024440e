/*
 * tests/unit/util/test_error.c — the error registry: every code unique and
 * in its layer's range, outside errno's, with a name and a message;
 * envpool_strerror and envpool_error_name for project codes, errno values
 * and unknown numbers; the invariant check's report (in a child process).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/testmain.h"
#include "util/error.h"

typedef struct row { const char *name; int code; const char *msg; int lo, hi; } row;

#define REGION_ROW(name, code, msg) {#name, code, msg, -1099, -1001},
#define LEAN_ROW(name, code, msg) {#name, code, msg, -1199, -1101},
#define POOL_ROW(name, code, msg) {#name, code, msg, -1299, -1201},
#define RPC_ROW(name, code, msg) {#name, code, msg, -32899, -32000},
static const row rows[] = {
    ENVPOOL_REGION_ERRORS(REGION_ROW) ENVPOOL_LEAN_ERRORS(LEAN_ROW)
    ENVPOOL_POOL_ERRORS(POOL_ROW) ENVPOOL_RPC_ERRORS(RPC_ROW)
};
#define NROWS (sizeof rows / sizeof rows[0])

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &rows[i];
        assert_true(r->code >= r->lo && r->code <= r->hi); /* in its layer's range */
        assert_true(r->code <= -1000);                     /* above every errno (Linux: 133 at most) */
        assert_string_equal(envpool_strerror(r->code), r->msg);
        assert_string_equal(envpool_error_name(r->code), r->name);
        assert_true(strlen(r->msg) > 0);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(rows[j].code, r->code);
            assert_string_not_equal(rows[j].name, r->name);
        }
    }
    assert_true(NROWS >= 27);
    /* the enum is the table's */
    assert_int_equal(REGION_ECORRUPT, -1001);
    assert_int_equal(LN_EINVAL, -1102);
    assert_int_equal(POOL_ENOTFOUND, -1201);
    assert_int_equal(RPC_INVALID_PARAMS, -32602);
}

static void test_other_codes(void **state)
{
    (void)state;
    assert_string_equal(envpool_strerror(0), "ok");
    assert_string_equal(envpool_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(envpool_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(envpool_error_name(-ENOMEM), "ENOMEM");
    assert_string_equal(envpool_strerror(-1500), strerror(1500)); /* errno's range, no project code */
    assert_string_equal(envpool_strerror(-5000), "unknown error");
    assert_string_equal(envpool_strerror(7), "unknown error");
    assert_null(envpool_error_name(-1500));
    assert_null(envpool_error_name(-5000));
    assert_null(envpool_error_name(0));
}

static void test_invariant(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        int live = 3;
        ENVPOOL_INVARIANT(live == 3, "never shown");
        ENVPOOL_INVARIANT(live == 0, "%d calls still live", live);
        _exit(0);
    }
    close(fds[1]);
    char out[1024] = "";
    size_t n = 0;
    ssize_t k;
    while (n < sizeof out - 1 && (k = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = 0;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(out, "test_error.c:"));
    assert_non_null(strstr(out, "(test_invariant)"));
    assert_non_null(strstr(out, "live == 0: 3 calls still live"));
    assert_null(strstr(out, "never shown"));
}

TEST_MAIN("test_error",
          cmocka_unit_test(test_table),
          cmocka_unit_test(test_other_codes),
          cmocka_unit_test(test_invariant))
