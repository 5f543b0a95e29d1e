/* manifest.c - what the bundle holds and what its manifest says: the
 * table of the bundle's native files (self_files), the manifest parser
 * (hostile input: it comes out of the bundle file), and the manifest of the
 * entry in use, loaded and locked for as long as the process runs
 * (manifest_load).  Depends on cache.c (the entry in use) and prune.c (a
 * damaged entry is set aside).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"
#include "stub.h"

/* Calls fn for every _native/ entry of the bundle (relative name without
 * the prefix, where its data lies, its sizes and method), after checking it.  Returns 0,
 * or -1 with why set (and *corrupt = 1 when the bundle is malformed). */
typedef int (*native_fn)(void *ctx, const struct stub_self *self, const struct stub_file *f, char *why,
                         size_t whylen);
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
        if (e.method != 0 && e.method != PAYLOAD_ZSTD && e.method != PAYLOAD_ZSTD_CALLS) {
            reason = "native entry compressed with an unknown method";
            goto corrupt;
        }
        /* entries cannot add up to more than the archive holds: entries
         * sharing their data are refused */
        total += e.csize;
        if (e.csize > self->trailer.archive_size || total > self->trailer.archive_size) {
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
        struct stub_file f = {rel, data, e.csize, e.usize, e.method};
        if (fn(ctx, self, &f, why, whylen) != 0)
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
static int table_add(void *ctx, const struct stub_self *self, const struct stub_file *f, char *why,
                     size_t whylen)
{
    struct stub_table *t = ctx;
    (void)self;
    if ((t->n & (t->n - 1)) == 0) { /* 0, 1, 2, 4...: grow to the next power of two */
        struct stub_file *grown = realloc(t->files, (t->n ? 2 * t->n : 1) * sizeof *grown);
        if (!grown) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        t->files = grown;
    }
    t->files[t->n] = *f;
    if (!(t->files[t->n].rel = strdup(f->rel))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
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
    if (!f || f->size > PAYLOAD_MANIFEST_MAX || f->method != 0) {
        snprintf(why, whylen, "%s", !f ? "no manifest" : f->method ? "compressed manifest" : "manifest too large");
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

/* "CRC SIZE glibc/NAME": appended to m->glibc. */
static int parse_glibc(const char *val, struct stub_manifest *m)
{
    unsigned long crc;
    unsigned long long size;
    int n = 0;
    char hex[9];

    if (sscanf(val, "%8[0-9a-fA-F] %llu %n", hex, &size, &n) != 2 || n == 0 || strlen(hex) != 8 ||
        val[8] != ' ' || !isdigit((unsigned char)val[9]) || strncmp(val + n, "glibc/", 6) != 0 ||
        !manifest_path_ok(val + n) || strchr(val + n, ' '))
        return -1;
    crc = strtoul(hex, NULL, 16);
    struct stub_glibc *v = realloc(m->glibc, (m->nglibc + 1) * sizeof *v);
    if (!v)
        return -1;
    m->glibc = v;
    if (!(v[m->nglibc].rel = strdup(val + n)))
        return -1;
    v[m->nglibc].crc = (uint32_t)crc;
    v[m->nglibc].size = size;
    m->nglibc++;
    return 0;
}

/* "size BYTES PATH" (the stub's own lines in an entry's manifest): BYTES
 * and PATH (in place), or -1. */
static int parse_size(char *val, uint64_t *size, char **path)
{
    char *sp = strchr(val, ' ');
    size_t n = sp ? (size_t)(sp - val) : 0;

    if (n == 0 || n > 19 || strspn(val, "0123456789") != n || !manifest_path_ok(sp + 1))
        return -1;
    *size = strtoull(val, NULL, 10);
    *path = sp + 1;
    return 0;
}

/* The sizes the manifest gives, to their files. */
static void assign_sizes(struct stub_manifest *m, char **paths, const uint64_t *sizes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stub_lazy *l = manifest_lazy(m, paths[i]);
        if (l)
            l->size = sizes[i];
        if (m->libpython && strcmp(m->libpython, paths[i]) == 0)
            m->libpython_size = sizes[i];
        for (size_t k = 0; k < m->npreload && m->preload_size; k++)
            if (strcmp(m->preload[k], paths[i]) == 0)
                m->preload_size[k] = sizes[i];
    }
}

/* The lazy files named by early[0..n) (paths in the manifest's text), as
 * indexes into m->lazy, each once; a name that is no lazy file is
 * skipped. */
static int assign_early(struct stub_manifest *m, char **early, size_t n)
{
    unsigned char *seen;

    if (!n || !m->nlazy)
        return 0;
    if (!(m->early = malloc(n * sizeof *m->early)) || !(seen = calloc(m->nlazy, 1)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct stub_lazy *l = manifest_lazy(m, early[i]);
        if (l && !seen[l - m->lazy]) {
            seen[l - m->lazy] = 1;
            m->early[m->nearly++] = (size_t)(l - m->lazy);
        }
    }
    free(seen);
    return 0;
}

int manifest_parse(char *text, struct stub_manifest *m)
{
    char *line, *save = NULL, **paths = NULL, **early = NULL;
    uint64_t *sizes = NULL;
    size_t nsizes = 0, nearly = 0;

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
        } else if (strcmp(line, "carry") == 0) {
            if (parse_glibc(val, m) != 0)
                goto bad;
        } else if (strcmp(line, "early") == 0) {
            char **e;
            if (!manifest_path_ok(val) || nearly >= PAYLOAD_MANIFEST_MAX / 8 ||
                !(e = realloc(early, (nearly + 1) * sizeof *e)))
                goto bad;
            early = e;
            early[nearly++] = val;
        } else if (strcmp(line, "sized") == 0) {
            m->sized = strcmp(val, "1") == 0;
        } else if (strcmp(line, "size") == 0) {
            uint64_t size;
            char *path, **p;
            uint64_t *z;
            if (parse_size(val, &size, &path) != 0)
                goto bad;
            if (!(p = realloc(paths, (nsizes + 1) * sizeof *p)))
                goto bad;
            paths = p;
            if (!(z = realloc(sizes, (nsizes + 1) * sizeof *z)))
                goto bad;
            sizes = z;
            paths[nsizes] = path;
            sizes[nsizes++] = size;
        }
    }
    if (!m->libpython == !m->linked || m->py_major != 3) /* one of the two */
        goto bad;
    if (m->nlazy)
        qsort(m->lazy, m->nlazy, sizeof *m->lazy, cmp_lazy);
    for (size_t i = 1; i < m->nlazy; i++)
        if (strcmp(m->lazy[i - 1].rel, m->lazy[i].rel) == 0)
            goto bad;
    if (nsizes) {
        if (m->npreload && !(m->preload_size = calloc(m->npreload, sizeof *m->preload_size)))
            goto bad;
        assign_sizes(m, paths, sizes, nsizes);
    }
    if (assign_early(m, early, nearly) != 0)
        goto bad;
    free(paths);
    free(sizes);
    free(early);
    return 0;
bad:
    free(paths);
    free(sizes);
    free(early);
    manifest_release(m);
    return -1;
}

int manifest_load(struct stub_manifest *m, char *why, size_t whylen, int *retry)
{
    struct stat st;
    char *text = NULL;
    const char *bad = NULL;
    int dfd = cache_entry_fd(), fd = -1, rc = -1;
    ssize_t len;

    memset(m, 0, sizeof *m);
    *retry = 1;
    if (dfd < 0) {
        snprintf(why, whylen, "the cache entry is gone");
        return -1;
    }
    fd = openat(dfd, "manifest", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        bad = errno == ENOENT ? "missing" : errno == ELOOP ? "a symlink" : strerror(errno);
    else if (fstat(fd, &st) != 0)
        bad = strerror(errno);
    else if (!S_ISREG(st.st_mode) || st.st_uid != cache_uid() || (st.st_mode & 022) != 0)
        bad = "not a private file of this user";
    else if (st.st_size > 2 * PAYLOAD_MANIFEST_MAX)
        bad = "too large";
    else if (!(text = malloc((size_t)st.st_size + 1)))
        bad = "out of memory";
    else if ((len = pread(fd, text, (size_t)st.st_size, 0)) != (ssize_t)st.st_size)
        bad = "short";
    else if ((text[len] = '\0', manifest_parse(text, m)) != 0)
        bad = "malformed";
    /* an entry an older stub filled has no sizes to check files against:
     * filled again, unless in use (then its files are checked without) */
    int stale = !bad && !m->sized && (m->libpython || m->npreload || m->nlazy);
    if (bad || stale) {
        int busy = fd >= 0 && cache_entry_busy(fd);
        if (!(stale && busy)) {
            snprintf(why, whylen, "the cache entry %s is %s (its manifest: %s)", cache_entry.path,
                     stale ? "an older stub's" : "damaged", stale ? "no sizes" : bad);
            /* set aside and filled again, unless a running start holds it */
            if (busy)
                *retry = 0;
            else
                cache_entry_discard();
            goto out;
        }
    }
    /* shared while running: a pruning start, which takes it exclusively,
     * removes no entry in use; one removing this entry now is waited for */
    for (int i = 0; flock(fd, LOCK_SH | LOCK_NB) != 0; i++) {
        struct timespec ms2 = {0, 2000000};
        if (errno != EWOULDBLOCK || i == 50) {
            snprintf(why, whylen, "cannot lock the cache entry %s: %s", cache_entry.path, strerror(errno));
            goto out;
        }
        nanosleep(&ms2, NULL);
    }
    if (cache_entry.bfd >= 0 && (fstatat(cache_entry.bfd, cache_entry.hex, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                           st.st_dev != cache_entry.dev || st.st_ino != cache_entry.ino)) {
        snprintf(why, whylen, "the cache entry %s was removed by another start", cache_entry.path);
        goto out;
    }
    /* The lock lasts as long as the process, whatever it closes: a mapping
     * holds the open file, and so its lock, when the fd is closed (daemons
     * close every descriptor; none unmaps what it did not map).  The fd
     * stays open too: where flock is emulated with POSIX locks (NFS), only
     * an open fd holds one, for other hosts to see. */
    (void)mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
    fd = -1;
    rc = 0;
out:
    if (rc != 0)
        manifest_release(m);
    if (fd >= 0)
        close(fd);
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
    free(m->preload_size);
    for (size_t i = 0; i < m->nlazy; i++)
        lazy_release(&m->lazy[i]);
    free(m->lazy);
    free(m->early);
    for (size_t i = 0; i < m->nglibc; i++)
        free(m->glibc[i].rel);
    free(m->glibc);
    memset(m, 0, sizeof *m);
}
