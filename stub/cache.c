/* cache.c - the content-addressed cache of a bundle's native parts.
 *
 * <base>/<sha256>/ holds libpython, the shared libraries and the extension
 * modules.  It is filled in a private temp dir and renamed into place, so a
 * concurrent first run or a SIGKILL half-way can never leave a half entry
 * that is used: an entry that exists is complete.
 *
 * No other user can change what the stub loads.  The base is reached one
 * name at a time from / (cache_base_open): every directory on the way and every
 * symlink followed is root's or ours, and no directory on the way can be
 * written by another user unless it is sticky (as /tmp is: there only an
 * entry's owner can rename it); the base itself is ours and private.  A
 * base under a directory that others can write (TMPDIR=/srv/shared, mode
 * 0777) is refused: whoever can write there can rename the base away and
 * put their own in its place after any check, and sys._MEIPASS is a path
 * that Python itself follows (data files, and its path finder, which would
 * run a planted module for an import the bundle lacks).  The entry is then
 * held open (cache_entry.fd) and every file the stub loads is opened through it,
 * checked (a regular file of ours, private, of the size the manifest gives)
 * and loaded as that very file, by its /proc/self/fd name.
 *
 * This file holds the bases and their checks, and the entry in use: found,
 * held, opened again.  The rest of the cache: place.c writes files into the
 * entry (or a memfd), manifest.c reads the bundle's table of native files
 * and the manifest, fill.c makes an entry on a first start (and checks one
 * after a reboot), prune.c removes entries; cache_impl.h is what they
 * share.  They depend one way: cache.c on none of them, place.c and prune.c
 * on cache.c, manifest.c on cache.c and prune.c, fill.c on cache.c, place.c
 * and manifest.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"
#include "stub.h"

size_t cache_bases(char *bases[CACHE_MAX_BASES])
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

void cache_bases_free(char *bases[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bases[i]);
}

uid_t cache_uid(void)
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
    if (st->st_uid != 0 && st->st_uid != cache_uid())
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
int cache_base_open(const char *base, int create, char *why, size_t whylen)
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
            if (st.st_uid != 0 && st.st_uid != cache_uid()) {
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
    if (st.st_uid != cache_uid() || (st.st_mode & 022) != 0) {
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

/* The cache entry in use (cache_impl.h), from cache_find or cache_fill on. */
struct cache_entry cache_entry = {NULL, NULL, NULL, -1, -1, 0, 0, 0};

/* A directory of ours that nobody else can write: an entry. */
static int entry_ok(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && st->st_uid == cache_uid() && (st->st_mode & 022) == 0;
}

int cache_entry_set(int bfd, const char *base, const char *hex, int fd, const struct stat *st)
{
    char *b = strdup(base), *path = NULL;

    if (!b || asprintf(&path, "%s/%s", base, hex) < 0) {
        free(b);
        close(fd);
        close(bfd);
        return -1;
    }
    cache_forget();
    cache_entry.base = b;
    cache_entry.path = path;
    cache_entry.hex = strrchr(path, '/') + 1;
    cache_entry.bfd = bfd;
    cache_entry.fd = fd;
    cache_entry.dev = st->st_dev;
    cache_entry.ino = st->st_ino;
    cache_entry.starting = 1;
    return 0;
}

int cache_entry_open_dir(int bfd, const char *base, const char *hex, struct stat *st, char *why,
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
    if (cache_entry.fd >= 0)
        close(cache_entry.fd);
    if (cache_entry.bfd >= 0)
        close(cache_entry.bfd);
    free(cache_entry.base);
    free(cache_entry.path);
    memset(&cache_entry, 0, sizeof cache_entry);
    cache_entry.fd = cache_entry.bfd = -1;
}

int cache_entry_fd(void)
{
    char why[STUB_WHY_MAX];
    struct stat st;
    int bfd, fd;

    if (cache_entry.starting && cache_entry.fd >= 0)
        return cache_entry.fd;
    if (cache_entry.fd >= 0 && fstat(cache_entry.fd, &st) == 0 && st.st_dev == cache_entry.dev &&
        st.st_ino == cache_entry.ino) {
        if (st.st_nlink > 0)
            return cache_entry.fd;
        close(cache_entry.fd); /* ours, and removed */
        stub_debug("the cache entry %s was removed", cache_entry.path);
    }
    /* closed (a daemon closes every descriptor: the number may be the app's
     * now, and is left alone) or removed: opened again as at the start,
     * through checked directories; an entry filled again in its place
     * holds the same files */
    cache_entry.fd = -1;
    if (!cache_entry.path)
        return -1;
    if ((bfd = cache_base_open(cache_entry.base, 0, why, sizeof why)) < 0) {
        stub_debug("%s", why);
        return -1;
    }
    fd = cache_entry_open_dir(bfd, cache_entry.base, cache_entry.hex, &st, why, sizeof why);
    close(bfd);
    if (fd < 0) {
        stub_debug("%s", why);
        return -1;
    }
    cache_entry.fd = fd;
    cache_entry.dev = st.st_dev;
    cache_entry.ino = st.st_ino;
    return fd;
}

int cache_find(const struct stub_self *self, char **dir, time_t *used)
{
    char *bases[CACHE_MAX_BASES], why[STUB_WHY_MAX];
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
        if (lstat(d, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != cache_uid()) {
            stub_debug("cache miss: %s", d);
        } else if ((bfd = cache_base_open(bases[i], 0, why, sizeof why)) < 0) {
            stub_debug("%s", why);
        } else if ((fd = cache_entry_open_dir(bfd, bases[i], self->hex, &st, why, sizeof why)) < 0) {
            stub_debug("%s", why);
            close(bfd);
        } else if (cache_entry_set(bfd, bases[i], self->hex, fd, &st) == 0) {
            stub_debug("cache hit: %s", d);
            *dir = d;
            d = NULL;
            *used = st.st_mtime;
            found = 0;
        }
        free(d);
    }
    cache_bases_free(bases, n);
    return found;
}

void cache_remove_tree(int parent, const char *name)
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
                    cache_remove_tree(dirfd(d), de->d_name);
            }
            closedir(d);
        } else {
            close(dfd);
        }
    }
    unlinkat(parent, name, AT_REMOVEDIR);
}
