/* build_util.c - the helpers every stage of a build uses (build_impl.h):
 * messages and warnings, zip entries, formatted strings. */
#include "build_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bundle/util/strvec.h"
#include "bundle/util/util.h"

void build_say(const struct build *b, int level, const char *fmt, ...)
{
    va_list ap;
    if (b->o->verbosity < level)
        return;
    fputs(b->tty ? "\r\033[Kbundle: " : "bundle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A warning: printed at verbosity level (0: always but -q), and kept for
 * --json whatever the verbosity. */
void build_warn(struct build *b, int level, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    s = util_vformat(fmt, ap);
    va_end(ap);
    if (!s)
        return;
    build_say(b, level, "warning: %s", s);
    strvec_push_owned(&b->warnings, s);
}

int build_add_entry(struct build *b, char *name, const char *file, const char *data, size_t len,
                     bool strip)
{
    if (!name)
        return err_set(b->err, ENOMEM, "out of memory");
    if (b->nentries == b->centries) {
        size_t cap = b->centries ? b->centries * 2 : 512;
        struct entry *e = realloc(b->entries, cap * sizeof *e);
        if (!e) {
            free(name);
            return err_set(b->err, ENOMEM, "out of memory");
        }
        b->entries = e;
        b->centries = cap;
    }
    b->entries[b->nentries++] = (struct entry){name, file, data, len, strip, NULL};
    return 0;
}

char *build_strdupf(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    s = util_vformat(fmt, ap);
    va_end(ap);
    return s;
}
