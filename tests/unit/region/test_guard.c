/*
 * tests/unit/region/test_guard.c — a region whose file is truncated in place
 * while mapped: reads under region_guard_run report REGION_ESTALE and the
 * process goes on; the same reads before the truncation succeed.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "region/guard.h"
#include "region/region.h"
#include "tests/support/samples.h"
#include "tests/support/testmain.h"
#include "util/mem.h"

/* Reads every byte of the mapping, allocating nothing (as guard.h requires). */
static int touch(void *arg)
{
    const region *r = arg;
    lx_space sp = region_space(r);
    const region_info *in = region_get_info(r);
    const volatile uint8_t *p = lx_obj(&sp, in->base);
    uint8_t sum = 0;
    for (uint64_t i = 0; i < in->size; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum == 0xff ? 1 : 0; /* any value; the result is not the point */
}

static void test_truncated_while_mapped(void **state)
{
    (void)state;
    assert_int_equal(region_guard_install(), 0);
    char *src = sample_path("a-weak-Silly-substitution-Calculus@f9ad27e/.lake/build/lib/lean/SSC/Syntax.olean");
    size_t len;
    uint8_t *img = read_file(src, &len);
    char path[] = "/tmp/envpool-guard-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, img, len), (ssize_t)len);

    region *r;
    region_error err;
    assert_int_equal(region_open(path, REGION_OPEN_NO_FIXED, &r, &err), 0);
    assert_true(region_guard_run(touch, r) >= 0);
    const uint8_t *last = region_last_byte(r);
    assert_int_equal(region_guard_probe(last), 0);

    /* Truncate in place: the pages past 4 KiB are gone from the mapping. */
    assert_int_equal(ftruncate(fd, 4096), 0);
    assert_int_equal(region_guard_run(touch, r), REGION_ESTALE);
    /* Nested guards and later runs still work. */
    assert_int_equal(region_guard_run(touch, r), REGION_ESTALE);
    /* One byte probed (the last of the mapping, past 4 KiB): the fault is seen
       under valgrind too, whose JIT would drop a load without a use. */
    assert_int_equal(region_guard_probe(last), REGION_ESTALE);
    lx_space sp = region_space(r);
    assert_int_equal(region_guard_probe(lx_obj(&sp, region_get_info(r)->base)), 0); /* the first page stays */

    region_close(r);
    close(fd);
    unlink(path);
    mem_free(img);
    mem_free(src);
    assert_int_equal(mem_live_total(), 0);
}

TEST_MAIN("test_guard",
          cmocka_unit_test(test_truncated_while_mapped))
