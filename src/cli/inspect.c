#include "bundle/cli/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "bundle/util/crc32c.h"
#include "bundle/util/jsonout.h"
#include "bundle/payload.h"
#include "bundle/util/sha256.h"
#include "bundle/util/strvec.h"
#include "bundle/util/util.h"
#include "inspect_impl.h"

void inspect_close(struct opened *b)
{
    if (b->fd >= 0)
        close(b->fd);
    free(b->cdbuf);
    free(b->index);
    memset(b, 0, sizeof *b);
    b->fd = -1;
}

int inspect_open(const char *path, struct opened *b, struct err *err)
{
    struct stat st;
    const char *why = NULL;

    memset(b, 0, sizeof *b);
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0)
        return err_set(err, errno, "cannot open '%s'", path);
    if (fstat(b->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        inspect_close(b);
        return err_set(err, 0, "'%s' is not a bundle (not a regular file)", path);
    }
    b->size = (uint64_t)st.st_size;
    if (b->size < sizeof b->tail ||
        pread(b->fd, b->tail, sizeof b->tail, (off_t)(b->size - sizeof b->tail)) != (ssize_t)sizeof b->tail ||
        payload_trailer_decode(b->tail, b->size, &b->t, &why) != 0) {
        inspect_close(b);
        return err_set(err, 0, "'%s' is not a bundle (%s)", path, why ? why : "too small");
    }
    if (payload_cd_locate(b->tail, &b->t, &b->cd, &why) != 0 || !(b->cdbuf = malloc(b->cd.size + 1)) ||
        pread(b->fd, b->cdbuf, b->cd.size, (off_t)b->cd.offset) != (ssize_t)b->cd.size) {
        inspect_close(b);
        return err_set(err, 0, "'%s' is corrupt (%s)", path, why ? why : "unreadable directory");
    }
    if (b->t.pyz_size >= 4) {
        uint8_t h[4];
        if (pread(b->fd, h, 4, (off_t)b->t.pyz_offset) != 4)
            goto bad;
        b->index_len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        /* a real index is a few KB; 64 MB is far beyond any app's */
        if (b->index_len > b->t.pyz_size - 4 || b->index_len > (64u << 20) ||
            !(b->index = malloc((size_t)b->index_len + 1)) ||
            pread(b->fd, b->index, b->index_len, (off_t)b->t.pyz_offset + 4) != (ssize_t)b->index_len)
            goto bad;
    }
    return 0;
bad:
    inspect_close(b);
    return err_set(err, 0, "'%s' is corrupt (module index out of bounds)", path);
}


int inspect_index_next(const uint8_t *ix, uint32_t len, uint32_t *pos, struct pyz_entry *e)
{
    uint32_t p = *pos, n;
    if (p == 0) {
        if (len < 2 || ix[0] != '{')
            return -1;
        p = 1;
    }
    if (p >= len)
        return -1;
    if (ix[p] == '0')
        return 0;
    if (ix[p] == 'z') {
        if (p + 2 > len)
            return -1;
        n = ix[p + 1];
        p += 2;
    } else if (ix[p] == 'u') {
        if (p + 5 > len)
            return -1;
        n = (uint32_t)ix[p + 1] | (uint32_t)ix[p + 2] << 8 | (uint32_t)ix[p + 3] << 16 | (uint32_t)ix[p + 4] << 24;
        p += 5;
    } else {
        return -1;
    }
    if (n >= sizeof e->name || n > len - p || len - p - n < 17)
        return -1;
    memcpy(e->name, ix + p, n);
    e->name[n] = '\0';
    p += n;
    if (ix[p] != ')' || (ix[p + 1] != 3 && ix[p + 1] != 4) || ix[p + 2] != 'i' || ix[p + 7] != 'i' ||
        ix[p + 12] != 'i')
        return -1;
    uint32_t skip = 0; /* an extension module's path: a string */
    e->path[0] = '\0';
    if (ix[p + 1] == 4) {
        const uint8_t *q = ix + p + 17;
        uint32_t left = len - p - 17, sl;
        if (left >= 2 && q[0] == 'z') {
            sl = q[1];
            skip = 2;
        } else if (left >= 5 && q[0] == 'u') {
            sl = (uint32_t)q[1] | (uint32_t)q[2] << 8 | (uint32_t)q[3] << 16 | (uint32_t)q[4] << 24;
            skip = 5;
        } else {
            return -1;
        }
        if (sl > left - skip)
            return -1;
        if (sl < sizeof e->path) {
            memcpy(e->path, q + skip, sl);
            e->path[sl] = '\0';
        }
        skip += sl;
    }
    uint32_t v[3];
    for (int k = 0; k < 3; k++) {
        const uint8_t *q = ix + p + 3 + 5 * k;
        v[k] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    }
    e->off = v[0];
    e->size = v[1];
    e->flags = v[2];
    *pos = p + 17 + skip;
    return 1;
}

/* Reads a stored entry's bytes (for the manifest). */
static char *read_entry(struct opened *b, const struct payload_entry *e)
{
    uint8_t local[30];
    uint64_t data;
    const char *why;
    char *text;
    if (e->method != 0 || e->usize > PAYLOAD_MANIFEST_MAX ||
        pread(b->fd, local, 30, (off_t)e->header_offset) != 30 ||
        payload_entry_data(local, e, &b->t, &data, &why) != 0 || !(text = malloc(e->usize + 1)))
        return NULL;
    if (pread(b->fd, text, e->usize, (off_t)data) != (ssize_t)e->usize) {
        free(text);
        return NULL;
    }
    text[e->usize] = '\0';
    return text;
}

/* The manifest's value for key, into buf. */
static const char *manifest_get(const char *m, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *l = m; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
            size_t n = strcspn(l + kl + 1, "\n");
            snprintf(buf, len, "%.*s", (int)n, l + kl + 1);
            return buf;
        }
    }
    snprintf(buf, len, "%s", "");
    return buf;
}

/* Whether the manifest has the line "key value". */
static bool manifest_has(const char *m, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    for (const char *l = m; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ' && strncmp(l + kl + 1, value, vl) == 0 &&
            (l[kl + 1 + vl] == '\n' || l[kl + 1 + vl] == '\0'))
            return true;
    return false;
}

/* The oldest kernel the stub runs on: the cache path (without O_TMPFILE,
 * copy_file_range and getrandom it takes the older ways), and the memory
 * fallback (memfd_create). */
#define INSPECT_KERNEL_FLOOR "3.10"
#define INSPECT_KERNEL_MEMORY "3.17"

/* What each part of a bundle is, for the per-file kind and the totals. */
enum kind {
    K_STUB, K_MODULES, K_LIBPYTHON, K_EXTENSION, K_LIBRARY, K_DATA, K_MANIFEST, K_DIRECTORY, K_OVERHEAD, K_COUNT
};
static const char *const kind_json[K_COUNT] = {"stub", "modules", "libpython", "extension", "library",
                                               "data", "manifest", "directory", "overhead"};
static const char *const kind_text[K_COUNT] = {
    "stub", "modules", "libpython", "extension module", "shared library", "data", "manifest", "directory",
    "zip headers, trailer"};

struct tally {
    uint64_t count, stored, unpacked;
};

/* The name of a zip compression method (APPNOTE 4.4.5). */
static const char *method_name(uint16_t m, char *buf, size_t len)
{
    switch (m) {
    case 0: return "stored";
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case PAYLOAD_ZSTD: return "zstd";
    case PAYLOAD_ZSTD_CALLS: return "zstd-x86"; /* payload.h's call filter first */
    case 95: return "xz";
    default: snprintf(buf, len, "method-%u", (unsigned)m); return buf;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum kind kind_of(const char *ename, const char *libpy_entry, const struct strvec *ext)
{
    size_t n = strlen(ename);
    const char *key = ename;
    if (strcmp(ename, PAYLOAD_MANIFEST) == 0)
        return K_MANIFEST;
    if (n && ename[n - 1] == '/')
        return K_DIRECTORY;
    if (libpy_entry[0] && strcmp(ename, libpy_entry) == 0)
        return K_LIBPYTHON;
    if (ext->n && bsearch(&key, ext->v, ext->n, sizeof *ext->v, cmp_str))
        return K_EXTENSION;
    if (strncmp(ename, PAYLOAD_NATIVE_PREFIX "lib/", strlen(PAYLOAD_NATIVE_PREFIX "lib/")) == 0 ||
        strncmp(ename, PAYLOAD_NATIVE_PREFIX "glibc/", strlen(PAYLOAD_NATIVE_PREFIX "glibc/")) == 0)
        return K_LIBRARY;
    return K_DATA;
}

int inspect_run(const char *path, bool json, FILE *out, struct err *err)
{
    struct opened b;
    char hex[65], py[32], name[256], glibc[32], libpy[256], libpy_entry[300] = "", mbuf[24];
    struct payload_entry e;
    struct strvec ext = STRVEC_INIT;
    struct tally tally[K_COUNT] = {{0}};
    uint64_t files_stored = 0, files_unpacked = 0;
    size_t pos = 0, nmods = 0, nnative = 0;
    uint32_t ipos = 0;
    char *manifest = NULL;
    const char *why = NULL;
    json_t *doc = NULL, *mods = NULL, *files = NULL; /* with json: the object, printed at the end */
    bool failed = false;
    int r, rc = -1;

    if (inspect_open(path, &b, err) != 0)
        return -1;
    sha256_hex(b.t.sha256, hex);
    while ((r = payload_cd_next(b.cdbuf, &b.cd, &b.t, &pos, &e, &why)) == 1)
        if (!manifest && e.name_len == strlen(PAYLOAD_MANIFEST) &&
            memcmp(e.name, PAYLOAD_MANIFEST, e.name_len) == 0)
            manifest = read_entry(&b, &e); /* the first one, as unzip would */
    if (r < 0 || !manifest) {
        err_set(err, 0, "'%s' is corrupt (%s)", path, why ? why : "no manifest");
        goto out;
    }
    manifest_get(manifest, "python", py, sizeof py);
    manifest_get(manifest, "name", name, sizeof name);
    manifest_get(manifest, "glibc", glibc, sizeof glibc);
    manifest_get(manifest, "libpython", libpy, sizeof libpy);
    if (libpy[0])
        snprintf(libpy_entry, sizeof libpy_entry, "%s%s", PAYLOAD_NATIVE_PREFIX, libpy);
    char linked[8];
    bool linked_in = false;
    if (!libpy[0] && strcmp(manifest_get(manifest, "linked", linked, sizeof linked), "1") == 0) {
        snprintf(libpy, sizeof libpy, "linked into the executable");
        linked_in = true;
    }
    if (json) {
        char opts[1024];
        doc = json_object();
        jsonout_set(doc, "file", jsonout_text(path), &failed);
        jsonout_set(doc, "size", jsonout_uint(b.size), &failed);
        jsonout_set(doc, "sha256", json_string(hex), &failed);
        jsonout_set(doc, "format", json_integer(b.t.version), &failed);
        jsonout_set(doc, "name", jsonout_text(name), &failed);
        jsonout_set(doc, "python", jsonout_text(py), &failed);
        jsonout_set(doc, "libpython", jsonout_text(libpy), &failed);
        jsonout_set(doc, "glibc", jsonout_text(glibc), &failed);
        jsonout_set(doc, "kernel", json_string(INSPECT_KERNEL_FLOOR), &failed);
        jsonout_set(doc, "kernel_memory", json_string(INSPECT_KERNEL_MEMORY), &failed);
        jsonout_set(doc, "entry_module", json_string("__bundle_main__"), &failed);
        jsonout_set(doc, "options", jsonout_text(manifest_get(manifest, "options", opts, sizeof opts)), &failed);
        /* filled below, in the order set here */
        jsonout_set(doc, "modules", mods = json_array(), &failed);
        jsonout_set(doc, "files", files = json_array(), &failed);
        if (failed) { /* mods or files may be gone */
            err_set(err, ENOMEM, "cannot build the json of '%s'", path);
            goto out;
        }
    } else {
        fprintf(out, "file       %s\nsize       %llu bytes\nsha256     %s (archive; the cache key)\n"
                     "name       %s\npython     %s (%s)\nglibc      >= %s\n"
                     "kernel     >= " INSPECT_KERNEL_FLOOR " (>= " INSPECT_KERNEL_MEMORY " where no cache dir is usable)\n"
                     "entry      __bundle_main__ (the app's script)\n",
                path, (unsigned long long)b.size, hex, name, py, libpy, glibc[0] ? glibc : "?");
        char opts[1024];
        fprintf(out, "options    %s\n\n%10s  %s\n", manifest_get(manifest, "options", opts, sizeof opts),
                "size", "module (compressed size)");
    }
    struct pyz_entry pe;
    while (b.index && (r = inspect_index_next(b.index, b.index_len, &ipos, &pe)) == 1) {
        if (json) {
            json_t *m = json_object();
            jsonout_set(m, "name", jsonout_text(pe.name), &failed);
            jsonout_set(m, "size", json_integer(pe.size), &failed);
            jsonout_set(m, "package", json_boolean(pe.flags & PYZ_PACKAGE), &failed);
            jsonout_set(m, "namespace", json_boolean(pe.flags & PYZ_NAMESPACE), &failed);
            jsonout_set(m, "extension", json_boolean(pe.flags & PYZ_EXTENSION), &failed);
            jsonout_append(mods, m, &failed);
        } else {
            fprintf(out, "%10u  %s%s%s\n", pe.size, pe.name, pe.flags & PYZ_PACKAGE ? " (package)" : "",
                    pe.flags & PYZ_NAMESPACE ? " (namespace)"
                    : pe.flags & PYZ_EXTENSION ? " (extension module, unpacked on first import)" : "");
        }
        nmods++;
        if ((pe.flags & PYZ_EXTENSION) && pe.path[0]) {
            char *full;
            if (asprintf(&full, "%s%s", PAYLOAD_NATIVE_PREFIX, pe.path) < 0 ||
                strvec_push_owned(&ext, full) != 0) {
                err_set(err, ENOMEM, "out of memory");
                goto out;
            }
        }
        /* a module's code: a zstd frame, its size once inflated in its header */
        uint8_t h[18]; /* a zstd frame header is at most 18 bytes */
        ssize_t got;
        unsigned long long usize;
        if (pe.size && pe.off <= b.t.pyz_size && pe.size <= b.t.pyz_size - pe.off &&
            (got = pread(b.fd, h, pe.size < sizeof h ? pe.size : sizeof h, (off_t)(b.t.pyz_offset + pe.off))) > 0 &&
            (usize = ZSTD_getFrameContentSize(h, (size_t)got)) < ZSTD_CONTENTSIZE_ERROR) {
            tally[K_MODULES].count++;
            tally[K_MODULES].unpacked += usize;
        }
    }
    if (b.index && r < 0) {
        err_set(err, 0, "'%s' is corrupt (malformed module index)", path);
        goto out;
    }
    if (ext.n)
        qsort(ext.v, ext.n, sizeof *ext.v, cmp_str);
    if (!json)
        fprintf(out, "\n%10s  %10s  %s\n", "stored", "unpacked", "file (unpacked into the cache)");
    pos = 0;
    while ((r = payload_cd_next(b.cdbuf, &b.cd, &b.t, &pos, &e, &why)) == 1) {
        char ename[PAYLOAD_PATH_MAX + 1];
        snprintf(ename, sizeof ename, "%.*s", (int)e.name_len, e.name);
        enum kind k = kind_of(ename, libpy_entry, &ext);
        const char *method = method_name(e.method, mbuf, sizeof mbuf);
        /* unpacked ahead of its import at a first start (stub/prefetch.c) */
        bool early = strncmp(ename, PAYLOAD_NATIVE_PREFIX, strlen(PAYLOAD_NATIVE_PREFIX)) == 0 &&
                     manifest_has(manifest, "early", ename + strlen(PAYLOAD_NATIVE_PREFIX));
        if (json) {
            json_t *f = json_object();
            jsonout_set(f, "name", jsonout_text(ename), &failed);
            jsonout_set(f, "size", jsonout_uint(e.usize), &failed);
            jsonout_set(f, "stored_size", jsonout_uint(e.csize), &failed);
            jsonout_set(f, "unpacked_size", jsonout_uint(e.usize), &failed);
            jsonout_set(f, "compression", json_string(method), &failed);
            jsonout_set(f, "kind", json_string(kind_json[k]), &failed);
            jsonout_set(f, "prefetched", json_boolean(early), &failed);
            jsonout_append(files, f, &failed);
        } else {
            fprintf(out, "%10llu  %10llu  %s (%s%s%s%s)\n", (unsigned long long)e.csize, (unsigned long long)e.usize,
                    ename, kind_text[k], e.method ? ", " : "", e.method ? method : "", early ? ", prefetched" : "");
        }
        tally[k].count++;
        tally[k].stored += e.csize;
        tally[k].unpacked += e.usize;
        files_stored += e.csize;
        files_unpacked += e.usize;
        nnative++;
    }
    /* where the bytes go: every byte of the file in exactly one part */
    tally[K_STUB].count = 1;
    tally[K_STUB].stored = tally[K_STUB].unpacked = b.t.pyz_offset;
    tally[K_MODULES].stored = b.t.pyz_size;
    uint64_t known = 0;
    for (int k = 0; k < K_OVERHEAD; k++)
        known += tally[k].stored;
    tally[K_OVERHEAD].stored = known < b.size ? b.size - known : 0;
    if (json) {
        json_t *by_kind = json_object();
        jsonout_set(doc, "module_count", jsonout_uint(nmods), &failed);
        jsonout_set(doc, "file_count", jsonout_uint(nnative), &failed);
        jsonout_set(doc, "stub_size", jsonout_uint(b.t.pyz_offset), &failed);
        jsonout_set(doc, "pyz_size", jsonout_uint(b.t.pyz_size), &failed);
        jsonout_set(doc, "archive_size", jsonout_uint(b.t.archive_size), &failed);
        jsonout_set(doc, "files_stored_size", jsonout_uint(files_stored), &failed);
        jsonout_set(doc, "files_unpacked_size", jsonout_uint(files_unpacked), &failed);
        for (int k = 0; k < K_COUNT; k++) {
            json_t *t = json_object();
            jsonout_set(t, "count", jsonout_uint(tally[k].count), &failed);
            jsonout_set(t, "stored_size", jsonout_uint(tally[k].stored), &failed);
            jsonout_set(t, "unpacked_size", jsonout_uint(tally[k].unpacked), &failed);
            jsonout_set(by_kind, kind_json[k], t, &failed);
        }
        jsonout_set(doc, "by_kind", by_kind, &failed);
        /* the whole object or nothing: printed once everything was read */
        if (failed) {
            err_set(err, ENOMEM, "cannot build the json of '%s'", path);
            goto out;
        }
        if (jsonout_print(doc, out, err) != 0)
            goto out;
    } else {
        fprintf(out, "\n%zu modules, %zu files\n", nmods, nnative);
        fprintf(out, "\n%-22s %12s %12s %6s\n", "where the bytes go", "stored", "unpacked", "count");
        for (int k = 0; k < K_COUNT; k++) {
            if (!tally[k].count && !tally[k].stored && k != K_STUB && k != K_MODULES)
                continue;
            fprintf(out, "%-22s %12llu %12llu %6llu", kind_text[k], (unsigned long long)tally[k].stored,
                    (unsigned long long)tally[k].unpacked, (unsigned long long)tally[k].count);
            if (k == K_STUB)
                fprintf(out, "  (the bootloader%s)", linked_in ? ", libpython linked in" : "");
            else if (k == K_MODULES)
                fprintf(out, "  (pure Python, read in place; unpacked: inflated in memory)");
            fputc('\n', out);
        }
        fprintf(out, "%-22s %12llu\n", "total", (unsigned long long)b.size);
    }
    rc = 0;
out:
    json_decref(doc);
    free(manifest);
    strvec_release(&ext);
    inspect_close(&b);
    return rc;
}
