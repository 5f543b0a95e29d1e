#include "bundle/util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle/util/temp.h"

#include <zlib.h>

extern char **environ;

int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 4 - b->len) { /* the doubling below must not overflow */
        errno = ENOMEM;
        return -1;
    }
    if (b->len + extra + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int util_read_file(const char *path, size_t max, char **out, size_t *len, struct err *err)
{
    struct stat st;
    struct buf b = {0};
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return err_set(err, errno, "cannot open '%s'", path);
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_set(err, e, "cannot stat '%s'", path);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(err, 0, "'%s' is a directory, not a file", path);
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            buf_release(&b);
            return err_set(err, e, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            close(fd);
            buf_release(&b);
            return err_set(err, 0, "'%s' is too large (over %zu bytes)", path, max);
        }
        if (buf_append(&b, chunk, (size_t)n) != 0) {
            close(fd);
            buf_release(&b);
            return err_set(err, ENOMEM, "cannot read '%s'", path);
        }
    }
    close(fd);
    if (!b.data && buf_append(&b, "", 0) != 0)
        return err_set(err, ENOMEM, "cannot read '%s'", path);
    *out = b.data;
    if (len)
        *len = b.len;
    return 0;
}

int util_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

const char *util_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

char *util_join(const char *a, const char *b)
{
    char *p = NULL;
    size_t la = strlen(a);
    if (la && a[la - 1] == '/')
        return asprintf(&p, "%s%s", a, b) < 0 ? NULL : p;
    return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

int util_mkdirs(const char *path, int mode, struct err *err)
{
    char *p = strdup(path);
    if (!p)
        return err_set(err, ENOMEM, "cannot create '%s'", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            int e = errno;
            err_set(err, e, "cannot create directory '%s'", p);
            free(p);
            return -1;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    if (!util_is_dir(path))
        return err_set(err, ENOTDIR, "cannot create directory '%s'", path);
    return 0;
}

bool util_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool util_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int util_run(char *const argv[], const void *in, size_t in_len, struct buf *out,
             struct buf *errout, int *status, struct err *err)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t mask;
    siginfo_t si;
    pid_t pid;
    int rc, wst;
    size_t in_off = 0;

    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (pin[i] >= 0) close(pin[i]);
            if (pout[i] >= 0) close(pout[i]);
            if (perr[i] >= 0) close(perr[i]);
        }
        return err_set(err, e, "cannot create a pipe");
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
    /* a process group of its own, which an interrupted build stops whole
     * (temp.h): cc's collect2 and ld too.  Registered with no signal in
     * between; the child gets the mask of before. */
    temp_hold(&mask);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &mask);
    rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    if (rc == 0)
        temp_child_add(pid, true);
    temp_unhold();
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    if (rc != 0) {
        close(pin[1]);
        close(pout[0]);
        close(perr[0]);
        return err_set(err, rc, "cannot run '%s'", argv[0]);
    }
    if (!in || in_len == 0) {
        close(pin[1]);
        pin[1] = -1;
    } else {
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
    }
    /* pump stdin, stdout and stderr together: no deadlock on full pipes */
    int open_out = 1, open_err = 1;
    signal(SIGPIPE, SIG_IGN);
    while (open_out || open_err || pin[1] >= 0) {
        struct pollfd fds[3];
        int nf = 0, iout = -1, ierr = -1, iin = -1;
        char chunk[65536];
        if (open_out) { fds[nf] = (struct pollfd){pout[0], POLLIN, 0}; iout = nf++; }
        if (open_err) { fds[nf] = (struct pollfd){perr[0], POLLIN, 0}; ierr = nf++; }
        if (pin[1] >= 0) { fds[nf] = (struct pollfd){pin[1], POLLOUT, 0}; iin = nf++; }
        if (poll(fds, (nfds_t)nf, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (iin >= 0 && fds[iin].revents) {
            ssize_t n = write(pin[1], (const char *)in + in_off, in_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                in_off = in_len;
            if (in_off >= in_len) {
                close(pin[1]);
                pin[1] = -1;
            }
        }
        if (iout >= 0 && fds[iout].revents) {
            ssize_t n = read(pout[0], chunk, sizeof chunk);
            if (n > 0 && out)
                buf_append(out, chunk, (size_t)n);
            if (n == 0 || (n < 0 && errno != EINTR))
                open_out = 0;
        }
        if (ierr >= 0 && fds[ierr].revents) {
            ssize_t n = read(perr[0], chunk, sizeof chunk);
            if (n > 0 && errout)
                buf_append(errout, chunk, (size_t)n);
            if (n == 0 || (n < 0 && errno != EINTR))
                open_err = 0;
        }
    }
    if (pin[1] >= 0)
        close(pin[1]);
    close(pout[0]);
    close(perr[0]);
    /* unregistered once it has exited, before it is reaped: its pid names
     * no other process meanwhile */
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    temp_child_del(pid);
    while (waitpid(pid, &wst, 0) < 0)
        if (errno != EINTR)
            return err_set(err, errno, "cannot wait for '%s'", argv[0]);
    *status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    return 0;
}

double util_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t util_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, surrogate or past U+10FFFF */
    return n;
}

bool util_utf8_valid(const char *s)
{
    while (*s) {
        size_t n = util_utf8_len(s);
        if (n == 0)
            return false;
        s += n;
    }
    return true;
}

char *util_vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

uint32_t util_crc32(uint32_t crc, const void *data, size_t len)
{
    uLong c = crc;
    for (size_t off = 0; off < len;) {
        uInt n = len - off > (1u << 30) ? (1u << 30) : (uInt)(len - off);
        c = crc32(c, (const Bytef *)data + off, n);
        off += n;
    }
    return (uint32_t)c;
}
