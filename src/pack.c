#include "bundle/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/crc32c.h"
#include "bundle/payload.h"
#include "bundle/sha256.h"
#include "bundle/temp.h"
#include "bundle/util.h"

static int lib_fail(struct pack *p, struct err *err, const char *what)
{
    err_set(err, 0, "cannot write '%s': %s: %s", p->final_path, what,
            p->a && archive_error_string(p->a) ? archive_error_string(p->a) : "libarchive failed");
    pack_abort(p);
    return -1;
}

int pack_open(struct pack *p, const char *final_path, const void *stub, size_t stub_len,
              const void *pyz, size_t pyz_len, time_t mtime, struct err *err)
{
    const char *slash = strrchr(final_path, '/');
    mode_t um = umask(0);
    umask(um);

    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->mtime = mtime;
    p->final_path = strdup(final_path);
    if (!p->final_path ||
        asprintf(&p->tmp_path, "%.*s.%s.tmp-XXXXXX", slash ? (int)(slash - final_path + 1) : 0,
                 final_path, slash ? slash + 1 : final_path) < 0) {
        p->tmp_path = NULL;
        pack_abort(p);
        return err_set(err, ENOMEM, "out of memory");
    }
    p->fd = temp_make_file(p->tmp_path, 0, O_CLOEXEC);
    if (p->fd < 0) {
        int e = errno;
        free(p->tmp_path);
        p->tmp_path = NULL;
        err_set(err, e, "cannot write '%s'", final_path);
        pack_abort(p);
        return -1;
    }
    if (fchmod(p->fd, 0755 & ~um) != 0 || util_write_all(p->fd, stub, stub_len) != 0 ||
        (pyz_len && util_write_all(p->fd, pyz, pyz_len) != 0)) {
        err_set(err, errno, "cannot write '%s'", p->tmp_path);
        pack_abort(p);
        return -1;
    }
    p->pyz_offset = stub_len;
    p->pyz_size = pyz_len;
    p->archive_offset = stub_len + pyz_len;
    p->a = archive_write_new();
    if (!p->a)
        return lib_fail(p, err, "out of memory");
    if (archive_write_set_format_zip(p->a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(p->a, 0) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(p->a, p->fd) != ARCHIVE_OK)
        return lib_fail(p, err, "cannot start the archive");
    return 0;
}

static int add_entry(struct pack *p, const char *name, mode_t type, int64_t size, bool compress,
                     struct err *err)
{
    struct archive_entry *e = archive_entry_new();
    int rc;

    if (!e)
        return lib_fail(p, err, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, p->mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (compress)
        archive_write_zip_set_compression_deflate(p->a);
    else
        archive_write_zip_set_compression_store(p->a);
    rc = archive_write_header(p->a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return lib_fail(p, err, name);
    return 0;
}

int pack_add_data(struct pack *p, const char *name, const void *data, size_t len, bool compress,
                  struct err *err)
{
    if (add_entry(p, name, AE_IFREG, (int64_t)len, compress, err) != 0)
        return -1;
    if (len && archive_write_data(p->a, data, len) != (la_ssize_t)len)
        return lib_fail(p, err, name);
    return 0;
}

int pack_add_file(struct pack *p, const char *name, const char *path, struct err *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (util_read_file(path, (size_t)1 << 32, &data, &len, err) != 0) {
        pack_abort(p);
        return -1;
    }
    rc = pack_add_data(p, name, data, len, false, err);
    free(data);
    return rc;
}

int pack_add_dir(struct pack *p, const char *name, struct err *err)
{
    return add_entry(p, name, AE_IFDIR, 0, false, err);
}

static int hash_file(int fd, uint64_t len, uint8_t out[32])
{
    static unsigned char chunk[1 << 16];
    struct sha256 s;
    uint64_t off = 0;

    sha256_init(&s);
    while (off < len) {
        size_t want = len - off < sizeof chunk ? (size_t)(len - off) : sizeof chunk;
        ssize_t n = pread(fd, chunk, want, (off_t)off);
        if (n <= 0)
            return -1;
        sha256_update(&s, chunk, (size_t)n);
        off += (uint64_t)n;
    }
    sha256_final(&s, out);
    return 0;
}

int pack_commit(struct pack *p, uint8_t sha256[32], uint8_t file_sha256[32], struct err *err)
{
    unsigned char eocd[PAYLOAD_EOCD_SIZE];
    uint8_t trailer_bytes[PAYLOAD_TRAILER_SIZE];
    struct payload_trailer t = {.version = PAYLOAD_VERSION};
    struct stat st;
    off_t end;

    if (archive_write_close(p->a) != ARCHIVE_OK)
        return lib_fail(p, err, "cannot finish the archive");
    archive_write_free(p->a);
    p->a = NULL;
    if (fstat(p->fd, &st) != 0)
        goto io;
    end = st.st_size;
    if ((uint64_t)end < p->archive_offset + PAYLOAD_EOCD_SIZE ||
        pread(p->fd, eocd, sizeof eocd, end - PAYLOAD_EOCD_SIZE) != (ssize_t)sizeof eocd ||
        memcmp(eocd, "PK\5\6", 4) != 0 || eocd[20] || eocd[21]) {
        err_set(err, 0, "cannot write '%s': the archive does not end in a plain zip end record",
                p->final_path);
        pack_abort(p);
        return -1;
    }
    /* the trailer becomes the zip comment: the file stays a valid zip */
    eocd[20] = PAYLOAD_TRAILER_SIZE;
    if (pwrite(p->fd, eocd + 20, 2, end - 2) != 2)
        goto io;
    t.pyz_offset = p->pyz_offset;
    t.pyz_size = p->pyz_size;
    t.archive_offset = p->archive_offset;
    t.archive_size = (uint64_t)end - p->archive_offset;
    if (hash_file(p->fd, (uint64_t)end, t.sha256) != 0)
        goto io;
    payload_trailer_encode(&t, trailer_bytes);
    if (pwrite(p->fd, trailer_bytes, sizeof trailer_bytes, end) != (ssize_t)sizeof trailer_bytes)
        goto io;
    p->size = (uint64_t)end + sizeof trailer_bytes;
    /* the check covers everything but itself, the trailer's head included */
    void *map = mmap(NULL, (size_t)p->size, PROT_READ, MAP_SHARED, p->fd, 0);
    if (map == MAP_FAILED)
        goto io;
    crc32c_quarters(map, (size_t)end + PAYLOAD_CHECKED_TAIL, t.check);
    munmap(map, (size_t)p->size);
    payload_trailer_encode(&t, trailer_bytes);
    if (pwrite(p->fd, trailer_bytes + PAYLOAD_CHECKED_TAIL, sizeof trailer_bytes - PAYLOAD_CHECKED_TAIL,
               end + PAYLOAD_CHECKED_TAIL) != (ssize_t)(sizeof trailer_bytes - PAYLOAD_CHECKED_TAIL))
        goto io;
    if (file_sha256 && hash_file(p->fd, p->size, file_sha256) != 0)
        goto io;
    if (fsync(p->fd) != 0)
        goto io;
    if (close(p->fd) != 0) {
        p->fd = -1;
        goto io;
    }
    p->fd = -1;
    if (rename(p->tmp_path, p->final_path) != 0) {
        err_set(err, errno, "cannot rename '%s' to '%s'", p->tmp_path, p->final_path);
        pack_abort(p);
        return -1;
    }
    memcpy(sha256, t.sha256, 32);
    temp_forget(p->tmp_path);
    free(p->tmp_path);
    p->tmp_path = NULL;
    pack_abort(p);
    return 0;
io:
    err_set(err, errno, "cannot write '%s'", p->tmp_path);
    pack_abort(p);
    return -1;
}

void pack_abort(struct pack *p)
{
    if (p->a) {
        archive_write_free(p->a);
        p->a = NULL;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    if (p->tmp_path) {
        temp_remove(p->tmp_path);
        free(p->tmp_path);
        p->tmp_path = NULL;
    }
    free(p->final_path);
    p->final_path = NULL;
}
