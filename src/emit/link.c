#include "bundle/emit/link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/collect/elfdeps.h"
#include "bundle/util/strvec.h"
#include "bundle/util/util.h"

extern const unsigned char bundle_stub_objs_start[], bundle_stub_objs_end[];
extern const unsigned char bundle_zstd_start[], bundle_zstd_end[];
extern const unsigned char bundle_stub_ld_start[], bundle_stub_ld_end[];

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = util_vformat(f, ap);
    va_end(ap);
    return s;
}

char *link_lib_flag(const char *name)
{
    /* glibc's: on every host, and not meant to be linked statically */
    static const char *const glibc[] = {"c", "m", "dl", "pthread", "rt", "util", "resolv", "nsl", "anl"};
    for (size_t i = 0; i < sizeof glibc / sizeof glibc[0]; i++)
        if (strcmp(name, glibc[i]) == 0)
            return fmt("-l%s", name);
    return fmt("-l:lib%s.a", name);
}

static int write_blob(const char *path, const unsigned char *start, const unsigned char *end)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = -1;
    if (fd >= 0 && util_write_all(fd, start, (size_t)(end - start)) == 0)
        rc = 0;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    return rc;
}

/* The first line of s, for a one-line reason. */
static char *first_line(const char *s)
{
    if (!s || !*s)
        return strdup("no message");
    return strndup(s, strcspn(s, "\n"));
}

char *link_stub(const struct probe *p, const char *dir, char **why)
{
    struct strvec argv = STRVEC_INIT;
    struct buf errout = {0};
    struct err e = {0};
    struct elfdeps_info info = {0};
    char *stub_a = util_join(dir, "stub.a"), *zstd_a = util_join(dir, "zstd.a"), *ld = util_join(dir, "stub.ld"), *out = util_join(dir, "stub");
    char *libs = p->link_libs ? strdup(p->link_libs) : strdup(""), *save = NULL;
    int status = 0;
    bool ok = false;

    *why = NULL;
    if (!stub_a || !zstd_a || !ld || !out || !libs) {
        *why = strdup("out of memory");
        goto done;
    }
    if (!p->libpython_a || !p->libpython_a[0]) {
        *why = strdup("the interpreter has no static libpython");
        goto done;
    }
    if (write_blob(stub_a, bundle_stub_objs_start, bundle_stub_objs_end) != 0 ||
        write_blob(zstd_a, bundle_zstd_start, bundle_zstd_end) != 0) {
        *why = fmt("cannot write in %s: %s", dir, strerror(errno));
        goto done;
    }
    /* the stub's main first; all of libpython, for the extension modules */
    /* -u: the stub's stand-ins for zstd's 2016 readers (stub/nolegacy.c)
     * come from stub.a before zstd.a's own readers are wanted */
    const char *head[] = {"cc", "-pie", "-o", out, "-Wl,-u,ZSTDv05_createDCtx", stub_a, zstd_a,
                          "-Wl,--whole-archive", p->libpython_a, "-Wl,--no-whole-archive"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        if (strvec_push(&argv, head[i]) != 0)
            goto oom;
    /* -lNAME of LIBS, SYSLIBS and MODLIBS; -L and -Wl,-rpath name the build
     * machine's directories, which have no place in the bundle */
    for (char *t = strtok_r(libs, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        if (strncmp(t, "-l", 2) != 0 || !t[2])
            continue;
        char *flag = link_lib_flag(t + 2);
        if (!flag)
            goto oom;
        if (strvec_find(&argv, flag) >= 0) {
            free(flag);
            continue;
        }
        if (strvec_push_owned(&argv, flag) != 0)
            goto oom;
    }
    /* libpython's symbols are exported, for the extension modules; those
     * of the stub (built hidden) and of the static libraries beside it are
     * not: they must not take the place of a bundled library's own */
    struct buf hide = {0};
    buf_printf(&hide, "-Wl,--exclude-libs,zstd.a");
    for (size_t i = 0; i < argv.n; i++)
        if (strncmp(argv.v[i], "-l:", 3) == 0)
            buf_printf(&hide, ":%s", argv.v[i] + 3);
    if (!hide.data || strvec_push_owned(&argv, hide.data) != 0)
        goto oom;
    const char *tail[] = {"-ldl", "-lpthread", "-lm", "-lutil", "-Wl,--export-dynamic", "-Wl,-O1", "-s"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        if (strvec_push(&argv, tail[i]) != 0)
            goto oom;
    /* the stub's layout (stub/guard.c), where this build of bundle has one
     * and this machine's linker takes it; else the linker's own */
    bool layout = bundle_stub_ld_end - bundle_stub_ld_start > 0 &&
                  write_blob(ld, bundle_stub_ld_start, bundle_stub_ld_end) == 0;
    if (layout) {
        char *t = fmt("-Wl,-T,%s", ld);
        if (!t || strvec_push_owned(&argv, t) != 0 || strvec_push(&argv, "-Wl,-u,bundle_guard_entry") != 0)
            goto oom;
    }
    for (int attempt = 0;; attempt++) {
        if (util_run(argv.v, NULL, 0, NULL, &errout, &status, &e) != 0) {
            *why = fmt("no C compiler (cc: %s)", e.msg[0] ? e.msg : "cannot run");
            goto done;
        }
        if (status == 0 || !layout || attempt > 0)
            break;
        /* the layout is not this linker's: link without it */
        strvec_pop(&argv, 2);
        errout.len = 0;
    }
    if (status != 0) {
        char *line = first_line(errout.data);
        *why = fmt("cc failed: %s", line ? line : "?");
        free(line);
        goto done;
    }
    /* it must run wherever the shared way would: glibc's libraries only */
    if (elfdeps_read(out, &info, &e) != 0) {
        *why = fmt("the linked stub is unreadable: %s", e.msg);
        goto done;
    }
    for (size_t i = 0; i < info.nneeded; i++) {
        if (!elfdeps_is_host_base(info.needed[i])) {
            *why = fmt("the linked stub needs %s", info.needed[i]);
            goto done;
        }
    }
    ok = true;
    goto done;
oom:
    *why = strdup("out of memory");
done:
    elfdeps_info_release(&info);
    strvec_release(&argv);
    buf_release(&errout);
    free(stub_a);
    free(zstd_a);
    free(ld);
    free(libs);
    if (!ok) {
        free(out);
        out = NULL;
        if (!*why)
            *why = strdup("out of memory");
    }
    return out;
}
