/* temp.h - what a build leaves behind: nothing.
 *
 * Every temp file and dir the builder makes (under $TMPDIR, and the
 * dist/.NAME.tmp-* files beside the outputs) is registered here from the
 * moment it exists, and so is every helper process it starts (python3, cc,
 * strip, the --trace run).  On SIGINT, SIGTERM or SIGHUP the handler that
 * temp_catch_signals installs stops the helpers (SIGTERM to each one's
 * process group, the signal itself to the --trace run, which shares ours;
 * SIGKILL after 2 s; waited for, so that they cannot write into a dir being
 * removed or leave their own temp files behind), removes every
 * registered path, dirs with their contents, then dies of the signal with
 * its default action, so the exit status is the signal's.  The normal exit
 * paths call temp_remove / temp_remove_all.
 *
 * The handler only reads fixed-size tables of paths and pids filled in
 * beforehand and calls async-signal-safe functions (kill, waitpid,
 * nanosleep, open, getdents64, unlinkat, rmdir).  Any thread may take the
 * signal: every change to the tables happens with the signals blocked in
 * the changing thread (temp_hold), and the handler waits until no thread
 * is in such a section.
 */
#ifndef BUNDLE_TEMP_H
#define BUNDLE_TEMP_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* How many paths and helper processes can be registered at once. */
#define TEMP_MAX_PATHS 32
#define TEMP_MAX_CHILDREN 16

enum temp_kind {
    TEMP_FILE = 1,  /* unlinked */
    TEMP_TREE,      /* a dir: removed with everything in it */
    TEMP_EMPTY_DIR, /* a dir: rmdir'ed after the rest, so only when empty
                       (an output dir the build created) */
};

/* Where temp files go: $TMPDIR when it is an absolute path, else /tmp. */
const char *temp_dir(void);

/* Installs the handler for SIGINT, SIGTERM and SIGHUP, but for a signal
 * that is ignored (nohup, a background job): that one stays ignored.  Also
 * makes the process a child subreaper (prctl), so that the orphans of a
 * helper come to it and the handler can tell when the helper's group is
 * gone; temp_restore_signals undoes that too. */
void temp_catch_signals(void);
/* Puts back what temp_catch_signals found. */
void temp_restore_signals(void);

/* mkostemps(tmpl, suffixlen, flags), the new file registered as TEMP_FILE.
 * Returns the fd, or -1 with errno (tmpl is then unspecified). */
int temp_make_file(char *tmpl, int suffixlen, int flags);
/* mkdtemp(tmpl), the new dir registered as TEMP_TREE.  Returns tmpl, or
 * NULL with errno. */
char *temp_make_dir(char *tmpl);

/* Registers an existing path.  Returns 0, or -1 with errno (ENAMETOOLONG,
 * ENOSPC: the table is full). */
int temp_add(const char *path, enum temp_kind kind);
/* Forgets path (renamed into place: it is no temp any more); removes
 * nothing.  No-op for a path that is not registered. */
void temp_forget(const char *path);
/* Removes path as its kind says and forgets it.  No-op for a path that is
 * not registered. */
void temp_remove(const char *path);
/* Removes every registered path: files and trees, then empty dirs. */
void temp_remove_all(void);

/* Renames a registered temp file to its final name, which then takes its
 * place in the table (with no moment where the signal handler would know
 * neither).  rename(2)'s result and errno. */
int temp_rename(const char *from, const char *to);

/* Registers a helper process: group true if it leads a process group of
 * its own (posix_spawn with POSIX_SPAWN_SETPGROUP), which is then signalled
 * and waited for whole.  Call it between temp_hold and temp_unhold around
 * the spawn, so no signal comes between the two.  Returns 0, or -1 when
 * the table is full (the process then runs unregistered). */
int temp_child_add(pid_t pid, bool group);
/* Unregisters it: before it is reaped (waitid with WNOWAIT), so that its
 * pid cannot name another process meanwhile. */
void temp_child_del(pid_t pid);

/* Blocks the caught signals in the calling thread until the matching
 * temp_unhold (they are delivered then), and makes the handler, in any
 * thread, wait until then.  Nests.  *old (may be NULL) receives the mask
 * of before the outermost hold: the one a spawned child should get. */
void temp_hold(sigset_t *old);
void temp_unhold(void);

#endif
