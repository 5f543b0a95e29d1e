/* test_packcache.c - the builder's cache of compressed files
 * (src/emit/packcache.c), whose entries are hostile input: an entry is
 * used only when it inflates to the very input, as the stub would (its
 * window limit); damaged ones are removed;
 * a dir that others can write is not used; the environment chooses the
 * dir, or none; old entries are pruned, nothing else. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/emit/pack.h"
#include "bundle/emit/packcache.h"
#include "bundle/util/buildcache.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"

#include <zstd.h>

#define LEN (200u << 10)

struct fx {
    char dir[64];
    uint8_t *data;
    struct pack_blob made; /* what pack_compress makes of data at 19 */
    uint8_t key[32];
    char entry[160];       /* the entry's path */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_packcache.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->data = malloc(LEN);
    assert_non_null(f->data);
    for (size_t i = 0; i < LEN; i++) /* compressible, not trivially; calls (E8) too */
        f->data[i] = i % 37 == 5 ? 0xe8 : (uint8_t)((i * 7 + i / 1000) % 53);
    /* an x86-64 ELF file whose one segment, executable, is all of it: the
     * entry goes through the call filter */
    static const uint8_t ehdr[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, [16] = 3, [18] = 62, [20] = 1,
                                     [32] = 64, [52] = 64, [54] = 56, [56] = 1};
    memcpy(f->data, ehdr, sizeof ehdr);
    uint8_t *ph = f->data + 64;
    memset(ph, 0, 56);
    ph[0] = 1; /* PT_LOAD */
    ph[4] = 5; /* PF_R | PF_X */
    uint64_t filesz = LEN;
    memcpy(ph + 32, &filesz, 8);
    assert_int_equal(pack_compress(f->data, LEN, 19, &f->made), 0);
    assert_int_equal(f->made.method, PAYLOAD_ZSTD_CALLS);
    packcache_key(f->data, LEN, 19, f->key);
    char hex[2 * SHA256_LEN + 1];
    sha256_hex(f->key, hex);
    snprintf(f->entry, sizeof f->entry, "%s/c/%s", f->dir, hex);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    pack_blob_release(&f->made);
    free(f->data);
    free(f);
    return 0;
}

static struct buildcache open_in(const struct fx *f)
{
    struct buildcache c;
    char d[96];
    snprintf(d, sizeof d, "%s/c", f->dir);
    buildcache_open_dir(&c, d);
    return c;
}

static bool get(const struct buildcache *c, const struct fx *f, struct pack_blob *out)
{
    memset(out, 0, sizeof *out);
    return packcache_get(c, f->key, f->data, LEN, out);
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct buildcache c = open_in(f);
    struct pack_blob b;
    struct stat st;

    assert_true(c.dirfd >= 0);
    assert_int_equal(stat(f->entry, &st), -1); /* made, empty */
    assert_false(get(&c, f, &b));
    packcache_put(&c, f->key, &f->made);
    assert_int_equal(stat(f->entry, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(get(&c, f, &b));
    assert_int_equal(b.method, f->made.method);
    assert_int_equal(b.csize, f->made.csize);
    assert_memory_equal(b.data, f->made.data, b.csize);
    pack_blob_release(&b);
    /* the same bytes at another level, or other bytes: another key */
    uint8_t k2[32];
    packcache_key(f->data, LEN, 18, k2);
    assert_memory_not_equal(k2, f->key, 32);
    f->data[LEN / 2] ^= 1;
    packcache_key(f->data, LEN, 19, k2);
    assert_memory_not_equal(k2, f->key, 32);
    f->data[LEN / 2] ^= 1;
    /* a second put of the same key keeps one whole entry */
    packcache_put(&c, f->key, &f->made);
    assert_true(get(&c, f, &b));
    pack_blob_release(&b);
    /* the dir was made 0700 */
    char d[96];
    snprintf(d, sizeof d, "%s/c", f->dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    buildcache_close(&c);
}

/* Rewrites the entry: its bytes with byte at flipped, cut to len. */
static void damage(const struct fx *f, long at, long len)
{
    FILE *fp = fopen(f->entry, "rb");
    assert_non_null(fp);
    static uint8_t buf[LEN + 4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    if (at >= 0 && (size_t)at < n)
        buf[at] ^= 0x41;
    fp = fopen(f->entry, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len < 0 || (size_t)len > n ? n : (size_t)len, fp),
                     len < 0 || (size_t)len > n ? n : (size_t)len);
    fclose(fp);
}

static void test_hostile_entries(void **state)
{
    struct fx *f = *state;
    struct buildcache c = open_in(f);
    struct pack_blob b;
    struct stat st;
    size_t whole = 18 + f->made.csize;
    /* the magic, the method, the size field, the filter header, the frame */
    long at[] = {0, 7, 8, 9, 10, 17, 18, 22, 30, 100, (long)whole / 2, (long)whole - 1};
    long cut[] = {0, 1, 17, 18, 19, (long)whole / 2, (long)whole - 1};

    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        packcache_put(&c, f->key, &f->made);
        damage(f, at[i], -1);
        assert_false(get(&c, f, &b));
        assert_int_equal(stat(f->entry, &st), -1); /* removed */
    }
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        packcache_put(&c, f->key, &f->made);
        damage(f, -1, cut[i]);
        assert_false(get(&c, f, &b));
    }
    /* an entry that is right for other bytes (one differs, one fewer) */
    packcache_put(&c, f->key, &f->made);
    memset(&b, 0, sizeof b);
    f->data[LEN - 100] ^= 1;
    assert_false(packcache_get(&c, f->key, f->data, LEN, &b));
    f->data[LEN - 100] ^= 1;
    packcache_put(&c, f->key, &f->made);
    assert_false(packcache_get(&c, f->key, f->data, LEN - 1, &b));
    /* a symlink to a good entry, a directory: not followed, not used */
    packcache_put(&c, f->key, &f->made);
    char good[200];
    snprintf(good, sizeof good, "%s/good", f->dir);
    assert_int_equal(rename(f->entry, good), 0);
    assert_int_equal(symlink(good, f->entry), 0);
    assert_false(get(&c, f, &b));
    assert_int_equal(unlink(f->entry), 0);
    assert_int_equal(mkdir(f->entry, 0700), 0);
    assert_false(get(&c, f, &b));
    buildcache_close(&c);
}

/* A file zstd cannot make smaller enough: the entry says it is stored,
 * and the next build stores it without trying; such an entry holds no
 * data, and one with data is malformed. */
static void test_stored(void **state)
{
    struct fx *f = *state;
    struct buildcache c = open_in(f);
    static uint8_t noise[LEN];
    uint8_t key[32];
    struct pack_blob made, b;
    uint32_t x = 1;
    for (size_t i = 0; i < LEN; i++)
        noise[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
    assert_int_equal(pack_compress(noise, LEN, 19, &made), 0);
    assert_int_equal(made.method, 0);
    packcache_key(noise, LEN, 19, key);
    packcache_put(&c, key, &made);
    char hex[2 * SHA256_LEN + 1], path[200];
    sha256_hex(key, hex);
    snprintf(path, sizeof path, "%s/c/%s", f->dir, hex);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 18); /* the header alone */
    memset(&b, 0, sizeof b);
    assert_true(packcache_get(&c, key, noise, LEN, &b));
    assert_int_equal(b.method, 0);
    assert_ptr_equal(b.data, noise);
    assert_int_equal(b.csize, LEN);
    assert_null(b.owned);
    /* a "stored" entry with bytes after its header: malformed, removed */
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fputc('x', fp);
    fclose(fp);
    assert_false(packcache_get(&c, key, noise, LEN, &b));
    assert_int_equal(stat(path, &st), -1);
    pack_blob_release(&made);
    buildcache_close(&c);
}

/* A right compression of the input that the stub would refuse (its
 * window is over 1 MiB) is not used. */
static void test_window(void **state)
{
    struct fx *f = *state;
    struct buildcache c = open_in(f);
    enum { BIG = 3u << 20 };
    uint8_t *big = malloc(BIG), *frame = malloc(ZSTD_compressBound(BIG) + 18), key[32];
    struct pack_blob b;
    assert_non_null(big);
    assert_non_null(frame);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (uint8_t)(i % 251 ^ i / 4096);
    ZSTD_CCtx *z = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, 22);
    size_t n = ZSTD_compress2(z, frame + 18, ZSTD_compressBound(BIG), big, BIG);
    ZSTD_freeCCtx(z);
    assert_false(ZSTD_isError(n));
    memcpy(frame, "BNDLPKC1", 8);
    frame[8] = 93, frame[9] = 0;
    for (int i = 0; i < 8; i++)
        frame[10 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    packcache_key(big, BIG, 19, key);
    char hex[2 * SHA256_LEN + 1], path[200];
    sha256_hex(key, hex);
    snprintf(path, sizeof path, "%s/c/%s", f->dir, hex);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(frame, 1, 18 + n, fp), 18 + n);
    fclose(fp);
    memset(&b, 0, sizeof b);
    assert_false(packcache_get(&c, key, big, BIG, &b));
    free(big);
    free(frame);
    buildcache_close(&c);
}

static void test_dir_choice(void **state)
{
    struct fx *f = *state;
    struct buildcache c;
    char d[128];

    /* others can write it: not used */
    snprintf(d, sizeof d, "%s/open", f->dir);
    assert_int_equal(mkdir(d, 0777), 0);
    assert_int_equal(chmod(d, 0777), 0);
    buildcache_open_dir(&c, d);
    assert_int_equal(c.dirfd, -1);
    /* a symlink on the way to it: followed (a /home that links elsewhere) */
    snprintf(d, sizeof d, "%s/real", f->dir);
    assert_int_equal(mkdir(d, 0700), 0);
    char link[128];
    snprintf(link, sizeof link, "%s/link", f->dir);
    assert_int_equal(symlink(d, link), 0);
    snprintf(d, sizeof d, "%s/link/cache", f->dir);
    buildcache_open_dir(&c, d);
    assert_true(c.dirfd >= 0);
    buildcache_close(&c);
    snprintf(d, sizeof d, "%s/real/cache", f->dir);
    assert_true(access(d, F_OK) == 0);
    /* a symlink to a dir others can write: not used */
    snprintf(link, sizeof link, "%s/tmplink", f->dir);
    assert_int_equal(symlink("/tmp", link), 0);
    buildcache_open_dir(&c, link);
    assert_int_equal(c.dirfd, -1);
    /* a part that cannot be made (a file on the way): none, not a dir
     * before it */
    snprintf(d, sizeof d, "%s/file", f->dir);
    FILE *fp = fopen(d, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(d, sizeof d, "%s/file/cache", f->dir);
    buildcache_open_dir(&c, d);
    assert_int_equal(c.dirfd, -1);
    /* relative, or NULL: none */
    buildcache_open_dir(&c, "relative/dir");
    assert_int_equal(c.dirfd, -1);
    buildcache_open_dir(&c, NULL);
    assert_int_equal(c.dirfd, -1);
    /* the environment: BUNDLE_BUILD_CACHE_DIR, empty (none), then XDG_CACHE_HOME, HOME */
    snprintf(d, sizeof d, "%s/env/a/b", f->dir);
    setenv("BUNDLE_BUILD_CACHE_DIR", d, 1);
    buildcache_open(&c);
    assert_true(c.dirfd >= 0);
    buildcache_close(&c);
    setenv("BUNDLE_BUILD_CACHE_DIR", "", 1);
    buildcache_open(&c);
    assert_int_equal(c.dirfd, -1);
    unsetenv("BUNDLE_BUILD_CACHE_DIR");
    const struct { const char *var, *value, *made; } envs[] = {
        {"XDG_CACHE_HOME", "xdg", "xdg/bundle-build"}, {"HOME", "home", "home/.cache/bundle-build"}};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        snprintf(d, sizeof d, "%s/%s", f->dir, envs[i].value);
        setenv(envs[i].var, d, 1);
        buildcache_open(&c);
        assert_true(c.dirfd >= 0);
        buildcache_close(&c);
        snprintf(d, sizeof d, "%s/%s", f->dir, envs[i].made);
        assert_true(access(d, F_OK) == 0);
        unsetenv(envs[i].var); /* HOME is used only without XDG_CACHE_HOME */
    }
}

static void test_prune(void **state)
{
    struct fx *f = *state;
    struct buildcache c = open_in(f);
    struct stat st;
    char other[200];

    packcache_put(&c, f->key, &f->made);
    snprintf(other, sizeof other, "%s/c/notes.txt", f->dir);
    FILE *fp = fopen(other, "w");
    assert_non_null(fp);
    fclose(fp);
    time_t now = time(NULL);
    buildcache_prune(&c, now); /* fresh: kept */
    assert_int_equal(stat(f->entry, &st), 0);
    buildcache_prune(&c, now + (BUILDCACHE_DAYS + 1) * 86400); /* unused for long: gone */
    assert_int_equal(stat(f->entry, &st), -1);
    assert_int_equal(stat(other, &st), 0); /* not an entry: left */
    /* a hit makes an old entry new again */
    packcache_put(&c, f->key, &f->made);
    struct timespec old[2] = {{now - 40 * 86400, 0}, {now - 40 * 86400, 0}};
    assert_int_equal(utimensat(AT_FDCWD, f->entry, old, 0), 0);
    struct pack_blob b;
    assert_true(get(&c, f, &b));
    pack_blob_release(&b);
    buildcache_prune(&c, now + 86400);
    assert_int_equal(stat(f->entry, &st), 0);
    buildcache_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
