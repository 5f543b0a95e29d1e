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
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "bundle/payload.h"

#define STUB_WHY_MAX 512

/* The open bundle: /proc/self/exe. */
struct stub_self {
    int fd;                 /* open on the bundle file */
    uint64_t size;          /* its size */
    uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE];
    struct payload_trailer trailer;
    char hex[65];           /* the archive hash, hex: the cache key */
    int hash_state;         /* HASH_NONE, HASH_RUNNING (hash_tid), HASH_DONE */
    pthread_t hash_tid;
    int hash_ok;            /* HASH_DONE: the SHA-256 matched */
};

enum { HASH_NONE, HASH_RUNNING, HASH_DONE };

/* Waits for (or does) the check of the bundle's SHA-256 against its
 * trailer.  Returns 0 if it matched. */
int hash_verdict(struct stub_self *self);

/* What the manifest says. */
struct stub_manifest {
    int py_major, py_minor;
    char *name;             /* the app's name (owned; may be NULL) */
    int lock_fd;            /* shared lock on the cache entry while running, or 0 */
    char *libpython;        /* relative to the cache entry (owned) */
    char **preload;         /* relative paths, dependencies first (owned) */
    size_t npreload;
};

/* Debug trace on stderr when BUNDLE_DEBUG is set; a no-op otherwise. */
void stub_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cache.c: finds the cache entry of this bundle, or fills one.  On success
 * *dir is the malloc'ed absolute path of the entry (caller frees). */
int cache_find(const struct stub_self *self, char **dir, time_t *used);
int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt);

/* Records that the entry dir is in use (at most daily), and removes stale
 * temp dirs and entries of the same app unused for 30 days that no process
 * holds.  fresh: the entry was just made; else used is its mtime as
 * cache_find saw it (no second lstat on the start-up path).  Never fails. */
void cache_prune(const struct stub_self *self, const char *dir, const struct stub_manifest *m, int fresh,
                 time_t used);

/* Parses the manifest file in dir, and takes a shared lock on it that
 * lasts as long as the process.  Returns 0 or -1 with why set. */
int manifest_load(const char *dir, struct stub_manifest *m, char *why, size_t whylen);
/* Parses manifest text (modified in place).  Returns 0 or -1. */
int manifest_parse(char *text, struct stub_manifest *m);

/* Calls fn for every _native/ entry of the bundle (relative name without
 * the prefix, absolute data offset, size), after checking it.  Returns 0,
 * or -1 with why set (and *corrupt = 1 when the bundle is malformed). */
typedef int (*native_fn)(void *ctx, const struct stub_self *self, const char *rel, uint64_t off,
                         uint64_t size, char *why, size_t whylen);
int native_each(const struct stub_self *self, native_fn fn, void *ctx, char *why, size_t whylen,
                int *corrupt);
/* Copies len bytes at off of in to out's current position. */
int copy_range(int in, uint64_t off, uint64_t len, int out);
/* 0 if the file's SHA-256 matches its trailer. */
int cache_verify(const struct stub_self *self);

/* How Python starts: native parts from a cache dir, or from memory. */
struct stub_plan {
    char *home;             /* PyConfig.home */
    char *paths[2];         /* sys.path before the start-up module runs */
    int npaths;
    char *libpython;        /* what to dlopen */
    char **preload;         /* ...after these, in this order (npreload) */
    size_t npreload;
    int extmap_fd;          /* memory mode: fd of "relpath\tpath" lines of the
                               extension modules; -1 otherwise */
};
int plan_from_dir(const char *dir, const struct stub_manifest *m, struct stub_plan *p);
/* Memory mode (no usable cache dir): native parts in memfds.  Also checks
 * the hash and fills *m from the bundle's manifest. */
int plan_from_memory(const struct stub_self *self, struct stub_manifest *m, struct stub_plan *p,
                     char *why, size_t whylen, int *corrupt);
void plan_release(struct stub_plan *p);
void manifest_release(struct stub_manifest *m);

/* pyrun.c: loads libpython from dir and runs the app; returns its exit
 * status, or -1 with why set when Python could not be started. */
int pyrun(const struct stub_plan *plan, const struct stub_manifest *m, const char *exe,
          const struct payload_trailer *t, int argc, char **argv, char *why, size_t whylen);

#endif
