/* test_manifest.c - the stub's manifest parser (stub/manifest.c:
 * manifest_parse, manifest_lazy, manifest_release).
 *
 * The manifest comes out of the bundle file, so it is hostile input: every
 * path in it is later opened or dlopen'ed under the cache entry, and a
 * "lazy" line's CRC-32C is what an unpacked file is checked against.  A bad
 * line must fail the whole parse and leave nothing allocated (this runs
 * under ASan/LSan in CI), and a good one must come out sorted, with its
 * CRC and its dependencies exactly as written, and found by manifest_lazy.
 * Texts are built here, line by line, so each rule is bent on its own.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub.h"

/* the cache files trace through stub/debug.c's stub_debug: quiet here. */
void stub_debug(const char *fmt, ...)
{
    (void)fmt;
}

/* The head every manifest below starts with: valid on its own. */
#define HEAD "python 3.11\nname hello\nlibpython lib/libpython3.11.so.1.0\n"

/* Parses a copy of text (manifest_parse writes into it; the copy is freed
 * at once, so nothing in m may point into it).  On failure m must be left
 * empty: manifest_parse released everything. */
static int parse(const char *text, struct stub_manifest *m)
{
    char *copy = strdup(text);
    int rc;

    assert_non_null(copy);
    memset(m, 0x5a, sizeof *m); /* manifest_parse starts from nothing */
    rc = manifest_parse(copy, m);
    free(copy);
    if (rc != 0) {
        assert_int_equal(rc, -1);
        assert_null(m->libpython);
        assert_null(m->name);
        assert_null(m->preload);
        assert_int_equal(m->npreload, 0);
        assert_null(m->lazy);
        assert_int_equal(m->nlazy, 0);
    }
    return rc;
}

/* HEAD followed by one line. */
static int parse_with(const char *line, struct stub_manifest *m)
{
    char *text;
    int rc;

    assert_true(asprintf(&text, HEAD "%s\n", line) > 0);
    rc = parse(text, m);
    free(text);
    return rc;
}

static void assert_sorted(const struct stub_manifest *m)
{
    for (size_t i = 1; i < m->nlazy; i++)
        assert_true(strcmp(m->lazy[i - 1].rel, m->lazy[i].rel) < 0);
}

/* ---- what bundle writes ---- */

static void test_real_manifest(void **state)
{
    (void)state;
    struct stub_manifest m;
    const char *text = "python 3.11\n"
                       "name hello\n"
                       "libpython lib/libpython3.11.so.1.0\n"
                       "preload lib/libz.so.1\n"
                       "preload lib/libffi.so.8\n"
                       "lazy 1a2b3c4d site/_ssl.cpython-311-x86_64-linux-gnu.so lib/libcrypto.so.3 lib/libssl.so.3\n"
                       "lazy deadbeef site/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so "
                       "lib/libgfortran.so.5 lib/libopenblas.so.0\n"
                       "lazy 00000000 site/_bz2.cpython-311-x86_64-linux-gnu.so\n"
                       "lazy ffffffff site/_ctypes.cpython-311-x86_64-linux-gnu.so lib/libffi.so.8\n"
                       "lazy 0badf00d site/PIL/_imaging.cpython-311-x86_64-linux-gnu.so\n";
    struct {
        const char *rel;
        uint32_t crc;
        const char *deps[3];
    } want[] = {
        /* in strcmp order: 'P' < '_' < 'n' */
        {"site/PIL/_imaging.cpython-311-x86_64-linux-gnu.so", 0x0badf00du, {NULL}},
        {"site/_bz2.cpython-311-x86_64-linux-gnu.so", 0x00000000u, {NULL}},
        {"site/_ctypes.cpython-311-x86_64-linux-gnu.so", 0xffffffffu, {"lib/libffi.so.8", NULL}},
        {"site/_ssl.cpython-311-x86_64-linux-gnu.so", 0x1a2b3c4du,
         {"lib/libcrypto.so.3", "lib/libssl.so.3", NULL}},
        {"site/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", 0xdeadbeefu,
         {"lib/libgfortran.so.5", "lib/libopenblas.so.0", NULL}},
    };
    const size_t nwant = sizeof want / sizeof *want;

    assert_int_equal(parse(text, &m), 0);
    assert_int_equal(m.py_major, 3);
    assert_int_equal(m.py_minor, 11);
    assert_string_equal(m.name, "hello");
    assert_string_equal(m.libpython, "lib/libpython3.11.so.1.0");
    assert_int_equal(m.npreload, 2);
    assert_string_equal(m.preload[0], "lib/libz.so.1");
    assert_string_equal(m.preload[1], "lib/libffi.so.8");
    assert_int_equal(m.sized, 0); /* no "size" lines: the bundle's own manifest */

    assert_int_equal(m.nlazy, nwant);
    assert_sorted(&m);
    for (size_t i = 0; i < nwant; i++) {
        const struct stub_lazy *l = &m.lazy[i];
        size_t nd = 0;

        assert_string_equal(l->rel, want[i].rel);
        assert_int_equal(l->crc, want[i].crc);
        while (want[i].deps[nd])
            nd++;
        assert_int_equal(l->ndeps, nd);
        for (size_t j = 0; j < nd; j++)
            assert_string_equal(l->deps[j], want[i].deps[j]);
        assert_null(l->path);
        assert_int_equal(l->loaded, 0);
        /* found by name, and it is that very entry */
        assert_ptr_equal(manifest_lazy(&m, want[i].rel), l);
    }

    /* not lazy: eager files, prefixes, near misses, deps */
    assert_null(manifest_lazy(&m, "lib/libpython3.11.so.1.0"));
    assert_null(manifest_lazy(&m, "lib/libcrypto.so.3"));
    assert_null(manifest_lazy(&m, "lib/libffi.so.8"));
    assert_null(manifest_lazy(&m, "site/_ssl"));
    assert_null(manifest_lazy(&m, "site/_ssl.cpython-311-x86_64-linux-gnu.so.1"));
    assert_null(manifest_lazy(&m, "site/_ssl.cpython-311-x86_64-linux-gnu.s"));
    assert_null(manifest_lazy(&m, "_ssl.cpython-311-x86_64-linux-gnu.so"));
    assert_null(manifest_lazy(&m, "site/PIL"));
    assert_null(manifest_lazy(&m, ""));
    assert_null(manifest_lazy(&m, "a"));
    assert_null(manifest_lazy(&m, "zzz"));

    manifest_release(&m);
    assert_null(m.lazy);
    assert_int_equal(m.nlazy, 0);
    assert_null(m.libpython);
    manifest_release(&m); /* twice is harmless: it left m empty */
}

static void test_no_lazy(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse(HEAD, &m), 0);
    assert_int_equal(m.nlazy, 0);
    assert_null(m.lazy);
    assert_null(manifest_lazy(&m, "site/x.so"));
    manifest_release(&m);

    /* the minimal one: no name, no preload */
    assert_int_equal(parse("python 3.8\nlibpython lib/libpython3.8.so.1.0\n", &m), 0);
    assert_null(m.name);
    assert_int_equal(m.npreload, 0);
    assert_int_equal(m.nlazy, 0);
    manifest_release(&m);
}

static void test_lazy_crc_values(void **state)
{
    (void)state;
    struct {
        const char *hex;
        uint32_t crc;
    } ok[] = {
        {"deadbeef", 0xdeadbeefu}, {"00000000", 0},           {"ffffffff", 0xffffffffu},
        {"00000001", 1},           {"80000000", 0x80000000u}, {"0123abcd", 0x0123abcdu},
        {"DEADBEEF", 0xdeadbeefu}, /* upper case is hex too (bundle writes lower) */
        {"DeAdBeEf", 0xdeadbeefu},
    };

    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        struct stub_manifest m;
        char line[64];

        snprintf(line, sizeof line, "lazy %s site/x.so", ok[i].hex);
        assert_int_equal(parse_with(line, &m), 0);
        assert_int_equal(m.nlazy, 1);
        assert_int_equal(m.lazy[0].crc, ok[i].crc);
        assert_string_equal(m.lazy[0].rel, "site/x.so");
        assert_int_equal(m.lazy[0].ndeps, 0);
        manifest_release(&m);
    }
}

/* Deps: any number, kept in their order (dependencies first, as written),
 * even when repeated or equal to another entry's path. */
static void test_lazy_deps_order(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse(HEAD "lazy 00000001 site/b.so lib/z.so lib/a.so lib/m.so lib/a.so site/a.so\n"
                                "lazy 00000002 site/a.so\n",
                           &m),
                     0);
    assert_int_equal(m.nlazy, 2);
    const struct stub_lazy *b = manifest_lazy(&m, "site/b.so");
    assert_non_null(b);
    assert_ptr_equal(b, &m.lazy[1]);
    assert_int_equal(b->crc, 1);
    assert_int_equal(b->ndeps, 5);
    assert_string_equal(b->deps[0], "lib/z.so");
    assert_string_equal(b->deps[1], "lib/a.so");
    assert_string_equal(b->deps[2], "lib/m.so");
    assert_string_equal(b->deps[3], "lib/a.so");
    assert_string_equal(b->deps[4], "site/a.so");
    assert_int_equal(manifest_lazy(&m, "site/a.so")->ndeps, 0);
    manifest_release(&m);
}

/* ---- hostile lazy lines: each one fails the whole parse ---- */

static void test_lazy_rejects(void **state)
{
    (void)state;
    char longpath[PAYLOAD_PATH_MAX + 2], *line;
    const char *bad[] = {
        /* the CRC: exactly 8 hex digits */
        "lazy 1234567 site/x.so",   /* 7 */
        "lazy 123456789 site/x.so", /* 9 */
        "lazy 0 site/x.so",
        "lazy  site/x.so",          /* none: the path is taken for it */
        "lazy 0000000g site/x.so",  /* not hex */
        "lazy g0000000 site/x.so",
        "lazy 1234 5678 site/x.so", /* split */
        "lazy 1234567\t site/x.so", /* a tab in it, at the end */
        "lazy -1234567 site/x.so",  /* negative */
        /* what strtoul would take: a prefix, a sign, leading blanks */
        "lazy 0x123456 site/x.so",
        "lazy 0X123456 site/x.so",
        "lazy +1234567 site/x.so",
        "lazy +0x12345 site/x.so",
        "lazy -0000000 site/x.so",
        "lazy -0x00000 site/x.so",
        "lazy \t1234567 site/x.so",
        "lazy \v\f\r12345 site/x.so",
        /* control bytes in a path: a tab-separated or CRLF line */
        "lazy deadbeef site/x.so\tlib/a.so",
        "lazy deadbeef site/x.so\r",
        "lazy deadbeef site/x.so lib/a.so\r",
        "lazy -0000001 site/x.so",
        "lazy 0x1234567 site/x.so", /* 9 with the prefix */
        "lazy 123456789abcdef0 site/x.so",
        /* the path */
        "lazy",                     /* no space: not a key/value line, see below */
        "lazy ",
        "lazy deadbeef",
        "lazy deadbeef ",
        "lazy deadbeef   ",
        "lazy deadbeef ../x",
        "lazy deadbeef site/../../x",
        "lazy deadbeef site/..",
        "lazy deadbeef ..",
        "lazy deadbeef .",
        "lazy deadbeef ./x",
        "lazy deadbeef /abs",
        "lazy deadbeef /etc/passwd",
        "lazy deadbeef a//b",
        "lazy deadbeef a/./b",
        "lazy deadbeef a/b/",
        "lazy deadbeef a\\b",
        "lazy deadbeef ..\\x",
        /* a dep: the same rules */
        "lazy deadbeef site/x.so ../x",
        "lazy deadbeef site/x.so /abs",
        "lazy deadbeef site/x.so /lib/libc.so.6",
        "lazy deadbeef site/x.so lib/ok.so a//b",
        "lazy deadbeef site/x.so a/./b lib/ok.so",
        "lazy deadbeef site/x.so lib/..",
        "lazy deadbeef site/x.so .",
        "lazy deadbeef site/x.so a\\b",
        "lazy deadbeef site/x.so lib/ok.so lib/ok2.so lib/x/",
    };

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct stub_manifest m;
        int rc = parse_with(bad[i], &m);
        if (strcmp(bad[i], "lazy") == 0) {
            /* a bare key has no value: skipped like any line without a
             * space, so the manifest stands (and has no lazy entry) */
            assert_int_equal(rc, 0);
            assert_int_equal(m.nlazy, 0);
            manifest_release(&m);
            continue;
        }
        if (rc != -1)
            fail_msg("accepted: \"%s\"", bad[i]);
    }

    /* a path of PAYLOAD_PATH_MAX bytes is fine, one more is not: as the
     * path, and as a dep */
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    for (int over = 0; over <= 1; over++) {
        struct stub_manifest m;
        longpath[PAYLOAD_PATH_MAX + over] = '\0';
        assert_int_equal(strlen(longpath), PAYLOAD_PATH_MAX + over);

        assert_true(asprintf(&line, "lazy deadbeef %s", longpath) > 0);
        assert_int_equal(parse_with(line, &m), over ? -1 : 0);
        if (!over) {
            assert_int_equal(m.nlazy, 1);
            assert_string_equal(m.lazy[0].rel, longpath);
            manifest_release(&m);
        }
        free(line);

        assert_true(asprintf(&line, "lazy deadbeef site/x.so lib/a.so %s", longpath) > 0);
        assert_int_equal(parse_with(line, &m), over ? -1 : 0);
        if (!over) {
            assert_int_equal(m.lazy[0].ndeps, 2);
            assert_string_equal(m.lazy[0].deps[1], longpath);
            manifest_release(&m);
        }
        free(line);
        longpath[PAYLOAD_PATH_MAX + over] = 'a';
    }
}

/* A bad lazy line after good ones (with deps allocated), and a good
 * manifest around it: all of it is released (LSan checks), and a good
 * parse of the same m afterwards works. */
static void test_lazy_reject_after_good(void **state)
{
    (void)state;
    struct stub_manifest m;
    const char *tails[] = {
        "lazy 0000000g site/z.so lib/a.so\n",
        "lazy deadbeef site/z.so lib/a.so lib/b.so ../c.so\n",
        "lazy deadbeef site/z.so lib/a.so /lib/b.so lib/c.so\n",
        "lazy deadbeef\n",
        "lazy 00000001 site/a.so lib/q.so\n", /* a duplicate, see below */
    };

    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        char *text;
        assert_true(asprintf(&text,
                             HEAD "preload lib/libz.so.1\n"
                                  "lazy 00000001 site/a.so lib/x.so lib/y.so\n"
                                  "lazy 00000002 site/b.so lib/x.so\n"
                                  "%s"
                                  "lazy 00000003 site/c.so lib/y.so\n",
                             tails[i]) > 0);
        if (parse(text, &m) != -1)
            fail_msg("accepted with: %s", tails[i]);
        free(text);
    }
    assert_int_equal(parse(HEAD "lazy 00000001 site/a.so lib/x.so\n", &m), 0);
    assert_int_equal(m.nlazy, 1);
    manifest_release(&m);
}

static void test_lazy_duplicates(void **state)
{
    (void)state;
    struct stub_manifest m;

    /* the same path twice, whatever the CRCs, deps or places */
    assert_int_equal(parse(HEAD "lazy 00000001 site/x.so\nlazy 00000001 site/x.so\n", &m), -1);
    assert_int_equal(parse(HEAD "lazy 00000001 site/x.so lib/a.so\n"
                                "lazy 00000002 site/y.so\n"
                                "lazy 00000003 site/x.so lib/b.so lib/c.so\n",
                           &m),
                     -1);
    assert_int_equal(parse(HEAD "lazy 00000001 a\nlazy 00000002 b\nlazy 00000003 c\nlazy 00000004 d\n"
                                "lazy 00000005 e\nlazy 00000006 f\nlazy 00000007 a\n",
                           &m),
                     -1);
    /* near names are distinct */
    assert_int_equal(parse(HEAD "lazy 00000001 site/x.so\nlazy 00000002 site/x.so.1\n"
                                "lazy 00000003 site/x.s\nlazy 00000004 Site/x.so\n",
                           &m),
                     0);
    assert_int_equal(m.nlazy, 4);
    assert_sorted(&m);
    assert_int_equal(manifest_lazy(&m, "site/x.so")->crc, 1);
    assert_int_equal(manifest_lazy(&m, "site/x.so.1")->crc, 2);
    assert_int_equal(manifest_lazy(&m, "site/x.s")->crc, 3);
    assert_int_equal(manifest_lazy(&m, "Site/x.so")->crc, 4);
    manifest_release(&m);
}

/* Spaces: the lazy value is split on runs of spaces (strtok_r), so extra
 * spaces between or after the fields are accepted; only ' ' separates (a
 * tab is part of a field, and as a path it is accepted: it is a byte like
 * any other to payload_path_safe). */
static void test_lazy_spacing(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse_with("lazy  12345678 site/x.so", &m), 0);
    assert_int_equal(m.lazy[0].crc, 0x12345678u);
    assert_string_equal(m.lazy[0].rel, "site/x.so");
    manifest_release(&m);

    assert_int_equal(parse_with("lazy 12345678    site/x.so   lib/a.so  lib/b.so   ", &m), 0);
    assert_string_equal(m.lazy[0].rel, "site/x.so");
    assert_int_equal(m.lazy[0].ndeps, 2);
    assert_string_equal(m.lazy[0].deps[0], "lib/a.so");
    assert_string_equal(m.lazy[0].deps[1], "lib/b.so");
    manifest_release(&m);

    /* only ' ' separates: a tab is a control byte in the path, refused */
    assert_int_equal(parse_with("lazy 12345678 site/x.so\tlib/a.so", &m), -1);

    /* the key ends at the first space: with a tab there, or a space before
     * it, the line is an unknown key and skipped */
    assert_int_equal(parse_with("lazy\t12345678 site/x.so", &m), 0);
    assert_int_equal(m.nlazy, 0);
    manifest_release(&m);
    assert_int_equal(parse_with(" lazy 12345678 site/x.so", &m), 0);
    assert_int_equal(m.nlazy, 0);
    manifest_release(&m);
}

/* ---- the older rules still hold ---- */

static void test_base_rejects(void **state)
{
    (void)state;
    struct stub_manifest m;
    const char *bad[] = {
        "", /* nothing */
        "python 3.11\n",
        "python 3.11\nname hello\npreload lib/libz.so.1\nlazy deadbeef site/x.so\n",
        "libpython lib/libpython3.11.so.1.0\n",        /* no python */
        "python 2.7\nlibpython lib/libpython2.7.so.1.0\n",
        "python 4.0\nlibpython lib/libpython4.0.so.1.0\n",
        "python 3\nlibpython lib/libpython3.so\n",    /* no minor */
        "python three\nlibpython lib/libpython3.so\n",
        "python 3.11\nlibpython ../lib/libpython3.11.so.1.0\n",
        "python 3.11\nlibpython /usr/lib/libpython3.11.so.1.0\n",
        "python 3.11\nlibpython lib//libpython3.11.so.1.0\n",
        "python 3.11\nlibpython lib/./libpython3.11.so.1.0\n",
        "python 3.11\nlibpython lib\\libpython3.11.so.1.0\n",
        "python 3.11\nlibpython \n",
        HEAD "preload ../libz.so.1\n",
        HEAD "preload /lib/libz.so.1\n",
        HEAD "preload lib//libz.so.1\n",
        HEAD "preload lib/./libz.so.1\n",
        HEAD "preload lib\\libz.so.1\n",
        HEAD "preload lib/libz.so.1\npreload \n",
        /* a good lazy list does not save a bad manifest */
        "python 2.7\nlibpython lib/libpython2.7.so.1.0\nlazy deadbeef site/x.so lib/a.so\n",
        "python 3.11\npreload lib/libz.so.1\nlazy deadbeef site/x.so lib/a.so\nlazy 00000000 site/y.so\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parse(bad[i], &m) != -1)
            fail_msg("accepted: \"%s\"", bad[i]);
}

/* ---- size ---- */

#define MANY 5000

static void test_many_lazy(void **state)
{
    (void)state;
    struct stub_manifest m;
    size_t cap = 64 + (size_t)MANY * 128, len;
    char *text = malloc(cap), rel[64];

    assert_non_null(text);
    len = (size_t)snprintf(text, cap, "%s", HEAD);
    /* written out of order: i * 7919 mod MANY runs over all of 0..MANY-1 */
    for (size_t k = 0; k < MANY; k++) {
        size_t i = (k * 7919) % MANY;
        len += (size_t)snprintf(text + len, cap - len,
                                "lazy %08zx site/pkg%zu/mod%zu.so lib/dep%zu-a.so lib/dep%zu-b.so lib/c.so\n",
                                i * 2654435761u % 0xffffffffu, i % 37, i, i, i % 11);
        assert_true(len < cap);
    }
    assert_int_equal(parse(text, &m), 0);
    free(text);

    assert_int_equal(m.nlazy, MANY);
    assert_sorted(&m);
    for (size_t i = 0; i < MANY; i++) {
        char dep[64];
        snprintf(rel, sizeof rel, "site/pkg%zu/mod%zu.so", i % 37, i);
        const struct stub_lazy *l = manifest_lazy(&m, rel);
        if (!l)
            fail_msg("not found: %s", rel);
        assert_string_equal(l->rel, rel);
        assert_int_equal(l->crc, (uint32_t)(i * 2654435761u % 0xffffffffu));
        assert_int_equal(l->ndeps, 3);
        snprintf(dep, sizeof dep, "lib/dep%zu-a.so", i);
        assert_string_equal(l->deps[0], dep);
        snprintf(dep, sizeof dep, "lib/dep%zu-b.so", i % 11);
        assert_string_equal(l->deps[1], dep);
        assert_string_equal(l->deps[2], "lib/c.so");
    }
    assert_null(manifest_lazy(&m, "site/pkg0/mod5000.so"));
    assert_null(manifest_lazy(&m, "site/pkg1/mod0.so"));
    manifest_release(&m);
}

/* ---- line endings ---- */

static void test_no_trailing_newline(void **state)
{
    (void)state;
    struct stub_manifest m;

    /* the last line counts without its newline */
    assert_int_equal(parse("python 3.11\nlibpython lib/libpython3.11.so.1.0", &m), 0);
    assert_string_equal(m.libpython, "lib/libpython3.11.so.1.0");
    manifest_release(&m);

    assert_int_equal(parse(HEAD "lazy 00000001 site/a.so\nlazy cafebabe site/x.so lib/a.so lib/b.so", &m), 0);
    assert_int_equal(m.nlazy, 2);
    const struct stub_lazy *l = manifest_lazy(&m, "site/x.so");
    assert_non_null(l);
    assert_int_equal(l->crc, 0xcafebabeu);
    assert_int_equal(l->ndeps, 2);
    assert_string_equal(l->deps[1], "lib/b.so");
    manifest_release(&m);

    /* and is checked like any other */
    assert_int_equal(parse(HEAD "lazy cafebabe site/x.so ../b.so", &m), -1);
    assert_int_equal(parse(HEAD "lazy cafebab site/x.so", &m), -1);

    /* blank lines and runs of newlines are skipped */
    assert_int_equal(parse("\n\n\npython 3.11\n\n\nlibpython lib/libpython3.11.so.1.0\n\n\n"
                           "lazy 00000001 site/a.so\n\n",
                           &m),
                     0);
    assert_int_equal(m.nlazy, 1);
    manifest_release(&m);
}

/* CRLF: only '\n' ends a line, so a '\r' would stay at the end of each
 * value; a path with a control byte in it is refused, so a CRLF manifest
 * fails to parse instead of naming files that do not exist. */
static void test_crlf(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse("python 3.11\r\n"
                           "name hello\r\n"
                           "libpython lib/libpython3.11.so.1.0\r\n"
                           "lazy 00000001 site/y.so\r\n",
                           &m),
                     -1);
    /* each kind of line on its own */
    assert_int_equal(parse("python 3.11\nlibpython lib/libpython3.11.so.1.0\r\n", &m), -1);
    assert_int_equal(parse(HEAD "preload lib/libz.so.1\r\n", &m), -1);
    assert_int_equal(parse(HEAD "lazy deadbeef site/x.so lib/a.so\r\n", &m), -1);
    assert_int_equal(parse(HEAD "lazy deadbeef\r\n", &m), -1);
    /* "python X.Y\r": sscanf ignores what follows the minor, so the
     * version rule still holds */
    assert_int_equal(parse("python 2.7\r\nlibpython lib/libpython2.7.so.1.0\n", &m), -1);
}

/* "linked 1": libpython is in the stub; then no libpython line, and one of
 * the two is required */
static void test_linked(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse("python 3.12\nname app\nlinked 1\npreload lib/libgcc_s.so.1\n"
                           "lazy 0000abcd site/x.so\n",
                           &m),
                     0);
    assert_true(m.linked);
    assert_null(m.libpython);
    assert_int_equal(m.nlazy, 1);
    manifest_release(&m);
    /* both, or neither */
    assert_int_equal(parse("python 3.12\nlinked 1\nlibpython lib/libpython3.12.so.1.0\n", &m), -1);
    assert_int_equal(parse("python 3.12\nname app\n", &m), -1);
    assert_int_equal(parse("python 3.12\nlinked 0\n", &m), -1);
    assert_int_equal(parse("python 3.12\nlinked yes\n", &m), -1);
}

/* The lines the stub appends to an entry's copy: "size BYTES PATH" for the
 * files it checks before use, then "sized 1" (a copy cut short lacks it). */
static void test_sizes(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse(HEAD "preload lib/libz.so.1\npreload lib/libffi.so.8\n"
                                "lazy 0000abcd site/b.so lib/libz.so.1\nlazy 00001234 site/a.so\n"
                                "\nsize 1000 lib/libpython3.11.so.1.0\nsize 20 lib/libffi.so.8\n"
                                "size 30 site/b.so\nsize 40 site/a.so\nsize 7 lib/unknown.so\nsized 1\n",
                           &m),
                     0);
    assert_true(m.sized);
    assert_int_equal(m.libpython_size, 1000);
    assert_non_null(m.preload_size);
    assert_int_equal(m.preload_size[0], 0); /* no line: unknown */
    assert_int_equal(m.preload_size[1], 20);
    assert_int_equal(manifest_lazy(&m, "site/a.so")->size, 40);
    assert_int_equal(manifest_lazy(&m, "site/b.so")->size, 30);
    manifest_release(&m);
    /* size lines without "sized 1": not whole */
    assert_int_equal(parse(HEAD "lazy 0000abcd site/b.so\nsize 30 site/b.so\n", &m), 0);
    assert_false(m.sized);
    assert_int_equal(manifest_lazy(&m, "site/b.so")->size, 30);
    manifest_release(&m);
    /* the bundle's own manifest: neither */
    assert_int_equal(parse(HEAD "lazy 0000abcd site/b.so\n", &m), 0);
    assert_false(m.sized);
    assert_null(m.preload_size);
    assert_int_equal(manifest_lazy(&m, "site/b.so")->size, 0);
    manifest_release(&m);
    /* a bad size line fails the whole parse */
    static const char *const bad[] = {
        "size 12\n", "size x12 site/b.so\n", "size -1 site/b.so\n", "size 12 /abs.so\n",
        "size 12 ../up.so\n", "size  12 site/b.so\n", "size 99999999999999999999 site/b.so\n",
        "size 0x10 site/b.so\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(parse_with(bad[i], &m), -1);
}

/* rel of the lazy file m->early[i] names. */
static const char *early_rel(const struct stub_manifest *m, size_t i)
{
    assert_true(i < m->nearly);
    assert_true(m->early[i] < m->nlazy);
    return m->lazy[m->early[i]].rel;
}

/* "early PATH": a lazy file a first start unpacks ahead of the imports, in
 * the order given (which is not the sorted order of the lazy files), each
 * once; a name that is no lazy file is skipped; lines before the lazy
 * lines they name count too. */
static void test_early(void **state)
{
    (void)state;
    struct stub_manifest m;

    assert_int_equal(parse(HEAD "early site/c.so\n"
                                "lazy 0000abcd site/b.so lib/libz.so.1\nlazy 00001234 site/a.so\n"
                                "lazy 00001234 site/c.so\nlazy 00001234 lib/libz.so.1\n"
                                "early site/b.so\nearly site/none.so\nearly site/c.so\nearly lib/libpython3.11.so.1.0\n"
                                "early site/a.so\nearly site/b.so\n",
                           &m),
                     0);
    assert_int_equal(m.nearly, 3);
    assert_string_equal(early_rel(&m, 0), "site/c.so");
    assert_string_equal(early_rel(&m, 1), "site/b.so");
    assert_string_equal(early_rel(&m, 2), "site/a.so");
    manifest_release(&m);
    assert_null(m.early);
    /* none, or none that is lazy */
    assert_int_equal(parse(HEAD "lazy 0000abcd site/b.so\n", &m), 0);
    assert_int_equal(m.nearly, 0);
    assert_null(m.early);
    manifest_release(&m);
    assert_int_equal(parse(HEAD "early site/b.so\n", &m), 0);
    assert_int_equal(m.nearly, 0);
    manifest_release(&m);
    /* a path that is not safe fails the whole parse, as elsewhere */
    static const char *const bad[] = {
        "early /abs.so", "early ../up.so", "early site/a\tb.so", "early site/a.so\r", "early ",
        "early site//a.so",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(parse_with(bad[i], &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_manifest),
        cmocka_unit_test(test_no_lazy),
        cmocka_unit_test(test_lazy_crc_values),
        cmocka_unit_test(test_lazy_deps_order),
        cmocka_unit_test(test_lazy_rejects),
        cmocka_unit_test(test_lazy_reject_after_good),
        cmocka_unit_test(test_lazy_duplicates),
        cmocka_unit_test(test_lazy_spacing),
        cmocka_unit_test(test_base_rejects),
        cmocka_unit_test(test_many_lazy),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_linked),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
