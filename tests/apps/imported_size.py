# tests/apps/imported_size.py: run a launcher script the way `python3 LAUNCHER
# ARGS` would, and when it exits, write to REPORT how many bytes on disk the
# run used (roughly what a bundle of it must carry):
#   py    the source (.py) of every module in sys.modules
#   ext   every extension module (.so) in sys.modules
#   data  the non-module files of the directories of every imported package
#         (package data: templates, fonts, typeshed stubs, dictionaries...);
#         sub-directories that are packages count only if imported themselves
#   libs  the interpreter's executable and every shared library mapped into
#         the process (/proc/self/maps), less glibc's own
# Used by bench/apps (the "imported MB" column). Runs with /usr/bin/python3:
#   python3 imported_size.py REPORT LAUNCHER [ARGS...]
# REPORT gets one line "py=N ext=N data=N libs=N total=N modules=N".
# Modules loaded only in child processes are not counted. os._exit is
# wrapped so that apps leaving through it (mypy) are measured too.
import atexit
import importlib.machinery
import os
import re
import runpy
import sys

_REPORT = sys.argv[1]
_LAUNCHER = sys.argv[2]

_GLIBC = re.compile(
    r"/(ld-linux[-a-z0-9_.]*|lib(c|m|mvec|pthread|dl|rt|util|resolv|anl|nsl|"
    r"nss_[a-z0-9]+|thread_db|BrokenLocale)\.so(\.[0-9]+)*)$")
_EXT = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _report():
    seen = set()
    sums = {"py": 0, "ext": 0, "data": 0, "libs": 0}

    def add(kind, path):
        try:
            real = os.path.realpath(path)
        except (OSError, ValueError):
            return
        if real in seen or not os.path.isfile(real):
            return
        seen.add(real)
        sums[kind] += _size(real)

    mods = list(sys.modules.values())
    pkgdirs = set()
    for m in mods:
        f = getattr(m, "__file__", None)
        if isinstance(f, str):
            if f.endswith(_EXT):
                add("ext", f)
            elif f.endswith(".pyc") and os.path.isfile(f[:-1]):
                add("py", f[:-1])
            else:
                add("py", f)
        p = getattr(m, "__path__", None)
        if p is not None and isinstance(f, str):
            try:
                for d in list(p):
                    if isinstance(d, str) and os.path.isdir(d):
                        pkgdirs.add(os.path.realpath(d))
            except Exception:
                pass
    for d in sorted(pkgdirs):
        for top, dirs, files in os.walk(d):
            if top != d and os.path.isfile(os.path.join(top, "__init__.py")):
                dirs[:] = []
                continue
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for name in files:
                if name.endswith((".py", ".pyc", ".pyo") + _EXT):
                    continue
                add("data", os.path.join(top, name))
    add("libs", sys.executable)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) == 6:
                    path = parts[5].strip()
                    if path.startswith("/") and ".so" in path and not _GLIBC.search(path):
                        add("ext" if path.endswith(_EXT) else "libs", path)
    except OSError:
        pass
    total = sum(sums.values())
    with open(_REPORT, "w") as out:
        out.write("py=%(py)d ext=%(ext)d data=%(data)d libs=%(libs)d" % sums)
        out.write(" total=%d modules=%d\n" % (total, len(mods)))


_done = False


def _report_once():
    global _done
    if not _done:
        _done = True
        _report()


def _os_exit(code, _real=os._exit):
    # mypy (util.hard_exit) and others leave through os._exit: no atexit
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        _report_once()
    finally:
        _real(code)


atexit.register(_report_once)
os._exit = _os_exit
sys.argv = sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.realpath(_LAUNCHER))
runpy.run_path(_LAUNCHER, run_name="__main__")
