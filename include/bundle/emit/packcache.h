/* packcache.h - the builder's cache of compressed files.
 *
 * Level 19 makes a native file about 15% smaller than level 9 and costs
 * 3 MB/s of one core: a numpy app's 25 MB of libraries take 6 s.  The
 * same libraries go into build after build, so what zstd made of each is
 * kept: the next build of any app that ships the same file at the same
 * level reads it back instead.  The key covers everything the bytes
 * depend on (the recipe, the level, the window, zstd's version), so a hit
 * gives the bytes a miss would make and bundles stay reproducible, as long
 * as nobody writes into the dir; what is read is at least always a right
 * compression of the input.
 *
 * The entries live in the builder's cache (util/buildcache.h), each:
 *   8 bytes  "BNDLPKC1"
 *   u16 LE   the zip method of the data (PAYLOAD_ZSTD or PAYLOAD_ZSTD_CALLS),
 *            or 0: zstd could not make the file small enough, it is stored
 *   u64 LE   the data's size (0 for a stored file)
 *   ...      the data (what goes into the zip)
 * An entry is used only if it inflates, with the stub's window limit, to
 * exactly the input. */
#ifndef BUNDLE_PACKCACHE_H
#define BUNDLE_PACKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pack_blob;

/* Files smaller than this, or compressed below this level, are not
 * cached: zstd makes them in milliseconds. */
#define PACKCACHE_MIN_SIZE (64u << 10)
#define PACKCACHE_MIN_LEVEL 10

struct buildcache;

/* The key of len bytes at data compressed at level. */
void packcache_key(const void *data, size_t len, int level, uint8_t key[32]);
/* Fills the data, csize and method of *out (made by pack_compress for the
 * input, usize bytes at input) from the entry of key if it inflates, as
 * the stub would, to exactly the input: true; else false, *out untouched,
 * and a malformed entry removed. */
bool packcache_get(const struct buildcache *c, const uint8_t key[32], const void *input, size_t usize,
                   struct pack_blob *out);
/* Keeps a blob made by pack_compress under key (best effort): its bytes,
 * or that it is stored. */
void packcache_put(const struct buildcache *c, const uint8_t key[32], const struct pack_blob *b);

#endif
