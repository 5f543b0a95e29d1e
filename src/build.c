/* build.c - the driver: the order of a build's stages, the outputs planned
 * before any work, and everything released (or removed, on failure) after.
 * The stages' work lives in their folders (build_impl.h says where). */
#include "bundle/build.h"
#include "build_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/collect/boot.h"
#include "bundle/cli/cli.h"
#include "bundle/collect/elfdeps.h"
#include "bundle/analyze/probe.h"
#include "bundle/collect/pyc.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/strvec.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

/* What Python's initialization and the start-up module import before any
 * app code runs (from the pyz blob, as every module). */
static const char *const startup_modules[] = {"codecs", "io", "abc", "linecache", "_sitebuiltins"};
/* ...plus the whole encodings package (resolve_collect). */

/* One progress line on a terminal, rewritten in place step by step;
 * nothing of it when stderr is not a terminal, or with -q. */
static void progress(const struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct build *b, const char *fmt, ...)
{
    va_list ap;
    if (!b->tty)
        return;
    if (!fmt) {
        fputs("\r\033[K", stderr); /* done: the line is cleared */
    } else {
        fputs("\r\033[Kbundle: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fflush(stderr);
}

/* -vv: how long each step of the build took. */
static void step_done(struct build *b, const char *what)
{
    double now = util_now();
    build_say(b, 2, "%s took %.0f ms", what, (now - b->step_t) * 1e3);
    b->step_t = now;
}

/* Checks the script and works out the names and paths of the outputs. */
static int plan_outputs(struct build *b)
{
    const struct cli_opts *o = b->o;
    struct stat st;
    const char *base;
    size_t len;

    if (stat(b->script, &st) != 0)
        return err_usage(b->err, "cannot open '%s': %s", b->script, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return err_usage(b->err, "'%s' is a directory; give the app's entry script (e.g. %s/main.py)",
                         b->script, b->script);
    if (!S_ISREG(st.st_mode))
        return err_usage(b->err, "'%s' is not a regular file", b->script);
    if (access(b->script, R_OK) != 0)
        return err_usage(b->err, "cannot read '%s': %s", b->script, strerror(errno));

    base = b->entry_name ? b->entry_name : strrchr(b->script, '/') ? strrchr(b->script, '/') + 1 : b->script;
    len = strlen(base);
    if (len > 3 && strcmp(base + len - 3, ".py") == 0)
        len -= 3;
    if (o->name)
        b->name = strdup(o->name);
    else if (o->output)
        b->name = strdup(strrchr(o->output, '/') ? strrchr(o->output, '/') + 1 : o->output);
    else
        b->name = strndup(base, len);
    if (!b->name)
        return err_set(b->err, ENOMEM, "out of memory");
    if (!b->name[0] || strchr(b->name, '/') || strcmp(b->name, ".") == 0 || strcmp(b->name, "..") == 0)
        return err_usage(b->err, "'%s' cannot be used as the app's name (use -n NAME)", b->name);
    if (cli_has_control(b->name)) /* not shown: it would break the line */
        return err_usage(b->err, "the app's name, from the %s, has a control character (use -n NAME)",
                         o->output ? "output's file name" : "script's file name");
    b->output = o->output ? strdup(o->output) : build_strdupf("dist/%s", b->name);
    if (!b->output)
        return err_set(b->err, ENOMEM, "out of memory");
    if (util_is_dir(b->output))
        return err_usage(b->err, "output '%s' is a directory; give a file name (-o DIR/NAME)", b->output);
    if (!o->no_marathon) {
        b->json_path = build_strdupf("%s.marathon.json", b->output);
        if (!b->json_path)
            return err_set(b->err, ENOMEM, "out of memory");
        if (o->metronome && !(b->metro_path = build_strdupf("%s.metronome.json", b->output)))
            return err_set(b->err, ENOMEM, "out of memory");
    }
    /* the output directory: created if missing, and it must take new files */
    char *dir = strdup(b->output);
    if (!dir)
        return err_set(b->err, ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *slash = '\0';
        if (dir[0] && !util_is_dir(dir)) {
            /* removed again if the build fails (only if empty): registered
             * before it exists, so a signal cannot come between */
            if (!(b->made_dir = strdup(dir)) || temp_add(b->made_dir, TEMP_EMPTY_DIR) != 0)
                rc = err_set(b->err, b->made_dir ? errno : ENOMEM, "cannot register '%s' as a temp dir", dir);
        }
        if (rc == 0 && dir[0] && util_mkdirs(dir, 0777, b->err) != 0)
            rc = -1;
        else if (rc == 0 && access(dir[0] ? dir : "/", W_OK) != 0)
            rc = err_set(b->err, errno, "cannot write to '%s/'", dir);
    } else if (access(".", W_OK) != 0) {
        rc = err_set(b->err, errno, "cannot write to the current directory");
    }
    free(dir);
    return rc;
}

static void build_release(struct build *b)
{
    join_link(b); /* before what it reads goes */
    graph_release(&b->graph);
    probe_release(&b->probe);
    if (b->jobs)
        pyc_jobs_release(b->jobs, b->njobs);
    free(b->jobs);
    elfdeps_closure_release(&b->libs);
    for (size_t i = 0; i < b->nentries; i++) {
        free(b->entries[i].name);
        free(b->entries[i].lazy);
    }
    free(b->entries);
    buf_release(&b->manifest);
    buf_release(&b->pyz);
    /* the temp files and dirs (temp.h), a dir with what is in it */
    const char *temps[] = {b->boot_file, b->absent_file, b->entry_dir, b->strip_dir, b->link_dir};
    for (size_t i = 0; i < sizeof temps / sizeof temps[0]; i++)
        if (temps[i])
            temp_remove(temps[i]);
    free(b->absent_file);
    free(b->entry_file);
    free(b->entry_dir);
    free(b->entry_name);
    free(b->entry_module);
    free(b->entry_target);
    strvec_release(&b->stripped);
    strvec_release(&b->paths);
    strvec_release(&b->traced_files);
    strvec_release(&b->warnings);
    free(b->strip_dir);
    free(b->link_dir);
    free(b->linked_stub);
    free(b->link_why);
    free(b->boot_file);
    free(b->name);
    free(b->output);
    free(b->json_path);
    free(b->metro_path);
    free(b->python);
}

int build_run(const struct cli_opts *o, struct err *err)
{
    struct build b = {.o = o, .err = err};
    double t0 = util_now();
    uint8_t file_sha[32];
    uint64_t size = 0;
    int rc = -1;

    /* a command name (no file of that name, no '/'): looked up once the
     * interpreter is known */
    struct stat st;
    bool command = !o->entry && entry_command_name(o->script) && stat(o->script, &st) != 0 && errno == ENOENT;
    /* from here every temp file and helper process is registered: a
     * signal removes and stops them (temp.h) */
    temp_catch_signals();
    b.script = o->script;
    if (o->entry && entry_of_option(&b) != 0)
        goto out;
    if (!command && (plan_outputs(&b) != 0 || check_marathon_opts(&b) != 0))
        goto out;
    b.tty = o->verbosity >= 0 && isatty(2);
    b.step_t = t0;
    if (!(b.python = probe_choose(o->python, err)))
        goto out;
    progress(&b, "asking %s", b.python);
    if (probe_run(b.python, &b.probe, err) != 0) {
        if (o->python)
            err->status = 2;
        goto out;
    }
    build_say(&b, 1, "python %d.%d.%d at %s", b.probe.major, b.probe.minor, b.probe.micro, b.probe.executable);
    if (command && (entry_of_command(&b) != 0 || plan_outputs(&b) != 0 || check_marathon_opts(&b) != 0))
        goto out;
    if (start_link(&b) != 0)
        goto out;
    step_done(&b, "probing the interpreter");
    progress(&b, "scanning imports from %s", b.script);
    if (resolve_graph(&b.graph, &b.probe, b.script, BUNDLE_ENTRY_MODULE, startup_modules,
                      sizeof startup_modules / sizeof startup_modules[0], &o->exclude, err) != 0 ||
        resolve_collect(&b.graph, "encodings", err) != 0)
        goto out;
    for (size_t i = 0; i < o->hidden.n; i++) {
        if (resolve_add(&b.graph, o->hidden.v[i], err) != 0)
            goto out;
        long idx = graph_find(&b.graph, o->hidden.v[i]);
        if (idx < 0 || b.graph.mods[idx].kind == MOD_MISSING) {
            err_usage(err, "--hidden-import %s: no such module on the interpreter's sys.path", o->hidden.v[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < o->collect.n; i++)
        if (resolve_collect(&b.graph, o->collect.v[i], err) != 0)
            goto out;
    if (b.entry_module && add_entry_module(&b) != 0)
        goto out;
    if (b.entry_target) {
        long t = graph_find(&b.graph, b.entry_target);
        if (t < 0 || b.graph.mods[t].kind == MOD_MISSING) {
            err_usage(err, "%s: no module %s on the interpreter's sys.path (%s)", o->entry ? "--entry" : o->script,
                      b.entry_target, b.probe.executable);
            goto out;
        }
    }
    if (o->trace && run_trace(&b) != 0)
        goto out;
    if (resolve_data_imports(&b.graph, err) != 0)
        goto out;
    report_missing(&b);
    step_done(&b, "resolving imports");
    progress(&b, "compiling %zu modules", b.graph.n);
    if (make_boot(&b) != 0 || make_absent(&b) != 0 || compile_modules(&b) != 0)
        goto out;
    step_done(&b, "compiling");
    if (collect_python(&b) != 0)
        goto out;
    step_done(&b, "packing modules");
    if (choose_stub(&b) != 0 || collect_native(&b) != 0 || strip_natives(&b) != 0 || collect_glibc(&b) != 0 ||
        finish_manifest(&b) != 0)
        goto out;
    step_done(&b, "native closure and strip");
    if (collect_data(&b) != 0 || add_traced(&b) != 0 || collect_metadata(&b) != 0)
        goto out;
    step_done(&b, "data files");
    progress(&b, "writing %s", b.output);
    if (write_bundle(&b, file_sha, &size) != 0)
        goto out;
    step_done(&b, "writing");
    progress(&b, NULL);
    if (emit_marathon(&b, file_sha, size + b.inflated) != 0)
        goto out;
    if (o->json && report_json(&b, file_sha, size, util_now() - t0) != 0)
        goto out;
    build_say(&b, 0, "wrote %s (%.1f MB: %zu modules, %zu native files, %zu data files; needs glibc >= %d.%d) in %.2f s",
        b.output, (double)size / 1e6, b.n_modules, b.n_natives, b.n_data, b.libs.glibc_major,
        b.libs.glibc_minor, util_now() - t0);
    rc = 0;
out:
    progress(&b, NULL);
    if (rc == 0) {
        /* done: the outputs (and their dir) are no temp files any more */
        const char *outs[] = {b.output, b.json_path, b.metro_path, b.made_dir};
        for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
            if (outs[i])
                temp_forget(outs[i]);
    }
    free(b.made_dir);
    build_release(&b);
    /* all or nothing: a failed build leaves no output (no bundle without
     * its JSON), then not the output dir it made, if empty */
    temp_remove_all();
    temp_restore_signals();
    return rc;
}
