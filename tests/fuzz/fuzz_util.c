/* fuzz_util.c - scratch files and checks shared by the fuzz targets. */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static char *scratch;
static pid_t scratch_owner;

int fuzz_muted(const char *name)
{
    const char *list = getenv("BUNDLE_FUZZ_MUTE");
    size_t n = strlen(name);

    while (list && *list) {
        size_t len = strcspn(list, ",");
        if (len == n && strncmp(list, name, n) == 0)
            return 1;
        list += len;
        list += *list == ',';
    }
    return 0;
}

void fuzz_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "%s:%d: broken promise: %s\n", file, line, cond);
    abort();
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void fuzz_rm_tree(const char *path)
{
    /* a directory left unreadable by the code under test must go too */
    chmod(path, 0700);
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scratch(void)
{
    /* only the process that made it: a forked child exits through here too */
    if (scratch && scratch_owner == getpid())
        fuzz_rm_tree(scratch);
}

const char *fuzz_scratch(void)
{
    const char *base = getenv("BUNDLE_FUZZ_SCRATCH"), *tmp = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    struct stat st;
    struct statvfs vfs;

    if (scratch)
        return scratch;
    /* else /dev/shm when it is not noexec: the stub refuses a noexec cache
     * directory (Docker mounts /dev/shm noexec) */
    if (!base || base[0] != '/') {
        if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 &&
            statvfs("/dev/shm", &vfs) == 0 && !(vfs.f_flag & ST_NOEXEC))
            base = "/dev/shm";
        else
            base = tmp && tmp[0] == '/' ? tmp : "/tmp";
    }
    snprintf(tmpl, sizeof tmpl, "%s/bundle-fuzz-XXXXXX", base);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "fuzz: cannot create a scratch directory in %s: %s\n", base, strerror(errno));
        abort();
    }
    /* realpath: the code under test resolves paths (elfdeps: $ORIGIN) */
    if (!(scratch = realpath(tmpl, NULL)))
        abort();
    scratch_owner = getpid();
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_path(const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", fuzz_scratch(), name) < 0)
        abort();
    return p;
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
    const char *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0) {
        fprintf(stderr, "fuzz: cannot write '%s': %s\n", path, strerror(errno));
        abort();
    }
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            abort();
        p += n;
        size -= (size_t)n;
    }
    close(fd);
}

char *fuzz_dup(const void *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* Calls fn(fd, arg) for every open descriptor but the listing's own. */
static void each_fd(void (*fn)(int, void *), void *arg)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 && fd < FUZZ_FD_MAX)
            fn(fd, arg);
    }
    closedir(d);
}

static void mark(int fd, void *arg)
{
    struct fuzz_fds *s = arg;
    s->open[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

static void close_unmarked(int fd, void *arg)
{
    const struct fuzz_fds *s = arg;
    if (!(s->open[fd / 8] & (1u << (fd % 8))))
        close(fd);
}

void fuzz_fds_snapshot(struct fuzz_fds *s)
{
    memset(s, 0, sizeof *s);
    each_fd(mark, s);
}

void fuzz_fds_close_new(const struct fuzz_fds *s)
{
    each_fd(close_unmarked, (void *)s);
}
