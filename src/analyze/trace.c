#include "bundle/analyze/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle/util/temp.h"
#include "bundle/util/util.h"

extern char **environ;

/* After the time limit: SIGINT, then SIGTERM this much later, then SIGKILL
 * this much after that. */
#define TRACE_TERM_AFTER 5.0
#define TRACE_KILL_AFTER 2.0
/* The Python side writes each line once, so a bigger record is not an app. */
#define TRACE_RECORD_MAX ((size_t)256 << 20)
#define TRACE_PATH_MAX 4095
#define TRACE_MODULE_MAX 1024

/* The bootstrap, run as `python -c BOOT FD SCRIPT ARGS...`.  It writes one
 * line per new name to FD, at once ("b" when the hook is in, "m NAME",
 * "f PATH", "d PATH", "e" at exit); names holding a newline are skipped.
 * The C comments between the pieces stay out of the process's command line. */
static const char trace_boot[] =
    "import sys, os, atexit, runpy\n"
    "def main(fd, script, args):\n"
    /* bound now: module globals are gone while the interpreter shuts down */
    "    w, enc, dec, fspath, sep = os.write, os.fsencode, os.fsdecode, os.fspath, os.sep\n"
    "    absp, norm, isfile, isdir = os.path.abspath, os.path.normpath, os.path.isfile, os.path.isdir\n"
    "    modules, frame, writes = sys.modules, sys._getframe, os.O_CREAT | os.O_TRUNC\n"
    /* the record is this process's only, not the app's children's */
    "    os.set_inheritable(fd, False)\n"
    /* sys.path as `python SCRIPT` has it (src/analyze/resolve.c too): the directory
     * of the real script first, not the '' of -c; absolute, as the app may chdir */
    "    script = absp(script)\n"
    "    here = os.path.dirname(os.path.realpath(script))\n"
    "    if sys.path and sys.path[0] == '':\n"
    "        sys.path[0] = here\n"
    "    else:\n"
    "        sys.path.insert(0, here)\n"
    "    base = [norm(absp(p)) for p in sys.path if isinstance(p, str)]\n"
    "    seen = set()\n"
    /* one write per new line, right away: a later SIGKILL keeps what was seen */
    "    def put(tag, s):\n"
    "        b = tag + (s if isinstance(s, bytes) else enc(s))\n"
    "        if b not in seen and b'\\n' not in b:\n"
    "            w(fd, b + b'\\n')\n"
    "            seen.add(b)\n"
    /* in a package (trace.h): ROOT/TOP/... with ROOT on sys.path, at start or
     * now; at least 2 parts below ROOT for a file, 1 for a listed directory */
    "    def wanted(p, depth):\n"
    "        for r in base + [norm(q) for q in sys.path if isinstance(q, str) and q.startswith(sep)]:\n"
    "            pre = r if r.endswith(sep) else r + sep\n"
    "            rest = p[len(pre):].split(sep) if p.startswith(pre) else ()\n"
    "            if len(rest) >= depth and (r != here or rest[0] in modules\n"
    "                                       or rest[0].endswith(('.dist-info', '.egg-info'))):\n"
    "                return True\n"
    "        return False\n"
    "    def path(p):\n"
    "        return norm(absp(dec(fspath('.' if p is None else p))))\n"
    /* never raises into the app (an exception from a hook aborts the
     * operation); fds, not paths, give TypeError and are skipped */
    "    def hook(ev, a):\n"
    "        try:\n"
    "            if ev == 'import':\n"
    "                put(b'm ', a[0])\n"
    /* reads only: what the app creates or overwrites is its output */
    "            elif ev == 'open':\n"
    "                p, fl = path(a[0]), a[2]\n"
    "                if (not p.endswith(('.py', '.pyc')) and not (isinstance(fl, int) and (fl & 3 == 1 or fl & writes))\n"
    "                        and wanted(p, 2) and isfile(p)):\n"
    "                    put(b'f ', p)\n"
    /* listings, but not the import system's own (FileFinder) */
    "            elif ev in ('os.listdir', 'os.scandir'):\n"
    "                p = path(a[0])\n"
    "                if not frame(1).f_code.co_filename.startswith('<frozen importlib') and wanted(p, 1) and isdir(p):\n"
    "                    put(b'd ', p)\n"
    "        except Exception:\n"
    "            pass\n"
    /* modules the app loaded without an import event (C code, or put into
     * sys.modules by hand); not the interpreter's start-up (site and the
     * .pth files it runs, which a bundle never runs) nor this bootstrap's */
    "    import pkgutil\n"  /* what runpy.run_path imports */
    "    start = set(modules)\n"
    "    def sweep():\n"
    "        for m in list(modules):\n"
    "            if m not in start:\n"
    "                put(b'm ', m)\n"
    "    def end():\n"
    "        sweep()\n"
    "        w(fd, b'e\\n')\n"
    "    sys.addaudithook(hook)\n"
    "    w(fd, b'b\\n')\n"
    /* registered before the app runs, so it runs after the app's own atexit
     * handlers; also after an uncaught KeyboardInterrupt or SystemExit */
    "    atexit.register(end)\n"
    "    sys.argv = [script] + args\n"
    "    runpy.run_path(script, run_name='__main__')\n"
    "main(int(sys.argv[1]), sys.argv[2], sys.argv[3:])\n";

/* An unlinked temp file under $TMPDIR, open for reading and writing: gone
 * from the disk on every path, whoever dies first.  Never fd 0-2, which the
 * child's stdio takes. */
static int open_record(int *fd, struct err *err)
{
    const char *dir = temp_dir();
    char *tmpl = NULL;
    int rc = -1, f = -1;

    tmpl = util_join(dir, "bundle-trace-XXXXXX");
    if (!tmpl) {
        err_set(err, ENOMEM, "out of memory");
        goto cleanup;
    }
    /* no signal between the two: the name is never left behind */
    temp_hold(NULL);
    f = mkostemp(tmpl, O_CLOEXEC);
    if (f >= 0)
        unlink(tmpl);
    temp_unhold();
    if (f < 0) {
        err_set(err, errno, "cannot create a temporary file in '%s'", dir);
        goto cleanup;
    }
    if (f <= 2) {
        int g = fcntl(f, F_DUPFD_CLOEXEC, 3);
        if (g < 0) {
            err_set(err, errno, "cannot duplicate a file descriptor");
            goto cleanup;
        }
        close(f);
        f = g;
    }
    *fd = f;
    f = -1;
    rc = 0;
cleanup:
    if (f >= 0)
        close(f);
    free(tmpl);
    return rc;
}

/* Starts argv with stdin from /dev/null, the record fd kept open (a dup2
 * onto itself clears its close-on-exec flag: POSIX 2024, glibc 2.29) and the
 * signals the time limit uses at their defaults. */
static int spawn_app(char *const argv[], int fd, pid_t *pid, struct err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t def, none;
    int rc;

    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGQUIT);
    sigaddset(&def, SIGPIPE);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return err_set(err, ENOMEM, "out of memory");
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return err_set(err, ENOMEM, "out of memory");
    }
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, fd, fd);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&attr, &def);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) {
        /* registered (temp.h) with no signal in between: an interrupted
         * build passes the signal on and waits for it */
        temp_hold(NULL);
        rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
        if (rc == 0)
            temp_child_add(*pid, false);
        temp_unhold();
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        if (rc == ENOENT && !strchr(argv[0], '/'))
            return err_set(err, 0, "cannot run '%s': not found on PATH", argv[0]);
        return err_set(err, rc, "cannot run '%s'", argv[0]);
    }
    return 0;
}

/* Waits for pid, enforcing the time limit.  *status is the exit status or
 * -SIGNAL.  On an error the child is killed, so none outlives the call. */
static int wait_app(pid_t pid, const char *name, double seconds, int *status, bool *timed_out,
                    struct err *err)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGKILL};
    static const double then[] = {TRACE_TERM_AFTER, TRACE_KILL_AFTER, 0};
    bool limited = seconds > 0; /* false for NaN too */
    double next = limited ? util_now() + seconds : 0;
    long nap_ns = 1000000;
    size_t stage = 0;
    int wst = 0;

    for (;;) {
        /* once SIGKILL is sent nothing can delay the exit: just wait; not
         * reaped before it is unregistered (temp.h), so its pid names no
         * other process meanwhile */
        siginfo_t si;
        si.si_pid = 0;
        int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | (stage < 3 ? WNOHANG : 0));
        if (r == 0 && si.si_pid == pid) {
            temp_child_del(pid);
            while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            temp_child_del(pid);
            if (e != ECHILD) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                    ;
            }
            return err_set(err, e, "cannot wait for '%s'", name);
        }
        if (limited && stage < 3 && util_now() >= next) {
            kill(pid, sigs[stage]);
            next += then[stage];
            stage++;
            *timed_out = true;
            continue;
        }
        /* polling, backing off to 50 ms: no SIGCHLD handler to install or
         * to steal from the caller */
        struct timespec ts = {0, nap_ns};
        nanosleep(&ts, NULL);
        if (nap_ns < 50000000)
            nap_ns *= 2;
    }
    *status = WIFEXITED(wst) ? WEXITSTATUS(wst) : WIFSIGNALED(wst) ? -WTERMSIG(wst) : -1;
    return 0;
}

/* The whole record, from its start (the child moved the shared offset). */
static int read_record(int fd, struct buf *b, struct err *err)
{
    for (;;) {
        if (b->len >= TRACE_RECORD_MAX)
            return err_set(err, 0, "the trace record is over %zu MiB", TRACE_RECORD_MAX >> 20);
        if (buf_reserve(b, 65536) != 0)
            return err_set(err, ENOMEM, "out of memory");
        ssize_t n = pread(fd, b->data + b->len, 65536, (off_t)b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, errno, "cannot read the trace record");
        if (n == 0)
            break;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
    return 0;
}

int trace_run(const char *python, const char *script, const char *const *argv, size_t argc,
              double seconds, struct trace_result *out, struct err *err)
{
    char **args = NULL;
    char fdstr[16];
    struct buf rec = {0};
    int fd = -1, rc = -1, status = 0;
    bool timed_out = false;
    pid_t pid;

    memset(out, 0, sizeof *out);
    if (access(script, R_OK) != 0) {
        err_set(err, errno, "cannot read '%s'", script);
        goto cleanup;
    }
    if (!util_is_file(script)) {
        err_set(err, 0, "'%s' is not a file", script);
        goto cleanup;
    }
    args = calloc(argc + 6, sizeof *args);
    if (!args) {
        err_set(err, ENOMEM, "out of memory");
        goto cleanup;
    }
    if (open_record(&fd, err) != 0)
        goto cleanup;
    snprintf(fdstr, sizeof fdstr, "%d", fd);
    args[0] = (char *)python;
    args[1] = "-c";
    args[2] = (char *)trace_boot;
    args[3] = fdstr;
    args[4] = (char *)script;
    for (size_t i = 0; i < argc; i++)
        args[5 + i] = (char *)argv[i];
    if (spawn_app(args, fd, &pid, err) != 0)
        goto cleanup;
    if (wait_app(pid, python, seconds, &status, &timed_out, err) != 0)
        goto cleanup;
    if (read_record(fd, &rec, err) != 0)
        goto cleanup;
    /* no "b" line: the hook never went in; what ran cannot be traced */
    if (rec.len < 2 || memcmp(rec.data, "b\n", 2) != 0) {
        err_set(err, 0, "'%s' could not start the trace (exit status %d): it needs Python 3.8 or later",
                python, status);
        goto cleanup;
    }
    if (trace_parse(rec.data, rec.len, out, err) != 0)
        goto cleanup;
    out->exit_status = status;
    out->timed_out = timed_out;
    rc = 0;
cleanup:
    if (rc != 0)
        trace_result_release(out);
    if (fd >= 0)
        close(fd);
    buf_release(&rec);
    free(args);
    return rc;
}

/* An absolute, normalized path: "/" then parts that are not "", "." or "..". */
static bool valid_path(const char *v, size_t n)
{
    if (n < 2 || n > TRACE_PATH_MAX || v[0] != '/')
        return false;
    for (size_t i = 1; i <= n;) {
        const char *slash = memchr(v + i, '/', n - i);
        size_t len = slash ? (size_t)(slash - (v + i)) : n - i;
        if (len == 0 || (len == 1 && v[i] == '.') || (len == 2 && v[i] == '.' && v[i + 1] == '.'))
            return false;
        i += len + 1;
    }
    return true;
}

/* Dotted identifiers: ASCII letters, digits, '_' and any non-ASCII byte
 * (identifiers may be UTF-8), no part empty or starting with a digit. */
static bool valid_module(const char *v, size_t n)
{
    bool start = true;

    if (n == 0 || n > TRACE_MODULE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '.') {
            if (start)
                return false;
            start = true;
            continue;
        }
        bool digit = c >= '0' && c <= '9';
        if (!(digit || c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
        if (start && digit)
            return false;
        start = false;
    }
    return !start;
}

int trace_parse(const char *buf, size_t len, struct trace_result *out, struct err *err)
{
    size_t i = 0;

    while (i < len) {
        const char *line = buf + i;
        const char *nl = memchr(line, '\n', len - i);
        /* a last line without its newline was cut short by a kill */
        if (!nl)
            break;
        size_t n = (size_t)(nl - line);
        i += n + 1;
        if (n == 1 && line[0] == 'e') {
            out->complete = true;
            continue;
        }
        if (n < 3 || line[1] != ' ' || memchr(line, '\0', n))
            continue;
        const char *v = line + 2;
        size_t vn = n - 2;
        struct strvec *to = NULL;
        if (line[0] == 'm' && valid_module(v, vn))
            to = &out->modules;
        else if (line[0] == 'f' && valid_path(v, vn))
            to = &out->files;
        else if (line[0] == 'd' && valid_path(v, vn))
            to = &out->dirs;
        if (to && strvec_push_owned(to, strndup(v, vn)) != 0)
            return err_set(err, ENOMEM, "out of memory");
    }
    strvec_sort_unique(&out->modules);
    strvec_sort_unique(&out->files);
    strvec_sort_unique(&out->dirs);
    return 0;
}

void trace_result_release(struct trace_result *r)
{
    strvec_release(&r->modules);
    strvec_release(&r->files);
    strvec_release(&r->dirs);
    memset(r, 0, sizeof *r);
}
