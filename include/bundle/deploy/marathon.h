/* marathon.h - Marathon app and Metronome job definitions for a bundle.
 *
 * Writes JSON that validates against ../shared/schemas (Draft 4) and obeys
 * the server rules the schema misses (../shared/schemas/FACTS.md).
 */
#ifndef BUNDLE_MARATHON_H
#define BUNDLE_MARATHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle/util/err.h"

/* Every cmd starts by pointing the stub's cache into the task's sandbox
 * (kept when the environment already sets BUNDLE_CACHE_DIR); this is that
 * directory's name in the sandbox. */
#define MARATHON_SANDBOX_CACHE ".bundle-cache"

struct marathon_app {
    const char *name;        /* the binary's file name in the sandbox (e.g. "app") */
    const char *id;          /* Marathon id ("/app"); NULL = derived from name */
    const char *url;         /* download URL; NULL = file:// of binary_path */
    const char *binary_path; /* absolute path of the built binary (file:// fallback) */
    const char *sha256_hex;  /* 64 hex chars of the binary's SHA-256 */
    double cpus;             /* >= 0.001 (Marathon's minimum) */
    double mem;              /* MB, > 0 */
    double disk;             /* MB, >= 0 */
    long instances;          /* >= 0 */
    bool fetch;              /* use "fetch" (executable, no extract) + "exec ./NAME" */
    bool fetch_cache;        /* fetch[0].cache */
    const char *health_path; /* NULL or "/health": MESOS_HTTP check, portIndex 0 */
    long kill_grace;         /* taskKillGracePeriodSeconds; < 0 = leave out */
    const char *const *env;  /* "K=V" strings (nenv) */
    size_t nenv;
    const char *args;        /* NULL or extra arguments for the app, appended to cmd */
};

/* The default "mem" and "disk" (MB, i.e. MiB as Mesos counts) of a bundle
 * of bundle_bytes bytes, in multiples of 16.  mem: what a first start
 * charges to the task's memory cgroup (the downloaded file's page cache and
 * the native parts the stub unpacks into the sandbox, 2 x the size) plus
 * 32 MB for the interpreter and the app.  disk: 3 x the size plus 32 MB. */
double marathon_default_mem(uint64_t bundle_bytes);
double marathon_default_disk(uint64_t bundle_bytes);

/* Room for any id marathon_id_from_name derives: "/" + 54 + NUL. */
#define MARATHON_ID_MAX 56

/* Derives a Marathon id ("/" + lower-case [a-z0-9-] of name, trimmed of
 * '-' at the ends, at most 54 characters) into out (MARATHON_ID_MAX bytes
 * suffice).  Returns 0, or -1 with
 * err set when nothing valid remains. */
int marathon_id_from_name(const char *name, char *out, size_t outlen, struct err *err);

/* 0 if id is an absolute Marathon id the server accepts, else -1 with err
 * (status 2) saying why. */
int marathon_check_id(const char *id, struct err *err);

/* 0 if url can be fetched by Mesos (http, https or file; no ' or \; has a
 * path not ending in '/'), else -1 with err (status 2). */
int marathon_check_url(const char *url, struct err *err);

/* Every check marathon_app_json (and, with metronome, marathon_metronome_json)
 * makes, before anything is built: the command line's mistakes are found
 * before a second of work.  sha256_hex may be NULL and mem 0 (both known
 * only once the bundle is written); binary_path should be the absolute path
 * the binary will have (NULL: only the name is checked).  Returns 0, or -1
 * with err (status 2 for input that must change). */
int marathon_check_app(const struct marathon_app *app, bool metronome, struct err *err);

/* Renders the app definition as a malloc'ed NUL-terminated JSON text into
 * *json (caller frees).  Returns 0 or -1 with err set. */
int marathon_app_json(const struct marathon_app *app, char **json, struct err *err);

/* Renders a Metronome job ({"id", "description", "run": {cpus, mem, disk,
 * cmd}}) with the same cmd.  Returns 0 or -1 with err set. */
int marathon_metronome_json(const struct marathon_app *app, char **json, struct err *err);

/* Appends s, as one single-quoted POSIX shell word, to *out (NULL or a
 * malloc'ed string, reallocated).  *out is unchanged on failure.  Exposed
 * for tests. */
int marathon_shell_quote(const char *s, char **out, struct err *err);

#endif
