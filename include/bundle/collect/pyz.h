/* pyz.h - the blob of pure-Python modules that a bundle imports in place.
 *
 * Layout (see payload.h): u32 LE index size, the index as a marshal'ed dict
 * {name: (offset, size, flags[, path])}, u32 LE dictionary size and the
 * zstd dictionary (trained on these modules; size 0: none), then each
 * module's marshal'ed code object as one zstd frame made with it (its size
 * once inflated in the frame header; no checksum, no dictionary ID).
 * The stub unmarshals the index with one C call, so finding a module costs
 * a dict lookup, not a zip directory walk in Python.
 */
#ifndef BUNDLE_PYZ_H
#define BUNDLE_PYZ_H

#include <stddef.h>

#include "bundle/util/err.h"
#include "bundle/util/util.h"

struct pyz_item {
    const char *name;  /* dotted module name (UTF-8) */
    const void *code;  /* marshal'ed code object (a .pyc without its 16-byte header);
                          NULL for a namespace package */
    size_t len;
    unsigned flags;    /* PYZ_PACKAGE, PYZ_NAMESPACE, PYZ_EXTENSION (payload.h) */
    const char *path;  /* PYZ_EXTENSION: its path in the cache entry; else NULL */
};

/* Appends the blob of items (in the order given: callers sort them, for
 * reproducible output) to out.  Returns 0 or -1 with err set. */
int pyz_build(const struct pyz_item *items, size_t n, struct buf *out, struct err *err);

#endif
