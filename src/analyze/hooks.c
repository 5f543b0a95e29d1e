/* hooks.c - the table of hidden imports; see hooks.h.  Keep it sorted by
 * module name in strcmp order ('_' sorts after upper case, before lower
 * case): hooks_find does a binary search, and tests/unit/analyze/test_hooks.c
 * checks the order.
 *
 * How the entries were found: for each package, a small app that really
 * uses it was run by plain python, recording sys.modules; the same app was
 * bundled (bundle -vvv lists the modules) and run with no Python on the
 * machine (tests/e2e/test_packages.sh, test_versions.sh and test_stdlib.sh
 * keep those apps).  Modules that plain python imported and the bundle
 * lacked, and failures in the sandbox, were traced to the code that
 * imports them.  The strings of every extension module (numpy's, the
 * stdlib's lib-dynload) were also searched for module names that a
 * bundle without them would miss (C and Cython code imports by name).
 *
 * An entry names only modules that are imported at run time without an
 * import statement the scanner can see: from C code, or by a name built
 * at run time.  Hidden modules are looked up softly: one the target
 * interpreter does not have (another version, a build without it) is
 * skipped without a word.
 *
 * Checked, and needing no entry (whatever they import dynamically is also
 * named by an import statement somewhere): flask, werkzeug, jinja2, click,
 * itsdangerous, markupsafe; kafka-python (kafka.vendor.six.moves is used
 * for `range` only, a builtin); requests, idna, chardet, certifi
 * (requests' __import__(package) loop names packages it imports anyway);
 * charset_normalizer's import_module("encodings." + name) (every bundle
 * holds all of encodings); numpy's C imports of numpy.core._methods,
 * _internal, _dtype, _dtype_ctypes, _exceptions, _ufunc_config,
 * arrayprint, numpy.linalg and numpy.compat; logging.config (dictConfig
 * resolves handler classes by name, but logging.config itself imports
 * logging.handlers, in 3.8 to 3.13); multiprocessing with fork, spawn and
 * forkserver (every Popen module is imported inside a function, which the
 * scanner follows); concurrent.futures (its lazy __getattr__ imports are
 * statements); json, email, http, asyncio and its C part, xml.sax (an
 * `if 0: import xml.sax.expatreader` is there for module finders),
 * xml.etree, importlib.resources and importlib.metadata.
 *
 * Not expressible here: mypyc-compiled wheels (charset_normalizer 3.x from
 * PyPI) import a top-level runtime module whose name is a hash
 * ("81d243bd2c585b0f4821__mypyc") that changes with every release. */
#include "bundle/analyze/hooks.h"

#include <stdlib.h>
#include <string.h>

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

const struct hook hooks_table[] = {
    /* datetime.strptime(): the C datetime module imports _strptime */
    {"_datetime", LIST("_strptime")},
    /* Connection.iterdump(): the C module imports sqlite3.dump by name */
    {"_sqlite3", LIST("sqlite3.dump")},
    /* dbm.open() tries __import__(name) for each of dbm.gnu, dbm.ndbm,
     * dbm.dumb (and dbm.sqlite3 from 3.13) and takes the first that
     * loads; the wrong one would write files plain python cannot read */
    {"dbm", LIST("dbm.dumb", "dbm.gnu", "dbm.ndbm", "dbm.sqlite3")},
    /* importlib.resources.files() of a namespace package: the frozen
     * import system's NamespaceLoader imports importlib.readers inside a
     * function, which the scan of the import system's own code skips */
    {"importlib.resources", LIST("importlib.readers", "importlib.resources.readers")},
    /* add_newdoc("numpy.core._multiarray_tests", ...) imports that C
     * module by name to attach a docstring, while numpy is imported; today
     * numpy.testing also reaches it, but only from inside a function */
    {"numpy.core._add_newdocs", LIST("numpy.core._multiarray_tests")},
    /* a Cython module: `from secrets import randbits` runs in its C init
     * (default_rng() seeds from it); today something else brings secrets */
    {"numpy.random.bit_generator", LIST("secrets")},
    /* pkg_resources imports pkg_resources.extern.X (and the vendored
     * packages import each other that way too); a meta path importer
     * installed by pkg_resources.extern loads pkg_resources._vendor.X under
     * that name.  These are the ones `import pkg_resources` loads (setuptools
     * 56 to 66; appdirs in the older ones, platformdirs in the newer) */
    {"pkg_resources.extern",
     LIST("pkg_resources._vendor.appdirs", "pkg_resources._vendor.jaraco.context",
          "pkg_resources._vendor.jaraco.functools", "pkg_resources._vendor.jaraco.text",
          "pkg_resources._vendor.more_itertools", "pkg_resources._vendor.packaging.markers",
          "pkg_resources._vendor.packaging.requirements", "pkg_resources._vendor.packaging.specifiers",
          "pkg_resources._vendor.packaging.utils", "pkg_resources._vendor.packaging.version",
          "pkg_resources._vendor.platformdirs", "pkg_resources._vendor.pyparsing")},
    /* six.moves.X: six imports the module X stands for with __import__(name)
     * from its table when the attribute is first used; the scanner sees
     * only "six.moves.queue", which is no file.  Debian's urllib3 uses
     * six.moves queue, http_client and urllib.parse; any other library may
     * use any move, so every Python 3 target is here, but tkinter (a GUI)
     * and dbm.gnu/dbm.ndbm (native libraries) */
    {"six", LIST("_thread", "configparser", "copyreg", "email.mime.base", "email.mime.image",
                 "email.mime.multipart", "email.mime.nonmultipart", "email.mime.text",
                 "html.entities", "html.parser", "http.client", "http.cookiejar", "http.cookies",
                 "http.server", "pickle", "queue", "reprlib", "shlex", "socketserver",
                 "subprocess", "urllib.error", "urllib.parse", "urllib.request",
                 "urllib.response", "urllib.robotparser", "xmlrpc.client", "xmlrpc.server")},
    /* sysconfig.get_config_var() (zoneinfo asks it for TZPATH) imports
     * _sysconfigdata_{abiflags}_{platform}_{multiarch}, a name built at
     * run time: pyenv's builds and python.org's use the first, Debian's
     * python3 the second */
    {"sysconfig", LIST("_sysconfigdata__linux_x86_64-linux-gnu", "_sysconfigdata__x86_64-linux-gnu",
                       "_sysconfigdata__linux_aarch64-linux-gnu", "_sysconfigdata__aarch64-linux-gnu")},
    /* time.strptime(): the C time module imports _strptime */
    {"time", LIST("_strptime")},
    /* urllib3 1.x's vendored six: urllib3 uses the moves queue,
     * http_client and urllib.parse (same mechanism as six above) */
    {"urllib3.packages.six", LIST("http.client", "queue", "urllib.parse")},
    /* getDOMImplementation() imports its well-known implementation,
     * xml.dom.minidom, by a name from a dict */
    {"xml.dom.domreg", LIST("xml.dom.minidom")},
};

const size_t hooks_count = sizeof hooks_table / sizeof hooks_table[0];

const struct hook_alias hooks_aliases[] = {
    /* setuptools imports _distutils_hack.override (and its .pth file does
     * too, where site runs), whose meta path finder loads distutils from
     * setuptools._distutils: setuptools' imports of distutils.X then load
     * setuptools._distutils.X (the stdlib copy, where there is one, stays
     * for SETUPTOOLS_USE_DISTUTILS=stdlib) */
    {"_distutils_hack", "distutils", "setuptools._distutils"},
};

const size_t hooks_aliases_count = sizeof hooks_aliases / sizeof hooks_aliases[0];

static int cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const struct hook *)elt)->module);
}

const struct hook *hooks_find(const char *module)
{
    return bsearch(module, hooks_table, hooks_count, sizeof hooks_table[0], cmp);
}
