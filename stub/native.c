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

/* Writes lazy file l (its bytes at data) into the cache entry at l->rel.
 * A file with no name until it is whole (O_TMPFILE) is linked into place:
 * a start killed half-way leaves nothing behind; where the filesystem or
 * /proc has no way to do that, a temp name and rename().  Returns 0 or -1
 * with errno. */
static int unpack(const struct stub_lazy *l, const uint8_t *data, size_t size)
{
    char parent[PAYLOAD_PATH_MAX + 1], proc[64], *tmp = NULL;
    const char *slash = strrchr(l->rel, '/');
    int dfd, fd, rc = -1, e;

    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - l->rel) : 1, slash ? l->rel : ".");
    if ((dfd = open(st.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    if (make_parents(dfd, l->rel) != 0)
        goto out;
    if ((fd = openat(dfd, parent, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700)) >= 0) {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (write_full(fd, data, size) == 0 &&
            /* EEXIST: a concurrent start linked its whole copy first */
            (linkat(AT_FDCWD, proc, dfd, l->rel, AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST))
            rc = 0;
        e = errno;
        close(fd);
        errno = e;
        if (rc == 0 || errno != ENOENT) /* ENOENT: no /proc, the named way */
            goto out;
    }
    if (asprintf(&tmp, "%s.tmp-%ld", l->rel, (long)getpid()) < 0) {
        tmp = NULL;
        goto out;
    }
    if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0700)) < 0)
        goto out;
    int ok = write_full(fd, data, size) == 0;
    /* whole or absent: a concurrent start may rename its own copy too */
    if (close(fd) == 0 && ok && renameat(dfd, tmp, dfd, l->rel) == 0) {
        rc = 0;
        goto out;
    }
    e = errno;
    unlinkat(dfd, tmp, 0);
    errno = e;
out:
    e = errno;
    close(dfd);
    free(tmp);
    errno = e;
    return rc;
}

/* Lazy file l, from the bundle file, checked against its CRC-32C, then
 * unpacked into the cache entry (path) or copied into a memfd. */
static int unpack_from_bundle(struct stub_lazy *l, char *path, char *why, size_t whylen)
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
            if (crc32c(0, data, (size_t)f->size) != l->crc) {
                snprintf(why, whylen, "bundle is corrupt ('%s' does not match its checksum); download it again",
                         l->rel);
            } else if (!path) {
                /* no cache directory: a memfd */
                if ((l->path = memfd_copy(fd, f->off, f->size, l->rel)) != NULL)
                    rc = 0;
                else
                    snprintf(why, whylen, "cannot load '%s' into memory: %s", l->rel, strerror(errno));
            } else if (unpack(l, data, (size_t)f->size) == 0) {
                l->path = path;
                path = NULL;
                rc = 0;
            } else {
                snprintf(why, whylen, "cannot unpack '%s' into the cache: %s", path, strerror(errno));
            }
            munmap(map, maplen ? maplen : 1);
        }
    }
    st.self->fd = saved;
    close(fd);
    free(path);
    if (rc == 0)
        stub_debug("unpacked %s", l->rel);
    return rc;
}

/* Makes lazy file l available: found in the cache entry, or unpacked. */
static int ensure(struct stub_lazy *l, char *why, size_t whylen)
{
    char *path = NULL;

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
    return unpack_from_bundle(l, path, why, whylen); /* takes path */
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
