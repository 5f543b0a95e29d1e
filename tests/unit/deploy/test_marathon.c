/* test_marathon.c - Marathon app / Metronome job JSON (src/deploy/marathon.c, and the
 * rules and cmd of src/deploy/marathon_rules.c).
 *
 * Table-driven checks of ids, urls, quoting, escaping and numbers; the
 * produced cmd is run by /bin/sh with a fake curl on PATH to prove every
 * string arrives intact; and the JSON of several configurations is validated
 * against ../shared/schemas with tests/tools/validate_schema.py (skipped,
 * with a message, when python3-jsonschema or the schemas are missing).
 * The JSON is read back with jansson too (the library that writes it), and
 * written again with every one of its allocations failing in turn.
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

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle/deploy/marathon.h"
#include "json_alloc.h"

/* sha256("test") */
#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define URL "https://artifacts.example/hello"
/* every cmd starts with this (the stub's cache goes into the sandbox) */
#define EXPORT "export BUNDLE_CACHE_DIR=\"${BUNDLE_CACHE_DIR:-${MESOS_SANDBOX:-$PWD}/.bundle-cache}\" && "

static struct marathon_app base_app(void)
{
    struct marathon_app a = {
        .name = "hello",
        .url = URL,
        .binary_path = "/work/dist/hello",
        .sha256_hex = HASH,
        .cpus = 0.1,
        .mem = 128,
        .disk = 0,
        .instances = 1,
        .kill_grace = -1,
    };
    return a;
}

static char *render(const struct marathon_app *a)
{
    struct err err = {0};
    char *json = NULL;
    int rc = marathon_app_json(a, &json, &err);
    if (rc != 0)
        print_error("marathon_app_json: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(json);
    return json;
}

static char *render_job(const struct marathon_app *a)
{
    struct err err = {0};
    char *json = NULL;
    int rc = marathon_metronome_json(a, &json, &err);
    if (rc != 0)
        print_error("marathon_metronome_json: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(json);
    return json;
}

/* A failure: -1, the status asked for, one lower-case line without a full
 * stop, mentioning needle. */
static void check_error(int rc, const struct err *err, int status, const char *needle)
{
    assert_int_equal(rc, -1);
    assert_int_equal(err->status, status);
    assert_true(err->msg[0] != '\0');
    assert_null(strchr(err->msg, '\n'));
    assert_false(isupper((unsigned char)err->msg[0]));
    assert_true(err->msg[strlen(err->msg) - 1] != '.');
    if (needle && !strstr(err->msg, needle)) {
        print_error("message '%s' lacks '%s'\n", err->msg, needle);
        fail();
    }
}

static void app_fails(const struct marathon_app *a, int status, const char *needle)
{
    struct err err = {0};
    char *json = NULL;
    check_error(marathon_app_json(a, &json, &err), &err, status, needle);
    assert_null(json);
    check_error(marathon_metronome_json(a, &json, &err), &err, status, needle);
    assert_null(json);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        print_error("expected to find:\n%s\nin:\n%s\n", needle, hay);
        fail();
    }
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle)) {
        print_error("did not expect:\n%s\nin:\n%s\n", needle, hay);
        fail();
    }
}

/* The document json, read back strictly (no duplicate keys); caller
 * releases it. */
static json_t *parse(const char *json)
{
    json_error_t e;
    json_t *doc = json_loads(json, JSON_REJECT_DUPLICATES, &e);
    if (!doc) {
        print_error("not JSON (%s, line %d):\n%s\n", e.text, e.line, json);
        fail();
    }
    return doc;
}

/* ---- a tiny JSON string reader: the value of the first "key": "..." ---- */

static void put_utf8(char **o, unsigned cp)
{
    if (cp < 0x80) {
        *(*o)++ = (char)cp;
    } else if (cp < 0x800) {
        *(*o)++ = (char)(0xc0 | cp >> 6);
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *(*o)++ = (char)(0xe0 | cp >> 12);
        *(*o)++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    }
}

static char *text_value(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(json, pat);
    assert_non_null(p);
    p += strlen(pat);
    char *out = malloc(strlen(p) + 1);
    char *o = out;
    assert_non_null(out);
    for (; *p != '"'; p++) {
        assert_true(*p != '\0');
        assert_true((unsigned char)*p >= 0x20); /* raw control bytes are invalid JSON */
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (*++p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned cp;
            assert_int_equal(sscanf(p + 1, "%4x", &cp), 1);
            put_utf8(&o, cp);
            p += 4;
            break;
        }
        default: *o++ = *p; break; /* " \ / */
        }
    }
    *o = '\0';
    return out;
}

/* ---- files and processes ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_tmpdir(void)
{
    char *dir = strdup("/tmp/test_marathon.XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static char *path_in(const char *dir, const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* The file's bytes (NUL-terminated too); NULL if it does not exist. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    assert_non_null(m);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    if (len)
        *len = n;
    return buf;
}

/* Runs `sh -c cmd` in dir with PATH=bin:/usr/bin:/bin; returns the exit status. */
static int run_sh(const char *dir, const char *bin, const char *log, const char *cmd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *path = NULL;
        char *out = NULL;
        if (asprintf(&path, "%s:/usr/bin:/bin", bin) < 0 || asprintf(&out, "%s/sh.out", log) < 0)
            _exit(126);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || chdir(dir) != 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("PATH", path, 1);
        setenv("FAKE_LOG", log, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Compares a file of NUL-terminated words with the expected list. */
static void assert_words(const char *path, const char *const *want, size_t nwant)
{
    size_t len = 0;
    char *got = read_file(path, &len);
    if (!got) {
        print_error("%s was not written\n", path);
        fail();
    }
    size_t i = 0;
    for (size_t off = 0; off < len; i++) {
        assert_true(i < nwant);
        assert_string_equal(got + off, want[i]);
        off += strlen(got + off) + 1;
    }
    assert_int_equal(i, nwant);
    free(got);
}

/* ---- marathon_id_from_name ---- */

static void test_id_from_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *want; /* NULL: an error */
    } cases[] = {
        {"My_App", "/my-app"},
        {"hello", "/hello"},
        {"Hello World!", "/hello-world"},
        {"__x__", "/x"},
        {"a..b", "/a-b"},
        {"app.py", "/app-py"},
        {"v2", "/v2"},
        {"Caf\xc3\xa9-Bar", "/caf-bar"},
        {"restarts", "/restarts"},
        {"!!!", NULL},
        {"", NULL},
        {"___...---", NULL},
        {"\xc3\x84\xc3\x96", NULL},
        {"restart", NULL},
        {"Tasks", NULL},
        {"versions", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[128] = "untouched";
        struct err err = {0};
        int rc = marathon_id_from_name(cases[i].name, out, sizeof out, &err);
        if (cases[i].want) {
            if (rc != 0)
                print_error("'%s': %s\n", cases[i].name, err.msg);
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].want);
            assert_int_equal(marathon_check_id(out, &err), 0);
        } else {
            check_error(rc, &err, 2, "marathon id");
            assert_string_equal(out, "untouched");
        }
    }
}

static void test_id_from_long_name(void **state)
{
    (void)state;
    char name[81];
    char want[64];
    char out[128];
    struct err err = {0};

    /* 80 letters: cut to 54 */
    memset(name, 'a', 80);
    name[80] = '\0';
    assert_int_equal(marathon_id_from_name(name, out, sizeof out, &err), 0);
    assert_int_equal(strlen(out), 55);
    want[0] = '/';
    memset(want + 1, 'a', 54);
    want[55] = '\0';
    assert_string_equal(out, want);

    /* the 54th character is a separator: no trailing '-' after the cut */
    memset(name, 'b', 80);
    name[53] = '_';
    assert_int_equal(marathon_id_from_name(name, out, sizeof out, &err), 0);
    assert_int_equal(strlen(out), 54);
    assert_true(out[53] != '-');
    assert_int_equal(marathon_check_id(out, &err), 0);

    /* runs of separators are one '-' and do not count twice */
    snprintf(name, sizeof name, "%s", "A__B..C  D");
    assert_int_equal(marathon_id_from_name(name, out, sizeof out, &err), 0);
    assert_string_equal(out, "/a-b-c-d");

    /* out too small: an error, out untouched */
    snprintf(out, sizeof out, "x");
    check_error(marathon_id_from_name("hello", out, 6, &err), &err, 1, "hello");
    assert_string_equal(out, "x");
    assert_int_equal(marathon_id_from_name("hello", out, 7, &err), 0);
    assert_string_equal(out, "/hello");
}

/* ---- marathon_check_id ---- */

static void test_check_id_good(void **state)
{
    (void)state;
    static const char *const good[] = {
        "/a", "/hello", "/my-app", "/prod/web", "/a.b/c-d", "/a1/b2.c3", "/a--b",
        "/restarts", "/restart/x", "/tasks-x", "/0", "/a.b.c",
        "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",           /* 54 */
        "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbb",          /* 51+3 */
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct err err = {0};
        int rc = marathon_check_id(good[i], &err);
        if (rc != 0)
            print_error("'%s': %s\n", good[i], err.msg);
        assert_int_equal(rc, 0);
    }
}

static void test_check_id_bad(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        const char *why;
    } bad[] = {
        {NULL, "empty"},
        {"", "empty"},
        {"/", "empty segment"},
        {"hello", "absolute"},
        {"a/b", "absolute"},
        {"/My-App", "a-z"},
        {"/a_b", "a-z"},
        {"/a b", "a-z"},
        {"/\xc3\xa4", "a-z"},
        {"/-a", "'-'"},
        {"/a-", "'-'"},
        {"/a/-b", "'-'"},
        {"/a.-b", "'-'"},
        {"/a-.b", "'-'"},
        {"/a..b", "empty part"},
        {"/.a", "empty part"},
        {"/a.", "empty part"},
        {"/a/../b", "empty part"},
        {"//a", "empty segment"},
        {"/a//b", "empty segment"},
        {"/a/", "empty segment"},
        {"/restart", "reserved"},
        {"/x/tasks", "reserved"},
        {"/versions", "reserved"},
        {"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "mesos-dns"},   /* 55 */
        {"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbb", "mesos-dns"}, /* 30+25 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct err err = {0};
        check_error(marathon_check_id(bad[i].id, &err), &err, 2, bad[i].why);
    }
    /* a given id that breaks the rules fails the whole render */
    struct marathon_app a = base_app();
    a.id = "/My-App";
    app_fails(&a, 2, "marathon id");
    a.id = "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b";
    app_fails(&a, 2, "mesos-dns");
}

/* ---- marathon_check_url ---- */

static void test_check_url_good(void **state)
{
    (void)state;
    static const char *const good[] = {
        URL,
        "http://h/a/b/c",
        "http://h:8080/x?y=1",
        "https://h/x-1.2.3.tar.gz",
        "https://h/a$(b)`c`;d&e|f\"g",
        "https://h/dl?x=a/b",
        "file:///opt/x",
        "file://localhost/opt/x",
        "file:///tmp/my%20dir/h%27x",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct err err = {0};
        int rc = marathon_check_url(good[i], &err);
        if (rc != 0)
            print_error("'%s': %s\n", good[i], err.msg);
        assert_int_equal(rc, 0);
    }
}

static void test_check_url_bad(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *why;
    } bad[] = {
        {NULL, "empty"},
        {"", "empty"},
        {"ftp://h/x", "http://"},
        {"hdfs://h/x", "http://"},
        {"h/x", "http://"},
        {"/x", "http://"},
        {"https://h", "no path"},
        {"https://h?x=1", "no path"},
        {"https://h/", "h/"},
        {"https://h/dir/", "ends in '/'"},
        {"http:///x", "no host"},
        {"https://h/it's", "quote"},
        {"https://h/a\\b", "backslash"},
        {"https://h/a b", "space"},
        {"https://h/a\tb", "space"},
        {"https://h/a\nb", "space"},
        {"https://h/a\x7f", "control"},
        {"https://h/\xc3\xa9", "non-ascii"},
        {"https://h/x#frag", "fragment"},
        {"https://h/x/..", "name a file"},
        {"https://h/.", "name a file"},
        {"file://h/x", "file:///"},
        {"file:///", "ends in '/'"},
        {"file:///opt/", "ends in '/'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct err err = {0};
        check_error(marathon_check_url(bad[i].url, &err), &err, 2, bad[i].why);
    }
    char longurl[1100];
    memset(longurl, 'x', sizeof longurl - 1);
    longurl[sizeof longurl - 1] = '\0';
    memcpy(longurl, "https://h/", 10);
    struct err err = {0};
    check_error(marathon_check_url(longurl, &err), &err, 2, "longer");

    struct marathon_app a = base_app();
    a.url = "ftp://h/hello";
    app_fails(&a, 2, "url");
}

/* ---- marathon_shell_quote ---- */

static void test_shell_quote(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"", "''"},
        {"abc", "'abc'"},
        {"a b", "'a b'"},
        {"it's", "'it'\\''s'"},
        {"''", "''\\'''\\'''"},
        {"$(id) `id`; rm -rf /", "'$(id) `id`; rm -rf /'"},
        {"\"\\$", "'\"\\$'"},
        {"line\nbreak", "'line\nbreak'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct err err = {0};
        char *q = NULL;
        assert_int_equal(marathon_shell_quote(cases[i].in, &q, &err), 0);
        assert_string_equal(q, cases[i].want);

        /* and sh reads it back as the very same word */
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "printf '%%s' %s", q) > 0);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char got[256];
        size_t n = fread(got, 1, sizeof got - 1, p);
        got[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_string_equal(got, cases[i].in);
        free(cmd);
        free(q);
    }
    /* it appends to what *out already holds */
    struct err err = {0};
    char *out = strdup("exec ./x ");
    assert_non_null(out);
    assert_int_equal(marathon_shell_quote("a'b", &out, &err), 0);
    assert_string_equal(out, "exec ./x 'a'\\''b'");
    free(out);
    check_error(marathon_shell_quote(NULL, &out, &err), &err, 2, NULL);
}

/* ---- the cmd, run by /bin/sh against fake tools ---- */

struct sandbox {
    char *root;    /* removed at the end */
    char *bin;     /* fake curl and sha256sum */
    char *log;     /* what they saw */
    char *work;    /* the task's sandbox (cwd of sh) */
    char *app_sh;  /* the "binary": records its argv */
    char *hash;    /* real sha256 of app_sh */
};

static void sandbox_init(struct sandbox *s)
{
    s->root = make_tmpdir();
    s->bin = path_in(s->root, "bin");
    s->log = path_in(s->root, "log");
    s->work = path_in(s->root, "work");
    s->app_sh = path_in(s->log, "app.sh");
    assert_int_equal(mkdir(s->bin, 0700), 0);
    assert_int_equal(mkdir(s->log, 0700), 0);
    assert_int_equal(mkdir(s->work, 0700), 0);

    write_file(s->app_sh,
               "#!/bin/sh\n"
               "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$FAKE_LOG/app.args\"\n"
               "printf '%s' \"${BUNDLE_CACHE_DIR-(unset)}\" > \"$FAKE_LOG/app.cache\"\n",
               0644);
    /* curl: records argv, "downloads" app.sh to the -o file */
    char *curl = path_in(s->bin, "curl");
    write_file(curl,
               "#!/bin/sh\n"
               "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$FAKE_LOG/curl.args\"\n"
               "out=\n"
               "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n"
               "cat \"$FAKE_LOG/app.sh\" > \"$out\"\n",
               0755);
    free(curl);

    /* sha256sum: records argv and stdin, then lets the real one judge */
    FILE *p = popen("command -v sha256sum", "r");
    assert_non_null(p);
    char real[512] = "";
    assert_non_null(fgets(real, sizeof real, p));
    pclose(p);
    real[strcspn(real, "\n")] = '\0';
    assert_true(real[0] == '/');
    char *script = NULL;
    assert_true(asprintf(&script,
                         "#!/bin/sh\n"
                         "for a in \"$@\"; do printf '%%s\\0' \"$a\"; done > \"$FAKE_LOG/sha.args\"\n"
                         "cat > \"$FAKE_LOG/sha.stdin\"\n"
                         "exec '%s' \"$@\" < \"$FAKE_LOG/sha.stdin\"\n",
                         real) > 0);
    char *sha = path_in(s->bin, "sha256sum");
    write_file(sha, script, 0755);
    free(sha);
    free(script);

    char *cmd = NULL;
    assert_true(asprintf(&cmd, "'%s' < '%s'", real, s->app_sh) > 0);
    p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    free(cmd);
    line[64] = '\0';
    s->hash = strdup(line);
    assert_non_null(s->hash);
}

static void sandbox_free(struct sandbox *s)
{
    rm_rf(s->root);
    free(s->root);
    free(s->bin);
    free(s->log);
    free(s->work);
    free(s->app_sh);
    free(s->hash);
}

/* Empties log/ (but app.sh) and work/ between cases. */
static void sandbox_reset(struct sandbox *s)
{
    static const char *const logs[] = {"curl.args", "sha.args", "sha.stdin", "app.args",
                                       "app.cache", "sh.out"};
    for (size_t i = 0; i < sizeof logs / sizeof *logs; i++) {
        char *p = path_in(s->log, logs[i]);
        unlink(p);
        free(p);
    }
    rm_rf(s->work);
    assert_int_equal(mkdir(s->work, 0700), 0);
}

/* The binary as the fetcher leaves it: already in work/, executable. */
static void sandbox_prefetch(struct sandbox *s, const char *file)
{
    char *text = read_file(s->app_sh, NULL);
    char *dst = path_in(s->work, file);
    assert_non_null(text);
    write_file(dst, text, 0755);
    free(text);
    free(dst);
}

static void assert_no_injection(const struct sandbox *s)
{
    char *p = path_in(s->work, "pwned");
    assert_int_equal(access(p, F_OK), -1);
    free(p);
}

struct shell_case {
    const char *name;
    const char *url;
    const char *args;
    const char *want_args[4];
    size_t nargs;
};

static const struct shell_case shell_cases[] = {
    {"hello", URL, NULL, {NULL}, 0},
    {"my app", "https://h/dl/my%20app?x=$(touch${IFS}pwned)&y=`touch${IFS}pwned`;touch${IFS}pwned",
     "--flag 'a b' c", {"--flag", "a b", "c"}, 3},
    {"it's", "https://h/it%27s", "\"it's\"", {"it's"}, 1},
    {"$(touch pwned)", "https://h/a`touch${IFS}pwned`b|touch${IFS}pwned", NULL, {NULL}, 0},
    {"`touch pwned`;x|y&z>w", "https://h/x;touch${IFS}pwned", "'$(touch pwned)'",
     {"$(touch pwned)"}, 1},
    {"-rf", "https://h/-rf", "-- -x", {"--", "-x"}, 2},
    {"a\"b\\c*", "https://h/abc", "\t'\\'", {"\\"}, 1},
    {"h\xc3\xa9llo \xe2\x9c\x93", "https://h/hello", "   ", {NULL}, 0},
};

static void run_case(struct sandbox *s, const struct shell_case *c, bool fetch, bool job)
{
    struct marathon_app a = base_app();
    a.name = c->name;
    a.url = c->url;
    a.args = c->args;
    a.sha256_hex = s->hash;
    a.fetch = fetch;
    char *json = job ? render_job(&a) : render(&a);
    char *cmd = text_value(json, "cmd");
    const char *file = c->name;
    if (fetch && job)
        file = strrchr(c->url, '/') + 1; /* Metronome cannot rename artifacts */

    sandbox_reset(s);
    if (fetch)
        sandbox_prefetch(s, file);
    int rc = run_sh(s->work, s->bin, s->log, cmd);
    if (rc != 0) {
        char *p = path_in(s->log, "sh.out");
        char *out = read_file(p, NULL);
        print_error("cmd failed (%d): %s\noutput: %s\n", rc, cmd, out ? out : "");
        free(out);
        free(p);
    }
    assert_int_equal(rc, 0);

    char *p = path_in(s->log, "curl.args");
    if (fetch) {
        assert_int_equal(access(p, F_OK), -1); /* the fetcher did it */
    } else {
        const char *want[] = {"-fsSL", "-o", c->name, c->url};
        assert_words(p, want, 4);
    }
    free(p);

    p = path_in(s->log, "sha.args");
    const char *want_sha[] = {"-c", "-"};
    assert_words(p, want_sha, 2);
    free(p);

    p = path_in(s->log, "sha.stdin");
    char *got = read_file(p, NULL);
    char *line = NULL;
    assert_true(asprintf(&line, "%s  %s\n", s->hash, file) > 0);
    assert_non_null(got);
    assert_string_equal(got, line);
    free(got);
    free(line);
    free(p);

    p = path_in(s->log, "app.args");
    assert_words(p, c->want_args, c->nargs);
    free(p);

    assert_no_injection(s);
    free(cmd);
    free(json);
}

static void test_cmd_in_shell(void **state)
{
    (void)state;
    struct sandbox s;
    sandbox_init(&s);
    for (size_t i = 0; i < sizeof shell_cases / sizeof *shell_cases; i++) {
        run_case(&s, &shell_cases[i], false, false);
        run_case(&s, &shell_cases[i], true, false);
        run_case(&s, &shell_cases[i], false, true);
    }
    /* Metronome with fetch: the binary has the URL's last segment as name */
    static const struct shell_case job = {"hello", "https://h/v1/hello-1.0?sig=a$b", "x",
                                          {"x"}, 1};
    run_case(&s, &job, true, true);
    sandbox_free(&s);
}

/* The app finds BUNDLE_CACHE_DIR in the sandbox: $MESOS_SANDBOX, else the
 * working directory; a BUNDLE_CACHE_DIR the task already has is kept. */
static void test_cmd_cache_dir(void **state)
{
    (void)state;
    struct sandbox s;
    sandbox_init(&s);
    char *odd = path_in(s.root, "my sandbox 'x' $(touch pwned) \\");
    char *want_odd = path_in(odd, ".bundle-cache");
    char *cwd = realpath(s.work, NULL);
    char *want_cwd = path_in(cwd, ".bundle-cache");
    assert_non_null(cwd);
    static const char *const fake_mesos = "/var/lib/mesos/slaves/S0/frameworks/F/executors/e/runs/r";
    char *want_mesos = path_in(fake_mesos, ".bundle-cache");
    const struct {
        const char *sandbox;  /* MESOS_SANDBOX, NULL: unset */
        const char *preset;   /* BUNDLE_CACHE_DIR before cmd, NULL: unset */
        const char *want;
    } cases[] = {
        {fake_mesos, NULL, want_mesos},
        {odd, NULL, want_odd},
        {NULL, NULL, want_cwd},
        {"", NULL, want_cwd},
        {fake_mesos, "/srv/shared cache", "/srv/shared cache"},
    };
    char *old_sandbox = getenv("MESOS_SANDBOX") ? strdup(getenv("MESOS_SANDBOX")) : NULL;
    char *old_cache = getenv("BUNDLE_CACHE_DIR") ? strdup(getenv("BUNDLE_CACHE_DIR")) : NULL;
    for (int fetch = 0; fetch <= 1; fetch++) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            struct marathon_app a = base_app();
            a.sha256_hex = s.hash;
            a.fetch = fetch;
            char *json = render(&a);
            char *cmd = text_value(json, "cmd");
            sandbox_reset(&s);
            if (fetch)
                sandbox_prefetch(&s, "hello");
            if (cases[i].sandbox)
                setenv("MESOS_SANDBOX", cases[i].sandbox, 1);
            else
                unsetenv("MESOS_SANDBOX");
            if (cases[i].preset)
                setenv("BUNDLE_CACHE_DIR", cases[i].preset, 1);
            else
                unsetenv("BUNDLE_CACHE_DIR");
            assert_int_equal(run_sh(s.work, s.bin, s.log, cmd), 0);
            char *p = path_in(s.log, "app.cache");
            char *got = read_file(p, NULL);
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
            assert_no_injection(&s);
            free(got);
            free(p);
            free(cmd);
            free(json);
        }
    }
    if (old_sandbox)
        setenv("MESOS_SANDBOX", old_sandbox, 1);
    else
        unsetenv("MESOS_SANDBOX");
    if (old_cache)
        setenv("BUNDLE_CACHE_DIR", old_cache, 1);
    else
        unsetenv("BUNDLE_CACHE_DIR");
    free(old_sandbox);
    free(old_cache);
    free(want_mesos);
    free(want_cwd);
    free(cwd);
    free(want_odd);
    free(odd);
    sandbox_free(&s);
}

/* A wrong hash stops the task before the binary runs. */
static void test_cmd_checks_hash(void **state)
{
    (void)state;
    struct sandbox s;
    sandbox_init(&s);
    for (int fetch = 0; fetch <= 1; fetch++) {
        struct marathon_app a = base_app();
        a.fetch = fetch;
        a.sha256_hex = HASH; /* not the hash of app.sh */
        char *json = render(&a);
        char *cmd = text_value(json, "cmd");
        sandbox_reset(&s);
        if (fetch)
            sandbox_prefetch(&s, "hello");
        assert_int_not_equal(run_sh(s.work, s.bin, s.log, cmd), 0);
        char *p = path_in(s.log, "app.args");
        assert_int_equal(access(p, F_OK), -1);
        free(p);
        free(cmd);
        free(json);
    }
    sandbox_free(&s);
}

static void test_cmd_text(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    char *json = render(&a);
    char *cmd = text_value(json, "cmd");
    assert_string_equal(cmd, EXPORT "curl -fsSL -o 'hello' '" URL "' && printf '%s  %s\\n' "
                             HASH " 'hello' | sha256sum -c - && chmod u+x './hello' && "
                             "exec './hello'");
    free(cmd);
    free(json);

    a.fetch = true;
    a.args = "--port $PORT0";
    json = render(&a);
    cmd = text_value(json, "cmd");
    assert_string_equal(cmd, EXPORT "printf '%s  %s\\n' " HASH " 'hello' | sha256sum -c - && "
                             "exec './hello' --port $PORT0");
    free(cmd);
    free(json);

    /* args: one line of shell text */
    a.args = "a\nb";
    app_fails(&a, 2, "args");
    a.args = "a\rb";
    app_fails(&a, 2, "args");
    a.args = "\xff";
    app_fails(&a, 2, "utf-8");
}

/* ---- JSON ---- */

static void test_json_escaping(void **state)
{
    (void)state;
    const char *env[] = {
        "CTL=a\001b\037\n\t\r\"\\/",
        "UTF=h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80",
        "DEL=\x7f",
    };
    struct marathon_app a = base_app();
    a.env = env;
    a.nenv = 3;
    char *json = render(&a);
    assert_contains(json, "\"CTL\": \"a\\u0001b\\u001F\\n\\t\\r\\\"\\\\/\"");
    assert_contains(json, "\"UTF\": \"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"");
    assert_contains(json, "\"DEL\": \"\x7f\"");
    for (const char *p = json; *p; p++)
        assert_true((unsigned char)*p >= 0x20 || *p == '\n');
    /* read back, every value is what was given */
    json_t *doc = parse(json), *e = json_object_get(doc, "env");
    assert_string_equal(json_string_value(json_object_get(e, "CTL")), env[0] + 4);
    assert_string_equal(json_string_value(json_object_get(e, "UTF")), env[1] + 4);
    assert_string_equal(json_string_value(json_object_get(e, "DEL")), env[2] + 4);
    json_decref(doc);
    free(json);

    /* invalid UTF-8 anywhere is refused, never written */
    static const char *const bad[] = {
        "X=\xff",             /* not UTF-8 at all */
        "X=\xc0\x80",         /* overlong NUL */
        "X=\xe0\x80\xaf",     /* overlong '/' */
        "X=\xed\xa0\x80",     /* surrogate */
        "X=\xf4\x90\x80\x80", /* above U+10FFFF */
        "X=\xe2\x82",         /* truncated */
        "X=a\x80",            /* stray continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a.env = &bad[i];
        a.nenv = 1;
        app_fails(&a, 2, "utf-8");
    }
    a.env = NULL;
    a.nenv = 0;
    a.name = "hell\xc3o";
    app_fails(&a, 2, "utf-8");
}

static void test_env(void **state)
{
    (void)state;
    const char *env[] = {"B=2", "A=x=y", "C=", "AB=1"};
    struct marathon_app a = base_app();
    a.env = env;
    a.nenv = 4;
    char *json = render(&a);
    assert_contains(json, "  \"env\": {\n"
                          "    \"A\": \"x=y\",\n"
                          "    \"AB\": \"1\",\n"
                          "    \"B\": \"2\",\n"
                          "    \"C\": \"\"\n"
                          "  },\n");
    free(json);
    json = render_job(&a);
    assert_contains(json, "    \"env\": {\n      \"A\": \"x=y\",\n");
    free(json);

    a.nenv = 0; /* no env: no key */
    json = render(&a);
    assert_lacks(json, "\"env\"");
    free(json);

    static const struct {
        const char *kv[2];
        const char *why;
    } bad[] = {
        {{"=x", NULL}, "empty name"},
        {{"=", NULL}, "empty name"},
        {{"NOEQ", NULL}, "NAME=VALUE"},
        {{"", NULL}, "NAME=VALUE"},
        {{NULL, NULL}, "NAME=VALUE"},
        {{"A\n=1", NULL}, "control"},
        {{"A=1", "A=2"}, "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a.env = bad[i].kv;
        a.nenv = bad[i].kv[1] ? 2 : 1;
        app_fails(&a, 2, bad[i].why);
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *env1[] = {"A=1", "B=2", "C=3"};
    const char *env2[] = {"C=3", "A=1", "B=2"};
    struct marathon_app a = base_app();
    a.env = env1;
    a.nenv = 3;
    a.health_path = "/health";
    a.kill_grace = 30;
    a.fetch = true;
    char *one = render(&a);
    char *two = render(&a);
    assert_string_equal(one, two);
    a.env = env2; /* order of the flags does not matter */
    char *three = render(&a);
    assert_string_equal(one, three);
    char *job1 = render_job(&a);
    char *job2 = render_job(&a);
    assert_string_equal(job1, job2);
    free(one);
    free(two);
    free(three);
    free(job1);
    free(job2);
}

/* Every allocation jansson makes, failing in turn: -1 with an error
 * (ENOMEM), no document, nothing leaked; then the same document as
 * without failures. */
static void test_out_of_memory(void **state)
{
    (void)state;
    const char *env[] = {"B=2", "A=x"};
    struct marathon_app a = base_app();
    a.env = env;
    a.nenv = 2;
    a.health_path = "/health";
    a.kill_grace = 30;
    a.fetch = true;
    for (int job = 0; job < 2; job++) {
        int (*make)(const struct marathon_app *, char **, struct err *) =
            job ? marathon_metronome_json : marathon_app_json;
        json_alloc_fail_after(-1);
        char *want = job ? render_job(&a) : render(&a);
        assert_int_equal(json_alloc_live, 0);
        for (long n = 0;; n++) {
            struct err err = {0};
            char *json = NULL;
            json_alloc_fail_after(n);
            int rc = make(&a, &json, &err);
            json_alloc_fail_after(-1);
            assert_int_equal(json_alloc_live, 0);
            if (rc == 0) {
                assert_true(n > 10); /* a document needs a few dozen */
                assert_string_equal(json, want);
                free(json);
                break;
            }
            check_error(rc, &err, 1, "json");
            assert_int_equal(err.errnum, ENOMEM);
            assert_null(json);
        }
        free(want);
    }
    json_set_alloc_funcs(malloc, free);
}

static void test_layout(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    char *json = render(&a);
    assert_string_equal(json,
        "{\n"
        "  \"id\": \"/hello\",\n"
        "  \"cmd\": \"export BUNDLE_CACHE_DIR=\\\"${BUNDLE_CACHE_DIR:-${MESOS_SANDBOX:-$PWD}"
        "/.bundle-cache}\\\" && curl -fsSL -o 'hello' '" URL "' && printf '%s  %s\\\\n' " HASH
        " 'hello' | sha256sum -c - && chmod u+x './hello' && exec './hello'\",\n"
        "  \"cpus\": 0.1,\n"
        "  \"mem\": 128,\n"
        "  \"disk\": 0,\n"
        "  \"instances\": 1,\n"
        "  \"labels\": {\n"
        "    \"BUNDLE_SHA256\": \"" HASH "\"\n"
        "  }\n"
        "}\n");
    free(json);
}

/* key of doc: a JSON integer (whole) or real holding exactly want */
static void check_number(const json_t *doc, const char *key, double want, bool whole)
{
    json_t *v = json_object_get(doc, key);
    if (!(whole ? json_is_integer(v) : json_is_real(v)) || json_number_value(v) != want) {
        print_error("%s: want %s %.17g\n", key, whole ? "integer" : "real", want);
        fail();
    }
}

static void test_numbers(void **state)
{
    (void)state;
    /* Whole numbers are integers.  Reals have 15 significant digits (0.1
     * stays 0.1), or 17 where one of the document's reals needs them to
     * read back as itself (then 1e-5 is 1.0000000000000001e-5: the same
     * double). */
    static const struct {
        double cpus, mem, disk;
        const char *want;
    } good[] = {
        {0.1, 128, 0, "\"cpus\": 0.1,\n  \"mem\": 128,\n  \"disk\": 0,"},
        {0.1 + 0.2, 1.5, 1e-5, "\"cpus\": 0.30000000000000004,\n  \"mem\": 1.5,\n  \"disk\": 1.0000000000000001e-5,"},
        {2, 4096, 1024.25, "\"cpus\": 2,\n  \"mem\": 4096,\n  \"disk\": 1024.25,"},
        {0.001, 0.5, -0.0, "\"cpus\": 0.001,\n  \"mem\": 0.5,\n  \"disk\": 0,"},
        {0.25, 16777216, 1073741823.999, "\"cpus\": 0.25,\n  \"mem\": 16777216,\n  \"disk\": 1073741823.999,"},
        {1024, 1e-3, 1e-7, "\"cpus\": 1024,\n  \"mem\": 0.001,\n  \"disk\": 1e-7,"},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct marathon_app a = base_app();
        a.cpus = good[i].cpus;
        a.mem = good[i].mem;
        a.disk = good[i].disk;
        char *json = render(&a);
        assert_contains(json, good[i].want);
        json_t *doc = parse(json);
        check_number(doc, "cpus", good[i].cpus, good[i].cpus == (double)(long long)good[i].cpus);
        check_number(doc, "mem", good[i].mem, good[i].mem == (double)(long long)good[i].mem);
        check_number(doc, "disk", good[i].disk, good[i].disk == (double)(long long)good[i].disk);
        json_decref(doc);
        free(json);
    }
    struct marathon_app a = base_app();
    a.instances = 0;
    a.kill_grace = 0;
    char *json = render(&a);
    assert_contains(json, "\"instances\": 0,");
    assert_contains(json, "\"taskKillGracePeriodSeconds\": 0\n");
    free(json);

    static const struct {
        double cpus, mem, disk;
        long instances;
        const char *why;
    } bad[] = {
        {0, 128, 0, 1, "cpus"},
        {-1, 128, 0, 1, "cpus"},
        {0.0005, 128, 0, 1, "cpus"},
        {NAN, 128, 0, 1, "cpus"},
        {INFINITY, 128, 0, 1, "cpus"},
        {0.1, 0, 0, 1, "mem"},
        {0.1, -5, 0, 1, "mem"},
        {0.1, NAN, 0, 1, "mem"},
        {0.1, 128, -1, 1, "disk"},
        {0.1, 128, INFINITY, 1, "disk"},
        {0.1, 128, 0, -1, "instances"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a = base_app();
        a.cpus = bad[i].cpus;
        a.mem = bad[i].mem;
        a.disk = bad[i].disk;
        a.instances = bad[i].instances;
        app_fails(&a, 2, bad[i].why);
    }
}

static void test_inputs_refused(void **state)
{
    (void)state;
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    static const char *const names[] = {NULL, "", "a/b", ".", "..", "a\nb", "a\x7f"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct marathon_app a = base_app();
        a.name = names[i];
        app_fails(&a, 2, "name");
    }
    struct marathon_app a = base_app();
    a.name = longname;
    app_fails(&a, 2, "longer");

    static const char *const hashes[] = {NULL, "", "abc", HASH "0",
                                         "zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"};
    for (size_t i = 0; i < sizeof hashes / sizeof *hashes; i++) {
        a = base_app();
        a.sha256_hex = hashes[i];
        app_fails(&a, 1, "sha256");
    }
    /* upper-case hex is accepted and written in lower case */
    a = base_app();
    a.sha256_hex = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    char *json = render(&a);
    assert_contains(json, "\"BUNDLE_SHA256\": \"" HASH "\"");
    free(json);

    struct err err = {0};
    json = NULL;
    check_error(marathon_app_json(NULL, &json, &err), &err, 2, NULL);
    check_error(marathon_metronome_json(NULL, &json, &err), &err, 2, NULL);
    assert_null(json);
}

/* The defaults: 2 x the bundle (page cache of the download and of the
 * unpacked native parts) + 32 MB, and 3 x + 32 MB of disk, in whole MiB
 * rounded up, then to a multiple of 16. */
static void test_default_resources(void **state)
{
    (void)state;
    static const struct {
        uint64_t bytes;
        double mem, disk;
    } cases[] = {
        {0, 32, 32},
        {1, 48, 48},                         /* 1 MiB: 34 -> 48, 35 -> 48 */
        {1024 * 1024, 48, 48},
        {1024 * 1024 + 1, 48, 48},           /* 2 MiB: 36 -> 48, 38 -> 48 */
        {18166359, 80, 96},                  /* examples/hello, 3.11: 18 MiB: 68, 86 */
        {19329899, 80, 96},                  /* examples/service: 19 MiB: 70, 89 */
        {24 * 1024 * 1024, 80, 112},         /* 80 exactly stays 80; 104 -> 112 */
        {100ull * 1024 * 1024 + 5, 240, 336}, /* 101 MiB: 234, 335 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double mem = marathon_default_mem(cases[i].bytes);
        double disk = marathon_default_disk(cases[i].bytes);
        if (mem != cases[i].mem || disk != cases[i].disk)
            print_error("%llu bytes: mem %g (want %g), disk %g (want %g)\n",
                        (unsigned long long)cases[i].bytes, mem, cases[i].mem, disk,
                        cases[i].disk);
        assert_true(mem == cases[i].mem);
        assert_true(disk == cases[i].disk);
    }
    /* always at least 2 x the size + 32 MB, a multiple of 16, never decreasing */
    double last = 0;
    for (uint64_t b = 0; b < 300ull * 1024 * 1024; b += 777777) {
        double mem = marathon_default_mem(b);
        assert_true(mem >= 2.0 * (double)b / (1024 * 1024) + 32);
        assert_true(mem == (double)(long long)mem && (long long)mem % 16 == 0);
        assert_true(mem >= last);
        last = mem;
    }
    assert_true(isfinite(marathon_default_mem(UINT64_MAX)));
    assert_true(marathon_default_mem(UINT64_MAX) > 1e9);
    assert_true(isfinite(marathon_default_disk(UINT64_MAX)));
}

/* marathon_check_app: the command line's mistakes, before the build. */
static void test_check_app(void **state)
{
    (void)state;
    struct err err = {0};
    struct marathon_app a = base_app();
    a.sha256_hex = NULL;
    a.mem = 0;
    assert_int_equal(marathon_check_app(&a, false, &err), 0);
    assert_int_equal(marathon_check_app(&a, true, &err), 0);
    a.url = NULL;
    a.binary_path = NULL; /* name only */
    assert_int_equal(marathon_check_app(&a, true, &err), 0);
    a.fetch = true;
    assert_int_equal(marathon_check_app(&a, true, &err), 0);

    static const struct {
        const char *what;
        const char *needle;
    } bad[] = {
        {"cpus", "cpus"},   {"mem", "mem"},        {"id", "marathon id"},
        {"restart", "restart"}, {"ftp", "must start with"}, {"slash", "ends in '/'"},
        {"quote", "quote"}, {"args", "args"},      {"env", "environment"},
        {"health", "health"}, {"name", "name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a = base_app();
        a.sha256_hex = NULL;
        const char *w = bad[i].what;
        if (!strcmp(w, "cpus")) a.cpus = 0.0005;
        else if (!strcmp(w, "mem")) a.mem = -1;
        else if (!strcmp(w, "id")) a.id = "/Bad_Id";
        else if (!strcmp(w, "restart")) a.id = "/a/restart";
        else if (!strcmp(w, "ftp")) a.url = "ftp://x/y";
        else if (!strcmp(w, "slash")) a.url = "http://h/dir/";
        else if (!strcmp(w, "quote")) a.url = "http://h/it's";
        else if (!strcmp(w, "args")) a.args = "a\nb";
        else if (!strcmp(w, "env")) { static const char *const e[] = {"=x"}; a.env = e; a.nenv = 1; }
        else if (!strcmp(w, "health")) a.health_path = "/a b";
        else if (!strcmp(w, "name")) a.name = "a/b";
        memset(&err, 0, sizeof err);
        check_error(marathon_check_app(&a, false, &err), &err, 2, bad[i].needle);
    }
    memset(&err, 0, sizeof err);
    check_error(marathon_check_app(NULL, false, &err), &err, 2, NULL);
}

static void test_fetch(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    a.url = "https://h/builds/hello-1.2.3";
    a.fetch = true;
    char *json = render(&a);
    assert_contains(json, "  \"fetch\": [\n"
                          "    {\n"
                          "      \"uri\": \"https://h/builds/hello-1.2.3\",\n"
                          "      \"executable\": true,\n"
                          "      \"extract\": false,\n"
                          "      \"cache\": false,\n"
                          "      \"destPath\": \"hello\"\n"
                          "    }\n"
                          "  ]\n");
    char *cmd = text_value(json, "cmd");
    assert_lacks(cmd, "curl");
    assert_contains(cmd, "sha256sum -c -");
    assert_contains(cmd, "exec './hello'");
    free(cmd);
    free(json);

    a.fetch_cache = true;
    json = render(&a);
    assert_contains(json, "\"cache\": true,");
    free(json);

    a.fetch = false; /* fetch_cache alone means nothing */
    json = render(&a);
    assert_lacks(json, "\"fetch\"");
    assert_contains(json, "curl -fsSL");
    free(json);
}

static void test_file_url(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    a.url = NULL;
    a.binary_path = "/opt/dist/hello";
    char *json = render(&a);
    assert_contains(json, "'file:///opt/dist/hello'");
    free(json);
    a.fetch = true;
    json = render(&a);
    assert_contains(json, "\"uri\": \"file:///opt/dist/hello\"");
    free(json);

    a.fetch = false;
    a.binary_path = "/tmp/my dir/h\xc3\xa9'llo#1";
    json = render(&a);
    assert_contains(json, "'file:///tmp/my%20dir/h%C3%A9%27llo%231'");
    free(json);
    /* the Mesos fetcher would not decode that */
    a.fetch = true;
    app_fails(&a, 2, "--url");

    a.fetch = false;
    a.binary_path = "dist/hello";
    app_fails(&a, 2, "absolute");
    a.binary_path = NULL;
    app_fails(&a, 2, "binary path");
    a.binary_path = "/opt/dist/";
    app_fails(&a, 2, "ends in '/'");
}

static void test_health_and_grace(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    char *json = render(&a);
    assert_lacks(json, "portDefinitions");
    assert_lacks(json, "healthChecks");
    assert_lacks(json, "taskKillGracePeriodSeconds");
    free(json);

    a.health_path = "/health?full=1";
    a.kill_grace = 30;
    json = render(&a);
    assert_contains(json, "  \"portDefinitions\": [\n"
                          "    {\n"
                          "      \"port\": 0,\n"
                          "      \"protocol\": \"tcp\",\n"
                          "      \"name\": \"http\"\n"
                          "    }\n"
                          "  ],\n"
                          "  \"healthChecks\": [\n"
                          "    {\n"
                          "      \"protocol\": \"MESOS_HTTP\",\n"
                          "      \"path\": \"/health?full=1\",\n"
                          "      \"portIndex\": 0,\n"
                          "      \"gracePeriodSeconds\": 300,\n"
                          "      \"intervalSeconds\": 60,\n"
                          "      \"timeoutSeconds\": 20,\n"
                          "      \"maxConsecutiveFailures\": 3\n"
                          "    }\n"
                          "  ],\n"
                          "  \"taskKillGracePeriodSeconds\": 30\n"
                          "}\n");
    free(json);

    static const char *const bad[] = {"health", "", "/a b", "/a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a.health_path = bad[i];
        app_fails(&a, 2, "health");
    }
}

static void test_metronome(void **state)
{
    (void)state;
    struct marathon_app a = base_app();
    a.id = "/prod/my-app";
    a.mem = 16;
    a.cpus = 0.001;
    a.instances = 3;
    a.health_path = "/health";
    char *json = render_job(&a);
    assert_contains(json, "{\n  \"id\": \"prod.my-app\",\n  \"description\": \"");
    assert_contains(json, "    \"cpus\": 0.01,\n    \"mem\": 32,\n    \"disk\": 0,\n");
    assert_contains(json, "curl -fsSL -o 'hello'");
    assert_lacks(json, "instances");
    assert_lacks(json, "health");
    assert_lacks(json, "\"artifacts\"");
    free(json);

    a = base_app();
    a.mem = 512;
    a.cpus = 1.5;
    a.disk = 100;
    json = render_job(&a);
    assert_contains(json, "\"id\": \"hello\",");
    assert_contains(json, "    \"cpus\": 1.5,\n    \"mem\": 512,\n    \"disk\": 100,\n");
    free(json);

    a.url = "https://h/v1/hello-1.0";
    a.fetch = true;
    a.fetch_cache = true;
    json = render_job(&a);
    assert_contains(json, "    \"artifacts\": [\n"
                          "      {\n"
                          "        \"uri\": \"https://h/v1/hello-1.0\",\n"
                          "        \"executable\": true,\n"
                          "        \"extract\": false,\n"
                          "        \"cache\": true\n"
                          "      }\n"
                          "    ]\n");
    assert_lacks(json, "destPath");
    char *cmd = text_value(json, "cmd");
    assert_contains(cmd, " 'hello-1.0' | sha256sum");
    assert_contains(cmd, "exec './hello-1.0'");
    free(cmd);
    free(json);
}

/* ---- schema validity ---- */

static char *repo_root(void)
{
#ifdef BUNDLE_SOURCE_DIR
    return strdup(BUNDLE_SOURCE_DIR);
#else
    static const char suffix[] = "tests/unit/deploy/test_marathon.c";
    const char *f = __FILE__;
    size_t fl = strlen(f), sl = strlen(suffix);
    if (fl > sl && strcmp(f + fl - sl, suffix) == 0)
        return strndup(f, fl - sl - 1);
    return strdup("."); /* compiled from the repository root */
#endif
}

struct validator {
    char *script;
    char *schemas;
    char *dir;
};

static void validator_init(struct validator *v)
{
    char *root = repo_root();
    assert_non_null(root);
    v->script = path_in(root, "tests/tools/validate_schema.py");
    const char *env = getenv("BUNDLE_SCHEMA_DIR");
    v->schemas = env ? strdup(env) : path_in(root, "../shared/schemas");
    assert_non_null(v->schemas);
    v->dir = make_tmpdir();
    free(root);
}

static void validator_free(struct validator *v)
{
    rm_rf(v->dir);
    free(v->dir);
    free(v->script);
    free(v->schemas);
}

static char *quoted(const char *s)
{
    struct err err = {0};
    char *q = NULL;
    assert_int_equal(marathon_shell_quote(s, &q, &err), 0);
    return q;
}

/* Exit status of validate_schema.py on json (77: cannot check); quiet hides
 * the errors it lists when a failure is what the test expects. */
static int validate(struct validator *v, const char *schema, const char *label, const char *json,
                    bool quiet)
{
    char *file = path_in(v->dir, label);
    char *schema_path = path_in(v->schemas, schema);
    char *q[3] = {quoted(v->script), quoted(schema_path), quoted(file)};
    char *cmd = NULL;
    write_file(file, json, 0600);
    assert_true(asprintf(&cmd, "/usr/bin/python3 %s %s %s%s", q[0], q[1], q[2],
                              quiet ? " 2>/dev/null" : "") > 0);
    int status = system(cmd);
    for (int i = 0; i < 3; i++)
        free(q[i]);
    free(cmd);
    free(schema_path);
    free(file);
    assert_true(status != -1 && WIFEXITED(status));
    int rc = WEXITSTATUS(status);
    if (rc == 127) /* no /usr/bin/python3 */
        rc = 77;
    if (rc == 77)
        print_message("skipping schema checks: validate_schema.py cannot check "
                      "(apt-get install python3-jsonschema; schemas in %s)\n", v->schemas);
    return rc;
}

/* Frees what the test holds and skips it when the validator cannot check. */
#define SKIP_IF_UNCHECKED(rc, v, json)  \
    do {                                \
        if ((rc) == 77) {               \
            free(json);                 \
            validator_free(v);          \
            skip();                     \
        }                               \
    } while (0)

static void test_schema_valid(void **state)
{
    (void)state;
    static const char *const env[] = {"PLAIN=1", "EQ=a=b", "CTL=x\x01y\n",
                                      "UTF=\xe2\x9c\x93", "EMPTY="};
    struct validator v;
    validator_init(&v);
    for (int i = 0; i < 9; i++) {
        struct marathon_app a = base_app();
        const char *label = "plain";
        switch (i) {
        case 1: a.fetch = true; label = "fetch"; break;
        case 2: a.fetch = a.fetch_cache = true; label = "fetch-cache"; break;
        case 3: a.health_path = "/health"; label = "health"; break;
        case 4: a.env = env; a.nenv = 5; label = "env"; break;
        case 5: a.kill_grace = 30; label = "kill-grace"; break;
        case 6: a.url = NULL; label = "file-url"; break;
        case 7:
            a.id = "/prod/team/my.app";
            a.fetch = a.fetch_cache = true;
            a.health_path = "/h";
            a.env = env;
            a.nenv = 5;
            a.kill_grace = 0;
            a.instances = 0;
            a.args = "--port \"$PORT0\"";
            label = "everything";
            break;
        case 8: a.cpus = 0.001; a.mem = 0.5; a.disk = 1e-5; label = "small"; break;
        }
        char *json = render(&a);
        int rc = validate(&v, "marathon/AppDefinition.json", label, json, false);
        SKIP_IF_UNCHECKED(rc, &v, json);
        if (rc != 0)
            print_error("%s:\n%s", label, json);
        assert_int_equal(rc, 0);
        free(json);

        /* the same configuration as a Metronome job */
        json = render_job(&a);
        rc = validate(&v, "metronome/jobspec.schema.json", label, json, false);
        SKIP_IF_UNCHECKED(rc, &v, json);
        if (rc != 0)
            print_error("metronome %s:\n%s", label, json);
        assert_int_equal(rc, 0);
        free(json);
    }
    validator_free(&v);
}

/* The validator is not a rubber stamp: a foreign key fails it. */
static void test_schema_rejects(void **state)
{
    (void)state;
    struct validator v;
    validator_init(&v);
    struct marathon_app a = base_app();
    char *json = render(&a);
    char *bad = NULL;
    assert_true(asprintf(&bad, "{\n  \"bogus\": 1,%s", json + 1) > 0);
    free(json);
    int rc = validate(&v, "marathon/AppDefinition.json", "bogus", bad, true);
    SKIP_IF_UNCHECKED(rc, &v, bad);
    assert_int_equal(rc, 1);
    free(bad);

    json = render_job(&a);
    assert_true(asprintf(&bad, "{\n  \"instances\": 1,%s", json + 1) > 0);
    free(json);
    rc = validate(&v, "metronome/jobspec.schema.json", "bogus-job", bad, true);
    SKIP_IF_UNCHECKED(rc, &v, bad);
    assert_int_equal(rc, 1);
    free(bad);
    validator_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_from_name),
        cmocka_unit_test(test_id_from_long_name),
        cmocka_unit_test(test_check_id_good),
        cmocka_unit_test(test_check_id_bad),
        cmocka_unit_test(test_check_url_good),
        cmocka_unit_test(test_check_url_bad),
        cmocka_unit_test(test_shell_quote),
        cmocka_unit_test(test_cmd_text),
        cmocka_unit_test(test_cmd_in_shell),
        cmocka_unit_test(test_cmd_cache_dir),
        cmocka_unit_test(test_cmd_checks_hash),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_inputs_refused),
        cmocka_unit_test(test_default_resources),
        cmocka_unit_test(test_check_app),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_file_url),
        cmocka_unit_test(test_health_and_grace),
        cmocka_unit_test(test_metronome),
        cmocka_unit_test(test_schema_valid),
        cmocka_unit_test(test_schema_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
