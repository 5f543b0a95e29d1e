/* buildcache.h - the builder's cache: what a build made that the next
 * build of any app would make again from the same input (what zstd made of
 * a native file: emit/packcache.h; a module's compiled code:
 * collect/pyc.h), kept under the SHA-256 of everything the bytes depend
 * on, so that a hit gives the bytes a miss would make and bundles stay
 * reproducible.
 *
 * Where: $BUNDLE_BUILD_CACHE_DIR (empty: no cache), else
 * $XDG_CACHE_HOME/bundle-build, else ~/.cache/bundle-build (made as mkdir
 * -p does, symlinks on the way followed); a dir that is not ours or that
 * others can write is not used.  One file per entry, named by its key in
 * hex, starting with 8 bytes that say what it holds.  Every entry is
 * hostile on the way in: each kind checks what it reads, and removes an
 * entry it finds malformed.  Written under no name (O_TMPFILE) and linked
 * into place whole, so neither a crash nor a second build writing the same
 * entry leaves half a file.  Entries unused for BUILDCACHE_DAYS are removed
 * by the next build.  No failure of the cache fails a build: it only costs
 * the time of making the bytes again. */
#ifndef BUNDLE_BUILDCACHE_H
#define BUNDLE_BUILDCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define BUILDCACHE_DAYS 30

struct buildcache {
    int dirfd; /* -1: no cache */
};

/* Opens (making it, mode 0700) the cache dir the environment names. */
void buildcache_open(struct buildcache *c);
/* Opens dir as the cache (tests); NULL: no cache. */
void buildcache_open_dir(struct buildcache *c, const char *dir);
void buildcache_close(struct buildcache *c);

/* The entry of key, open for reading, if it is a regular file that starts
 * with magic (8 bytes): its fd (positioned anywhere: read it with pread)
 * and size; else -1 (and an entry of another shape is removed). */
int buildcache_find(const struct buildcache *c, const uint8_t key[32], const char magic[8], off_t *size);
/* The entry found as fd was used now: kept another BUILDCACHE_DAYS. */
void buildcache_used(int fd);
/* Removes the entry of key (found malformed). */
void buildcache_drop(const struct buildcache *c, const uint8_t key[32]);
/* Writes the entry of key: magic, then head (hlen bytes), then data (len
 * bytes); whole or not at all (best effort). */
void buildcache_put(const struct buildcache *c, const uint8_t key[32], const char magic[8], const void *head,
                    size_t hlen, const void *data, size_t len);
/* Removes the entries unused for BUILDCACHE_DAYS before now. */
void buildcache_prune(const struct buildcache *c, time_t now);

#endif
