/* nolegacy.c - libzstd.a as Debian builds it can read the zstd formats of
 * 2016 and before (v0.5 to v0.7), and its frame decoder calls those readers
 * when a frame starts with their magic numbers.  A bundle never holds such
 * a frame, so these definitions take their place at link time, and the
 * readers (91 kB, a quarter of the stub) stay out of it.  Each one says
 * "no": zstd then reports the frame as an error, as it does any frame it
 * cannot read (unit test_entry feeds it one).  If a libzstd.a needs another
 * symbol of these readers, the link pulls in its object, whose definitions
 * then clash with these: the stub fails to link, loudly, never silently.
 *
 * The signatures are zstd's own (lib/legacy/zstd_v0[567].h); only the
 * error codes matter to the caller, and they are zstd's: (size_t)-N. */
#include <stddef.h>

#include <zstd_errors.h>

#define NO ((size_t) - (int)ZSTD_error_prefix_unknown)

#define LEGACY(v)                                                                                  \
    void *ZSTD##v##_createDCtx(void);                                                              \
    void *ZSTD##v##_createDCtx(void) { return NULL; }                                              \
    size_t ZSTD##v##_freeDCtx(void *d);                                                            \
    size_t ZSTD##v##_freeDCtx(void *d) { (void)d; return 0; }                                      \
    size_t ZSTD##v##_getFrameParams(void *p, const void *src, size_t n);                           \
    size_t ZSTD##v##_getFrameParams(void *p, const void *src, size_t n) { (void)p, (void)src, (void)n; return NO; } \
    size_t ZSTD##v##_decompress_usingDict(void *d, void *dst, size_t cap, const void *src, size_t n, \
                                          const void *dict, size_t dn);                            \
    size_t ZSTD##v##_decompress_usingDict(void *d, void *dst, size_t cap, const void *src, size_t n, \
                                          const void *dict, size_t dn)                             \
    {                                                                                              \
        (void)d, (void)dst, (void)cap, (void)src, (void)n, (void)dict, (void)dn;                   \
        return NO;                                                                                 \
    }                                                                                              \
    void ZSTD##v##_findFrameSizeInfoLegacy(const void *src, size_t n, size_t *csize,               \
                                           unsigned long long *bound);                            \
    void ZSTD##v##_findFrameSizeInfoLegacy(const void *src, size_t n, size_t *csize,               \
                                           unsigned long long *bound)                             \
    {                                                                                              \
        (void)src, (void)n;                                                                        \
        *csize = NO;                                                                               \
        *bound = 0ULL - 2; /* ZSTD_CONTENTSIZE_ERROR */                                            \
    }                                                                                              \
    void *ZBUFF##v##_createDCtx(void);                                                             \
    void *ZBUFF##v##_createDCtx(void) { return NULL; }                                             \
    size_t ZBUFF##v##_freeDCtx(void *d);                                                           \
    size_t ZBUFF##v##_freeDCtx(void *d) { (void)d; return 0; }                                     \
    size_t ZBUFF##v##_decompressInitDictionary(void *d, const void *dict, size_t n);              \
    size_t ZBUFF##v##_decompressInitDictionary(void *d, const void *dict, size_t n)               \
    {                                                                                              \
        (void)d, (void)dict, (void)n;                                                              \
        return NO;                                                                                 \
    }                                                                                              \
    size_t ZBUFF##v##_decompressContinue(void *d, void *dst, size_t *dn, const void *src, size_t *sn); \
    size_t ZBUFF##v##_decompressContinue(void *d, void *dst, size_t *dn, const void *src, size_t *sn) \
    {                                                                                              \
        (void)d, (void)dst, (void)src;                                                             \
        *dn = *sn = 0;                                                                             \
        return NO;                                                                                 \
    }

LEGACY(v05)
LEGACY(v06)
LEGACY(v07)
