/* fuzz_extract.c - the stub's first start on a hostile bundle, both ways it
 * can go (stub/main.c):
 *   cache:  cache_fill() (CRC-32C check on a second thread, extraction of
 *           the _native/ entries that are not lazy into a temp dir, rename
 *           into place), then
 *           manifest_load() and plan_from_dir() on what it extracted (each
 *           file opened through the entry and checked);
 *   memory: plan_from_memory(), used when no cache directory is usable:
 *           native parts in memfds, the manifest read from the bundle.
 *
 * The input is a whole bundle file.  A fuzzer cannot forge the CRC-32Cs, so
 * when the tail decodes the target writes the right ones into the trailer
 * (they cover the rest of the file: the rest of the input is untouched)
 * before it writes the file, and every input that gets past
 * payload_trailer_decode() reaches the extraction code itself.
 *
 * The cache bases (BUNDLE_CACHE_DIR, XDG_CACHE_HOME, HOME, TMPDIR) all point
 * into the scratch directory.  Promises checked: nothing is created outside
 * the bundle's own entry; no temp directory is left behind; what a
 * successful start would load is a path inside the entry (or a memfd);
 * (plan_from_dir names each file by its /proc/self/fd link: that must lead
 * into the entry, or to a memfd);
 * after a failed cache_fill() on a corrupt bundle, on which stub/main.c
 * returns from main(), no check thread is still using the caller's
 * struct stub_self.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/util/crc32c.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"
#include "fuzz_util.h"
#include "stub.h"

#define TAIL (PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE)
#define NBASES 4

/* The stub's main.c defines this; a quiet one here. */
void stub_debug(const char *fmt, ...)
{
    (void)fmt;
}

static char *file;          /* the bundle */
static char *top[NBASES];   /* what the scratch directory holds besides it */
static char *bases[NBASES]; /* the cache bases cache.c derives from the environment */
static char hex[2 * SHA256_LEN + 1];
static bool bad_path;

static void init(void)
{
    static const char *const env[NBASES] = {"BUNDLE_CACHE_DIR", "XDG_CACHE_HOME", "HOME", "TMPDIR"};
    static const char *const under[NBASES] = {"", "/bundle", "/.cache/bundle", NULL};

    file = fuzz_path("bundle");
    for (int i = 0; i < NBASES; i++) {
        char name[8];
        snprintf(name, sizeof name, "b%d", i);
        top[i] = fuzz_path(name);
        setenv(env[i], top[i], 1);
        if (under[i]) {
            if (asprintf(&bases[i], "%s%s", top[i], under[i]) < 0)
                abort();
        } else if (asprintf(&bases[i], "%s/bundle-%u", top[i], (unsigned)geteuid()) < 0) {
            abort();
        }
    }
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* 1 if path may exist after a run: the bundle, a base or one of its
 * parents up to the scratch directory, or inside the finished entry. */
static bool allowed(const char *path)
{
    size_t n;

    if (strcmp(path, fuzz_scratch()) == 0 || strcmp(path, file) == 0)
        return true;
    for (int i = 0; i < NBASES; i++) {
        /* the base and the directories above it */
        if (has_prefix(bases[i], path) && (n = strlen(path), bases[i][n] == '\0' || bases[i][n] == '/'))
            return true;
        n = strlen(bases[i]);
        if (has_prefix(path, bases[i]) && path[n] == '/' && has_prefix(path + n + 1, hex) &&
            (path[n + 1 + 2 * SHA256_LEN] == '\0' || path[n + 1 + 2 * SHA256_LEN] == '/'))
            return true;
    }
    return false;
}

static int check_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (!allowed(path)) {
        fprintf(stderr, "fuzz_extract: left behind or written outside the cache entry: %s\n", path);
        bad_path = true;
    }
    return 0;
}

/* What stub/main.c open_self() fills, on the file just written. */
static void open_self(struct stub_self *self, size_t size, const uint8_t *bytes)
{
    const char *reason = NULL;

    memset(self, 0, sizeof *self);
    self->fd = open(file, O_RDONLY | O_CLOEXEC);
    FUZZ_CHECK(self->fd >= 0);
    self->size = size;
    memcpy(self->tail, bytes + size - TAIL, TAIL);
    FUZZ_CHECK(payload_trailer_decode(self->tail, self->size, &self->trailer, &reason) == 0);
    sha256_hex(self->trailer.sha256, self->hex);
}

static void check_manifest(const struct stub_manifest *m)
{
    FUZZ_CHECK(m->py_major == 3 && !m->libpython == !!m->linked);
    FUZZ_CHECK(!m->libpython || payload_path_safe(m->libpython, strlen(m->libpython)));
    for (size_t i = 0; i < m->npreload; i++)
        FUZZ_CHECK(payload_path_safe(m->preload[i], strlen(m->preload[i])));
}

/* A /proc/self/fd name that leads into dir (or to a memfd); NULL dir: any. */
static bool leads_into(const char *path, const char *dir)
{
    char target[4096];
    ssize_t n;

    if (!path || !has_prefix(path, "/proc/self/fd/"))
        return false;
    if (!dir)
        return true;
    if ((n = readlink(path, target, sizeof target - 1)) <= 0)
        return false;
    target[n] = '\0';
    return has_prefix(target, "/memfd:") ||
           (has_prefix(target, dir) && target[strlen(dir)] == '/');
}

static void check_plan(const struct stub_plan *p, const struct stub_manifest *m, const char *dir)
{
    FUZZ_CHECK(m->linked ? !p->libpython : leads_into(p->libpython, dir));
    FUZZ_CHECK(p->npreload == m->npreload);
    for (size_t i = 0; i < p->npreload; i++)
        FUZZ_CHECK(leads_into(p->preload[i], dir));
}

static void run_cache(const uint8_t *bytes, size_t size)
{
    struct stub_self self;
    struct stub_manifest m;
    struct stub_plan plan;
    char why[STUB_WHY_MAX] = "", *dir = NULL;
    int corrupt = 0, rc, running;

    open_self(&self, size, bytes);
    rc = cache_fill(&self, &dir, why, sizeof why, &corrupt);
    running = self.check_state == CHECK_RUNNING;
    /* joined here whatever happens, so that this harness stays memory-safe */
    (void)check_verdict(&self);
    FUZZ_CHECK(!(rc != 0 && corrupt && running));
    if (rc == 0) {
        FUZZ_CHECK(self.check_ok && dir && strstr(dir, self.hex));
        int retry = 0;
        if (manifest_load(&m, why, sizeof why, &retry) == 0) {
            check_manifest(&m);
            if (plan_from_dir(&self, dir, &m, &plan, why, sizeof why, &corrupt) == 0) {
                check_plan(&plan, &m, dir);
                plan_release(&plan); /* its fds are closed below */
            } else {
                FUZZ_CHECK(why[0]);
            }
            manifest_release(&m);
        } else {
            FUZZ_CHECK(why[0]);
        }
        free(dir);
    } else {
        FUZZ_CHECK(why[0] && !dir);
        FUZZ_CHECK(strcmp(why, "checksum mismatch") != 0);
    }
    cache_forget();
    table_release(&self.files);
    close(self.fd);
}

static void run_memory(const uint8_t *bytes, size_t size)
{
    struct stub_self self;
    struct stub_manifest m;
    struct stub_plan plan;
    char why[STUB_WHY_MAX] = "";
    int corrupt = 0;

    open_self(&self, size, bytes);
    memset(&m, 0, sizeof m);
    if (plan_from_memory(&self, &m, &plan, why, sizeof why, &corrupt) == 0) {
        check_manifest(&m);
        check_plan(&plan, &m, NULL);
        plan_release(&plan);
    } else {
        FUZZ_CHECK(why[0]);
        FUZZ_CHECK(strcmp(why, "checksum mismatch") != 0);
    }
    manifest_release(&m);
    FUZZ_CHECK(self.check_state != CHECK_RUNNING);
    table_release(&self.files);
    close(self.fd);
}

static void run(const uint8_t *bytes, size_t size)
{
    struct fuzz_fds fds;

    fuzz_fds_snapshot(&fds);
    fuzz_write_file(file, bytes, size);
    memcpy(hex, "", 1);
    {
        struct stub_self self;
        open_self(&self, size, bytes);
        memcpy(hex, self.hex, sizeof hex);
        close(self.fd);
    }
    run_cache(bytes, size);
    run_memory(bytes, size);
    /* the lock on the entry and the memfds live as long as the process, by
     * design: closed here, or a long run runs out of descriptors */
    fuzz_fds_close_new(&fds);
    fd_path_reset(); /* nothing was loaded by those names */

    bad_path = false;
    nftw(fuzz_scratch(), check_one, 16, FTW_PHYS);
    FUZZ_CHECK(!bad_path);
    for (int i = 0; i < NBASES; i++)
        fuzz_rm_tree(top[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct payload_trailer t;
    const char *why = NULL;
    uint8_t *bytes;

    if (!file)
        init();
    if (size < TAIL || payload_trailer_decode(data + size - TAIL, size, &t, &why) != 0)
        return 0;
    bytes = (uint8_t *)fuzz_dup(data, size);
    crc32c_quarters(bytes, (size_t)(t.archive_offset + t.archive_size + PAYLOAD_CHECKED_TAIL), t.check);
    payload_trailer_encode(&t, bytes + size - PAYLOAD_TRAILER_SIZE);
    run(bytes, size);
    free(bytes);
    return 0;
}
