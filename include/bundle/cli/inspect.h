/* inspect.h - what is inside a bundle, and whether it is intact. */
#ifndef BUNDLE_INSPECT_H
#define BUNDLE_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include "bundle/util/err.h"

/* Prints the contents of the bundle at path to out: a table, or one JSON
 * object.  Returns 0, or -1 with err set (not a bundle, unreadable,
 * malformed). */
int inspect_run(const char *path, bool json, FILE *out, struct err *err);

/* Checks the trailer, the archive's structure, the SHA-256 and the CRC-32Cs of the
 * bundle at path.  Returns 0 (intact), or -1 with err saying what is
 * wrong. */
int verify_run(const char *path, struct err *err);

#endif
