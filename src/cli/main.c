/* main.c - parse the command line, run the build, print the one error. */
#include <errno.h>
#include <stdio.h>

#include "bundle/build.h"
#include "bundle/cli/cli.h"
#include "bundle/cli/inspect.h"
#include "bundle/util/jsonout.h"

/* --json when the build failed: {"ok": false, "status", "error"} on stdout
 * (the message is on stderr already, so a failure here adds one more). */
static void print_json_error(int status, const char *msg)
{
    struct err err = {0};
    bool failed = false;
    json_t *doc = json_object();
    jsonout_set(doc, "ok", json_false(), &failed);
    jsonout_set(doc, "status", json_integer(status), &failed);
    jsonout_set(doc, "error", jsonout_text(msg), &failed);
    if (failed)
        err_set(&err, ENOMEM, "cannot build the json report");
    if (failed || jsonout_print(doc, stdout, &err) != 0)
        fprintf(stderr, "bundle: %s\n", err.msg);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    struct cli_opts opts;
    struct err err = {0};
    int status = 0;

    if (cli_parse(argc, argv, &opts, &err) != 0) {
        fprintf(stderr, "bundle: %s\n", err.msg);
        cli_opts_release(&opts);
        return 2;
    }
    switch (opts.action) {
    case CLI_HELP:
        fputs(cli_usage, stdout);
        break;
    case CLI_VERSION:
        printf("bundle %s\n", BUNDLE_VERSION);
        break;
    case CLI_INSPECT:
        if (inspect_run(opts.script, opts.json, stdout, &err) != 0) {
            fprintf(stderr, "bundle: %s\n", err.msg);
            status = 1;
        }
        break;
    case CLI_VERIFY:
        if (verify_run(opts.script, &err) != 0) {
            fprintf(stderr, "bundle: %s\n", err.msg);
            status = 1;
        } else if (opts.verbosity >= 0) {
            printf("%s: ok\n", opts.script);
        }
        break;
    case CLI_BUILD:
        if (build_run(&opts, &err) != 0) {
            fprintf(stderr, "bundle: %s\n", err.msg);
            status = err.status ? err.status : 1;
            if (opts.json)
                print_json_error(status, err.msg);
        }
        break;
    }
    cli_opts_release(&opts);
    return status;
}
