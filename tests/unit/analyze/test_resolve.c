/* test_resolve.c - the module graph (src/analyze/resolve*.c, on top of src/analyze/scan*.c).
 *
 * Each test builds a small fake world in a temp directory: the app's
 * directory and two site directories standing for the target's sys.path,
 * plus a hand-made struct probe (no interpreter runs).  resolve_graph then
 * has to find what CPython's path finder would: packages before modules,
 * extensions before source, namespace packages across roots, builtins from
 * the probe's list, and missing modules marked optional or not.
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

#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/analyze/probe.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/util.h"

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

/* A distribution X with no requirements whose one top-level name is X. */
static void put_dist(const struct fx *f, const char *name)
{
    char meta[128], top[128], mtext[128], ttext[128];
    snprintf(meta, sizeof meta, "lib1/%s-1.dist-info/METADATA", name);
    snprintf(top, sizeof top, "lib1/%s-1.dist-info/top_level.txt", name);
    snprintf(mtext, sizeof mtext, "Name: %s\n", name);
    snprintf(ttext, sizeof ttext, "%s\n", name);
    put(f, meta, mtext);
    put(f, top, ttext);
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
    put(f, "lib1/fast.py", ""); /* the compiled module's source: test_compiled_twin */
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

static bool in_graph(const struct fx *f, const char *name)
{
    long i = graph_find(&f->g, name);
    return i >= 0 && f->g.mods[i].kind != MOD_MISSING;
}

/* Strings that name a module of their own package come along; a string
 * naming another distribution's module, or a word in the stdlib, does not. */
static void test_string_rule(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import plug.core\n");
    put(f, "lib1/plug/__init__.py", "");
    put(f, "lib1/plug/core.py", "WORKERS = {'sync': 'plug.workers.sync.SyncWorker'}\n"
                                "PLUGINS = ['BmpPlugin', 'other', 'tests']\n"
                                "LAZY = {'client': '.legacy.client'}\n");
    put(f, "lib1/plug/workers/__init__.py", "");
    put(f, "lib1/plug/workers/sync.py", "");
    put(f, "lib1/plug/workers/gevent.py", "");
    put(f, "lib1/plug/BmpPlugin.py", "");
    put(f, "lib1/plug/tests/__init__.py", "");
    put(f, "lib1/plug/legacy/__init__.py", "");
    put(f, "lib1/plug/legacy/client.py", "");
    put(f, "lib1/other.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "plug.workers.sync"));
    assert_false(in_graph(f, "plug.workers.gevent"));
    assert_true(in_graph(f, "plug.BmpPlugin"));
    assert_true(in_graph(f, "plug.legacy.client"));
    assert_false(in_graph(f, "plug.tests"));
    assert_false(in_graph(f, "other")); /* a bare name is no top-level import */
}

/* Two strings side by side on a line name a sub-package and a module in
 * it (a dispatcher's table of (package, module) pairs); a sub-package's
 * module named elsewhere, or nowhere, stays out. */
static void test_string_pairs(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import vcs.policy\n");
    put(f, "lib1/vcs/__init__.py", "");
    put(f, "lib1/vcs/policy.py", "PREFS = {'allow': ('cext', 'pure')}\n"
                                 "VERSIONS = {('cext', 'parsers'): 20, ('cext', 'osutil'): 4}\n"
                                 "REDIRECTS = {('cffi', 'parsers'): ('pure', 'parsers')}\n"
                                 "NAMES = ['cext', 'x',\n 'unused', 'other', 'pure']\n"
                                 "def importmod(m, p):\n    return __import__(p, globals(), {}, [m], level=1)\n");
    put(f, "lib1/vcs/cext/__init__.py", "");
    put(f, "lib1/vcs/cext/parsers.py", "");
    put(f, "lib1/vcs/cext/osutil.py", "");
    put(f, "lib1/vcs/cext/unused.py", "");
    put(f, "lib1/vcs/pure/__init__.py", "");
    put(f, "lib1/vcs/pure/parsers.py", "");
    put(f, "lib1/vcs/pure/other.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "vcs.cext.parsers"));
    assert_true(in_graph(f, "vcs.cext.osutil"));
    assert_true(in_graph(f, "vcs.pure.parsers"));
    assert_false(in_graph(f, "vcs.cext.unused"));
    assert_false(in_graph(f, "vcs.pure.other"));
}

/* A package that another bundled module serves under a second name (setuptools'
 * _distutils_hack: distutils from setuptools._distutils): its modules come along
 * for each module of the alias, seen before or after the hack. */
static void test_alias(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import distutils.core\nimport setuptools\n");
    put(f, "lib1/distutils/__init__.py", "");
    put(f, "lib1/distutils/core.py", "");
    put(f, "lib1/setuptools/__init__.py", "import _distutils_hack.override\nimport distutils.cmd\n");
    put(f, "lib1/setuptools/_distutils/__init__.py", "");
    put(f, "lib1/setuptools/_distutils/core.py", "");
    put(f, "lib1/setuptools/_distutils/cmd.py", "");
    put(f, "lib1/setuptools/_distutils/unused.py", "");
    put(f, "lib1/distutils/cmd.py", "");
    put(f, "lib1/_distutils_hack/__init__.py", "");
    put(f, "lib1/_distutils_hack/override.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "setuptools._distutils.core"));
    assert_true(in_graph(f, "setuptools._distutils.cmd"));
    assert_false(in_graph(f, "setuptools._distutils.unused"));
}

/* A computed import brings what its literal prefix can reach, relative
 * prefixes included; a format string only into its own distribution. */
static void test_prefix_rule(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import eng\n");
    put(f, "lib1/eng/__init__.py", "from importlib import import_module\n"
                                   "def load(n):\n    return import_module(f'eng.backends._{n}')\n"
                                   "def rel(n):\n    return import_module('.fmt.' + n, __name__)\n"
                                   "NAME = 'other.backend_{}'\n");
    put(f, "lib1/eng/backends/__init__.py", "");
    put(f, "lib1/eng/backends/_asyncio.py", "");
    put(f, "lib1/eng/backends/_trio.py", "");
    put(f, "lib1/eng/backends/helper.py", "");
    put(f, "lib1/eng/fmt/__init__.py", "");
    put(f, "lib1/eng/fmt/svg.py", "");
    put(f, "lib1/eng/fmt/sub/__init__.py", "");
    put(f, "lib1/eng/fmt/sub/deep.py", "");
    put(f, "lib1/other/__init__.py", "");
    put(f, "lib1/other/backend_x.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "eng.backends._asyncio"));
    assert_true(in_graph(f, "eng.backends._trio"));
    assert_false(in_graph(f, "eng.backends.helper"));
    assert_true(in_graph(f, "eng.fmt.svg"));
    assert_true(in_graph(f, "eng.fmt.sub.deep")); /* the rest of a name may hold dots */
    assert_false(in_graph(f, "other.backend_x"));
}


/* A bare string naming a sibling package that holds files other than
 * modules (Cython's Utility, read by path from Cython.Compiler.Code): that
 * package goes to disk; a sibling package of modules only does not come. */
static void test_data_dir(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import comp.Compiler.Code\n");
    put(f, "lib1/comp/__init__.py", "");
    put(f, "lib1/comp/Compiler/__init__.py", "");
    put(f, "lib1/comp/Compiler/Code.py", "import os\n"
                                         "U = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'Utility')\n"
                                         "X = 'Plain'\n");
    put(f, "lib1/comp/Utility/__init__.py", "");
    put(f, "lib1/comp/Utility/Buffer.c", "int x;\n");
    put(f, "lib1/comp/Plain/__init__.py", "");
    put(f, "lib1/comp/Plain/mod.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "comp.Utility"));
    assert_true(mod(f, "comp.Utility")->disk);
    assert_false(in_graph(f, "comp.Plain"));
}

/* A loader of wholly computed names that takes getattr(mod, "setup"):
 * the modules and packages of its top-level package that define setup()
 * come along; others, and tests, do not. */
static void test_protocol(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import doc.registry\n");
    put(f, "lib1/doc/__init__.py", "");
    put(f, "lib1/doc/registry.py", "from importlib import import_module\n"
                                   "def load(app, name):\n    mod = import_module(name)\n"
                                   "    getattr(mod, 'setup')(app)\n");
    put(f, "lib1/doc/ext/__init__.py", "");
    put(f, "lib1/doc/ext/todo.py", "import os\n\ndef setup(app):\n    pass\n");
    put(f, "lib1/doc/ext/napoleon/__init__.py", "def setup(app):\n    pass\n");
    put(f, "lib1/doc/ext/napoleon/docstring.py", "");
    put(f, "lib1/doc/ext/helper.py", "def util():\n    def setup(app):\n        pass\n");
    put(f, "lib1/doc/tests/test_x.py", "def setup(app):\n    pass\n");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "doc.ext.todo"));
    assert_true(in_graph(f, "doc.ext.napoleon"));
    assert_false(in_graph(f, "doc.ext.napoleon.docstring"));
    assert_false(in_graph(f, "doc.ext.helper"));
    assert_false(in_graph(f, "doc.tests.test_x"));
}

/* A module reached only through an except: handler (pbr.version falls back
 * to pbr.packaging where its metadata is missing) is on an error path, and
 * so are its package's modules it brings: their imports into distributions
 * theirs does not require are left out.  A module that an ordinary import
 * reaches later is followed again, off the path. */
static void test_error_path(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import ver\nimport late\n");
    put(f, "lib1/late.py", "import other\n"); /* other comes after ver.keys was followed */
    put(f, "lib1/ver/__init__.py", "def version():\n    try:\n        return meta()\n    except NotFound:\n"
                                   "        from ver import packaging\n        return packaging.guess()\n"
                                   "    except KeyError:\n        from ver import keys\n");
    put(f, "lib1/ver/packaging.py", "try:\n    from ver import builddoc\nexcept ImportError:\n    pass\n");
    put(f, "lib1/ver/builddoc.py", "try:\n    import docs\nexcept ImportError:\n    docs = None\n");
    put(f, "lib1/ver/keys.py", "import docs2\n");
    put_dist(f, "ver");
    put(f, "lib1/other/__init__.py", "def later():\n    import ver.keys\n");
    put(f, "lib1/other-1.dist-info/METADATA", "Name: other\nRequires-Dist: ver\n");
    put(f, "lib1/other-1.dist-info/top_level.txt", "other\n");
    put(f, "lib1/docs.py", "");
    put_dist(f, "docs");
    put(f, "lib1/docs2.py", "");
    put_dist(f, "docs2");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "ver.builddoc"));
    assert_true(mod(f, "ver.builddoc")->optpath);
    assert_false(in_graph(f, "docs"));
    assert_true(strvec_find(&f->g.deferred, "docs") >= 0);
    assert_false(mod(f, "ver.keys")->optpath); /* other imports it too */
    assert_true(in_graph(f, "docs2"));
}

/* A module that only its own package imports, from inside a function (an
 * optional feature: mypy.report, dill._objects), is on an optional path too:
 * its module-level imports into distributions its own does not require are
 * left out; those it requires come. */
static void test_lazy_feature(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import tool\n");
    put(f, "lib1/tool/__init__.py", "def report():\n    from tool import xml\n");
    put(f, "lib1/tool/xml.py", "try:\n    import fancyxml\nexcept ImportError:\n    fancyxml = None\nimport base\n");
    put(f, "lib1/tool-1.dist-info/METADATA", "Name: tool\nRequires-Dist: base\n");
    put(f, "lib1/tool-1.dist-info/top_level.txt", "tool\n");
    put(f, "lib1/fancyxml.py", "");
    put_dist(f, "fancyxml");
    put(f, "lib1/base.py", "");
    put_dist(f, "base");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "tool.xml"));
    assert_true(mod(f, "tool.xml")->optpath);
    assert_false(in_graph(f, "fancyxml"));
    assert_true(in_graph(f, "base"));
}

/* A module name built by concatenation outside an import call, for a
 * library the module imports (lib2to3's fixers named to RefactoringTool):
 * that package's modules come along; not a package the module never imports. */
static void test_concatenated_prefix(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import fmt\n");
    put(f, "lib1/fmt.py", "def fix(names):\n    from refac import Tool\n"
                          "    return Tool(['refac.fixes.fix_' + n for n in names] + ['other.x_' + n])\n");
    put(f, "lib1/refac/__init__.py", "class Tool:\n    def __init__(self, n):\n        [__import__(x) for x in n]\n");
    put(f, "lib1/refac/fixes/__init__.py", "");
    put(f, "lib1/refac/fixes/fix_a.py", "");
    put(f, "lib1/refac/fixes/fix_b.py", "");
    put(f, "lib1/refac/fixes/util.py", "");
    put(f, "lib1/other/__init__.py", "");
    put(f, "lib1/other/x_1.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "refac.fixes.fix_a"));
    assert_true(in_graph(f, "refac.fixes.fix_b"));
    assert_false(in_graph(f, "refac.fixes.util"));
    assert_false(in_graph(f, "other.x_1"));
}

/* A package that lists its own directory goes to disk, with every module;
 * one whose plugins are found by listing and imported by a computed name too. */
static void test_selfdir_rule(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import lint.checkers\nimport brainy\nimport quiet\n");
    put(f, "lib1/lint/__init__.py", "");
    put(f, "lib1/lint/checkers/__init__.py", "def init(linter):\n    register_plugins(linter, __path__[0])\n");
    put(f, "lib1/lint/checkers/format.py", "");
    put(f, "lib1/brainy/__init__.py", "from importlib import import_module\nfrom brainy.const import DIR\n"
                                      "for m in DIR.iterdir():\n    import_module(f'brainy.brain.{m.stem}')\n");
    put(f, "lib1/brainy/const.py", "");
    put(f, "lib1/brainy/brain/__init__.py", "");
    put(f, "lib1/brainy/brain/brain_a.py", "");
    put(f, "lib1/quiet/__init__.py", "import os\nHERE = os.path.dirname(__file__)\n"
                                     "def f(m):\n    return os.listdir(m.__path__[0])\n");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(mod(f, "lint.checkers")->disk);
    assert_false(mod(f, "lint")->disk);
    assert_true(in_graph(f, "lint.checkers.format"));
    assert_true(mod(f, "brainy.brain")->disk);
    assert_true(in_graph(f, "brainy.brain.brain_a"));
    assert_false(mod(f, "brainy")->disk);
    assert_false(mod(f, "quiet")->disk); /* __file__ and a listing in different functions */
}

/* Metadata: a distribution named by a literal, a launcher's entry point,
 * and an entry-point group that another distribution provides. */
static void test_dist_rules(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "from importlib.metadata import distribution\n"
                         "load_entry_point('tool==1.0', 'console_scripts', 'tool')()\n"
                         "print(version('helper'))\n");
    put(f, "lib1/tool/__init__.py", "");
    put(f, "lib1/tool/cli.py", "from importlib.metadata import entry_points\n"
                               "PLUGINS = entry_points(group='tool.plugins')\n");
    put(f, "lib1/tool-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n\n");
    put(f, "lib1/tool-1.0.dist-info/entry_points.txt", "[console_scripts]\ntool = tool.cli:main\n");
    put(f, "lib1/tool-1.0.dist-info/top_level.txt", "tool\n");
    put(f, "lib1/helper-2.0.dist-info/METADATA", "Name: helper\n");
    put(f, "lib1/tool_plugin-0.1.dist-info/METADATA", "Name: tool-plugin\n");
    put(f, "lib1/tool_plugin-0.1.dist-info/entry_points.txt", "[tool.plugins]\nextra = tool_plugin.ext:Plugin [fancy]\n");
    put(f, "lib1/tool_plugin/__init__.py", "");
    put(f, "lib1/tool_plugin/ext.py", "");
    put(f, "lib1/unrelated-1.dist-info/METADATA", "Name: unrelated\n");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "tool.cli"));
    assert_true(in_graph(f, "tool_plugin.ext"));
    assert_true(dists_by_name(&f->g.dists, "tool")->wanted);
    assert_true(dists_by_name(&f->g.dists, "helper")->wanted);
    assert_true(dists_by_name(&f->g.dists, "Tool-Plugin")->wanted);
    assert_false(dists_by_name(&f->g.dists, "unrelated")->wanted);
}

/* A lazy import into a distribution its own does not require is left out
 * unless something needs it; a required one, or one at module level, is not. */
static void test_deferral(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import bar\nimport tq\n");
    put(f, "lib1/tq/__init__.py", "try:\n    import colors\nexcept ImportError:\n    colors = None\n"
                                  "def pandas_support():\n    import frames\n"
                                  "    try:\n        from frames import Panel\n"
                                  "    except ImportError:\n        from frames.old import Panel\n"
                                  "def needed():\n    import dep\n"
                                  "def plot():\n    import feat\n"
                                  "DIALECTS = ['dial']\n"
                                  "HAS_NP = importlib.machinery.PathFinder().find_spec('probed') is not None\n"
                                  "def html(code):\n    try:\n        from hilite import fmt\n"
                                  "    except ImportError:\n        return code\n");
    put(f, "lib1/hilite/__init__.py", "");
    put(f, "lib1/hilite/fmt.py", "");
    put_dist(f, "hilite");
    put(f, "lib1/tq-1.dist-info/METADATA", "Name: tq\nRequires-Dist: dep\nRequires-Dist: frames ; extra == 'test'\n"
                                           "Requires-Dist: feat ; extra == 'plots'\n"
                                           "Requires-Dist: feat2 ; extra == 'db'\n\n");
    put(f, "lib1/feat.py", "");
    put(f, "lib1/probed.py", "");
    put_dist(f, "probed");
    put(f, "lib1/tq/dial.py", "def dbapi():\n    import feat2\n"); /* brought by a string */
    put(f, "lib1/feat2.py", "");
    put_dist(f, "feat2");
    put_dist(f, "feat");
    put(f, "lib1/tq-1.dist-info/top_level.txt", "tq\n");
    put(f, "lib1/frames/__init__.py", "");
    put(f, "lib1/frames/old.py", "");
    put_dist(f, "frames");
    put(f, "lib1/dep.py", "");
    put_dist(f, "dep");
    put(f, "lib1/colors.py", "");
    put_dist(f, "colors");
    put(f, "lib1/bar/__init__.py", "def f():\n    import frames2\n");
    put(f, "lib1/frames2.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_false(in_graph(f, "frames"));
    assert_false(in_graph(f, "frames.old")); /* the fallback of a try that was left out */
    assert_true(strvec_find(&f->g.deferred, "frames") >= 0);
    assert_true(in_graph(f, "dep"));
    assert_true(in_graph(f, "feat")); /* what a feature extra requires */
    assert_true(in_graph(f, "tq.dial"));
    assert_false(in_graph(f, "feat2")); /* ...but not for a module that a rule brought */
    assert_false(in_graph(f, "probed")); /* find_spec asks whether it is there */
    assert_true(in_graph(f, "colors")); /* picked at import time, where it is installed */
    assert_true(in_graph(f, "frames2")); /* bar has no metadata: nothing to go on */
    /* guarded: the code would go on without it, silently otherwise than plain python */
    assert_true(in_graph(f, "hilite.fmt"));
}

/* An extension module compiled from the .py beside it (mypyc, Cython):
 * that source says what it imports; a top-level module of its distribution
 * that no statement can name comes along too. */
static void test_compiled_twin(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import typer\n");
    put(f, "lib1/typer" EXT, "");
    put(f, "lib1/typer.py", "import typer_dep\n");
    put(f, "lib1/typer_dep.py", "");
    put(f, "lib1/1a2b__mypyc" EXT, "");
    put(f, "lib1/typer-1.dist-info/METADATA", "Name: typer\n");
    put(f, "lib1/typer-1.dist-info/top_level.txt", "typer\ntyper_dep\n1a2b__mypyc\n");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_int_equal(mod(f, "typer")->kind, MOD_EXTENSION);
    assert_true(in_graph(f, "typer_dep"));
}

/* Pickled data in a package's tree imports the modules of the classes it
 * holds when loaded (babel's locale data: babel.dates). */
static void test_pickled_data(void **state)
{
    struct fx *f = *state;
    struct err err = {0};
    put(f, "app/app.py", "import loc\n");
    put(f, "lib1/loc/__init__.py", "");
    put(f, "lib1/loc/dates.py", "");
    put(f, "lib1/loc/other.py", "");
    put(f, "lib1/loc/data/root.dat", "\x80\x02" "cloc.dates\nPattern\nq)\x81.");
    put(f, "lib1/loc/data/plain.txt", "loc.other is named here, but this is no pickle");
    put(f, "lib1/loc/data/evil.dat", "\x80\x02" "cloc.\ncloc..x\ncnotloc.dates\n");
    resolve(f, NULL, 0);
    assert_int_equal(resolve_data_imports(&f->g, &err), 0);
    check_invariants(f);
    assert_true(in_graph(f, "loc.dates"));
    assert_false(in_graph(f, "loc.other"));
}

/* A plugin package listed through the name it was imported as. */
static void test_selfdir_imported(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import upg\n");
    put(f, "lib1/upg/__init__.py", "import pkgutil\nfrom upg import _plugins\n"
                                   "def load():\n    return list(pkgutil.walk_packages(_plugins.__path__))\n");
    put(f, "lib1/upg/_plugins/__init__.py", "");
    put(f, "lib1/upg/_plugins/fstrings.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(mod(f, "upg._plugins")->disk);
    assert_true(in_graph(f, "upg._plugins.fstrings"));
}

/* A legacy namespace package (declare_namespace / extend_path) spans the
 * directories of its name along the whole path, as its __path__ does. */
static void test_legacy_namespace(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "import zope.interface\nimport zope.event\n");
    put(f, "lib1/zope/__init__.py", "__import__('pkg_resources').declare_namespace(__name__)\n");
    put(f, "lib1/zope/interface.py", "");
    put(f, "lib2/zope/__init__.py", "__import__('pkg_resources').declare_namespace(__name__)\n");
    put(f, "lib2/zope/event.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_int_equal(mod(f, "zope")->kind, MOD_PACKAGE);
    assert_int_equal(mod(f, "zope")->search.n, 2);
    assert_true(in_graph(f, "zope.interface"));
    assert_true(in_graph(f, "zope.event"));
}

/* An except-ImportError fallback is not followed where its try's imports
 * are all bundled; it is where one is missing.  TYPE_CHECKING never runs. */
static void test_fallbacks(void **state)
{
    struct fx *f = *state;
    put(f, "app/app.py", "try:\n    import fast\nexcept ImportError:\n    import slow\n"
                         "try:\n    import absent\nexcept ImportError:\n    import backup\n");
    put(f, "lib1/fast.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import heavy\n");
    put(f, "lib1/slow.py", "");
    put(f, "lib1/backup.py", "");
    put(f, "lib1/heavy.py", "");
    resolve(f, NULL, 0);
    check_invariants(f);
    assert_true(in_graph(f, "fast"));
    assert_false(in_graph(f, "slow"));
    assert_true(in_graph(f, "backup"));
    assert_false(in_graph(f, "heavy"));
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
        cmocka_unit_test_setup_teardown(test_string_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concatenated_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_feature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selfdir_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dist_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferral, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compiled_twin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selfdir_imported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pickled_data, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
