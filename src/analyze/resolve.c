#include "bundle/resolve.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/elfstr.h"
#include "bundle/hooks.h"
#include "bundle/scan.h"
#include "bundle/util.h"

#define SOURCE_MAX (64u << 20)
#define IS_NAME_BYTE(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || (c) == '_')

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

long graph_find(const struct graph *g, const char *name)
{
    if (!g->tcap)
        return -1;
    for (size_t i = hash_name(name) & (g->tcap - 1);; i = (i + 1) & (g->tcap - 1)) {
        size_t slot = g->table[i];
        if (!slot)
            return -1;
        if (strcmp(g->mods[slot - 1].name, name) == 0)
            return (long)(slot - 1);
    }
}

static int table_insert(struct graph *g, size_t idx)
{
    if ((g->n + 1) * 2 > g->tcap) {
        size_t cap = g->tcap ? g->tcap * 2 : 1024;
        size_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        for (size_t j = 0; j < g->tcap; j++) {
            size_t slot = g->table[j];
            if (!slot)
                continue;
            size_t i = hash_name(g->mods[slot - 1].name) & (cap - 1);
            while (t[i])
                i = (i + 1) & (cap - 1);
            t[i] = slot;
        }
        free(g->table);
        g->table = t;
        g->tcap = cap;
    }
    size_t i = hash_name(g->mods[idx].name) & (g->tcap - 1);
    while (g->table[i])
        i = (i + 1) & (g->tcap - 1);
    g->table[i] = idx + 1;
    return 0;
}

/* Appends a module; takes ownership of name and path.  Returns its index or -1. */
static long add_module(struct graph *g, char *name, enum mod_kind kind, char *path)
{
    if (!name || (kind != MOD_BUILTIN && kind != MOD_MISSING && kind != MOD_NAMESPACE && !path)) {
        free(name);
        free(path);
        return -1;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        struct module *m = realloc(g->mods, cap * sizeof *m);
        if (!m) {
            free(name);
            free(path);
            return -1;
        }
        g->mods = m;
        g->cap = cap;
    }
    struct module *m = &g->mods[g->n];
    memset(m, 0, sizeof *m);
    m->name = name;
    m->kind = kind;
    m->path = path;
    g->n++;
    if (table_insert(g, g->n - 1) != 0)
        return -1;
    return (long)(g->n - 1);
}

/* Appends a formatted line to a list of messages (a lost one is no error). */
static void vpush(struct strvec *v, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vpush(struct strvec *v, const char *fmt, va_list ap)
{
    char *s = util_vformat(fmt, ap);
    if (s)
        strvec_push_owned(v, s);
}

static void warn(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&g->warnings, fmt, ap);
    va_end(ap);
}

/* What FileFinder would find for `base` in directory dir. */
struct found {
    enum mod_kind kind;
    char *path;     /* file, or the package/namespace directory */
    char *pkgdir;   /* for packages: the directory */
};

static char *join3(const char *a, const char *b, const char *c)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s%s", a, b, c) < 0 ? NULL : p;
}

static int find_in_dir(const struct graph *g, const char *dir, const char *base, struct found *f)
{
    char *d = util_join(dir, base);
    const struct strvec *sfx = &g->probe->ext_suffixes;

    memset(f, 0, sizeof *f);
    if (!d)
        return -1;
    if (util_is_dir(d)) {
        for (size_t i = 0; i < sfx->n; i++) {
            char *init = join3(d, "__init__", sfx->v[i]);
            if (init && util_is_file(init)) {
                f->kind = MOD_EXTENSION; /* an extension package: rare; treated as a module */
                f->path = init;
                f->pkgdir = d;
                return 1;
            }
            free(init);
        }
        char *init = join3(d, "__init__", ".py");
        if (init && util_is_file(init)) {
            f->kind = MOD_PACKAGE;
            f->path = init;
            f->pkgdir = d;
            return 1;
        }
        free(init);
        f->kind = MOD_NAMESPACE;
        f->pkgdir = d;
        d = NULL;
    }
    free(d);
    for (size_t i = 0; i < sfx->n; i++) {
        char *p = join3(dir, base, sfx->v[i]);
        if (p && util_is_file(p)) {
            free(f->pkgdir);
            f->pkgdir = NULL;
            f->kind = MOD_EXTENSION;
            f->path = p;
            return 1;
        }
        free(p);
    }
    char *p = join3(dir, base, ".py");
    if (p && util_is_file(p)) {
        free(f->pkgdir);
        f->pkgdir = NULL;
        f->kind = MOD_SOURCE;
        f->path = p;
        return 1;
    }
    free(p);
    return f->kind == MOD_NAMESPACE ? 2 : 0;
}

static bool is_package(const struct module *m)
{
    /* an extension package (mypyc compiles __init__.py) has a __path__ too */
    return m->kind == MOD_PACKAGE || m->kind == MOD_NAMESPACE || (m->kind == MOD_EXTENSION && m->search.n > 0);
}

/* 1 if path is dir or below it. */
static bool under_dir(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* --exclude-module: the name itself or anything below it. */
static bool is_excluded(const struct graph *g, const char *name)
{
    if (!g->exclude)
        return false;
    for (size_t i = 0; i < g->exclude->n; i++) {
        size_t n = strlen(g->exclude->v[i]);
        if (strncmp(name, g->exclude->v[i], n) == 0 && (name[n] == '\0' || name[n] == '.'))
            return true;
    }
    return false;
}

/* Whether a package's __init__.py makes it a legacy namespace package. */
static bool legacy_namespace(const char *init)
{
    char *src = NULL;
    struct err e;
    bool yes = false;
    if (util_read_file(init, 1 << 16, &src, NULL, &e) == 0)
        yes = strstr(src, "declare_namespace(") || strstr(src, "extend_path(");
    free(src);
    return yes;
}

/* Finds (and registers) a module.  optional: the import sat in try/if/def.
 * soft: not finding it is no error (a "from pkg import name" attribute).
 * Returns the index, or -1 when not found / not importable. */
static long request(struct graph *g, const char *name, bool optional, long importer, int line,
                    bool soft)
{
    long idx = graph_find(g, name);
    const struct strvec *dirs = &g->roots;
    const char *dot = strrchr(name, '.');
    const char *base = dot ? dot + 1 : name;
    long parent = -1;
    bool app = false;

    if (idx >= 0) {
        struct module *m = &g->mods[idx];
        if (m->kind == MOD_MISSING) {
            if (!optional && m->optional) {
                /* report the import that makes it required */
                m->optional = false;
                free(m->importer);
                m->importer = importer >= 0 ? strdup(g->mods[importer].name) : NULL;
                m->line = line;
            }
            return -1;
        }
        return idx;
    }
    if (!*name || !*base || is_excluded(g, name))
        return -1;
    if (dot) {
        char *pname = strndup(name, (size_t)(dot - name));
        if (!pname)
            return -1;
        parent = request(g, pname, optional, importer, line, false);
        free(pname);
        /* a module that is not a package can still provide "submodules"
         * at run time (os.path): not our business to report */
        if (parent < 0 || !is_package(&g->mods[parent]))
            return -1;
        dirs = &g->mods[parent].search;
    } else if (strvec_find(&g->probe->builtins, name) >= 0) {
        idx = add_module(g, strdup(name), MOD_BUILTIN, NULL);
        if (idx >= 0) {
            g->mods[idx].importer = importer >= 0 ? strdup(g->mods[importer].name) : NULL;
            g->mods[idx].line = line;
        }
        return idx;
    }

    struct strvec portions = STRVEC_INIT;
    struct found f = {0};
    int hit = 0;
    bool ns_app = false;
    size_t hit_at = 0;
    for (size_t i = 0; i < dirs->n && hit != 1; i++) {
        struct found cur;
        hit_at = i;
        int r = find_in_dir(g, dirs->v[i], base, &cur);
        /* app code is what the script's own directory provides (a child
         * of an app package, found under that directory) */
        bool from_app = dot ? g->mods[parent].is_app && under_dir(dirs->v[i], g->script_dir)
                            : i == 0;
        if (r == 1) {
            f = cur;
            hit = 1;
            app = from_app;
        } else if (r == 2) {
            if (portions.n == 0)
                ns_app = from_app;
            strvec_push_owned(&portions, cur.pkgdir);
        }
    }
    if (hit != 1)
        app = ns_app;
    if (hit == 1) {
        strvec_release(&portions);
        idx = add_module(g, strdup(name), f.kind, f.path);
        if (idx < 0) {
            free(f.pkgdir);
            return -1;
        }
        if (f.pkgdir)
            strvec_push_owned(&g->mods[idx].search, f.pkgdir);
        /* a legacy namespace package (pkg_resources.declare_namespace,
         * pkgutil.extend_path in its __init__): its __path__ takes the
         * directories of that name further along the path too */
        if (f.kind == MOD_PACKAGE && legacy_namespace(f.path))
            for (size_t j = hit_at + 1; j < dirs->n; j++) {
                char *d = util_join(dirs->v[j], base);
                if (d && util_is_dir(d) && strvec_find(&g->mods[idx].search, d) < 0)
                    strvec_push_owned(&g->mods[idx].search, d);
                else
                    free(d);
            }
    } else if (portions.n > 0) {
        idx = add_module(g, strdup(name), MOD_NAMESPACE, NULL);
        if (idx < 0) {
            strvec_release(&portions);
            return -1;
        }
        g->mods[idx].search = portions;
    } else {
        if (soft)
            return -1;
        idx = add_module(g, strdup(name), MOD_MISSING, NULL);
        if (idx < 0)
            return -1;
        g->mods[idx].optional = optional;
        g->mods[idx].importer = importer >= 0 ? strdup(g->mods[importer].name) : NULL;
        g->mods[idx].line = line;
        return -1;
    }
    struct module *m = &g->mods[idx];
    m->is_app = app;
    m->importer = importer >= 0 ? strdup(g->mods[importer].name) : NULL;
    m->line = line;
    if (app && m->path) {
        size_t dl = strlen(g->script_dir);
        if (strncmp(m->path, g->script_dir, dl) == 0 && m->path[dl] == '/')
            m->app_rel = strdup(m->path + dl + 1);
    }
    return idx;
}

/* The package a relative import in module m is relative to, level dots up. */
static char *relative_base(const struct module *m, int level)
{
    char *pkg = strdup(m->name);
    if (!pkg)
        return NULL;
    if (!is_package(m)) {
        char *dot = strrchr(pkg, '.');
        if (!dot) {
            free(pkg);
            return NULL;
        }
        *dot = '\0';
    }
    for (int i = 1; i < level; i++) {
        char *dot = strrchr(pkg, '.');
        if (!dot) {
            free(pkg);
            return NULL;
        }
        *dot = '\0';
    }
    return pkg;
}

/* A module of the interpreter's own standard library (not site-packages). */
bool graph_in_stdlib(const struct graph *g, const struct module *m)
{
    const char *dirs[2] = {g->probe->stdlib, g->probe->platstdlib};
    if (!m->path || m->is_app || strstr(m->path, "/site-packages/") || strstr(m->path, "/dist-packages/"))
        return false;
    for (int i = 0; i < 2; i++)
        if (dirs[i] && under_dir(m->path, dirs[i]))
            return true;
    return false;
}

/* Development tools that library code imports lazily (inside a function:
 * pickle's _test() imports doctest, pdb imports pydoc, cmd imports
 * readline...).  Reached that way they are left out; imported at module
 * level, or by the app itself, they come along as usual. */
static const char *const lazy_denied[] = {
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "pydoc", "pydoc_data", "pdb",
    "doctest", "unittest", "test", "ensurepip", "venv", "readline", "rlcompleter", "_testcapi",
    "_testinternalcapi", "_testbuffer", "_testmultiphase", "_testimportmultiple",
    "_testsinglephase", "_xxtestfuzz", "xxlimited", "xxlimited_35", "xxsubtype", "__phello__",
    "__hello__",
    /* build and test tools third-party packages reach from a function:
     * numpy's lazy __getattr__ for testing, its distutils and f2py */
    "distutils", "setuptools", "numpy.distutils", "numpy.testing", "numpy.f2py", "pytest",
    "_pytest",
};

/* name is a denied entry or below one. */
static bool lazily_denied(const char *name)
{
    for (size_t i = 0; i < sizeof lazy_denied / sizeof lazy_denied[0]; i++) {
        size_t len = strlen(lazy_denied[i]);
        if (strncmp(lazy_denied[i], name, len) == 0 && (name[len] == '\0' || name[len] == '.'))
            return true;
    }
    return false;
}

static void add_eager(struct graph *g, size_t from, long to)
{
    struct module *m = &g->mods[from];
    if (to < 0 || (size_t)to == from)
        return;
    if (m->neager == m->ceager) {
        size_t cap = m->ceager ? m->ceager * 2 : 8;
        size_t *e = realloc(m->eager, cap * sizeof *e);
        if (!e)
            return; /* only an optimisation hint is lost */
        m->eager = e;
        m->ceager = cap;
    }
    m->eager[m->neager++] = (size_t)to;
}

void graph_eager_closure(const struct graph *g, bool *in)
{
    size_t *stack = malloc((g->n ? g->n : 1) * sizeof *stack), top = 0;
    if (!stack) {
        for (size_t i = 0; i < g->n; i++)
            in[i] = true; /* no memory: everything is "eager", which is safe */
        return;
    }
    for (size_t i = 0; i < g->n; i++)
        if (in[i])
            stack[top++] = i;
    while (top > 0) {
        size_t i = stack[--top];
        const struct module *m = &g->mods[i];
        /* importing a.b.c imports a and a.b first */
        char *name = strdup(m->name);
        for (char *dot = name ? strrchr(name, '.') : NULL; dot; dot = strrchr(name, '.')) {
            *dot = '\0';
            long p = graph_find(g, name);
            if (p >= 0 && !in[p]) {
                in[p] = true;
                stack[top++] = (size_t)p;
            }
        }
        free(name);
        for (size_t k = 0; k < m->neager; k++) {
            size_t t = m->eager[k];
            if (!in[t]) {
                in[t] = true;
                stack[top++] = t;
            }
        }
    }
    free(stack);
}


/* ---- what no import statement says (scan.h's hints) --------------------
 * Each rule makes soft imports: a name that is not there costs a look-up,
 * never a warning.  The costs are said at each rule; bench/packages
 * measures them on real libraries. */

static void note(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&g->notes, fmt, ap);
    va_end(ap);
}

/* The top-level name of a dotted name, in buf. */
static const char *top_of(const char *name, char *buf, size_t size)
{
    size_t n = strcspn(name, ".");
    if (n >= size)
        n = size - 1;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sorted_has(const struct strvec *v, const char *s)
{
    return v->n && bsearch(&s, v->v, v->n, sizeof *v->v, cmp_strp) != NULL;
}

/* Whether a file or directory name is a module name with a suffix we
 * import: "x.py", "x.cpython-311-x86_64-linux-gnu.so"; the name in out. */
static bool module_file(const struct graph *g, const char *n, char *out, size_t size)
{
    size_t l = strlen(n);
    const struct strvec *sfx = &g->probe->ext_suffixes;
    size_t stem = 0;
    if (l > 3 && strcmp(n + l - 3, ".py") == 0)
        stem = l - 3;
    for (size_t k = 0; !stem && k < sfx->n; k++) {
        size_t sl = strlen(sfx->v[k]);
        if (l > sl && strcmp(n + l - sl, sfx->v[k]) == 0)
            stem = l - sl;
    }
    if (!stem || stem >= size || memchr(n, '.', stem))
        return false;
    memcpy(out, n, stem);
    out[stem] = '\0';
    return true;
}

void resolve_dir_modules(const struct graph *g, const char *dir, struct strvec *out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char name[256];
        if (de->d_name[0] == '.' || strcmp(de->d_name, "__pycache__") == 0)
            continue;
        if (!module_file(g, de->d_name, name, sizeof name)) {
            /* a package: a directory with an __init__ */
            char *init = join3(dir, de->d_name, "/__init__.py");
            bool pkg = init && util_is_file(init);
            free(init);
            if (!pkg || strlen(de->d_name) >= sizeof name)
                continue;
            strcpy(name, de->d_name);
        }
        if (strcmp(name, "__init__") != 0)
            strvec_push(out, name);
    }
    if (d)
        closedir(d);
}

/* A package's submodules and subpackages as they are on disk (listed once). */
static const struct strvec *children_of(struct graph *g, size_t pi)
{
    struct module *m = &g->mods[pi];
    if (m->listed)
        return &m->children;
    m->listed = true;
    for (size_t d = 0; d < m->search.n; d++)
        resolve_dir_modules(g, m->search.v[d], &m->children);
    strvec_sort_unique(&m->children);
    return &m->children;
}

const struct strvec *resolve_children(struct graph *g, size_t idx)
{
    return children_of(g, idx);
}

/* Test suites a package carries are never what its code loads by name. */
static bool test_name(const char *n)
{
    /* nor is "__main__" (the main guard's string) */
    return strcmp(n, "tests") == 0 || strcmp(n, "test") == 0 || strcmp(n, "conftest") == 0 ||
           strcmp(n, "testing") == 0 || strcmp(n, "__main__") == 0;
}

/* The deepest module along a dotted name that exists ("pkg.mod" of
 * "pkg.mod.Class"), requested softly: nothing is recorded for the parts
 * that do not exist.  Returns its index or -1. */
static long request_deepest(struct graph *g, const char *name, long importer, int line)
{
    char *buf = strdup(name);
    long last = -1;
    if (!buf)
        return -1;
    for (char *dot = buf;; dot++) {
        dot = strchr(dot, '.');
        if (dot)
            *dot = '\0';
        const char *base = strrchr(buf, '.');
        long i = graph_find(g, buf);
        if (i < 0 && last >= 0 && !sorted_has(children_of(g, (size_t)last), base ? base + 1 : buf))
            break;
        if (i < 0)
            i = request(g, buf, true, importer, line, true);
        if (i < 0 || g->mods[i].kind == MOD_MISSING)
            break;
        last = i;
        if (!dot || !is_package(&g->mods[i]))
            break;
        *dot = '.';
    }
    free(buf);
    return last;
}

/* The package a module's relative names start from (itself for a
 * package), or -1 for a top-level module. */
static long own_package(const struct graph *g, size_t mi)
{
    const struct module *m = &g->mods[mi];
    if (is_package(m))
        return (long)mi;
    const char *dot = strrchr(m->name, '.');
    if (!dot)
        return -1;
    char *p = strndup(m->name, (size_t)(dot - m->name));
    long i = p ? graph_find(g, p) : -1;
    free(p);
    return i;
}

static void want_group(struct graph *g, size_t mi, const char *group);
static bool graph_find_or_exists(struct graph *g, const char *base, const char *sub);
static void make_disk(struct graph *g, size_t pi, long importer);

/* Whether directory dir holds a file that is no module, compiled module,
 * stub or Cython declaration (those are not read by path). */
static bool holds_data(const char *dir)
{
    static const char *const code[] = {".py", ".pyc", ".so", ".pyi", ".pxd"};
    DIR *d = opendir(dir);
    struct dirent *de;
    bool found = false;
    if (!d)
        return false;
    while (!found && (de = readdir(d)) != NULL) {
        const char *dot = strrchr(de->d_name, '.');
        bool is_code = !dot || strstr(de->d_name, ".so.");
        for (size_t k = 0; dot && k < sizeof code / sizeof *code; k++)
            is_code |= strcmp(dot, code[k]) == 0;
        char *p = is_code ? NULL : util_join(dir, de->d_name);
        found = p && util_is_file(p);
        free(p);
    }
    closedir(d);
    return found;
}

/* A string hint that is a bare name: no dots, no level, not a test's. */
static bool bare_string(const struct scan_import *im)
{
    return (im->flags & SCAN_STRING) && !im->level && !strchr(im->module, '.') && !strchr(im->module, '-') &&
           !test_name(im->module);
}

/* SCAN_STRING, a directory.  A bare name that is no module of the code's
 * package but a sub-package of the package around it that holds files
 * other than modules: code that builds its path from __file__ and reads
 * those files (Cython.Compiler.Code reads the C and Cython files of ../Utility).  That
 * package ships as files, all of them. */
static void data_dir_rule(struct graph *g, size_t mi, long pi, const char *s)
{
    const char *dot = strrchr(g->mods[pi].name, '.');
    char *up = dot ? strndup(g->mods[pi].name, (size_t)(dot - g->mods[pi].name)) : NULL;
    long ui = up ? graph_find(g, up) : -1, t;
    char *dir = NULL, *sub = NULL;
    if (ui >= 0 && g->mods[ui].kind == MOD_PACKAGE && strcmp(dot + 1, s) != 0 &&
        sorted_has(children_of(g, (size_t)ui), s) &&
        asprintf(&dir, "%.*s/%s", (int)(strrchr(g->mods[ui].path, '/') - g->mods[ui].path), g->mods[ui].path,
                 s) >= 0 &&
        holds_data(dir) && asprintf(&sub, "%s.%s", up, s) >= 0 &&
        (t = request(g, sub, true, (long)mi, 0, true)) >= 0 && g->mods[t].kind == MOD_PACKAGE)
        make_disk(g, (size_t)t, (long)mi);
    free(up);
    free(dir);
    free(sub);
}

/* SCAN_STRING.  A string names a module of the code's own distribution:
 *  - "pkg.sub.mod" (or "pkg.sub.mod.Class"), when pkg is the top-level
 *    package of the module it sits in: worker classes, dialects, backends
 *    named by dotted strings ("gunicorn.workers.sync");
 *  - "name", when the module's package has a submodule of that name:
 *    plugin lists (Pillow's "BmpImagePlugin"), __all__ of a package whose
 *    __getattr__ imports lazily.
 * Also an entry-point group that some installed distribution provides:
 * code that queries it loads those plugins (want_group).
 * Cost: one bsearch per string and a listing per package; what it adds are
 * modules of the same package, which that package may need. */
static void string_rule(struct graph *g, size_t mi, const struct scan_import *im)
{
    const char *s = im->module;
    const struct module *m = &g->mods[mi];
    char top[256], mtop[256];

    /* not setuptools' build-time groups (distutils.commands...): no bundle runs setup() */
    if (sorted_has(&g->groups, s) && !lazily_denied(m->name))
        want_group(g, mi, s);
    if (strchr(s, '-'))
        return;
    if (im->level > 0) { /* ".legacy.client": a module relative to its own package */
        char *base = relative_base(m, im->level), *full = NULL;
        if (base && asprintf(&full, "%s.%s", base, s) >= 0 && graph_find(g, full) < 0 &&
            request_deepest(g, full, (long)mi, im->line) >= 0 && graph_find(g, full) >= 0)
            note(g, "%s: string \"%.*s%s\" names module %s", m->name, im->level, "........", s, full);
        free(base);
        free(full);
        return;
    }
    if (strchr(s, '.')) {
        /* the app's own code: any package of the app's own directory */
        long at = m->is_app ? graph_find(g, top_of(s, top, sizeof top)) : -1;
        bool app_pkg = at >= 0 && g->mods[at].is_app && is_package(&g->mods[at]);
        if (!app_pkg && (strcmp(top_of(s, top, sizeof top), top_of(m->name, mtop, sizeof mtop)) != 0 ||
                         strcmp(m->name, "__main__") == 0 || mi == 0))
            return;
        long t;
        if (graph_find(g, s) < 0 && request_deepest(g, s, (long)mi, im->line) >= 0 && (t = graph_find(g, s)) >= 0) {
            note(g, "%s: string \"%s\" names a module of its package", m->name, s);
            g->mods[t].by_string = g->mods[t].hinted = true;
        }
        return;
    }
    /* not in the stdlib: its packages name no plugins by bare names, and
     * their strings are keywords ("handlers" in logging.basicConfig) */
    long pi = own_package(g, mi);
    if (pi < 0 || test_name(s) || graph_in_stdlib(g, m))
        return;
    if (!sorted_has(children_of(g, (size_t)pi), s)) {
        data_dir_rule(g, mi, pi, s);
        return;
    }
    char *sub = NULL;
    if (asprintf(&sub, "%s.%s", g->mods[pi].name, s) < 0)
        return;
    long t;
    if (graph_find(g, sub) < 0 && (t = request(g, sub, true, (long)mi, im->line, true)) >= 0) {
        note(g, "%s: string \"%s\" names module %s", g->mods[mi].name, s, sub);
        g->mods[t].by_string = g->mods[t].hinted = true;
    }
    free(sub);
}

/* SCAN_STRING, pairs.  Two bare strings side by side on one line name a
 * sub-package of the module's package and a module in it: a dispatcher
 * that imports (package, module) pairs from a table, ('cext', 'parsers')
 * -> pkg.cext.parsers, the way mercurial.policy picks its C or
 * pure-Python modules.  Run after the single strings, so the sub-packages
 * are known.  Same bounds as the bare names of string_rule: not the
 * stdlib, not tests. */
static void string_pairs_rule(struct graph *g, size_t mi, const struct scan_result *r)
{
    long pi = own_package(g, mi);
    if (pi < 0 || graph_in_stdlib(g, &g->mods[mi]))
        return;
    for (size_t k = 0; k + 1 < r->n; k++) {
        const struct scan_import *a = &r->imports[k], *b = &r->imports[k + 1];
        char *q = NULL, *sub = NULL;
        long qi, t;
        if (!bare_string(a) || !bare_string(b) || a->line != b->line || strcmp(a->module, b->module) == 0 ||
            asprintf(&q, "%s.%s", g->mods[pi].name, a->module) < 0)
            continue;
        if ((qi = graph_find(g, q)) >= 0 && is_package(&g->mods[qi]) &&
            sorted_has(children_of(g, (size_t)qi), b->module) && asprintf(&sub, "%s.%s", q, b->module) >= 0 &&
            graph_find(g, sub) < 0 && (t = request(g, sub, true, (long)mi, b->line, true)) >= 0) {
            note(g, "%s: strings \"%s\", \"%s\" name module %s", g->mods[mi].name, a->module, b->module, sub);
            g->mods[t].by_string = g->mods[t].hinted = true;
        }
        free(q);
        free(sub);
    }
}

/* Every submodule of package pi whose name starts with head, and all
 * below those (the rest of a computed name may hold dots). */
static void request_children(struct graph *g, size_t pi, const char *head, long importer, int line, int depth)
{
    const struct strvec *kids = children_of(g, pi);
    struct strvec names = STRVEC_INIT;
    size_t hl = strlen(head);
    if (depth > 16)
        return;
    for (size_t k = 0; k < kids->n; k++)
        if (strncmp(kids->v[k], head, hl) == 0 && !test_name(kids->v[k]) && strcmp(kids->v[k], "__main__") != 0)
            strvec_push(&names, kids->v[k]);
    for (size_t k = 0; k < names.n; k++) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", g->mods[pi].name, names.v[k]) < 0)
            continue;
        bool known = graph_find(g, sub) >= 0;
        long c = request(g, sub, true, importer, line, true);
        free(sub);
        if (c >= 0) {
            g->mods[c].by_string = false;
            g->mods[c].hinted |= !known;
        }
        if (c >= 0 && is_package(&g->mods[c]))
            request_children(g, (size_t)c, "", importer, line, depth + 1);
    }
    strvec_release(&names);
}

/* Whether the module being scanned imports top-level package top (by an
 * absolute import statement). */
static bool scanning_imports(const struct graph *g, const char *top)
{
    size_t n = strlen(top);
    for (size_t k = 0; g->scanning && k < g->scanning->n; k++) {
        const struct scan_import *im = &g->scanning->imports[k];
        if (!(im->flags & SCAN_HINTS) && im->level == 0 &&
            strncmp(im->module, top, n) == 0 && (im->module[n] == '\0' || im->module[n] == '.'))
            return true;
    }
    return false;
}

/* SCAN_PREFIX.  A computed import names a package by its literal head:
 * import_module("pkg.backends._" + name), f"pkg.{plugin}", "." + name
 * relative to the module's package, or a format string "pkg.sub.x_{}"
 * of the code's own distribution.  Every submodule that the computed name
 * could reach comes along, since only the run knows which it will be.
 * Cost: a whole plugin package (Pillow's ~90 image plugins, pygments' ~200
 * lexers); these are the modules the package can load, and do load when
 * asked for a format or a language. */
static void prefix_rule(struct graph *g, size_t mi, const struct scan_import *im)
{
    char *pkg = NULL, *text = strdup(im->module);
    const char *head;
    char top[256], mtop[256];

    if (!text)
        return;
    char *dot = strrchr(text, '.');
    head = dot ? dot + 1 : text;
    if (dot)
        *dot = '\0';
    if (im->level > 0) {
        char *base = relative_base(&g->mods[mi], im->level);
        /* import_module("..x", package=__name__) in a module counts from the
         * module itself, one level below what a relative import would */
        if (!is_package(&g->mods[mi]) && (!base || !graph_find_or_exists(g, base, dot ? text : NULL))) {
            free(base);
            base = strdup(g->mods[mi].name);
            for (int i = 1; base && i < im->level; i++) {
                char *d = strrchr(base, '.');
                if (d)
                    *d = '\0';
                else {
                    free(base);
                    base = NULL;
                }
            }
        }
        if (base && dot && asprintf(&pkg, "%s.%s", base, text) < 0)
            pkg = NULL;
        else if (base && !dot)
            pkg = strdup(base);
        free(base);
    } else if (dot) {
        pkg = strdup(text);
    }
    /* a format string or a concatenation anywhere: only into the code's own
     * distribution or a package the module imports */
    if (pkg && !(im->flags & SCAN_DYNAMIC) &&
        strcmp(top_of(pkg, top, sizeof top), top_of(g->mods[mi].name, mtop, sizeof mtop)) != 0 &&
        !scanning_imports(g, top)) {
        free(pkg);
        pkg = NULL;
    }
    long pi = pkg ? request_deepest(g, pkg, (long)mi, im->line) : -1;
    if (pi >= 0 && strcmp(g->mods[pi].name, pkg) == 0 && is_package(&g->mods[pi])) {
        size_t before = g->n;
        request_children(g, (size_t)pi, head, (long)mi, im->line, 0);
        if (g->n > before)
            note(g, "%s:%d: computed import of %s.%s*: %zu modules", g->mods[mi].name, im->line, pkg, head,
                 g->n - before);
        /* beside a directory listing: the package is found by listing it */
        if ((im->flags & SCAN_SELFDIR) && !graph_in_stdlib(g, &g->mods[mi]))
            make_disk(g, (size_t)pi, (long)mi);
    }
    free(pkg);
    free(text);
}

/* Whether base (with ".sub" when sub is given) names a module that is
 * bundled or exists on disk, looked up softly. */
static bool graph_find_or_exists(struct graph *g, const char *base, const char *sub)
{
    char *name = NULL;
    long i;
    if (sub ? asprintf(&name, "%s.%s", base, sub) < 0 : !(name = strdup(base)))
        return false;
    i = request_deepest(g, name, -1, 0);
    bool ok = i >= 0 && strcmp(g->mods[i].name, name) == 0;
    free(name);
    return ok;
}

/* Brings an entry point's target module. */
static long request_entry(struct graph *g, size_t mi, const struct dist_ep *ep, bool required)
{
    /* not "hinted": the host loads its plugins, and they load what they find */
    return request(g, ep->module, !required, (long)mi, 0, !required);
}

/* Code queries an entry-point group by name (entry_points(group=...),
 * iter_entry_points(...), a plugin manager given the name): every
 * installed distribution that provides it comes along, with its metadata
 * (importlib.metadata finds it there) and the modules its entry points
 * name.  Not the console and GUI scripts: those are launchers. */
static void want_group(struct graph *g, size_t mi, const char *group)
{
    for (size_t d = 0; d < g->dists.n; d++) {
        struct dist *di = &g->dists.v[d];
        for (size_t k = 0; k < di->neps; k++) {
            if (strcmp(di->eps[k].group, group) != 0)
                continue;
            if (!di->wanted)
                note(g, "%s: entry-point group \"%s\" brings distribution %s", g->mods[mi].name, group, di->name);
            di->wanted = true;
            request_entry(g, mi, &di->eps[k], false);
        }
    }
}

/* SCAN_DIST.  A distribution named by a literal (importlib.metadata's
 * distribution("d"), version("d"), pkg_resources' require("d")): its
 * metadata comes along.  load_entry_point("d==1", "group", "name"), what
 * console-script launchers call, also brings the module of that entry
 * point: it is the app. */
static void dist_rule(struct graph *g, size_t mi, const struct scan_import *im)
{
    struct dist *d = dists_by_name(&g->dists, im->module);
    if (!d)
        return;
    d->wanted = true;
    if (im->nnames != 2)
        return;
    for (size_t k = 0; k < d->neps; k++) {
        const struct dist_ep *ep = &d->eps[k];
        if (strcmp(ep->group, im->names[0]) == 0 && strcmp(ep->name, im->names[1]) == 0) {
            note(g, "%s:%d: entry point %s of %s is module %s", g->mods[mi].name, im->line, ep->name, d->name,
                 ep->module);
            request_entry(g, mi, ep, true);
        }
    }
}

/* Marks a package "disk" and brings all its submodules: its code lists
 * its own directory or loads files from it by path, so the directory must
 * exist with every file in it (build.c ships the package as files). */
static void make_disk(struct graph *g, size_t pi, long importer)
{
    if (g->mods[pi].disk || g->mods[pi].kind != MOD_PACKAGE)
        return;
    g->mods[pi].disk = true;
    request_children(g, pi, "", importer, 0, 0);
    for (size_t i = 0; i < g->n; i++) {
        size_t l = strlen(g->mods[pi].name);
        if (i != pi && is_package(&g->mods[i]) && strncmp(g->mods[i].name, g->mods[pi].name, l) == 0 &&
            g->mods[i].name[l] == '.')
            g->mods[i].disk = true;
    }
    note(g, "package %s goes to disk as files: %s reaches its own directory by path", g->mods[pi].name,
         importer >= 0 ? g->mods[importer].name : "its code");
}

/* SCAN_SELFDIR of a package the module imported as X ("from pkg import
 * _plugins" ... pkgutil.walk_packages(_plugins.__path__)): that package, by
 * the module's own import statements. */
static long imported_as(struct graph *g, size_t mi, const char *x)
{
    const struct scan_result *r = g->scanning;
    for (size_t k = 0; r && k < r->n; k++) {
        const struct scan_import *im = &r->imports[k];
        long t = -1;
        if (im->flags & SCAN_HINTS)
            continue;
        if (!im->names && im->level == 0 && strcmp(im->module, x) == 0) {
            t = graph_find(g, x);
        } else if (im->names) {
            for (size_t j = 0; j < im->nnames && t < 0; j++) {
                char *base = NULL, *full = NULL;
                if (strcmp(im->names[j], x) != 0)
                    continue;
                base = im->level ? relative_base(&g->mods[mi], im->level) : strdup(im->module);
                if (base && asprintf(&full, "%s%s%s.%s", base, im->level && im->module[0] ? "." : "",
                                     im->level ? im->module : "", x) >= 0)
                    t = graph_find(g, full);
                free(base);
                free(full);
            }
        }
        if (t >= 0)
            return t;
    }
    return -1;
}

/* SCAN_SELFDIR: the module's own package goes to disk, or the one it
 * imported as x. */
static void selfdir_rule(struct graph *g, size_t mi, const char *x)
{
    long pi = x[0] ? imported_as(g, mi, x) : own_package(g, mi);
    if (pi >= 0 && !is_package(&g->mods[pi]))
        return;
    /* the stdlib's packages that look at their own files (logging's
     * traceback filter) do not list them */
    if (pi >= 0 && !graph_in_stdlib(g, &g->mods[mi]))
        make_disk(g, (size_t)pi, (long)mi);
}

/* Whether a lazy import of target from module mi goes from one
 * distribution into another that the first does not require: an optional
 * feature of the importer (tqdm's pandas support in a function; the sphinx
 * wrapper that a string in docutils names, scipy's build scripts that its
 * computed imports reach), not followed unless something
 * else needs the module.  A guarded import (try:, if) at the top of a module
 * that an import statement reached is followed: the library picks up what
 * the machine has at import time (urllib3's brotli), and so does the bundle.
 * The stdlib counts as a distribution that requires nothing.  What Debian
 * strips from a package's metadata comes from its Depends (dists.c). */
static bool defer(struct graph *g, size_t mi, const char *target)
{
    const struct module *m = &g->mods[mi];
    char ttop[256], mtop[256];
    struct dist *dt, *dm = NULL;

    if (m->is_app || graph_find(g, target) >= 0)
        return false;
    top_of(target, ttop, sizeof ttop);
    top_of(m->name, mtop, sizeof mtop);
    /* a distribution that is bundled already costs no new dependency tree
     * (mako's pygments plugin importing pygments.lexers.agile) */
    long tt = graph_find(g, ttop);
    if (strcmp(ttop, mtop) == 0 || !(dt = dists_by_top(&g->dists, ttop)) ||
        (tt >= 0 && g->mods[tt].kind != MOD_MISSING))
        return false;
    if (!graph_in_stdlib(g, m)) {
        /* (Debian's stripped requirements come from dpkg: dists.c) */
        dm = dists_by_top(&g->dists, mtop);
        /* a feature extra's requirement (networkx's numpy, of "default") is
         * what the package imports to offer that feature; not where a rule
         * brought the importer (SQLAlchemy's dialects: the driver of each) */
        if (!dm || dm == dt || dists_requires(&g->dists, dm, dt) ||
            (!m->hinted && strvec_find(&dm->extras, dt->name) >= 0))
            return false;
    }
    strvec_push(&g->deferred, target);
    strvec_push(&g->deferred_by, m->name);
    return true;
}

/* Whether a module of name's top-level package was left out by defer(). */
static bool deferred_top(const struct graph *g, const char *name)
{
    size_t n = strcspn(name, ".");
    for (size_t k = 0; k < g->deferred.n; k++)
        if (strncmp(g->deferred.v[k], name, n) == 0 && (g->deferred.v[k][n] == '\0' || g->deferred.v[k][n] == '.'))
            return true;
    return false;
}

/* The stdlib's top-level module names (sorted, listed once): the
 * interpreter's built-in modules and what its stdlib directories hold. */
static const struct strvec *stdlib_tops(struct graph *g)
{
    if (g->stdlib_listed)
        return &g->stdlib_tops;
    g->stdlib_listed = true;
    for (size_t i = 0; i < g->probe->builtins.n; i++)
        strvec_push(&g->stdlib_tops, g->probe->builtins.v[i]);
    for (size_t r = 0; r < g->roots.n; r++) {
        const char *dir = g->roots.v[r];
        if (((g->probe->stdlib && under_dir(dir, g->probe->stdlib)) ||
             (g->probe->platstdlib && under_dir(dir, g->probe->platstdlib))) &&
            !strstr(dir, "-packages"))
            resolve_dir_modules(g, dir, &g->stdlib_tops);
    }
    strvec_sort_unique(&g->stdlib_tops);
    return &g->stdlib_tops;
}

/* Whether a top-level module is a compiled file along the search path. */
static bool top_is_extension(const struct graph *g, const char *top)
{
    for (size_t r = 0; r < g->roots.n; r++)
        for (size_t k = 0; k < g->probe->ext_suffixes.n; k++) {
            char *p = join3(g->roots.v[r], top, g->probe->ext_suffixes.v[k]);
            bool yes = p && util_is_file(p);
            free(p);
            if (yes)
                return true;
        }
    return false;
}

struct ext_ctx {
    struct graph *g;
    size_t mi;          /* the extension module */
    long pkg;           /* its package, or -1 */
    const char *top;    /* its top-level name */
    struct dist *dist;  /* its distribution, or NULL */
    size_t added;
};

/* Whether an extension module of ctx may import top-level module top: its
 * own distribution's, the stdlib's, or one of a distribution it requires.
 * Never what the stdlib keeps for tests and demos. */
static bool ext_may_import(struct ext_ctx *c, const char *top)
{
    static const char *const never[] = {"this", "antigravity", "__main__", "__phello__", "__hello__"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        if (strcmp(top, never[i]) == 0)
            return false;
    if (lazily_denied(top))
        return false;
    if (strcmp(top, c->top) == 0)
        return true;
    struct dist *d = dists_by_top(&c->g->dists, top);
    if (d && c->dist && c->dist->requires.n)
        return dists_requires(&c->g->dists, c->dist, d);
    /* Of no known requirements (Debian's PyNaCl has no metadata; its
     * cryptography and numpy declare none): another distribution's compiled
     * top-level module, whose C API it uses (_cffi_backend); not a Python
     * package, which numpy's strings name ("matplotlib", "scipy") */
    if (d)
        return top_is_extension(c->g, top);
    return sorted_has(stdlib_tops(c->g), top);
}

/* One string of an extension module (elfstr.h): a soft import when it names
 * a module it may import: a sibling in its own package ("_elementpath"
 * beside lxml.etree), or a dotted name ("scipy.linalg.cython_lapack",
 * "numpy.core._exceptions"), wherever the string stands. */
static int ext_string(const char *name, void *ctx)
{
    struct ext_ctx *c = ctx;
    struct graph *g = c->g;
    char top[256];
    long t = -1;
    size_t before = g->n;

    if (!strchr(name, '.') && c->pkg >= 0 && sorted_has(children_of(g, (size_t)c->pkg), name) && !test_name(name)) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", g->mods[c->pkg].name, name) >= 0) {
            t = request(g, sub, true, (long)c->mi, 0, true);
            free(sub);
        }
    }
    if (t < 0 && strchr(name, '.') && ext_may_import(c, top_of(name, top, sizeof top)))
        t = request_deepest(g, name, (long)c->mi, 0);
    if (t >= 0)
        g->mods[t].by_string = false; /* C code imports it */
    c->added += g->n - before;
    return 0;
}

/* A string that is a C literal of its own: a top-level module it may import
 * ("numbers" of _decimal, "_cffi_backend" of a cffi module, "gzip" of
 * lxml.etree).  A word inside a message is none: "string" in an error. */
static int ext_literal(const char *name, void *ctx)
{
    struct ext_ctx *c = ctx;
    size_t before = c->g->n;
    if (!strchr(name, '.') && ext_may_import(c, name))
        request(c->g, name, true, (long)c->mi, 0, true);
    c->added += c->g->n - before;
    return 0;
}

/* A compiled extension module imports what its C code names (Cython's
 * imports and cimports, cffi's _cffi_backend, PyImport_ImportModule):
 * read from its data sections.  Cost: a read of the file (a few ms for a
 * large one) and a bsearch per string; what it adds is bounded by
 * ext_may_import. */
/* Whether an extension module imports anything by name at all: its
 * dynamic symbols (names in the file) include one of the C API's import
 * functions.  Most of the stdlib's C modules (_bz2, termios) do not: their
 * strings are messages, never imports. */
static bool ext_imports(const char *path)
{
    static const char *const calls[] = {"PyImport_Import", "PyCapsule_Import", "PyImport_ImportModule"};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool found = false;
    if (fd < 0)
        return false;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        for (size_t i = 0; map != MAP_FAILED && i < sizeof calls / sizeof *calls && !found; i++)
            found = memmem(map, (size_t)st.st_size, calls[i], strlen(calls[i])) != NULL;
        if (map != MAP_FAILED)
            munmap(map, (size_t)st.st_size);
    }
    close(fd);
    return found;
}

static void ext_rule(struct graph *g, size_t mi)
{
    char top[256];
    struct err e = {0};
    struct ext_ctx c = {g, mi, own_package(g, mi), NULL, NULL, 0};
    c.top = top_of(g->mods[mi].name, top, sizeof top);
    c.dist = dists_by_top(&g->dists, c.top);
    if (g->mods[mi].is_app || !g->mods[mi].path || !ext_imports(g->mods[mi].path))
        return;
    struct elfstr_sink sink = {.name = ext_string, .whole = ext_literal, .ctx = &c};
    elfstr_scan(g->mods[mi].path, &sink, &e);
    /* A top-level module of its distribution that no import statement can
     * name (mypyc's shared "65cd21382c5717f91ee0__mypyc"): only C imports it */
    for (size_t t = 0; c.dist && t < c.dist->tops.n; t++) {
        const char *n = c.dist->tops.v[t];
        if (n[0] >= '0' && n[0] <= '9') {
            size_t before = g->n;
            request(g, n, true, (long)mi, 0, true);
            c.added += g->n - before;
        }
    }
    if (c.added)
        note(g, "%s: its C code names %zu more modules", g->mods[mi].name, c.added);
}

/* Whether the source file at path defines function name at its top level. */
static bool defines(const char *path, const char *name)
{
    char *src = NULL;
    size_t len = 0, n = strlen(name);
    struct err e = {0};
    bool found = false;
    if (util_read_file(path, SOURCE_MAX, &src, &len, &e) != 0)
        return false;
    for (const char *p = src; p && !found; p = memchr(p, '\n', len - (size_t)(p - src)), p = p ? p + 1 : NULL)
        found = (size_t)(src + len - p) > n + 5 && memcmp(p, "def ", 4) == 0 && memcmp(p + 4, name, n) == 0 &&
                p[4 + n] == '(';
    free(src);
    return found;
}

/* The modules under package directory dir (named prefix) whose source
 * defines function name at the top level, requested for module mi. */
static void request_definers(struct graph *g, size_t mi, const char *dir, const char *prefix, const char *name,
                             int depth)
{
    struct strvec kids = STRVEC_INIT;
    DIR *d = depth < 8 ? opendir(dir) : NULL;
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && strcmp(de->d_name, "__pycache__") != 0 && !test_name(de->d_name))
            strvec_push(&kids, de->d_name);
    closedir(d);
    for (size_t k = 0; k < kids.n; k++) {
        const char *n = kids.v[k];
        size_t l = strlen(n);
        char *path = util_join(dir, n), *init = path ? util_join(path, "__init__.py") : NULL, *sub = NULL;
        bool pkg = init && util_is_file(init);
        if (pkg && asprintf(&sub, "%s.%s", prefix, n) >= 0)
            request_definers(g, mi, path, sub, name, depth + 1);
        if (pkg ? sub && defines(init, name)
                : path && l > 3 && strcmp(n + l - 3, ".py") == 0 && strcmp(n, "__init__.py") != 0 &&
                      defines(path, name) && asprintf(&sub, "%s.%.*s", prefix, (int)(l - 3), n) >= 0) {
            long t = graph_find(g, sub) < 0 ? request(g, sub, true, (long)mi, 0, true) : -1;
            if (t >= 0) {
                g->mods[t].hinted = true;
                note(g, "%s: loads modules that define %s() by computed names: %s", g->mods[mi].name, name, sub);
            }
        }
        free(path);
        free(init);
        free(sub);
    }
    strvec_release(&kids);
}

/* SCAN_PROTOCOL.  A function imports a wholly computed name and takes
 * getattr(mod, "NAME") of what it imported: it loads plugins that define
 * NAME (Sphinx's extensions, named in a project's conf.py, define setup).
 * The modules of the loader's own top-level package that define NAME at
 * their top level come along.  Cost: reading that package's sources once
 * per NAME; what comes is what the loader can load by that protocol. */
static void protocol_rule(struct graph *g, size_t mi, const char *name)
{
    char top[256], *key = NULL;
    long ti = graph_find(g, top_of(g->mods[mi].name, top, sizeof top));
    if (ti < 0 || g->mods[ti].kind != MOD_PACKAGE || graph_in_stdlib(g, &g->mods[mi]) ||
        asprintf(&key, "%s:%s", top, name) < 0)
        return;
    if (strvec_find(&g->protocols, key) >= 0 || strvec_push_owned(&g->protocols, key) != 0) {
        free(key);
        return;
    }
    char *dir = strdup(g->mods[ti].path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
        *slash = '\0';
        request_definers(g, mi, dir, top, name, 0);
    }
    free(dir);
}

/* Module i (and what it brought off an error path) is followed again. */
static void redo(struct graph *g, size_t i)
{
    if (g->nredo == g->credo) {
        size_t cap = g->credo ? g->credo * 2 : 16;
        size_t *v = realloc(g->redo, cap * sizeof *v);
        if (!v)
            return;
        g->redo = v;
        g->credo = cap;
    }
    g->redo[g->nredo++] = i;
}

/* Whether two dotted names share their top-level name. */
static bool same_top(const char *a, const char *b)
{
    size_t n = strcspn(a, ".");
    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '.');
}

/* Module t, just imported by mi (on an optional path or not; it is new if its
 * index is before or later): an error path's new modules of the same
 * package are on it too; one that an import off any error path reaches is
 * not, and is followed again. */
static void on_path(struct graph *g, size_t mi, long t, size_t before, bool optpath)
{
    if (t < 0)
        return;
    if (optpath && (size_t)t >= before && same_top(g->mods[t].name, g->mods[mi].name)) {
        g->mods[t].optpath = true;
    } else if (!optpath && g->mods[t].optpath) {
        g->mods[t].optpath = false;
        if (g->mods[t].processed)
            redo(g, (size_t)t);
    }
}

/* Follows one import (or hint) of module mi.  Returns whether it was an
 * import statement whose module is now bundled, for the try: it sits in. */
static bool follow_import(struct graph *g, size_t mi, const struct scan_import *im, bool keep_fallback,
                          bool *deferred)
{
    bool optional = (im->flags & (SCAN_IN_TRY | SCAN_IN_IF | SCAN_IN_DEF | SCAN_DYNAMIC)) != 0;
    char *target = NULL;

    if (im->flags & SCAN_HINTS) {
        /* library code that runs only as a script never runs in a bundle */
        if ((im->flags & SCAN_IN_SCRIPT) && !g->mods[mi].is_app)
            return false;
        if (im->flags & SCAN_STRING)
            string_rule(g, mi, im);
        else if (im->flags & SCAN_PREFIX)
            prefix_rule(g, mi, im);
        else if (im->flags & SCAN_DIST)
            dist_rule(g, mi, im);
        else if (im->flags & SCAN_PROTOCOL)
            protocol_rule(g, mi, im->module);
        else
            selfdir_rule(g, mi, im->module);
        return false;
    }

    if (im->level > 0) {
        char *base = relative_base(&g->mods[mi], im->level);
        if (!base) {
            if (g->mods[mi].is_app)
                warn(g, "%s:%d: relative import beyond the top-level package", g->mods[mi].name, im->line);
            return false;
        }
        if (im->module[0]) {
            if (asprintf(&target, "%s.%s", base, im->module) < 0)
                target = NULL;
            free(base);
        } else {
            target = base;
        }
    } else {
        target = strdup(im->module);
    }
    if (!target || !*target) {
        free(target);
        return false;
    }
    /* library code that runs only when the library is run as a script
     * never runs in a bundle: the app's own script is the only __main__ */
    if ((im->flags & SCAN_IN_SCRIPT) && !g->mods[mi].is_app) {
        free(target);
        return false;
    }
    /* nor do the stdlib's command-line entry points (tokenize.main,
     * ast.main, json.tool.main...), nor what the frozen import system
     * imports inside its functions (importlib.readers, importlib.metadata):
     * those run only for an app that imports the feature itself */
    if (((im->flags & SCAN_IN_MAIN) && graph_in_stdlib(g, &g->mods[mi])) ||
        ((im->flags & SCAN_IN_DEF) && (strcmp(g->mods[mi].name, "importlib._bootstrap") == 0 ||
                                       strcmp(g->mods[mi].name, "importlib._bootstrap_external") == 0))) {
        free(target);
        return false;
    }
    if ((im->flags & SCAN_IN_DEF) && !g->mods[mi].is_app && lazily_denied(target) &&
        graph_find(g, target) < 0) {
        free(target);
        return false;
    }
    /* lazily in a function, or anyhow from a module that only a rule
     * brought; not the fallback of a try: that failed for want of a module
     * (aiohttp's charset_normalizer for a missing cchardet), but that of a
     * try whose import was left out here (tqdm's pandas, tried twice) */
    /* an optional path: an error path, or a feature that the package
     * imports from its own functions (mypy.report, dill._objects) */
    bool optpath = (im->flags & SCAN_IN_EXCEPT) || g->mods[mi].optpath ||
                   ((im->flags & SCAN_IN_DEF) && !g->mods[mi].is_app && same_top(target, g->mods[mi].name));
    /* find_spec("m") only asks whether m is there (dill's numpy support;
     * in a bundle the path-based finder never finds it anyway) */
    bool lazy = g->mods[mi].hinted || (im->flags & (SCAN_IN_DEF | SCAN_PROBE)) || optpath;
    /* nor a guarded import (try: ... except ImportError: go on without it):
     * left out, the app would run, silently, another way than plain python
     * (Cython's annotated HTML without pygments' colours); unless its
     * distribution was left out already, by an import of it that is not
     * guarded (tqdm's pandas) */
    if ((im->flags & SCAN_GUARDED) && !g->mods[mi].hinted && !optpath && !deferred_top(g, target))
        lazy = false;
    if (lazy && !(im->fallback_of && keep_fallback) && defer(g, mi, target)) {
        *deferred = true;
        free(target);
        return false;
    }
    bool eager = !(im->flags & (SCAN_IN_DEF | SCAN_IN_SCRIPT | SCAN_DYNAMIC));
    size_t before = g->n;
    long t = request(g, target, optional, (long)mi, im->line, (im->flags & SCAN_DYNAMIC) != 0);
    /* imported after all; what it imports in turn is no rule's guess.  (A
     * module reached only from inside functions is not speculative: console
     * entry points import the whole app that way, httpie's main.) */
    if (t >= 0)
        g->mods[t].by_string = g->mods[t].hinted = false;
    on_path(g, mi, t, before, optpath);
    if (eager)
        add_eager(g, mi, t);
    if (t >= 0 && im->names && is_package(&g->mods[t])) {
        for (size_t k = 0; k < im->nnames; k++) {
            char *sub = NULL;
            if (strcmp(im->names[k], "*") == 0)
                continue;
            if (asprintf(&sub, "%s.%s", target, im->names[k]) < 0)
                continue;
            size_t before_sub = g->n;
            long st = request(g, sub, optional, (long)mi, im->line, true);
            on_path(g, mi, st, before_sub, optpath);
            if (eager)
                add_eager(g, mi, st);
            free(sub);
        }
    }
    free(target);
    return t >= 0;
}

static int process(struct graph *g, size_t mi, struct err *err)
{
    char *src = NULL;
    size_t len = 0;
    struct scan_result r = {0};
    int line = 0;
    struct err e2 = {0};

    const char *path = g->mods[mi].path;
    char *twin = NULL;
    g->mods[mi].processed = true;
    if (g->mods[mi].kind == MOD_EXTENSION && !g->mods[mi].excluded) {
        ext_rule(g, mi);
        /* compiled from the .py beside it (mypyc, Cython's pure-Python
         * mode): that source says what the compiled code imports */
        const char *dot = strchr(util_base_name(path), '.');
        if (dot && asprintf(&twin, "%.*s.py", (int)(dot - path), path) >= 0 && util_is_file(twin))
            path = twin;
    }
    if ((!twin || path != twin) && g->mods[mi].kind != MOD_SOURCE && g->mods[mi].kind != MOD_PACKAGE) {
        free(twin);
        return 0;
    }
    int rd = util_read_file(path, SOURCE_MAX, &src, &len, &e2);
    free(twin);
    if (rd != 0) {
        if (g->mods[mi].is_app) {
            *err = e2;
            return -1;
        }
        warn(g, "%s", e2.msg);
        g->mods[mi].excluded = g->mods[mi].kind != MOD_EXTENSION;
        return 0;
    }
    if (scan_source(src, len, &r, &line, &e2) != 0) {
        free(src);
        if (g->mods[mi].is_app)
            return err_set(err, 0, "%s:%d: %s", g->mods[mi].app_rel ? g->mods[mi].app_rel : g->mods[mi].path,
                           line, e2.msg);
        if (g->mods[mi].kind == MOD_EXTENSION) /* its source twin: the compiled module stays */
            return 0;
        warn(g, "%s:%d: %s (module %s left out)", g->mods[mi].path, line, e2.msg, g->mods[mi].name);
        g->mods[mi].excluded = true;
        return 0;
    }
    free(src);
    /* An "except ImportError:" fallback runs only where its try's imports
     * failed: where every one of them is bundled, it is not followed (the
     * importlib_metadata / pkg_resources fallbacks of launchers, py2
     * compatibility imports).  try: ids grow in source order, so a try's
     * imports are all seen before its handlers'. */
    int ntry = 0;
    for (size_t k = 0; k < r.n; k++)
        if (r.imports[k].try_id > ntry)
            ntry = r.imports[k].try_id;
    bool *failed = calloc((size_t)ntry + 1, sizeof *failed);
    bool *left_out = calloc((size_t)ntry + 1, sizeof *left_out);
    g->scanning = &r; /* for selfdir_rule's imported_as */
    for (size_t k = 0; k < r.n; k++) {
        const struct scan_import *im = &r.imports[k];
        bool hint = (im->flags & SCAN_HINTS) != 0;
        bool fb = failed && left_out && im->fallback_of > 0 && im->fallback_of <= ntry, deferred = false;
        if (!hint && fb && !failed[im->fallback_of])
            continue;
        bool ok = follow_import(g, mi, im, !(fb && left_out[im->fallback_of]), &deferred);
        if (!hint && failed && left_out && im->try_id > 0 && !ok) {
            failed[im->try_id] = true;
            left_out[im->try_id] |= deferred;
        }
    }
    string_pairs_rule(g, mi, &r);
    g->scanning = NULL;
    free(failed);
    free(left_out);
    scan_result_release(&r);
    return 0;
}

/* The module that alias a serves name from, if name is a's alias or under
 * it: "setuptools._distutils.core" for "distutils.core". */
static void request_alias(struct graph *g, const struct hook_alias *a, size_t i)
{
    const char *name = g->mods[i].name;
    size_t n = strlen(a->alias);
    char *real;
    if (strncmp(name, a->alias, n) != 0 || (name[n] != '\0' && name[n] != '.'))
        return;
    if (asprintf(&real, "%s%s", a->real, name + n) < 0)
        return;
    if (graph_find(g, real) < 0)
        request_deepest(g, real, (long)i, 0);
    free(real);
}

/* What hooks.h says module i needs beyond its import statements. */
static void apply_hooks(struct graph *g, size_t i)
{
    const struct hook *h;
    for (size_t k = 0; k < hooks_aliases_count; k++) {
        const struct hook_alias *a = &hooks_aliases[k];
        long m = graph_find(g, a->module);
        if (m < 0 || g->mods[m].kind == MOD_MISSING)
            continue;
        if ((size_t)m != i)
            request_alias(g, a, i);
        else /* the modules seen before it */
            for (size_t j = 0; j < i; j++)
                request_alias(g, a, j);
    }
    if (g->mods[i].kind == MOD_MISSING || !(h = hooks_find(g->mods[i].name)))
        return;
    for (const char *const *m = h->hidden; *m; m++)
        add_eager(g, i, request(g, *m, true, (long)i, 0, true));
}

static int walk(struct graph *g, size_t from, struct err *err)
{
    for (size_t i = from;;) {
        for (; i < g->n; i++) {
            if (process(g, i, err) != 0)
                return -1;
            apply_hooks(g, i);
        }
        if (!g->nredo)
            return 0;
        if (process(g, g->redo[--g->nredo], err) != 0)
            return -1;
    }
}

int resolve_add(struct graph *g, const char *name, struct err *err)
{
    size_t before = g->n;
    request(g, name, false, -1, 0, false);
    return walk(g, before, err);
}

int resolve_add_soft(struct graph *g, const char *name, struct err *err)
{
    size_t before = g->n;
    if (graph_find(g, name) >= 0)
        return 0;
    request_deepest(g, name, -1, 0);
    return walk(g, before, err);
}

/* The names of modules of package top in one pickle file: a pickle's GLOBAL
 * and STACK_GLOBAL opcodes name the module of each class it holds, and
 * loading it imports that module (babel's locale data imports babel.dates). */
static void pickle_names(struct graph *g, const char *path, const char *top, size_t pi)
{
    static const size_t max = 4u << 20;
    FILE *f = fopen(path, "rb");
    unsigned char *buf = f ? malloc(max) : NULL;
    size_t n = buf ? fread(buf, 1, max, f) : 0, tl = strlen(top);
    if (f)
        fclose(f);
    if (n >= 2 && buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5) {
        for (unsigned char *p = buf; (p = memmem(p, n - (size_t)(p - buf), top, tl)) != NULL; p += tl) {
            size_t len = tl;
            /* protocol 2's GLOBAL opcode 'c' comes right before the name */
            bool global_op = p > buf && p[-1] == 'c' && (p - 1 == buf || !IS_NAME_BYTE(p[-2]));
            if (p > buf && (IS_NAME_BYTE(p[-1]) || p[-1] == '.') && !global_op)
                continue;
            while (p + len < buf + n && (IS_NAME_BYTE(p[len]) || p[len] == '.'))
                len++;
            if (len == tl || p[tl] != '.' || len > 200)
                continue;
            char name[256];
            memcpy(name, p, len);
            name[len] = '\0';
            if (graph_find(g, name) < 0 && request_deepest(g, name, (long)pi, 0) >= 0 && graph_find(g, name) >= 0)
                note(g, "%s: pickled data %s names module %s", g->mods[pi].name, path, name);
        }
    }
    free(buf);
}

static void pickle_walk(struct graph *g, const char *dir, const char *top, size_t pi, int depth)
{
    DIR *d = depth < 16 ? opendir(dir) : NULL;
    struct dirent *de;
    struct strvec subdirs = STRVEC_INIT;
    while (d && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (n[0] == '.' || test_name(n) || strcmp(n, "__pycache__") == 0 ||
            (l > 3 && (strcmp(n + l - 3, ".py") == 0 || strcmp(n + l - 3, ".so") == 0)) ||
            (l > 4 && strcmp(n + l - 4, ".pyc") == 0))
            continue;
        char *path = util_join(dir, n);
        if (path && util_is_dir(path))
            strvec_push(&subdirs, path);
        else if (path && util_is_file(path))
            pickle_names(g, path, top, pi);
        free(path);
    }
    if (d)
        closedir(d);
    for (size_t k = 0; k < subdirs.n; k++)
        pickle_walk(g, subdirs.v[k], top, pi, depth + 1);
    strvec_release(&subdirs);
}

int resolve_data_imports(struct graph *g, struct err *err)
{
    size_t before = g->n;
    for (size_t i = 0; i < before; i++) {
        const struct module *m = &g->mods[i];
        if (m->kind != MOD_PACKAGE || m->excluded || strchr(m->name, '.') || !m->search.n ||
            graph_in_stdlib(g, m))
            continue;
        char *dir = strdup(m->search.v[0]), *top = strdup(m->name);
        if (dir && top)
            pickle_walk(g, dir, top, i, 0);
        free(dir);
        free(top);
    }
    return walk(g, before, err);
}

int resolve_disk(struct graph *g, size_t idx, const char *why, struct err *err)
{
    size_t before = g->n;
    if (g->mods[idx].disk)
        return 0;
    make_disk(g, idx, -1);
    note(g, "package %s goes to disk as files: %s", g->mods[idx].name, why);
    return walk(g, before, err);
}

/* Every module name under package directory dir (prefix "pkg."). */
static void collect_dir(struct graph *g, const char *prefix, const char *dir, int depth)
{
    DIR *d = depth < 32 ? opendir(dir) : NULL;
    struct dirent *de;
    struct strvec names = STRVEC_INIT, subdirs = STRVEC_INIT;
    const struct strvec *sfx = &g->probe->ext_suffixes;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (n[0] == '.' || strcmp(n, "__pycache__") == 0)
            continue;
        char *path = util_join(dir, n);
        if (!path)
            continue;
        if (util_is_dir(path)) {
            strvec_push(&subdirs, n);
        } else if (l > 3 && strcmp(n + l - 3, ".py") == 0) {
            if (strcmp(n, "__init__.py") != 0)
                strvec_push_owned(&names, strndup(n, l - 3));
        } else {
            for (size_t k = 0; k < sfx->n; k++) {
                size_t sl = strlen(sfx->v[k]);
                if (l > sl && strcmp(n + l - sl, sfx->v[k]) == 0) {
                    if (memchr(n, '.', l - sl) == NULL) /* "a.b.so" is no module "a.b" */
                        strvec_push_owned(&names, strndup(n, l - sl));
                    break;
                }
            }
        }
        free(path);
    }
    closedir(d);
    for (size_t k = 0; k < names.n; k++) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", prefix, names.v[k]) >= 0) {
            request(g, sub, true, -1, 0, true);
            free(sub);
        }
    }
    for (size_t k = 0; k < subdirs.n; k++) {
        char *sub = NULL, *path = util_join(dir, subdirs.v[k]);
        if (path && asprintf(&sub, "%s.%s", prefix, subdirs.v[k]) >= 0) {
            long idx = request(g, sub, true, -1, 0, true);
            if (idx >= 0 && is_package(&g->mods[idx])) {
                g->mods[idx].collect = true;
                collect_dir(g, sub, path, depth + 1);
            }
        }
        free(sub);
        free(path);
    }
    strvec_release(&names);
    strvec_release(&subdirs);
}

int resolve_collect(struct graph *g, const char *name, struct err *err)
{
    size_t before = g->n;
    long p = request(g, name, false, -1, 0, true);

    if (p < 0 || !is_package(&g->mods[p]))
        return err_usage(err, "--collect %s: no such package on the interpreter's sys.path", name);
    g->mods[p].collect = true;
    for (size_t d = 0; d < g->mods[p].search.n; d++) {
        char *dir = strdup(g->mods[p].search.v[d]);
        if (dir)
            collect_dir(g, name, dir, 0);
        free(dir);
    }
    return walk(g, before, err);
}

int resolve_graph(struct graph *g, const struct probe *probe, const char *script,
                  const char *entry_name, const char *const *extra, size_t nextra,
                  const struct strvec *exclude, struct err *err)
{
    char real[PATH_MAX];
    char *slash;
    long idx;

    memset(g, 0, sizeof *g);
    g->probe = probe;
    g->exclude = exclude;
    if (!realpath(script, real))
        return err_set(err, errno, "cannot open '%s'", script);
    g->script_dir = strdup(real);
    if (!g->script_dir)
        return err_set(err, ENOMEM, "out of memory");
    slash = strrchr(g->script_dir, '/');
    if (slash == g->script_dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (strvec_push(&g->roots, g->script_dir) != 0)
        return err_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < probe->path.n; i++)
        if (util_is_dir(probe->path.v[i]) && strvec_find(&g->roots, probe->path.v[i]) < 0 &&
            strvec_push(&g->roots, probe->path.v[i]) != 0)
            return err_set(err, ENOMEM, "out of memory");

    if (dists_load(&g->dists, (const char *const *)g->roots.v, g->roots.n, err) != 0)
        return -1;
    for (size_t d = 0; d < g->dists.n; d++)
        for (size_t k = 0; k < g->dists.v[d].neps; k++) {
            const char *grp = g->dists.v[d].eps[k].group;
            if (strcmp(grp, "console_scripts") != 0 && strcmp(grp, "gui_scripts") != 0 &&
                strvec_find(&g->groups, grp) < 0 && strvec_push(&g->groups, grp) != 0)
                return err_set(err, ENOMEM, "out of memory");
        }
    if (g->groups.n)
        qsort(g->groups.v, g->groups.n, sizeof *g->groups.v, cmp_strp);

    idx = add_module(g, strdup(entry_name), MOD_SOURCE, strdup(real));
    if (idx != 0)
        return err_set(err, ENOMEM, "out of memory");
    g->mods[0].is_app = true;
    g->mods[0].app_rel = strdup(strrchr(real, '/') + 1);
    if (walk(g, 0, err) != 0)
        return -1;
    for (size_t i = 0; i < nextra; i++)
        if (resolve_add(g, extra[i], err) != 0)
            return -1;
    return 0;
}

void graph_release(struct graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct module *m = &g->mods[i];
        free(m->name);
        free(m->path);
        free(m->app_rel);
        free(m->importer);
        free(m->eager);
        strvec_release(&m->search);
        strvec_release(&m->children);
    }
    dists_release(&g->dists);
    strvec_release(&g->groups);
    strvec_release(&g->protocols);
    free(g->redo);
    strvec_release(&g->deferred);
    strvec_release(&g->deferred_by);
    strvec_release(&g->notes);
    strvec_release(&g->stdlib_tops);
    free(g->mods);
    free(g->table);
    strvec_release(&g->roots);
    strvec_release(&g->warnings);
    free(g->script_dir);
    memset(g, 0, sizeof *g);
}
