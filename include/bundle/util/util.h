/* util.h - small file and string helpers of the build side. */
#ifndef BUNDLE_UTIL_H
#define BUNDLE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle/util/err.h"

/* A growable byte buffer. */
struct buf {
    char *data;   /* NUL-terminated when non-NULL (owned) */
    size_t len;
    size_t cap;
};

int buf_append(struct buf *b, const void *data, size_t len);
/* Makes room for at least extra more bytes (plus the NUL). */
int buf_reserve(struct buf *b, size_t extra);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_release(struct buf *b);

/* Reads a whole file into *out (NUL-terminated; caller frees).  Refuses
 * directories and files over max bytes.  Returns 0 or -1 with err. */
int util_read_file(const char *path, size_t max, char **out, size_t *len, struct err *err);

/* Writes all of data to fd; -1 with errno on failure. */
int util_write_all(int fd, const void *data, size_t len);
/* zlib's CRC-32 (the zip format's) of len bytes, continuing crc (0 to
 * start): any length, where zlib takes at most 4 GiB a call. */
uint32_t util_crc32(uint32_t crc, const void *data, size_t len);

/* What follows the last '/' of path (path itself without one). */
const char *util_base_name(const char *path);

/* "a" + "/" + "b" (malloc'ed), or NULL. */
char *util_join(const char *a, const char *b);

/* mkdir -p. Returns 0 or -1 with err. */
int util_mkdirs(const char *path, int mode, struct err *err);

/* 1 if path is an existing regular file (following links). */
bool util_is_file(const char *path);
/* 1 if path is an existing directory. */
bool util_is_dir(const char *path);

/* Runs argv[0] (searched in PATH if it has no '/') with stdin fed from in
 * (in_len bytes, may be NULL), collecting stdout into *out and stderr into
 * *errout (either may be NULL to discard).  *status is the exit status, or
 * 128+signal.  Returns 0 if it ran, -1 with err if it could not start.
 * The process leads a process group of its own and is registered with
 * temp.h while it runs: an interrupted build stops it and what it started. */
int util_run(char *const argv[], const void *in, size_t in_len, struct buf *out,
             struct buf *errout, int *status, struct err *err);

/* A malloc'ed formatted string, or NULL when out of memory. */
char *util_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Length of the well-formed UTF-8 sequence at s (no overlongs, surrogates
 * or code points above U+10FFFF; a NUL is a 1-byte sequence), or 0. */
size_t util_utf8_len(const char *s);

/* Whether the NUL-terminated s is well-formed UTF-8 (util_utf8_len). */
bool util_utf8_valid(const char *s);

/* Seconds since an arbitrary point, monotonic. */
double util_now(void);

#endif
