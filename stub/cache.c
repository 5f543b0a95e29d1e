/* cache.c - the content-addressed cache of a bundle's native parts.
 *
 * <base>/<sha256>/ holds libpython, the shared libraries and the extension
 * modules.  It is filled in a private temp dir and renamed into place, so a
 * concurrent first run or a SIGKILL half-way can never leave a half entry
 * that is used: an entry that exists is complete.  The base is the user's
 * own: created 0700, refused when another user owns it or can write it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/sha256.h"
#include "stub.h"

#define MAX_BASES 4

/* Candidate bases in order of preference; returns how many (malloc'ed). */
static size_t cache_bases(char *bases[MAX_BASES])
{
    size_t n = 0;
    const char *v;
    char *p;

    if ((v = getenv("BUNDLE_CACHE_DIR")) && *v && (p = strdup(v)))
        bases[n++] = p;
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

int cache_find(const struct stub_self *self, char **dir)
{
    char *bases[MAX_BASES];
    size_t n = cache_bases(bases);
    int found = -1;

    for (size_t i = 0; i < n && found < 0; i++) {
        char *d = NULL;
        struct stat st;
        if (asprintf(&d, "%s/%s", bases[i], self->hex) < 0)
            continue;
        /* the entry is complete iff it exists: it is renamed into place whole */
        if (lstat(d, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
            stub_debug("cache hit: %s", d);
            *dir = d;
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
    struct stat st;
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
    if (lstat(base, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) != 0) {
        stub_debug("cache base %s refused: not a private directory of this user", base);
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* Hashes the file before the trailer and compares with the trailer. */
static int verify_hash(const struct stub_self *self)
{
    static uint8_t buf[1 << 16];
    struct sha256 s;
    uint8_t digest[SHA256_LEN];
    uint64_t left = self->trailer.archive_offset + self->trailer.archive_size, off = 0;

    sha256_init(&s);
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
        ssize_t got = pread(self->fd, buf, want, (off_t)off);
        if (got <= 0)
            return -1;
        sha256_update(&s, buf, (size_t)got);
        off += (uint64_t)got;
        left -= (uint64_t)got;
    }
    sha256_final(&s, digest);
    return memcmp(digest, self->trailer.sha256, SHA256_LEN) == 0 ? 0 : -1;
}

/* Creates the parent directories of rel under dfd. */
static int make_parents(int dfd, const char *rel)
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

static int copy_range(int in, uint64_t off, uint64_t len, int out)
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
        if (n <= 0)
            return -1;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            done += w;
        }
        ioff += n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* Extracts every _native/ entry into the directory dfd. */
static int extract(const struct stub_self *self, int dfd, char *why, size_t whylen, int *corrupt)
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
    while ((r = payload_cd_next(buf, &cd, &self->trailer, &pos, &e, &reason)) == 1) {
        char rel[PAYLOAD_PATH_MAX + 1];
        uint8_t local[30];
        uint64_t data;
        int out;

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
        memcpy(rel, e.name + plen, e.name_len - plen);
        rel[e.name_len - plen] = '\0';
        if (pread(self->fd, local, sizeof local, (off_t)e.header_offset) != (ssize_t)sizeof local ||
            payload_entry_data(local, &e, &self->trailer, &data, &reason) != 0) {
            if (!reason)
                reason = "cannot read an entry header";
            goto corrupt;
        }
        if (make_parents(dfd, rel) != 0) {
            snprintf(why, whylen, "cannot create '%s' in the cache: %s", rel, strerror(errno));
            goto out;
        }
        out = openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
        if (out < 0 || copy_range(self->fd, data, e.usize, out) != 0) {
            snprintf(why, whylen, "cannot write '%s' in the cache: %s", rel, strerror(errno));
            if (out >= 0)
                close(out);
            goto out;
        }
        close(out);
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
    if (!mkdtemp(tmp) || (dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot create a directory in '%s': %s", base, strerror(errno));
        goto out;
    }
    stub_debug("extracting into %s", tmp);
    if (extract(self, dfd, why, whylen, corrupt) != 0)
        goto out;
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

int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt)
{
    char *bases[MAX_BASES];
    size_t n;
    int rc = -1;

    if (verify_hash(self) != 0) {
        *corrupt = 1;
        snprintf(why, whylen, "checksum mismatch");
        return -1;
    }
    stub_debug("archive checksum verified");
    n = cache_bases(bases);
    for (size_t i = 0; i < n && rc != 0; i++) {
        rc = fill_in(self, bases[i], dir, why, whylen, corrupt);
        if (rc != 0 && *corrupt)
            break;
        if (rc != 0)
            stub_debug("%s", why);
    }
    free_bases(bases, n);
    return rc;
}

int manifest_load(const char *dir, struct stub_manifest *m, char *why, size_t whylen)
{
    char *path = NULL, *text = NULL, *line, *save = NULL;
    int fd = -1, rc = -1;
    ssize_t len;

    memset(m, 0, sizeof *m);
    if (asprintf(&path, "%s/manifest", dir) < 0 || !(text = malloc(PAYLOAD_MANIFEST_MAX + 1)))
        goto oom;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || (len = read(fd, text, PAYLOAD_MANIFEST_MAX)) < 0) {
        snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    text[len] = '\0';
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
            if (!payload_path_safe(val, strlen(val)))
                goto bad;
            if (!(copy = strdup(val)))
                goto oom;
            if (line[0] == 'l') {
                free(m->libpython);
                m->libpython = copy;
            } else {
                char **v = realloc(m->preload, (m->npreload + 1) * sizeof *v);
                if (!v) {
                    free(copy);
                    goto oom;
                }
                m->preload = v;
                m->preload[m->npreload++] = copy;
            }
        }
    }
    if (!m->libpython || m->py_major != 3)
        goto bad;
    rc = 0;
    goto out;
bad:
    snprintf(why, whylen, "malformed manifest '%s'", path);
    goto out;
oom:
    snprintf(why, whylen, "out of memory");
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(text);
    if (rc != 0)
        manifest_release(m);
    return rc;
}

void manifest_release(struct stub_manifest *m)
{
    free(m->libpython);
    for (size_t i = 0; i < m->npreload; i++)
        free(m->preload[i]);
    free(m->preload);
    memset(m, 0, sizeof *m);
}
