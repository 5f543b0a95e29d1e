/* test_crc32c.c - CRC-32C against known vectors, the hardware path against
 * the portable one at every alignment and length, streaming over every
 * split, and crc32c_quarters against four separate crc32c calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle/util/crc32c.h"

/* Deterministic pseudo-random bytes (xorshift64). */
static void fill_random(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 32);
    }
}

static void test_vectors(void **state)
{
    uint8_t zeros[32], ones[32];
    (void)state;
    memset(zeros, 0, sizeof zeros);
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(crc32c(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(crc32c(0, "", 0), 0);
    assert_int_equal(crc32c(0, NULL, 0), 0);
    assert_int_equal(crc32c_portable(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_portable(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(crc32c_portable(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(crc32c_portable(0, "", 0), 0);
    assert_int_equal(crc32c_portable(0, NULL, 0), 0);
}

/* Feeding the input in two pieces, cut anywhere, gives the one-shot CRC. */
static void test_streaming(void **state)
{
    uint8_t data[300];
    (void)state;
    fill_random(data, sizeof data, 1);
    uint32_t whole = crc32c(0, data, sizeof data);
    assert_int_equal(whole, crc32c_portable(0, data, sizeof data));
    for (size_t cut = 0; cut <= sizeof data; cut++) {
        uint32_t c = crc32c(0, data, cut);
        assert_int_equal(crc32c(c, data + cut, sizeof data - cut), whole);
        c = crc32c_portable(0, data, cut);
        assert_int_equal(crc32c_portable(c, data + cut, sizeof data - cut), whole);
    }
}

/* crc32c() (hardware where the CPU has it) equals crc32c_portable() at
 * every start alignment and length, from zero and from a running CRC. */
static void test_paths_agree(void **state)
{
    uint8_t buf[300 + 16];
    (void)state;
    fill_random(buf, sizeof buf, 2);
    for (size_t align = 0; align < 16; align++)
        for (size_t len = 0; len <= 300; len++) {
            assert_int_equal(crc32c(0, buf + align, len),
                             crc32c_portable(0, buf + align, len));
            assert_int_equal(crc32c(0x12345678, buf + align, len),
                             crc32c_portable(0x12345678, buf + align, len));
        }
}

static void check_quarters(const uint8_t *p, size_t len)
{
    uint32_t q[4];
    crc32c_quarters(p, len, q);
    for (size_t i = 0; i < 4; i++) {
        size_t lo = len * i / 4, hi = len * (i + 1) / 4;
        assert_int_equal(q[i], crc32c(0, p + lo, hi - lo));
        assert_int_equal(q[i], crc32c_portable(0, p + lo, hi - lo));
    }
}

static void test_quarters(void **state)
{
    static const size_t big[] = {1000003, 1000001, 999999, 65537, 4099};
    uint8_t small[70 + 8];
    (void)state;
    fill_random(small, sizeof small, 3);
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len <= 70; len++)
            check_quarters(small + align, len);

    uint32_t q[4];
    crc32c_quarters(NULL, 0, q);
    for (int i = 0; i < 4; i++)
        assert_int_equal(q[i], 0);

    uint8_t *buf = malloc(1000003 + 1);
    assert_non_null(buf);
    fill_random(buf, 1000003 + 1, 4);
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        check_quarters(buf, big[i]);
        check_quarters(buf + 1, big[i]);
    }
    free(buf);
}

/* Flipping any single bit changes the CRC of its own quarter and no other. */
static void test_bit_flip(void **state)
{
    static const size_t sizes[] = {4096, 4099};
    uint8_t buf[4099];
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        uint32_t ref[4], q[4];
        fill_random(buf, len, 5);
        crc32c_quarters(buf, len, ref);
        for (size_t bit = 0; bit < 8 * len; bit++) {
            size_t byte = bit / 8;
            buf[byte] ^= (uint8_t)(1u << (bit % 8));
            crc32c_quarters(buf, len, q);
            buf[byte] ^= (uint8_t)(1u << (bit % 8));
            for (size_t i = 0; i < 4; i++) {
                int mine = len * i / 4 <= byte && byte < len * (i + 1) / 4;
                if (mine)
                    assert_int_not_equal(q[i], ref[i]);
                else
                    assert_int_equal(q[i], ref[i]);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_quarters),
        cmocka_unit_test(test_bit_flip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
