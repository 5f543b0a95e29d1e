/* trace.h - run the app once under the target interpreter and record what
 * it imported and which package files it read (bundle --trace).
 *
 * The static scan misses what an app loads by name at run time (plugins,
 * importlib.import_module, data files read through __file__).  trace_run
 * runs the app with an audit hook and reports those names so the build can
 * bundle them too.  Subprocesses of the app are not traced.
 */
#ifndef BUNDLE_TRACE_H
#define BUNDLE_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/util/err.h"
#include "bundle/util/strvec.h"

struct trace_result {
    /* Module names: every name the import system was asked to load during the
     * run (audit event "import"; this includes failed optional imports), plus
     * every key of sys.modules at start and at exit (modules of the start-up
     * and of the trace bootstrap itself, such as runpy, are among them).
     * Sorted, unique (owned). */
    struct strvec modules;
    /* Absolute, normalized paths of existing files the app opened for reading
     * (audit event "open", without O_WRONLY/O_CREAT/O_TRUNC) that belong to a
     * package: ROOT/TOP/.../FILE with ROOT an entry of sys.path, and TOP an
     * imported module, a *.dist-info or *.egg-info directory, or anything when
     * ROOT is not the script's directory.  Never *.py or *.pyc; never files
     * directly in a sys.path entry, nor in non-package directories beside the
     * script (likely the user's own input).  Sorted, unique (owned). */
    struct strvec files;
    /* Directories the app listed ("os.listdir", "os.scandir", so also glob,
     * pathlib and os.walk), by the same rule as files, where ROOT/TOP itself
     * counts; the import system's own scans are left out.  The build should
     * take their entries too.  Sorted, unique (owned). */
    struct strvec dirs;
    int exit_status;  /* the app's exit status, or -SIGNAL when a signal ended it */
    bool timed_out;   /* the time limit ran out and the app was signalled */
    bool complete;    /* the final sys.modules sweep was written: the app was not
                         SIGKILLed and did not leave by os._exit */
};

/* Runs the app once:
 *     PYTHON -c BOOTSTRAP FD SCRIPT ARGV...
 * with stdin from /dev/null and stdout/stderr left to the caller's.  The
 * bootstrap puts the directory of realpath(SCRIPT) first on sys.path (as
 * `PYTHON SCRIPT` would, and as src/analyze/resolve.c resolves; no -I, like
 * src/analyze/probe.c, so PYTHONPATH and a venv's site-packages stay), installs an
 * audit hook, sets sys.argv to [SCRIPT, ARGV...] and runs SCRIPT with
 * runpy.run_path(abspath(SCRIPT), run_name="__main__").  sys.argv[0] and
 * __file__ are then the absolute path.  FD is an unlinked temp file under
 * $TMPDIR (default /tmp) to which every record is appended as it happens,
 * so even a SIGKILLed app leaves what was seen; nothing is left on disk.
 *
 * Time limit: when seconds > 0 and it runs out, the app gets SIGINT
 * (KeyboardInterrupt; atexit handlers still run), 5 s later SIGTERM, 2 s
 * later SIGKILL.  seconds <= 0 (or NaN) means no limit.  The child starts
 * with SIGINT, SIGTERM, SIGQUIT and SIGPIPE at their defaults and no signal
 * blocked, whatever the caller has set, so a caller that ignores SIGINT
 * while tracing still lets a terminal's Ctrl-C stop the app, and the trace
 * then returns normally.
 *
 * Returns 0 whatever the app's own exit status, with *out filled (the caller
 * owns it and calls trace_result_release).  Returns -1 with err, *out left
 * empty, when the interpreter could not be run, when the bootstrap did not
 * start (not Python 3.8 or later: no audit hooks) or on a system error.
 * argv may be NULL when argc is 0. */
int trace_run(const char *python, const char *script, const char *const *argv, size_t argc,
              double seconds, struct trace_result *out, struct err *err);

/* Parses a record (lines "m NAME", "f PATH", "d PATH", "b", "e"; see
 * src/analyze/trace.c) and appends what it holds to *out, which the caller zeroes
 * first and releases with trace_result_release afterwards, also after a
 * failure; the lists are then sorted and made unique.  Sets out->complete
 * when the record has its end line.  Malformed lines (unknown tag, no
 * newline, a NUL, a relative or unnormalized path, a module name that is
 * not dotted identifiers) are skipped: the input is hostile.  Does not touch
 * exit_status or timed_out.  Returns 0, or -1 with err when out of memory. */
int trace_parse(const char *buf, size_t len, struct trace_result *out, struct err *err);

/* Frees the lists and zeroes *r.  Safe on a zeroed or released result. */
void trace_result_release(struct trace_result *r);

#endif
