/* fill.c - a first start makes the cache entry: the files a start needs
 * are unpacked into a private temp dir, which is renamed into place whole
 * (cache_fill), while a second thread checks the bundle's CRC-32Cs
 * (check_verdict); and the first start after a reboot checks the entry's
 * files once (cache_check_boot).  Depends on cache.c, place.c and
 * manifest.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/util/crc32c.h"
#include "cache_impl.h"
#include "stub.h"

/* Checks the CRC-32Cs of the file (all of it but the check itself). */
int cache_verify(const struct stub_self *self)
{
    uint64_t covered = self->trailer.archive_offset + self->trailer.archive_size + PAYLOAD_CHECKED_TAIL;
    uint32_t got[4];
    void *map;

    /* payload_trailer_decode made sure the file holds this much */
    if (covered > self->size || covered > SIZE_MAX)
        return -1;
    map = mmap(NULL, (size_t)covered, PROT_READ, MAP_PRIVATE, self->fd, 0);
    if (map == MAP_FAILED)
        return -1;
    crc32c_quarters(map, (size_t)covered, got);
    munmap(map, (size_t)covered);
    return memcmp(got, self->trailer.check, sizeof got) == 0 ? 0 : -1;
}

/* Writes one entry under the directory dfd, then extra (extralen bytes). */
static int extract_one(int dfd, const struct stub_self *self, const struct stub_file *f, const char *extra,
                       size_t extralen, char *why, size_t whylen)
{
    int out;

    if (make_parents(dfd, f->rel) != 0) {
        snprintf(why, whylen, "cannot create '%s' in the cache: %s", f->rel, strerror(errno));
        return -1;
    }
    /* Not flushed, and no blocks allocated up front: on ext4, XFS and btrfs
     * the size on disk then grows only as the data gets there, so a power
     * cut leaves a short file, never a whole one of zeros, and the first
     * start after a reboot finds it (cache_check_boot). */
    out = openat(dfd, f->rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    if (out < 0 || entry_write(self->fd, f, out, NULL) != 0 ||
        (extralen && write_full(out, extra, extralen) != 0)) {
        snprintf(why, whylen, "cannot write '%s' in the cache: %s", f->rel, strerror(errno));
        if (out >= 0)
            close(out);
        return -1;
    }
    close(out);
    return 0;
}

/* The id of this boot (36 characters and a newline), or -1. */
static int boot_id(char id[40])
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, id, 39) : -1;

    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    id[n] = '\0';
    return 0;
}

/* The name of the file that records, in an entry, that its files were
 * whole in this boot (written in it, or checked): "boot-ID". */
static int boot_mark(char name[48])
{
    char id[40];
    size_t n;

    if (boot_id(id) != 0)
        return -1;
    n = strcspn(id, "\n");
    if (n == 0 || n > 36 || id[strspn(id, "0123456789abcdef-")] != '\n')
        return -1;
    snprintf(name, 48, "boot-%.*s", (int)n, id);
    return 0;
}

/* Records in the entry dfd that its files are whole as of this boot: they
 * are, as long as the machine has not restarted since, whatever reached
 * the disk.  Marks of other boots go. */
static int write_boot(int dfd)
{
    char name[48];
    int fd;
    DIR *d;
    struct dirent *de;

    if (boot_mark(name) != 0)
        return 0; /* no id: every start checks */
    if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return -1;
    close(fd);
    if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 && (d = fdopendir(fd))) {
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, "boot-", 5) == 0 && strcmp(de->d_name, name) != 0)
                unlinkat(dfd, de->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    return 0;
}

/* What the stub adds to the entry's copy of the manifest: the size of each
 * file it loads (libpython, the preloaded libraries, the lazy files), which
 * later starts check before they use one.  malloc'ed, or NULL. */
static char *size_lines(const struct stub_table *t, const struct stub_manifest *m, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    const struct stub_file *x;

    if (!f)
        return NULL;
    fputc('\n', f); /* whatever the bundle's manifest ends with */
    if (m->libpython && (x = table_find(t, m->libpython)))
        fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    for (size_t i = 0; i < m->npreload; i++)
        if ((x = table_find(t, m->preload[i])))
            fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    for (size_t i = 0; i < m->nlazy; i++)
        if ((x = table_find(t, m->lazy[i].rel)))
            fprintf(f, "size %llu %s\n", (unsigned long long)x->size, x->rel);
    fputs("sized 1\n", f); /* last: a manifest cut short by a power cut lacks it */
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Unpacks what a start needs into dfd: all but the lazy files. */
static int extract_eager(int dfd, struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stub_manifest m;
    const struct stub_table *t;
    char *extra;
    size_t extralen = 0;
    int rc = 0;

    if (manifest_of(self, &m, why, whylen, corrupt) != 0)
        return -1;
    t = &self->files;
    if (!(extra = size_lines(t, &m, &extralen))) {
        manifest_release(&m);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct stub_file *f = &t->files[i];
        if (strcmp(f->rel, "manifest") == 0)
            rc = extract_one(dfd, self, f, extra, extralen, why, whylen);
        else if (!manifest_lazy(&m, f->rel) && strncmp(f->rel, "glibc/", 6) != 0) /* glibc: carry.c */
            rc = extract_one(dfd, self, f, NULL, 0, why, whylen);
    }
    free(extra);
    manifest_release(&m);
    /* sys._MEIPASS exists even when all it will hold is unpacked later */
    if (rc == 0 && mkdirat(dfd, "site", 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create 'site' in the cache: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && write_boot(dfd) != 0) {
        snprintf(why, whylen, "cannot write in the cache: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Makes a temp dir under bfd named .tmp-HEX16-XXXXXX (name, namelen). */
static int make_temp(int bfd, const char *hex, char *name, size_t namelen)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct timespec ts;

    for (unsigned tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        char suffix[7];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ tries;
            memcpy(r, &x, sizeof r);
        }
        for (size_t i = 0; i < sizeof r; i++)
            suffix[i] = set[r[i] % (sizeof set - 1)];
        suffix[6] = '\0';
        snprintf(name, namelen, ".tmp-%.16s-%s", hex, suffix);
        if (mkdirat(bfd, name, 0700) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static int fill_in(const struct stub_self *self, const char *base, char **dir, char *why,
                   size_t whylen, int *corrupt)
{
    char tmp[64] = "";
    struct stat st;
    int bfd, dfd = -1, fd, rc = -1;

    if ((bfd = cache_base_open(base, 1, why, whylen)) < 0)
        return -1;
    /* the base is locked shared from the temp dir's making until the temp
     * dir is locked: cache_prune, which takes it exclusively, never sees a
     * temp dir that is nobody's yet and would remove it */
    flock(bfd, LOCK_SH);
    if (make_temp(bfd, self->hex, tmp, sizeof tmp) != 0 ||
        (dfd = openat(bfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot create a directory in '%s': %s", base, strerror(errno));
        flock(bfd, LOCK_UN);
        goto out;
    }
    /* held while extracting: a temp dir nobody holds is a killed run's */
    flock(dfd, LOCK_EX);
    flock(bfd, LOCK_UN);
    stub_debug("extracting into %s/%s", base, tmp);
    if (extract_eager(dfd, (struct stub_self *)self, why, whylen, corrupt) != 0)
        goto out;
    /* nothing of a corrupt bundle becomes a cache entry */
    if (check_verdict((struct stub_self *)self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        goto out;
    }
    if (renameat(bfd, tmp, bfd, self->hex) == 0) {
        tmp[0] = '\0';
        flock(dfd, LOCK_UN);
        if (fstat(dfd, &st) != 0) {
            snprintf(why, whylen, "cannot read the cache entry: %s", strerror(errno));
            goto out;
        }
        if (cache_entry_set(bfd, base, self->hex, dfd, &st) != 0) {
            snprintf(why, whylen, "out of memory");
            bfd = dfd = -1; /* closed by cache_entry_set */
            goto out;
        }
    } else if (errno == ENOTEMPTY || errno == EEXIST) {
        /* another first run won the race: its entry is as good as ours */
        stub_debug("another process filled %s/%s first", base, self->hex);
        if ((fd = cache_entry_open_dir(bfd, base, self->hex, &st, why, whylen)) < 0)
            goto out;
        cache_remove_tree(bfd, tmp);
        tmp[0] = '\0';
        close(dfd);
        if (cache_entry_set(bfd, base, self->hex, fd, &st) != 0) {
            snprintf(why, whylen, "out of memory");
            bfd = dfd = -1;
            goto out;
        }
    } else {
        snprintf(why, whylen, "cannot rename '%s/%s': %s", base, tmp, strerror(errno));
        goto out;
    }
    bfd = dfd = -1; /* the entry's now */
    stub_debug("cache entry ready: %s", cache_entry.path);
    if ((*dir = strdup(cache_entry.path)))
        rc = 0;
    else
        snprintf(why, whylen, "out of memory");
out:
    if (tmp[0] && bfd >= 0)
        cache_remove_tree(bfd, tmp);
    if (dfd >= 0)
        close(dfd);
    if (bfd >= 0)
        close(bfd);
    return rc;
}

/* The bundle is checked on a second thread while the first unpacks it:
 * the first start costs about the longer of the two, not their sum. */
static void *check_thread(void *arg)
{
    struct stub_self *self = arg;
    self->check_ok = cache_verify(self) == 0;
    return NULL;
}

static void check_start(struct stub_self *self)
{
    if (self->check_state != CHECK_NONE)
        return;
    if (pthread_create(&self->check_tid, NULL, check_thread, self) == 0) {
        self->check_state = CHECK_RUNNING;
    } else {
        self->check_ok = cache_verify(self) == 0; /* no thread: check here */
        self->check_state = CHECK_DONE;
    }
}

int check_verdict(struct stub_self *self)
{
    check_start(self);
    if (self->check_state == CHECK_RUNNING) {
        pthread_join(self->check_tid, NULL);
        self->check_state = CHECK_DONE;
    }
    stub_debug("archive checksum %s", self->check_ok ? "verified" : "MISMATCH");
    return self->check_ok ? 0 : -1;
}

int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt)
{
    char *bases[CACHE_MAX_BASES];
    size_t n;
    int rc = -1;

    check_start((struct stub_self *)self);
    n = cache_bases(bases);
    for (size_t i = 0; i < n && rc != 0; i++) {
        rc = fill_in(self, bases[i], dir, why, whylen, corrupt);
        if (rc != 0 && *corrupt)
            break;
        if (rc != 0)
            stub_debug("%s", why);
    }
    cache_bases_free(bases, n);
    if (rc != 0 && self->check_state == CHECK_RUNNING) {
        /* no thread outlives a failed fill */
        pthread_join(((struct stub_self *)self)->check_tid, NULL);
        ((struct stub_self *)self)->check_state = CHECK_DONE;
    }
    return rc;
}

int cache_check_boot(struct stub_self *self, const struct stub_manifest *m, char *why, size_t whylen, int *corrupt)
{
    char mark[48];
    const struct stub_table *t;
    struct stat st;
    int dfd = cache_entry_fd(), checked = 0;

    if (dfd < 0) {
        snprintf(why, whylen, "the cache entry is gone");
        return -1;
    }
    if (boot_mark(mark) == 0 && fstatat(dfd, mark, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    stub_debug("the cache entry %s was filled before this boot: checking its files", cache_entry.path);
    if (!(t = self_files(self, why, whylen, corrupt)))
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        const struct stub_file *f = &t->files[i];
        /* lazy files are checked at each use; the manifest ends with "sized" */
        if (manifest_lazy(m, f->rel) || strcmp(f->rel, "manifest") == 0)
            continue;
        if (fstatat(dfd, f->rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_uid == cache_uid() &&
            (st.st_mode & 022) == 0 && (uint64_t)st.st_size == f->size)
            continue;
        stub_debug("%s in the cache entry is damaged: replacing it", f->rel);
        /* an eager file has no checksum of its own: the whole bundle's */
        if (!checked && check_verdict(self) != 0) {
            *corrupt = 1;
            snprintf(why, whylen, "checksum mismatch");
            return -1;
        }
        checked = 1;
        if (cache_replace(self, f) != 0) {
            snprintf(why, whylen, "cannot replace '%s' in the cache entry: %s", f->rel, strerror(errno));
            return -1;
        }
    }
    if (write_boot(dfd) != 0)
        stub_debug("cannot record the check in the cache entry: %s", strerror(errno));
    return 0;
}
