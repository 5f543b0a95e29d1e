/* resolve_ext.c - what a compiled extension module imports: the module
 * names its C code holds as strings (elfstr.h), kept where the extension
 * may import them.  Built on resolve_find.c; resolve.c calls
 * resolve_ext_rule. */
#include "resolve_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/analyze/elfstr.h"
#include "bundle/util/util.h"

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
        if (((g->probe->stdlib && resolve_under_dir(dir, g->probe->stdlib)) ||
             (g->probe->platstdlib && resolve_under_dir(dir, g->probe->platstdlib))) &&
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
            char *p = resolve_join3(g->roots.v[r], top, g->probe->ext_suffixes.v[k]);
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
    if (resolve_lazily_denied(top))
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
    return resolve_sorted_has(stdlib_tops(c->g), top);
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

    if (!strchr(name, '.') && c->pkg >= 0 && resolve_sorted_has(resolve_children(g, (size_t)c->pkg), name) &&
        !resolve_test_name(name)) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", g->mods[c->pkg].name, name) >= 0) {
            t = resolve_request(g, sub, true, (long)c->mi, 0, true);
            free(sub);
        }
    }
    if (t < 0 && strchr(name, '.') && ext_may_import(c, resolve_top_of(name, top, sizeof top)))
        t = resolve_request_deepest(g, name, (long)c->mi, 0);
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
        resolve_request(c->g, name, true, (long)c->mi, 0, true);
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

void resolve_ext_rule(struct graph *g, size_t mi)
{
    char top[256];
    struct err e = {0};
    struct ext_ctx c = {g, mi, resolve_own_package(g, mi), NULL, NULL, 0};
    c.top = resolve_top_of(g->mods[mi].name, top, sizeof top);
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
            resolve_request(g, n, true, (long)mi, 0, true);
            c.added += g->n - before;
        }
    }
    if (c.added)
        resolve_note(g, "%s: its C code names %zu more modules", g->mods[mi].name, c.added);
}
