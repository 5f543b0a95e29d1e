/* buildcache.c - the builder's cache (buildcache.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bundle/util/buildcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/util/sha256.h"
#include "bundle/util/util.h"

void buildcache_open_dir(struct buildcache *c, const char *dir)
{
    struct stat st;
    char *p;

    c->dirfd = -1;
    if (!dir || dir[0] != '/' || !(p = strdup(dir)))
        return;
    /* made as mkdir -p does, each new part 0700; a symlink on the way is
     * followed (a /home that links elsewhere) */
    for (char *slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            free(p); /* not the dir asked for: no cache */
            return;
        }
        if (!slash)
            break;
        *slash = '/';
    }
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return;
    /* ours alone: another user could plant entries in a dir they can write */
    if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
        close(fd);
        return;
    }
    c->dirfd = fd;
}

void buildcache_open(struct buildcache *c)
{
    const char *v = getenv("BUNDLE_BUILD_CACHE_DIR");
    char *p = NULL;

    if (v) {
        buildcache_open_dir(c, v[0] ? v : NULL);
        return;
    }
    if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/') {
        if (asprintf(&p, "%s/bundle-build", v) < 0)
            p = NULL;
    } else if ((v = getenv("HOME")) && v[0] == '/') {
        if (asprintf(&p, "%s/.cache/bundle-build", v) < 0)
            p = NULL;
    }
    buildcache_open_dir(c, p);
    free(p);
}

void buildcache_close(struct buildcache *c)
{
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->dirfd = -1;
}

int buildcache_find(const struct buildcache *c, const uint8_t key[32], const char magic[8], off_t *size)
{
    char name[2 * SHA256_LEN + 1], head[8];
    struct stat st;

    if (c->dirfd < 0)
        return -1;
    sha256_hex(key, name);
    int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8 || pread(fd, head, 8, 0) != 8 ||
        memcmp(head, magic, 8) != 0) {
        close(fd);
        unlinkat(c->dirfd, name, 0); /* malformed: this build makes it again */
        return -1;
    }
    *size = st.st_size;
    return fd;
}

void buildcache_used(int fd)
{
    futimens(fd, NULL);
}

void buildcache_drop(const struct buildcache *c, const uint8_t key[32])
{
    char name[2 * SHA256_LEN + 1];

    if (c->dirfd < 0)
        return;
    sha256_hex(key, name);
    unlinkat(c->dirfd, name, 0);
}

void buildcache_put(const struct buildcache *c, const uint8_t key[32], const char magic[8], const void *head,
                    size_t hlen, const void *data, size_t len)
{
    char name[2 * SHA256_LEN + 1], proc[64];

    if (c->dirfd < 0)
        return;
    int fd = openat(c->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* a file system without O_TMPFILE: no cache */
    sha256_hex(key, name);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    /* EEXIST: another build put the same bytes first */
    if (util_write_all(fd, magic, 8) == 0 && util_write_all(fd, head, hlen) == 0 &&
        util_write_all(fd, data, len) == 0)
        (void)linkat(AT_FDCWD, proc, c->dirfd, name, AT_SYMLINK_FOLLOW);
    close(fd);
}

void buildcache_prune(const struct buildcache *c, time_t now)
{
    struct dirent *de;
    struct stat st;

    if (c->dirfd < 0)
        return;
    int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(dir))) {
        if (strlen(de->d_name) != 2 * SHA256_LEN || strspn(de->d_name, "0123456789abcdef") != 2 * SHA256_LEN)
            continue; /* not an entry */
        if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            st.st_mtime < now - (time_t)BUILDCACHE_DAYS * 86400)
            unlinkat(c->dirfd, de->d_name, 0);
    }
    closedir(dir);
}
