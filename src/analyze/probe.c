#include "bundle/analyze/probe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/util/util.h"

/* Runs in the target interpreter.  Values are raw bytes (os.fsencode), so
 * any path survives; the only separator is NUL, which no path can hold. */
static const char probe_script[] =
    "import sys, os, sysconfig, importlib.util, importlib.machinery\n"
    "o = []\n"
    "def put(k, v):\n"
    "    o.append(k.encode() + b'\\0' + (v if isinstance(v, bytes) else os.fsencode(str(v))) + b'\\0')\n"
    "put('version', '%d.%d.%d' % sys.version_info[:3])\n"
    "put('magic', importlib.util.MAGIC_NUMBER.hex())\n"
    "put('cache_tag', sys.implementation.cache_tag or '')\n"
    "put('executable', sys.executable)\n"
    "put('prefix', sys.prefix)\n"
    "put('stdlib', sysconfig.get_path('stdlib'))\n"
    "put('platstdlib', sysconfig.get_path('platstdlib'))\n"
    "for p in sys.path[1:] if sys.path and sys.path[0] == '' else sys.path:\n"
    "    put('path', os.path.abspath(p))\n"
    "for s in importlib.machinery.EXTENSION_SUFFIXES: put('ext_suffix', s)\n"
    "for m in sys.builtin_module_names: put('builtin', m)\n"
    "# frozen modules with no source anywhere: importable, nothing to bundle\n"
    "for m in ('_frozen_importlib', '_frozen_importlib_external'): put('builtin', m)\n"
    "lib = ''\n"
    "with open('/proc/self/maps') as f:\n"
    "    for line in f:\n"
    "        p = line.split(None, 5)\n"
    "        if len(p) == 6 and os.path.basename(p[5].strip()).startswith('libpython'):\n"
    "            lib = p[5].strip(); break\n"
    "if not lib and sysconfig.get_config_var('Py_ENABLE_SHARED'):\n"
    "    # a static interpreter beside a shared libpython of the same build (Debian)\n"
    "    so = sysconfig.get_config_var('INSTSONAME') or ''\n"
    "    d = sysconfig.get_config_var('LIBDIR') or ''\n"
    "    for c in (os.path.join(d, so), os.path.join(d, sysconfig.get_config_var('MULTIARCH') or '', so)):\n"
    "        if so and os.path.isfile(c): lib = c; break\n"
    "put('libpython', lib)\n"
    "# the static libpython of the same build (link.c), and what it links with\n"
    "d = sysconfig.get_config_var('LIBPL') or ''\n"
    "for n in ('libpython%d.%d-pic.a' % sys.version_info[:2], sysconfig.get_config_var('LIBRARY') or ''):\n"
    "    if n.endswith('.a') and os.path.isfile(os.path.join(d, n)):\n"
    "        put('libpython_a', os.path.join(d, n)); break\n"
    "put('link_libs', ' '.join(str(sysconfig.get_config_var(k) or '') for k in ('LIBS', 'SYSLIBS', 'MODLIBS')))\n"
    "put('gil_disabled', sysconfig.get_config_var('Py_GIL_DISABLED') or 0)\n"
    "put('end', 'ok')\n"
    "sys.stdout.flush(); sys.stdout.buffer.write(b''.join(o))\n";

char *probe_choose(const char *opt_python, struct err *err)
{
    const char *venv = getenv("VIRTUAL_ENV");
    char *p;

    if (opt_python) {
        if (!*opt_python) {
            err_usage(err, "--python needs a path");
            return NULL;
        }
        if (strchr(opt_python, '/') && access(opt_python, X_OK) != 0) {
            err_usage(err, "--python '%s': %s", opt_python, strerror(errno));
            return NULL;
        }
        if (strchr(opt_python, '/') && util_is_dir(opt_python)) {
            err_usage(err, "--python '%s' is a directory, not an interpreter", opt_python);
            return NULL;
        }
        p = strdup(opt_python);
    } else if (venv && *venv) {
        p = util_join(venv, "bin/python3");
        if (p && access(p, X_OK) != 0) {
            free(p);
            p = util_join(venv, "bin/python");
        }
    } else {
        p = strdup("python3");
    }
    if (!p)
        err_set(err, ENOMEM, "out of memory");
    return p;
}

static int parse_magic(const char *hex, uint8_t magic[4])
{
    if (strlen(hex) != 8)
        return -1;
    for (int i = 0; i < 8; i++)
        if (!isxdigit((unsigned char)hex[i]))
            return -1;
    for (int i = 0; i < 4; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        magic[i] = (uint8_t)v;
    }
    return 0;
}

static int set_str(char **slot, const char *v)
{
    char *c = strdup(v);
    if (!c)
        return -1;
    free(*slot);
    *slot = c;
    return 0;
}

int probe_parse(const char *buf, size_t len, struct probe *p, struct err *err)
{
    size_t i = 0;
    bool ended = false, have_version = false, have_magic = false;

    while (i < len) {
        const char *key = buf + i;
        const char *knul = memchr(key, '\0', len - i);
        if (!knul)
            break;
        const char *val = knul + 1;
        if ((size_t)(val - buf) >= len)
            break;
        const char *vnul = memchr(val, '\0', len - (size_t)(val - buf));
        if (!vnul)
            break;
        i = (size_t)(vnul - buf) + 1;
        int rc = 0;
        if (strcmp(key, "version") == 0) {
            if (sscanf(val, "%d.%d.%d", &p->major, &p->minor, &p->micro) != 3)
                return err_set(err, 0, "its version is unreadable");
            have_version = true;
        } else if (strcmp(key, "magic") == 0) {
            if (parse_magic(val, p->magic) != 0)
                return err_set(err, 0, "its bytecode magic is unreadable");
            have_magic = true;
        } else if (strcmp(key, "cache_tag") == 0) {
            rc = set_str(&p->cache_tag, val);
        } else if (strcmp(key, "executable") == 0) {
            rc = set_str(&p->executable, val);
        } else if (strcmp(key, "prefix") == 0) {
            rc = set_str(&p->prefix, val);
        } else if (strcmp(key, "stdlib") == 0) {
            rc = set_str(&p->stdlib, val);
        } else if (strcmp(key, "platstdlib") == 0) {
            rc = set_str(&p->platstdlib, val);
        } else if (strcmp(key, "path") == 0) {
            rc = strvec_push(&p->path, val);
        } else if (strcmp(key, "ext_suffix") == 0) {
            rc = strvec_push(&p->ext_suffixes, val);
        } else if (strcmp(key, "builtin") == 0) {
            rc = strvec_push(&p->builtins, val);
        } else if (strcmp(key, "libpython") == 0) {
            rc = set_str(&p->libpython, val);
        } else if (strcmp(key, "libpython_a") == 0) {
            rc = set_str(&p->libpython_a, val);
        } else if (strcmp(key, "link_libs") == 0) {
            rc = set_str(&p->link_libs, val);
        } else if (strcmp(key, "gil_disabled") == 0) {
            p->gil_disabled = strcmp(val, "0") != 0;
        } else if (strcmp(key, "end") == 0) {
            ended = true;
        }
        if (rc != 0)
            return err_set(err, ENOMEM, "out of memory");
    }
    if (!ended || !have_version || !have_magic || !p->executable || !p->stdlib || !p->libpython)
        return err_set(err, 0, "its probe output is incomplete");
    return 0;
}

int probe_run(const char *python, struct probe *p, struct err *err)
{
    /* the script comes on stdin: a program that is not Python then says
     * something short about "-" rather than echoing the script back */
    char *argv[] = {(char *)python, "-", NULL};
    struct buf out = {0}, errout = {0};
    int status = 0, rc = -1;

    memset(p, 0, sizeof *p);
    if (util_run(argv, probe_script, sizeof probe_script - 1, &out, &errout, &status, err) != 0) {
        if (!strchr(python, '/'))
            err_set(err, 0, "cannot run '%s': not found on PATH (activate a venv or pass --python PATH)", python);
        goto out;
    }
    if (status != 0 || !out.data) {
        const char *line = errout.data ? errout.data : "";
        /* the last line of a traceback says what went wrong */
        size_t n = errout.len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        const char *start = line + n;
        while (start > line && start[-1] != '\n')
            start--;
        int shown = (int)(line + n - start);
        err_set(err, 0, "'%s' is not a usable Python 3.8 to 3.13 interpreter (exit status %d%s%.*s%s)",
                python, status, shown ? ": " : "", shown > 100 ? 100 : shown, start,
                shown > 100 ? "..." : "");
        goto out;
    }
    if (probe_parse(out.data, out.len, p, err) != 0) {
        err_prefix(err, "'%s' is not a usable Python interpreter", python);
        goto out;
    }
    if (p->major != 3 || p->minor < 8 || p->minor > 13) {
        err_set(err, 0, "'%s' is Python %d.%d; bundle supports 3.8 to 3.13", python, p->major, p->minor);
        goto out;
    }
    if (p->gil_disabled) {
        err_set(err, 0, "'%s' is a free-threaded build, which bundle does not support yet", python);
        goto out;
    }
    if (!p->libpython[0]) {
        err_set(err, 0, "'%s' has no shared libpython (rebuild it with --enable-shared, e.g. "
                        "PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install)", p->executable);
        goto out;
    }
    rc = 0;
out:
    buf_release(&out);
    buf_release(&errout);
    if (rc != 0)
        probe_release(p);
    return rc;
}

void probe_release(struct probe *p)
{
    free(p->executable);
    free(p->cache_tag);
    free(p->prefix);
    free(p->stdlib);
    free(p->platstdlib);
    free(p->libpython);
    free(p->libpython_a);
    free(p->link_libs);
    strvec_release(&p->path);
    strvec_release(&p->ext_suffixes);
    strvec_release(&p->builtins);
    memset(p, 0, sizeof *p);
}
