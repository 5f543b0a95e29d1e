/* native.c - what the start-up module asks of the stub while the app runs.
 *
 * Module code is read in place from the pyz blob, mapped once: importing a
 * module costs no system call.  Extension modules, and the libraries only
 * they need, are unpacked when the app first imports them, not on the first
 * start: a hello world never unpacks the 20 extension modules of the stdlib
 * closure it carries.  Each such file is written with no name (O_TMPFILE)
 * and linked into the cache entry when whole (a concurrent start sees all
 * of it or nothing; a killed one leaves nothing), after its CRC-32C is
 * checked: a damaged copy of the bundle cannot leave a bad file in the
 * cache that a good copy would then use.  With no cache directory, the
 * file goes to a memfd instead.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4.h>

#include "bundle/crc32c.h"
#include "stub.h"

static struct {
    struct stub_self *self;
    struct stub_manifest *m;
    const char *dir;        /* the cache entry, or NULL: memory mode */
    const uint8_t *pyz;     /* the pyz blob, mapped */
    size_t pyz_size;
    uint8_t *buf;           /* native_code's output */
    size_t cap;
} st;

int native_init(const struct stub_self *self, struct stub_manifest *m, const struct stub_plan *p,
                char *why, size_t whylen)
{
    const struct payload_trailer *t = &self->trailer;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = t->pyz_offset - t->pyz_offset % (uint64_t)(page > 0 ? page : 4096);
    void *map;

    st.self = (struct stub_self *)self;
    st.m = m;
    st.dir = p->dir;
    if (t->pyz_size < 4 || t->pyz_offset + t->pyz_size - start > SIZE_MAX) {
        snprintf(why, whylen, "the bundle holds no modules");
        return -1;
    }
    /* mapped for the life of the process: the app may close every fd */
    map = mmap(NULL, (size_t)(t->pyz_offset + t->pyz_size - start), PROT_READ, MAP_PRIVATE, self->fd,
               (off_t)start);
    if (map == MAP_FAILED) {
        snprintf(why, whylen, "cannot map the bundle: %s", strerror(errno));
        return -1;
    }
    st.pyz = (const uint8_t *)map + (t->pyz_offset - start);
    st.pyz_size = (size_t)t->pyz_size;
    return 0;
}

const uint8_t *native_index(size_t *len)
{
    uint32_t n = (uint32_t)st.pyz[0] | (uint32_t)st.pyz[1] << 8 | (uint32_t)st.pyz[2] << 16 |
                 (uint32_t)st.pyz[3] << 24;
    if (n > st.pyz_size - 4)
        return NULL;
    *len = n;
    return st.pyz + 4;
}

/* The largest module code the stub inflates: far beyond any real module. */
#define CODE_MAX (256u << 20)

int native_code(uint64_t off, uint64_t size, const uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
    const uint8_t *p;
    uint32_t n;

    if (off > st.pyz_size || size > st.pyz_size - off || size < 4 || size - 4 > (uint64_t)LZ4_MAX_INPUT_SIZE) {
        snprintf(why, whylen, "bundle is corrupt (module data out of bounds); download it again");
        return -1;
    }
    p = st.pyz + off;
    n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (n > CODE_MAX) {
        snprintf(why, whylen, "bundle is corrupt (module size); download it again");
        return -1;
    }
    if (n > st.cap || !st.buf) {
        size_t cap = n > 256 * 1024 ? n : 256 * 1024;
        uint8_t *b = realloc(st.buf, cap);
        if (!b) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        st.buf = b;
        st.cap = cap;
    }
    if (LZ4_decompress_safe((const char *)p + 4, (char *)st.buf, (int)(size - 4), (int)n) != (int)n) {
        snprintf(why, whylen, "bundle is corrupt (module data); download it again");
        return -1;
    }
    *out = st.buf;
    *outlen = n;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* mkdir -p of the parents of path, a file under the cache entry. */
static int make_parents(const char *path)
{
    char *p = strdup(path);
    size_t skip = strlen(st.dir) + 1;
    int rc = 0;

    if (!p)
        return -1;
    for (char *s = p + skip; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    free(p);
    return rc;
}

/* Writes lazy file l (its bytes at data) to path in the cache entry, or to
 * a memfd when path is NULL; returns where it is (malloc'ed) or NULL with
 * why set. */
static char *unpack(const struct stub_lazy *l, const char *path, const uint8_t *data, size_t size,
                    char *why, size_t whylen)
{
    char *tmp = NULL, *done = NULL;
    int fd = -1;

    if (!path) {
#ifdef HAVE_MEMFD_CREATE
        fd = memfd_create(l->rel, MFD_CLOEXEC); /* stays open: dlopen reads it */
        if (fd < 0 || write_all(fd, data, size) != 0 || asprintf(&done, "/proc/self/fd/%d", fd) < 0) {
            snprintf(why, whylen, "cannot load '%s' into memory: %s", l->rel, strerror(errno));
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        return done;
#else
        snprintf(why, whylen, "no cache directory for '%s'", l->rel);
        return NULL;
#endif
    }
    if (!(done = strdup(path)) || make_parents(path) != 0)
        goto io;
    /* a file with no name until it is whole (O_TMPFILE), linked into place:
     * a start killed half-way leaves nothing behind; where the filesystem
     * has no O_TMPFILE, a temp name and rename() */
    char *slash = strrchr(done, '/');
    *slash = '\0';
    fd = open(done, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700);
    *slash = '/';
    if (fd >= 0) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (write_all(fd, data, size) != 0) {
            close(fd);
            goto io;
        }
        int linked = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST;
        close(fd); /* EEXIST: a concurrent start linked its whole copy first */
        if (linked)
            return done;
        /* no /proc, say: the named way below */
    }
    if (asprintf(&tmp, "%s.tmp-%ld", path, (long)getpid()) < 0) {
        tmp = NULL;
        goto io;
    }
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0700)) < 0)
        goto io;
    int ok = write_all(fd, data, size) == 0;
    /* whole or absent: a concurrent start may rename its own copy too */
    if (close(fd) == 0 && ok && rename(tmp, path) == 0) {
        free(tmp);
        return done;
    }
    int e = errno;
    unlink(tmp);
    errno = e;
io:
    snprintf(why, whylen, "cannot unpack '%s' into the cache: %s", path, strerror(errno));
    free(done);
    free(tmp);
    return NULL;
}

/* Lazy file l's bytes, from the bundle file, checked against its CRC-32C,
 * handed to unpack(). */
static int unpack_from_bundle(struct stub_lazy *l, const char *path, char *why, size_t whylen)
{
    const struct stub_table *t;
    const struct stub_file *f;
    int corrupt = 0, fd, rc = -1;
    char reason[STUB_WHY_MAX] = "";

    /* the bundle file again: the app may have closed the stub's fd */
    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open the bundle: %s", strerror(errno));
        return -1;
    }
    int saved = st.self->fd;
    st.self->fd = fd;
    t = self_files(st.self, reason, sizeof reason, &corrupt);
    f = t ? table_find(t, l->rel) : NULL;
    if (t && !f)
        snprintf(why, whylen, "bundle is corrupt ('%s' is missing); download it again", l->rel);
    else if (!t)
        snprintf(why, whylen, corrupt ? "bundle is corrupt (%s); download it again" : "%s", reason);
    if (f) {
        long page = sysconf(_SC_PAGESIZE);
        uint64_t start = f->off - f->off % (uint64_t)(page > 0 ? page : 4096);
        size_t maplen = (size_t)(f->off + f->size - start);
        void *map = mmap(NULL, maplen ? maplen : 1, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
        if (map == MAP_FAILED) {
            snprintf(why, whylen, "cannot read '%s' from the bundle: %s", l->rel, strerror(errno));
        } else {
            const uint8_t *data = (const uint8_t *)map + (f->off - start);
            if (crc32c(0, data, (size_t)f->size) != l->crc)
                snprintf(why, whylen, "bundle is corrupt ('%s' does not match its checksum); download it again",
                         l->rel);
            else if ((l->path = unpack(l, path, data, (size_t)f->size, why, whylen)) != NULL)
                rc = 0;
            munmap(map, maplen ? maplen : 1);
        }
    }
    st.self->fd = saved;
    close(fd);
    if (rc == 0)
        stub_debug("unpacked %s", l->rel);
    return rc;
}

/* Makes lazy file l available: found in the cache entry, or unpacked. */
static int ensure(struct stub_lazy *l, char *why, size_t whylen)
{
    char *path = NULL;
    int rc;

    if (l->path)
        return 0;
    if (st.dir) {
        if (asprintf(&path, "%s/%s", st.dir, l->rel) < 0) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        if (access(path, F_OK) == 0) { /* there, so whole: renamed into place */
            l->path = path;
            return 0;
        }
    }
    rc = unpack_from_bundle(l, path, why, whylen);
    free(path);
    return rc;
}

static int is_preload(const char *rel)
{
    for (size_t i = 0; i < st.m->npreload; i++)
        if (strcmp(st.m->preload[i], rel) == 0)
            return 1;
    return 0;
}

int native_path(const char *rel, const char **path, char *why, size_t whylen)
{
    struct stub_lazy *l = manifest_lazy(st.m, rel);

    if (!l) {
        snprintf(why, whylen, "'%s' is not a native file of this bundle", rel);
        return -1;
    }
    for (size_t i = 0; i < l->ndeps; i++) {
        struct stub_lazy *d = manifest_lazy(st.m, l->deps[i]);
        if (!d && is_preload(l->deps[i]))
            continue; /* loaded before libpython */
        if (!d) {
            snprintf(why, whylen, "'%s' is not a native file of this bundle", l->deps[i]);
            return -1;
        }
        if (d->loaded)
            continue;
        if (ensure(d, why, whylen) != 0)
            return -1;
        /* loaded by path: what asks for it by soname later gets this copy */
        if (!dlopen(d->path, RTLD_LAZY | RTLD_LOCAL)) {
            snprintf(why, whylen, "cannot load %s: %s", d->path, dlerror());
            return -1;
        }
        d->loaded = 1;
    }
    if (ensure(l, why, whylen) != 0)
        return -1;
    *path = l->path;
    return 0;
}
