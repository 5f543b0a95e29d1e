# shellcheck shell=bash disable=SC2034
# tests/e2e/hosts.sh: run a bundled executable on another Linux: a minimal
# Debian root made by tests/hosts/make-root (debootstrap --variant=minbase,
# cached under /var/cache/bundle-hosts), which holds no Python at all.
#
# Sourced after lib.sh by tests that need it (tests/e2e/test_hosts.sh):
#
#   host_root SUITE          HOST_ROOT = the cached root of SUITE; returns 1
#                            (HOST_WHY says why) when it is not there and may
#                            not be made here (see below)
#   host_cmd [opts] SUITE BINARY [ARGS...]
#                            set HOST_CMD to the command that runs BINARY in a
#                            fresh copy of SUITE's root
#   host_run [opts] SUITE BINARY [ARGS...]
#                            run it: stdin/stdout/stderr and the exit status are
#                            BINARY's (137: killed by --timeout)
#   host_start [opts] SUITE BINARY [ARGS...]
#                            run it in the background: HOST_PID (the unshare
#                            process, what `wait` takes) and HOST_APP (the app's
#                            own PID, as the host sees it: signals go there)
#   host_stop SIG SECS       send SIG to HOST_APP, wait up to SECS for it to
#                            end; HOST_RC = its exit status ("" if still running)
#   host_done                remove the copy of the root the last run used
#   host_prove SUITE         fail the test if a Python can be found in the root
#
# Call host_root at the top level of the test (not inside $(...)) before the
# others: it makes the dir that holds the copies, removed when the test exits.
#
# Options of host_cmd/host_run/host_start:
#   --env K=V       add K=V to the app's environment (repeatable)
#   --timeout S     SIGKILL it after S seconds (default 300; 0: none)
#   --keep DIR      use DIR as the copy's writable layer and keep it (to run
#                   twice with the same HOME and cache); default: a fresh one
#
# What a run looks like: `unshare --mount --pid --fork --kill-child` (mounts and
# processes die with it; the network is the host's, so a service's port is
# reached from the host on 127.0.0.1), then, inside, this file is executed as
# `bash hosts.sh __host_inner ...`, which mounts an overlay of the cached root
# (read-only lower layer, a fresh upper layer; a full copy where overlayfs is
# refused), /proc (of the new PID namespace), /sys read-only, a tmpfs /dev with
# null, zero, full, random, urandom, tty and shm, a tmpfs /tmp, copies the
# binary to /app/NAME, writes /etc/hosts (localhost) if the root has none, and
# execs `chroot ROOT env -i -C /home/app PATH=... HOME=/home/app LANG=C.UTF-8
# BUNDLE_CACHE_DIR=/home/app/.bundle-cache /app/NAME ARGS`. The app runs as
# root and is PID 1 of its namespace: as PID 1 it gets only the signals it
# handles (SIGKILL aside), and the unshare process ignores SIGTERM/SIGINT,
# which is why signals go to HOST_APP.
#
# Roots: SUITE's root is used when it is cached. When it is not, it is made
# (tests/hosts/make-root: a few minutes) only with BUNDLE_HOSTS=1; otherwise
# host_root returns 1 with a message that says how to make it.
# BUNDLE_HOSTS_CACHE moves the cache (default /var/cache/bundle-hosts).
# E2E_NO_OVERLAY=1 makes each copy a full one (the fallback without overlayfs).

HOSTS_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

# ---------------------------------------------------------------------------
# Inner half: runs inside the new mount and PID namespaces, as root.
#   bash hosts.sh __host_inner LOWER INST BINARY NAME ENV...
# ---------------------------------------------------------------------------
_host_inner() {
    local lower=$1 inst=$2 bin=$3 name=$4
    shift 4
    local m=$inst/merged
    _hdie() { printf 'host: setup failed: %s\n' "$*" >&2; exit 125; }
    mkdir -p "$inst/upper" "$inst/work" "$m" || _hdie "cannot make $inst"
    if [[ ${E2E_NO_OVERLAY:-0} == 1 ]] || ! mount -t overlay bundle-host -o "lowerdir=$lower,upperdir=$inst/upper,workdir=$inst/work" "$m" \
        </dev/null 2>/dev/null; then
        # no overlayfs: a full copy (kept in upper, so --keep still works)
        if [[ ! -e $inst/upper/.host-copy ]]; then
            cp -a "$lower/." "$inst/upper/" || _hdie "cannot copy the root $lower"
            : >"$inst/upper/.host-copy"
        fi
        mount --bind "$inst/upper" "$m" </dev/null || _hdie "cannot bind the copy of $lower"
    fi
    mkdir -p "$m/proc" "$m/sys" "$m/dev" "$m/tmp" "$m/app" "$m/home/app" || _hdie "cannot make dirs in the root"
    mount -t proc -o nosuid,nodev,noexec proc "$m/proc" </dev/null || _hdie "cannot mount /proc"
    mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$m/sys" </dev/null 2>/dev/null ||
        mount --rbind -o ro /sys "$m/sys" </dev/null 2>/dev/null || true
    mount -t tmpfs -o mode=0755,size=1m,nosuid bundle-host-dev "$m/dev" </dev/null || _hdie "cannot mount /dev"
    local d
    for d in null zero full random urandom tty; do
        [[ -e /dev/$d ]] || continue
        : >"$m/dev/$d" || _hdie "cannot make $m/dev/$d"
        mount --bind "/dev/$d" "$m/dev/$d" </dev/null || _hdie "cannot bind /dev/$d"
    done
    mkdir -p "$m/dev/shm" "$m/dev/pts"
    mount -t tmpfs -o mode=1777,size=256m,nosuid,nodev bundle-host-shm "$m/dev/shm" </dev/null || _hdie "cannot mount /dev/shm"
    ln -s /proc/self/fd "$m/dev/fd"
    ln -s /proc/self/fd/0 "$m/dev/stdin"
    ln -s /proc/self/fd/1 "$m/dev/stdout"
    ln -s /proc/self/fd/2 "$m/dev/stderr"
    mount -t tmpfs -o mode=1777,size=512m,nosuid,nodev bundle-host-tmp "$m/tmp" </dev/null || _hdie "cannot mount /tmp"
    if [[ ! -s $m/etc/hosts ]]; then
        printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$m/etc/hosts"
    fi
    cp "$bin" "$m/app/$name" || _hdie "cannot copy $bin into the root"
    chmod 0755 "$m/app/$name" || _hdie "cannot chmod $m/app/$name"
    # the app gets 0, 1, 2 and no other descriptor of the test harness
    local fd
    for fd in "/proc/$$/fd/"*; do
        fd=${fd##*/}
        if ((fd > 2 && fd != 255)); then eval "exec $fd>&-"; fi
    done
    exec chroot "$m" /usr/bin/env -i -C /home/app \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/home/app LANG=C.UTF-8 BUNDLE_CACHE_DIR=/home/app/.bundle-cache "$@" "/app/$name" "${HOST_ARGS[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    if [[ ${1:-} == __host_inner ]]; then
        shift
        # __host_inner LOWER INST BINARY NAME NENV ENV... ARGS...
        _l=$1 _i=$2 _b=$3 _n=$4 _ne=$5
        shift 5
        _env=("${@:1:_ne}")
        shift "$_ne"
        HOST_ARGS=("$@")
        _host_inner "$_l" "$_i" "$_b" "$_n" "${_env[@]}"
    fi
    echo "hosts.sh is meant to be sourced by tests/e2e/test_*.sh" >&2
    exit 2
fi

# ---------------------------------------------------------------------------
# Outer half (sourced, after lib.sh)
# ---------------------------------------------------------------------------
HOSTS_CACHE=${BUNDLE_HOSTS_CACHE:-/var/cache/bundle-hosts}
HOSTS_MAKE_ROOT=$SRCDIR/tests/hosts/make-root

# _hosts_work: HOSTS_WORK, the dir that holds every copy of a root this test
# makes (removed at exit). Made by host_root, at the top level: a dir
# registered inside $(...) would not be removed.
_hosts_work() {
    [[ -n ${HOSTS_WORK:-} && -d $HOSTS_WORK ]] && return 0
    _e2e_root
    HOSTS_WORK=$(mktemp -d "$E2E_ROOT/$TEST_NAME.hosts.XXXXXX")
    _E2E_CLEAN+=("$HOSTS_WORK")
}

# host_root SUITE: HOST_ROOT=its root, made first if BUNDLE_HOSTS=1; else 1 (HOST_WHY)
host_root() {
    local s=$1 rc=0 out
    _hosts_work
    HOST_ROOT='' HOST_WHY=''
    if [[ -d $HOSTS_CACHE/$s ]]; then
        HOST_ROOT=$HOSTS_CACHE/$s
        return 0
    fi
    if [[ ${BUNDLE_HOSTS:-0} != 1 ]]; then
        HOST_WHY="no $s root in $HOSTS_CACHE (make it once with: tests/hosts/make-root $s, a few minutes; or run with BUNDLE_HOSTS=1)"
        return 1
    fi
    info "making the $s root (tests/hosts/make-root $s; BUNDLE_HOSTS=1)"
    out=$(BUNDLE_HOSTS_CACHE=$HOSTS_CACHE bash "$HOSTS_MAKE_ROOT" "$s" 2>&"$E2E_LOGFD") || rc=$?
    case $rc in
        0) HOST_ROOT=$HOSTS_CACHE/$s ;;
        77) HOST_WHY="tests/hosts/make-root $s: cannot be done here (its message is above)"; return 1 ;;
        *) fail "tests/hosts/make-root $s failed (exit $rc)" ;;
    esac
    [[ -d $HOST_ROOT ]] || fail "tests/hosts/make-root $s printed $out but made no root"
}

host_cmd() {
    local timeout=300 keep='' s bin name
    local -a envv=()
    while (($#)); do
        case $1 in
            --env) envv+=("$2"); shift 2 ;;
            --timeout) timeout=$2; shift 2 ;;
            --keep) keep=$2; shift 2 ;;
            --) shift; break ;;
            -*) fail "host_cmd: unknown option $1" ;;
            *) break ;;
        esac
    done
    (($# >= 2)) || fail "host_cmd: usage: host_cmd [opts] SUITE BINARY [ARGS...]"
    s=$1 bin=$2
    shift 2
    [[ -d $HOSTS_CACHE/$s ]] || fail "host_cmd: no $s root (call host_root $s first)"
    [[ -f $bin ]] || fail "host_cmd: no binary $bin"
    bin=$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin")
    name=${bin##*/}
    local inst
    if [[ -n $keep ]]; then
        inst=$keep
        mkdir -p "$inst"
    else
        [[ -n ${HOSTS_WORK:-} ]] || fail "host_cmd: call host_root first (at the top level)"
        inst=$(mktemp -d "$HOSTS_WORK/$s.XXXXXX")
    fi
    local -a pre=()
    if [[ $timeout != 0 ]]; then pre=(timeout -s KILL "$timeout"); fi
    HOST_INST=$inst
    [[ -n $keep ]] && HOST_INST=''
    HOST_CMD=("${pre[@]}" unshare --mount --pid --fork --kill-child --propagation private --
        /bin/bash "$HOSTS_LIB" __host_inner "$HOSTS_CACHE/$s" "$inst" "$bin" "$name"
        "${#envv[@]}" "${envv[@]}" "$@")
}

# host_done: remove the copy of the root the last host_cmd made (not a --keep
# one); call it once the run has ended. (All are removed at exit anyway.)
host_done() {
    if [[ -n ${HOST_INST:-} && -d $HOST_INST ]]; then rm -rf --one-file-system -- "$HOST_INST"; fi
    HOST_INST=''
}

host_run() {
    host_cmd "$@"
    "${HOST_CMD[@]}"
}

# host_start [opts] SUITE BINARY [ARGS...]: in the background; stdout/stderr
# as the caller redirects them (redirect the call, not inside).
host_start() {
    local opts=(--timeout 0) a
    host_cmd "${opts[@]}" "$@"
    "${HOST_CMD[@]}" &
    HOST_PID=$!
    track_pid "$HOST_PID"
    HOST_APP=
    for _ in $(seq 1 100); do # 10 s
        a=$(cat "/proc/$HOST_PID/task/$HOST_PID/children" 2>/dev/null || true)
        a=${a%% *}
        if [[ -n $a ]]; then HOST_APP=$a; return 0; fi
        kill -0 "$HOST_PID" 2>/dev/null || { HOST_APP=; return 0; }
        sleep 0.1
    done
    fail "host_start: the namespace's first process did not appear in 10 s"
}

# host_stop SIG SECS: signal the app; HOST_RC = its status, "" if it did not end
host_stop() {
    local sig=$1 secs=$2 n
    HOST_RC=
    if [[ -n ${HOST_APP:-} ]]; then kill "-$sig" "$HOST_APP" 2>/dev/null || true; fi
    for ((n = 0; n < secs * 10; n++)); do
        if ! kill -0 "$HOST_PID" 2>/dev/null; then
            HOST_RC=0
            wait "$HOST_PID" || HOST_RC=$?
            return 0
        fi
        sleep 0.1
    done
    return 0
}

# host_prove SUITE: no Python in the root, as an app there sees it
host_prove() {
    local s=$1 out rc=0 probe
    _hosts_work
    probe=$HOSTS_WORK/host-probe.sh
    # shellcheck disable=SC2016
    cat >"$probe" <<'SH'
#!/bin/sh
bad=0
for n in python python2 python3 pypy pypy3 python3.8 python3.9 python3.10 python3.11 python3.12 python3.13; do
    if p=$(command -v "$n" 2>/dev/null); then echo "LEAK: $n is on PATH at $p"; bad=1; fi
done
found=$(find / -xdev \( -name 'libpython*.so*' -o \( -name 'python[0-9]*' -path '*/lib/*' -type d \) \
        -o \( \( -name python -o -name 'python[0-9]*' -o -name 'pypy*' \) ! -type d -perm /111 \) \) -print 2>/dev/null)
if [ -n "$found" ]; then echo "LEAK: $found"; bad=1; fi
for f in $(find / -xdev -name os.py 2>/dev/null); do
    if [ -d "$(dirname "$f")/encodings" ]; then echo "LEAK: a stdlib at $(dirname "$f")"; bad=1; fi
done
[ "$bad" = 0 ] && echo "NO PYTHON" && . /etc/os-release && echo "$PRETTY_NAME" && ldd --version | head -n1
exit "$bad"
SH
    host_cmd --timeout 120 "$s" "$probe"
    out=$("${HOST_CMD[@]}" </dev/null 2>&1) || rc=$?
    host_done
    if [[ $rc != 0 || $out != *"NO PYTHON"* ]]; then
        fail "the $s root is no host without Python (exit $rc):
$(sed 's/^/    /' <<<"$out")"
    fi
    HOST_DESC=$(sed -n '2,3p' <<<"$out" | tr '\n' ' ')
}
