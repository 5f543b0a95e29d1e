/* traced.c - bundle --trace in the build: the app run once (trace.c), then
 * the modules it imported added to the graph, the packages whose directory
 * it listed shipped as files, and what else it read kept for
 * src/collect/traced_files.c. */
#include "../build_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/analyze/resolve.h"
#include "bundle/util/strvec.h"
#include "bundle/analyze/trace.h"
#include "bundle/util/util.h"

/* The search-path directory a path lies under (the longest), or NULL. */
const char *build_root_of(const struct graph *g, const char *path)
{
    const char *best = NULL;
    size_t bl = 0;
    for (size_t r = 0; r < g->roots.n; r++) {
        size_t l = strlen(g->roots.v[r]);
        if (l > bl && strncmp(path, g->roots.v[r], l) == 0 && path[l] == '/') {
            best = g->roots.v[r];
            bl = l;
        }
    }
    return best;
}

/* --trace: runs the app once, then bundles every module it imported that
 * the scan did not find, the package files it read, and ships as files
 * each package whose directory it listed. */
int run_trace(struct build *b)
{
    struct trace_result tr = {0};
    size_t before = b->graph.n;
    int saved = -1, rc = -1;

    build_say(b, 0, "tracing: running %s once%s", b->script, b->o->json ? " (its output goes to stderr)" : "");
    fflush(stdout);
    if (b->o->json && ((saved = dup(1)) < 0 || dup2(2, 1) < 0)) /* stdout is the JSON's */
        return err_set(b->err, errno, "cannot redirect the traced run's output");
    rc = trace_run(b->probe.executable, b->script, (const char *const *)b->o->trace_args.v, b->o->trace_args.n,
                   b->o->trace_seconds, &tr, b->err);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
    if (rc != 0)
        return err_prefix(b->err, "--trace");
    if (tr.timed_out)
        build_say(b, 0, "tracing: stopped after %g s (--trace-timeout)", b->o->trace_seconds);
    else if (tr.exit_status != 0)
        build_warn(b, 0, "the traced run exited with status %d: what it did not reach is not in the bundle", tr.exit_status);
    for (size_t i = 0; i < tr.modules.n && rc == 0; i++) {
        bool known = graph_find(&b->graph, tr.modules.v[i]) >= 0;
        rc = resolve_add_soft(&b->graph, tr.modules.v[i], b->err);
        if (!known && graph_find(&b->graph, tr.modules.v[i]) >= 0)
            build_say(b, 1, "traced: %s (the scan did not find it)", tr.modules.v[i]);
    }
    build_say(b, 1, "traced: %zu modules more with what they import", b->graph.n - before);
    /* a package directory the app listed: it looks at its files */
    for (size_t i = 0; i < tr.dirs.n && rc == 0; i++) {
        const char *root = build_root_of(&b->graph, tr.dirs.v[i]);
        char *name = root ? strdup(tr.dirs.v[i] + strlen(root) + 1) : NULL;
        for (char *p = name; p && *p; p++)
            *p = *p == '/' ? '.' : *p;
        long idx = name ? graph_find(&b->graph, name) : -1;
        if (idx >= 0 && b->graph.mods[idx].kind == MOD_PACKAGE)
            rc = resolve_disk(&b->graph, (size_t)idx, "the traced run listed its directory", b->err);
        else if (root && strvec_push(&b->traced_files, tr.dirs.v[i]) != 0)
            rc = err_set(b->err, ENOMEM, "out of memory");
        free(name);
    }
    for (size_t i = 0; i < tr.files.n && rc == 0; i++)
        if (build_root_of(&b->graph, tr.files.v[i]) && strvec_push(&b->traced_files, tr.files.v[i]) != 0)
            rc = err_set(b->err, ENOMEM, "out of memory");
    trace_result_release(&tr);
    return rc;
}
