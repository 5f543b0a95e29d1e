/* hooks.c - the table of hidden imports; see hooks.h.  Keep it sorted by
 * module name: hooks_find does a binary search. */
#include "bundle/hooks.h"

#include <stdlib.h>
#include <string.h>

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

const struct hook hooks_table[] = {
    /* dictConfig/fileConfig resolve handler classes from strings */
    {"logging.config", LIST("logging.handlers")},
};

const size_t hooks_count = sizeof hooks_table / sizeof hooks_table[0];

static int cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const struct hook *)elt)->module);
}

const struct hook *hooks_find(const char *module)
{
    return bsearch(module, hooks_table, hooks_count, sizeof hooks_table[0], cmp);
}
