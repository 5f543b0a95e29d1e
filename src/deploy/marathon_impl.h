/* marathon_impl.h - what the two halves of src/deploy share: the inputs,
 * checked once (marathon_rules.c), from which marathon.c builds the
 * documents.  Private to src/deploy. */
#ifndef BUNDLE_MARATHON_IMPL_H
#define BUNDLE_MARATHON_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/util/err.h"
#include "bundle/deploy/marathon.h"

#define MARATHON_ID_DNS_MAX 54 /* Mesos-DNS: 63-character label minus 9 */
#define MARATHON_ID_BUF (MARATHON_ID_DNS_MAX * 2 + 2)

struct marathon_env {
    const char *key; /* points into the caller's "K=V" */
    size_t klen;
    const char *val;
};

/* An app's inputs, every rule of marathon_rules.c checked. */
struct marathon_plan {
    char id[MARATHON_ID_BUF];  /* the Marathon id */
    char hash[65];             /* lower-case hex */
    char *url;                 /* owned: the given url or the file:// fallback */
    bool url_encoded;          /* the fallback had to percent-encode */
    struct marathon_env *env;  /* sorted by key */
    size_t nenv;
    const char *args;          /* NULL when there are none */
};

/* Checks every input of app (name, hash, numbers, text, id, url, env) and
 * fills *pl.  Returns 0 (release pl), or -1 with err and nothing to
 * release.  Every string it accepts is UTF-8, so JSON can hold it. */
int marathon_plan_init(struct marathon_plan *pl, const struct marathon_app *app, struct err *err);
void marathon_plan_release(struct marathon_plan *pl);

/* The task's cmd (the "Choices" in marathon_rules.c) for the Marathon app,
 * or for the Metronome job with metronome, into *cmd (malloc'ed, caller
 * frees).  Returns 0, or -1 with err (a url the Mesos fetcher cannot
 * fetch, or out of memory). */
int marathon_plan_cmd(const struct marathon_plan *pl, const struct marathon_app *app, bool metronome,
                      char **cmd, struct err *err);

#endif
