/* marathon.c - Marathon app and Metronome job definitions for a bundle:
 * the documents, built from the inputs marathon_rules.c checked (the rules
 * the JSON Schemas cannot say, and the task's cmd, live there).
 *
 * Why jansson (src/util/jsonout.c): a small Debian package that keeps keys
 * in the order they are set, and whose fixed dump flags (two-space indent,
 * a set real precision) give identical output for identical input.  Every
 * input is checked before a document is built, so an error never leaves
 * half a document behind.
 *
 * Metronome minimums: run.mem is max(mem, 32) (the agent enforces at least
 * 32 MB anyway, ../shared/schemas/FACTS.md item 10) and run.cpus
 * max(cpus, 0.01); run.disk is the given disk (the schema's minimum is 0).
 */
#include "bundle/deploy/marathon.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/jsonout.h"
#include "marathon_impl.h"

#define METRONOME_MIN_MEM 32.0
#define METRONOME_MIN_CPUS 0.01
#define MEM_OVERHEAD_MB 32     /* the interpreter and a start-up's anonymous memory */

/* ---- documents ----
 *
 * Every string put in is UTF-8 (marathon_plan_init checks the inputs), so a
 * NULL from json_string, like from any other constructor, means out of
 * memory; jsonout_set remembers it in failed, checked once in finish. */

static void put_env(json_t *obj, const struct marathon_plan *pl, bool *failed)
{
    json_t *env;
    if (pl->nenv == 0)
        return;
    env = json_object();
    for (size_t i = 0; i < pl->nenv; i++)
        jsonout_setn(env, pl->env[i].key, pl->env[i].klen, json_string(pl->env[i].val), failed);
    jsonout_set(obj, "env", env, failed);
}

static void put_labels(json_t *obj, const struct marathon_plan *pl, bool *failed)
{
    json_t *labels = json_object();
    jsonout_set(labels, "BUNDLE_SHA256", json_string(pl->hash), failed);
    jsonout_set(obj, "labels", labels, failed);
}

/* key: [ one ], failures in *failed */
static void put_one(json_t *obj, const char *key, json_t *one, bool *failed)
{
    json_t *list = json_array();
    jsonout_append(list, one, failed);
    jsonout_set(obj, key, list, failed);
}

static void put_health(json_t *obj, const char *path, bool *failed)
{
    json_t *port = json_object(), *check = json_object();
    jsonout_set(port, "port", json_integer(0), failed);
    jsonout_set(port, "protocol", json_string("tcp"), failed);
    jsonout_set(port, "name", json_string("http"), failed);
    put_one(obj, "portDefinitions", port, failed);
    jsonout_set(check, "protocol", json_string("MESOS_HTTP"), failed);
    jsonout_set(check, "path", json_string(path), failed);
    jsonout_set(check, "portIndex", json_integer(0), failed);
    jsonout_set(check, "gracePeriodSeconds", json_integer(300), failed);
    jsonout_set(check, "intervalSeconds", json_integer(60), failed);
    jsonout_set(check, "timeoutSeconds", json_integer(20), failed);
    jsonout_set(check, "maxConsecutiveFailures", json_integer(3), failed);
    put_one(obj, "healthChecks", check, failed);
}

/* One fetch / artifacts entry; dest_path NULL leaves it out. */
static void put_fetch(json_t *obj, const char *key, const char *url, bool cache, const char *dest_path,
                      bool *failed)
{
    json_t *f = json_object();
    jsonout_set(f, "uri", json_string(url), failed);
    jsonout_set(f, "executable", json_true(), failed);
    jsonout_set(f, "extract", json_false(), failed);
    jsonout_set(f, "cache", json_boolean(cache), failed);
    if (dest_path)
        jsonout_set(f, "destPath", json_string(dest_path), failed);
    put_one(obj, key, f, failed);
}

/* The text of doc (taken) into *json, or -1 with err: failed says a part
 * of it could not be made. */
static int finish(json_t *doc, bool failed, const char *what, char **json, struct err *err)
{
    int rc;
    if (failed || !doc)
        rc = err_set(err, ENOMEM, "cannot build the %s", what);
    else
        rc = jsonout_dump(doc, true, json, err);
    json_decref(doc);
    return rc;
}

/* What both documents start from: the checked plan and the task's cmd.
 * 0, or -1 with err set and nothing to release. */
static int begin(const struct marathon_app *app, bool metronome, char **json, struct marathon_plan *pl, char **cmd,
                 struct err *err)
{
    if (!json)
        return err_usage(err, "nowhere to put the json");
    if (marathon_plan_init(pl, app, err) < 0)
        return -1;
    if (marathon_plan_cmd(pl, app, metronome, cmd, err) < 0) {
        free(*cmd);
        *cmd = NULL;
        marathon_plan_release(pl);
        return -1;
    }
    return 0;
}

int marathon_app_json(const struct marathon_app *app, char **json, struct err *err)
{
    struct marathon_plan pl;
    char *cmd = NULL;
    bool failed = false;
    int rc;
    if (begin(app, false, json, &pl, &cmd, err) < 0)
        return -1;
    json_t *doc = json_object();
    jsonout_set(doc, "id", json_string(pl.id), &failed);
    jsonout_set(doc, "cmd", json_string(cmd), &failed);
    jsonout_set(doc, "cpus", jsonout_number(app->cpus), &failed);
    jsonout_set(doc, "mem", jsonout_number(app->mem), &failed);
    jsonout_set(doc, "disk", jsonout_number(app->disk), &failed);
    jsonout_set(doc, "instances", json_integer(app->instances), &failed);
    put_env(doc, &pl, &failed);
    put_labels(doc, &pl, &failed);
    if (app->fetch)
        put_fetch(doc, "fetch", pl.url, app->fetch_cache, app->name, &failed);
    if (app->health_path)
        put_health(doc, app->health_path, &failed);
    if (app->kill_grace >= 0)
        jsonout_set(doc, "taskKillGracePeriodSeconds", json_integer(app->kill_grace), &failed);
    rc = finish(doc, failed, "json of the marathon app", json, err);
    free(cmd);
    marathon_plan_release(&pl);
    return rc;
}

/* The Marathon id's segments joined by '.': "/prod/web" -> "prod.web".  The
 * Marathon rules make every dot-separated part a valid Metronome label. */
static void metronome_id(const char *id, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = id + 1; *p && n + 1 < outlen; p++)
        out[n++] = *p == '/' ? '.' : *p;
    out[n] = '\0';
}

int marathon_metronome_json(const struct marathon_app *app, char **json, struct err *err)
{
    struct marathon_plan pl;
    char *cmd = NULL;
    char *desc = NULL;
    char id[MARATHON_ID_BUF];
    json_t *doc = NULL, *run;
    bool failed = false;
    int rc = -1;
    if (begin(app, true, json, &pl, &cmd, err) < 0)
        return -1;
    if (asprintf(&desc, "%s, bundled by bundle (sha256 %s)", app->name, pl.hash) < 0) {
        desc = NULL;
        err_set(err, ENOMEM, "cannot build the job description");
        goto cleanup;
    }
    metronome_id(pl.id, id, sizeof id);
    doc = json_object();
    jsonout_set(doc, "id", json_string(id), &failed);
    jsonout_set(doc, "description", json_string(desc), &failed);
    put_labels(doc, &pl, &failed);
    run = json_object();
    jsonout_set(run, "cpus", jsonout_number(app->cpus < METRONOME_MIN_CPUS ? METRONOME_MIN_CPUS : app->cpus),
                &failed);
    jsonout_set(run, "mem", jsonout_number(app->mem < METRONOME_MIN_MEM ? METRONOME_MIN_MEM : app->mem), &failed);
    jsonout_set(run, "disk", jsonout_number(app->disk), &failed);
    jsonout_set(run, "cmd", json_string(cmd), &failed);
    put_env(run, &pl, &failed);
    if (app->fetch)
        put_fetch(run, "artifacts", pl.url, app->fetch_cache, NULL, &failed);
    if (app->kill_grace >= 0)
        jsonout_set(run, "taskKillGracePeriodSeconds", json_integer(app->kill_grace), &failed);
    jsonout_set(doc, "run", run, &failed);
    rc = finish(doc, failed, "json of the metronome job", json, err);
cleanup:
    free(desc);
    free(cmd);
    marathon_plan_release(&pl);
    return rc;
}

int marathon_check_app(const struct marathon_app *app, bool metronome, struct err *err)
{
    static const char zeros[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    struct marathon_app a;
    char *path = NULL;
    char *json = NULL;
    int rc;
    if (!app)
        return err_usage(err, "no app to describe");
    a = *app;
    if (!a.sha256_hex)
        a.sha256_hex = zeros;
    if (a.mem == 0)
        a.mem = 1; /* the default, known once the bundle is written */
    if (!a.url && !a.binary_path && a.name) {
        if (asprintf(&path, "/%s", a.name) < 0)
            return err_set(err, ENOMEM, "cannot check the marathon app");
        a.binary_path = path;
    }
    rc = marathon_app_json(&a, &json, err);
    free(json);
    json = NULL;
    if (rc == 0 && metronome) {
        rc = marathon_metronome_json(&a, &json, err);
        free(json);
    }
    free(path);
    return rc;
}

/* Whole MiB (Mesos' "MB"), rounded up. */
static uint64_t mib_up(uint64_t bytes)
{
    return bytes / (1024 * 1024) + (bytes % (1024 * 1024) != 0);
}

static double round_up16(uint64_t mb)
{
    return (double)((mb + 15) / 16 * 16);
}

/* Measured (tests/e2e/test_marathon.sh prints it): a first start in a
 * fresh memory cgroup peaks at 2 x the bundle's size + 4 MB for hello and
 * + 10 to 15 MB for a service or an app importing sqlite3, ssl, asyncio and
 * multiprocessing.  The 2 x is page cache: the downloaded binary (written
 * by curl inside the task) and the native parts the stub unpacks into the
 * sandbox (about 95 % of the bundle, stored uncompressed).  It is
 * reclaimable, but a limit it fills makes every start reclaim dirty pages,
 * so it is counted in full; 32 MB on top covers the interpreter and leaves
 * the app at least 16 MB of its own. */
double marathon_default_mem(uint64_t bundle_bytes)
{
    uint64_t mb = mib_up(bundle_bytes);
    if (mb > UINT32_MAX)
        mb = UINT32_MAX;
    return round_up16(2 * mb + MEM_OVERHEAD_MB);
}

/* The sandbox holds the binary and its unpacked native parts (about 2 x
 * the bundle); one more bundle's worth and 32 MB are for the task's
 * stdout/stderr files and whatever the app writes. */
double marathon_default_disk(uint64_t bundle_bytes)
{
    uint64_t mb = mib_up(bundle_bytes);
    if (mb > UINT32_MAX)
        mb = UINT32_MAX;
    return round_up16(3 * mb + 32);
}
