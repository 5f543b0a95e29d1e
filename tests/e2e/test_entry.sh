#!/usr/bin/env bash
# What an app is, beyond a script, and what a bundle says when it lacks a
# module; each binary runs with every Python hidden:
#   command   `bundle --onefile NAME` for a console script that a package of
#             a venv declares (pip-installed from a local folder, with a
#             plugin registered as an entry point by a second distribution),
#             and for one of Debian's (yamllint), as pipx takes it
#   entry     --entry MOD:FUNC (exit status from its return value) and
#             --entry PKG (run as python -m runs it)
#   missing   a module the build machine has but the bundle left out: the
#             error names it and the fix, try/except ImportError still works,
#             importlib.util.find_spec still answers None
#   trace     an import by a name computed at run time: missing without
#             --trace, bundled with it (arguments after --), and --json
#             still prints one JSON object on stdout
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
mkwork entry
cd "$WORK" || exit 1
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

PYENV_ROOT_DIR=
if command -v pyenv >/dev/null 2>&1; then PYENV_ROOT_DIR=$(pyenv root 2>/dev/null || true); fi
[[ -n $PYENV_ROOT_DIR ]] || PYENV_ROOT_DIR=${PYENV_ROOT:-$HOME/.pyenv}
SEED_PY=$PYENV_ROOT_DIR/versions/3.11.7/bin/python3
if [[ -x $SEED_PY ]]; then E2E_PYTHON=$SEED_PY; elif [[ -x /usr/bin/python3 ]]; then E2E_PYTHON=/usr/bin/python3; fi
find_python
need_sandbox

RAN=()

# runs dist/NAME in the sandbox; OUT, ERR, RC
sb() {
    RC=0
    run_sandboxed --timeout 60 "$@" </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# ---------------------------------------------------------------------------
# command and entry, from a venv
# ---------------------------------------------------------------------------
venv_part() {
    "$PY" -m venv venv >"$WORK/venv.out" 2>&1 || fail "python3 -m venv failed: $(cat "$WORK/venv.out")"
    if ! venv/bin/python -c 'import setuptools' 2>/dev/null; then
        info "SKIP command/entry from a venv: the venv has no setuptools (pip cannot reach an index here)"
        return 0
    fi
    if ! venv/bin/python -c 'import setuptools.command.bdist_wheel' 2>/dev/null && ! venv/bin/python -c 'import wheel' 2>/dev/null; then
        if compgen -G '/usr/share/python-wheels/wheel-*.whl' >/dev/null; then
            venv/bin/python -m pip install -q --no-index --find-links /usr/share/python-wheels wheel >"$WORK/wheel.out" 2>&1 ||
                fail "pip install wheel failed: $(cat "$WORK/wheel.out")"
        else
            info "SKIP command/entry from a venv: setuptools needs 'wheel' and none is offline (apt-get install -y python3-wheel-whl)"
            return 0
        fi
    fi
    mkdir -p hellopkg/src/hellopkg plugpkg/src/hello_plug
    cat >hellopkg/setup.py <<'PY'
from setuptools import setup
setup(name="hellopkg", version="2.0.1", package_dir={"": "src"}, packages=["hellopkg"],
      entry_points={"console_scripts": ["hello-cli = hellopkg.cli:main"]})
PY
    cat >hellopkg/src/hellopkg/__init__.py <<'PY'
PY
    cat >hellopkg/src/hellopkg/__main__.py <<'PY'
import sys
from hellopkg.cli import main
sys.exit(main())
PY
    # the launcher's way: the app finds its plugins through an entry-point group
    cat >hellopkg/src/hellopkg/cli.py <<'PY'
import sys
from importlib.metadata import entry_points, version

def main():
    names = sorted(ep.name + "=" + ep.load()() for ep in entry_points(group="hello.plugins"))
    print("hello", version("hellopkg"), sys.argv[1:], names)
    return 3
PY
    cat >plugpkg/setup.py <<'PY'
from setuptools import setup
setup(name="hello-plug", version="0.1", package_dir={"": "src"}, packages=["hello_plug"],
      entry_points={"hello.plugins": ["shout = hello_plug.shout:make"]})
PY
    cat >plugpkg/src/hello_plug/__init__.py <<'PY'
PY
    cat >plugpkg/src/hello_plug/shout.py <<'PY'
def make():
    return "HEY"
PY
    venv/bin/python -m pip install -q --no-build-isolation --no-index ./hellopkg ./plugpkg >"$WORK/pip.out" 2>&1 ||
        fail "pip install of the local packages failed: $(cat "$WORK/pip.out")"
    local want='hello 2.0.1 ['"'"'a'"'"', '"'"'b'"'"'] ['"'"'shout=HEY'"'"']'

    # the venv active, the command by name
    (
        set +u
        . venv/bin/activate
        set -u
        "$BUNDLE" --onefile hello-cli --no-marathon -o "$WORK/dist/hello-cli" 2>"$WORK/build.err"
    ) || fail "bundle --onefile hello-cli failed: $(cat "$WORK/build.err")"
    sb "$WORK/dist/hello-cli" a b
    assert_status 3 "$RC" "hello-cli: exit status (stderr: $ERR)"
    assert_eq "$want" "$OUT" "hello-cli: output"

    # --entry MOD:FUNC and --entry PKG (its __main__), with --python
    "$BUNDLE" --onefile --entry hellopkg.cli:main --python venv/bin/python --no-marathon -o "$WORK/dist/e1" \
        2>"$WORK/build.err" || fail "--entry hellopkg.cli:main: $(cat "$WORK/build.err")"
    sb "$WORK/dist/e1" a b
    assert_status 3 "$RC" "--entry hellopkg.cli:main: exit status (stderr: $ERR)"
    assert_eq "$want" "$OUT" "--entry hellopkg.cli:main: output"
    "$BUNDLE" --onefile --entry hellopkg --python venv/bin/python --no-marathon -o "$WORK/dist/e2" \
        2>"$WORK/build.err" || fail "--entry hellopkg: $(cat "$WORK/build.err")"
    sb "$WORK/dist/e2" a b
    assert_status 3 "$RC" "--entry hellopkg: exit status (stderr: $ERR)"
    assert_eq "$want" "$OUT" "--entry hellopkg: output"

    # no such command, no such module: one line, status 2, nothing written
    local rc=0 err
    err=$("$BUNDLE" --onefile no-such-command-xyz --python venv/bin/python -o "$WORK/dist/none" 2>&1) || rc=$?
    assert_status 2 "$rc" "an unknown command"
    assert_contains "$err" "no package installed for" "the unknown command's error"
    [[ ! -e $WORK/dist/none ]] || fail "an unknown command left $WORK/dist/none"
    rc=0
    err=$("$BUNDLE" --onefile --entry 'os;import x' --python venv/bin/python 2>&1) || rc=$?
    assert_status 2 "$rc" "--entry with code in it"
    rc=0
    err=$("$BUNDLE" --onefile --entry hellopkg.nothing:main --python venv/bin/python -o "$WORK/dist/none" 2>&1) || rc=$?
    [[ $rc != 0 && ! -e $WORK/dist/none ]] || fail "--entry of a missing module built something (status $rc)"
    RAN+=(command-venv entry)
}
venv_part

# ---------------------------------------------------------------------------
# a command of Debian's (yamllint)
# ---------------------------------------------------------------------------
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import yamllint' 2>/dev/null; then
    printf 'a: 1\nb:  2\n' >t.yaml
    "$BUNDLE" --onefile yamllint --python /usr/bin/python3 --no-marathon -o "$WORK/dist/yamllint" 2>"$WORK/build.err" ||
        fail "bundle --onefile yamllint failed: $(cat "$WORK/build.err")"
    want=$(cd "$WORK" && env -i PATH=/usr/bin:/bin HOME="$SB_HOME" LANG=C.UTF-8 /usr/bin/python3 -m yamllint t.yaml) || true
    sb "$WORK/dist/yamllint" t.yaml
    assert_status 1 "$RC" "yamllint: exit status (stderr: $ERR)"
    assert_eq "$want" "$OUT" "yamllint by command name: output"
    RAN+=(command-debian)
else
    info "SKIP command-debian: Debian's yamllint is not installed (apt-get install -y yamllint)"
fi

# ---------------------------------------------------------------------------
# missing: the message, and code that expects ImportError
# ---------------------------------------------------------------------------
cat >miss.py <<'PY'
import importlib.util
print(importlib.util.find_spec("json"))
try:
    import json
except ImportError as e:
    print("caught", type(e).__name__, e.name)
import json
PY
build_app miss.py --exclude-module json --no-marathon
sb dist/miss
assert_status 1 "$RC" "miss: exit status"
assert_eq $'None\ncaught ModuleNotFoundError json' "$OUT" "miss: output"
assert_contains "$ERR" "ModuleNotFoundError: No module named 'json' (present on the build machine but not bundled; rebuild with --hidden-import json)" "miss: stderr"
assert_not_contains "$ERR" "_bundle_boot" "miss: stderr"
RAN+=(missing)

# ---------------------------------------------------------------------------
# trace
# ---------------------------------------------------------------------------
mkdir -p tapp/plugins
: >tapp/plugins/__init__.py
echo 'NAME = "alpha"' >tapp/plugins/alpha.py
echo 'NAME = "beta"' >tapp/plugins/beta.py
echo 'beta data' >tapp/plugins/beta.txt
cat >tapp/app.py <<'PY'
import importlib, os, sys
which = sys.argv[1]
mod = importlib.import_module(".".join(["plugins", which]))
print(mod.NAME, open(os.path.join(os.path.dirname(mod.__file__), which + ".txt")).read().strip())
PY
build_app tapp/app.py --no-marathon -o "$WORK/dist/notrace"
sb "$WORK/dist/notrace" beta
assert_status 1 "$RC" "untraced: exit status"
assert_contains "$ERR" "No module named 'plugins' (present on the build machine but not bundled" "untraced: stderr"
build_app tapp/app.py --no-marathon -o "$WORK/dist/traced" -v --trace -- beta
assert_contains "$BUILD_ERR" "traced: plugins.beta" "--trace -v"
sb "$WORK/dist/traced" beta
assert_status 0 "$RC" "traced: exit status (stderr: $ERR)"
assert_eq "beta beta data" "$OUT" "traced: output"
json=$("$BUNDLE" --onefile tapp/app.py --python "$PY" --no-marathon -o "$WORK/dist/traced2" --json -q --trace -- beta 2>/dev/null)
"$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["ok"] is True, d' "$json" ||
    fail "--json --trace: stdout is not one JSON object: $json"
RAN+=(trace)

info "ran: ${RAN[*]}"
pass
