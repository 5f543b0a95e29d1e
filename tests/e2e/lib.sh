# shellcheck shell=bash
# tests/e2e/lib.sh: helpers shared by the end-to-end tests.
#
# Sourced by every tests/e2e/test_*.sh. ctest runs each test as `bash FILE` with
#   BUNDLE   path of the bundle binary under test
#   SRCDIR   repository root
#   WORKDIR  scratch dir under the build tree (a fresh mktemp dir under /tmp if unset)
# Exit status of a test: 0 pass, 77 skip (reason printed), anything else fail.
#
# The key piece is run_sandboxed: it runs a built binary in a private mount
# namespace where every Python on this machine is hidden, with a scrubbed
# environment (env -i). See "Sandbox" below for what is hidden and how, and
# sandbox_prove for the check that makes a leaking sandbox fail the test.
#
# Knobs (environment): E2E_KEEP=1 keeps the work dirs; E2E_PYTHON=PATH picks the
# interpreter to bundle instead of asking `python3`; E2E_NO_OVERLAY=1 makes the
# sandbox hide files with /dev/null binds (its fallback) instead of overlayfs.
#
# This file is also executed (never by hand) as the sandbox's inner half:
#   bash lib.sh __sandbox_inner STAGE HIDELIST CMD...
# which makes the mounts inside the new namespace, then execs CMD.
#
# Why one file over 600 lines: the helpers every e2e test sources; one file, so a test needs one line to have them all.

set -Eeuo pipefail

E2E_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

# ---------------------------------------------------------------------------
# Sandbox, inner half. Runs inside `unshare --mount`, as root, before env -i.
# Kept first so that executing this file does nothing else.
# ---------------------------------------------------------------------------
_sandbox_inner() {
    local stage=$1 list=$2
    shift 2
    _sbdie() { printf 'sandbox: setup failed: %s\n' "$*" >&2; exit 125; }
    mount -t tmpfs -o mode=0700,size=16m e2e-sandbox-stage "$stage" </dev/null ||
        _sbdie "cannot mount a tmpfs on $stage"

    local kind path
    local -a tdirs=() wfiles=()
    while read -r kind path; do
        case $kind in
            T) tdirs+=("$path") ;;
            W) wfiles+=("$path") ;;
        esac
    done <"$list"

    # 1. Files in shared directories (/usr/bin/python3.11,
    #    /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0, ...): an overlay on
    #    their directory whose upper layer holds a whiteout (char device 0:0)
    #    for each, so that they are really gone (ENOENT), not just unusable.
    #    Parents before children, so that nested overlays stack.
    local -A byd=()
    local f d
    for f in "${wfiles[@]}"; do
        d=${f%/*}
        byd[$d]+="${f##*/}"$'\n'
    done
    local n=0 u w name
    while IFS= read -r d; do
        [[ -n $d ]] || continue
        n=$((n + 1))
        u=$stage/ov$n/upper w=$stage/ov$n/work
        mkdir -p "$u" "$w"
        while IFS= read -r name; do
            [[ -n $name ]] || continue
            mknod "$u/$name" c 0 0 </dev/null || _sbdie "mknod whiteout $u/$name"
        done <<<"${byd[$d]}"
        # (no overlay on a dir that holds the work dirs: they must stay as they are)
        if [[ $d == *[,:]* || $stage == "$d"/* || ${E2E_NO_OVERLAY:-0} == 1 ]] ||
            ! mount -t overlay e2e-hide -o "lowerdir=$d,upperdir=$u,workdir=$w" "$d" </dev/null 2>/dev/null; then
            # No overlayfs here: make each file unusable instead (a /dev/null
            # bind: exec and dlopen fail). sandbox_prove accepts char devices.
            while IFS= read -r name; do
                [[ -n $name ]] || continue
                if [[ -e $d/$name || -L $d/$name ]]; then
                    mount --bind /dev/null "$d/$name" </dev/null ||
                        _sbdie "cannot hide $d/$name"
                fi
            done <<<"${byd[$d]}"
        fi
    done < <(printf '%s\n' "${!byd[@]}" | sort)

    # 2. Whole directories that are Python's own (pyenv root, stdlib dirs,
    #    dist-packages, /etc/python3*, ...): an empty read-only tmpfs on top.
    for d in "${tdirs[@]}"; do
        [[ -d $d ]] || continue
        mount -t tmpfs -o ro,mode=0755,size=4k e2e-hidden "$d" </dev/null ||
            _sbdie "cannot mount a tmpfs on $d"
    done

    # 3. The dynamic loader's cache still names libpython: regenerate it from
    #    what is now visible (once per hide list: kept beside it) and bind it
    #    over /etc/ld.so.cache.
    local ldc ldcache=$list.ld.so.cache
    if [[ -f /etc/ld.so.cache ]]; then
        if [[ ! -s $ldcache || $ldcache -ot $list ]]; then
            ldc=$(PATH=$PATH:/usr/sbin:/sbin command -v ldconfig || true)
            [[ -n $ldc ]] || _sbdie "no ldconfig to rebuild the loader cache"
            "$ldc" -X -C "$stage/ld.so.cache" </dev/null >/dev/null 2>&1 ||
                _sbdie "ldconfig could not rebuild the loader cache"
            if ! { cp "$stage/ld.so.cache" "$ldcache.$$" && mv -f "$ldcache.$$" "$ldcache"; }; then
                _sbdie "cannot keep the loader cache at $ldcache"
            fi
        fi
        mount --bind "$ldcache" /etc/ld.so.cache </dev/null ||
            _sbdie "cannot bind the rebuilt loader cache"
    fi
    mount -o remount,ro,bind "$stage" </dev/null 2>/dev/null || true
    # The app gets stdin, stdout and stderr, and no other descriptor of the
    # test harness (255 is the one bash reads this script from).
    local fd
    for fd in "/proc/$$/fd/"*; do
        fd=${fd##*/}
        if ((fd > 2 && fd != 255)); then eval "exec $fd>&-"; fi
    done
    exec "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    if [[ ${1:-} == __sandbox_inner ]]; then
        shift
        _sandbox_inner "$@"
    fi
    echo "lib.sh is meant to be sourced by tests/e2e/test_*.sh" >&2
    exit 2
fi

# ---------------------------------------------------------------------------
# Messages and assertions
# ---------------------------------------------------------------------------
TEST_NAME=$(basename "$0" .sh)
# The test's own stderr, kept on a separate fd: messages from the helpers reach
# it even when called where stderr is redirected (2>"$WORK/err").
exec {E2E_LOGFD}>&2
SRCDIR=${SRCDIR:-$(cd "$(dirname "$E2E_LIB")/../.." && pwd)}

info() { printf '%s: %s\n' "$TEST_NAME" "$*" >&"$E2E_LOGFD"; }

fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&"$E2E_LOGFD"
    _E2E_FAILED=1
    exit 1
}

skip() {
    printf '%s: SKIP: %s\n' "$TEST_NAME" "$*" >&"$E2E_LOGFD"
    exit 77
}

pass() {
    printf '%s: PASS\n' "$TEST_NAME"
    exit 0
}

# soft_fail MSG: record a failed check and go on; pass_unless_soft_failures
# ends the test: FAIL with the list of them, or PASS.
FAILS=()
soft_fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&"$E2E_LOGFD"
    FAILS+=("$*")
}

pass_unless_soft_failures() {
    if ((${#FAILS[@]})); then
        printf '%s: %d check(s) failed:\n' "$TEST_NAME" "${#FAILS[@]}" >&"$E2E_LOGFD"
        printf '  - %s\n' "${FAILS[@]}" >&"$E2E_LOGFD"
        _E2E_FAILED=1
        exit 1
    fi
    pass
}

# Print a value so that invisible differences (trailing blanks, CR, NUL-free
# control characters) are visible.
_show() { printf '%s' "$1" | cat -A | sed 's/^/    | /'; }

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    local exp=$1 act=$2 what=${3:-value}
    if [[ "$exp" != "$act" ]]; then
        printf '%s: FAIL: %s differs\n  expected:\n%s\n  actual:\n%s\n' "$TEST_NAME" "$what" \
            "$(_show "$exp")" "$(_show "$act")" >&"$E2E_LOGFD"
        _E2E_FAILED=1
        exit 1
    fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
    local hay=$1 needle=$2 what=${3:-output}
    if [[ "$hay" != *"$needle"* ]]; then
        printf '%s: FAIL: %s does not contain %q\n  %s was:\n%s\n' "$TEST_NAME" "$what" "$needle" \
            "$what" "$(_show "$hay")" >&"$E2E_LOGFD"
        _E2E_FAILED=1
        exit 1
    fi
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
    local hay=$1 needle=$2 what=${3:-output}
    if [[ "$hay" == *"$needle"* ]]; then
        printf '%s: FAIL: %s contains %q\n  %s was:\n%s\n' "$TEST_NAME" "$what" "$needle" \
            "$what" "$(_show "$hay")" >&"$E2E_LOGFD"
        _E2E_FAILED=1
        exit 1
    fi
}

# assert_status EXPECTED ACTUAL [WHAT]
assert_status() {
    [[ "$1" == "$2" ]] || fail "${3:-exit status}: expected $1, got $2"
}

# A command that fails outside an `if`, `||` or `&&` fails the test, naming it.
_e2e_on_err() {
    local rc=$? line=$1 cmd=$2
    [[ ${_E2E_FAILED:-0} == 1 ]] && exit 1
    printf '%s: FAIL: line %s: [%s] exited %s\n' "$TEST_NAME" "$line" "$cmd" "$rc" >&"$E2E_LOGFD"
    exit 1
}
trap '_e2e_on_err "$LINENO" "$BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------
# Work dirs, cleanup, background processes
# ---------------------------------------------------------------------------
_E2E_CLEAN=()
_E2E_PIDS=()

_e2e_cleanup() {
    local rc=$? p d
    trap - ERR
    set +e
    for p in "${_E2E_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${_E2E_PIDS[@]}"; do
        # give it a moment, then make sure
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
        ((${#_E2E_CLEAN[@]})) && info "kept work dirs: ${_E2E_CLEAN[*]}"
    else
        for d in "${_E2E_CLEAN[@]}"; do
            [[ -n $d && -d $d ]] && rm -rf -- "$d"
        done
        if [[ $rc != 0 && $rc != 77 && ${#_E2E_CLEAN[@]} -gt 0 ]]; then
            info "(run with E2E_KEEP=1 to keep the work dirs)"
        fi
    fi
    exit "$rc"
}
trap _e2e_cleanup EXIT

# track_pid PID: killed (TERM, then KILL) when the test exits.
track_pid() { _E2E_PIDS+=("$1"); }

# E2E_ROOT: $WORKDIR, or a private dir under /tmp removed at exit; the
# builds' BUNDLE_BUILD_CACHE_DIR is in it unless set.
_e2e_root() {
    [[ -n ${E2E_ROOT:-} ]] && return 0
    if [[ -n ${WORKDIR:-} ]]; then
        mkdir -p "$WORKDIR"
        E2E_ROOT=$(cd "$WORKDIR" && pwd -P)
    else
        E2E_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/bundle-e2e.XXXXXX")
        E2E_ROOT=$(cd "$E2E_ROOT" && pwd -P)
        _E2E_CLEAN+=("$E2E_ROOT")
    fi
    # the builder's cache of compressed files, shared by the tests of one
    # work dir (kept with it, as the sandbox's list is), never ~/.cache
    export BUNDLE_BUILD_CACHE_DIR=${BUNDLE_BUILD_CACHE_DIR-$E2E_ROOT/.pack-cache}
}

# mkwork NAME: sets WORK to a fresh dir (removed at exit), and SB_HOME and
# SB_CACHE, the HOME and BUNDLE_CACHE_DIR that run_sandboxed gives the app by
# default (both fresh, inside WORK).
mkwork() {
    local name=${1:-work}
    _e2e_root
    WORK=$(mktemp -d "$E2E_ROOT/$TEST_NAME.$name.XXXXXX")
    _E2E_CLEAN+=("$WORK")
    SB_HOME=$WORK/.sb-home
    SB_CACHE=$WORK/.sb-cache
    mkdir -p "$SB_HOME" "$SB_CACHE"
}

# ---------------------------------------------------------------------------
# The bundle binary and the interpreter to bundle
# ---------------------------------------------------------------------------
need_bundle() {
    [[ -n ${BUNDLE:-} ]] || skip "BUNDLE is not set (run through ctest, or BUNDLE=path/to/bundle bash $0)"
    [[ -f $BUNDLE && -x $BUNDLE ]] || fail "BUNDLE=$BUNDLE is not an executable file"
    BUNDLE=$(cd "$(dirname "$BUNDLE")" && pwd -P)/$(basename "$BUNDLE")
}

# find_python: PY = the real interpreter (not a pyenv shim) that the tests bundle,
# plus PY_VERSION, PY_BASE_PREFIX, PY_STDLIB. Skips when there is none, or when
# it has no shared libpython (which bundle needs).
find_python() {
    if [[ -n ${E2E_PYTHON:-} ]]; then
        PY=$E2E_PYTHON
    else
        command -v python3 >/dev/null 2>&1 || skip "no python3 on PATH: nothing to bundle"
        PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
            skip "python3 on PATH does not run"
    fi
    [[ -n $PY && -x $PY ]] || skip "interpreter '$PY' is not executable"
    local facts
    facts=$("$PY" -I -c 'import sys, sysconfig
print(sys.version.split()[0])
print(sys.base_prefix)
print(sysconfig.get_paths()["stdlib"])
print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)') || fail "$PY does not answer the probe"
    {
        read -r PY_VERSION
        read -r PY_BASE_PREFIX
        read -r PY_STDLIB
        read -r PY_SHARED
    } <<<"$facts"
    [[ $PY_SHARED == 1 ]] || skip "$PY ($PY_VERSION) was built without a shared libpython; bundle needs one"
}

# build_app SCRIPT [bundle args...]: `$BUNDLE --onefile SCRIPT --python $PY args`
# in the current directory; fails the test with bundle's stderr if it fails.
# Leaves bundle's stdout/stderr in BUILD_OUT / BUILD_ERR.
# shellcheck disable=SC2034
build_app() {
    local script=$1 rc=0 t0 t1
    shift
    [[ -n ${PY:-} ]] || find_python
    t0=$(date +%s%N)
    BUILD_OUT=$("$BUNDLE" --onefile "$script" --python "$PY" "$@" 2>"${WORK:-.}/.build.err") || rc=$?
    BUILD_ERR=$(cat "${WORK:-.}/.build.err")
    rm -f "${WORK:-.}/.build.err"
    t1=$(date +%s%N)
    if [[ $rc != 0 ]]; then
        fail "bundle --onefile $script $* exited $rc; its stderr:
$BUILD_ERR"
    fi
    info "built $script in $(((t1 - t0) / 1000000)) ms"
}

# ---------------------------------------------------------------------------
# Sandbox, outer half
#
# What is hidden (the list is computed once per WORKDIR and reused for 10
# minutes; recomputed at once if the proof finds a leak):
#  - every Python part on the machine, found with find over each real
#    filesystem (/proc /sys /dev and the e2e work dirs excepted): libpython*.so*,
#    files or symlinks named python, pythonX, pythonX.Y[dmtu], pypy*, and
#    stdlib dirs (os.py beside encodings/);
#  - in shared system dirs (/usr/bin, /usr/lib/x86_64-linux-gnu, /usr/local/bin,
#    ...) such a file gets an overlayfs whiteout: it is gone (ENOENT), its
#    neighbours stay (fallback without overlayfs: a /dev/null bind on it);
#  - any other dir holding one (another Python's bin/ or lib/, a bundle cache's
#    lib/, a stdlib) and the well-known homes of Python (pyenv root,
#    /usr/lib/python3*, /usr/local/lib/python3*, /etc/python3*, the bundled
#    interpreter's base prefix) get an empty read-only tmpfs on top;
#  - /etc/ld.so.cache is rebuilt (ldconfig -X -C) so libpython is not in it.
# Then env -i: PATH=/usr/bin:/bin, HOME, LANG=C.UTF-8, BUNDLE_CACHE_DIR, and
# no file descriptor but 0, 1, 2.
# The work dirs stay visible: the binary under test lives there.
# ---------------------------------------------------------------------------

# _sb_scan MODE PRUNE...: print every Python part that find can see: libpython*.so*,
# os.py (callers keep those with an encodings/ beside them: a stdlib), and
# executables or symlinks named python, pythonX[.Y][dmtu], pypy*. Walks each
# real filesystem (/ and other mounts, /proc /sys /dev excepted) with -xdev,
# skipping each PRUNE dir (the e2e work dirs, dirs hidden whole).
# MODE hide: files and symlinks; MODE prove: files and symlinks that resolve
# to files. Used outside (to build
# the hide list) and inside the sandbox (to prove it), so it must stay plain.
_sb_scan() {
    local mode=$1 r p
    shift
    # the cache-race ground of test_cache_users (under /tmp, for the other
    # user to reach) is an e2e work dir too: its bundles' entries hold libpython
    local -a typ prune=(-path /nonexistent -o -path '/tmp/bundle-e2e-race.*')
    for p in "$@"; do prune+=(-o -path "$p"); done
    if [ "$mode" = prove ]; then typ=(\( -type f -o -xtype f \)); else typ=(\( -type f -o -type l \)); fi
    awk '{ mp = $5; for (i = 7; i <= NF; i++) if ($i == "-") { fs = $(i + 1); break }
           if (mp ~ /^\/(proc|sys|dev)(\/|$)/ || mp ~ /\\/) next
           if (fs ~ /^(ext[234]|xfs|btrfs|zfs|tmpfs|overlay|nfs4?|f2fs|squashfs|9p|virtiofs|fuse.*)$/) print mp }' \
        /proc/self/mountinfo | sort -u | while IFS= read -r r; do
        # a directory that vanishes during the walk (another test's work
        # dir) makes find exit 1; what it printed still counts
        find "$r" -xdev \( "${prune[@]}" \) -prune -o \( -name 'libpython*.so*' -o -name os.py \
            -o \( \( -name 'python*' -o -name 'pypy*' \) \( -type l -o -perm /111 \) \) \) \
            "${typ[@]}" -print 2>/dev/null || true
    done | while IFS= read -r r; do
        case ${r##*/} in
            libpython* | os.py) echo "$r" ;;
            *) if [[ ${r##*/} =~ ^(python|pypy)[0-9.]*[dmtu]?$ ]]; then echo "$r"; fi ;;
        esac
    done
    return 0
}

_sandbox_hidelist() {
    [[ -n ${_SB_LIST:-} && -f $_SB_LIST ]] && return 0
    _e2e_root
    local dir=$E2E_ROOT/.sandbox
    mkdir -p "$dir"
    _SB_LIST=$dir/hide.list
    # Reuse a list computed in the last 10 minutes by an earlier test.
    if ((!${_SB_RECOMPUTE:-0})) && [[ -f $_SB_LIST && -n $(find "$_SB_LIST" -mmin -10 2>/dev/null) ]] &&
        grep -qxF "# py $PY" "$_SB_LIST"; then
        return 0
    fi

    local -a tdirs=() wfiles=()
    local d f
    # _add_t DIR: hide DIR whole; returns 1 (and hides nothing) for a dir
    # that holds far more than Python, or the e2e work dirs.
    _add_t() {
        local r
        r=$(readlink -f -- "$1" 2>/dev/null) || return 1
        [[ -d $r ]] || return 1
        case $r in / | /usr | /usr/local | /opt | /home | /root | /tmp | /var | /etc) return 1 ;; esac
        [[ $E2E_ROOT == "$r"/* ]] && return 1
        tdirs+=("$r")
    }
    # _hide_file FILE: a whiteout for it in a shared system dir (/usr/bin,
    # /usr/lib/x86_64-linux-gnu, ...); elsewhere (another Python's bin or lib,
    # a bundle cache) its whole dir is hidden, or a whiteout if that is refused.
    _hide_file() {
        local fd=${1%/*}
        if [[ $fd =~ ^(/usr(/local)?)?/(s?bin|lib(64|32|x32)?)(/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?$ ]]; then
            wfiles+=("$1")
        else
            _add_t "$fd" || wfiles+=("$1")
        fi
    }
    # Well-known homes of Python
    for d in /usr/lib/python[0-9]* /usr/lib64/python[0-9]* /usr/local/lib/python[0-9]* \
        /usr/local/lib64/python[0-9]* /etc/python[0-9]* /opt/python* /opt/conda \
        /opt/miniconda* /opt/anaconda* /usr/local/python* /root/.pyenv \
        "${HOME:-/root}/.pyenv" "${HOME:-/root}/.local/lib/python"[0-9]* \
        "${PYENV_ROOT:-/nonexistent}"; do
        if [[ -d $d ]]; then _add_t "$d" || true; fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        d=$(pyenv root 2>/dev/null || true)
        if [[ -n $d && -d $d ]]; then _add_t "$d" || true; fi
    fi
    # The interpreter being bundled
    if [[ -n ${PY_BASE_PREFIX:-} ]]; then _add_t "$PY_BASE_PREFIX" || true; fi
    if [[ -n ${PY_STDLIB:-} ]]; then _add_t "$PY_STDLIB" || true; fi
    # Everything else on the machine
    local found
    found=$(_sb_scan hide "$E2E_ROOT" "${tdirs[@]}")
    while IFS= read -r f; do
        [[ -n $f ]] || continue
        if [[ ${f##*/} == os.py ]]; then
            d=${f%/*}
            if [[ -d $d/encodings ]]; then _add_t "$d" || true; fi
            continue
        fi
        _hide_file "$f"
    done <<<"$found"
    if [[ -n ${PY:-} ]]; then
        _hide_file "$PY"
        _hide_file "$(readlink -f "$PY")"
    fi

    # Drop what is inside a hidden dir, and dirs inside other hidden dirs.
    local -a T=() W=()
    local t o inside
    while IFS= read -r t; do
        [[ -n $t ]] || continue
        inside=0
        for o in "${tdirs[@]}"; do
            [[ $o != "$t" && $t == "$o"/* ]] && inside=1 && break
        done
        ((inside)) || T+=("$t")
    done < <(printf '%s\n' "${tdirs[@]}" | sort -u)
    while IFS= read -r f; do
        [[ -n $f ]] || continue
        inside=0
        for o in "${T[@]}"; do [[ $f == "$o"/* ]] && inside=1 && break; done
        ((inside)) || W+=("$f")
    done < <(printf '%s\n' "${wfiles[@]}" | sort -u)
    # The work dirs must stay visible.
    for o in "${T[@]}"; do
        [[ $E2E_ROOT == "$o" || $E2E_ROOT == "$o"/* ]] &&
            fail "WORKDIR ($E2E_ROOT) is inside $o, which the sandbox must hide; use another WORKDIR"
    done
    {
        echo "# py ${PY:-}"
        for o in "${T[@]}"; do echo "T $o"; done
        for f in "${W[@]}"; do echo "W $f"; done
    } >"$_SB_LIST.tmp.$$"
    mv -f "$_SB_LIST.tmp.$$" "$_SB_LIST"
}

# sandbox_cmd [options] BINARY [ARGS...]: set the array SANDBOX_CMD to the
# command that runs BINARY in the sandbox. Use it to start a binary in the
# background and keep its PID: the command execs all the way down, so $! is
# the app's own PID (signals reach it directly).
# Options:
#   --env K=V      add K=V to the app's environment (repeatable)
#   --lang VALUE   LANG=VALUE instead of C.UTF-8;  --no-lang: no LANG at all
#   --home DIR     HOME=DIR (default $SB_HOME)
#   --cache DIR    BUNDLE_CACHE_DIR=DIR (default $SB_CACHE); --no-cache: unset
#   --timeout S    kill it after S seconds (status 124; then the binary is a
#                  child of timeout(1), not the command's own process)
#   --cpus LIST    run it on these CPUs only (taskset -c LIST; default
#                  $SB_CPUS, else any).  On one CPU a first start unpacks
#                  no extension module ahead of its import (stub/prefetch.c)
sandbox_cmd() {
    if [[ ${_SB_PROVEN:-0} != 1 && ${_SB_PROVING:-0} != 1 && $BASH_SUBSHELL -gt 0 ]]; then
        fail "test bug: call need_sandbox at the top level before running the sandbox inside \$(...)"
    fi
    local lang=C.UTF-8 home=${SB_HOME:-} cache=${SB_CACHE:-} have_lang=1 have_cache=1 cpus=${SB_CPUS:-}
    local -a extra=() pre=()
    while (($#)); do
        case $1 in
            --env) extra+=("$2"); shift 2 ;;
            --lang) lang=$2; shift 2 ;;
            --no-lang) have_lang=0; shift ;;
            --home) home=$2; shift 2 ;;
            --cache) cache=$2; shift 2 ;;
            --no-cache) have_cache=0; shift ;;
            --timeout) pre=(timeout -k 5 "$2"); shift 2 ;;
            --cpus) cpus=$2; shift 2 ;;
            --) shift; break ;;
            -*) fail "sandbox_cmd: unknown option $1" ;;
            *) break ;;
        esac
    done
    (($#)) || fail "sandbox_cmd: no binary given"
    [[ -n $home ]] || { home=$(mktemp -d "${E2E_ROOT:-/tmp}/sb-home.XXXXXX"); _E2E_CLEAN+=("$home"); }
    _sandbox_ready
    local -a envv=(PATH=/usr/bin:/bin "HOME=$home")
    ((have_lang)) && envv+=("LANG=$lang")
    if ((have_cache)); then
        [[ -n $cache ]] || fail "sandbox_cmd: no cache dir (call mkwork first or pass --cache)"
        envv+=("BUNDLE_CACHE_DIR=$cache")
    fi
    envv+=("${extra[@]}")
    [[ -z $cpus ]] || pre+=(taskset -c "$cpus")
    SANDBOX_CMD=("${pre[@]}" unshare --mount --propagation private --
        /bin/bash "$E2E_LIB" __sandbox_inner "$_SB_STAGE" "$_SB_LIST"
        /usr/bin/env -i "${envv[@]}" "$@")
}

# need_sandbox: make sure the sandbox can be built here (else skip 77) and
# prove that it hides every Python (else fail). Call it once, at the top level
# of the test (not inside $(...)), before run_sandboxed/sandbox_cmd.
need_sandbox() {
    [[ -n ${E2E_ROOT:-} ]] || _e2e_root
    _sandbox_ready
}

# run_sandboxed [options] BINARY [ARGS...]: run BINARY in the sandbox (options
# as for sandbox_cmd); stdin, stdout, stderr and the exit status are BINARY's.
# The first call in a test proves the sandbox hides every Python (sandbox_prove).
run_sandboxed() {
    sandbox_cmd "$@"
    "${SANDBOX_CMD[@]}"
}

_sandbox_ready() {
    [[ ${_SB_PROVEN:-0} == 1 || ${_SB_PROVING:-0} == 1 ]] && return 0
    command -v unshare >/dev/null 2>&1 || skip "no unshare(1): cannot build the no-Python sandbox (apt-get install util-linux)"
    local err
    if ! err=$(unshare --mount --propagation private -- /bin/true 2>&1); then
        skip "cannot create a mount namespace (needs root or CAP_SYS_ADMIN): ${err:-unshare failed}"
    fi
    [[ -n ${PY:-} ]] || find_python
    _sandbox_hidelist
    _SB_STAGE=$E2E_ROOT/.sandbox/stage
    mkdir -p "$_SB_STAGE"
    _SB_PROVING=1
    if ! sandbox_prove quiet; then
        # The hide list may come from an earlier test; recompute it once.
        # Never removed: a test running beside this one may be reading it
        # (the new list replaces it in one rename).
        info "sandbox check failed with a cached hide list; recomputing it"
        _SB_LIST= _SB_RECOMPUTE=1
        _sandbox_hidelist
        _SB_RECOMPUTE=0
        sandbox_prove
    fi
    _SB_PROVING=0
    _SB_PROVEN=1
}

# sandbox_prove [quiet]: inside the sandbox, with the app's environment, no Python may
# be reachable: none on PATH, `python3 -c pass` fails, ldconfig -p names no
# libpython, nothing that was hidden is there, $PY is gone, and a fresh
# `find /` (outside the e2e work dirs) finds no interpreter, no libpython and
# no stdlib. Any leak fails the test loudly: a leaking sandbox would make
# every test meaningless (with "quiet": return 1 instead).
sandbox_prove() {
    local out rc=0 home quiet=${1:-}
    home=$(mktemp -d "$E2E_ROOT/.sandbox/prove-home.XXXXXX")
    # shellcheck disable=SC2016
    local check='
leak() { echo "LEAK: $*"; bad=1; }
bad=0
list=$1 root=$2 py=$3
for n in python python2 python3 pypy pypy3 python3.6 python3.7 python3.8 python3.9 \
         python3.10 python3.11 python3.12 python3.13 python3.14; do
    if p=$(command -v "$n" 2>/dev/null) && [ ! -c "$p" ]; then leak "$n is on PATH at $p"; fi
done
python3 -c pass >/dev/null 2>&1 && leak "python3 -c pass succeeded"
/usr/bin/env python3 -c pass >/dev/null 2>&1 && leak "/usr/bin/env python3 -c pass succeeded"
ldc=$(PATH=/usr/sbin:/sbin:$PATH command -v ldconfig)
if [ -n "$ldc" ]; then
    l=$("$ldc" -p | grep -i libpython) && leak "ldconfig -p still lists: $l"
fi
while read -r kind path; do
    case $kind in
        T) [ -z "$(ls -A "$path" 2>/dev/null)" ] || leak "hidden dir $path is not empty" ;;
        W) if [ -e "$path" ] && [ ! -c "$path" ]; then leak "hidden file $path is still there"; fi ;;
    esac
done <"$list"
if [ -e "$py" ] && [ ! -c "$py" ]; then leak "the bundled interpreter $py is visible"; fi
while IFS= read -r f; do
    [ -n "$f" ] || continue
    [ -c "$f" ] && continue  # hidden under /dev/null (the no-overlayfs fallback)
    case $f in
        */os.py) [ -d "$(dirname "$f")/encodings" ] && leak "a Python stdlib is visible: $(dirname "$f")" ;;
        *) leak "visible: $f" ;;
    esac
done <<EOF
$(_sb_scan prove "$root")
EOF
[ "$bad" = 0 ] && echo "SANDBOX OK"
exit "$bad"
'
    check="$(declare -f _sb_scan)
$check"
    sandbox_cmd --home "$home" --cache "$home" /bin/bash -c "$check" prove \
        "$_SB_LIST" "$E2E_ROOT" "$PY"
    out=$("${SANDBOX_CMD[@]}" 2>&1 </dev/null) || rc=$?
    rm -rf "$home"
    # shellcheck disable=SC2001
    if [[ $rc != 0 || $out != *"SANDBOX OK"* ]]; then
        [[ $quiet == quiet ]] && return 1
        printf '%s: FAIL: THE NO-PYTHON SANDBOX LEAKS (exit %s); every result would be meaningless:\n%s\n' \
            "$TEST_NAME" "$rc" "$(sed 's/^/    /' <<<"$out")" >&"$E2E_LOGFD"
        printf '  hide list %s:\n%s\n' "$_SB_LIST" "$(sed 's/^/    /' "$_SB_LIST")" >&"$E2E_LOGFD"
        _E2E_FAILED=1
        exit 1
    fi
}

# ---------------------------------------------------------------------------
# Misc
# ---------------------------------------------------------------------------

# free_port: print a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local p _
    for _ in $(seq 1 50); do
        p=$((20000 + (RANDOM % 20000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    fail "no free TCP port found"
}

# http_get URL-PATH PORT: print "STATUS BODY" for GET http://127.0.0.1:PORT/PATH,
# using bash's /dev/tcp (curl is not assumed). Returns non-zero if nothing answers.
http_get() {
    local path=$1 port=$2 resp status body
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
    resp=$(timeout 5 cat <&3) || true
    exec 3<&- 3>&-
    status=$(head -n1 <<<"$resp" | awk '{print $2}')
    body=$(sed '1,/^\r\{0,1\}$/d' <<<"$resp")
    [[ -n $status ]] || return 1
    printf '%s %s' "$status" "$body"
}

# assert_host_libs_base MAPS CACHE WHAT: MAPS is a copy of a bundled app's
# /proc/PID/maps. Every shared library it maps must come from the bundle's
# cache (CACHE), a memfd, or the host base that DESIGN.md allows: glibc's own
# libraries and the loader. Anything else (libssl, libffi, libsqlite3, libz...)
# would be missing on a bare host.
assert_host_libs_base() {
    local maps=$1 cache=$2 what=$3 bad
    bad=$(awk '{ print $6 }' "$maps" | grep -E '\.so(\.[0-9]+)*$' | sort -u |
        grep -v -F "$cache/" |
        grep -v -E '/(ld-linux[-a-z0-9_.]*|lib(c|m|mvec|pthread|dl|rt|util|resolv|anl|nsl|nss_[a-z0-9]+|thread_db|BrokenLocale)\.so(\.[0-9]+)*)$' || true)
    [[ -z $bad ]] || fail "$what maps host libraries that a host without Python may lack (not glibc, not from the bundle's cache):
$bad"
}

# files_in DIR: the sorted list of every entry under DIR (for "no file left" checks).
files_in() {
    if [[ -d $1 ]]; then (cd "$1" && find . -mindepth 1 | LC_ALL=C sort); fi
}

# bundle_hash FILE: the cache key of a bundle, read from its trailer (the
# SHA-256 at bytes 48..80 of the last 96; include/bundle/payload.h)
bundle_hash() { tail -c 96 "$1" | head -c 80 | tail -c 32 | od -An -tx1 -v | tr -d ' \n'; }
