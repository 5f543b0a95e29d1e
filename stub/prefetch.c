/* prefetch.c - on a first start, the extension modules the app imports as
 * it starts ("early" in the manifest: what the builder's scan finds
 * imported from the script's code that runs, in import order) and the
 * libraries they need are unpacked into the cache entry on a second CPU,
 * while Python starts on this one.  The app's import of such a file then
 * finds it there (native.c), after waiting if it is being written.
 *
 * The thread has a file table of its own (unshare(CLONE_FILES)) that holds
 * only its two descriptors: the app may close or reuse any number (a
 * daemon closes them all) without touching the thread's, never sees the
 * thread's, and a pipe the app closes is closed.  It writes files only
 * without a name until whole (O_TMPFILE, linked by /proc/thread-self): a
 * process that ends while it writes leaves nothing.  It runs only where
 * the process has two CPUs or more (its affinity, its cgroup's quota),
 * and is stopped (the file it is writing is dropped) and joined before
 * the process forks: the child has no half-done work to wait for, and
 * Python sees one thread.  A later start that finds early files missing
 * unpacks those.  Whatever it cannot do (unshare refused, no O_TMPFILE,
 * no space left, a kernel without /proc/thread-self), it stops, and the
 * imports unpack as without it.
 * Depends on place.c and entry.c (writing a file of the bundle), manifest.c
 * (the bundle's files).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stub.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum { IDLE, BUSY, TAKEN }; /* of a lazy file: TAKEN, the thread leaves it alone */

struct job {
    size_t idx;          /* the lazy file, in the manifest */
    struct stub_file f;  /* its entry in the bundle (rel owned) */
    uint32_t crc;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *state; /* per lazy file: never freed, the thread may outlive main()'s data */
    size_t nstate;
    struct job *jobs;     /* the thread's (it frees them) */
    size_t njobs;
    int in, dfd;          /* the bundle, the entry: numbers in the thread's table too */
    int started;          /* 1: the thread said whether it has its own table; 2: it has */
    pid_t ktid;           /* its kernel thread id */
    int running, stop;
    pthread_t tid;
} pf = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, NULL, 0, -1, -1, 0, 0, 0, 0, 0};

/* Whether the cgroup v1 controller list (comma-separated) has cpu. */
static int has_cpu(const char *list)
{
    for (const char *c = list; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
        if (strncmp(c, "cpu", 3) == 0 && (c[3] == ',' || c[3] == '\0'))
            return 1;
    return 0;
}

/* A file of the cgroup that holds this process's CPU quota (v2: the
 * unified hierarchy's; v1: the one whose controllers include cpu, mounted
 * under its list as /proc/self/cgroup gives it, "cpu,cpuacct" or
 * "cpuacct,cpu", or as "cpu"), at the process's path, or at the mount's
 * root (a container sees its own cgroup there): its bytes in buf, their
 * count, or -1. */
static int cgroup_read(int v2, const char *file, char *buf, size_t len)
{
    char line[512], path[1024];
    FILE *f = fopen("/proc/self/cgroup", "re");
    int n = -1;

    if (!f)
        return -1;
    while (n < 0 && fgets(line, sizeof line, f)) {
        /* ID:CONTROLLERS:PATH */
        char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
        if (!p)
            continue;
        *c++ = '\0';
        *p++ = '\0';
        p[strcspn(p, "\n")] = '\0';
        if (v2 ? strcmp(line, "0") != 0 || *c : !has_cpu(c))
            continue;
        const char *mounts[] = {v2 ? "" : c, "cpu"};
        for (int k = 0; k < (v2 ? 1 : 2) && n < 0; k++) {
            for (int root = 0; root < 2 && n < 0; root++) {
                snprintf(path, sizeof path, "/sys/fs/cgroup%s%s%s/%s", v2 ? "" : "/", mounts[k], root ? "" : p, file);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    ssize_t r = read(fd, buf, len - 1);
                    close(fd);
                    if (r > 0)
                        buf[n = (int)r] = '\0';
                }
            }
        }
    }
    fclose(f);
    return n;
}

/* Whether the process may run on two CPUs at once: its affinity, and the
 * CPU quota of its cgroup (v2 cpu.max, v1 cpu.cfs_quota_us; a quota set
 * higher up is not seen). */
static int two_cpus(void)
{
    cpu_set_t set;
    char buf[64];
    long long quota = -1, period = 0;

    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2)
        return 0;
    if (cgroup_read(1, "cpu.max", buf, sizeof buf) > 0) {
        if (strncmp(buf, "max", 3) != 0 && sscanf(buf, "%lld %lld", &quota, &period) != 2)
            return 1;
    } else if (cgroup_read(0, "cpu.cfs_quota_us", buf, sizeof buf) > 0) {
        quota = strtoll(buf, NULL, 10);
        if (quota > 0 && cgroup_read(0, "cpu.cfs_period_us", buf, sizeof buf) > 0)
            period = strtoll(buf, NULL, 10);
    }
    return quota <= 0 || period <= 0 || quota >= 2 * period;
}

/* Closes every descriptor of the calling thread's table but keep[0..n)
 * (ascending; -1 skipped).  0, or -1: some may be left open. */
static int keep_only(const int *keep, size_t n)
{
    unsigned lo = 0;
    int ok = 1;

    for (size_t i = 0; i <= n && ok; i++) {
        if (i < n && keep[i] < 0)
            continue;
        unsigned hi = i < n ? (unsigned)keep[i] : ~0u;
        if (hi > lo)
            ok = syscall(SYS_close_range, lo, hi - 1, 0) == 0;
        lo = hi + 1;
    }
    if (ok)
        return 0;
    /* before Linux 5.9: what the table holds */
    DIR *d = opendir("/proc/thread-self/fd");
    struct dirent *de;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        int kept = *end != '\0' || fd == dirfd(d);
        for (size_t i = 0; i < n && !kept; i++)
            kept = fd == keep[i];
        if (!kept)
            close((int)fd);
    }
    closedir(d);
    return 0;
}

/* Frees the job list: the thread's at its end, or the start's when no
 * thread took it. */
static void jobs_free(void)
{
    for (size_t j = 0; pf.jobs && j < pf.njobs; j++)
        free(pf.jobs[j].f.rel);
    free(pf.jobs);
    pf.jobs = NULL;
    pf.njobs = 0;
}

static void *run(void *arg)
{
    struct inflater *dec = NULL;
    int own = unshare(CLONE_FILES) == 0, why = errno;
    /* ascending: stderr's own number if BUNDLE_DEBUG's trace needs it, then
     * the two dup'ed in this order */
    int keep[3] = {stub_debugging() ? 2 : -1, pf.in, pf.dfd};

    (void)arg;
    pthread_mutex_lock(&pf.mu);
    pf.ktid = (pid_t)syscall(SYS_gettid);
    pf.started = own ? 2 : 1;
    pthread_cond_broadcast(&pf.cv);
    pthread_mutex_unlock(&pf.mu);
    if (!own)
        stub_debug("not prefetching: no file table of its own for the thread (unshare: %s)", strerror(why));
    else if (keep_only(keep, 3) == 0)
        dec = inflater_new(&pf.stop);
    for (size_t j = 0; dec && j < pf.njobs && !__atomic_load_n(&pf.stop, __ATOMIC_RELAXED); j++) {
        struct job *b = &pf.jobs[j];
        struct stat sb;
        /* there already (an earlier start's): the import checks it */
        if (fstatat(pf.dfd, b->f.rel, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        pthread_mutex_lock(&pf.mu);
        int go = pf.state[b->idx] == IDLE;
        if (go)
            pf.state[b->idx] = BUSY;
        pthread_mutex_unlock(&pf.mu);
        if (!go)
            continue;
        int r = place_file_at(pf.dfd, b->f.rel, pf.in, &b->f, &b->crc, dec), e = errno;
        pthread_mutex_lock(&pf.mu);
        pf.state[b->idx] = TAKEN;
        pthread_cond_broadcast(&pf.cv);
        pthread_mutex_unlock(&pf.mu);
        if (r != 0 && e == ECANCELED)
            break; /* stopped: the file was never named */
        if (r != 0 && e != EEXIST) {
            /* the app's import unpacks it, and says why it cannot */
            stub_debug("prefetching %s: %s; the rest is unpacked on import", b->f.rel, strerror(e));
            break;
        }
        stub_debug("prefetched %s", b->f.rel);
    }
    inflater_free(dec);
    jobs_free();
    return NULL;
}

/* Adds lazy file idx to the jobs, unless it is there already. */
static int add_one(const struct stub_manifest *m, const struct stub_table *t, size_t idx, unsigned char *queued)
{
    const struct stub_file *f;

    if (queued[idx] || !(f = table_find(t, m->lazy[idx].rel)))
        return 0;
    struct job *b = &pf.jobs[pf.njobs];
    b->idx = idx;
    b->f = *f;
    b->crc = m->lazy[idx].crc;
    if (!(b->f.rel = strdup(f->rel)))
        return -1;
    queued[idx] = 1;
    pf.njobs++;
    return 0;
}

/* Adds lazy file idx, after the libraries it needs (its line lists them
 * all, dependencies first). */
static int add_job(const struct stub_manifest *m, const struct stub_table *t, size_t idx, unsigned char *queued)
{
    const struct stub_lazy *l = &m->lazy[idx];

    for (size_t i = 0; i < l->ndeps; i++) {
        const struct stub_lazy *d = manifest_lazy(m, l->deps[i]);
        if (d && add_one(m, t, (size_t)(d - m->lazy), queued) != 0)
            return -1;
    }
    return add_one(m, t, idx, queued);
}

void prefetch_start(struct stub_self *self, const struct stub_manifest *m)
{
    static int atfork;
    char why[STUB_WHY_MAX];
    int corrupt = 0, dfd = cache_entry_fd();
    const struct stub_table *t;
    unsigned char *queued = NULL;
    sigset_t all, old;

    if (!m->nearly || pf.running || pf.state || dfd < 0)
        return;
    /* filled before (an earlier start ran to its last early import) */
    struct stat sb;
    if (fstatat(dfd, m->lazy[m->early[m->nearly - 1]].rel, &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return;
    if (!two_cpus()) {
        stub_debug("not prefetching: fewer than two CPUs (affinity, or the cgroup's CPU quota)");
        return;
    }
    if (!(t = self_files(self, why, sizeof why, &corrupt)) || !(queued = calloc(m->nlazy, 1)) ||
        !(pf.jobs = calloc(m->nlazy, sizeof *pf.jobs)) || !(pf.state = calloc(m->nlazy, 1)))
        goto out;
    pf.nstate = m->nlazy;
    for (size_t i = 0; i < m->nearly; i++)
        if (add_job(m, t, m->early[i], queued) != 0)
            goto out;
    /* before a fork: the thread is gone in the child, and the parent goes on without it */
    if (!atfork && pthread_atfork(prefetch_stop, NULL, NULL) == 0)
        atfork = 1;
    /* kept by the thread, in its own table, at these numbers */
    pf.in = fcntl(self->fd, F_DUPFD_CLOEXEC, 3);
    pf.dfd = pf.in < 0 ? -1 : fcntl(dfd, F_DUPFD_CLOEXEC, pf.in + 1);
    if (!atfork || pf.dfd < 0)
        goto out;
    /* signals are the app's, on its own threads */
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pf.running = pthread_create(&pf.tid, NULL, run, NULL) == 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!pf.running)
        goto out;
    pthread_mutex_lock(&pf.mu);
    while (!pf.started)
        pthread_cond_wait(&pf.cv, &pf.mu);
    pthread_mutex_unlock(&pf.mu);
    if (pf.started == 1) /* it shares this table: it is ending, and must not use them */
        prefetch_stop();
    else
        stub_debug("prefetching %zu files on another CPU", pf.njobs);
    free(queued);
    queued = NULL;
out:
    /* this table's copies (the thread has its own) */
    if (pf.in >= 0)
        close(pf.in);
    if (pf.dfd >= 0)
        close(pf.dfd);
    if (!pf.running)
        jobs_free();
    free(queued);
}

void prefetch_claim(const struct stub_manifest *m, const struct stub_lazy *l)
{
    size_t idx = (size_t)(l - m->lazy);

    if (!pf.state || idx >= pf.nstate)
        return;
    pthread_mutex_lock(&pf.mu);
    while (pf.state[idx] == BUSY)
        pthread_cond_wait(&pf.cv, &pf.mu);
    pf.state[idx] = TAKEN;
    pthread_mutex_unlock(&pf.mu);
}

void prefetch_stop(void)
{
    /* once, whichever thread forks first */
    pthread_mutex_lock(&pf.mu);
    int running = pf.running;
    pf.running = 0;
    pthread_mutex_unlock(&pf.mu);
    if (!running)
        return;
    __atomic_store_n(&pf.stop, 1, __ATOMIC_RELAXED);
    pthread_join(pf.tid, NULL);
    /* The join returns once the thread is done with its memory; the
     * kernel counts it a little longer (Python 3.12 and later count the
     * threads in /proc/self/stat right after a fork, and warn if there are
     * two): until it is gone, at most 100 ms. */
    struct timespec tick = {0, 50000};
    for (int i = 0; i < 2000 && syscall(SYS_tgkill, getpid(), pf.ktid, 0) == 0; i++)
        nanosleep(&tick, NULL);
}
