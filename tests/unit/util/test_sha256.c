/* test_sha256.c - SHA-256 against FIPS 180-4 vectors, on both block
 * functions (portable and SHA-NI where the CPU has it), over every split
 * of the input into update() calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle/util/sha256.h"
#include "sha256_impl.h"

static void hex_of(const void *data, size_t len, char hex[65])
{
    struct sha256 s;
    uint8_t d[32];
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, d);
    sha256_hex(d, hex);
}

static const struct {
    const char *msg;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

static void check_vectors(void)
{
    char hex[65];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        hex_of(vectors[i].msg, strlen(vectors[i].msg), hex);
        assert_string_equal(hex, vectors[i].hex);
    }
    /* one million 'a': many whole blocks in one call */
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    hex_of(a, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void test_vectors_best(void **state)
{
    (void)state;
    sha256_select(0);
    check_vectors();
}

static void test_vectors_portable(void **state)
{
    (void)state;
    sha256_select(1);
    check_vectors();
    sha256_select(0);
}

/* Any split of the input into update() calls gives the same digest, and
 * both block functions agree on every length around the block size. */
static void test_splits_and_paths_agree(void **state)
{
    uint8_t data[300], d1[32], d2[32];
    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof data; len++) {
        struct sha256 s;
        sha256_select(1);
        sha256_init(&s);
        sha256_update(&s, data, len);
        sha256_final(&s, d1);
        sha256_select(0);
        for (size_t cut = 0; cut <= len; cut += 13) {
            sha256_init(&s);
            sha256_update(&s, data, cut);
            sha256_update(&s, data + cut, len - cut);
            sha256_final(&s, d2);
            assert_memory_equal(d1, d2, 32);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_best),
        cmocka_unit_test(test_vectors_portable),
        cmocka_unit_test(test_splits_and_paths_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
