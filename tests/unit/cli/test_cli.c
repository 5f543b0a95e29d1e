/* test_cli.c - the command line (src/cli/cli.c).
 *
 * Tables of argv vectors: the ones that parse, with the fields they set, and
 * the ones that must fail with status 2 and a message naming the problem.
 * Every parse is released with cli_opts_release, success or not, so a run
 * under valgrind also proves nothing leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/cli/cli.h"

#define MAXARGS 16

/* Copies a NULL-terminated vector after "bundle" into argv (getopt permutes
 * the pointers, so each parse gets a fresh copy).  Returns argc. */
static int make_argv(const char *const *in, char **argv)
{
    int argc = 0;
    argv[argc++] = "bundle";
    for (; *in; in++) {
        assert_true(argc < MAXARGS - 1);
        argv[argc++] = (char *)*in;
    }
    argv[argc] = NULL;
    return argc;
}

static char *show(const char *const *in)
{
    static char s[512];
    size_t n = 0;
    s[0] = '\0';
    for (; *in && n < sizeof s - 1; in++)
        n += (size_t)snprintf(s + n, sizeof s - n, " '%s'", *in);
    return s;
}

static void assert_str_or_null(const char *got, const char *want, const char *field, const char *const *argv)
{
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
        print_error("argv%s: %s is '%s', expected '%s'\n", show(argv), field, got ? got : "(null)",
                    want ? want : "(null)");
        fail();
    }
}

/* ---- command lines that parse ---- */

struct ok_case {
    const char *argv[MAXARGS];
    enum cli_action action;
    const char *script;
    bool onefile;
    const char *python, *output, *name;
    int verbosity;
};

static const struct ok_case ok_cases[] = {
    {{"--onefile", "app.py", NULL}, CLI_BUILD, "app.py", true, NULL, NULL, NULL, 0},
    {{"app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 0},
    {{"app.py", "--onefile", NULL}, CLI_BUILD, "app.py", true, NULL, NULL, NULL, 0},
    {{"--onefile", "-o", "out/bin", "app.py", NULL}, CLI_BUILD, "app.py", true, NULL, "out/bin", NULL, 0},
    {{"--output", "x", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, "x", NULL, 0},
    {{"--output=y", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, "y", NULL, 0},
    {{"-oz", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, "z", NULL, 0},
    {{"-n", "svc", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, "svc", 0},
    {{"--name", "svc", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, "svc", 0},
    {{"--name", "caf\xc3\xa9 app-1.0", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, "caf\xc3\xa9 app-1.0", 0},
    {{"--python", "/opt/py/bin/python3", "app.py", NULL}, CLI_BUILD, "app.py", false,
     "/opt/py/bin/python3", NULL, NULL, 0},
    {{"--python=python3.11", "app.py", NULL}, CLI_BUILD, "app.py", false, "python3.11", NULL, NULL, 0},
    {{"app.py", "-o", "a", "-o", "b", NULL}, CLI_BUILD, "app.py", false, NULL, "b", NULL, 0},
    {{"-q", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, -1},
    {{"--quiet", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, -1},
    {{"-v", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 1},
    {{"--verbose", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 1},
    {{"-vv", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 2},
    {{"-v", "-v", "-v", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 3},
    {{"-q", "-v", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, 1},
    {{"-vv", "-q", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, NULL, -1},
    {{"-qvn", "x", "app.py", NULL}, CLI_BUILD, "app.py", false, NULL, NULL, "x", 1},
    {{"--", "-weird.py", NULL}, CLI_BUILD, "-weird.py", false, NULL, NULL, NULL, 0},
    {{"--onefile", "--", "--onefile", NULL}, CLI_BUILD, "--onefile", true, NULL, NULL, NULL, 0},
    {{"--help", NULL}, CLI_HELP, NULL, false, NULL, NULL, NULL, 0},
    {{"-h", NULL}, CLI_HELP, NULL, false, NULL, NULL, NULL, 0},
    {{"app.py", "--help", NULL}, CLI_HELP, NULL, false, NULL, NULL, NULL, 0},
    {{"--help", "a.py", "b.py", NULL}, CLI_HELP, NULL, false, NULL, NULL, NULL, 0},
    {{"--version", NULL}, CLI_VERSION, NULL, false, NULL, NULL, NULL, 0},
    {{"--onefile", "--version", "app.py", NULL}, CLI_VERSION, NULL, true, NULL, NULL, NULL, 0},
};

static void test_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
        const struct ok_case *c = &ok_cases[i];
        char *argv[MAXARGS];
        int argc = make_argv(c->argv, argv);
        struct cli_opts o;
        struct err err = {0};

        int rc = cli_parse(argc, argv, &o, &err);
        if (rc != 0)
            print_error("argv%s: %s\n", show(c->argv), err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(o.action, c->action);
        if (c->action == CLI_BUILD)
            assert_str_or_null(o.script, c->script, "script", c->argv);
        assert_str_or_null(o.python, c->python, "python", c->argv);
        assert_str_or_null(o.output, c->output, "output", c->argv);
        assert_str_or_null(o.name, c->name, "name", c->argv);
        if (o.onefile != c->onefile || o.verbosity != c->verbosity)
            print_error("argv%s: onefile %d verbosity %d\n", show(c->argv), o.onefile, o.verbosity);
        assert_int_equal(o.onefile, c->onefile);
        assert_int_equal(o.verbosity, c->verbosity);
        cli_opts_release(&o);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "app.py", NULL};
    struct cli_opts o;
    struct err err = {0};

    assert_int_equal(cli_parse(2, argv, &o, &err), 0);
    assert_int_equal(o.action, CLI_BUILD);
    assert_string_equal(o.script, "app.py");
    assert_true(o.cpus == 0.1);
    assert_true(o.mem == 0);
    assert_true(o.disk == 0);
    assert_int_equal(o.instances, 1);
    assert_int_equal(o.kill_grace, -1);
    assert_false(o.no_marathon);
    assert_false(o.metronome);
    assert_false(o.fetch);
    assert_false(o.fetch_cache);
    assert_null(o.url);
    assert_null(o.marathon_id);
    assert_null(o.health_path);
    assert_null(o.args);
    assert_int_equal(o.env.n, 0);
    assert_int_equal(o.compress, 19); /* zstd level 19 */
    cli_opts_release(&o);
}

/* ---- numbers that parse ---- */

enum field { F_CPUS, F_MEM, F_DISK, F_INSTANCES, F_KILL_GRACE, F_COMPRESS };

static const struct {
    const char *opt, *val;
    enum field f;
    double want;
} num_cases[] = {
    {"--cpus", "0.5", F_CPUS, 0.5},
    {"--cpus", "1", F_CPUS, 1},
    {"--cpus", "0.001", F_CPUS, 0.001},
    {"--cpus", "1024", F_CPUS, 1024},
    {"--mem", "128", F_MEM, 128},
    {"--mem", "0.5", F_MEM, 0.5},
    {"--disk", "2048", F_DISK, 2048},
    {"--instances", "0", F_INSTANCES, 0},
    {"--instances", "3", F_INSTANCES, 3},
    {"--instances", "1000000", F_INSTANCES, 1000000},
    {"--kill-grace", "0", F_KILL_GRACE, 0},
    {"--kill-grace", "30", F_KILL_GRACE, 30},
    {"--kill-grace", "86400", F_KILL_GRACE, 86400},
    {"--compress", "1", F_COMPRESS, 1},
    {"--compress", "19", F_COMPRESS, 19},
    {"--compress", "max", F_COMPRESS, 19},
    {"--compress", "none", F_COMPRESS, 0},
};

static void test_numbers_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof num_cases / sizeof *num_cases; i++) {
        const char *in[] = {num_cases[i].opt, num_cases[i].val, "app.py", NULL};
        char *argv[MAXARGS];
        int argc = make_argv(in, argv);
        struct cli_opts o;
        struct err err = {0};
        double got = NAN;

        int rc = cli_parse(argc, argv, &o, &err);
        if (rc != 0)
            print_error("argv%s: %s\n", show(in), err.msg);
        assert_int_equal(rc, 0);
        switch (num_cases[i].f) {
        case F_CPUS: got = o.cpus; break;
        case F_MEM: got = o.mem; break;
        case F_DISK: got = o.disk; break;
        case F_INSTANCES: got = (double)o.instances; break;
        case F_KILL_GRACE: got = (double)o.kill_grace; break;
        case F_COMPRESS: got = (double)o.compress; break;
        }
        if (got != num_cases[i].want)
            print_error("argv%s: got %g\n", show(in), got);
        assert_true(got == num_cases[i].want);
        cli_opts_release(&o);
    }
}

/* ---- command lines that must fail ---- */

struct bad_case {
    const char *argv[MAXARGS];
    const char *msg; /* a substring of the message */
};

static const struct bad_case bad_cases[] = {
    {{"--hidden-import", "", "a.py", NULL}, "needs a module name"},
    {{"--hidden-import", "a..b", "a.py", NULL}, "not a module name"},
    {{"--hidden-import", "a/b", "a.py", NULL}, "not a module name"},
    {{"--exclude-module", "a.", "a.py", NULL}, "not a module name"},
    {{"--collect", "a b", "a.py", NULL}, "not a module name"},
    {{"--collect", ".a", "a.py", NULL}, "not a module name"},
    {{"--add-data", "nocolon", "a.py", NULL}, "SRC:DEST"},
    {{"--add-data", "x:", "a.py", NULL}, "SRC:DEST"},
    {{"--add-data", ":x", "a.py", NULL}, "SRC:DEST"},
    {{"--add-data", "x:/abs", "a.py", NULL}, "relative"},
    {{"--add-data", "x:a/../../b", "a.py", NULL}, "'..'"},
    {{"--exclude-data", "", "a.py", NULL}, "pattern"},
    {{NULL}, "no script"},
    {{"--onefile", NULL}, "no script"},
    {{"-v", "-o", "x", NULL}, "no script"},
    {{"a.py", "b.py", NULL}, "'b.py'"},
    {{"--onefile", "a.py", "b.py", "c.py", NULL}, "'b.py'"},
    {{"", NULL}, "empty"},
    {{"--bogus", "app.py", NULL}, "'--bogus'"},
    {{"app.py", "--one-file", NULL}, "'--one-file'"},
    {{"-x", "app.py", NULL}, "'-x'"},
    {{"-qx", "app.py", NULL}, "'-x'"},
    {{"-V", "app.py", NULL}, "'-V'"},
    /* a flag given a value: the message names the flag (not only "see --help") */
    {{"--onefile=yes", "app.py", NULL}, "'--onefile"},
    {{"--help=me", NULL}, "'--help"},
    {{"app.py", "--verbose=3", NULL}, "'--verbose"},
    {{"app.py", "--python", NULL}, "'--python' needs a value"},
    {{"app.py", "-o", NULL}, "'-o' needs a value"},
    {{"app.py", "-n", NULL}, "'-n' needs a value"},
    {{"app.py", "--env", NULL}, "'--env' needs a value"},
    {{"app.py", "--cpus", NULL}, "'--cpus' needs a value"},
    {{"--cpus", "0", "app.py", NULL}, "--cpus '0'"},
    {{"--cpus", "-1", "app.py", NULL}, "--cpus '-1'"},
    {{"--cpus", "abc", "app.py", NULL}, "--cpus 'abc'"},
    {{"--cpus", "1e999", "app.py", NULL}, "--cpus '1e999'"},
    {{"--cpus", "nan", "app.py", NULL}, "--cpus 'nan'"},
    {{"--cpus", "inf", "app.py", NULL}, "--cpus 'inf'"},
    {{"--cpus", "", "app.py", NULL}, "--cpus ''"},
    {{"--cpus", "0.5x", "app.py", NULL}, "--cpus '0.5x'"},
    {{"--cpus", "1025", "app.py", NULL}, "--cpus '1025'"},
    {{"--cpus", "1e-400", "app.py", NULL}, "--cpus '1e-400'"},
    {{"--mem", "-1", "app.py", NULL}, "--mem '-1'"},
    {{"--mem", "0", "app.py", NULL}, "--mem '0'"},
    {{"--disk", "-5", "app.py", NULL}, "--disk '-5'"},
    {{"--instances", "-3", "app.py", NULL}, "--instances '-3'"},
    {{"--instances", "1.5", "app.py", NULL}, "--instances '1.5'"},
    {{"--instances", "", "app.py", NULL}, "--instances ''"},
    {{"--instances", "99999999999999999999999", "app.py", NULL}, "--instances"},
    {{"--instances", "1000001", "app.py", NULL}, "--instances '1000001'"},
    {{"--kill-grace", "x", "app.py", NULL}, "--kill-grace 'x'"},
    {{"--kill-grace", "-1", "app.py", NULL}, "--kill-grace '-1'"},
    {{"--kill-grace", "86401", "app.py", NULL}, "--kill-grace '86401'"},
    {{"--compress", "0", "app.py", NULL}, "--compress '0': expected none, max, or a zstd level from 1 to 19"},
    {{"--compress", "20", "app.py", NULL}, "--compress '20'"},
    {{"--compress", "fast", "app.py", NULL}, "--compress 'fast'"},
    {{"--link-libpython", "--shared-libpython", "app.py", NULL}, "contradict each other"},
    {{"--env", "FOO", "app.py", NULL}, "--env 'FOO'"},
    {{"--env", "=x", "app.py", NULL}, "--env '=x'"},
    {{"--env", "", "app.py", NULL}, "--env ''"},
    {{"--health-path", "health", "app.py", NULL}, "'/'"},
    {{"--health-path", "", "app.py", NULL}, "--health-path"},
    {{"--python", "", "app.py", NULL}, "--python"},
    {{"--python=", "app.py", NULL}, "--python"},
    {{"-o", "", "app.py", NULL}, "--output"},
    {{"-n", "", "app.py", NULL}, "--name"},
    /* a control character: shown as '?', so the message stays one line */
    {{"-n", "app\nx", "app.py", NULL}, "--name 'app?x' has a control character"},
    {{"--name", "a\tb", "app.py", NULL}, "--name 'a?b'"},
    {{"--name=x\x7f", "app.py", NULL}, "--name 'x?'"},
    {{"--name", "\x1b[31mred", "app.py", NULL}, "--name '?[31mred'"},
    {{"--url", "", "app.py", NULL}, "--url"},
    {{"--marathon-id", "", "app.py", NULL}, "--marathon-id"},
};

/* Reports every case that goes wrong, then fails once. */
static void test_parse_bad(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const struct bad_case *c = &bad_cases[i];
        char *argv[MAXARGS];
        int argc = make_argv(c->argv, argv);
        struct cli_opts o;
        struct err err = {0};

        int rc = cli_parse(argc, argv, &o, &err);
        size_t len = strlen(err.msg);
        /* status 2, the expected words, one line, no full stop, no
         * "bundle:" prefix (main adds it) */
        if (rc != -1 || err.status != 2 || !strstr(err.msg, c->msg) || strchr(err.msg, '\n') ||
            len == 0 || err.msg[len - 1] == '.' || strncmp(err.msg, "bundle:", 7) == 0) {
            print_error("argv%s: rc %d, status %d, message '%s' (expected status 2 and '%s')\n",
                        show(c->argv), rc, err.status, err.msg, c->msg);
            failures++;
        }
        cli_opts_release(&o);
    }
    assert_int_equal(failures, 0);
}

/* ---- the rest ---- */

static void test_marathon_options(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "--no-marathon", "--metronome", "--url", "https://h/x", "--marathon-id",
                    "/team/app", "--fetch-cache", "--health-path", "/health", "--args", "--port 8080",
                    "app.py", NULL};
    struct cli_opts o;
    struct err err = {0};

    int rc = cli_parse(13, argv, &o, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_true(o.no_marathon);
    assert_true(o.metronome);
    assert_string_equal(o.url, "https://h/x");
    assert_string_equal(o.marathon_id, "/team/app");
    assert_true(o.fetch);
    assert_true(o.fetch_cache);
    assert_string_equal(o.health_path, "/health");
    assert_string_equal(o.args, "--port 8080");
    assert_string_equal(o.script, "app.py");
    cli_opts_release(&o);

    /* --fetch alone */
    char *argv2[] = {"bundle", "--fetch", "app.py", NULL};
    assert_int_equal(cli_parse(3, argv2, &o, &err), 0);
    assert_true(o.fetch);
    assert_false(o.fetch_cache);
    cli_opts_release(&o);

    /* --args may be empty: "no arguments" */
    char *argv3[] = {"bundle", "--args", "", "app.py", NULL};
    assert_int_equal(cli_parse(4, argv3, &o, &err), 0);
    assert_non_null(o.args);
    assert_string_equal(o.args, "");
    cli_opts_release(&o);
}

static void test_env_keeps_order(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "--env", "B=2", "app.py", "--env", "A=1", "--env=C==x=", "--env", "B=3",
                    "--env", "EMPTY=", NULL};
    const char *want[] = {"B=2", "A=1", "C==x=", "B=3", "EMPTY="};
    struct cli_opts o;
    struct err err = {0};

    assert_int_equal(cli_parse(11, argv, &o, &err), 0);
    assert_int_equal(o.env.n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(o.env.v[i], want[i]);
    assert_null(o.env.v[5]);
    cli_opts_release(&o);
}

/* The last of a repeated string option wins; the earlier values are freed
 * (valgrind checks that). */
static void test_repeated_strings(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "--python", "p1", "--python", "p2", "-n", "a", "-n", "b", "--url", "u1",
                    "--url", "u2", "--health-path", "/a", "--health-path", "/b", "--args", "x",
                    "--args", "y", "--marathon-id", "/i", "--marathon-id", "/j", "app.py", NULL};
    struct cli_opts o;
    struct err err = {0};

    assert_int_equal(cli_parse(26, argv, &o, &err), 0);
    assert_string_equal(o.python, "p2");
    assert_string_equal(o.name, "b");
    assert_string_equal(o.url, "u2");
    assert_string_equal(o.health_path, "/b");
    assert_string_equal(o.args, "y");
    assert_string_equal(o.marathon_id, "/j");
    cli_opts_release(&o);
}

static void test_module_and_data_flags(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "--hidden-import", "a.b", "--hidden-import", "c", "--exclude-module",
                    "tkinter", "--collect", "pkg", "--add-data", "conf/x.yml:etc", "--add-data",
                    "a:b:.", "--exclude-data", "*.txt", "app.py", NULL};
    struct cli_opts o;
    struct err err = {0};

    assert_int_equal(cli_parse(16, argv, &o, &err), 0);
    assert_int_equal(o.hidden.n, 2);
    assert_string_equal(o.hidden.v[0], "a.b");
    assert_string_equal(o.hidden.v[1], "c");
    assert_string_equal(o.exclude.v[0], "tkinter");
    assert_string_equal(o.collect.v[0], "pkg");
    assert_int_equal(o.add_data.n, 2);
    assert_string_equal(o.add_data.v[1], "a:b:."); /* DEST is after the last ':' */
    assert_string_equal(o.exclude_data.v[0], "*.txt");
    cli_opts_release(&o);
}

/* A valid parse right after another parse: nothing left over. */
static void check_fresh_parse(void)
{
    char *argv[] = {"bundle", "-n", "svc", "four.py", NULL};
    struct cli_opts o;
    struct err err = {0};
    int rc = cli_parse(4, argv, &o, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(o.script, "four.py");
    assert_string_equal(o.name, "svc");
    assert_int_equal(o.verbosity, 0); /* no leftover 'q' */
    assert_false(o.onefile);
    cli_opts_release(&o);
}

/* getopt keeps state between calls; cli_parse must reset it. */
static void test_parse_twice(void **state)
{
    (void)state;
    struct cli_opts o;
    struct err err = {0};

    for (int round = 0; round < 3; round++) {
        char *a1[] = {"bundle", "-v", "--onefile", "one.py", NULL};
        assert_int_equal(cli_parse(4, a1, &o, &err), 0);
        assert_string_equal(o.script, "one.py");
        assert_int_equal(o.verbosity, 1);
        cli_opts_release(&o);
        check_fresh_parse();

        /* stops in the middle of an option cluster */
        char *a2[] = {"bundle", "-xq", "two.py", NULL};
        assert_int_equal(cli_parse(3, a2, &o, &err), -1);
        cli_opts_release(&o);
        check_fresh_parse();

        /* stops in the middle of the vector, after a permuted operand */
        char *a3[] = {"bundle", "three.py", "--cpus", "0", "-q", NULL};
        assert_int_equal(cli_parse(5, a3, &o, &err), -1);
        cli_opts_release(&o);
        check_fresh_parse();
    }
}

static void test_release_clears(void **state)
{
    (void)state;
    char *argv[] = {"bundle", "--env", "A=1", "-o", "x", "app.py", NULL};
    struct cli_opts o;
    struct err err = {0};

    assert_int_equal(cli_parse(6, argv, &o, &err), 0);
    cli_opts_release(&o);
    assert_null(o.script);
    assert_null(o.output);
    assert_null(o.env.v);
    assert_int_equal(o.env.n, 0);
    cli_opts_release(&o); /* twice is harmless */
}

static void test_usage_text(void **state)
{
    (void)state;
    /* every long option of the parser is documented */
    static const char *const opts[] = {"--onefile", "--python", "--output", "--name", "--quiet",
                                       "--verbose", "--help", "--version", "--no-marathon",
                                       "--metronome", "--url", "--marathon-id", "--cpus", "--mem",
                                       "--disk", "--instances", "--fetch", "--fetch-cache",
                                       "--health-path", "--kill-grace", "--env", "--args", "--compress",
                                       "--shared-libpython", "--link-libpython", "--trace", "--entry"};
    assert_true(strncmp(cli_usage, "usage: bundle", 13) == 0);
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        if (!strstr(cli_usage, opts[i]))
            print_error("%s is not in the usage text\n", opts[i]);
        assert_non_null(strstr(cli_usage, opts[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_numbers_ok),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_marathon_options),
        cmocka_unit_test(test_env_keeps_order),
        cmocka_unit_test(test_repeated_strings),
        cmocka_unit_test(test_module_and_data_flags),
        cmocka_unit_test(test_parse_twice),
        cmocka_unit_test(test_release_clears),
        cmocka_unit_test(test_usage_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
