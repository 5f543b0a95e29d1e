/* pack.h - write a bundle: stub + zip (libarchive) + trailer, atomically.
 *
 * The output is written to a temp file beside its final name, fsync'ed and
 * renamed into place by pack_commit; pack_abort (or any failure) unlinks it,
 * so no half-written bundle is ever left under the final name.  While it
 * exists the temp file is registered with temp.h, which removes it when a
 * signal ends the build.
 * Entries are written in the order given: callers add them sorted, with a
 * fixed mtime, so the same inputs give the same bytes.
 */
#ifndef BUNDLE_PACK_H
#define BUNDLE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bundle/err.h"

struct archive;

struct pack {
    int fd;                  /* the temp file */
    char *tmp_path;          /* its name (owned) */
    char *final_path;        /* where pack_commit renames it (owned) */
    struct archive *a;       /* libarchive writer */
    uint64_t pyz_offset;     /* where the module blob starts: the stub's size */
    uint64_t pyz_size;
    uint64_t archive_offset; /* where the zip starts: after the blob */
    time_t mtime;            /* every entry's time */
    uint64_t size;           /* final file size, after pack_commit */
};

/* Creates the temp file next to final_path and writes the stub, then the
 * pure-Python module blob (pyz; may be empty). */
int pack_open(struct pack *p, const char *final_path, const void *stub, size_t stub_len,
              const void *pyz, size_t pyz_len, time_t mtime, struct err *err);
/* Adds a file entry holding data; deflated if compress, else stored. */
int pack_add_data(struct pack *p, const char *name, const void *data, size_t len, bool compress,
                  struct err *err);
/* Adds a stored entry with the contents of the file at path. */
int pack_add_file(struct pack *p, const char *name, const char *path, struct err *err);
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
