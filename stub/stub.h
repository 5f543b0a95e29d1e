/* stub.h - the bootloader's internal interfaces.
 *
 * The stub is its own small program: it shares only the payload format
 * (include/bundle/payload.h) and SHA-256 with bundle.  Every function here
 * returns 0 / -1 and describes a failure in a caller-provided buffer; only
 * main() prints, as the app's own name.
 */
#ifndef BUNDLE_STUB_H
#define BUNDLE_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/payload.h"

#define STUB_WHY_MAX 512

/* The open bundle: /proc/self/exe. */
struct stub_self {
    int fd;                 /* open on the bundle file */
    uint64_t size;          /* its size */
    uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE];
    struct payload_trailer trailer;
    char hex[65];           /* the archive hash, hex: the cache key */
};

/* What the manifest says. */
struct stub_manifest {
    int py_major, py_minor;
    char *libpython;        /* relative to the cache entry (owned) */
    char **preload;         /* relative paths, dependencies first (owned) */
    size_t npreload;
};

/* Debug trace on stderr when BUNDLE_DEBUG is set; a no-op otherwise. */
void stub_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cache.c: finds the cache entry of this bundle, or fills one.  On success
 * *dir is the malloc'ed absolute path of the entry (caller frees). */
int cache_find(const struct stub_self *self, char **dir);
int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt);

/* Parses the manifest file in dir.  Returns 0 or -1 with why set. */
int manifest_load(const char *dir, struct stub_manifest *m, char *why, size_t whylen);
void manifest_release(struct stub_manifest *m);

/* pyrun.c: loads libpython from dir and runs the app; returns its exit
 * status, or -1 with why set when Python could not be started. */
int pyrun(const char *dir, const struct stub_manifest *m, const char *exe,
          const struct payload_trailer *t, int argc, char **argv, char *why, size_t whylen);

#endif
