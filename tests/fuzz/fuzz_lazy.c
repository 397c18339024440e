/*
 * tests/fuzz/fuzz_lazy.c — libFuzzer target for the lazily validated path,
 * the daemon's default: a mutated file is opened with REGION_OPEN_LAZY (only
 * headers and root checked), then everything the daemon does with a module
 * reads it through the checked accessors:
 *
 *  - in memory: every object reachable from the root (region_touch_all);
 *  - as a file in a pool (POOL_VALIDATE_LAZY): the import (ModuleData, import
 *    names, every constant's Name and hash, the name index), a lookup of every
 *    visible name by its printed text, decl.get's work for each constant
 *    (decode, header, type and value printed, recursor rules), and the three
 *    kinds of search.
 *
 * A crash, a sanitizer report, a hang (-timeout) or a leak fails the run.
 * Seeds: `make fuzz` adds ../shared/lean-samples; tests/fuzz/corpus/lazy holds
 * small hand-made ones. Run with -max_len=65536 or so for speed: the samples
 * are up to 440 KB, and every run maps a file and builds a pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lean/lean.h"
#include "pool/pool.h"
#include "region/guard.h"
#include "region/region.h"
#include "tests/support/damage.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char file[4200];

static void setup(void)
{
    if (dir[0])
        return;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/envpool-fuzz-lazy-XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    snprintf(file, sizeof file, "%s/F.olean", dir);
    if (region_guard_install() != 0)
        abort();
}

/* Unlinking at exit keeps /dev/shm clean after a normal end of the fuzzing run. */
__attribute__((destructor)) static void teardown(void)
{
    if (!dir[0])
        return;
    unlink(file);
    rmdir(dir);
}

static void write_file(const uint8_t *data, size_t size)
{
    /* A new inode each time: the module cache keys on (dev, ino, size, mtime). */
    unlink(file);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);
}

/* decl.get's reads for one constant: decode, header, type, value, rules. */
static void get_const(const ln_module *lm, lx_word info, ln_buf *b)
{
    ln_const c;
    region_error err;
    if (ln_const_decode(lm, info, &c, &err) != 0)
        return;
    ln_buf_reset(b);
    (void)ln_const_format_header(lm, &c, b, &err);
    ln_buf_reset(b);
    (void)ln_expr_format(lm, c.type, b, &err);
    if (c.value) {
        ln_buf_reset(b);
        (void)ln_expr_format(lm, c.value, b, &err);
    }
    lx_word cur = c.rules, head;
    while (c.kind == LN_REC && ln_list_next(lm, &cur, &head, &err) == 1) {
        ln_rec_rule rule;
        if (ln_rec_rule_view(lm, head, &rule, &err) != 0)
            break;
    }
}

static void pool_pass(void)
{
    pool_roots *roots = NULL;
    pool_error perr;
    const char *dirs[] = {dir};
    if (pool_roots_new(dirs, 1, &roots, &perr) != 0)
        abort();
    pool_config cfg = {.roots = roots, .stale_check = POOL_STALE_STAT,
                       .validation = POOL_VALIDATE_LAZY};
    pool *p = NULL;
    if (pool_new(&cfg, &p, &perr) != 0)
        abort();
    const char *imps[] = {"F"};
    pool_env *e = NULL;
    if (pool_acquire(p, imps, 1, POOL_PARTIAL, &e, &perr) == 0) {
        ln_buf b, name;
        ln_buf_init(&b, 4096);
        ln_buf_init(&name, 4096);
        uint64_t cur = 0;
        pool_const_ref r, got;
        while (pool_env_next(e, &cur, &r) == 1) {
            const ln_module *lm = pool_env_ln_module(e, r.module);
            ln_buf_reset(&name);
            region_error err;
            if (ln_name_format(lm, r.name, &name, &err) == 0 &&
                pool_env_lookup(e, ln_buf_cstr(&name), name.len, &got) == 0)
                get_const(pool_env_ln_module(e, got.module), got.info, &b);
            else
                get_const(lm, r.info, &b);
        }
        static const char *const texts[] = {"a", "Nat", "x.y", ""};
        for (int mode = POOL_SEARCH_PREFIX; mode <= POOL_SEARCH_FUZZY; mode++)
            for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
                pool_search_item items[16];
                pool_search_query q = {(enum pool_search_mode)mode, texts[t], strlen(texts[t]),
                                       0, 16, 0};
                size_t n = 0;
                uint64_t next = 0;
                if (pool_env_search(e, &q, items, &n, &next, &perr) == 0 && n > 0)
                    get_const(pool_env_ln_module(e, items[0].ref.module), items[0].ref.info, &b);
            }
        ln_buf_deinit(&b);
        ln_buf_deinit(&name);
        pool_release(p, e, NULL);
    } else if (!perr.reason[0] && !perr.region.reason[0]) {
        abort(); /* every refusal says why */
    }
    pool_drain(p);
    pool_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    region *r;
    region_error err;
    const uint8_t *bufs[1] = {data};
    if (region_open_buffers_flags(bufs, &size, 1, "fuzz.olean", REGION_OPEN_LAZY, &r, &err) == 0) {
        region_touch_all(r); /* the decoders run in pool_pass, over the same bytes */
        region_close(r);
    } else if (!err.reason[0]) {
        abort();
    }
    write_file(data, size);
    pool_pass();
    if (mem_live_total() != 0)
        abort(); /* nothing may leak, accepted or not */
    return 0;
}
