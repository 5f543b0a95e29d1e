#include "bundle/util/temp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The signals that end a build with its temp files removed. */
static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
#define NCAUGHT (sizeof caught / sizeof caught[0])

/* How long the handler waits for a thread to leave temp_hold, for helper
 * processes to exit after SIGTERM, then after SIGKILL. */
#define HOLD_WAIT_NS 5000000000LL
#define TERM_WAIT_NS 2000000000LL
#define KILL_WAIT_NS 1000000000LL

/* A registered path.  kind: 0 free, -1 being written (by a thread inside
 * temp_hold), else an enum temp_kind; the path is complete whenever kind
 * is positive. */
struct slot {
    atomic_int kind;
    char path[PATH_MAX];
};

static struct slot slots[TEMP_MAX_PATHS];
/* Helper processes: pid, or -pid for one that leads its own group; 0 free. */
static atomic_int children[TEMP_MAX_CHILDREN];
/* Threads inside temp_hold; set once a handler runs. */
static atomic_int holds, dying;

static struct sigaction saved_actions[NCAUGHT];
static bool installed[NCAUGHT];
static bool subreaper;

static _Thread_local int hold_depth;
static _Thread_local sigset_t hold_saved;

const char *temp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && t[0] == '/' ? t : "/tmp";
}

static void caught_set(sigset_t *s)
{
    sigemptyset(s);
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaddset(s, caught[i]);
}

/* ---- async-signal-safe helpers: used by the handler and the normal paths alike ---- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* What getdents64 returns (no libc type for it before glibc 2.30). */
struct dent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void remove_at(int dirfd, const char *name, int depth);

/* Removes what the dir open at fd holds, rescanning until a pass finds
 * nothing (entries removed during a scan may make it skip others). */
static void empty_dir(int fd, int depth)
{
    char buf[2048] __attribute__((aligned(8)));
    for (int pass = 0; pass < 16; pass++) {
        bool any = false;
        long n;
        if (lseek(fd, 0, SEEK_SET) != 0)
            return;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                const struct dent64 *d = (const void *)(buf + off);
                off += d->reclen;
                if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
                    continue;
                remove_at(fd, d->name, depth);
                any = true;
            }
        }
        if (!any)
            return;
    }
}

/* Removes name under dirfd: a file, or a dir with its contents (not
 * following symlinks; 16 levels at most, which no temp dir reaches). */
static void remove_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    int fd = depth < 16 ? openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (fd >= 0) {
        empty_dir(fd, depth + 1);
        close(fd);
    }
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void remove_kind(const char *path, int kind)
{
    if (kind == TEMP_FILE)
        unlink(path);
    else if (kind == TEMP_TREE)
        remove_at(AT_FDCWD, path, 0);
    else if (kind == TEMP_EMPTY_DIR)
        rmdir(path);
}

/* Files and trees first, then the dirs that must be empty by then. */
static void remove_slots(bool forget)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < TEMP_MAX_PATHS; i++) {
            int k = atomic_load(&slots[i].kind);
            if (k <= 0 || (k == TEMP_EMPTY_DIR) != (pass == 1))
                continue;
            remove_kind(slots[i].path, k);
            if (forget)
                atomic_store(&slots[i].kind, 0);
        }
}

/* SIGTERM (or, to a process that is not ours alone, the signal itself) to
 * every helper, then waits for each and its whole group; SIGKILL to what
 * is left after a while. */
static void stop_children(int sig)
{
    int v[TEMP_MAX_CHILDREN];
    bool reaped[TEMP_MAX_CHILDREN];
    bool killed = false;
    int64_t deadline = now_ns() + TERM_WAIT_NS;

    for (size_t i = 0; i < TEMP_MAX_CHILDREN; i++) {
        v[i] = atomic_load(&children[i]);
        reaped[i] = v[i] == 0;
        if (v[i] != 0)
            kill(v[i], v[i] < 0 ? SIGTERM : sig);
    }
    for (;;) {
        bool alive = false;
        for (size_t i = 0; i < TEMP_MAX_CHILDREN; i++) {
            if (v[i] == 0)
                continue;
            pid_t pid = v[i] < 0 ? -v[i] : v[i];
            if (!reaped[i]) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                reaped[i] = r == pid || (r < 0 && errno == ECHILD);
            }
            /* the group outlives its leader while its members run (cc's
             * collect2 and ld, which clean up their own temp files); the
             * orphans among them are ours to reap (subreaper) */
            if (v[i] < 0)
                while (waitpid(v[i], NULL, WNOHANG) > 0)
                    ;
            if (!reaped[i] || (v[i] < 0 && kill(v[i], 0) == 0))
                alive = true;
        }
        if (!alive)
            return;
        if (now_ns() >= deadline) {
            if (killed)
                return;
            for (size_t i = 0; i < TEMP_MAX_CHILDREN; i++)
                if (v[i] != 0)
                    kill(v[i], SIGKILL);
            killed = true;
            deadline = now_ns() + KILL_WAIT_NS;
        }
        nap(5000000);
    }
}

static void on_signal(int sig)
{
    if (atomic_exchange(&dying, 1)) {
        /* another thread is cleaning up, and ends the process */
        for (;;)
            pause();
    }
    for (int64_t end = now_ns() + HOLD_WAIT_NS; atomic_load(&holds) > 0 && now_ns() < end;)
        nap(1000000);
    stop_children(sig);
    remove_slots(false);

    struct sigaction dfl;
    sigset_t s;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* ---- the normal paths ---- */

void temp_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    caught_set(&sa.sa_mask);
    for (size_t i = 0; i < NCAUGHT; i++) {
        struct sigaction old;
        if (installed[i] || sigaction(caught[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        if (sigaction(caught[i], &sa, &saved_actions[i]) == 0)
            installed[i] = true;
    }
#ifdef PR_SET_CHILD_SUBREAPER
    /* a helper's orphans come to us, not to init (which may be slow to
     * reap them): the handler can tell when a helper's group is gone */
    if (!subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
        subreaper = true;
#endif
}

void temp_restore_signals(void)
{
#ifdef PR_SET_CHILD_SUBREAPER
    if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 0) == 0)
        subreaper = false;
#endif
    for (size_t i = 0; i < NCAUGHT; i++)
        if (installed[i]) {
            sigaction(caught[i], &saved_actions[i], NULL);
            installed[i] = false;
        }
}

void temp_hold(sigset_t *old)
{
    if (hold_depth++ == 0) {
        sigset_t s;
        caught_set(&s);
        pthread_sigmask(SIG_BLOCK, &s, &hold_saved);
        atomic_fetch_add(&holds, 1);
        if (atomic_load(&dying)) {
            /* a handler in another thread took over: it ends the process */
            atomic_fetch_sub(&holds, 1);
            for (;;)
                pause();
        }
    }
    if (old)
        *old = hold_saved;
}

void temp_unhold(void)
{
    if (hold_depth <= 0 || --hold_depth > 0)
        return;
    atomic_fetch_sub(&holds, 1);
    pthread_sigmask(SIG_SETMASK, &hold_saved, NULL);
}

/* The slot of path, or -1.  Inside temp_hold. */
static long find_slot(const char *path)
{
    for (size_t i = 0; i < TEMP_MAX_PATHS; i++)
        if (atomic_load(&slots[i].kind) > 0 && strcmp(slots[i].path, path) == 0)
            return (long)i;
    return -1;
}

/* Inside temp_hold. */
static int add_held(const char *path, enum temp_kind kind)
{
    size_t len = strlen(path);
    if (len >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (size_t i = 0; i < TEMP_MAX_PATHS; i++) {
        int free_kind = 0;
        if (!atomic_compare_exchange_strong(&slots[i].kind, &free_kind, -1))
            continue;
        memcpy(slots[i].path, path, len + 1);
        atomic_store(&slots[i].kind, (int)kind);
        return 0;
    }
    errno = ENOSPC;
    return -1;
}

int temp_add(const char *path, enum temp_kind kind)
{
    temp_hold(NULL);
    int rc = add_held(path, kind);
    temp_unhold();
    return rc;
}

int temp_make_file(char *tmpl, int suffixlen, int flags)
{
    temp_hold(NULL);
    int fd = mkostemps(tmpl, suffixlen, flags);
    if (fd >= 0 && add_held(tmpl, TEMP_FILE) != 0) {
        int e = errno;
        close(fd);
        unlink(tmpl);
        fd = -1;
        errno = e;
    }
    temp_unhold();
    return fd;
}

char *temp_make_dir(char *tmpl)
{
    temp_hold(NULL);
    char *d = mkdtemp(tmpl);
    if (d && add_held(tmpl, TEMP_TREE) != 0) {
        int e = errno;
        rmdir(tmpl);
        d = NULL;
        errno = e;
    }
    temp_unhold();
    return d;
}

void temp_forget(const char *path)
{
    temp_hold(NULL);
    long i = find_slot(path);
    if (i >= 0)
        atomic_store(&slots[i].kind, 0);
    temp_unhold();
}

void temp_remove(const char *path)
{
    temp_hold(NULL);
    long i = find_slot(path);
    if (i >= 0) {
        remove_kind(slots[i].path, atomic_load(&slots[i].kind));
        atomic_store(&slots[i].kind, 0);
    }
    temp_unhold();
}

void temp_remove_all(void)
{
    temp_hold(NULL);
    remove_slots(true);
    temp_unhold();
}

int temp_rename(const char *from, const char *to)
{
    temp_hold(NULL);
    int rc = rename(from, to), e = errno;
    long i = rc == 0 ? find_slot(from) : -1;
    if (i >= 0) {
        atomic_store(&slots[i].kind, 0);
        add_held(to, TEMP_FILE); /* a slot was just freed, and to fits: rename took it */
    }
    temp_unhold();
    errno = e;
    return rc;
}

int temp_child_add(pid_t pid, bool group)
{
    for (size_t i = 0; i < TEMP_MAX_CHILDREN; i++) {
        int free_pid = 0;
        if (atomic_compare_exchange_strong(&children[i], &free_pid, group ? -(int)pid : (int)pid))
            return 0;
    }
    return -1;
}

void temp_child_del(pid_t pid)
{
    for (size_t i = 0; i < TEMP_MAX_CHILDREN; i++) {
        int v = atomic_load(&children[i]);
        if (v == (int)pid || v == -(int)pid)
            atomic_compare_exchange_strong(&children[i], &v, 0);
    }
}
