/* test_probe.c - parsing the target interpreter's probe output
 * (probe_parse in src/analyze/probe.c), which is hostile input.
 *
 * The output is NUL-separated key/value pairs; the tests build it with
 * embedded NULs, then drop, spoil and truncate pairs, and finally feed
 * random bytes and random mutations of a valid output.  Every parse is
 * released, so valgrind also proves nothing leaks on any path.
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

#include "bundle/analyze/probe.h"
#include "bundle/util/util.h"

/* One pair of a probe output. */
struct kv {
    const char *k, *v;
};

static const struct kv valid[] = {
    {"version", "3.11.7"},
    {"magic", "a70d0d0a"},
    {"cache_tag", "cpython-311"},
    {"executable", "/opt/py/bin/python3.11"},
    {"prefix", "/opt/py"},
    {"stdlib", "/opt/py/lib/python3.11"},
    {"platstdlib", "/opt/py/lib/python3.11"},
    {"path", "/opt/py/lib/python311.zip"},
    {"path", "/opt/py/lib/python3.11"},
    {"path", "/opt/py/lib/python3.11/lib-dynload"},
    {"path", "/home/u/dir with spaces/\xc3\xa9\xff/site-packages"},
    {"ext_suffix", ".cpython-311-x86_64-linux-gnu.so"},
    {"ext_suffix", ".abi3.so"},
    {"ext_suffix", ".so"},
    {"builtin", "_abc"},
    {"builtin", "builtins"},
    {"builtin", "sys"},
    {"libpython", "/opt/py/lib/libpython3.11.so.1.0"},
    {"gil_disabled", "0"},
    {"end", "ok"},
};
#define NVALID (sizeof valid / sizeof *valid)

/* Appends key NUL value NUL. */
static void put(struct buf *b, const char *k, const char *v)
{
    assert_int_equal(buf_append(b, k, strlen(k) + 1), 0);
    assert_int_equal(buf_append(b, v, strlen(v) + 1), 0);
}

/* The valid output, with pair `skip` left out and pair `repl` given value
 * `v` (either may be SIZE_MAX for none). */
static void build(struct buf *b, size_t skip, size_t repl, const char *v)
{
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < NVALID; i++) {
        if (i == skip)
            continue;
        put(b, valid[i].k, i == repl ? v : valid[i].v);
    }
}

static size_t index_of(const char *key)
{
    for (size_t i = 0; i < NVALID; i++)
        if (strcmp(valid[i].k, key) == 0)
            return i;
    fail_msg("no key %s", key);
    return SIZE_MAX;
}

/* Parses a copy of exactly len bytes (so an overread shows under valgrind). */
static int parse(const void *data, size_t len, struct probe *p, struct err *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    memset(p, 0, sizeof *p);
    memset(err, 0, sizeof *err);
    int rc = probe_parse(copy, len, p, err);
    free(copy);
    return rc;
}

static void test_valid(void **state)
{
    (void)state;
    struct buf b;
    struct probe p;
    struct err err;

    build(&b, SIZE_MAX, SIZE_MAX, NULL);
    int rc = parse(b.data, b.len, &p, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(p.major, 3);
    assert_int_equal(p.minor, 11);
    assert_int_equal(p.micro, 7);
    assert_memory_equal(p.magic, "\xa7\x0d\x0d\x0a", 4);
    assert_string_equal(p.cache_tag, "cpython-311");
    assert_string_equal(p.executable, "/opt/py/bin/python3.11");
    assert_string_equal(p.prefix, "/opt/py");
    assert_string_equal(p.stdlib, "/opt/py/lib/python3.11");
    assert_string_equal(p.platstdlib, "/opt/py/lib/python3.11");
    assert_int_equal(p.path.n, 4);
    assert_string_equal(p.path.v[0], "/opt/py/lib/python311.zip");
    assert_string_equal(p.path.v[2], "/opt/py/lib/python3.11/lib-dynload");
    assert_string_equal(p.path.v[3], "/home/u/dir with spaces/\xc3\xa9\xff/site-packages");
    assert_null(p.path.v[4]);
    assert_int_equal(p.ext_suffixes.n, 3);
    assert_string_equal(p.ext_suffixes.v[0], ".cpython-311-x86_64-linux-gnu.so");
    assert_string_equal(p.ext_suffixes.v[1], ".abi3.so");
    assert_string_equal(p.ext_suffixes.v[2], ".so");
    assert_int_equal(p.builtins.n, 3);
    assert_string_equal(p.builtins.v[2], "sys");
    assert_string_equal(p.libpython, "/opt/py/lib/libpython3.11.so.1.0");
    assert_false(p.gil_disabled);
    probe_release(&p);
    assert_null(p.executable);
    assert_int_equal(p.path.n, 0);
    buf_release(&b);
}

static void test_variants(void **state)
{
    (void)state;
    const struct {
        const char *key, *val;
        bool gil;
    } cases[] = {
        {"gil_disabled", "1", true},
        {"gil_disabled", "0", false},
        {"libpython", "", false},      /* static build: the caller refuses it, the parser does not */
        {"cache_tag", "", false},
        {"version", "3.13.0", false},
        {"magic", "00000000", false},
        {"magic", "FFFFFFFF", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf b;
        struct probe p;
        struct err err;

        build(&b, SIZE_MAX, index_of(cases[i].key), cases[i].val);
        int rc = parse(b.data, b.len, &p, &err);
        if (rc != 0)
            print_error("%s=%s: %s\n", cases[i].key, cases[i].val, err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(p.gil_disabled, cases[i].gil);
        probe_release(&p);
        buf_release(&b);
    }
    /* unknown keys are skipped (a newer probe script) */
    {
        struct buf b;
        struct probe p;
        struct err err;
        memset(&b, 0, sizeof b);
        put(&b, "future_key", "whatever");
        for (size_t i = 0; i < NVALID; i++)
            put(&b, valid[i].k, valid[i].v);
        assert_int_equal(parse(b.data, b.len, &p, &err), 0);
        assert_int_equal(p.major, 3);
        probe_release(&p);
        buf_release(&b);
    }
}

/* Pairs left out: the output is incomplete. */
static void test_missing_keys(void **state)
{
    (void)state;
    static const char *const required[] = {"end", "version", "magic", "executable", "stdlib", "libpython"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        struct buf b;
        struct probe p;
        struct err err;

        build(&b, index_of(required[i]), SIZE_MAX, NULL);
        int rc = parse(b.data, b.len, &p, &err);
        if (rc != -1)
            print_error("without '%s' the output was accepted\n", required[i]);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err.msg, "incomplete"));
        probe_release(&p);
        buf_release(&b);
    }
}

/* Values that must be refused.  Reports every case that goes wrong, then
 * fails once. */
static void test_bad_values(void **state)
{
    (void)state;
    const struct {
        const char *key, *val, *msg;
    } cases[] = {
        {"version", "", "version"},
        {"version", "garbage", "version"},
        {"version", "3", "version"},
        {"version", "3.11", "version"},
        {"version", "3..7", "version"},
        {"version", "x.y.z", "version"},
        {"magic", "", "magic"},
        {"magic", "a70d0d0", "magic"},     /* 7 digits */
        {"magic", "a70d0d0a0", "magic"},   /* 9 digits */
        {"magic", "a70d0d0a0d", "magic"},
        {"magic", "zzzzzzzz", "magic"},
        {"magic", "a70d0d0z", "magic"},    /* a single hex digit in the last byte */
        {"magic", "a7 d0d0a", "magic"},    /* a space in a byte */
        {"magic", "+7-d0d0a", "magic"},    /* signs */
        {"magic", "0xa70d0d", "magic"},    /* a prefix */
        /* quoted in the message, hostile text must not break the one line */
        {"version", "x\nbundle: all good", "version"},
        {"magic", "a7\n0d0d0", "magic"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf b;
        struct probe p;
        struct err err;

        build(&b, SIZE_MAX, index_of(cases[i].key), cases[i].val);
        int rc = parse(b.data, b.len, &p, &err);
        if (rc != -1 || !strstr(err.msg, cases[i].msg) || strchr(err.msg, '\n')) {
            print_error("%s='%s': rc %d, message '%s'\n", cases[i].key, cases[i].val, rc, err.msg);
            failures++;
        }
        probe_release(&p);
        buf_release(&b);
    }
    assert_int_equal(failures, 0);
}

/* A message quoting hostile text stays one bounded line. */
static void test_long_garbage_value(void **state)
{
    (void)state;
    char *v = malloc(100001);
    struct buf b;
    struct probe p;
    struct err err;

    assert_non_null(v);
    memset(v, 'x', 100000);
    v[100000] = '\0';
    v[50] = '\n';
    build(&b, SIZE_MAX, index_of("version"), v);
    assert_int_equal(parse(b.data, b.len, &p, &err), -1);
    assert_true(strlen(err.msg) < 200);
    assert_null(strchr(err.msg, '\n'));
    probe_release(&p);
    buf_release(&b);
    free(v);
}

/* Every prefix of a valid output: only the whole output parses (its last
 * pair is "end"); none crashes or leaks. */
static void test_truncated(void **state)
{
    (void)state;
    struct buf b;

    build(&b, SIZE_MAX, SIZE_MAX, NULL);
    for (size_t len = 0; len <= b.len; len++) {
        struct probe p;
        struct err err;
        int rc = parse(b.data, len, &p, &err);
        if (len < b.len && rc != -1)
            fail_msg("a prefix of %zu of %zu bytes was accepted", len, b.len);
        if (len == b.len)
            assert_int_equal(rc, 0);
        probe_release(&p);
    }
    buf_release(&b);
}

static void test_odd_inputs(void **state)
{
    (void)state;
    const struct {
        const char *what;
        const char *data;
        size_t len;
    } cases[] = {
        {"empty", "", 0},
        {"one NUL", "\0", 1},
        {"NULs", "\0\0\0\0\0\0", 6},
        {"a key without a NUL", "end", 3},
        {"a key, no value", "end\0", 4},
        {"a value without a NUL", "end\0ok", 6},
        {"end only", "end\0ok\0", 7},
        {"end with an empty key before", "\0\0end\0ok\0", 9},
        {"text", "version 3.11.7\nmagic a70d0d0a\nend ok\n", 36},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct probe p;
        struct err err;
        int rc = parse(cases[i].data, cases[i].len, &p, &err);
        if (rc != -1)
            print_error("'%s' was accepted\n", cases[i].what);
        assert_int_equal(rc, -1);
        assert_true(err.msg[0] != '\0');
        probe_release(&p);
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void test_random_bytes(void **state)
{
    (void)state;
    /* random bytes from a small alphabet, so keys and NULs do occur */
    static const char alpha[] = "end\0ok\0version\0magic\0" "0123456789abcdef.";
    rng_state = 42;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rnd() % 200);
        char *data = malloc(len ? len : 1);
        struct probe p;
        struct err err;
        assert_non_null(data);
        for (size_t i = 0; i < len; i++)
            data[i] = iter % 2 ? (char)rnd() : alpha[rnd() % (sizeof alpha - 1)];
        int rc = parse(data, len, &p, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
        probe_release(&p);
        free(data);
    }
}

static void test_random_mutations(void **state)
{
    (void)state;
    struct buf base;
    int ok = 0, bad = 0;

    build(&base, SIZE_MAX, SIZE_MAX, NULL);
    rng_state = 7;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = base.len;
        char *data = malloc(len);
        struct probe p;
        struct err err;
        assert_non_null(data);
        memcpy(data, base.data, len);
        for (int k = 1 + (int)(rnd() % 4); k > 0 && len > 0; k--) {
            size_t at = (size_t)(rnd() % len);
            switch (rnd() % 4) {
            case 0: data[at] = '\0'; break;              /* split a pair */
            case 1: data[at] = (char)rnd(); break;
            case 2: data[at] ^= (char)(1 << (rnd() % 8)); break;
            default: len = at; break;                    /* truncate */
            }
        }
        int rc = parse(data, len, &p, &err);
        if (rc == 0) {
            ok++;
            /* what the caller relies on after success */
            assert_non_null(p.executable);
            assert_non_null(p.stdlib);
            assert_non_null(p.libpython);
        } else {
            bad++;
            assert_true(err.msg[0] != '\0');
        }
        probe_release(&p);
        free(data);
    }
    print_message("mutations: %d accepted, %d refused\n", ok, bad);
    assert_true(ok > 0 && bad > 0);
    buf_release(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_long_garbage_value),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_odd_inputs),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
