/* entry.c - the bytes of a native file of the bundle: stored as they are,
 * or compressed with zstd (zip method 93, or x86-64 code after our call
 * filter: payload.h).  Everything read is hostile: an
 * entry must inflate to exactly the size the directory gives, from exactly
 * the bytes it gives, or it is refused (EBADMSG). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticDCtx: the stub links libzstd.a */
#include <zstd.h>

#include "bundle/util/crc32c.h"
#include "bundle/payload.h"
#include "stub.h"

/* A decoder pair with its scratch buffer.  The small decoder inflates
 * module code (whole frames into a flat buffer) and small native files
 * (its window as large as the file's).  The large one streams native
 * files of PREFAULT_MIN bytes and more: it lives in one mapping made with
 * MAP_POPULATE, sized for the largest window a bundle uses (payload.h).
 * On a VM where a page fault is slow, faulting a 1 MiB window in page by
 * page cost hello's first start 3 ms of its 45 (bench/interleave, 20
 * rounds).  A frame that would need a larger window is refused.  Each is
 * made on first use.  The process has one, shared: starts unpack on one
 * thread, lazy imports under Python's lock, and the mutex is for safety;
 * the prefetch thread has its own (inflater_new). */
#define PREFAULT_MIN (1u << 20)
#define POPULATE_MAX (16u << 20)
struct inflater {
    ZSTD_DCtx *small, *large;
    void *ws; /* the large one's mapping */
    size_t ws_size;
    const int *stop; /* when *stop turns 1, what it inflates fails with ECANCELED */
    uint8_t buf[1 << 17];
};
static struct inflater shared;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

struct inflater *inflater_new(const int *stop)
{
    struct inflater *x = calloc(1, sizeof *x);
    if (x)
        x->stop = stop;
    return x;
}

void inflater_free(struct inflater *x)
{
    if (!x)
        return;
    ZSTD_freeDCtx(x->small);
    if (x->ws)
        munmap(x->ws, x->ws_size); /* the large one lives in it */
    free(x);
}

/* x's decoder for a file of size bytes, or NULL with errno. */
static ZSTD_DCtx *decoder(struct inflater *x, uint64_t size)
{
    if (size < PREFAULT_MIN) {
        /* no window over a bundle's largest either: a hostile frame that
         * asks for more is refused, not given up to 128 MiB */
        if (!x->small && (x->small = ZSTD_createDCtx()) &&
            ZSTD_isError(ZSTD_DCtx_setParameter(x->small, ZSTD_d_windowLogMax, PAYLOAD_WINDOW_LOG))) {
            ZSTD_freeDCtx(x->small);
            x->small = NULL;
        }
    } else if (!x->large) {
        size_t ws_size = ZSTD_estimateDStreamSize((size_t)1 << PAYLOAD_WINDOW_LOG);
        void *ws = mmap(NULL, ws_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (ws != MAP_FAILED && !(x->large = ZSTD_initStaticDCtx(ws, ws_size)))
            munmap(ws, ws_size);
        else if (ws != MAP_FAILED)
            x->ws = ws, x->ws_size = ws_size;
    }
    ZSTD_DCtx *d = size < PREFAULT_MIN ? x->small : x->large;
    if (!d)
        errno = ENOMEM;
    return d;
}

int entry_frame(const void *src, size_t srclen, const ZSTD_DDict *dict, void *dst, size_t n)
{
    ZSTD_DCtx *d;
    size_t r;
    int rc = -1;

    pthread_mutex_lock(&shared_lock);
    if ((d = decoder(&shared, 0))) {
        r = dict ? ZSTD_decompress_usingDDict(d, dst, n, src, srclen, dict) : ZSTD_decompressDCtx(d, dst, n, src, srclen);
        if (!ZSTD_isError(r) && r == n)
            rc = 0;
        else
            errno = EBADMSG;
    }
    pthread_mutex_unlock(&shared_lock);
    return rc;
}

/* The page-aligned mapping of len bytes at off of the file in. */
static const uint8_t *map_range(int in, uint64_t off, uint64_t len, void **map, size_t *maplen)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = off - off % (uint64_t)(page > 0 ? page : 4096);

    *maplen = (size_t)(off + len - start);
    /* populated in one call (see decoder) up to POPULATE_MAX: beyond,
     * readahead overlaps the reading with the inflating */
    *map = mmap(NULL, *maplen ? *maplen : 1, PROT_READ, MAP_PRIVATE | (*maplen <= POPULATE_MAX ? MAP_POPULATE : 0),
                in, (off_t)start);
    if (*map == MAP_FAILED) {
        *map = NULL;
        return NULL;
    }
    return (const uint8_t *)*map + (off - start);
}

struct sink {
    int fd;
    uint32_t *crc;
    const int *stop;
};

static int to_file(void *ctx, const uint8_t *p, size_t n)
{
    struct sink *k = ctx;
    if (k->stop && __atomic_load_n(k->stop, __ATOMIC_RELAXED)) {
        errno = ECANCELED;
        return -1;
    }
    if (k->crc)
        *k->crc = crc32c(*k->crc, p, n);
    return write_full(k->fd, p, n);
}

/* Inflates entry f (its data mapped at src) to fd through x; crc (if not
 * NULL) is updated with what is written.  0, or -1 with errno (EBADMSG:
 * not one whole zstd frame of exactly f->size bytes). */
static int inflate_to(struct inflater *x, const struct stub_file *f, const uint8_t *src, int fd, uint32_t *crc)
{
    struct sink k = {fd, crc, x->stop};
    int r = -1;
    ZSTD_DCtx *dctx = decoder(x, f->size);

    if (dctx && (r = payload_inflate(dctx, (uint16_t)f->method, src, f->csize, f->size, x->buf, sizeof x->buf,
                                     to_file, &k)) < 0)
        errno = EBADMSG;
    return r ? -1 : 0; /* r 1: the sink's errno */
}

int copy_range(int in, uint64_t off, uint64_t len, int out)
{
    char buf[1 << 15]; /* on the stack, no state shared between threads (a start copies on its main one) */
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

int entry_write_by(struct inflater *x, int in, const struct stub_file *f, int out, uint32_t *crc)
{
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
    } else if (x) {
        rc = inflate_to(x, f, src, out, crc);
    } else {
        pthread_mutex_lock(&shared_lock);
        rc = inflate_to(&shared, f, src, out, crc);
        e = errno;
        pthread_mutex_unlock(&shared_lock);
        errno = e;
    }
    e = errno;
    munmap(map, maplen ? maplen : 1);
    errno = e;
    return rc;
}

int entry_write(int in, const struct stub_file *f, int out, uint32_t *crc)
{
    return entry_write_by(NULL, in, f, out, crc);
}
