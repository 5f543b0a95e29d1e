/* packcache.c - the builder's cache of compressed files (packcache.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bundle/emit/packcache.h"

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
#include "bundle/util/buildcache.h"
#include "bundle/util/sha256.h"
#include "bundle/util/util.h"

#define MAGIC "BNDLPKC1"
#define HEAD 18 /* magic, method, size */
/* What the bytes of a compressed file depend on besides the input and the
 * level; bump the recipe when pack_compress changes what it makes. */
#define RECIPE 1

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

bool packcache_get(const struct buildcache *c, const uint8_t key[32], const void *input, size_t usize,
                   struct pack_blob *out)
{
    uint8_t head[HEAD], *data = NULL;
    static __thread uint8_t scratch[1 << 16];
    off_t size;
    bool ok = false;

    int fd = buildcache_find(c, key, MAGIC, &size);
    if (fd < 0)
        return false;
    bool bad = true; /* the entry is malformed: removed, this build makes it again */
    if (size < HEAD || (uint64_t)size - HEAD > ZSTD_compressBound(usize) + PAYLOAD_CALLS_HEADER ||
        pread(fd, head, HEAD, 0) != HEAD)
        goto out;
    uint16_t method = (uint16_t)(head[8] | head[9] << 8);
    uint64_t csize = 0;
    for (int i = 7; i >= 0; i--)
        csize = csize << 8 | head[10 + i];
    if (csize != (uint64_t)size - HEAD ||
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
        buildcache_drop(c, key);
    if (ok) {
        buildcache_used(fd);
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

void packcache_put(const struct buildcache *c, const uint8_t key[32], const struct pack_blob *b)
{
    uint8_t head[HEAD - 8];
    uint64_t csize = b->method ? b->csize : 0; /* stored: the entry says so, no data */

    head[0] = (uint8_t)b->method;
    head[1] = (uint8_t)(b->method >> 8);
    for (int i = 0; i < 8; i++)
        head[2 + i] = (uint8_t)(csize >> (8 * i));
    buildcache_put(c, key, MAGIC, head, sizeof head, b->data, (size_t)csize);
}
