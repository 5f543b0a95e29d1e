#!/usr/bin/env bash
# The seed's workflow, for real: `python3 -m venv venv` with pyenv's 3.11.7,
# activate it, `pip install --no-build-isolation --no-index ./localpkg` (a package
# written here, with a C extension localpkg._speed and data files read through
# importlib.resources.files() and through os.path.dirname(__file__)), then
# `bundle --onefile app.py` with no --python: bundle must take the active venv's
# interpreter. The binary runs with no Python on the machine, the venv and the
# package's sources moved away, and prints what the venv's python prints.
# Then a venv made by Debian's /usr/bin/python3 with --system-site-packages: a
# module from Debian's dist-packages (requests), one from a dir a .pth file adds
# to sys.path, and an editable-style src/ path (another .pth) must all come
# along; with $VIRTUAL_ENV set but the venv not first on PATH, bundle still
# takes the venv's interpreter.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
mkwork venv
cd "$WORK" || exit 1
# pip: nothing from the network, nothing written outside the work dir
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

RAN=()
PYENV_ROOT_DIR=
if command -v pyenv >/dev/null 2>&1; then PYENV_ROOT_DIR=$(pyenv root 2>/dev/null || true); fi
[[ -n $PYENV_ROOT_DIR ]] || PYENV_ROOT_DIR=${PYENV_ROOT:-$HOME/.pyenv}
SEED_PY=$PYENV_ROOT_DIR/versions/3.11.7/bin/python3

# the sandbox hides every Python whichever one PY names
if [[ -x $SEED_PY ]]; then E2E_PYTHON=$SEED_PY; elif [[ -x /usr/bin/python3 ]]; then E2E_PYTHON=/usr/bin/python3; fi
find_python
need_sandbox

# activate VENV / deactivate, as a user's shell does (the scripts predate set -u)
activate() { set +u; . "$1/bin/activate"; set -u; }
deactivate_venv() { set +u; deactivate; set -u; }

# the "python X.Y.Z at PATH" line of `bundle -v`
used_python() { sed -n 's/^bundle: python [0-9.]* at //p' <<<"$1" | head -n1; }

# ---------------------------------------------------------------------------
# 1. pyenv 3.11.7: venv, pip install a local C-extension package, bundle
# ---------------------------------------------------------------------------
seed() {
    if [[ ! -x $SEED_PY ]]; then
        info "SKIP seed workflow: no $SEED_PY (pyenv install 3.11.7)"
        return 0
    fi
    command -v gcc >/dev/null 2>&1 || { info "SKIP seed workflow: no gcc to build localpkg._speed"; return 0; }
    local inc
    inc=$("$SEED_PY" -I -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
    [[ -f $inc/Python.h ]] || { info "SKIP seed workflow: no $inc/Python.h"; return 0; }

    mkdir seed && cd seed || exit 1
    local t0 t1
    t0=$(date +%s)
    "$SEED_PY" -m venv venv >"$WORK/venv.out" 2>&1 || fail "python3 -m venv failed: $(cat "$WORK/venv.out")"
    t1=$(date +%s)
    info "seed: python3 -m venv took $((t1 - t0)) s"
    activate venv
    [[ $(command -v python) == "$PWD/venv/bin/python" ]] || fail "activate did not put the venv first on PATH"
    if ! python -c 'import setuptools' 2>/dev/null; then
        deactivate_venv
        info "SKIP seed workflow: the venv has no setuptools (Python >= 3.12 venvs do not; pip install setuptools needs an index)"
        return 0
    fi
    # setuptools < 70.1 builds wheels with the 'wheel' package
    if ! python -c 'import setuptools.command.bdist_wheel' 2>/dev/null && ! python -c 'import wheel' 2>/dev/null; then
        if compgen -G '/usr/share/python-wheels/wheel-*.whl' >/dev/null; then
            python -m pip install -q --no-index --find-links /usr/share/python-wheels wheel >"$WORK/wheel.out" 2>&1 ||
                fail "pip install wheel from /usr/share/python-wheels failed: $(cat "$WORK/wheel.out")"
        else
            deactivate_venv
            info "SKIP seed workflow: the venv's setuptools needs the 'wheel' package and none is available offline (apt-get install -y python3-wheel-whl)"
            return 0
        fi
    fi

    mkdir -p localpkg/src/localpkg/data
    cat >localpkg/pyproject.toml <<'TOML'
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "localpkg"
version = "1.2.3"
TOML
    cat >localpkg/setup.py <<'PY'
from setuptools import Extension, setup

setup(
    package_dir={"": "src"},
    packages=["localpkg"],
    package_data={"localpkg": ["data/*.txt"]},
    ext_modules=[Extension("localpkg._speed", ["src/localpkg/_speed.c"])],
)
PY
    cat >localpkg/src/localpkg/_speed.c <<'C'
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* sum of len(s) * (i + 1) over a sequence of strings */
static PyObject *weighted_len(PyObject *self, PyObject *seq)
{
    Py_ssize_t n = PySequence_Length(seq);
    long long total = 0;
    if (n < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PySequence_GetItem(seq, i);
        if (!s)
            return NULL;
        Py_ssize_t len = PyObject_Length(s);
        Py_DECREF(s);
        if (len < 0)
            return NULL;
        total += (long long)len * (i + 1);
    }
    return PyLong_FromLongLong(total);
}

static PyMethodDef methods[] = {{"weighted_len", weighted_len, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
C
    cat >localpkg/src/localpkg/__init__.py <<'PY'
import os
from importlib.resources import files

from ._speed import weighted_len


def words():
    return files("localpkg").joinpath("data/words.txt").read_text(encoding="utf-8").split()


def stopwords():
    with open(os.path.join(os.path.dirname(__file__), "data", "stop.txt"), encoding="utf-8") as f:
        return f.read().split()
PY
    printf 'alpha\nbeta\ngamma\n\xc3\xbcn\xc3\xafcode\n' >localpkg/src/localpkg/data/words.txt
    printf 'the\na\nof\n' >localpkg/src/localpkg/data/stop.txt
    pip install --no-build-isolation --no-index ./localpkg >"$WORK/pip.out" 2>&1 ||
        fail "pip install --no-build-isolation --no-index ./localpkg failed: $(tail -n 30 "$WORK/pip.out")"

    mkdir app && cd app || exit 1
    cat >app.py <<'PY'
import importlib.metadata
import sys

import localpkg

words = localpkg.words()
print("words", words)
print("stop", localpkg.stopwords())
print("weighted", localpkg.weighted_len(words))
print("version", importlib.metadata.version("localpkg"))
print("speed is native", localpkg._speed.__file__.endswith(".so"))
PY
    local want rc=0
    want=$(python app.py 2>"$WORK/seed.plain.err") || rc=$?
    assert_status 0 "$rc" "seed: the venv's python on app.py (stderr: $(cat "$WORK/seed.plain.err"))"

    # bundle with no --python, as the user types it
    local out err
    t0=$(date +%s%N)
    out=$("$BUNDLE" --onefile app.py -v 2>"$WORK/seed.build") || fail "bundle --onefile app.py in the venv failed: $(cat "$WORK/seed.build")"
    t1=$(date +%s%N)
    err=$(cat "$WORK/seed.build")
    assert_eq "$VIRTUAL_ENV/bin/python3" "$(used_python "$err")" "seed: the interpreter bundle used (the active venv's)"
    info "seed: built in $(((t1 - t0) / 1000000)) ms: $(grep 'wrote' <<<"$err" | sed 's/^bundle: //')"
    deactivate_venv

    # standalone: the venv and the package's sources are gone for the run
    mv ../venv ../venv.away
    mv ../localpkg ../localpkg.away
    rc=0
    got=$(run_sandboxed --timeout 60 dist/app </dev/null 2>"$WORK/seed.err") || rc=$?
    mv ../venv.away ../venv
    mv ../localpkg.away ../localpkg
    assert_status 0 "$rc" "seed: dist/app (stderr: $(cat "$WORK/seed.err"))"
    assert_eq "$want" "$got" "seed: dist/app output vs the venv's python"
    assert_eq "" "$(cat "$WORK/seed.err")" "seed: dist/app stderr"
    cd "$WORK" || exit 1
    RAN+=(seed)
}

# ---------------------------------------------------------------------------
# 2. Debian python: --system-site-packages, .pth paths, $VIRTUAL_ENV
# ---------------------------------------------------------------------------
syssite() {
    if [[ ! -x /usr/bin/python3 ]]; then
        info "SKIP system-site-packages venv: no /usr/bin/python3"
        return 0
    fi
    if ! /usr/bin/python3 -I -c 'import requests' 2>/dev/null; then
        info "SKIP system-site-packages venv: Debian's python3-requests is not installed (apt-get install -y python3-requests)"
        return 0
    fi
    mkdir syssite && cd syssite || exit 1
    /usr/bin/python3 -m venv --system-site-packages --without-pip v2 >"$WORK/v2.out" 2>&1 ||
        fail "/usr/bin/python3 -m venv --system-site-packages failed: $(cat "$WORK/v2.out")"
    local sp
    sp=$(v2/bin/python3 -I -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    [[ $sp == "$PWD/v2/"* ]] || fail "the venv's site-packages ($sp) is not in the venv"
    # a plain dir on sys.path through a .pth file
    mkdir -p extra
    printf 'def hello():\n    return "hello from a .pth path"\n' >extra/pthmod.py
    echo "$PWD/extra" >"$sp/extra.pth"
    # an editable-style install: the project's src/ on sys.path, data file included
    mkdir -p proj/src/edpkg
    printf 'import os\n\ndef motd():\n    with open(os.path.join(os.path.dirname(__file__), "motd.txt")) as f:\n        return f.read().strip()\n' >proj/src/edpkg/__init__.py
    echo "edited in place" >proj/src/edpkg/motd.txt
    echo "$PWD/proj/src" >"$sp/__editable__.edpkg-0.1.pth"

    mkdir app && cd app || exit 1
    cat >app.py <<'PY'
import requests
import pthmod
import edpkg

print(pthmod.hello())
print(edpkg.motd())
print("requests", requests.__version__)
print(requests.Request("GET", "http://h/p", params={"a": "b c"}).prepare().url)
s = requests.Session()
print("adapters", sorted(s.adapters))
PY
    activate ../v2
    local want rc=0 err
    want=$(python app.py 2>"$WORK/v2.plain.err") || rc=$?
    assert_status 0 "$rc" "syssite: the venv's python on app.py (stderr: $(cat "$WORK/v2.plain.err"))"
    "$BUNDLE" --onefile app.py -v --no-marathon >/dev/null 2>"$WORK/v2.build" ||
        fail "bundle in the --system-site-packages venv failed: $(cat "$WORK/v2.build")"
    err=$(cat "$WORK/v2.build")
    assert_eq "$VIRTUAL_ENV/bin/python3" "$(used_python "$err")" "syssite: the interpreter bundle used"
    assert_not_contains "$err" "module pthmod not found" "bundle's warnings"
    assert_not_contains "$err" "module edpkg not found" "bundle's warnings"
    info "syssite: $(grep 'wrote' <<<"$err" | sed 's/^bundle: //')"
    deactivate_venv

    # $VIRTUAL_ENV wins over the python3 on PATH (here Debian's own, which has
    # no .pth paths: with it, pthmod and edpkg would be missing)
    rm -rf dist
    env VIRTUAL_ENV="$WORK/syssite/v2" PATH=/usr/bin:/bin "$BUNDLE" --onefile app.py -v --no-marathon >/dev/null 2>"$WORK/v2.build2" ||
        fail "bundle with VIRTUAL_ENV set failed: $(cat "$WORK/v2.build2")"
    assert_eq "$WORK/syssite/v2/bin/python3" "$(used_python "$(cat "$WORK/v2.build2")")" \
        "with VIRTUAL_ENV set and /usr/bin first on PATH, the interpreter bundle used"

    mv ../extra ../extra.away
    mv ../proj ../proj.away
    rc=0
    got=$(run_sandboxed --timeout 60 dist/app </dev/null 2>"$WORK/v2.err") || rc=$?
    mv ../extra.away ../extra
    mv ../proj.away ../proj
    assert_status 0 "$rc" "syssite: dist/app (stderr: $(cat "$WORK/v2.err"))"
    assert_eq "$want" "$got" "syssite: dist/app output vs the venv's python"
    assert_eq "" "$(cat "$WORK/v2.err")" "syssite: dist/app stderr"
    cd "$WORK" || exit 1
    RAN+=(syssite)
}

seed
syssite
((${#RAN[@]})) || skip "no part could run here"
info "ran: ${RAN[*]}"
pass
