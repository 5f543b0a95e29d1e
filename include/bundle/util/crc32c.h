/* crc32c.h - CRC-32C (Castagnoli, the iSCSI CRC), used to check a bundle
 * for corruption at its first start: ~10x faster than SHA-256.
 * Reflected polynomial 0x82F63B78, init ~0, final xor ~0;
 * crc32c(0, "123456789", 9) == 0xE3069283. */
#ifndef BUNDLE_CRC32C_H
#define BUNDLE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Standard CRC-32C.  Streaming: crc = crc32c(0, a, na);
 * crc = crc32c(crc, b, nb); gives the CRC of a||b.  Uses the SSE4.2 crc32
 * instruction when the CPU has it, else crc32c_portable().  Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* The same function by slicing-by-8 tables, whatever the CPU.  Meant for
 * tests that check the hardware path against it. */
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len);

/* The CRC-32C of each quarter of data: quarter i is bytes
 * [len*i/4, len*(i+1)/4) (exact integer division, no overflow for any len),
 * so out[i] == crc32c(0, quarter i).  With SSE4.2 the four are computed
 * interleaved in one pass, so the CPU runs four independent crc32 chains. */
void crc32c_quarters(const void *data, size_t len, uint32_t out[4]);

#endif
