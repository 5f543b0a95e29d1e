/* dists_impl.h - what dists.c takes from dists_parse.c beside dists.h's
 * parsers (one way: dists_parse.c uses nothing of dists.c).  Private to
 * src/analyze. */
#ifndef BUNDLE_DISTS_IMPL_H
#define BUNDLE_DISTS_IMPL_H

#include "bundle/analyze/dists.h"

/* s without its leading blanks and trailing blanks and CR, cut in place. */
char *dists_trim(char *s);

#endif
