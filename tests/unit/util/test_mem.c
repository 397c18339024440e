/*
 * tests/unit/util/test_mem.c — the counting allocator and the exit-time leak
 * check every binary relies on (ENVPOOL_CHECK_LEAKS=1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/testmain.h"
#include "util/mem.h"

static void test_counts(void **state)
{
    (void)state;
    int64_t base = mem_live(MEM_ALLOCATIONS);
    void *a = mem_alloc(10), *b = mem_calloc(3, 7);
    char *s = mem_strdup("lean"), *t = mem_strndup("abcdef", 3);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), base + 4);
    assert_string_equal(s, "lean");
    assert_string_equal(t, "abc");
    assert_memory_equal(b, (char[21]){0}, 21);
    void *grown = mem_try_realloc(a, 1 << 20);
    assert_non_null(grown);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), base + 4); /* a realloc is still one allocation */
    mem_free(grown);
    mem_free(b);
    mem_free(s);
    mem_free(t);
    mem_free(NULL); /* counts nothing */
    assert_int_equal(mem_live(MEM_ALLOCATIONS), base);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    int64_t base = mem_live(MEM_ALLOCATIONS);
    assert_null(mem_try_array(SIZE_MAX / 2, 3));
    assert_null(mem_try_calloc(SIZE_MAX / 2, 3));
    assert_int_equal(mem_live(MEM_ALLOCATIONS), base);
    void *p = mem_try_array(4, 8);
    assert_non_null(p);
    mem_free(p);
}

static void test_other_kinds(void **state)
{
    (void)state;
    mem_count(MEM_MAPPINGS, 1);
    mem_count(MEM_OBJECTS, 5);
    assert_int_equal(mem_live(MEM_MAPPINGS), 1);
    assert_int_equal(mem_live_total(), 6);
    mem_count(MEM_MAPPINGS, -1);
    mem_count(MEM_OBJECTS, -5);
    assert_int_equal(mem_live_total(), 0);
}

/* mem_fail_after: n successes, then refusals; the aborting allocators never fail. */
static void test_fail_injection(void **state)
{
    (void)state;
    mem_fail_after(2);
    void *a = mem_try_alloc(8), *b = mem_try_calloc(2, 8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(mem_try_alloc(8));
    assert_null(mem_try_array(2, 8));
    assert_null(mem_try_realloc(a, 1000)); /* a left intact */
    void *c = mem_alloc(8);               /* not affected */
    char *d = mem_strdup("x");
    assert_int_equal(mem_fail_count(), 3);
    mem_fail_after(-1);
    assert_int_equal(mem_fail_count(), 0);
    void *e = mem_try_realloc(a, 1000);
    assert_non_null(e);
    mem_free(e);
    mem_free(b);
    mem_free(c);
    mem_free(d);
    assert_int_equal(mem_live(MEM_ALLOCATIONS), 0);
}

/* Where the child keeps what it "leaks": still reachable, so LeakSanitizer
 * stays quiet and only our own count sees it. */
static void *kept[8];
static const char *self; /* argv[0]: the child is this program, run afresh */

/* The child's whole life (main with --leak-child N): leak N, exit normally. */
static int leak_child(int leak)
{
    mem_leak_check_at_exit("child");
    for (int i = 0; i < leak && i < 8; i++)
        kept[i] = mem_alloc(8);
    return 0;
}

/*
 * Runs a child that exits normally after leaking `leak` allocations. It is
 * exec'd rather than only forked, so that it holds none of cmocka's state
 * (which valgrind, run on the parent, would otherwise count as lost).
 */
static int child_status(int leak, const char *env)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (env)
            setenv("ENVPOOL_CHECK_LEAKS", env, 1);
        else
            unsetenv("ENVPOOL_CHECK_LEAKS");
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        char n[8];
        snprintf(n, sizeof n, "%d", leak);
        execl(self, self, "--leak-child", n, (char *)NULL);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_exit_check(void **state)
{
    (void)state;
    assert_int_equal(child_status(0, "1"), 0);
    assert_int_equal(child_status(2, "1"), 3);  /* a leak turns success into failure */
    assert_int_equal(child_status(2, NULL), 0); /* only when asked */
    assert_int_equal(child_status(2, "0"), 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--leak-child") == 0)
        return leak_child(atoi(argv[2]));
    self = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_other_kinds),
        cmocka_unit_test(test_fail_injection),
        cmocka_unit_test(test_exit_check),
    };
    return test_main(argc, argv, "test_mem", tests, sizeof tests / sizeof tests[0], NULL, NULL);
}
