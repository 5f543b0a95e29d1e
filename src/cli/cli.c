#include "bundle/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "bundle/emit/pack.h"

const char cli_usage[] =
    "usage: bundle --onefile [options] SCRIPT|COMMAND [--trace [-- ARGS...]]\n"
    "       bundle --onefile [options] --entry MODULE[:FUNCTION]\n"
    "       bundle inspect [--json] FILE\n"
    "       bundle verify FILE\n"
    "\n"
    "Turns a Python program into one self-contained Linux executable that runs\n"
    "where no Python is installed, and writes a Marathon app definition beside it.\n"
    "\n"
    "  bundle --onefile app.py      ->  dist/app  +  dist/app.marathon.json\n"
    "\n"
    "Build:\n"
    "      --onefile           build one executable (the only mode; may be omitted)\n"
    "      --python PATH       interpreter to bundle (default: the active venv's,\n"
    "                          else python3 on PATH)\n"
    "  -o, --output FILE       where to write the executable (default: dist/NAME)\n"
    "  -n, --name NAME         the app's name (default: the script's file name\n"
    "                          without .py)\n"
    "                          SCRIPT may also be the name of a console script\n"
    "                          that a package installed in the interpreter\n"
    "                          declares (e.g. yamllint): its entry point is run\n"
    "      --entry MOD[:FUNC]  run FUNC of module MOD (its return value is the\n"
    "                          exit status), or MOD as __main__ without :FUNC,\n"
    "                          instead of a script (name: MOD's first part)\n"
    "      --trace             run the app once under the interpreter (ARGS after\n"
    "                          '--' are its arguments) and bundle every module it\n"
    "                          imported and package file it read, too\n"
    "      --trace-timeout SECS  stop that run with SIGINT after SECS (default 10)\n"
    "      --hidden-import MOD bundle MOD too (an import the scan cannot see)\n"
    "      --exclude-module MOD  never bundle MOD or its submodules\n"
    "      --collect PKG       bundle every submodule and file of package PKG\n"
    "      --add-data SRC:DEST bundle file or directory SRC as DEST, relative to\n"
    "                          sys._MEIPASS ('.' for its top)\n"
    "      --exclude-data GLOB leave out package files whose path under\n"
    "                          sys._MEIPASS matches GLOB (e.g. 'numpy/*.txt')\n"
    "      --compress LEVEL    how native and data files are stored: a zstd level\n"
    "                          from 1 (fastest build) to 19, max (19, the\n"
    "                          default: smallest), or none; what level 10 and up\n"
    "                          makes of a file is kept for the next build in\n"
    "                          ~/.cache/bundle-build (BUNDLE_BUILD_CACHE_DIR)\n"
    "      --debug-ranges      keep every instruction's columns (Python 3.11 and\n"
    "                          later): tracebacks mark the failing expression\n"
    "                          with ^^^ where the host has the source; about a\n"
    "                          third more bytes of modules (default: lines only)\n"
    "      --link-libpython    link the interpreter's static libpython into the\n"
    "                          executable: the fastest first start on a host,\n"
    "                          but about 4 MB more to download (default: the\n"
    "                          shared libpython, compressed in the executable\n"
    "                          and unpacked on a host's first start)\n"
    "      --shared-libpython  the default, said explicitly\n"
    "      --carry-glibc       carry this machine's glibc (about 1.3 MB), used only\n"
    "                          on a host whose glibc is older than the bundle needs\n"
    "      --json              print one JSON object on stdout when done (what was\n"
    "                          built, or the error); messages go to stderr\n"
    "  -q, --quiet             print errors only\n"
    "  -v, --verbose           say more (repeat for even more)\n"
    "\n"
    "Marathon / Metronome (written beside the executable):\n"
    "      --no-marathon       do not write NAME.marathon.json\n"
    "      --metronome         also write NAME.metronome.json (a Metronome job)\n"
    "      --url URL           where the cluster downloads the executable\n"
    "                          (default: a file:// URL of the built file)\n"
    "      --marathon-id ID    the app id (default: /NAME)\n"
    "      --cpus N            CPU shares (default 0.1)\n"
    "      --mem MB            memory limit (default: derived from the bundle's size)\n"
    "      --disk MB           disk (default: derived from the bundle's size)\n"
    "      --instances N       instances (default 1)\n"
    "      --fetch             let Mesos fetch the executable (Marathon \"fetch\")\n"
    "                          instead of curl in cmd\n"
    "      --fetch-cache       with --fetch: let the Mesos fetcher cache it\n"
    "      --health-path PATH  add an HTTP health check on $PORT0 (e.g. /health)\n"
    "      --kill-grace SECS   seconds between SIGTERM and SIGKILL\n"
    "      --env K=V           set an environment variable (repeatable)\n"
    "      --args STRING       arguments for the app, appended to cmd as shell text\n"
    "\n"
    "Other commands:\n"
    "  inspect FILE            list what is inside a bundle (--json: as JSON)\n"
    "  verify FILE             check a bundle's structure and checksums: exit 0 if\n"
    "                          intact, 1 with the reason if not\n"
    "\n"
    "  -h, --help              show this help and exit\n"
    "      --version           show the version and exit\n"
    "\n"
    "Exit status: 0 built (or intact), 1 the build failed (or the bundle is not\n"
    "intact), 2 the command line is wrong.\n"
    "The executable reads BUNDLE_CACHE_DIR (where native parts are unpacked;\n"
    "default $XDG_CACHE_HOME/bundle, ~/.cache/bundle, then $TMPDIR) and\n"
    "BUNDLE_DEBUG=1 (trace its start-up on stderr).\n";

enum {
    OPT_ONEFILE = 256, OPT_PYTHON, OPT_VERSION, OPT_NO_MARATHON, OPT_METRONOME, OPT_URL,
    OPT_MARATHON_ID, OPT_CPUS, OPT_MEM, OPT_DISK, OPT_INSTANCES, OPT_FETCH, OPT_FETCH_CACHE,
    OPT_HEALTH_PATH, OPT_KILL_GRACE, OPT_ENV, OPT_ARGS, OPT_HIDDEN, OPT_EXCLUDE, OPT_ADD_DATA,
    OPT_COLLECT, OPT_EXCLUDE_DATA, OPT_JSON, OPT_SHARED_LIBPYTHON, OPT_ENTRY, OPT_TRACE, OPT_TRACE_TIMEOUT,
    OPT_COMPRESS, OPT_LINK_LIBPYTHON, OPT_CARRY_GLIBC, OPT_DEBUG_RANGES,
};

static const struct option long_opts[] = {
    {"onefile", no_argument, NULL, OPT_ONEFILE},
    {"python", required_argument, NULL, OPT_PYTHON},
    {"output", required_argument, NULL, 'o'},
    {"name", required_argument, NULL, 'n'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"no-marathon", no_argument, NULL, OPT_NO_MARATHON},
    {"shared-libpython", no_argument, NULL, OPT_SHARED_LIBPYTHON},
    {"metronome", no_argument, NULL, OPT_METRONOME},
    {"url", required_argument, NULL, OPT_URL},
    {"marathon-id", required_argument, NULL, OPT_MARATHON_ID},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"mem", required_argument, NULL, OPT_MEM},
    {"disk", required_argument, NULL, OPT_DISK},
    {"instances", required_argument, NULL, OPT_INSTANCES},
    {"fetch", no_argument, NULL, OPT_FETCH},
    {"fetch-cache", no_argument, NULL, OPT_FETCH_CACHE},
    {"health-path", required_argument, NULL, OPT_HEALTH_PATH},
    {"kill-grace", required_argument, NULL, OPT_KILL_GRACE},
    {"env", required_argument, NULL, OPT_ENV},
    {"args", required_argument, NULL, OPT_ARGS},
    {"hidden-import", required_argument, NULL, OPT_HIDDEN},
    {"exclude-module", required_argument, NULL, OPT_EXCLUDE},
    {"add-data", required_argument, NULL, OPT_ADD_DATA},
    {"collect", required_argument, NULL, OPT_COLLECT},
    {"exclude-data", required_argument, NULL, OPT_EXCLUDE_DATA},
    {"json", no_argument, NULL, OPT_JSON},
    {"entry", required_argument, NULL, OPT_ENTRY},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"trace-timeout", required_argument, NULL, OPT_TRACE_TIMEOUT},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"link-libpython", no_argument, NULL, OPT_LINK_LIBPYTHON},
    {"carry-glibc", no_argument, NULL, OPT_CARRY_GLIBC},
    {"debug-ranges", no_argument, NULL, OPT_DEBUG_RANGES},
    {NULL, 0, NULL, 0},
};

static int set_string(char **slot, const char *v, const char *flag, struct err *err)
{
    char *c;
    if (!*v)
        return err_usage(err, "%s needs a non-empty value", flag);
    if (!(c = strdup(v)))
        return err_set(err, ENOMEM, "out of memory");
    free(*slot);
    *slot = c;
    return 0;
}

/* A dotted module name.  Python allows any name through import_module()
 * (_sysconfigdata__x86_64-linux-gnu, mypyc's hash-named modules), so
 * anything goes but empty parts, '/' and white space. */
static int check_module(const char *v, const char *flag, struct err *err)
{
    if (!*v)
        return err_usage(err, "%s needs a module name", flag);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c <= ' ' || c == 0x7f || (c == '.' && (p == v || !p[1] || p[1] == '.')))
            return err_usage(err, "%s '%s' is not a module name", flag, v);
    }
    return 0;
}

bool cli_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* --name: a control character would break the binary's file name and the
 * one-line messages it prints under that name.  The value is shown with
 * '?' for each, so the error stays one line. */
static int check_name(const char *v, struct err *err)
{
    if (!cli_has_control(v))
        return 0;
    char *shown = strdup(v);
    if (!shown)
        return err_set(err, ENOMEM, "out of memory");
    for (unsigned char *p = (unsigned char *)shown; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    err_usage(err, "--name '%s' has a control character (shown as '?'); give a name of printable characters",
              shown);
    free(shown);
    return -1;
}

/* A dotted Python name: identifier parts (ASCII) joined by single dots.
 * --entry's parts go into the generated entry script, so nothing else. */
bool cli_dotted_name(const char *v, size_t n)
{
    bool start = true;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '.') {
            if (start || i + 1 == n)
                return false;
            start = true;
        } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!start && c >= '0' && c <= '9')) {
            start = false;
        } else {
            return false;
        }
    }
    return true;
}

/* SRC:DEST with DEST relative and without "..": checked here, SRC's
 * existence when the build reads it. */
static int check_add_data(const char *v, struct err *err)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || !colon[1])
        return err_usage(err, "--add-data '%s': expected SRC:DEST (DEST '.' for the top)", v);
    const char *dest = colon + 1;
    if (dest[0] == '/')
        return err_usage(err, "--add-data '%s': DEST must be relative to sys._MEIPASS", v);
    for (const char *p = dest; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return err_usage(err, "--add-data '%s': DEST may not contain '..'", v);
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

static int push(struct strvec *sv, const char *v, struct err *err)
{
    return strvec_push(sv, v) != 0 ? err_set(err, ENOMEM, "out of memory") : 0;
}

static int parse_double(const char *v, const char *flag, double min_excl, double max,
                        double *out, struct err *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d <= min_excl || d > max)
        return err_usage(err, "%s '%s': expected a number above %.10g and at most %.10g", flag, v,
                         min_excl, max);
    *out = d;
    return 0;
}

static int parse_long(const char *v, const char *flag, long min, long max, long *out,
                      struct err *err)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return err_usage(err, "%s '%s': expected a whole number from %ld to %ld", flag, v, min, max);
    *out = n;
    return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, struct err *err)
{
    int c;

    memset(o, 0, sizeof *o);
    o->cpus = 0.1;
    o->instances = 1;
    o->kill_grace = -1;
    o->trace_seconds = 10;
    o->compress = PACK_LEVEL_DEFAULT;
    optind = 0; /* reset getopt, so the parser can run more than once (tests) */
    opterr = 0;
    if (argc > 1 && (strcmp(argv[1], "inspect") == 0 || strcmp(argv[1], "verify") == 0)) {
        o->action = argv[1][0] == 'i' ? CLI_INSPECT : CLI_VERIFY;
        argv++; /* the subcommand is argv[0] for getopt now */
        argc--;
    }
    while ((c = getopt_long(argc, argv, ":o:n:qvh", long_opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_ONEFILE: o->onefile = true; break;
        case OPT_PYTHON: rc = set_string(&o->python, optarg, "--python", err); break;
        case 'o': rc = set_string(&o->output, optarg, "--output", err); break;
        case 'n':
            if ((rc = set_string(&o->name, optarg, "--name", err)) == 0)
                rc = check_name(o->name, err);
            break;
        case 'q': o->verbosity = -1; break;
        case 'v': o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1; break;
        case 'h': o->action = CLI_HELP; return 0;
        case OPT_VERSION: o->action = CLI_VERSION; return 0;
        case OPT_NO_MARATHON: o->no_marathon = true; break;
        case OPT_METRONOME: o->metronome = true; break;
        case OPT_URL: rc = set_string(&o->url, optarg, "--url", err); break;
        case OPT_MARATHON_ID: rc = set_string(&o->marathon_id, optarg, "--marathon-id", err); break;
        case OPT_CPUS: rc = parse_double(optarg, "--cpus", 0, 1024, &o->cpus, err); break;
        case OPT_MEM: rc = parse_double(optarg, "--mem", 0, 1 << 24, &o->mem, err); break;
        case OPT_DISK: rc = parse_double(optarg, "--disk", 0, 1 << 30, &o->disk, err); break;
        case OPT_INSTANCES: rc = parse_long(optarg, "--instances", 0, 1000000, &o->instances, err); break;
        case OPT_FETCH: o->fetch = true; break;
        case OPT_FETCH_CACHE: o->fetch = o->fetch_cache = true; break;
        case OPT_HEALTH_PATH:
            rc = set_string(&o->health_path, optarg, "--health-path", err);
            if (rc == 0 && optarg[0] != '/')
                rc = err_usage(err, "--health-path '%s' must start with '/'", optarg);
            break;
        case OPT_KILL_GRACE: rc = parse_long(optarg, "--kill-grace", 0, 86400, &o->kill_grace, err); break;
        case OPT_ENV:
            if (!strchr(optarg, '=') || optarg[0] == '=')
                rc = err_usage(err, "--env '%s': expected KEY=VALUE", optarg);
            else if (strvec_push(&o->env, optarg) != 0)
                rc = err_set(err, ENOMEM, "out of memory");
            break;
        case OPT_ARGS:
            free(o->args);
            o->args = strdup(optarg);
            if (!o->args)
                rc = err_set(err, ENOMEM, "out of memory");
            break;
        case OPT_JSON: o->json = true; break;
        case OPT_SHARED_LIBPYTHON: o->shared_libpython = true; break;
        case OPT_LINK_LIBPYTHON: o->link_libpython = true; break;
        case OPT_CARRY_GLIBC: o->carry_glibc = true; break;
        case OPT_DEBUG_RANGES: o->debug_ranges = true; break;
        case OPT_COMPRESS:
            if (strcmp(optarg, "none") == 0)
                o->compress = 0;
            else if (strcmp(optarg, "max") == 0)
                o->compress = PACK_LEVEL_MAX;
            else if (parse_long(optarg, "--compress", 1, PACK_LEVEL_MAX, &o->compress, err) != 0)
                rc = err_usage(err, "--compress '%s': expected none, max, or a zstd level from 1 to %d", optarg,
                               PACK_LEVEL_MAX);
            break;
        case OPT_ENTRY: {
            /* MOD or MOD:FUNC, FUNC maybe dotted (Class.method) */
            const char *colon = strchr(optarg, ':');
            size_t ml = colon ? (size_t)(colon - optarg) : strlen(optarg);
            if (!cli_dotted_name(optarg, ml) || (colon && !cli_dotted_name(colon + 1, strlen(colon + 1))))
                rc = err_usage(err, "--entry '%s': expected MODULE or MODULE:FUNCTION (e.g. pkg.cli:main)", optarg);
            else
                rc = set_string(&o->entry, optarg, "--entry", err);
            break;
        }
        case OPT_TRACE: o->trace = true; break;
        case OPT_TRACE_TIMEOUT: rc = parse_double(optarg, "--trace-timeout", 0.1, 86400, &o->trace_seconds, err); break;
        case OPT_HIDDEN:
            rc = check_module(optarg, "--hidden-import", err) ? -1 : push(&o->hidden, optarg, err);
            break;
        case OPT_EXCLUDE:
            rc = check_module(optarg, "--exclude-module", err) ? -1 : push(&o->exclude, optarg, err);
            break;
        case OPT_COLLECT:
            rc = check_module(optarg, "--collect", err) ? -1 : push(&o->collect, optarg, err);
            break;
        case OPT_ADD_DATA:
            rc = check_add_data(optarg, err) ? -1 : push(&o->add_data, optarg, err);
            break;
        case OPT_EXCLUDE_DATA:
            rc = !*optarg ? err_usage(err, "--exclude-data needs a pattern") : push(&o->exclude_data, optarg, err);
            break;
        case ':':
            return err_usage(err, "option '%s' needs a value (see bundle --help)", argv[optind - 1]);
        default: {
            /* a long option: unknown (optopt 0), or given a value it does not
             * take (optopt its val, the argument "--name=value") */
            const char *arg = argv[optind - 1];
            size_t len = strncmp(arg, "--", 2) == 0 ? strcspn(arg + 2, "=") : 0;
            /* getopt_long resolved abbreviations already: the option is the
             * one whose val is optopt (--hel=x is --help=x) */
            for (const struct option *lo = long_opts; len && optopt && lo->name; lo++)
                if (lo->val == optopt && lo->has_arg == no_argument && arg[2 + len] == '=')
                    return err_usage(err, "option '--%s' takes no value", lo->name);
            if (optopt == 0)
                return err_usage(err, "unknown option '%.*s' (see bundle --help)",
                                 (int)(len ? len + 2 : strlen(arg)), arg);
            /* a letter of a short-option cluster ("-xv") */
            if (optopt > ' ' && optopt < 0x7f)
                return err_usage(err, "unknown option '-%c' (see bundle --help)", optopt);
            return err_usage(err, "unknown option: byte 0x%02x in a short option (see bundle --help)",
                             (unsigned)optopt & 0xff);
        }
        }
        if (rc != 0)
            return -1;
    }
    if (o->shared_libpython && o->link_libpython)
        return err_usage(err, "--shared-libpython and --link-libpython contradict each other: give one");
    if (o->carry_glibc && o->link_libpython)
        return err_usage(err, "--carry-glibc needs the shared libpython: a stub with libpython linked in "
                              "cannot start on an older glibc to use the one it carries (drop --link-libpython)");
    if (o->action == CLI_INSPECT || o->action == CLI_VERIFY) {
        const char *cmd = o->action == CLI_INSPECT ? "inspect" : "verify";
        if (optind >= argc)
            return err_usage(err, "%s needs a bundle to look at (usage: bundle %s FILE)", cmd, cmd);
        if (argc - optind > 1)
            return err_usage(err, "%s takes one file: unexpected '%s'", cmd, argv[optind + 1]);
    }
    if (o->entry && o->action == CLI_BUILD) {
        /* no script: what follows is the traced run's arguments */
        for (int i = optind; i < argc; i++)
            if (!o->trace)
                return err_usage(err, "--entry takes no script: unexpected '%s'", argv[i]);
            else if (push(&o->trace_args, argv[i], err) != 0)
                return -1;
        return 0;
    }
    if (optind >= argc)
        return err_usage(err, "no script given (usage: bundle --onefile SCRIPT)");
    if (argc - optind > 1 && !(o->trace && o->action == CLI_BUILD))
        return err_usage(err, "one script at a time: unexpected '%s'%s", argv[optind + 1],
                         o->action == CLI_BUILD ? " (arguments for --trace come after it)" : "");
    for (int i = optind + 1; i < argc; i++)
        if (push(&o->trace_args, argv[i], err) != 0)
            return -1;
    o->script = strdup(argv[optind]);
    if (!o->script)
        return err_set(err, ENOMEM, "out of memory");
    if (!o->script[0])
        return err_usage(err, "the script name is empty");
    return 0;
}

void cli_opts_release(struct cli_opts *o)
{
    free(o->script);
    free(o->entry);
    strvec_release(&o->trace_args);
    free(o->python);
    free(o->output);
    free(o->name);
    free(o->url);
    free(o->marathon_id);
    free(o->health_path);
    free(o->args);
    strvec_release(&o->env);
    strvec_release(&o->hidden);
    strvec_release(&o->exclude);
    strvec_release(&o->add_data);
    strvec_release(&o->collect);
    strvec_release(&o->exclude_data);
    memset(o, 0, sizeof *o);
}
