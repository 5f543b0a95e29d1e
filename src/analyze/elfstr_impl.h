/* elfstr_impl.h - what elfstr.c (the candidate strings) takes from
 * elfstr_ranges.c (the ELF tables: which bytes are data), one way.
 * Private to src/analyze. */
#ifndef BUNDLE_ELFSTR_IMPL_H
#define BUNDLE_ELFSTR_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/analyze/elfstr.h"

/* An ELF image in memory: its bytes, class and byte order. */
struct image {
    const unsigned char *p;
    size_t len;
    int is64, msb;
};

/* Byte ranges of an image, [off, off + len) each. */
struct range {
    uint64_t off, len;
};

struct ranges {
    struct range *v;
    size_t n;
};

/* Checks the ELF header and sets im's class and byte order.  Returns 0, or
 * -1 with *why. */
int elfstr_check_header(struct image *im, const char **why);

/* The data sections into r (r->v allocated, the caller frees it).  Returns
 * 0, or 1 when the section table is unusable (the caller reads the segments
 * instead), -1 (ENOMEM). */
int elfstr_section_ranges(const struct image *im, struct ranges *r);

/* The PT_LOAD segments that are not executable into r (r->v allocated, the
 * caller frees it).  Returns 0 or -1 (ENOMEM). */
int elfstr_segment_ranges(const struct image *im, struct ranges *r);

/* Sorts the ranges and merges those that overlap. */
void elfstr_ranges_merge(struct ranges *r);

#endif
