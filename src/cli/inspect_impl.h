/* inspect_impl.h - what inspect.c (bundle inspect) and verify.c (bundle
 * verify) share: a bundle file opened and its module index read. */
#ifndef BUNDLE_INSPECT_IMPL_H
#define BUNDLE_INSPECT_IMPL_H

#include <stdint.h>

#include "bundle/util/err.h"
#include "bundle/payload.h"

/* An open bundle: its trailer, central directory and module index. */
struct opened {
    int fd;
    uint64_t size;
    uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE];
    struct payload_trailer t;
    struct payload_cd cd;
    uint8_t *cdbuf;
    uint8_t *index;       /* the pyz index (marshal), index_len bytes */
    uint32_t index_len;
};

struct pyz_entry {
    char name[512];
    char path[PAYLOAD_PATH_MAX + 1]; /* an extension module's path in the cache entry, else "" */
    uint32_t off, size, flags;
};

/* Opens path as a bundle (its trailer, directory and module index read):
 * 0, or -1 with err set (not a bundle, or corrupt). */
int inspect_open(const char *path, struct opened *b, struct err *err);
void inspect_close(struct opened *b);
/* Reads the next entry of the marshal'ed index bundle writes (pyz.c).
 * Returns 1, 0 at the end, -1 when malformed. */
int inspect_index_next(const uint8_t *ix, uint32_t len, uint32_t *pos, struct pyz_entry *e);

#endif
