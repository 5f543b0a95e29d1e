/* test_resolve.c - the module graph (src/resolve.c, on top of src/scan.c).
 *
 * Each test builds a small fake world in a temp directory: the app's
 * directory and two site directories standing for the target's sys.path,
 * plus a hand-made struct probe (no interpreter runs).  resolve_graph then
 * has to find what CPython's path finder would: packages before modules,
 * extensions before source, namespace packages across roots, builtins from
 * the probe's list, and missing modules marked optional or not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/probe.h"
#include "bundle/resolve.h"
#include "bundle/util.h"

#define EXT ".cpython-311-x86_64-linux-gnu.so"

struct fx {
    char root[PATH_MAX]; /* realpath of the temp dir */
    struct probe probe;
    struct graph g;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* root/rel (caller frees). */
static char *at(const struct fx *f, const char *rel)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", f->root, rel) > 0);
    return p;
}

/* Writes root/rel, creating its directories; a rel ending in '/' makes a
 * directory only. */
static void put(const struct fx *f, const char *rel, const char *text)
{
    const char *slash = strrchr(rel, '/');
    char *dir = NULL, *path = NULL;
    struct err err = {0};

    assert_non_null(slash);
    assert_true(asprintf(&dir, "%s/%.*s", f->root, (int)(slash - rel), rel) > 0);
    if (util_mkdirs(dir, 0755, &err) != 0)
        fail_msg("%s", err.msg);
    if (slash[1]) {
        assert_true(asprintf(&path, "%s/%s", f->root, rel) > 0);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
    }
    free(dir);
    free(path);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char tmpl[] = "/tmp/test_resolve.XXXXXX";
    if (!f || !mkdtemp(tmpl) || !realpath(tmpl, f->root))
        return -1;
    /* the target's sys.path: two site dirs, one that does not exist, and the
     * app dir again (it must not be searched twice) */
    static const char *const dirs[] = {"lib1", "lib2", "nonexistent", "app"};
    for (size_t i = 0; i < 4; i++) {
        char *d = NULL;
        if (asprintf(&d, "%s/%s", f->root, dirs[i]) < 0 || strvec_push_owned(&f->probe.path, d) != 0)
            return -1;
    }
    if (strvec_push(&f->probe.ext_suffixes, EXT) || strvec_push(&f->probe.ext_suffixes, ".abi3.so") ||
        strvec_push(&f->probe.ext_suffixes, ".so") || strvec_push(&f->probe.builtins, "sys") ||
        strvec_push(&f->probe.builtins, "builtins"))
        return -1;
    f->probe.cache_tag = strdup("cpython-311");
    f->probe.major = 3;
    f->probe.minor = 11;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    graph_release(&f->g);
    probe_release(&f->probe);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Resolves root/app/app.py; fails the test if that fails. */
static void resolve(struct fx *f, const char *const *extra, size_t nextra)
{
    struct err err = {0};
    char *script = at(f, "app/app.py");
    int rc = resolve_graph(&f->g, &f->probe, script, "__main__", extra, nextra, NULL, &err);
    if (rc != 0)
        fail_msg("resolve_graph: %s", err.msg);
    free(script);
}

static const struct module *mod(const struct fx *f, const char *name)
{
    long i = graph_find(&f->g, name);
    if (i < 0)
        fail_msg("module '%s' is not in the graph", name);
    return &f->g.mods[i];
}

static bool has_warning(const struct fx *f, const char *words)
{
    for (size_t i = 0; i < f->g.warnings.n; i++)
        if (strstr(f->g.warnings.v[i], words))
            return true;
    return false;
}

static const char *kind_name(enum mod_kind k)
{
    static const char *const names[] = {"source", "package", "extension", "builtin", "namespace", "missing"};
    return k <= MOD_MISSING ? names[k] : "?";
}

/* What holds for every module of any graph. */
static void check_invariants(const struct fx *f)
{
    const struct graph *g = &f->g;
    size_t dl = strlen(g->script_dir);

    assert_true(g->n >= 1);
    assert_true(g->mods[0].is_app);
    for (size_t i = 0; i < g->n; i++) {
        const struct module *m = &g->mods[i];
        bool has_file = m->kind == MOD_SOURCE || m->kind == MOD_PACKAGE || m->kind == MOD_EXTENSION;
        if (graph_find(g, m->name) != (long)i)
            fail_msg("'%s' is in the graph twice, or its index is wrong", m->name);
        if (has_file != (m->path != NULL))
            fail_msg("'%s' (%s) has path '%s'", m->name, kind_name(m->kind), m->path ? m->path : "(null)");
        if (m->path && m->path[0] != '/')
            fail_msg("'%s' has a relative path '%s'", m->name, m->path);
        if (m->is_app && m->path) {
            /* app_rel is relative to the script dir and leads back to the file */
            if (!m->app_rel || m->app_rel[0] == '/' || strncmp(m->path, g->script_dir, dl) != 0 ||
                m->path[dl] != '/' || strcmp(m->path + dl + 1, m->app_rel) != 0)
                fail_msg("app module '%s': path '%s', app_rel '%s', script dir '%s'", m->name, m->path,
                         m->app_rel ? m->app_rel : "(null)", g->script_dir);
        }
        if (!m->is_app && m->app_rel)
            fail_msg("'%s' is not an app module but has app_rel '%s'", m->name, m->app_rel);
        if (m->kind == MOD_PACKAGE || m->kind == MOD_NAMESPACE) {
            if (m->search.n == 0)
                fail_msg("package '%s' has no search directories", m->name);
        }
    }
}

/* ---- the main world ---- */

static const char app_py[] =
    "import pkg.sub\n"                          /* 1 */
    "from pkg import mod, attr\n"               /* 2 */
    "import shadow\n"                           /* 3 */
    "import fast\n"                             /* 4 */
    "import nsp.a, nsp.b\n"                     /* 5 */
    "import sys\n"                              /* 6 */
    "import missing_required\n"                 /* 7 */
    "try:\n"                                    /* 8 */
    "    import missing_optional\n"             /* 9 */
    "    import both_missing\n"                 /* 10 */
    "except ImportError:\n"                     /* 11 */
    "    pass\n"                                /* 12 */
    "import both_missing\n"                     /* 13 */
    "TYPE_CHECKING = False\n"                   /* 14 */
    "if TYPE_CHECKING:\n"                       /* 15 */
    "    import tc_only\n"                      /* 16 */
    "from . import nothing\n"                   /* 17 */
    "import cyc_a\n"                            /* 18 */
    "import local_only\n";                      /* 19 */

static void make_world(const struct fx *f)
{
    put(f, "app/app.py", app_py);
    put(f, "app/pkg/__init__.py", "from . import x\n");
    put(f, "app/pkg/x.py", "");
    put(f, "app/pkg/sub.py", "from . import mod\nfrom .mod import thing\n");
    put(f, "app/pkg/mod.py", "thing = 1\n");
    put(f, "app/shadow.py", "raise SystemExit('the module, not the package')\n");
    put(f, "app/shadow/__init__.py", "");
    put(f, "app/sys.py", "import should_not_be_followed\n"); /* the builtin wins */
    put(f, "app/local_only.py", "");
    put(f, "lib1/fast" EXT, "");
    put(f, "lib1/fast.py", "import should_not_be_followed\n");
    put(f, "lib1/nsp/a.py", "");
    put(f, "lib2/nsp/b.py", "");
    put(f, "lib1/cyc_a.py", "import cyc_b\n");
    put(f, "lib1/cyc_b.py", "import cyc_a\n");
    put(f, "lib2/cyc_a.py", "import should_not_be_followed\n"); /* lib1 comes first */
}

struct want {
    const char *name;
    enum mod_kind kind;
    const char *path;     /* relative to the temp root; NULL: none */
    bool is_app;
    const char *app_rel;
    const char *importer; /* NULL: a root */
    int line;             /* 0: do not check */
    bool optional;        /* for MOD_MISSING */
};

static const struct want world[] = {
    {"__main__", MOD_SOURCE, "app/app.py", true, "app.py", NULL, 0, false},
    {"pkg", MOD_PACKAGE, "app/pkg/__init__.py", true, "pkg/__init__.py", "__main__", 1, false},
    {"pkg.sub", MOD_SOURCE, "app/pkg/sub.py", true, "pkg/sub.py", "__main__", 1, false},
    {"pkg.mod", MOD_SOURCE, "app/pkg/mod.py", true, "pkg/mod.py", "__main__", 2, false},
    {"pkg.x", MOD_SOURCE, "app/pkg/x.py", true, "pkg/x.py", "pkg", 1, false},
    {"shadow", MOD_PACKAGE, "app/shadow/__init__.py", true, "shadow/__init__.py", "__main__", 3, false},
    {"fast", MOD_EXTENSION, "lib1/fast" EXT, false, NULL, "__main__", 4, false},
    {"nsp", MOD_NAMESPACE, NULL, false, NULL, "__main__", 5, false},
    {"nsp.a", MOD_SOURCE, "lib1/nsp/a.py", false, NULL, "__main__", 5, false},
    {"nsp.b", MOD_SOURCE, "lib2/nsp/b.py", false, NULL, "__main__", 5, false},
    {"sys", MOD_BUILTIN, NULL, false, NULL, NULL, 0, false},
    {"missing_required", MOD_MISSING, NULL, false, NULL, "__main__", 7, false},
    {"missing_optional", MOD_MISSING, NULL, false, NULL, "__main__", 9, true},
    /* optional on line 10, required on line 13: the required import is reported */
    {"both_missing", MOD_MISSING, NULL, false, NULL, "__main__", 13, false},
    {"tc_only", MOD_MISSING, NULL, false, NULL, "__main__", 16, true},
    {"cyc_a", MOD_SOURCE, "lib1/cyc_a.py", false, NULL, "__main__", 18, false},
    {"cyc_b", MOD_SOURCE, "lib1/cyc_b.py", false, NULL, "cyc_a", 1, false},
    {"local_only", MOD_SOURCE, "app/local_only.py", true, "local_only.py", "__main__", 19, false},
};
#define NWORLD (sizeof world / sizeof *world)

static void check_want(const struct fx *f, const struct want *w)
{
    const struct module *m = mod(f, w->name);
    char *path = w->path ? at(f, w->path) : NULL;
    /* (a builtin's importer has its own test) */
    bool check_importer = w->kind != MOD_BUILTIN;
    bool ok = m->kind == w->kind && (!path == !m->path) && (!path || strcmp(path, m->path) == 0) &&
              m->is_app == w->is_app && (!w->app_rel == !m->app_rel) &&
              (!w->app_rel || strcmp(w->app_rel, m->app_rel) == 0) &&
              (!check_importer || ((!w->importer == !m->importer) &&
                                   (!w->importer || strcmp(w->importer, m->importer) == 0) &&
                                   (!w->line || w->line == m->line))) &&
              (w->kind != MOD_MISSING || m->optional == w->optional);
    if (!ok)
        fail_msg("'%s': kind %s path '%s' is_app %d app_rel '%s' importer '%s' line %d optional %d\n"
                 "  expected kind %s path '%s' is_app %d app_rel '%s' importer '%s' line %d optional %d",
                 w->name, kind_name(m->kind), m->path ? m->path : "(null)", m->is_app,
                 m->app_rel ? m->app_rel : "(null)", m->importer ? m->importer : "(null)", m->line,
                 m->optional, kind_name(w->kind), path ? path : "(null)", w->is_app,
                 w->app_rel ? w->app_rel : "(null)", w->importer ? w->importer : "(null)", w->line,
                 w->optional);
    free(path);
}

static void test_world(void **state)
{
    struct fx *f = *state;

    make_world(f);
    resolve(f, NULL, 0);
    check_invariants(f);
    for (size_t i = 0; i < NWORLD; i++)
        check_want(f, &world[i]);
    /* nothing else: no "pkg.attr" (an attribute), no "nothing", nothing
     * imported by a file that lost to a builtin, an extension or an earlier root */
    if (f->g.n != NWORLD) {
        for (size_t i = 0; i < f->g.n; i++)
            print_error("  %s (%s)\n", f->g.mods[i].name, kind_name(f->g.mods[i].kind));
        fail_msg("%zu modules in the graph, expected %zu", f->g.n, NWORLD);
    }
    assert_int_equal(graph_find(&f->g, "pkg.attr"), -1);
    assert_int_equal(graph_find(&f->g, "should_not_be_followed"), -1);
    assert_int_equal(graph_find(&f->g, "nothing"), -1);
    assert_int_equal(graph_find(&f->g, "no.such.module"), -1);
    assert_string_equal(mod(f, "__main__")->name, f->g.mods[0].name);
}

static void test_world_search_dirs(void **state)
{
    struct fx *f = *state;
    char *s;

    make_world(f);
    resolve(f, NULL, 0);
    /* the roots: the script dir, then the existing sys.path dirs, once each */
    s = at(f, "app");
    assert_string_equal(f->g.script_dir, s);
    assert_int_equal(f->g.roots.n, 3);
    assert_string_equal(f->g.roots.v[0], s);
    free(s);
    s = at(f, "lib1");
    assert_string_equal(f->g.roots.v[1], s);
    free(s);
    s = at(f, "lib2");
    assert_string_equal(f->g.roots.v[2], s);
    free(s);
    /* a package searches its own directory */
    const struct module *pkg = mod(f, "pkg");
    s = at(f, "app/pkg");
    assert_int_equal(pkg->search.n, 1);
    assert_string_equal(pkg->search.v[0], s);
    free(s);
    /* a namespace package searches every portion, in path order */
    const struct module *nsp = mod(f, "nsp");
    assert_int_equal(nsp->search.n, 2);
    s = at(f, "lib1/nsp");
    assert_string_equal(nsp->search.v[0], s);
    free(s);
    s = at(f, "lib2/nsp");
    assert_string_equal(nsp->search.v[1], s);
    free(s);
    /* plain modules search nothing */
    assert_int_equal(mod(f, "pkg.sub")->search.n, 0);
    assert_int_equal(mod(f, "sys")->search.n, 0);
}

static void test_world_warnings(void **state)
{
    struct fx *f = *state;

    make_world(f);
    resolve(f, NULL, 0);
    /* "from . import nothing" in the top-level script */
    if (!has_warning(f, "relative import beyond the top-level package")) {
        for (size_t i = 0; i < f->g.warnings.n; i++)
            print_error("  warning: %s\n", f->g.warnings.v[i]);
        fail_msg("no warning about the relative import");
    }
    assert_true(has_warning(f, ":17:"));
}

static void test_extra_roots(void **state)
{
    struct fx *f = *state;
    const char *const extra[] = {"cyc_b", "encodings_like", "not_there"};

    make_world(f);
    put(f, "lib2/encodings_like/__init__.py", "from . import aliases\n");
    put(f, "lib2/encodings_like/aliases.py", "");
    resolve(f, extra, 3);
    check_invariants(f);
    /* cyc_b came through cyc_a first: the script's walk runs before the extras */
    assert_string_equal(mod(f, "cyc_b")->importer, "cyc_a");
    const struct module *e = mod(f, "encodings_like");
    assert_int_equal(e->kind, MOD_PACKAGE);
    assert_null(e->importer);
    assert_false(e->is_app);
    assert_int_equal(mod(f, "encodings_like.aliases")->kind, MOD_SOURCE);
    const struct module *n = mod(f, "not_there");
    assert_int_equal(n->kind, MOD_MISSING);
    assert_false(n->optional);
    assert_null(n->importer);
}

static void test_package_tree(void **state)
{
    struct fx *f = *state;
    struct err err = {0};

    put(f, "app/app.py", "import sys\n");
    put(f, "lib1/tree/__init__.py", "");
    put(f, "lib1/tree/one.py", "import tree.two\n");
    put(f, "lib1/tree/two.py", "");
    put(f, "lib1/tree/three.py", "import missing_in_tree\n");
    put(f, "lib1/tree/data.txt", "not a module");
    resolve(f, NULL, 0);
    assert_int_equal(resolve_collect(&f->g, "tree", &err), 0);
    check_invariants(f);
    assert_int_equal(mod(f, "tree")->kind, MOD_PACKAGE);
    assert_int_equal(mod(f, "tree.one")->kind, MOD_SOURCE);
    assert_int_equal(mod(f, "tree.two")->kind, MOD_SOURCE);
    assert_int_equal(mod(f, "tree.three")->kind, MOD_SOURCE);
    assert_int_equal(mod(f, "missing_in_tree")->kind, MOD_MISSING);
    assert_int_equal(graph_find(&f->g, "tree.data"), -1);
    assert_int_equal(graph_find(&f->g, "tree.__init__"), -1);
}

/* CPython: a namespace portion found first does not stop the search; a
 * regular module later on the path wins.  That module lives outside the app
 * directory, so it is no app module. */
static void test_namespace_portion_then_module(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "import nsmod\nimport nsdeep.inner\n");
    put(f, "app/nsmod/README.txt", "a data directory that happens to share the name");
    put(f, "lib1/nsmod.py", "");
    put(f, "app/nsdeep/notes.txt", "");
    put(f, "lib2/nsdeep/__init__.py", "");
    put(f, "lib2/nsdeep/inner.py", "");
    resolve(f, NULL, 0);
    char *want = at(f, "lib1/nsmod.py");
    const struct module *m = mod(f, "nsmod");
    assert_int_equal(m->kind, MOD_SOURCE);
    assert_string_equal(m->path, want);
    free(want);
    /* a regular package later on the path wins over the portion too */
    want = at(f, "lib2/nsdeep/__init__.py");
    assert_int_equal(mod(f, "nsdeep")->kind, MOD_PACKAGE);
    assert_string_equal(mod(f, "nsdeep")->path, want);
    free(want);
    assert_int_equal(mod(f, "nsdeep.inner")->kind, MOD_SOURCE);
    if (m->is_app || mod(f, "nsdeep")->is_app || mod(f, "nsdeep.inner")->is_app)
        fail_msg("modules from lib1/lib2 are marked as app modules: nsmod %d (app_rel '%s'), "
                 "nsdeep %d, nsdeep.inner %d",
                 m->is_app, m->app_rel ? m->app_rel : "(null)", mod(f, "nsdeep")->is_app,
                 mod(f, "nsdeep.inner")->is_app);
    check_invariants(f);
}

/* A namespace package spread over the app dir and a site dir. */
static void test_namespace_in_app_dir(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "import ns.here\nimport ns.there\n");
    put(f, "app/ns/here.py", "");
    put(f, "lib2/ns/there.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    const struct module *ns = mod(f, "ns");
    assert_int_equal(ns->kind, MOD_NAMESPACE);
    assert_int_equal(ns->search.n, 2);
    const struct module *here = mod(f, "ns.here");
    assert_true(here->is_app);
    assert_string_equal(here->app_rel, "ns/here.py");
    assert_int_equal(mod(f, "ns.there")->kind, MOD_SOURCE);
}

/* Extension suffixes in the probe's order, and an extension beats a package
 * directory without __init__ but not one with it. */
static void test_extension_order(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "import e1\nimport e2\nimport e3\nimport e4\n");
    put(f, "lib1/e1.abi3.so", "");
    put(f, "lib1/e1" EXT, ""); /* listed first in EXTENSION_SUFFIXES */
    put(f, "lib1/e2.so", "");
    put(f, "lib1/e2.py", "");
    put(f, "lib1/e3/data.txt", ""); /* a directory without __init__ */
    put(f, "lib1/e3.abi3.so", "");
    put(f, "lib1/e4/__init__.py", "");
    put(f, "lib1/e4" EXT, "");
    resolve(f, NULL, 0);
    check_invariants(f);
    char *p = at(f, "lib1/e1" EXT);
    assert_int_equal(mod(f, "e1")->kind, MOD_EXTENSION);
    assert_string_equal(mod(f, "e1")->path, p);
    free(p);
    assert_int_equal(mod(f, "e2")->kind, MOD_EXTENSION);
    assert_int_equal(mod(f, "e3")->kind, MOD_EXTENSION);
    assert_int_equal(mod(f, "e4")->kind, MOD_PACKAGE);
}

/* resolve.h: importer is "the first module that imported it, NULL for
 * roots" -- builtins included. */
static void test_builtin_importer(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "import os_like\n");
    put(f, "lib1/os_like.py", "\nimport sys\n");
    resolve(f, NULL, 0);
    const struct module *m = mod(f, "sys");
    assert_int_equal(m->kind, MOD_BUILTIN);
    if (!m->importer || strcmp(m->importer, "os_like") != 0 || m->line != 2)
        fail_msg("builtin 'sys': importer '%s' line %d, expected 'os_like' line 2",
                 m->importer ? m->importer : "(null)", m->line);
}

/* ---- errors ---- */

static void test_script_errors(void **state)
{
    struct fx *f = *state;
    struct err err = {0};
    char *missing = at(f, "app/none.py");

    assert_int_equal(resolve_graph(&f->g, &f->probe, missing, "__main__", NULL, 0, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_non_null(strstr(err.msg, "none.py"));
    graph_release(&f->g);
    free(missing);

    /* a script that does not tokenize: "FILE:LINE: ..." */
    put(f, "app/app.py", "import os\n\nx = 'unterminated\n");
    memset(&err, 0, sizeof err);
    char *script = at(f, "app/app.py");
    assert_int_equal(resolve_graph(&f->g, &f->probe, script, "__main__", NULL, 0, NULL, &err), -1);
    if (strncmp(err.msg, "app.py:3:", 9) != 0)
        fail_msg("message '%s'", err.msg);
    assert_null(strchr(err.msg, '\n'));
    graph_release(&f->g);
    free(script);
}

static void test_app_module_error_fails(void **state)
{
    struct fx *f = *state;
    struct err err = {0};

    put(f, "app/app.py", "import pkg.bad\n");
    put(f, "app/pkg/__init__.py", "");
    put(f, "app/pkg/bad.py", "def f(:\n    return (1,\n");
    char *script = at(f, "app/app.py");
    assert_int_equal(resolve_graph(&f->g, &f->probe, script, "__main__", NULL, 0, NULL, &err), -1);
    /* named relative to the app dir, with a line */
    if (strncmp(err.msg, "pkg/bad.py:", 11) != 0)
        fail_msg("message '%s'", err.msg);
    free(script);
}

static void test_library_error_is_warning(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "import broken\nimport fine\n");
    put(f, "lib1/broken.py", "s = \"\"\"never closed\nimport hidden\n");
    put(f, "lib1/fine.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(mod(f, "broken")->excluded);
    assert_false(mod(f, "fine")->excluded);
    assert_true(has_warning(f, "broken"));
    assert_int_equal(graph_find(&f->g, "hidden"), -1);
}

/* Relative imports that climb too far, in several shapes. */
static void test_relative_beyond_top(void **state)
{
    struct fx *f = *state;

    put(f, "app/app.py", "from .. import a\nfrom .x import y\nimport pkg.deep\n");
    put(f, "app/pkg/__init__.py", "from ... import z\n");
    put(f, "app/pkg/deep.py", "from ..sibling import q\nfrom . import ok\n");
    put(f, "app/pkg/ok.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_int_equal(mod(f, "pkg.ok")->kind, MOD_SOURCE);
    assert_int_equal(graph_find(&f->g, "x"), -1);
    assert_int_equal(graph_find(&f->g, "sibling"), -1);
    assert_true(f->g.warnings.n >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_world, setup, teardown),
        cmocka_unit_test_setup_teardown(test_world_search_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_world_warnings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_portion_then_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_in_app_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extension_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtin_importer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_script_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_module_error_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_error_is_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_beyond_top, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
