/* main.c - parse the command line, run the build, print the one error. */
#include <stdio.h>

#include "bundle/build.h"
#include "bundle/cli.h"

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
    case CLI_BUILD:
        if (build_run(&opts, &err) != 0) {
            fprintf(stderr, "bundle: %s\n", err.msg);
            status = err.status ? err.status : 1;
        }
        break;
    }
    cli_opts_release(&opts);
    return status;
}
