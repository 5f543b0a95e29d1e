/* test_scan.c - unit tests of the import scanner (src/analyze/scan*.c).
 *
 * Most cases are tables of source -> expected imports, the imports rendered
 * as text so a failure shows both sides:
 *     LINE:MODULE(NAMES){FLAGS} ...
 * MODULE carries one leading '.' per level, (NAMES) only for from-imports,
 * {FLAGS} only when set: t try, i if, d def, c class, y dynamic.
 *     "from ..x import y as z, w" inside "if"  ->  "1:..x(y,w){i}"
 *
 * Every scan runs on an exact-size heap copy of its input, so that reading
 * one byte too far shows up under valgrind.
 *
 * Why one file over 600 lines: it is the tests of one source file, mostly
 * tables of cases; split, a case would be harder to find than it is to scroll to.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, clock_gettime */
#endif

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "bundle/analyze/scan.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* ---- counting, failing allocator ------------------------------------------
 * The test binary defines malloc and friends, so that every allocation
 * scan.c makes is counted (a leak check that needs no valgrind) and can be
 * made to fail (the out-of-memory paths).  They forward to glibc's own entry
 * points.  Left out under sanitizers, whose allocators must see every block
 * themselves.  Plain valgrind replaces these functions as well, so the hooks
 * go quiet and the out-of-memory test skips; to keep them under valgrind, run
 * it with --soname-synonyms=somalloc=nouserintercepts. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) \
    || __has_feature(thread_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#endif

#if defined(__GLIBC__) && !defined(TEST_SANITIZED)

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static volatile long alloc_live; /* blocks allocated and not yet freed */
static volatile long alloc_fail_in = -1; /* allocations left before one fails; -1: never */

static int alloc_should_fail(void)
{
    if (alloc_fail_in < 0)
        return 0;
    if (alloc_fail_in == 0) {
        errno = ENOMEM;
        return 1;
    }
    alloc_fail_in--;
    return 0;
}

void *malloc(size_t n)
{
    void *p = alloc_should_fail() ? NULL : __libc_malloc(n);
    if (p)
        alloc_live++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = alloc_should_fail() ? NULL : __libc_calloc(n, size);
    if (p)
        alloc_live++;
    return p;
}

void *realloc(void *old, size_t n)
{
    void *p;
    if (alloc_should_fail())
        return NULL;
    p = __libc_realloc(old, n);
    if (p && !old)
        alloc_live++;
    else if (!p && old && n == 0)
        alloc_live--;
    return p;
}

void free(void *p)
{
    if (p)
        alloc_live--;
    __libc_free(p);
}
#else
static volatile long alloc_live;
static volatile long alloc_fail_in = -1;
#endif

/* Whether the hooks above see allocations: not when compiled out, nor
 * under valgrind, which replaces malloc in the executable too (its own
 * leak check covers that case). */
static int alloc_hooks_live(void)
{
    long before = alloc_live;
    void *volatile p = malloc(1);
    int live = alloc_live != before;
    free(p);
    return live;
}

/* ---- helpers ------------------------------------------------------------ */

struct scan_run {
    int rc;
    int line;
    struct err err;
    struct scan_result res;
};

/* Scans src[0..len) from an exact-size copy; checks the result is empty on
 * failure and, with the allocator hooks, that release frees everything. */
#define HINTS SCAN_HINTS

/* Leaves only the import statements and import calls of a result: the
 * tables below are about those; the hints have tables of their own. */
static void drop_hints(struct scan_result *res)
{
    size_t w = 0;
    for (size_t i = 0; i < res->n; i++) {
        struct scan_import *imp = &res->imports[i];
        if (!(imp->flags & HINTS)) {
            res->imports[w++] = *imp;
            continue;
        }
        for (size_t j = 0; j < imp->nnames; j++)
            free(imp->names[j]);
        free(imp->names);
        free(imp->module);
    }
    res->n = w;
}

static void run_keep(const char *src, size_t len, struct scan_run *r, bool keep_hints);

/* Scans src: its import statements and calls, hints dropped. */
static void run(const char *src, size_t len, struct scan_run *r)
{
    run_keep(src, len, r, false);
}

static void run_keep(const char *src, size_t len, struct scan_run *r, bool keep_hints)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, src, len);
    memset(r, 0, sizeof *r);
    r->line = -12345;
    r->res.imports = (struct scan_import *)(uintptr_t)1; /* must be overwritten */
    r->res.n = 99;
    r->rc = scan_source(copy, len, &r->res, &r->line, &r->err);
    free(copy);
    if (r->rc != 0) {
        assert_int_equal(r->rc, -1);
        assert_null(r->res.imports);
        assert_int_equal(r->res.n, 0);
        assert_true(r->err.msg[0] != '\0');
    } else {
        assert_int_equal(r->line, 0);
        if (!keep_hints)
            drop_hints(&r->res);
    }
}

static void run_release(struct scan_run *r)
{
    scan_result_release(&r->res);
    assert_null(r->res.imports);
    assert_int_equal(r->res.n, 0);
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    assert_true(*len + n < size);
    memcpy(buf + *len, s, n + 1);
    *len += n;
}

/* Renders a result in the format described at the top of this file. */
static void render(const struct scan_result *res, char *buf, size_t size)
{
    size_t len = 0, i, j;
    char tmp[64];

    buf[0] = '\0';
    for (i = 0; i < res->n; i++) {
        const struct scan_import *imp = &res->imports[i];
        int k;
        snprintf(tmp, sizeof tmp, "%s%d:", i ? " " : "", imp->line);
        append(buf, size, &len, tmp);
        for (k = 0; k < imp->level && k < 8; k++)
            append(buf, size, &len, ".");
        append(buf, size, &len, imp->module);
        if (imp->names) {
            append(buf, size, &len, "(");
            for (j = 0; j < imp->nnames; j++) {
                if (j)
                    append(buf, size, &len, ",");
                append(buf, size, &len, imp->names[j]);
            }
            append(buf, size, &len, ")");
        }
        if (imp->flags) {
            snprintf(tmp, sizeof tmp, "{%s%s%s%s%s%s%s%s%s%s}",
                     imp->flags & SCAN_IN_TRY ? "t" : "", imp->flags & SCAN_IN_IF ? "i" : "",
                     imp->flags & SCAN_IN_DEF ? "d" : "", imp->flags & SCAN_IN_CLASS ? "c" : "",
                     imp->flags & SCAN_DYNAMIC ? "y" : "", imp->flags & SCAN_IN_SCRIPT ? "s" : "",
                     imp->flags & SCAN_IN_MAIN ? "m" : "", imp->flags & SCAN_GUARDED ? "g" : "",
                     imp->flags & SCAN_IN_EXCEPT ? "e" : "", imp->flags & SCAN_PROBE ? "p" : "");
            append(buf, size, &len, tmp);
        }
    }
}

struct ok_case {
    const char *name;
    const char *src;
    const char *want;
};

static void check_ok_len(const char *name, const char *src, size_t len, const char *want)
{
    struct scan_run r;
    char got[4096];
    long live = alloc_live;

    run(src, len, &r);
    if (r.rc != 0)
        fail_msg("%s: scan failed at line %d: %s", name, r.line, r.err.msg);
    render(&r.res, got, sizeof got);
    run_release(&r);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n  want [%s]\n  got  [%s]", name, want, got);
    if (alloc_live != live)
        fail_msg("%s: %ld blocks leaked", name, alloc_live - live);
}

static void check_table(const struct ok_case *cases, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        check_ok_len(cases[i].name, cases[i].src, strlen(cases[i].src), cases[i].want);
}

#define CHECK_TABLE(t) check_table((t), sizeof(t) / sizeof((t)[0]))

struct err_case {
    const char *name;
    const char *src;
    size_t len;      /* 0: strlen(src) */
    int line;        /* expected *err_line */
    const char *msg; /* expected part of the message */
};

static void check_err(const struct err_case *c)
{
    struct scan_run r;
    long live = alloc_live;

    run(c->src, c->len ? c->len : strlen(c->src), &r);
    if (r.rc == 0) {
        char got[4096];
        render(&r.res, got, sizeof got);
        run_release(&r);
        fail_msg("%s: scanned without error: [%s]", c->name, got);
    }
    if (r.line != c->line || !strstr(r.err.msg, c->msg))
        fail_msg("%s:\n  want line %d '%s'\n  got  line %d '%s'", c->name, c->line, c->msg,
                 r.line, r.err.msg);
    if (alloc_live != live)
        fail_msg("%s: %ld blocks leaked", c->name, alloc_live - live);
}

/* CPU seconds of this thread: steadier than wall time on a busy machine. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The time budget of a 10 MB scan: well under a second when optimised;
 * -O0 and sanitizer builds get 5 s, valgrind its usual 20-50x slowdown. */
static double budget(void)
{
    if (RUNNING_ON_VALGRIND)
        return 60.0;
#if defined(__OPTIMIZE__) && !defined(TEST_SANITIZED)
    return 1.0;
#else
    return 5.0;
#endif
}

/* ---- statement forms ---------------------------------------------------- */

static const struct ok_case import_cases[] = {
    {"plain", "import os\n", "1:os"},
    {"no final newline", "import os", "1:os"},
    {"dotted with aliases", "import a.b as c, d\n", "1:a.b 1:d"},
    {"spaces in dotted name", "import a . b .c\n", "1:a.b.c"},
    {"three names", "import a,b , c\n", "1:a 1:b 1:c"},
    {"relative with parens", "from ..x import (y as z, w)\n", "1:..x(y,w)"},
    {"from dot", "from . import z\n", "1:.(z)"},
    {"from ellipsis token", "from ... import z\n", "1:...(z)"},
    {"from four dots", "from .... import z\n", "1:....(z)"},
    {"from dot dot ellipsis", "from .. ... import z\n", "1:.....(z)"},
    {"from dot glued to import", "from .import x\n", "1:.(x)"},
    {"from relative dotted", "from .a.b import c\n", "1:.a.b(c)"},
    {"star", "from m import *\n", "1:m(*)"},
    {"relative star", "from .m import *\n", "1:.m(*)"},
    {"aliases dropped", "from m import a, b as c\n", "1:m(a,b)"},
    {"parens over lines", "from m import (\n    a,\n    b,\n)\nimport c\n", "1:m(a,b) 5:c"},
    {"from future", "from __future__ import annotations\n", "1:__future__(annotations)"},
    {"semicolons", "import a; import b;import c\n", "1:a 1:b 1:c"},
    {"after other statement", "x = 1; from m import y\n", "1:m(y)"},
    {"trailing semicolon", "import a;\n", "1:a"},
    {"comment after", "import os  # import sys\n", "1:os"},
    {"non-ascii name", "import caf\xc3\xa9\nfrom \xce\xb1 import \xce\xb2\n",
     "1:caf\xc3\xa9 2:\xce\xb1(\xce\xb2)"},
    {"latin-1 byte name", "import caf\xe9\n", "1:caf\xe9"},
    {"digits in names", "import a1.b2 as c3\n", "1:a1.b2"},
    {"continuation in from", "from \\\n  m import \\\n  x\nimport y\n", "1:m(x) 4:y"},
    {"continuation in import", "import a, \\\n    b\nimport c\n", "1:a 1:b 3:c"},
    {"source order", "import b\nfrom a import c\nimport a\n", "1:b 2:a(c) 3:a"},
    {"form feed indent", "\fimport os\n", "1:os"},
    {"empty source", "", ""},
    {"only blank lines", "\n\n   \n\t\n", ""},
    {"only comments", "# a\n  # b\n#", ""},
};

static void test_import_forms(void **state)
{
    (void)state;
    CHECK_TABLE(import_cases);
}

/* The word import where no import is, and malformed imports. */
static const struct ok_case not_import_cases[] = {
    {"single-quoted string", "x = 'import os'\n", ""},
    {"double-quoted string", "x = \"import os\"\n", ""},
    {"comment", "# import os\n", ""},
    {"indented comment", "    # import os\n", ""},
    {"triple single", "s = '''\nimport os\n'''\n", ""},
    {"triple double", "s = \"\"\"\nimport os\n\"\"\"\n", ""},
    {"docstring statement", "'''\nimport os\n'''\n", ""},
    {"identifier prefix", "important = 1\nimports = [2]\n", ""},
    {"identifier suffix", "reimport = 1\nfrom_ = 2\n", ""},
    {"escaped quote", "x = 'a\\'; import b'\n", ""},
    {"escaped double quote", "x = \"a\\\"; import b\"\n", ""},
    {"raw string escaped quote", "x = r'\\'; import os'\n", ""},
    {"escaped backslash", "x = 'a\\\\'; y = 'import os'\n", ""},
    {"f-string text", "x = f'import os {x}'\n", ""},
    {"f-string field string", "x = f'{\"import os\"}'\n", ""},
    {"f-string field name", "x = f'{important}'\n", ""},
    {"inside brackets", "x = [\nimport os\n]\n", ""},
    {"inside braces", "d = {\n'import': 1,\nimport: 2}\n", ""},
    {"continued line", "print(1) \\\nimport os\n", ""},
    {"yield from", "def g():\n    yield from x\n", ""},
    {"raise from", "raise X from e\n", ""},
    {"await from", "x = yield from y; z = 1\n", ""},
    {"attribute", "x.import_module = 1\nm.from_x = 2\n", ""},
    {"import alone", "import\n", ""},
    {"import number", "import 1\n", ""},
    {"import trailing dot", "import a.\n", ""},
    {"import as nothing", "import a as\n", ""},
    {"from alone", "from m\n", ""},
    {"from without module", "from import x\n", ""},
    {"from without names", "from m import\n", ""},
    {"from empty parens", "from m import ()\n", ""},
    {"from missing comma", "from m import (a b)\n", ""},
    {"from bad alias", "from m import a as (b)\n", ""},
    {"bytes string", "b'import os'\n", ""},
};

static void test_not_imports(void **state)
{
    (void)state;
    CHECK_TABLE(not_import_cases);
}

/* Every prefix in every case, single and triple quoted: "import a" inside
 * is text, "import y" after it is a statement. */
static void test_string_prefixes(void **state)
{
    static const char *const prefixes[] = {
        "", "r", "u", "b", "f", "R", "U", "B", "F", "rb", "br", "Rb", "bR", "RB", "BR",
        "rB", "Br", "fr", "rf", "Fr", "fR", "FR", "RF", "rF", "Rf",
    };
    static const char *const quotes[] = {"'", "\"", "'''", "\"\"\""};
    size_t i, j;
    (void)state;
    for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        for (j = 0; j < sizeof quotes / sizeof quotes[0]; j++) {
            char src[128], name[64];
            /* x = PREFIX'import a # \'\\'; import y */
            snprintf(src, sizeof src, "x = %s%simport a # \\%s\\\\%s; import y\n", prefixes[i],
                     quotes[j], quotes[j], quotes[j]);
            snprintf(name, sizeof name, "prefix %s quote %s", prefixes[i], quotes[j]);
            check_ok_len(name, src, strlen(src), "1:y");
        }
    }
}

static const struct ok_case string_cases[] = {
    {"invalid prefix is a name", "x = ub'a'; import y\n", "1:y"},
    {"triple with lone quotes", "x = '''a ' '' b'''; import y\n", "1:y"},
    {"triple double with lone quotes", "x = \"\"\"a \" \"\" b\"\"\"; import y\n", "1:y"},
    {"empty strings", "x = '' + \"\" + ''''''; import y\n", "1:y"},
    {"quote of other kind", "x = \"it's\" + 'say \"hi\"'; import y\n", "1:y"},
    {"backslash newline in string", "s = 'a\\\nb'\nimport os\n", "3:os"},
    {"backslash crlf in string", "s = 'a\\\r\nb'\r\nimport os\r\n", "3:os"},
    {"triple ending in backslashes", "s = '''a\\\\'''\nimport os\n", "2:os"},
    {"raw triple with escaped quote", "x = r'''a\\''''; import y\n", "1:y"},
    {"triple with escaped quote", "s = '''a\\''''\nimport os\n", "2:os"},
    {"implicit concatenation", "x = ('a'\n     'b')\nimport os\n", "3:os"},
    {"hash in string", "x = '#'; import y\n", "1:y"},
    {"string after name", "print'x'; import y\n", "1:y"},
};

static void test_strings(void **state)
{
    (void)state;
    CHECK_TABLE(string_cases);
}

static const struct ok_case fstring_cases[] = {
    {"same quotes in field (3.12)", "f\"{x[\"a\"]}\"; import y\n", "1:y"},
    {"other quotes in field", "f\"{x['a']}\"; import y\n", "1:y"},
    {"nested f-strings", "f\"{f\"{f\"{1}\"}\"}\"; import y\n", "1:y"},
    {"nested triple f-strings", "f'''{f\"\"\"{f'{1}'}\"\"\"}'''; import y\n", "1:y"},
    {"escaped braces", "f'{{import x}}'; import y\n", "1:y"},
    {"escaped braces around field", "f'{{{x}}}'; import y\n", "1:y"},
    {"brace in nested string", "f\"{'}'}\"; import y\n", "1:y"},
    {"quote of outer kind in spec field", "f\"{x:{\"5\"}}\"; import y\n", "1:y"},
    {"format spec fields", "f'{x:{w}.{p}f}'; import y\n", "1:y"},
    {"conversion and spec", "f'{x!r:>{w}}'; import y\n", "1:y"},
    {"spec is text", "f'{x:import a}'; import y\n", "1:y"},
    {"debug equals", "f'{x=}{y = !r}'; import y\n", "1:y"},
    {"colon-equals is a spec", "f'{x:=5}'; import y\n", "1:y"},
    {"not-equals", "f'{a!=b}'; import y\n", "1:y"},
    {"walrus in parens", "f'{(x:=5)}'; import y\n", "1:y"},
    {"dict in field", "f'{ {\"a\": 1}[\"a\"] }'; import y\n", "1:y"},
    {"lambda in parens", "f'{(lambda: 1)()}'; import y\n", "1:y"},
    {"slice in brackets", "f'{x[1:2]}'; import y\n", "1:y"},
    {"named escape", "f'\\N{EM DASH}{x}'; import y\n", "1:y"},
    {"named escape is no field", "f'\\N{import}'; import y\n", "1:y"},
    {"named escape hides a call", "f\"\\N{__import__('os')}\"; import y\n", "1:y"},
    {"named escape then field", "f'\\N{DASH}}{__import__(\"os\")}'\n", "1:os{y}"},
    {"raw f-string has no named escape", "rf\"\\N{__import__('os')}\"\n", "1:os{y}"},
    {"raw named escape is a field", "rf'\\N{x}'; import y\n", "1:y"},
    {"raw backslash brace", "rf'\\{x}\\'; import y'\n", ""},
    {"backslash in field (3.12)", "f'{\"\\n\".join(x)}'; import y\n", "1:y"},
    {"escaped quote in text", "f'a\\'b{x}'; import y\n", "1:y"},
    {"triple with newlines", "f'''{\nx\n}\n'''\nimport y\n", "5:y"},
    {"comment in field (3.12)", "f'''{x # }'''\n}'''\nimport y\n", "3:y"},
    {"newline in single-quoted field (3.12)", "f'{x +\n1}'\nimport y\n", "3:y"},
    {"concatenated f-strings", "f'a' 'b' f'{c}' F\"{d}\"; import y\n", "1:y"},
    {"field with import word", "f'{import_}'; import y\n", "1:y"},
    {"lone closing brace read as text", "f'a}b'; import y\n", "1:y"},
};

static void test_fstrings(void **state)
{
    (void)state;
    CHECK_TABLE(fstring_cases);
}

static const struct ok_case line_cases[] = {
    {"blank and comment lines", "import a # c\n\n# c\n   \nimport b\n", "1:a 5:b"},
    {"bracket continuation", "x = (\n1,\n2)\nimport os\n", "4:os"},
    {"triple-quoted string", "x = '''\n\n\n'''\nimport os\n", "5:os"},
    {"import in parens over lines", "from m import (a,\n\n  b)\nimport c\n", "1:m(a,b) 4:c"},
    {"backslash then blank line", "x = 1 \\\n\nimport b\n", "3:b"},
    {"crlf", "import a\r\nimport b\r\n", "1:a 2:b"},
    {"cr", "import a\rimport b\r", "1:a 2:b"},
    {"mixed endings", "import a\r\n\rimport b\n\nimport c", "1:a 3:b 5:c"},
    {"crlf in triple string", "x = '''\r\n\r\n'''\r\nimport b\r\n", "4:b"},
    {"cr in triple string", "x = '''\r\r'''\rimport b\r", "4:b"},
    {"bom", "\xef\xbb\xbfimport os\n", "1:os"},
    {"bom then indentation", "\xef\xbb\xbfif x:\n    import os\n", "2:os{i}"},
    {"statement start line", "from m import (\n  a)\n", "1:m(a)"},
};

static void test_lines(void **state)
{
    (void)state;
    CHECK_TABLE(line_cases);
}

/* ---- block context ------------------------------------------------------ */

static const struct ok_case flag_cases[] = {
    {"main guard", "if __name__ == '__main__':\n    import a\nimport b\n", "2:a{is} 3:b"},
    {"main guard reversed, one line", "if \"__main__\" == __name__: import a\n", "1:a{is}"},
    {"main guard nested def",
     "if __name__ == '__main__':\n    def f():\n        import a\n", "3:a{ids}"},
    {"not a main guard", "if __name__ == '__main__' and x:\n    import a\n"
     "if __name__ != '__main__':\n    import b\nif __name__ == b'__main__':\n    import c\n"
     "if name == '__main__':\n    import d\n", "2:a{i} 4:b{i} 6:c{i} 8:d{i}"},
    {"script-only functions", "def _test():\n    import a\nasync def _main():\n    import b\n"
     "def _demo(): import c\ndef main():\n    import d\ndef _tests():\n    import e\n",
     "2:a{ds} 4:b{ds} 5:c{ds} 7:d{dm} 9:e{d}"},
    {"main's flag reaches nested blocks", "def main():\n    if x:\n        import a\nimport b\n",
     "3:a{idm} 4:b"},
    {"try family",
     "try:\n    import a\nexcept ImportError:\n    import b\nelse:\n    import c\n"
     "finally:\n    import d\nimport e\n",
     "2:a{tg} 4:b{t} 6:c{t} 8:d{t} 9:e"},
    {"a type test is no guarded feature",
     "def f(d):\n    try:\n        import pandas\n    except ImportError:\n        return\n    else:\n"
     "        return isinstance(d, pandas.DataFrame)\n"
     "def g(code):\n    try:\n        from pygments import highlight\n    except ImportError:\n        return code\n",
     "3:pandas{td} 10:pygments(highlight){tdg}"},
    {"find_spec is a probe", "if importlib.util.find_spec('numpy'):\n    import_module('numpy')\n",
     "1:numpy{yp} 2:numpy{iy}"},
    {"a version read is no guarded feature",
     "def v():\n    try:\n        import numpy\n        return numpy.version.version\n    except ImportError:\n"
     "        return None\n",
     "3:numpy{td}"},
    {"error path", "try:\n    x()\nexcept pkg.NotFound:\n    import a\nexcept (ImportError, OSError):\n    import b\n"
                   "def f():\n    try:\n        pass\n    except Exception as e:\n        if e:\n            import c\n",
     "4:a{te} 6:b{t} 12:c{tide}"},
    {"guarded: nested tries, not another exception",
     "try:\n    try:\n        import a\n    except KeyError:\n        import b\nexcept Exception:\n    pass\n"
     "try:\n    import c\nexcept OSError:\n    pass\n",
     "3:a{tg} 5:b{tge} 9:c{t}"},
    {"except star", "try:\n    pass\nexcept* E:\n    import a\n", "4:a{te}"},
    {"if family", "if x:\n    import a\nelif y:\n    import b\nelse:\n    import c\nimport d\n",
     "2:a{i} 4:b{i} 6:c{i} 7:d"},
    {"for else", "for x in y:\n    import a\nelse:\n    import b\n", "2:a{i} 4:b{i}"},
    {"while else", "while x: import a\nelse: import b\n", "1:a{i} 2:b{i}"},
    {"with", "with x as y:\n    import a\n", "2:a{i}"},
    {"async with and for", "async with x:\n    import a\nasync for x in y:\n    import b\n",
     "2:a{i} 4:b{i}"},
    {"def", "def f():\n    import a\nimport b\n", "2:a{d} 3:b"},
    {"async def", "async def f():\n    import a\n", "2:a{d}"},
    {"class and method", "class A:\n    import a\n    def f(self):\n        import b\n    import c\n",
     "2:a{c} 4:b{dc} 5:c{c}"},
    {"nested mix",
     "def f():\n    try:\n        if x:\n            import a\n    except E:\n        pass\n"
     "    import b\nimport c\n",
     "4:a{tid} 7:b{d} 8:c"},
    {"dedent by two", "if x:\n    if y:\n        import a\n    import b\nimport c\n",
     "3:a{i} 4:b{i} 5:c"},
    {"else after nested try",
     "if c:\n    try:\n        pass\n    except E:\n        pass\n    else:\n        import a\n"
     "else:\n    import b\n",
     "7:a{ti} 9:b{i}"},
    {"else after if inside except",
     "try:\n    pass\nexcept E:\n    if x:\n        pass\n    else:\n        import a\n",
     "7:a{tie}"},
    {"one-line if", "if x: import y\nimport z\n", "1:y{i} 2:z"},
    {"one-line try", "try: import a\nexcept ImportError: import b\n", "1:a{tg} 2:b{t}"},
    {"one-line class", "class A: import a\n", "1:a{c}"},
    {"one-line def, two statements", "def f(): import a; import b\nimport c\n",
     "1:a{d} 1:b{d} 2:c"},
    {"one-line body inside a block", "def f():\n    if x: import a\n    import b\n",
     "2:a{id} 3:b{d}"},
    {"header with comment", "if x:  # import z\n    import a\n", "2:a{i}"},
    {"tabs", "if x:\n\timport a\n\tif y:\n\t\timport b\nimport c\n", "2:a{i} 4:b{i} 5:c"},
    {"tab equals eight spaces", "try:\n\tif y:\n\t\timport a\n        import b\n",
     "3:a{ti} 4:b{t}"},
    {"tab after spaces", "try:\n    \tif y:\n\t\t import a\n\timport b\n",
     "3:a{ti} 4:b{t}"},
    {"match and case",
     "match x:\n    case 1:\n        import a\n    case _: import b\nimport c\n",
     "3:a{i} 4:b{i} 5:c"},
    {"match patterns", "match x:\n    case {\"k\": 1} | [1, 2]:\n        import a\n", "3:a{i}"},
    {"match as a name", "match = 1\nmatch.group(1)\nimport a\n", "3:a"},
    {"match annotation", "match: int = 1; import a\ncase = 3; import b\n", "1:a 2:b"},
    {"decorators", "@dec\ndef f():\n    import a\n@dec(x)\nclass C:\n    import b\nimport c\n",
     "3:a{d} 6:b{c} 7:c"},
    {"lambda in header", "if lambda: 1: import a\n", "1:a{i}"},
    {"lambda in parens", "if (lambda: 1)():\n    import a\n", "2:a{i}"},
    {"walrus in header", "if x := f():\n    import a\n", "2:a{i}"},
    {"dict in header", "if {'a': 1}:\n    import a\n", "2:a{i}"},
    {"annotated def", "def f(x: int = 1) -> int:\n    import a\n", "2:a{d}"},
    {"class with bases", "class A(B, metaclass=M): import a\n", "1:a{c}"},
    {"annotation is no header", "x: int = 1\nimport a\n", "2:a"},
    {"comment at column 0 in a block", "def f():\n\n# c\n    import a\n", "4:a{d}"},
    {"continuation lines at column 0", "def f():\n    x = (1,\n2)\n    import a\n", "4:a{d}"},
    {"docstring at column 0", "def f():\n    '''\ndoc\n'''\n    import a\n", "5:a{d}"},
    {"empty body", "if x:\nimport a\n", "2:a"},
    {"unexpected indent", "import a\n    import b\nimport c\n", "1:a 2:b 3:c"},
    {"block closed at eof", "if x:\n    pass\n", ""},
};

static void test_flags(void **state)
{
    (void)state;
    CHECK_TABLE(flag_cases);
}

/* ---- dynamic imports ---------------------------------------------------- */

static const struct ok_case dynamic_cases[] = {
    {"__import__", "m = __import__('os')\n", "1:os{y}"},
    {"__import__ with args", "m = __import__(\"os.path\", globals(), None, ['x'])\n",
     "1:os.path{y}"},
    {"importlib.import_module", "importlib.import_module('a.b')\n", "1:a.b{y}"},
    {"import_module", "from importlib import import_module\nimport_module('a')\n",
     "1:importlib(import_module) 2:a{y}"},
    {"with package", "import_module('a', package=None)\n", "1:a{y}"},
    {"spaces", "__import__ ( 'a' )\n", "1:a{y}"},
    {"over lines", "x = __import__(\n    'a',\n)\n", "1:a{y}"},
    {"raw and unicode", "__import__(r'a'); __import__(u'b'); __import__('''c''')\n",
     "1:a{y} 1:b{y} 1:c{y}"},
    {"two in a line", "__import__('a'), __import__('b')\n", "1:a{y} 1:b{y}"},
    {"in try", "try:\n    m = __import__('a')\nexcept ImportError:\n    "
               "m = importlib.import_module('b')\n",
     "2:a{tyg} 4:b{ty}"},
    {"in header", "if __import__('a'):\n    pass\n", "1:a{y}"},
    {"in one-line def", "def f(): return import_module('x')\n", "1:x{dy}"},
    {"in f-string field", "x = f'{__import__(\"os\").sep}'\n", "1:os{y}"},
    {"relative literal", "import_module('.x', 'pkg')\n", "1:.x{y}"},
    {"f-string literal", "__import__(f'os')\n", ""},
    {"bytes literal", "__import__(b'os')\n", ""},
    {"concatenated literal", "__import__('o' 's')\n", ""},
    {"expression", "__import__('os' + x)\n", ""},
    {"variable", "__import__(name)\n", ""},
    {"keyword argument", "__import__(name='os')\n", ""},
    {"not a module name", "__import__('a b'); __import__(''); __import__('a\\x2eb')\n", ""},
    {"other function", "my__import__('os'); import_modules('os')\n", ""},
    {"in a string", "x = '__import__(\"os\")'\n", ""},
    {"in a comment", "# __import__('os')\n", ""},
    {"called f-string result", "f'{__import__}'('os')\n", ""},
    {"no call", "x = __import__\n('os')\n", ""},
};

static void test_dynamic(void **state)
{
    (void)state;
    CHECK_TABLE(dynamic_cases);
}

/* ---- errors ------------------------------------------------------------- */

static const struct err_case error_cases[] = {
    {"nul", "import os\0", 10, 1, "source contains a NUL byte"},
    {"nul alone", "\0", 1, 1, "source contains a NUL byte"},
    {"nul in comment", "import os\n\n# \0\n", 14, 3, "source contains a NUL byte"},
    {"nul in string", "x = '\0'", 7, 1, "source contains a NUL byte"},
    {"nul after crlf", "a\r\nb\r\n\0", 7, 3, "source contains a NUL byte"},
    {"nul after cr", "a\rb\r\0", 5, 3, "source contains a NUL byte"},
    {"unterminated at eol", "x = 'abc\nimport os\n", 0, 1, "unterminated string literal"},
    {"unterminated at eof", "\n\nx = \"abc", 0, 3, "unterminated string literal"},
    {"unterminated after continuation", "x = 'a\\\nb\n", 0, 1, "unterminated string literal"},
    {"unterminated cr", "a = 1\rx = 'abc\r", 0, 2, "unterminated string literal"},
    {"unterminated escape at eof", "x = 'abc\\", 0, 1, "unterminated string literal"},
    {"unterminated triple", "x = '''abc\n\n", 0, 1, "unterminated triple-quoted string literal"},
    {"unterminated triple later", "\n\ns = \"\"\"\nabc\n\"\"", 0, 3,
     "unterminated triple-quoted string literal"},
    {"unterminated f-string", "x = f'abc\n'\n", 0, 1, "unterminated f-string literal"},
    {"unterminated f-string at eof", "\nx = f'abc", 0, 2, "unterminated f-string literal"},
    {"unterminated triple f-string", "\nx = f'''{a}\n\n", 0, 2,
     "unterminated triple-quoted f-string literal"},
    {"unclosed field", "x = f'{a", 0, 1, "f-string: expecting '}'"},
    {"unclosed spec", "x = f'{a:abc'\n", 0, 1, "f-string: expecting '}'"},
    {"unclosed spec at eof", "x = f'''{a:\nabc", 0, 1, "f-string: expecting '}'"},
    {"string in field unterminated", "x = f'{\"a}'\n", 0, 1, "unterminated string literal"},
    {"unclosed paren", "x = (1,\n2,\n", 0, 1, "'(' was never closed"},
    {"unclosed inner bracket", "x = (\n[1,\n", 0, 2, "'[' was never closed"},
    {"unclosed brace", "def f():\n    return {\n", 0, 2, "'{' was never closed"},
    {"unmatched paren", "x = 1)\n", 0, 1, "unmatched ')'"},
    {"unmatched bracket later", "\n\n]", 0, 3, "unmatched ']'"},
    {"unmatched brace", "x = }", 0, 1, "unmatched '}'"},
    {"mismatch", "x = (1]", 0, 1, "']' does not match opening parenthesis '('"},
    {"mismatch later", "x = (\n1\n]", 0, 3, "']' does not match opening parenthesis '('"},
    {"mismatch in field", "f'{x)}'", 0, 1, "')' does not match opening parenthesis '{'"},
    {"stray backslash", "x = 1 \\ y\n", 0, 1, "unexpected character after line continuation"},
};

static void test_errors(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++)
        check_err(&error_cases[i]);
}

static void test_error_arguments(void **state)
{
    struct scan_result res = {(struct scan_import *)(uintptr_t)1, 7};
    struct err e;
    (void)state;

    /* err_line and err may be NULL */
    assert_int_equal(scan_source("x = (", 5, &res, NULL, NULL), -1);
    assert_null(res.imports);
    assert_int_equal(res.n, 0);
    memset(&e, 0, sizeof e);
    assert_int_equal(scan_source("import a", 8, &res, NULL, &e), 0);
    assert_int_equal(res.n, 1);
    scan_result_release(&res);
    /* a NULL buffer of length 0 is an empty source */
    assert_int_equal(scan_source(NULL, 0, &res, NULL, &e), 0);
    assert_int_equal(res.n, 0);
    assert_null(res.imports);
}

static void test_release(void **state)
{
    struct scan_result res = {NULL, 0};
    struct scan_run r;
    (void)state;

    scan_result_release(&res);
    scan_result_release(&res);
    scan_result_release(NULL);
    run("import a\nfrom b import c, d\n", 27, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n, 2);
    assert_null(r.res.imports[0].names);
    assert_int_equal(r.res.imports[0].nnames, 0);
    assert_int_equal(r.res.imports[1].nnames, 2);
    run_release(&r);
    run_release(&r); /* twice is fine */
}

/* ---- size and depth ----------------------------------------------------- */

#define BIG (10u << 20)

/* Builds a BIG-byte line: head, then unit repeated, then tail. */
static char *big_line(const char *head, const char *unit, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    size_t n = (BIG - hl - tl) / ul, i;
    char *buf = malloc(hl + n * ul + tl);
    assert_non_null(buf);
    memcpy(buf, head, hl);
    for (i = 0; i < n; i++)
        memcpy(buf + hl + i * ul, unit, ul);
    memcpy(buf + hl + n * ul, tail, tl);
    *len = hl + n * ul + tl;
    return buf;
}

struct big_case {
    const char *name;
    const char *head, *unit, *tail;
    int ok;           /* expected to scan without error */
    size_t nimports;  /* expected count, when ok */
    const char *last; /* module of the last import, when ok */
};

static void test_big_line(void **state)
{
    static const struct big_case cases[] = {
        {"string", "x = '", "abcdefgh", "'; import y", 1, 1, "y"},
        {"triple string", "x = '''", "ab\\'cd", "'''; import y", 1, 1, "y"},
        {"comment", "import y #", "import x", "", 1, 1, "y"},
        {"expression", "x = 0", "+(a)*[1]", "; import y", 1, 1, "y"},
        {"f-string fields", "x = f'", "{a}{{b}}", "'; import y", 1, 1, "y"},
        {"dotted name", "import a", ".b", "", 1, 1, NULL},
        {"from names", "from m import (a", ", bb", "); import y", 1, 2, "y"},
        {"many imports", "import y", "; import a", "", 1, 1 + (BIG - 8) / 10, "a"},
        {"many dynamic", "x = 0", "+__import__('a')", "", 1, (BIG - 5) / 16, "a"},
        {"dots", "from ", "....", " import x", 1, 1, ""},
        {"unterminated string", "x = '", "abcdefgh", "", 0, 0, NULL},
        {"unclosed call", "f(", "a, ", "", 0, 0, NULL},
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct big_case *c = &cases[i];
        struct scan_result res;
        struct err e;
        int line = 0, rc;
        size_t len;
        char *buf = big_line(c->head, c->unit, c->tail, &len);
        double t0 = now(), dt;

        rc = scan_source(buf, len, &res, &line, &e);
        dt = now() - t0;
        free(buf);
        if (rc == 0)
            drop_hints(&res);
        print_message("    10 MB line, %-20s %.3f s\n", c->name, dt);
        if (c->ok) {
            if (rc != 0)
                fail_msg("%s: %s", c->name, e.msg);
            assert_int_equal(res.n, c->nimports);
            assert_int_equal(res.imports[res.n - 1].line, 1);
            if (c->last)
                assert_string_equal(res.imports[res.n - 1].module, c->last);
            scan_result_release(&res);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(line, 1);
        }
        if (dt > budget())
            fail_msg("%s: %.3f s for a 10 MB line", c->name, dt);
    }
}

static void test_level_counts(void **state)
{
    struct scan_run r;
    (void)state;
    run("from ....... import x", 21, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n, 1);
    assert_int_equal(r.res.imports[0].level, 7);
    assert_string_equal(r.res.imports[0].module, "");
    run_release(&r);
}

/* n nested copies of open, then the middle, then n of close. */
static char *nest(const char *open, size_t n, const char *mid, const char *close, size_t *len)
{
    size_t ol = strlen(open), ml = strlen(mid), cl = strlen(close), i;
    char *buf = malloc(n * (ol + cl) + ml + 1);
    char *p = buf;
    assert_non_null(buf);
    for (i = 0; i < n; i++, p += ol)
        memcpy(p, open, ol);
    memcpy(p, mid, ml);
    p += ml;
    for (i = 0; i < n; i++, p += cl)
        memcpy(p, close, cl);
    *p = '\0';
    *len = (size_t)(p - buf);
    return buf;
}

static void test_deep_nesting(void **state)
{
    struct scan_run r;
    size_t len;
    char *buf;
    (void)state;

    /* 200 brackets are fine, 201 are refused */
    buf = nest("(", 199, "__import__('a')", ")", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n, 1);
    run_release(&r);
    buf = nest("[", 200, "1", "]", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, 0);
    buf = nest("[", 201, "1", "]", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.msg, "too many nested parentheses"));
    assert_int_equal(r.line, 1);

    /* an f-string takes two levels: its text and its field */
    buf = nest("f'{", 99, "__import__('a')", "}'", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n, 1);
    run_release(&r);
    buf = nest("f\"{", 100, "1", "}\"", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, 0);
    buf = nest("f\"{", 101, "1", "}\"", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.msg, "too many nested f-strings"));

    /* a flood of openers fails fast */
    buf = nest("(\n", 1000000, "", "", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.line, 201);
    buf = nest("f'{", 1000000, "", "", &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, -1);
}

/* n blocks nested by indentation, an import in the innermost. */
static char *indented(size_t n, size_t *len)
{
    size_t cap = n * (n + 8) + 64, i, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
        memset(buf + used, ' ', i);
        used += i;
        memcpy(buf + used, "if x:\n", 6);
        used += 6;
    }
    memset(buf + used, ' ', n);
    used += n;
    memcpy(buf + used, "import a\n", 9);
    used += 9;
    *len = used;
    return buf;
}

static void test_deep_indentation(void **state)
{
    struct scan_run r;
    size_t len;
    char *buf;
    (void)state;

    buf = indented(100, &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n, 1);
    assert_int_equal(r.res.imports[0].line, 101);
    assert_int_equal(r.res.imports[0].flags, SCAN_IN_IF);
    run_release(&r);

    buf = indented(101, &len);
    run(buf, len, &r);
    free(buf);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.line, 102);
    assert_non_null(strstr(r.err.msg, "too many levels of indentation"));
}

/* ---- hostile input ------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic across runs and platforms */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static int count_lines(const char *buf, size_t len)
{
    int lines = 1;
    size_t i;
    for (i = 0; i < len; i++)
        if (buf[i] == '\n' || (buf[i] == '\r' && !(i + 1 < len && buf[i + 1] == '\n')))
            lines++;
    return lines;
}

/* Checks that a scan of any input ends cleanly: -1 with an empty result,
 * a message and a line in range, or 0 with well-formed imports. */
static void check_any(const char *buf, size_t len)
{
    struct scan_run r;
    int lines = count_lines(buf, len);
    long live = alloc_live;
    size_t i, j;

    run(buf, len, &r);
    if (r.rc != 0) {
        assert_true(r.line >= 1 && r.line <= lines);
        return;
    }
    for (i = 0; i < r.res.n; i++) {
        const struct scan_import *imp = &r.res.imports[i];
        assert_non_null(imp->module);
        assert_true(imp->level >= 0);
        assert_true(imp->line >= 1 && imp->line <= lines);
        assert_true((imp->flags & ~(31u | SCAN_IN_SCRIPT | SCAN_IN_MAIN | SCAN_GUARDED | SCAN_IN_EXCEPT | SCAN_PROBE)) ==
                    0);
        assert_true(imp->names == NULL ? imp->nnames == 0 : imp->nnames > 0);
        if (imp->level == 0 && !(imp->flags & SCAN_DYNAMIC))
            assert_true(imp->module[0] != '\0');
        for (j = 0; j < imp->nnames; j++)
            assert_true(imp->names[j][0] != '\0');
    }
    run_release(&r);
    assert_int_equal(alloc_live, live);
}

static const char *const soup[] = {
    "import ", "from ", ".", "...", "(", ")", "[", "]", "{", "}", "'", "\"", "'''", "\"\"\"",
    "f'", "f\"", "rb'", "rf\"", "\\", "\\N{", "\n", "\r\n", "\r", "#", ":", ";", ",", "*", "=",
    ":=", " ", "    ", "\t", "\f", "if x", "try", "else", "except", "def f()", "class A",
    "async ", "match ", "case ", "lambda", " as ", "a", "b.c", "__import__", "import_module",
    "\xc3\xa9", "\xef\xbb\xbf", "{{", "}}", "!r", "1e+5", "0x1f", ".5",
};

static void test_random_bytes(void **state)
{
    char buf[600];
    int i;
    (void)state;

    rng_state = 0x9E3779B97F4A7C15ULL;
    for (i = 0; i < 4000; i++) {
        size_t len = 0;
        if (i % 2 == 0) {
            /* raw bytes, NUL rare so that most inputs get past the NUL check */
            size_t n = rng() % 400, k;
            for (k = 0; k < n; k++) {
                buf[k] = (char)(rng() & 0xff);
                if (buf[k] == '\0' && rng() % 8)
                    buf[k] = '\n';
            }
            len = n;
        } else {
            /* token soup: reaches the deeper states of the lexer */
            size_t n = rng() % 80, k;
            for (k = 0; k < n; k++) {
                const char *s = soup[rng() % (sizeof soup / sizeof soup[0])];
                size_t sl = strlen(s);
                if (len + sl > sizeof buf)
                    break;
                memcpy(buf + len, s, sl);
                len += sl;
            }
        }
        check_any(buf, len);
    }
}

static const char sample[] =
    "\xef\xbb\xbf#!/usr/bin/env python3\n"
    "'''Module docstring with import os.'''\n"
    "from __future__ import annotations\n"
    "import os, sys as system\n"
    "from .pkg.sub import (a as b,\n    c, d)\n"
    "try:\n    import json\nexcept ImportError:\n    json = None\nelse:\n    pass\n"
    "class K(Base):\n    '''Doc.'''\n    x = f\"{a['k']!r:>{w}} {{lit}} {f'{b}'}\"\n"
    "    def m(self):\n        if self: import re; from . import y\n"
    "        return __import__('xml.dom', globals()), r'\\\\' + b\"\\\"\"\n"
    "async def g():\n    async with x as y:\n        importlib.import_module(\"email\")\n"
    "match cmd:\n    case [a, *rest] if a:\n        from ..up import *\n"
    "x = (1 +\n     2)  # trailing\n"
    "s = '''\\\nmulti\\\n'''\r\nt = \"a\\\r\nb\"\r\n\tu = 1\r"
    "if (n := len(x)) > 10: import lib\\\n2\n"
    "l = lambda: 0\n";

/* Every prefix of a rich sample: each must end cleanly, and the full
 * sample must give exactly this. */
/* The hints (scan.h), one per entry: "LINE:KIND:MODULE", KIND S string,
 * P prefix (dots for the level; y: in an import call), D distribution
 * (with its names), R a plugin protocol, F self-listing. */
static void render_hints(const struct scan_result *res, char *buf, size_t size)
{
    size_t len = 0;
    char tmp[64];
    buf[0] = '\0';
    for (size_t i = 0; i < res->n; i++) {
        const struct scan_import *imp = &res->imports[i];
        unsigned f = imp->flags;
        if (!(f & HINTS))
            continue;
        snprintf(tmp, sizeof tmp, "%s%d:%s:", len ? " " : "", imp->line,
                 f & SCAN_STRING     ? "S"
                 : f & SCAN_PREFIX   ? (f & SCAN_DYNAMIC ? "Py" : "P")
                 : f & SCAN_DIST     ? "D"
                 : f & SCAN_PROTOCOL ? "R"
                                     : "F");
        append(buf, size, &len, tmp);
        for (int k = 0; k < imp->level && k < 8; k++)
            append(buf, size, &len, ".");
        append(buf, size, &len, imp->module);
        for (size_t j = 0; j < imp->nnames; j++) {
            append(buf, size, &len, j ? "," : "(");
            append(buf, size, &len, imp->names[j]);
        }
        if (imp->nnames)
            append(buf, size, &len, ")");
    }
}

static void test_hints(void **state)
{
    static const struct ok_case cases[] = {
        {"dotted string", "x = 'gunicorn.workers.sync'\n", "1:S:gunicorn.workers.sync"},
        {"bare name", "P = ['BmpImagePlugin', 'x y', '', 'a..b', 'etc.']\n", "1:S:BmpImagePlugin"},
        {"group with dash", "g = 'paste.app-factory'\n", "1:S:paste.app-factory"},
        {"relative name", "m = {'connect': '.legacy.client', 'x': '..up', 'y': '.', 'z': '.a.'}\n",
         "1:S:connect 1:S:.legacy.client 1:S:x 1:S:..up 1:S:y 1:S:z"},
        {"bytes and non-ASCII are none", "b = b'abc'\nc = 'caf\xc3\xa9'\n", ""},
        {"computed: concatenation", "import_module('pygments.lexers.' + name)\n",
         "1:Py:pygments.lexers."},
        {"computed: f-string", "importlib.import_module(f'anyio._backends._{name}')\n", "1:Py:anyio._backends._"},
        {"computed: format", "__import__('dns.rdtypes.%s.%s' % (a, b))\n", "1:P:dns.rdtypes. 1:Py:dns.rdtypes."},
        {"computed: .format", "import_module('pkg.sub.{}'.format(x))\n", "1:P:pkg.sub. 1:Py:pkg.sub."},
        {"computed: relative", "import_module('.' + name, __name__)\n", "1:Py:."},
        {"computed: __name__ +", "import_module(__name__ + '.plugins.' + n)\n", "1:Py:.plugins."},
        {"computed: no package", "import_module('backend_' + n)\n", "1:S:backend_"},
        {"computed: a join is no prefix", "__import__('.'.join(parts), fromlist=[a])\n"
                                          "import_module('a.b.%s'.lower() + x)\n", "2:P:a.b."},
        {"plugin protocol", "def load(name):\n    mod = import_module(name)\n    return getattr(mod, 'setup', None)\n"
                            "def other(m):\n    return getattr(m, 'version')\n",
         "3:S:setup 3:R:setup 5:S:version"},
        {"protocol needs a computed import first", "def f(m):\n    x = getattr(m, 'setup')\n    import_module('a.b')\n",
         "2:S:setup 3:S:a.b"},
        {"concatenation anywhere", "fixers = ['lib2to3.fixes.fix_' + n for n in names]\nm = 'bad. ' + x + 'a_' + y\n",
         "1:S:lib2to3.fixes.fix_ 1:P:lib2to3.fixes.fix_ 2:S:a_"},
        {"format string anywhere", "NAME = 'matplotlib.backends.backend_{}'\n", "1:P:matplotlib.backends.backend_"},
        {"percent format anywhere", "NAME = 'pkg.%s'\n", "1:P:pkg."},
        {"printf is no prefix", "m = '%s.%s' % (a, b)\n", ""},
        {"distribution", "distribution('PyYAML').version\nversion(\"requests\")\n", "1:S:PyYAML 1:D:PyYAML 2:S:requests 2:D:requests"},
        {"load_entry_point", "load_entry_point('yamllint==1.29.0', 'console_scripts', 'yamllint')()\n",
         "1:S:console_scripts 1:S:yamllint 1:D:yamllint==1.29.0(console_scripts,yamllint)"},
        {"listdir of __file__", "def f():\n    for n in os.listdir(os.path.dirname(__file__)):\n        pass\n", "2:F:"},
        {"glob over __path__", "files = glob.glob(__path__[0] + '/*.py')\n", "1:F:"},
        {"__path__[0] to a loader", "register_plugins(linter, __path__[0])\n", "1:F:"},
        {"__path__[0] to a path helper", "d = os.path.join(__path__[0], 'x')\n", "1:S:x"},
        /* the resolver finds no import of "m": nothing comes of it */
        {"another module's __path__", "def f(m):\n    p = m.__path__[0]\n    os.listdir(p)\n", "3:F:m"},
        {"anchor and listing in two functions",
         "def f():\n    return __file__\ndef g(d):\n    return os.listdir(d)\n", ""},
        {"once per module", "os.listdir(__file__)\nos.listdir(__file__)\n", "1:F:"},
        {"resources of the package listed",
         "def plugins():\n    return [p.name for p in importlib.resources.files(__name__).iterdir()]\n", "2:F:"},
        {"an imported package's __path__ listed",
         "from pyupgrade import _plugins\ndef load():\n    p = _plugins.__path__\n"
         "    return pkgutil.walk_packages(p, f'{_plugins.__name__}.')\n", "4:F:_plugins"},
        {"pkgutil over its own __path__", "def plugins():\n    return list(pkgutil.iter_modules(__path__))\n", "2:F:"},
        {"__name__ alone is no anchor", "def f(d):\n    log = getLogger(__name__)\n    return os.listdir(d)\n", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_run r;
        char got[4096];
        run_keep(cases[i].src, strlen(cases[i].src), &r, true);
        if (r.rc != 0)
            fail_msg("%s: scan failed: %s", cases[i].name, r.err.msg);
        render_hints(&r.res, got, sizeof got);
        run_release(&r);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s:\n  want [%s]\n  got  [%s]", cases[i].name, cases[i].want, got);
    }
}

/* try: ids and "except ImportError:" fallbacks: "LINE:MODULE/TRY/FALLBACK". */
static void test_fallbacks(void **state)
{
    static const struct ok_case cases[] = {
        {"plain", "import a\n", "1:a/0/0"},
        {"try and fallback",
         "try:\n    import a\nexcept ImportError:\n    import b\n", "2:a/1/0 4:b/0/1"},
        {"tuple of exceptions", "try:\n    import a\nexcept (ValueError, ModuleNotFoundError):\n    import b\n",
         "2:a/1/0 4:b/0/1"},
        {"other handler is no fallback", "try:\n    import a\nexcept OSError:\n    import b\n",
         "2:a/1/0 4:b/0/0"},
        {"same line", "try: import a\nexcept ImportError: import b\n", "1:a/1/0 2:b/0/1"},
        {"nested", "try:\n    import a\nexcept ImportError:\n    try:\n        import b\n"
                   "    except ImportError:\n        import c\nimport d\n",
         "2:a/1/0 5:b/2/1 7:c/0/2 8:d/0/0"},
        {"else and finally", "try:\n    import a\nexcept ImportError:\n    pass\nelse:\n    import b\n"
                             "finally:\n    import c\n",
         "2:a/1/0 6:b/0/0 8:c/0/0"},
        {"TYPE_CHECKING never runs", "if TYPE_CHECKING:\n    import a\nif typing.TYPE_CHECKING:\n    import b\n",
         "2:a/0/0{s} 4:b/0/0{s}"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_run r;
        char got[4096] = "";
        size_t len = 0;
        run(cases[i].src, strlen(cases[i].src), &r);
        if (r.rc != 0)
            fail_msg("%s: scan failed: %s", cases[i].name, r.err.msg);
        for (size_t k = 0; k < r.res.n; k++) {
            char tmp[256];
            const struct scan_import *imp = &r.res.imports[k];
            snprintf(tmp, sizeof tmp, "%s%d:%s/%d/%d%s", k ? " " : "", imp->line, imp->module, imp->try_id,
                     imp->fallback_of, imp->flags & SCAN_IN_SCRIPT ? "{s}" : "");
            append(got, sizeof got, &len, tmp);
        }
        run_release(&r);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s:\n  want [%s]\n  got  [%s]", cases[i].name, cases[i].want, got);
    }
}

static void test_truncations(void **state)
{
    size_t len = sizeof sample - 1, n;
    (void)state;

    check_ok_len("full sample", sample, len,
                 "3:__future__(annotations) 4:os 4:sys 5:.pkg.sub(a,c,d) 8:json{tg} 17:re{idc} "
                 "17:.(y){idc} 18:xml.dom{dcy} 21:email{idy} 24:..up(*){i} 33:lib{i}");
    for (n = 0; n <= len; n++)
        check_any(sample, n);
}

/* Every allocation in turn fails: the scan must report it, leave the
 * result empty and free what it had. */
static void test_out_of_memory(void **state)
{
    long k;
    int failures = 0;
    (void)state;
    if (!alloc_hooks_live())
        skip();
    for (k = 0; k < 10000; k++) {
        struct scan_result res;
        struct err e;
        int line = -1, rc;
        long live = alloc_live;

        memset(&e, 0, sizeof e);
        alloc_fail_in = k;
        rc = scan_source(sample, sizeof sample - 1, &res, &line, &e);
        alloc_fail_in = -1;
        if (rc == 0) {
            drop_hints(&res);
            assert_int_equal(res.n, 11);
            scan_result_release(&res);
            assert_int_equal(alloc_live, live);
            break;
        }
        failures++;
        assert_int_equal(e.errnum, ENOMEM);
        assert_int_equal(line, 0);
        assert_null(res.imports);
        assert_int_equal(res.n, 0);
        if (alloc_live != live)
            fail_msg("allocation %ld failed: %ld blocks leaked", k, alloc_live - live);
    }
    assert_true(failures > 10);
    assert_true(k < 10000);
}

/* ---- the real thing ----------------------------------------------------- */

#define STDLIB "/root/.pyenv/versions/3.12.1/lib/python3.12"

static const char *const known_bad[] = {
    /* deliberate syntax errors of CPython's own test suite */
    "/lib2to3/tests/data/", "/test/test_lib2to3/data/", "/test/badsyntax_",
    "/test/bad_coding", "/test/tokenizedata/bad", "/test/test_future_stmt/badsyntax_",
};

static struct {
    size_t files, bytes, failures;
    double seconds;
} walk;

static int is_known_bad(const char *path)
{
    size_t i;
    for (i = 0; i < sizeof known_bad / sizeof known_bad[0]; i++)
        if (strstr(path, known_bad[i]))
            return 1;
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static int scan_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    size_t len = strlen(path), n = 0;
    struct scan_result res;
    struct err e;
    int line;
    char *buf;
    double t0;

    (void)st;
    (void)ftw;
    if (type != FTW_F || len < 3 || strcmp(path + len - 3, ".py") != 0)
        return 0;
    buf = read_file(path, &n);
    if (!buf) {
        print_error("cannot read %s\n", path);
        walk.failures++;
        return 0;
    }
    t0 = now();
    if (scan_source(buf, n, &res, &line, &e) == 0) {
        scan_result_release(&res);
    } else if (!is_known_bad(path)) {
        print_error("%s:%d: %s\n", path, line, e.msg);
        walk.failures++;
    }
    walk.seconds += now() - t0;
    walk.files++;
    walk.bytes += n;
    free(buf);
    return 0;
}

static int has_import(const struct scan_result *res, const char *module, unsigned flags)
{
    size_t i;
    for (i = 0; i < res->n; i++)
        if (strcmp(res->imports[i].module, module) == 0 && res->imports[i].level == 0
            && res->imports[i].flags == flags && !res->imports[i].names)
            return 1;
    return 0;
}

static void test_stdlib(void **state)
{
    struct scan_result res;
    struct err e;
    struct stat st;
    int line;
    size_t len;
    char *buf;
    (void)state;

    if (stat(STDLIB "/os.py", &st) != 0)
        skip();

    buf = read_file(STDLIB "/os.py", &len);
    assert_non_null(buf);
    assert_int_equal(scan_source(buf, len, &res, &line, &e), 0);
    free(buf);
    assert_true(has_import(&res, "abc", 0));
    assert_true(has_import(&res, "sys", 0));
    assert_true(has_import(&res, "stat", 0));
    assert_true(has_import(&res, "posixpath", SCAN_IN_IF));
    assert_true(has_import(&res, "ntpath", SCAN_IN_IF));
    assert_true(has_import(&res, "warnings", SCAN_IN_DEF));
    scan_result_release(&res);

    memset(&walk, 0, sizeof walk);
    assert_int_equal(nftw(STDLIB, scan_one, 32, FTW_PHYS), 0);
    print_message("    %zu files, %.1f MB in %.3f s of scanning\n", walk.files,
                  (double)walk.bytes / 1e6, walk.seconds);
    assert_true(walk.files > 1000);
    assert_int_equal(walk.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_forms),
        cmocka_unit_test(test_not_imports),
        cmocka_unit_test(test_string_prefixes),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_fstrings),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_dynamic),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_arguments),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_big_line),
        cmocka_unit_test(test_level_counts),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_deep_indentation),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_stdlib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
