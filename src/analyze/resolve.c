/* resolve.c - the walk from the entry script to the closure of its imports;
 * see resolve.h.  Each module's source is scanned (scan.h) and its imports
 * followed, or deferred when made lazily into a distribution the importer
 * does not require; the rules for what no import statement says are in
 * resolve_rules.c, those for extension modules in resolve_ext.c, and
 * finding a name along the path in resolve_find.c (resolve_impl.h). *
 * At 610 lines: what is left here is the walk and --collect, which needs it.
 */
#include "resolve_impl.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/analyze/hooks.h"
#include "bundle/analyze/scan.h"
#include "bundle/util/util.h"

/* Records that module from's module-level code imports module to. */
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
    resolve_top_of(target, ttop, sizeof ttop);
    resolve_top_of(m->name, mtop, sizeof mtop);
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
            resolve_string_rule(g, mi, im);
        else if (im->flags & SCAN_PREFIX)
            resolve_prefix_rule(g, mi, im);
        else if (im->flags & SCAN_DIST)
            resolve_dist_rule(g, mi, im);
        else if (im->flags & SCAN_PROTOCOL)
            resolve_protocol_rule(g, mi, im->module);
        else
            resolve_selfdir_rule(g, mi, im->module);
        return false;
    }

    if (im->level > 0) {
        char *base = resolve_relative_base(&g->mods[mi], im->level);
        if (!base) {
            if (g->mods[mi].is_app)
                resolve_warn(g, "%s:%d: relative import beyond the top-level package", g->mods[mi].name, im->line);
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
    if ((im->flags & SCAN_IN_DEF) && !g->mods[mi].is_app && resolve_lazily_denied(target) &&
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
    /* the script runs as __main__, its main() too, as a rule */
    bool eager = !(im->flags & (mi == 0 ? SCAN_DYNAMIC : SCAN_IN_DEF | SCAN_IN_SCRIPT | SCAN_DYNAMIC));
    size_t before = g->n;
    long t = resolve_request(g, target, optional, (long)mi, im->line, (im->flags & SCAN_DYNAMIC) != 0);
    /* imported after all; what it imports in turn is no rule's guess.  (A
     * module reached only from inside functions is not speculative: console
     * entry points import the whole app that way, httpie's main.) */
    if (t >= 0)
        g->mods[t].by_string = g->mods[t].hinted = false;
    on_path(g, mi, t, before, optpath);
    if (eager)
        add_eager(g, mi, t);
    if (t >= 0 && im->names && resolve_is_package(&g->mods[t])) {
        for (size_t k = 0; k < im->nnames; k++) {
            char *sub = NULL;
            if (strcmp(im->names[k], "*") == 0)
                continue;
            if (asprintf(&sub, "%s.%s", target, im->names[k]) < 0)
                continue;
            size_t before_sub = g->n;
            long st = resolve_request(g, sub, optional, (long)mi, im->line, true);
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
        resolve_ext_rule(g, mi);
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
        resolve_warn(g, "%s", e2.msg);
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
        resolve_warn(g, "%s:%d: %s (module %s left out)", g->mods[mi].path, line, e2.msg, g->mods[mi].name);
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
    g->scanning = &r; /* for resolve_selfdir_rule's imported_as */
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
    resolve_string_pairs_rule(g, mi, &r);
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
        resolve_request_deepest(g, real, (long)i, 0);
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
        add_eager(g, i, resolve_request(g, *m, true, (long)i, 0, true));
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
    resolve_request(g, name, false, -1, 0, false);
    return walk(g, before, err);
}

int resolve_add_soft(struct graph *g, const char *name, struct err *err)
{
    size_t before = g->n;
    if (graph_find(g, name) >= 0)
        return 0;
    resolve_request_deepest(g, name, -1, 0);
    return walk(g, before, err);
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
            resolve_pickle_walk(g, dir, top, i, 0);
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
    resolve_make_disk(g, idx, -1);
    resolve_note(g, "package %s goes to disk as files: %s", g->mods[idx].name, why);
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
            resolve_request(g, sub, true, -1, 0, true);
            free(sub);
        }
    }
    for (size_t k = 0; k < subdirs.n; k++) {
        char *sub = NULL, *path = util_join(dir, subdirs.v[k]);
        if (path && asprintf(&sub, "%s.%s", prefix, subdirs.v[k]) >= 0) {
            long idx = resolve_request(g, sub, true, -1, 0, true);
            if (idx >= 0 && resolve_is_package(&g->mods[idx])) {
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
    long p = resolve_request(g, name, false, -1, 0, true);

    if (p < 0 || !resolve_is_package(&g->mods[p]))
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
        qsort(g->groups.v, g->groups.n, sizeof *g->groups.v, resolve_cmp_strp);

    idx = resolve_add_module(g, strdup(entry_name), MOD_SOURCE, strdup(real));
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
