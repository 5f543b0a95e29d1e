/* fuzz_util.h - what every fuzz target shares.
 *
 * A target is one LLVMFuzzerTestOneInput() in tests/fuzz/fuzz_<target>.c.
 * It is linked either with libFuzzer (-fsanitize=fuzzer, BUNDLE_FUZZ=ON) or
 * with replay.c, whose main() feeds it every file of the corpus directories
 * it is given (ctest runs that on every build).
 *
 * A target checks more than "no crash": FUZZ_CHECK states what the code
 * under test promises (its header's contract) and aborts when the promise
 * is broken, so libFuzzer saves the input as a crash.
 */
#ifndef BUNDLE_FUZZ_UTIL_H
#define BUNDLE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) \
    do { \
        if (!(cond)) \
            fuzz_fail(__FILE__, __LINE__, #cond); \
    } while (0)

/* A promise the code is known to break: a bug this fuzzing found and
 * reported, not fixed yet.  It fails like FUZZ_CHECK, unless name is listed
 * in $BUNDLE_FUZZ_MUTE (names separated by commas), which
 * `bench/fuzz --mute NAME` sets to fuzz past the bug.  ctest never mutes:
 * the bug's regression input fails until the bug is fixed. */
#define FUZZ_CHECK_KNOWN(name, cond) \
    do { \
        if (!(cond) && !fuzz_muted(name)) \
            fuzz_fail(__FILE__, __LINE__, "[" name "] " #cond); \
    } while (0)

/* 1 if name is listed in $BUNDLE_FUZZ_MUTE. */
int fuzz_muted(const char *name);

/* Prints "file:line: broken promise: cond" on stderr and aborts. */
void fuzz_fail(const char *file, int line, const char *cond) __attribute__((noreturn));

/* A private scratch directory for this process, made on first use (under
 * $BUNDLE_FUZZ_SCRATCH if set, else /dev/shm when it is there and not
 * noexec, else $TMPDIR or /tmp) and removed at exit (not after a crash:
 * bench/fuzz points BUNDLE_FUZZ_SCRATCH into its build directory and
 * empties it).
 * Its path is absolute and has no symlink in it. */
const char *fuzz_scratch(void);

/* The path of name inside the scratch directory: a malloc'ed string the
 * caller frees; never NULL (out of memory aborts). */
char *fuzz_path(const char *name);

/* Replaces the file at path with exactly the size bytes of data. */
void fuzz_write_file(const char *path, const void *data, size_t size);

/* A malloc'ed copy of data in a block of exactly size bytes and no NUL
 * after it, so that AddressSanitizer catches a read one byte past the end
 * (libFuzzer's own buffer is exact too; the replay driver's need not be). */
char *fuzz_dup(const void *data, size_t size);

/* rm -rf path (no symlink is followed); a missing path is fine. */
void fuzz_rm_tree(const char *path);

/* The file descriptors open now, as a bitmap over 0..FUZZ_FD_MAX-1: the
 * code under test may keep some open on purpose (the stub holds locks and
 * memfds for the process's life); fuzz_fds_close_new() closes those opened
 * since the snapshot, so that a long run does not run out. */
#define FUZZ_FD_MAX 4096
struct fuzz_fds {
    unsigned char open[FUZZ_FD_MAX / 8];
};
void fuzz_fds_snapshot(struct fuzz_fds *s);
void fuzz_fds_close_new(const struct fuzz_fds *s);

#endif
