/* sha256_shani.c - SHA-256 block function on the x86 SHA extensions.
 *
 * Built only for x86-64 (CMake); sha256.c calls it when CPUID says the
 * CPU has SHA-NI.  Hashing the bundle is the cold start's biggest cost:
 * this is several times faster than the portable block function. */
#include <cpuid.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256_impl.h"

int sha256_shani_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 29) & 1; /* CPUID.(EAX=7,ECX=0):EBX.SHA */
}

__attribute__((target("sha,sse4.1,ssse3"))) void sha256_shani_blocks(uint32_t h[8], const uint8_t *p,
                                                                     size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i state1 = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i state0;

    tmp = _mm_shuffle_epi32(tmp, 0xB1);       /* CDAB */
    state1 = _mm_shuffle_epi32(state1, 0x1B); /* EFGH */
    state0 = _mm_alignr_epi8(tmp, state1, 8); /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0); /* CDGH */

    for (; nblocks > 0; nblocks--, p += 64) {
        __m128i abef = state0, cdgh = state1;
        __m128i w[4];
        for (int i = 0; i < 16; i++) {
            __m128i m;
            if (i < 4) {
                w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
            } else {
                /* W[t..t+3] from W[t-16..t-1]: sigma0 (msg1), + W[t-7], sigma1 (msg2) */
                m = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
                m = _mm_add_epi32(m, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
                w[i & 3] = _mm_sha256msg2_epu32(m, w[(i + 3) & 3]);
            }
            m = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, m);
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(m, 0x0E));
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);       /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);    /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)&h[0], state0);
    _mm_storeu_si128((__m128i *)&h[4], state1);
}
