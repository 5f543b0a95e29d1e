#!/usr/bin/env bash
# The cache entry can go wrong while an app runs, or between two starts; the
# app goes on whatever happens (in the no-Python sandbox):
#  1. a cache problem falls back to memory, at any moment: the eager part of
#     the entry fits but an extension module does not (ENOSPC: a 1 MiB tmpfs
#     as the cache base; libcrypto, which _ssl needs, is 4.7 MB), the entry
#     now sits on a read-only file system, the entry is removed while the app
#     runs: the lazy imports (math, ssl and its libraries, hashlib) work on
#     that start and on the next, and BUNDLE_DEBUG says why;
#  2. a damaged entry heals: a FIFO (no hang), an empty file, a directory, a
#     dangling symlink, a short file, zeros of the right size, a file others
#     can write, where a lazily unpacked module, one of its libraries or a
#     library loaded at start-up should be, and an ELF header followed by
#     zeros (it fails to load: its CRC-32C is checked) where a lazily
#     unpacked one should be; an empty or missing manifest: the app runs,
#     and the file is replaced by the bundle's (a regular private file of
#     the right size); a short data file and a short library after a reboot
#     (a power cut: nothing is flushed) are found by the first start of the
#     new boot, and replaced;
#  3. pruning never breaks a running app: a service that closed all its file
#     descriptors (os.closerange) keeps its entry when a newer build of the
#     same app prunes entries unused for 30 days, and then imports a lazily
#     unpacked module;
#  4. on two CPUs, a first start unpacks the modules the script imports on
#     the other one, ahead of the imports (stub/prefetch.c): the app runs
#     and the files are whole; an app that ends at once leaves whole files
#     or none; the app sees no descriptor of the prefetching thread's; an
#     app that forks at once and one that closes every descriptor at once
#     run (and Python 3.12 does not warn that it forks with threads);
#     on one CPU, none is prefetched.
# Sections 1 to 3 run on one CPU (SB_CPUS, lib.sh), where every lazy file
# is unpacked by the import that needs it: that is what they test.
# Every check runs; the failures are listed at the end.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork health
cd "$WORK" || exit 1
SB_CPUS=0


# The app: with "none" it imports no extension module; with "wait GO" it
# prints "ready" and waits for the file GO, "daemon GO" closes every file
# descriptor first (as daemons do); then it imports extension modules that
# the stub unpacks on first use: math, and ssl and hashlib (_ssl and _hashlib
# need libssl and libcrypto, which are unpacked too).
# helper.py imports decimal in a function only: a first start does not
# prefetch it; the script's own functions' imports (json) it does.
cat >helper.py <<'PY'
def later():
    import decimal
    return decimal
PY
cat >app.py <<'PY'
import os
import sys
import time

import helper

mode = sys.argv[1] if len(sys.argv) > 1 else "run"
if mode == "none":
    print("nothing imported")
    sys.exit(0)
if mode == "fds":
    print(" ".join(sorted(os.listdir("/proc/self/fd"), key=int)))
    sys.exit(0)
if mode == "fork":
    import threading
    import warnings
    warnings.simplefilter("always")  # 3.12+: a warning if a process with threads forks
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        if status:
            sys.exit("the child failed: status %d" % status)
if mode in ("wait", "daemon"):
    if mode == "daemon":
        os.closerange(3, 65536)
    print("ready", flush=True)
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.02)
import math
import ssl
import hashlib

ctx = ssl.create_default_context()
print("ok", math.sqrt(16.0), hashlib.sha256(b"x").hexdigest()[:8], ctx.protocol.name)
print("file", math.__file__)


def unused():
    import json
    return json
PY
build_app app.py --no-marathon
APP=$WORK/dist/app
HASH=$(bundle_hash "$APP")
[[ $HASH =~ ^[0-9a-f]{64}$ ]] || fail "cannot read the hash from the trailer of $APP"
WANT="ok 4.0 2d711642 PROTOCOL_TLS_CLIENT"

# The lazily unpacked files this test damages, and their sizes in the bundle.
declare -A SIZE
while read -r name size; do SIZE[$name]=$size; done < <("$PY" -I - "$APP" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb").read()
arc_off, = struct.unpack("<Q", f[-96 + 32:-96 + 40])
cd_size, cd_rel = struct.unpack("<II", f[-118 + 12:-118 + 20])
pos = arc_off + cd_rel
while pos < arc_off + cd_rel + cd_size:
    usize, = struct.unpack_from("<I", f, pos + 24)
    n, e, c = struct.unpack_from("<HHH", f, pos + 28)
    name = f[pos + 46:pos + 46 + n].decode()
    if name.startswith("_native/"):
        print(name[len("_native/"):], usize)
    pos += 46 + n + e + c
PY
)
MATH=$(printf '%s\n' "${!SIZE[@]}" | grep -m1 '^site/math\.' || true)
[[ -n $MATH ]] || skip "math is built into $PY: the bundle has no extension module to unpack lazily"
CRYPTO=lib/libcrypto.so.3 GCC_S=lib/libgcc_s.so.1
[[ -n ${SIZE[$CRYPTO]:-} ]] || skip "the bundle carries no $CRYPTO (ssl is linked differently here)"
[[ -n ${SIZE[$GCC_S]:-} ]] || skip "the bundle carries no $GCC_S"
info "lazily unpacked: $MATH (${SIZE[$MATH]} bytes), $CRYPTO (${SIZE[$CRYPTO]} bytes); at start-up: $GCC_S"

NCASE=0
# new_case: D, a fresh dir with home/ and cache/
new_case() {
    NCASE=$((NCASE + 1))
    D=$WORK/case.$NCASE
    mkdir -p "$D/home" "$D/cache"
}
# run_app WHAT [sandbox options] -- ARGS...: run the app on D's cache with
# BUNDLE_DEBUG=1 (20 s at most); RC, OUT, ERR. Options come before "--".
run_app() {
    local what=$1
    shift
    local -a opts=()
    while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
    (($# == 0)) || shift
    sandbox_cmd --timeout 20 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 "${opts[@]}" "$APP" "$@"
    run_cmd "$what"
}
# run_cmd WHAT: run SANDBOX_CMD (as sandbox_cmd left it, or wrapped)
run_cmd() {
    RC=0
    OUT=$("${SANDBOX_CMD[@]}" </dev/null 2>"$D/err") || RC=$?
    ERR=$(cat "$D/err")
    [[ $RC != 124 && $RC != 137 ]] || soft_fail "$1: the app hung (killed after 20 s)"
}
# app_ok WHAT: the app ran its lazy imports
app_ok() {
    if [[ $RC != 0 || $(head -1 <<<"$OUT") != "$WANT" ]]; then
        soft_fail "$1: exit $RC, stdout $(_show "$OUT" | tr -d '\n'), stderr (last lines) $(grep -v '^\[' <<<"$ERR" | tail -2 | tr '\n' ' ')"
        return 1
    fi
}
# healed WHAT REL: REL in the entry is a regular private file of its size in the bundle
healed() {
    local f=$D/cache/$HASH/$2 got
    got=$(stat -c '%F %s %a' "$f" 2>&1 || true)
    [[ $got == "regular file ${SIZE[$2]} 700" ]] ||
        soft_fail "$1: $2 in the entry is not what the bundle holds afterwards: $got (expected regular file ${SIZE[$2]} 700)"
}
# fill: D's cache gets the entry, with no extension module unpacked yet
fill() {
    run_app "fill" -- none
    [[ $RC == 0 && $OUT == "nothing imported" ]] || soft_fail "filling the cache: exit $RC, stdout $(_show "$OUT"), stderr $(_show "$ERR")"
    [[ ! -e $D/cache/$HASH/$MATH ]] || soft_fail "the first start unpacked $MATH, which it did not import"
}

# ===========================================================================
# 1. A cache problem falls back to memory
# ===========================================================================
# (a) no space left for the extension modules: a tmpfs that holds the
#     eager part (libpython, unless it is linked in, and under 200 kB more)
#     with 1 MiB to spare, and half of libcrypto
LIBPY=$(printf '%s\n' "${!SIZE[@]}" | grep -m1 '^lib/libpython' || true)
TINY=$(((${SIZE[$LIBPY]:-0} + 1048576 + ${SIZE[$CRYPTO]} / 2) / 1024))k
new_case
mkdir -p "$D/tiny"
for round in first second; do
    sandbox_cmd --timeout 20 --cache "$D/tiny/cache" --home "$D/home" --env BUNDLE_DEBUG=1 "$APP"
    # shellcheck disable=SC2016
    SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
        'mount -t tmpfs -o size='"$TINY"',mode=0700 e2e-tiny "$0" || exit 125
if [ -e "$0.keep" ]; then cp -a "$0.keep/." "$0/"; fi
"$@"; rc=$?
rm -rf "$0.keep"; mkdir -p "$0.keep"; cp -a "$0/." "$0.keep/"; exit $rc' "$D/tiny" "${SANDBOX_CMD[@]}")
    run_cmd "ENOSPC ($round start)"
    if app_ok "no space left for the extension modules ($round start)"; then
        [[ -d $D/tiny.keep/cache/$HASH ]] || soft_fail "ENOSPC ($round start): the eager part did not go to the cache (entries: $(ls -A "$D/tiny.keep/cache" 2>&1))"
        [[ $ERR == *"No space left on device"*"loading it from memory"* ]] ||
            soft_fail "ENOSPC ($round start): BUNDLE_DEBUG does not say why a file was loaded from memory: $(_show "$(grep -i 'memory\|space' <<<"$ERR")")"
    fi
done

# (b) the entry now sits on a read-only file system
new_case
fill
sandbox_cmd --timeout 20 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 "$APP"
# shellcheck disable=SC2016
SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"' "$D/cache" "${SANDBOX_CMD[@]}")
run_cmd "read-only"
if app_ok "the entry on a read-only file system"; then
    [[ $ERR == *"Read-only file system"*"loading it from memory"* ]] ||
        soft_fail "read-only: BUNDLE_DEBUG does not say why a file was loaded from memory: $(_show "$(grep -i 'memory\|read-only' <<<"$ERR")")"
fi
# and again: nothing was left half-written
run_cmd "read-only, second start"
app_ok "the entry on a read-only file system (second start)" || true

# (c) the entry is removed while the app runs, before its first lazy import
new_case
fill
sandbox_cmd --timeout 20 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 "$APP" wait "$D/go"
"${SANDBOX_CMD[@]}" >"$D/out" 2>"$D/err" </dev/null &
pid=$!
track_pid "$pid"
t_end=$((SECONDS + 20))
until grep -qx ready "$D/out" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= t_end)); do sleep 0.02; done
rm -rf "${D:?}/cache/$HASH"
touch "$D/go"
RC=0
wait "$pid" || RC=$?
OUT=$(grep -vx ready "$D/out" || true)
ERR=$(cat "$D/err")
if app_ok "the entry removed while the app runs"; then
    [[ $ERR == *"loading it from memory"* ]] || soft_fail "entry removed: BUNDLE_DEBUG does not say a file was loaded from memory"
fi
# the next start fills it again
run_app "after the removal"
app_ok "the start after the entry was removed" && healed "the start after the entry was removed" "$MATH"
info "1. fallback to memory: no space, read-only, removed"

# ===========================================================================
# 2. A damaged entry heals
# ===========================================================================
# damage KIND FILE: put KIND where FILE of the entry is
damage() {
    local f=$D/cache/$HASH/$2
    rm -rf "$f"
    mkdir -p "$(dirname "$f")"
    case $1 in
        fifo) mkfifo "$f" ;;
        empty) : >"$f" && chmod 700 "$f" ;;
        directory) mkdir -p "$f/sub" && : >"$f/sub/x" ;;
        dangling-symlink) ln -s "$D/nowhere" "$f" ;;
        short) head -c $((SIZE[$2] / 2)) "$D/copy/$2" >"$f" && chmod 700 "$f" ;;
        zeros) head -c "${SIZE[$2]}" /dev/zero >"$f" && chmod 700 "$f" ;;
        unloadable) { head -c 64 "$D/copy/$2" && head -c $((SIZE[$2] - 64)) /dev/zero; } >"$f" && chmod 700 "$f" ;;
        writable) cp "$D/copy/$2" "$f" && chmod 777 "$f" ;;
    esac
}
# a good copy of what the entry holds after a full run
new_case
run_app "reference run"
app_ok "a plain run" || true
[[ $(sed -n 's/^file //p' <<<"$OUT") == "$D/cache/$HASH/$MATH" ]] ||
    soft_fail "math.__file__ is $(sed -n 's/^file //p' <<<"$OUT"), not its path in the cache entry $D/cache/$HASH/$MATH"
COPY=$D/cache/$HASH
for kind in fifo empty directory dangling-symlink short zeros writable unloadable; do
    for rel in "$MATH" "$CRYPTO" "$GCC_S"; do
        # an ELF header and then zeros, where a library loaded at start-up
        # should be: nothing checks more than its type, size and header
        [[ $kind != unloadable || $rel != "$GCC_S" ]] || continue
        new_case
        mkdir -p "$D/copy"
        cp -a "$COPY/." "$D/copy/"
        cp -a "$COPY" "$D/cache/$HASH"
        damage "$kind" "$rel"
        run_app "$kind at $rel"
        app_ok "$kind where $rel should be" && healed "$kind where $rel should be" "$rel"
    done
done
# the manifest: empty, missing
for kind in empty missing; do
    new_case
    cp -a "$COPY" "$D/cache/$HASH"
    if [[ $kind == empty ]]; then : >"$D/cache/$HASH/manifest"; else rm "$D/cache/$HASH/manifest"; fi
    run_app "manifest $kind"
    app_ok "the entry's manifest $kind" && healed "the entry's manifest $kind" "$GCC_S"
    [[ -z $(find "$D/cache" -maxdepth 1 -name '.tmp-*') ]] || soft_fail "manifest $kind: temp dirs left: $(ls -A "$D/cache")"
done
# a power cut: nothing is flushed, so files of an entry filled before the
# machine restarted may be short (the size on disk grows only as the data
# gets there); the first start of a new boot checks every file once
new_case
cp -a "$COPY" "$D/cache/$HASH"
DATA=$(cd "$D/cache/$HASH" && find site -type f ! -name '*.so' | head -1)
if [[ -n $DATA && -n ${SIZE[$DATA]:-} ]]; then
    BOOT=boot-$(cat /proc/sys/kernel/random/boot_id)
    if [[ -f $D/cache/$HASH/$BOOT ]]; then
        # as if it had been filled before the machine restarted
        mv "$D/cache/$HASH/$BOOT" "$D/cache/$HASH/boot-00000000-0000-0000-0000-000000000000"
    else
        soft_fail "the entry does not record the boot it was filled in ($BOOT: $(ls "$D/cache/$HASH"))"
    fi
    truncate -s $((SIZE[$DATA] / 2)) "$D/cache/$HASH/$DATA"
    truncate -s $((SIZE[$GCC_S] / 3)) "$D/cache/$HASH/$GCC_S"
    run_app "after a reboot"
    if app_ok "short files after a reboot"; then
        healed "short files after a reboot" "$GCC_S"
        got=$(stat -c %s "$D/cache/$HASH/$DATA")
        [[ $got == "${SIZE[$DATA]}" ]] || soft_fail "after a reboot: the data file $DATA is still short ($got bytes, not ${SIZE[$DATA]})"
        [[ $(cd "$D/cache/$HASH" && echo boot-*) == "$BOOT" ]] ||
            soft_fail "after a reboot: the entry does not record (only) that it was checked in this boot: $(cd "$D/cache/$HASH" && echo boot-*)"
        [[ $ERR == *"before this boot"* ]] || soft_fail "after a reboot: BUNDLE_DEBUG does not say the entry was checked"
    fi
    # checked once: the next start does not check again
    run_app "after a reboot, second start"
    if app_ok "short files after a reboot (second start)" && [[ $ERR == *"before this boot"* ]]; then
        soft_fail "the entry was checked again in the same boot"
    fi
else
    info "  case skipped: the entry holds no data file"
fi
info "2. damaged entries: $NCASE cases so far"

# ===========================================================================
# 3. Pruning never breaks a running app
# ===========================================================================
# a newer build of the same app (same name, another entry)
mkdir -p v2
{ cat app.py; echo "BUILD = 2"; } >v2/app.py
cp helper.py v2/
(cd v2 && build_app app.py --no-marathon -n app)
H2=$(bundle_hash v2/dist/app)
[[ $H2 != "$HASH" ]] || fail "test bug: the new build has the same cache entry as the old one"
new_case
fill
sandbox_cmd --timeout 30 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 "$APP" daemon "$D/go"
"${SANDBOX_CMD[@]}" >"$D/out" 2>"$D/err.daemon" </dev/null &
pid=$!
track_pid "$pid"
t_end=$((SECONDS + 20))
until grep -qx ready "$D/out" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= t_end)); do sleep 0.02; done
grep -qx ready "$D/out" || soft_fail "the service did not get ready: $(cat "$D/err.daemon")"
# its entry unused for 40 days, as far as the dates go; the newer build's
# first start prunes
touch -d '40 days ago' "$D/cache/$HASH"
RC=0
run_sandboxed --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 v2/dist/app none </dev/null >"$D/out2" 2>"$D/err2" || RC=$?
[[ $RC == 0 ]] || soft_fail "the newer build: exit $RC, stderr $(cat "$D/err2")"
[[ -d $D/cache/$H2 ]] || soft_fail "the newer build made no entry of its own"
[[ -d $D/cache/$HASH ]] || soft_fail "pruning removed the entry of a running service that had closed its file descriptors"
touch "$D/go"
RC=0
wait "$pid" || RC=$?
OUT=$(grep -vx ready "$D/out" || true)
ERR=$(cat "$D/err.daemon")
app_ok "a service that closed its file descriptors, after a newer build pruned" || true
[[ $ERR != *"from memory"* ]] || soft_fail "the service loaded from memory: its entry was damaged by the prune: $(_show "$(grep memory <<<"$ERR")")"
# once it is gone, the entry is pruned by the next fill of a newer build
mkdir -p v3
{ cat app.py; echo "BUILD = 3"; } >v3/app.py
cp helper.py v3/
(cd v3 && build_app app.py --no-marathon -n app)
run_sandboxed --cache "$D/cache" --home "$D/home" v3/dist/app none </dev/null >/dev/null 2>&1 || soft_fail "the third build did not run"
[[ ! -d $D/cache/$HASH ]] || soft_fail "the entry unused for 40 days was not pruned once its service had exited"
info "3. pruning and a service that closed its descriptors: done"

# ===========================================================================
# 4. Prefetching on a second CPU
# ===========================================================================
# whole FILE...: each lazy file present in D's entry has its size in the
# bundle; and the entry holds no name that is not the bundle's
whole() {
    local what=$1 f rel
    while IFS= read -r f; do
        rel=${f#"$D/cache/$HASH/"}
        case $rel in manifest | boot-*) continue ;; esac
        if [[ -z ${SIZE[$rel]:-} ]]; then
            soft_fail "$what: the entry holds $rel, which is no file of the bundle"
        elif [[ $(stat -c %s "$f") != "${SIZE[$rel]}" ]]; then
            soft_fail "$what: $rel in the entry has $(stat -c %s "$f") bytes, not ${SIZE[$rel]}"
        fi
    done < <(find "$D/cache/$HASH" -type f)
}
# what the builder guessed the app imports as it starts, in import order
PREFETCHED=$("$BUNDLE" inspect --json "$APP" | "$PY" -I -c '
import json, sys
print(" ".join(f["name"].rsplit("/", 1)[-1].split(".")[0] for f in json.load(sys.stdin)["files"] if f["prefetched"]))')
for m in math _ssl _hashlib _json; do
    [[ " $PREFETCHED " == *" $m "* ]] || soft_fail "bundle inspect: $m, which the script imports, is not prefetched (only: $PREFETCHED)"
done
for m in _decimal _codecs_jp _bz2; do
    [[ " $PREFETCHED " != *" $m "* ]] || soft_fail "bundle inspect: $m, which nothing imports as the app starts, is prefetched ($PREFETCHED)"
done
new_case
run_app "prefetching" --cpus '' -- run
if [[ $ERR == *"not prefetching: fewer than two CPUs"* ]]; then
    info "4. skipped: this process has fewer than two CPUs (nproc $(nproc), or a CPU quota), and a first start prefetches only with two"
else
    if app_ok "prefetching"; then
        if [[ $ERR != *"files on another CPU"* ]]; then
            soft_fail "prefetching: a first start on $(nproc) CPUs prefetched nothing: $(_show "$(grep -i prefetch <<<"$ERR")")"
        fi
        [[ $ERR == *"prefetched "* ]] || soft_fail "prefetching: BUNDLE_DEBUG names no prefetched file"
        healed "prefetching" "$MATH"
        healed "prefetching" "$CRYPTO"
        whole "prefetching"
    fi
    # the app ends before its imports: whole files, or none
    for round in 1 2 3; do
        new_case
        run_app "prefetching, the app ends at once ($round)" --cpus '' -- none
        [[ $RC == 0 && $OUT == "nothing imported" ]] || soft_fail "prefetching, the app ends at once: exit $RC, stderr $(_show "$ERR")"
        whole "prefetching, the app ends at once ($round)"
        run_app "prefetching, after an app that ended at once ($round)" --cpus '' -- run
        app_ok "prefetching, after an app that ended at once ($round)" && whole "after an app that ended at once ($round)"
    done
    # one CPU: nothing ahead of the imports
    new_case
    run_app "one CPU" --cpus 0 -- none
    [[ $ERR != *"files on another CPU"* && $ERR != *"] prefetched "* ]] ||
        soft_fail "one CPU: the first start prefetched: $(_show "$(grep -i prefetch <<<"$ERR" || true)")"
    [[ ! -e $D/cache/$HASH/$MATH ]] || soft_fail "one CPU: the first start unpacked $MATH, which it did not import"
    run_app "descriptors, one CPU" --cpus 0 -- fds
    fds_one=$OUT
    # the app's descriptors on a first start: as many as without the thread
    new_case
    run_app "descriptors" --cpus '' -- fds
    [[ $RC == 0 && $OUT == "$fds_one" ]] ||
        soft_fail "prefetching: the app sees other descriptors ($(_show "$OUT")) than without it ($(_show "$fds_one"))"
    new_case
    run_app "prefetching, the app forks at once" --cpus '' -- fork
    if app_ok "prefetching, the app forks at once"; then
        [[ $(grep -c "^$WANT\$" <<<"$OUT") == 2 ]] || soft_fail "prefetching, the app forks at once: the child and the parent did not both run: $(_show "$OUT")"
        [[ $ERR != *Warning* ]] || soft_fail "prefetching, the app forks at once: $(_show "$(grep Warning <<<"$ERR")")"
        whole "prefetching, the app forks at once"
    fi
    # a later start whose entry lacks early files (the last one, which a
    # start looks for, and math) prefetches those, and only those
    last=$(sed -n 's/^early //p' "$D/cache/$HASH/manifest" | tail -1)
    rm -f "$D/cache/$HASH/$MATH" "$D/cache/$HASH/$last"
    run_app "prefetching, a later start" --cpus '' -- none
    got=$(sed -n 's/.*] prefetched //p' <<<"$ERR" | sort)
    want=$(printf '%s\n' "$MATH" "$last" | sort -u)
    [[ $got == "$want" ]] || soft_fail "prefetching, a later start: it prefetched $(_show "$got"), not $(_show "$want")"
    whole "prefetching, a later start"
    # a CPU quota of one CPU (cgroup v1's cpu controller, as Mesos sets it): none
    G=/sys/fs/cgroup/cpu/bundle-e2e-$$
    if [[ -w /sys/fs/cgroup/cpu && -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]] && mkdir "$G" 2>/dev/null; then
        period=$(cat "$G/cpu.cfs_period_us")
        echo "$period" >"$G/cpu.cfs_quota_us"
        new_case
        sandbox_cmd --timeout 20 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 --cpus '' "$APP" none
        # shellcheck disable=SC2016
        SANDBOX_CMD=(/bin/sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$G" "${SANDBOX_CMD[@]}")
        run_cmd "a quota of one CPU"
        [[ $RC == 0 && $ERR == *"not prefetching: fewer than two CPUs"* ]] ||
            soft_fail "a quota of one CPU: exit $RC, the first start did not say it does not prefetch: $(_show "$(grep -i prefetch <<<"$ERR")")"
        rmdir "$G" 2>/dev/null || true
    else
        info "  no cgroup v1 cpu controller to write here: the CPU quota case is not run"
    fi
    new_case
    sandbox_cmd --timeout 20 --cache "$D/cache" --home "$D/home" --env BUNDLE_DEBUG=1 --cpus '' "$APP" daemon "$D/go"
    touch "$D/go"
    run_cmd "prefetching, the app closes every descriptor at once"
    OUT=$(grep -vx ready <<<"$OUT" || true)
    app_ok "prefetching, the app closes every descriptor at once" && whole "prefetching, the app closes every descriptor at once"
    info "4. prefetching on a second CPU: done"
fi

pass_unless_soft_failures
