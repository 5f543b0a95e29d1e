/* entry.c - the bytes of a native file of the bundle: stored as they are,
 * or compressed with zstd (zip method 93).  Everything read is hostile: an
 * entry must inflate to exactly the size the directory gives, from exactly
 * the bytes it gives, or it is refused (EBADMSG). */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd.h>

#include "bundle/crc32c.h"
#include "bundle/payload.h"
#include "stub.h"

/* One decoder for the process, made on first use: its window (up to the
 * largest frame's) is allocated once, not once per file.  Starts unpack on
 * one thread, lazy imports under Python's lock; the mutex is for safety. */
static ZSTD_DCtx *dctx;
static pthread_mutex_t dctx_lock = PTHREAD_MUTEX_INITIALIZER;

/* The process's decoder, made on first use (called with dctx_lock held). */
static ZSTD_DCtx *decoder(void)
{
    if (!dctx)
        dctx = ZSTD_createDCtx();
    if (!dctx)
        errno = ENOMEM;
    return dctx;
}

int entry_frame(const void *src, size_t srclen, const ZSTD_DDict *dict, void *dst, size_t n)
{
    size_t r;
    int rc = -1;

    pthread_mutex_lock(&dctx_lock);
    if (decoder()) {
        r = dict ? ZSTD_decompress_usingDDict(dctx, dst, n, src, srclen, dict)
                 : ZSTD_decompressDCtx(dctx, dst, n, src, srclen);
        if (!ZSTD_isError(r) && r == n)
            rc = 0;
        else
            errno = EBADMSG;
    }
    pthread_mutex_unlock(&dctx_lock);
    return rc;
}

/* The page-aligned mapping of len bytes at off of the file in. */
static const uint8_t *map_range(int in, uint64_t off, uint64_t len, void **map, size_t *maplen)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = off - off % (uint64_t)(page > 0 ? page : 4096);

    *maplen = (size_t)(off + len - start);
    *map = mmap(NULL, *maplen ? *maplen : 1, PROT_READ, MAP_PRIVATE, in, (off_t)start);
    if (*map == MAP_FAILED) {
        *map = NULL;
        return NULL;
    }
    return (const uint8_t *)*map + (off - start);
}

/* Inflates entry f (its compressed bytes mapped at src) to fd, through
 * the scratch buffer buf of cap bytes; crc (if not NULL) is updated with
 * what is written.  0, or -1 with errno (EBADMSG: not whole zstd frames
 * of exactly f->size bytes in all). */
static int inflate_to(const struct stub_file *f, const uint8_t *src, uint8_t *buf, size_t cap, int fd,
                      uint32_t *crc)
{
    ZSTD_inBuffer in = {src, (size_t)f->csize, 0};
    uint64_t total = 0;
    int rc = -1;

    pthread_mutex_lock(&dctx_lock);
    if (!decoder()) {
        pthread_mutex_unlock(&dctx_lock);
        return -1;
    }
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    for (;;) {
        size_t was_in = in.pos;
        ZSTD_outBuffer o = {buf, cap, 0};
        size_t r = ZSTD_decompressStream(dctx, &o, &in);
        if (ZSTD_isError(r) || o.pos > f->size - total)
            goto bad;
        if (o.pos) {
            if (crc)
                *crc = crc32c(*crc, buf, o.pos);
            if (write_full(fd, buf, o.pos) != 0)
                goto out;
            total += o.pos;
        }
        if (r == 0 && in.pos == in.size)
            break; /* the last frame is whole */
        if (in.pos == was_in && o.pos == 0)
            goto bad; /* no progress: cut short */
    }
    if (total != f->size)
        goto bad;
    rc = 0;
    goto out;
bad:
    errno = EBADMSG;
out:
    pthread_mutex_unlock(&dctx_lock);
    return rc;
}

/* A file of several frames (pack.c cuts large ones every 2 MiB) is
 * inflated on up to PAR_THREADS cores: each thread takes the next frame,
 * inflates it whole into its own buffer and writes it when the frames
 * before it are written.  The file grows in order, as with one thread (a
 * power cut leaves it short, never with a hole), and the CRC-32C is of the
 * bytes in order. */
#define PAR_THREADS 4
#define PAR_FRAME_MAX (64u << 20) /* no frame of ours is near it */

struct frame {
    const uint8_t *src;
    size_t csize, usize;
};

struct par {
    const struct frame *fr;
    size_t n, take, turn; /* frames; the next to take; the next to write */
    int out;
    uint32_t *crc;
    int err;              /* the first error (errno value), or 0 */
    pthread_mutex_t lock;
    pthread_cond_t written;
};

static void par_fail(struct par *p, int e)
{
    pthread_mutex_lock(&p->lock);
    if (!p->err)
        p->err = e;
    pthread_cond_broadcast(&p->written);
    pthread_mutex_unlock(&p->lock);
}

static void *par_worker(void *arg)
{
    struct par *p = arg;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint8_t *buf = NULL;
    size_t cap = 0;

    if (!d)
        par_fail(p, ENOMEM);
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t k = p->err ? p->n : p->take++;
        pthread_mutex_unlock(&p->lock);
        if (k >= p->n)
            break;
        const struct frame *fr = &p->fr[k];
        if (fr->usize > cap) {
            free(buf);
            cap = 0;
            if (!(buf = malloc(fr->usize))) {
                par_fail(p, ENOMEM);
                break;
            }
            cap = fr->usize;
        }
        size_t r = ZSTD_decompressDCtx(d, buf, fr->usize, fr->src, fr->csize);
        if (ZSTD_isError(r) || r != fr->usize) {
            par_fail(p, EBADMSG);
            break;
        }
        pthread_mutex_lock(&p->lock);
        while (!p->err && p->turn != k)
            pthread_cond_wait(&p->written, &p->lock);
        int stop = p->err != 0;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        /* our turn: the others wait for turn to move */
        if (p->crc)
            *p->crc = crc32c(*p->crc, buf, fr->usize);
        if (write_full(p->out, buf, fr->usize) != 0) {
            par_fail(p, errno ? errno : EIO);
            break;
        }
        pthread_mutex_lock(&p->lock);
        p->turn = k + 1;
        pthread_cond_broadcast(&p->written);
        pthread_mutex_unlock(&p->lock);
    }
    free(buf);
    ZSTD_freeDCtx(d);
    return NULL;
}

/* The frames of f (compressed bytes at src): 0 with *fr (malloc'ed) and
 * *n, or -1 with errno (EBADMSG: they do not add up to f's sizes). */
static int frames_of(const struct stub_file *f, const uint8_t *src, struct frame **fr, size_t *n)
{
    size_t pos = 0, cnt = 0, cap = 0;
    uint64_t total = 0;
    struct frame *v = NULL;

    while (pos < f->csize) {
        size_t cs = ZSTD_findFrameCompressedSize(src + pos, (size_t)f->csize - pos);
        unsigned long long us = ZSTD_isError(cs) ? ZSTD_CONTENTSIZE_ERROR : ZSTD_getFrameContentSize(src + pos, cs);
        if (us > PAR_FRAME_MAX || us > f->size - total) /* also _UNKNOWN and _ERROR */
            goto bad;
        if (cnt == cap) {
            struct frame *w = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof *v);
            if (!w) {
                free(v);
                errno = ENOMEM;
                return -1;
            }
            v = w;
        }
        v[cnt++] = (struct frame){src + pos, cs, (size_t)us};
        pos += cs;
        total += us;
    }
    if (total != f->size)
        goto bad;
    *fr = v;
    *n = cnt;
    return 0;
bad:
    free(v);
    errno = EBADMSG;
    return -1;
}

/* The cores this process may run on, at most PAR_THREADS. */
static size_t cores(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return n < 1 ? 1 : n > PAR_THREADS ? PAR_THREADS : (size_t)n;
}

/* Inflates f on several threads if it has several frames and the process
 * several cores: 1 if it did (0, or -1 with errno), 0 to go the one-thread
 * way.  crc as for inflate_to. */
static int inflate_parallel(const struct stub_file *f, const uint8_t *src, int fd, uint32_t *crc, int *rc)
{
    struct frame *fr;
    size_t n, nt;
    pthread_t tid[PAR_THREADS];
    size_t started = 0;

    if (f->size < 2 * PAYLOAD_ZSTD_FRAME || (nt = cores()) < 2)
        return 0;
    if (frames_of(f, src, &fr, &n) != 0) {
        *rc = -1;
        return 1;
    }
    if (n < 2) {
        free(fr);
        return 0;
    }
    struct par p = {.fr = fr, .n = n, .out = fd, .crc = crc};
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.written, NULL);
    for (size_t i = 1; i < nt && i < n; i++)
        if (pthread_create(&tid[started], NULL, par_worker, &p) == 0)
            started++;
    par_worker(&p);
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_cond_destroy(&p.written);
    pthread_mutex_destroy(&p.lock);
    free(fr);
    if (!p.err && p.turn != n)
        p.err = EIO;
    errno = p.err;
    *rc = p.err ? -1 : 0;
    return 1;
}

int entry_write(int in, const struct stub_file *f, int out, uint32_t *crc)
{
    static uint8_t buf[1 << 17];
    void *map;
    size_t maplen;
    const uint8_t *src;
    int rc, e;

    if (f->method == 0 && !crc)
        return copy_range(in, f->off, f->size, out);
    if (!(src = map_range(in, f->off, f->csize, &map, &maplen)))
        return -1;
    if (f->method == 0) {
        *crc = crc32c(*crc, src, (size_t)f->size);
        rc = write_full(out, src, (size_t)f->size);
    } else {
        if (!inflate_parallel(f, src, out, crc, &rc))
            rc = inflate_to(f, src, buf, sizeof buf, out, crc);
    }
    e = errno;
    munmap(map, maplen ? maplen : 1);
    errno = e;
    return rc;
}
