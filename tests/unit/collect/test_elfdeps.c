/* test_elfdeps.c - the ELF reader and the library closure.
 *
 * Three kinds of input: the real libraries of this machine (libpython, _ssl,
 * numpy; skipped when absent), small libraries built here with gcc to pin
 * down ld.so's search order ($ORIGIN, RPATH against RUNPATH, loaders,
 * LD_LIBRARY_PATH, skipping unusable candidates, cycles), and hostile files
 * (not ELF, truncated, crafted with out-of-range offsets, randomly mutated)
 * that must come back as -1, never as a crash.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>

#include "bundle/collect/elfdeps.h"

#define DEBIAN_LIBPYTHON "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
#define PYENV_LIBPYTHON "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
#define PYENV_SSL \
    "/root/.pyenv/versions/3.11.7/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so"
#define NUMPY_DIR "/usr/lib/python3/dist-packages/numpy"
#define NUMPY_UMATH NUMPY_DIR "/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
#define NUMPY_LINALG NUMPY_DIR "/linalg/_umath_linalg.cpython-311-x86_64-linux-gnu.so"

static char dir[PATH_MAX]; /* the realpath of this run's scratch directory */
static int have_gcc;       /* the gcc-built libraries exist */

/* ---- helpers ------------------------------------------------------------- */

static const char *at(const char *rel)
{
    /* a ring: a test keeps a few of these while it makes more */
    static char buf[64][PATH_MAX];
    static unsigned i;
    char *p = buf[i++ % 64];
    if (snprintf(p, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX)
        fail_msg("path too long: %s/%s", dir, rel);
    return p;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int exists(const char *path)
{
    return access(path, R_OK) == 0;
}

#define SKIP_UNLESS(cond, why) \
    do { \
        if (!(cond)) { \
            print_message("skipped: %s\n", why); \
            skip(); \
        } \
    } while (0)

#define NEED_GCC() SKIP_UNLESS(have_gcc, "gcc is not installed")

static void write_file(const char *path, const void *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
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

static long lib_index(const struct elfdeps_closure *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->libs[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int is_missing(const struct elfdeps_closure *c, const char *name)
{
    for (size_t i = 0; i < c->nmissing; i++)
        if (strcmp(c->missing[i], name) == 0)
            return 1;
    return 0;
}

static int info_needs(const struct elfdeps_info *in, const char *name)
{
    for (size_t i = 0; i < in->nneeded; i++)
        if (strcmp(in->needed[i], name) == 0)
            return 1;
    return 0;
}

/* What every closure must be: no host base, real absolute paths, each name
 * and each file once. */
static void assert_closure_sane(const struct elfdeps_closure *c)
{
    for (size_t i = 0; i < c->n; i++) {
        char *real = realpath(c->libs[i].path, NULL);
        assert_false(elfdeps_is_host_base(c->libs[i].name));
        assert_non_null(real);
        assert_string_equal(real, c->libs[i].path);
        free(real);
        for (size_t j = i + 1; j < c->n; j++) {
            assert_string_not_equal(c->libs[i].name, c->libs[j].name);
            assert_string_not_equal(c->libs[i].path, c->libs[j].path);
        }
    }
    for (size_t i = 0; i < c->nmissing; i++)
        for (size_t j = i + 1; j < c->nmissing; j++)
            assert_string_not_equal(c->missing[i], c->missing[j]);
}

/* Each lib comes after every lib of the closure it needs (cycles aside). */
static void assert_dependency_order(const struct elfdeps_closure *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct elfdeps_info in;
        struct err e;
        assert_int_equal(elfdeps_read(c->libs[i].path, &in, &e), 0);
        for (size_t k = 0; k < in.nneeded; k++) {
            long j = lib_index(c, in.needed[k]);
            if (j >= 0 && (size_t)j >= i)
                fail_msg("%s comes before %s, which it needs", c->libs[i].name, in.needed[k]);
        }
        elfdeps_info_release(&in);
    }
}

static void closure_of(const char *const *roots, size_t n, struct elfdeps_closure *c)
{
    struct err e = { 0 };
    if (elfdeps_closure(roots, n, c, &e) != 0)
        fail_msg("closure failed: %s", e.msg);
    assert_closure_sane(c);
}

static void assert_read_fails(const char *path, const char *msg_part)
{
    struct elfdeps_info in = { 0 };
    struct err e = { 0 };
    if (elfdeps_read(path, &in, &e) != -1)
        fail_msg("elfdeps_read('%s') did not fail", path);
    assert_null(in.needed); /* untouched on failure */
    assert_null(in.soname);
    assert_null(strchr(e.msg, '\n'));
    assert_non_null(strstr(e.msg, path));
    if (msg_part && !strstr(e.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", e.msg, msg_part);
}

/* ---- fixtures: the libraries built with gcc ------------------------------ */

/* Each line builds what one test looks at; names start with libedt so that no
 * system directory can answer for them. */
static const char build_script[] =
    "set -e\n"
    "cd '%s'\n"
    "mkdir -p sub rsub deep deep2 s1 s2 s3 gone cyc al ns link env\n"
    "echo 'int edt_x;' > e.c\n"
    "C='gcc -shared -fPIC -Wl,--no-as-needed'\n"
    "$C -o sub/libedtb.so -Wl,-soname,libedtb.so e.c\n"
    "$C -o libedta.so -Wl,-soname,libedta.so e.c -Lsub -ledtb -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/sub'\n"
    "$C -o rsub/libedtrb.so -Wl,-soname,libedtrb.so e.c\n"
    "$C -o libedtr.so e.c -Lrsub -ledtrb -Wl,--enable-new-dtags '-Wl,-rpath,${ORIGIN}/rsub'\n"
    "cp sub/libedtb.so rsub/libedtrb.so env/\n"
    "$C -o deep/libedtleaf.so -Wl,-soname,libedtleaf.so e.c\n"
    "$C -o deep/libedtmid.so -Wl,-soname,libedtmid.so e.c -Ldeep -ledtleaf\n"
    "$C -o libedttop.so e.c -Ldeep -ledtmid -Wl,-rpath-link,deep -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/deep'\n"
    "$C -o deep2/libedtleaf2.so -Wl,-soname,libedtleaf2.so e.c\n"
    "$C -o deep2/libedtmid2.so -Wl,-soname,libedtmid2.so e.c -Ldeep2 -ledtleaf2\n"
    "$C -o libedttop2.so e.c -Ldeep2 -ledtmid2 -Wl,-rpath-link,deep2 -Wl,--enable-new-dtags '-Wl,-rpath,$ORIGIN/deep2'\n"
    "$C -o s3/libedtskip.so -Wl,-soname,libedtskip.so e.c\n"
    "echo 'not an elf' > s1/libedtskip.so\n"
    "cp s3/libedtskip.so s2/libedtskip.so\n"
    "$C -o libedtskipper.so e.c -Ls3 -ledtskip -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/s1:$ORIGIN/s2:$ORIGIN/s3'\n"
    "$C -o gone/libedtgone.so -Wl,-soname,libedtgone.so e.c\n"
    "$C -o libedtwants.so e.c -Lgone -ledtgone\n"
    "rm gone/libedtgone.so\n"
    "$C -o cyc/libedtc2.so -Wl,-soname,libedtc2.so e.c\n"
    "$C -o cyc/libedtc1.so -Wl,-soname,libedtc1.so e.c -Lcyc -ledtc2 '-Wl,-rpath,$ORIGIN'\n"
    "$C -o cyc/libedtc2.so -Wl,-soname,libedtc2.so e.c -Lcyc -ledtc1 '-Wl,-rpath,$ORIGIN'\n"
    "$C -o libedtcycroot.so e.c -Lcyc -ledtc1 -Wl,-rpath-link,cyc '-Wl,-rpath,$ORIGIN/cyc'\n"
    "$C -o al/libedtx.so e.c\n"
    "ln -s libedtx.so al/libedty.so\n"
    "$C -o libedtalias.so e.c -Lal -ledtx -ledty '-Wl,-rpath,$ORIGIN/al'\n"
    "$C -o ns/libedtns.so e.c\n"
    "$C -o libedtbypath.so e.c \"$PWD/ns/libedtns.so\"\n"
    "ln -s ../libedta.so link/libedta.so\n"
    "$C -o libedtdst.so e.c -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/$PLATFORM:${ORIGIN}/${LIB}::$ORIGINX/y:/abs'\n"
    "$C -o libedtdup.so -Wl,-soname,libedtdup.so e.c -Lsub -ledtb '-Wl,-rpath,$ORIGIN/sub'\n"
    "mkdir -p rp rp2\n"
    "$C -o rp2/libedtrr.so -Wl,-soname,libedtrr.so e.c\n"
    "$C -o rp/libedtrq.so -Wl,-soname,libedtrq.so e.c -Lrp2 -ledtrr -Wl,--enable-new-dtags '-Wl,-rpath,$ORIGIN/none'\n"
    "$C -o libedtrp.so e.c -Lrp -ledtrq -Wl,-rpath-link,rp2 -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/rp:$ORIGIN/rp2'\n"
    "$C -o libedtnob.so e.c -Lsub -ledtb\n"
    "mkdir -p other && cp sub/libedtb.so other/renamed.so\n"
    "gcc -c -fPIC -o obj.o e.c\n";

/* Turns a copy of a library into one for another machine. */
static void set_machine(const char *path, uint16_t machine)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &machine, sizeof machine, offsetof(Elf64_Ehdr, e_machine)),
                     (ssize_t)sizeof machine);
    close(fd);
}

static int group_setup(void **state)
{
    char tmpl[] = "/tmp/test_elfdeps.XXXXXX";
    (void)state;
    if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
        return -1;
    unsetenv("LD_LIBRARY_PATH"); /* the tests set it where they want it */
    have_gcc = system("gcc --version >/dev/null 2>&1") == 0;
    if (!have_gcc) {
        print_message("gcc is not installed: the tests of built libraries are skipped\n");
        return 0;
    }
    if (sh(build_script, dir) != 0) {
        print_error("cannot build the test libraries in %s\n", dir);
        return -1;
    }
    set_machine(at("s2/libedtskip.so"), EM_SPARC);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (dir[0] && strncmp(dir, "/tmp/", 5) == 0 && !getenv("TEST_ELFDEPS_KEEP"))
        sh("rm -rf '%s'", dir);
    return 0;
}

/* ---- elfdeps_is_host_base ------------------------------------------------ */

static void test_host_base_table(void **state)
{
    static const struct { const char *name; int base; } cases[] = {
        { "libc.so.6", 1 }, { "libm.so.6", 1 }, { "libpthread.so.0", 1 },
        { "libdl.so.2", 1 }, { "librt.so.1", 1 }, { "libutil.so.1", 1 },
        { "libresolv.so.2", 1 }, { "libnsl.so.1", 1 }, { "libanl.so.1", 1 },
        { "libmvec.so.1", 1 }, { "libBrokenLocale.so.1", 1 }, { "libthread_db.so.1", 1 },
        { "libnss_files.so.2", 1 }, { "libnss_dns.so.2", 1 },
        { "ld-linux-x86-64.so.2", 1 }, { "ld-linux.so.2", 1 },
        { "ld-linux-aarch64.so.1", 1 }, { "linux-vdso.so.1", 1 },
        { "/lib/x86_64-linux-gnu/libc.so.6", 1 },
        /* not glibc's, or not exactly these names */
        { "libcrypt.so.1", 0 }, { "libgcc_s.so.1", 0 }, { "libstdc++.so.6", 0 },
        { "libz.so.1", 0 }, { "libpython3.11.so.1.0", 0 }, { "libnss3.so", 0 },
        { "libnssutil3.so", 0 }, { "libc.so.60", 0 }, { "libc.so", 0 },
        { "libm.so.6.1", 0 }, { "ld-linux", 0 }, { "ld-musl-x86_64.so.1", 0 },
        { "libssl.so.3", 0 }, { "", 0 }, { NULL, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (elfdeps_is_host_base(cases[i].name) != cases[i].base)
            fail_msg("elfdeps_is_host_base(\"%s\") != %d",
                     cases[i].name ? cases[i].name : "(null)", cases[i].base);
}

/* ---- the real libraries of this machine ---------------------------------- */

static void test_read_libpython(void **state)
{
    struct elfdeps_info in;
    struct err e;
    (void)state;
    SKIP_UNLESS(exists(DEBIAN_LIBPYTHON), DEBIAN_LIBPYTHON " is absent");
    assert_int_equal(elfdeps_read(DEBIAN_LIBPYTHON, &in, &e), 0);
    assert_string_equal(in.soname, "libpython3.11.so.1.0");
    assert_true(info_needs(&in, "libz.so.1"));
    assert_true(info_needs(&in, "libexpat.so.1"));
    assert_true(info_needs(&in, "libm.so.6"));
    assert_true(info_needs(&in, "libc.so.6"));
    assert_int_equal(in.nrpath, 0);
    assert_int_equal(in.nrunpath, 0);
    assert_int_equal(in.glibc_major, 2);
    assert_true(in.glibc_minor >= 2);
    elfdeps_info_release(&in);
    assert_null(in.needed);
    assert_int_equal(in.nneeded, 0);
}

static void test_closure_libpython(void **state)
{
    const char *roots[] = { DEBIAN_LIBPYTHON };
    struct elfdeps_closure c;
    (void)state;
    SKIP_UNLESS(exists(DEBIAN_LIBPYTHON), DEBIAN_LIBPYTHON " is absent");
    closure_of(roots, 1, &c);
    assert_true(lib_index(&c, "libz.so.1") >= 0);
    assert_true(lib_index(&c, "libexpat.so.1") >= 0);
    assert_true(lib_index(&c, "libm.so.6") < 0);
    assert_true(lib_index(&c, "libc.so.6") < 0);
    assert_true(lib_index(&c, "libpython3.11.so.1.0") < 0); /* a root */
    assert_int_equal(c.nmissing, 0);
    assert_int_equal(c.glibc_major, 2);
    assert_true(c.glibc_minor >= 2);
    assert_dependency_order(&c);
    elfdeps_closure_release(&c);
    assert_null(c.libs);
    assert_int_equal(c.n, 0);
}

static void test_closure_pyenv_libpython(void **state)
{
    const char *roots[] = { PYENV_LIBPYTHON };
    struct elfdeps_closure c;
    (void)state;
    SKIP_UNLESS(exists(PYENV_LIBPYTHON), PYENV_LIBPYTHON " is absent");
    closure_of(roots, 1, &c);
    assert_int_equal(c.nmissing, 0);
    assert_int_equal(c.glibc_major, 2);
    assert_true(c.glibc_minor >= 2);
    elfdeps_closure_release(&c);
}

static void test_closure_ssl(void **state)
{
    const char *roots[] = { PYENV_SSL };
    struct elfdeps_closure c;
    long ssl, crypto;
    (void)state;
    SKIP_UNLESS(exists(PYENV_SSL), PYENV_SSL " is absent");
    closure_of(roots, 1, &c);
    ssl = lib_index(&c, "libssl.so.3");
    crypto = lib_index(&c, "libcrypto.so.3");
    assert_true(ssl >= 0);
    assert_true(crypto >= 0);
    assert_true(crypto < ssl); /* libssl needs libcrypto */
    assert_int_equal(c.nmissing, 0);
    assert_dependency_order(&c);
    elfdeps_closure_release(&c);
}

static void test_closure_numpy(void **state)
{
    const char *roots[] = { NUMPY_UMATH, NUMPY_LINALG };
    struct elfdeps_closure c;
    (void)state;
    SKIP_UNLESS(exists(NUMPY_UMATH) && exists(NUMPY_LINALG), "numpy is not installed");
    closure_of(roots, 2, &c);
    assert_true(lib_index(&c, "libblas.so.3") >= 0);
    assert_true(lib_index(&c, "liblapack.so.3") >= 0);
    assert_true(lib_index(&c, "libblas.so.3") < lib_index(&c, "liblapack.so.3"));
    assert_int_equal(c.nmissing, 0);
    assert_dependency_order(&c);
    elfdeps_closure_release(&c);
}

/* An extension needing libpython is satisfied by the libpython root. */
static void test_closure_root_satisfies(void **state)
{
    const char *roots[] = { NUMPY_UMATH, DEBIAN_LIBPYTHON, NUMPY_UMATH };
    struct elfdeps_closure c;
    (void)state;
    SKIP_UNLESS(exists(NUMPY_UMATH) && exists(DEBIAN_LIBPYTHON), "numpy or libpython absent");
    closure_of(roots, 3, &c);
    assert_true(lib_index(&c, "libpython3.11.so.1.0") < 0);
    assert_true(lib_index(&c, "libz.so.1") >= 0);
    assert_true(lib_index(&c, "libblas.so.3") >= 0);
    elfdeps_closure_release(&c);
}

/* ---- ld.so's search order, on libraries built here ----------------------- */

static void test_origin_rpath(void **state)
{
    struct elfdeps_info in;
    struct err e;
    (void)state;
    NEED_GCC();
    assert_int_equal(elfdeps_read(at("libedta.so"), &in, &e), 0);
    assert_string_equal(in.soname, "libedta.so");
    assert_true(in.nneeded >= 1); /* and libc.so.6 */
    assert_string_equal(in.needed[0], "libedtb.so");
    assert_int_equal(in.nrpath, 1);
    assert_string_equal(in.rpath[0], at("sub"));
    assert_int_equal(in.nrunpath, 0);
    elfdeps_info_release(&in);

    /* through a symlink, $ORIGIN is still where the file really is */
    assert_int_equal(elfdeps_read(at("link/libedta.so"), &in, &e), 0);
    assert_int_equal(in.nrpath, 1);
    assert_string_equal(in.rpath[0], at("sub"));
    elfdeps_info_release(&in);
}

static void test_origin_runpath(void **state)
{
    struct elfdeps_info in;
    struct err e;
    (void)state;
    NEED_GCC();
    assert_int_equal(elfdeps_read(at("libedtr.so"), &in, &e), 0);
    assert_null(in.soname);
    assert_int_equal(in.nrpath, 0);
    assert_int_equal(in.nrunpath, 1);
    assert_string_equal(in.runpath[0], at("rsub"));
    elfdeps_info_release(&in);
}

static void test_dst_expansion(void **state)
{
    struct elfdeps_info in;
    struct err e;
    (void)state;
    NEED_GCC();
    assert_int_equal(elfdeps_read(at("libedtdst.so"), &in, &e), 0);
    /* "$ORIGIN/$PLATFORM:${ORIGIN}/${LIB}::$ORIGINX/y:/abs", the empty one dropped */
    assert_int_equal(in.nrpath, 4);
    for (int i = 0; i < 2; i++) {
        assert_null(strchr(in.rpath[i], '$'));
        assert_memory_equal(in.rpath[i], at(""), strlen(at("")));
    }
#if defined(__x86_64__) && !defined(__ILP32__)
    assert_string_equal(in.rpath[0], at("x86_64"));
    assert_true(strcmp(in.rpath[1], at("lib/x86_64-linux-gnu")) == 0 ||
                strcmp(in.rpath[1], at("lib64")) == 0);
#endif
    assert_string_equal(in.rpath[2], "$ORIGINX/y"); /* not a token: kept */
    assert_string_equal(in.rpath[3], "/abs");
    elfdeps_info_release(&in);
}

static void test_closure_rpath_and_runpath(void **state)
{
    const char *a[] = { at("libedta.so") };
    const char *r[] = { at("libedtr.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(a, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtb.so");
    assert_string_equal(c.libs[0].path, at("sub/libedtb.so"));
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);

    closure_of(r, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtrb.so");
    assert_string_equal(c.libs[0].path, at("rsub/libedtrb.so"));
    elfdeps_closure_release(&c);
}

/* RPATH comes before LD_LIBRARY_PATH, RUNPATH after it. */
static void test_closure_ld_library_path_order(void **state)
{
    char env[3 * PATH_MAX + 3];
    const char *a[] = { at("libedta.so") };
    const char *r[] = { at("libedtr.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    snprintf(env, sizeof env, "%s::%s;%s", at("nonexistent"), at("e.c"), at("env"));
    setenv("LD_LIBRARY_PATH", env, 1);
    closure_of(a, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].path, at("sub/libedtb.so"));
    elfdeps_closure_release(&c);
    closure_of(r, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].path, at("env/libedtrb.so"));
    elfdeps_closure_release(&c);
    unsetenv("LD_LIBRARY_PATH");
}

/* A loader's RPATH serves what it loads; a RUNPATH serves only its owner. */
static void test_closure_loader_paths(void **state)
{
    const char *top[] = { at("libedttop.so") };
    const char *top2[] = { at("libedttop2.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(top, 1, &c);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.libs[0].name, "libedtleaf.so");
    assert_string_equal(c.libs[1].name, "libedtmid.so");
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);

    closure_of(top2, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtmid2.so");
    assert_int_equal(c.nmissing, 1);
    assert_string_equal(c.missing[0], "libedtleaf2.so");
    elfdeps_closure_release(&c);

    setenv("LD_LIBRARY_PATH", at("deep2"), 1);
    closure_of(top2, 1, &c);
    unsetenv("LD_LIBRARY_PATH");
    assert_int_equal(c.n, 2);
    assert_string_equal(c.libs[0].name, "libedtleaf2.so");
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);
}

/* A text file and a library for another machine are passed over. */
static void test_closure_skips_unusable(void **state)
{
    const char *roots[] = { at("libedtskipper.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    assert_read_fails(at("s2/libedtskip.so"), "another machine");
    closure_of(roots, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].path, at("s3/libedtskip.so"));
    elfdeps_closure_release(&c);
}

static void test_closure_missing(void **state)
{
    const char *roots[] = { at("libedtwants.so"), at("libedtwants.so"), at("libedta.so") };
    struct elfdeps_closure c;
    const char *nob[] = { at("libedtnob.so") };
    const char *nob_a[] = { at("libedtnob.so"), at("libedta.so") };
    (void)state;
    NEED_GCC();
    closure_of(roots, 3, &c);
    assert_int_equal(c.nmissing, 1);
    assert_true(is_missing(&c, "libedtgone.so"));
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtb.so");
    elfdeps_closure_release(&c);

    /* libedtnob has no path to libedtb; libedta, read after it, has */
    closure_of(nob, 1, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.nmissing, 1);
    assert_string_equal(c.missing[0], "libedtb.so");
    elfdeps_closure_release(&c);
    closure_of(nob_a, 2, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);
}

/* A requester with DT_RUNPATH does not look in its loaders' DT_RPATH. */
static void test_closure_runpath_ignores_loaders(void **state)
{
    const char *roots[] = { at("libedtrp.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(roots, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtrq.so");
    assert_int_equal(c.nmissing, 1);
    assert_string_equal(c.missing[0], "libedtrr.so");
    elfdeps_closure_release(&c);
}

static void test_closure_cycle(void **state)
{
    const char *roots[] = { at("libedtcycroot.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(roots, 1, &c);
    assert_int_equal(c.n, 2);
    assert_true(lib_index(&c, "libedtc1.so") >= 0);
    assert_true(lib_index(&c, "libedtc2.so") >= 0);
    /* c1 was reached first, so the walk lists c2 (its need) before it */
    assert_true(lib_index(&c, "libedtc2.so") < lib_index(&c, "libedtc1.so"));
    elfdeps_closure_release(&c);
}

static void test_closure_dedup(void **state)
{
    const char *two[] = { at("libedta.so"), at("libedtdup.so") };
    const char *soname[] = { at("sub/libedtb.so"), at("libedta.so") };
    const char *alias[] = { at("libedtalias.so") };
    const char *renamed[] = { at("other/renamed.so"), at("libedtnob.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(two, 2, &c); /* both need libedtb.so */
    assert_int_equal(c.n, 1);
    elfdeps_closure_release(&c);

    closure_of(soname, 2, &c); /* a root's soname satisfies libedta */
    assert_int_equal(c.n, 0);
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);

    closure_of(renamed, 2, &c); /* ... even where no search would find it */
    assert_int_equal(c.n, 0);
    assert_int_equal(c.nmissing, 0);
    elfdeps_closure_release(&c);

    closure_of(alias, 1, &c); /* libedty.so is a symlink to libedtx.so */
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtx.so");
    assert_string_equal(c.libs[0].path, at("al/libedtx.so"));
    elfdeps_closure_release(&c);
}

static void test_closure_needed_by_path(void **state)
{
    const char *roots[] = { at("libedtbypath.so") };
    struct elfdeps_closure c;
    (void)state;
    NEED_GCC();
    closure_of(roots, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, at("ns/libedtns.so"));
    assert_string_equal(c.libs[0].path, at("ns/libedtns.so"));
    elfdeps_closure_release(&c);
}

static void test_closure_bad_root(void **state)
{
    const char *roots[] = { "/dev/null/nothing.so" };
    const char *mixed[] = { at("libedta.so"), at("e.c") };
    struct elfdeps_closure c = { 0 };
    struct err e = { 0 };
    (void)state;
    assert_int_equal(elfdeps_closure(roots, 1, &c, &e), -1);
    assert_non_null(strstr(e.msg, "/dev/null/nothing.so"));
    assert_null(c.libs);
    NEED_GCC();
    assert_int_equal(elfdeps_closure(mixed, 2, &c, &e), -1);
    assert_non_null(strstr(e.msg, "is not an ELF file"));
    assert_null(c.libs);
}

/* ---- hostile files ------------------------------------------------------- */

static void test_read_bad_files(void **state)
{
    static const char text[] = "#!/bin/sh\necho not an ELF file\n";
    const char *src = exists(DEBIAN_LIBPYTHON) ? DEBIAN_LIBPYTHON : "/proc/self/exe";
    unsigned char rnd[4096];
    size_t n;
    unsigned char *real = read_all(src, &n);
    struct elfdeps_info in;
    struct err e = { 0 };
    (void)state;

    write_file(at("text.so"), text, sizeof text - 1);
    assert_read_fails(at("text.so"), "is not an ELF file");
    write_file(at("empty.so"), "", 0);
    assert_read_fails(at("empty.so"), NULL);
    write_file(at("trunc.so"), real, 100); /* a whole header, no program headers */
    assert_read_fails(at("trunc.so"), NULL);
    write_file(at("trunc40.so"), real, 40); /* not even the header */
    assert_read_fails(at("trunc40.so"), NULL);
    assert_read_fails(dir, NULL);
    srand(42);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (unsigned char)rand();
    write_file(at("random.so"), rnd, sizeof rnd);
    assert_read_fails(at("random.so"), "is not an ELF file");
    assert_int_equal(mkfifo(at("fifo.so"), 0600), 0); /* must not block */
    assert_read_fails(at("fifo.so"), "is not an ELF file");
    assert_read_fails("/dev/null", "is not an ELF file");
    assert_read_fails("/nonexistent/libx.so", NULL);
    assert_int_equal(elfdeps_read("/nonexistent/libx.so", &in, &e), -1);
    assert_int_equal(e.errnum, ENOENT);
    free(real);
    if (have_gcc)
        assert_read_fails(at("obj.o"), "not an ELF executable or shared object");
}

/* A minimal ELF64 image: one PT_LOAD over the whole file, PT_DYNAMIC, a string
 * table and one version-needed entry with three versions. */
#define CRAFT_BASE 0x10000u

struct craft {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    Elf64_Dyn dyn[10];
    char str[256];
    unsigned char vn[128];
};

static const char craft_strings[] =
    "\0libedtq.so\0libedtsoname.so\0GLIBC_2.3\0GLIBC_2.99.1\0GLIBC_PRIVATE\0"
    "libc.so.6\0$ORIGIN/x::/y\0GLIBC_2\0GLIBC_3.x\0GLIBC_2.40a\0GLIBC_3.1\0"
    "GLIBC_ABI_DT_RELR\0libedtmid.so\0$ORIGIN/deep\0";

static uint64_t str_off(const char *s)
{
    for (size_t i = 0; i < sizeof craft_strings; i++)
        if (strcmp(craft_strings + i, s) == 0)
            return i;
    fail_msg("no craft string %s", s);
    return 0;
}

static uint64_t vaddr_of(const struct craft *cr, const void *field)
{
    return CRAFT_BASE + (uint64_t)((const char *)field - (const char *)cr);
}

static uint16_t self_machine(void)
{
    Elf64_Ehdr eh;
    int fd = open("/proc/self/exe", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, &eh, sizeof eh), (ssize_t)sizeof eh);
    close(fd);
    return eh.e_machine;
}

static void craft_init(struct craft *cr)
{
    Elf64_Verneed need = { 1, 3, 0, sizeof(Elf64_Verneed), 0 };
    static const char *const versions[] = { "GLIBC_2.3", "GLIBC_2.99.1", "GLIBC_PRIVATE" };
    Elf64_Dyn *d = cr->dyn;

    memset(cr, 0, sizeof *cr);
    memcpy(cr->eh.e_ident, ELFMAG, SELFMAG);
    cr->eh.e_ident[EI_CLASS] = ELFCLASS64;
    cr->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    cr->eh.e_ident[EI_VERSION] = EV_CURRENT;
    cr->eh.e_type = ET_DYN;
    cr->eh.e_machine = self_machine();
    cr->eh.e_version = EV_CURRENT;
    cr->eh.e_phoff = offsetof(struct craft, ph);
    cr->eh.e_ehsize = sizeof cr->eh;
    cr->eh.e_phentsize = sizeof cr->ph[0];
    cr->eh.e_phnum = 2;
    cr->ph[0] = (Elf64_Phdr){ PT_LOAD, PF_R, 0, CRAFT_BASE, CRAFT_BASE,
                              sizeof *cr, sizeof *cr, 0x1000 };
    cr->ph[1] = (Elf64_Phdr){ PT_DYNAMIC, PF_R, offsetof(struct craft, dyn),
                              vaddr_of(cr, cr->dyn), vaddr_of(cr, cr->dyn),
                              sizeof cr->dyn, sizeof cr->dyn, 8 };
    memcpy(cr->str, craft_strings, sizeof craft_strings);
    need.vn_file = (Elf64_Word)str_off("libc.so.6");
    memcpy(cr->vn, &need, sizeof need);
    for (int i = 0; i < 3; i++) {
        Elf64_Vernaux aux = { 0, 0, (Elf64_Half)(2 + i), (Elf64_Word)str_off(versions[i]),
                              i < 2 ? sizeof aux : 0 };
        memcpy(cr->vn + sizeof need + (size_t)i * sizeof aux, &aux, sizeof aux);
    }
    *d++ = (Elf64_Dyn){ DT_NEEDED, { str_off("libedtq.so") } };
    *d++ = (Elf64_Dyn){ DT_SONAME, { str_off("libedtsoname.so") } };
    *d++ = (Elf64_Dyn){ DT_RPATH, { str_off("$ORIGIN/x::/y") } };
    *d++ = (Elf64_Dyn){ DT_STRTAB, { vaddr_of(cr, cr->str) } };
    *d++ = (Elf64_Dyn){ DT_STRSZ, { sizeof craft_strings } };
    *d++ = (Elf64_Dyn){ DT_VERNEED, { vaddr_of(cr, cr->vn) } };
    *d++ = (Elf64_Dyn){ DT_VERNEEDNUM, { 1 } };
    *d = (Elf64_Dyn){ DT_NULL, { 0 } };
}

static Elf64_Dyn *dyn_of(struct craft *cr, Elf64_Sxword tag)
{
    for (size_t i = 0; i < sizeof cr->dyn / sizeof cr->dyn[0]; i++)
        if (cr->dyn[i].d_tag == tag)
            return &cr->dyn[i];
    fail_msg("no dynamic tag %ld", (long)tag);
    return NULL;
}

static Elf64_Verneed *need_of(struct craft *cr) { return (Elf64_Verneed *)cr->vn; }
static Elf64_Vernaux *aux_of(struct craft *cr, int i)
{
    return (Elf64_Vernaux *)(cr->vn + sizeof(Elf64_Verneed) + (size_t)i * sizeof(Elf64_Vernaux));
}

static void m_none(struct craft *cr) { (void)cr; }
static void m_needed_past(struct craft *cr) { dyn_of(cr, DT_NEEDED)->d_un.d_val = sizeof craft_strings; }
static void m_needed_huge(struct craft *cr) { dyn_of(cr, DT_NEEDED)->d_un.d_val = UINT64_MAX; }
static void m_needed_empty(struct craft *cr) { dyn_of(cr, DT_NEEDED)->d_un.d_val = 0; }
static void m_unterminated(struct craft *cr) { dyn_of(cr, DT_STRSZ)->d_un.d_val = 5; }
static void m_strsz_past(struct craft *cr) { dyn_of(cr, DT_STRSZ)->d_un.d_val = 1u << 20; }
static void m_strsz_huge(struct craft *cr) { dyn_of(cr, DT_STRSZ)->d_un.d_val = UINT64_MAX; }
static void m_strtab_unmapped(struct craft *cr) { dyn_of(cr, DT_STRTAB)->d_un.d_ptr = 0x900000; }
static void m_strtab_wraps(struct craft *cr) { dyn_of(cr, DT_STRTAB)->d_un.d_ptr = UINT64_MAX - 2; }
static void m_no_strtab(struct craft *cr) { dyn_of(cr, DT_STRTAB)->d_tag = DT_DEBUG; }
static void m_soname_past(struct craft *cr) { dyn_of(cr, DT_SONAME)->d_un.d_val = 4096; }
static void m_rpath_past(struct craft *cr) { dyn_of(cr, DT_RPATH)->d_un.d_val = 4096; }
static void m_dyn_past_eof(struct craft *cr) { cr->ph[1].p_filesz = 1u << 20; }
static void m_dyn_off_huge(struct craft *cr) { cr->ph[1].p_offset = UINT64_MAX - 8; }
static void m_load_past_eof(struct craft *cr) { cr->ph[0].p_filesz = UINT64_MAX; }
static void m_load_off_huge(struct craft *cr) { cr->ph[0].p_offset = UINT64_MAX - 100; }
static void m_phoff_huge(struct craft *cr) { cr->eh.e_phoff = UINT64_MAX - 10; }
static void m_phnum_many(struct craft *cr) { cr->eh.e_phnum = 0xfffe; }
static void m_no_dynamic(struct craft *cr) { cr->ph[1].p_type = PT_NULL; }
static void m_no_null(struct craft *cr)
{
    for (size_t i = 7; i < sizeof cr->dyn / sizeof cr->dyn[0]; i++)
        cr->dyn[i] = (Elf64_Dyn){ DT_NEEDED, { str_off("libedtq.so") } };
}
static void m_vn_unmapped(struct craft *cr) { dyn_of(cr, DT_VERNEED)->d_un.d_ptr = 0x900000; }
static void m_vn_aux_past(struct craft *cr) { need_of(cr)->vn_aux = 0xfffffff0u; }
static void m_vn_next_past(struct craft *cr) { need_of(cr)->vn_next = 0xfffffff0u; }
static void m_vn_cnt_runs_off(struct craft *cr)
{
    /* auxiliaries chained 16 bytes apart up to the end of the segment */
    need_of(cr)->vn_cnt = 0xffff;
    for (int i = 2; i < 7; i++)
        aux_of(cr, i)->vna_next = sizeof(Elf64_Vernaux);
}
static void m_vn_name_past(struct craft *cr) { aux_of(cr, 1)->vna_name = 4096; }
static void m_vn_num_huge(struct craft *cr)
{
    /* vn_next 0 ends the chain, whatever DT_VERNEEDNUM says */
    dyn_of(cr, DT_VERNEEDNUM)->d_un.d_val = UINT64_MAX;
}
static void m_vn_num_loops(struct craft *cr)
{
    /* entries after the auxiliaries, each 16 bytes on: the chain runs off
     * the end of the segment before DT_VERNEEDNUM is reached */
    dyn_of(cr, DT_VERNEEDNUM)->d_un.d_val = UINT64_MAX;
    need_of(cr)->vn_next = 64;
    for (size_t pos = 64; pos < sizeof cr->vn; pos += sizeof(Elf64_Verneed)) {
        Elf64_Verneed next = { 1, 0, 0, 0, sizeof next };
        memcpy(cr->vn + pos, &next, sizeof next);
    }
}
static void m_class32(struct craft *cr) { cr->eh.e_ident[EI_CLASS] = ELFCLASS32; }
static void m_big_endian(struct craft *cr) { cr->eh.e_ident[EI_DATA] = ELFDATA2MSB; }
static void m_rel(struct craft *cr) { cr->eh.e_type = ET_REL; }
static void m_no_glibc(struct craft *cr)
{
    aux_of(cr, 0)->vna_name = (Elf64_Word)str_off("GLIBC_2");
    aux_of(cr, 1)->vna_name = (Elf64_Word)str_off("GLIBC_3.x");
    aux_of(cr, 2)->vna_name = (Elf64_Word)str_off("GLIBC_2.40a");
}
static void m_glibc_major(struct craft *cr)
{
    aux_of(cr, 0)->vna_name = (Elf64_Word)str_off("GLIBC_3.1");
    aux_of(cr, 2)->vna_name = (Elf64_Word)str_off("GLIBC_ABI_DT_RELR");
}

static void test_read_crafted(void **state)
{
    static const struct {
        const char *what;
        void (*mutate)(struct craft *);
        int rc;
        const char *msg; /* part of the message when rc is -1 */
        size_t len;      /* bytes of the image written; 0 for all */
    } cases[] = {
        { "valid", m_none, 0, NULL, 0 },
        { "needed offset past the table", m_needed_past, -1, "DT_NEEDED", 0 },
        { "needed offset huge", m_needed_huge, -1, "DT_NEEDED", 0 },
        { "needed empty", m_needed_empty, -1, "DT_NEEDED", 0 },
        { "string without its NUL", m_unterminated, -1, "DT_NEEDED", 0 },
        { "DT_STRSZ past the segment", m_strsz_past, -1, "string table", 0 },
        { "DT_STRSZ huge", m_strsz_huge, -1, "string table", 0 },
        { "DT_STRTAB unmapped", m_strtab_unmapped, -1, "string table", 0 },
        { "DT_STRTAB wraps", m_strtab_wraps, -1, "string table", 0 },
        { "no DT_STRTAB", m_no_strtab, -1, "DT_NEEDED", 0 },
        { "soname past the table", m_soname_past, -1, "DT_SONAME", 0 },
        { "rpath past the table", m_rpath_past, -1, "DT_RPATH", 0 },
        { "PT_DYNAMIC past the end", m_dyn_past_eof, -1, "dynamic", 0 },
        { "PT_DYNAMIC offset huge", m_dyn_off_huge, -1, "dynamic", 0 },
        { "PT_LOAD past the end", m_load_past_eof, -1, "malformed", 0 },
        { "PT_LOAD offset huge", m_load_off_huge, -1, "malformed", 0 },
        { "e_phoff huge", m_phoff_huge, -1, NULL, 0 },
        { "e_phnum too many", m_phnum_many, -1, NULL, 0 },
        { "no PT_DYNAMIC", m_no_dynamic, 0, NULL, 0 },
        { "no DT_NULL", m_no_null, 0, NULL, 0 },
        { "DT_VERNEED unmapped", m_vn_unmapped, -1, "version", 0 },
        { "vn_aux past the end", m_vn_aux_past, -1, "version", 0 },
        { "vn_next past the end", m_vn_next_past, -1, "version", 0 },
        { "vn_cnt runs off the end", m_vn_cnt_runs_off, -1, "version", 0 },
        { "vna_name past the table", m_vn_name_past, -1, "version", 0 },
        { "DT_VERNEEDNUM huge", m_vn_num_huge, 0, NULL, 0 },
        { "version chain runs off", m_vn_num_loops, -1, "version", 0 },
        { "ELFCLASS32", m_class32, -1, "another machine", 0 },
        { "big endian", m_big_endian, -1, "another machine", 0 },
        { "ET_REL", m_rel, -1, "not an ELF executable", 0 },
        { "no GLIBC_x.y", m_no_glibc, 0, NULL, 0 },
        { "GLIBC_3.1 over GLIBC_2.99.1", m_glibc_major, 0, NULL, 0 },
        { "truncated copy", m_none, -1, "past the end of the file", offsetof(struct craft, vn) },
        { "cut in the program headers", m_none, -1, "past the end of the file", 100 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct craft cr;
        struct elfdeps_info in = { 0 };
        struct err e = { 0 };
        const char *path = at("craft.so");
        int rc;

        craft_init(&cr);
        cases[i].mutate(&cr);
        write_file(path, &cr, cases[i].len ? cases[i].len : sizeof cr);
        rc = elfdeps_read(path, &in, &e);
        if (rc != cases[i].rc)
            fail_msg("%s: elfdeps_read returned %d (%s)", cases[i].what, rc, e.msg);
        if (rc < 0) {
            if (cases[i].msg && !strstr(e.msg, cases[i].msg))
                fail_msg("%s: message '%s' lacks '%s'", cases[i].what, e.msg, cases[i].msg);
            assert_null(strchr(e.msg, '\n'));
            continue;
        }
        if (cases[i].mutate == m_none && cases[i].len == 0) {
            assert_int_equal(in.nneeded, 1);
            assert_string_equal(in.needed[0], "libedtq.so");
            assert_string_equal(in.soname, "libedtsoname.so");
            assert_int_equal(in.nrpath, 2);
            assert_string_equal(in.rpath[0], at("x"));
            assert_string_equal(in.rpath[1], "/y");
            assert_int_equal(in.glibc_major, 2);
            assert_int_equal(in.glibc_minor, 99);
        } else if (cases[i].mutate == m_no_dynamic) {
            assert_int_equal(in.nneeded, 0);
            assert_null(in.soname);
            assert_int_equal(in.glibc_major, 0);
        } else if (cases[i].mutate == m_no_null) {
            assert_int_equal(in.nneeded, 4);
        } else if (cases[i].mutate == m_vn_num_huge) {
            assert_int_equal(in.glibc_minor, 99);
        } else if (cases[i].mutate == m_no_glibc) {
            assert_int_equal(in.glibc_major, 0);
            assert_int_equal(in.glibc_minor, 0);
        } else if (cases[i].mutate == m_glibc_major) {
            assert_int_equal(in.glibc_major, 3);
            assert_int_equal(in.glibc_minor, 1);
        }
        elfdeps_info_release(&in);
    }
}

/* A root with both DT_RPATH and DT_RUNPATH: ld.so drops the DT_RPATH, so it
 * serves neither the root nor what the root loads.  Also: the glibc floor
 * counts the roots. */
static void test_closure_rpath_dropped_by_runpath(void **state)
{
    const char *roots[] = { at("craftroot.so") };
    struct elfdeps_closure c;
    struct craft cr;
    (void)state;
    NEED_GCC();
    craft_init(&cr);
    dyn_of(&cr, DT_NEEDED)->d_un.d_val = str_off("libedtmid.so");
    dyn_of(&cr, DT_RPATH)->d_un.d_val = str_off("$ORIGIN/deep");
    cr.dyn[7] = (Elf64_Dyn){ DT_RUNPATH, { str_off("$ORIGIN/deep") } };
    write_file(roots[0], &cr, sizeof cr);
    closure_of(roots, 1, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.libs[0].name, "libedtmid.so");
    assert_int_equal(c.nmissing, 1);
    assert_string_equal(c.missing[0], "libedtleaf.so");
    assert_int_equal(c.glibc_major, 2);
    assert_int_equal(c.glibc_minor, 99);
    elfdeps_closure_release(&c);
}

/* Every prefix of a small library and random byte flips: 0 or -1, no crash
 * (valgrind watches the reads). */
static void test_read_mutations(void **state)
{
    const char *src = have_gcc ? at("libedta.so") : "/proc/self/exe";
    const char *path = at("mut.so");
    size_t n, ok = 0;
    unsigned char *orig = read_all(src, &n);
    unsigned char *buf = malloc(n);
    (void)state;
    assert_non_null(buf);
    for (size_t len = 0; len < n; len += len < 256 ? 1 : 97) {
        struct elfdeps_info in;
        struct err e;
        write_file(path, orig, len);
        if (elfdeps_read(path, &in, &e) == 0) {
            ok++;
            elfdeps_info_release(&in);
        }
    }
    srand(7);
    for (int round = 0; round < 600; round++) {
        struct elfdeps_info in;
        struct err e;
        int flips = 1 + rand() % 8;
        memcpy(buf, orig, n);
        for (int k = 0; k < flips; k++) {
            /* half the flips in the headers, where the offsets are */
            size_t pos = rand() % 2 ? (size_t)rand() % (n < 1024 ? n : 1024) : (size_t)rand() % n;
            buf[pos] ^= (unsigned char)(1 + rand() % 255);
        }
        write_file(path, buf, n);
        if (elfdeps_read(path, &in, &e) == 0) {
            ok++;
            elfdeps_info_release(&in);
        } else {
            assert_null(strchr(e.msg, '\n'));
        }
    }
    assert_true(ok > 0); /* some mutations are harmless: the reader did read */
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_base_table),
        cmocka_unit_test(test_read_libpython),
        cmocka_unit_test(test_closure_libpython),
        cmocka_unit_test(test_closure_pyenv_libpython),
        cmocka_unit_test(test_closure_ssl),
        cmocka_unit_test(test_closure_numpy),
        cmocka_unit_test(test_closure_root_satisfies),
        cmocka_unit_test(test_origin_rpath),
        cmocka_unit_test(test_origin_runpath),
        cmocka_unit_test(test_dst_expansion),
        cmocka_unit_test(test_closure_rpath_and_runpath),
        cmocka_unit_test(test_closure_ld_library_path_order),
        cmocka_unit_test(test_closure_loader_paths),
        cmocka_unit_test(test_closure_skips_unusable),
        cmocka_unit_test(test_closure_missing),
        cmocka_unit_test(test_closure_runpath_ignores_loaders),
        cmocka_unit_test(test_closure_cycle),
        cmocka_unit_test(test_closure_dedup),
        cmocka_unit_test(test_closure_needed_by_path),
        cmocka_unit_test(test_closure_bad_root),
        cmocka_unit_test(test_read_bad_files),
        cmocka_unit_test(test_read_crafted),
        cmocka_unit_test(test_closure_rpath_dropped_by_runpath),
        cmocka_unit_test(test_read_mutations),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
