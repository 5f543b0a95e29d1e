/* cli.h - bundle's command line, parsed into one struct that owns its strings.
 *
 * Parsing never exits and never prints: cli_parse() returns -1 with err set
 * (status 2) on a bad command line, so it is testable without the binary.
 */
#ifndef BUNDLE_CLI_H
#define BUNDLE_CLI_H

#include <stdbool.h>

#include "bundle/util/err.h"
#include "bundle/util/strvec.h"

enum cli_action {
    CLI_BUILD = 0,   /* bundle --onefile SCRIPT */
    CLI_HELP,        /* --help */
    CLI_VERSION,     /* --version */
    CLI_INSPECT,     /* bundle inspect FILE */
    CLI_VERIFY,      /* bundle verify FILE */
};

struct cli_opts {
    enum cli_action action;
    char *script;          /* SCRIPT: the app's entry script, or the name of an installed
                              console script; for inspect/verify, the bundle; NULL
                              with --entry */
    char *entry;           /* --entry MOD[:FUNC]: run that callable (or module) instead */
    bool trace;            /* --trace: run the app once under the interpreter and
                              bundle what it imported and read */
    double trace_seconds;  /* --trace-timeout SECS: then SIGINT (default 10) */
    struct strvec trace_args; /* the app's arguments for that run (after SCRIPT) */
    bool json;             /* --json: one JSON object on stdout */
    bool onefile;          /* --onefile (the only mode; accepted for PyInstaller users) */
    char *python;          /* --python PATH: the interpreter to bundle */
    char *output;          /* -o, --output FILE: the binary (default dist/NAME) */
    char *name;            /* -n, --name NAME: app name (default: the script's stem) */
    int verbosity;         /* -q: -1, default 0, -v: 1 (repeatable) */
    struct strvec hidden;  /* --hidden-import MOD, repeatable */
    struct strvec exclude; /* --exclude-module MOD, repeatable */
    struct strvec add_data;     /* --add-data SRC:DEST, repeatable */
    struct strvec collect;      /* --collect PKG, repeatable */
    struct strvec exclude_data; /* --exclude-data GLOB, repeatable */

    /* Marathon / Metronome (see marathon.h) */
    bool no_marathon;      /* --no-marathon: write no JSON */
    bool shared_libpython; /* --shared-libpython: never link the static libpython (the default) */
    bool link_libpython;   /* --link-libpython: link it into the executable */
    bool carry_glibc;      /* --carry-glibc: carry this machine's glibc for older hosts */
    bool debug_ranges;     /* --debug-ranges: compile with the column table */
    long compress;         /* --compress: zstd level of native files, 0 = stored */
    bool metronome;        /* --metronome: also NAME.metronome.json */
    char *url;             /* --url URL: where the cluster downloads the binary */
    char *marathon_id;     /* --marathon-id ID (default derived from NAME) */
    double cpus;           /* --cpus N (default 0.1) */
    double mem;            /* --mem MB (0 = derived default) */
    double disk;           /* --disk MB (0 = derived default) */
    long instances;        /* --instances N (default 1) */
    bool fetch;            /* --fetch: Marathon fetch instead of curl in cmd */
    bool fetch_cache;      /* --fetch-cache: fetch with cache: true */
    char *health_path;     /* --health-path /PATH: MESOS_HTTP check on port index 0 */
    long kill_grace;       /* --kill-grace SECONDS (-1 = unset) */
    struct strvec env;     /* --env K=V, repeatable */
    char *args;            /* --args STRING: arguments passed to the app in cmd */
};

/* Parses argv into *opts (which it initialises).  Returns 0, or -1 with err
 * set (status 2).  Caller releases *opts with cli_opts_release, also after a
 * failure. */
int cli_parse(int argc, char **argv, struct cli_opts *opts, struct err *err);
void cli_opts_release(struct cli_opts *opts);

/* Whether v[0..n) is a dotted Python name (ASCII identifiers joined by dots). */
bool cli_dotted_name(const char *v, size_t n);

/* Whether s has a control character (below 0x20, or 0x7f): never in the
 * app's name, which names the binary and heads its messages. */
bool cli_has_control(const char *s);

/* The --help text. */
extern const char cli_usage[];

#endif
