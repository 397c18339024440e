/*
 * tests/support/testmain.c — --list / --run for cmocka binaries, and skips
 * the runner can see (see testmain.h).
 */
#include "tests/support/testmain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

/* Set while test_main runs cmocka (so a skip can longjmp out of the test). */
static int in_test_run;
/* Set by test_skip: the one test of --run was skipped. */
static int skipped;

_Noreturn void test_skip(const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "SKIP: %s\n", why);
    fflush(stderr);
    if (!in_test_run)
        exit(TEST_EXIT_SKIP);
    skipped = 1;
    _skip(__FILE__, __LINE__);
    /* _skip leaves the test by longjmp; reaching here means cmocka did not. */
    abort();
}

static void usage(const char *binary)
{
    fprintf(stderr, "usage: %s [--list | --run NAME]\n", binary);
}

int test_main(int argc, char **argv, const char *binary, const struct CMUnitTest *tests,
              size_t ntests, CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
    mem_leak_check_at_exit(binary);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    const struct CMUnitTest *run = tests;
    size_t nrun = ntests;
    if (argc == 3 && strcmp(argv[1], "--run") == 0) {
        run = NULL;
        for (size_t i = 0; i < ntests && !run; i++)
            if (strcmp(tests[i].name, argv[2]) == 0)
                run = &tests[i];
        if (!run) {
            fprintf(stderr, "%s: no test named %s (--list shows them)\n", binary, argv[2]);
            return 2;
        }
        nrun = 1;
    } else if (argc != 1) {
        usage(binary);
        return 2;
    }
    in_test_run = 1;
    int failed = _cmocka_run_group_tests(binary, run, nrun, group_setup, group_teardown);
    in_test_run = 0;
    if (failed)
        return 1;
    return nrun == 1 && skipped ? TEST_EXIT_SKIP : 0;
}
