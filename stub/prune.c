/* prune.c - removing cache entries: the temp dirs of killed runs and
 * entries of the same app unused for 30 days (cache_prune), and a damaged
 * entry in use (cache_entry_discard); and telling whether a running start
 * holds or maps an entry, which is then left alone.  Depends on cache.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"
#include "stub.h"

#define PRUNE_AGE (30 * 24 * 3600) /* unused this long: removed */
#define TOUCH_AGE (24 * 3600)      /* "used" is recorded at most once a day */

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

/* 1 if a process maps a file of entry name (a dir under bfd): its manifest,
 * whose mapping holds a running start's lock, or a library.  That finds a
 * start whose lock is gone all the same (where flock is emulated with POSIX
 * locks, which any close drops) and an older stub's that kept no mapping.
 * mfd: the entry's manifest. */
static int entry_mapped(int bfd, const char *name, int mfd)
{
    char proc[64], base[PATH_MAX], prefix[PATH_MAX + 80], *line = NULL;
    struct stat ms;
    size_t cap = 0;
    int plen, found = 0;
    ssize_t n;
    DIR *d;
    struct dirent *de;

    snprintf(proc, sizeof proc, "/proc/self/fd/%d", bfd);
    if ((n = readlink(proc, base, sizeof base - 1)) <= 0 || fstat(mfd, &ms) != 0 || !(d = opendir("/proc")))
        return 1; /* cannot tell: in use */
    base[n] = '\0';
    plen = snprintf(prefix, sizeof prefix, "%s/%s/", base, name);
    if (plen < 0 || (size_t)plen >= sizeof prefix) {
        closedir(d);
        return 1;
    }
    while (!found && (de = readdir(d)) != NULL) {
        FILE *f;
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        snprintf(proc, sizeof proc, "/proc/%.20s/maps", de->d_name);
        if (!(f = fopen(proc, "re")))
            continue; /* gone, or another user's: entries are per user */
        while (!found && getline(&line, &cap, f) > 0) {
            unsigned maj, min;
            unsigned long long ino;
            const char *path = strchr(line, '/');
            if (path && strncmp(path, prefix, (size_t)plen) == 0)
                found = 1;
            else if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino == ms.st_ino &&
                     makedev(maj, min) == ms.st_dev)
                found = 1;
        }
        fclose(f);
    }
    free(line);
    closedir(d);
    return found;
}

int cache_entry_busy(int mfd)
{
    if (flock(mfd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK;
    return cache_entry.bfd < 0 || entry_mapped(cache_entry.bfd, cache_entry.hex, mfd);
}

void cache_entry_discard(void)
{
    char dead[96];

    if (cache_entry.bfd < 0 || !cache_entry.hex)
        return;
    snprintf(dead, sizeof dead, ".tmp-dead-%.16s-%ld", cache_entry.hex, (long)getpid());
    if (renameat(cache_entry.bfd, cache_entry.hex, cache_entry.bfd, dead) == 0) {
        stub_debug("removing the damaged cache entry %s", cache_entry.path);
        cache_remove_tree(cache_entry.bfd, dead);
    }
}

/* 1 if entry (a dir under bfd) is one of app name's and no process has it
 * locked or mapped; then it stays locked (returned in *lock) until the
 * caller closes. */
static int same_app_unused(int bfd, const char *entry_name, const char *name, int *lock)
{
    char path[80], text[4096];
    ssize_t n;
    int fd, same = 0;

    snprintf(path, sizeof path, "%s/manifest", entry_name);
    fd = openat(bfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof text - 1);
    if (n > 0) {
        text[n] = '\0';
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, "name ", 5) == 0 && strncmp(l + 5, name, strlen(name)) == 0 &&
                (l[5 + strlen(name)] == '\n' || l[5 + strlen(name)] == '\0'))
                same = 1;
    }
    /* locked first: a start that begins now waits (manifest_load) */
    if (same && flock(fd, LOCK_EX | LOCK_NB) == 0 && !entry_mapped(bfd, entry_name, fd)) {
        *lock = fd;
        return 1;
    }
    close(fd);
    return 0;
}

void cache_prune(const struct stub_self *self, const struct stub_manifest *m, int fresh, time_t used)
{
    struct stat st;
    time_t now = time(NULL);
    DIR *d;
    struct dirent *de;
    int bfd = cache_entry.bfd;

    if (bfd < 0)
        return;
    if (!fresh) {
        if (now - used < TOUCH_AGE) /* cache_find's fstat: no second one */
            goto out;
        futimens(cache_entry.fd, NULL); /* used today */
    }
    /* temp dirs are judged only with the base locked: see fill_in() in fill.c */
    int may_sweep = flock(bfd, LOCK_EX | LOCK_NB) == 0;
    d = fdopendir(dup(bfd));
    while (d && (de = readdir(d)) != NULL) {
        int lock = -1;
        if (fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != cache_uid())
            continue;
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            if (!may_sweep)
                continue;
            int tfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (tfd >= 0 && flock(tfd, LOCK_EX | LOCK_NB) == 0) {
                stub_debug("removing %s, left by a killed run", de->d_name);
                cache_remove_tree(bfd, de->d_name);
            }
            if (tfd >= 0)
                close(tfd);
        } else if (is_hex64(de->d_name) && strcmp(de->d_name, self->hex) != 0 && m->name &&
                   now - st.st_mtime > PRUNE_AGE && same_app_unused(bfd, de->d_name, m->name, &lock)) {
            /* renamed first: no start can see it half removed */
            char dead[96];
            snprintf(dead, sizeof dead, ".tmp-dead-%.16s-%ld", de->d_name, (long)getpid());
            stub_debug("removing %s, unused for 30 days", de->d_name);
            if (renameat(bfd, de->d_name, bfd, dead) == 0)
                cache_remove_tree(bfd, dead);
            close(lock);
        }
    }
    if (d)
        closedir(d);
out:
    close(bfd); /* and its lock */
    cache_entry.bfd = -1;
    cache_entry.starting = 0; /* the app may close the entry's fd from now on */
}
