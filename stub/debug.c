/* debug.c - the stub's name in its messages, and its start-up trace
 * (BUNDLE_DEBUG=1).  Every other stub file may call stub_debug; this file
 * calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stub.h"

const char *stub_progname = "bundle";
/* The bundle's own file (stub.h): here, below every file that opens it. */
const char *stub_exe = "/proc/self/exe";
static int debug_on;
static struct timespec t0;

void stub_debug_init(int argc, char **argv)
{
    const char *v = getenv("BUNDLE_DEBUG");

    if (argc > 0 && argv[0] && argv[0][0]) {
        const char *slash = strrchr(argv[0], '/');
        stub_progname = slash ? slash + 1 : argv[0];
    }
    debug_on = v && *v && strcmp(v, "0") != 0;
    if (debug_on)
        clock_gettime(CLOCK_MONOTONIC, &t0);
}

void stub_debug(const char *fmt, ...)
{
    struct timespec now;
    va_list ap;

    if (!debug_on)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    flockfile(stderr); /* one line, whichever thread */
    fprintf(stderr, "[%s %8.3f ms] ", stub_progname,
            (double)(now.tv_sec - t0.tv_sec) * 1e3 + (double)(now.tv_nsec - t0.tv_nsec) / 1e6);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

int stub_debugging(void)
{
    return debug_on;
}
