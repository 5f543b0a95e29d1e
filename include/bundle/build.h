/* build.h - the driver: options in, dist/NAME (+ JSON) out. */
#ifndef BUNDLE_BUILD_H
#define BUNDLE_BUILD_H

#include "bundle/cli/cli.h"
#include "bundle/util/err.h"

/* Runs a whole build.  Returns 0, or -1 with err set (err->status 1 or 2);
 * on failure nothing is left at the output paths. */
int build_run(const struct cli_opts *opts, struct err *err);

#endif
