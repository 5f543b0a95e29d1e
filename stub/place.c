/* place.c - writing files into the cache entry in use, or into a memfd:
 * a file gets its name only once it is whole (place), and every file the
 * stub loads is opened through the entry and checked first (cache_open).
 * Also the /proc/self/fd names given to the dynamic loader (fd_path).
 * Depends on cache.c (the entry in use) and entry.c (a file of the bundle,
 * inflated or copied, and the helpers that write bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_impl.h"
#include "stub.h"

int make_parents(int dfd, const char *rel)
{
    char path[PAYLOAD_PATH_MAX + 1];
    size_t len = strlen(rel);

    memcpy(path, rel, len + 1);
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        if (mkdirat(dfd, path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = '/';
    }
    return 0;
}

/* Names given to the dynamic loader.  glibc takes a name it has loaded
 * before for that same library (dlopen compares names before it opens
 * anything), so no /proc/self/fd/N name is ever given twice, whatever file
 * descriptor N is now: an app that closed its descriptors would otherwise
 * get a library loaded earlier under the number instead of the new one. */
static struct {
    unsigned char *bits;
    size_t cap; /* bytes */
    int top;    /* the highest number given, or -1 */
} names = {NULL, 0, -1};

static int name_given(int n)
{
    return (size_t)n / 8 < names.cap && (names.bits[n / 8] >> (n % 8) & 1);
}

char *fd_path(int *fd)
{
    char *path = NULL;
    int n = *fd;

    if (name_given(n)) {
        /* past every number given: never given */
        int d = fcntl(n, F_DUPFD_CLOEXEC, names.top + 1);
        if (d < 0)
            return NULL;
        close(n);
        *fd = n = d;
    }
    if ((size_t)n / 8 >= names.cap) {
        size_t cap = ((size_t)n / 8 + 1) * 2;
        unsigned char *b = realloc(names.bits, cap);
        if (!b)
            return NULL;
        memset(b + names.cap, 0, cap - names.cap);
        names.bits = b;
        names.cap = cap;
    }
    if (asprintf(&path, "/proc/self/fd/%d", n) < 0)
        return NULL;
    names.bits[n / 8] |= (unsigned char)(1u << (n % 8));
    if (n > names.top)
        names.top = n;
    return path;
}

void fd_path_reset(void)
{
    free(names.bits);
    names.bits = NULL;
    names.cap = 0;
    names.top = -1;
}

/* What goes into a file the stub writes: size bytes at data, or file f of
 * the bundle open as in, which must then have the CRC-32C *want (if not
 * NULL; else EBADMSG). */
struct filler {
    const void *data;
    size_t size;
    int in;
    const struct stub_file *f;
    const uint32_t *want;
    struct inflater *dec; /* NULL: the process's shared decoder */
};

static int fill(int fd, const struct filler *x)
{
    uint32_t crc = 0;

    if (!x->f)
        return write_full(fd, x->data, x->size);
    if (entry_write_by(x->dec, x->in, x->f, fd, x->want ? &crc : NULL) != 0)
        return -1;
    if (x->want && crc != *x->want) {
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

#ifdef HAVE_MEMFD_CREATE
static char *memfd_fill(const struct filler *x, const char *name)
{
    char *path = NULL;
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0 || fill(fd, x) != 0 || !(path = fd_path(&fd))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return NULL;
    }
    return path; /* the fd stays open: dlopen and import read it later */
}
#else
static char *memfd_fill(const struct filler *x, const char *name)
{
    (void)x, (void)name;
    errno = ENOSYS;
    return NULL;
}
#endif

char *memfd_copy(int in, const struct stub_file *f, const uint32_t *want, const char *name)
{
    struct filler x = {NULL, 0, in, f, want, NULL};
    return memfd_fill(&x, name);
}

int cache_open(const char *rel, uint64_t size, int elf, const char **bad)
{
    struct stat st;
    char magic[4];
    int dfd = cache_entry_fd(), fd;

    *bad = NULL;
    if (dfd < 0) {
        errno = ESTALE;
        return -1;
    }
    /* a FIFO must not block the open, a symlink is not followed */
    fd = openat(dfd, rel, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            *bad = errno == ELOOP ? "a symlink" : strerror(errno);
        return -1;
    }
    if (fstat(fd, &st) != 0)
        *bad = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        *bad = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "not a regular file";
    else if (st.st_uid != cache_uid())
        *bad = "another user's file";
    else if ((st.st_mode & 022) != 0)
        *bad = "writable by other users";
    else if (size && (uint64_t)st.st_size != size)
        *bad = st.st_size < (off_t)size ? "shorter than it should be" : "longer than it should be";
    else if (elf && (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic || memcmp(magic, "\177ELF", 4) != 0))
        *bad = "not an ELF file";
    if (*bad) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

int cache_remove(const char *rel)
{
    char parent[PAYLOAD_PATH_MAX + 1];
    const char *slash = strrchr(rel, '/');
    int dfd = cache_entry_fd(), pfd;
    struct stat st;

    if (dfd < 0) {
        errno = ESTALE;
        return -1;
    }
    if (unlinkat(dfd, rel, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR)
        return -1;
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - rel) : 1, slash ? rel : ".");
    if ((pfd = openat(dfd, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return -1;
    cache_remove_tree(pfd, slash ? slash + 1 : rel);
    close(pfd);
    if (fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = ENOTEMPTY;
        return -1;
    }
    return 0;
}

/* Writes file rel under the entry dir dfd.  own: the calling thread has a
 * file table of its own (prefetch.c), which /proc/thread-self names, not
 * /proc/self; and where O_TMPFILE cannot be, it gets -1 with EOPNOTSUPP
 * instead of a temp name that its process's end could leave behind. */
static int place(int dfd, const char *rel, const struct filler *x, int own)
{
    char parent[PAYLOAD_PATH_MAX + 1], proc[64], *tmp = NULL;
    const char *slash = strrchr(rel, '/');
    int fd, rc = -1, e;

    if (dfd < 0) {
        errno = ESTALE;
        return -1;
    }
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - rel) : 1, slash ? rel : ".");
    if (make_parents(dfd, rel) != 0)
        return -1;
    /* No name until whole: a start killed half-way leaves nothing.  Not
     * flushed (an fdatasync per file would add 40 ms to a numpy app's first
     * start), nor allocated up front: on ext4, XFS and btrfs the size on
     * disk grows only as the data gets there, so a power cut leaves a short
     * file, which cache_open() finds at its next use, and the stub replaces;
     * a whole one that fails to load is checked against its CRC-32C. */
    if ((fd = openat(dfd, parent, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700)) >= 0) {
        snprintf(proc, sizeof proc, "/proc/%s/fd/%d", own ? "thread-self" : "self", fd);
        if (fill(fd, x) == 0 && linkat(AT_FDCWD, proc, dfd, rel, AT_SYMLINK_FOLLOW) == 0)
            rc = 0;
        e = errno;
        close(fd);
        errno = e;
        if (rc == 0 || errno != ENOENT) /* EEXIST: another start linked its copy first */
            return rc;
        /* ENOENT: no /proc, the named way */
    }
    if (own) {
        errno = EOPNOTSUPP;
        return -1;
    }
    if (asprintf(&tmp, "%s.tmp-%ld", rel, (long)getpid()) < 0)
        return -1;
    if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0700)) >= 0) {
        int ok = fill(fd, x) == 0;
        /* whole or absent: a concurrent start may rename its own copy too */
        if (close(fd) == 0 && ok && renameat(dfd, tmp, dfd, rel) == 0)
            rc = 0;
        e = errno;
        if (rc != 0)
            unlinkat(dfd, tmp, 0);
        errno = e;
    }
    free(tmp);
    return rc;
}

int cache_place(const char *rel, const void *data, size_t size)
{
    struct filler x = {data, size, -1, NULL, NULL, NULL};
    return place(cache_entry_fd(), rel, &x, 0);
}

int cache_place_file(const char *rel, int in, const struct stub_file *f, const uint32_t *want)
{
    struct filler x = {NULL, 0, in, f, want, NULL};
    return place(cache_entry_fd(), rel, &x, 0);
}

int place_file_at(int dfd, const char *rel, int in, const struct stub_file *f, const uint32_t *want,
                  struct inflater *dec)
{
    struct filler x = {NULL, 0, in, f, want, dec};
    return place(dfd, rel, &x, 1);
}

int cache_replace(const struct stub_self *self, const struct stub_file *f)
{
    if (cache_remove(f->rel) != 0)
        return -1;
    return cache_place_file(f->rel, self->fd, f, NULL) == 0 || errno == EEXIST ? 0 : -1;
}
