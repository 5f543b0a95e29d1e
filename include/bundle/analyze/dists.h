/* dists.h - the installed distributions along the target's sys.path.
 *
 * What importlib.metadata sees: every *.dist-info and *.egg-info directory
 * of every search-path directory (the first of a name wins, as it does for
 * importlib.metadata.distribution).  For each: its name, the top-level
 * modules it installs (top_level.txt, else its RECORD), the distributions it
 * requires (Requires-Dist / requires.txt, extras left out: those are
 * optional by definition) and its entry points.  The resolver uses it to
 *   - tell an import between two distributions that the importer does not
 *     declare (an optional feature: not followed when made lazily),
 *   - bring a distribution's metadata and entry point targets when code
 *     asks importlib.metadata / pkg_resources for them by a literal name,
 *   - find every distribution that provides an entry-point group that code
 *     queries (plugins).
 * The files are hostile input: any bytes, of any size (capped on read). */
#ifndef BUNDLE_DISTS_H
#define BUNDLE_DISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/util/err.h"
#include "bundle/util/strvec.h"

struct dist_ep {
    char *group;  /* e.g. "console_scripts" (owned) */
    char *name;   /* e.g. "yamllint" (owned) */
    char *module; /* the module part of the value: "yamllint.cli" (owned) */
    char *attr;   /* the attribute part, "run" or "" (owned) */
};

struct dist {
    char *name;            /* normalized (PEP 503: lower case, runs of -_. as '_') (owned) */
    char *dir;             /* the metadata directory (owned) */
    struct strvec tops;    /* top-level module names it installs */
    struct strvec requires;/* normalized names it requires, extras left out */
    struct strvec extras;  /* normalized names its feature extras require ("default",
                              not "test", "doc", "dev"...): what it may import to
                              offer a feature */
    struct dist_ep *eps;   /* its entry points (owned, neps) */
    size_t neps;
    bool wanted;           /* resolver: its metadata must be bundled */
};

struct dist_top {
    const char *top;       /* a top-level name (in a dist's tops) */
    struct dist *d;
};

struct dists {
    struct dist *v;        /* (owned, n) */
    size_t n, cap;
    struct dist_top *tops; /* every top-level name, sorted, for dists_by_top (owned) */
    size_t ntops;
};

/* Reads every distribution in the directories roots[0..n).  A directory or
 * file that cannot be read is passed over.  Returns 0, or -1 with err (out
 * of memory).  Caller releases d with dists_release, also on failure. */
int dists_load(struct dists *d, const char *const *roots, size_t nroots, struct err *err);

/* The distribution of that name (any spelling: "PyYAML", "pyyaml"), or NULL. */
struct dist *dists_by_name(const struct dists *d, const char *name);

/* The distribution that installs top-level module top, or NULL. */
struct dist *dists_by_top(const struct dists *d, const char *top);

/* Whether from requires to, directly or through what it requires. */
bool dists_requires(const struct dists *d, const struct dist *from, const struct dist *to);

/* Normalizes a distribution name into out (at most outsz bytes with the NUL;
 * longer names are cut).  A version or marker after the name ("pkg==1.0",
 * "pkg>=2; extra") is left out. */
void dists_normalize(const char *name, char *out, size_t outsz);

/* Parses entry_points.txt text into *eps (caller frees with
 * dists_eps_free).  Returns 0 or -1 (out of memory).  Exposed for tests. */
int dists_parse_entry_points(const char *text, struct dist_ep **eps, size_t *neps);
void dists_eps_free(struct dist_ep *eps, size_t n);

/* Parses METADATA / PKG-INFO headers (Requires-Dist) or requires.txt
 * (egg-info) text, adding the required names without extras to out.
 * Returns 0 or -1 (out of memory).  Exposed for tests. */
int dists_parse_requires(const char *text, bool egg_requires_txt, struct strvec *out);

/* The requirements of text's feature extras (not those whose name says
 * tests, docs, development, linting, typing or building), normalized and
 * appended to out once each.  Returns 0, or -1 out of memory. */
int dists_parse_extras(const char *text, bool egg_requires_txt, struct strvec *out);

void dists_release(struct dists *d);

#endif
