/* test_temp.c - the builder's temp files and helpers (src/util/temp.c).
 *
 * In a fresh dir per test: files and trees made, forgotten, renamed and
 * removed (a tree with subdirs and a symlink that must not be followed;
 * a dir of the output kind removed only when empty, after the rest); the
 * table's limits; and, in a forked child, the signal handler: SIGTERM with
 * registered paths and a helper process group (a shell and its sleep)
 * removes the paths, ends the helpers, and the child dies of SIGTERM; a
 * signal ignored at start stays ignored.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle/util/temp.h"

extern char **environ;

struct fx {
    char dir[256];
};

static char *path_in(const struct fx *f, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", f->dir, rel);
    return p;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void write_file(const char *p)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("x\n", fp);
    fclose(fp);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if ((size_t)snprintf(f->dir, sizeof f->dir, "%s/test_temp.XXXXXX", temp_dir()) >= sizeof f->dir ||
        !mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[PATH_MAX + 16];
    temp_remove_all();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* A temp dir holding files, a subdir and a symlink to a file outside. */
static char *make_tree(struct fx *f, const char *prefix)
{
    static char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", f->dir, prefix);
    assert_non_null(temp_make_dir(tmpl));
    char p[PATH_MAX + 32];
    for (int i = 0; i < 50; i++) {
        snprintf(p, sizeof p, "%s/file%d", tmpl, i);
        write_file(p);
    }
    snprintf(p, sizeof p, "%s/sub", tmpl);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/sub/deeper", tmpl);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/sub/deeper/f", tmpl);
    write_file(p);
    snprintf(p, sizeof p, "%s/link", tmpl);
    assert_int_equal(symlink(path_in(f, "outside"), p), 0);
    return tmpl;
}

static void test_files_and_trees(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "outside"));

    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/boot-XXXXXX.py", f->dir);
    int fd = temp_make_file(file, 3, O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
    assert_true(strlen(file) > 3 && strcmp(file + strlen(file) - 3, ".py") == 0);
    assert_true(exists(file));

    char *tree = make_tree(f, "link");
    temp_remove(tree);
    assert_false(exists(tree));
    /* the link went, not what it points at */
    assert_true(exists(path_in(f, "outside")));

    temp_remove(file);
    assert_false(exists(file));
    /* not registered (any more): left alone */
    write_file(file);
    temp_remove(file);
    assert_true(exists(file));
    unlink(file);
}

static void test_forget_rename_remove_all(void **state)
{
    struct fx *f = *state;
    char a[PATH_MAX], b[PATH_MAX];

    /* forgotten: stays */
    snprintf(a, sizeof a, "%s/a-XXXXXX", f->dir);
    int fd = temp_make_file(a, 0, 0);
    assert_true(fd >= 0);
    close(fd);
    temp_forget(a);
    temp_remove_all();
    assert_true(exists(a));

    /* renamed: the new name is registered, the old one is not */
    snprintf(b, sizeof b, "%s/b-XXXXXX", f->dir);
    fd = temp_make_file(b, 0, 0);
    assert_true(fd >= 0);
    close(fd);
    char *final = path_in(f, "final");
    assert_int_equal(temp_rename(b, final), 0);
    write_file(b); /* a new file under the old name: not ours */
    temp_remove_all();
    assert_false(exists(final));
    assert_true(exists(b));

    /* a failed rename keeps the old name registered */
    snprintf(b, sizeof b, "%s/c-XXXXXX", f->dir);
    fd = temp_make_file(b, 0, 0);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(temp_rename(b, path_in(f, "no/such/dir/x")), -1);
    assert_int_equal(errno, ENOENT);
    temp_remove_all();
    assert_false(exists(b));

    /* an output dir: removed only when empty, and after its files */
    char *out = path_in(f, "dist"), *bin = path_in(f, "dist/app");
    assert_int_equal(temp_add(out, TEMP_EMPTY_DIR), 0);
    assert_int_equal(mkdir(out, 0700), 0);
    write_file(bin);
    assert_int_equal(temp_add(bin, TEMP_FILE), 0);
    temp_remove_all();
    assert_false(exists(out));

    assert_int_equal(temp_add(out, TEMP_EMPTY_DIR), 0);
    assert_int_equal(mkdir(out, 0700), 0);
    write_file(bin); /* not ours */
    temp_remove_all();
    assert_true(exists(bin));
}

static void test_limits(void **state)
{
    struct fx *f = *state;
    char p[PATH_MAX];

    for (int i = 0; i < TEMP_MAX_PATHS; i++) {
        snprintf(p, sizeof p, "%s/n%d", f->dir, i);
        assert_int_equal(temp_add(p, TEMP_FILE), 0);
    }
    assert_int_equal(temp_add(path_in(f, "one-more"), TEMP_FILE), -1);
    assert_int_equal(errno, ENOSPC);
    /* a full table: the file made is not left behind */
    snprintf(p, sizeof p, "%s/full-XXXXXX", f->dir);
    assert_int_equal(temp_make_file(p, 0, 0), -1);
    assert_int_equal(errno, ENOSPC);
    assert_false(exists(p));
    temp_remove_all();

    char *longp = malloc(PATH_MAX + 10);
    assert_non_null(longp);
    memset(longp, 'a', PATH_MAX + 9);
    longp[PATH_MAX + 9] = '\0';
    assert_int_equal(temp_add(longp, TEMP_FILE), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    free(longp);

    /* children: as many as fit, then -1; deleting frees a place */
    for (int i = 0; i < TEMP_MAX_CHILDREN; i++)
        assert_int_equal(temp_child_add(1000000 + i, i % 2), 0);
    assert_int_equal(temp_child_add(999, false), -1);
    temp_child_del(1000000);
    assert_int_equal(temp_child_add(999, false), 0);
    temp_child_del(999);
    for (int i = 1; i < TEMP_MAX_CHILDREN; i++)
        temp_child_del(1000000 + i);

    /* holds nest */
    sigset_t before, during, now;
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    temp_hold(&during);
    temp_hold(NULL);
    temp_unhold();
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    assert_true(sigismember(&now, SIGTERM));
    temp_unhold();
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    assert_int_equal(sigismember(&now, SIGTERM), sigismember(&before, SIGTERM));
    assert_int_equal(sigismember(&during, SIGTERM), sigismember(&before, SIGTERM));
}

/* The child of the signal test: registers a tree, a file, an output dir
 * and a helper group (sh running sleep), reports the helper's pid, then
 * takes SIGTERM. */
static void signal_child(struct fx *f, int report)
{
    temp_catch_signals();
    char *tree = make_tree(f, "strip");
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/boot-XXXXXX.py", f->dir);
    int fd = temp_make_file(file, 3, O_CLOEXEC);
    if (fd < 0)
        _exit(10);
    close(fd);
    char *out = path_in(f, "dist");
    if (temp_add(out, TEMP_EMPTY_DIR) != 0 || mkdir(out, 0700) != 0)
        _exit(11);
    char *bin = path_in(f, "dist/.app.tmp-123456");
    write_file(bin);
    if (temp_add(bin, TEMP_FILE) != 0)
        _exit(12);

    posix_spawnattr_t attr;
    sigset_t mask;
    pid_t pid;
    char *argv[] = {"sh", "-c", "sleep 30 & echo $!; wait", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, report, 1);
    temp_hold(&mask);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &mask);
    if (posix_spawnp(&pid, "sh", &fa, &attr, argv, environ) != 0)
        _exit(13);
    temp_child_add(pid, true);
    temp_unhold();
    /* the sleep's pid is written: the group is complete */
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    (void)tree;
    raise(SIGTERM);
    _exit(14); /* not reached */
}

static void test_signal_removes_and_stops(void **state)
{
    struct fx *f = *state;
    int pfd[2];
    write_file(path_in(f, "outside"));
    assert_int_equal(pipe(pfd), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pfd[0]);
        signal_child(f, pfd[1]);
    }
    close(pfd[1]);
    int st = 0;
    assert_int_equal(waitpid(child, &st, 0), child);
    if (!WIFSIGNALED(st))
        print_error("the child exited with status %d instead of dying of SIGTERM\n", WEXITSTATUS(st));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGTERM);

    char buf[32] = {0};
    ssize_t n = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    assert_true(n > 0);
    pid_t sleeper = (pid_t)atol(buf);
    assert_true(sleeper > 0);
    /* the helper's own child is gone too: the handler waited for the
     * whole group (and reaped it, as its subreaper) */
    errno = 0;
    assert_int_equal(kill(sleeper, 0), -1);
    assert_int_equal(errno, ESRCH);

    /* nothing left but what is not ours */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = outside", f->dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "ls -laR '%s' >&2", f->dir);
        (void)system(cmd);
        fail_msg("the handler left files behind");
    }
}

static void test_ignored_signal_stays_ignored(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        signal(SIGINT, SIG_IGN);
        temp_catch_signals();
        raise(SIGINT);
        temp_restore_signals();
        struct sigaction sa;
        sigaction(SIGINT, NULL, &sa);
        _exit(sa.sa_handler == SIG_IGN ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_files_and_trees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_rename_remove_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_removes_and_stops, setup, teardown),
        cmocka_unit_test(test_ignored_signal_stays_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
