/* resolve.h - from an entry script to the closure of modules it imports.
 *
 * Names are resolved the way CPython's PathFinder/FileFinder would along the
 * target's sys.path (with the script's own directory first): a package
 * directory with __init__ wins over a module file, extension modules over
 * source, regular packages over namespace portions.  Every module found with
 * source is scanned (scan.h) and its imports followed, the stdlib included.
 */
#ifndef BUNDLE_RESOLVE_H
#define BUNDLE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/analyze/dists.h"
#include "bundle/util/err.h"
#include "bundle/analyze/probe.h"
#include "bundle/analyze/scan.h"
#include "bundle/util/strvec.h"

enum mod_kind {
    MOD_SOURCE,    /* a .py module */
    MOD_PACKAGE,   /* a package with __init__.py */
    MOD_EXTENSION, /* a C extension module (.so) */
    MOD_BUILTIN,   /* compiled into libpython */
    MOD_NAMESPACE, /* a namespace package (directories, no __init__) */
    MOD_MISSING,   /* imported, but found nowhere */
};

struct module {
    char *name;           /* dotted name (owned) */
    enum mod_kind kind;
    char *path;           /* the file (.py, __init__.py, .so); NULL otherwise (owned) */
    struct strvec search; /* a package's __path__ directories */
    bool is_app;          /* under the script's directory: compiled with a relative
                             name, and its errors fail the build */
    char *app_rel;        /* for app modules: path relative to the script dir (owned) */
    bool optional;        /* MOD_MISSING: every import of it was optional */
    char *importer;       /* the first module that imported it, NULL for roots (owned) */
    int line;             /* ...and the line of that import */
    bool excluded;        /* dropped later (e.g. does not compile) */
    bool collect;         /* --collect: every file of the package comes along */
    bool disk;            /* a package whose code reaches its own directory by path
                             (SCAN_SELFDIR): shipped as files, sources included */
    struct strvec children; /* a package's submodule names on disk, sorted (owned;
                             filled on first use by the string rules) */
    bool listed;          /* children is filled */
    bool hinted;          /* brought by an import rule (a string, a computed import,
                             an entry point), not by an import statement: its own
                             guarded imports into other distributions are optional */
    bool by_string;       /* named only by a string, never imported: an extension
                             module of this kind is a library the package loads
                             by path (ctypes, cffi.dlopen): shipped as a file */
    bool optpath;         /* on an optional path: reached only through an import in an
                             except: handler (an error path: pbr.version's fallback to
                             pbr.packaging) or from a function of its own package (a
                             feature: mypy.report), and from there within its package:
                             its imports into other distributions that its own does
                             not require are deferred, module-level ones included */
    bool processed;       /* its imports were followed */
    size_t *eager;        /* modules its module-level code imports, which run as
                             soon as it is imported: not in a def, not script-only;
                             for the entry script (mods[0]), in a def too */
    size_t neager, ceager;
};

struct graph {
    struct module *mods;  /* mods[0] is the entry script (owned, n) */
    size_t n, cap;
    size_t *table;        /* open-addressing index by name: slot -> mod index + 1 */
    size_t tcap;
    const struct probe *probe;
    struct strvec roots;  /* the search path: script dir, then sys.path dirs */
    char *script_dir;     /* absolute (owned) */
    struct strvec warnings; /* non-fatal problems, one line each (owned) */
    const struct strvec *exclude; /* --exclude-module names: never bundled */
    struct dists dists;   /* the installed distributions along roots */
    struct strvec groups; /* every entry-point group they provide, sorted, but the
                             console and GUI scripts (owned) */
    struct strvec deferred, deferred_by; /* imports not followed: from one
                             distribution into another it does not require, made
                             lazily; target and importer (owned) */
    struct strvec notes;  /* what the import rules added, one line each, for -v (owned) */
    struct strvec stdlib_tops; /* the stdlib's top-level names, sorted (owned) */
    const struct scan_result *scanning; /* the scan of the module being processed */
    struct strvec protocols;  /* "top:NAME" of each protocol_rule done */
    size_t *redo;         /* modules to process again: no longer optpath (owned) */
    size_t nredo, credo;
    bool stdlib_listed;   /* stdlib_tops is filled */
};

/* Walks the closure of script (module name entry_name) plus the modules
 * named in extra (e.g. what CPython needs to start).  Returns 0, or -1 with
 * err set when the script cannot be read or does not tokenize (message
 * "FILE:LINE: ...").  Caller releases g with graph_release, also on failure. */
int resolve_graph(struct graph *g, const struct probe *probe, const char *script,
                  const char *entry_name, const char *const *extra, size_t nextra,
                  const struct strvec *exclude, struct err *err);

/* Adds a package with every submodule below it, recursively, and marks each
 * of its packages "collect" (all their files come along).  Returns 0, or -1
 * with err (status 2) when name is not a package. */
int resolve_collect(struct graph *g, const char *name, struct err *err);

/* Adds (and follows) one more module by name, as a required import of the
 * bundle itself.  Returns 0, or -1 with err on a fatal error. */
int resolve_add(struct graph *g, const char *name, struct err *err);

/* The same for a module that may not exist (a traced run's): not finding
 * it is no error and records nothing.  Returns 0, or -1 with err. */
int resolve_add_soft(struct graph *g, const char *name, struct err *err);

/* Adds the modules of its own package that a bundled package's pickled
 * data files name (loading a pickle imports the module of each class it
 * holds), then follows them.  Returns 0, or -1 with err. */
int resolve_data_imports(struct graph *g, struct err *err);

/* Marks package idx "disk" (shipped as files, all its submodules bundled),
 * as the scanner's SCAN_SELFDIR does; why: who found it, for -v. */
int resolve_disk(struct graph *g, size_t idx, const char *why, struct err *err);


/* Appends the names of the modules and packages (directories with an
 * __init__.py) that directory dir holds, as an import would find them. */
void resolve_dir_modules(const struct graph *g, const char *dir, struct strvec *out);

/* The submodule and subpackage names of package idx on disk, sorted (listed
 * once, then cached in the graph). */
const struct strvec *resolve_children(struct graph *g, size_t idx);

/* Whether module m is of the interpreter's own standard library (not
 * site-packages, not the app's). */
bool graph_in_stdlib(const struct graph *g, const struct module *m);

/* Index of a module by name, or -1. */
long graph_find(const struct graph *g, const char *name);

void graph_release(struct graph *g);

#endif
