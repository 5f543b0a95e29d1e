/* payload.h - the format of a bundle, shared by bundle and the stub.
 *
 * A bundle is one file:
 *
 *   [ stub ELF ][ pyz ][ zip archive .............. EOCD ][ trailer ]
 *               ^ pyz_offset                                ^ file_size - PAYLOAD_TRAILER_SIZE
 *                      ^ archive_offset
 *
 * The trailer is the zip's end-of-central-directory comment, so the file
 * from archive_offset on is a valid zip.  It is fixed-size, little-endian:
 *
 *   off size field
 *     0    8 magic            PAYLOAD_MAGIC
 *     8    4 version          PAYLOAD_VERSION
 *    12    4 flags            bits 0-15: the oldest glibc the bundle's native
 *                             parts run on, major << 8 | minor (0: none
 *                             recorded), which the stub checks before it
 *                             loads any of them; bit 16: the bundle
 *                             carries the build machine's glibc for
 *                             hosts whose own is older (manifest "carry"
 *                             lines); bits 17-31: 0 (reserved)
 *    16    8 pyz_offset       where the pure-Python module blob starts
 *    24    8 pyz_size         its size (it ends at or before archive_offset)
 *    32    8 archive_offset   where the zip starts
 *    40    8 archive_size     zip bytes up to the trailer (EOCD included)
 *    48   32 sha256           of file bytes [0, archive_offset + archive_size)
 *    80   16 check            four CRC-32C (crc32c_quarters) of file bytes
 *                             [0, archive_offset + archive_size + 80): the
 *                             whole file but these 16 bytes, in quarters
 *
 * The SHA-256 names the cache entry of the bundle's native parts; bundle
 * computes it.  The stub never hashes: a first start checks the CRC-32Cs
 * (a truncated or damaged download is refused before any app code runs),
 * which costs a tenth of SHA-256.
 *
 * The pyz holds the app's pure-Python modules, read in place at run time by
 * the start-up module's importer (never unpacked):
 *   u32 LE   n: size of the index
 *   n bytes  the index, a marshal'ed dict {module name: (offset, size, flags)}
 *            offset from the pyz start; flags PYZ_PACKAGE, PYZ_NAMESPACE,
 *            PYZ_ONDISK
 *            or, for an extension module, (0, 0, flags | PYZ_EXTENSION,
 *            its path in the cache entry, e.g. 'site/pkg/_x.cpython-311-...so')
 *   u32 LE   d: size of the dictionary (0: none)
 *   d bytes  a zstd dictionary trained on these modules
 *   ...      each module's code: one zstd frame of marshal(code object),
 *            made with the dictionary, its inflated size in its header
 * The start-up module itself is the entry named PAYLOAD_BOOT_MODULE: the stub
 * runs it before Python's import system reads any file, so every module,
 * encodings included, comes from the blob.
 *
 * Zip entries, each stored (method 0) or compressed with zstd (method 93:
 * one frame, window at most 1 MiB; the manifest is always stored; x86-64
 * code with the call filter below first, method PAYLOAD_ZSTD_CALLS), unpacked
 * into the cache entry (<base>/<sha256>/):
 *   _native/manifest           what the stub needs (see below)
 *   _native/lib/...            libpython and the shared libraries
 *   _native/site/...           extension modules and package data files, in
 *                              their package tree (sys._MEIPASS)
 * A first start unpacks the manifest, libpython (unless it is linked into
 * the stub, link.h), the libraries it needs and the data files; the others ("lazy" in the manifest) are unpacked by the
 * start-up module's importer when the app first imports them, one file at a
 * time (temp name, then rename), each checked against its CRC-32C.
 *
 * The manifest is text, one "key value" per line:
 *   python 3.11                   the interpreter's major.minor
 *   name hello                    the app's name (cache pruning)
 *   libpython lib/libpython3.11.so.1.0   the shared libpython to load, or
 *   linked 1                      libpython is linked into the stub itself
 *   preload lib/libz.so.1         loaded before libpython, dependencies first
 *   carry 1a2b3c4d 2029592 glibc/libc.so.6
 *                                 a file of the carried glibc (--carry-glibc):
 *                                 CRC-32C (hex), size, path; unpacked only
 *                                 on a host whose glibc is older than the
 *                                 floor (trailer flags)
 *   lazy 1a2b3c4d site/_ssl.cpython-311-x86_64-linux-gnu.so lib/libcrypto.so.3 lib/libssl.so.3
 *                                 unpacked on first use: CRC-32C (hex), path,
 *                                 then the libraries to load before it,
 *                                 dependencies first
 *
 * Every field is hostile input to the stub: payload_trailer_decode and the
 * zip walker check each one against the file size before it is used.
 */
#ifndef BUNDLE_PAYLOAD_H
#define BUNDLE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* log2 of the largest zstd window a compressed entry uses: the stub's
 * decoder holds no more (pack.h). */
#define PAYLOAD_WINDOW_LOG 20
#define PAYLOAD_MAGIC "\x7f" "BUNDLE\x1a"
#define PAYLOAD_MAGIC_LEN 8
#define PAYLOAD_VERSION 5
#define PAYLOAD_TRAILER_SIZE 96
#define PAYLOAD_CHECKED_TAIL 80 /* trailer bytes the check covers */
#define PAYLOAD_EOCD_SIZE 22
#define PAYLOAD_FLAG_GLIBC_MASK 0xffffu /* flags: the glibc floor */
#define PAYLOAD_FLAG_CARRIES_GLIBC 0x10000u
#define PAYLOAD_NATIVE_PREFIX "_native/"
#define PAYLOAD_MANIFEST "_native/manifest"
#define PAYLOAD_BOOT_MODULE "_bundle_boot"
#define PYZ_PACKAGE 1
#define PYZ_NAMESPACE 2
#define PYZ_EXTENSION 4
#define PYZ_ONDISK 8   /* its source is a file too, in the cache entry's site/ tree:
                          __file__ names that .py (the package's code lists its
                          directory or loads files from it by path) */
#define PAYLOAD_ABSENT_MODULE "_bundle_absent" /* NAMES: what the build machine had
                          and the bundle left out, for the run-time message */
/* Longest native path the stub accepts (relative to the cache entry). */
#define PAYLOAD_PATH_MAX 1024
/* Largest manifest the stub reads. */
#define PAYLOAD_MANIFEST_MAX (256 * 1024)

struct payload_trailer {
    uint32_t version;
    uint32_t flags;
    uint64_t pyz_offset;
    uint64_t pyz_size;
    uint64_t archive_offset;
    uint64_t archive_size;
    uint8_t sha256[32];
    uint32_t check[4];
};

void payload_trailer_encode(const struct payload_trailer *t, uint8_t out[PAYLOAD_TRAILER_SIZE]);

/* Decodes the last PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE bytes of a file
 * of file_size bytes.  Checks the magic, the version, that the archive lies
 * inside the file and ends exactly at the trailer, that the pyz lies before
 * the archive, and that the EOCD before
 * the trailer declares the trailer as its comment.  Returns 0, or -1 with
 * *why set to a static reason. */
int payload_trailer_decode(const uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE],
                           uint64_t file_size, struct payload_trailer *t, const char **why);

/* The central directory, read into memory by the caller. */
struct payload_cd {
    uint64_t offset;   /* absolute file offset of the central directory */
    uint64_t size;     /* its size in bytes */
    uint64_t count;    /* number of entries it declares */
};

/* Reads the central directory's place from the EOCD (tail as above).
 * Returns 0, or -1 with *why set if it is not inside the archive. */
int payload_cd_locate(const uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE],
                      const struct payload_trailer *t, struct payload_cd *cd, const char **why);

struct payload_entry {
    const char *name;     /* NOT NUL-terminated; points into the cd buffer */
    size_t name_len;
    uint16_t method;      /* 0 stored, PAYLOAD_ZSTD or PAYLOAD_ZSTD_CALLS (the stub
                             refuses any other) */
    uint32_t crc32;
    uint64_t csize;       /* compressed size */
    uint64_t usize;       /* uncompressed size */
    uint64_t header_offset; /* absolute file offset of the local header */
};

/* Walks the central directory held in buf (cd->size bytes).  *pos starts at
 * 0.  Returns 1 with *e filled, 0 at the end, -1 with *why on a malformed
 * record or one pointing outside the archive. */
int payload_cd_next(const uint8_t *buf, const struct payload_cd *cd, const struct payload_trailer *t,
                    size_t *pos, struct payload_entry *e, const char **why);

/* Given the 30-byte local header of e, computes the absolute offset of its
 * data and checks that data lies inside the archive.  Returns 0 or -1. */
int payload_entry_data(const uint8_t local[30], const struct payload_entry *e,
                       const struct payload_trailer *t, uint64_t *data_offset, const char **why);

/* 1 if the relative path p (len bytes, no NUL inside) is safe to create under
 * a directory: not empty, not absolute, no "." or ".." component, no empty
 * component, no NUL, no backslash, at most PAYLOAD_PATH_MAX bytes. */
int payload_path_safe(const char *p, size_t len);

/* The module blob (the layout above), read by the stub and by bundle
 * verify through these two, so both refuse the same things. */
struct payload_pyz {
    const uint8_t *index; /* the marshal'ed index */
    uint32_t index_len;
    const uint8_t *dict;  /* the zstd dictionary (starts with its magic), or NULL */
    uint32_t dict_len;
};
/* The largest code object a module may inflate to: far beyond any real one. */
#define PAYLOAD_MODULE_MAX (256u << 20)
/* Splits the blob pyz (size bytes) into its index and dictionary.  0, or
 * -1 with *why (the blob is malformed). */
int payload_pyz_parts(const uint8_t *pyz, uint64_t size, struct payload_pyz *out, const char **why);
/* Checks that src (len bytes) is one whole zstd frame (not a skippable
 * one) holding at most PAYLOAD_MODULE_MAX bytes: 0 with *usize, its size
 * once inflated, or -1. */
int payload_module_frame(const uint8_t *src, uint64_t len, uint64_t *usize);

/* The call filter of zip method PAYLOAD_ZSTD_CALLS: an x86-64 ELF file
 * whose code segment was filtered before zstd.  The entry's data is
 *   u32 LE off, u32 LE len  the filtered bytes: [off, off + len) of the file
 *   ...                     one zstd frame of the filtered file
 * In those bytes the 32-bit displacement after each E8 byte (CALL rel32)
 * that lands inside them is made relative to their start, not to the
 * instruction: the calls of one function become the same bytes wherever
 * they are, which zstd finds as repeats (libpython at level 19: 2.22 ->
 * 2.10 MB).  The mapping is its own inverse on every 32-bit value, so any
 * bytes, data that only look like a call too, come back exactly. */
#define PAYLOAD_ZSTD 93            /* zip's method number for Zstandard */
#define PAYLOAD_ZSTD_CALLS 0x93e8  /* ours: the call filter, then zstd */
#define PAYLOAD_CALLS_HEADER 8
#define PAYLOAD_CALLS_MAX (1u << 29) /* longest filtered range */
struct payload_calls {
    uint64_t off, end; /* the filtered range, offsets in the file */
    uint64_t next;     /* the next offset to look at */
};
/* Reads the header of an entry of that method (csize bytes of data, usize
 * once inflated) into *c.  0, or -1 if it is malformed. */
int payload_calls_header(const uint8_t *data, uint64_t csize, uint64_t usize, struct payload_calls *c);
/* Filters (or unfilters: the same) the n bytes at buf, the file's bytes
 * from offset base on, in order: a first call with base 0, each next one
 * from where the last one's final bytes end.  Returns how many of the n
 * bytes are final: all of them, but for a call whose displacement runs
 * past the end of buf (at most 4 bytes, which the caller passes again at
 * the start of the next call). */
size_t payload_calls_run(struct payload_calls *c, uint8_t *buf, uint64_t base, size_t n);

/* Inflates the data of a zip entry of method PAYLOAD_ZSTD or
 * PAYLOAD_ZSTD_CALLS (src, csize bytes; the filter's header first), which
 * must be one whole zstd frame of exactly usize bytes with a window of at
 * most 2^PAYLOAD_WINDOW_LOG, through the decoder d (reset here) and the
 * scratch buffer buf of cap (>= 4096) bytes, the call filter undone; each
 * piece in order goes to sink(ctx, bytes, n), which returns 0 or -1.
 * Returns 0, 1 when sink failed, or -1 when the data is malformed. */
struct ZSTD_DCtx_s;
int payload_inflate(struct ZSTD_DCtx_s *d, uint16_t method, const uint8_t *src, uint64_t csize, uint64_t usize,
                    uint8_t *buf, size_t cap, int (*sink)(void *ctx, const uint8_t *p, size_t n), void *ctx);

#endif
