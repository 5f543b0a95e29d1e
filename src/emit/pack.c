#include "bundle/emit/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle/emit/packcache.h"
#include "bundle/util/buildcache.h"
#include "bundle/util/crc32c.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

/* Our own zip writer: stored and Zstandard (method 93, APPNOTE 4.4.5)
 * entries, x86-64 code with our call filter first (payload.h), no extra
 * fields, Unix modes, times in UTC (so SOURCE_DATE_EPOCH
 * gives the same bytes in every time zone).  The central directory is kept
 * in memory and written by pack_commit. */

#define ZIP_METHOD_ZSTD PAYLOAD_ZSTD
#define ZIP_MAX32 0xffffffffu
#define ZIP_MAX_ENTRIES 0xffffu

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* The bytes of an x86-64 ELF file that the call filter is for: its largest
 * executable segment, if the file holds at least CALLS_MIN of it.
 * 0 with *off, *len, or -1 (not such a file: it is compressed as it is). */
#define CALLS_MIN 4096
static int calls_range(const uint8_t *d, size_t n, uint32_t *off, uint32_t *len)
{
    uint64_t best = 0, best_off = 0;

    if (n < 64 || memcmp(d, "\177ELF\2\1", 6) != 0 || get16(d + 18) != 62 /* EM_X86_64 */)
        return -1;
    uint64_t phoff = get64(d + 32);
    uint16_t phentsize = get16(d + 54), phnum = get16(d + 56);
    if (phentsize < 56 || phoff > n || (uint64_t)phnum * phentsize > n - phoff)
        return -1;
    for (uint16_t i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (uint64_t)i * phentsize;
        uint64_t o = get64(ph + 8), sz = get64(ph + 32);
        if (get32(ph) != 1 /* PT_LOAD */ || !(get32(ph + 4) & 1) /* PF_X */ || o >= n)
            continue;
        if (sz > n - o)
            sz = n - o;
        if (sz > best)
            best = sz, best_off = o;
    }
    if (best < CALLS_MIN || best > PAYLOAD_CALLS_MAX || best_off > UINT32_MAX)
        return -1;
    *off = (uint32_t)best_off;
    *len = (uint32_t)best;
    return 0;
}

/* Inputs from this size on are compressed by zstd's workers, up to 4 (in
 * jobs of 4 windows): libpython at level 19 in 1.3 s instead of 3.2 on 2
 * cores.  zstd's output is the same for any number of workers from 1
 * (since 1.4.7, which CMakeLists.txt requires), so the choice depends on
 * the input only.  A libzstd built without threads takes none: its bytes
 * then differ from those of one with, as any other libzstd's may. */
#define PACK_MT_MIN (2u << 20)
#define PACK_MT_MAX 4

/* zstd at level with the window the stub holds; n or a zstd error. */
static size_t zstd_at(int level, void *dst, size_t cap, const void *src, size_t len)
{
    /* a 1 MiB window: +0.7% of bytes for libpython against the default 8
     * MiB, and the stub inflates it in half the time (its window is
     * memory it must fault in, on every first start) */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = len < PACK_MT_MIN ? 0 : cpus < 1 ? 1 : cpus > PACK_MT_MAX ? PACK_MT_MAX : (int)cpus;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (c && workers && ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers)))
        ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, 0);
    size_t n = !c || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
                       ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, PACK_WINDOW_LOG))
                   ? (size_t)-1
                   : ZSTD_compress2(c, dst, cap, src, len);
    ZSTD_freeCCtx(c);
    return n;
}

static int fail(struct pack *p, struct err *err, int e, const char *what)
{
    err_set(err, e, "cannot write '%s': %s", p->final_path ? p->final_path : "?", what);
    pack_abort(p);
    return -1;
}

/* MS-DOS time and date of t (UTC; 1980 at the earliest). */
static void dos_time(time_t t, uint16_t *dtime, uint16_t *ddate)
{
    struct tm tm;
    if (t < 315532800) /* 1980-01-01 */
        t = 315532800;
    gmtime_r(&t, &tm);
    if (tm.tm_year > 2107 - 1900) {
        tm.tm_year = 2107 - 1900;
        tm.tm_mon = 11;
        tm.tm_mday = 31;
    }
    *dtime = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    *ddate = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

int pack_open(struct pack *p, const char *final_path, const void *stub, size_t stub_len,
              const void *pyz, size_t pyz_len, time_t mtime, struct err *err)
{
    const char *slash = strrchr(final_path, '/');
    mode_t um = umask(0);
    umask(um);

    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->mtime = mtime;
    p->final_path = strdup(final_path);
    if (!p->final_path ||
        asprintf(&p->tmp_path, "%.*s.%s.tmp-XXXXXX", slash ? (int)(slash - final_path + 1) : 0,
                 final_path, slash ? slash + 1 : final_path) < 0) {
        p->tmp_path = NULL;
        pack_abort(p);
        return err_set(err, ENOMEM, "out of memory");
    }
    p->fd = temp_make_file(p->tmp_path, 0, O_CLOEXEC);
    if (p->fd < 0) {
        int e = errno;
        free(p->tmp_path);
        p->tmp_path = NULL;
        err_set(err, e, "cannot write '%s'", final_path);
        pack_abort(p);
        return -1;
    }
    if (fchmod(p->fd, 0755 & ~um) != 0 || util_write_all(p->fd, stub, stub_len) != 0 ||
        (pyz_len && util_write_all(p->fd, pyz, pyz_len) != 0)) {
        err_set(err, errno, "cannot write '%s'", p->tmp_path);
        pack_abort(p);
        return -1;
    }
    p->pyz_offset = stub_len;
    p->pyz_size = pyz_len;
    p->archive_offset = stub_len + pyz_len;
    p->pos = 0;
    return 0;
}

/* pack_compress, through the cache (packcache.h; NULL: none); *hit (if
 * not NULL) is 1 for an entry read from it, -1 for one compressed anew
 * that could have been. */
static int compress_cached(const struct buildcache *cache, const void *data, size_t len, int level,
                           struct pack_blob *out, int *hit)
{
    memset(out, 0, sizeof *out);
    out->usize = len;
    out->crc32 = util_crc32(0, data, len);
    uint8_t key[32];
    bool cached = cache && cache->dirfd >= 0 && level >= PACKCACHE_MIN_LEVEL && len >= PACKCACHE_MIN_SIZE;
    if (cached) {
        packcache_key(data, len, level, key);
        if (packcache_get(cache, key, data, len, out)) {
            if (hit)
                *hit = 1;
            return 0;
        }
        if (hit)
            *hit = -1;
    }
    /* small files, and those zstd cannot make 1/32 smaller, are stored:
     * inflating them would cost more than reading the bytes saved */
    out->data = data;
    out->csize = len;
    out->method = 0;
    if (level > 0 && len >= PACK_MIN_COMPRESS) {
        uint32_t coff, clen;
        bool calls = calls_range(data, len, &coff, &clen) == 0;
        size_t head = calls ? PAYLOAD_CALLS_HEADER : 0, cap = head + ZSTD_compressBound(len);
        uint8_t *buf = malloc(cap), *filtered = calls ? malloc(len) : NULL;
        if (!buf || (calls && !filtered)) {
            free(buf);
            free(filtered);
            return -1;
        }
        if (calls) {
            struct payload_calls c = {coff, (uint64_t)coff + clen, coff};
            memcpy(filtered, data, len);
            payload_calls_run(&c, filtered, 0, len);
            put32(buf, coff);
            put32(buf + 4, clen);
        }
        size_t n = zstd_at(level, buf + head, cap - head, calls ? filtered : data, len);
        free(filtered);
        if (!ZSTD_isError(n) && head + n < len - len / 32) {
            void *shrunk = realloc(buf, head + n);
            out->owned = shrunk ? shrunk : buf;
            out->data = out->owned;
            out->csize = head + n;
            out->method = calls ? PAYLOAD_ZSTD_CALLS : ZIP_METHOD_ZSTD;
            if (cached)
                packcache_put(cache, key, out);
            return 0;
        }
        free(buf);
        /* so is the next build's, without trying again (compressed
         * data files: zstd at level 19 would take seconds to find it) */
        if (cached && !ZSTD_isError(n))
            packcache_put(cache, key, out);
    }
    return 0;
}

int pack_compress(const void *data, size_t len, int level, struct pack_blob *out)
{
    return compress_cached(NULL, data, len, level, out, NULL);
}

void pack_blob_release(struct pack_blob *b)
{
    free(b->owned);
    memset(b, 0, sizeof *b);
}

/* The fields a local header (from its offset 6) and a central directory
 * record (from 8) share: flags, method, time, date, CRC-32, sizes, name
 * length. */
static void put_fields(uint8_t *q, const struct pack_blob *b, uint16_t dtime, uint16_t ddate, size_t nlen)
{
    put16(q, 0x0800); /* names are UTF-8 */
    put16(q + 2, b->method);
    put16(q + 4, dtime);
    put16(q + 6, ddate);
    put32(q + 8, b->crc32);
    put32(q + 12, (uint32_t)b->csize);
    put32(q + 16, (uint32_t)b->usize);
    put16(q + 20, (uint16_t)nlen);
}

/* One local header and the data; the central directory record to p->cd. */
static int write_entry(struct pack *p, const char *name, bool dir, const struct pack_blob *b, struct err *err)
{
    size_t nlen = strlen(name);
    uint8_t h[46];
    uint16_t dtime, ddate;
    uint16_t need = b->method ? 63 : dir ? 20 : 10;
    uint32_t mode = dir ? 040755 : 0100644;

    if (nlen == 0 || nlen > 0xffff)
        return fail(p, err, 0, "an entry name is empty or longer than 65535 bytes");
    if (p->count >= ZIP_MAX_ENTRIES)
        return fail(p, err, 0, "more than 65535 files: the zip format without zip64 holds no more");
    if (b->csize > ZIP_MAX32 || b->usize > ZIP_MAX32 || p->pos > ZIP_MAX32)
        return fail(p, err, EFBIG, "the archive would pass 4 GiB (zip64 is not written)");
    dos_time(p->mtime, &dtime, &ddate);

    memset(h, 0, sizeof h);
    put32(h, 0x04034b50u);
    put16(h + 4, need);
    put_fields(h + 6, b, dtime, ddate, nlen);
    if (util_write_all(p->fd, h, 30) != 0 || util_write_all(p->fd, name, nlen) != 0 ||
        (b->csize && util_write_all(p->fd, b->data, (size_t)b->csize) != 0))
        return fail(p, err, errno, "write failed");

    memset(h, 0, sizeof h);
    put32(h, 0x02014b50u);
    put16(h + 4, 3 << 8 | 63); /* made by: Unix, APPNOTE 6.3 */
    put16(h + 6, need);
    put_fields(h + 8, b, dtime, ddate, nlen);
    put32(h + 38, mode << 16 | (dir ? 0x10 : 0));
    put32(h + 42, (uint32_t)p->pos);
    if (buf_append(&p->cd, h, sizeof h) != 0 || buf_append(&p->cd, name, nlen) != 0)
        return fail(p, err, ENOMEM, "out of memory");
    p->pos += 30 + nlen + b->csize;
    p->inflated += b->usize - b->csize;
    p->count++;
    return 0;
}

int pack_add_blob(struct pack *p, const char *name, const struct pack_blob *b, struct err *err)
{
    return write_entry(p, name, false, b, err);
}

int pack_add_data(struct pack *p, const char *name, const void *data, size_t len, int level,
                  struct err *err)
{
    struct pack_blob b;
    int rc;

    if (pack_compress(data, len, level, &b) != 0)
        return fail(p, err, ENOMEM, "out of memory");
    rc = write_entry(p, name, false, &b, err);
    pack_blob_release(&b);
    return rc;
}

int pack_add_file(struct pack *p, const char *name, const char *path, int level, struct err *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (util_read_file(path, (size_t)1 << 32, &data, &len, err) != 0) {
        pack_abort(p);
        return -1;
    }
    rc = pack_add_data(p, name, data, len, level, err);
    free(data);
    return rc;
}

int pack_add_dir(struct pack *p, const char *name, struct err *err)
{
    struct pack_blob b = {0};
    return write_entry(p, name, true, &b, err);
}

/* pack_add_items: entries read and compressed on every core, written in
 * the order given. */
struct item_job {
    const struct pack_item *items;
    size_t n;
    struct item_done {
        char *raw;              /* the file's bytes (owned) */
        struct pack_blob blob;
        int hit;                /* compress_cached's */
        int rc;                 /* 0, or -1 with err set */
        struct err err;
    } *done;
    size_t next;
    pthread_mutex_t lock;
    struct buildcache cache;
    size_t *order; /* the largest first: none of them is left for last */
    uint64_t *sizes;
};

static int by_size(const void *a, const void *b, void *sizes)
{
    const uint64_t *sz = sizes;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    return sz[i] != sz[k] ? (sz[i] < sz[k]) - (sz[i] > sz[k]) : (i > k) - (i < k);
}

static void *item_worker(void *arg)
{
    struct item_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t k = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (k >= j->n)
            return NULL;
        size_t i = j->order[k];
        const struct pack_item *it = &j->items[i];
        struct item_done *d = &j->done[i];
        const void *data = it->data;
        size_t len = it->len;
        if (it->file) {
            if (util_read_file(it->file, (size_t)1 << 32, &d->raw, &len, &d->err) != 0) {
                d->rc = -1;
                continue;
            }
            data = d->raw;
        }
        if (compress_cached(&j->cache, data, len, it->level, &d->blob, &d->hit) != 0)
            d->rc = err_set(&d->err, ENOMEM, "out of memory");
    }
}

int pack_add_items(struct pack *p, const struct pack_item *items, size_t n, struct err *err)
{
    struct item_job j = {items, n, calloc(n ? n : 1, sizeof *j.done), 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tid[PACK_MAX_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cpus < 1 ? 1 : cpus > PACK_MAX_THREADS ? PACK_MAX_THREADS : (size_t)cpus, started = 0;
    int rc = 0;

    j.order = malloc((n ? n : 1) * sizeof *j.order);
    j.sizes = malloc((n ? n : 1) * sizeof *j.sizes);
    if (!j.done || !j.order || !j.sizes) {
        free(j.done);
        free(j.order);
        free(j.sizes);
        return fail(p, err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        j.order[i] = i;
        j.sizes[i] = !items[i].file ? items[i].len : stat(items[i].file, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    qsort_r(j.order, n, sizeof *j.order, by_size, j.sizes);
    buildcache_open(&j.cache);
    if (nthreads > n)
        nthreads = n;
    /* the calling thread works too: no thread at all for one core */
    for (size_t t = 1; t < nthreads; t++)
        if (pthread_create(&tid[started], NULL, item_worker, &j) == 0)
            started++;
    item_worker(&j);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && j.done[i].rc != 0) {
            *err = j.done[i].err;
            pack_abort(p);
            rc = -1;
        } else if (rc == 0 && write_entry(p, items[i].name, false, &j.done[i].blob, err) != 0) {
            rc = -1;
        }
        p->cached += j.done[i].hit > 0;
        p->cache_misses += j.done[i].hit < 0;
        pack_blob_release(&j.done[i].blob);
        free(j.done[i].raw);
    }
    free(j.done);
    free(j.order);
    free(j.sizes);
    pthread_mutex_destroy(&j.lock);
    buildcache_prune(&j.cache, time(NULL));
    buildcache_close(&j.cache);
    return rc;
}

/* The end of the zip: the central directory and its end record, whose
 * comment length already counts the trailer that follows. */
static int write_end(struct pack *p)
{
    uint8_t eocd[PAYLOAD_EOCD_SIZE] = {0};

    if (p->pos > ZIP_MAX32 || p->cd.len > ZIP_MAX32) {
        errno = EFBIG;
        return -1;
    }
    put32(eocd, 0x06054b50u);
    put16(eocd + 8, (uint16_t)p->count);
    put16(eocd + 10, (uint16_t)p->count);
    put32(eocd + 12, (uint32_t)p->cd.len);
    put32(eocd + 16, (uint32_t)p->pos);
    put16(eocd + 20, PAYLOAD_TRAILER_SIZE);
    if ((p->cd.len && util_write_all(p->fd, p->cd.data, p->cd.len) != 0) ||
        util_write_all(p->fd, eocd, sizeof eocd) != 0)
        return -1;
    p->pos += p->cd.len + sizeof eocd;
    return 0;
}

static int hash_file(int fd, uint64_t len, uint8_t out[32])
{
    static unsigned char chunk[1 << 16];
    struct sha256 s;
    uint64_t off = 0;

    sha256_init(&s);
    while (off < len) {
        size_t want = len - off < sizeof chunk ? (size_t)(len - off) : sizeof chunk;
        ssize_t n = pread(fd, chunk, want, (off_t)off);
        if (n <= 0)
            return -1;
        sha256_update(&s, chunk, (size_t)n);
        off += (uint64_t)n;
    }
    sha256_final(&s, out);
    return 0;
}

int pack_commit(struct pack *p, uint8_t sha256[32], uint8_t file_sha256[32], struct err *err)
{
    uint8_t trailer_bytes[PAYLOAD_TRAILER_SIZE];
    struct payload_trailer t = {.version = PAYLOAD_VERSION};
    off_t end;

    if (write_end(p) != 0)
        goto io;
    end = (off_t)(p->archive_offset + p->pos);
    t.flags = p->flags;
    t.pyz_offset = p->pyz_offset;
    t.pyz_size = p->pyz_size;
    t.archive_offset = p->archive_offset;
    t.archive_size = (uint64_t)end - p->archive_offset;
    if (hash_file(p->fd, (uint64_t)end, t.sha256) != 0)
        goto io;
    payload_trailer_encode(&t, trailer_bytes);
    if (pwrite(p->fd, trailer_bytes, sizeof trailer_bytes, end) != (ssize_t)sizeof trailer_bytes)
        goto io;
    p->size = (uint64_t)end + sizeof trailer_bytes;
    /* the check covers everything but itself, the trailer's head included */
    void *map = mmap(NULL, (size_t)p->size, PROT_READ, MAP_SHARED, p->fd, 0);
    if (map == MAP_FAILED)
        goto io;
    crc32c_quarters(map, (size_t)end + PAYLOAD_CHECKED_TAIL, t.check);
    munmap(map, (size_t)p->size);
    payload_trailer_encode(&t, trailer_bytes);
    if (pwrite(p->fd, trailer_bytes + PAYLOAD_CHECKED_TAIL, sizeof trailer_bytes - PAYLOAD_CHECKED_TAIL,
               end + PAYLOAD_CHECKED_TAIL) != (ssize_t)(sizeof trailer_bytes - PAYLOAD_CHECKED_TAIL))
        goto io;
    if (file_sha256 && hash_file(p->fd, p->size, file_sha256) != 0)
        goto io;
    if (fsync(p->fd) != 0)
        goto io;
    if (close(p->fd) != 0) {
        p->fd = -1;
        goto io;
    }
    p->fd = -1;
    if (rename(p->tmp_path, p->final_path) != 0) {
        err_set(err, errno, "cannot rename '%s' to '%s'", p->tmp_path, p->final_path);
        pack_abort(p);
        return -1;
    }
    memcpy(sha256, t.sha256, 32);
    temp_forget(p->tmp_path);
    free(p->tmp_path);
    p->tmp_path = NULL;
    pack_abort(p);
    return 0;
io:
    err_set(err, errno, "cannot write '%s'", p->tmp_path);
    pack_abort(p);
    return -1;
}

void pack_abort(struct pack *p)
{
    buf_release(&p->cd);
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    if (p->tmp_path) {
        temp_remove(p->tmp_path);
        free(p->tmp_path);
        p->tmp_path = NULL;
    }
    free(p->final_path);
    p->final_path = NULL;
}
