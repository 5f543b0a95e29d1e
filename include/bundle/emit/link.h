/* link.h - the stub linked with the interpreter's static libpython.
 *
 * A stub that dlopens a shared libpython needs it on disk: a first start
 * writes it into the cache (5.7 MB for 3.11), and every start pays the
 * dynamic loader's relocation of it.  When the interpreter ships its static
 * libpython (LIBPL/libpythonX.Y.a, as pyenv and Debian do) and a C compiler
 * is at hand, bundle links the stub's objects with it into one executable:
 * libpython is then mapped straight from the bundle file, never copied, and
 * extension modules find its symbols in the executable (--export-dynamic),
 * as with a python3 built without --enable-shared.
 */
#ifndef BUNDLE_LINK_H
#define BUNDLE_LINK_H

#include "bundle/analyze/probe.h"

/* Links the stub with p->libpython_a into a new executable under dir (a
 * private temp dir) with cc.  Returns its path (malloc'ed); or NULL and
 * *why (malloc'ed, one line) says why not: no static libpython, no C
 * compiler, a library with no static form, a result that needs a shared
 * library a host may lack.  The caller then falls back to the prebuilt stub
 * and the shared libpython. */
char *link_stub(const struct probe *p, const char *dir, char **why);

/* The linker flag for library NAME out of `-lNAME`: glibc's own libraries
 * stay shared (every host has them), any other is linked statically
 * ("-l:libNAME.a").  Returns a malloc'ed string or NULL. */
char *link_lib_flag(const char *name);

#endif
