/* test_inspect.c - `bundle inspect` (src/cli/inspect.c): the stored and unpacked
 * size of every native entry, its compression and kind, and where the bytes
 * of the file go.
 *
 * Bundles are written with the real writer (src/emit/pack.c, src/collect/pyz.c) and a
 * fake stub; some entries are compressed (zstd), so their stored size
 * differs from their unpacked size, as the builder's do.  The
 * sizes inspect prints are checked against the central directory, walked
 * here with the stub's own reader (stub/payload.c), and against what was
 * written.  Names that are not UTF-8, with quotes and control characters,
 * come out of --json as valid JSON (U+FFFD for each stray byte), and the
 * JSON is the whole object or nothing when an allocation fails.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/cli/inspect.h"
#include "bundle/emit/pack.h"
#include "bundle/payload.h"
#include "bundle/collect/pyz.h"
#include "bundle/util/util.h"
#include "json_alloc.h"

#define STUB_LEN 4000
#define MTIME ((time_t)1700000000)
#define TAIL_SIZE (PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
#define EXT_PATH "site/ext.cpython-311-x86_64-linux-gnu.so"
#define BIG_LEN 300000

struct fx {
    char dir[64];
    char *path;             /* the bundle (owned) */
    uint64_t size;          /* its size */
    uint64_t pyz_size;
    uint64_t code_len;      /* the modules' code, once inflated */
    char *json, *text;      /* inspect's outputs (owned) */
};

static uint8_t stub[STUB_LEN];
static char big_text[BIG_LEN]; /* compressible: zstd makes it much smaller */
static uint8_t noise[5000];    /* not compressible */

static void fill(void)
{
    memcpy(stub, "\x7f" "ELF", 4);
    for (size_t i = 4; i < STUB_LEN; i++)
        stub[i] = (uint8_t)(i * 31);
    for (size_t i = 0; i < BIG_LEN; i++)
        big_text[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (uint8_t)x;
    }
}

static char *run_inspect(const char *path, bool json)
{
    char *text = NULL;
    size_t len = 0;
    struct err err = {0};
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    int rc = inspect_run(path, json, out, &err);
    fclose(out);
    if (rc != 0)
        fail_msg("inspect_run: %s", err.msg);
    return text;
}

/* Writes a bundle: a pyz of three modules (one of them an extension
 * module), and native entries of every kind, some compressed. */
static void make_bundle(struct fx *f, const char *manifest, bool with_libpython)
{
    static const char code_a[] = "marshalled code of app, app, app, app, app, app";
    static const char code_p[] = "marshalled code of pkg";
    const struct pyz_item items[] = {
        {"app", code_a, sizeof code_a - 1, 0, NULL},
        {"ext", NULL, 0, PYZ_EXTENSION, EXT_PATH},
        {"ns", NULL, 0, PYZ_NAMESPACE, NULL},
        {"pkg", code_p, sizeof code_p - 1, PYZ_PACKAGE, NULL},
    };
    struct buf pyz = {0};
    struct pack p;
    struct err err = {0};
    uint8_t sha[32];

    f->code_len = (sizeof code_a - 1) + (sizeof code_p - 1);
    assert_int_equal(pyz_build(items, sizeof items / sizeof *items, &pyz, &err), 0);
    f->pyz_size = pyz.len;
    f->path = util_join(f->dir, "app");
    assert_non_null(f->path);
    if (pack_open(&p, f->path, stub, STUB_LEN, pyz.data, pyz.len, MTIME, &err) != 0 ||
        (with_libpython &&
         pack_add_data(&p, "_native/lib/libpython3.11.so.1.0", noise, sizeof noise, false, &err) != 0) ||
        pack_add_data(&p, "_native/lib/libz.so.1", big_text, BIG_LEN, true, &err) != 0 ||
        pack_add_data(&p, PAYLOAD_MANIFEST, manifest, strlen(manifest), false, &err) != 0 ||
        pack_add_dir(&p, "_native/site/", &err) != 0 ||
        pack_add_data(&p, "_native/" EXT_PATH, noise, 3000, false, &err) != 0 ||
        pack_add_data(&p, "_native/site/pkg/data.txt", big_text, 20000, true, &err) != 0 ||
        pack_add_data(&p, "_native/site/pkg/empty", "", 0, false, &err) != 0 ||
        pack_commit(&p, sha, NULL, &err) != 0)
        fail_msg("building %s: %s", f->path, err.msg);
    f->size = p.size;
    buf_release(&pyz);
    f->json = run_inspect(f->path, true);
    f->text = run_inspect(f->path, false);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/test_inspect.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    fill();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->path)
        unlink(f->path);
    rmdir(f->dir);
    free(f->path);
    free(f->json);
    free(f->text);
    free(f);
    return 0;
}

/* The compressed and uncompressed sizes and the method the central
 * directory holds for entry name. */
static void cd_sizes(const char *path, const char *name, uint64_t *csize, uint64_t *usize, uint16_t *method)
{
    uint8_t tail[TAIL_SIZE];
    struct payload_trailer t;
    struct payload_cd cd;
    struct payload_entry e;
    const char *why = NULL;
    size_t pos = 0;
    char *data = NULL;
    size_t len = 0;
    struct err err = {0};
    int r;

    assert_int_equal(util_read_file(path, (size_t)1 << 30, &data, &len, &err), 0);
    memcpy(tail, data + len - TAIL_SIZE, TAIL_SIZE);
    assert_int_equal(payload_trailer_decode(tail, len, &t, &why), 0);
    assert_int_equal(payload_cd_locate(tail, &t, &cd, &why), 0);
    while ((r = payload_cd_next((const uint8_t *)data + cd.offset, &cd, &t, &pos, &e, &why)) == 1)
        if (e.name_len == strlen(name) && memcmp(e.name, name, e.name_len) == 0) {
            *csize = e.csize;
            *usize = e.usize;
            *method = e.method;
            free(data);
            return;
        }
    free(data);
    fail_msg("no entry %s in the central directory", name);
}

struct jfile {
    unsigned long long size, stored, unpacked;
    char compression[16], kind[16];
};

/* The object of "files" named name in inspect's JSON, its fields in the
 * order inspect writes them: the old ones ("name", "size") first. */
static void json_file(const char *json, const char *name, struct jfile *j)
{
    char key[600];
    snprintf(key, sizeof key, "{\"name\": \"%s\", \"size\": ", name);
    const char *files = strstr(json, "\"files\": [");
    assert_non_null(files);
    const char *p = strstr(files, key);
    if (!p)
        fail_msg("no files entry %s in %s", name, json);
    int n = sscanf(p + strlen(key),
                   "%llu, \"stored_size\": %llu, \"unpacked_size\": %llu, \"compression\": \"%15[^\"]\", "
                   "\"kind\": \"%15[^\"]\"}",
                   &j->size, &j->stored, &j->unpacked, j->compression, j->kind);
    if (n != 5)
        fail_msg("files entry %s: %.200s", name, p);
}

struct jkind {
    unsigned long long count, stored, unpacked;
};

static void json_kind(const char *json, const char *kind, struct jkind *k)
{
    char key[64];
    const char *by = strstr(json, "\"by_kind\": {");
    assert_non_null(by);
    snprintf(key, sizeof key, "\"%s\": {", kind);
    const char *p = strstr(by, key);
    if (!p)
        fail_msg("no by_kind.%s in %s", kind, by);
    assert_int_equal(sscanf(p + strlen(key), "\"count\": %llu, \"stored_size\": %llu, \"unpacked_size\": %llu}",
                            &k->count, &k->stored, &k->unpacked),
                     3);
}

static unsigned long long json_number(const char *json, const char *key)
{
    char k[64];
    unsigned long long v;
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(json, k);
    if (!p || sscanf(p + strlen(k), "%llu", &v) != 1)
        fail_msg("no number %s in %s", key, json);
    return v;
}

/* Every entry: the stored size is the central directory's compressed size,
 * the unpacked size (and the old "size") its uncompressed one. */
static void check_entry(const struct fx *f, const char *name, const char *kind, unsigned long long len,
                        bool compressed)
{
    struct jfile j;
    uint64_t csize, usize;
    uint16_t method;
    char line[700];

    json_file(f->json, name, &j);
    cd_sizes(f->path, name, &csize, &usize, &method);
    assert_string_equal(j.kind, kind);
    assert_int_equal(j.size, len);
    assert_int_equal(j.unpacked, len);
    assert_int_equal(usize, len);
    assert_int_equal(j.stored, csize);
    if (compressed) {
        assert_int_equal(method, 93);
        assert_string_equal(j.compression, "zstd");
        assert_true(j.stored < j.unpacked / 4); /* repetitive text */
    } else {
        assert_int_equal(method, 0);
        assert_string_equal(j.compression, "stored");
        assert_int_equal(j.stored, j.unpacked);
    }
    /* the table: stored, unpacked, name (kind[, compression]) */
    const char *label = strcmp(kind, "extension") == 0 ? "extension module"
                        : strcmp(kind, "library") == 0 ? "shared library"
                                                       : kind;
    snprintf(line, sizeof line, "%10llu  %10llu  %s (%s%s)\n", j.stored, j.unpacked, name, label,
             compressed ? ", zstd" : "");
    if (!strstr(f->text, line))
        fail_msg("no line '%s' in:\n%s", line, f->text);
}

static void test_sizes_and_kinds(void **state)
{
    struct fx *f = *state;
    static const char manifest[] = "python 3.11\nname app\nlibpython lib/libpython3.11.so.1.0\n"
                                   "lazy 00000000 " EXT_PATH "\n";

    make_bundle(f, manifest, true);
    check_entry(f, "_native/lib/libpython3.11.so.1.0", "libpython", sizeof noise, false);
    check_entry(f, "_native/lib/libz.so.1", "library", BIG_LEN, true);
    check_entry(f, PAYLOAD_MANIFEST, "manifest", strlen(manifest), false);
    check_entry(f, "_native/site/", "directory", 0, false);
    check_entry(f, "_native/" EXT_PATH, "extension", 3000, false);
    check_entry(f, "_native/site/pkg/data.txt", "data", 20000, true);
    check_entry(f, "_native/site/pkg/empty", "data", 0, false);

    /* the old fields, as they were */
    assert_non_null(strstr(f->json, "\"module_count\": 4, \"file_count\": 7, "));
    assert_non_null(strstr(f->json, "{\"name\": \"ext\", \"size\": 0, \"package\": false, \"namespace\": false, "
                                    "\"extension\": true}"));
    assert_non_null(strstr(f->json, "\"libpython\": \"lib/libpython3.11.so.1.0\""));

    /* the parts of the file */
    assert_int_equal(json_number(f->json, "stub_size"), STUB_LEN);
    assert_int_equal(json_number(f->json, "pyz_size"), f->pyz_size);
    uint64_t files_stored = json_number(f->json, "files_stored_size");
    uint64_t files_unpacked = json_number(f->json, "files_unpacked_size");
    assert_int_equal(files_unpacked, sizeof noise + BIG_LEN + strlen(manifest) + 3000 + 20000);
    assert_true(files_stored < files_unpacked);
    assert_true(json_number(f->json, "archive_size") > files_stored);

    static const char *const kinds[] = {"stub", "modules", "libpython", "extension", "library",
                                        "data", "manifest", "directory", "overhead"};
    static const unsigned long long counts[] = {1, 2, 1, 1, 1, 2, 1, 1, 0};
    unsigned long long total = 0, stored = 0, unpacked = 0;
    struct jkind k;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        json_kind(f->json, kinds[i], &k);
        assert_int_equal(k.count, counts[i]);
        total += k.stored;
        if (i >= 2 && i <= 7) {
            stored += k.stored;
            unpacked += k.unpacked;
        }
    }
    assert_int_equal(total, f->size); /* every byte in one part */
    assert_int_equal(stored, files_stored);
    assert_int_equal(unpacked, files_unpacked);
    json_kind(f->json, "stub", &k);
    assert_int_equal(k.stored, STUB_LEN);
    json_kind(f->json, "modules", &k);
    assert_int_equal(k.stored, f->pyz_size);
    assert_int_equal(k.unpacked, f->code_len); /* inflated */
    json_kind(f->json, "library", &k);
    assert_int_equal(k.unpacked, BIG_LEN);
    assert_true(k.stored < BIG_LEN / 4);
    json_kind(f->json, "overhead", &k);
    assert_true(k.stored > PAYLOAD_TRAILER_SIZE);
    assert_int_equal(k.unpacked, 0);

    /* the table's totals */
    char line[200];
    snprintf(line, sizeof line, "%-22s %12llu\n", "total", (unsigned long long)f->size);
    assert_non_null(strstr(f->text, line));
    assert_non_null(strstr(f->text, "(the bootloader)\n"));
    json_kind(f->json, "data", &k);
    snprintf(line, sizeof line, "%-22s %12llu %12llu %6llu\n", "data", k.stored, k.unpacked, k.count);
    assert_non_null(strstr(f->text, line));
}

/* libpython linked into the stub: no entry of its own. */
static void test_linked(void **state)
{
    struct fx *f = *state;
    struct jkind k;

    make_bundle(f, "python 3.11\nname app\nlinked 1\n", false);
    assert_non_null(strstr(f->json, "\"libpython\": \"linked into the executable\""));
    json_kind(f->json, "libpython", &k);
    assert_int_equal(k.count, 0);
    assert_int_equal(k.stored, 0);
    check_entry(f, "_native/lib/libz.so.1", "library", BIG_LEN, true);
    assert_non_null(strstr(f->text, "(the bootloader, libpython linked in)\n"));
}

/* Hostile names: what the bundle says goes into --json as JSON strings,
 * each byte that is not UTF-8 replaced by U+FFFD. */
#define HOSTILE "\"q\\b\x01\xff\xc3(\x7f"           /* quote, backslash, control, bad UTF-8 */
#define HOSTILE_JSON "\"q\\b\x01\xef\xbf\xbd\xef\xbf\xbd(\x7f" /* ... read back */

static void test_json_hostile(void **state)
{
    struct fx *f = *state;
    static const char manifest[] = "python 3.11\nname app" HOSTILE "\nlinked 1\noptions --x " HOSTILE "\n";
    static const char code[] = "code";
    const struct pyz_item items[] = {{"mod" HOSTILE, code, sizeof code - 1, 0, NULL}};
    struct buf pyz = {0};
    struct pack p;
    struct err err = {0};
    uint8_t sha[32];
    json_error_t je;

    assert_int_equal(pyz_build(items, 1, &pyz, &err), 0);
    f->path = util_join(f->dir, "app" HOSTILE);
    assert_non_null(f->path);
    if (pack_open(&p, f->path, stub, STUB_LEN, pyz.data, pyz.len, MTIME, &err) != 0 ||
        pack_add_data(&p, PAYLOAD_MANIFEST, manifest, strlen(manifest), false, &err) != 0 ||
        pack_add_data(&p, "_native/site/d" HOSTILE, "x", 1, false, &err) != 0 || pack_commit(&p, sha, NULL, &err) != 0)
        fail_msg("building %s: %s", f->path, err.msg);
    buf_release(&pyz);
    f->json = run_inspect(f->path, true);
    json_t *doc = json_loads(f->json, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        fail_msg("not JSON (%s): %s", je.text, f->json);
    char *want = util_join(f->dir, "app" HOSTILE_JSON);
    assert_string_equal(json_string_value(json_object_get(doc, "file")), want);
    free(want);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "app" HOSTILE_JSON);
    assert_string_equal(json_string_value(json_object_get(doc, "options")), "--x " HOSTILE_JSON);
    json_t *m = json_array_get(json_object_get(doc, "modules"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "mod" HOSTILE_JSON);
    json_t *files = json_object_get(doc, "files");
    assert_int_equal(json_array_size(files), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(files, 1), "name")),
                        "_native/site/d" HOSTILE_JSON);
    json_decref(doc);

    /* the table prints the names as they are */
    f->text = run_inspect(f->path, false);
    assert_non_null(strstr(f->text, "_native/site/d" HOSTILE " (data)\n"));
}

/* Every allocation jansson makes failing in turn: -1 with an error, not a
 * byte written, nothing leaked; then the same JSON as without failures. */
static void test_json_out_of_memory(void **state)
{
    struct fx *f = *state;

    json_alloc_fail_after(-1);
    make_bundle(f, "python 3.11\nname app\nlinked 1\n", false);
    assert_int_equal(json_alloc_live, 0);
    for (long n = 0;; n++) {
        char *text = NULL;
        size_t len = 0;
        struct err err = {0};
        FILE *out = open_memstream(&text, &len);
        assert_non_null(out);
        json_alloc_fail_after(n);
        int rc = inspect_run(f->path, true, out, &err);
        json_alloc_fail_after(-1);
        fclose(out);
        assert_int_equal(json_alloc_live, 0);
        if (rc == 0) {
            assert_true(n > 50);
            assert_string_equal(text, f->json);
            free(text);
            break;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.errnum, ENOMEM);
        assert_non_null(strstr(err.msg, "json"));
        assert_int_equal(len, 0);
        free(text);
    }
    json_set_alloc_funcs(malloc, free);
}

/* verify: a bundle whose checksums are right (the writer computed them
 * over what it wrote) but one of whose entries does not inflate to what
 * its directory record says is not intact. */
static void test_verify_entries(void **state)
{
    struct fx *f = *state;
    struct err err = {0};
    const char *bad_why[] = {"size", "crc", "frame"};

    make_bundle(f, "python 3.11\nname app\nlinked 1\n", false);
    assert_int_equal(verify_run(f->path, &err), 0);
    for (size_t i = 0; i < sizeof bad_why / sizeof *bad_why; i++) {
        char *path = util_join(f->dir, bad_why[i]);
        struct pack p;
        struct pack_blob b;
        uint8_t sha[32];
        assert_int_equal(pack_compress(big_text, BIG_LEN, 3, &b), 0);
        assert_int_equal(b.method, 93);
        if (i == 0)
            b.usize--;
        else if (i == 1)
            b.crc32 ^= 1;
        else
            b.csize -= 5; /* the frame cut short */
        assert_int_equal(pack_open(&p, path, "\x7f" "ELF", 4, NULL, 0, MTIME, &err), 0);
        assert_int_equal(pack_add_data(&p, PAYLOAD_MANIFEST, "python 3.11\nlinked 1\n", 22, 0, &err), 0);
        assert_int_equal(pack_add_blob(&p, "_native/lib/libz.so.1", &b, &err), 0);
        assert_int_equal(pack_commit(&p, sha, NULL, &err), 0);
        pack_blob_release(&b);
        memset(&err, 0, sizeof err);
        assert_int_equal(verify_run(path, &err), -1);
        if (!strstr(err.msg, "an entry"))
            fail_msg("%s: %s", bad_why[i], err.msg);
        free(path);
    }
}

/* verify: a bundle whose checksums are right but one of whose modules
 * does not inflate (a byte of its frame changed, or its dictionary's size)
 * is not intact; the same modules untouched are. */
static void test_verify_modules(void **state)
{
    struct fx *f = *state;
    /* enough to train a dictionary on, and small modules that share their
     * lines, not repeat them, so that it pays and is kept */
    enum { N = 256, LEN = 600 };
    static char code[N][LEN], names[N][16], lines[64][80];
    struct pyz_item items[N];
    struct buf pyz = {0};
    struct err err = {0};
    unsigned seed = 7;
    (void)f;

    for (int k = 0; k < 64; k++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(lines[k], sizeof lines[k], "def f%08x(self, x%u):\n    return self.g%08x(x%u)\n", seed, k,
                 seed * 2654435761u, k);
    }
    for (int i = 0; i < N; i++) {
        size_t at = 0;
        memset(code[i], ' ', LEN);
        for (int k = (i * 7) % 64; at + sizeof lines[0] < LEN; k = (k + 11) % 64)
            at += (size_t)snprintf(code[i] + at, LEN - at, "%s", lines[k]);
        snprintf(names[i], sizeof names[i], "m%03d", i);
        items[i] = (struct pyz_item){names[i], code[i], LEN, 0, NULL};
    }
    assert_int_equal(pyz_build(items, N, &pyz, &err), 0);
    uint32_t ixlen = (uint32_t)(uint8_t)pyz.data[0] | (uint32_t)(uint8_t)pyz.data[1] << 8 |
                     (uint32_t)(uint8_t)pyz.data[2] << 16 | (uint32_t)(uint8_t)pyz.data[3] << 24;
    size_t dict_at = 4 + ixlen;
    assert_true(pyz.data[dict_at] || pyz.data[dict_at + 1]); /* a dictionary was trained */
    for (int i = 0; i < 3; i++) {
        char *path = util_join(f->dir, i == 0 ? "mods-ok" : i == 1 ? "mods-frame" : "mods-dict");
        char *bad = malloc(pyz.len);
        struct pack p;
        uint8_t sha[32];
        memcpy(bad, pyz.data, pyz.len);
        if (i == 1)
            bad[pyz.len - 20] ^= 0x5a; /* inside the last module's frame */
        else if (i == 2)
            bad[dict_at + 3] = 0x7f; /* a dictionary larger than the blob */
        assert_int_equal(pack_open(&p, path, "\x7f" "ELF", 4, bad, pyz.len, MTIME, &err), 0);
        assert_int_equal(pack_add_data(&p, PAYLOAD_MANIFEST, "python 3.11\nlinked 1\n", 22, 0, &err), 0);
        assert_int_equal(pack_commit(&p, sha, NULL, &err), 0);
        memset(&err, 0, sizeof err);
        if (i == 0) {
            assert_int_equal(verify_run(path, &err), 0);
        } else {
            assert_int_equal(verify_run(path, &err), -1);
            if (!strstr(err.msg, "module"))
                fail_msg("case %d: %s", i, err.msg);
        }
        free(bad);
        free(path);
    }
    buf_release(&pyz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sizes_and_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_modules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
