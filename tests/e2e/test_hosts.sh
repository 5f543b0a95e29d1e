#!/usr/bin/env bash
# Issue 13, "Runs on every Linux a Mesos agent runs": bundles built here run
# on other Debian releases that have no Python at all. The hosts are minimal
# roots (debootstrap --variant=minbase) of Debian 12 (bookworm, glibc 2.36)
# and Debian 11 (bullseye, glibc 2.31), made by tests/hosts/make-root and
# cached under /var/cache/bundle-hosts; each run gets a fresh copy of a root,
# its own mount and PID namespaces, /proc, /dev, /tmp, an empty HOME and
# BUNDLE_CACHE_DIR and env -i (tests/e2e/hosts.sh).
#
# The apps, each built with Debian's /usr/bin/python3 and with pyenv's 3.8 and
# 3.13 where present (an interpreter that is absent is skipped with a message;
# numpy and flask only where the interpreter imports them):
#   hello     examples/hello: exact output
#   stdlib    tests/hosts/apps/stdlib_app.py: sqlite3, ssl, hashlib, lzma, bz2,
#             ctypes, asyncio, subprocess, multiprocessing (spawn)...: the
#             same output as plain python here, ending ALL OK
#   numpy     tests/hosts/apps/numpy_app.py: the same output as plain python
#   service   examples/service: /health answers 200 ok, SIGTERM -> exit 0
#   flask     tests/hosts/apps/flask_service.py: the same, on Flask/werkzeug
#
# Every (root, python, app) case runs; the test fails on a failing case that
# tests/hosts/known-failures.txt does not list, and names listed cases that now
# pass (remove them from the list). Skips (77) without root or unshare, or when
# no root is cached and none may be made: a root is made (a few minutes) only
# with BUNDLE_HOSTS=1 (or beforehand: tests/hosts/make-root bookworm bullseye,
# as .ci/run does); make-root skips where debootstrap or the mirror is missing.
# About 30-60 s with the roots cached (2 cores); making both roots adds about 5 minutes.
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"
need_bundle
[[ $(id -u) == 0 ]] || skip "needs root: the hosts are chroots in mount and PID namespaces"
command -v unshare >/dev/null 2>&1 || skip "no unshare(1) (apt-get install util-linux)"
err=$(unshare --mount --pid --fork --kill-child --propagation private -- /bin/true 2>&1) ||
    skip "cannot create mount and PID namespaces: ${err:-unshare failed}"
command -v chroot >/dev/null 2>&1 || skip "no chroot(8)"

KNOWN_FILE=$SRCDIR/tests/hosts/known-failures.txt
APPS=$SRCDIR/tests/hosts/apps
[[ -f $KNOWN_FILE ]] || fail "no $KNOWN_FILE"

# ---- the roots
SUITES=()
for s in bookworm bullseye; do
    if host_root "$s"; then
        SUITES+=("$s")
    else
        info "no $s host: $HOST_WHY"
    fi
done
((${#SUITES[@]})) || skip "no host root is cached and none may be made here (see above)"
for s in "${SUITES[@]}"; do
    host_prove "$s"
    info "host $s: $HOST_DESC(no Python: checked)"
done

# ---- the interpreters: LABEL PATH
PYS=()
if [[ -x /usr/bin/python3 ]]; then
    PYS+=("debian /usr/bin/python3")
else
    info "SKIP debian: no /usr/bin/python3 (apt-get install python3)"
fi
pyroot=
if command -v pyenv >/dev/null 2>&1; then pyroot=$(pyenv root 2>/dev/null || true); fi
[[ -n $pyroot ]] || pyroot=${PYENV_ROOT:-$HOME/.pyenv}
for v in 3.8 3.13; do
    p=$(find "$pyroot/versions" -maxdepth 3 -path "$pyroot/versions/$v.[0-9]*/bin/python3" 2>/dev/null | sort -V | tail -n1)
    if [[ -n $p && -x $p ]]; then
        PYS+=("pyenv$v $p")
    else
        info "SKIP pyenv$v: no $pyroot/versions/$v.*/bin/python3"
    fi
done
((${#PYS[@]})) || skip "no interpreter to build with"
# the same, built with --carry-glibc: they must run on every root (LABEL PATH FLAGS)
for entry in "${PYS[@]}"; do
    case ${entry%% *} in debian | pyenv3.8 | pyenv3.13) PYS+=("${entry%% *}+carry ${entry#* } --carry-glibc") ;; esac
done

mkwork hosts
cd "$WORK" || exit 1
# the environment both plain python and the bundle run with (OpenBLAS's
# setting of this machine, if any, as every process here gets it)
RUN_ENV=()
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if [[ -n ${!v:-} ]]; then RUN_ENV+=("$v=${!v}"); fi
done
plain() { # PY SCRIPT: its stdout, run as the bundle will be
    env -i PATH=/usr/bin:/bin "HOME=$WORK" LANG=C.UTF-8 "${RUN_ENV[@]}" "$1" -I "$2" </dev/null 2>"$WORK/plain.err"
}
ENVOPTS=()
for v in "${RUN_ENV[@]}"; do ENVOPTS+=(--env "$v"); done

# ---- build: CASES holds "LABEL APP"; WANT[LABEL/APP] the expected stdout
CASES=()
declare -A WANT=() FLOOR=()
for entry in "${PYS[@]}"; do
    label=${entry%% *} py=${entry#* } flags=()
    read -r py rest <<<"$py"
    read -r -a flags <<<"${rest:-}"
    facts=$("$py" -I -c 'import sys, sysconfig
print("%d.%d" % sys.version_info[:2], sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)' 2>/dev/null) ||
        { info "SKIP $label: $py does not run"; continue; }
    ver=${facts% *}
    if [[ ${facts#* } != 1 ]]; then
        info "SKIP $label: $py ($ver) has no shared libpython"
        continue
    fi
    PY=$py # what build_app bundles
    mkdir -p "$WORK/$label"
    apps=(hello stdlib service)
    [[ $label == *+carry ]] && apps+=(traps)
    if "$py" -I -c 'import numpy' >/dev/null 2>&1; then apps+=(numpy); else info "SKIP $label numpy: $py has no numpy"; fi
    if "$py" -I -c 'import flask' >/dev/null 2>&1; then apps+=(flask); else info "SKIP $label flask: $py has no flask"; fi
    for app in "${apps[@]}"; do
        case $app in
            hello) src=$SRCDIR/examples/hello/hello.py ;;
            stdlib) src=$APPS/stdlib_app.py ;;
            numpy) src=$APPS/numpy_app.py ;;
            service) src=$SRCDIR/examples/service/service.py ;;
            flask) src=$APPS/flask_service.py ;;
            traps) src=$APPS/glibc_traps.py ;;
        esac
        build_app "$src" --no-marathon -o "$WORK/$label/$app" "${flags[@]}"
        f=$(grep -o 'needs glibc >= [0-9.]*' <<<"$BUILD_ERR" | grep -o '[0-9.]*$' || true)
        if [[ -n $f ]] && { [[ -z ${FLOOR[$label]:-} ]] || [[ $(printf '%s\n' "$f" "${FLOOR[$label]}" | sort -V | tail -n1) == "$f" ]]; }; then
            FLOOR[$label]=$f
        fi
        CASES+=("$label $app")
        case $app in
            hello) WANT[$label/$app]="hello from bundle
python $ver, frozen=True" ;;
            stdlib | numpy | traps)
                WANT[$label/$app]=$(plain "$py" "$src") ||
                    fail "plain $py $src failed: $(cat "$WORK/plain.err")"
                ;;
        esac
    done
    info "built with $label (Python $ver, $py): ${apps[*]}; bundle says: needs glibc >= ${FLOOR[$label]:-?}"
done
((${#CASES[@]})) || skip "no interpreter could build the apps"

# ---- run one case: sets RES (ok | fail) and WHY (one paragraph)
first_err() { # FILE: the first line of a failed run's stderr (+ how many more)
    local n
    n=$(grep -c -v '^[[:space:]]*$' "$1" || true)
    if ((n == 0)); then echo "(nothing)"; return 0; fi
    grep -v '^[[:space:]]*$' "$1" | head -n 1
    if ((n > 1)); then echo "  (and $((n - 1)) more line(s))"; fi
}
run_batch() { # SUITE LABEL APP
    local s=$1 label=$2 app=$3 bin=$WORK/$2/$3 rc=0 out
    host_cmd --timeout 180 "${ENVOPTS[@]}" "$s" "$bin"
    out=$("${HOST_CMD[@]}" </dev/null 2>"$WORK/err") || rc=$?
    host_done
    if [[ $rc == 0 && $out == "${WANT[$label/$app]}" && ! -s $WORK/err ]]; then
        RES=ok
        return 0
    fi
    RES=fail
    if [[ $rc != 0 ]]; then
        WHY="exit $rc; stderr: $(first_err "$WORK/err")"
    elif [[ -s $WORK/err ]]; then
        WHY="wrote on stderr: $(first_err "$WORK/err")"
    else
        WHY="stdout differs from plain python's:
$({ diff <(printf '%s\n' "${WANT[$label/$app]}") <(printf '%s\n' "$out") || true; } | head -n 12)"
    fi
}
run_service() { # SUITE LABEL APP: /health answers, GET / is right, SIGTERM -> 0
    _run_service "$@"
    host_done
}
_run_service() {
    local s=$1 label=$2 app=$3 bin=$WORK/$2/$3 port health root want
    port=$(free_port)
    host_start "${ENVOPTS[@]}" --env "PORT0=$port" "$s" "$bin" </dev/null >"$WORK/svc.out" 2>"$WORK/svc.err"
    health=
    for _ in $(seq 1 300); do # up to ~30 s: the first start fills the cache
        kill -0 "$HOST_PID" 2>/dev/null || break
        health=$(http_get /health "$port" 2>/dev/null) && break
        sleep 0.1
    done
    RES=fail
    if [[ $health != "200 ok" ]]; then
        host_stop KILL 5
        WHY="/health did not answer 200 ok (got '${health}'; exit ${HOST_RC:-?}); stderr: $(first_err "$WORK/svc.err")"
        return 0
    fi
    root=$(http_get / "$port" 2>/dev/null || true)
    if [[ $app == flask ]]; then want='"frozen":true,"hello":"from flask"'; else want='"hello": "from bundle"'; fi
    if [[ $root != "200 "*"$want"* ]]; then
        host_stop KILL 5
        WHY="GET / answered '$root', not 200 with $want"
        return 0
    fi
    host_stop TERM 10
    if [[ -z $HOST_RC ]]; then
        host_stop KILL 5
        WHY="still running 10 s after SIGTERM; stderr: $(first_err "$WORK/svc.err")"
    elif [[ $HOST_RC != 0 ]]; then
        WHY="exit $HOST_RC after SIGTERM (want 0); stderr: $(first_err "$WORK/svc.err")"
    elif ! grep -q 'stopped' "$WORK/svc.err"; then
        WHY="exit 0 after SIGTERM but no 'stopped' in its log: $(first_err "$WORK/svc.err")"
    else
        RES=ok
    fi
}

# glibc_said SUITE LABEL APP: the bundle, run on SUITE's root, exits 1 with
# exactly one line on stderr that names the glibc it needs and the host's,
# and leaves no cache entry
glibc_said() {
    local s=$1 bin=$WORK/$2/$3 rc=0 inst=$WORK/glibc-inst
    rm -rf --one-file-system "$inst"
    host_cmd --timeout 60 --keep "$inst" "$s" "$bin"
    "${HOST_CMD[@]}" </dev/null >/dev/null 2>"$WORK/glibc.err" || rc=$?
    local entries
    entries=$(find "$inst" -regextype posix-extended -regex '.*/(\.tmp-)?[0-9a-f]{16,64}.*' -print 2>/dev/null | head -3)
    rm -rf --one-file-system "$inst"
    [[ $rc == 1 && $(grep -c '' "$WORK/glibc.err") == 1 && -z $entries ]] &&
        grep -q 'needs glibc >= 2\.[0-9]*; this host has glibc 2\.[0-9]*' "$WORK/glibc.err"
}

# known failures: ROOT PYTHON APP reason
declare -A KNOWN=()
while read -r r p a reason; do
    [[ -z $r || $r == \#* ]] && continue
    [[ -n $a ]] || fail "$KNOWN_FILE: a line needs ROOT PYTHON APP REASON: $r $p"
    KNOWN["$r $p $a"]=$reason
done <"$KNOWN_FILE"

k=0 n=0
unexpected=() now_pass=() still=()
for s in "${SUITES[@]}"; do
    for c in "${CASES[@]}"; do
        label=${c% *} app=${c#* } WHY=
        t0=$(date +%s%N)
        case $app in
            service | flask) run_service "$s" "$label" "$app" ;;
            *) run_batch "$s" "$label" "$app" ;;
        esac
        ms=$((($(date +%s%N) - t0) / 1000000))
        n=$((n + 1))
        id="$s $label $app"
        if [[ $RES == ok ]]; then
            k=$((k + 1))
            info "$id: ok ($ms ms)"
            if [[ -n ${KNOWN[$id]+x} ]]; then now_pass+=("$id"); fi
        elif [[ -n ${KNOWN[$id]+x} ]]; then
            info "$id: fails, as listed ($ms ms): $WHY"
            still+=("$id")
            # a host whose glibc is too old is told so in one line, exit 1
            # (issue 13), not by the dynamic loader's messages
            if [[ ${KNOWN[$id]} == *"glibc"* ]] && ! glibc_said "$s" "$label" "$app"; then
                unexpected+=("$id: fails, but not with the stub's one line about glibc: $WHY")
            fi
        else
            info "$id: FAILS ($ms ms): $WHY"
            unexpected+=("$id: $WHY")
        fi
    done
done

# a host whose glibc is new enough: a --carry-glibc bundle unpacks none of it
for s in "${SUITES[@]}"; do
    [[ $s == bookworm ]] || continue
    for c in "${CASES[@]}"; do
        [[ $c == *"+carry hello" ]] || continue
        inst=$WORK/carry-idle
        rm -rf --one-file-system "$inst"
        host_cmd --timeout 60 --keep "$inst" "$s" "$WORK/${c% *}/hello"
        rc=0
        "${HOST_CMD[@]}" </dev/null >/dev/null 2>&1 || rc=$?
        left=$(find "$inst" -path '*/glibc/*' -print 2>/dev/null | head -3)
        made=$(find "$inst" -path '*/.bundle-cache/*/lib/libpython*' -print 2>/dev/null | head -1)
        rm -rf --one-file-system "$inst"
        n=$((n + 1))
        if [[ -z $made ]]; then
            unexpected+=("$s $c (carry-idle check): no cache entry where it was looked for")
        elif [[ $rc != 0 ]]; then
            unexpected+=("$s $c (carry-idle check): exit $rc")
        elif [[ -n $left ]]; then
            unexpected+=("$s $c: unpacked the carried glibc on a host that needs none: $left")
        else
            k=$((k + 1))
            info "$s $c: nothing of the carried glibc unpacked (its glibc is new enough)"
        fi
    done
done

echo "hosts: $k/$n work"
if ((${#still[@]})); then info "known failures, still failing: ${#still[@]} (${KNOWN[${still[0]}]})"; fi
if ((${#now_pass[@]})); then
    info "now passes: remove from known-failures ($KNOWN_FILE):$(printf '\n    %s' "${now_pass[@]}")"
fi
if ((${#unexpected[@]})); then
    fail "$(printf '%s\n' "${#unexpected[@]} case(s) fail that $KNOWN_FILE does not list:" "${unexpected[@]}")"
fi
pass
