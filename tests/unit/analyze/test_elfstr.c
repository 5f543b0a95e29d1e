/* test_elfstr.c - the module-name candidates of an ELF file.
 *
 * Three kinds of input: real extension modules of this machine (skipped
 * when absent), small ELF images built here in memory (every class and byte
 * order, chosen sections, a zlib string table like Cython 3.2's) that pin
 * down the candidate rule and which bytes are read, and hostile images
 * (not ELF, cut short, offsets and counts past the end, random mutations)
 * that must come back as 0 or -1, never as a crash.
 *
 * Why one file over 600 lines: it is the tests of one source file, mostly
 * tables of cases; split, a case would be harder to find than it is to scroll to.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>
#include <zlib.h>

#include "bundle/analyze/elfstr.h"
#include "bundle/util/strvec.h"

#define DYNLOAD "/usr/lib/python3.11/lib-dynload/"
#define DECIMAL DYNLOAD "_decimal.cpython-311-x86_64-linux-gnu.so"
#define NUMPY_DIR "/usr/lib/python3/dist-packages/numpy"
#define NUMPY_MTRAND NUMPY_DIR "/random/mtrand.cpython-311-x86_64-linux-gnu.so"
#define NUMPY_UMATH NUMPY_DIR "/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
#define CRYPTO_OPENSSL \
    "/usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_openssl.abi3.so"
#define CRYPTO_RUST "/usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_rust.abi3.so"

#define SKIP_UNLESS(cond, why) \
    do { \
        if (!(cond)) { \
            print_message("skipped: %s\n", why); \
            skip(); \
        } \
    } while (0)

/* ---- what a walk reported ------------------------------------------------ */

struct got {
    struct strvec names;  /* in the order reported */
    size_t calls;         /* name callbacks, to see that each name came once */
    struct strvec joined; /* joined texts, as C strings */
    size_t stop_after;    /* the name callback returns -1 at this call (0: never) */
};

static int on_name(const char *name, void *ctx)
{
    struct got *g = ctx;
    assert_non_null(name);
    assert_true(strlen(name) >= 1 && strlen(name) <= ELFSTR_NAME_MAX);
    g->calls++;
    assert_int_equal(strvec_push(&g->names, name), 0);
    return g->stop_after && g->calls == g->stop_after ? -1 : 0;
}

static int on_joined(const char *text, size_t len, void *ctx)
{
    struct got *g = ctx;
    char *s = strndup(text, len);
    assert_non_null(s);
    assert_int_equal(strvec_push_owned(&g->joined, s), 0);
    return 0;
}

static void got_release(struct got *g)
{
    strvec_release(&g->names);
    strvec_release(&g->joined);
}

static int has(const struct got *g, const char *name)
{
    return strvec_find(&g->names, name) >= 0;
}

static const char *case_name = ""; /* for the messages of scan() */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scans an image; fails the test unless the walk returns want_rc. */
static void scan(const void *img, size_t len, struct got *g, int want_rc)
{
    struct elfstr_sink sink = { .name = on_name, .joined = on_joined, .ctx = g };
    struct err e = { 0 };
    int rc = elfstr_scan_mem(img, len, &sink, &e);
    if (rc != want_rc)
        fail_msg("%s: elfstr_scan_mem returned %d (%s), not %d", case_name, rc, e.msg, want_rc);
    if (rc < 0 && !g->stop_after) {
        assert_true(e.msg[0] != '\0');
        assert_null(strchr(e.msg, '\n'));
    }
    if (g->names.n > 1) { /* each name once */
        char **v = malloc(g->names.n * sizeof *v);
        assert_non_null(v);
        memcpy(v, g->names.v, g->names.n * sizeof *v);
        qsort(v, g->names.n, sizeof *v, cmp_str);
        for (size_t i = 1; i < g->names.n; i++)
            assert_string_not_equal(v[i - 1], v[i]);
        free(v);
    }
    assert_int_equal(g->calls, g->names.n);
}

static void *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* ---- ELF images built here ----------------------------------------------- */

struct sec {
    const char *name;
    uint32_t type;
    uint64_t flags;
    const void *data;
    size_t len;
};

struct layout {
    int is64, msb;
    int no_sections; /* e_shoff, e_shnum, e_shstrndx 0: segments only */
};

static void put(unsigned char *b, size_t off, unsigned size, uint64_t v, int msb)
{
    for (unsigned i = 0; i < size; i++)
        b[off + (msb ? size - 1 - i : i)] = (unsigned char)(v >> (8 * i));
}

/* Builds an image: header, one PT_LOAD per allocated section (executable
 * ones PF_X), the sections' bytes, .shstrtab, the section table.  Returns a
 * malloc'ed image of *len bytes; *shoff is where the section table is. */
static unsigned char *build(const struct layout *lo, const struct sec *secs, size_t nsec,
                            size_t *len, size_t *shoff_out)
{
    int w = lo->is64 ? 8 : 4, m = lo->msb;
    size_t ehsize = lo->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t phsize = lo->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    size_t shsize = lo->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    size_t nph = 0, off, shoff, names = 1, total;
    size_t *data_off = calloc(nsec + 1, sizeof *data_off), *name_off = calloc(nsec + 1, sizeof *name_off);
    unsigned char *b;
    char strtab[4096] = "";

    assert_non_null(data_off);
    assert_non_null(name_off);
    for (size_t i = 0; i < nsec; i++)
        nph += (secs[i].flags & SHF_ALLOC) != 0;
    off = ehsize + nph * phsize;
    for (size_t i = 0; i < nsec; i++) {
        data_off[i] = off;
        off += secs[i].len;
        name_off[i] = names;
        memcpy(strtab + names, secs[i].name, strlen(secs[i].name) + 1);
        names += strlen(secs[i].name) + 1;
    }
    name_off[nsec] = names;
    memcpy(strtab + names, ".shstrtab", 10);
    names += 10;
    data_off[nsec] = off;
    off += names;
    shoff = (off + 7) & ~(size_t)7;
    total = shoff + (nsec + 2) * shsize;
    b = calloc(1, total);
    assert_non_null(b);

    memcpy(b, ELFMAG, SELFMAG);
    b[EI_CLASS] = lo->is64 ? ELFCLASS64 : ELFCLASS32;
    b[EI_DATA] = m ? ELFDATA2MSB : ELFDATA2LSB;
    b[EI_VERSION] = EV_CURRENT;
    put(b, 16, 2, ET_DYN, m);                          /* e_type */
    put(b, 18, 2, lo->is64 ? EM_X86_64 : EM_PPC, m);   /* e_machine */
    put(b, 20, 4, EV_CURRENT, m);                      /* e_version */
    put(b, 24 + w, w, ehsize, m);                      /* e_phoff */
    if (!lo->no_sections)
        put(b, 24 + 2 * w, w, shoff, m);               /* e_shoff */
    put(b, 28 + 3 * w, 2, ehsize, m);                  /* e_ehsize */
    put(b, 30 + 3 * w, 2, phsize, m);                  /* e_phentsize */
    put(b, 32 + 3 * w, 2, nph, m);                     /* e_phnum */
    put(b, 34 + 3 * w, 2, shsize, m);                  /* e_shentsize */
    if (!lo->no_sections) {
        put(b, 36 + 3 * w, 2, nsec + 2, m);            /* e_shnum */
        put(b, 38 + 3 * w, 2, nsec + 1, m);            /* e_shstrndx */
    }

    for (size_t i = 0, k = 0; i < nsec; i++) {
        size_t ph = ehsize + k * phsize;
        uint32_t pf = PF_R | (secs[i].flags & SHF_EXECINSTR ? PF_X : 0) |
                      (secs[i].flags & SHF_WRITE ? PF_W : 0);
        if (!(secs[i].flags & SHF_ALLOC))
            continue;
        k++;
        put(b, ph, 4, PT_LOAD, m);
        if (lo->is64) {
            put(b, ph + 4, 4, pf, m);
            put(b, ph + 8, 8, data_off[i], m);  /* p_offset */
            put(b, ph + 32, 8, secs[i].len, m); /* p_filesz */
        } else {
            put(b, ph + 4, 4, data_off[i], m);
            put(b, ph + 16, 4, secs[i].len, m);
            put(b, ph + 24, 4, pf, m);
        }
    }
    for (size_t i = 0; i < nsec; i++)
        memcpy(b + data_off[i], secs[i].data, secs[i].len);
    memcpy(b + data_off[nsec], strtab, names);

    for (size_t i = 0; i <= nsec; i++) {
        size_t sh = shoff + (i + 1) * shsize;
        uint32_t type = i < nsec ? secs[i].type : SHT_STRTAB;
        uint64_t flags = i < nsec ? secs[i].flags : 0;
        size_t size = i < nsec ? secs[i].len : names;
        put(b, sh, 4, name_off[i], m);
        put(b, sh + 4, 4, type, m);
        put(b, sh + 8, w, flags, m);
        put(b, sh + 8 + 2 * w, w, data_off[i], m); /* sh_offset */
        put(b, sh + 8 + 3 * w, w, size, m);        /* sh_size */
    }
    free(data_off);
    free(name_off);
    *len = total;
    if (shoff_out)
        *shoff_out = shoff;
    return b;
}

/* One .rodata section of n bytes of text. */
static unsigned char *build_rodata(const char *text, size_t n, size_t *len)
{
    const struct layout lo = { 1, 0, 0 };
    const struct sec s = { ".rodata", SHT_PROGBITS, SHF_ALLOC, text, n };
    return build(&lo, &s, 1, len, NULL);
}

/* ---- the candidate rule -------------------------------------------------- */

#define S(lit) lit, sizeof lit - 1 /* a literal with its NULs, not the last */

static void test_candidate_rule(void **state)
{
    static const struct {
        const char *text;
        size_t len;
        const char *want[6]; /* exactly these, in this order */
    } cases[] = {
        { S("\0numpy\0"), { "numpy" } },
        { S("\0scipy.linalg.cython_lapack\0"), { "scipy.linalg.cython_lapack" } },
        { S("\0lxml._elementpath\0_cffi_backend\0"), { "lxml._elementpath", "_cffi_backend" } },
        /* a name inside a message; the sentence's full stop is no part */
        { S("\0No module named numpy.\0"), { "module", "named", "numpy" } },
        { S("\0numpy.core.multiarray failed to import\0"),
          { "numpy.core.multiarray", "failed", "import" } },
        /* printf conversions are format, not names */
        { S("\0%s.%s\0"), { NULL } },
        { S("\0%zd items of %U\0"), { "items" } },
        { S("\0%.200s\0%-10s\0"), { NULL } },
        /* dots: dropped at the ends, ".." splits */
        { S("\0.hidden\0"), { "hidden" } },
        { S("\0numpy.core..multiarray\0"), { "numpy.core", "multiarray" } },
        /* a part must start like a Python name */
        { S("\0""3.11\0v1.2\0""1abc\0a.1b\0"), { NULL } },
        { S("\0libfoo.so\0"), { "libfoo.so" } },
        /* short runs: whole C strings only */
        { S("\0os\0re\0io\0a\0"), { "os", "re", "io", "a" } },
        { S("\0xx yy\0\x01zz\0qq\x02\0"), { NULL } },
        { S("abc"), { "abc" } }, /* the ends of a section count as NUL */
        /* each name once */
        { S("\0dup\0dup\0dup.x\0dup\0"), { "dup", "dup.x" } },
        /* a section ends a run */
        { S("tail"), { "tail" } },
        /* bytes that are not ASCII end a run */
        { S("\0module\xc3\xa9s\0"), { "module" } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        size_t len, nwant = 0;
        unsigned char *img = build_rodata(cases[i].text, cases[i].len, &len);
        scan(img, len, &g, 0);
        while (nwant < 6 && cases[i].want[nwant])
            nwant++;
        if (g.names.n != nwant)
            fail_msg("case %zu: %zu names, not %zu (first: %s)", i, g.names.n, nwant,
                     g.names.n ? g.names.v[0] : "-");
        for (size_t k = 0; k < nwant; k++)
            if (strcmp(g.names.v[k], cases[i].want[k]) != 0)
                fail_msg("case %zu: name %zu is '%s', not '%s'", i, k, g.names.v[k],
                         cases[i].want[k]);
        got_release(&g);
        free(img);
    }
}

static void test_name_length(void **state)
{
    char text[ELFSTR_NAME_MAX + 3];
    (void)state;
    for (size_t n = ELFSTR_NAME_MAX - 1; n <= ELFSTR_NAME_MAX + 1; n++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        size_t len;
        unsigned char *img;
        text[0] = '\0';
        for (size_t i = 0; i < n; i++)
            text[1 + i] = (char)(i % 10 == 5 ? '.' : 'a' + i % 26);
        text[1 + n] = '\0';
        img = build_rodata(text, n + 2, &len);
        scan(img, len, &g, 0);
        if (n <= ELFSTR_NAME_MAX) {
            assert_int_equal(g.names.n, 1);
            assert_int_equal(strlen(g.names.v[0]), n);
            assert_int_equal(g.joined.n, 0);
        } else {
            /* too long for a name: perhaps names joined */
            assert_int_equal(g.names.n, 0);
            assert_int_equal(g.joined.n, 1);
            assert_int_equal(strlen(g.joined.v[0]), n);
        }
        got_release(&g);
        free(img);
    }
}

/* More distinct names than the budget: the first ELFSTR_MAX_NAMES come, then
 * the walk ends, still a success. */
static void test_name_budget(void **state)
{
    const size_t want = ELFSTR_MAX_NAMES + 10;
    char *text = malloc(want * 8 + 1);
    struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
    unsigned char *img;
    size_t len;
    (void)state;

    assert_non_null(text);
    text[0] = '\0';
    for (size_t i = 0; i < want; i++)
        snprintf(text + 1 + 8 * i, 8, "n%06zu", i); /* 7 bytes and a NUL */
    img = build_rodata(text, want * 8 + 1, &len);
    scan(img, len, &g, 0);
    assert_int_equal(g.names.n, ELFSTR_MAX_NAMES);
    assert_string_equal(g.names.v[0], "n000000");
    got_release(&g);
    free(img);
    free(text);
}

/* ---- which bytes are read ------------------------------------------------ */

static const char rodata[] = "\0ro_name\0";
static const char text_bytes[] = "\0text_name\0";
static const char dynstr[] = "\0dynstr_name\0";
static const char eh_frame[] = "\0eh_name\0";
static const char data_rel_ro[] = "\0relro_name\0";
static const char data[] = "\0data_name\0";
static const char comment[] = "\0comment_name\0";

static const struct sec sections[] = {
    { ".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text_bytes, sizeof text_bytes },
    { ".dynstr", SHT_STRTAB, SHF_ALLOC, dynstr, sizeof dynstr },
    { ".rodata", SHT_PROGBITS, SHF_ALLOC, rodata, sizeof rodata },
    { ".eh_frame", SHT_PROGBITS, SHF_ALLOC, eh_frame, sizeof eh_frame },
    { ".data.rel.ro", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, data_rel_ro, sizeof data_rel_ro },
    { ".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, data, sizeof data },
    { ".comment", SHT_PROGBITS, 0, comment, sizeof comment },
};

static void test_sections_read(void **state)
{
    static const struct layout layouts[] = {
        { 1, 0, 0 }, { 1, 1, 0 }, { 0, 0, 0 }, { 0, 1, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        size_t len;
        unsigned char *img = build(&layouts[i], sections, 7, &len, NULL);
        scan(img, len, &g, 0);
        assert_true(has(&g, "ro_name"));
        assert_true(has(&g, "relro_name"));
        assert_true(has(&g, "data_name"));
        assert_int_equal(g.names.n, 3); /* no code, symbol names, unwind tables, .comment */
        got_release(&g);
        free(img);
    }
}

static void test_segments_without_sections(void **state)
{
    static const struct layout layouts[] = { { 1, 0, 1 }, { 0, 1, 1 } };
    (void)state;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        size_t len;
        unsigned char *img = build(&layouts[i], sections, 7, &len, NULL);
        scan(img, len, &g, 0);
        /* every loaded byte that is not code: no names to skip by */
        assert_true(has(&g, "ro_name"));
        assert_true(has(&g, "data_name"));
        assert_true(has(&g, "dynstr_name"));
        assert_false(has(&g, "text_name"));
        assert_false(has(&g, "comment_name"));
        got_release(&g);
        free(img);
    }
}

/* ---- Cython 3.2's compressed string table -------------------------------- */

static void test_zlib_string_table(void **state)
{
    /* what Cython 3.2 joins: text strings sorted, then the interned ones */
    static const char table[] =
        "Cannot import the module numpy.core.multiarray failed to import"
        "__init____main____name____test__collectionsmathnumpyos";
    unsigned char z[512], sec[600];
    uLongf zlen = sizeof z;
    size_t len, n;
    unsigned char *img;
    struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
    (void)state;

    assert_int_equal(compress2(z, &zlen, (const Bytef *)table, sizeof table - 1, 9), Z_OK);
    assert_true(z[0] == 0x78 && z[1] == 0xda);
    memcpy(sec, "\0zlib\0", 6); /* Cython 3.2 imports zlib to inflate it */
    memcpy(sec + 6, z, zlen);
    n = 6 + zlen;
    sec[n++] = '\0';
    img = build_rodata((const char *)sec, n, &len);
    scan(img, len, &g, 0);
    assert_true(has(&g, "zlib"));
    assert_int_equal(g.joined.n, 1);
    assert_string_equal(g.joined.v[0], table);
    /* what the rule makes of it: the ends of the groups, glued */
    assert_true(has(&g, "numpy.core.multiarray"));
    assert_true(has(&g, "import__init____main____name____test__collectionsmathnumpyos"));
    got_release(&g);
    free(img);

    /* a broken Adler-32: not a table, nothing of it is read */
    sec[n - 2] ^= 0x55;
    img = build_rodata((const char *)sec, n, &len);
    memset(&g, 0, sizeof g);
    scan(img, len, &g, 0);
    assert_int_equal(g.joined.n, 0);
    assert_false(has(&g, "numpy.core.multiarray"));
    got_release(&g);
    free(img);

    /* cut short: no table either */
    img = build_rodata((const char *)sec, 6 + zlen / 2, &len);
    memset(&g, 0, sizeof g);
    scan(img, len, &g, 0);
    assert_int_equal(g.joined.n, 0);
    got_release(&g);
    free(img);
}

/* ---- real extension modules ---------------------------------------------- */

static void test_real_modules(void **state)
{
    static const struct {
        const char *path;
        const char *want[3];
    } cases[] = {
        { DECIMAL, { "numbers", "collections", "collections.abc" } },
        { NUMPY_MTRAND, { "numpy", "numpy.core._multiarray_umath", "numpy.random.bit_generator" } },
        { NUMPY_UMATH, { "numpy.core._exceptions", "numpy.core._methods" } },
        { CRYPTO_OPENSSL, { "_cffi_backend" } },
        { CRYPTO_RUST, { "cryptography" } },
    };
    int ran = 0;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        struct err e = { 0 };
        if (access(cases[i].path, R_OK) != 0) {
            print_message("not here: %s\n", cases[i].path);
            continue;
        }
        ran++;
        if (elfstr_each(cases[i].path, on_name, &g, &e) != 0)
            fail_msg("%s: %s", cases[i].path, e.msg);
        for (size_t k = 0; k < 3 && cases[i].want[k]; k++)
            if (!has(&g, cases[i].want[k]))
                fail_msg("%s: no '%s' among %zu names", cases[i].path, cases[i].want[k],
                         g.names.n);
        assert_true(g.names.n < 20000); /* sane, for a lookup each */
        got_release(&g);
    }
    SKIP_UNLESS(ran, "no extension module of python3.11 here");
}

static void test_file_errors(void **state)
{
    char text[] = "/tmp/test_elfstr.XXXXXX";
    int fd = mkstemp(text);
    const struct {
        const char *path;
        const char *part; /* of the message */
    } cases[] = {
        { "/nonexistent/x.so", "cannot open '/nonexistent/x.so': No such file" },
        { "/", "is not an ELF file" },
        { "/dev/null", "is not an ELF file" },
        { text, "is not an ELF file" },
    };
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "just text\n", 10), 10);
    close(fd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        struct err e = { 0 };
        assert_int_equal(elfstr_each(cases[i].path, on_name, &g, &e), -1);
        assert_non_null(strstr(e.msg, cases[i].path));
        if (cases[i].part && !strstr(e.msg, cases[i].part))
            fail_msg("message '%s' lacks '%s'", e.msg, cases[i].part);
        assert_int_equal(g.calls, 0);
    }
    unlink(text);
}

/* ---- the callback -------------------------------------------------------- */

static void test_callback_stops(void **state)
{
    static const char text[] = "\0one\0two\0three\0";
    struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 2 };
    struct elfstr_sink sink = { .name = on_name, .joined = on_joined, .ctx = &g };
    struct err e = { 0 };
    size_t len;
    unsigned char *img = build_rodata(text, sizeof text, &len);
    (void)state;

    strcpy(e.msg, "the callback's own message");
    assert_int_equal(elfstr_scan_mem(img, len, &sink, &e), -1);
    assert_int_equal(g.calls, 2); /* no call after the -1 */
    assert_string_equal(e.msg, "the callback's own message"); /* untouched */
    got_release(&g);

    /* the short form, same rule */
    memset(&g, 0, sizeof g);
    g.stop_after = 1;
    assert_int_equal(elfstr_each_mem(img, len, on_name, &g, &e), -1);
    assert_int_equal(g.calls, 1);
    got_release(&g);
    free(img);
}

/* ---- hostile images ------------------------------------------------------ */

static void set_field(unsigned char *img, size_t off, unsigned size, uint64_t v)
{
    put(img, off, size, v, 0);
}

static void test_hostile(void **state)
{
    const struct layout lo = { 1, 0, 0 };
    size_t len, shoff;
    unsigned char *img = build(&lo, sections, 7, &len, &shoff);
    unsigned char *buf = malloc(len);
    const size_t sh_rodata = shoff + 3 * sizeof(Elf64_Shdr); /* [0] null, .text, .dynstr, .rodata */
    const size_t sh_offset = offsetof(Elf64_Shdr, sh_offset), sh_size = offsetof(Elf64_Shdr, sh_size);
    static const struct {
        const char *what;
        size_t field;    /* in the header, or 0 */
        unsigned size;
        uint64_t value;
        int sect;        /* field is in the .rodata section header */
        size_t cut;      /* keep this many bytes (0: all) */
        int rc;
    } cases[] = {
        { "empty", 0, 0, 0, 0, SIZE_MAX, -1 },
        { "magic only", 0, 0, 0, 0, 4, -1 },
        { "ident only", 0, 0, 0, 0, EI_NIDENT, -1 },
        { "header cut short", 0, 0, 0, 0, sizeof(Elf64_Ehdr) - 1, -1 },
        { "header only", 0, 0, 0, 0, sizeof(Elf64_Ehdr), 0 },
        { "bad class", EI_CLASS, 1, 7, 0, 0, -1 },
        { "bad byte order", EI_DATA, 1, 0, 0, 0, -1 },
        { "section table past the end", offsetof(Elf64_Ehdr, e_shoff), 8, 1u << 30, 0, 0, 0 },
        { "section table at the last byte", offsetof(Elf64_Ehdr, e_shoff), 8, SIZE_MAX, 0, 0, 0 },
        { "section table wraps", offsetof(Elf64_Ehdr, e_shoff), 8, UINT64_MAX - 8, 0, 0, 0 },
        { "65535 sections", offsetof(Elf64_Ehdr, e_shnum), 2, 0xffff, 0, 0, 0 },
        { "extended count, huge", offsetof(Elf64_Ehdr, e_shnum), 2, 0, 0, 0, 0 },
        { "entry size 1", offsetof(Elf64_Ehdr, e_shentsize), 2, 1, 0, 0, 0 },
        { "entry size 0", offsetof(Elf64_Ehdr, e_shentsize), 2, 0, 0, 0, 0 },
        { "names index out of range", offsetof(Elf64_Ehdr, e_shstrndx), 2, 0xfffe, 0, 0, 0 },
        { "names index extended", offsetof(Elf64_Ehdr, e_shstrndx), 2, SHN_XINDEX, 0, 0, 0 },
        { "program headers past the end", offsetof(Elf64_Ehdr, e_phoff), 8, UINT64_MAX, 0, 0, 0 },
        { "PN_XNUM program headers", offsetof(Elf64_Ehdr, e_phnum), 2, PN_XNUM, 0, 0, 0 },
        { "offset+size overflows", sh_offset, 8, UINT64_MAX - 15, 1, 0, 0 },
        { "size overflows", sh_size, 8, UINT64_MAX, 1, 0, 0 },
        { "offset past the end", sh_offset, 8, 1u << 31, 1, 0, 0 },
        { "size past the end", sh_size, 8, 1u << 31, 1, 0, 0 },
        { "cut in the section table", 0, 0, 0, 0, 1, 0 }, /* cut: len - 1 */
    };
    (void)state;
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        size_t n = len;
        memcpy(buf, img, len);
        if (cases[i].size)
            set_field(buf, cases[i].sect ? sh_rodata + cases[i].field : cases[i].field,
                      cases[i].size, cases[i].value);
        if (cases[i].cut == SIZE_MAX)
            n = 0;
        else if (cases[i].cut == 1)
            n = len - 1;
        else if (cases[i].cut)
            n = cases[i].cut;
        if (strcmp(cases[i].what, "extended count, huge") == 0)
            set_field(buf, shoff + sh_size, 8, UINT64_MAX / 2); /* section 0's sh_size */
        case_name = cases[i].what;
        {
            /* an exact copy: AddressSanitizer sees a read past the end */
            unsigned char *exact = malloc(n ? n : 1);
            assert_non_null(exact);
            memcpy(exact, buf, n);
            scan(exact, n, &g, cases[i].rc);
            free(exact);
        }
        got_release(&g);
    }
    /* not ELF at all */
    case_name = "not ELF";
    {
        static const char *const junk[] = { "hello world", "#!/bin/sh\necho\n", "\x7f""ELF" };
        for (size_t i = 0; i < 3; i++) {
            struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
            scan(junk[i], strlen(junk[i]), &g, -1);
        }
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        scan(NULL, 0, &g, -1);
    }
    free(buf);
    free(img);
}

/* Overlapping sections are read once: a table of many sections all over
 * the same bytes costs one pass. */
static void test_overlapping_sections(void **state)
{
    struct sec many[300];
    static char big[1 << 16];
    const struct layout lo = { 1, 0, 0 };
    size_t len, shoff;
    unsigned char *img;
    struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
    (void)state;

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = i % 8 == 7 ? '\0' : (char)('a' + (i / 8) % 26);
    many[0] = (struct sec){ ".rodata", SHT_PROGBITS, SHF_ALLOC, big, sizeof big };
    for (size_t i = 1; i < 300; i++)
        many[i] = (struct sec){ ".rodata", SHT_PROGBITS, SHF_ALLOC, "", 0 };
    img = build(&lo, many, 300, &len, &shoff);
    /* every section over the first one's bytes, some reaching further */
    for (size_t i = 1; i < 300; i++) {
        size_t sh = shoff + (i + 1) * sizeof(Elf64_Shdr);
        uint64_t off;
        memcpy(&off, img + shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_offset), 8);
        set_field(img, sh + offsetof(Elf64_Shdr, sh_offset), 8, off + i * 7);
        set_field(img, sh + offsetof(Elf64_Shdr, sh_size), 8, sizeof big);
    }
    scan(img, len, &g, 0);
    assert_true(has(&g, "aaaaaaa"));
    assert_true(has(&g, "zzzzzzz"));
    got_release(&g);
    free(img);
}

static void test_mutations(void **state)
{
    const char *src = access(DECIMAL, R_OK) == 0 ? DECIMAL : "/proc/self/exe";
    size_t n, ok = 0;
    unsigned char *orig = read_all(src, &n);
    unsigned char *buf;
    (void)state;

    if (n > 256 * 1024)
        n = 256 * 1024; /* the headers and the start; the table is gone */
    buf = malloc(n);
    assert_non_null(buf);
    for (size_t len = 0; len < n; len += len < 256 ? 1 : 4093) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        unsigned char *exact = malloc(len ? len : 1);
        struct elfstr_sink sink = { .name = on_name, .joined = on_joined, .ctx = &g };
        struct err e;
        assert_non_null(exact);
        memcpy(exact, orig, len);
        ok += elfstr_scan_mem(exact, len, &sink, &e) == 0;
        free(exact);
        got_release(&g);
    }
    srand(11);
    for (int round = 0; round < 400; round++) {
        struct got g = { STRVEC_INIT, 0, STRVEC_INIT, 0 };
        struct elfstr_sink sink = { .name = on_name, .joined = on_joined, .ctx = &g };
        struct err e;
        int flips = 1 + rand() % 8;
        memcpy(buf, orig, n);
        for (int k = 0; k < flips; k++) {
            size_t pos = rand() % 2 ? (size_t)rand() % 128 : (size_t)rand() % n;
            buf[pos] ^= (unsigned char)(1 + rand() % 255);
        }
        if (elfstr_scan_mem(buf, n, &sink, &e) == 0)
            ok++;
        else
            assert_null(strchr(e.msg, '\n'));
        got_release(&g);
    }
    assert_true(ok > 0);
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_rule),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_name_budget),
        cmocka_unit_test(test_sections_read),
        cmocka_unit_test(test_segments_without_sections),
        cmocka_unit_test(test_zlib_string_table),
        cmocka_unit_test(test_real_modules),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_overlapping_sections),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
