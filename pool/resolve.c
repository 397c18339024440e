/*
 * pool/resolve.c — module names to files: the search roots, name checks and
 * resolution (DESIGN.md §3).
 *
 * A module name A.B.C names A/B/C.olean under the first root that has it, as
 * Lean's findOLean does. Names are checked before any path is built: non-empty
 * components separated by '.', no '/', no NUL (so no "." or ".." component
 * can appear), at most POOL_NAME_MAX bytes. The file's real path must lie
 * under the root it was found in, so a symlink cannot lead a client outside
 * the library. Roots are kept as real paths; a pool_roots is immutable and
 * may be shared by any number of threads.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/mem.h"

enum { POOL_NAME_MAX = 1024 };

struct pool_roots {
    size_t n;
    char **dirs;   /* real paths, no trailing '/' (except "/") */
    int   *fds;    /* O_PATH descriptors of dirs, or -1 (no fast lookups) */
};

void pool_roots_free(pool_roots *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        mem_free(r->dirs[i]);
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    }
    mem_free(r->dirs);
    mem_free(r->fds);
    mem_free(r);
}

size_t pool_roots_count(const pool_roots *r) { return r->n; }
const char *pool_roots_get(const pool_roots *r, size_t i) { return r->dirs[i]; }

int pool_roots_new(const char *const *dirs, size_t n, pool_roots **out, pool_error *err)
{
    *out = NULL;
    if (n == 0)
        return pool__fail(err, POOL_EINVAL, NULL, NULL, "the search path is empty");
    pool_roots *r = mem_calloc(1, sizeof *r);
    r->dirs = mem_calloc(n, sizeof *r->dirs);
    r->fds = mem_calloc(n, sizeof *r->fds);
    for (size_t i = 0; i < n; i++) {
        char *real = realpath(dirs[i], NULL);
        if (!real) {
            int e = errno;
            pool_roots_free(r);
            return pool__fail(err, -e, NULL, NULL, "directory %s: %s", dirs[i], strerror(e));
        }
        struct stat st;
        if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(real);
            pool_roots_free(r);
            return pool__fail(err, -ENOTDIR, NULL, NULL, "%s is not a directory", dirs[i]);
        }
        bool dup = false;
        for (size_t j = 0; j < r->n && !dup; j++)
            dup = strcmp(r->dirs[j], real) == 0;
        if (!dup) {
            r->fds[r->n] = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
            r->dirs[r->n++] = mem_strdup(real);
        }
        free(real); /* realpath allocates with malloc */
    }
    *out = r;
    return 0;
}

/* Whether a colon-separated list has a non-empty entry. */
static bool names_a_dir(const char *list)
{
    for (; list && *list; list++)
        if (*list != ':')
            return true;
    return false;
}

const char *pool_search_list(const char *given)
{
    if (names_a_dir(given))
        return given;
    const char *v = getenv("ENVPOOL_PATH");
    if (names_a_dir(v))
        return v;
    v = getenv("LEAN_PATH");
    return names_a_dir(v) ? v : NULL;
}

int pool_roots_from_env(const char *list, pool_roots **out, pool_error *err)
{
    *out = NULL;
    list = pool_search_list(list);
    if (!list)
        return pool__fail(err, POOL_EINVAL, NULL, NULL,
                          "no search path: give --search-path or set ENVPOOL_PATH or LEAN_PATH");
    size_t len = strlen(list), n = 1;
    for (size_t i = 0; i < len; i++)
        n += list[i] == ':';
    char *copy = mem_strdup(list);
    const char **dirs = mem_calloc(n, sizeof *dirs);
    size_t k = 0;
    for (char *s = copy, *end; s; s = end) {
        end = strchr(s, ':');
        if (end)
            *end++ = '\0';
        if (*s)
            dirs[k++] = s;
    }
    int rc = k ? pool_roots_new(dirs, k, out, err)
               : pool__fail(err, POOL_EINVAL, NULL, NULL, "the search path has no entries");
    mem_free(dirs);
    mem_free(copy);
    return rc;
}

int pool_name_check(const char *name, size_t len, pool_error *err)
{
    char shown[80];
    size_t show = len < sizeof shown - 1 ? len : sizeof shown - 1;
    for (size_t i = 0; i < show; i++)
        shown[i] = (name[i] >= 0x20 && name[i] != 0x7f) ? name[i] : '?';
    shown[show] = '\0';
    if (len == 0)
        return pool__fail(err, POOL_EBADNAME, "", NULL, "module name is empty");
    if (len > POOL_NAME_MAX)
        return pool__fail(err, POOL_EBADNAME, shown, NULL,
                          "module name is %zu bytes, more than %d", len, POOL_NAME_MAX);
    size_t comp = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (i == start)
                return pool__fail(err, POOL_EBADNAME, shown, NULL,
                                  "component %zu of the module name is empty", comp + 1);
            comp++;
            start = i + 1;
            continue;
        }
        if (name[i] == '/')
            return pool__fail(err, POOL_EBADNAME, shown, NULL,
                              "module name contains '/' at byte %zu", i);
        if (name[i] == '\0')
            return pool__fail(err, POOL_EBADNAME, shown, NULL,
                              "module name contains a NUL byte at byte %zu", i);
    }
    return 0;
}

/* Is path (a real path) root itself or inside it? */
static bool under_root(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (strncmp(root, path, n) != 0)
        return false;
    if (n == 1 && root[0] == '/')
        return true;
    return path[n] == '/';
}

/*
 * The common case in one syscall: module under root i with no symlink on the
 * way (openat2 with RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH). Then root/A/B/C.olean
 * is already the real path, under the root by construction, and realpath's
 * component-by-component walk (a readlink and a stat per component, about 15
 * syscalls a module) is not needed. Returns 0 with *path, -ENOENT if the file
 * is not under this root, or 1 to take the general path (a symlink on the way,
 * not a regular file, openat2 unavailable — e.g. older kernels or valgrind —,
 * or any other error, which the general path reports).
 */
static int lookup_plain(const pool_roots *r, size_t i, const char *module, size_t mlen, char **path)
{
    if (r->fds[i] < 0)
        return 1;
    char rel[POOL_NAME_MAX + 8];
    if (mlen + 7 > sizeof rel)
        return 1;
    memcpy(rel, module, mlen);
    memcpy(rel + mlen, ".olean", 7);
    for (size_t k = 0; k < mlen; k++)
        if (rel[k] == '.')
            rel[k] = '/';
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, r->fds[i], rel, &how, sizeof how);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? -ENOENT : 1;
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!regular)
        return 1;
    size_t dlen = strlen(r->dirs[i]);
    bool slash = !(dlen == 1 && r->dirs[i][0] == '/');
    char *p = mem_try_alloc(dlen + slash + mlen + 7);
    if (!p)
        return 1;
    memcpy(p, r->dirs[i], dlen);
    if (slash)
        p[dlen] = '/';
    memcpy(p + dlen + slash, rel, mlen + 7);
    *path = p;
    return 0;
}

int pool_resolve(const pool_roots *r, const char *module, const char *imported_by,
                 char **path, pool_error *err)
{
    *path = NULL;
    size_t mlen = strlen(module);
    int rc = pool_name_check(module, mlen, err);
    if (rc) {
        if (err && imported_by)
            snprintf(err->imported_by, sizeof err->imported_by, "%s", imported_by);
        return rc;
    }
    char buf[PATH_MAX];
    for (size_t i = 0; i < r->n; i++) {
        int fast = lookup_plain(r, i, module, mlen, path);
        if (fast == 0)
            return 0;
        if (fast == -ENOENT)
            continue;
        int n = snprintf(buf, sizeof buf, "%s/%s.olean", r->dirs[i], module);
        if (n < 0 || (size_t)n >= sizeof buf)
            return pool__fail(err, -ENAMETOOLONG, module, imported_by,
                              "path of the module under %s is too long", r->dirs[i]);
        size_t rlen = strlen(r->dirs[i]);
        for (char *p = buf + rlen + 1; p < buf + rlen + 1 + mlen; p++)
            if (*p == '.')
                *p = '/';
        struct stat st;
        if (stat(buf, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                continue;
            int e = errno;
            return pool__fail(err, -e, module, imported_by, "%s: %s", buf, strerror(e));
        }
        if (!S_ISREG(st.st_mode))
            continue;
        char *real = realpath(buf, NULL);
        if (!real) {
            int e = errno;
            return pool__fail(err, -e, module, imported_by, "%s: %s", buf, strerror(e));
        }
        if (!under_root(r->dirs[i], real)) {
            rc = pool__fail(err, POOL_EOUTSIDE, module, imported_by,
                            "%s resolves to %s, outside the search root %s", buf, real, r->dirs[i]);
            free(real);
            return rc;
        }
        *path = mem_strdup(real);
        free(real);
        return 0;
    }
    char rel[POOL_NAME_MAX + 8];
    snprintf(rel, sizeof rel, "%s.olean", module);
    for (char *p = rel; p < rel + mlen; p++)
        if (*p == '.')
            *p = '/';
    return pool__fail(err, POOL_ENOTFOUND, module, imported_by,
                      "no %s under any of the %zu search roots", rel, r->n);
}
