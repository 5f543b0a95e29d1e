/* carry.c - running on a host whose glibc is older than the bundle needs.
 *
 * A bundle built with --carry-glibc holds the build machine's glibc under
 * _native/glibc/ (manifest "carry" lines).  On a host whose own glibc is
 * at least the bundle's floor none of it is read.  On an older one the
 * stub (which itself starts on glibc 2.17: compat.h) fills its cache entry
 * as always, unpacks the carried files into it (each checked against its
 * CRC-32C), and execs the carried loader on the bundle:
 *
 *   ENTRY/glibc/ld-linux-x86-64.so.2 --library-path ENTRY/glibc
 *       --argv0 ARGV0 BUNDLE MARKER+BUNDLE ARGS...
 *
 * The second run starts under the carried glibc: the floor holds, and it
 * goes on as any start does.  Only the loader's options name the carried
 * libraries, never the environment, so the app's children (subprocess,
 * /bin/sh) run with the host's own libraries and the environment the app
 * got; sys.executable is the bundle, so a multiprocessing child starts the
 * same way.  The marker (argv[1], removed before Python sees argv) names
 * the bundle, which /proc/self/exe no longer is (it is the loader).  glibc
 * 2.34 and later resolve users and hosts (files, dns) inside libc; the
 * carried libnss_* serve an older carried glibc.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub.h"

#define CARRY_MARKER STUB_CARRY_MARKER
#define CARRY_LOADER "glibc/ld-linux-x86-64.so.2"

const char *carry_argv(int *argc, char ***argv)
{
    static char path[PATH_MAX];
    size_t n = strlen(CARRY_MARKER);
    char **v = *argv;

    if (*argc < 2 || !v[1] || strncmp(v[1], CARRY_MARKER, n) != 0 || !v[1][n] ||
        strlen(v[1] + n) >= sizeof path)
        return NULL;
    memcpy(path, v[1] + n, strlen(v[1] + n) + 1);
    for (int i = 1; i < *argc; i++) /* argv[argc] is NULL: it moves too */
        v[i] = v[i + 1];
    (*argc)--;
    return path;
}

/* Unpacks the carried file g into the entry (self open) unless a checked
 * copy of its size is there.  0, or -1 with why set. */
static int carry_file(const struct stub_self *self, const struct stub_glibc *g, char *why, size_t whylen,
                      int *corrupt)
{
    const char *bad = NULL;
    const struct stub_table *t;
    const struct stub_file *f;
    int fd = cache_open(g->rel, g->size, 1, &bad);

    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (!bad && errno != ENOENT) {
        snprintf(why, whylen, "cannot open '%s' in the cache: %s", g->rel, strerror(errno));
        return -1;
    }
    if (!(t = self_files((struct stub_self *)self, why, whylen, corrupt)))
        return -1;
    if (!(f = table_find(t, g->rel)) || f->size != g->size) {
        *corrupt = 1;
        snprintf(why, whylen, "'%s' is missing", g->rel);
        return -1;
    }
    if (bad && cache_remove(g->rel) != 0) {
        snprintf(why, whylen, "'%s' in the cache is %s, and cannot be removed: %s", g->rel, bad, strerror(errno));
        return -1;
    }
    if (cache_place_file(g->rel, self->fd, f, &g->crc) != 0 && errno != EEXIST) {
        if (errno == EBADMSG) {
            *corrupt = 1;
            snprintf(why, whylen, "'%s' does not match its checksum", g->rel);
        } else {
            snprintf(why, whylen, "cannot unpack '%s' into the cache: %s", g->rel, strerror(errno));
        }
        return -1;
    }
    stub_debug("unpacked %s", g->rel);
    return 0;
}

int carry_exec(const struct stub_self *self, const struct stub_manifest *m, const char *dir, const char *exe,
               int argc, char **argv, char *why, size_t whylen, int *corrupt)
{
    char *loader = NULL, *libdir = NULL, *marker = NULL, **nargv = NULL;
    int has_loader = 0;

    for (size_t i = 0; i < m->nglibc; i++) {
        if (carry_file(self, &m->glibc[i], why, whylen, corrupt) != 0)
            return -1;
        has_loader |= strcmp(m->glibc[i].rel, CARRY_LOADER) == 0;
    }
    if (!has_loader) {
        *corrupt = 1;
        snprintf(why, whylen, "it carries no loader (%s)", CARRY_LOADER);
        return -1;
    }
    if (asprintf(&loader, "%s/%s", dir, CARRY_LOADER) < 0 || asprintf(&libdir, "%s/glibc", dir) < 0 ||
        asprintf(&marker, "%s%s", CARRY_MARKER, exe) < 0 || !(nargv = calloc((size_t)argc + 8, sizeof *nargv))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    const char *argv0 = argc > 0 && argv[0] ? argv[0] : exe;
    size_t k = 0;
    nargv[k++] = (char *)argv0;
    nargv[k++] = "--library-path";
    nargv[k++] = libdir;
    nargv[k++] = "--argv0";
    nargv[k++] = (char *)argv0;
    nargv[k++] = (char *)exe;
    nargv[k++] = marker;
    for (int i = 1; i < argc; i++)
        nargv[k++] = argv[i];
    nargv[k] = NULL;
    stub_debug("this host's glibc is older than the bundle's: running under the carried one (%s)", loader);
    fflush(NULL);
    execv(loader, nargv);
    snprintf(why, whylen, "cannot run the glibc it carries (%s): %s", loader, strerror(errno));
    return -1; /* loader, libdir, marker, nargv: the process ends */
}
