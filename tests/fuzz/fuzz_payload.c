/* fuzz_payload.c - the stub's trailer and zip directory reader
 * (stub/payload.c), on a whole bundle file held in memory.
 *
 * The input is the bundle: its last PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE
 * bytes are the tail the stub reads first.  The target walks it in the
 * stub's own order (stub/main.c open_self, stub/fill.c extract): decode the
 * tail, locate the directory, walk its records, read each local header, find
 * each entry's data; and checks every promise of payload.h on the way:
 * whatever is accepted lies inside the file, the walk always moves forward,
 * and payload_path_safe() agrees with a second, independent reading of its
 * contract.  Reading an entry's data (a CRC over it) makes AddressSanitizer
 * the judge of "inside the file".
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bundle/payload.h"
#include "fuzz_util.h"

#define TAIL (PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
#define LOCAL_HEADER 30
#define CD_RECORD_MIN 46

/* payload.h: not empty, not absolute, no "." or ".." component, no empty
 * component, no NUL, no backslash, at most PAYLOAD_PATH_MAX bytes.  Written
 * apart from payload.c, component by component. */
static bool path_safe_oracle(const char *p, size_t len)
{
    size_t start = 0;

    if (len == 0 || len > PAYLOAD_PATH_MAX || memchr(p, '\0', len) || memchr(p, '\\', len))
        return false;
    for (;;) {
        const char *slash = memchr(p + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - p) : len, n = end - start;
        /* an empty component also covers "/abs", "a//b" and "a/" */
        if (n == 0 || (n == 1 && p[start] == '.') || (n == 2 && memcmp(p + start, "..", 2) == 0))
            return false;
        if (!slash)
            return true;
        start = end + 1;
    }
}

static void check_path_safe(const char *p, size_t len)
{
    char *copy = fuzz_dup(p, len);
    FUZZ_CHECK(payload_path_safe(copy, len) == path_safe_oracle(copy, len));
    free(copy);
}

static void walk(const uint8_t *data, size_t size, const uint8_t *tail,
                 const struct payload_trailer *t)
{
    const uint64_t archive_end = (uint64_t)size - PAYLOAD_TRAILER_SIZE;
    struct payload_cd cd;
    struct payload_entry e;
    const char *why = NULL;
    uint8_t *buf;
    size_t pos = 0, records = 0;
    int r;

    if (payload_cd_locate(tail, t, &cd, &why) != 0) {
        FUZZ_CHECK(why && *why);
        return;
    }
    /* the directory lies in the archive, before the end record */
    FUZZ_CHECK(cd.offset >= t->archive_offset && cd.offset <= size - TAIL);
    FUZZ_CHECK(cd.size <= size - TAIL - cd.offset);

    buf = (uint8_t *)fuzz_dup(data + cd.offset, (size_t)cd.size);
    while ((r = payload_cd_next(buf, &cd, t, &pos, &e, &why)) == 1) {
        uint8_t local[LOCAL_HEADER];
        uint64_t off;

        /* forward progress: at least one minimal record a step */
        FUZZ_CHECK(++records <= cd.size / CD_RECORD_MIN);
        FUZZ_CHECK(pos <= cd.size);
        FUZZ_CHECK((const uint8_t *)e.name >= buf && e.name_len <= cd.size &&
                   (const uint8_t *)e.name + e.name_len <= buf + pos);
        /* the local header lies before the directory */
        FUZZ_CHECK(e.header_offset >= t->archive_offset);
        FUZZ_CHECK(e.header_offset <= cd.offset && cd.offset - e.header_offset >= LOCAL_HEADER);
        check_path_safe(e.name, e.name_len);

        memcpy(local, data + e.header_offset, sizeof local);
        why = NULL;
        if (payload_entry_data(local, &e, t, &off, &why) != 0) {
            FUZZ_CHECK(why && *why);
            continue;
        }
        FUZZ_CHECK(off >= e.header_offset + LOCAL_HEADER);
        FUZZ_CHECK(off <= archive_end && e.csize <= archive_end - off);
        FUZZ_CHECK(e.method != 0 || e.csize == e.usize);
        /* what the stub copies out: read it all, in this exact-size buffer */
        (void)crc32(0, data + off, (uInt)e.csize);
    }
    FUZZ_CHECK(r == 0 || (r == -1 && why && *why));
    FUZZ_CHECK(r != 0 || pos == cd.size);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct payload_trailer t;
    uint8_t tail[TAIL], again[PAYLOAD_TRAILER_SIZE];
    const char *why = NULL;

    /* the path checker on the raw bytes too (names from the directory come
     * below, but most inputs never get that far) */
    check_path_safe((const char *)data, size < PAYLOAD_PATH_MAX + 2 ? size : PAYLOAD_PATH_MAX + 2);

    if (size < TAIL)
        return 0;
    memcpy(tail, data + size - TAIL, TAIL);
    if (payload_trailer_decode(tail, size, &t, &why) != 0) {
        FUZZ_CHECK(why && *why);
        return 0;
    }
    /* the archive ends exactly at the trailer; the pyz lies before it */
    FUZZ_CHECK(t.archive_size >= PAYLOAD_EOCD_SIZE && t.archive_offset <= size - PAYLOAD_TRAILER_SIZE);
    FUZZ_CHECK(t.archive_offset + t.archive_size == size - PAYLOAD_TRAILER_SIZE);
    FUZZ_CHECK(t.pyz_offset <= t.archive_offset && t.pyz_size <= t.archive_offset - t.pyz_offset);
    /* what was decoded encodes back to the same bytes */
    payload_trailer_encode(&t, again);
    FUZZ_CHECK(memcmp(again, tail + PAYLOAD_EOCD_SIZE, PAYLOAD_TRAILER_SIZE) == 0);

    walk(data, size, tail, &t);
    return 0;
}
