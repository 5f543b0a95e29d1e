/* payload.c - reading (and writing) the bundle trailer and zip directory.
 * Everything here treats its input as hostile. */
#include "bundle/payload.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <zstd.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

void payload_trailer_encode(const struct payload_trailer *t, uint8_t out[PAYLOAD_TRAILER_SIZE])
{
    memcpy(out, PAYLOAD_MAGIC, PAYLOAD_MAGIC_LEN);
    put32(out + 8, t->version);
    put32(out + 12, t->flags);
    put64(out + 16, t->pyz_offset);
    put64(out + 24, t->pyz_size);
    put64(out + 32, t->archive_offset);
    put64(out + 40, t->archive_size);
    memcpy(out + 48, t->sha256, 32);
    for (int i = 0; i < 4; i++)
        put32(out + 80 + 4 * i, t->check[i]);
}

int payload_trailer_decode(const uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE],
                           uint64_t file_size, struct payload_trailer *t, const char **why)
{
    const uint8_t *eocd = tail;
    const uint8_t *tr = tail + PAYLOAD_EOCD_SIZE;

    if (file_size < PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
        return *why = "file too small to hold a bundle", -1;
    if (memcmp(tr, PAYLOAD_MAGIC, PAYLOAD_MAGIC_LEN) != 0)
        return *why = "no bundle trailer at the end of the file (truncated or not a bundle)", -1;
    t->version = get32(tr + 8);
    t->flags = get32(tr + 12);
    t->pyz_offset = get64(tr + 16);
    t->pyz_size = get64(tr + 24);
    t->archive_offset = get64(tr + 32);
    t->archive_size = get64(tr + 40);
    memcpy(t->sha256, tr + 48, 32);
    for (int i = 0; i < 4; i++)
        t->check[i] = get32(tr + 80 + 4 * i);
    if (t->version != PAYLOAD_VERSION)
        return *why = "unsupported bundle format version", -1;
    if (t->archive_size < PAYLOAD_EOCD_SIZE ||
        t->archive_offset > file_size - PAYLOAD_TRAILER_SIZE ||
        t->archive_size != file_size - PAYLOAD_TRAILER_SIZE - t->archive_offset)
        return *why = "archive bounds in the trailer do not match the file size", -1;
    if (t->pyz_offset > t->archive_offset || t->pyz_size > t->archive_offset - t->pyz_offset)
        return *why = "module blob bounds in the trailer do not match the archive", -1;
    if (get32(eocd) != 0x06054b50u || get16(eocd + 20) != PAYLOAD_TRAILER_SIZE)
        return *why = "zip end record not found before the trailer", -1;
    return 0;
}

int payload_cd_locate(const uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE],
                      const struct payload_trailer *t, struct payload_cd *cd, const char **why)
{
    const uint8_t *eocd = tail;
    uint64_t cd_end_rel = t->archive_size - PAYLOAD_EOCD_SIZE; /* EOCD offset within archive */
    uint64_t size = get32(eocd + 12);
    uint64_t off = get32(eocd + 16);

    if (get16(eocd + 4) != 0 || get16(eocd + 6) != 0)
        return *why = "multi-disk zip archives are not bundles", -1;
    if (get16(eocd + 8) != get16(eocd + 10))
        return *why = "zip end record disagrees with itself", -1;
    if (off > cd_end_rel || size > cd_end_rel - off)
        return *why = "central directory lies outside the archive", -1;
    cd->offset = t->archive_offset + off;
    cd->size = size;
    cd->count = get16(eocd + 10);
    return 0;
}

int payload_cd_next(const uint8_t *buf, const struct payload_cd *cd, const struct payload_trailer *t,
                    size_t *pos, struct payload_entry *e, const char **why)
{
    const uint8_t *p;
    size_t name_len, extra_len, comment_len, rec;
    uint64_t end_of_data_area = cd->offset; /* entries' data precede the directory */

    if (*pos == cd->size)
        return 0;
    if (cd->size - *pos < 46)
        return *why = "truncated central directory record", -1;
    p = buf + *pos;
    if (get32(p) != 0x02014b50u)
        return *why = "bad central directory signature", -1;
    name_len = get16(p + 28);
    extra_len = get16(p + 30);
    comment_len = get16(p + 32);
    rec = 46 + name_len + extra_len + comment_len;
    if (rec > cd->size - *pos)
        return *why = "central directory record runs past its end", -1;
    e->method = get16(p + 10);
    e->crc32 = get32(p + 16);
    e->csize = get32(p + 20);
    e->usize = get32(p + 24);
    e->header_offset = t->archive_offset + (uint64_t)get32(p + 42);
    e->name = (const char *)p + 46;
    e->name_len = name_len;
    if (e->csize == 0xffffffffu || e->usize == 0xffffffffu || get32(p + 42) == 0xffffffffu)
        return *why = "zip64 entries are not supported", -1;
    if (e->header_offset > end_of_data_area || end_of_data_area - e->header_offset < 30)
        return *why = "entry header lies outside the archive", -1;
    *pos += rec;
    return 1;
}

int payload_entry_data(const uint8_t local[30], const struct payload_entry *e,
                       const struct payload_trailer *t, uint64_t *data_offset, const char **why)
{
    uint64_t start, limit = t->archive_offset + t->archive_size;

    if (get32(local) != 0x04034b50u)
        return *why = "bad local header signature", -1;
    start = e->header_offset + 30 + get16(local + 26) + get16(local + 28);
    if (start > limit || e->csize > limit - start)
        return *why = "entry data lies outside the archive", -1;
    if (e->method == 0 && e->csize != e->usize)
        return *why = "stored entry sizes disagree", -1;
    *data_offset = start;
    return 0;
}

int payload_path_safe(const char *p, size_t len)
{
    size_t i, start = 0;

    if (len == 0 || len > PAYLOAD_PATH_MAX || p[0] == '/')
        return 0;
    for (i = 0; i <= len; i++) {
        if (i < len && (p[i] == '\0' || p[i] == '\\'))
            return 0;
        if (i == len || p[i] == '/') {
            size_t n = i - start;
            if (n == 0 || (n == 1 && p[start] == '.') ||
                (n == 2 && p[start] == '.' && p[start + 1] == '.'))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

int payload_pyz_parts(const uint8_t *pyz, uint64_t size, struct payload_pyz *out, const char **why)
{
    uint64_t at;

    memset(out, 0, sizeof *out);
    if (size < 4 || (out->index_len = get32(pyz)) > size - 4) {
        *why = "module index out of bounds";
        return -1;
    }
    out->index = pyz + 4;
    at = 4 + (uint64_t)out->index_len;
    if (at + 4 > size || (out->dict_len = get32(pyz + at)) > size - at - 4) {
        *why = "module dictionary out of bounds";
        return -1;
    }
    /* a trained dictionary starts with its magic: without it zstd would
     * take damaged bytes as plain content and inflate garbage */
    if (out->dict_len && (out->dict_len < 8 || get32(pyz + at + 4) != ZSTD_MAGIC_DICTIONARY)) {
        *why = "module dictionary malformed";
        return -1;
    }
    out->dict = out->dict_len ? pyz + at + 4 : NULL;
    return 0;
}

int payload_module_frame(const uint8_t *src, uint64_t len, uint64_t *usize)
{
    unsigned long long n;

    /* zstd's magic, so neither a skippable frame (which inflates to
     * nothing) nor one of its 2016 formats (which the stub cannot read) */
    if (len < 4 || len > SIZE_MAX || get32(src) != ZSTD_MAGICNUMBER)
        return -1;
    n = ZSTD_getFrameContentSize(src, (size_t)len);
    /* also ZSTD_CONTENTSIZE_UNKNOWN and _ERROR, which are above the limit */
    if (n > PAYLOAD_MODULE_MAX || ZSTD_findFrameCompressedSize(src, (size_t)len) != len)
        return -1;
    *usize = n;
    return 0;
}

int payload_calls_header(const uint8_t *data, uint64_t csize, uint64_t usize, struct payload_calls *c)
{
    if (csize < PAYLOAD_CALLS_HEADER)
        return -1;
    uint64_t off = get32(data), len = get32(data + 4);
    if (len < 5 || len > PAYLOAD_CALLS_MAX || off > usize || len > usize - off)
        return -1;
    *c = (struct payload_calls){off, off + len, off};
    return 0;
}

/* The displacement x of a call at offset k - 5 of the range, whose target
 * lies in the range (D: (x + k) mod 2^32 < len), trades places with the
 * target's offset plus BIAS (A: (x - BIAS) mod 2^32 < len); the shift is
 * BIAS + k both ways.  D lies within (-2^29 - 5, 2^29), A within [2^30,
 * 2^30 + 2^29): they never meet, so the swap is its own inverse. */
#define CALLS_BIAS (1u << 30)

size_t payload_calls_run(struct payload_calls *c, uint8_t *buf, uint64_t base, size_t n)
{
    const uint32_t len = (uint32_t)(c->end - c->off);
    const uint64_t lim = base + n, stop = c->end - 4; /* a call fits before stop */
    uint64_t p = c->next < base ? base : c->next;

    while (p < stop && p < lim) {
        /* memchr: a call every 30 to 100 bytes of code, found in SIMD */
        uint64_t to = stop < lim ? stop : lim;
        uint8_t *b = memchr(buf + (p - base), 0xe8, (size_t)(to - p));
        if (!b) {
            p = to;
            break;
        }
        p = base + (uint64_t)(b - buf);
        if (p + 5 > lim) {
            c->next = p;
            return (size_t)(p - base);
        }
        uint32_t x = get32(b + 1), k = (uint32_t)(p - c->off) + 5;
        if (x + k < len)
            put32(b + 1, x + CALLS_BIAS + k);
        else if (x - CALLS_BIAS < len)
            put32(b + 1, x - CALLS_BIAS - k);
        p += 5;
    }
    c->next = p;
    return n;
}

int payload_inflate(ZSTD_DCtx *d, uint16_t method, const uint8_t *src, uint64_t csize, uint64_t usize,
                    uint8_t *buf, size_t cap, int (*sink)(void *ctx, const uint8_t *p, size_t n), void *ctx)
{
    struct payload_calls calls;
    bool filtered = method == PAYLOAD_ZSTD_CALLS;
    size_t head = filtered ? PAYLOAD_CALLS_HEADER : 0, keep = 0;
    uint64_t total = 0; /* bytes handed to sink */

    if (csize > SIZE_MAX || (filtered && payload_calls_header(src, csize, usize, &calls) != 0) ||
        (!filtered && method != PAYLOAD_ZSTD))
        return -1;
    ZSTD_inBuffer in = {src + head, (size_t)csize - head, 0};
    /* no window over a bundle's largest: a frame that needs more is refused
     * here as on every host */
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, PAYLOAD_WINDOW_LOG)))
        return -1;
    for (;;) {
        size_t was_in = in.pos;
        /* the first keep bytes: a call the last round could not undo */
        ZSTD_outBuffer o = {buf + keep, cap - keep, 0};
        size_t r = ZSTD_decompressStream(d, &o, &in);
        if (ZSTD_isError(r) || o.pos > usize - total - keep)
            return -1;
        size_t have = keep + o.pos, done = filtered ? payload_calls_run(&calls, buf, total, have) : have;
        if (done && sink(ctx, buf, done) != 0)
            return 1;
        total += done;
        keep = have - done;
        memmove(buf, buf + done, keep);
        if (r == 0)
            break; /* the frame is whole */
        if (in.pos == was_in && o.pos == 0)
            return -1; /* no progress: cut short */
    }
    return in.pos == in.size && !keep && total == usize ? 0 : -1;
}
