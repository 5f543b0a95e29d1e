/* fuzz_inspect.c - `bundle inspect` and `bundle verify` (src/cli/inspect.c) on a
 * hostile file: the trailer and directory readers of stub/payload.c again,
 * plus inspect.c's own reading of the manifest and of the pyz module index.
 *
 * One input is one file, written to the scratch directory.  An input that
 * starts with "HOLE" + u64 LE offset + u64 LE length is the rest of the
 * input with that many zero bytes inserted at that offset (a sparse hole,
 * length at most 4 GiB + 64 KiB): the way to reach what only a file over
 * 4 GiB can say, in an input of a few bytes.
 *
 * An input without a hole whose trailer decodes gets the right SHA-256
 * written into its trailer, as in fuzz_extract.c: a fuzzer cannot forge it,
 * and verify_run() stops at a wrong one.
 *
 * Promises checked (inspect.h): 0 or -1 with a message; the JSON output is
 * one valid JSON value in valid UTF-8; verify_run() accepts only a file
 * whose SHA-256 matches its trailer (on files up to 16 MiB).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/cli/inspect.h"
#include "bundle/payload.h"
#include "bundle/util/crc32c.h"
#include "bundle/util/sha256.h"
#include "fuzz_util.h"

#define HOLE_MAGIC "HOLE"
#define HOLE_HEADER 20
#define HOLE_MAX ((1ull << 32) + (1ull << 16))
#define SMALL_MAX (16u << 20) /* files above this are inspected once, as JSON */

/* ---- a small JSON checker ---------------------------------------------- */

struct js {
    const char *p, *end;
    int depth;
};

static bool js_value(struct js *j);

static void js_ws(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
        j->p++;
}

static bool js_lit(struct js *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool js_string(struct js *j)
{
    if (j->p >= j->end || *j->p != '"')
        return false;
    for (j->p++; j->p < j->end; j->p++) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (++j->p >= j->end)
                return false;
            if (*j->p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                        return false;
            } else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) {
                return false;
            }
        }
    }
    return false;
}

static bool js_number(struct js *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || strchr(".eE+-", *j->p)) && *j->p)
        j->p++;
    return j->p > s && (s[0] != '-' || j->p > s + 1);
}

static bool js_list(struct js *j, char close, bool keyed)
{
    j->p++;
    js_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return true;
    }
    for (;;) {
        js_ws(j);
        if (keyed) {
            if (!js_string(j))
                return false;
            js_ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return false;
        }
        if (!js_value(j))
            return false;
        js_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == close) {
            j->p++;
            return true;
        }
        if (*j->p++ != ',')
            return false;
    }
}

static bool js_value(struct js *j)
{
    bool ok;
    js_ws(j);
    if (j->p >= j->end || ++j->depth > 64)
        return false;
    switch (*j->p) {
    case '{': ok = js_list(j, '}', true); break;
    case '[': ok = js_list(j, ']', false); break;
    case '"': ok = js_string(j); break;
    case 't': ok = js_lit(j, "true"); break;
    case 'f': ok = js_lit(j, "false"); break;
    case 'n': ok = js_lit(j, "null"); break;
    default: ok = js_number(j); break;
    }
    j->depth--;
    return ok;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || (len == 2 && c < 0xc2) || len > n - i)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

static bool valid_json(const char *s, size_t n)
{
    struct js j = {s, s + n, 0};
    if (!js_value(&j))
        return false;
    js_ws(&j);
    return j.p == j.end && valid_utf8((const unsigned char *)s, n);
}

/* ---- the target ----------------------------------------------------------- */

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Writes the input as the file, with its hole when it asks for one.
 * Returns the file's size. */
static uint64_t write_input(const char *path, const uint8_t *data, size_t size)
{
    uint64_t at, len;
    int fd;

    if (size < HOLE_HEADER || memcmp(data, HOLE_MAGIC, 4) != 0) {
        /* with the right hash and CRC-32Cs when the trailer decodes (see
         * fuzz_extract.c), so that verify_run() gets past the checksums to
         * the entries and the modules */
        uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE];
        struct payload_trailer t;
        const char *why;
        uint8_t *copy = (uint8_t *)fuzz_dup(data, size);
        if (size >= sizeof tail) {
            memcpy(tail, data + size - sizeof tail, sizeof tail);
            if (payload_trailer_decode(tail, size, &t, &why) == 0) {
                struct sha256 s;
                sha256_init(&s);
                sha256_update(&s, copy, (size_t)(t.archive_offset + t.archive_size));
                sha256_final(&s, copy + size - PAYLOAD_TRAILER_SIZE + 48);
                /* and the right CRC-32Cs over it, as a first start checks */
                if (payload_trailer_decode(copy + size - sizeof tail, size, &t, &why) == 0) {
                    crc32c_quarters(copy, (size_t)(t.archive_offset + t.archive_size + PAYLOAD_CHECKED_TAIL), t.check);
                    payload_trailer_encode(&t, copy + size - PAYLOAD_TRAILER_SIZE);
                }
            }
        }
        fuzz_write_file(path, copy, size);
        free(copy);
        return size;
    }
    at = get64(data + 4);
    len = get64(data + 12) % (HOLE_MAX + 1);
    data += HOLE_HEADER;
    size -= HOLE_HEADER;
    if (at > size)
        at = size;
    fuzz_write_file(path, data, (size_t)at);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(pwrite(fd, data + at, size - at, (off_t)(at + len)) == (ssize_t)(size - at));
    FUZZ_CHECK(ftruncate(fd, (off_t)(size + len)) == 0);
    close(fd);
    return size + len;
}

/* 1 if the file's SHA-256 matches its trailer (small files only). */
static bool hash_matches(const char *path, uint64_t fsize)
{
    uint8_t *buf, tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE], digest[SHA256_LEN];
    struct payload_trailer t;
    struct sha256 s;
    const char *why;
    bool ok = false;
    FILE *f = fopen(path, "rb");

    FUZZ_CHECK(f);
    buf = malloc(fsize ? fsize : 1);
    FUZZ_CHECK(buf && fread(buf, 1, fsize, f) == fsize);
    fclose(f);
    if (fsize >= sizeof tail) {
        memcpy(tail, buf + fsize - sizeof tail, sizeof tail);
        if (payload_trailer_decode(tail, fsize, &t, &why) == 0) {
            sha256_init(&s);
            sha256_update(&s, buf, (size_t)(t.archive_offset + t.archive_size));
            sha256_final(&s, digest);
            ok = memcmp(digest, t.sha256, SHA256_LEN) == 0;
        }
    }
    free(buf);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *file;
    struct err err = {0};
    char *text = NULL;
    size_t len = 0;
    uint64_t fsize;
    FILE *out;

    if (!file)
        file = fuzz_path("bundle");
    fsize = write_input(file, data, size);

    FUZZ_CHECK(out = open_memstream(&text, &len));
    if (inspect_run(file, true, out, &err) == 0) {
        FUZZ_CHECK(fclose(out) == 0);
        FUZZ_CHECK(valid_json(text, len));
    } else {
        fclose(out);
        FUZZ_CHECK(err.msg[0]);
    }
    free(text);

    /* the text and verify_run read what JSON read: on small files only, so
     * that a file with a hole of gigabytes is read once */
    if (fsize <= SMALL_MAX) {
        text = NULL;
        FUZZ_CHECK(out = open_memstream(&text, &len));
        memset(&err, 0, sizeof err);
        if (inspect_run(file, false, out, &err) != 0)
            FUZZ_CHECK(err.msg[0]);
        fclose(out);
        free(text);

        memset(&err, 0, sizeof err);
        if (verify_run(file, &err) == 0)
            FUZZ_CHECK(hash_matches(file, fsize));
        else
            FUZZ_CHECK(err.msg[0]);
    }
    return 0;
}
