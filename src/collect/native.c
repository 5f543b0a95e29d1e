/* native.c - the native files of a bundle: libpython (unless linked in), the
 * shared libraries and extension modules with their ELF closure, stripped of
 * debug information; the carried glibc; the manifest's lines for them. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
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

/* 1 if name is one of the closure's libraries. */
static bool closure_has(const struct elfdeps_closure *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->libs[i].name, name) == 0)
            return true;
    return false;
}

/* 1 if the library is loaded before libpython: libpython needs it, or it
 * is libgcc_s, which glibc looks for by name, and only a loaded copy
 * answers that. */
static bool is_preload(const struct elfdeps_closure *py, const char *name)
{
    return closure_has(py, name) || strcmp(name, "libgcc_s.so.1") == 0;
}

/* A native file's name goes into the manifest's space-separated lines. */
static int check_native_name(struct build *b, const char *name)
{
    if (strpbrk(name, " \t\n\r"))
        return err_set(b->err, 0, "cannot bundle '%s': native file names with blanks are not supported", name);
    return 0;
}

/* The libraries an extension module needs, dependencies first, as the
 * manifest lists them (" lib/a lib/b"); libpython's are loaded already. */
static char *ext_deps(struct build *b, const char *path, const struct elfdeps_closure *py)
{
    struct elfdeps_closure c = {0};
    struct buf deps = {0};
    const char *root[1] = {path};
    char *out = NULL;

    if (elfdeps_closure(root, 1, &c, b->err) != 0)
        return NULL;
    buf_printf(&deps, "%s", "");
    for (size_t i = 0; i < c.n; i++)
        if (!is_preload(py, c.libs[i].name) && strcmp(c.libs[i].name, util_base_name(b->probe.libpython)) != 0 &&
            buf_printf(&deps, " lib/%s", c.libs[i].name) != 0)
            goto out;
    out = deps.data ? strdup(deps.data) : strdup("");
out:
    if (!out)
        err_set(b->err, ENOMEM, "out of memory");
    buf_release(&deps);
    elfdeps_closure_release(&c);
    return out;
}

/* libpython, the shared libraries and the extension modules.  A first start
 * unpacks libpython and the libraries it needs itself ("preload"); the
 * extension modules and the libraries only they need are "lazy": unpacked
 * when the app first imports them (finish_manifest writes their lines). */
int collect_native(struct build *b)
{
    struct strvec roots = STRVEC_INIT;
    struct elfdeps_closure py = {0};
    int rc = -1;
    const char *libpy = util_base_name(b->probe.libpython);

    /* linked, libpython is in the executable, and its libraries with it */
    if (!b->linked_stub) {
        if (strvec_push(&roots, b->probe.libpython) != 0)
            goto oom;
        if (elfdeps_closure((const char *const *)roots.v, 1, &py, b->err) != 0)
            goto out;
    }
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        if (m->kind == MOD_EXTENSION && !m->excluded && strvec_push(&roots, m->path) != 0)
            goto oom;
    }
    if (elfdeps_closure((const char *const *)roots.v, roots.n, &b->libs, b->err) != 0)
        goto out;
    for (size_t i = 0; i < b->libs.nmissing; i++)
        build_warn(b, 0, "shared library %s not found: whatever needs it will fail to load",
            b->libs.missing[i]);

    if (buf_printf(&b->manifest, "python %d.%d\nname %s\n", b->probe.major, b->probe.minor, b->name) != 0)
        goto oom;
    if (b->linked_stub) {
        struct elfdeps_info info = {0};
        if (buf_printf(&b->manifest, "linked 1\n") != 0)
            goto oom;
        if (elfdeps_read(b->linked_stub, &info, b->err) != 0)
            goto out;
        if (info.glibc_major > b->libs.glibc_major ||
            (info.glibc_major == b->libs.glibc_major && info.glibc_minor > b->libs.glibc_minor)) {
            b->libs.glibc_major = info.glibc_major;
            b->libs.glibc_minor = info.glibc_minor;
        }
        elfdeps_info_release(&info);
    } else {
        if (buf_printf(&b->manifest, "libpython lib/%s\n", libpy) != 0)
            goto oom;
        if (build_add_entry(b, build_strdupf("_native/lib/%s", libpy), b->probe.libpython, NULL, 0, true) != 0)
            goto out;
    }
    /* glibc itself dlopens libgcc_s.so.1 to unwind threads (pthread_exit,
     * cancellation): no DT_NEEDED names it, but a host without it aborts */
    bool have_gcc_s = false;
    for (size_t i = 0; i < b->libs.n; i++)
        have_gcc_s |= strcmp(b->libs.libs[i].name, "libgcc_s.so.1") == 0;
    static const char *const gcc_s[] = {"/lib/x86_64-linux-gnu/libgcc_s.so.1",
                                        "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
                                        "/lib64/libgcc_s.so.1", "/usr/lib64/libgcc_s.so.1"};
    for (size_t i = 0; !have_gcc_s && i < sizeof gcc_s / sizeof gcc_s[0]; i++) {
        if (!util_is_file(gcc_s[i]))
            continue;
        have_gcc_s = true;
        if (buf_printf(&b->manifest, "preload lib/libgcc_s.so.1\n") != 0 ||
            build_add_entry(b, strdup("_native/lib/libgcc_s.so.1"), gcc_s[i], NULL, 0, true) != 0)
            goto out;
        b->n_natives++;
    }
    for (size_t i = 0; i < b->libs.n; i++) {
        const struct elfdeps_lib *l = &b->libs.libs[i];
        if (strcmp(l->name, libpy) == 0)
            continue;
        if (check_native_name(b, l->name) != 0 ||
            build_add_entry(b, build_strdupf("_native/lib/%s", l->name), l->path, NULL, 0, true) != 0)
            goto out;
        if (is_preload(&py, l->name)) {
            if (buf_printf(&b->manifest, "preload lib/%s\n", l->name) != 0)
                goto oom;
        } else if (!(b->entries[b->nentries - 1].lazy = strdup(""))) {
            goto oom;
        }
    }
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        if (m->kind != MOD_EXTENSION || m->excluded)
            continue;
        char *rel = build_ext_rel(m);
        if (!rel)
            goto oom;
        if (check_native_name(b, rel) != 0 || build_add_entry(b, build_strdupf("_native/%s", rel), m->path, NULL, 0, true) != 0) {
            free(rel);
            goto out;
        }
        free(rel);
        /* a library the package loads by path is a file from the first start */
        if (!m->by_string && !(b->entries[b->nentries - 1].lazy = ext_deps(b, m->path, &py)))
            goto out;
    }
    b->n_natives += roots.n + b->libs.n; /* libpython (unless linked) and the extension modules; the libraries */
    /* for bundle inspect: the oldest glibc it runs on, and the options that
     * shaped its contents (no paths: the bundle stays reproducible) */
    buf_printf(&b->manifest, "glibc %d.%d\noptions", b->libs.glibc_major, b->libs.glibc_minor);
    const struct { const char *flag; const struct strvec *v; } opts[] = {
        {"--hidden-import", &b->o->hidden}, {"--exclude-module", &b->o->exclude},
        {"--collect", &b->o->collect}, {"--exclude-data", &b->o->exclude_data},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        for (size_t i = 0; i < opts[k].v->n; i++)
            buf_printf(&b->manifest, " %s %s", opts[k].flag, opts[k].v->v[i]);
    if (b->o->debug_ranges)
        buf_printf(&b->manifest, " --debug-ranges");
    for (size_t i = 0; i < b->o->add_data.n; i++)
        buf_printf(&b->manifest, " --add-data ...:%s", strrchr(b->o->add_data.v[i], ':') + 1);
    if (buf_printf(&b->manifest, "\n") != 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(b->err, ENOMEM, "out of memory");
out:
    elfdeps_closure_release(&py);
    strvec_release(&roots);
    return rc;
}

/* --carry-glibc: the build machine's glibc, for hosts whose own is older
 * than the bundle's floor.  The stub unpacks it into the cache entry only
 * on such a host and runs itself again under the carried loader (stub/
 * carry.c); elsewhere it is never read.  Each file is an entry under
 * _native/glibc/ and a manifest line "carry CRC SIZE glibc/NAME". */
static const char *const carried_glibc[] = {
    "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
    "libutil.so.1", "libresolv.so.2", "libnss_files.so.2", "libnss_dns.so.2",
    /* only when a bundled file names them (libmvec alone is 1 MB) */
    "libmvec.so.1", "libanl.so.1", "libBrokenLocale.so.1", "libnsl.so.1",
};
#define CARRIED_ALWAYS 10

/* Whether a native file of the bundle names soname in its DT_NEEDED. */
static bool natives_need(struct build *b, const char *soname)
{
    for (size_t i = 0; i < b->nentries; i++) {
        const struct entry *en = &b->entries[i];
        struct elfdeps_info info = {0};
        struct err e = {0};
        bool found = false;
        if (!en->file || strncmp(en->name, "_native/glibc/", 14) == 0 || elfdeps_read(en->file, &info, &e) != 0)
            continue;
        for (size_t k = 0; k < info.nneeded && !found; k++)
            found = strcmp(info.needed[k], soname) == 0;
        elfdeps_info_release(&info);
        if (found)
            return true;
    }
    return false;
}

int collect_glibc(struct build *b)
{
    /* where the loader every program here names lives: its libraries are beside it */
    static const char *const dirs[] = {"", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                                       "/usr/lib64", "/lib", "/usr/lib"};
    char ld[PATH_MAX], *ld_dir = NULL;
    size_t n = 0;
    int rc = -1;

    if (!b->o->carry_glibc)
        return 0;
    if (!realpath("/lib64/ld-linux-x86-64.so.2", ld))
        return err_set(b->err, errno, "--carry-glibc: cannot find this machine's loader /lib64/ld-linux-x86-64.so.2");
    if (!(ld_dir = strndup(ld, (size_t)(strrchr(ld, '/') - ld))))
        return err_set(b->err, ENOMEM, "out of memory");
    for (size_t i = 0; i < sizeof carried_glibc / sizeof *carried_glibc; i++) {
        char *found = NULL, *data = NULL;
        size_t len = 0;
        if (i >= CARRIED_ALWAYS && !natives_need(b, carried_glibc[i]))
            continue;
        for (size_t d = 0; d < sizeof dirs / sizeof *dirs && !found; d++) {
            char *path = build_strdupf("%s/%s", dirs[d][0] ? dirs[d] : ld_dir, carried_glibc[i]), real[PATH_MAX];
            if (path && realpath(path, real) && access(real, R_OK) == 0)
                found = strdup(real);
            free(path);
        }
        if (!found && i < 2) { /* the loader and libc: nothing works without them */
            err_set(b->err, 0, "--carry-glibc: %s not found beside %s", carried_glibc[i], ld);
            goto out;
        }
        if (!found) {
            build_say(b, 2, "--carry-glibc: no %s here (this glibc has it built in, or not at all)", carried_glibc[i]);
            continue;
        }
        /* b->stripped owns the path from here on, as the entry points at it */
        if (strvec_push_owned(&b->stripped, found) != 0)
            goto oom;
        if (util_read_file(found, (size_t)1 << 30, &data, &len, b->err) != 0)
            goto out;
        uint32_t crc = crc32c(0, data, len);
        free(data);
        if (buf_printf(&b->manifest, "carry %08x %zu glibc/%s\n", (unsigned)crc, len, carried_glibc[i]) != 0 ||
            build_add_entry(b, build_strdupf("_native/glibc/%s", carried_glibc[i]), found, NULL, 0, false) != 0)
            goto oom;
        n++;
    }
    build_say(b, 1, "--carry-glibc: %zu files of this machine's glibc, used only on a host with an older one", n);
    rc = 0;
    goto out;
oom:
    err_set(b->err, ENOMEM, "out of memory");
out:
    free(ld_dir);
    return rc;
}

/* Visits module i for early_lines: its packages first (importing a.b.c
 * runs a, then a.b), then itself, then what its code imports as it runs,
 * in source order.  0, or -1 when memory ran out. */
static int early_visit(struct build *b, size_t i, bool *seen, unsigned depth)
{
    const struct graph *g = &b->graph;
    const struct module *m = &g->mods[i];
    int rc = 0;

    if (seen[i] || depth > 2000) /* deeper is no guess worth a stack */
        return 0;
    char *name = strdup(m->name);
    if (!name)
        return -1;
    for (char *dot = strchr(name, '.'); dot && rc == 0; dot = strchr(dot + 1, '.')) {
        *dot = '\0';
        long p = graph_find(g, name);
        if (p >= 0)
            rc = early_visit(b, (size_t)p, seen, depth + 1);
        *dot = '.';
    }
    free(name);
    if (rc != 0 || seen[i])
        return rc; /* seen: a package imported it */
    seen[i] = true;
    if (m->kind == MOD_EXTENSION && !m->excluded && !m->by_string) {
        char *rel = build_ext_rel(m);
        rc = !rel || buf_printf(&b->manifest, "early %s\n", rel) != 0 ? -1 : 0;
        free(rel);
    }
    for (size_t k = 0; k < m->neager && rc == 0; k++)
        rc = early_visit(b, m->eager[k], seen, depth + 1);
    return rc;
}

/* The manifest's "early" lines: the extension modules the app imports as
 * it starts, in the order it does (what a first start unpacks ahead of
 * the imports, on another CPU: stub/prefetch.c).  A guess from the
 * script's code: an import that does not happen costs only the unpacking. */
static int early_lines(struct build *b)
{
    bool *seen = calloc(b->graph.n ? b->graph.n : 1, sizeof *seen);
    int rc = seen && (!b->graph.n || early_visit(b, 0, seen, 0) == 0) ? 0 : -1;

    free(seen);
    return rc ? err_set(b->err, ENOMEM, "out of memory") : 0;
}

/* The lazy files' manifest lines, with the CRC-32C of what is stored (so
 * after stripping), the early ones, then the manifest itself becomes an
 * entry. */
int finish_manifest(struct build *b)
{
    for (size_t i = 0; i < b->nentries; i++) {
        const struct entry *en = &b->entries[i];
        char *data = NULL;
        size_t len = 0;
        if (!en->lazy)
            continue;
        if (util_read_file(en->file, (size_t)1 << 32, &data, &len, b->err) != 0)
            return -1;
        uint32_t crc = crc32c(0, data, len);
        free(data);
        if (buf_printf(&b->manifest, "lazy %08x %s%s\n", (unsigned)crc,
                       en->name + strlen(PAYLOAD_NATIVE_PREFIX), en->lazy) != 0)
            return err_set(b->err, ENOMEM, "out of memory");
    }
    /* the stub reads no manifest over PAYLOAD_MANIFEST_MAX: the early
     * lines, a guess, go first */
    size_t before = b->manifest.len;
    if (early_lines(b) != 0)
        return -1;
    if (b->manifest.len > PAYLOAD_MANIFEST_MAX) {
        b->manifest.data[b->manifest.len = before] = '\0';
        build_say(b, 1, "no modules prefetched at a first start: the manifest would be over %d KiB",
                  PAYLOAD_MANIFEST_MAX / 1024);
    }
    if (b->manifest.len > PAYLOAD_MANIFEST_MAX)
        return err_set(b->err, 0, "too many native files for one bundle: their list is %zu KiB, over the %d KiB "
                                  "a bundle holds; leave some out (--exclude-module)",
                       b->manifest.len / 1024, PAYLOAD_MANIFEST_MAX / 1024);
    return build_add_entry(b, strdup(PAYLOAD_MANIFEST), NULL, b->manifest.data, b->manifest.len, false);
}

/* Copies src to dst. */
static int copy_file(const char *src, const char *dst, struct err *err)
{
    char *data = NULL;
    size_t len = 0;
    int fd, rc = -1;

    if (util_read_file(src, (size_t)1 << 32, &data, &len, err) != 0)
        return -1;
    fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && util_write_all(fd, data, len) == 0 && close(fd) == 0)
        rc = 0;
    else
        err_set(err, errno, "cannot write '%s'", dst);
    free(data);
    return rc;
}

/* Debug information is most of an unstripped libpython (23 of 27 MB for
 * pyenv's 3.11): copies of the native files go through one `strip
 * --strip-unneeded`, as distributions strip the libraries they ship: the
 * dynamic symbols stay (backtraces name every exported function), the
 * local symbol table goes (0.7 MB of libpython, which a first start writes
 * and checks).  Without binutils the files are bundled as they are. */
int strip_natives(struct build *b)
{
    struct strvec argv = STRVEC_INIT;
    struct buf errout = {0};
    struct err e2 = {0};
    int status = 0, rc = -1;

    b->strip_dir = build_strdupf("%s/bundle-strip-XXXXXX", temp_dir());
    if (!b->strip_dir || !temp_make_dir(b->strip_dir)) {
        free(b->strip_dir);
        b->strip_dir = NULL;
        return err_set(b->err, errno, "cannot create a temp dir in %s", temp_dir());
    }
    if (strvec_push(&argv, "strip") != 0 || strvec_push(&argv, "--strip-unneeded") != 0)
        goto oom;
    for (size_t i = 0; i < b->nentries; i++) {
        struct entry *en = &b->entries[i];
        if (!en->strip)
            continue;
        char *dst = build_strdupf("%s/%zu-%s", b->strip_dir, i, util_base_name(en->file));
        if (!dst || strvec_push_owned(&b->stripped, dst) != 0 || strvec_push(&argv, dst) != 0)
            goto oom;
        if (copy_file(en->file, dst, b->err) != 0)
            goto out;
    }
    if (util_run(argv.v, NULL, 0, NULL, &errout, &status, &e2) != 0 || status != 0) {
        build_say(b, 1, "native files bundled unstripped (strip: %s)",
            e2.msg[0] ? e2.msg : errout.data ? errout.data : "failed");
        rc = 0;
        goto out;
    }
    for (size_t i = 0, k = 0; i < b->nentries; i++)
        if (b->entries[i].strip)
            b->entries[i].file = b->stripped.v[k++];
    rc = 0;
    goto out;
oom:
    err_set(b->err, ENOMEM, "out of memory");
out:
    strvec_release(&argv);
    buf_release(&errout);
    return rc;
}

