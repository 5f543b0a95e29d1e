/* modules.c - the Python modules of a bundle: the start-up and absent-module
 * sources written out, every module compiled, and the pyz index of them
 * (pure-Python code, extension modules' paths, namespace packages). */
#include "../build_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/collect/boot.h"
#include "bundle/payload.h"
#include "bundle/collect/pyc.h"
#include "bundle/collect/pyz.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/strvec.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

int make_boot(struct build *b)
{
    int fd;

    b->boot_file = build_strdupf("%s/bundle-boot-XXXXXX.py", temp_dir());
    if (!b->boot_file || (fd = temp_make_file(b->boot_file, 3, O_CLOEXEC)) < 0) {
        free(b->boot_file);
        b->boot_file = NULL;
        return err_set(b->err, errno, "cannot create a temp file in %s", temp_dir());
    }
    if (util_write_all(fd, bundle_boot_source, bundle_boot_source_len) != 0) {
        close(fd);
        return err_set(b->err, errno, "cannot write '%s'", b->boot_file);
    }
    close(fd);
    return 0;
}

bool build_absent_name(const struct graph *g, const char *name)
{
    long i = graph_find(g, name);
    return i < 0 || g->mods[i].kind == MOD_MISSING || g->mods[i].excluded;
}

/* NAMES go into a Python string literal: plain names only */
static bool plain_name(const char *n)
{
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(n);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The module PAYLOAD_ABSENT_MODULE: NAMES, every module name the build
 * machine has and the bundle left out, that a failed import can say so
 * (boot.c).  That is each top-level module along the search path, and each
 * submodule of a bundled package, that is not bundled. */
int make_absent(struct build *b)
{
    struct graph *g = &b->graph;
    struct buf src = {0};
    struct strvec seen = STRVEC_INIT;
    int fd, rc = -1;

    if (buf_printf(&src, "NAMES = '") != 0)
        goto out;
    for (size_t r = 0; r < g->roots.n; r++)
        resolve_dir_modules(g, g->roots.v[r], &seen);
    if (seen.n)
        qsort(seen.v, seen.n, sizeof *seen.v, cmp_str);
    for (size_t i = 0; i < seen.n; i++) {
        if (plain_name(seen.v[i]) && (i == 0 || strcmp(seen.v[i - 1], seen.v[i]) != 0) &&
            build_absent_name(g, seen.v[i]) && buf_printf(&src, "%s ", seen.v[i]) != 0)
            goto out;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (g->mods[i].kind != MOD_PACKAGE || g->mods[i].excluded)
            continue;
        const struct strvec *kids = resolve_children(g, i);
        for (size_t k = 0; k < kids->n; k++) {
            char *sub = build_strdupf("%s.%s", g->mods[i].name, kids->v[k]);
            int bad = !sub ||
                      (plain_name(kids->v[k]) && build_absent_name(g, sub) && buf_printf(&src, "%s ", sub) != 0);
            free(sub);
            if (bad)
                goto out;
        }
    }
    if (buf_printf(&src, "'\n") != 0)
        goto out;
    rc = 0;
out:
    strvec_release(&seen);
    if (rc != 0) {
        buf_release(&src);
        return err_set(b->err, ENOMEM, "out of memory");
    }
    b->absent_file = build_strdupf("%s/bundle-absent-XXXXXX.py", temp_dir());
    if (!b->absent_file || (fd = temp_make_file(b->absent_file, 3, O_CLOEXEC)) < 0) {
        free(b->absent_file);
        b->absent_file = NULL;
        buf_release(&src);
        return err_set(b->err, errno, "cannot create a temp file in %s", temp_dir());
    }
    rc = util_write_all(fd, src.data, src.len) == 0 ? 0 : err_set(b->err, errno, "cannot write '%s'", b->absent_file);
    close(fd);
    buf_release(&src);
    return rc;
}

int compile_modules(struct build *b)
{
    size_t n = 0;

    b->jobs = calloc(b->graph.n + 2, sizeof *b->jobs);
    if (!b->jobs)
        return err_set(b->err, ENOMEM, "out of memory");
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        if ((m->kind != MOD_SOURCE && m->kind != MOD_PACKAGE) || m->excluded)
            continue;
        b->jobs[n].src = m->path;
        b->jobs[n].dfile = m->is_app ? m->app_rel : NULL;
        b->jobs[n].force = m->is_app;
        n++;
    }
    b->jobs[n].src = b->absent_file;
    b->jobs[n].dfile = PAYLOAD_ABSENT_MODULE ".py";
    b->jobs[n].force = true;
    n++;
    b->jobs[n].src = b->boot_file;
    /* the import system's own name: Python trims its frames from the
     * traceback of an ImportError, as it does importlib's */
    b->jobs[n].dfile = "<frozen importlib._bootstrap_external>";
    b->jobs[n].force = true;
    b->njobs = ++n;
    if (pyc_build(&b->probe, b->o->debug_ranges, b->jobs, b->njobs, b->err) != 0)
        return -1;
    size_t reused = 0, cached = 0;
    for (size_t k = 0; k + 2 < b->njobs; k++) /* the app's and its libraries', not the two made here */
        reused += b->jobs[k].reused, cached += b->jobs[k].cached;
    if (cached)
        build_say(b, 1, "%zu modules compiled, %zu reused from __pycache__, %zu read from the builder's cache",
                  b->njobs - 2 - reused - cached, reused, cached);
    else
        build_say(b, 1, "%zu modules compiled, %zu reused from __pycache__", b->njobs - 2 - reused, reused);
    return 0;
}

static int cmp_item(const void *x, const void *y)
{
    return strcmp(((const struct pyz_item *)x)->name, ((const struct pyz_item *)y)->name);
}

/* An extension module's path in the cache entry: in its package's
 * directory under site/ (sys._MEIPASS), as the package's files are. */
char *build_ext_rel(const struct module *m)
{
    char *pkgdir = strdup(m->name), *rel;
    char *dot = pkgdir ? strrchr(pkgdir, '.') : NULL;
    if (!pkgdir)
        return NULL;
    if (strncmp(util_base_name(m->path), "__init__.", 9) == 0) {
        /* an extension package (mypyc compiles __init__.py): in its own directory */
        for (char *p = pkgdir; *p; p++)
            if (*p == '.')
                *p = '/';
        rel = build_strdupf("site/%s/%s", pkgdir, util_base_name(m->path));
        free(pkgdir);
        return rel;
    }
    if (dot) {
        *dot = '\0';
        for (char *p = pkgdir; *p; p++)
            if (*p == '.')
                *p = '/';
    }
    rel = dot ? build_strdupf("site/%s/%s", pkgdir, util_base_name(m->path)) : build_strdupf("site/%s", util_base_name(m->path));
    free(pkgdir);
    return rel;
}

/* Whether a module's source ships as a file: it is, or is in, a package
 * the resolver marked "disk". */

static bool on_disk(const struct graph *g, const struct module *m)
{
    const struct module *p = m->kind == MOD_PACKAGE ? m : build_parent_of(g, m);
    return p && p->disk;
}

/* Every module goes into the pyz index: pure-Python ones with their code,
 * read in place; extension modules with their path in the cache entry; the
 * start-up module, which the stub runs first, under its own name. */
int collect_python(struct build *b)
{
    struct pyz_item *items = calloc(b->graph.n + 2, sizeof *items);
    struct strvec rels = STRVEC_INIT;
    size_t k = 0, nitems = 0;
    int rc = -1;

    if (!items) {
        err_set(b->err, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < b->graph.n; i++) {
        struct module *m = &b->graph.mods[i];
        if (m->kind == MOD_NAMESPACE) {
            items[nitems++] = (struct pyz_item){m->name, NULL, 0, PYZ_NAMESPACE, NULL};
            continue;
        }
        if (m->kind == MOD_EXTENSION && !m->excluded && !m->by_string) {
            char *rel = build_ext_rel(m);
            if (!rel || strvec_push_owned(&rels, rel) != 0) {
                err_set(b->err, ENOMEM, "out of memory");
                goto out;
            }
            bool pkg = strncmp(util_base_name(m->path), "__init__.", 9) == 0;
            items[nitems++] = (struct pyz_item){m->name, NULL, 0, PYZ_EXTENSION | (pkg ? PYZ_PACKAGE : 0), rel};
            continue;
        }
        if ((m->kind != MOD_SOURCE && m->kind != MOD_PACKAGE) || m->excluded)
            continue;
        struct pyc_job *j = &b->jobs[k++];
        if (j->error) {
            if (m->is_app) {
                err_set(b->err, 0, "%s", j->error);
                goto out;
            }
            build_warn(b, 0, "%s (module %s left out)", j->error, m->name);
            m->excluded = true;
            continue;
        }
        b->n_modules++;
        /* the entry script is stored under a name of its own */
        unsigned flags = (m->kind == MOD_PACKAGE ? PYZ_PACKAGE : 0) | (on_disk(&b->graph, m) ? PYZ_ONDISK : 0);
        items[nitems++] = (struct pyz_item){i == 0 ? BUNDLE_ENTRY_MODULE : m->name, j->data + 16, j->len - 16, flags,
                                            NULL};
    }
    for (size_t g = b->njobs - 2; g < b->njobs; g++) {
        struct pyc_job *gen = &b->jobs[g];
        if (gen->error) {
            err_set(b->err, 0, "internal error: %s does not compile: %s", gen->dfile, gen->error);
            goto out;
        }
        items[nitems++] = (struct pyz_item){g == b->njobs - 1 ? PAYLOAD_BOOT_MODULE : PAYLOAD_ABSENT_MODULE,
                                            gen->data + 16, gen->len - 16, 0, NULL};
    }
    qsort(items, nitems, sizeof *items, cmp_item);
    if (pyz_build(items, nitems, &b->pyz, b->err) != 0)
        goto out;
    rc = 0;
out:
    strvec_release(&rels);
    free(items);
    return rc;
}
