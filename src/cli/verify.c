/* verify.c - bundle verify: a bundle's structure, its checksums (the
 * SHA-256 that names its cache entry and the CRC-32Cs a first start checks),
 * and that every file and every module inflates to what it should. */
#include "bundle/cli/inspect.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle/util/crc32c.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"
#include "bundle/util/util.h"
#include "inspect_impl.h"

/* The read-only mapping of len bytes at off of fd, page-aligned (a blob
 * or an entry can hold up to 4 GiB, more than one read returns): the
 * bytes, with *map and *maplen to unmap, or NULL. */
static const uint8_t *map_range(int fd, uint64_t off, uint64_t len, void **map, size_t *maplen)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = off - off % (uint64_t)(page > 0 ? page : 4096);

    if (off + len - start > SIZE_MAX)
        return NULL;
    *maplen = (size_t)(off + len - start);
    *map = mmap(NULL, *maplen ? *maplen : 1, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
    return *map == MAP_FAILED ? NULL : (const uint8_t *)*map + (off - start);
}

static int crc_sink(void *ctx, const uint8_t *p, size_t n)
{
    uint32_t *crc = ctx;
    *crc = util_crc32(*crc, p, n);
    return 0;
}

/* Whether entry e (its data at data) holds what the directory says: stored,
 * or zstd (one frame, maybe after the call filter) of e->usize bytes, with
 * the zip CRC-32 e->crc32.  Returns NULL, or why not. */
static const char *entry_intact(int fd, const struct payload_entry *e, uint64_t data)
{
    static uint8_t out[1 << 17];
    ZSTD_DCtx *d = NULL;
    uint32_t crc = 0;
    void *map = MAP_FAILED;
    size_t maplen = 0;
    const uint8_t *src;
    const char *why = NULL;

    if (e->method != 0 && e->method != PAYLOAD_ZSTD && e->method != PAYLOAD_ZSTD_CALLS)
        return "an entry is compressed with an unknown method";
    if (!(src = map_range(fd, data, e->csize, &map, &maplen)))
        return "cannot read an entry";
    if (e->method == 0)
        crc_sink(&crc, src, (size_t)e->csize);
    else if (!(d = ZSTD_createDCtx()))
        why = "out of memory";
    else if (payload_inflate(d, e->method, src, e->csize, e->usize, out, sizeof out, crc_sink, &crc) != 0)
        why = "an entry does not inflate to its size";
    if (!why && crc != e->crc32)
        why = "an entry does not match its CRC-32";
    ZSTD_freeDCtx(d);
    if (map != MAP_FAILED)
        munmap(map, maplen ? maplen : 1);
    return why;
}

/* Whether every module of the index inflates (one whole zstd frame, with
 * the blob's dictionary) to the size its frame header gives.  Returns NULL,
 * or why not. */
static const char *modules_intact(const struct opened *b)
{
    const uint8_t *blob = NULL;
    void *map = MAP_FAILED;
    size_t maplen = 0;
    uint8_t *out = NULL;
    ZSTD_DDict *dict = NULL;
    ZSTD_DCtx *d = NULL;
    const char *why = NULL;
    struct pyz_entry pe;
    uint32_t ipos = 0;
    size_t cap = 0;
    int r;

    if (!b->index)
        return NULL;
    if (!(d = ZSTD_createDCtx())) {
        why = "out of memory";
        goto out;
    }
    if (!(blob = map_range(b->fd, b->t.pyz_offset, b->t.pyz_size, &map, &maplen))) {
        why = "cannot read the modules";
        goto out;
    }
    struct payload_pyz parts;
    if (payload_pyz_parts(blob, b->t.pyz_size, &parts, &why) != 0)
        goto out;
    if (parts.dict && !(dict = ZSTD_createDDict(parts.dict, parts.dict_len))) {
        why = "out of memory";
        goto out;
    }
    while ((r = inspect_index_next(b->index, b->index_len, &ipos, &pe)) == 1 && !why) {
        uint64_t n;
        if (!pe.size)
            continue; /* a namespace package or an extension module: no code */
        if (pe.off > b->t.pyz_size || pe.size > b->t.pyz_size - pe.off) {
            why = "a module's data is out of bounds";
            break;
        }
        const uint8_t *src = blob + pe.off;
        if (payload_module_frame(src, pe.size, &n) != 0) {
            why = "a module's data is malformed";
            break;
        }
        if (n > cap) {
            free(out);
            if (!(out = malloc(cap = (size_t)n))) {
                why = "out of memory";
                break;
            }
        }
        size_t got = dict ? ZSTD_decompress_usingDDict(d, out, (size_t)n, src, pe.size, dict)
                          : ZSTD_decompressDCtx(d, out, (size_t)n, src, pe.size);
        if (ZSTD_isError(got) || got != n)
            why = "a module does not inflate";
    }
    if (!why && r < 0)
        why = "malformed module index";
out:
    ZSTD_freeDDict(dict);
    ZSTD_freeDCtx(d);
    free(out);
    if (map != MAP_FAILED)
        munmap(map, maplen ? maplen : 1);
    return why;
}

/* Checks where every entry's data lies, and with inflate that it holds
 * what its record says (entry_intact).  0, or -1 with *why set. */
static int walk_entries(const struct opened *b, bool inflate, const char **why)
{
    struct payload_entry e;
    size_t pos = 0;
    int r;

    while ((r = payload_cd_next(b->cdbuf, &b->cd, &b->t, &pos, &e, why)) == 1) {
        uint8_t local[30];
        uint64_t data;
        if (pread(b->fd, local, 30, (off_t)e.header_offset) != 30 ||
            payload_entry_data(local, &e, &b->t, &data, why) != 0 || (inflate && (*why = entry_intact(b->fd, &e, data))))
            return -1;
    }
    return r < 0 ? -1 : 0;
}

int verify_run(const char *path, struct err *err)
{
    struct opened b;
    struct sha256 s;
    uint8_t digest[32];
    static uint8_t chunk[1 << 16];
    uint32_t ipos = 0;
    const char *why = NULL;
    int r;

    if (inspect_open(path, &b, err) != 0)
        return -1;
    if ((r = walk_entries(&b, false, &why)) < 0) {
        inspect_close(&b);
        return err_set(err, 0, "'%s' is corrupt (%s)", path, why ? why : "bad entry");
    }
    struct pyz_entry pe;
    while (b.index && (r = inspect_index_next(b.index, b.index_len, &ipos, &pe)) == 1)
        if ((uint64_t)pe.off + pe.size > b.t.pyz_size) {
            r = -1;
            break;
        }
    if (b.index && r < 0) {
        inspect_close(&b);
        return err_set(err, 0, "'%s' is corrupt (malformed module index)", path);
    }
    sha256_init(&s);
    for (uint64_t off = 0, left = b.t.archive_offset + b.t.archive_size; left > 0;) {
        ssize_t n = pread(b.fd, chunk, left < sizeof chunk ? (size_t)left : sizeof chunk, (off_t)off);
        if (n <= 0) {
            inspect_close(&b);
            return err_set(err, n < 0 ? errno : 0, "cannot read '%s'", path);
        }
        sha256_update(&s, chunk, (size_t)n);
        off += (uint64_t)n;
        left -= (uint64_t)n;
    }
    sha256_final(&s, digest);
    r = memcmp(digest, b.t.sha256, 32);
    /* the check a first start makes (the trailer's head included) */
    uint32_t check[4];
    void *map = mmap(NULL, (size_t)b.size, PROT_READ, MAP_PRIVATE, b.fd, 0);
    if (map == MAP_FAILED) {
        inspect_close(&b);
        return err_set(err, errno, "cannot read '%s'", path);
    }
    crc32c_quarters(map, (size_t)(b.t.archive_offset + b.t.archive_size + PAYLOAD_CHECKED_TAIL), check);
    munmap(map, (size_t)b.size);
    r |= memcmp(check, b.t.check, sizeof check);
    if (r != 0) {
        inspect_close(&b);
        return err_set(err, 0, "'%s' is corrupt (checksum mismatch); download it again", path);
    }
    /* the checksums are what the writer computed: what it wrote must
     * also inflate to what its directory says */
    r = walk_entries(&b, true, &why);
    if (r >= 0 && (why = modules_intact(&b)))
        r = -1;
    inspect_close(&b);
    if (r < 0)
        return err_set(err, 0, "'%s' is corrupt (%s)", path, why ? why : "bad entry");
    return 0;
}
