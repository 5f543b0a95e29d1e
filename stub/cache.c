/* cache.c - the content-addressed cache of a bundle's native parts.
 *
 * <base>/<sha256>/ holds libpython, the shared libraries and the extension
 * modules.  It is filled in a private temp dir and renamed into place, so a
 * concurrent first run or a SIGKILL half-way can never leave a half entry
 * that is used: an entry that exists is complete.
 *
 * No other user can change what the stub loads.  The base is reached one
 * name at a time from / (base_open): every directory on the way and every
 * symlink followed is root's or ours, and no directory on the way can be
 * written by another user unless it is sticky (as /tmp is: there only an
 * entry's owner can rename it); the base itself is ours and private.  A
 * base under a directory that others can write (TMPDIR=/srv/shared, mode
 * 0777) is refused: whoever can write there can rename the base away and
 * put their own in its place after any check, and sys._MEIPASS is a path
 * that Python itself follows (data files, and its path finder, which would
 * run a planted module for an import the bundle lacks).  The entry is then
 * held open (entry.fd) and every file the stub loads is opened through it,
 * checked (a regular file of ours, private, of the size the manifest gives)
 * and loaded as that very file, by its /proc/self/fd name.
 */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "bundle/crc32c.h"
#include "stub.h"

#define MAX_BASES 4

/* Candidate bases in order of preference; returns how many (malloc'ed). */
static size_t cache_bases(char *bases[MAX_BASES])
{
    size_t n = 0;
    const char *v;
    char *p;

    if ((v = getenv("BUNDLE_CACHE_DIR")) && *v) {
        char cwd[4096];
        /* absolute: sys._MEIPASS must survive the app's chdir() */
        if (v[0] == '/')
            p = strdup(v);
        else if (!getcwd(cwd, sizeof cwd) || asprintf(&p, "%s/%s", cwd, v) < 0)
            p = NULL;
        if (p)
            bases[n++] = p;
    }
    if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/' && asprintf(&p, "%s/bundle", v) > 0)
        bases[n++] = p;
    if ((v = getenv("HOME")) && v[0] == '/' && asprintf(&p, "%s/.cache/bundle", v) > 0)
        bases[n++] = p;
    v = getenv("TMPDIR");
    if (!(v && v[0] == '/'))
        v = "/tmp";
    if (asprintf(&p, "%s/bundle-%u", v, (unsigned)geteuid()) > 0)
        bases[n++] = p;
    return n;
}

static void free_bases(char *bases[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bases[i]);
}

static uid_t my_uid(void)
{
    static uid_t uid;
    static int known;
    if (!known) {
        uid = geteuid();
        known = 1;
    }
    return uid;
}

/* What makes a directory on the way to a base one whose names someone
 * other than root and this user could change, or NULL. */
static const char *dir_unsafe(const struct stat *st)
{
    if (st->st_uid != 0 && st->st_uid != my_uid())
        return "is another user's";
    if ((st->st_mode & 022) != 0 && (st->st_mode & S_ISVTX) == 0)
        return "can be written by other users and is not sticky";
    return NULL;
}

#define MAX_LINKS 40

/* Opens directory base (absolute) the way no other user can redirect: each
 * directory on the way checked (dir_unsafe) before a name is looked up in
 * it, each symlink on the way root's or ours (then followed), base itself
 * ours, writable by nobody else, not a symlink, not on a noexec mount.
 * Checking by path is enough: a directory that passed can be changed by no
 * one but root and this user, so what was checked stays what the path
 * leads to.  create: missing directories are made, 0700.  Returns an
 * O_RDONLY fd, or -1 with why set. */
static int base_open(const char *base, int create, char *why, size_t whylen)
{
    char rest[PATH_MAX], link[PATH_MAX], at[PATH_MAX] = "";
    struct stat st, fst;
    struct statvfs vfs;
    const char *bad = NULL, *p = rest;
    int fd, links = 0;
    size_t len = strlen(base);

    if (base[0] != '/' || len >= sizeof rest) {
        snprintf(why, whylen, "cache base %s refused: not an absolute path", base);
        return -1;
    }
    memcpy(rest, base, len + 1);
    if (lstat("/", &st) != 0)
        goto sys;
    if ((bad = dir_unsafe(&st)) != NULL)
        goto refused;
    /* at: the path resolved so far, no symlink in it; p: what is left */
    for (;;) {
        size_t n, alen = strlen(at);
        while (*p == '/')
            p++;
        if (!*p)
            break;
        n = strcspn(p, "/");
        int last = p[n + strspn(p + n, "/")] == '\0';
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') { /* at holds no symlink: .. is its parent */
            p += n;
            *(strrchr(at, '/') ? strrchr(at, '/') : at) = '\0';
            if (lstat(at[0] ? at : "/", &st) != 0)
                goto sys;
            continue;
        }
        if (n > NAME_MAX || alen + 1 + n >= sizeof at) {
            errno = ENAMETOOLONG;
            goto sys;
        }
        at[alen] = '/';
        memcpy(at + alen + 1, p, n);
        at[alen + 1 + n] = '\0';
        p += n;
        if (lstat(at, &st) != 0) {
            if (errno != ENOENT || !create || (mkdir(at, 0700) != 0 && errno != EEXIST) || lstat(at, &st) != 0)
                goto sys;
        }
        if (S_ISLNK(st.st_mode)) {
            /* the base itself is never a symlink: the entry goes where it was asked */
            if (last) {
                bad = "is a symlink";
                goto refused;
            }
            if (st.st_uid != 0 && st.st_uid != my_uid()) {
                bad = "is another user's symlink";
                goto refused;
            }
            ssize_t t = readlink(at, link, sizeof link - 1);
            if (t <= 0 || ++links > MAX_LINKS) {
                errno = t <= 0 ? (t == 0 ? ENOENT : errno) : ELOOP;
                goto sys;
            }
            if ((size_t)t + strlen(p) >= sizeof link) {
                errno = ENAMETOOLONG;
                goto sys;
            }
            memcpy(link + t, p, strlen(p) + 1); /* p is "" or starts with '/' */
            memcpy(rest, link, strlen(link) + 1);
            p = rest;
            if (rest[0] == '/')
                at[0] = '\0'; /* "/" was checked */
            else
                at[alen] = '\0';
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad = "is not a directory";
            goto refused;
        }
        if ((bad = dir_unsafe(&st)) != NULL)
            goto refused;
    }
    /* st: the base's */
    if (st.st_uid != my_uid() || (st.st_mode & 022) != 0) {
        bad = "is not a private directory of this user";
        goto refused;
    }
    if ((fd = open(at[0] ? at : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        goto sys;
    if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
        close(fd);
        snprintf(why, whylen, "cache base %s refused: it changed while it was checked", base);
        return -1;
    }
    if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC)) {
        close(fd);
        snprintf(why, whylen, "cache base %s refused: on a noexec mount", base);
        return -1;
    }
    return fd;
sys:
    snprintf(why, whylen, "cache base %s refused: %s: %s", base, at[0] ? at : "/", strerror(errno));
    return -1;
refused:
    snprintf(why, whylen, "cache base %s refused: %s %s", base, at[0] ? at : "/", bad);
    return -1;
}

/* The cache entry in use, from cache_find or cache_fill on. */
static struct {
    char *base;     /* its base, as found (absolute) */
    char *path;     /* base/hash */
    const char *hex; /* in path */
    int bfd;        /* the base, from base_open; until cache_prune is done */
    int fd;         /* the entry, held open: every file is opened through it */
    dev_t dev;
    ino_t ino;
    int starting;   /* start-up (until cache_prune): nobody can have closed fd yet */
} entry = {NULL, NULL, NULL, -1, -1, 0, 0, 0};

/* A directory of ours that nobody else can write: an entry. */
static int entry_ok(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && st->st_uid == my_uid() && (st->st_mode & 022) == 0;
}

/* Makes fd (open on base/hex, as st says; base open as bfd) the entry in
 * use.  Takes bfd and fd. */
static int entry_set(int bfd, const char *base, const char *hex, int fd, const struct stat *st)
{
    char *b = strdup(base), *path = NULL;

    if (!b || asprintf(&path, "%s/%s", base, hex) < 0) {
        free(b);
        close(fd);
        close(bfd);
        return -1;
    }
    cache_forget();
    entry.base = b;
    entry.path = path;
    entry.hex = strrchr(path, '/') + 1;
    entry.bfd = bfd;
    entry.fd = fd;
    entry.dev = st->st_dev;
    entry.ino = st->st_ino;
    entry.starting = 1;
    return 0;
}

/* Opens entry hex under the base bfd.  Returns the fd (stat in *st), or -1
 * with why set. */
static int entry_open_dir(int bfd, const char *base, const char *hex, struct stat *st, char *why,
                          size_t whylen)
{
    int fd = openat(bfd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 || fstat(fd, st) != 0) {
        snprintf(why, whylen, "cache entry %s/%s: %s", base, hex, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!entry_ok(st)) {
        snprintf(why, whylen, "cache entry %s/%s refused: not a private directory of this user", base, hex);
        close(fd);
        return -1;
    }
    return fd;
}

void cache_forget(void)
{
    if (entry.fd >= 0)
        close(entry.fd);
    if (entry.bfd >= 0)
        close(entry.bfd);
    free(entry.base);
    free(entry.path);
    memset(&entry, 0, sizeof entry);
    entry.fd = entry.bfd = -1;
}

int cache_entry_fd(void)
{
    char why[STUB_WHY_MAX];
    struct stat st;
    int bfd, fd;

    if (entry.starting && entry.fd >= 0)
        return entry.fd;
    if (entry.fd >= 0 && fstat(entry.fd, &st) == 0 && st.st_dev == entry.dev && st.st_ino == entry.ino) {
        if (st.st_nlink > 0)
            return entry.fd;
        close(entry.fd); /* ours, and removed */
        stub_debug("the cache entry %s was removed", entry.path);
    }
    /* closed (a daemon closes every descriptor: the number may be the app's
     * now, and is left alone) or removed: opened again as at the start,
     * through checked directories; an entry filled again in its place
     * holds the same files */
    entry.fd = -1;
    if (!entry.path)
        return -1;
    if ((bfd = base_open(entry.base, 0, why, sizeof why)) < 0) {
        stub_debug("%s", why);
        return -1;
    }
    fd = entry_open_dir(bfd, entry.base, entry.hex, &st, why, sizeof why);
    close(bfd);
    if (fd < 0) {
        stub_debug("%s", why);
        return -1;
    }
    entry.fd = fd;
    entry.dev = st.st_dev;
    entry.ino = st.st_ino;
    return fd;
}

int cache_find(const struct stub_self *self, char **dir, time_t *used)
{
    char *bases[MAX_BASES], why[STUB_WHY_MAX];
    size_t n = cache_bases(bases);
    int found = -1;

    for (size_t i = 0; i < n && found < 0; i++) {
        char *d = NULL;
        struct stat st;
        int bfd, fd;
        if (asprintf(&d, "%s/%s", bases[i], self->hex) < 0)
            continue;
        /* a miss costs one lstat; a hit is then checked all the way, and
         * the entry is complete iff it exists: it is renamed into place
         * whole */
        if (lstat(d, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != my_uid()) {
            stub_debug("cache miss: %s", d);
        } else if ((bfd = base_open(bases[i], 0, why, sizeof why)) < 0) {
            stub_debug("%s", why);
        } else if ((fd = entry_open_dir(bfd, bases[i], self->hex, &st, why, sizeof why)) < 0) {
            stub_debug("%s", why);
            close(bfd);
        } else if (entry_set(bfd, bases[i], self->hex, fd, &st) == 0) {
            stub_debug("cache hit: %s", d);
            *dir = d;
            d = NULL;
            *used = st.st_mtime;
            found = 0;
        }
        free(d);
    }
    free_bases(bases, n);
    return found;
}

/* Checks the CRC-32Cs of the file (all of it but the check itself). */
int cache_verify(const struct stub_self *self)
{
    uint64_t covered = self->trailer.archive_offset + self->trailer.archive_size + PAYLOAD_CHECKED_TAIL;
    uint32_t got[4];
    void *map;

    /* payload_trailer_decode made sure the file holds this much */
    if (covered > self->size || covered > SIZE_MAX)
        return -1;
    map = mmap(NULL, (size_t)covered, PROT_READ, MAP_PRIVATE, self->fd, 0);
    if (map == MAP_FAILED)
        return -1;
    crc32c_quarters(map, (size_t)covered, got);
    munmap(map, (size_t)covered);
    return memcmp(got, self->trailer.check, sizeof got) == 0 ? 0 : -1;
}

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

int copy_range(int in, uint64_t off, uint64_t len, int out)
{
    static char buf[1 << 16];
    loff_t ioff = (loff_t)off;

#ifdef HAVE_COPY_FILE_RANGE
    while (len > 0) {
        ssize_t n = copy_file_range(in, &ioff, out, NULL, len, 0);
        if (n <= 0)
            break;
        len -= (uint64_t)n;
    }
    if (len == 0)
        return 0;
#endif
    while (len > 0) {
        ssize_t n = pread(in, buf, len < sizeof buf ? (size_t)len : sizeof buf, (off_t)ioff);
        if (n <= 0 || write_full(out, buf, (size_t)n) != 0)
            return -1;
        ioff += n;
        len -= (uint64_t)n;
    }
    return 0;
}

int write_full(int fd, const void *data, size_t n)
{
    const char *p = data;
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
};

static int fill(int fd, const struct filler *x)
{
    uint32_t crc = 0;

    if (!x->f)
        return write_full(fd, x->data, x->size);
    if (entry_write(x->in, x->f, fd, x->want ? &crc : NULL) != 0)
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
    struct filler x = {NULL, 0, in, f, want};
    return memfd_fill(&x, name);
}

static void remove_tree(int parent, const char *name);

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
    else if (st.st_uid != my_uid())
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
    remove_tree(pfd, slash ? slash + 1 : rel);
    close(pfd);
    if (fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = ENOTEMPTY;
        return -1;
    }
    return 0;
}

static int place(const char *rel, const struct filler *x)
{
    char parent[PAYLOAD_PATH_MAX + 1], proc[64], *tmp = NULL;
    const char *slash = strrchr(rel, '/');
    int dfd = cache_entry_fd(), fd, rc = -1, e;

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
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (fill(fd, x) == 0 && linkat(AT_FDCWD, proc, dfd, rel, AT_SYMLINK_FOLLOW) == 0)
            rc = 0;
        e = errno;
        close(fd);
        errno = e;
        if (rc == 0 || errno != ENOENT) /* EEXIST: another start linked its copy first */
            return rc;
        /* ENOENT: no /proc, the named way */
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
    struct filler x = {data, size, -1, NULL, NULL};
    return place(rel, &x);
}

int cache_place_file(const char *rel, int in, const struct stub_file *f, const uint32_t *want)
{
    struct filler x = {NULL, 0, in, f, want};
    return place(rel, &x);
}

/* Calls fn for every _native/ entry of the bundle (relative name without
 * the prefix, where its data lies, its sizes and method), after checking it.  Returns 0,
 * or -1 with why set (and *corrupt = 1 when the bundle is malformed). */
typedef int (*native_fn)(void *ctx, const struct stub_self *self, const struct stub_file *f, char *why,
                         size_t whylen);
static int native_each(const struct stub_self *self, native_fn fn, void *ctx, char *why, size_t whylen,
                       int *corrupt)
{
    struct payload_cd cd;
    const char *reason = NULL;
    uint8_t *buf = NULL;
    size_t pos = 0;
    struct payload_entry e;
    int rc = -1, r;
    const size_t plen = sizeof PAYLOAD_NATIVE_PREFIX - 1;

    if (payload_cd_locate(self->tail, &self->trailer, &cd, &reason) != 0)
        goto corrupt;
    buf = malloc(cd.size ? cd.size : 1);
    if (!buf || pread(self->fd, buf, cd.size, (off_t)cd.offset) != (ssize_t)cd.size) {
        snprintf(why, whylen, "cannot read the archive directory");
        goto out;
    }
    uint64_t total = 0;
    while ((r = payload_cd_next(buf, &cd, &self->trailer, &pos, &e, &reason)) == 1) {
        char rel[PAYLOAD_PATH_MAX + 1];
        uint8_t local[30];
        uint64_t data;

        if (e.name_len <= plen || memcmp(e.name, PAYLOAD_NATIVE_PREFIX, plen) != 0)
            continue;
        if (e.name[e.name_len - 1] == '/')
            continue; /* a directory entry */
        if (!payload_path_safe(e.name + plen, e.name_len - plen)) {
            reason = "unsafe entry name";
            goto corrupt;
        }
        if (e.method != 0 && e.method != STUB_ZSTD) {
            reason = "native entry compressed with an unknown method";
            goto corrupt;
        }
        /* entries cannot add up to more than the archive holds: entries
         * sharing their data are refused */
        total += e.csize;
        if (e.csize > self->trailer.archive_size || total > self->trailer.archive_size) {
            reason = "entries add up to more than the archive (overlapping entries)";
            goto corrupt;
        }
        memcpy(rel, e.name + plen, e.name_len - plen);
        rel[e.name_len - plen] = '\0';
        if (pread(self->fd, local, sizeof local, (off_t)e.header_offset) != (ssize_t)sizeof local ||
            payload_entry_data(local, &e, &self->trailer, &data, &reason) != 0) {
            if (!reason)
                reason = "cannot read an entry header";
            goto corrupt;
        }
        struct stub_file f = {rel, data, e.csize, e.usize, e.method};
        if (fn(ctx, self, &f, why, whylen) != 0)
            goto out;
    }
    if (r < 0)
        goto corrupt;
    rc = 0;
    goto out;
corrupt:
    *corrupt = 1;
    snprintf(why, whylen, "%s", reason ? reason : "malformed archive");
out:
    free(buf);
    return rc;
}

/* native_each callback: adds one entry to the table ctx. */
static int table_add(void *ctx, const struct stub_self *self, const struct stub_file *f, char *why,
                     size_t whylen)
{
    struct stub_table *t = ctx;
    (void)self;
    if ((t->n & (t->n - 1)) == 0) { /* 0, 1, 2, 4...: grow to the next power of two */
        struct stub_file *grown = realloc(t->files, (t->n ? 2 * t->n : 1) * sizeof *grown);
        if (!grown) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        t->files = grown;
    }
    t->files[t->n] = *f;
    if (!(t->files[t->n].rel = strdup(f->rel))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    t->n++;
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct stub_file *)a)->rel, ((const struct stub_file *)b)->rel);
}

const struct stub_table *self_files(struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stub_table *t = &self->files;

    if (t->built)
        return t;
    if (native_each(self, table_add, t, why, whylen, corrupt) != 0) {
        table_release(t);
        return NULL;
    }
    if (t->n)
        qsort(t->files, t->n, sizeof *t->files, cmp_file);
    for (size_t i = 1; i < t->n; i++) {
        if (strcmp(t->files[i - 1].rel, t->files[i].rel) == 0) {
            *corrupt = 1;
            snprintf(why, whylen, "duplicate entry");
            table_release(t);
            return NULL;
        }
    }
    t->built = 1;
    return t;
}

const struct stub_file *table_find(const struct stub_table *t, const char *rel)
{
    struct stub_file key = {.rel = (char *)rel};
    return t->n ? bsearch(&key, t->files, t->n, sizeof *t->files, cmp_file) : NULL;
}

void table_release(struct stub_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->files[i].rel);
    free(t->files);
    memset(t, 0, sizeof *t);
}

/* Writes one entry under the directory dfd, then extra (extralen bytes). */
static int extract_one(int dfd, const struct stub_self *self, const struct stub_file *f, const char *extra,
                       size_t extralen, char *why, size_t whylen)
{
    int out;

    if (make_parents(dfd, f->rel) != 0) {
        snprintf(why, whylen, "cannot create '%s' in the cache: %s", f->rel, strerror(errno));
        return -1;
    }
    /* Not flushed, and no blocks allocated up front: on ext4, XFS and btrfs
     * the size on disk then grows only as the data gets there, so a power
     * cut leaves a short file, never a whole one of zeros, and the first
     * start after a reboot finds it (cache_check_boot). */
    out = openat(dfd, f->rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    if (out < 0 || entry_write(self->fd, f, out, NULL) != 0 ||
        (extralen && write_full(out, extra, extralen) != 0)) {
        snprintf(why, whylen, "cannot write '%s' in the cache: %s", f->rel, strerror(errno));
        if (out >= 0)
            close(out);
        return -1;
    }
    close(out);
    return 0;
}

/* The bundle's manifest, parsed. */
int manifest_of(struct stub_self *self, struct stub_manifest *m, char *why, size_t whylen, int *corrupt)
{
    const struct stub_table *t = self_files(self, why, whylen, corrupt);
    const struct stub_file *f = t ? table_find(t, "manifest") : NULL;
    char *text;
    int rc = -1;

    memset(m, 0, sizeof *m);
    if (!t)
        return -1;
    *corrupt = 1;
    if (!f || f->size > PAYLOAD_MANIFEST_MAX || f->method != 0) {
        snprintf(why, whylen, "%s", !f ? "no manifest" : f->method ? "compressed manifest" : "manifest too large");
        return -1;
    }
    if (!(text = malloc(f->size + 1))) {
        *corrupt = 0;
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (pread(self->fd, text, f->size, (off_t)f->off) != (ssize_t)f->size) {
        snprintf(why, whylen, "cannot read the manifest");
    } else {
        text[f->size] = '\0';
        if (manifest_parse(text, m) == 0) {
            *corrupt = 0;
            rc = 0;
        } else {
            snprintf(why, whylen, "malformed manifest");
        }
    }
    free(text);
    return rc;
}

/* The id of this boot (36 characters and a newline), or -1. */
static int boot_id(char id[40])
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, id, 39) : -1;

    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    id[n] = '\0';
    return 0;
}

/* The name of the file that records, in an entry, that its files were
 * whole in this boot (written in it, or checked): "boot-ID". */
static int boot_mark(char name[48])
{
    char id[40];
    size_t n;

    if (boot_id(id) != 0)
        return -1;
    n = strcspn(id, "\n");
    if (n == 0 || n > 36 || id[strspn(id, "0123456789abcdef-")] != '\n')
        return -1;
    snprintf(name, 48, "boot-%.*s", (int)n, id);
    return 0;
}

/* Records in the entry dfd that its files are whole as of this boot: they
 * are, as long as the machine has not restarted since, whatever reached
 * the disk.  Marks of other boots go. */
static int write_boot(int dfd)
{
    char name[48];
    int fd;
    DIR *d;
    struct dirent *de;

    if (boot_mark(name) != 0)
        return 0; /* no id: every start checks */
    if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return -1;
    close(fd);
    if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 && (d = fdopendir(fd))) {
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, "boot-", 5) == 0 && strcmp(de->d_name, name) != 0)
                unlinkat(dfd, de->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    return 0;
}

/* What the stub adds to the entry's copy of the manifest: the size of each
 * file it loads (libpython, the preloaded libraries, the lazy files), which
 * later starts check before they use one.  malloc'ed, or NULL. */
static char *size_lines(const struct stub_table *t, const struct stub_manifest *m, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    const struct stub_file *x;

    if (!f)
        return NULL;
    fputc('\n', f); /* whatever the bundle's manifest ends with */
    if (m->libpython && (x = table_find(t, m->libpython)))
        fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    for (size_t i = 0; i < m->npreload; i++)
        if ((x = table_find(t, m->preload[i])))
            fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    for (size_t i = 0; i < m->nlazy; i++)
        if ((x = table_find(t, m->lazy[i].rel)))
            fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    fputs("sized 1\n", f); /* last: a manifest cut short by a power cut lacks it */
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Unpacks what a start needs into dfd: all but the lazy files. */
static int extract_eager(int dfd, struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stub_manifest m;
    const struct stub_table *t;
    char *extra;
    size_t extralen = 0;
    int rc = 0;

    if (manifest_of(self, &m, why, whylen, corrupt) != 0)
        return -1;
    t = &self->files;
    if (!(extra = size_lines(t, &m, &extralen))) {
        manifest_release(&m);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct stub_file *f = &t->files[i];
        if (strcmp(f->rel, "manifest") == 0)
            rc = extract_one(dfd, self, f, extra, extralen, why, whylen);
        else if (!manifest_lazy(&m, f->rel) && strncmp(f->rel, "glibc/", 6) != 0) /* glibc: carry.c */
            rc = extract_one(dfd, self, f, NULL, 0, why, whylen);
    }
    free(extra);
    manifest_release(&m);
    /* sys._MEIPASS exists even when all it will hold is unpacked later */
    if (rc == 0 && mkdirat(dfd, "site", 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create 'site' in the cache: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && write_boot(dfd) != 0) {
        snprintf(why, whylen, "cannot write in the cache: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

/* rm -rf of a temp dir we created (no symlinks are followed). */
static void remove_tree(int parent, const char *name)
{
    int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd >= 0) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        if (d) {
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno == EISDIR)
                    remove_tree(dirfd(d), de->d_name);
            }
            closedir(d);
        } else {
            close(dfd);
        }
    }
    unlinkat(parent, name, AT_REMOVEDIR);
}

/* Makes a temp dir under bfd named .tmp-HEX16-XXXXXX (name, namelen). */
static int make_temp(int bfd, const char *hex, char *name, size_t namelen)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct timespec ts;

    for (unsigned tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        char suffix[7];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ tries;
            memcpy(r, &x, sizeof r);
        }
        for (size_t i = 0; i < sizeof r; i++)
            suffix[i] = set[r[i] % (sizeof set - 1)];
        suffix[6] = '\0';
        snprintf(name, namelen, ".tmp-%.16s-%s", hex, suffix);
        if (mkdirat(bfd, name, 0700) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static int fill_in(const struct stub_self *self, const char *base, char **dir, char *why,
                   size_t whylen, int *corrupt)
{
    char tmp[64] = "";
    struct stat st;
    int bfd, dfd = -1, fd, rc = -1;

    if ((bfd = base_open(base, 1, why, whylen)) < 0)
        return -1;
    /* the base is locked shared from the temp dir's making until the temp
     * dir is locked: cache_prune, which takes it exclusively, never sees a
     * temp dir that is nobody's yet and would remove it */
    flock(bfd, LOCK_SH);
    if (make_temp(bfd, self->hex, tmp, sizeof tmp) != 0 ||
        (dfd = openat(bfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot create a directory in '%s': %s", base, strerror(errno));
        flock(bfd, LOCK_UN);
        goto out;
    }
    /* held while extracting: a temp dir nobody holds is a killed run's */
    flock(dfd, LOCK_EX);
    flock(bfd, LOCK_UN);
    stub_debug("extracting into %s/%s", base, tmp);
    if (extract_eager(dfd, (struct stub_self *)self, why, whylen, corrupt) != 0)
        goto out;
    /* nothing of a corrupt bundle becomes a cache entry */
    if (check_verdict((struct stub_self *)self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        goto out;
    }
    if (renameat(bfd, tmp, bfd, self->hex) == 0) {
        tmp[0] = '\0';
        flock(dfd, LOCK_UN);
        if (fstat(dfd, &st) != 0) {
            snprintf(why, whylen, "cannot read the cache entry: %s", strerror(errno));
            goto out;
        }
        if (entry_set(bfd, base, self->hex, dfd, &st) != 0) {
            snprintf(why, whylen, "out of memory");
            bfd = dfd = -1; /* closed by entry_set */
            goto out;
        }
    } else if (errno == ENOTEMPTY || errno == EEXIST) {
        /* another first run won the race: its entry is as good as ours */
        stub_debug("another process filled %s/%s first", base, self->hex);
        if ((fd = entry_open_dir(bfd, base, self->hex, &st, why, whylen)) < 0)
            goto out;
        remove_tree(bfd, tmp);
        tmp[0] = '\0';
        close(dfd);
        if (entry_set(bfd, base, self->hex, fd, &st) != 0) {
            snprintf(why, whylen, "out of memory");
            bfd = dfd = -1;
            goto out;
        }
    } else {
        snprintf(why, whylen, "cannot rename '%s/%s': %s", base, tmp, strerror(errno));
        goto out;
    }
    bfd = dfd = -1; /* the entry's now */
    stub_debug("cache entry ready: %s", entry.path);
    if ((*dir = strdup(entry.path)))
        rc = 0;
    else
        snprintf(why, whylen, "out of memory");
out:
    if (tmp[0] && bfd >= 0)
        remove_tree(bfd, tmp);
    if (dfd >= 0)
        close(dfd);
    if (bfd >= 0)
        close(bfd);
    return rc;
}

/* The bundle is checked on a second thread while the first unpacks it:
 * the first start costs about the longer of the two, not their sum. */
static void *check_thread(void *arg)
{
    struct stub_self *self = arg;
    self->check_ok = cache_verify(self) == 0;
    return NULL;
}

static void check_start(struct stub_self *self)
{
    if (self->check_state != CHECK_NONE)
        return;
    if (pthread_create(&self->check_tid, NULL, check_thread, self) == 0) {
        self->check_state = CHECK_RUNNING;
    } else {
        self->check_ok = cache_verify(self) == 0; /* no thread: check here */
        self->check_state = CHECK_DONE;
    }
}

int check_verdict(struct stub_self *self)
{
    check_start(self);
    if (self->check_state == CHECK_RUNNING) {
        pthread_join(self->check_tid, NULL);
        self->check_state = CHECK_DONE;
    }
    stub_debug("archive checksum %s", self->check_ok ? "verified" : "MISMATCH");
    return self->check_ok ? 0 : -1;
}

int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt)
{
    char *bases[MAX_BASES];
    size_t n;
    int rc = -1;

    check_start((struct stub_self *)self);
    n = cache_bases(bases);
    for (size_t i = 0; i < n && rc != 0; i++) {
        rc = fill_in(self, bases[i], dir, why, whylen, corrupt);
        if (rc != 0 && *corrupt)
            break;
        if (rc != 0)
            stub_debug("%s", why);
    }
    free_bases(bases, n);
    if (rc != 0 && self->check_state == CHECK_RUNNING) {
        /* no thread outlives a failed fill */
        pthread_join(((struct stub_self *)self)->check_tid, NULL);
        ((struct stub_self *)self)->check_state = CHECK_DONE;
    }
    return rc;
}

static int cmp_lazy(const void *a, const void *b)
{
    return strcmp(((const struct stub_lazy *)a)->rel, ((const struct stub_lazy *)b)->rel);
}

struct stub_lazy *manifest_lazy(const struct stub_manifest *m, const char *rel)
{
    struct stub_lazy key = {.rel = (char *)rel};
    return m->nlazy ? bsearch(&key, m->lazy, m->nlazy, sizeof *m->lazy, cmp_lazy) : NULL;
}

static void lazy_release(struct stub_lazy *l)
{
    free(l->rel);
    for (size_t i = 0; i < l->ndeps; i++)
        free(l->deps[i]);
    free(l->deps);
    free(l->path);
}

/* A path of the manifest: safe under a directory, and no control bytes (a
 * CRLF manifest or a tab-separated line fails here, not later in open()). */
static int manifest_path_ok(const char *p)
{
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    return payload_path_safe(p, strlen(p));
}

/* "CRC PATH [DEP...]": appended to m->lazy. */
static int parse_lazy(char *val, struct stub_manifest *m)
{
    struct stub_lazy l = {0};
    char *tok, *save = NULL, *end;
    unsigned long crc;

    tok = strtok_r(val, " ", &save);
    if (!tok || strlen(tok) != 8 || strspn(tok, "0123456789abcdefABCDEF") != 8)
        return -1; /* exactly 8 hex digits: no sign, prefix or blank strtoul would take */
    crc = strtoul(tok, &end, 16);
    l.crc = (uint32_t)crc;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char *copy;
        if (!manifest_path_ok(tok) || !(copy = strdup(tok)))
            goto bad;
        if (!l.rel) {
            l.rel = copy;
            continue;
        }
        char **v = realloc(l.deps, (l.ndeps + 1) * sizeof *v);
        if (!v) {
            free(copy);
            goto bad;
        }
        l.deps = v;
        l.deps[l.ndeps++] = copy;
    }
    if (!l.rel)
        goto bad;
    struct stub_lazy *v = realloc(m->lazy, (m->nlazy + 1) * sizeof *v);
    if (!v)
        goto bad;
    m->lazy = v;
    m->lazy[m->nlazy++] = l;
    return 0;
bad:
    lazy_release(&l);
    return -1;
}

/* "CRC SIZE glibc/NAME": appended to m->glibc. */
static int parse_glibc(const char *val, struct stub_manifest *m)
{
    unsigned long crc;
    unsigned long long size;
    int n = 0;
    char hex[9];

    if (sscanf(val, "%8[0-9a-fA-F] %llu %n", hex, &size, &n) != 2 || n == 0 || strlen(hex) != 8 ||
        val[8] != ' ' || !isdigit((unsigned char)val[9]) || strncmp(val + n, "glibc/", 6) != 0 ||
        !manifest_path_ok(val + n) || strchr(val + n, ' '))
        return -1;
    crc = strtoul(hex, NULL, 16);
    struct stub_glibc *v = realloc(m->glibc, (m->nglibc + 1) * sizeof *v);
    if (!v)
        return -1;
    m->glibc = v;
    if (!(v[m->nglibc].rel = strdup(val + n)))
        return -1;
    v[m->nglibc].crc = (uint32_t)crc;
    v[m->nglibc].size = size;
    m->nglibc++;
    return 0;
}

/* "size BYTES PATH" (the stub's own lines in an entry's manifest): BYTES
 * and PATH (in place), or -1. */
static int parse_size(char *val, uint64_t *size, char **path)
{
    char *sp = strchr(val, ' ');
    size_t n = sp ? (size_t)(sp - val) : 0;

    if (n == 0 || n > 19 || strspn(val, "0123456789") != n || !manifest_path_ok(sp + 1))
        return -1;
    *size = strtoull(val, NULL, 10);
    *path = sp + 1;
    return 0;
}

/* The sizes the manifest gives, to their files. */
static void assign_sizes(struct stub_manifest *m, char **paths, const uint64_t *sizes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stub_lazy *l = manifest_lazy(m, paths[i]);
        if (l)
            l->size = sizes[i];
        if (m->libpython && strcmp(m->libpython, paths[i]) == 0)
            m->libpython_size = sizes[i];
        for (size_t k = 0; k < m->npreload && m->preload_size; k++)
            if (strcmp(m->preload[k], paths[i]) == 0)
                m->preload_size[k] = sizes[i];
    }
}

int manifest_parse(char *text, struct stub_manifest *m)
{
    char *line, *save = NULL, **paths = NULL;
    uint64_t *sizes = NULL;
    size_t nsizes = 0;

    memset(m, 0, sizeof *m);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *val = strchr(line, ' ');
        if (!val)
            continue;
        *val++ = '\0';
        if (strcmp(line, "python") == 0) {
            if (sscanf(val, "%d.%d", &m->py_major, &m->py_minor) != 2)
                goto bad;
        } else if (strcmp(line, "libpython") == 0 || strcmp(line, "preload") == 0) {
            char *copy;
            if (!manifest_path_ok(val) || !(copy = strdup(val)))
                goto bad;
            if (line[0] == 'l') {
                free(m->libpython);
                m->libpython = copy;
            } else {
                char **v = realloc(m->preload, (m->npreload + 1) * sizeof *v);
                if (!v) {
                    free(copy);
                    goto bad;
                }
                m->preload = v;
                m->preload[m->npreload++] = copy;
            }
        } else if (strcmp(line, "name") == 0) {
            free(m->name);
            if (!(m->name = strdup(val)))
                goto bad;
        } else if (strcmp(line, "linked") == 0) {
            m->linked = strcmp(val, "1") == 0;
        } else if (strcmp(line, "lazy") == 0) {
            if (parse_lazy(val, m) != 0)
                goto bad;
        } else if (strcmp(line, "carry") == 0) {
            if (parse_glibc(val, m) != 0)
                goto bad;
        } else if (strcmp(line, "sized") == 0) {
            m->sized = strcmp(val, "1") == 0;
        } else if (strcmp(line, "size") == 0) {
            uint64_t size;
            char *path, **p;
            uint64_t *z;
            if (parse_size(val, &size, &path) != 0)
                goto bad;
            if (!(p = realloc(paths, (nsizes + 1) * sizeof *p)))
                goto bad;
            paths = p;
            if (!(z = realloc(sizes, (nsizes + 1) * sizeof *z)))
                goto bad;
            sizes = z;
            paths[nsizes] = path;
            sizes[nsizes++] = size;
        }
    }
    if (!m->libpython == !m->linked || m->py_major != 3) /* one of the two */
        goto bad;
    if (m->nlazy)
        qsort(m->lazy, m->nlazy, sizeof *m->lazy, cmp_lazy);
    for (size_t i = 1; i < m->nlazy; i++)
        if (strcmp(m->lazy[i - 1].rel, m->lazy[i].rel) == 0)
            goto bad;
    if (nsizes) {
        if (m->npreload && !(m->preload_size = calloc(m->npreload, sizeof *m->preload_size)))
            goto bad;
        assign_sizes(m, paths, sizes, nsizes);
    }
    free(paths);
    free(sizes);
    return 0;
bad:
    free(paths);
    free(sizes);
    manifest_release(m);
    return -1;
}

int cache_replace(const struct stub_self *self, const struct stub_file *f)
{
    if (cache_remove(f->rel) != 0)
        return -1;
    return cache_place_file(f->rel, self->fd, f, NULL) == 0 || errno == EEXIST ? 0 : -1;
}

int cache_check_boot(struct stub_self *self, const struct stub_manifest *m, char *why, size_t whylen, int *corrupt)
{
    char mark[48];
    const struct stub_table *t;
    struct stat st;
    int dfd = cache_entry_fd(), checked = 0;

    if (dfd < 0) {
        snprintf(why, whylen, "the cache entry is gone");
        return -1;
    }
    if (boot_mark(mark) == 0 && fstatat(dfd, mark, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    stub_debug("the cache entry %s was filled before this boot: checking its files", entry.path);
    if (!(t = self_files(self, why, whylen, corrupt)))
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        const struct stub_file *f = &t->files[i];
        /* lazy files are checked at each use; the manifest ends with "sized" */
        if (manifest_lazy(m, f->rel) || strcmp(f->rel, "manifest") == 0)
            continue;
        if (fstatat(dfd, f->rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_uid == my_uid() &&
            (st.st_mode & 022) == 0 && (uint64_t)st.st_size == f->size)
            continue;
        stub_debug("%s in the cache entry is damaged: replacing it", f->rel);
        /* an eager file has no checksum of its own: the whole bundle's */
        if (!checked && check_verdict(self) != 0) {
            *corrupt = 1;
            snprintf(why, whylen, "checksum mismatch");
            return -1;
        }
        checked = 1;
        if (cache_replace(self, f) != 0) {
            snprintf(why, whylen, "cannot replace '%s' in the cache entry: %s", f->rel, strerror(errno));
            return -1;
        }
    }
    if (write_boot(dfd) != 0)
        stub_debug("cannot record the check in the cache entry: %s", strerror(errno));
    return 0;
}

static int entry_mapped(int bfd, const char *name, int mfd);

/* 1 if a running start holds or maps the entry in use (mfd: its manifest,
 * then locked exclusively if not). */
static int entry_busy(int mfd)
{
    if (flock(mfd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK;
    return entry.bfd < 0 || entry_mapped(entry.bfd, entry.hex, mfd);
}

/* Sets the entry in use aside (renamed, then removed): it is damaged. */
static void entry_discard(void)
{
    char dead[96];

    if (entry.bfd < 0 || !entry.hex)
        return;
    snprintf(dead, sizeof dead, ".tmp-dead-%.16s-%ld", entry.hex, (long)getpid());
    if (renameat(entry.bfd, entry.hex, entry.bfd, dead) == 0) {
        stub_debug("removing the damaged cache entry %s", entry.path);
        remove_tree(entry.bfd, dead);
    }
}

int manifest_load(struct stub_manifest *m, char *why, size_t whylen, int *retry)
{
    struct stat st;
    char *text = NULL;
    const char *bad = NULL;
    int dfd = cache_entry_fd(), fd = -1, rc = -1;
    ssize_t len;

    memset(m, 0, sizeof *m);
    *retry = 1;
    if (dfd < 0) {
        snprintf(why, whylen, "the cache entry is gone");
        return -1;
    }
    fd = openat(dfd, "manifest", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        bad = errno == ENOENT ? "missing" : errno == ELOOP ? "a symlink" : strerror(errno);
    else if (fstat(fd, &st) != 0)
        bad = strerror(errno);
    else if (!S_ISREG(st.st_mode) || st.st_uid != my_uid() || (st.st_mode & 022) != 0)
        bad = "not a private file of this user";
    else if (st.st_size > 2 * PAYLOAD_MANIFEST_MAX)
        bad = "too large";
    else if (!(text = malloc((size_t)st.st_size + 1)))
        bad = "out of memory";
    else if ((len = pread(fd, text, (size_t)st.st_size, 0)) != (ssize_t)st.st_size)
        bad = "short";
    else if ((text[len] = '\0', manifest_parse(text, m)) != 0)
        bad = "malformed";
    /* an entry an older stub filled has no sizes to check files against:
     * filled again, unless in use (then its files are checked without) */
    int stale = !bad && !m->sized && (m->libpython || m->npreload || m->nlazy);
    if (bad || stale) {
        int busy = fd >= 0 && entry_busy(fd);
        if (!(stale && busy)) {
            snprintf(why, whylen, "the cache entry %s is %s (its manifest: %s)", entry.path,
                     stale ? "an older stub's" : "damaged", stale ? "no sizes" : bad);
            /* set aside and filled again, unless a running start holds it */
            if (busy)
                *retry = 0;
            else
                entry_discard();
            goto out;
        }
    }
    /* shared while running: a pruning start, which takes it exclusively,
     * removes no entry in use; one removing this entry now is waited for */
    for (int i = 0; flock(fd, LOCK_SH | LOCK_NB) != 0; i++) {
        struct timespec ms2 = {0, 2000000};
        if (errno != EWOULDBLOCK || i == 50) {
            snprintf(why, whylen, "cannot lock the cache entry %s: %s", entry.path, strerror(errno));
            goto out;
        }
        nanosleep(&ms2, NULL);
    }
    if (entry.bfd >= 0 && (fstatat(entry.bfd, entry.hex, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                           st.st_dev != entry.dev || st.st_ino != entry.ino)) {
        snprintf(why, whylen, "the cache entry %s was removed by another start", entry.path);
        goto out;
    }
    /* The lock lasts as long as the process, whatever it closes: a mapping
     * holds the open file, and so its lock, when the fd is closed (daemons
     * close every descriptor; none unmaps what it did not map).  The fd
     * stays open too: where flock is emulated with POSIX locks (NFS), only
     * an open fd holds one, for other hosts to see. */
    (void)mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
    fd = -1;
    rc = 0;
out:
    if (rc != 0)
        manifest_release(m);
    if (fd >= 0)
        close(fd);
    free(text);
    return rc;
}

void manifest_release(struct stub_manifest *m)
{
    free(m->libpython);
    free(m->name);
    for (size_t i = 0; i < m->npreload; i++)
        free(m->preload[i]);
    free(m->preload);
    free(m->preload_size);
    for (size_t i = 0; i < m->nlazy; i++)
        lazy_release(&m->lazy[i]);
    free(m->lazy);
    for (size_t i = 0; i < m->nglibc; i++)
        free(m->glibc[i].rel);
    free(m->glibc);
    memset(m, 0, sizeof *m);
}

#define PRUNE_AGE (30 * 24 * 3600) /* unused this long: removed */
#define TOUCH_AGE (24 * 3600)      /* "used" is recorded at most once a day */

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

/* 1 if a process maps a file of entry name (a dir under bfd): its manifest,
 * whose mapping holds a running start's lock, or a library.  That finds a
 * start whose lock is gone all the same (where flock is emulated with POSIX
 * locks, which any close drops) and an older stub's that kept no mapping.
 * mfd: the entry's manifest. */
static int entry_mapped(int bfd, const char *name, int mfd)
{
    char proc[64], base[PATH_MAX], prefix[PATH_MAX + 80], *line = NULL;
    struct stat ms;
    size_t cap = 0;
    int plen, found = 0;
    ssize_t n;
    DIR *d;
    struct dirent *de;

    snprintf(proc, sizeof proc, "/proc/self/fd/%d", bfd);
    if ((n = readlink(proc, base, sizeof base - 1)) <= 0 || fstat(mfd, &ms) != 0 || !(d = opendir("/proc")))
        return 1; /* cannot tell: in use */
    base[n] = '\0';
    plen = snprintf(prefix, sizeof prefix, "%s/%s/", base, name);
    if (plen < 0 || (size_t)plen >= sizeof prefix) {
        closedir(d);
        return 1;
    }
    while (!found && (de = readdir(d)) != NULL) {
        FILE *f;
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        snprintf(proc, sizeof proc, "/proc/%.20s/maps", de->d_name);
        if (!(f = fopen(proc, "re")))
            continue; /* gone, or another user's: entries are per user */
        while (!found && getline(&line, &cap, f) > 0) {
            unsigned maj, min;
            unsigned long long ino;
            const char *path = strchr(line, '/');
            if (path && strncmp(path, prefix, (size_t)plen) == 0)
                found = 1;
            else if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino == ms.st_ino &&
                     makedev(maj, min) == ms.st_dev)
                found = 1;
        }
        fclose(f);
    }
    free(line);
    closedir(d);
    return found;
}

/* 1 if entry (a dir under bfd) is one of app name's and no process has it
 * locked or mapped; then it stays locked (returned in *lock) until the
 * caller closes. */
static int same_app_unused(int bfd, const char *entry_name, const char *name, int *lock)
{
    char path[80], text[4096];
    ssize_t n;
    int fd, same = 0;

    snprintf(path, sizeof path, "%s/manifest", entry_name);
    fd = openat(bfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof text - 1);
    if (n > 0) {
        text[n] = '\0';
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, "name ", 5) == 0 && strncmp(l + 5, name, strlen(name)) == 0 &&
                (l[5 + strlen(name)] == '\n' || l[5 + strlen(name)] == '\0'))
                same = 1;
    }
    /* locked first: a start that begins now waits (manifest_load) */
    if (same && flock(fd, LOCK_EX | LOCK_NB) == 0 && !entry_mapped(bfd, entry_name, fd)) {
        *lock = fd;
        return 1;
    }
    close(fd);
    return 0;
}

void cache_prune(const struct stub_self *self, const struct stub_manifest *m, int fresh, time_t used)
{
    struct stat st;
    time_t now = time(NULL);
    DIR *d;
    struct dirent *de;
    int bfd = entry.bfd;

    if (bfd < 0)
        return;
    if (!fresh) {
        if (now - used < TOUCH_AGE) /* cache_find's fstat: no second one */
            goto out;
        futimens(entry.fd, NULL); /* used today */
    }
    /* temp dirs are judged only with the base locked: see fill_in() */
    int may_sweep = flock(bfd, LOCK_EX | LOCK_NB) == 0;
    d = fdopendir(dup(bfd));
    while (d && (de = readdir(d)) != NULL) {
        int lock = -1;
        if (fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != my_uid())
            continue;
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            if (!may_sweep)
                continue;
            int tfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (tfd >= 0 && flock(tfd, LOCK_EX | LOCK_NB) == 0) {
                stub_debug("removing %s, left by a killed run", de->d_name);
                remove_tree(bfd, de->d_name);
            }
            if (tfd >= 0)
                close(tfd);
        } else if (is_hex64(de->d_name) && strcmp(de->d_name, self->hex) != 0 && m->name &&
                   now - st.st_mtime > PRUNE_AGE && same_app_unused(bfd, de->d_name, m->name, &lock)) {
            /* renamed first: no start can see it half removed */
            char dead[96];
            snprintf(dead, sizeof dead, ".tmp-dead-%.16s-%ld", de->d_name, (long)getpid());
            stub_debug("removing %s, unused for 30 days", de->d_name);
            if (renameat(bfd, de->d_name, bfd, dead) == 0)
                remove_tree(bfd, dead);
            close(lock);
        }
    }
    if (d)
        closedir(d);
out:
    close(bfd); /* and its lock */
    entry.bfd = -1;
    entry.starting = 0; /* the app may close the entry's fd from now on */
}
