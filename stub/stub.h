/* stub.h - the bootloader's internal interfaces.
 *
 * The stub is its own small program: it shares only the payload format
 * (include/bundle/payload.h) and SHA-256 with bundle.  Every function here
 * returns 0 / -1 and describes a failure in a caller-provided buffer; only
 * main() prints, as the app's own name.
 */
#ifndef BUNDLE_STUB_H
#define BUNDLE_STUB_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "bundle/payload.h"

#define STUB_WHY_MAX 512

/* One _native/ entry of the bundle: name without the prefix, data place. */
struct stub_file {
    char *rel;
    uint64_t off;   /* where its data starts in the bundle */
    uint64_t csize; /* bytes there */
    uint64_t size;  /* bytes of the file */
    int method;     /* 0 stored (csize == size), PAYLOAD_ZSTD or PAYLOAD_ZSTD_CALLS */
};
struct stub_table {
    struct stub_file *files; /* sorted by rel */
    size_t n;
    int built;
};

/* The open bundle: /proc/self/exe. */
struct stub_self {
    int fd;                 /* open on the bundle file */
    uint64_t size;          /* its size */
    uint8_t tail[PAYLOAD_EOCD_SIZE + PAYLOAD_TRAILER_SIZE];
    struct payload_trailer trailer;
    char hex[65];           /* the archive hash, hex: the cache key */
    int check_state;        /* CHECK_NONE, CHECK_RUNNING (check_tid), CHECK_DONE */
    pthread_t check_tid;
    int check_ok;           /* CHECK_DONE: the CRC-32Cs matched */
    struct stub_table files; /* self_files() */
};

enum { CHECK_NONE, CHECK_RUNNING, CHECK_DONE };

/* Waits for (or does) the check of the bundle's CRC-32Cs against its
 * trailer.  Returns 0 if they matched. */
int check_verdict(struct stub_self *self);

/* A file unpacked on first use (manifest "lazy" line). */
struct stub_lazy {
    char *rel;              /* its path in the cache entry (owned) */
    uint32_t crc;           /* CRC-32C of its bytes */
    char **deps;            /* libraries to load before it, dependencies first (owned) */
    size_t ndeps;
    uint64_t size;          /* its size, from the entry's manifest ("size" lines); 0: unknown */
    char *path;             /* what native() answers, once found or unpacked (owned) */
    int loaded;             /* dlopen'ed already (by the stub) */
};

/* What the manifest says. */
struct stub_manifest {
    int py_major, py_minor;
    char *name;             /* the app's name (owned; may be NULL) */
    char *libpython;        /* relative to the cache entry (owned); NULL when linked */
    uint64_t libpython_size; /* from a "size" line; 0: unknown */
    int linked;             /* libpython is linked into the stub itself */
    char **preload;         /* relative paths, dependencies first (owned) */
    uint64_t *preload_size; /* from "size" lines (owned, npreload; NULL: none) */
    size_t npreload;
    int sized;              /* "sized 1" ends it: an entry's manifest, whole, as this stub writes it */
    struct stub_lazy *lazy; /* sorted by rel (owned, nlazy) */
    size_t nlazy;
    size_t *early;          /* lazy files a first start unpacks ahead of the
                               app's imports ("early" lines): indexes into
                               lazy, in import order (owned, nearly) */
    size_t nearly;
    struct stub_glibc {     /* the carried glibc, if any: "carry CRC SIZE PATH" */
        char *rel;          /* glibc/NAME (owned) */
        uint32_t crc;
        uint64_t size;
    } *glibc;
    size_t nglibc;
};

/* The lazy entry for rel, or NULL. */
struct stub_lazy *manifest_lazy(const struct stub_manifest *m, const char *rel);

/* carry.c: on a host whose glibc is older than the bundle's floor, the
 * stub runs again under the glibc the bundle carries.  carry_argv strips
 * the marker that second run gets (argv[1]) and returns the bundle's path
 * it names (static), or NULL: a first run. */
const char *carry_argv(int *argc, char ***argv);
#define STUB_CARRY_MARKER "\x1b[bundle:carried-glibc]"
/* Unpacks the carried glibc into the entry in use (dir; self open), then
 * execs its loader on the bundle (exe) with argv: returns only on failure,
 * -1 with why set. */
int carry_exec(const struct stub_self *self, const struct stub_manifest *m, const char *dir, const char *exe,
               int argc, char **argv, char *why, size_t whylen, int *corrupt);
/* The bundle's own file: /proc/self/exe, or what the marker names. */
extern const char *stub_exe;

/* debug.c: the app's name as messages give it, and the start-up trace on
 * stderr when BUNDLE_DEBUG is set (a no-op otherwise).  stub_debug_init
 * reads both, first thing in main. */
extern const char *stub_progname;
void stub_debug_init(int argc, char **argv);
void stub_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether BUNDLE_DEBUG is on. */
int stub_debugging(void);

/* The cache: cache.c (its bases, the entry in use), place.c (writing files
 * into it), manifest.c (the bundle's native files, the manifest), fill.c
 * (a first start), prune.c (removing entries); cache.c says more. */

/* cache.c: finds the cache entry of this bundle; fill.c: fills one.  On
 * success *dir is the malloc'ed absolute path of the entry (caller frees),
 * and the entry is the one in use: held open (cache_entry_fd) from then on. */
int cache_find(const struct stub_self *self, char **dir, time_t *used);
int cache_fill(const struct stub_self *self, char **dir, char *why, size_t whylen, int *corrupt);
/* Lets go of the entry in use (start-up only: memory mode after all). */
void cache_forget(void);
/* The entry in use, open: the fd held since the start, or (the app closed
 * it) opened again through checked directories; -1 when there is none any
 * more (removed), or no entry is in use. */
int cache_entry_fd(void);
/* fill.c: 0 if the file's CRC-32Cs match its trailer. */
int cache_verify(const struct stub_self *self);
/* fill.c: the first start after a reboot checks the entry's files once (a power cut
 * may have left some short: nothing is flushed) and replaces what is wrong;
 * the entry records the boot it was last checked in.  Returns 0, or -1 with
 * why set (*corrupt: the bundle is). */
int cache_check_boot(struct stub_self *self, const struct stub_manifest *m, char *why, size_t whylen,
                     int *corrupt);

/* place.c: writing into the entry in use, and into memfds. */
/* Opens file rel of the entry, a shared library, for reading if it is what
 * the stub unpacked: a regular file of this user's that nobody else can
 * write, of size bytes (0: any), that starts as an ELF file does (elf: its
 * first bytes are read; zeros where they should be are what a file whose
 * blocks were allocated and never written holds); neither blocks (a FIFO)
 * nor follows a symlink.  Returns the fd; or -1 with errno ENOENT (absent),
 * or with *bad saying what is wrong. */
int cache_open(const char *rel, uint64_t size, int elf, const char **bad);
/* Removes file rel (or whatever is there) from the entry.  0 or -1, errno. */
int cache_remove(const char *rel);
/* Writes size bytes at data as file rel of the entry, then links it into
 * place (or renames it: whole or absent).  0, or -1 with errno (EEXIST:
 * another start placed its copy first). */
int cache_place(const char *rel, const void *data, size_t size);
/* The same with file f of the bundle open as in, inflated on the way, which
 * must have the CRC-32C *want (if not NULL; else -1 with EBADMSG). */
int cache_place_file(const char *rel, int in, const struct stub_file *f, const uint32_t *want);
/* cache_place_file for a thread of its own (prefetch.c): into the entry
 * dir dfd, through the decoder dec, and only ever without a name until
 * whole (O_TMPFILE): else -1 with EOPNOTSUPP.  (struct inflater: entry.c.) */
struct inflater;
int place_file_at(int dfd, const char *rel, int in, const struct stub_file *f, const uint32_t *want,
                  struct inflater *dec);
/* Replaces file f of the bundle in the entry with the bundle's copy (self
 * open; checked by the caller).  0 or -1 with errno. */
int cache_replace(const struct stub_self *self, const struct stub_file *f);
/* A /proc/self/fd name for *fd that was never given before (else *fd is
 * moved to a number that was not): glibc's dlopen takes a name it loaded
 * before for that library.  malloc'ed, or NULL with errno. */
char *fd_path(int *fd);
/* Forgets the names given: for a test harness that loads none of them. */
void fd_path_reset(void);
/* Creates the parent directories of rel (a safe relative path) under dfd,
 * 0700.  Returns 0 or -1 with errno. */
int make_parents(int dfd, const char *rel);
/* A memfd holding file f of the bundle open as in (with the CRC-32C *want
 * if want is not NULL: else EBADMSG), left open for dlopen: its
 * /proc/self/fd path (malloc'ed), or NULL with errno. */
char *memfd_copy(int in, const struct stub_file *f, const uint32_t *want, const char *name);

/* prune.c */
/* Records that the entry is in use (at most daily), and removes stale temp
 * dirs and entries of the same app unused for 30 days that no process
 * holds or maps.  fresh: the entry was just made; else used is its mtime
 * as cache_find saw it (no second stat on the start-up path).  Never fails;
 * ends the start-up part of the entry's life (its base is closed). */
void cache_prune(const struct stub_self *self, const struct stub_manifest *m, int fresh, time_t used);

/* manifest.c: what the bundle holds and what its manifest says. */
/* Parses the manifest of the entry in use, and takes a shared lock on it
 * that lasts as long as the process, whatever it closes (it is held by a
 * mapping).  Returns 0, or -1 with why set and *retry: 1 when the entry is
 * gone or was damaged (and set aside): fill it again. */
int manifest_load(struct stub_manifest *m, char *why, size_t whylen, int *retry);
/* Reads and parses the bundle's own manifest (memory mode, first start). */
int manifest_of(struct stub_self *self, struct stub_manifest *m, char *why, size_t whylen, int *corrupt);
/* Parses manifest text (modified in place).  Returns 0 or -1. */
int manifest_parse(char *text, struct stub_manifest *m);
/* The bundle's _native/ entries (self->files), read and checked on first
 * use: returns them, or NULL with why set (and *corrupt = 1 when the bundle
 * is malformed: unsafe or duplicate names, compressed or overlapping data). */
const struct stub_table *self_files(struct stub_self *self, char *why, size_t whylen, int *corrupt);
/* The entry named rel, or NULL. */
const struct stub_file *table_find(const struct stub_table *t, const char *rel);
void table_release(struct stub_table *t);

/* entry.c: copying and writing bytes. */
/* Copies len bytes at off of in to out's current position. */
int copy_range(int in, uint64_t off, uint64_t len, int out);
/* Writes all n bytes; -1 with errno on failure. */
int write_full(int fd, const void *data, size_t n);
/* entry.c: file f of the bundle open as in, stored or inflated. */
/* Writes it to out's current position; crc (if not NULL) is updated with
 * the CRC-32C of what is written.  0, or -1 with errno (EBADMSG: its
 * compressed bytes are not what they should be). */
int entry_write(int in, const struct stub_file *f, int out, uint32_t *crc);
/* A decoder of a thread's own (the process's is shared under a lock):
 * made empty (NULL: out of memory), freed with what it holds.  Once *stop
 * (if stop is not NULL) turns nonzero, what it inflates fails with
 * ECANCELED. */
struct inflater;
struct inflater *inflater_new(const int *stop);
void inflater_free(struct inflater *x);
/* entry_write through the decoder x (NULL: the shared one). */
int entry_write_by(struct inflater *x, int in, const struct stub_file *f, int out, uint32_t *crc);
/* Inflates src (srclen bytes: one whole zstd frame) with the dictionary
 * dict (or NULL) into dst, which it must fill exactly (n bytes).  0, or -1
 * with errno (EBADMSG). */
struct ZSTD_DDict_s;
int entry_frame(const void *src, size_t srclen, const struct ZSTD_DDict_s *dict, void *dst, size_t n);

/* How Python starts: native parts from a cache dir, or from memory. */
struct stub_plan {
    char *home;             /* PyConfig.home */
    char *dir;              /* the cache entry; NULL in memory mode */
    char *site;             /* sys._MEIPASS */
    char *libpython;        /* what to dlopen; NULL: linked into the stub */
    char **preload;         /* ...after these, in this order (npreload) */
    size_t npreload;
    int *fds;               /* the fds of preload[i] (then libpython's) to close once loaded, or -1 */
};
/* The entry in use (at dir): each file opened through it and checked
 * (cache_open); a damaged one is replaced from the bundle, or loaded from
 * memory.  Returns 0, or -1 with why set (*corrupt: the bundle is). */
int plan_from_dir(struct stub_self *self, const char *dir, const struct stub_manifest *m, struct stub_plan *p,
                  char *why, size_t whylen, int *corrupt);
/* Memory mode (no usable cache dir): libpython and its libraries in
 * memfds.  Also checks the bundle and fills *m from its manifest. */
int plan_from_memory(const struct stub_self *self, struct stub_manifest *m, struct stub_plan *p,
                     char *why, size_t whylen, int *corrupt);
void plan_release(struct stub_plan *p);
void manifest_release(struct stub_manifest *m);

/* native.c: what the start-up module asks of the stub.  native_init keeps
 * pointers to its arguments (they live as long as the process) and maps
 * the pyz blob. */
int native_init(const struct stub_self *self, struct stub_manifest *m, const struct stub_plan *p,
                char *why, size_t whylen);
/* The pyz index (marshal bytes). */
const uint8_t *native_index(size_t *len);
/* Inflates the module code at [off, off + size) of the pyz into a buffer
 * that stays valid until the next call. */
int native_code(uint64_t off, uint64_t size, const uint8_t **out, size_t *outlen, char *why, size_t whylen);
/* Done with the code native_code handed out (after marshal read it). */
void native_code_done(const uint8_t *code);
/* The path of lazy file rel, unpacked (into the cache entry, or a memfd) if
 * it is not yet, after the libraries it needs are loaded. */
int native_path(const char *rel, const char **path, char *why, size_t whylen);

/* prefetch.c: a first start unpacks the manifest's early files (and the
 * libraries they need) on a thread of its own, where a second CPU is
 * there for it; self open, m the entry's manifest, for the life of the
 * process.  Never fails: without the thread, imports unpack. */
void prefetch_start(struct stub_self *self, const struct stub_manifest *m);
/* Before an import uses lazy file l of m: waits while the thread writes
 * it, and keeps the thread off it from then on. */
void prefetch_claim(const struct stub_manifest *m, const struct stub_lazy *l);
/* Stops the thread (a file it is writing is left unnamed, so gone) and
 * joins it: before the process forks. */
void prefetch_stop(void);

/* pyrun.c: loads libpython and runs the app; returns its exit status, or
 * -1 with why set when Python could not be started. */
int pyrun(const struct stub_plan *plan, const struct stub_manifest *m, const char *exe, int argc,
          char **argv, char *why, size_t whylen);

#endif
