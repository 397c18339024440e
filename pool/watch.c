/*
 * pool/watch.c — event-driven freshness: one inotify watch per directory of
 * a mapped module, reference-counted by the modules mapped from it.
 *
 * The module cache registers every module it loads (pool__watch_add, before
 * the file's identity is checked a second time) and unregisters it when the
 * mapping goes (pool__watch_remove). An event naming a registered file — or
 * one of its companions (.olean.server, .olean.private) — marks that module
 * stale at once (pool__module_mark_stale, cause event); an event that ends a
 * directory's watch (the directory removed, moved, unmounted) marks every
 * module of it; a queue overflow marks every module watched.
 *
 * Why our own inotify descriptor and not libuv's uv_fs_event_t: libuv keeps
 * its inotify descriptor private to the loop and reads it only when the loop
 * polls, so an event already queued by the kernel can sit unread while the
 * loop handles a request that was sent after the change (epoll returns the
 * socket and the inotify descriptor in any order, and a read on the socket
 * may return requests that arrived after the poll). pool__watch_drain reads
 * what the descriptor holds, non-blocking, and is called by the pool before
 * it decides that an acquire is a hit; the daemon also polls the descriptor
 * with a uv_poll_t so that events are consumed while no request comes.
 * Reading happens on the loop thread only.
 *
 * Threads: workers add and remove registrations (module loads and unmaps);
 * the loop thread drains. One mutex guards the tables. A worker holds it
 * across inotify_add_watch and the insertion of its registration, so the
 * drain cannot process an event of the new watch before the registration it
 * concerns exists: an event generated after inotify_add_watch returned is
 * either still in the kernel's queue or waiting for the mutex. The drain reads
 * the descriptor without the mutex and takes it only when events came, so the
 * hit path (nothing queued: one read(2) that fails with EAGAIN) takes no lock.
 *
 * Watch descriptors are keys: Linux allocates them cyclically, so a wd we
 * removed is not handed out again before the counter wraps (2^31 watches),
 * and an IN_IGNORED for a removed wd finds nothing.
 */
#include "pool/pool_internal.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "util/mem.h"

/* What a directory watch reports. IN_MODIFY besides IN_CLOSE_WRITE: truncate(2)
   by path and writers that keep the file open report nothing else. */
#define WATCH_MASK                                                                                 \
    (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |          \
     IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* A chained hash table over items that carry their hash and a next link. */
typedef struct htab {
    void  **b;
    size_t  nb, count;
    size_t  hash_off, next_off;
} htab;

#define HT_HASH(t, x) (*(uint64_t *)((char *)(x) + (t)->hash_off))
#define HT_NEXT(t, x) (*(void **)((char *)(x) + (t)->next_off))

static void ht_init(htab *t, size_t hash_off, size_t next_off)
{
    t->nb = 16;
    t->b = mem_calloc(t->nb, sizeof *t->b);
    t->count = 0;
    t->hash_off = hash_off;
    t->next_off = next_off;
}

static void ht_insert(htab *t, void *x)
{
    if (t->count + 1 > t->nb) {
        size_t nb = t->nb * 2;
        void **b = mem_calloc(nb, sizeof *b);
        for (size_t i = 0; i < t->nb; i++)
            for (void *y = t->b[i], *next; y; y = next) {
                next = HT_NEXT(t, y);
                HT_NEXT(t, y) = b[HT_HASH(t, y) & (nb - 1)];
                b[HT_HASH(t, y) & (nb - 1)] = y;
            }
        mem_free(t->b);
        t->b = b;
        t->nb = nb;
    }
    void **head = &t->b[HT_HASH(t, x) & (t->nb - 1)];
    HT_NEXT(t, x) = *head;
    *head = x;
    t->count++;
}

static void ht_remove(htab *t, void *x)
{
    void **pp = &t->b[HT_HASH(t, x) & (t->nb - 1)];
    while (*pp && *pp != x)
        pp = &HT_NEXT(t, *pp);
    if (*pp) {
        *pp = HT_NEXT(t, x);
        t->count--;
    }
}

static void *ht_first(const htab *t, uint64_t h)
{
    for (void *y = t->b[h & (t->nb - 1)]; y; y = HT_NEXT(t, y))
        if (HT_HASH(t, y) == h)
            return y;
    return NULL;
}

static void *ht_next(const htab *t, void *x)
{
    uint64_t h = HT_HASH(t, x);
    for (void *y = HT_NEXT(t, x); y; y = HT_NEXT(t, y))
        if (HT_HASH(t, y) == h)
            return y;
    return NULL;
}

typedef struct watch_dir {
    char            *path;     /* the directory (real path) */
    int              wd;       /* inotify watch; -1 when unwatched (fallback) or ended */
    bool             fallback; /* never watched: its modules rely on the scan */
    size_t           refs;     /* registrations (mapped or loading modules) */
    pool_watch_entry *entries; /* its registrations (doubly linked) */
    uint64_t         hash;     /* by_wd: the wd; by_path (fallback dirs): the path */
    struct watch_dir *hnext;
} watch_dir;

struct pool_watch_entry {
    watch_dir        *dir;
    char             *name;     /* file name of part 0 in dir ("C.olean") */
    pool_module      *m;        /* NULL until pool__watch_attach */
    bool              changed;  /* an event came before the module was attached */
    uint64_t          hash;     /* (dir, name) */
    pool_watch_entry *hnext;
    pool_watch_entry *prev, *next; /* dir->entries */
};

struct pool_watch {
    int             fd;            /* inotify, non-blocking; read by the loop thread only */
    uint32_t        max_watches;   /* 0: only the kernel's limit */
    pool_watch_add_fn add;         /* inotify_add_watch, or a test's injection */
    pthread_mutex_t lock;          /* guards everything below */
    htab            by_wd;         /* watched directories */
    htab            by_path;       /* fallback directories */
    htab            by_name;       /* registrations by (dir, name) */
    size_t          ndirs;         /* directory structures alive (watched, fallback, ended) */
    atomic_size_t   fallbacks_alive; /* fallback directories now (read without the lock) */
    int             first_error;   /* errno of the first failed watch (0: none) */
    /* counters, under lock */
    uint64_t        watches, fallbacks, events, overflows; /* events: of watched directories */
    /* loop thread only */
    _Alignas(struct inotify_event) char buf[16384];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t name_hash(const watch_dir *d, const char *name, size_t len)
{
    uintptr_t a = (uintptr_t)d;
    return fnv(fnv(0xcbf29ce484222325ull, &a, sizeof a), name, len);
}

static uint64_t wd_hash(int wd) { return (uint64_t)(unsigned)wd * 0x9e3779b97f4a7c15ull; }

static int default_add(int fd, const char *path, uint32_t mask)
{
    int wd = inotify_add_watch(fd, path, mask);
    return wd < 0 ? -errno : wd;
}

int pool__watch_new(uint32_t max_watches, pool_watch **out)
{
    *out = NULL;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -errno;
    pool_watch *w = mem_calloc(1, sizeof *w);
    w->fd = fd;
    w->max_watches = max_watches;
    w->add = default_add;
    pthread_mutex_init(&w->lock, NULL);
    ht_init(&w->by_wd, offsetof(watch_dir, hash), offsetof(watch_dir, hnext));
    ht_init(&w->by_path, offsetof(watch_dir, hash), offsetof(watch_dir, hnext));
    ht_init(&w->by_name, offsetof(pool_watch_entry, hash), offsetof(pool_watch_entry, hnext));
    *out = w;
    return 0;
}

void pool__watch_free(pool_watch *w)
{
    if (!w)
        return;
    if (w->ndirs != 0) {
        fprintf(stderr, "envpool: watch freed with %zu directories registered\n", w->ndirs);
        abort();
    }
    close(w->fd);
    pthread_mutex_destroy(&w->lock);
    mem_free(w->by_wd.b);
    mem_free(w->by_path.b);
    mem_free(w->by_name.b);
    mem_free(w);
}

void pool__watch_set_add_fn(pool_watch *w, pool_watch_add_fn fn)
{
    w->add = fn ? fn : default_add;
}

int pool__watch_fd(const pool_watch *w) { return w->fd; }

bool pool__watch_covers_all(pool_watch *w)
{
    return atomic_load(&w->fallbacks_alive) == 0;
}

/* Under lock. The inotify watch of d ends: forget its wd (the kernel's is gone or removed). */
static void dir_unwatch(pool_watch *w, watch_dir *d, bool remove_kernel_watch)
{
    if (d->wd < 0)
        return;
    ht_remove(&w->by_wd, d);
    if (remove_kernel_watch)
        inotify_rm_watch(w->fd, d->wd);
    d->wd = -1;
    w->watches--;
}

static watch_dir *dir_new(pool_watch *w, const char *path, size_t len, int wd)
{
    watch_dir *d = mem_calloc(1, sizeof *d);
    d->path = mem_strndup(path, len);
    d->wd = wd;
    w->ndirs++;
    if (wd >= 0) {
        d->hash = wd_hash(wd);
        ht_insert(&w->by_wd, d);
        w->watches++;
    } else {
        d->fallback = true;
        d->hash = fnv(0xcbf29ce484222325ull, path, len);
        ht_insert(&w->by_path, d);
        w->fallbacks++;
        atomic_fetch_add(&w->fallbacks_alive, 1);
    }
    return d;
}

/* Under lock: the last registration of d went. */
static void dir_release(pool_watch *w, watch_dir *d)
{
    if (--d->refs > 0)
        return;
    if (d->fallback) {
        ht_remove(&w->by_path, d);
        atomic_fetch_sub(&w->fallbacks_alive, 1);
    } else
        dir_unwatch(w, d, true);
    w->ndirs--;
    mem_free(d->path);
    mem_free(d);
}

pool_watch_entry *pool__watch_add(pool_watch *w, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    char dirbuf[PATH_MAX];
    if (slash && dlen == 0)
        dlen = 1;                  /* a file in "/" */
    if (dlen >= sizeof dirbuf)
        dlen = 0;                  /* cannot be named: unwatched */
    memcpy(dirbuf, path, dlen);
    dirbuf[dlen] = '\0';
    const char *name = slash ? slash + 1 : path;

    pthread_mutex_lock(&w->lock);
    watch_dir *d = NULL;
    int wd = dlen ? w->add(w->fd, dirbuf, WATCH_MASK) : -ENOENT;
    if (wd >= 0) {
        for (watch_dir *x = ht_first(&w->by_wd, wd_hash(wd)); x; x = ht_next(&w->by_wd, x))
            if (x->wd == wd) {
                d = x;
                break;
            }
        if (!d && w->max_watches && w->watches >= w->max_watches) {
            inotify_rm_watch(w->fd, wd); /* a new watch over our own limit */
            wd = -ENOSPC;
        } else if (!d) {
            d = dir_new(w, dirbuf, dlen, wd);
        }
    }
    if (!d) {
        if (!w->first_error)
            w->first_error = -wd;
        uint64_t h = fnv(0xcbf29ce484222325ull, dirbuf, dlen);
        for (watch_dir *x = ht_first(&w->by_path, h); x; x = ht_next(&w->by_path, x))
            if (strcmp(x->path, dirbuf) == 0) {
                d = x;
                break;
            }
        if (!d)
            d = dir_new(w, dirbuf, dlen, -1);
    }
    d->refs++;
    pool_watch_entry *en = mem_calloc(1, sizeof *en);
    en->dir = d;
    en->name = mem_strdup(name);
    en->hash = name_hash(d, name, strlen(name));
    en->next = d->entries;
    if (d->entries)
        d->entries->prev = en;
    d->entries = en;
    ht_insert(&w->by_name, en);
    pthread_mutex_unlock(&w->lock);
    return en;
}

/* Under lock. */
static void entry_mark(pool_watch_entry *en)
{
    if (en->m)
        pool__module_mark_stale(en->m, POOL__STALE_EVENT);
    else
        en->changed = true;
}

void pool__watch_attach(pool_watch *w, pool_watch_entry *en, pool_module *m)
{
    pthread_mutex_lock(&w->lock);
    en->m = m;
    if (en->changed)
        pool__module_mark_stale(m, POOL__STALE_EVENT);
    pthread_mutex_unlock(&w->lock);
}

void pool__watch_remove(pool_watch *w, pool_watch_entry *en)
{
    if (!en)
        return;
    pthread_mutex_lock(&w->lock);
    watch_dir *d = en->dir;
    ht_remove(&w->by_name, en);
    if (en->prev)
        en->prev->next = en->next;
    else
        d->entries = en->next;
    if (en->next)
        en->next->prev = en->prev;
    dir_release(w, d);
    pthread_mutex_unlock(&w->lock);
    mem_free(en->name);
    mem_free(en);
}

/* The part-0 name an event's file name concerns: companions map to their .olean. */
static size_t base_len(const char *name)
{
    size_t len = strlen(name);
    static const char *const sfx[] = {".olean.server", ".olean.private"};
    for (size_t i = 0; i < 2; i++) {
        size_t sl = strlen(sfx[i]);
        if (len > sl && memcmp(name + len - sl, sfx[i], sl) == 0)
            return len - sl + 6; /* keep ".olean" */
    }
    return len;
}

/* Under lock. One event. */
static void handle_event(pool_watch *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        /* Events were lost: any watched file may have changed. */
        w->events++;
        w->overflows++;
        for (size_t i = 0; i < w->by_name.nb; i++)
            for (pool_watch_entry *en = w->by_name.b[i]; en; en = en->hnext)
                entry_mark(en);
        return;
    }
    watch_dir *d = NULL;
    for (watch_dir *x = ht_first(&w->by_wd, wd_hash(ev->wd)); x; x = ht_next(&w->by_wd, x))
        if (x->wd == ev->wd) {
            d = x;
            break;
        }
    if (!d)
        return; /* a watch we removed, or its IN_IGNORED: not counted */
    w->events++;
    if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        /* The directory is gone from its path: every module in it is. A new load
           from the same path watches whatever directory is there then. */
        for (pool_watch_entry *en = d->entries; en; en = en->next)
            entry_mark(en);
        dir_unwatch(w, d, !(ev->mask & IN_IGNORED));
        return;
    }
    if (ev->len == 0)
        return;
    size_t len = base_len(ev->name);
    uint64_t h = name_hash(d, ev->name, len);
    for (pool_watch_entry *en = ht_first(&w->by_name, h); en; en = ht_next(&w->by_name, en))
        if (en->dir == d && strlen(en->name) == len && memcmp(en->name, ev->name, len) == 0)
            entry_mark(en);
}

size_t pool__watch_drain(pool_watch *w)
{
    size_t n = 0;
    for (;;) {
        ssize_t got = read(w->fd, w->buf, sizeof w->buf);
        if (got <= 0)
            break; /* EAGAIN: nothing queued (EINTR cannot happen: non-blocking) */
        pthread_mutex_lock(&w->lock);
        for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t)got;) {
            const struct inotify_event *ev = (const void *)(w->buf + off);
            if (off + sizeof *ev + ev->len > (size_t)got)
                break; /* the kernel never splits an event; guard anyway */
            handle_event(w, ev);
            n++;
            off += sizeof *ev + ev->len;
        }
        pthread_mutex_unlock(&w->lock);
        if ((size_t)got < sizeof w->buf - sizeof(struct inotify_event) - NAME_MAX - 1)
            break; /* room was left: the queue is empty now */
    }
    return n;
}

void pool__watch_stats(pool_watch *w, pool_watch_stats *out)
{
    pthread_mutex_lock(&w->lock);
    out->watches = w->watches;
    out->fallbacks = w->fallbacks;
    out->events = w->events;
    out->overflows = w->overflows;
    out->dirs = w->ndirs;
    out->first_error = w->first_error;
    pthread_mutex_unlock(&w->lock);
}
