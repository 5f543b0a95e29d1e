/* cache.c - the content-addressed cache of a bundle's native parts.
 *
 * <base>/<sha256>/ holds libpython, the shared libraries and the extension
 * modules.  It is filled in a private temp dir and renamed into place, so a
 * concurrent first run or a SIGKILL half-way can never leave a half entry
 * that is used: an entry that exists is complete.  The base is the user's
 * own: created 0700, refused when another user owns it or can write it.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "bundle/crc32c.h"
#include "stub.h"

#define MAX_BASES 4

/* Candidate bases in order of preference; returns how many (malloc'ed). */
static size_t cache_bases(char *bases[MAX_BASES])
{
    size_t n = 0;
    const char *v;
    char *p;

    if ((v = getenv("BUNDLE_CACHE_DIR")) && *v) {
        char cwd[4096];
        /* absolute: sys._MEIPASS must survive the app's chdir() */
        if (v[0] == '/')
            p = strdup(v);
        else if (!getcwd(cwd, sizeof cwd) || asprintf(&p, "%s/%s", cwd, v) < 0)
            p = NULL;
        if (p)
            bases[n++] = p;
    }
    if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/' && asprintf(&p, "%s/bundle", v) > 0)
        bases[n++] = p;
    if ((v = getenv("HOME")) && v[0] == '/' && asprintf(&p, "%s/.cache/bundle", v) > 0)
        bases[n++] = p;
    v = getenv("TMPDIR");
    if (!(v && v[0] == '/'))
        v = "/tmp";
    if (asprintf(&p, "%s/bundle-%u", v, (unsigned)geteuid()) > 0)
        bases[n++] = p;
    return n;
}

static void free_bases(char *bases[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bases[i]);
}

/* A base directory of this user's that nobody else can write, not on a
 * noexec mount. */
static int base_usable(const char *base)
{
    struct stat st;
    struct statvfs vfs;
    if (lstat(base, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) != 0) {
        stub_debug("cache base %s refused: not a private directory of this user", base);
        return 0;
    }
    if (statvfs(base, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC)) {
        stub_debug("cache base %s refused: on a noexec mount", base);
        return 0;
    }
    return 1;
}

int cache_find(const struct stub_self *self, char **dir, time_t *used)
{
    char *bases[MAX_BASES];
    size_t n = cache_bases(bases);
    int found = -1;

    for (size_t i = 0; i < n && found < 0; i++) {
        char *d = NULL;
        struct stat st;
        if (asprintf(&d, "%s/%s", bases[i], self->hex) < 0)
            continue;
        /* the entry is complete iff it exists: it is renamed into place
         * whole; and it is used only while its base is still private and
         * can map code */
        if (lstat(d, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
            base_usable(bases[i])) {
            stub_debug("cache hit: %s", d);
            *dir = d;
            *used = st.st_mtime;
            found = 0;
        } else {
            stub_debug("cache miss: %s", d);
            free(d);
        }
    }
    free_bases(bases, n);
    return found;
}

/* mkdir -p with 0700 for what it creates; then insists the base is ours. */
static int make_base(const char *base)
{
    char path[PAYLOAD_PATH_MAX * 4];
    size_t len = strlen(base);

    if (len == 0 || len >= sizeof path)
        return -1;
    memcpy(path, base, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    if (!base_usable(base)) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

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

int make_parents(int dfd, const char *rel)
{
    char path[PAYLOAD_PATH_MAX + 1];
    size_t len = strlen(rel);

    memcpy(path, rel, len + 1);
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        if (mkdirat(dfd, path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = '/';
    }
    return 0;
}

int copy_range(int in, uint64_t off, uint64_t len, int out)
{
    static char buf[1 << 16];
    loff_t ioff = (loff_t)off;

#ifdef HAVE_COPY_FILE_RANGE
    while (len > 0) {
        ssize_t n = copy_file_range(in, &ioff, out, NULL, len, 0);
        if (n <= 0)
            break;
        len -= (uint64_t)n;
    }
    if (len == 0)
        return 0;
#endif
    while (len > 0) {
        ssize_t n = pread(in, buf, len < sizeof buf ? (size_t)len : sizeof buf, (off_t)ioff);
        if (n <= 0 || write_full(out, buf, (size_t)n) != 0)
            return -1;
        ioff += n;
        len -= (uint64_t)n;
    }
    return 0;
}

int write_full(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

#ifdef HAVE_MEMFD_CREATE
char *memfd_copy(int in, uint64_t off, uint64_t len, const char *name)
{
    char *path = NULL;
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0 || copy_range(in, off, len, fd) != 0 || asprintf(&path, "/proc/self/fd/%d", fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return NULL;
    }
    return path; /* the fd stays open: dlopen and import read it later */
}
#else
char *memfd_copy(int in, uint64_t off, uint64_t len, const char *name)
{
    (void)in, (void)off, (void)len, (void)name;
    errno = ENOSYS;
    return NULL;
}
#endif

/* Calls fn for every _native/ entry of the bundle (relative name without
 * the prefix, absolute data offset, size), after checking it.  Returns 0,
 * or -1 with why set (and *corrupt = 1 when the bundle is malformed). */
typedef int (*native_fn)(void *ctx, const struct stub_self *self, const char *rel, uint64_t off,
                         uint64_t size, char *why, size_t whylen);
static int native_each(const struct stub_self *self, native_fn fn, void *ctx, char *why, size_t whylen,
                       int *corrupt)
{
    struct payload_cd cd;
    const char *reason = NULL;
    uint8_t *buf = NULL;
    size_t pos = 0;
    struct payload_entry e;
    int rc = -1, r;
    const size_t plen = sizeof PAYLOAD_NATIVE_PREFIX - 1;

    if (payload_cd_locate(self->tail, &self->trailer, &cd, &reason) != 0)
        goto corrupt;
    buf = malloc(cd.size ? cd.size : 1);
    if (!buf || pread(self->fd, buf, cd.size, (off_t)cd.offset) != (ssize_t)cd.size) {
        snprintf(why, whylen, "cannot read the archive directory");
        goto out;
    }
    uint64_t total = 0;
    while ((r = payload_cd_next(buf, &cd, &self->trailer, &pos, &e, &reason)) == 1) {
        char rel[PAYLOAD_PATH_MAX + 1];
        uint8_t local[30];
        uint64_t data;

        if (e.name_len <= plen || memcmp(e.name, PAYLOAD_NATIVE_PREFIX, plen) != 0)
            continue;
        if (e.name[e.name_len - 1] == '/')
            continue; /* a directory entry */
        if (!payload_path_safe(e.name + plen, e.name_len - plen)) {
            reason = "unsafe entry name";
            goto corrupt;
        }
        if (e.method != 0) {
            reason = "native entry is compressed";
            goto corrupt;
        }
        /* stored entries cannot add up to more than the archive holds:
         * entries sharing their data (a zip bomb) are refused */
        total += e.usize;
        if (e.usize > self->trailer.archive_size || total > self->trailer.archive_size) {
            reason = "entries add up to more than the archive (overlapping entries)";
            goto corrupt;
        }
        memcpy(rel, e.name + plen, e.name_len - plen);
        rel[e.name_len - plen] = '\0';
        if (pread(self->fd, local, sizeof local, (off_t)e.header_offset) != (ssize_t)sizeof local ||
            payload_entry_data(local, &e, &self->trailer, &data, &reason) != 0) {
            if (!reason)
                reason = "cannot read an entry header";
            goto corrupt;
        }
        if (fn(ctx, self, rel, data, e.usize, why, whylen) != 0)
            goto out;
    }
    if (r < 0)
        goto corrupt;
    rc = 0;
    goto out;
corrupt:
    *corrupt = 1;
    snprintf(why, whylen, "%s", reason ? reason : "malformed archive");
out:
    free(buf);
    return rc;
}

/* native_each callback: adds one entry to the table ctx. */
static int table_add(void *ctx, const struct stub_self *self, const char *rel, uint64_t off,
                     uint64_t size, char *why, size_t whylen)
{
    struct stub_table *t = ctx;
    (void)self;
    if ((t->n & (t->n - 1)) == 0) { /* 0, 1, 2, 4...: grow to the next power of two */
        struct stub_file *f = realloc(t->files, (t->n ? 2 * t->n : 1) * sizeof *f);
        if (!f) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        t->files = f;
    }
    if (!(t->files[t->n].rel = strdup(rel))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    t->files[t->n].off = off;
    t->files[t->n].size = size;
    t->n++;
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct stub_file *)a)->rel, ((const struct stub_file *)b)->rel);
}

const struct stub_table *self_files(struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stub_table *t = &self->files;

    if (t->built)
        return t;
    if (native_each(self, table_add, t, why, whylen, corrupt) != 0) {
        table_release(t);
        return NULL;
    }
    if (t->n)
        qsort(t->files, t->n, sizeof *t->files, cmp_file);
    for (size_t i = 1; i < t->n; i++) {
        if (strcmp(t->files[i - 1].rel, t->files[i].rel) == 0) {
            *corrupt = 1;
            snprintf(why, whylen, "duplicate entry");
            table_release(t);
            return NULL;
        }
    }
    t->built = 1;
    return t;
}

const struct stub_file *table_find(const struct stub_table *t, const char *rel)
{
    struct stub_file key = {.rel = (char *)rel};
    return t->n ? bsearch(&key, t->files, t->n, sizeof *t->files, cmp_file) : NULL;
}

void table_release(struct stub_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->files[i].rel);
    free(t->files);
    memset(t, 0, sizeof *t);
}

/* Writes one entry under the directory dfd. */
static int extract_one(int dfd, const struct stub_self *self, const struct stub_file *f, char *why,
                       size_t whylen)
{
    int out;

    if (make_parents(dfd, f->rel) != 0) {
        snprintf(why, whylen, "cannot create '%s' in the cache: %s", f->rel, strerror(errno));
        return -1;
    }
    out = openat(dfd, f->rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    /* the blocks in one go: cheaper than growing the file page by page */
    if (out >= 0 && f->size > 0)
        (void)fallocate(out, 0, 0, (off_t)f->size);
    if (out < 0 || copy_range(self->fd, f->off, f->size, out) != 0) {
        snprintf(why, whylen, "cannot write '%s' in the cache: %s", f->rel, strerror(errno));
        if (out >= 0)
            close(out);
        return -1;
    }
    close(out);
    return 0;
}

/* The bundle's manifest, parsed. */
int manifest_of(struct stub_self *self, struct stub_manifest *m, char *why, size_t whylen, int *corrupt)
{
    const struct stub_table *t = self_files(self, why, whylen, corrupt);
    const struct stub_file *f = t ? table_find(t, "manifest") : NULL;
    char *text;
    int rc = -1;

    memset(m, 0, sizeof *m);
    if (!t)
        return -1;
    *corrupt = 1;
    if (!f || f->size > PAYLOAD_MANIFEST_MAX) {
        snprintf(why, whylen, "%s", f ? "manifest too large" : "no manifest");
        return -1;
    }
    if (!(text = malloc(f->size + 1))) {
        *corrupt = 0;
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (pread(self->fd, text, f->size, (off_t)f->off) != (ssize_t)f->size) {
        snprintf(why, whylen, "cannot read the manifest");
    } else {
        text[f->size] = '\0';
        if (manifest_parse(text, m) == 0) {
            *corrupt = 0;
            rc = 0;
        } else {
            snprintf(why, whylen, "malformed manifest");
        }
    }
    free(text);
    return rc;
}

/* Unpacks what a start needs into dfd: all but the lazy files. */
static int extract_eager(int dfd, struct stub_self *self, char *why, size_t whylen, int *corrupt)
{
    struct stub_manifest m;
    const struct stub_table *t;
    int rc = 0;

    if (manifest_of(self, &m, why, whylen, corrupt) != 0)
        return -1;
    t = &self->files;
    for (size_t i = 0; i < t->n && rc == 0; i++)
        if (!manifest_lazy(&m, t->files[i].rel))
            rc = extract_one(dfd, self, &t->files[i], why, whylen);
    manifest_release(&m);
    /* sys._MEIPASS exists even when all it will hold is unpacked later */
    if (rc == 0 && mkdirat(dfd, "site", 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create 'site' in the cache: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

/* rm -rf of a temp dir we created (no symlinks are followed). */
static void remove_tree(int parent, const char *name)
{
    int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd >= 0) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        if (d) {
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno == EISDIR)
                    remove_tree(dirfd(d), de->d_name);
            }
            closedir(d);
        } else {
            close(dfd);
        }
    }
    unlinkat(parent, name, AT_REMOVEDIR);
}

static int fill_in(const struct stub_self *self, const char *base, char **dir, char *why,
                   size_t whylen, int *corrupt)
{
    char *tmp = NULL, *final = NULL;
    int dfd = -1, rc = -1;

    if (make_base(base) != 0) {
        snprintf(why, whylen, "cannot use cache directory '%s': %s", base, strerror(errno));
        return -1;
    }
    if (asprintf(&tmp, "%s/.tmp-%.16s-XXXXXX", base, self->hex) < 0 ||
        asprintf(&final, "%s/%s", base, self->hex) < 0) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    /* the base is locked shared from mkdtemp() until the temp dir is
     * locked: cache_prune, which takes it exclusively, never sees a temp
     * dir that is nobody's yet and would remove it */
    int lockfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lockfd >= 0)
        flock(lockfd, LOCK_SH);
    if (!mkdtemp(tmp) || (dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot create a directory in '%s': %s", base, strerror(errno));
        if (lockfd >= 0)
            close(lockfd);
        goto out;
    }
    /* held while extracting: a temp dir nobody holds is a killed run's */
    flock(dfd, LOCK_EX);
    if (lockfd >= 0)
        close(lockfd);
    stub_debug("extracting into %s", tmp);
    if (extract_eager(dfd, (struct stub_self *)self, why, whylen, corrupt) != 0)
        goto out;
    /* nothing of a corrupt bundle becomes a cache entry */
    if (check_verdict((struct stub_self *)self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        goto out;
    }
    if (rename(tmp, final) != 0) {
        struct stat st;
        /* another first run won the race: its entry is as good as ours */
        if ((errno == ENOTEMPTY || errno == EEXIST) && lstat(final, &st) == 0 && S_ISDIR(st.st_mode)) {
            stub_debug("another process filled %s first", final);
        } else {
            snprintf(why, whylen, "cannot rename '%s': %s", tmp, strerror(errno));
            goto out;
        }
    } else {
        free(tmp);
        tmp = NULL;
    }
    stub_debug("cache entry ready: %s", final);
    *dir = final;
    final = NULL;
    rc = 0;
out:
    if (dfd >= 0)
        close(dfd);
    if (tmp) {
        char *slash = strrchr(tmp, '/');
        if (slash && tmp[0]) {
            *slash = '\0';
            int bfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (bfd >= 0) {
                remove_tree(bfd, slash + 1);
                close(bfd);
            }
        }
    }
    free(tmp);
    free(final);
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
    char *bases[MAX_BASES];
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
    free_bases(bases, n);
    if (rc != 0 && self->check_state == CHECK_RUNNING) {
        /* no thread outlives a failed fill */
        pthread_join(((struct stub_self *)self)->check_tid, NULL);
        ((struct stub_self *)self)->check_state = CHECK_DONE;
    }
    return rc;
}

static int cmp_lazy(const void *a, const void *b)
{
    return strcmp(((const struct stub_lazy *)a)->rel, ((const struct stub_lazy *)b)->rel);
}

struct stub_lazy *manifest_lazy(const struct stub_manifest *m, const char *rel)
{
    struct stub_lazy key = {.rel = (char *)rel};
    return m->nlazy ? bsearch(&key, m->lazy, m->nlazy, sizeof *m->lazy, cmp_lazy) : NULL;
}

static void lazy_release(struct stub_lazy *l)
{
    free(l->rel);
    for (size_t i = 0; i < l->ndeps; i++)
        free(l->deps[i]);
    free(l->deps);
    free(l->path);
}

/* A path of the manifest: safe under a directory, and no control bytes (a
 * CRLF manifest or a tab-separated line fails here, not later in open()). */
static int manifest_path_ok(const char *p)
{
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    return payload_path_safe(p, strlen(p));
}

/* "CRC PATH [DEP...]": appended to m->lazy. */
static int parse_lazy(char *val, struct stub_manifest *m)
{
    struct stub_lazy l = {0};
    char *tok, *save = NULL, *end;
    unsigned long crc;

    tok = strtok_r(val, " ", &save);
    if (!tok || strlen(tok) != 8 || strspn(tok, "0123456789abcdefABCDEF") != 8)
        return -1; /* exactly 8 hex digits: no sign, prefix or blank strtoul would take */
    crc = strtoul(tok, &end, 16);
    l.crc = (uint32_t)crc;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char *copy;
        if (!manifest_path_ok(tok) || !(copy = strdup(tok)))
            goto bad;
        if (!l.rel) {
            l.rel = copy;
            continue;
        }
        char **v = realloc(l.deps, (l.ndeps + 1) * sizeof *v);
        if (!v) {
            free(copy);
            goto bad;
        }
        l.deps = v;
        l.deps[l.ndeps++] = copy;
    }
    if (!l.rel)
        goto bad;
    struct stub_lazy *v = realloc(m->lazy, (m->nlazy + 1) * sizeof *v);
    if (!v)
        goto bad;
    m->lazy = v;
    m->lazy[m->nlazy++] = l;
    return 0;
bad:
    lazy_release(&l);
    return -1;
}

int manifest_parse(char *text, struct stub_manifest *m)
{
    char *line, *save = NULL;

    memset(m, 0, sizeof *m);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *val = strchr(line, ' ');
        if (!val)
            continue;
        *val++ = '\0';
        if (strcmp(line, "python") == 0) {
            if (sscanf(val, "%d.%d", &m->py_major, &m->py_minor) != 2)
                goto bad;
        } else if (strcmp(line, "libpython") == 0 || strcmp(line, "preload") == 0) {
            char *copy;
            if (!manifest_path_ok(val) || !(copy = strdup(val)))
                goto bad;
            if (line[0] == 'l') {
                free(m->libpython);
                m->libpython = copy;
            } else {
                char **v = realloc(m->preload, (m->npreload + 1) * sizeof *v);
                if (!v) {
                    free(copy);
                    goto bad;
                }
                m->preload = v;
                m->preload[m->npreload++] = copy;
            }
        } else if (strcmp(line, "name") == 0) {
            free(m->name);
            if (!(m->name = strdup(val)))
                goto bad;
        } else if (strcmp(line, "linked") == 0) {
            m->linked = strcmp(val, "1") == 0;
        } else if (strcmp(line, "lazy") == 0) {
            if (parse_lazy(val, m) != 0)
                goto bad;
        }
    }
    if (!m->libpython == !m->linked || m->py_major != 3) /* one of the two */
        goto bad;
    if (m->nlazy)
        qsort(m->lazy, m->nlazy, sizeof *m->lazy, cmp_lazy);
    for (size_t i = 1; i < m->nlazy; i++)
        if (strcmp(m->lazy[i - 1].rel, m->lazy[i].rel) == 0)
            goto bad;
    return 0;
bad:
    manifest_release(m);
    return -1;
}

int manifest_load(const char *dir, struct stub_manifest *m, char *why, size_t whylen)
{
    char *path = NULL, *text = NULL;
    int fd = -1, rc = -1;
    ssize_t len;

    memset(m, 0, sizeof *m);
    if (asprintf(&path, "%s/manifest", dir) < 0 || !(text = malloc(PAYLOAD_MANIFEST_MAX + 1))) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || (len = read(fd, text, PAYLOAD_MANIFEST_MAX)) < 0) {
        snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    text[len] = '\0';
    if (manifest_parse(text, m) != 0) {
        snprintf(why, whylen, "malformed manifest '%s'", path);
        goto out;
    }
    /* held until exit: a pruning start never removes an entry in use */
    flock(fd, LOCK_SH | LOCK_NB);
    m->lock_fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(text);
    return rc;
}

void manifest_release(struct stub_manifest *m)
{
    free(m->libpython);
    free(m->name);
    for (size_t i = 0; i < m->npreload; i++)
        free(m->preload[i]);
    free(m->preload);
    for (size_t i = 0; i < m->nlazy; i++)
        lazy_release(&m->lazy[i]);
    free(m->lazy);
    memset(m, 0, sizeof *m);
}

#define PRUNE_AGE (30 * 24 * 3600) /* unused this long: removed */
#define TOUCH_AGE (24 * 3600)      /* "used" is recorded at most once a day */

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

/* 1 if entry (a dir under bfd) is one of app name's and no process has it
 * locked; then it stays locked (returned in *lock) until the caller closes. */
static int same_app_unused(int bfd, const char *entry, const char *name, int *lock)
{
    char path[80], text[4096];
    ssize_t n;
    int fd, same = 0;

    snprintf(path, sizeof path, "%s/manifest", entry);
    fd = openat(bfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof text - 1);
    if (n > 0) {
        text[n] = '\0';
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, "name ", 5) == 0 && strncmp(l + 5, name, strlen(name)) == 0 &&
                (l[5 + strlen(name)] == '\n' || l[5 + strlen(name)] == '\0'))
                same = 1;
    }
    if (same && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        *lock = fd;
        return 1;
    }
    close(fd);
    return 0;
}

void cache_prune(const struct stub_self *self, const char *dir, const struct stub_manifest *m, int fresh,
                 time_t used)
{
    struct stat st;
    time_t now = time(NULL);
    char *base;
    DIR *d;
    struct dirent *de;
    int bfd;

    if (!fresh) {
        if (now - used < TOUCH_AGE) /* cache_find's lstat: no second one */
            return;
        utimensat(AT_FDCWD, dir, NULL, AT_SYMLINK_NOFOLLOW); /* used today */
    }
    if (!(base = strdup(dir)) || !strrchr(base, '/')) {
        free(base);
        return;
    }
    *strrchr(base, '/') = '\0';
    bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(base);
    if (bfd < 0)
        return;
    /* temp dirs are judged only with the base locked: see fill_in() */
    int may_sweep = flock(bfd, LOCK_EX | LOCK_NB) == 0;
    d = fdopendir(dup(bfd));
    while (d && (de = readdir(d)) != NULL) {
        int lock = -1;
        if (fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            if (!may_sweep)
                continue;
            int tfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (tfd >= 0 && flock(tfd, LOCK_EX | LOCK_NB) == 0) {
                stub_debug("removing %s, left by a killed run", de->d_name);
                remove_tree(bfd, de->d_name);
            }
            if (tfd >= 0)
                close(tfd);
        } else if (is_hex64(de->d_name) && strcmp(de->d_name, self->hex) != 0 && m->name &&
                   now - st.st_mtime > PRUNE_AGE && same_app_unused(bfd, de->d_name, m->name, &lock)) {
            /* renamed first: no start can see it half removed */
            char dead[96];
            snprintf(dead, sizeof dead, ".tmp-dead-%.16s-%ld", de->d_name, (long)getpid());
            stub_debug("removing %s, unused for 30 days", de->d_name);
            if (renameat(bfd, de->d_name, bfd, dead) == 0)
                remove_tree(bfd, dead);
            close(lock);
        }
    }
    if (d)
        closedir(d);
    close(bfd);
}
