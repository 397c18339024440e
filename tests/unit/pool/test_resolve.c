/*
 * tests/unit/pool/test_resolve.c — search roots and module resolution: name
 * checks, first root wins, real paths, symlinks out of a root refused,
 * ENVPOOL_PATH / LEAN_PATH precedence, and the error details.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool/pool.h"
#include "tests/support/pooltest.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

static void test_name_check(void **state)
{
    (void)state;
    static const char *const good[] = {"A", "A.B.C", "Init.Data.List.Basic", "«x»", "a b", "A.b_1'"};
    static const char *const bad[] = {"", ".", "..", "A.", ".A", "A..B", "A/B", "../x", "A.B/C"};
    pool_error err;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(pool_name_check(good[i], strlen(good[i]), &err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(pool_name_check(bad[i], strlen(bad[i]), &err), POOL_EBADNAME);
        assert_true(err.reason[0] != '\0');
    }
    assert_int_equal(pool_name_check("A\0B", 3, &err), POOL_EBADNAME);
    assert_non_null(strstr(err.reason, "NUL"));
    char longname[1100];
    memset(longname, 'a', sizeof longname);
    assert_int_equal(pool_name_check(longname, sizeof longname, &err), POOL_EBADNAME);
    assert_int_equal(mem_live_total(), 0);
}

static void touch(const char *dir, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0777);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void test_first_root_wins(void **state)
{
    (void)state;
    char *a = tmpdir_make(), *b = tmpdir_make();
    touch(a, "Only/InA.olean");
    touch(b, "Only/InB.olean");
    touch(a, "Both.olean");
    touch(b, "Both.olean");
    char dirmod[4200];
    snprintf(dirmod, sizeof dirmod, "%s/Dir.olean", a);
    assert_int_equal(mkdir(dirmod, 0777), 0); /* a directory is no module */
    touch(b, "Dir.olean");
    const char *dirs[] = {a, b, a};
    pool_roots *r;
    pool_error err;
    assert_int_equal(pool_roots_new(dirs, 3, &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 2); /* duplicates once */

    char *path;
    assert_int_equal(pool_resolve(r, "Both", NULL, &path, &err), 0);
    assert_non_null(strstr(path, a + 5)); /* under a (real path of /tmp/...) */
    mem_free(path);
    assert_int_equal(pool_resolve(r, "Only.InB", NULL, &path, &err), 0);
    assert_non_null(strstr(path, "/Only/InB.olean"));
    mem_free(path);
    assert_int_equal(pool_resolve(r, "Dir", NULL, &path, &err), 0);
    assert_non_null(strstr(path, b + 5));
    mem_free(path);

    assert_int_equal(pool_resolve(r, "Only.Nowhere", "Some.Importer", &path, &err), POOL_ENOTFOUND);
    assert_null(path);
    assert_string_equal(err.module, "Only.Nowhere");
    assert_string_equal(err.imported_by, "Some.Importer");
    assert_non_null(strstr(err.reason, "Only/Nowhere.olean"));
    assert_int_equal(pool_resolve(r, "Only..X", "Imp", &path, &err), POOL_EBADNAME);
    assert_string_equal(err.imported_by, "Imp");

    /* A symlink leading out of its root is refused; one staying inside is followed. */
    char link[4200], target[4200];
    snprintf(link, sizeof link, "%s/Escape.olean", a);
    snprintf(target, sizeof target, "%s/Only/InB.olean", b);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(pool_resolve(r, "Escape", NULL, &path, &err), POOL_EOUTSIDE);
    assert_non_null(strstr(err.reason, "outside"));
    snprintf(link, sizeof link, "%s/Inside.olean", a);
    assert_int_equal(symlink("Both.olean", link), 0);
    assert_int_equal(pool_resolve(r, "Inside", NULL, &path, &err), 0);
    assert_non_null(strstr(path, "/Both.olean"));
    mem_free(path);

    pool_roots_free(r);
    const char *missing[] = {"/nonexistent/envpool/root"};
    assert_true(pool_roots_new(missing, 1, &r, &err) < 0);
    assert_non_null(strstr(err.reason, "/nonexistent/envpool/root"));
    assert_int_equal(pool_roots_new(missing, 0, &r, &err), POOL_EINVAL);
    char dirname_buf[4200];
    snprintf(dirname_buf, sizeof dirname_buf, "%s/Both.olean", a);
    const char *file[] = {dirname_buf};
    assert_int_equal(pool_roots_new(file, 1, &r, &err), -ENOTDIR);
    tmpdir_remove(a);
    tmpdir_remove(b);
    assert_int_equal(mem_live_total(), 0);
}

static void test_from_env(void **state)
{
    (void)state;
    char *a = tmpdir_make(), *b = tmpdir_make();
    pool_roots *r;
    pool_error err;
    unsetenv("ENVPOOL_PATH");
    unsetenv("LEAN_PATH");
    assert_int_equal(pool_roots_from_env(NULL, &r, &err), POOL_EINVAL);
    assert_non_null(strstr(err.reason, "LEAN_PATH"));

    setenv("LEAN_PATH", b, 1);
    assert_int_equal(pool_roots_from_env(NULL, &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 1);
    pool_roots_free(r);

    char list[9000];
    snprintf(list, sizeof list, "%s::%s:", a, b);
    setenv("ENVPOOL_PATH", list, 1);
    assert_int_equal(pool_roots_from_env(NULL, &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 2);
    assert_non_null(strstr(pool_roots_get(r, 0), a + 5));
    pool_roots_free(r);

    /* The flag wins over both. */
    assert_int_equal(pool_roots_from_env(b, &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 1);
    assert_non_null(strstr(pool_roots_get(r, 0), b + 5));
    pool_roots_free(r);
    /* A flag naming no directory counts as not given: ENVPOOL_PATH's two. */
    assert_int_equal(pool_roots_from_env(":::", &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 2);
    pool_roots_free(r);
    assert_int_equal(pool_roots_from_env("", &r, &err), 0);
    assert_int_equal(pool_roots_count(r), 2);
    pool_roots_free(r);
    unsetenv("ENVPOOL_PATH");
    unsetenv("LEAN_PATH");
    assert_int_equal(pool_roots_from_env(":::", &r, &err), POOL_EINVAL);
    assert_non_null(strstr(err.reason, "no search path"));
    unsetenv("LEAN_PATH");
    tmpdir_remove(a);
    tmpdir_remove(b);
    assert_int_equal(mem_live_total(), 0);
}

/* pool_search_list: the policy the daemon's flag parsing uses too. */
static void test_search_list(void **state)
{
    (void)state;
    unsetenv("ENVPOOL_PATH");
    unsetenv("LEAN_PATH");
    assert_null(pool_search_list(NULL));
    assert_null(pool_search_list(""));
    assert_null(pool_search_list("::"));
    assert_string_equal(pool_search_list("a:b"), "a:b");
    setenv("LEAN_PATH", "lean", 1);
    assert_string_equal(pool_search_list(NULL), "lean");
    setenv("ENVPOOL_PATH", ":", 1); /* names no directory: skipped */
    assert_string_equal(pool_search_list(""), "lean");
    setenv("ENVPOOL_PATH", "ep", 1);
    assert_string_equal(pool_search_list(""), "ep");   /* an empty flag falls back */
    assert_string_equal(pool_search_list(":"), "ep");
    assert_string_equal(pool_search_list("x"), "x");   /* the flag wins */
    unsetenv("ENVPOOL_PATH");
    unsetenv("LEAN_PATH");
}

TEST_MAIN("test_resolve",
          cmocka_unit_test(test_search_list),
          cmocka_unit_test(test_name_check),
          cmocka_unit_test(test_first_root_wins),
          cmocka_unit_test(test_from_env))
