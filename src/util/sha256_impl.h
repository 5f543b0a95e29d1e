/* sha256_impl.h - internals shared by the SHA-256 block functions. */
#ifndef BUNDLE_SHA256_IMPL_H
#define BUNDLE_SHA256_IMPL_H

#include <stddef.h>
#include <stdint.h>

extern const uint32_t sha256_k[64];

/* For tests: portable != 0 forces the portable block function, 0 restores
 * the CPU's best. */
void sha256_select(int portable);

#ifdef HAVE_SHA256_SHANI
int sha256_shani_available(void);
void sha256_shani_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks);
#endif

#endif
