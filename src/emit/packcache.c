/* packcache.c - the builder's cache of compressed files (packcache.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bundle/emit/packcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle/emit/pack.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"
#include "bundle/util/util.h"

#define MAGIC "BNDLPKC1"
#define HEAD 18 /* magic, method, size */
/* What the bytes of a compressed file depend on besides the input and the
 * level; bump the recipe when pack_compress changes what it makes. */
#define RECIPE 1

void packcache_open_dir(struct packcache *c, const char *dir)
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

void packcache_open(struct packcache *c)
{
    const char *v = getenv("BUNDLE_BUILD_CACHE_DIR");
    char *p = NULL;

    if (v) {
        packcache_open_dir(c, v[0] ? v : NULL);
        return;
    }
    if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/') {
        if (asprintf(&p, "%s/bundle-build", v) < 0)
            p = NULL;
    } else if ((v = getenv("HOME")) && v[0] == '/') {
        if (asprintf(&p, "%s/.cache/bundle-build", v) < 0)
            p = NULL;
    }
    packcache_open_dir(c, p);
    free(p);
}

void packcache_close(struct packcache *c)
{
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->dirfd = -1;
}

void packcache_key(const void *data, size_t len, int level, uint8_t key[32])
{
    struct sha256 s;
    char recipe[96];
    int n = snprintf(recipe, sizeof recipe, "bundle pack recipe %d level %d window %d zstd %u\n", RECIPE, level,
                     PACK_WINDOW_LOG, ZSTD_versionNumber());

    sha256_init(&s);
    sha256_update(&s, recipe, (size_t)n);
    sha256_update(&s, data, len);
    sha256_final(&s, key);
}

static bool read_at(int fd, uint8_t *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r, n -= (size_t)r, off += r;
    }
    return true;
}

/* The inflated bytes against the input itself. */
struct same {
    const uint8_t *want;
    size_t at, len;
};

static int same_sink(void *ctx, const uint8_t *p, size_t n)
{
    struct same *s = ctx;
    if (n > s->len - s->at || memcmp(s->want + s->at, p, n) != 0)
        return -1;
    s->at += n;
    return 0;
}

bool packcache_get(const struct packcache *c, const uint8_t key[32], const void *input, size_t usize,
                   struct pack_blob *out)
{
    char name[2 * SHA256_LEN + 1];
    uint8_t head[HEAD], *data = NULL;
    static __thread uint8_t scratch[1 << 16];
    struct stat st;
    bool ok = false;

    if (c->dirfd < 0)
        return false;
    sha256_hex(key, name);
    int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool bad = true; /* the entry is malformed: removed, this build makes it again */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < HEAD ||
        (uint64_t)st.st_size - HEAD > ZSTD_compressBound(usize) + PAYLOAD_CALLS_HEADER ||
        pread(fd, head, HEAD, 0) != HEAD || memcmp(head, MAGIC, 8) != 0)
        goto out;
    uint16_t method = (uint16_t)(head[8] | head[9] << 8);
    uint64_t csize = 0;
    for (int i = 7; i >= 0; i--)
        csize = csize << 8 | head[10 + i];
    if (csize != (uint64_t)st.st_size - HEAD ||
        (method != PAYLOAD_ZSTD && method != PAYLOAD_ZSTD_CALLS && (method != 0 || csize != 0)))
        goto out;
    bad = false;
    if (method == 0) { /* stored: what zstd could not make smaller enough */
        ok = true;
        out->owned = NULL;
        out->data = input;
        out->csize = usize;
        goto out;
    }
    ZSTD_DCtx *d = NULL;
    if (!(data = malloc(csize ? (size_t)csize : 1)) || !(d = ZSTD_createDCtx()))
        goto out_d; /* out of memory: the entry may be right */
    bad = !read_at(fd, data, (size_t)csize, HEAD);
    /* what it inflates to (as the stub would) must be the input itself */
    struct same k = {input, 0, usize};
    bad = bad || payload_inflate(d, method, data, csize, usize, scratch, sizeof scratch, same_sink, &k) != 0;
    ok = !bad;
out_d:
    ZSTD_freeDCtx(d);
out:
    if (bad)
        unlinkat(c->dirfd, name, 0);
    if (ok) {
        futimens(fd, NULL); /* used now: kept another PACKCACHE_DAYS */
        if (method) {
            out->owned = data;
            out->data = data;
            out->csize = csize;
            data = NULL;
        }
        out->method = method;
    }
    free(data);
    close(fd);
    return ok;
}

void packcache_put(const struct packcache *c, const uint8_t key[32], const struct pack_blob *b)
{
    char name[2 * SHA256_LEN + 1], proc[64];
    uint8_t head[HEAD];

    if (c->dirfd < 0)
        return;
    int fd = openat(c->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* a file system without O_TMPFILE: no cache */
    memcpy(head, MAGIC, 8);
    head[8] = (uint8_t)b->method;
    head[9] = (uint8_t)(b->method >> 8);
    sha256_hex(key, name);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    /* EEXIST: another build put the same bytes first */
    uint64_t csize = b->method ? b->csize : 0; /* stored: the entry says so, no data */
    for (int i = 0; i < 8; i++)
        head[10 + i] = (uint8_t)(csize >> (8 * i));
    if (util_write_all(fd, head, HEAD) == 0 && util_write_all(fd, b->data, (size_t)csize) == 0)
        (void)linkat(AT_FDCWD, proc, c->dirfd, name, AT_SYMLINK_FOLLOW);
    close(fd);
}

void packcache_prune(const struct packcache *c, time_t now)
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
            st.st_mtime < now - (time_t)PACKCACHE_DAYS * 86400)
            unlinkat(c->dirfd, de->d_name, 0);
    }
    closedir(dir);
}
