/* hooks.c - the table of hidden imports; see hooks.h.  Keep it sorted by
 * module name (strcmp order: '_' sorts after upper case, before lower
 * case): hooks_find does a binary search, and test_hooks checks the order.
 *
 * Every entry was found by running the package: an app that uses it, run
 * by plain python, then bundled and run with no Python on the machine
 * (tests/e2e/test_packages.sh, test_stdlib.sh, test_versions.sh); an
 * entry names only what was really imported at run time without an
 * import statement the scanner can see (from C code, or by a name built at
 * run time).  The hidden modules are looked up softly: one that the target
 * interpreter does not have (another version, a build without it) is
 * skipped without a word.
 *
 * Checked and needing no entry (what they import is named by an import
 * statement somewhere): numpy (its C code imports numpy.core._methods,
 * _internal, _dtype, _dtype_ctypes, _exceptions, _ufunc_config, arrayprint,
 * numpy.linalg, numpy.compat: all imported by numpy's own Python code),
 * flask, werkzeug, jinja2, click, itsdangerous, markupsafe, kafka-python
 * (kafka.vendor.six.moves is only used for `range`, a builtin),
 * requests/urllib3/idna/chardet/charset_normalizer/certifi (requests'
 * __import__(package) loop names packages it imports anyway;
 * charset_normalizer's import_module("encodings." + name) is covered by
 * the whole encodings package, which every bundle holds), logging.config
 * (dictConfig resolves handler classes by name, but logging.config itself
 * imports logging.handlers), multiprocessing (fork, spawn and forkserver;
 * every Popen module is imported in a function, which the scanner sees),
 * concurrent.futures (its lazy __getattr__ imports are statements), json,
 * email, http, asyncio, xml.sax (an `if 0: import xml.sax.expatreader`
 * is there for module finders). */
#include "bundle/hooks.h"

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

static int cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const struct hook *)elt)->module);
}

const struct hook *hooks_find(const char *module)
{
    return bsearch(module, hooks_table, hooks_count, sizeof hooks_table[0], cmp);
}
