#include "bundle/build.h"
#include "build_impl.h"

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

#include "bundle/boot.h"
#include "bundle/cli.h"
#include "bundle/crc32c.h"
#include "bundle/dists.h"
#include "bundle/elfdeps.h"
#include "bundle/jsonout.h"
#include "bundle/link.h"
#include "bundle/marathon.h"
#include "bundle/pack.h"
#include "bundle/payload.h"
#include "bundle/probe.h"
#include "bundle/pyc.h"
#include "bundle/pyz.h"
#include "bundle/resolve.h"
#include "bundle/sha256.h"
#include "bundle/temp.h"
#include "bundle/trace.h"
#include "bundle/util.h"

extern const unsigned char bundle_stub_start[];
extern const unsigned char bundle_stub_end[];

#define ENTRY_MODULE BUNDLE_ENTRY_MODULE

/* What Python's initialization and the start-up module import before any
 * app code runs (from the pyz blob, as every module). */
static const char *const startup_modules[] = {"codecs", "io", "abc", "linecache", "_sitebuiltins"};
/* ...plus the whole encodings package (resolve_collect). */


void build_say(const struct build *b, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void build_say(const struct build *b, int level, const char *fmt, ...)
{
    va_list ap;
    if (b->o->verbosity < level)
        return;
    fputs(b->tty ? "\r\033[Kbundle: " : "bundle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* One progress line on a terminal, rewritten in place step by step;
 * nothing of it when stderr is not a terminal, or with -q. */
static void progress(const struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct build *b, const char *fmt, ...)
{
    va_list ap;
    if (!b->tty)
        return;
    if (!fmt) {
        fputs("\r\033[K", stderr); /* done: the line is cleared */
    } else {
        fputs("\r\033[Kbundle: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fflush(stderr);
}

/* A warning: printed at verbosity level (0: always but -q), and kept for
 * --json whatever the verbosity. */
void build_warn(struct build *b, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void build_warn(struct build *b, int level, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    s = util_vformat(fmt, ap);
    va_end(ap);
    if (!s)
        return;
    build_say(b, level, "warning: %s", s);
    strvec_push_owned(&b->warnings, s);
}

/* -vv: how long each step of the build took. */
static void step_done(struct build *b, const char *what)
{
    double now = util_now();
    build_say(b, 2, "%s took %.0f ms", what, (now - b->step_t) * 1e3);
    b->step_t = now;
}

int build_add_entry(struct build *b, char *name, const char *file, const char *data, size_t len,
                     bool strip)
{
    if (!name)
        return err_set(b->err, ENOMEM, "out of memory");
    if (b->nentries == b->centries) {
        size_t cap = b->centries ? b->centries * 2 : 512;
        struct entry *e = realloc(b->entries, cap * sizeof *e);
        if (!e) {
            free(name);
            return err_set(b->err, ENOMEM, "out of memory");
        }
        b->entries = e;
        b->centries = cap;
    }
    b->entries[b->nentries++] = (struct entry){name, file, data, len, strip, NULL};
    return 0;
}

char *build_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *build_strdupf(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    s = util_vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* Writes the entry script that runs MOD:FUNC (FUNC NULL: MOD as __main__,
 * as python -m does) into a private temp dir, under a name without ".py"
 * so it shadows no module.  mod and func are dotted names (checked). */
static int make_entry_script(struct build *b, const char *mod, size_t modlen, const char *func, const char *name)
{
    struct buf src = {0};
    int fd = -1, rc = -1;

    b->entry_dir = build_strdupf("%s/bundle-entry-XXXXXX", temp_dir());
    if (!b->entry_dir || !temp_make_dir(b->entry_dir)) {
        free(b->entry_dir);
        b->entry_dir = NULL;
        return err_set(b->err, errno, "cannot create a temp dir in %s", temp_dir());
    }
    if (!(b->entry_file = util_join(b->entry_dir, name)) || !(b->entry_name = strdup(name)))
        return err_set(b->err, ENOMEM, "out of memory");
    if (!(b->entry_target = strndup(mod, modlen)))
        return err_set(b->err, ENOMEM, "out of memory");
    if (func) {
        size_t head = strcspn(func, ".");
        buf_printf(&src, "import sys\nfrom %.*s import %.*s as _entry\nsys.exit(_entry%s())\n", (int)modlen, mod,
                   (int)head, func, func + head);
    } else {
        /* the -m way; sys.argv stays what was typed */
        buf_printf(&src, "import runpy\nrunpy._run_module_as_main('%.*s', alter_argv=False)\n", (int)modlen, mod);
        if (!(b->entry_module = strndup(mod, modlen)))
            return err_set(b->err, ENOMEM, "out of memory");
    }
    if (!src.data)
        return err_set(b->err, ENOMEM, "out of memory");
    fd = open(b->entry_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || util_write_all(fd, src.data, src.len) != 0)
        err_set(b->err, errno, "cannot write '%s'", b->entry_file);
    else
        rc = 0;
    if (fd >= 0)
        close(fd);
    buf_release(&src);
    b->script = b->entry_file;
    return rc;
}

/* --entry MOD[:FUNC]: the app's name is MOD's first part. */
static int entry_of_option(struct build *b)
{
    const char *e = b->o->entry, *colon = strchr(e, ':');
    size_t ml = colon ? (size_t)(colon - e) : strlen(e);
    char *name = strndup(e, strcspn(e, ".:"));
    int rc = name ? make_entry_script(b, e, ml, colon ? colon + 1 : NULL, name) : err_set(b->err, ENOMEM, "out of memory");
    free(name);
    return rc;
}

/* Whether s could name a console script: letters, digits, '-', '_', '.',
 * not a path and not a .py file. */
static bool command_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || (n > 3 && strcmp(s + n - 3, ".py") == 0) || s[0] == '.' || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.", *p)))
            return false;
    return true;
}

/* SCRIPT names no file: a console script that an installed distribution
 * declares (bundle --onefile yamllint), as pipx and shiv -c take it. */
static int entry_of_command(struct build *b)
{
    struct dists ds;
    const char *cmd = b->o->script;
    int rc = -1;

    if (dists_load(&ds, (const char *const *)b->probe.path.v, b->probe.path.n, b->err) != 0)
        goto out;
    for (size_t i = 0; i < ds.n; i++)
        for (size_t k = 0; k < ds.v[i].neps; k++) {
            const struct dist_ep *ep = &ds.v[i].eps[k];
            if (strcmp(ep->group, "console_scripts") != 0 || strcmp(ep->name, cmd) != 0)
                continue;
            if (!cli_dotted_name(ep->module, strlen(ep->module)) ||
                (ep->attr[0] && !cli_dotted_name(ep->attr, strlen(ep->attr)))) {
                err_usage(b->err, "console script '%s' of %s names '%s:%s', which is no module and function", cmd,
                          ds.v[i].dir, ep->module, ep->attr);
                goto out;
            }
            build_say(b, 1, "console script %s: %s:%s of %s", cmd, ep->module, ep->attr, ds.v[i].dir);
            rc = make_entry_script(b, ep->module, strlen(ep->module), ep->attr[0] ? ep->attr : NULL, cmd);
            goto out;
        }
    err_usage(b->err, "cannot open '%s': no such file, and no package installed for %s declares a console "
              "script of that name", cmd, b->probe.executable);
out:
    dists_release(&ds);
    return rc;
}

/* Checks the script and works out the names and paths of the outputs. */
static int plan_outputs(struct build *b)
{
    const struct cli_opts *o = b->o;
    struct stat st;
    const char *base;
    size_t len;

    if (stat(b->script, &st) != 0)
        return err_usage(b->err, "cannot open '%s': %s", b->script, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return err_usage(b->err, "'%s' is a directory; give the app's entry script (e.g. %s/main.py)",
                         b->script, b->script);
    if (!S_ISREG(st.st_mode))
        return err_usage(b->err, "'%s' is not a regular file", b->script);
    if (access(b->script, R_OK) != 0)
        return err_usage(b->err, "cannot read '%s': %s", b->script, strerror(errno));

    base = b->entry_name ? b->entry_name : strrchr(b->script, '/') ? strrchr(b->script, '/') + 1 : b->script;
    len = strlen(base);
    if (len > 3 && strcmp(base + len - 3, ".py") == 0)
        len -= 3;
    if (o->name)
        b->name = strdup(o->name);
    else if (o->output)
        b->name = strdup(strrchr(o->output, '/') ? strrchr(o->output, '/') + 1 : o->output);
    else
        b->name = strndup(base, len);
    if (!b->name)
        return err_set(b->err, ENOMEM, "out of memory");
    if (!b->name[0] || strchr(b->name, '/') || strcmp(b->name, ".") == 0 || strcmp(b->name, "..") == 0)
        return err_usage(b->err, "'%s' cannot be used as the app's name (use -n NAME)", b->name);
    if (cli_has_control(b->name)) /* not shown: it would break the line */
        return err_usage(b->err, "the app's name, from the %s, has a control character (use -n NAME)",
                         o->output ? "output's file name" : "script's file name");
    b->output = o->output ? strdup(o->output) : build_strdupf("dist/%s", b->name);
    if (!b->output)
        return err_set(b->err, ENOMEM, "out of memory");
    if (util_is_dir(b->output))
        return err_usage(b->err, "output '%s' is a directory; give a file name (-o DIR/NAME)", b->output);
    if (!o->no_marathon) {
        b->json_path = build_strdupf("%s.marathon.json", b->output);
        if (!b->json_path)
            return err_set(b->err, ENOMEM, "out of memory");
        if (o->metronome && !(b->metro_path = build_strdupf("%s.metronome.json", b->output)))
            return err_set(b->err, ENOMEM, "out of memory");
    }
    /* the output directory: created if missing, and it must take new files */
    char *dir = strdup(b->output);
    if (!dir)
        return err_set(b->err, ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *slash = '\0';
        if (dir[0] && !util_is_dir(dir)) {
            /* removed again if the build fails (only if empty): registered
             * before it exists, so a signal cannot come between */
            if (!(b->made_dir = strdup(dir)) || temp_add(b->made_dir, TEMP_EMPTY_DIR) != 0)
                rc = err_set(b->err, b->made_dir ? errno : ENOMEM, "cannot register '%s' as a temp dir", dir);
        }
        if (rc == 0 && dir[0] && util_mkdirs(dir, 0777, b->err) != 0)
            rc = -1;
        else if (rc == 0 && access(dir[0] ? dir : "/", W_OK) != 0)
            rc = err_set(b->err, errno, "cannot write to '%s/'", dir);
    } else if (access(".", W_OK) != 0) {
        rc = err_set(b->err, errno, "cannot write to the current directory");
    }
    free(dir);
    return rc;
}

char *build_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The Marathon app the options describe; mem and disk stay 0 when they are
 * to be derived from the bundle's size, binary_path and sha256_hex NULL. */
static void marathon_app_of(const struct build *b, struct marathon_app *app)
{
    memset(app, 0, sizeof *app);
    app->name = util_base_name(b->output);
    app->id = b->o->marathon_id;
    app->url = b->o->url;
    app->cpus = b->o->cpus;
    app->mem = b->o->mem;
    app->disk = b->o->disk;
    app->instances = b->o->instances;
    app->fetch = b->o->fetch;
    app->fetch_cache = b->o->fetch_cache;
    app->health_path = b->o->health_path;
    app->kill_grace = b->o->kill_grace;
    app->env = (const char *const *)b->o->env.v;
    app->nenv = b->o->env.n;
    app->args = b->o->args;
}

/* Marathon options are checked before any work, so a bad one costs nothing:
 * every check the JSON writers make, with the size-derived values left out. */
static int check_marathon_opts(struct build *b)
{
    struct marathon_app app;
    if (b->o->no_marathon)
        return 0;
    marathon_app_of(b, &app);
    return marathon_check_app(&app, b->o->metronome, b->err);
}

static int make_boot(struct build *b)
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

static bool absent_name(const struct graph *g, const char *name)
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
static int make_absent(struct build *b)
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
        if (plain_name(seen.v[i]) && (i == 0 || strcmp(seen.v[i - 1], seen.v[i]) != 0) && absent_name(g, seen.v[i]) &&
            buf_printf(&src, "%s ", seen.v[i]) != 0)
            goto out;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (g->mods[i].kind != MOD_PACKAGE || g->mods[i].excluded)
            continue;
        const struct strvec *kids = resolve_children(g, i);
        for (size_t k = 0; k < kids->n; k++) {
            char *sub = build_strdupf("%s.%s", g->mods[i].name, kids->v[k]);
            int bad = !sub || (plain_name(kids->v[k]) && absent_name(g, sub) && buf_printf(&src, "%s ", sub) != 0);
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

static int compile_modules(struct build *b)
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
    if (pyc_build(&b->probe, b->jobs, b->njobs, b->err) != 0)
        return -1;
    size_t reused = 0;
    for (size_t k = 0; k < b->njobs; k++)
        reused += b->jobs[k].reused;
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
static int collect_python(struct build *b)
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
        items[nitems++] = (struct pyz_item){i == 0 ? ENTRY_MODULE : m->name, j->data + 16, j->len - 16, flags,
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

/* Linking the stub (link.c) takes a few hundred milliseconds of one core:
 * it runs on a thread of its own while the imports are resolved and
 * compiled, which need only the probe it reads too. */
static void *link_thread(void *arg)
{
    struct build *b = arg;
    b->linked_stub = link_stub(&b->probe, b->link_dir, &b->link_why);
    return NULL;
}

/* Whether to link the static libpython into the stub: asked for
 * (--link-libpython), or the interpreter has no shared one to ship.  By
 * default the shared libpython goes into the archive, compressed: the
 * executable is half the size (hello: 4.7 against 8.6 MB), for one
 * unpacking per host (README, "Size and start-up"). */
static bool want_link(const struct build *b)
{
    return b->o->link_libpython || !b->probe.libpython || !b->probe.libpython[0];
}

static int start_link(struct build *b)
{
    if (!want_link(b))
        return 0;
    b->link_dir = build_strdupf("%s/bundle-link-XXXXXX", temp_dir());
    if (!b->link_dir || !temp_make_dir(b->link_dir)) {
        free(b->link_dir);
        b->link_dir = NULL;
        return err_set(b->err, errno, "cannot create a temp dir in %s", temp_dir());
    }
    if (pthread_create(&b->link_tid, NULL, link_thread, b) == 0)
        b->linking = true;
    else
        link_thread(b);
    return 0;
}

static void join_link(struct build *b)
{
    if (b->linking)
        pthread_join(b->link_tid, NULL);
    b->linking = false;
}

/* The stub: linked with the static libpython when the interpreter has one,
 * cc works, and no extension module asks for the shared libpython by name
 * (two copies of the interpreter in one process would not work). */
static int choose_stub(struct build *b)
{
    char *why = NULL;

    join_link(b);
    if (!want_link(b)) {
        build_say(b, 1, "the stub loads the shared libpython, unpacked on the first start%s",
            b->o->shared_libpython ? "" : " (--link-libpython links it into the executable)");
        return 0;
    }
    for (size_t i = 0; b->linked_stub && i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        struct elfdeps_info info = {0};
        struct err e = {0};
        if (m->kind != MOD_EXTENSION || m->excluded || elfdeps_read(m->path, &info, &e) != 0)
            continue;
        for (size_t k = 0; k < info.nneeded && !why; k++)
            if (strncmp(info.needed[k], "libpython", 9) == 0)
                why = build_strdupf("%s needs %s by name", m->path, info.needed[k]);
        elfdeps_info_release(&info);
        if (why) {
            free(b->linked_stub);
            b->linked_stub = NULL;
        }
    }
    if (b->linked_stub)
        build_say(b, 1, "libpython linked into the executable (%s)", b->probe.libpython_a);
    else if (b->o->link_libpython)
        build_warn(b, 0, "--link-libpython: cannot link libpython into the executable (%s); the stub loads the shared one",
             why ? why : b->link_why ? b->link_why : "out of memory");
    else
        build_say(b, 1, "the stub loads the shared libpython: %s",
            why ? why : b->link_why ? b->link_why : "out of memory");
    free(why);
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static time_t build_time(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 315532800LL) /* zip times start in 1980 */
            return (time_t)v;
    }
    return 315532800; /* 1980-01-01: a fixed time, so builds are reproducible */
}

static int write_json(struct build *b, const char *path, const char *json)
{
    char *tmp = build_strdupf("%s.tmp-XXXXXX", path);
    int fd;
    if (!tmp)
        return err_set(b->err, ENOMEM, "out of memory");
    fd = temp_make_file(tmp, 0, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return err_set(b->err, errno, "cannot write '%s'", path);
    }
    mode_t um = umask(0);
    umask(um);
    /* path stays registered as a temp until the whole build is done */
    if (fchmod(fd, 0666 & ~um) != 0 || util_write_all(fd, json, strlen(json)) != 0 || fsync(fd) != 0 ||
        close(fd) != 0 || temp_rename(tmp, path) != 0) {
        int e = errno;
        temp_remove(tmp);
        free(tmp);
        return err_set(b->err, e, "cannot write '%s'", path);
    }
    free(tmp);
    return 0;
}

/* size: the bundle's, as if nothing in it were compressed (what it weighs
 * in the sandbox once its native parts are unpacked, as the defaults
 * assume: marathon.h). */
static int emit_marathon(struct build *b, const uint8_t file_sha[32], uint64_t size)
{
    char hex[65], abs_path[PATH_MAX];
    char *json = NULL;
    struct marathon_app app = {0};
    int rc;

    if (!b->json_path)
        return 0;
    sha256_hex(file_sha, hex);
    if (!realpath(b->output, abs_path))
        return err_set(b->err, errno, "cannot resolve '%s'", b->output);
    marathon_app_of(b, &app);
    app.binary_path = abs_path;
    app.sha256_hex = hex;
    if (app.mem <= 0)
        app.mem = marathon_default_mem(size);
    if (app.disk <= 0)
        app.disk = marathon_default_disk(size);
    if (!b->o->url)
        build_warn(b, 0, "no --url given: %s points at file://%s; pass --url "
                  "https://HOST/PATH/%s for the cluster to download it", b->json_path, abs_path, app.name);
    if (marathon_app_json(&app, &json, b->err) != 0)
        return -1;
    rc = write_json(b, b->json_path, json);
    free(json);
    if (rc != 0)
        return -1;
    if (b->metro_path) {
        if (marathon_metronome_json(&app, &json, b->err) != 0)
            return -1;
        rc = write_json(b, b->metro_path, json);
        free(json);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int write_bundle(struct build *b, uint8_t file_sha[32], uint64_t *size)
{
    struct pack p;
    uint8_t sha[32];
    time_t t = build_time();

    qsort(b->entries, b->nentries, sizeof *b->entries, cmp_entry);
    /* one file per name: the first of equal names (package data given
     * again by --add-data, say) wins */
    size_t w = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        if (w > 0 && strcmp(b->entries[w - 1].name, b->entries[i].name) == 0) {
            build_warn(b, 1, "%s given twice; keeping one", b->entries[i].name);
            free(b->entries[i].name);
            free(b->entries[i].lazy);
            continue;
        }
        b->entries[w++] = b->entries[i];
    }
    b->nentries = w;
    const unsigned char *stub = bundle_stub_start;
    size_t stub_len = (size_t)(bundle_stub_end - bundle_stub_start);
    char *linked = NULL;
    if (b->linked_stub) {
        if (util_read_file(b->linked_stub, (size_t)1 << 30, &linked, &stub_len, b->err) != 0)
            return -1;
        stub = (const unsigned char *)linked;
    }
    int rc0 = pack_open(&p, b->output, stub, stub_len, b->pyz.data, b->pyz.len, t, b->err);
    free(linked);
    if (rc0 != 0)
        return -1;
    struct pack_item *items = calloc(b->nentries ? b->nentries : 1, sizeof *items);
    if (!items) {
        pack_abort(&p);
        return err_set(b->err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->nentries; i++) {
        const struct entry *e = &b->entries[i];
        /* the manifest stays stored: read before anything is inflated */
        items[i] = (struct pack_item){e->name, e->file, e->data, e->len,
                                      strcmp(e->name, PAYLOAD_MANIFEST) == 0 ? 0 : (int)b->o->compress};
    }
    /* the stub says it in words where the host's glibc is older, or runs
     * under the glibc it carries */
    if (b->libs.glibc_major > 0 && b->libs.glibc_major < 256 && b->libs.glibc_minor >= 0 && b->libs.glibc_minor < 256)
        p.flags = (uint32_t)(b->libs.glibc_major << 8 | b->libs.glibc_minor);
    if (b->o->carry_glibc && !b->linked_stub)
        p.flags |= PAYLOAD_FLAG_CARRIES_GLIBC;
    rc0 = pack_add_items(&p, items, b->nentries, b->err);
    free(items);
    if (rc0 != 0)
        return -1; /* pack_* already dropped the temp file */
    /* the output is a temp until the whole build is done (its JSON too):
     * registered as it takes the temp file's place, no signal in between */
    temp_hold(NULL);
    rc0 = pack_commit(&p, sha, file_sha, b->err);
    if (rc0 == 0 && temp_add(b->output, TEMP_FILE) != 0) {
        rc0 = err_set(b->err, errno, "cannot register '%s' as a temp file", b->output);
        unlink(b->output);
    }
    temp_unhold();
    if (rc0 != 0)
        return -1;
    memcpy(b->archive_sha, sha, sizeof sha);
    *size = p.size;
    b->inflated = p.inflated;
    return 0;
}

static void report_missing(struct build *b)
{
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        if (m->kind != MOD_MISSING) {
            build_say(b, 3, "module %s (imported by %s, line %d%s)", m->name, m->importer ? m->importer : "-", m->line,
                m->optpath ? "; on an optional path" : "");
            continue;
        }
        if (!m->optional)
            build_warn(b, 0, "module %s not found (imported by %s, line %d)", m->name,
                m->importer ? m->importer : "?", m->line);
        else
            build_say(b, 2, "optional module %s not found (imported by %s, line %d)", m->name,
                m->importer ? m->importer : "?", m->line);
    }
    for (size_t i = 0; i < b->graph.warnings.n; i++)
        build_warn(b, 1, "%s", b->graph.warnings.v[i]);
    for (size_t i = 0; i < b->graph.notes.n; i++)
        build_say(b, 1, "added: %s", b->graph.notes.v[i]);
    for (size_t i = 0; i < b->graph.deferred.n; i++) {
        /* left out unless something else brought it after all */
        if (absent_name(&b->graph, b->graph.deferred.v[i]) &&
            strvec_find(&b->graph.deferred, b->graph.deferred.v[i]) == (long)i)
            build_say(b, 1, "left out: %s (imported lazily by %s, whose distribution does not require it; "
                "--hidden-import %s brings it)", b->graph.deferred.v[i], b->graph.deferred_by.v[i],
                b->graph.deferred.v[i]);
    }
}

/* --json: one object on stdout, after everything was written.  Returns 0,
 * or -1 with b->err (out of memory, stdout cannot be written). */
static int print_json(struct build *b, const uint8_t file_sha[32], uint64_t size, double secs)
{
    char hex[65], ahex[65], python[48], glibc[32];
    json_t *doc = json_object(), *missing = json_array(), *warnings = json_array();
    bool failed = false;
    int rc;

    sha256_hex(file_sha, hex);
    sha256_hex(b->archive_sha, ahex);
    snprintf(python, sizeof python, "%d.%d.%d", b->probe.major, b->probe.minor, b->probe.micro);
    snprintf(glibc, sizeof glibc, "%d.%d", b->libs.glibc_major, b->libs.glibc_minor);
    jsonout_set(doc, "ok", json_true(), &failed);
    jsonout_set(doc, "output", jsonout_text(b->output), &failed);
    jsonout_set(doc, "marathon", b->json_path ? jsonout_text(b->json_path) : json_null(), &failed);
    jsonout_set(doc, "metronome", b->metro_path ? jsonout_text(b->metro_path) : json_null(), &failed);
    jsonout_set(doc, "size", jsonout_uint(size), &failed);
    jsonout_set(doc, "sha256", json_string(hex), &failed);
    jsonout_set(doc, "archive_sha256", json_string(ahex), &failed);
    jsonout_set(doc, "python", json_string(python), &failed);
    jsonout_set(doc, "interpreter", jsonout_text(b->probe.executable), &failed);
    jsonout_set(doc, "glibc", json_string(glibc), &failed);
    jsonout_set(doc, "modules", jsonout_uint(b->n_modules), &failed);
    jsonout_set(doc, "native_files", jsonout_uint(b->n_natives), &failed);
    jsonout_set(doc, "data_files", jsonout_uint(b->n_data), &failed);
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        json_t *o;
        if (m->kind != MOD_MISSING)
            continue;
        o = json_object();
        jsonout_set(o, "name", jsonout_text(m->name), &failed);
        jsonout_set(o, "imported_by", jsonout_text(m->importer ? m->importer : ""), &failed);
        jsonout_set(o, "line", json_integer(m->line), &failed);
        jsonout_set(o, "optional", json_boolean(m->optional), &failed);
        jsonout_append(missing, o, &failed);
    }
    jsonout_set(doc, "missing", missing, &failed);
    for (size_t i = 0; i < b->warnings.n; i++)
        jsonout_append(warnings, jsonout_text(b->warnings.v[i]), &failed);
    jsonout_set(doc, "warnings", warnings, &failed);
    /* a real, rounded to milliseconds */
    jsonout_set(doc, "build_seconds", json_real((double)(long long)(secs * 1000 + 0.5) / 1000), &failed);
    if (failed)
        rc = err_set(b->err, ENOMEM, "cannot build the json report");
    else
        rc = jsonout_print(doc, stdout, b->err);
    json_decref(doc);
    return rc;
}

/* The search-path directory a path lies under (the longest), or NULL. */
static const char *root_of(const struct graph *g, const char *path)
{
    const char *best = NULL;
    size_t bl = 0;
    for (size_t r = 0; r < g->roots.n; r++) {
        size_t l = strlen(g->roots.v[r]);
        if (l > bl && strncmp(path, g->roots.v[r], l) == 0 && path[l] == '/') {
            best = g->roots.v[r];
            bl = l;
        }
    }
    return best;
}

/* --trace: runs the app once, then bundles every module it imported that
 * the scan did not find, the package files it read, and ships as files
 * each package whose directory it listed. */
static int run_trace(struct build *b)
{
    struct trace_result tr = {0};
    size_t before = b->graph.n;
    int saved = -1, rc = -1;

    build_say(b, 0, "tracing: running %s once%s", b->script, b->o->json ? " (its output goes to stderr)" : "");
    fflush(stdout);
    if (b->o->json && ((saved = dup(1)) < 0 || dup2(2, 1) < 0)) /* stdout is the JSON's */
        return err_set(b->err, errno, "cannot redirect the traced run's output");
    rc = trace_run(b->probe.executable, b->script, (const char *const *)b->o->trace_args.v, b->o->trace_args.n,
                   b->o->trace_seconds, &tr, b->err);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
    if (rc != 0)
        return err_prefix(b->err, "--trace");
    if (tr.timed_out)
        build_say(b, 0, "tracing: stopped after %g s (--trace-timeout)", b->o->trace_seconds);
    else if (tr.exit_status != 0)
        build_warn(b, 0, "the traced run exited with status %d: what it did not reach is not in the bundle", tr.exit_status);
    for (size_t i = 0; i < tr.modules.n && rc == 0; i++) {
        bool known = graph_find(&b->graph, tr.modules.v[i]) >= 0;
        rc = resolve_add_soft(&b->graph, tr.modules.v[i], b->err);
        if (!known && graph_find(&b->graph, tr.modules.v[i]) >= 0)
            build_say(b, 1, "traced: %s (the scan did not find it)", tr.modules.v[i]);
    }
    build_say(b, 1, "traced: %zu modules more with what they import", b->graph.n - before);
    /* a package directory the app listed: it looks at its files */
    for (size_t i = 0; i < tr.dirs.n && rc == 0; i++) {
        const char *root = root_of(&b->graph, tr.dirs.v[i]);
        char *name = root ? strdup(tr.dirs.v[i] + strlen(root) + 1) : NULL;
        for (char *p = name; p && *p; p++)
            *p = *p == '/' ? '.' : *p;
        long idx = name ? graph_find(&b->graph, name) : -1;
        if (idx >= 0 && b->graph.mods[idx].kind == MOD_PACKAGE)
            rc = resolve_disk(&b->graph, (size_t)idx, "the traced run listed its directory", b->err);
        else if (root && strvec_push(&b->traced_files, tr.dirs.v[i]) != 0)
            rc = err_set(b->err, ENOMEM, "out of memory");
        free(name);
    }
    for (size_t i = 0; i < tr.files.n && rc == 0; i++)
        if (root_of(&b->graph, tr.files.v[i]) && strvec_push(&b->traced_files, tr.files.v[i]) != 0)
            rc = err_set(b->err, ENOMEM, "out of memory");
    trace_result_release(&tr);
    return rc;
}

/* What the traced run read: files as they are, a listed directory's files
 * (not its subdirectories), under their path below the search path. */
static int add_traced(struct build *b)
{
    for (size_t i = 0; i < b->traced_files.n; i++) {
        const char *path = b->traced_files.v[i], *root = root_of(&b->graph, path);
        const char *rel = path + strlen(root) + 1;
        int rc = 0;
        if (util_is_dir(path))
            rc = build_add_data_tree(b, path, rel, DATA_OWN, 0);
        else if (!build_code_file(util_base_name(path), false, false))
            rc = build_add_data_file(b, path, rel);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* --entry MOD: MOD, and MOD.__main__ when it is a package, as -m runs it. */
static int add_entry_module(struct build *b)
{
    char *main_mod = build_strdupf("%s.__main__", b->entry_module);
    long idx;
    int rc = -1;
    if (!main_mod)
        return err_set(b->err, ENOMEM, "out of memory");
    if (resolve_add(&b->graph, b->entry_module, b->err) != 0)
        goto out;
    idx = graph_find(&b->graph, b->entry_module);
    if (idx < 0 || b->graph.mods[idx].kind == MOD_MISSING) {
        err_usage(b->err, "--entry %s: no such module on the interpreter's sys.path", b->entry_module);
        goto out;
    }
    if (b->graph.mods[idx].kind == MOD_PACKAGE || b->graph.mods[idx].kind == MOD_NAMESPACE) {
        if (resolve_add(&b->graph, main_mod, b->err) != 0)
            goto out;
        idx = graph_find(&b->graph, main_mod);
        if (idx < 0 || b->graph.mods[idx].kind == MOD_MISSING) {
            err_usage(b->err, "--entry %s: a package without __main__; give MODULE:FUNCTION", b->entry_module);
            goto out;
        }
    }
    rc = 0;
out:
    free(main_mod);
    return rc;
}

static void build_release(struct build *b)
{
    join_link(b); /* before what it reads goes */
    graph_release(&b->graph);
    probe_release(&b->probe);
    if (b->jobs)
        pyc_jobs_release(b->jobs, b->njobs);
    free(b->jobs);
    elfdeps_closure_release(&b->libs);
    for (size_t i = 0; i < b->nentries; i++) {
        free(b->entries[i].name);
        free(b->entries[i].lazy);
    }
    free(b->entries);
    buf_release(&b->manifest);
    buf_release(&b->pyz);
    /* the temp files and dirs (temp.h), a dir with what is in it */
    const char *temps[] = {b->boot_file, b->absent_file, b->entry_dir, b->strip_dir, b->link_dir};
    for (size_t i = 0; i < sizeof temps / sizeof temps[0]; i++)
        if (temps[i])
            temp_remove(temps[i]);
    free(b->absent_file);
    free(b->entry_file);
    free(b->entry_dir);
    free(b->entry_name);
    free(b->entry_module);
    free(b->entry_target);
    strvec_release(&b->stripped);
    strvec_release(&b->paths);
    strvec_release(&b->traced_files);
    strvec_release(&b->warnings);
    free(b->strip_dir);
    free(b->link_dir);
    free(b->linked_stub);
    free(b->link_why);
    free(b->boot_file);
    free(b->name);
    free(b->output);
    free(b->json_path);
    free(b->metro_path);
    free(b->python);
}

int build_run(const struct cli_opts *o, struct err *err)
{
    struct build b = {.o = o, .err = err};
    double t0 = util_now();
    uint8_t file_sha[32];
    uint64_t size = 0;
    int rc = -1;

    /* a command name (no file of that name, no '/'): looked up once the
     * interpreter is known */
    struct stat st;
    bool command = !o->entry && command_name(o->script) && stat(o->script, &st) != 0 && errno == ENOENT;
    /* from here every temp file and helper process is registered: a
     * signal removes and stops them (temp.h) */
    temp_catch_signals();
    b.script = o->script;
    if (o->entry && entry_of_option(&b) != 0)
        goto out;
    if (!command && (plan_outputs(&b) != 0 || check_marathon_opts(&b) != 0))
        goto out;
    b.tty = o->verbosity >= 0 && isatty(2);
    b.step_t = t0;
    if (!(b.python = probe_choose(o->python, err)))
        goto out;
    progress(&b, "asking %s", b.python);
    if (probe_run(b.python, &b.probe, err) != 0) {
        if (o->python)
            err->status = 2;
        goto out;
    }
    build_say(&b, 1, "python %d.%d.%d at %s", b.probe.major, b.probe.minor, b.probe.micro, b.probe.executable);
    if (command && (entry_of_command(&b) != 0 || plan_outputs(&b) != 0 || check_marathon_opts(&b) != 0))
        goto out;
    if (start_link(&b) != 0)
        goto out;
    step_done(&b, "probing the interpreter");
    progress(&b, "scanning imports from %s", b.script);
    if (resolve_graph(&b.graph, &b.probe, b.script, ENTRY_MODULE, startup_modules,
                      sizeof startup_modules / sizeof startup_modules[0], &o->exclude, err) != 0 ||
        resolve_collect(&b.graph, "encodings", err) != 0)
        goto out;
    for (size_t i = 0; i < o->hidden.n; i++) {
        if (resolve_add(&b.graph, o->hidden.v[i], err) != 0)
            goto out;
        long idx = graph_find(&b.graph, o->hidden.v[i]);
        if (idx < 0 || b.graph.mods[idx].kind == MOD_MISSING) {
            err_usage(err, "--hidden-import %s: no such module on the interpreter's sys.path", o->hidden.v[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < o->collect.n; i++)
        if (resolve_collect(&b.graph, o->collect.v[i], err) != 0)
            goto out;
    if (b.entry_module && add_entry_module(&b) != 0)
        goto out;
    if (b.entry_target) {
        long t = graph_find(&b.graph, b.entry_target);
        if (t < 0 || b.graph.mods[t].kind == MOD_MISSING) {
            err_usage(err, "%s: no module %s on the interpreter's sys.path (%s)", o->entry ? "--entry" : o->script,
                      b.entry_target, b.probe.executable);
            goto out;
        }
    }
    if (o->trace && run_trace(&b) != 0)
        goto out;
    if (resolve_data_imports(&b.graph, err) != 0)
        goto out;
    report_missing(&b);
    step_done(&b, "resolving imports");
    progress(&b, "compiling %zu modules", b.graph.n);
    if (make_boot(&b) != 0 || make_absent(&b) != 0 || compile_modules(&b) != 0)
        goto out;
    step_done(&b, "compiling");
    if (collect_python(&b) != 0)
        goto out;
    step_done(&b, "packing modules");
    if (choose_stub(&b) != 0 || collect_native(&b) != 0 || strip_natives(&b) != 0 || collect_glibc(&b) != 0 ||
        finish_manifest(&b) != 0)
        goto out;
    step_done(&b, "native closure and strip");
    if (collect_data(&b) != 0 || add_traced(&b) != 0 || collect_metadata(&b) != 0)
        goto out;
    step_done(&b, "data files");
    progress(&b, "writing %s", b.output);
    if (write_bundle(&b, file_sha, &size) != 0)
        goto out;
    step_done(&b, "writing");
    progress(&b, NULL);
    if (emit_marathon(&b, file_sha, size + b.inflated) != 0)
        goto out;
    if (o->json && print_json(&b, file_sha, size, util_now() - t0) != 0)
        goto out;
    build_say(&b, 0, "wrote %s (%.1f MB: %zu modules, %zu native files, %zu data files; needs glibc >= %d.%d) in %.2f s",
        b.output, (double)size / 1e6, b.n_modules, b.n_natives, b.n_data, b.libs.glibc_major,
        b.libs.glibc_minor, util_now() - t0);
    rc = 0;
out:
    progress(&b, NULL);
    if (rc == 0) {
        /* done: the outputs (and their dir) are no temp files any more */
        const char *outs[] = {b.output, b.json_path, b.metro_path, b.made_dir};
        for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
            if (outs[i])
                temp_forget(outs[i]);
    }
    free(b.made_dir);
    build_release(&b);
    /* all or nothing: a failed build leaves no output (no bundle without
     * its JSON), then not the output dir it made, if empty */
    temp_remove_all();
    temp_restore_signals();
    return rc;
}
