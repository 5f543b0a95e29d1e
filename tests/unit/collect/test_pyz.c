/* test_pyz.c - the pure-Python module blob: its index must be exactly what
 * Python's marshal reads, and every module's bytes must come back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <cmocka.h>

#include "bundle/payload.h"
#include "bundle/collect/pyz.h"

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The dictionary after the index (n bytes): its size. */
static uint32_t dict_len(const struct buf *b, uint32_t n)
{
    assert_true(4 + n + 4 <= b->len);
    return le32((const unsigned char *)b->data + 4 + n);
}

/* Inflates an entry (one zstd frame, with the blob's dictionary) and
 * compares with what went in. */
static void check_entry(const struct buf *b, uint32_t n, uint32_t off, uint32_t size, const char *want,
                        size_t wlen)
{
    char out[1 << 16];
    uint32_t d = dict_len(b, n);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    assert_true((size_t)off + size <= b->len && size > 0);
    assert_int_equal(ZSTD_getFrameContentSize(b->data + off, size), wlen);
    assert_int_equal(ZSTD_findFrameCompressedSize(b->data + off, size), size);
    size_t r = ZSTD_decompress_usingDict(dctx, out, sizeof out, b->data + off, size, b->data + 4 + n + 4, d);
    assert_false(ZSTD_isError(r));
    assert_int_equal(r, wlen);
    assert_memory_equal(out, want, wlen);
    ZSTD_freeDCtx(dctx);
}

static void test_layout(void **state)
{
    static const char a[] = "code of a", b[] = "code of pkg";
    struct pyz_item items[] = {
        {"a", a, sizeof a, 0},
        {"pkg", b, sizeof b, PYZ_PACKAGE},
        {"pkg.ns", NULL, 0, PYZ_NAMESPACE},
    };
    struct buf out = {0};
    struct err err = {0};
    (void)state;

    assert_int_equal(pyz_build(items, 3, &out, &err), 0);
    uint32_t n = le32((unsigned char *)out.data);
    const unsigned char *ix = (unsigned char *)out.data + 4;
    assert_true(4 + n <= out.len);
    assert_int_equal(ix[0], '{');
    assert_int_equal(ix[n - 1], '0');
    /* first key: short ascii "a", then (offset, size, flags) */
    assert_int_equal(ix[1], 'z');
    assert_int_equal(ix[2], 1);
    assert_int_equal(ix[3], 'a');
    assert_int_equal(ix[4], ')');
    assert_int_equal(ix[5], 3);
    uint32_t off = le32(ix + 7), size = le32(ix + 12), flags = le32(ix + 17);
    assert_int_equal(off, 4 + n + 4 + dict_len(&out, n));
    assert_int_equal(dict_len(&out, n), 0); /* too few modules to train on */
    assert_int_equal(flags, 0);
    check_entry(&out, n, off, size, a, sizeof a);
    buf_release(&out);
}

/* Python itself reads the index and every module back. */
static void test_python_reads_it(void **state)
{
    static const char a[] = "alpha", b[] = "beta beta beta beta";
    struct pyz_item items[] = {
        {"alpha", a, sizeof a - 1, 0, NULL},
        {"b\xc3\xa9ta.sub", b, sizeof b - 1, PYZ_PACKAGE, NULL}, /* non-ASCII name */
        {"ext", NULL, 0, PYZ_EXTENSION, "site/ext.cpython-311-x86_64-linux-gnu.so"},
        {"ns", NULL, 0, PYZ_NAMESPACE, NULL},
    };
    struct buf out = {0};
    struct err err = {0};
    char path[] = "/tmp/test-pyz-XXXXXX", cmd[1024];
    (void)state;

    if (system("python3 -c pass >/dev/null 2>&1") != 0)
        skip();
    assert_int_equal(pyz_build(items, 4, &out, &err), 0);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out.data, out.len), (ssize_t)out.len);
    close(fd);
    snprintf(cmd, sizeof cmd,
             "python3 -c \"\n"
             "import marshal, sys\n"
             "d = open('%s', 'rb').read()\n"
             "n = int.from_bytes(d[:4], 'little')\n"
             "ix = marshal.loads(d[4:4 + n])\n"
             "assert sorted(ix) == ['alpha', 'b\\u00e9ta.sub', 'ext', 'ns'], ix\n"
             "o, s, f = ix['alpha']; assert d[o:o + 4] == b'\\x28\\xb5\\x2f\\xfd' and f == 0\n"
             "o, s, f = ix['b\\u00e9ta.sub']; assert d[o:o + 4] == b'\\x28\\xb5\\x2f\\xfd' and f == 1\n"
             "assert ix['ext'] == (0, 0, 4, 'site/ext.cpython-311-x86_64-linux-gnu.so'), ix['ext']\n"
             "assert ix['ns'][2] == 2\n"
             "\"",
             path);
    int rc = system(cmd);
    unlink(path);
    buf_release(&out);
    assert_int_equal(rc, 0);
}

/* Enough modules to learn from, each small: a dictionary is trained and
 * kept, every module inflates with it, and the blob is the same from one
 * build to the next. */
static void test_dictionary(void **state)
{
    enum { N = 256, LEN = 600 };
    static char code[N][LEN];
    static char names[N][16];
    struct pyz_item items[N];
    struct buf one = {0}, two = {0};
    struct err err = {0};
    unsigned seed = 1;
    (void)state;

    /* each module: lines drawn from 64 shared ones, none repeated within
     * it, so only a dictionary can find them */
    static char lines[64][80];
    for (int k = 0; k < 64; k++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(lines[k], sizeof lines[k], "def f%08x(self, x%u):\n    return self.g%08x(x%u) + %u\n", seed,
                 k, seed * 2654435761u, k, seed % 1000);
    }
    for (int i = 0; i < N; i++) {
        size_t at = 0;
        memset(code[i], ' ', LEN);
        for (int k = (i * 7) % 64; at + sizeof lines[0] < LEN; k = (k + 11) % 64)
            at += (size_t)snprintf(code[i] + at, LEN - at, "%s", lines[k]);
        snprintf(names[i], sizeof names[i], "mod%03d", i);
        items[i] = (struct pyz_item){names[i], code[i], LEN, 0, NULL};
    }
    assert_int_equal(pyz_build(items, N, &one, &err), 0);
    assert_int_equal(pyz_build(items, N, &two, &err), 0);
    assert_int_equal(one.len, two.len);
    assert_memory_equal(one.data, two.data, one.len);
    uint32_t n = le32((unsigned char *)one.data);
    assert_true(dict_len(&one, n) > 0);
    /* walk the index: short ascii key, then (off, size, flags) */
    const unsigned char *ix = (unsigned char *)one.data + 4;
    size_t at = 1;
    for (int i = 0; i < N; i++) {
        assert_int_equal(ix[at], 'z');
        at += 2 + ix[at + 1];
        uint32_t off = le32(ix + at + 3), size = le32(ix + at + 8);
        check_entry(&one, n, off, size, code[i], LEN);
        at += 17;
    }
    assert_true(one.len < N * LEN / 4);
    buf_release(&one);
    buf_release(&two);
}

/* Modules that repeat themselves and not each other: the dictionary
 * would weigh more than it saves, so the blob has none, and every module
 * inflates without it. */
static void test_dictionary_dropped(void **state)
{
    enum { N = 96, LEN = 3000 };
    static char code[N][LEN];
    static char names[N][16];
    struct pyz_item items[N];
    struct buf out = {0};
    struct err err = {0};
    unsigned seed = 1;
    (void)state;

    for (int i = 0; i < N; i++) {
        size_t at = 0;
        while (at + 40 < LEN) { /* shared words in an order of their own */
            seed = seed * 1103515245u + 12345u;
            at += (size_t)snprintf(code[i] + at, LEN - at, "def f%u(self, x):\n    return x.y%u\n", seed % 97,
                                   (seed >> 8) % 13);
        }
        snprintf(names[i], sizeof names[i], "mod%03d", i);
        items[i] = (struct pyz_item){names[i], code[i], LEN, 0, NULL};
    }
    assert_int_equal(pyz_build(items, N, &out, &err), 0);
    uint32_t n = le32((unsigned char *)out.data);
    assert_int_equal(dict_len(&out, n), 0);
    const unsigned char *ix = (unsigned char *)out.data + 4;
    size_t at = 1;
    for (int i = 0; i < N; i++) {
        at += 2 + ix[at + 1];
        check_entry(&out, n, le32(ix + at + 3), le32(ix + at + 8), code[i], LEN);
        at += 17;
    }
    buf_release(&out);
}

static void test_empty(void **state)
{
    struct buf out = {0};
    struct err err = {0};
    (void)state;
    assert_int_equal(pyz_build(NULL, 0, &out, &err), 0);
    assert_int_equal(out.len, 10);
    assert_memory_equal(out.data, "\x02\x00\x00\x00{0\x00\x00\x00\x00", 10);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_python_reads_it),
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_dictionary_dropped),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
