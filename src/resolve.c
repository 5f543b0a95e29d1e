#include "bundle/resolve.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/hooks.h"
#include "bundle/scan.h"
#include "bundle/util.h"

#define SOURCE_MAX (64u << 20)

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

static void warn(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct graph *g, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    s = util_vformat(fmt, ap);
    va_end(ap);
    if (s)
        strvec_push_owned(&g->warnings, s);
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
    return m->kind == MOD_PACKAGE || m->kind == MOD_NAMESPACE;
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
    for (size_t i = 0; i < dirs->n && hit != 1; i++) {
        struct found cur;
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
static bool in_stdlib(const struct graph *g, const struct module *m)
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
    "doctest", "unittest", "test", "lib2to3", "ensurepip", "venv", "readline", "_testcapi",
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

static void follow_import(struct graph *g, size_t mi, const struct scan_import *im)
{
    bool optional = (im->flags & (SCAN_IN_TRY | SCAN_IN_IF | SCAN_IN_DEF | SCAN_DYNAMIC)) != 0;
    char *target = NULL;

    if (im->level > 0) {
        char *base = relative_base(&g->mods[mi], im->level);
        if (!base) {
            if (g->mods[mi].is_app)
                warn(g, "%s:%d: relative import beyond the top-level package", g->mods[mi].name, im->line);
            return;
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
        return;
    }
    /* library code that runs only when the library is run as a script
     * never runs in a bundle: the app's own script is the only __main__ */
    if ((im->flags & SCAN_IN_SCRIPT) && !g->mods[mi].is_app) {
        free(target);
        return;
    }
    /* nor do the stdlib's command-line entry points (tokenize.main,
     * ast.main, json.tool.main...), nor what the frozen import system
     * imports inside its functions (importlib.readers, importlib.metadata):
     * those run only for an app that imports the feature itself */
    if (((im->flags & SCAN_IN_MAIN) && in_stdlib(g, &g->mods[mi])) ||
        ((im->flags & SCAN_IN_DEF) && (strcmp(g->mods[mi].name, "importlib._bootstrap") == 0 ||
                                       strcmp(g->mods[mi].name, "importlib._bootstrap_external") == 0))) {
        free(target);
        return;
    }
    if ((im->flags & SCAN_IN_DEF) && !g->mods[mi].is_app && lazily_denied(target) &&
        graph_find(g, target) < 0) {
        free(target);
        return;
    }
    bool eager = !(im->flags & (SCAN_IN_DEF | SCAN_IN_SCRIPT | SCAN_DYNAMIC));
    long t = request(g, target, optional, (long)mi, im->line, (im->flags & SCAN_DYNAMIC) != 0);
    if (eager)
        add_eager(g, mi, t);
    if (t >= 0 && im->names && is_package(&g->mods[t])) {
        for (size_t k = 0; k < im->nnames; k++) {
            char *sub = NULL;
            if (strcmp(im->names[k], "*") == 0)
                continue;
            if (asprintf(&sub, "%s.%s", target, im->names[k]) < 0)
                continue;
            long st = request(g, sub, optional, (long)mi, im->line, true);
            if (eager)
                add_eager(g, mi, st);
            free(sub);
        }
    }
    free(target);
}

static int process(struct graph *g, size_t mi, struct err *err)
{
    char *src = NULL;
    size_t len = 0;
    struct scan_result r = {0};
    int line = 0;
    struct err e2 = {0};

    if (g->mods[mi].kind != MOD_SOURCE && g->mods[mi].kind != MOD_PACKAGE)
        return 0;
    if (util_read_file(g->mods[mi].path, SOURCE_MAX, &src, &len, &e2) != 0) {
        if (g->mods[mi].is_app) {
            *err = e2;
            return -1;
        }
        warn(g, "%s", e2.msg);
        g->mods[mi].excluded = true;
        return 0;
    }
    if (scan_source(src, len, &r, &line, &e2) != 0) {
        free(src);
        if (g->mods[mi].is_app)
            return err_set(err, 0, "%s:%d: %s", g->mods[mi].app_rel ? g->mods[mi].app_rel : g->mods[mi].path,
                           line, e2.msg);
        warn(g, "%s:%d: %s (module %s left out)", g->mods[mi].path, line, e2.msg, g->mods[mi].name);
        g->mods[mi].excluded = true;
        return 0;
    }
    free(src);
    for (size_t k = 0; k < r.n; k++)
        follow_import(g, mi, &r.imports[k]);
    scan_result_release(&r);
    return 0;
}

/* What hooks.h says module i needs beyond its import statements. */
static void apply_hooks(struct graph *g, size_t i)
{
    const struct hook *h;
    if (g->mods[i].kind == MOD_MISSING || !(h = hooks_find(g->mods[i].name)))
        return;
    for (const char *const *m = h->hidden; *m; m++)
        add_eager(g, i, request(g, *m, true, (long)i, 0, true));
}

static int walk(struct graph *g, size_t from, struct err *err)
{
    for (size_t i = from; i < g->n; i++) {
        if (process(g, i, err) != 0)
            return -1;
        apply_hooks(g, i);
    }
    return 0;
}

int resolve_add(struct graph *g, const char *name, struct err *err)
{
    size_t before = g->n;
    request(g, name, false, -1, 0, false);
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
    }
    free(g->mods);
    free(g->table);
    strvec_release(&g->roots);
    strvec_release(&g->warnings);
    free(g->script_dir);
    memset(g, 0, sizeof *g);
}
