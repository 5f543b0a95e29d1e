/* probe.h - ask the target interpreter, once, for everything bundle needs. */
#ifndef BUNDLE_PROBE_H
#define BUNDLE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "bundle/util/err.h"
#include "bundle/util/strvec.h"

struct probe {
    char *executable;        /* sys.executable (owned) */
    int major, minor, micro; /* sys.version_info */
    uint8_t magic[4];        /* importlib.util.MAGIC_NUMBER */
    char *cache_tag;         /* sys.implementation.cache_tag, e.g. "cpython-311" */
    char *prefix;            /* sys.prefix */
    char *stdlib;            /* sysconfig stdlib dir */
    char *platstdlib;        /* sysconfig platstdlib dir */
    struct strvec path;      /* sys.path, without the script dir entry */
    struct strvec ext_suffixes; /* importlib.machinery.EXTENSION_SUFFIXES */
    struct strvec builtins;  /* sys.builtin_module_names */
    char *libpython;         /* path of the shared libpython the interpreter runs on, "" if static */
    char *libpython_a;       /* its static libpython (LIBPL), or NULL */
    char *link_libs;         /* what a static libpython links with (LIBS SYSLIBS MODLIBS), or NULL */
    bool gil_disabled;       /* a free-threaded build */
};

/* The interpreter to bundle: --python PATH, else $VIRTUAL_ENV's python,
 * else "python3" (looked up in PATH when run).  Returns a malloc'ed string,
 * or NULL with err set (status 2) when --python names no executable file. */
char *probe_choose(const char *opt_python, struct err *err);

/* Runs the interpreter once and fills *p.  Returns 0, or -1 with err set:
 * not runnable, not Python, unsupported version, no shared libpython. */
int probe_run(const char *python, struct probe *p, struct err *err);

/* Parses the probe's output (NUL-separated key/value pairs) into *p, which
 * the caller zeroes first and releases with probe_release afterwards, also
 * after a failure.  Exposed for tests and fuzzing: the input is hostile.
 * Returns 0 or -1 with err. */
int probe_parse(const char *buf, size_t len, struct probe *p, struct err *err);

void probe_release(struct probe *p);

#endif
