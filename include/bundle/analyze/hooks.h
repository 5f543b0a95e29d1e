/* hooks.h - what well-known packages import without an import statement.
 *
 * C extension modules import Python modules by name from C, libraries
 * import plugins from strings (importlib.import_module(name)), and some
 * read their own metadata.  For each such module the table lists what must
 * come along when the module is bundled.  Found by running the packages
 * (tests/e2e/test_packages.sh compares what plain python imports with what
 * a bundle holds).
 */
#ifndef BUNDLE_HOOKS_H
#define BUNDLE_HOOKS_H

#include <stddef.h>

struct hook {
    const char *module;        /* when this module is bundled... */
    const char *const *hidden; /* ...bundle these too (NULL-terminated) */
};

/* A package that a bundled module serves under another name, by a finder
 * of its own: while `module` is bundled, a module `alias` or `alias.X`
 * brings `real` or `real.X` too (what that finder loads instead). */
struct hook_alias {
    const char *module;
    const char *alias;
    const char *real;
};

extern const struct hook_alias hooks_aliases[];
extern const size_t hooks_aliases_count;

/* The hook of module, or NULL. */
const struct hook *hooks_find(const char *module);

/* The whole table (for tests and --help). */
extern const struct hook hooks_table[];
extern const size_t hooks_count;

#endif
