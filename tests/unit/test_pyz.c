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
#include <lz4.h>

#include <cmocka.h>

#include "bundle/payload.h"
#include "bundle/pyz.h"

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Inflates an entry (u32 size, LZ4 block) and compares with what went in. */
static void check_entry(const struct buf *b, uint32_t off, uint32_t size, const char *want, size_t wlen)
{
    char out[4096];
    assert_true((size_t)off + size <= b->len && size >= 4);
    assert_int_equal(le32((const unsigned char *)b->data + off), wlen);
    assert_int_equal(LZ4_decompress_safe(b->data + off + 4, out, (int)size - 4, sizeof out), (int)wlen);
    assert_memory_equal(out, want, wlen);
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
    assert_int_equal(off, 4 + n);
    assert_int_equal(flags, 0);
    check_entry(&out, off, size, a, sizeof a);
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
             "o, s, f = ix['alpha']; assert int.from_bytes(d[o:o + 4], 'little') == 5 and f == 0\n"
             "o, s, f = ix['b\\u00e9ta.sub']; assert int.from_bytes(d[o:o + 4], 'little') == 19 and f == 1\n"
             "assert ix['ext'] == (0, 0, 4, 'site/ext.cpython-311-x86_64-linux-gnu.so'), ix['ext']\n"
             "assert ix['ns'][2] == 2\n"
             "\"",
             path);
    int rc = system(cmd);
    unlink(path);
    buf_release(&out);
    assert_int_equal(rc, 0);
}

static void test_empty(void **state)
{
    struct buf out = {0};
    struct err err = {0};
    (void)state;
    assert_int_equal(pyz_build(NULL, 0, &out, &err), 0);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "\x02\x00\x00\x00{0", 6);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_python_reads_it),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
