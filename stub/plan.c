/* plan.c - where Python's native parts come from: the cache entry, or
 * memory when no cache directory can be used (none writable, HOME unset,
 * or the cache on a noexec mount). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub.h"

static char *join(const char *a, const char *b)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* Where a file comes from: its path for dlopen, and the fd to close once it
 * is loaded (or -1). */
typedef char *(*resolve_fn)(void *ctx, const char *rel, uint64_t size, int *fd);

/* libpython and the libraries loaded before it, as resolve() places them. */
static int fill_preload(struct stub_plan *p, const struct stub_manifest *m, resolve_fn resolve, void *ctx)
{
    p->preload = calloc(m->npreload ? m->npreload : 1, sizeof *p->preload);
    p->fds = malloc((m->npreload + 1) * sizeof *p->fds);
    if (!p->preload || !p->fds)
        return -1;
    for (size_t i = 0; i <= m->npreload; i++)
        p->fds[i] = -1;
    for (size_t i = 0; i < m->npreload; i++) {
        uint64_t size = m->preload_size ? m->preload_size[i] : 0;
        if (!(p->preload[i] = resolve(ctx, m->preload[i], size, &p->fds[i])))
            return -1;
        p->npreload++;
    }
    if (m->linked)
        return 0; /* libpython is in the stub itself */
    return (p->libpython = resolve(ctx, m->libpython, m->libpython_size, &p->fds[m->npreload])) ? 0 : -1;
}

struct in_dir {
    struct stub_self *self;
    char *why;
    size_t whylen;
    int *corrupt;
};

/* A file of the entry in use, opened through it and checked: its
 * /proc/self/fd name (dlopen loads the very file that was checked).  One
 * that is missing or damaged (a FIFO, a directory, a symlink, short...) is
 * replaced with the bundle's copy, or, where that cannot be written, the
 * copy is loaded from memory. */
static char *in_entry(void *ctx, const char *rel, uint64_t size, int *fd)
{
    struct in_dir *c = ctx;
    const struct stub_table *t;
    const struct stub_file *f;
    const char *bad = NULL;
    char *path;

    if ((*fd = cache_open(rel, size, 1, &bad)) >= 0)
        goto named;
    stub_debug("%s in the cache entry: %s; replacing it", rel, bad ? bad : strerror(errno));
    /* the bundle's copy, checked (an eager file has no checksum of its own) */
    if (!(t = self_files(c->self, c->why, c->whylen, c->corrupt)))
        return NULL;
    if (!(f = table_find(t, rel))) {
        *c->corrupt = 1;
        snprintf(c->why, c->whylen, "'%s' is missing", rel);
        return NULL;
    }
    if (check_verdict(c->self) != 0) {
        *c->corrupt = 1;
        snprintf(c->why, c->whylen, "checksum mismatch");
        return NULL;
    }
    if (!size)
        size = f->size;
    if (cache_replace(c->self, f) == 0 && (*fd = cache_open(rel, size, 1, &bad)) >= 0)
        goto named;
    stub_debug("%s cannot be replaced in the cache entry (%s): loading it from memory", rel,
               bad ? bad : strerror(errno));
    if (!(path = memfd_copy(c->self->fd, f, NULL, rel)))
        snprintf(c->why, c->whylen, "cannot load '%s' into memory: %s", rel, strerror(errno));
    return path; /* the memfd stays open: *fd is -1 */
named:
    if ((path = fd_path(fd)))
        return path;
    snprintf(c->why, c->whylen, "cannot load '%s': %s", rel, strerror(errno));
    close(*fd);
    *fd = -1;
    return NULL;
}

int plan_from_dir(struct stub_self *self, const char *dir, const struct stub_manifest *m, struct stub_plan *p,
                  char *why, size_t whylen, int *corrupt)
{
    struct in_dir c = {self, why, whylen, corrupt};

    memset(p, 0, sizeof *p);
    p->home = strdup(dir);
    p->dir = strdup(dir);
    p->site = join(dir, "site");
    if (!p->home || !p->dir || !p->site) {
        snprintf(why, whylen, "out of memory");
        plan_release(p);
        return -1;
    }
    if (fill_preload(p, m, in_entry, &c) != 0) {
        if (!why[0])
            snprintf(why, whylen, "out of memory");
        for (size_t i = 0; p->fds && i <= m->npreload; i++)
            if (p->fds[i] >= 0)
                close(p->fds[i]);
        plan_release(p);
        return -1;
    }
    return 0;
}

#ifdef HAVE_MEMFD_CREATE
struct mem {
    struct stub_self *self;
    char *why;
    size_t whylen;
    int missing;
};

/* A copy of entry rel in a memfd (memfd_copy): its /proc path. */
static char *in_mem(void *ctx, const char *rel, uint64_t size, int *fd)
{
    struct mem *mm = ctx;
    const struct stub_file *f = table_find(&mm->self->files, rel);
    char *path;

    (void)size;
    *fd = -1; /* the memfd stays open */
    if (!f) {
        mm->missing = 1;
        snprintf(mm->why, mm->whylen, "'%s' is missing", rel);
        return NULL;
    }
    if (!(path = memfd_copy(mm->self->fd, f, NULL, rel)))
        snprintf(mm->why, mm->whylen, "cannot load '%s' into memory: %s", rel, strerror(errno));
    return path;
}

int plan_from_memory(const struct stub_self *self, struct stub_manifest *m, struct stub_plan *p,
                     char *why, size_t whylen, int *corrupt)
{
    struct mem mm = {(struct stub_self *)self, why, whylen, 0};

    memset(p, 0, sizeof *p);
    if (check_verdict((struct stub_self *)self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        return -1;
    }
    if (manifest_of((struct stub_self *)self, m, why, whylen, corrupt) != 0)
        return -1;
    if (!(p->home = strdup("/proc/self/fd")) || fill_preload(p, m, in_mem, &mm) != 0) {
        if (!p->home)
            snprintf(why, whylen, "out of memory");
        *corrupt = mm.missing; /* a file the manifest names is not in the bundle */
        plan_release(p);
        return -1;
    }
    stub_debug("no usable cache directory: libpython and %zu libraries loaded from memory", p->npreload);
    return 0;
}
#else
int plan_from_memory(const struct stub_self *self, struct stub_manifest *m, struct stub_plan *p,
                     char *why, size_t whylen, int *corrupt)
{
    (void)self, (void)m, (void)p, (void)corrupt;
    snprintf(why, whylen, "no usable cache directory (set BUNDLE_CACHE_DIR to a writable one)");
    return -1;
}
#endif

void plan_release(struct stub_plan *p)
{
    free(p->home);
    free(p->dir);
    free(p->site);
    for (size_t i = 0; i < p->npreload; i++)
        free(p->preload[i]);
    free(p->preload);
    free(p->libpython);
    free(p->fds);
    memset(p, 0, sizeof *p);
}
