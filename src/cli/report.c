/* report.c - what a build tells its user: the modules not found and the
 * other findings of the resolving (by verbosity), and the --json report. */
#include "../build_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle/util/jsonout.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/sha256.h"
#include "bundle/util/strvec.h"

void report_missing(struct build *b)
{
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        if (m->kind != MOD_MISSING) {
            build_say(b, 3, "module %s (imported by %s, line %d%s)", m->name, m->importer ? m->importer : "-", m->line,
                m->optpath ? "; on an optional path" : "");
            continue;
        }
        if (!m->optional)
            build_warn(b, 0, "module %s not found (imported by %s, line %d)", m->name,
                m->importer ? m->importer : "?", m->line);
        else
            build_say(b, 2, "optional module %s not found (imported by %s, line %d)", m->name,
                m->importer ? m->importer : "?", m->line);
    }
    for (size_t i = 0; i < b->graph.warnings.n; i++)
        build_warn(b, 1, "%s", b->graph.warnings.v[i]);
    for (size_t i = 0; i < b->graph.notes.n; i++)
        build_say(b, 1, "added: %s", b->graph.notes.v[i]);
    for (size_t i = 0; i < b->graph.deferred.n; i++) {
        /* left out unless something else brought it after all */
        if (build_absent_name(&b->graph, b->graph.deferred.v[i]) &&
            strvec_find(&b->graph.deferred, b->graph.deferred.v[i]) == (long)i)
            build_say(b, 1, "left out: %s (imported lazily by %s, whose distribution does not require it; "
                "--hidden-import %s brings it)", b->graph.deferred.v[i], b->graph.deferred_by.v[i],
                b->graph.deferred.v[i]);
    }
}

/* --json: one object on stdout, after everything was written.  Returns 0,
 * or -1 with b->err (out of memory, stdout cannot be written). */
int report_json(struct build *b, const uint8_t file_sha[32], uint64_t size, double secs)
{
    char hex[65], ahex[65], python[48], glibc[32];
    json_t *doc = json_object(), *missing = json_array(), *warnings = json_array();
    bool failed = false;
    int rc;

    sha256_hex(file_sha, hex);
    sha256_hex(b->archive_sha, ahex);
    snprintf(python, sizeof python, "%d.%d.%d", b->probe.major, b->probe.minor, b->probe.micro);
    snprintf(glibc, sizeof glibc, "%d.%d", b->libs.glibc_major, b->libs.glibc_minor);
    jsonout_set(doc, "ok", json_true(), &failed);
    jsonout_set(doc, "output", jsonout_text(b->output), &failed);
    jsonout_set(doc, "marathon", b->json_path ? jsonout_text(b->json_path) : json_null(), &failed);
    jsonout_set(doc, "metronome", b->metro_path ? jsonout_text(b->metro_path) : json_null(), &failed);
    jsonout_set(doc, "size", jsonout_uint(size), &failed);
    jsonout_set(doc, "sha256", json_string(hex), &failed);
    jsonout_set(doc, "archive_sha256", json_string(ahex), &failed);
    jsonout_set(doc, "python", json_string(python), &failed);
    jsonout_set(doc, "interpreter", jsonout_text(b->probe.executable), &failed);
    jsonout_set(doc, "glibc", json_string(glibc), &failed);
    jsonout_set(doc, "modules", jsonout_uint(b->n_modules), &failed);
    jsonout_set(doc, "native_files", jsonout_uint(b->n_natives), &failed);
    jsonout_set(doc, "data_files", jsonout_uint(b->n_data), &failed);
    for (size_t i = 0; i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        json_t *o;
        if (m->kind != MOD_MISSING)
            continue;
        o = json_object();
        jsonout_set(o, "name", jsonout_text(m->name), &failed);
        jsonout_set(o, "imported_by", jsonout_text(m->importer ? m->importer : ""), &failed);
        jsonout_set(o, "line", json_integer(m->line), &failed);
        jsonout_set(o, "optional", json_boolean(m->optional), &failed);
        jsonout_append(missing, o, &failed);
    }
    jsonout_set(doc, "missing", missing, &failed);
    for (size_t i = 0; i < b->warnings.n; i++)
        jsonout_append(warnings, jsonout_text(b->warnings.v[i]), &failed);
    jsonout_set(doc, "warnings", warnings, &failed);
    /* a real, rounded to milliseconds */
    jsonout_set(doc, "build_seconds", json_real((double)(long long)(secs * 1000 + 0.5) / 1000), &failed);
    if (failed)
        rc = err_set(b->err, ENOMEM, "cannot build the json report");
    else
        rc = jsonout_print(doc, stdout, b->err);
    json_decref(doc);
    return rc;
}
