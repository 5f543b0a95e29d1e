/* test_trace.c - tracing an app's imports and package files
 * (src/analyze/trace.c).
 *
 * trace_parse reads what the traced app wrote, so it is hostile input: the
 * tests feed it good records, spoiled lines, every prefix, random bytes and
 * random mutations, and check that what comes out is always sorted, unique,
 * absolute and normalized.  trace_run is then run for real on
 * /usr/bin/python3 (skipped without it) on small apps in a temp directory:
 * one that imports and reads package data after a chdir, ones that exit
 * with a status, raise, SIGKILL themselves, sleep past the time limit, or
 * ignore SIGINT and SIGTERM.
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
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/analyze/trace.h"
#include "bundle/util/util.h"

#define PYTHON "/usr/bin/python3"

static int parse(const char *buf, size_t len, struct trace_result *r, struct err *err)
{
    memset(r, 0, sizeof *r);
    memset(err, 0, sizeof *err);
    return trace_parse(buf, len, r, err);
}

static bool has(const struct strvec *sv, const char *s)
{
    return strvec_find(sv, s) >= 0;
}

/* What any parse must give, whatever the input. */
static void check_sane(const struct trace_result *r)
{
    const struct strvec *paths[] = {&r->files, &r->dirs};

    for (size_t i = 0; i < r->modules.n; i++) {
        const char *m = r->modules.v[i];
        assert_true(m[0] != '\0' && m[0] != '.' && m[strlen(m) - 1] != '.');
        assert_null(strstr(m, ".."));
        assert_null(strpbrk(m, " /\n\r\t"));
        if (i > 0)
            assert_true(strcmp(r->modules.v[i - 1], m) < 0);
    }
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < paths[k]->n; i++) {
            const char *p = paths[k]->v[i];
            assert_true(p[0] == '/' && p[1] != '\0' && p[strlen(p) - 1] != '/');
            assert_null(strstr(p, "//"));
            assert_null(strstr(p, "/../"));
            assert_null(strstr(p, "/./"));
            assert_null(strchr(p, '\n'));
            if (i > 0)
                assert_true(strcmp(paths[k]->v[i - 1], p) < 0);
        }
    }
}

static const char good[] =
    "b\n"
    "m sys\n"
    "m json\n"
    "m json.decoder\n"
    "m _frozen_importlib\n"
    "m caf\xc3\xa9\n"
    "f /venv/lib/python3.11/site-packages/certifi/cacert.pem\n"
    "f /app/mypkg/data \xff\x01 odd.txt\n"
    "d /app/mypkg/templates\n"
    "m json\n"
    "f /app/mypkg/data \xff\x01 odd.txt\n"
    "e\n";

static void test_parse_good(void **state)
{
    (void)state;
    struct trace_result r;
    struct err err;

    assert_int_equal(parse(good, sizeof good - 1, &r, &err), 0);
    check_sane(&r);
    assert_int_equal(r.modules.n, 5); /* sorted, json once */
    assert_string_equal(r.modules.v[0], "_frozen_importlib");
    assert_string_equal(r.modules.v[1], "caf\xc3\xa9");
    assert_string_equal(r.modules.v[2], "json");
    assert_string_equal(r.modules.v[3], "json.decoder");
    assert_string_equal(r.modules.v[4], "sys");
    assert_int_equal(r.files.n, 2);
    assert_string_equal(r.files.v[0], "/app/mypkg/data \xff\x01 odd.txt");
    assert_string_equal(r.files.v[1], "/venv/lib/python3.11/site-packages/certifi/cacert.pem");
    assert_int_equal(r.dirs.n, 1);
    assert_string_equal(r.dirs.v[0], "/app/mypkg/templates");
    assert_true(r.complete);
    assert_int_equal(r.exit_status, 0);
    assert_false(r.timed_out);
    trace_result_release(&r);
    assert_null(r.modules.v);
    trace_result_release(&r); /* twice is harmless */

    /* parse appends: a second record adds to the first, still unique */
    assert_int_equal(parse("m b\nm a\n", 8, &r, &err), 0);
    assert_int_equal(trace_parse("m a\nm c\n", 8, &r, &err), 0);
    assert_int_equal(r.modules.n, 3);
    assert_false(r.complete);
    check_sane(&r);
    trace_result_release(&r);
}

/* Each line alone: how many names it gives (0 = skipped). */
static void test_parse_lines(void **state)
{
    (void)state;
    const struct {
        const char *line;
        size_t len;      /* 0: strlen */
        size_t modules, files, dirs;
    } cases[] = {
        {"m json\n", 0, 1, 0, 0},
        {"m a.b_c.D9\n", 0, 1, 0, 0},
        {"m json", 0, 0, 0, 0},            /* no newline: cut short */
        {"m \n", 0, 0, 0, 0},
        {"m\n", 0, 0, 0, 0},
        {"mjson\n", 0, 0, 0, 0},
        {"m  json\n", 0, 0, 0, 0},
        {"m json \n", 0, 0, 0, 0},
        {"m json\r\n", 0, 0, 0, 0},
        {"m .json\n", 0, 0, 0, 0},
        {"m json.\n", 0, 0, 0, 0},
        {"m a..b\n", 0, 0, 0, 0},
        {"m 9lives\n", 0, 0, 0, 0},
        {"m a.9b\n", 0, 0, 0, 0},
        {"m a/b\n", 0, 0, 0, 0},
        {"m a-b\n", 0, 0, 0, 0},
        {"m js\0on\n", 8, 0, 0, 0},
        {"x json\n", 0, 0, 0, 0},
        {"M json\n", 0, 0, 0, 0},
        {"f /a/b\n", 0, 0, 1, 0},
        {"d /a\n", 0, 0, 0, 1},
        {"f a/b\n", 0, 0, 0, 0},
        {"f /\n", 0, 0, 0, 0},
        {"f //a\n", 0, 0, 0, 0},
        {"f /a//b\n", 0, 0, 0, 0},
        {"f /a/\n", 0, 0, 0, 0},
        {"f /a/./b\n", 0, 0, 0, 0},
        {"f /a/../etc/passwd\n", 0, 0, 0, 0},
        {"d /a/..\n", 0, 0, 0, 0},
        {"d /.\n", 0, 0, 0, 0},
        {"f /a/..b/c.\n", 0, 0, 1, 0},     /* dots inside names are fine */
        {"f /a/b\0c\n", 10, 0, 0, 0},
        {"f \n", 0, 0, 0, 0},
        {"e\n", 0, 0, 0, 0},
        {"b\n", 0, 0, 0, 0},
        {"\n\n\n", 0, 0, 0, 0},
        {"", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct trace_result r;
        struct err err;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
        assert_int_equal(parse(cases[i].line, len, &r, &err), 0);
        if (r.modules.n != cases[i].modules || r.files.n != cases[i].files || r.dirs.n != cases[i].dirs)
            fail_msg("case %zu: %zu/%zu/%zu names", i, r.modules.n, r.files.n, r.dirs.n);
        check_sane(&r);
        trace_result_release(&r);
    }
}

static void test_parse_long(void **state)
{
    (void)state;
    size_t n = 70000;
    char *big = malloc(n + 4);
    struct trace_result r;
    struct err err;

    assert_non_null(big);
    /* a path of 4095 bytes is taken, 4096 is not; a module of 70000 is not */
    for (size_t len = 4095; len <= 4096; len++) {
        memcpy(big, "f ", 2);
        for (size_t i = 0; i < len; i++)
            big[2 + i] = (i % 8 == 0) ? '/' : 'a';
        big[2 + len] = '\n';
        assert_int_equal(parse(big, len + 3, &r, &err), 0);
        assert_int_equal(r.files.n, len == 4095 ? 1 : 0);
        trace_result_release(&r);
    }
    memcpy(big, "m ", 2);
    memset(big + 2, 'a', n);
    big[n + 2] = '\n';
    assert_int_equal(parse(big, n + 3, &r, &err), 0);
    assert_int_equal(r.modules.n, 0);
    trace_result_release(&r);
    free(big);
}

/* Every prefix: the lines before the cut, never the cut one; complete only
 * with the end line. */
static void test_parse_prefixes(void **state)
{
    (void)state;
    size_t len = sizeof good - 1;

    for (size_t n = 0; n <= len; n++) {
        struct trace_result r;
        struct err err;
        assert_int_equal(parse(good, n, &r, &err), 0);
        check_sane(&r);
        assert_true(r.complete == (n == len));
        for (size_t i = 0; i < r.modules.n; i++) {
            char *line = NULL;
            assert_true(asprintf(&line, "m %s\n", r.modules.v[i]) > 0);
            char *at = memmem(good, n, line, strlen(line));
            assert_non_null(at);
            free(line);
        }
        trace_result_release(&r);
    }
}

static uint64_t rng = 88172645463325252ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_parse_random(void **state)
{
    (void)state;
    static const char alphabet[] = "mfdbe /.\n\0a_9\xff";
    char data[512];

    for (int round = 0; round < 20000; round++) {
        struct trace_result r;
        struct err err;
        size_t len = next_rand() % sizeof data;
        if (round % 2 == 0) {
            /* random bytes from the record's own alphabet */
            for (size_t i = 0; i < len; i++)
                data[i] = alphabet[next_rand() % (sizeof alphabet - 1)];
        } else {
            /* a good record with a few bytes changed, dropped or cut */
            len = sizeof good - 1;
            memcpy(data, good, len);
            for (int k = next_rand() % 6; k >= 0 && len > 0; k--) {
                size_t at = next_rand() % len;
                switch (next_rand() % 3) {
                case 0:
                    data[at] = (char)next_rand();
                    break;
                case 1:
                    memmove(data + at, data + at + 1, len - at - 1);
                    len--;
                    break;
                default:
                    len = at + 1;
                }
            }
        }
        assert_int_equal(parse(data, len, &r, &err), 0);
        check_sane(&r);
        trace_result_release(&r);
    }
}

/* ---- trace_run on a real interpreter ---- */

struct fixture {
    char dir[PATH_MAX];  /* the app's directory, a real path */
    char tmp[PATH_MAX + 8]; /* $TMPDIR during the run: must end up empty */
    char *old_tmpdir;
};

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void put_dir(const char *dir, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    const char *t = getenv("TMPDIR");
    char tmpl[PATH_MAX];

    if (!fx)
        return -1;
    snprintf(tmpl, sizeof tmpl, "%s/test-trace-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpl) || !realpath(tmpl, fx->dir))
        return -1;
    if (t)
        fx->old_tmpdir = strdup(t);
    snprintf(fx->tmp, sizeof fx->tmp, "%s/tmp", fx->dir);
    if (mkdir(fx->tmp, 0700) != 0 || setenv("TMPDIR", fx->tmp, 1) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->old_tmpdir)
        setenv("TMPDIR", fx->old_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(fx->old_tmpdir);
    free(fx);
    return 0;
}

static void need_python(void)
{
    if (access(PYTHON, X_OK) != 0)
        skip();
}

/* No temp file may be left behind. */
static void check_tmp_empty(const struct fixture *fx)
{
    DIR *d = opendir(fx->tmp);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
            fail_msg("left behind: %s", e->d_name);
    closedir(d);
}

static void run_app(struct fixture *fx, const char *text, const char *const *argv, size_t argc,
                    double seconds, struct trace_result *r)
{
    char script[PATH_MAX + 16];
    struct err err = {0};

    put_file(fx->dir, "app.py", text);
    snprintf(script, sizeof script, "%s/app.py", fx->dir);
    if (trace_run(PYTHON, script, argv, argc, seconds, r, &err) != 0)
        fail_msg("trace_run: %s", err.msg);
    check_sane(r);
    check_tmp_empty(fx);
}

static char *in_dir(const struct fixture *fx, const char *rel)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", fx->dir, rel) > 0);
    return p;
}

static void assert_has(const struct strvec *sv, const char *s, bool want)
{
    if (has(sv, s) != want)
        fail_msg("'%s' %s", s, want ? "is missing" : "should not be there");
}

static void assert_has_in(const struct fixture *fx, const struct strvec *sv, const char *rel, bool want)
{
    char *p = in_dir(fx, rel);
    assert_has(sv, p, want);
    free(p);
}

/* A package beside the app, with data, a plugin, and decoys. */
static void make_pkg(struct fixture *fx)
{
    put_dir(fx->dir, "mypkg");
    put_dir(fx->dir, "mypkg/sub");
    put_dir(fx->dir, "plain");
    put_file(fx->dir, "mypkg/__init__.py", "");
    put_file(fx->dir, "mypkg/plugin.py", "X = 1\n");
    put_file(fx->dir, "mypkg/data.txt", "data\n");
    put_file(fx->dir, "mypkg/sub/deep.bin", "\x01\x02");
    put_file(fx->dir, "plain/x.txt", "not a package\n");
    put_file(fx->dir, "beside.txt", "beside the script\n");
}

static void test_run_imports_and_files(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;
    const char *argv[] = {"a b", "--x"};

    need_python();
    make_pkg(fx);
    run_app(fx,
            "import json, os, sys, importlib\n"
            "import mypkg\n"
            "assert sys.argv[1:] == ['a b', '--x'], sys.argv\n"
            "assert sys.path[0] == os.path.dirname(os.path.realpath(__file__)), sys.path\n"
            "assert sys.stdin.read() == ''\n"
            "# the record is not handed down to the app's children\n"
            "for f in os.listdir('/proc/self/fd'):\n"
            "    try: t = os.readlink('/proc/self/fd/' + f)\n"
            "    except OSError: continue\n"
            "    assert 'bundle-trace' not in t or not os.get_inheritable(int(f)), t\n"
            "d = os.path.dirname(mypkg.__file__)\n"
            "os.chdir(d)\n"
            "open('data.txt').read()\n"
            "open(os.path.join('sub', 'deep.bin'), 'rb').read()\n"
            "open('../plain/x.txt').read()\n"
            "open('../beside.txt').read()\n"
            "open('out.txt', 'w').write('output')\n"
            "os.listdir('sub')\n"
            "importlib.import_module('mypkg.plugin')\n"
            "try:\n"
            "    import no_such_module_xyz\n"
            "except ImportError:\n"
            "    pass\n",
            argv, 2, 30, &r);
    assert_int_equal(r.exit_status, 0);
    assert_false(r.timed_out);
    assert_true(r.complete);
    assert_has(&r.modules, "json", true);
    assert_has(&r.modules, "json.decoder", true);
    assert_has(&r.modules, "mypkg", true);
    assert_has(&r.modules, "mypkg.plugin", true);
    assert_has(&r.modules, "no_such_module_xyz", true); /* asked for: the build may look */
    assert_has_in(fx, &r.files, "mypkg/data.txt", true);
    assert_has_in(fx, &r.files, "mypkg/sub/deep.bin", true);
    assert_has_in(fx, &r.files, "plain/x.txt", false);
    assert_has_in(fx, &r.files, "beside.txt", false);
    assert_has_in(fx, &r.files, "mypkg/out.txt", false);
    assert_has_in(fx, &r.files, "mypkg/__init__.py", false);
    assert_has_in(fx, &r.files, "mypkg/plugin.py", false);
    assert_has_in(fx, &r.files, "app.py", false);
    assert_has_in(fx, &r.dirs, "mypkg/sub", true);
    assert_has_in(fx, &r.dirs, "mypkg", false); /* the import system's own scan */
    trace_result_release(&r);
}

static void test_run_exit_status(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;

    need_python();
    run_app(fx, "import sys, json\nsys.exit(3)\n", NULL, 0, 30, &r);
    assert_int_equal(r.exit_status, 3);
    assert_false(r.timed_out);
    assert_true(r.complete);
    assert_has(&r.modules, "json", true);
    trace_result_release(&r);

    run_app(fx, "import json\nraise ValueError('expected by test_trace')\n", NULL, 0, 30, &r);
    assert_int_equal(r.exit_status, 1);
    assert_true(r.complete);
    assert_has(&r.modules, "json", true);
    trace_result_release(&r);
}

/* os._exit or SIGKILL skip atexit: what was written as it happened stays. */
static void test_run_killed(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;

    need_python();
    make_pkg(fx);
    run_app(fx,
            "import os, signal, json, mypkg\n"
            "open(os.path.join(os.path.dirname(mypkg.__file__), 'data.txt')).read()\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n",
            NULL, 0, 30, &r);
    assert_int_equal(r.exit_status, -SIGKILL);
    assert_false(r.timed_out);
    assert_false(r.complete);
    assert_has(&r.modules, "json", true);
    assert_has(&r.modules, "mypkg", true);
    assert_has_in(fx, &r.files, "mypkg/data.txt", true);
    trace_result_release(&r);
}

static void test_run_time_limit(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;

    need_python();
    /* SIGINT: KeyboardInterrupt, atexit runs */
    double t0 = util_now();
    run_app(fx, "import json, time\nwhile True:\n    time.sleep(1000)\n", NULL, 0, 1, &r);
    double took = util_now() - t0;
    assert_true(took >= 0.9 && took < 7);
    assert_true(r.timed_out);
    assert_int_equal(r.exit_status, -SIGINT);
    assert_true(r.complete);
    assert_has(&r.modules, "json", true);
    assert_has(&r.modules, "site", false); /* start-up modules are not the app's */
    trace_result_release(&r);
}

/* An app that ignores SIGINT and SIGTERM: SIGKILL at 1 + 5 + 2 s. */
static void test_run_stubborn(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;

    need_python();
    double t0 = util_now();
    run_app(fx,
            "import json, signal, time\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "while True:\n"
            "    time.sleep(1000)\n",
            NULL, 0, 1, &r);
    double took = util_now() - t0;
    assert_true(took >= 7.5 && took < 12);
    assert_true(r.timed_out);
    assert_int_equal(r.exit_status, -SIGKILL);
    assert_false(r.complete);
    assert_has(&r.modules, "json", true);
    trace_result_release(&r);
}

static void test_run_errors(void **state)
{
    struct fixture *fx = *state;
    struct trace_result r;
    struct err err = {0};
    char script[PATH_MAX + 16];

    put_file(fx->dir, "app.py", "pass\n");
    snprintf(script, sizeof script, "%s/app.py", fx->dir);

    assert_int_equal(trace_run("/nonexistent/python3", script, NULL, 0, 5, &r, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/python3"));
    assert_null(r.modules.v);
    assert_int_equal(trace_run("no-such-python-xyz", script, NULL, 0, 5, &r, &err), -1);
    assert_non_null(strstr(err.msg, "not found on PATH"));
    /* runs, but is no Python: no trace */
    assert_int_equal(trace_run("/bin/true", script, NULL, 0, 5, &r, &err), -1);
    assert_non_null(strstr(err.msg, "could not start the trace"));
    assert_null(r.modules.v);
    check_tmp_empty(fx);

    need_python();
    assert_int_equal(trace_run(PYTHON, "/nonexistent/app.py", NULL, 0, 5, &r, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read '/nonexistent/app.py'"));
    assert_int_equal(trace_run(PYTHON, fx->dir, NULL, 0, 5, &r, &err), -1);
    assert_non_null(strstr(err.msg, "is not a file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_lines),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_parse_prefixes),
        cmocka_unit_test(test_parse_random),
        cmocka_unit_test_setup_teardown(test_run_imports_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_time_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_stubborn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
