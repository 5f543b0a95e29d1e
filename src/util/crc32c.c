/* crc32c.c - CRC-32C (Castagnoli), which checks a bundle for corruption at
 * its first start: ~10x faster than SHA-256.  On x86-64 it uses the SSE4.2
 * crc32 instruction when CPUID reports it; elsewhere, or on older CPUs, a
 * portable slicing-by-8 table implementation.  crc32c_quarters() runs four
 * independent crc32 chains at once, hiding the instruction's latency. */
#include "bundle/util/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u

/* ---- portable: slicing-by-8 ---- */

static uint32_t table[8][256];
static int have_hw;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    unsigned a, b, c, d;
    have_hw = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
#endif
}

/* Eight bytes as a little-endian number, at any alignment, on any host. */
static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    pthread_once(&init_once, init);
    crc = ~crc;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^
              table[5][(v >> 16) & 0xff] ^ table[4][(v >> 24) & 0xff] ^
              table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
              table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
    }
    for (; len > 0; len--, p++)
        crc = (crc >> 8) ^ table[0][(crc ^ *p) & 0xff];
    return ~crc;
}

/* ---- x86-64: the SSE4.2 crc32 instruction ---- */

#if defined(__x86_64__)
/* Raw (not inverted) CRC of p[0..len). */
__attribute__((target("sse4.2")))
static uint32_t hw_raw(uint32_t crc, const unsigned char *p, size_t len)
{
    uint64_t c = crc, v;
    for (; len >= 8; len -= 8, p += 8) {
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    crc = (uint32_t)c;
    for (; len > 0; len--, p++)
        crc = _mm_crc32_u8(crc, *p);
    return crc;
}

/* Four lanes at p[off[i]..off[i]+n[i]): whole words interleaved, then each
 * lane's tail. */
__attribute__((target("sse4.2")))
static void hw_quarters(const unsigned char *p, const size_t off[4],
                        const size_t n[4], uint32_t out[4])
{
    const unsigned char *p0 = p + off[0], *p1 = p + off[1];
    const unsigned char *p2 = p + off[2], *p3 = p + off[3];
    uint64_t c0 = ~0u, c1 = ~0u, c2 = ~0u, c3 = ~0u, v0, v1, v2, v3;
    size_t words = n[0] / 8;   /* quarter 0 is never longer than the rest */
    for (size_t w = 0; w < words; w++, p0 += 8, p1 += 8, p2 += 8, p3 += 8) {
        memcpy(&v0, p0, 8);
        memcpy(&v1, p1, 8);
        memcpy(&v2, p2, 8);
        memcpy(&v3, p3, 8);
        c0 = _mm_crc32_u64(c0, v0);
        c1 = _mm_crc32_u64(c1, v1);
        c2 = _mm_crc32_u64(c2, v2);
        c3 = _mm_crc32_u64(c3, v3);
    }
    out[0] = ~hw_raw((uint32_t)c0, p0, n[0] - 8 * words);
    out[1] = ~hw_raw((uint32_t)c1, p1, n[1] - 8 * words);
    out[2] = ~hw_raw((uint32_t)c2, p2, n[2] - 8 * words);
    out[3] = ~hw_raw((uint32_t)c3, p3, n[3] - 8 * words);
}
#endif

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__)
    pthread_once(&init_once, init);
    if (have_hw)
        return len ? ~hw_raw(~crc, data, len) : crc;
#endif
    return crc32c_portable(crc, data, len);
}

void crc32c_quarters(const void *data, size_t len, uint32_t out[4])
{
    const unsigned char *p = data;
    size_t off[5], n[4];
    /* len*i/4 without overflow: len = 4q + r gives q*i + r*i/4. */
    for (size_t i = 0; i <= 4; i++)
        off[i] = len / 4 * i + len % 4 * i / 4;
    for (int i = 0; i < 4; i++)
        n[i] = off[i + 1] - off[i];
    if (len == 0) {
        out[0] = out[1] = out[2] = out[3] = 0;
        return;
    }
#if defined(__x86_64__)
    pthread_once(&init_once, init);
    if (have_hw) {
        hw_quarters(p, off, n, out);
        return;
    }
#endif
    for (int i = 0; i < 4; i++)
        out[i] = crc32c_portable(0, p + off[i], n[i]);
}
