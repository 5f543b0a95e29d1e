/* scan.h - find the import statements of Python source, without Python.
 *
 * A tokenizer that understands what can hide an "import" word: strings of
 * every prefix (r b u f and their pairs, any case), triple quotes, f-string
 * replacement fields (nested quotes too, as 3.12 allows), comments, backslash
 * continuations, and bracket nesting.  It yields
 *     import a.b as c, d            -> "a.b" and "d"
 *     from ..x import y, z          -> module "x", level 2, names {y, z}
 *     from . import z               -> module "", level 1, names {z}
 *     from m import *               -> names {"*"}
 *     __import__("m"), importlib.import_module("m")   (string literal only)
 * and the hints below (SCAN_STRING ... SCAN_SELFDIR) from anywhere in the code
 * with the block context the statement sits in, so a caller can tell a
 * missing optional import (inside try:/if/def) from a required one.
 *
 * The input is hostile: any bytes, NUL included, of any length.
 */
#ifndef BUNDLE_SCAN_H
#define BUNDLE_SCAN_H

#include <stddef.h>

#include "bundle/util/err.h"

enum {
    SCAN_IN_TRY = 1u << 0,  /* inside a try: / except: / else: (of a try) / finally: body */
    SCAN_IN_IF = 1u << 1,   /* inside if / elif / else (of if, for, while) / while / for /
                               with / match / case, async for / async with */
    SCAN_IN_DEF = 1u << 2,  /* inside a def body (imported lazily, if ever) */
    SCAN_IN_CLASS = 1u << 3,/* inside a class body */
    SCAN_DYNAMIC = 1u << 4, /* came from __import__("m") / importlib.import_module("m") */
    SCAN_IN_SCRIPT = 1u << 5, /* runs only when the module is run as a script: inside
                                 if __name__ == "__main__": or def _test/_main/_demo;
                                 or never: inside if TYPE_CHECKING: */
    SCAN_IN_MAIN = 1u << 6,   /* inside a def named main (a module's command-line entry) */
    /* Not import statements: what the resolver may make soft imports of. */
    SCAN_STRING = 1u << 7,  /* a plain string literal shaped like a dotted name (letters,
                               digits, '_', '.', '-'): maybe a module named by a string,
                               maybe an entry-point group */
    SCAN_PREFIX = 1u << 8,  /* the literal head of a computed module name: "pkg.sub._" of
                               import_module("pkg.sub._" + x) or f"pkg.sub._{x}" (with
                               SCAN_DYNAMIC), or of a format string "pkg.backend_{}" / "pkg.%s"
                               anywhere (without); level > 0 for "." + x; with
                               SCAN_SELFDIR when the same function lists a
                               directory (plugins found by listing their package) */
    SCAN_DIST = 1u << 9,    /* a distribution named by a literal: distribution("d"),
                               version("d"), get_distribution("d"), require("d"), ...;
                               load_entry_point("d==1", "group", "name") gives names
                               {group, name} */
    SCAN_SELFDIR = 1u << 10,/* the module lists its own directory by path (__file__ or
                               __path__ and listdir/scandir/walk/glob/iterdir in one
                               function, or __path__[0]); module "", once per module;
                               or module X for an "X.__path__" listed so (a package
                               the module imported as X), once per module */
    SCAN_GUARDED = 1u << 12, /* an import in the body of a try: whose handlers catch
                               ImportError (or ModuleNotFoundError, or Exception): the
                               code goes on, in another way, without the module */
    SCAN_IN_EXCEPT = 1u << 13, /* inside an except: handler that does not catch ImportError:
                               runs only when something went wrong */
    SCAN_PROBE = 1u << 14,   /* find_spec("m"): asks whether m is there, imports nothing */
    SCAN_PROTOCOL = 1u << 11,/* module "NAME" of getattr(m, "NAME") in a function that
                               imports a wholly computed name (import_module(name)):
                               a loader of plugins that define NAME (Sphinx's
                               extensions define setup) */
};

/* The bits that make a scan_import a hint, not an import statement. */
#define SCAN_HINTS (SCAN_STRING | SCAN_PREFIX | SCAN_DIST | SCAN_SELFDIR | SCAN_PROTOCOL)

struct scan_import {
    char *module;   /* dotted name; "" for "from . import x" (owned) */
    int level;      /* number of leading dots; 0 = absolute */
    char **names;   /* "from M import a, b": {"a", "b"}; "*" for a star import;
                       NULL for plain "import M" (owned, nnames entries) */
    size_t nnames;
    int line;       /* 1-based line where the statement starts */
    unsigned flags; /* SCAN_* bits, OR-ed over every enclosing block */
    int try_id;     /* the innermost try: body it sits in, numbered from 1 in
                       source order (0: none) */
    int fallback_of;/* inside an "except ImportError:" (or ModuleNotFoundError)
                       handler: the try_id of its try (0: none).  A fallback
                       runs only where the try's imports failed */
};

struct scan_result {
    struct scan_import *imports; /* in source order (owned) */
    size_t n;
};

/* Scans buf[0..len).  On success fills *out (caller releases it with
 * scan_result_release) and returns 0.  On malformed source (unterminated
 * string, unbalanced bracket, NUL byte) returns -1, sets err->msg to a message
 * without the file name and sets *err_line to the 1-based line of the fault;
 * *out is left empty. */
int scan_source(const char *buf, size_t len, struct scan_result *out,
                int *err_line, struct err *err);

/* Frees everything *r owns and leaves it empty.  Safe on an empty result. */
void scan_result_release(struct scan_result *r);

#endif
