/* resolve_impl.h - what the files of the resolver share.  Private to
 * src/analyze.  They depend one way:
 *   resolve_find.c   the module table, finding a name along the path, the
 *                    small name helpers; uses none of the others
 *   resolve_rules.c  what no import statement says (scan.h's hints), and
 *                    pickled data; uses resolve_find.c
 *   resolve_ext.c    what an extension module's C code imports; uses
 *                    resolve_find.c
 *   resolve.c        the walk and resolve.h's entry points; uses all three
 */
#ifndef BUNDLE_RESOLVE_IMPL_H
#define BUNDLE_RESOLVE_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/analyze/resolve.h"
#include "bundle/analyze/scan.h"
#include "bundle/util/strvec.h"

#define SOURCE_MAX (64u << 20) /* the largest source file read */

/* ---- resolve_find.c ---- */

/* Appends a module; takes ownership of name and path.  Returns its index or -1. */
long resolve_add_module(struct graph *g, char *name, enum mod_kind kind, char *path);

/* A line for g->warnings (a warning of the build) or g->notes (what the
 * import rules added, for -v); a lost one is no error. */
void resolve_warn(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resolve_note(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* a "/" b c, malloc'ed, or NULL. */
char *resolve_join3(const char *a, const char *b, const char *c);

/* Whether module m has a __path__ (a package, a namespace package, an
 * extension package). */
bool resolve_is_package(const struct module *m);

/* 1 if path is dir or below it. */
bool resolve_under_dir(const char *path, const char *dir);

/* Finds (and registers) a module.  optional: the import sat in try/if/def.
 * soft: not finding it is no error (a "from pkg import name" attribute).
 * Returns the index, or -1 when not found / not importable. */
long resolve_request(struct graph *g, const char *name, bool optional, long importer, int line,
                     bool soft);

/* The deepest module along a dotted name that exists ("pkg.mod" of
 * "pkg.mod.Class"), requested softly.  Returns its index or -1. */
long resolve_request_deepest(struct graph *g, const char *name, long importer, int line);

/* The package a relative import in module m is relative to, level dots up
 * (malloc'ed), or NULL. */
char *resolve_relative_base(const struct module *m, int level);

/* The package a module's relative names start from (itself for a
 * package), or -1 for a top-level module. */
long resolve_own_package(const struct graph *g, size_t mi);

/* Whether name is, or is below, a development tool that library code
 * imports lazily (pydoc, unittest, numpy.testing...): left out then. */
bool resolve_lazily_denied(const char *name);

/* The top-level name of a dotted name, in buf. */
const char *resolve_top_of(const char *name, char *buf, size_t size);

/* strcmp for qsort and bsearch over char *; whether sorted v holds s. */
int resolve_cmp_strp(const void *a, const void *b);
bool resolve_sorted_has(const struct strvec *v, const char *s);

/* Whether n names a test suite (or "__main__"): never what code loads by name. */
bool resolve_test_name(const char *n);

/* ---- resolve_rules.c: the rules for scan.h's hints, for follow_import ---- */

void resolve_string_rule(struct graph *g, size_t mi, const struct scan_import *im);
void resolve_string_pairs_rule(struct graph *g, size_t mi, const struct scan_result *r);
void resolve_prefix_rule(struct graph *g, size_t mi, const struct scan_import *im);
void resolve_dist_rule(struct graph *g, size_t mi, const struct scan_import *im);
void resolve_selfdir_rule(struct graph *g, size_t mi, const char *x);
void resolve_protocol_rule(struct graph *g, size_t mi, const char *name);

/* Marks package pi "disk" and brings all its submodules (importer: who
 * reaches its directory by path, or -1). */
void resolve_make_disk(struct graph *g, size_t pi, long importer);

/* Requests the modules of package top (index pi) that the pickle files
 * under dir name. */
void resolve_pickle_walk(struct graph *g, const char *dir, const char *top, size_t pi, int depth);

/* ---- resolve_ext.c ---- */

/* Requests what the C code of extension module mi names and may import. */
void resolve_ext_rule(struct graph *g, size_t mi);

#endif
