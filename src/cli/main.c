/* main.c - parse the command line, run the build, print the one error. */
#include <stdio.h>

#include "bundle/build.h"
#include "bundle/cli.h"
#include "bundle/inspect.h"
#include "bundle/util.h"

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
            if (opts.json) {
                printf("{\"ok\": false, \"status\": %d, \"error\": ", status);
                util_json_str(stdout, err.msg);
                printf("}\n");
            }
        }
        break;
    }
    cli_opts_release(&opts);
    return status;
}
