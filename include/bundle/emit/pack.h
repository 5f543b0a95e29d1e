/* pack.h - write a bundle: stub + zip + trailer, atomically.
 *
 * The output is written to a temp file beside its final name, fsync'ed and
 * renamed into place by pack_commit; pack_abort (or any failure) unlinks it,
 * so no half-written bundle is ever left under the final name.  While it
 * exists the temp file is registered with temp.h, which removes it when a
 * signal ends the build.
 * Entries are written in the order given: callers add them sorted, with a
 * fixed mtime, so the same inputs give the same bytes.
 *
 * The zip is our own writer's: each entry stored or compressed with
 * Zstandard (method 93), sizes and offsets below 4 GiB (no zip64).
 */
#ifndef BUNDLE_PACK_H
#define BUNDLE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bundle/util/err.h"
#include "bundle/payload.h"
#include "bundle/util/util.h"

/* Files smaller than this are stored: a zstd frame of them saves nothing. */
#define PACK_MIN_COMPRESS 64
/* The zstd level bundle uses unless told otherwise (--compress). */
#define PACK_LEVEL_DEFAULT 19
#define PACK_LEVEL_MAX 19
/* log2 of the zstd window: what the stub's decoder must hold in memory */
#define PACK_WINDOW_LOG PAYLOAD_WINDOW_LOG

struct pack {
    int fd;                  /* the temp file */
    char *tmp_path;          /* its name (owned) */
    char *final_path;        /* where pack_commit renames it (owned) */
    struct buf cd;           /* the central directory so far */
    uint64_t pos;            /* bytes of zip written so far */
    size_t count;            /* entries written */
    uint64_t inflated;       /* what the compressed entries gain once unpacked */
    uint32_t flags;          /* the trailer's flags (payload.h): set before pack_commit */
    uint64_t pyz_offset;     /* where the module blob starts: the stub's size */
    uint64_t pyz_size;
    uint64_t archive_offset; /* where the zip starts: after the blob */
    time_t mtime;            /* every entry's time */
    uint64_t size;           /* final file size, after pack_commit */
    size_t cached;           /* entries pack_add_items read from the builder's cache */
    size_t cache_misses;     /* and those it could have read there, compressed anew */
};

/* Creates the temp file next to final_path and writes the stub, then the
 * pure-Python module blob (pyz; may be empty). */
int pack_open(struct pack *p, const char *final_path, const void *stub, size_t stub_len,
              const void *pyz, size_t pyz_len, time_t mtime, struct err *err);
/* An entry's bytes as they go into the zip. */
struct pack_blob {
    const void *data;   /* csize bytes: the input itself, or owned */
    void *owned;
    uint64_t csize, usize;
    uint32_t crc32;     /* zip's CRC-32 of the uncompressed bytes */
    uint16_t method;    /* 0 stored, 93 zstd */
};
/* Compresses len bytes of data at zstd level (0: stored), or stores them
 * when that saves too little.  Thread-safe.  out may point at data: keep
 * data until the blob is written.  Returns 0, or -1 out of memory. */
int pack_compress(const void *data, size_t len, int level, struct pack_blob *out);
void pack_blob_release(struct pack_blob *b);
/* Adds a file entry of a blob made by pack_compress. */
int pack_add_blob(struct pack *p, const char *name, const struct pack_blob *b, struct err *err);
/* Adds a file entry holding data: compressed at zstd level, or stored
 * (level 0, or when compression saves too little). */
int pack_add_data(struct pack *p, const char *name, const void *data, size_t len, int level,
                  struct err *err);
/* Adds an entry with the contents of the file at path, as pack_add_data. */
int pack_add_file(struct pack *p, const char *name, const char *path, int level, struct err *err);
/* One entry of pack_add_items: the file at path file, or len bytes of data. */
struct pack_item {
    const char *name;
    const char *file;
    const void *data;
    size_t len;
    int level;          /* as pack_add_data's */
};
#define PACK_MAX_THREADS 16
/* Adds n file entries in the order given, read and compressed on every
 * core first. */
int pack_add_items(struct pack *p, const struct pack_item *items, size_t n, struct err *err);
/* Adds a directory entry (name ends with '/'). */
int pack_add_dir(struct pack *p, const char *name, struct err *err);
/* Finishes the zip, appends the trailer, fsyncs and renames into place.
 * On success fills sha256 (the archive hash in the trailer) and
 * file_sha256 (of the whole file, as sha256sum prints it).  On failure the
 * temp file is gone. */
int pack_commit(struct pack *p, uint8_t sha256[32], uint8_t file_sha256[32], struct err *err);
/* Drops everything written so far; safe after a failed call or a commit.
 * After any failed call, pack_abort is the only call allowed. */
void pack_abort(struct pack *p);

#endif
