/* jsonout.h - every JSON bundle writes goes through jansson, with these
 * helpers.
 *
 * A document is built as json_t values, its keys in the order they are set
 * (jansson keeps insertion order), and dumped by jsonout_dump or
 * jsonout_print with one set of flags, so the same input gives the same
 * bytes.  Building is written in straight lines: jsonout_set and
 * jsonout_append take a value that may be NULL (a constructor that failed)
 * and remember any failure in *failed, checked once before dumping.
 */
#ifndef BUNDLE_JSONOUT_H
#define BUNDLE_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle/util/err.h"

/* A JSON string of s, for text that may not be UTF-8 (file names, what a
 * bundle holds, messages quoting them): each byte that is not part of a
 * well-formed UTF-8 sequence becomes U+FFFD.  NULL when out of memory. */
json_t *jsonout_text(const char *s);

/* A number: an integer when v is whole and below 1e15 in magnitude (the
 * shortest text that reads back as v has no '.' or exponent then), else a
 * real.  NULL when out of memory or v is not finite. */
json_t *jsonout_number(double v);

/* An unsigned count or size: an integer, or (above INT64_MAX, which no
 * sane input reaches) the nearest real.  NULL when out of memory. */
json_t *jsonout_uint(uint64_t v);

/* obj[key] = val (key: UTF-8, klen bytes for setn) and arr += val.  They
 * take val in every case (freed on failure); a NULL val, a NULL obj or arr,
 * or a failure sets *failed. */
void jsonout_set(json_t *obj, const char *key, json_t *val, bool *failed);
void jsonout_setn(json_t *obj, const char *key, size_t klen, json_t *val, bool *failed);
void jsonout_append(json_t *arr, json_t *val, bool *failed);

/* The text of doc, ending in a newline, into *text (malloc'ed, caller
 * frees; untouched on failure): indented by two spaces with indent, else
 * on one line with ", " and ": " between items.  Reals are printed with
 * 15 significant digits (0.1 stays 0.1), or 17 in a document where some
 * real needs them to read back as itself.  doc NULL (its building failed)
 * is an error too.  Returns 0, or -1 with err (out of memory). */
int jsonout_dump(const json_t *doc, bool indent, char **text, struct err *err);

/* jsonout_dump(doc, false) written to out in one piece and flushed.
 * Returns 0, or -1 with err (out of memory, or out cannot be written). */
int jsonout_print(const json_t *doc, FILE *out, struct err *err);

#endif
