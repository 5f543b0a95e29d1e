/* test_entry.c - the stub's reader of native files (stub/entry.c): stored
 * entries copied as they are, zstd entries (zip method 93) inflated, and
 * hostile compressed bytes refused with EBADMSG (entry_write, which the
 * cache, the memfds and the lazy imports all go through).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle/util/crc32c.h"
#include "bundle/payload.h"
#include "stub.h"

/* Functions of libzstd.a's readers of its 2016 formats (zstd_v0[567].o):
 * weak, so that they do not pull those objects in, and NULL unless
 * something else did. */
extern size_t FSEv05_decompress(void *, size_t, const void *, size_t) __attribute__((weak));
extern size_t FSEv06_decompress(void *, size_t, const void *, size_t) __attribute__((weak));
extern size_t FSEv07_decompress(void *, size_t, const void *, size_t) __attribute__((weak));

/* The stub's main.c defines this; a quiet one here. */
void stub_debug(const char *fmt, ...)
{
    (void)fmt;
}

#define PLAIN_LEN 200000
#define PAD 4099 /* data starts off a page boundary, as in a bundle */

struct fx {
    uint8_t *plain;     /* what the file holds */
    uint8_t *frame;     /* its zstd frame */
    size_t frame_len;
    char path[64];      /* a scratch "bundle" */
    char out[64];       /* where entry_write writes */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || !(f->plain = malloc(PLAIN_LEN)))
        return -1;
    for (size_t i = 0; i < PLAIN_LEN; i++)
        f->plain[i] = (uint8_t)("native file bytes "[i % 18] ^ (i / 1000));
    f->frame = malloc(ZSTD_compressBound(PLAIN_LEN));
    f->frame_len = ZSTD_compress(f->frame, ZSTD_compressBound(PLAIN_LEN), f->plain, PLAIN_LEN, 3);
    if (ZSTD_isError(f->frame_len))
        return -1;
    strcpy(f->path, "/tmp/test_entry.XXXXXX");
    strcpy(f->out, "/tmp/test_entry_out.XXXXXX");
    int a = mkstemp(f->path), b = mkstemp(f->out);
    if (a < 0 || b < 0)
        return -1;
    close(a);
    close(b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    unlink(f->out);
    free(f->plain);
    free(f->frame);
    free(f);
    return 0;
}

/* Writes PAD bytes of junk then data (len) to the scratch bundle; returns
 * it open, with *file describing the entry. */
static int bundle_of(struct fx *f, const void *data, size_t len, uint64_t size, int method, struct stub_file *file)
{
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < PAD; i++)
        fputc('J', fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    for (int i = 0; i < 100; i++) /* what follows an entry: the next one */
        fputc('Z', fp);
    assert_int_equal(fclose(fp), 0);
    *file = (struct stub_file){"x.so", PAD, len, size, method};
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

/* Reads it both ways: 0 and the right bytes, or -1 with EBADMSG. */
static void assert_reads(struct fx *f, const void *data, size_t len, uint64_t size, int method, bool ok)
{
    struct stub_file file;
    int in = bundle_of(f, data, len, size, method, &file);
    int out = open(f->out, O_RDWR | O_TRUNC);
    assert_true(out >= 0);

    errno = 0;
    uint32_t crc = 0;
    int rc = entry_write(in, &file, out, &crc);
    if (ok) {
        assert_int_equal(rc, 0);
        assert_int_equal(crc, crc32c(0, f->plain, size)); /* of what was written */
        struct stat st;
        assert_int_equal(fstat(out, &st), 0);
        assert_int_equal(st.st_size, size);
        uint8_t *got = malloc(size + 1);
        assert_int_equal(pread(out, got, size, 0), (ssize_t)size);
        assert_memory_equal(got, f->plain, size);
        free(got);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(errno, EBADMSG);
    }
    /* without a CRC: the stored way is a plain copy */
    out = open(f->out, O_RDWR | O_TRUNC);
    assert_int_equal(entry_write(in, &file, out, NULL), ok ? 0 : -1);
    close(out);
    close(in);
}

static void test_stored(void **state)
{
    struct fx *f = *state;
    assert_reads(f, f->plain, PLAIN_LEN, PLAIN_LEN, 0, true);
    assert_reads(f, f->plain, 0, 0, 0, true);
}

static void test_zstd(void **state)
{
    struct fx *f = *state;
    assert_true(f->frame_len < PLAIN_LEN / 4);
    assert_reads(f, f->frame, f->frame_len, PLAIN_LEN, PAYLOAD_ZSTD, true);
    /* an empty file's frame */
    uint8_t empty[64];
    size_t n = ZSTD_compress(empty, sizeof empty, "", 0, 3);
    assert_false(ZSTD_isError(n));
    assert_reads(f, empty, n, 0, PAYLOAD_ZSTD, true);
}

static void test_zstd_hostile(void **state)
{
    struct fx *f = *state;
    uint8_t *twice = malloc(2 * f->frame_len + 8);

    /* sizes that disagree with the frame */
    assert_reads(f, f->frame, f->frame_len, PLAIN_LEN + 1, PAYLOAD_ZSTD, false);
    assert_reads(f, f->frame, f->frame_len, PLAIN_LEN - 1, PAYLOAD_ZSTD, false);
    assert_reads(f, f->frame, f->frame_len, 0, PAYLOAD_ZSTD, false);
    /* cut short, anywhere */
    for (size_t cut = 1; cut < f->frame_len; cut += f->frame_len / 7 + 1)
        assert_reads(f, f->frame, f->frame_len - cut, PLAIN_LEN, PAYLOAD_ZSTD, false);
    assert_reads(f, f->frame, 0, PLAIN_LEN, PAYLOAD_ZSTD, false);
    /* bytes after the frame: junk, or a second frame */
    memcpy(twice, f->frame, f->frame_len);
    memcpy(twice + f->frame_len, "junk", 4);
    assert_reads(f, twice, f->frame_len + 4, PLAIN_LEN, PAYLOAD_ZSTD, false);
    memcpy(twice + f->frame_len, f->frame, f->frame_len);
    assert_reads(f, twice, 2 * f->frame_len, PLAIN_LEN, PAYLOAD_ZSTD, false);
    /* flipped bytes in the middle (the frame has no checksum of its own:
     * either zstd refuses it or the sizes show it, else the bytes differ,
     * which the caller's CRC-32C finds; here: never a crash, never more
     * than size bytes) */
    for (size_t i = 12; i < f->frame_len; i += 97) {
        struct stub_file file;
        uint32_t crc = 0;
        memcpy(twice, f->frame, f->frame_len);
        twice[i] ^= 0x5a;
        int in = bundle_of(f, twice, f->frame_len, PLAIN_LEN, PAYLOAD_ZSTD, &file);
        int out = open(f->out, O_RDWR | O_TRUNC);
        assert_true(out >= 0);
        if (entry_write(in, &file, out, &crc) != 0)
            assert_true(errno == EBADMSG);
        struct stat st;
        assert_int_equal(fstat(out, &st), 0);
        assert_true(st.st_size <= PLAIN_LEN); /* never more than the record says */
        close(out);
        close(in);
    }
    /* frames of zstd v0.5 to v0.7 (2016), which a bundle never holds: the
     * stub links no reader for them (stub/nolegacy.c), and neither does
     * this test, linked the same way: the readers' own code is absent */
    assert_null(&FSEv05_decompress);
    assert_null(&FSEv06_decompress);
    assert_null(&FSEv07_decompress);
    for (uint8_t v = 0x25; v <= 0x27; v++) {
        uint8_t old[64] = {v, 0xb5, 0x2f, 0xfd};
        memcpy(old + 4, f->frame + 4, sizeof old - 4);
        assert_reads(f, old, sizeof old, PLAIN_LEN, PAYLOAD_ZSTD, false);
        assert_reads(f, old, 4, 0, PAYLOAD_ZSTD, false);
    }
    /* not zstd at all */
    assert_reads(f, f->plain, 5000, PLAIN_LEN, PAYLOAD_ZSTD, false);
    free(twice);
}

/* A file of 1 MiB and more goes through the decoder whose memory is mapped
 * once for the largest window a bundle uses: a frame made as pack.c makes
 * them reads back, one that asks for a larger window is refused. */
static void test_zstd_large(void **state)
{
    struct fx *f = *state;
    const size_t big = 3 * ((size_t)1 << PAYLOAD_WINDOW_LOG) + 777;
    uint8_t *plain = malloc(big), *frame = malloc(ZSTD_compressBound(big));
    assert_non_null(plain);
    assert_non_null(frame);
    for (size_t i = 0; i < big; i++)
        plain[i] = (uint8_t)((i * 2654435761u) >> 13 ^ i / 4096);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, PAYLOAD_WINDOW_LOG)));
    size_t len = ZSTD_compress2(c, frame, ZSTD_compressBound(big), plain, big);
    assert_false(ZSTD_isError(len));
    uint8_t *keep = f->plain; /* assert_reads compares with f->plain */
    f->plain = plain;
    assert_reads(f, frame, len, big, PAYLOAD_ZSTD, true);
    assert_reads(f, frame, len - 100, big, PAYLOAD_ZSTD, false);
    /* a frame whose window is 4 MiB: refused */
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, PAYLOAD_WINDOW_LOG + 2)));
    len = ZSTD_compress2(c, frame, ZSTD_compressBound(big), plain, big);
    assert_false(ZSTD_isError(len));
    assert_reads(f, frame, len, big, PAYLOAD_ZSTD, false);
    f->plain = keep;
    ZSTD_freeCCtx(c);
    free(plain);
    free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_large, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
