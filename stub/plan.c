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
    return (p->libpython = resolve(ctx, m->libpython)) ? 0 : -1;
}

static char *in_dir(void *dir, const char *rel) { return join(dir, rel); }

int plan_from_dir(const char *dir, const struct stub_manifest *m, struct stub_plan *p)
{
    memset(p, 0, sizeof *p);
    p->extmap_fd = -1;
    p->home = strdup(dir);
    p->paths[0] = join(dir, "py");
    p->paths[1] = join(dir, "site");
    p->npaths = 2;
    if (!p->home || !p->paths[0] || !p->paths[1] || fill_preload(p, m, in_dir, (void *)dir) != 0) {
        plan_release(p);
        return -1;
    }
    return 0;
}

#ifdef HAVE_MEMFD_CREATE
/* What memory mode keeps while it walks the bundle. */
struct mem {
    char *manifest;          /* the manifest's text */
    char **rels, **paths;    /* lib/ and site/ entries and their /proc/self/fd paths */
    int *fds;                /* ...and their memfds */
    size_t n, cap;
};

static int mem_one(void *ctx, const struct stub_self *self, const char *rel, uint64_t off,
                   uint64_t size, char *why, size_t whylen)
{
    struct mem *mm = ctx;
    int fd;

    if (strcmp(rel, "manifest") == 0) {
        if (mm->manifest)
            return 0; /* the first of two, as the cache mode's extraction keeps */
        if (size > PAYLOAD_MANIFEST_MAX || !(mm->manifest = malloc(size + 1)) ||
            pread(self->fd, mm->manifest, size, (off_t)off) != (ssize_t)size) {
            snprintf(why, whylen, "cannot read the manifest");
            return -1;
        }
        mm->manifest[size] = '\0';
        return 0;
    }
    /* py/ is read by zipimport from the bundle itself; site/ data files
     * cannot be served without a directory: only libraries and extension
     * modules go to memory */
    if (!(strncmp(rel, "lib/", 4) == 0 || (strncmp(rel, "site/", 5) == 0 && strstr(rel, ".so"))))
        return 0;
    fd = memfd_create(rel, MFD_CLOEXEC);
    if (fd < 0 || copy_range(self->fd, off, size, fd) != 0) {
        snprintf(why, whylen, "cannot load '%s' into memory: %s", rel, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (mm->n == mm->cap) {
        size_t cap = mm->cap ? mm->cap * 2 : 64;
        char **r = realloc(mm->rels, cap * sizeof *r), **q = r ? realloc(mm->paths, cap * sizeof *q) : NULL;
        int *f = q ? realloc(mm->fds, cap * sizeof *f) : NULL;
        if (r)
            mm->rels = r;
        if (q)
            mm->paths = q;
        if (f)
            mm->fds = f;
        if (!r || !q || !f) {
            close(fd);
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        mm->cap = cap;
    }
    mm->fds[mm->n] = fd;
    mm->rels[mm->n] = strdup(rel);
    if (asprintf(&mm->paths[mm->n], "/proc/self/fd/%d", fd) < 0)
        mm->paths[mm->n] = NULL;
    mm->n++;
    return 0; /* the fd stays open: dlopen and Python's import read it later */
}

static char *in_mem(void *ctx, const char *rel)
{
    struct mem *mm = ctx;
    for (size_t i = 0; i < mm->n; i++)
        if (mm->rels[i] && strcmp(mm->rels[i], rel) == 0)
            return mm->paths[i] ? strdup(mm->paths[i]) : NULL;
    return NULL;
}

int plan_from_memory(const struct stub_self *self, struct stub_manifest *m, struct stub_plan *p,
                     char *why, size_t whylen, int *corrupt)
{
    struct mem mm = {0};
    int rc = -1;

    memset(p, 0, sizeof *p);
    p->extmap_fd = -1;
    if (hash_verdict((struct stub_self *)self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        return -1;
    }
    if (native_each(self, mem_one, &mm, why, whylen, corrupt) != 0)
        goto out;
    if (!mm.manifest || manifest_parse(mm.manifest, m) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "malformed manifest");
        goto out;
    }
    /* the extension modules, for the start-up module's finder */
    p->extmap_fd = memfd_create("extmap", MFD_CLOEXEC);
    for (size_t i = 0; p->extmap_fd >= 0 && i < mm.n; i++) {
        char line[PAYLOAD_PATH_MAX + 64];
        if (strncmp(mm.rels[i], "site/", 5) != 0 || !mm.paths[i])
            continue;
        int n = snprintf(line, sizeof line, "%s\t%s\n", mm.rels[i] + 5, mm.paths[i]);
        if (n > 0 && (size_t)n < sizeof line && write(p->extmap_fd, line, (size_t)n) != n)
            break;
    }
    p->home = strdup("/proc/self/fd");
    /* zipimport reads the early modules from this very file, even if the
     * path it was started from is replaced while it runs */
    p->paths[0] = strdup("/proc/self/exe/_native/py");
    p->npaths = 1;
    if (p->extmap_fd < 0 || !p->home || !p->paths[0] || fill_preload(p, m, in_mem, &mm) != 0) {
        snprintf(why, whylen, "cannot prepare the native parts in memory");
        goto out;
    }
    stub_debug("no usable cache directory: %zu native files loaded from memory", mm.n);
    rc = 0;
out:
    free(mm.manifest);
    for (size_t i = 0; i < mm.n; i++) {
        if (rc != 0)
            close(mm.fds[i]); /* on success they stay open: dlopen and import use them */
        free(mm.rels[i]);
        free(mm.paths[i]);
    }
    free(mm.rels);
    free(mm.paths);
    free(mm.fds);
    if (rc != 0)
        plan_release(p);
    return rc;
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
    for (int i = 0; i < 2; i++)
        free(p->paths[i]);
    for (size_t i = 0; i < p->npreload; i++)
        free(p->preload[i]);
    free(p->preload);
    free(p->libpython);
    if (p->extmap_fd >= 0)
        close(p->extmap_fd);
    memset(p, 0, sizeof *p);
    p->extmap_fd = -1;
}
