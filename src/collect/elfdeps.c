/* elfdeps.c - the shared-library closure of ELF objects, found the way
 * ld.so finds it: the search order of DT_RPATH, LD_LIBRARY_PATH,
 * DT_RUNPATH, ld.so.conf and the default directories, and the host base
 * that is never part of it.  Each file is read by elfdeps_read.c.
 */
#include "elfdeps_impl.h"

#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what this host's ld.so loads ---------------------------------------- */

/* Where ld.so looks after the paths of the objects and of ld.so.cache. */
static const char *const default_dirs[] = {
    "/lib/" HOST_MULTIARCH, "/usr/lib/" HOST_MULTIARCH,
    "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

#define LD_SO_CONF "/etc/ld.so.conf"
#define LD_SO_CONF_DEPTH 8 /* include nesting; stops include loops */

/* ---- the host base ------------------------------------------------------- */

int elfdeps_is_host_base(const char *soname)
{
    static const char *const exact[] = {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
        "librt.so.1", "libutil.so.1", "libresolv.so.2", "libnsl.so.1",
        "libanl.so.1", "libmvec.so.1", "libBrokenLocale.so.1",
        "libthread_db.so.1",
    };
    const char *base;

    if (!soname)
        return 0;
    /* A path to glibc is still glibc: the host has its own. */
    base = strrchr(soname, '/');
    base = base ? base + 1 : soname;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(base, exact[i]) == 0)
            return 1;
    if (strncmp(base, "libnss_", 7) == 0 || strncmp(base, "linux-vdso", 10) == 0)
        return 1;
    /* ld-linux*.so.* : ld-linux.so.2, ld-linux-x86-64.so.2, ... */
    if (strncmp(base, "ld-linux", 8) == 0 && strstr(base + 8, ".so."))
        return 1;
    return 0;
}

/* ---- the closure --------------------------------------------------------- */

#define NO_LOADER SIZE_MAX

/* One loaded object: a root or a library found for some DT_NEEDED. */
struct node {
    struct elfdeps_info info;
    char *path;           /* realpath */
    struct strvec names;  /* names it was asked for, first one first */
    size_t loader;        /* the node whose DT_NEEDED loaded it first */
    size_t *deps;         /* nodes it needs, in DT_NEEDED order */
    size_t ndeps;
    int root;
    int mark;             /* post-order walk: 0 new, 1 on the stack, 2 done */
};

struct graph {
    struct node *v;
    size_t n, cap;
    struct strvec envdirs; /* LD_LIBRARY_PATH */
    struct strvec sysdirs; /* ld.so.conf, then the defaults */
    struct strvec missing;
};

static void node_release(struct node *nd)
{
    elfdeps_info_release(&nd->info);
    free(nd->path);
    strvec_release(&nd->names);
    free(nd->deps);
}

/* Adds a node; takes info and path (also on failure).  Returns its index or
 * -1 (ENOMEM). */
static long graph_add(struct graph *g, struct elfdeps_info *info, char *path,
                      const char *name, size_t loader)
{
    struct node *nd;

    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct node *v = realloc(g->v, cap * sizeof *v);
        if (!v) {
            elfdeps_info_release(info);
            free(path);
            return -1;
        }
        g->v = v;
        g->cap = cap;
    }
    nd = &g->v[g->n];
    memset(nd, 0, sizeof *nd);
    nd->info = *info;
    nd->path = path;
    nd->loader = loader;
    nd->root = loader == NO_LOADER;
    if (!(nd->deps = calloc(info->nneeded + 1, sizeof *nd->deps)) ||
        (name && strvec_push(&nd->names, name) < 0)) {
        node_release(nd);
        return -1;
    }
    return (long)g->n++;
}

static long graph_by_name(const struct graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct node *nd = &g->v[i];
        if ((nd->info.soname && strcmp(nd->info.soname, name) == 0) ||
            strvec_find(&nd->names, name) >= 0)
            return (long)i;
    }
    return -1;
}

static long graph_by_path(const struct graph *g, const char *path)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].path, path) == 0)
            return (long)i;
    return -1;
}

static int conf_read(const char *file, int depth, struct strvec *dirs);

/* Reads the files an include pattern matches; relative patterns are relative
 * to the directory of the including file, as ldconfig has them. */
static int conf_include(const char *file, const char *pat, int depth, struct strvec *dirs)
{
    const char *slash = strrchr(file, '/');
    char *full = NULL;
    glob_t gl;
    int rc = 0;

    if (*pat != '/' && slash &&
        asprintf(&full, "%.*s/%s", (int)(slash - file), file, pat) < 0)
        return -1;
    if (glob(full ? full : pat, 0, NULL, &gl) == 0) {
        for (size_t i = 0; rc == 0 && i < gl.gl_pathc; i++)
            rc = conf_read(gl.gl_pathv[i], depth + 1, dirs);
        globfree(&gl);
    }
    free(full);
    return rc;
}

/* Reads one ld.so.conf file into dirs: one directory a line, '#' comments,
 * "include PATTERN..." lines.  An unreadable file adds nothing. */
static int conf_read(const char *file, int depth, struct strvec *dirs)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (depth > LD_SO_CONF_DEPTH || !(f = fopen(file, "re")))
        return 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        char *s = line, *end;
        s[strcspn(s, "#\n")] = '\0';
        s += strspn(s, " \t");
        for (end = s + strlen(s); end > s && (end[-1] == ' ' || end[-1] == '\t'); )
            *--end = '\0';
        if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
            char *rest = s + 8, *pat;
            while (rc == 0 && (pat = strsep(&rest, " \t")))
                if (*pat)
                    rc = conf_include(file, pat, depth, dirs);
        } else if (*s == '/' && strvec_find(dirs, s) < 0) {
            rc = strvec_push(dirs, s);
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static int graph_dirs(struct graph *g)
{
    const char *env = getenv("LD_LIBRARY_PATH");

    /* glibc splits LD_LIBRARY_PATH on ':' and ';'; empty means "." (dropped) */
    while (env && *env) {
        size_t n = strcspn(env, ":;");
        if (n > 0 && strvec_push_owned(&g->envdirs, strndup(env, n)) < 0)
            return -1;
        env += n + (env[n] != '\0');
    }
    if (conf_read(LD_SO_CONF, 0, &g->sysdirs) < 0)
        return -1;
    for (size_t i = 0; i < sizeof default_dirs / sizeof default_dirs[0]; i++)
        if (strvec_find(&g->sysdirs, default_dirs[i]) < 0 &&
            strvec_push(&g->sysdirs, default_dirs[i]) < 0)
            return -1;
    return 0;
}

/* Opens file as the library asked for as name by node `from`.  Returns 0
 * with *idx set, 1 when the file is absent or not loadable here, -1 on
 * ENOMEM. */
static int try_file(struct graph *g, const char *file, const char *name, size_t from,
                    size_t *idx)
{
    struct elfdeps_info info;
    struct err e;
    char *real = realpath(file, NULL);
    long k;

    if (!real)
        return errno == ENOMEM ? -1 : 1;
    if ((k = graph_by_path(g, real)) >= 0) {
        free(real);
        if (strvec_find(&g->v[k].names, name) < 0 && strvec_push(&g->v[k].names, name) < 0)
            return -1;
        *idx = (size_t)k;
        return 0;
    }
    if (elfdeps_read(real, &info, &e) < 0) {
        free(real);
        return e.errnum == ENOMEM ? -1 : 1;
    }
    if ((k = graph_add(g, &info, real, name, from)) < 0)
        return -1;
    *idx = (size_t)k;
    return 0;
}

static int try_dirs(struct graph *g, char *const *dirs, size_t ndirs, const char *name,
                    size_t from, size_t *idx)
{
    for (size_t i = 0; i < ndirs; i++) {
        char *file;
        int rc;
        if (asprintf(&file, "%s/%s", dirs[i], name) < 0)
            return -1;
        rc = try_file(g, file, name, from, idx);
        free(file);
        if (rc <= 0)
            return rc;
    }
    return 1;
}

/* Finds name for node `from` in ld.so's order.  0 found, 1 not, -1 ENOMEM. */
static int search(struct graph *g, const char *name, size_t from, size_t *idx)
{
    int rc;

    if (strchr(name, '/')) {
        /* a path: ld.so expands $ORIGIN in it and opens it as it stands */
        char *dir = strdup(g->v[from].path), *file;
        if (!dir)
            return -1;
        *strrchr(dir, '/') = '\0'; /* the path is a realpath() */
        file = elfdeps_dst_expand(name, dir);
        free(dir);
        if (!file)
            return -1;
        rc = try_file(g, file, name, from, idx);
        free(file);
        return rc;
    }
    /* DT_RPATH of the requester and its loaders, unless it has DT_RUNPATH;
     * a loader with DT_RUNPATH has no DT_RPATH to ld.so either */
    if (g->v[from].info.nrunpath == 0) {
        for (size_t l = from; l != NO_LOADER; l = g->v[l].loader) {
            const struct elfdeps_info *in = &g->v[l].info;
            if (in->nrunpath == 0 &&
                (rc = try_dirs(g, in->rpath, in->nrpath, name, from, idx)) <= 0)
                return rc;
        }
    }
    if ((rc = try_dirs(g, g->envdirs.v, g->envdirs.n, name, from, idx)) <= 0)
        return rc;
    if ((rc = try_dirs(g, g->v[from].info.runpath, g->v[from].info.nrunpath, name, from,
                       idx)) <= 0)
        return rc;
    return try_dirs(g, g->sysdirs.v, g->sysdirs.n, name, from, idx);
}

/* Resolves the DT_NEEDED of every node, breadth first as ld.so loads. */
static int graph_resolve(struct graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->v[i].info.nneeded; j++) {
            const char *name = g->v[i].info.needed[j];
            size_t idx;
            long k;
            int rc;

            if (elfdeps_is_host_base(name))
                continue;
            if ((k = graph_by_name(g, name)) >= 0) {
                idx = (size_t)k;
            } else if ((rc = search(g, name, i, &idx)) < 0) {
                return -1;
            } else if (rc > 0) {
                if (strvec_find(&g->missing, name) < 0 && strvec_push(&g->missing, name) < 0)
                    return -1;
                continue;
            }
            if (idx != i)
                g->v[i].deps[g->v[i].ndeps++] = idx;
        }
    }
    return 0;
}

/* Lists the non-root nodes after everything they need (post-order from each
 * root; an edge back into the stack closes a cycle and is ignored). */
static int graph_order(struct graph *g, struct elfdeps_closure *c)
{
    struct frame { size_t node, next; } *stack = calloc(g->n, sizeof *stack);
    size_t top = 0;

    c->libs = calloc(g->n, sizeof *c->libs);
    if (!stack || !c->libs) {
        free(stack);
        return -1;
    }
    for (size_t r = 0; r < g->n; r++) {
        if (!g->v[r].root || g->v[r].mark)
            continue;
        g->v[r].mark = 1;
        stack[top++] = (struct frame){ r, 0 };
        while (top > 0) {
            struct frame *f = &stack[top - 1];
            struct node *nd = &g->v[f->node];
            if (f->next < nd->ndeps) {
                size_t d = nd->deps[f->next++];
                if (g->v[d].mark == 0) {
                    g->v[d].mark = 1;
                    stack[top++] = (struct frame){ d, 0 };
                }
                continue;
            }
            nd->mark = 2;
            top--;
            if (nd->root)
                continue;
            /* nodes were only ever added under a name */
            c->libs[c->n].name = nd->names.v[0];
            c->libs[c->n].path = nd->path;
            nd->names.v[0] = NULL;
            nd->path = NULL;
            c->n++;
        }
    }
    free(stack);
    return 0;
}

/* Moves the names that never resolved into c->missing. */
static void graph_missing(struct graph *g, struct elfdeps_closure *c)
{
    size_t keep = 0;

    for (size_t i = 0; i < g->missing.n; i++) {
        char *name = g->missing.v[i];
        if (graph_by_name(g, name) >= 0)
            free(name); /* another requester's path found it */
        else
            g->missing.v[keep++] = name;
    }
    g->missing.n = keep;
    c->missing = elfdeps_take(&g->missing, &c->nmissing);
}

static void graph_release(struct graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        node_release(&g->v[i]);
    free(g->v);
    strvec_release(&g->envdirs);
    strvec_release(&g->sysdirs);
    strvec_release(&g->missing);
}

int elfdeps_closure(const char *const *roots, size_t nroots,
                    struct elfdeps_closure *out, struct err *err)
{
    struct graph g = { 0 };
    struct elfdeps_closure c = { 0 };
    int rc = -1;

    for (size_t i = 0; i < nroots; i++) {
        struct elfdeps_info info;
        char *real = realpath(roots[i], NULL);

        if (!real) {
            err_set(err, errno, "cannot open '%s'", roots[i]);
            goto cleanup;
        }
        if (graph_by_path(&g, real) >= 0) {
            free(real);
            continue;
        }
        if (elfdeps_read(real, &info, err) < 0) {
            free(real);
            goto cleanup;
        }
        if (graph_add(&g, &info, real, NULL, NO_LOADER) < 0)
            goto nomem;
    }
    if (graph_dirs(&g) < 0 || graph_resolve(&g) < 0)
        goto nomem;
    graph_missing(&g, &c); /* before graph_order() takes the names */
    if (graph_order(&g, &c) < 0)
        goto nomem;
    for (size_t i = 0; i < g.n; i++)
        elfdeps_glibc_max(&c.glibc_major, &c.glibc_minor, g.v[i].info.glibc_major,
                  g.v[i].info.glibc_minor);
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
    goto cleanup;
nomem:
    err_set(err, ENOMEM, "cannot compute the library closure");
cleanup:
    elfdeps_closure_release(&c);
    graph_release(&g);
    return rc;
}

void elfdeps_closure_release(struct elfdeps_closure *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->libs[i].name);
        free(c->libs[i].path);
    }
    free(c->libs);
    c->libs = NULL;
    c->n = 0;
    elfdeps_free_strings(&c->missing, &c->nmissing);
    c->glibc_major = c->glibc_minor = 0;
}
