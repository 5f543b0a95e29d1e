/* resolve_rules.c - what no import statement says (scan.h's hints): the
 * rules that make soft imports of modules named by strings, computed
 * names, distributions and entry-point groups, a package's own directory,
 * a plugin protocol, and pickled data.  Each rule makes soft imports: a
 * name that is not there costs a look-up, never a warning.  The costs are
 * said at each rule; bench/packages measures them on real libraries.
 * Built on resolve_find.c; resolve.c calls the rules. */
#include "resolve_impl.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/util.h"

#define IS_NAME_BYTE(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || (c) == '_')

static void want_group(struct graph *g, size_t mi, const char *group);
static bool graph_find_or_exists(struct graph *g, const char *base, const char *sub);

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
           !resolve_test_name(im->module);
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
        resolve_sorted_has(resolve_children(g, (size_t)ui), s) &&
        asprintf(&dir, "%.*s/%s", (int)(strrchr(g->mods[ui].path, '/') - g->mods[ui].path), g->mods[ui].path,
                 s) >= 0 &&
        holds_data(dir) && asprintf(&sub, "%s.%s", up, s) >= 0 &&
        (t = resolve_request(g, sub, true, (long)mi, 0, true)) >= 0 && g->mods[t].kind == MOD_PACKAGE)
        resolve_make_disk(g, (size_t)t, (long)mi);
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
void resolve_string_rule(struct graph *g, size_t mi, const struct scan_import *im)
{
    const char *s = im->module;
    const struct module *m = &g->mods[mi];
    char top[256], mtop[256];

    /* not setuptools' build-time groups (distutils.commands...): no bundle runs setup() */
    if (resolve_sorted_has(&g->groups, s) && !resolve_lazily_denied(m->name))
        want_group(g, mi, s);
    if (strchr(s, '-'))
        return;
    if (im->level > 0) { /* ".legacy.client": a module relative to its own package */
        char *base = resolve_relative_base(m, im->level), *full = NULL;
        if (base && asprintf(&full, "%s.%s", base, s) >= 0 && graph_find(g, full) < 0 &&
            resolve_request_deepest(g, full, (long)mi, im->line) >= 0 && graph_find(g, full) >= 0)
            resolve_note(g, "%s: string \"%.*s%s\" names module %s", m->name, im->level, "........", s, full);
        free(base);
        free(full);
        return;
    }
    if (strchr(s, '.')) {
        /* the app's own code: any package of the app's own directory */
        long at = m->is_app ? graph_find(g, resolve_top_of(s, top, sizeof top)) : -1;
        bool app_pkg = at >= 0 && g->mods[at].is_app && resolve_is_package(&g->mods[at]);
        if (!app_pkg && (strcmp(resolve_top_of(s, top, sizeof top),
                                resolve_top_of(m->name, mtop, sizeof mtop)) != 0 ||
                         strcmp(m->name, "__main__") == 0 || mi == 0))
            return;
        long t;
        if (graph_find(g, s) < 0 && resolve_request_deepest(g, s, (long)mi, im->line) >= 0 &&
            (t = graph_find(g, s)) >= 0) {
            resolve_note(g, "%s: string \"%s\" names a module of its package", m->name, s);
            g->mods[t].by_string = g->mods[t].hinted = true;
        }
        return;
    }
    /* not in the stdlib: its packages name no plugins by bare names, and
     * their strings are keywords ("handlers" in logging.basicConfig) */
    long pi = resolve_own_package(g, mi);
    if (pi < 0 || resolve_test_name(s) || graph_in_stdlib(g, m))
        return;
    if (!resolve_sorted_has(resolve_children(g, (size_t)pi), s)) {
        data_dir_rule(g, mi, pi, s);
        return;
    }
    char *sub = NULL;
    if (asprintf(&sub, "%s.%s", g->mods[pi].name, s) < 0)
        return;
    long t;
    if (graph_find(g, sub) < 0 && (t = resolve_request(g, sub, true, (long)mi, im->line, true)) >= 0) {
        resolve_note(g, "%s: string \"%s\" names module %s", g->mods[mi].name, s, sub);
        g->mods[t].by_string = g->mods[t].hinted = true;
    }
    free(sub);
}

/* SCAN_STRING, pairs.  Two bare strings side by side on one line name a
 * sub-package of the module's package and a module in it: a dispatcher
 * that imports (package, module) pairs from a table, ('cext', 'parsers')
 * -> pkg.cext.parsers, the way mercurial.policy picks its C or
 * pure-Python modules.  Run after the single strings, so the sub-packages
 * are known.  Same bounds as the bare names of resolve_string_rule: not the
 * stdlib, not tests. */
void resolve_string_pairs_rule(struct graph *g, size_t mi, const struct scan_result *r)
{
    long pi = resolve_own_package(g, mi);
    if (pi < 0 || graph_in_stdlib(g, &g->mods[mi]))
        return;
    for (size_t k = 0; k + 1 < r->n; k++) {
        const struct scan_import *a = &r->imports[k], *b = &r->imports[k + 1];
        char *q = NULL, *sub = NULL;
        long qi, t;
        if (!bare_string(a) || !bare_string(b) || a->line != b->line || strcmp(a->module, b->module) == 0 ||
            asprintf(&q, "%s.%s", g->mods[pi].name, a->module) < 0)
            continue;
        if ((qi = graph_find(g, q)) >= 0 && resolve_is_package(&g->mods[qi]) &&
            resolve_sorted_has(resolve_children(g, (size_t)qi), b->module) &&
            asprintf(&sub, "%s.%s", q, b->module) >= 0 &&
            graph_find(g, sub) < 0 && (t = resolve_request(g, sub, true, (long)mi, b->line, true)) >= 0) {
            resolve_note(g, "%s: strings \"%s\", \"%s\" name module %s", g->mods[mi].name, a->module, b->module,
                         sub);
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
    const struct strvec *kids = resolve_children(g, pi);
    struct strvec names = STRVEC_INIT;
    size_t hl = strlen(head);
    if (depth > 16)
        return;
    for (size_t k = 0; k < kids->n; k++)
        if (strncmp(kids->v[k], head, hl) == 0 && !resolve_test_name(kids->v[k]) &&
            strcmp(kids->v[k], "__main__") != 0)
            strvec_push(&names, kids->v[k]);
    for (size_t k = 0; k < names.n; k++) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", g->mods[pi].name, names.v[k]) < 0)
            continue;
        bool known = graph_find(g, sub) >= 0;
        long c = resolve_request(g, sub, true, importer, line, true);
        free(sub);
        if (c >= 0) {
            g->mods[c].by_string = false;
            g->mods[c].hinted |= !known;
        }
        if (c >= 0 && resolve_is_package(&g->mods[c]))
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
void resolve_prefix_rule(struct graph *g, size_t mi, const struct scan_import *im)
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
        char *base = resolve_relative_base(&g->mods[mi], im->level);
        /* import_module("..x", package=__name__) in a module counts from the
         * module itself, one level below what a relative import would */
        if (!resolve_is_package(&g->mods[mi]) && (!base || !graph_find_or_exists(g, base, dot ? text : NULL))) {
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
        strcmp(resolve_top_of(pkg, top, sizeof top), resolve_top_of(g->mods[mi].name, mtop, sizeof mtop)) != 0 &&
        !scanning_imports(g, top)) {
        free(pkg);
        pkg = NULL;
    }
    long pi = pkg ? resolve_request_deepest(g, pkg, (long)mi, im->line) : -1;
    if (pi >= 0 && strcmp(g->mods[pi].name, pkg) == 0 && resolve_is_package(&g->mods[pi])) {
        size_t before = g->n;
        request_children(g, (size_t)pi, head, (long)mi, im->line, 0);
        if (g->n > before)
            resolve_note(g, "%s:%d: computed import of %s.%s*: %zu modules", g->mods[mi].name, im->line, pkg,
                         head, g->n - before);
        /* beside a directory listing: the package is found by listing it */
        if ((im->flags & SCAN_SELFDIR) && !graph_in_stdlib(g, &g->mods[mi]))
            resolve_make_disk(g, (size_t)pi, (long)mi);
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
    i = resolve_request_deepest(g, name, -1, 0);
    bool ok = i >= 0 && strcmp(g->mods[i].name, name) == 0;
    free(name);
    return ok;
}

/* Brings an entry point's target module. */
static long request_entry(struct graph *g, size_t mi, const struct dist_ep *ep, bool required)
{
    /* not "hinted": the host loads its plugins, and they load what they find */
    return resolve_request(g, ep->module, !required, (long)mi, 0, !required);
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
                resolve_note(g, "%s: entry-point group \"%s\" brings distribution %s", g->mods[mi].name, group,
                             di->name);
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
void resolve_dist_rule(struct graph *g, size_t mi, const struct scan_import *im)
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
            resolve_note(g, "%s:%d: entry point %s of %s is module %s", g->mods[mi].name, im->line, ep->name,
                         d->name, ep->module);
            request_entry(g, mi, ep, true);
        }
    }
}

/* Marks a package "disk" and brings all its submodules: its code lists
 * its own directory or loads files from it by path, so the directory must
 * exist with every file in it (build.c ships the package as files). */
void resolve_make_disk(struct graph *g, size_t pi, long importer)
{
    if (g->mods[pi].disk || g->mods[pi].kind != MOD_PACKAGE)
        return;
    g->mods[pi].disk = true;
    request_children(g, pi, "", importer, 0, 0);
    for (size_t i = 0; i < g->n; i++) {
        size_t l = strlen(g->mods[pi].name);
        if (i != pi && resolve_is_package(&g->mods[i]) && strncmp(g->mods[i].name, g->mods[pi].name, l) == 0 &&
            g->mods[i].name[l] == '.')
            g->mods[i].disk = true;
    }
    resolve_note(g, "package %s goes to disk as files: %s reaches its own directory by path", g->mods[pi].name,
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
                base = im->level ? resolve_relative_base(&g->mods[mi], im->level) : strdup(im->module);
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
void resolve_selfdir_rule(struct graph *g, size_t mi, const char *x)
{
    long pi = x[0] ? imported_as(g, mi, x) : resolve_own_package(g, mi);
    if (pi >= 0 && !resolve_is_package(&g->mods[pi]))
        return;
    /* the stdlib's packages that look at their own files (logging's
     * traceback filter) do not list them */
    if (pi >= 0 && !graph_in_stdlib(g, &g->mods[mi]))
        resolve_make_disk(g, (size_t)pi, (long)mi);
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
        if (de->d_name[0] != '.' && strcmp(de->d_name, "__pycache__") != 0 && !resolve_test_name(de->d_name))
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
            long t = graph_find(g, sub) < 0 ? resolve_request(g, sub, true, (long)mi, 0, true) : -1;
            if (t >= 0) {
                g->mods[t].hinted = true;
                resolve_note(g, "%s: loads modules that define %s() by computed names: %s", g->mods[mi].name,
                             name, sub);
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
void resolve_protocol_rule(struct graph *g, size_t mi, const char *name)
{
    char top[256], *key = NULL;
    long ti = graph_find(g, resolve_top_of(g->mods[mi].name, top, sizeof top));
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
            if (graph_find(g, name) < 0 && resolve_request_deepest(g, name, (long)pi, 0) >= 0 &&
                graph_find(g, name) >= 0)
                resolve_note(g, "%s: pickled data %s names module %s", g->mods[pi].name, path, name);
        }
    }
    free(buf);
}

void resolve_pickle_walk(struct graph *g, const char *dir, const char *top, size_t pi, int depth)
{
    DIR *d = depth < 16 ? opendir(dir) : NULL;
    struct dirent *de;
    struct strvec subdirs = STRVEC_INIT;
    while (d && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (n[0] == '.' || resolve_test_name(n) || strcmp(n, "__pycache__") == 0 ||
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
        resolve_pickle_walk(g, subdirs.v[k], top, pi, depth + 1);
    strvec_release(&subdirs);
}
