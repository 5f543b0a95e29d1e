/* pyc.h - bytecode for the target interpreter.
 *
 * A valid __pycache__ entry (right magic, timestamp header matching the
 * source's mtime and size) is reused where it holds what we would make
 * (see pyc_build); then what an earlier build compiled from the same
 * source with the same interpreter comes from the builder's cache
 * (util/buildcache.h); everything else is compiled in ONE batch by the
 * target interpreter, and kept in that cache.  The 16-byte header of every result is
 * normalised (flags 0, mtime 0, source size): zipimport does not check it
 * when no source sits beside the .pyc, and the build stays reproducible.
 */
#ifndef BUNDLE_PYC_H
#define BUNDLE_PYC_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/util/err.h"
#include "bundle/analyze/probe.h"

struct pyc_job {
    const char *src;    /* the .py file */
    const char *dfile;  /* name compiled into the code (tracebacks); NULL = src */
    bool force;         /* compile even if __pycache__ is valid (app code) */
    /* results */
    char *data;         /* the .pyc bytes (owned) */
    size_t len;
    char *error;        /* "FILE:LINE: message" when it does not compile (owned) */
    bool reused;        /* came from __pycache__ */
    bool cached;        /* came from the builder's cache */
};

/* Fills data or error of every job.  Without debug_ranges (Python 3.11 and
 * later) the code carries line numbers but no column table (-X
 * no_debug_ranges): a quarter fewer compressed bytes, and what only a
 * traceback's ^^^ marks under a source line use, where the host has the
 * source.  Returns 0, or -1 with err set when the interpreter could not be
 * run at all. */
int pyc_build(const struct probe *p, bool debug_ranges, struct pyc_job *jobs, size_t n, struct err *err);

void pyc_jobs_release(struct pyc_job *jobs, size_t n);

#endif
