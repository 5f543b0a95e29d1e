/* cache_impl.h - what the files of the stub's cache share: the entry in use
 * and the checked way to its base (cache.c), removing an entry (prune.c).
 * Private to cache.c, place.c, manifest.c, fill.c and prune.c; what the
 * rest of the stub calls is in stub.h.
 */
#ifndef BUNDLE_CACHE_IMPL_H
#define BUNDLE_CACHE_IMPL_H

#include <stddef.h>
#include <sys/types.h>

struct stat;

#define CACHE_MAX_BASES 4

/* The cache entry in use, from cache_find or cache_fill on (cache.c).
 * fd may have been closed by the app once starting is 0: use
 * cache_entry_fd(), which checks it and opens the entry again. */
struct cache_entry {
    char *base;     /* its base, as found (absolute) */
    char *path;     /* base/hash */
    const char *hex; /* in path */
    int bfd;        /* the base, from cache_base_open; until cache_prune is done */
    int fd;         /* the entry, held open: every file is opened through it */
    dev_t dev;
    ino_t ino;
    int starting;   /* start-up (until cache_prune): nobody can have closed fd yet */
};
extern struct cache_entry cache_entry;

/* cache.c */
/* Candidate bases in order of preference; returns how many (malloc'ed:
 * cache_bases_free). */
size_t cache_bases(char *bases[CACHE_MAX_BASES]);
void cache_bases_free(char *bases[], size_t n);
/* geteuid(), asked once. */
uid_t cache_uid(void);
/* Opens directory base (absolute) the way no other user can redirect (the
 * checks are at its definition); create: missing directories are made,
 * 0700.  Returns an O_RDONLY fd, or -1 with why set. */
int cache_base_open(const char *base, int create, char *why, size_t whylen);
/* Makes fd (open on base/hex, as st says; base open as bfd) the entry in
 * use.  Takes bfd and fd. */
int cache_entry_set(int bfd, const char *base, const char *hex, int fd, const struct stat *st);
/* Opens entry hex under the base bfd.  Returns the fd (stat in *st), or -1
 * with why set. */
int cache_entry_open_dir(int bfd, const char *base, const char *hex, struct stat *st, char *why,
                         size_t whylen);
/* rm -rf of a temp dir we created (no symlinks are followed). */
void cache_remove_tree(int parent, const char *name);

/* prune.c */
/* 1 if a running start holds or maps the entry in use (mfd: its manifest,
 * then locked exclusively if not). */
int cache_entry_busy(int mfd);
/* Sets the entry in use aside (renamed, then removed): it is damaged. */
void cache_entry_discard(void);

#endif
