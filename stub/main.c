/* main.c - the bootloader: find the payload in our own file, make sure the
 * native parts are in the cache, and run the app in this very process. */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/util/sha256.h"
#include "stub.h"

static int open_self(struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stat st;
    const char *reason = NULL;

    self->fd = open(stub_exe, O_RDONLY | O_CLOEXEC);
    if (self->fd < 0 || fstat(self->fd, &st) != 0) {
        snprintf(why, whylen, "cannot open its own executable: %s", strerror(errno));
        return -1;
    }
    self->size = (uint64_t)st.st_size;
    *corrupt = 1;
    if (self->size < sizeof self->tail) {
        snprintf(why, whylen, "file too small to hold a bundle");
        return -1;
    }
    if (pread(self->fd, self->tail, sizeof self->tail, (off_t)(self->size - sizeof self->tail)) !=
        (ssize_t)sizeof self->tail) {
        snprintf(why, whylen, "cannot read the trailer");
        return -1;
    }
    if (payload_trailer_decode(self->tail, self->size, &self->trailer, &reason) != 0) {
        snprintf(why, whylen, "%s", reason);
        return -1;
    }
    *corrupt = 0;
    sha256_hex(self->trailer.sha256, self->hex);
    return 0;
}

/* 0 if this host's glibc is at least the bundle's floor (the trailer's
 * flags), else -1 with why set: before anything is unpacked or loaded, one
 * line instead of the dynamic loader's "version `GLIBC_2.xx' not found". */
static int glibc_ok(const struct stub_self *self, char *why, size_t whylen)
{
    unsigned floor = self->trailer.flags & PAYLOAD_FLAG_GLIBC_MASK, major = 0, minor = 0;
    const char *have = gnu_get_libc_version();

    if (!floor || !have || sscanf(have, "%u.%u", &major, &minor) != 2 || (major << 8 | minor) >= floor)
        return 0;
    snprintf(why, whylen, "this bundle needs glibc >= %u.%u; this host has glibc %s (bundle it with "
             "--carry-glibc, or on a distribution no newer than the oldest host it must run on)", floor >> 8,
             floor & 0xff, have);
    return -1;
}

/* The path of our own file for sys.executable and the zip on sys.path. */
static char *self_path(void)
{
    char buf[PATH_MAX];
    if (strcmp(stub_exe, "/proc/self/exe") != 0)
        return strdup(stub_exe); /* run again under the carried glibc */
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return strdup("/proc/self/exe");
    buf[n] = '\0';
    return strdup(buf);
}

int main(int argc, char **argv)
{
    struct stub_self self = {.fd = -1};
    struct stub_manifest man = {0};
    struct stub_plan plan = {0};
    char why[STUB_WHY_MAX] = "";
    char *dir = NULL, *exe = NULL;
    int corrupt = 0, status = 1;

    stub_debug_init(argc, argv);

    const char *carried = carry_argv(&argc, &argv);
    if (carried)
        stub_exe = carried;
    if (open_self(&self, why, sizeof why, &corrupt) != 0)
        goto fail;
    /* a host older than the floor: refused, or (the bundle carries glibc)
     * the entry is filled and the stub runs again under the carried one */
    int need_carry = 0;
    if (glibc_ok(&self, why, sizeof why) != 0) {
        if (carried || !(self.trailer.flags & PAYLOAD_FLAG_CARRIES_GLIBC))
            goto fail;
        need_carry = 1;
    }
    stub_debug("bundle %s, archive at %llu (%llu bytes)", self.hex,
               (unsigned long long)self.trailer.archive_offset,
               (unsigned long long)self.trailer.archive_size);
    if (!(exe = self_path())) {
        snprintf(why, sizeof why, "out of memory");
        goto fail;
    }
    time_t used = 0;
    int hit = cache_find(&self, &dir, &used) == 0, ready = 0, retry = 1;
    /* an entry found damaged (or removed under us) is filled again, once;
     * whatever the cache cannot do, memory does */
    for (int round = 0; round < 2 && retry && !ready; round++) {
        if (!hit && cache_fill(&self, &dir, why, sizeof why, &corrupt) != 0) {
            if (corrupt)
                goto fail;
            break;
        }
        if (manifest_load(&man, why, sizeof why, &retry) == 0) {
            if (cache_check_boot(&self, &man, why, sizeof why, &corrupt) == 0) {
                if (need_carry) {
                    carry_exec(&self, &man, dir, exe, argc, argv, why, sizeof why, &corrupt);
                    goto fail; /* it returns only on failure */
                }
                if (plan_from_dir(&self, dir, &man, &plan, why, sizeof why, &corrupt) == 0) {
                    cache_prune(&self, &man, !hit, used);
                    ready = 1;
                    break;
                }
            }
            retry = 0; /* what a new entry would hold is in memory too */
        }
        if (corrupt)
            goto fail;
        stub_debug("%s", why);
        manifest_release(&man);
        free(dir);
        dir = NULL;
        cache_forget();
        hit = 0;
    }
    if (!ready && need_carry) {
        if (!corrupt)
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s",
                     why[0] ? "; " : "", "the glibc this bundle carries needs a cache directory, and none is usable");
        goto fail;
    }
    if (!ready && plan_from_memory(&self, &man, &plan, why, sizeof why, &corrupt) != 0)
        goto fail;
    if (native_init(&self, &man, &plan, why, sizeof why) != 0)
        goto fail;
    if (ready)
        prefetch_start(&self, &man);
    close(self.fd); /* the app must not inherit it */
    self.fd = -1;
    status = pyrun(&plan, &man, exe, argc, argv, why, sizeof why);
    if (status < 0) {
        status = 1;
        goto fail;
    }
    goto out;

fail:
    if (corrupt)
        fprintf(stderr, "%s: bundle is corrupt (%s); download it again\n", stub_progname, why);
    else
        fprintf(stderr, "%s: %s\n", stub_progname, why);
    status = corrupt ? 2 : 1;
out:
    plan_release(&plan);
    manifest_release(&man);
    free(dir);
    free(exe);
    if (self.fd >= 0)
        close(self.fd);
    table_release(&self.files);
    return status;
}
