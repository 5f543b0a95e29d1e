/* test_pack.c - the bundle writer (src/emit/pack.c).
 *
 * Writes bundles with a fake stub into a fresh temp directory and reads them
 * back with the stub's own reader (stub/payload.c), SHA-256 (src/util/sha256.c),
 * zlib's CRC-32 and zstd for the compressed entries, and finally Python's
 * zipfile (which lists them all and reads the stored ones) and zipimport,
 * which must accept the file as it is.  Also: atomicity (no temp file left,
 * nothing under the final name before the commit), reproducibility, abort,
 * and the failures of pack_open and pack_add_file.
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "bundle/emit/pack.h"
#include "bundle/payload.h"
#include "bundle/util/crc32c.h"
#include "bundle/util/sha256.h"
#include "bundle/util/util.h"

#define TAIL_SIZE (PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
#define STUB_LEN 1000
#define MTIME ((time_t)1700000000)

static const char hello_py[] =
    "import pkg\n"
    "print('hello from the bundle', pkg.VALUE)\n";
static const char pkg_init_py[] = "VALUE = 42\n";

/* ---- fixture: a temp dir per test ---- */

struct fx {
    char dir[64];
    uint8_t stub[STUB_LEN];
    uint8_t *big;     /* 300000 bytes of pattern (owned) */
    size_t big_len;
    uint8_t noise[5000]; /* incompressible: stored even when compression is asked */
    char *libfile;    /* a file outside the output dir, for pack_add_file (owned) */
    char libdir[64];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/test_pack.XXXXXX");
    strcpy(f->libdir, "/tmp/test_pack_lib.XXXXXX");
    if (!mkdtemp(f->dir) || !mkdtemp(f->libdir))
        return -1;
    memcpy(f->stub, "\x7f" "ELF", 4);
    for (size_t i = 4; i < STUB_LEN; i++)
        f->stub[i] = (uint8_t)(i * 31);
    f->big_len = 300000;
    f->big = malloc(f->big_len);
    if (!f->big)
        return -1;
    for (size_t i = 0; i < f->big_len; i++)
        f->big[i] = (uint8_t)((i * 2654435761u) >> 13);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof f->noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        f->noise[i] = (uint8_t)x;
    }
    f->libfile = util_join(f->libdir, "libfoo.so.1");
    FILE *fp = fopen(f->libfile, "wb");
    if (!fp)
        return -1;
    fputs("\x7f" "ELF fake shared library\n", fp);
    fputc(0, fp);
    fputs("after a NUL", fp);
    fclose(fp);
    umask(022);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    nftw(f->libdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f->big);
    free(f->libfile);
    free(f);
    return 0;
}

/* The names in dir (sorted, '\n'-joined; caller frees). */
static char *list_dir(const char *dir)
{
    struct dirent **ents = NULL;
    struct buf b = {0};
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return strdup("(cannot list)");
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
            buf_printf(&b, "%s\n", ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    return b.data ? b.data : strdup("");
}

static void assert_dir_is(const char *dir, const char *expect)
{
    char *got = list_dir(dir);
    if (strcmp(got, expect) != 0)
        print_error("directory %s holds:\n%s-- expected:\n%s--\n", dir, got, expect);
    assert_string_equal(got, expect);
    free(got);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    char *data = NULL;
    struct err err = {0};
    if (util_read_file(path, (size_t)1 << 30, &data, len, &err) != 0)
        fail_msg("%s", err.msg);
    return (uint8_t *)data;
}

/* ---- the entries every bundle below holds, in order ---- */

enum add_how { ADD_DATA, ADD_FILE, ADD_DIR, ADD_NOISE };

struct spec {
    const char *name;
    enum add_how how;
    bool compress;
    const void *data; /* NULL: the fixture's big buffer (ADD_DATA) or lib file (ADD_FILE) */
    size_t len;
};

static const uint8_t binary[] = {0, 1, 2, 0xff, 0, 'P', 'K', 3, 4, 0};

static const struct spec specs[] = {
    {"_bundle_boot.pyc", ADD_DATA, true, "\x0d\x0d\x0a\x00 not really bytecode", 23},
    {"_native/", ADD_DIR, false, NULL, 0},
    {"_native/lib/libfoo.so.1", ADD_FILE, false, NULL, 0},
    {"_native/manifest", ADD_DATA, false, "python 3.11\npreload lib/libfoo.so.1\n", 36},
    {"_native/big.bin", ADD_DATA, false, NULL, 0},
    {"big.zst", ADD_DATA, true, NULL, 0},
    {"binary.bin", ADD_DATA, false, binary, sizeof binary},
    {"empty.txt", ADD_DATA, false, "", 0},
    {"hello.py", ADD_DATA, true, hello_py, sizeof hello_py - 1},
    {"noise.bin", ADD_NOISE, true, NULL, 0},
    {"pkg/", ADD_DIR, false, NULL, 0},
    {"pkg/__init__.py", ADD_DATA, true, pkg_init_py, sizeof pkg_init_py - 1},
};
#define NSPECS (sizeof specs / sizeof *specs)

/* The bytes spec i holds (the lib file's are read; caller frees if *owned). */
static const uint8_t *spec_bytes(const struct fx *f, size_t i, size_t *len, uint8_t **owned)
{
    *owned = NULL;
    if (specs[i].how == ADD_FILE) {
        *owned = read_all(f->libfile, len);
        return *owned;
    }
    if (specs[i].how == ADD_NOISE) {
        *len = sizeof f->noise;
        return f->noise;
    }
    if (specs[i].how == ADD_DATA && !specs[i].data) {
        *len = f->big_len;
        return f->big;
    }
    *len = specs[i].len;
    return specs[i].data;
}

static int add_specs(struct pack *p, const struct fx *f, size_t upto, struct err *err)
{
    for (size_t i = 0; i < upto; i++) {
        const struct spec *s = &specs[i];
        int rc;
        if (s->how == ADD_DIR)
            rc = pack_add_dir(p, s->name, err);
        else if (s->how == ADD_FILE)
            rc = pack_add_file(p, s->name, f->libfile, 0, err);
        else if (s->how == ADD_NOISE)
            rc = pack_add_data(p, s->name, f->noise, sizeof f->noise, PACK_LEVEL_DEFAULT, err);
        else if (s->data)
            rc = pack_add_data(p, s->name, s->data, s->len, s->compress, err);
        else
            rc = pack_add_data(p, s->name, f->big, f->big_len, s->compress, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Builds dir/name with every spec; returns the path (caller frees). */
static char *build(const struct fx *f, const char *dir, const char *name, uint8_t sha[32],
                   uint8_t file_sha[32], uint64_t *size)
{
    struct pack p;
    struct err err = {0};
    char *path = util_join(dir, name);

    assert_non_null(path);
    if (pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err) != 0 || add_specs(&p, f, NSPECS, &err) != 0 ||
        pack_commit(&p, sha, file_sha, &err) != 0)
        fail_msg("building %s: %s", path, err.msg);
    *size = p.size;
    return path;
}

static void sha_of(const void *data, size_t len, uint8_t out[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, out);
}

/* Inflates one zstd frame and compares it with want. */
static void assert_inflates_to(const uint8_t *c, size_t clen, const uint8_t *want, size_t wlen)
{
    uint8_t *out = malloc(wlen + 1);

    assert_non_null(out);
    assert_true(ZSTD_getFrameContentSize(c, clen) == wlen);
    size_t n = ZSTD_decompress(out, wlen + 1, c, clen);
    assert_false(ZSTD_isError(n));
    assert_int_equal(n, wlen);
    if (wlen)
        assert_memory_equal(out, want, wlen);
    free(out);
}

/* ---- tests ---- */

static void test_bundle_layout(void **state)
{
    struct fx *f = *state;
    uint8_t sha[32], file_sha[32], want[32];
    uint64_t size = 0;
    size_t len = 0;
    struct stat st;
    struct payload_trailer t;
    struct payload_cd cd;
    const char *why = NULL;

    char *path = build(f, f->dir, "app", sha, file_sha, &size);
    /* only the final name is left in the directory */
    assert_dir_is(f->dir, "app\n");
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_true(access(path, X_OK) == 0);

    uint8_t *b = read_all(path, &len);
    assert_true((uint64_t)len == size);
    assert_true((uint64_t)st.st_size == size);
    assert_memory_equal(b, f->stub, STUB_LEN);

    /* the trailer */
    assert_true(len > STUB_LEN + TAIL_SIZE);
    int rc = payload_trailer_decode(b + len - TAIL_SIZE, len, &t, &why);
    if (rc != 0)
        fail_msg("decode: %s", why);
    assert_true(t.archive_offset == STUB_LEN);
    assert_true(t.archive_size == len - STUB_LEN - PAYLOAD_TRAILER_SIZE);
    assert_int_equal(t.flags, 0);
    sha_of(b, len - PAYLOAD_TRAILER_SIZE, want);
    assert_memory_equal(t.sha256, want, 32);
    assert_memory_equal(sha, want, 32);
    sha_of(b, len, want);
    assert_memory_equal(file_sha, want, 32);
    /* the check a first start makes: all but itself, in quarters */
    uint32_t check[4];
    crc32c_quarters(b, len - (PAYLOAD_TRAILER_SIZE - PAYLOAD_CHECKED_TAIL), check);
    assert_memory_equal(t.check, check, sizeof check);
    b[STUB_LEN / 2] ^= 1;
    crc32c_quarters(b, len - (PAYLOAD_TRAILER_SIZE - PAYLOAD_CHECKED_TAIL), check);
    assert_memory_not_equal(t.check, check, sizeof check);
    b[STUB_LEN / 2] ^= 1;

    /* the directory: exactly the entries added, in order */
    assert_int_equal(payload_cd_locate(b + len - TAIL_SIZE, &t, &cd, &why), 0);
    assert_true(cd.count == NSPECS);
    uint8_t *dirbuf = malloc(cd.size);
    assert_non_null(dirbuf);
    memcpy(dirbuf, b + cd.offset, cd.size);
    size_t pos = 0, k = 0;
    struct payload_entry e;
    while ((rc = payload_cd_next(dirbuf, &cd, &t, &pos, &e, &why)) == 1) {
        const uint8_t *want_bytes;
        uint8_t *owned;
        size_t want_len;
        uint64_t data;

        assert_true(k < NSPECS);
        if (e.name_len != strlen(specs[k].name) || memcmp(e.name, specs[k].name, e.name_len) != 0)
            fail_msg("entry %zu is '%.*s', expected '%s'", k, (int)e.name_len, e.name, specs[k].name);
        want_bytes = spec_bytes(f, k, &want_len, &owned);
        assert_true(e.usize == want_len);
        /* compressed when asked, unless too small or incompressible */
        bool zst = specs[k].compress && want_len >= PACK_MIN_COMPRESS && specs[k].how != ADD_NOISE;
        assert_int_equal(e.method, zst ? 93 : 0);
        assert_int_equal(e.crc32, (uint32_t)crc32(0, want_bytes, (uInt)want_len));
        assert_true(e.header_offset + 30 <= cd.offset);
        assert_int_equal(payload_entry_data(b + e.header_offset, &e, &t, &data, &why), 0);
        assert_true(data + e.csize <= cd.offset);
        if (zst) {
            assert_true(e.csize < want_len / 10);
            assert_inflates_to(b + data, e.csize, want_bytes, want_len);
        }
        else {
            assert_true(e.csize == want_len);
            if (want_len)
                assert_memory_equal(b + data, want_bytes, want_len);
        }
        free(owned);
        k++;
    }
    if (rc != 0)
        fail_msg("walk: %s", why);
    assert_int_equal(k, NSPECS);
    free(dirbuf);
    free(b);
    free(path);
}

/* Runs a shell command, returns its stdout (caller frees) and exit status. */
static char *run(const char *cmd, int *status)
{
    struct buf out = {0};
    char chunk[4096];
    size_t n;
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&out, chunk, n);
    *status = pclose(p);
    return out.data ? out.data : strdup("");
}

static const char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void test_python_accepts(void **state)
{
    struct fx *f = *state;
    uint8_t sha[32], file_sha[32];
    uint64_t size;
    char *cmd = NULL, *out;
    int status;

    if (access("/usr/bin/python3", X_OK) != 0 && system("command -v python3 >/dev/null 2>&1") != 0) {
        print_message("no python3: zipfile/zipimport check skipped\n");
        skip();
    }
    char *path = build(f, f->dir, "app", sha, file_sha, &size);

    /* zipfile: the names in order, and every CRC checks */
    assert_true(asprintf(&cmd,
                         "%s -I -c 'import sys, zipfile\n"
                         "z = zipfile.ZipFile(sys.argv[1])\n"
                         "for i in z.infolist():\n"
                         "    assert i.compress_type in (0, 93), i\n"
                         "    assert i.compress_type or z.read(i) is not None\n"
                         "assert len(z.comment) == 96, len(z.comment)\n"
                         "print(\",\".join(z.namelist()))' '%s' 2>&1",
                         python(), path) > 0);
    out = run(cmd, &status);
    {
        struct buf want = {0};
        for (size_t i = 0; i < NSPECS; i++)
            buf_printf(&want, "%s%s", i ? "," : "", specs[i].name);
        buf_append(&want, "\n", 1);
        if (status != 0 || strcmp(out, want.data) != 0)
            print_error("zipfile said (status %d):\n%s", status, out);
        assert_int_equal(status, 0);
        assert_string_equal(out, want.data);
        buf_release(&want);
    }
    free(out);
    free(cmd);

    /* zipimport: a module and a package straight from the binary */
    assert_true(asprintf(&cmd, "%s -I -c 'import sys; sys.path.insert(0, sys.argv[1]); import hello' '%s' 2>&1",
                         python(), path) > 0);
    out = run(cmd, &status);
    if (status != 0)
        print_error("zipimport said (status %d):\n%s", status, out);
    assert_int_equal(status, 0);
    assert_string_equal(out, "hello from the bundle 42\n");
    free(out);
    free(cmd);
    free(path);
}

static void test_reproducible(void **state)
{
    struct fx *f = *state;
    uint8_t sha1[32], sha2[32], fs1[32], fs2[32];
    uint64_t s1, s2;
    size_t l1, l2;
    char *d1 = util_join(f->dir, "one"), *d2 = util_join(f->dir, "two");

    assert_int_equal(mkdir(d1, 0755), 0);
    assert_int_equal(mkdir(d2, 0755), 0);
    char *p1 = build(f, d1, "app", sha1, fs1, &s1);
    sleep(1); /* a wall-clock time leaking into the file would differ now */
    char *p2 = build(f, d2, "app", sha2, fs2, &s2);
    uint8_t *b1 = read_all(p1, &l1), *b2 = read_all(p2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    assert_memory_equal(sha1, sha2, 32);
    assert_memory_equal(fs1, fs2, 32);
    free(b1);
    free(b2);
    free(p1);
    free(p2);
    free(d1);
    free(d2);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_atomic_replace(void **state)
{
    struct fx *f = *state;
    struct pack p;
    struct err err = {0};
    uint8_t sha[32], fsha[32];
    char *path = util_join(f->dir, "app");
    char *listing;
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs("old contents", fp);
    fclose(fp);
    assert_int_equal(pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err), 0);
    assert_int_equal(add_specs(&p, f, 4, &err), 0);
    /* while writing: the old file is untouched, a hidden temp file sits beside it */
    listing = list_dir(f->dir);
    assert_non_null(strstr(listing, "app\n"));
    assert_non_null(strstr(listing, ".app.tmp-"));
    assert_int_equal(count_lines(listing), 2);
    free(listing);
    {
        size_t len;
        uint8_t *old = read_all(path, &len);
        assert_int_equal(len, 12);
        free(old);
    }
    assert_int_equal(pack_commit(&p, sha, fsha, &err), 0);
    assert_dir_is(f->dir, "app\n");
    {
        size_t len;
        uint8_t *b = read_all(path, &len);
        assert_true(len == p.size);
        assert_memory_equal(b, f->stub, STUB_LEN);
        free(b);
    }
    pack_abort(&p); /* safe after a commit */
    assert_dir_is(f->dir, "app\n");
    free(path);
}

static void test_relative_name(void **state)
{
    struct fx *f = *state;
    struct pack p;
    struct err err = {0};
    uint8_t sha[32], fsha[32];
    char cwd[4096];

    /* a bare file name: the temp file goes into the current directory */
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    int rc = pack_open(&p, "app", f->stub, STUB_LEN, NULL, 0, MTIME, &err);
    if (rc == 0)
        rc = add_specs(&p, f, 2, &err);
    if (rc == 0)
        rc = pack_commit(&p, sha, fsha, &err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_dir_is(f->dir, "app\n");
}

static void test_abort_leaves_nothing(void **state)
{
    struct fx *f = *state;
    char *path = util_join(f->dir, "app");

    /* after 0, 1 and several entries */
    for (size_t upto = 0; upto <= NSPECS; upto += 3) {
        struct pack p;
        struct err err = {0};
        assert_int_equal(pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err), 0);
        assert_int_equal(add_specs(&p, f, upto, &err), 0);
        pack_abort(&p);
        assert_dir_is(f->dir, "");
        pack_abort(&p); /* twice is harmless */
        assert_dir_is(f->dir, "");
    }
    free(path);
}

static void assert_one_line_naming(const struct err *err, const char *path)
{
    if (!strstr(err->msg, path) || strchr(err->msg, '\n'))
        print_error("message: '%s'\n", err->msg);
    assert_non_null(strstr(err->msg, path));
    assert_null(strchr(err->msg, '\n'));
    assert_true(err->msg[0] != '\0');
    assert_true(err->msg[strlen(err->msg) - 1] != '.');
}

static void test_open_fails(void **state)
{
    struct fx *f = *state;
    char *missing = NULL, *notdir = NULL, *plain = util_join(f->dir, "plain");
    FILE *fp = fopen(plain, "w");

    assert_non_null(fp);
    fclose(fp);
    assert_true(asprintf(&missing, "%s/no/such/dir/app", f->dir) > 0);
    assert_true(asprintf(&notdir, "%s/app", plain) > 0);
    const char *cases[] = {
        missing,         /* the directory does not exist */
        notdir,          /* its "directory" is a regular file */
        "/proc/app",     /* not writable, even for root */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pack p;
        struct err err = {0};
        int rc = pack_open(&p, cases[i], f->stub, STUB_LEN, NULL, 0, MTIME, &err);
        if (rc != -1)
            print_error("case '%s' succeeded\n", cases[i]);
        assert_int_equal(rc, -1);
        assert_int_equal(err.status, 1);
        assert_one_line_naming(&err, cases[i]);
        pack_abort(&p); /* safe after a failed call */
    }
    assert_dir_is(f->dir, "plain\n");

    /* a read-only directory (only meaningful when not root) */
    if (geteuid() != 0) {
        char *ro = util_join(f->dir, "ro"), *path = util_join(f->dir, "ro/app");
        struct pack p;
        struct err err = {0};
        assert_int_equal(mkdir(ro, 0555), 0);
        assert_int_equal(pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err), -1);
        assert_one_line_naming(&err, path);
        assert_dir_is(ro, "");
        chmod(ro, 0755);
        free(ro);
        free(path);
    }
    free(missing);
    free(notdir);
    free(plain);
}

static void test_add_file_fails(void **state)
{
    struct fx *f = *state;
    struct pack p;
    struct err err = {0};
    char *path = util_join(f->dir, "app"), *nofile = util_join(f->libdir, "no-such-lib.so");

    assert_int_equal(pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err), 0);
    assert_int_equal(add_specs(&p, f, 2, &err), 0);
    assert_int_equal(pack_add_file(&p, "_native/lib/missing.so", nofile, 0, &err), -1);
    assert_one_line_naming(&err, nofile);
    /* the failure dropped the temp file; aborting again is safe */
    assert_dir_is(f->dir, "");
    pack_abort(&p);
    assert_dir_is(f->dir, "");
    /* a directory is not a file */
    assert_int_equal(pack_open(&p, path, f->stub, STUB_LEN, NULL, 0, MTIME, &err), 0);
    assert_int_equal(pack_add_file(&p, "_native/lib/dir.so", f->libdir, 0, &err), -1);
    assert_one_line_naming(&err, f->libdir);
    pack_abort(&p);
    assert_dir_is(f->dir, "");
    free(path);
    free(nofile);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bundle_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_python_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reproducible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_file_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
