/*
 * tests/support/testmain.h — the one main() of every cmocka unit-test binary.
 *
 * A binary made with TEST_MAIN understands three command lines:
 *   test_x                 runs every test in this process (cmocka's own output)
 *   test_x --list          prints the test names, one a line
 *   test_x --run NAME      runs the one test NAME (with the group fixtures)
 * tests/run-tests.sh uses the last two to give every test its own process and
 * time limit, the way libuv's runner does: a crash, a hang or a leak in one
 * test then cannot hide or cascade into the others.
 *
 * Exit status of --run: 0 passed, 1 failed, 77 skipped (the automake
 * convention), 2 unknown test name; a leak under ENVPOOL_CHECK_LEAKS=1 is 3.
 *
 *     TEST_MAIN("test_buf",
 *               cmocka_unit_test(test_growth),
 *               cmocka_unit_test(test_limit))
 *
 * (no semicolon: it is a function definition) registers the leak check (mem_leak_check_at_exit) and runs the tests; use
 * TEST_MAIN_FIXTURES for group setup/teardown, or call test_main() from an
 * own main() that first handles its own arguments (test_mem's child mode).
 */
#ifndef ENVPOOL_TESTS_TESTMAIN_H
#define ENVPOOL_TESTS_TESTMAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* The exit status of a skipped test. */
#define TEST_EXIT_SKIP 77

int test_main(int argc, char **argv, const char *binary, const struct CMUnitTest *tests,
              size_t ntests, CMFixtureFunction group_setup, CMFixtureFunction group_teardown);

#define TEST_MAIN_FIXTURES(binary, group_setup, group_teardown, ...)                          \
    int main(int argc, char **argv)                                                            \
    {                                                                                          \
        const struct CMUnitTest tests_[] = {__VA_ARGS__};                                      \
        return test_main(argc, argv, binary, tests_, sizeof tests_ / sizeof tests_[0],         \
                         group_setup, group_teardown);                                         \
    }

#define TEST_MAIN(binary, ...) TEST_MAIN_FIXTURES(binary, NULL, NULL, __VA_ARGS__)

/*
 * Ends the running test as skipped, saying why on one line ("SKIP: why" on
 * stderr, which the runner counts and groups by reason). The reason names
 * what is missing, e.g. "samples absent at /path". Use this, not cmocka's
 * skip(): the runner learns of a skip only through it. Outside a test (a
 * bench program) it prints the reason and exits with TEST_EXIT_SKIP.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
_Noreturn void test_skip(const char *fmt, ...);

#endif
