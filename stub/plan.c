/* plan.c - where Python's native parts come from: the cache entry, or
 * memory when no cache directory can be used (none writable, HOME unset,
 * or the cache on a noexec mount). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stub.h"

static char *join(const char *a, const char *b)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* libpython and the libraries loaded before it, as resolve() places them. */
static int fill_preload(struct stub_plan *p, const struct stub_manifest *m,
                        char *(*resolve)(void *, const char *), void *ctx)
{
    p->preload = calloc(m->npreload ? m->npreload : 1, sizeof *p->preload);
    if (!p->preload)
        return -1;
    for (size_t i = 0; i < m->npreload; i++) {
        if (!(p->preload[i] = resolve(ctx, m->preload[i])))
            return -1;
        p->npreload++;
    }
    if (m->linked)
        return 0; /* libpython is in the stub itself */
    return (p->libpython = resolve(ctx, m->libpython)) ? 0 : -1;
}

static char *in_dir(void *dir, const char *rel) { return join(dir, rel); }

int plan_from_dir(const char *dir, const struct stub_manifest *m, struct stub_plan *p)
{
    memset(p, 0, sizeof *p);
    p->home = strdup(dir);
    p->dir = strdup(dir);
    p->site = join(dir, "site");
    if (!p->home || !p->dir || !p->site || fill_preload(p, m, in_dir, (void *)dir) != 0) {
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
static char *in_mem(void *ctx, const char *rel)
{
    struct mem *mm = ctx;
    const struct stub_file *f = table_find(&mm->self->files, rel);
    char *path;

    if (!f) {
        mm->missing = 1;
        snprintf(mm->why, mm->whylen, "'%s' is missing", rel);
        return NULL;
    }
    if (!(path = memfd_copy(mm->self->fd, f->off, f->size, rel)))
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
    memset(p, 0, sizeof *p);
}
