/* fuzz_cli.c - bundle's option parser (src/cli/cli.c cli_parse) on any argv.
 *
 * The input is split on NUL into argv[1..]; argv[0] is "bundle".  Each
 * argument is its own exactly sized block, so a read past its NUL is caught.
 *
 * Promises checked (cli.h and the README's flag table): 0 with values in
 * their documented ranges, or -1 with a message and status 2; and an error
 * message quotes what the user typed: "unknown option 'X'" never names an
 * option bundle knows, and X is in argv.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/cli/cli.h"
#include "fuzz_util.h"

#define MAX_ARGS 64

static const char *const known_long[] = {
    "onefile", "python", "output", "name", "quiet", "verbose", "help", "version",
    "no-marathon", "metronome", "url", "marathon-id", "cpus", "mem", "disk", "instances",
    "fetch", "fetch-cache", "health-path", "kill-grace", "env", "args", "hidden-import",
    "exclude-module", "add-data", "collect", "exclude-data", "json",
};

/* 1 if s[0..n) starts some argument the user typed (argv[0] is not one). */
static bool typed(int argc, char **argv, const char *s, size_t n)
{
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], s, n) == 0)
            return true;
    return false;
}

/* 1 if some option cluster the user typed holds the byte c (never NUL). */
static bool in_cluster(int argc, char **argv, char c)
{
    for (int i = 1; i < argc; i++)
        if (c && argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, c))
            return true;
    return false;
}

/* "unknown option 'X' (see bundle --help)": X is what was typed and is not
 * an option bundle knows. */
static void check_unknown(int argc, char **argv, const char *msg)
{
    static const char head[] = "unknown option '", foot[] = "' (see bundle --help)";
    size_t len = strlen(msg), n;
    const char *x = msg + sizeof head - 1;
    unsigned byte;

    /* bench/fuzz --mute cli-unknown-option: while a bug in these messages
     * is known and not fixed yet (fuzz_util.h) */
    if (fuzz_muted("cli-unknown-option"))
        return;
    /* "unknown option: byte 0xNN in a short option": a byte of a cluster
     * that cannot be shown as it is */
    if (sscanf(msg, "unknown option: byte 0x%2x in a short option", &byte) == 1) {
        FUZZ_CHECK(byte <= ' ' || byte >= 0x7f);
        FUZZ_CHECK(in_cluster(argc, argv, (char)byte));
        return;
    }
    if (strncmp(msg, head, sizeof head - 1) != 0 || len < sizeof head + sizeof foot - 2 ||
        strcmp(msg + len - (sizeof foot - 1), foot) != 0)
        return;
    n = len - (sizeof head - 1) - (sizeof foot - 1);
    if (n > 2 && strncmp(x, "--", 2) == 0) {
        /* --NAME or --NAME=VALUE as typed, NAME no option of bundle's */
        for (size_t i = 0; i < sizeof known_long / sizeof known_long[0]; i++)
            FUZZ_CHECK(!(strlen(known_long[i]) == n - 2 && strncmp(x + 2, known_long[i], n - 2) == 0));
        FUZZ_CHECK(typed(argc, argv, x, n));
    } else if (n == 2 && x[0] == '-' && x[1] == '-') {
        /* "--=VALUE" (the option name before '=' is empty) or a '-' inside
         * a cluster ("-v-") */
        FUZZ_CHECK(typed(argc, argv, "--=", 3) || in_cluster(argc, argv, '-'));
    } else if (n == 2 && x[0] == '-') {
        /* -C: a letter of some cluster, not one of bundle's */
        FUZZ_CHECK(!strchr("onqvh", x[1]));
        FUZZ_CHECK(in_cluster(argc, argv, x[1]));
    } else {
        /* anything else: a whole argument as typed */
        FUZZ_CHECK(typed(argc, argv, x, n));
    }
}

static bool module_name(const char *s)
{
    return *s && *s != '.' && s[strlen(s) - 1] != '.' && !strstr(s, "..");
}

static void check_opts(const struct cli_opts *o)
{
    if (o->action == CLI_HELP || o->action == CLI_VERSION)
        return;
    /* build: the script; inspect, verify: the bundle */
    FUZZ_CHECK(o->script && o->script[0]);
    FUZZ_CHECK(o->verbosity >= -1);
    FUZZ_CHECK(o->cpus > 0 && o->cpus <= 1024);
    FUZZ_CHECK(o->mem >= 0 && o->mem <= (1 << 24));
    FUZZ_CHECK(o->disk >= 0 && o->disk <= (1 << 30));
    FUZZ_CHECK(o->instances >= 0 && o->instances <= 1000000);
    FUZZ_CHECK(o->kill_grace == -1 || (o->kill_grace >= 0 && o->kill_grace <= 86400));
    FUZZ_CHECK(!o->health_path || o->health_path[0] == '/');
    FUZZ_CHECK(!o->python || o->python[0]);
    FUZZ_CHECK(!o->output || o->output[0]);
    FUZZ_CHECK(!o->name || o->name[0]);
    FUZZ_CHECK(!o->fetch_cache || o->fetch);
    for (size_t i = 0; i < o->env.n; i++)
        FUZZ_CHECK(o->env.v[i][0] != '=' && strchr(o->env.v[i], '='));
    for (size_t i = 0; i < o->hidden.n; i++)
        FUZZ_CHECK(module_name(o->hidden.v[i]));
    for (size_t i = 0; i < o->exclude.n; i++)
        FUZZ_CHECK(module_name(o->exclude.v[i]));
    for (size_t i = 0; i < o->collect.n; i++)
        FUZZ_CHECK(module_name(o->collect.v[i]));
    for (size_t i = 0; i < o->add_data.n; i++)
        FUZZ_CHECK(strchr(o->add_data.v[i], ':'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2];
    char *owned[MAX_ARGS + 1]; /* getopt_long permutes argv: free what we made */
    struct cli_opts o;
    struct err err = {0};
    size_t i = 0;
    int argc = 0;

    owned[argc] = argv[argc] = strdup("bundle");
    argc++;
    while (i < size && argc <= MAX_ARGS) {
        const uint8_t *nul = memchr(data + i, '\0', size - i);
        size_t n = nul ? (size_t)(nul - (data + i)) : size - i;
        char *a = malloc(n + 1);
        if (!a)
            abort();
        memcpy(a, data + i, n);
        a[n] = '\0';
        owned[argc] = argv[argc] = a;
        argc++;
        i += n + 1;
    }
    argv[argc] = NULL;

    if (cli_parse(argc, argv, &o, &err) == 0) {
        check_opts(&o);
    } else {
        FUZZ_CHECK(err.msg[0]);
        FUZZ_CHECK(err.status == 2 || err.errnum != 0);
        check_unknown(argc, argv, err.msg);
    }
    cli_opts_release(&o);
    for (int j = 0; j < argc; j++)
        free(owned[j]);
    return 0;
}
