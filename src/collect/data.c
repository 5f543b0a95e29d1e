/* data.c - what a bundle carries beside code: package data files (by
 * package, by tree, or a whole package on disk), --add-data and --collect,
 * and distribution metadata. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bundle/collect/boot.h"
#include "bundle/cli/cli.h"
#include "bundle/util/crc32c.h"
#include "bundle/analyze/dists.h"
#include "bundle/collect/elfdeps.h"
#include "bundle/emit/link.h"
#include "bundle/deploy/marathon.h"
#include "bundle/emit/pack.h"
#include "bundle/payload.h"
#include "bundle/analyze/probe.h"
#include "bundle/collect/pyc.h"
#include "bundle/collect/pyz.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/sha256.h"
#include "bundle/util/temp.h"
#include "bundle/analyze/trace.h"
#include "bundle/util/util.h"

#include "../build_impl.h"

static bool has_suffix(const char *n, const char *const *suffixes, size_t count)
{
    size_t l = strlen(n);
    for (size_t i = 0; i < count; i++) {
        size_t sl = strlen(suffixes[i]);
        if (l >= sl && strcmp(n + l - sl, suffixes[i]) == 0)
            return true;
    }
    return false;
}

/* File names that are never package data: code (bundled as code, or not
 * needed at run time) and shared objects (the ELF closure brings those);
 * but for a package shipped as files (sources), its .py files and the like.
 * Unless every file is asked for (--collect, --add-data): also what only a
 * compiler reads, C headers and sources and static libraries (numpy's
 * include/ and lib/ are 1 MB of them). */
bool build_code_file(const char *n, bool sources, bool all)
{
    /* all: every file but compiled code (--collect, --add-data, and a
     * package shipped as files: code that reads its directory may read
     * the C files of Cython's Utility as well as its .pyx) */
    static const char *const compiled[] = {".pyc", ".pyo", ".so"};
    static const char *const source[] = {".py", ".pyi", ".pxd", ".pyx"};
    static const char *const compiler[] = {".pxi", ".c", ".h", ".cc", ".cpp", ".hpp", ".a"};
    return has_suffix(n, compiled, 3) || strstr(n, ".so.") != NULL || (!sources && has_suffix(n, source, 4)) ||
           (!all && has_suffix(n, compiler, 7));
}

/* Adds one data file as site/REL, unless --exclude-data matches REL. */
int build_add_data_file(struct build *b, const char *path, const char *rel)
{
    char *p;
    for (size_t i = 0; i < b->o->exclude_data.n; i++)
        if (fnmatch(b->o->exclude_data.v[i], rel, 0) == 0)
            return 0;
    if (!payload_path_safe(rel, strlen(rel))) {
        build_warn(b, 0, "'%s' left out: its name cannot be unpacked safely", path);
        return 0;
    }
    if (!(p = strdup(path)) || strvec_push_owned(&b->paths, p) != 0)
        return err_set(b->err, ENOMEM, "out of memory");
    b->n_data++;
    return build_add_entry(b, build_strdupf("_native/site/%s", rel), p, NULL, 0, false);
}

/* Whether the package at REL (a/b/c under site/) ships as files: it is
 * walked on its own, as DATA_DISK. */
static bool disk_dir(const struct build *b, const char *rel)
{
    char *name = strdup(rel);
    long i;
    if (!name)
        return false;
    for (char *p = name; *p; p++)
        if (*p == '/')
            *p = '.';
    i = graph_find(&b->graph, name);
    free(name);
    return i >= 0 && b->graph.mods[i].disk;
}


/* Walks dir, adding its files as REL_PREFIX/... as mode says. */
int build_add_data_tree(struct build *b, const char *dir, const char *rel_prefix, enum data_mode mode, int depth)
{
    bool all = mode == DATA_ALL;
    /* below a package, a directory with no __init__.py holds no modules:
     * its .py files are data (vulture's whitelists/, templates) */
    char *here_init = depth > 0 ? util_join(dir, "__init__.py") : NULL;
    bool plain = here_init && !util_is_file(here_init);
    free(here_init);
    DIR *d;
    struct dirent *de;
    struct strvec names = STRVEC_INIT;
    int rc = 0;

    if (depth > 32 || !(d = opendir(dir)))
        return 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strvec_push(&names, de->d_name) != 0)
            rc = err_set(b->err, ENOMEM, "out of memory");
    closedir(d);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        const char *n = names.v[i];
        char *path = util_join(dir, n);
        char *rel = rel_prefix[0] ? build_strdupf("%s/%s", rel_prefix, n) : strdup(n);
        if (!path || !rel) {
            rc = err_set(b->err, ENOMEM, "out of memory");
        } else if (util_is_dir(path)) {
            char *init = util_join(path, "__init__.py");
            bool pkg = init && util_is_file(init);
            bool skip = strcmp(n, "__pycache__") == 0 ||
                        (!all && (strcmp(n, "tests") == 0 || strcmp(n, "test") == 0 ||
                                  (mode == DATA_OWN && pkg) || (mode == DATA_TREE && pkg && disk_dir(b, rel))));
            if (!skip)
                rc = build_add_data_tree(b, path, rel, mode, depth + 1);
            free(init);
        } else if (util_is_file(path) && !build_code_file(n, mode == DATA_DISK || plain, all || mode == DATA_DISK)) {
            rc = build_add_data_file(b, path, rel);
        }
        free(path);
        free(rel);
    }
    strvec_release(&names);
    return rc;
}

/* The package m is in, or NULL. */
const struct module *build_parent_of(const struct graph *g, const struct module *m)
{
    const char *dot = strrchr(m->name, '.');
    char *pn = dot ? strndup(m->name, (size_t)(dot - m->name)) : NULL;
    long pi = pn ? graph_find(g, pn) : -1;
    free(pn);
    return pi >= 0 ? &g->mods[pi] : NULL;
}

/* The package a walk of the whole tree starts from: the outermost regular
 * package around m (a namespace package's portions can be anything). */
static const struct module *tree_root(const struct graph *g, const struct module *m)
{
    const struct module *root = m;
    char *name = strdup(m->name);
    for (char *dot = name ? strrchr(name, '.') : NULL; dot; dot = strrchr(name, '.')) {
        *dot = '\0';
        long p = graph_find(g, name);
        if (p < 0 || (g->mods[p].kind != MOD_PACKAGE && !(g->mods[p].kind == MOD_EXTENSION && g->mods[p].search.n)))
            break;
        root = &g->mods[p];
    }
    free(name);
    return root;
}

/* Package files of every bundled package, then --add-data.  Data is every
 * non-code file in the tree of a package the app imports, sub-packages
 * that nothing imports included (a data/ package of word lists read by
 * path), tests excluded; the stdlib's packages keep their own files only
 * (its trees hold test suites and wheels).  A "disk" package ships its
 * sources too. */
int collect_data(struct build *b)
{
    const struct graph *g = &b->graph;
    for (size_t i = 0; i < g->n; i++) {
        const struct module *m = &g->mods[i];
        enum data_mode mode = m->collect ? DATA_ALL : DATA_OWN;
        if ((m->kind != MOD_PACKAGE && m->kind != MOD_NAMESPACE && m->kind != MOD_EXTENSION) || m->excluded ||
            !m->search.n)
            continue;
        if (m->kind != MOD_NAMESPACE && !m->collect && !graph_in_stdlib(g, m)) {
            /* once per tree: from its top, or from its outermost disk package */
            const struct module *parent = build_parent_of(g, m);
            if (m->disk ? parent && parent->disk : tree_root(g, m) != m)
                continue;
            mode = m->disk ? DATA_DISK : DATA_TREE;
            /* code that takes a file path back to a module name (astroid's
             * modpath_from_file) needs the __init__.py of each package above */
            for (const struct module *up = m->disk ? build_parent_of(g, m) : NULL; up; up = build_parent_of(g, up)) {
                char *rel = up->path ? build_strdupf("%s/__init__.py", up->name) : NULL;
                for (char *p = rel; p && *p && strcmp(p, "/__init__.py") != 0; p++)
                    *p = *p == '.' ? '/' : *p;
                int rc = rel && strcmp(util_base_name(up->path), "__init__.py") == 0 ? build_add_data_file(b, up->path, rel) : 0;
                free(rel);
                if (rc != 0)
                    return -1;
            }
        }
        char *rel = strdup(m->name);
        if (!rel)
            return err_set(b->err, ENOMEM, "out of memory");
        for (char *p = rel; *p; p++)
            if (*p == '.')
                *p = '/';
        /* a namespace package's files are in all its portions */
        int rc = 0;
        for (size_t k = 0; k < (m->kind == MOD_NAMESPACE ? m->search.n : 1) && rc == 0; k++)
            rc = build_add_data_tree(b, m->search.v[k], rel, mode, 0);
        free(rel);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < b->o->add_data.n; i++) {
        char *src = strdup(b->o->add_data.v[i]);
        if (!src)
            return err_set(b->err, ENOMEM, "out of memory");
        char *colon = strrchr(src, ':');
        const char *dest = colon + 1;
        *colon = '\0';
        char *rel = strcmp(dest, ".") == 0 ? strdup("") : strdup(dest);
        while (rel && *rel && rel[strlen(rel) - 1] == '/')
            rel[strlen(rel) - 1] = '\0';
        int rc;
        if (!rel) {
            rc = err_set(b->err, ENOMEM, "out of memory");
        } else if (util_is_dir(src)) {
            rc = build_add_data_tree(b, src, rel, DATA_ALL, 0);
        } else if (util_is_file(src)) {
            char *full = rel[0] ? build_strdupf("%s/%s", rel, util_base_name(src)) : strdup(util_base_name(src));
            rc = full ? build_add_data_file(b, src, full) : err_set(b->err, ENOMEM, "out of memory");
            free(full);
        } else {
            rc = err_usage(b->err, "--add-data: cannot read '%s': %s", src, strerror(errno ? errno : ENOENT));
        }
        free(rel);
        free(src);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The metadata (*.dist-info, *.egg-info) of every distribution whose
 * modules are bundled, or that bundled code asks for by name or by an
 * entry-point group (the resolver's "wanted"), so importlib.metadata's
 * version(), entry points and launchers work: it goes to site/, which is on
 * sys.path.  The whole directory but what only installers read. */
int collect_metadata(struct build *b)
{
    static const char *const skip[] = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "SOURCES.txt",
                                       "installed-files.txt", "dependency_links.txt", "WHEEL"};
    const struct dists *ds = &b->graph.dists;
    for (size_t i = 0; i < ds->n; i++) {
        const struct dist *d = &ds->v[i];
        bool used = d->wanted;
        for (size_t t = 0; t < d->tops.n && !used; t++) {
            long idx = graph_find(&b->graph, d->tops.v[t]);
            used = idx >= 0 && b->graph.mods[idx].kind != MOD_MISSING && b->graph.mods[idx].kind != MOD_BUILTIN;
        }
        if (!used)
            continue;
        DIR *dir = opendir(d->dir);
        struct dirent *de;
        const char *base = strrchr(d->dir, '/') ? strrchr(d->dir, '/') + 1 : d->dir;
        if (!dir && util_is_file(d->dir) && build_add_data_file(b, d->dir, base) != 0) /* an egg-info file */
            return -1;
        while (dir && (de = readdir(dir)) != NULL) {
            bool keep = de->d_name[0] != '.';
            for (size_t k = 0; keep && k < sizeof skip / sizeof skip[0]; k++)
                keep = strcmp(de->d_name, skip[k]) != 0;
            char *f = keep ? util_join(d->dir, de->d_name) : NULL, *rel = keep ? build_strdupf("%s/%s", base, de->d_name) : NULL;
            int rc = keep && (!f || !rel) ? err_set(b->err, ENOMEM, "out of memory")
                     : f && util_is_file(f) ? build_add_data_file(b, f, rel) : 0;
            free(f);
            free(rel);
            if (rc != 0) {
                closedir(dir);
                return -1;
            }
        }
        if (dir)
            closedir(dir);
    }
    return 0;
}

