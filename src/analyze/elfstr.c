/* elfstr.c - the strings of an ELF file that could name Python modules.
 *
 * The file is hostile input: the ELF header, the section and program header
 * tables are parsed in elfstr_ranges.c with every offset, size and count
 * checked against the bytes there are (both classes, both byte orders);
 * what is scanned here is a list of byte ranges cut to the data, merged
 * where they overlap so that no byte is read twice whatever the tables say.
 * zlib streams are inflated under fixed budgets (tries, output per stream,
 * output per file).
 */
#include "elfstr_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Budgets for the zlib streams of one file: Cython's largest string tables
 * are a few hundred KB inflated. */
#define INFLATE_TRIES 4096           /* 78 DA pairs tried */
#define INFLATE_MAX (4u << 20)       /* output of one stream */
#define INFLATE_TOTAL (16u << 20)    /* output of all streams */

/* Runs this short count only as whole C strings (see take_run). */
#define SHORT_RUN 3

/* ---- byte classes -------------------------------------------------------- */

enum { C_OTHER = 0, C_DIGIT = 1, C_START = 2, C_DOT = 3 };

/* C_START: letters and '_' (may start a name part); C_DIGIT; C_DOT.  The
 * name bytes are those with a class. */
static const unsigned char cls[256] = {
    ['.'] = C_DOT,
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT, ['4'] = C_DIGIT,
    ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT, ['8'] = C_DIGIT, ['9'] = C_DIGIT,
    ['_'] = C_START,
    ['A'] = C_START, ['B'] = C_START, ['C'] = C_START, ['D'] = C_START, ['E'] = C_START,
    ['F'] = C_START, ['G'] = C_START, ['H'] = C_START, ['I'] = C_START, ['J'] = C_START,
    ['K'] = C_START, ['L'] = C_START, ['M'] = C_START, ['N'] = C_START, ['O'] = C_START,
    ['P'] = C_START, ['Q'] = C_START, ['R'] = C_START, ['S'] = C_START, ['T'] = C_START,
    ['U'] = C_START, ['V'] = C_START, ['W'] = C_START, ['X'] = C_START, ['Y'] = C_START,
    ['Z'] = C_START,
    ['a'] = C_START, ['b'] = C_START, ['c'] = C_START, ['d'] = C_START, ['e'] = C_START,
    ['f'] = C_START, ['g'] = C_START, ['h'] = C_START, ['i'] = C_START, ['j'] = C_START,
    ['k'] = C_START, ['l'] = C_START, ['m'] = C_START, ['n'] = C_START, ['o'] = C_START,
    ['p'] = C_START, ['q'] = C_START, ['r'] = C_START, ['s'] = C_START, ['t'] = C_START,
    ['u'] = C_START, ['v'] = C_START, ['w'] = C_START, ['x'] = C_START, ['y'] = C_START,
    ['z'] = C_START,
};

/* ---- the candidates seen: a set of strings in one arena ----------------- */

struct slot {
    uint32_t hash;
    uint32_t off; /* into the arena; 0: empty (the arena starts with a NUL) */
};

struct seen {
    struct slot *slots;
    size_t mask;  /* slots - 1, a power of two minus one */
    size_t n;
    char *arena;  /* NUL-terminated names, back to back */
    size_t used, cap;
};

static uint32_t hash_bytes(const unsigned char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

static int seen_grow(struct seen *st)
{
    size_t cap = st->slots ? (st->mask + 1) * 2 : 8192;
    struct slot *v = calloc(cap, sizeof *v);

    if (!v)
        return -1;
    for (size_t i = 0; st->slots && i <= st->mask; i++) {
        size_t j;
        if (!st->slots[i].off)
            continue;
        for (j = st->slots[i].hash & (cap - 1); v[j].off; j = (j + 1) & (cap - 1))
            ;
        v[j] = st->slots[i];
    }
    free(st->slots);
    st->slots = v;
    st->mask = cap - 1;
    return 0;
}

/* Adds s[0..n) unless present.  Returns 1 with *name at the stored copy
 * (valid until the next add), 0 if it was there, -1 (ENOMEM). */
static int seen_add(struct seen *st, const unsigned char *s, size_t n, const char **name)
{
    uint32_t h = hash_bytes(s, n);
    size_t j;

    if ((st->n + 1) * 2 > (st->slots ? st->mask + 1 : 0) && seen_grow(st) < 0)
        return -1;
    for (j = h & st->mask; st->slots[j].off; j = (j + 1) & st->mask) {
        const char *t = st->arena + st->slots[j].off;
        if (st->slots[j].hash == h && memcmp(t, s, n) == 0 && t[n] == '\0')
            return 0;
    }
    if (st->cap - st->used < n + 1) {
        size_t cap = st->cap ? st->cap : 4096;
        char *a;
        while (cap - st->used < n + 1)
            cap *= 2;
        if (!(a = realloc(st->arena, cap)))
            return -1;
        if (!st->cap)
            a[st->used++] = '\0'; /* offset 0 means "empty slot" */
        st->arena = a;
        st->cap = cap;
    }
    st->slots[j].hash = h;
    st->slots[j].off = (uint32_t)st->used;
    memcpy(st->arena + st->used, s, n);
    st->arena[st->used + n] = '\0';
    *name = st->arena + st->used;
    st->used += n + 1;
    st->n++;
    return 1;
}

static void seen_release(struct seen *st)
{
    free(st->slots);
    free(st->arena);
    memset(st, 0, sizeof *st);
}

/* ---- the walk ------------------------------------------------------------ */

struct walk {
    const struct elfstr_sink *sink;
    struct seen seen;
    struct seen seen_whole; /* candidates reported to sink->whole */
    size_t nbytes;        /* name bytes reported */
    int full;             /* a budget is spent: report nothing more */
    int stopped;          /* a callback returned -1 */
    int nomem;
    z_stream z;           /* reused for every try */
    int z_ready;
    unsigned char *zbuf;  /* inflated text (owned) */
    size_t zcap;
    size_t ztries, ztotal;
};

/* A piece of a run: no dot at either end, no "..".  A candidate when every
 * part starts with a letter or '_'.  whole: the piece is a whole C string. */
static int take_piece(struct walk *w, const unsigned char *s, size_t n, int whole)
{
    const char *name;
    int r;

    if (n == 0 || n > ELFSTR_NAME_MAX || cls[s[0]] != C_START)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '.' && cls[s[i + 1]] != C_START) /* s[n-1] is no dot */
            return 0;
    if (w->seen.n >= ELFSTR_MAX_NAMES || w->nbytes + n + 1 > ELFSTR_MAX_BYTES) {
        w->full = 1;
        return 0;
    }
    if (whole && w->sink->whole) {
        if ((r = seen_add(&w->seen_whole, s, n, &name)) < 0) {
            w->nomem = 1;
            return -1;
        }
        if (r == 1 && w->sink->whole(name, w->sink->ctx) != 0) {
            w->stopped = 1;
            return -1;
        }
    }
    if ((r = seen_add(&w->seen, s, n, &name)) < 0) {
        w->nomem = 1;
        return -1;
    }
    if (r == 0)
        return 0;
    w->nbytes += n + 1;
    if (w->sink->name && w->sink->name(name, w->sink->ctx) != 0) {
        w->stopped = 1;
        return -1;
    }
    return 0;
}

/* A maximal run of name bytes; before and after are the bytes around it
 * (NUL at the ends of a range). */
static int take_run(struct walk *w, const unsigned char *s, size_t n, int before, int after,
                    int joined)
{
    size_t a = 0;

    /* Short runs are mostly bytes of binary tables that happen to be
     * letters; a short module name (os, re, io) is a whole C string. */
    if (n <= SHORT_RUN && (before != 0 || after != 0))
        return 0;
    if (n > ELFSTR_NAME_MAX) {
        /* no name; perhaps names joined (a Cython >= 3.2 string table) */
        if (joined && w->sink->joined && w->sink->joined((const char *)s, n, w->sink->ctx) != 0) {
            w->stopped = 1;
            return -1;
        }
        return 0;
    }
    while (a < n) {
        size_t b;
        while (a < n && s[a] == '.')
            a++;
        for (b = a; b < n && !(s[b] == '.' && (b + 1 == n || s[b + 1] == '.')); b++)
            ;
        /* "%s.x", "%zd": the first piece is a printf conversion */
        if (!(before == '%' && a == 0) &&
            take_piece(w, s + a, b - a, a == 0 && b == n && before == 0 && after == 0) < 0)
            return -1;
        if (w->full)
            return 0;
        a = b;
    }
    return 0;
}

/* Reads the runs of p[0..n); long runs go to the joined callback when
 * joined is set (the text of a table already passed whole is not). */
static int scan_runs(struct walk *w, const unsigned char *p, size_t n, int joined)
{
    size_t i = 0;

    while (i < n && !w->full) {
        size_t start;
        if (!cls[p[i]]) {
            i++;
            continue;
        }
        for (start = i; i < n && cls[p[i]]; i++)
            ;
        if (take_run(w, p + start, i - start, start > 0 ? p[start - 1] : 0, i < n ? p[i] : 0,
                     joined) < 0)
            return -1;
    }
    return 0;
}

/* Inflates the zlib stream that may start at p[0..n).  Returns the length
 * of the text in w->zbuf, 0 when it is no stream (or over budget), -1
 * (ENOMEM). */
static long try_inflate(struct walk *w, const unsigned char *p, size_t n)
{
    size_t out = 0;
    int rc;

    if (!w->z_ready) {
        memset(&w->z, 0, sizeof w->z);
        if (inflateInit(&w->z) != Z_OK)
            return -1;
        w->z_ready = 1;
    } else if (inflateReset(&w->z) != Z_OK) {
        return -1;
    }
    w->z.next_in = (unsigned char *)p; /* zlib's API is not const; it only reads */
    w->z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    for (;;) {
        size_t room;
        if (out == w->zcap) {
            size_t cap = w->zcap ? w->zcap * 2 : 64 * 1024;
            unsigned char *b;
            if (cap > INFLATE_MAX)
                break;
            if (!(b = realloc(w->zbuf, cap)))
                return -1;
            w->zbuf = b;
            w->zcap = cap;
        }
        /* every try counts, the failed ones too: garbage can inflate a
         * long way before it breaks a rule */
        if ((room = w->zcap - out) > INFLATE_TOTAL - w->ztotal)
            room = INFLATE_TOTAL - w->ztotal;
        if (room == 0)
            break;
        w->z.next_out = w->zbuf + out;
        w->z.avail_out = (uInt)room;
        rc = inflate(&w->z, Z_NO_FLUSH);
        w->ztotal += room - w->z.avail_out;
        out += room - w->z.avail_out;
        if (rc == Z_STREAM_END)
            return (long)out;
        if (rc == Z_MEM_ERROR)
            return -1;
        if (rc != Z_OK || (w->z.avail_in == 0 && w->z.avail_out > 0))
            return 0; /* not zlib, or cut short */
    }
    return 0; /* over a budget */
}

/* Finds the zlib streams of p[0..n) (Python's zlib.compress(data, 9), the
 * one Cython 3.2 uses, starts with 78 DA) and reads what they inflate to. */
static int scan_zlib(struct walk *w, const unsigned char *p, size_t n)
{
    const unsigned char *q = p, *end = p + n;

    while (!w->full && end - q >= 2 && (q = memchr(q, 0x78, (size_t)(end - q - 1)))) {
        long len;
        if (q[1] != 0xda) {
            q++;
            continue;
        }
        if (w->ztries++ >= INFLATE_TRIES || w->ztotal >= INFLATE_TOTAL)
            return 0;
        if ((len = try_inflate(w, q, (size_t)(end - q))) < 0) {
            w->nomem = 1;
            return -1;
        }
        if (len > 0) {
            if (w->sink->joined && w->sink->joined((const char *)w->zbuf, (size_t)len,
                                                   w->sink->ctx) != 0) {
                w->stopped = 1;
                return -1;
            }
            if (scan_runs(w, w->zbuf, (size_t)len, 0) < 0)
                return -1;
        }
        q += 2;
    }
    return 0;
}

/* The walk over an image; what names it in messages ("'/x.so'"). */
static int scan_image(const unsigned char *p, size_t len, const char *what,
                      const struct elfstr_sink *sink, struct err *err)
{
    struct image im = { .p = p, .len = len };
    struct ranges r = { 0 };
    struct walk w = { .sink = sink };
    const char *why;
    int rc = -1, t;

    if (elfstr_check_header(&im, &why) < 0)
        return err_set(err, 0, "%s %s", what, why);
    if ((t = elfstr_section_ranges(&im, &r)) == 1)
        t = elfstr_segment_ranges(&im, &r);
    if (t < 0) {
        err_set(err, ENOMEM, "cannot read %s", what);
        goto cleanup;
    }
    elfstr_ranges_merge(&r);
    for (size_t i = 0; i < r.n && !w.full; i++) {
        const unsigned char *s = p + r.v[i].off;
        if (scan_runs(&w, s, (size_t)r.v[i].len, 1) < 0 ||
            scan_zlib(&w, s, (size_t)r.v[i].len) < 0)
            break;
    }
    if (w.nomem)
        err_set(err, ENOMEM, "cannot read %s", what);
    else if (!w.stopped)
        rc = 0;
cleanup:
    free(r.v);
    seen_release(&w.seen);
    seen_release(&w.seen_whole);
    if (w.z_ready)
        inflateEnd(&w.z);
    free(w.zbuf);
    return rc;
}

int elfstr_scan_mem(const void *data, size_t len, const struct elfstr_sink *sink,
                    struct err *err)
{
    return scan_image(data, data ? len : 0, "the data", sink, err);
}

int elfstr_scan(const char *path, const struct elfstr_sink *sink, struct err *err)
{
    struct stat st;
    void *map = MAP_FAILED;
    char *what = NULL;
    int fd = -1, rc = -1;

    /* O_NONBLOCK: a FIFO must fail the S_ISREG test, not block the open */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        err_set(err, errno, "cannot open '%s'", path);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        err_set(err, 0, "'%s' is not an ELF file", path);
        goto cleanup;
    }
    if ((uint64_t)st.st_size > SIZE_MAX ||
        (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        err_set(err, errno, "cannot read '%s'", path);
        goto cleanup;
    }
    if (asprintf(&what, "'%s'", path) < 0) {
        what = NULL;
        err_set(err, ENOMEM, "cannot read '%s'", path);
        goto cleanup;
    }
    rc = scan_image(map, (size_t)st.st_size, what, sink, err);
cleanup:
    free(what);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}

int elfstr_each(const char *path, elfstr_name_fn fn, void *ctx, struct err *err)
{
    struct elfstr_sink sink = { .name = fn, .ctx = ctx };
    return elfstr_scan(path, &sink, err);
}

int elfstr_each_mem(const void *data, size_t len, elfstr_name_fn fn, void *ctx,
                    struct err *err)
{
    struct elfstr_sink sink = { .name = fn, .ctx = ctx };
    return elfstr_scan_mem(data, len, &sink, err);
}
