/* test_payload.c - the bundle trailer and the zip directory walker
 * (stub/payload.c), whose input is hostile.
 *
 * Bundles are built by hand in memory (stub bytes, local headers, central
 * directory, EOCD, trailer), so every field can be bent one at a time.  The
 * walk below follows the stub's own sequence (stub/main.c, stub/manifest.c, stub/fill.c):
 * decode the 86-byte tail, locate the directory, walk it, read each local
 * header, find the entry data.  Two fuzz loops mutate a valid tail and a
 * valid archive and check that whatever is accepted stays inside the file.
 * The call filter (x86-64 code) and payload_inflate: undone exactly in
 * pieces of any size, and every malformed entry refused.
 *
 * Why one file over 600 lines: it is the tests of one source file, mostly
 * tables of cases; split, a case would be harder to find than it is to scroll to.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/payload.h"

#include <zstd.h>

#define TAIL_SIZE (PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
#define STUB_LEN 1000
#define MAX_ENTRIES 8

/* ---- little-endian helpers ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

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

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint32_t crc32_of(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

/* ---- a bundle built by hand ---- */

struct zent {
    const char *name;
    uint16_t method; /* 0 stored, 8 "deflated" (the bytes are not inflated here) */
    const char *data;
    size_t len;
    uint32_t usize;  /* for method 8: the declared uncompressed size */
};

struct img {
    uint8_t *bytes;          /* the whole file (owned) */
    size_t size;
    uint64_t archive_offset; /* = STUB_LEN */
    uint64_t archive_size;
    uint64_t cd_rel;         /* central directory, relative to the archive */
    uint64_t cd_size;
    size_t n;
    uint64_t local_rel[MAX_ENTRIES]; /* each local header, relative to the archive */
    uint64_t cd_rec[MAX_ENTRIES];    /* each directory record, relative to the CD */
    uint64_t data_abs[MAX_ENTRIES];  /* each entry's data, absolute */
};

static const struct zent three[] = {
    {"_native/manifest", 0, "python 3.11\n", 12, 12},
    {"hello.pyc", 8, "\x01\x02\x03\x04\x05", 5, 40},
    {"_native/lib/libz.so.1", 0, "\x7f" "ELF\0\0zlib", 10, 10},
};

static void img_build(struct img *im, const struct zent *es, size_t n)
{
    size_t cap = STUB_LEN + TAIL_SIZE;
    uint8_t *b, *p;

    assert_true(n <= MAX_ENTRIES);
    for (size_t i = 0; i < n; i++)
        cap += 30 + 46 + 2 * strlen(es[i].name) + es[i].len;
    b = calloc(1, cap);
    assert_non_null(b);
    memset(im, 0, sizeof *im);
    memcpy(b, "\x7f" "ELF", 4);
    p = b + STUB_LEN;
    im->archive_offset = STUB_LEN;
    im->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(es[i].name);
        uint32_t usize = es[i].method == 0 ? (uint32_t)es[i].len : es[i].usize;
        im->local_rel[i] = (uint64_t)(p - b) - STUB_LEN;
        put32(p, 0x04034b50u);
        put16(p + 4, 20);
        put16(p + 8, es[i].method);
        put16(p + 10, 0);
        put16(p + 12, 0x21);
        put32(p + 14, crc32_of(es[i].data, es[i].len));
        put32(p + 18, (uint32_t)es[i].len);
        put32(p + 22, usize);
        put16(p + 26, (uint16_t)nl);
        put16(p + 28, 0);
        memcpy(p + 30, es[i].name, nl);
        im->data_abs[i] = (uint64_t)(p + 30 + nl - b);
        memcpy(p + 30 + nl, es[i].data, es[i].len);
        p += 30 + nl + es[i].len;
    }
    im->cd_rel = (uint64_t)(p - b) - STUB_LEN;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(es[i].name);
        uint32_t usize = es[i].method == 0 ? (uint32_t)es[i].len : es[i].usize;
        im->cd_rec[i] = (uint64_t)(p - b) - STUB_LEN - im->cd_rel;
        put32(p, 0x02014b50u);
        put16(p + 4, 0x031e);
        put16(p + 6, 20);
        put16(p + 10, es[i].method);
        put16(p + 14, 0x21);
        put32(p + 16, crc32_of(es[i].data, es[i].len));
        put32(p + 20, (uint32_t)es[i].len);
        put32(p + 24, usize);
        put16(p + 28, (uint16_t)nl);
        put32(p + 38, 0100644u << 16);
        put32(p + 42, (uint32_t)im->local_rel[i]);
        memcpy(p + 46, es[i].name, nl);
        p += 46 + nl;
    }
    im->cd_size = (uint64_t)(p - b) - STUB_LEN - im->cd_rel;
    put32(p, 0x06054b50u);
    put16(p + 8, (uint16_t)n);
    put16(p + 10, (uint16_t)n);
    put32(p + 12, (uint32_t)im->cd_size);
    put32(p + 16, (uint32_t)im->cd_rel);
    put16(p + 20, PAYLOAD_TRAILER_SIZE);
    p += PAYLOAD_EOCD_SIZE;
    im->archive_size = (uint64_t)(p - b) - STUB_LEN;

    struct payload_trailer t = {.version = PAYLOAD_VERSION,
                                .archive_offset = im->archive_offset,
                                .archive_size = im->archive_size};
    for (int i = 0; i < 32; i++)
        t.sha256[i] = (uint8_t)(0xa0 + i);
    payload_trailer_encode(&t, p);
    p += PAYLOAD_TRAILER_SIZE;
    im->bytes = b;
    im->size = (size_t)(p - b);
    assert_true(im->size <= cap);
}

static void img_free(struct img *im)
{
    free(im->bytes);
    im->bytes = NULL;
}

static uint8_t *img_tail(const struct img *im) { return im->bytes + im->size - TAIL_SIZE; }
static uint8_t *img_cd(const struct img *im) { return im->bytes + im->archive_offset + im->cd_rel; }
static uint8_t *img_cd_rec(const struct img *im, size_t i) { return img_cd(im) + im->cd_rec[i]; }
static uint8_t *img_local(const struct img *im, size_t i)
{
    return im->bytes + im->archive_offset + im->local_rel[i];
}

/* Decodes and locates; asserts both succeed. */
static void img_open(const struct img *im, struct payload_trailer *t, struct payload_cd *cd)
{
    const char *why = NULL;
    int rc = payload_trailer_decode(img_tail(im), im->size, t, &why);
    if (rc != 0)
        print_error("decode: %s\n", why);
    assert_int_equal(rc, 0);
    rc = payload_cd_locate(img_tail(im), t, cd, &why);
    if (rc != 0)
        print_error("locate: %s\n", why);
    assert_int_equal(rc, 0);
}

/* The directory in a buffer of exactly cd->size bytes, so an overread shows
 * under valgrind or ASan. */
static uint8_t *cd_copy(const uint8_t *file, const struct payload_cd *cd)
{
    uint8_t *buf = malloc(cd->size ? cd->size : 1);
    assert_non_null(buf);
    memcpy(buf, file + cd->offset, cd->size);
    return buf;
}

/* ---- trailer ---- */

static void test_trailer_encode_layout(void **state)
{
    (void)state;
    struct payload_trailer t = {.version = 0x01020304u, .flags = 0x0a0b0c0du,
                                .pyz_offset = 0x0102030405060708ull,
                                .pyz_size = 0x1112131415161718ull,
                                .archive_offset = 0x1122334455667788ull,
                                .archive_size = 0x99aabbccddeeff00ull};
    uint8_t out[PAYLOAD_TRAILER_SIZE];

    for (int i = 0; i < 32; i++)
        t.sha256[i] = (uint8_t)(i * 7 + 1);
    memset(out, 0xee, sizeof out);
    payload_trailer_encode(&t, out);
    assert_memory_equal(out, PAYLOAD_MAGIC, PAYLOAD_MAGIC_LEN);
    assert_memory_equal(out + 8, "\x04\x03\x02\x01", 4);
    assert_memory_equal(out + 12, "\x0d\x0c\x0b\x0a", 4);
    assert_memory_equal(out + 16, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    assert_memory_equal(out + 24, "\x18\x17\x16\x15\x14\x13\x12\x11", 8);
    assert_memory_equal(out + 32, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    assert_memory_equal(out + 40, "\x00\xff\xee\xdd\xcc\xbb\xaa\x99", 8);
    assert_memory_equal(out + 48, t.sha256, 32);
}

static void test_trailer_round_trip(void **state)
{
    (void)state;
    /* archive sizes from the smallest possible to one near the limits */
    static const struct { uint64_t off, size; } cases[] = {
        {0, PAYLOAD_EOCD_SIZE},
        {1000, PAYLOAD_EOCD_SIZE},
        {1000, 5000},
        {123456789, 987654321},
        {(uint64_t)1 << 40, (uint64_t)1 << 33},
        {UINT64_MAX / 2, UINT64_MAX / 2 - PAYLOAD_TRAILER_SIZE - 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct payload_trailer in = {.version = PAYLOAD_VERSION, .flags = 0,
                                     .archive_offset = cases[i].off, .archive_size = cases[i].size};
        struct payload_trailer out;
        uint8_t tail[TAIL_SIZE] = {0};
        const char *why = NULL;
        uint64_t file_size = cases[i].off + cases[i].size + PAYLOAD_TRAILER_SIZE;

        for (int k = 0; k < 32; k++)
            in.sha256[k] = (uint8_t)(i + k);
        put32(tail, 0x06054b50u);
        put16(tail + 20, PAYLOAD_TRAILER_SIZE);
        payload_trailer_encode(&in, tail + PAYLOAD_EOCD_SIZE);
        memset(&out, 0x55, sizeof out);
        int rc = payload_trailer_decode(tail, file_size, &out, &why);
        if (rc != 0)
            print_error("case %zu: %s\n", i, why);
        assert_int_equal(rc, 0);
        assert_int_equal(out.version, PAYLOAD_VERSION);
        assert_int_equal(out.flags, 0);
        assert_true(out.archive_offset == in.archive_offset);
        assert_true(out.archive_size == in.archive_size);
        assert_memory_equal(out.sha256, in.sha256, 32);
    }
}

/* One way to spoil a valid tail. */
struct tail_case {
    const char *what;
    int magic_byte;         /* >= 0: flip this byte of the magic */
    bool set_version;
    uint32_t version;
    bool set_off;
    uint64_t off;
    bool set_size;
    uint64_t size;
    int64_t size_delta;     /* added to the real archive size */
    int64_t file_delta;     /* added to the real file size */
    bool set_file;
    uint64_t file_size;
    bool set_sig;
    uint32_t sig;
    bool set_comment;
    uint16_t comment;
    bool set_pyz;
    uint64_t pyz_off, pyz_size;
    const char *why;        /* a word of the reason */
};

static void test_trailer_decode_rejects(void **state)
{
    (void)state;
    /* the valid image: archive_offset 1000, file size below */
    static const struct tail_case cases[] = {
        {"magic byte 0", .magic_byte = 0, .why = "trailer"},
        {"magic byte 3", .magic_byte = 3, .why = "trailer"},
        {"magic byte 7", .magic_byte = 7, .why = "trailer"},
        {"version 0", -1, .set_version = true, .version = 0, .why = "version"},
        {"version 1", -1, .set_version = true, .version = 1, .why = "version"},
        {"version 2 (before the CRC-32C check)", -1, .set_version = true, .version = 2, .why = "version"},
        {"version 3 (LZ4 modules)", -1, .set_version = true, .version = 3, .why = "version"},
        {"version 4 (no call filter)", -1, .set_version = true, .version = 4, .why = "version"},
        {"version 6", -1, .set_version = true, .version = 6, .why = "version"},
        {"version max", -1, .set_version = true, .version = UINT32_MAX, .why = "version"},
        {"version byte-swapped", -1, .set_version = true, .version = 0x01000000u, .why = "version"},
        {"offset past the end", -1, .set_off = true, .off = 1u << 30, .why = "bounds"},
        {"offset UINT64_MAX", -1, .set_off = true, .off = UINT64_MAX, .why = "bounds"},
        {"offset one too far", -1, .set_off = true, .off = 1001, .why = "bounds"},
        {"offset one too near", -1, .set_off = true, .off = 999, .why = "bounds"},
        {"size UINT64_MAX", -1, .set_size = true, .size = UINT64_MAX, .why = "bounds"},
        {"size 0", -1, .set_size = true, .size = 0, .why = "bounds"},
        {"size one too big", -1, .size_delta = 1, .why = "bounds"},
        {"size one too small", -1, .size_delta = -1, .why = "bounds"},
        {"size 21", -1, .set_off = true, .off = 0 /* patched */, .set_size = true, .size = 21,
         .why = "bounds"},
        {"offset and size wrap", -1, .set_off = true, .off = UINT64_MAX - 10, .set_size = true,
         .size = 11 + 1000, .why = "bounds"},
        {"file one byte longer", -1, .file_delta = 1, .why = "bounds"},
        {"file one byte shorter", -1, .file_delta = -1, .why = "bounds"},
        {"file size 0", -1, .set_file = true, .file_size = 0, .why = "small"},
        {"file size one short of a tail", -1, .set_file = true, .file_size = TAIL_SIZE - 1, .why = "small"},
        {"file size UINT64_MAX", -1, .set_file = true, .file_size = UINT64_MAX, .why = "bounds"},
        {"pyz past the archive", -1, .set_pyz = true, .pyz_off = 1001, .pyz_size = 0, .why = "blob"},
        {"pyz runs into the archive", -1, .set_pyz = true, .pyz_off = 10, .pyz_size = 991, .why = "blob"},
        {"pyz size wraps", -1, .set_pyz = true, .pyz_off = 10, .pyz_size = UINT64_MAX - 5, .why = "blob"},
        {"pyz offset UINT64_MAX", -1, .set_pyz = true, .pyz_off = UINT64_MAX, .pyz_size = 1, .why = "blob"},
        {"no EOCD signature", -1, .set_sig = true, .sig = 0, .why = "end record"},
        {"local header signature as EOCD", -1, .set_sig = true, .sig = 0x04034b50u, .why = "end record"},
        {"zip64 EOCD signature", -1, .set_sig = true, .sig = 0x06064b50u, .why = "end record"},
        {"comment length 0", -1, .set_comment = true, .comment = 0, .why = "end record"},
        {"comment length 79 (the trailer before format 3)", -1, .set_comment = true, .comment = 79,
         .why = "end record"},
        {"comment length 95", -1, .set_comment = true, .comment = 95, .why = "end record"},
        {"comment length 97", -1, .set_comment = true, .comment = 97, .why = "end record"},
        {"comment length 0xffff", -1, .set_comment = true, .comment = 0xffff, .why = "end record"},
    };
    struct img im;

    img_build(&im, three, 3);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct tail_case *c = &cases[i];
        uint8_t tail[TAIL_SIZE];
        uint8_t *tr = tail + PAYLOAD_EOCD_SIZE;
        uint64_t file_size = c->set_file ? c->file_size : im.size + (uint64_t)c->file_delta;
        struct payload_trailer t;
        const char *why = NULL;

        memcpy(tail, img_tail(&im), TAIL_SIZE);
        if (c->magic_byte >= 0)
            tr[c->magic_byte] ^= 0x20;
        if (c->set_version)
            put32(tr + 8, c->version);
        if (c->set_off)
            put64(tr + 32, c->off);
        if (c->set_size)
            put64(tr + 40, c->size);
        if (c->size_delta)
            put64(tr + 40, im.archive_size + (uint64_t)c->size_delta);
        if (c->set_off && c->set_size && c->size == 21)
            /* offset and size add up to the file; only the size is too small */
            put64(tr + 32, im.size - PAYLOAD_TRAILER_SIZE - 21);
        if (c->set_pyz) {
            put64(tr + 16, c->pyz_off);
            put64(tr + 24, c->pyz_size);
        }
        if (c->set_sig)
            put32(tail, c->sig);
        if (c->set_comment)
            put16(tail + 20, c->comment);
        int rc = payload_trailer_decode(tail, file_size, &t, &why);
        if (rc != -1 || !why || !strstr(why, c->why))
            print_error("case '%s': rc %d, why '%s'\n", c->what, rc, why ? why : "(null)");
        assert_int_equal(rc, -1);
        assert_non_null(why);
        assert_non_null(strstr(why, c->why));
    }
    /* and the untouched tail is accepted, so the cases above test one thing */
    {
        struct payload_trailer t;
        const char *why = NULL;
        assert_int_equal(payload_trailer_decode(img_tail(&im), im.size, &t, &why), 0);
        assert_true(t.archive_offset == STUB_LEN);
        assert_true(t.archive_size == im.archive_size);
    }
    img_free(&im);
}

/* ---- central directory location ---- */

static void test_cd_locate(void **state)
{
    (void)state;
    struct img im;
    struct payload_trailer t;
    struct payload_cd cd;
    const char *why = NULL;

    img_build(&im, three, 3);
    img_open(&im, &t, &cd);
    assert_true(cd.offset == im.archive_offset + im.cd_rel);
    assert_true(cd.size == im.cd_size);
    assert_true(cd.count == 3);

    /* edge: an empty directory right before the EOCD */
    {
        uint8_t tail[TAIL_SIZE];
        memcpy(tail, img_tail(&im), TAIL_SIZE);
        put16(tail + 8, 0);
        put16(tail + 10, 0);
        put32(tail + 12, 0);
        put32(tail + 16, (uint32_t)(im.archive_size - PAYLOAD_EOCD_SIZE));
        assert_int_equal(payload_cd_locate(tail, &t, &cd, &why), 0);
        assert_true(cd.size == 0);
        assert_true(cd.offset == im.archive_offset + im.archive_size - PAYLOAD_EOCD_SIZE);
    }
    img_free(&im);
}

static void test_cd_locate_rejects(void **state)
{
    (void)state;
    struct img im;
    img_build(&im, three, 3);
    const uint32_t eocd_rel = (uint32_t)(im.archive_size - PAYLOAD_EOCD_SIZE);
    const struct {
        const char *what;
        uint32_t cd_off, cd_size;
        uint16_t disk, cd_disk, n_disk, n_total;
        const char *why;
    } cases[] = {
        {"offset past the EOCD", eocd_rel + 1, 0, 0, 0, 3, 3, "outside"},
        {"offset far away", 0x7fffffffu, 10, 0, 0, 3, 3, "outside"},
        {"offset 0xffffffff (zip64 marker)", 0xffffffffu, (uint32_t)im.cd_size, 0, 0, 3, 3, "outside"},
        {"size runs into the EOCD", (uint32_t)im.cd_rel, (uint32_t)im.cd_size + 1, 0, 0, 3, 3, "outside"},
        {"size 0xffffffff", (uint32_t)im.cd_rel, 0xffffffffu, 0, 0, 3, 3, "outside"},
        {"offset+size wrap 32 bits", 0x80000000u, 0x80000000u, 0, 0, 3, 3, "outside"},
        {"size past with offset 0", 0, eocd_rel + 1, 0, 0, 3, 3, "outside"},
        {"multi-disk", (uint32_t)im.cd_rel, (uint32_t)im.cd_size, 1, 0, 3, 3, "disk"},
        {"directory on another disk", (uint32_t)im.cd_rel, (uint32_t)im.cd_size, 0, 1, 3, 3, "disk"},
        {"counts disagree", (uint32_t)im.cd_rel, (uint32_t)im.cd_size, 0, 0, 2, 3, "disagree"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t tail[TAIL_SIZE];
        struct payload_trailer t;
        struct payload_cd cd;
        const char *why = NULL;

        memcpy(tail, img_tail(&im), TAIL_SIZE);
        put16(tail + 4, cases[i].disk);
        put16(tail + 6, cases[i].cd_disk);
        put16(tail + 8, cases[i].n_disk);
        put16(tail + 10, cases[i].n_total);
        put32(tail + 12, cases[i].cd_size);
        put32(tail + 16, cases[i].cd_off);
        /* the trailer is untouched: decode still passes */
        assert_int_equal(payload_trailer_decode(tail, im.size, &t, &why), 0);
        int rc = payload_cd_locate(tail, &t, &cd, &why);
        if (rc != -1 || !strstr(why, cases[i].why))
            print_error("case '%s': rc %d, why '%s'\n", cases[i].what, rc, why ? why : "(null)");
        assert_int_equal(rc, -1);
        assert_non_null(strstr(why, cases[i].why));
    }
    img_free(&im);
}

/* ---- the stub's walk, with every invariant checked ---- */

/* Walks file[0..size) as the stub does.  Returns the number of entries
 * accepted (with data located), or -1 when anything was refused.  Fails the
 * test if anything accepted lies outside the file. */
static int walk_checked(const uint8_t *file, size_t size, uint64_t claimed_size,
                        struct payload_entry *out, size_t max_out)
{
    struct payload_trailer t;
    struct payload_cd cd;
    struct payload_entry e;
    const char *why = NULL;
    uint8_t *buf;
    size_t pos = 0, n = 0;
    int r;

    if (size < TAIL_SIZE)
        return -1;
    if (payload_trailer_decode(file + size - TAIL_SIZE, claimed_size, &t, &why) != 0) {
        assert_non_null(why);
        return -1;
    }
    /* the trailer's archive lies in the file, ending at the trailer */
    assert_true(t.archive_size >= PAYLOAD_EOCD_SIZE);
    assert_true(t.archive_offset <= claimed_size);
    assert_true(t.archive_size <= claimed_size - t.archive_offset);
    assert_true(t.archive_offset + t.archive_size + PAYLOAD_TRAILER_SIZE == claimed_size);
    assert_int_equal(t.version, PAYLOAD_VERSION);
    if (claimed_size != size)
        return -1; /* the rest reads the file itself */
    if (payload_cd_locate(file + size - TAIL_SIZE, &t, &cd, &why) != 0) {
        assert_non_null(why);
        return -1;
    }
    const uint64_t eocd_abs = t.archive_offset + t.archive_size - PAYLOAD_EOCD_SIZE;
    assert_true(cd.offset >= t.archive_offset);
    assert_true(cd.offset <= eocd_abs);
    assert_true(cd.size <= eocd_abs - cd.offset);

    buf = cd_copy(file, &cd);
    while ((r = payload_cd_next(buf, &cd, &t, &pos, &e, &why)) == 1) {
        uint64_t data;
        /* the record and its name lie inside the directory buffer */
        assert_true(pos <= cd.size);
        assert_true((const uint8_t *)e.name >= buf + 46);
        assert_true((const uint8_t *)e.name + e.name_len <= buf + pos);
        /* the local header lies between the archive start and the directory */
        assert_true(e.header_offset >= t.archive_offset);
        assert_true(e.header_offset <= cd.offset);
        assert_true(cd.offset - e.header_offset >= 30);
        assert_true(e.csize != 0xffffffffu && e.usize != 0xffffffffu);
        if (payload_entry_data(file + e.header_offset, &e, &t, &data, &why) != 0) {
            assert_non_null(why);
            free(buf);
            return -1;
        }
        /* the data lies inside the archive */
        assert_true(data >= e.header_offset + 30);
        assert_true(data <= t.archive_offset + t.archive_size);
        assert_true(e.csize <= t.archive_offset + t.archive_size - data);
        if (e.method == 0)
            assert_true(e.csize == e.usize);
        if (out && n < max_out)
            out[n] = e;
        n++;
        assert_true(n <= cd.size / 46); /* every record takes 46 bytes at least */
    }
    if (r == 0)
        assert_true(pos == cd.size);
    else
        assert_non_null(why);
    free(buf);
    return r == 0 ? (int)n : -1;
}

static void test_cd_walk_valid(void **state)
{
    (void)state;
    struct img im;
    struct payload_trailer t;
    struct payload_cd cd;
    struct payload_entry e;
    const char *why = NULL;
    size_t pos = 0, k = 0;
    uint8_t *buf;
    int r;

    img_build(&im, three, 3);
    img_open(&im, &t, &cd);
    buf = cd_copy(im.bytes, &cd);
    while ((r = payload_cd_next(buf, &cd, &t, &pos, &e, &why)) == 1) {
        uint64_t data = 0;
        assert_true(k < 3);
        assert_int_equal(e.name_len, strlen(three[k].name));
        assert_memory_equal(e.name, three[k].name, e.name_len);
        assert_int_equal(e.method, three[k].method);
        assert_int_equal(e.crc32, crc32_of(three[k].data, three[k].len));
        assert_true(e.csize == three[k].len);
        assert_true(e.usize == (three[k].method ? three[k].usize : three[k].len));
        assert_true(e.header_offset == im.archive_offset + im.local_rel[k]);
        assert_int_equal(payload_entry_data(im.bytes + e.header_offset, &e, &t, &data, &why), 0);
        assert_true(data == im.data_abs[k]);
        assert_memory_equal(im.bytes + data, three[k].data, three[k].len);
        k++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(k, 3);
    assert_int_equal(pos, cd.size);
    /* at the end it stays at the end */
    assert_int_equal(payload_cd_next(buf, &cd, &t, &pos, &e, &why), 0);
    free(buf);
    assert_int_equal(walk_checked(im.bytes, im.size, im.size, NULL, 0), 3);
    img_free(&im);
}

/* Spoils directory record `rec` of a fresh image. */
struct cd_case {
    const char *what;
    size_t rec;
    size_t field;     /* byte offset in the record */
    int width;        /* 2 or 4; 0: none */
    uint32_t value;
    int64_t cd_size_delta; /* applied to the EOCD's directory size (and the file) */
    const char *why;
};

static void test_cd_next_rejects(void **state)
{
    (void)state;
    struct img probe_im;
    img_build(&probe_im, three, 3);
    /* the 2nd record starts right after the first (46 + name) */
    const uint32_t cd_rel = (uint32_t)probe_im.cd_rel;
    img_free(&probe_im);

    const struct cd_case cases[] = {
        {"bad signature", 0, 0, 4, 0x02014b51u, 0, "signature"},
        {"local signature in the directory", 0, 0, 4, 0x04034b50u, 0, "signature"},
        {"EOCD signature in the directory", 1, 0, 4, 0x06054b50u, 0, "signature"},
        {"bad signature on the last record", 2, 0, 4, 0, 0, "signature"},
        {"name runs past the end", 2, 28, 2, 0xffff, 0, "past"},
        {"name one byte too long", 2, 28, 2, 22, 0, "past"},
        {"extra runs past the end", 2, 30, 2, 1, 0, "past"},
        {"extra 0xffff", 0, 30, 2, 0xffff, 0, "past"},
        {"comment runs past the end", 2, 32, 2, 1, 0, "past"},
        {"comment 0xffff", 1, 32, 2, 0xffff, 0, "past"},
        {"zip64 csize", 0, 20, 4, 0xffffffffu, 0, "zip64"},
        {"zip64 usize", 1, 24, 4, 0xffffffffu, 0, "zip64"},
        {"zip64 header offset", 2, 42, 4, 0xffffffffu, 0, "zip64"},
        {"header offset at the directory", 0, 42, 4, cd_rel, 0, "outside"},
        {"header offset 29 before the directory", 1, 42, 4, cd_rel - 29, 0, "outside"},
        {"header offset inside the directory", 1, 42, 4, cd_rel + 10, 0, "outside"},
        {"header offset past the archive", 2, 42, 4, 0x7fffffffu, 0, "outside"},
        {"truncated: directory one byte short", 2, 0, 0, 0, -1, "past"},
        {"truncated: last record cut to 45 bytes", 2, 0, 0, 0, -(46 + 21 - 45), "truncated"},
        {"truncated: last record cut to 1 byte", 2, 0, 0, 0, -(46 + 21 - 1), "truncated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct cd_case *c = &cases[i];
        struct img im;
        struct payload_trailer t;
        struct payload_cd cd;
        struct payload_entry e;
        const char *why = NULL;
        size_t pos = 0, k = 0;
        uint8_t *buf;
        int r;

        img_build(&im, three, 3);
        uint8_t *rec = img_cd_rec(&im, c->rec);
        if (c->width == 2)
            put16(rec + c->field, (uint16_t)c->value);
        else if (c->width == 4)
            put32(rec + c->field, c->value);
        img_open(&im, &t, &cd);
        /* a shorter directory: only the walker's view shrinks */
        cd.size = (uint64_t)((int64_t)cd.size + c->cd_size_delta);
        buf = cd_copy(im.bytes, &cd);
        while ((r = payload_cd_next(buf, &cd, &t, &pos, &e, &why)) == 1)
            k++;
        if (r != -1 || k != c->rec || !why || !strstr(why, c->why))
            print_error("case '%s': r %d after %zu records, why '%s'\n", c->what, r, k,
                        why ? why : "(null)");
        assert_int_equal(r, -1);
        assert_int_equal(k, c->rec); /* the records before it were fine */
        assert_non_null(strstr(why, c->why));
        free(buf);
        img_free(&im);
    }
}

static void test_entry_data_rejects(void **state)
{
    (void)state;
    const struct {
        const char *what;
        size_t entry;
        size_t field;       /* in the local header; SIZE_MAX: in the directory entry */
        int width;
        uint32_t value;
        int e_field;        /* 1 csize, 2 usize, 3 method of the directory entry */
        uint64_t e_value;
        const char *why;
    } cases[] = {
        {"bad local signature", 0, 0, 4, 0x02014b50u, 0, 0, "signature"},
        {"zeroed local signature", 1, 0, 4, 0, 0, 0, "signature"},
        {"local name length past the end", 2, 26, 2, 0xffff, 0, 0, "outside"},
        {"local extra length past the end", 2, 28, 2, 0xffff, 0, 0, "outside"},
        {"csize past the end", 2, SIZE_MAX, 0, 0, 1, 1000000, "outside"},
        {"csize just past the end", 2, SIZE_MAX, 0, 0, 1, 0 /* patched */, "outside"},
        {"csize 2^63", 2, SIZE_MAX, 0, 0, 1, (uint64_t)1 << 63, "outside"},
        {"csize UINT64_MAX", 0, SIZE_MAX, 0, 0, 1, UINT64_MAX, "outside"},
        {"stored csize > usize", 0, SIZE_MAX, 0, 0, 2, 11, "disagree"},
        {"stored csize < usize", 2, SIZE_MAX, 0, 0, 2, 11, "disagree"},
        {"stored, usize 0", 0, SIZE_MAX, 0, 0, 2, 0, "disagree"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct img im;
        struct payload_trailer t;
        struct payload_cd cd;
        struct payload_entry e, all[3];
        const char *why = NULL;
        uint64_t data = 12345;

        img_build(&im, three, 3);
        img_open(&im, &t, &cd);
        assert_int_equal(walk_checked(im.bytes, im.size, im.size, all, 3), 3);
        e = all[cases[i].entry];
        if (cases[i].width == 2)
            put16(img_local(&im, cases[i].entry) + cases[i].field, (uint16_t)cases[i].value);
        else if (cases[i].width == 4)
            put32(img_local(&im, cases[i].entry) + cases[i].field, cases[i].value);
        if (cases[i].e_field == 1)
            e.csize = cases[i].e_value ? cases[i].e_value
                                       : t.archive_offset + t.archive_size - im.data_abs[cases[i].entry] + 1;
        else if (cases[i].e_field == 2)
            e.usize = cases[i].e_value;
        int rc = payload_entry_data(img_local(&im, cases[i].entry), &e, &t, &data, &why);
        if (rc != -1 || !why || !strstr(why, cases[i].why))
            print_error("case '%s': rc %d, why '%s'\n", cases[i].what, rc, why ? why : "(null)");
        assert_int_equal(rc, -1);
        assert_non_null(strstr(why, cases[i].why));
        assert_true(data == 12345); /* untouched on failure */
        img_free(&im);
    }
}

static void test_entry_data_edges(void **state)
{
    (void)state;
    struct img im;
    struct payload_trailer t;
    struct payload_cd cd;
    struct payload_entry all[3], e;
    const char *why = NULL;
    uint64_t data = 0;

    img_build(&im, three, 3);
    img_open(&im, &t, &cd);
    assert_int_equal(walk_checked(im.bytes, im.size, im.size, all, 3), 3);
    /* a deflated entry may have csize != usize */
    assert_int_equal(all[1].method, 8);
    assert_true(all[1].csize != all[1].usize);
    assert_int_equal(payload_entry_data(img_local(&im, 1), &all[1], &t, &data, &why), 0);
    /* data running exactly to the end of the archive is inside */
    e = all[2];
    e.method = 8;
    e.csize = t.archive_offset + t.archive_size - im.data_abs[2];
    assert_int_equal(payload_entry_data(img_local(&im, 2), &e, &t, &data, &why), 0);
    assert_true(data == im.data_abs[2]);
    /* local extra bytes move the data */
    put16(img_local(&im, 2) + 28, 4);
    e = all[2];
    assert_int_equal(payload_entry_data(img_local(&im, 2), &e, &t, &data, &why), 0);
    assert_true(data == im.data_abs[2] + 4);
    img_free(&im);
}

/* ---- paths ---- */

static void test_path_safe(void **state)
{
    (void)state;
    static char long_ok[PAYLOAD_PATH_MAX + 1], long_bad[PAYLOAD_PATH_MAX + 2], huge[2001];
    memset(long_ok, 'a', PAYLOAD_PATH_MAX);
    memset(long_bad, 'a', PAYLOAD_PATH_MAX + 1);
    memset(huge, 'b', 2000);
    for (int i = 100; i < 2000; i += 100)
        huge[i] = '/';
    const struct {
        const char *p;
        size_t len; /* 0: strlen */
        int ok;
    } cases[] = {
        {"a", 0, 1},
        {"a/b", 0, 1},
        {"lib/libpython3.11.so.1.0", 0, 1},
        {"a.b/c..d/...", 0, 1},
        {".hidden/..x/x..", 0, 1},
        {long_ok, 0, 1},
        {"", 0, 0},
        {"/abs", 0, 0},
        {"/", 0, 0},
        {"..", 0, 0},
        {".", 0, 0},
        {"../a", 0, 0},
        {"a/..", 0, 0},
        {"a/../b", 0, 0},
        {"a/./b", 0, 0},
        {"./a", 0, 0},
        {"a/.", 0, 0},
        {"a//b", 0, 0},
        {"a/", 0, 0},
        {"a\\b", 0, 0},
        {"..\\a", 0, 0},
        {"a\0b", 3, 0},
        {"a/\0", 3, 0},
        {"\0", 1, 0},
        {long_bad, 0, 0},
        {huge, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].p);
        /* a copy of exactly len bytes: the check must not read past it */
        char *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, cases[i].p, len);
        int got = payload_path_safe(copy, len);
        if (got != cases[i].ok)
            print_error("case %zu '%.*s' (%zu bytes): got %d\n", i, (int)(len > 60 ? 60 : len),
                        cases[i].p, len, got);
        assert_int_equal(got, cases[i].ok);
        free(copy);
    }
    /* a safe prefix does not make a longer unsafe name safe, and vice versa */
    assert_int_equal(payload_path_safe("a/b/../c", 3), 1);
    assert_int_equal(payload_path_safe("a/b/../c", 6), 0);
}

/* ---- fuzz ---- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic across platforms */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void mutate(uint8_t *p, size_t len, size_t from, uint64_t archive_size)
{
    static const uint32_t interesting[] = {0, 1, 21, 22, 29, 30, 45, 46, 64, 0x7f, 0x80, 0xff,
                                           0xffff, 0x10000, 0x7fffffff, 0x80000000u, 0xffffffffu};
    size_t at = from + (size_t)(rnd() % (len - from));
    switch (rnd() % 6) {
    case 0:
        p[at] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1:
        p[at] = (uint8_t)rnd();
        break;
    case 2:
        if (at + 2 <= len)
            put16(p + at, (uint16_t)interesting[rnd() % (sizeof interesting / sizeof *interesting)]);
        break;
    case 3:
        if (at + 4 <= len)
            put32(p + at, interesting[rnd() % (sizeof interesting / sizeof *interesting)]);
        break;
    case 4:
        /* a value near a real size: off-by-few errors */
        if (at + 4 <= len)
            put32(p + at, (uint32_t)(archive_size + rnd() % 64 - 32));
        break;
    default:
        if (at + 8 <= len)
            put64(p + at, rnd() % 3 == 0 ? UINT64_MAX - rnd() % 100 : get64(p + at) + rnd() % 64 - 32);
        break;
    }
}

static void test_fuzz_tail(void **state)
{
    (void)state;
    struct img im;
    int accepted = 0, located = 0;

    rng_state = 0x9e3779b97f4a7c15ull;
    img_build(&im, three, 3);
    for (int iter = 0; iter < 200000; iter++) {
        uint8_t tail[TAIL_SIZE];
        struct payload_trailer t;
        struct payload_cd cd;
        const char *why = NULL;
        uint64_t file_size = im.size;

        memcpy(tail, img_tail(&im), TAIL_SIZE);
        int nmut = 1 + (int)(rnd() % 4);
        for (int k = 0; k < nmut; k++)
            mutate(tail, TAIL_SIZE, 0, im.archive_size);
        if (rnd() % 8 == 0)
            file_size = rnd() % 4 == 0 ? rnd() : im.size + rnd() % 64 - 32;
        if (payload_trailer_decode(tail, file_size, &t, &why) != 0) {
            assert_non_null(why);
            continue;
        }
        accepted++;
        assert_memory_equal(tail + PAYLOAD_EOCD_SIZE, PAYLOAD_MAGIC, PAYLOAD_MAGIC_LEN);
        assert_int_equal(t.version, PAYLOAD_VERSION);
        assert_true(t.archive_size >= PAYLOAD_EOCD_SIZE);
        assert_true(t.archive_offset <= file_size);
        assert_true(t.archive_size <= file_size - t.archive_offset);
        assert_true(t.archive_offset + t.archive_size + PAYLOAD_TRAILER_SIZE == file_size);
        assert_int_equal(get32(tail), 0x06054b50u);
        if (payload_cd_locate(tail, &t, &cd, &why) != 0) {
            assert_non_null(why);
            continue;
        }
        located++;
        assert_true(cd.offset >= t.archive_offset);
        assert_true(cd.offset <= t.archive_offset + t.archive_size - PAYLOAD_EOCD_SIZE);
        assert_true(cd.size <= t.archive_offset + t.archive_size - PAYLOAD_EOCD_SIZE - cd.offset);
    }
    /* the loop reached the interesting code, not only the magic check */
    print_message("tail fuzz: %d decoded, %d located of 200000\n", accepted, located);
    assert_true(accepted > 100);
    assert_true(located > 50);
    img_free(&im);
}

static void test_fuzz_archive(void **state)
{
    (void)state;
    static const struct zent many[] = {
        {"_native/manifest", 0, "python 3.11\npreload lib/a.so\n", 29, 29},
        {"a.pyc", 8, "deflated?", 9, 100},
        {"_native/lib/a.so", 0, "", 0, 0},
        {"pkg/", 0, "", 0, 0},
        {"pkg/__init__.pyc", 8, "xx", 2, 3},
    };
    struct img base;
    int full = 0, refused = 0;

    rng_state = 0x0123456789abcdefull;
    img_build(&base, many, 5);
    assert_int_equal(walk_checked(base.bytes, base.size, base.size, NULL, 0), 5);
    const size_t zip_start = STUB_LEN;
    const size_t cd_start = STUB_LEN + (size_t)base.cd_rel;
    for (int iter = 0; iter < 100000; iter++) {
        uint8_t *f = malloc(base.size);
        assert_non_null(f);
        memcpy(f, base.bytes, base.size);
        int nmut = 1 + (int)(rnd() % 6);
        for (int k = 0; k < nmut; k++) {
            /* mostly the directory and EOCD, sometimes the local headers */
            size_t from = rnd() % 4 == 0 ? zip_start : cd_start;
            mutate(f, base.size - PAYLOAD_TRAILER_SIZE, from, base.archive_size);
        }
        int r = walk_checked(f, base.size, base.size, NULL, 0);
        if (r >= 0)
            full++;
        else
            refused++;
        free(f);
    }
    print_message("archive fuzz: %d walked, %d refused of 100000\n", full, refused);
    assert_true(full > 0 && refused > 0);
    img_free(&base);
}

/* The module blob's parts and frames, as the stub and bundle verify read
 * them: every bound, the dictionary's magic, the frame's. */
static void test_pyz_parts(void **state)
{
    static const uint8_t dict_magic[4] = {0x37, 0xa4, 0x30, 0xec};
    uint8_t b[64] = {0};
    struct payload_pyz pz;
    const char *why;
    (void)state;

    /* index of 2 bytes "{0", no dictionary */
    memcpy(b, "\x02\x00\x00\x00{0\x00\x00\x00\x00", 10);
    assert_int_equal(payload_pyz_parts(b, 10, &pz, &why), 0);
    assert_int_equal(pz.index_len, 2);
    assert_ptr_equal(pz.index, b + 4);
    assert_null(pz.dict);
    for (uint64_t n = 0; n < 10; n++) /* cut anywhere: refused */
        assert_int_equal(payload_pyz_parts(b, n, &pz, &why), -1);
    b[0] = 0xff; /* an index larger than the blob */
    assert_int_equal(payload_pyz_parts(b, 10, &pz, &why), -1);
    b[0] = 2;
    /* a dictionary of 12 bytes with its magic; then without it, too short, too long */
    b[6] = 12;
    memcpy(b + 10, dict_magic, 4);
    assert_int_equal(payload_pyz_parts(b, 22, &pz, &why), 0);
    assert_ptr_equal(pz.dict, b + 10);
    assert_int_equal(pz.dict_len, 12);
    assert_int_equal(payload_pyz_parts(b, 21, &pz, &why), -1);
    b[10] ^= 1;
    assert_int_equal(payload_pyz_parts(b, 22, &pz, &why), -1);
    assert_non_null(strstr(why, "dictionary"));
    b[10] ^= 1;
    b[6] = 4;
    assert_int_equal(payload_pyz_parts(b, 22, &pz, &why), -1);
    b[6] = 0xff;
    b[7] = 0xff;
    b[8] = 0xff;
    b[9] = 0xff;
    assert_int_equal(payload_pyz_parts(b, 22, &pz, &why), -1);

    /* frames: a real one; cut, with a byte after it, skippable, not zstd */
    uint8_t f[128];
    uint64_t n;
    size_t len = ZSTD_compress(f, sizeof f - 8, "print(1)\n", 9, 3);
    assert_false(ZSTD_isError(len));
    assert_int_equal(payload_module_frame(f, len, &n), 0);
    assert_int_equal(n, 9);
    assert_int_equal(payload_module_frame(f, len - 1, &n), -1);
    assert_int_equal(payload_module_frame(f, len + 1, &n), -1);
    assert_int_equal(payload_module_frame(f, 3, &n), -1);
    static const uint8_t skippable[8] = {0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0};
    assert_int_equal(payload_module_frame(skippable, sizeof skippable, &n), -1);
    f[0] = 0x27; /* zstd v0.7's magic */
    assert_int_equal(payload_module_frame(f, len, &n), -1);
}

/* A pseudo-random buffer of n bytes in which about one byte in 16 is
 * E8 (a call): a third of those call into [0, n) (what the filter is
 * for), a third hold what the filter makes of such a call (data that
 * looks filtered already), the rest anything. */
static void fill_code(uint8_t *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
        if ((seed >> 8) % 16 == 0 && i + 5 <= n) {
            b[i] = 0xe8;
            uint32_t kind = (seed >> 4) % 3;
            uint32_t x = kind == 0   ? (uint32_t)((seed >> 3) % n) - (uint32_t)(i + 5)
                         : kind == 1 ? (1u << 30) + (uint32_t)((seed >> 3) % n)
                                     : seed * 2654435761u;
            memcpy(b + i + 1, &x, 4); /* little-endian host */
            i += 4;
        }
    }
}

static void test_calls_round_trip(void **state)
{
    enum { N = 70000 };
    static uint8_t orig[N], b[N], chunk[N];
    (void)state;

    for (uint32_t seed = 1; seed <= 8; seed++) {
        fill_code(orig, N, seed);
        /* three ranges: the whole buffer, its middle, its last 5 bytes */
        uint64_t ranges[3][2] = {{0, N}, {1000, 50000}, {N - 5, N}};
        for (int r = 0; r < 3; r++) {
            struct payload_calls c = {ranges[r][0], ranges[r][1], ranges[r][0]};
            memcpy(b, orig, N);
            assert_int_equal(payload_calls_run(&c, b, 0, N), N); /* whole: nothing held back */
            if (r == 0)
                assert_memory_not_equal(b, orig, N);
            assert_memory_equal(b, orig, ranges[r][0]); /* nothing outside the range */
            assert_memory_equal(b + ranges[r][1], orig + ranges[r][1], N - ranges[r][1]);
            /* undone in pieces as the stub's stream gives them, carrying
             * what is held back: every size from 1 to 37 bytes for the
             * first buffer, one size for each other */
            for (size_t piece = seed == 1 ? 1 : 1 + seed * 5 % 37; piece <= (seed == 1 ? 37 : 1 + seed * 5 % 37);
                 piece++) {
                struct payload_calls u = {ranges[r][0], ranges[r][1], ranges[r][0]};
                size_t keep = 0, done = 0, in = 0;
                while (in < N || keep) {
                    size_t n = N - in < piece ? N - in : piece;
                    memcpy(chunk + keep, b + in, n);
                    in += n;
                    size_t have = keep + n, fin = payload_calls_run(&u, chunk, done, have);
                    assert_true(have - fin <= 4);
                    assert_memory_equal(chunk, orig + done, fin);
                    done += fin;
                    keep = have - fin;
                    memmove(chunk, chunk + fin, keep);
                    if (in == N && keep)
                        fail_msg("bytes held back at the end: %zu", keep);
                }
                assert_int_equal(done, N);
            }
        }
    }
}

static void test_calls_same_target(void **state)
{
    /* two calls of one function from different places: the same bytes
     * once filtered (the point of the filter) */
    uint8_t b[64] = {0};
    struct payload_calls c = {0, sizeof b, 0};
    (void)state;

    b[4] = 0xe8;
    b[4 + 1] = 40 - 9; /* to 40 from 9 */
    b[20] = 0xe8;
    b[20 + 1] = 40 - 25;
    payload_calls_run(&c, b, 0, sizeof b);
    assert_memory_equal(b + 5, b + 21, 4);
    assert_int_equal(b[5], 40);
    assert_int_equal(b[8], 0x40); /* the bias */
}

static void test_calls_header(void **state)
{
    uint8_t h[8] = {0x10, 0, 0, 0, 0x20, 0, 0, 0}; /* off 16, len 32 */
    struct payload_calls c;
    (void)state;

    assert_int_equal(payload_calls_header(h, 8, 48, &c), 0);
    assert_int_equal(c.off, 16);
    assert_int_equal(c.end, 48);
    assert_int_equal(c.next, 16);
    assert_int_equal(payload_calls_header(h, 7, 48, &c), -1);  /* cut */
    assert_int_equal(payload_calls_header(h, 8, 47, &c), -1);  /* past the file */
    h[4] = 4;
    assert_int_equal(payload_calls_header(h, 8, 48, &c), -1);  /* shorter than a call */
    h[4] = 0x20;
    h[0] = 0xff, h[1] = 0xff, h[2] = 0xff, h[3] = 0xff;
    assert_int_equal(payload_calls_header(h, 8, 48, &c), -1);  /* off past the file */
    h[0] = 0, h[1] = 0, h[2] = 0, h[3] = 0;
    h[7] = 0x20; /* len 2^29 + 32: over the limit */
    assert_int_equal(payload_calls_header(h, 8, UINT64_MAX, &c), -1);
}

struct collect {
    uint8_t *p;
    size_t n, cap;
    int fail_at; /* the call that fails, 0: none */
};

static int collect_sink(void *ctx, const uint8_t *p, size_t n)
{
    struct collect *k = ctx;
    if (--k->fail_at == 0 || n > k->cap - k->n)
        return -1;
    memcpy(k->p + k->n, p, n);
    k->n += n;
    return 0;
}

static void test_inflate(void **state)
{
    enum { N = 300000 };
    static uint8_t orig[N], filt[N], data[8 + N + 1024], out[N], buf[4096];
    ZSTD_DCtx *d = ZSTD_createDCtx();
    (void)state;

    fill_code(orig, N, 99);
    struct payload_calls c = {100, N - 100, 100};
    memcpy(filt, orig, N);
    payload_calls_run(&c, filt, 0, N);
    data[0] = 100, data[1] = 0, data[2] = 0, data[3] = 0;
    uint32_t len = N - 200;
    memcpy(data + 4, &len, 4);
    size_t z = ZSTD_compress(data + 8, sizeof data - 8, filt, N, 3);
    assert_false(ZSTD_isError(z));

    struct collect k = {out, 0, N, 0};
    assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z, N, buf, sizeof buf, collect_sink, &k), 0);
    assert_int_equal(k.n, N);
    assert_memory_equal(out, orig, N);
    /* the frame alone, as method 93: the filtered bytes */
    k = (struct collect){out, 0, N, 0};
    assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD, data + 8, z, N, buf, sizeof buf, collect_sink, &k), 0);
    assert_memory_equal(out, filt, N);
    /* refused: cut anywhere, a byte too many, the wrong size, another method */
    for (size_t cut = 0; cut < 8 + z; cut += 1 + cut / 16) {
        k = (struct collect){out, 0, N, 0};
        assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, cut, N, buf, sizeof buf, collect_sink, &k), -1);
    }
    k = (struct collect){out, 0, N, 0};
    assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z + 1, N, buf, sizeof buf, collect_sink, &k), -1);
    for (uint64_t size = N - 1; size <= N + 1; size += 2) {
        k = (struct collect){out, 0, N, 0};
        assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z, size, buf, sizeof buf, collect_sink, &k), -1);
    }
    k = (struct collect){out, 0, N, 0};
    assert_int_equal(payload_inflate(d, 8, data + 8, z, N, buf, sizeof buf, collect_sink, &k), -1);
    /* a range past the file in the header */
    data[6] = 0x10;
    assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z, N, buf, sizeof buf, collect_sink, &k), -1);
    data[6] = 0;
    /* the sink's failure comes back as 1, at once */
    k = (struct collect){out, 0, N, 3};
    assert_int_equal(payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z, N, buf, sizeof buf, collect_sink, &k), 1);
    assert_int_equal(k.fail_at, 0);
    /* a damaged byte inside the frame: refused or a different file, never
     * more bytes than the size (the CRC-32 then refuses it) */
    for (size_t at = 8; at < 8 + z; at += 97) {
        data[at] ^= 0x5a;
        k = (struct collect){out, 0, N, 0};
        int r = payload_inflate(d, PAYLOAD_ZSTD_CALLS, data, 8 + z, N, buf, sizeof buf, collect_sink, &k);
        assert_true(r == -1 || (r == 0 && k.n == N));
        data[at] ^= 0x5a;
    }
    ZSTD_freeDCtx(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailer_encode_layout),
        cmocka_unit_test(test_trailer_round_trip),
        cmocka_unit_test(test_trailer_decode_rejects),
        cmocka_unit_test(test_cd_locate),
        cmocka_unit_test(test_cd_locate_rejects),
        cmocka_unit_test(test_cd_walk_valid),
        cmocka_unit_test(test_cd_next_rejects),
        cmocka_unit_test(test_entry_data_rejects),
        cmocka_unit_test(test_entry_data_edges),
        cmocka_unit_test(test_path_safe),
        cmocka_unit_test(test_fuzz_tail),
        cmocka_unit_test(test_fuzz_archive),
        cmocka_unit_test(test_pyz_parts),
        cmocka_unit_test(test_calls_round_trip),
        cmocka_unit_test(test_calls_same_target),
        cmocka_unit_test(test_calls_header),
        cmocka_unit_test(test_inflate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
