/* resolve_find.c - where a module is: the graph's table of modules, and a
 * name found along the search path the way CPython's PathFinder and
 * FileFinder would (resolve_request); the small name helpers that the
 * other resolve_*.c files share.  It calls none of them (resolve_impl.h). */
#include "resolve_impl.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/util.h"

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
long resolve_add_module(struct graph *g, char *name, enum mod_kind kind, char *path)
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

void resolve_warn(struct graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&g->warnings, fmt, ap);
    va_end(ap);
}

void resolve_note(struct graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&g->notes, fmt, ap);
    va_end(ap);
}

/* What FileFinder would find for `base` in directory dir. */
struct found {
    enum mod_kind kind;
    char *path;     /* file, or the package/namespace directory */
    char *pkgdir;   /* for packages: the directory */
};

char *resolve_join3(const char *a, const char *b, const char *c)
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
            char *init = resolve_join3(d, "__init__", sfx->v[i]);
            if (init && util_is_file(init)) {
                f->kind = MOD_EXTENSION; /* an extension package: rare; treated as a module */
                f->path = init;
                f->pkgdir = d;
                return 1;
            }
            free(init);
        }
        char *init = resolve_join3(d, "__init__", ".py");
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
        char *p = resolve_join3(dir, base, sfx->v[i]);
        if (p && util_is_file(p)) {
            free(f->pkgdir);
            f->pkgdir = NULL;
            f->kind = MOD_EXTENSION;
            f->path = p;
            return 1;
        }
        free(p);
    }
    char *p = resolve_join3(dir, base, ".py");
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

bool resolve_is_package(const struct module *m)
{
    /* an extension package (mypyc compiles __init__.py) has a __path__ too */
    return m->kind == MOD_PACKAGE || m->kind == MOD_NAMESPACE || (m->kind == MOD_EXTENSION && m->search.n > 0);
}

/* 1 if path is dir or below it. */
bool resolve_under_dir(const char *path, const char *dir)
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
long resolve_request(struct graph *g, const char *name, bool optional, long importer, int line,
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
        parent = resolve_request(g, pname, optional, importer, line, false);
        free(pname);
        /* a module that is not a package can still provide "submodules"
         * at run time (os.path): not our business to report */
        if (parent < 0 || !resolve_is_package(&g->mods[parent]))
            return -1;
        dirs = &g->mods[parent].search;
    } else if (strvec_find(&g->probe->builtins, name) >= 0) {
        idx = resolve_add_module(g, strdup(name), MOD_BUILTIN, NULL);
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
        bool from_app = dot ? g->mods[parent].is_app && resolve_under_dir(dirs->v[i], g->script_dir)
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
        idx = resolve_add_module(g, strdup(name), f.kind, f.path);
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
        idx = resolve_add_module(g, strdup(name), MOD_NAMESPACE, NULL);
        if (idx < 0) {
            strvec_release(&portions);
            return -1;
        }
        g->mods[idx].search = portions;
    } else {
        if (soft)
            return -1;
        idx = resolve_add_module(g, strdup(name), MOD_MISSING, NULL);
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
char *resolve_relative_base(const struct module *m, int level)
{
    char *pkg = strdup(m->name);
    if (!pkg)
        return NULL;
    if (!resolve_is_package(m)) {
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
        if (dirs[i] && resolve_under_dir(m->path, dirs[i]))
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
bool resolve_lazily_denied(const char *name)
{
    for (size_t i = 0; i < sizeof lazy_denied / sizeof lazy_denied[0]; i++) {
        size_t len = strlen(lazy_denied[i]);
        if (strncmp(lazy_denied[i], name, len) == 0 && (name[len] == '\0' || name[len] == '.'))
            return true;
    }
    return false;
}

/* The top-level name of a dotted name, in buf. */
const char *resolve_top_of(const char *name, char *buf, size_t size)
{
    size_t n = strcspn(name, ".");
    if (n >= size)
        n = size - 1;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

int resolve_cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool resolve_sorted_has(const struct strvec *v, const char *s)
{
    return v->n && bsearch(&s, v->v, v->n, sizeof *v->v, resolve_cmp_strp) != NULL;
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
            char *init = resolve_join3(dir, de->d_name, "/__init__.py");
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
bool resolve_test_name(const char *n)
{
    /* nor is "__main__" (the main guard's string) */
    return strcmp(n, "tests") == 0 || strcmp(n, "test") == 0 || strcmp(n, "conftest") == 0 ||
           strcmp(n, "testing") == 0 || strcmp(n, "__main__") == 0;
}

/* The deepest module along a dotted name that exists ("pkg.mod" of
 * "pkg.mod.Class"), requested softly: nothing is recorded for the parts
 * that do not exist.  Returns its index or -1. */
long resolve_request_deepest(struct graph *g, const char *name, long importer, int line)
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
        if (i < 0 && last >= 0 && !resolve_sorted_has(children_of(g, (size_t)last), base ? base + 1 : buf))
            break;
        if (i < 0)
            i = resolve_request(g, buf, true, importer, line, true);
        if (i < 0 || g->mods[i].kind == MOD_MISSING)
            break;
        last = i;
        if (!dot || !resolve_is_package(&g->mods[i]))
            break;
        *dot = '.';
    }
    free(buf);
    return last;
}

/* The package a module's relative names start from (itself for a
 * package), or -1 for a top-level module. */
long resolve_own_package(const struct graph *g, size_t mi)
{
    const struct module *m = &g->mods[mi];
    if (resolve_is_package(m))
        return (long)mi;
    const char *dot = strrchr(m->name, '.');
    if (!dot)
        return -1;
    char *p = strndup(m->name, (size_t)(dot - m->name));
    long i = p ? graph_find(g, p) : -1;
    free(p);
    return i;
}
