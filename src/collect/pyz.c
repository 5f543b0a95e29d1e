#include "bundle/collect/pyz.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#define ZDICT_STATIC_LINKING_ONLY /* ZDICT_trainFromBuffer_fastCover: exported by libzstd.so */
#include <zdict.h>
#include <zstd.h>
#include <zstd_errors.h>

/* marshal type codes (Python/marshal.c), stable since marshal version 4 */
#define M_DICT '{'
#define M_NULL '0'
#define M_SHORT_ASCII 'z'
#define M_UNICODE 'u'
#define M_SMALL_TUPLE ')'
#define M_INT 'i'

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static size_t key_size(const char *name)
{
    size_t n = strlen(name);
    return is_ascii(name, n) && n < 256 ? 2 + n : 5 + n;
}

static int put_key(struct buf *b, const char *name)
{
    unsigned char h[5];
    size_t n = strlen(name);
    if (is_ascii(name, n) && n < 256) {
        h[0] = M_SHORT_ASCII;
        h[1] = (unsigned char)n;
        return buf_append(b, h, 2) || buf_append(b, name, n) ? -1 : 0;
    }
    h[0] = M_UNICODE;
    put32(h + 1, (uint32_t)n);
    return buf_append(b, h, 5) || buf_append(b, name, n) ? -1 : 0;
}

/* (off, size, flags), or (off, size, flags, path) for an extension module */
static int put_value(struct buf *b, uint32_t off, uint32_t size, uint32_t flags, const char *path)
{
    unsigned char v[17] = {M_SMALL_TUPLE, path ? 4 : 3, M_INT};
    put32(v + 3, off);
    v[7] = M_INT;
    put32(v + 8, size);
    v[12] = M_INT;
    put32(v + 13, flags);
    return buf_append(b, v, sizeof v) || (path && put_key(b, path)) ? -1 : 0;
}

/* Each module is one zstd frame of its own, so the importer inflates only
 * what the app imports, and the work splits across cores; every frame uses
 * one dictionary trained on the bundle's own modules, which recovers most of
 * what compressing them one by one loses (stdlib modules: 2.2 MB, against
 * 3.1 MB of LZ4 and 1.8 MB for all of them as one frame).  The output does
 * not depend on how the work was split. */
struct job {
    const struct pyz_item *items;
    size_t from, to;          /* [from, to) of items */
    const ZSTD_CDict *cdict;  /* or NULL: no dictionary */
    unsigned char **out;      /* per item: compressed bytes (malloc'ed) */
    size_t *len;
    int failed;
};

/* Level 15: 3% smaller than 12, and 19 gains under 1% at twice the time.
 * The stub inflates it at about 1.2 GB/s on this class of machine. */
#define PYZ_LEVEL 15
/* The dictionary: about 1/40 of the modules' bytes, within these bounds
 * (larger ones gain less than they weigh). */
#define PYZ_DICT_MIN (16u << 10)
#define PYZ_DICT_MAX (112u << 10)
/* Its ID (frames do not carry it): fixed, so it says where it comes from
 * (zstd's default, a hash of the content, would be as reproducible). */
#define PYZ_DICT_ID 0x42554e44u
/* Too few modules to learn from: no dictionary. */
#define PYZ_DICT_MIN_SAMPLES 16
/* Below this many bytes of code, compressed without the dictionary too. */
#define PYZ_DICT_CHECK_MAX (1u << 20)

static void *compress_range(void *arg)
{
    struct job *j = arg;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();

    /* frames as small as can be: no checksum (the bundle's CRC-32Cs cover
     * them), no dictionary ID, the size once inflated in the header */
    if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, PYZ_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
        (j->cdict && ZSTD_isError(ZSTD_CCtx_refCDict(cctx, j->cdict))))
        j->failed = 1;
    for (size_t i = j->from; i < j->to && !j->failed; i++) {
        size_t len = j->items[i].len, bound = ZSTD_compressBound(len), r;
        if (!j->items[i].code)
            continue;
        if (ZSTD_isError(bound) || !(j->out[i] = malloc(bound))) {
            j->failed = 1;
            break;
        }
        r = ZSTD_compress2(cctx, j->out[i], bound, j->items[i].code, len);
        if (ZSTD_isError(r))
            j->failed = 1;
        else
            j->len[i] = r;
    }
    ZSTD_freeCCtx(cctx);
    return NULL;
}

/* Trains the dictionary on the modules' code into dict (cap bytes): its
 * size in *len, 0 where there is too little to learn from (the modules are
 * then compressed without one).  Returns 0, or -1 when memory ran out: a
 * build that went on without the dictionary would differ from the next. */
static int train_dict(const struct pyz_item *items, size_t n, void *dict, size_t cap, size_t *len)
{
    size_t total = 0, count = 0;
    int rc = -1;
    unsigned char *samples;
    size_t *sizes;

    for (size_t i = 0; i < n; i++)
        if (items[i].code && items[i].len) {
            total += items[i].len;
            count++;
        }
    *len = 0;
    if (count < PYZ_DICT_MIN_SAMPLES || count > UINT_MAX || total / 8 < PYZ_DICT_MIN)
        return 0;
    samples = malloc(total);
    sizes = malloc(count * sizeof *sizes);
    if (samples && sizes) {
        size_t at = 0, k = 0;
        for (size_t i = 0; i < n; i++)
            if (items[i].code && items[i].len) {
                memcpy(samples + at, items[i].code, items[i].len);
                at += items[i].len;
                sizes[k++] = items[i].len;
            }
        size_t want = total / 40;
        want = want < PYZ_DICT_MIN ? PYZ_DICT_MIN : want > cap ? cap : want;
        /* fastCover with fixed parameters: on the stdlib's modules, k = 400
         * trains in 0.14 s and gives a dictionary as good as the default
         * search (ZDICT_trainFromBuffer: 4 steps, 0.5 s); its entropy
         * tables from level 3, as fast as that and 0.1% larger than 15's */
        ZDICT_fastCover_params_t fc = {.k = 400, .d = 8, .f = 20, .accel = 1,
                                       .zParams = {.compressionLevel = 3, .dictID = PYZ_DICT_ID}};
        size_t r = ZDICT_trainFromBuffer_fastCover(dict, want, samples, sizes, (unsigned)count, fc);
        if (!ZDICT_isError(r))
            *len = r;
        /* other errors (too few distinct samples) mean no dictionary */
        rc = ZDICT_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -1 : 0;
    }
    free(samples);
    free(sizes);
    return rc;
}

/* Compresses every item with code into blobs[i], lens[i] (with cdict
 * unless NULL) on up to 8 threads.  0, or -1 out of memory. */
static int compress_all(const struct pyz_item *items, size_t n, const ZSTD_CDict *cdict, unsigned char **blobs,
                        size_t *lens)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (size_t)ncpu;
    struct job jobs[8];
    pthread_t tids[8];
    bool started[8] = {false};
    int rc = 0;

    if (nthreads > n)
        nthreads = n ? n : 1;
    for (size_t t = 0; t < nthreads; t++) {
        jobs[t] = (struct job){items, n * t / nthreads, n * (t + 1) / nthreads, cdict, blobs, lens, 0};
        started[t] = t > 0 && pthread_create(&tids[t], NULL, compress_range, &jobs[t]) == 0;
    }
    for (size_t t = 0; t < nthreads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            compress_range(&jobs[t]); /* job 0, or a thread that could not start */
    }
    for (size_t t = 0; t < nthreads; t++)
        rc |= jobs[t].failed ? -1 : 0;
    return rc;
}

int pyz_build(const struct pyz_item *items, size_t n, struct buf *out, struct err *err)
{
    unsigned char **blobs = calloc(n ? n : 1, sizeof *blobs);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    size_t index_len = 2, data_len = 0, start = out->len, dict_len = 0;
    unsigned char head[4], *dict = malloc(PYZ_DICT_MAX);
    ZSTD_CDict *cdict = NULL;
    int rc = -1;

    if (!blobs || !lens || !dict) {
        err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    if (train_dict(items, n, dict, PYZ_DICT_MAX, &dict_len) != 0 ||
        (dict_len && !(cdict = ZSTD_createCDict(dict, dict_len, PYZ_LEVEL)))) {
        err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    if (compress_all(items, n, cdict, blobs, lens) != 0) {
        err_set(err, ENOMEM, "cannot compress the modules");
        goto out;
    }
    /* a few small modules: the dictionary can weigh more than it saves
     * (16 modules: 170,102 bytes with it, 165,661 without); there, both
     * are made and the smaller kept */
    size_t raw = 0, with = dict_len, without = 0;
    for (size_t i = 0; i < n; i++)
        raw += items[i].code ? items[i].len : 0, with += lens[i];
    if (dict_len && raw < PYZ_DICT_CHECK_MAX) {
        unsigned char **plain = calloc(n ? n : 1, sizeof *plain);
        size_t *plens = calloc(n ? n : 1, sizeof *plens);
        if (!plain || !plens || compress_all(items, n, NULL, plain, plens) != 0) {
            for (size_t i = 0; plain && i < n; i++)
                free(plain[i]);
            free(plain);
            free(plens);
            err_set(err, ENOMEM, "cannot compress the modules");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            without += plens[i];
        if (without <= with) { /* the plain frames win: the others go */
            unsigned char **b = blobs;
            size_t *l = lens;
            blobs = plain, lens = plens, plain = b, plens = l;
            dict_len = 0;
        }
        for (size_t i = 0; i < n; i++)
            free(plain[i]);
        free(plain);
        free(plens);
    }
    for (size_t i = 0; i < n; i++) {
        index_len += key_size(items[i].name) + 17 + (items[i].path ? key_size(items[i].path) : 0);
        data_len += lens[i];
    }
    if (4 + index_len + 4 + dict_len + data_len > UINT32_MAX) {
        err_set(err, 0, "the bundle's Python modules exceed 4 GiB");
        goto out;
    }
    put32(head, (uint32_t)index_len);
    if (buf_reserve(out, 4 + index_len + 4 + dict_len + data_len) != 0 || buf_append(out, head, 4) != 0 ||
        buf_append(out, "{", 1) != 0)
        goto oom;
    size_t off = 4 + index_len + 4 + dict_len;
    for (size_t i = 0; i < n; i++) {
        if (put_key(out, items[i].name) != 0 ||
            put_value(out, lens[i] ? (uint32_t)off : 0, (uint32_t)lens[i], items[i].flags, items[i].path) != 0)
            goto oom;
        off += lens[i];
    }
    put32(head, (uint32_t)dict_len);
    if (buf_append(out, "0", 1) != 0 || buf_append(out, head, 4) != 0 ||
        (dict_len && buf_append(out, dict, dict_len) != 0))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (lens[i] && buf_append(out, blobs[i], lens[i]) != 0)
            goto oom;
    rc = 0;
    goto out;
oom:
    out->len = start;
    err_set(err, ENOMEM, "out of memory");
out:
    for (size_t i = 0; blobs && i < n; i++)
        free(blobs[i]);
    free(blobs);
    free(lens);
    free(dict);
    ZSTD_freeCDict(cdict);
    return rc;
}
