#!/usr/bin/env bash
# Faults the stub must survive (issue 4), each run in the no-Python sandbox:
#  1. a truncated download or a flipped byte (stub, module blob, zip entries,
#     central directory, trailer): with an empty cache the binary exits
#     non-zero before any app code runs (the app's first statement writes a
#     marker file), prints exactly one line on stderr ("... bundle is corrupt
#     ...; download it again") and leaves no cache entry and no .tmp-* dir;
#  2. 16 concurrent first launches on one empty cache: all succeed with the
#     right output; one cache entry, no .tmp-* left;
#  3. SIGKILL during the first extraction (a big bundle, killed as soon as
#     its .tmp-* dir appears, and a little later): the next launch works, and
#     the killed run's .tmp-* dir is removed by a later start;
#  4. cache location: BUNDLE_CACHE_DIR, XDG_CACHE_HOME/bundle,
#     HOME/.cache/bundle, TMPDIR/bundle-UID in that order, created 0700; a
#     base owned by another user or group/world-writable is not used; a
#     symlink planted at the entry path or at the base is not followed;
#     nothing writable and HOME unset, or the cache on a noexec mount: the
#     app still runs (memory fallback).
# Every check runs; the failures are listed at the end.
# shellcheck source=lib.sh
#
# Why one file over 600 lines: each fault needs the same bundles and sandbox, built once; split, each file would build them again.
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork faults
cd "$WORK" || exit 1

UID0=$(id -u)

# The app writes the marker file named by argv[1] as its very first statement.
cat >app.py <<'PY'
open(__import__("sys").argv[1], "w").close()
import sys
if len(sys.argv) > 2:
    import math  # an extension module where the interpreter builds it as one
    print("math", math.sqrt(4.0))
print("app ran")
print("meipass=%s" % getattr(sys, "_MEIPASS", None))
PY
build_app app.py --no-marathon
APP=$WORK/dist/app
# the cache entry's name (lib.sh)
HASH=$(bundle_hash "$APP")
[[ $HASH =~ ^[0-9a-f]{64}$ ]] || fail "cannot read the hash from the trailer of $APP"

# leftovers DIR...: cache entries (hash-named dirs) and .tmp-* dirs under DIRs
leftovers() {
    local d
    for d in "$@"; do
        [[ -d $d ]] || continue
        find "$d" -mindepth 1 \( -name '.tmp-*' -o -regextype posix-extended -regex '.*/[0-9a-f]{64}' \) -print
    done
}

# ===========================================================================
# 1. Truncated and corrupted bundles
# ===========================================================================
# The bundle's layout, from its own trailer and zip directory.
layout=$("$PY" -I - "$APP" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb").read()
size = len(f)
tr = f[-96:]
pyz_off, pyz_size, arc_off, arc_size = struct.unpack("<QQQQ", tr[16:48])
eocd = f[-118:-96]
cd_size, cd_rel = struct.unpack("<II", eocd[12:20])
cd_off = arc_off + cd_rel
# ELF: end of the loaded segments, and the build-id note (never used at run time)
phoff, = struct.unpack_from("<Q", f, 32)
phentsize, phnum = struct.unpack_from("<HH", f, 54)
load_end = 0
rx_off = -1
for i in range(phnum):
    p = phoff + i * phentsize
    ptype, pflags = struct.unpack_from("<II", f, p)
    poff, = struct.unpack_from("<Q", f, p + 8)
    pfilesz, = struct.unpack_from("<Q", f, p + 32)
    if ptype == 1:
        load_end = max(load_end, poff + pfilesz)
        if pflags & 1 and rx_off < 0:
            rx_off = poff  # the code: the guard's page is its first (stub/guard.c)
buildid = f.find(b"GNU\0", 0, 4096)
# zip entries: local header and data of libpython, the manifest, the math
# extension module (a lazy file) if there is one
ents = {}
pos = cd_off
while pos < cd_off + cd_size:
    n, e, c = struct.unpack_from("<HHH", f, pos + 28)
    lho, = struct.unpack_from("<I", f, pos + 42)
    name = f[pos + 46:pos + 46 + n].decode()
    lh = arc_off + lho
    ln, le = struct.unpack_from("<HH", f, lh + 26)
    csize, = struct.unpack_from("<I", f, pos + 20)
    ents[name] = (lh, lh + 30 + ln + le, csize)
    pos += 46 + n + e + c
# libpython's entry, or (libpython linked into the stub) the largest one
lib = next((v for k, v in ents.items() if "/libpython" in k), None) or max(ents.values(), key=lambda v: v[2])
man = ents["_native/manifest"]
ext = next((v for k, v in ents.items() if k.startswith("_native/site/math.")), (0, 0, 0))
print("size", size)
print("pyz_off", pyz_off, "pyz_size", pyz_size)
print("arc_off", arc_off, "arc_size", arc_size)
print("cd_off", cd_off, "cd_size", cd_size)
print("load_end", load_end, "rx_off", rx_off)
print("buildid", buildid + 16 if buildid > 0 else -1)
print("lib_lh", lib[0], "lib_data", lib[1], "lib_size", lib[2])
print("man_data", man[1], "man_size", man[2])
print("ext_data", ext[1], "ext_size", ext[2])
PY
) || fail "cannot read the layout of $APP"
declare -A L
while read -r -a kv; do
    for ((i = 0; i < ${#kv[@]}; i += 2)); do L[${kv[i]}]=${kv[i + 1]}; done
done <<<"$layout"
((L[load_end] < L[pyz_off])) || fail "test bug: the stub has no unloaded tail (load_end ${L[load_end]}, pyz_off ${L[pyz_off]})"

flip() { # flip FILE OFFSET: xor the byte at OFFSET with 0xff
    "$PY" -I -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

NCASE=0
# corrupt_case WHAT truncate|flip OFFSET [kernel]: make the damaged copy, run it
# with an empty cache, check. "kernel": the damage is in the part of the stub
# the kernel maps (the stub cannot run, so it cannot print anything): only
# non-zero, no app code and no cache entry are required.
corrupt_case() {
    local what=$1 how=$2 off=$3 kind=${4:-} d rc=0 out err nl
    NCASE=$((NCASE + 1))
    d=$WORK/corrupt.$NCASE
    mkdir -p "$d/cache" "$d/home" "$d/tmp"
    cp "$APP" "$d/app"
    if [[ $how == truncate ]]; then truncate -s "$off" "$d/app"; else flip "$d/app" "$off"; fi
    out=$(run_sandboxed --cache "$d/cache" --home "$d/home" --env "TMPDIR=$d/tmp" \
        "$d/app" "$d/marker" </dev/null 2>"$d/err") || rc=$?
    err=$(cat "$d/err")
    local label="$what ($how at $off)"
    [[ $rc != 0 ]] || soft_fail "$label: exit status 0 (stdout: $out)"
    [[ ! -e $d/marker ]] || soft_fail "$label: app code ran before the damage was detected (marker written)"
    [[ -z $out ]] || soft_fail "$label: stdout is not empty: $(_show "$out")"
    local left
    left=$(leftovers "$d/cache" "$d/home" "$d/tmp")
    [[ -z $left ]] || soft_fail "$label: left cache entries / temp dirs: $left"
    if [[ $kind == kernel ]]; then
        info "  $label: exit $rc, stderr: ${err:-<empty>} (the kernel cannot run a stub cut here; no message required)"
    else
        nl=$(printf '%s' "$err" | grep -c '' || true)
        [[ $nl == 1 ]] || soft_fail "$label: stderr has $nl lines, expected exactly 1: $(_show "$err")"
        [[ $err == *"bundle is corrupt"* && $err == *"download it again"* ]] ||
            soft_fail "$label: stderr does not say 'bundle is corrupt ... download it again': $(_show "$err")"
        [[ $rc == 2 ]] || info "  $label: exit status $rc (README says 2 for a corrupt bundle)"
    fi
    rm -rf "$d"
}

S=${L[size]}
info "layout: stub [0,${L[pyz_off]}) loaded up to ${L[load_end]}; pyz [${L[pyz_off]},+${L[pyz_size]}); zip [${L[arc_off]},+${L[arc_size]}); cd at ${L[cd_off]} (+${L[cd_size]}); file $S"
# truncated downloads
corrupt_case "truncated in the trailer (last byte missing)" truncate $((S - 1))
corrupt_case "truncated in the trailer (half of it)" truncate $((S - 40))
corrupt_case "truncated in the zip end record" truncate $((S - 100))
corrupt_case "truncated in the central directory" truncate $((L[cd_off] + L[cd_size] / 2))
corrupt_case "truncated in the zip (libpython's or the largest entry's data)" truncate $((L[lib_data] + L[lib_size] / 2))
corrupt_case "truncated at the zip's start" truncate "${L[arc_off]}"
corrupt_case "truncated in the module blob" truncate $((L[pyz_off] + L[pyz_size] / 2))
corrupt_case "truncated in the stub (after its loaded segments)" truncate $((L[load_end] + 8))
# the stub's guard (stub/guard.c) runs before anything that could touch a
# missing page: a cut anywhere after the first page of its code says so;
# before it (the headers, what the dynamic loader reads: about 14 kB) the
# kernel or the loader kills it
corrupt_case "truncated in the stub (inside its code)" truncate $((L[load_end] / 2))
corrupt_case "truncated in the stub (its read-only data)" truncate $((L[load_end] - 100))
corrupt_case "truncated in the stub (a page into its code)" truncate $((L[rx_off] + 8192))
corrupt_case "truncated in the stub (its headers)" truncate 2000 kernel
# flipped bytes
corrupt_case "flipped byte in the stub (section headers)" flip $((L[pyz_off] - 20))
if ((L[buildid] > 0)); then
    corrupt_case "flipped byte in the stub (build-id note)" flip $((L[buildid] + 3))
fi
corrupt_case "flipped byte in the module blob (index)" flip $((L[pyz_off] + 12))
corrupt_case "flipped byte in the module blob (code)" flip $((L[pyz_off] + L[pyz_size] * 3 / 4))
corrupt_case "flipped byte in libpython's (or the largest entry's) data" flip $((L[lib_data] + L[lib_size] / 2))
# libpython linked in (--link-libpython), the stub's loaded part is mostly
# libpython's code: the kernel maps it, the stub's own code runs first and
# finds the damage (a stub that loads the shared libpython, the default, is
# all its own code: not this case)
if "$BUNDLE" --onefile app.py --python "$PY" -q --no-marathon --link-libpython -o "$WORK/linked/app" 2>/dev/null &&
    grep -q 'linked into the executable' <<<"$("$BUNDLE" inspect "$WORK/linked/app")"; then
    lend=$("$PY" -I - "$WORK/linked/app" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", f, 32)
phentsize, phnum = struct.unpack_from("<HH", f, 54)
end, rx = 0, -1
for i in range(phnum):
    p = phoff + i * phentsize
    ptype, pflags = struct.unpack_from("<II", f, p)
    if ptype == 1:  # PT_LOAD
        off, = struct.unpack_from("<Q", f, p + 8)
        filesz, = struct.unpack_from("<Q", f, p + 32)
        end = max(end, off + filesz)
        if pflags & 1 and rx < 0:
            rx = off
print(end, rx)
PY
)
    read -r lend lrx <<<"$lend"
    saved_app=$APP
    APP=$WORK/linked/app
    corrupt_case "flipped byte in the middle of the stub's loaded part (libpython's code, --link-libpython)" flip $((lend / 2))
    # its code comes after libpython's symbols and data (about 28% of a
    # linked hello): a cut in the code says so
    corrupt_case "truncated in libpython's code (--link-libpython)" truncate $(((lrx + lend) / 2))
    APP=$saved_app
else
    info "  libpython cannot be linked in here: no flip in its code"
fi
corrupt_case "flipped byte in the manifest" flip $((L[man_data] + 2))
if ((L[ext_size] > 0)); then
    corrupt_case "flipped byte in an extension module (unpacked on first import)" flip $((L[ext_data] + L[ext_size] / 2))
fi
corrupt_case "flipped byte in a local header (entry name)" flip $((L[lib_lh] + 30 + 3))
corrupt_case "flipped byte in the central directory (middle)" flip $((L[cd_off] + L[cd_size] / 2))
corrupt_case "flipped byte in the central directory (an entry's offset)" flip $((L[cd_off] + 43))
corrupt_case "flipped byte in the zip end record (cd offset)" flip $((S - 96 - 22 + 17))
corrupt_case "flipped byte in the trailer's hash" flip $((S - 96 + 48 + 7))
corrupt_case "flipped byte in the trailer's archive offset" flip $((S - 96 + 33))
corrupt_case "flipped byte in the trailer's check" flip $((S - 16 + 5))
info "1. corrupt bundles: $NCASE cases run"

# A damaged copy of a bundle whose cache entry is filled already is not
# rechecked whole (a warm start reads nothing it does not need); but what it
# unpacks later, an extension module on first import, is checked on its own,
# so the damage cannot leave a bad file in the cache that good copies use.
# On one CPU: a first start on two would unpack math ahead of its import
# (stub/prefetch.c), and this is about the import's own unpacking.
if ((L[ext_size] > 0)); then
    d=$WORK/lazy
    mkdir -p "$d/cache" "$d/home" "$d/tmp"
    lazy_run() { # lazy_run BUNDLE [ARG]: rc, out and err of one run on $d's cache
        rc=0
        out=$(run_sandboxed --cpus 0 --cache "$d/cache" --home "$d/home" --env "TMPDIR=$d/tmp" \
            "$1" "$d/marker" ${2:+"$2"} </dev/null 2>"$d/err") || rc=$?
        err=$(cat "$d/err")
    }
    lazy_run "$APP"
    [[ $rc == 0 && $out == "app ran"* ]] || soft_fail "lazy: first start: exit $rc, stdout $(_show "$out"), stderr $(_show "$err")"
    ext=$(find "$d/cache/$HASH" -name 'math.*' -print 2>/dev/null || true)
    [[ -z $ext ]] || soft_fail "lazy: the first start unpacked $ext, which the app did not import"
    cp "$APP" "$d/damaged"
    flip "$d/damaged" $((L[ext_data] + L[ext_size] / 2))
    lazy_run "$d/damaged" math
    [[ $rc != 0 ]] || soft_fail "lazy: the damaged copy imported its damaged extension module (stdout $(_show "$out"))"
    [[ $err == *"bundle is corrupt"*"does not match its checksum"*"download it again"* ]] ||
        soft_fail "lazy: the damaged copy's error does not say it is corrupt: $(_show "$err")"
    ext=$(find "$d/cache/$HASH" -name 'math.*' -print 2>/dev/null || true)
    [[ -z $ext ]] || soft_fail "lazy: the damaged copy left $ext in the cache entry"
    lazy_run "$APP" math
    [[ $rc == 0 && $out == "math 2.0"* ]] || soft_fail "lazy: the good copy after the damaged one: exit $rc, stdout $(_show "$out"), stderr $(_show "$err")"
    ext=$(find "$d/cache/$HASH" -name 'math.*' -print 2>/dev/null || true)
    [[ -n $ext ]] || soft_fail "lazy: the good copy did not unpack the math module into the cache entry"
    info "1b. a damaged copy on a warm cache: its extension module refused on import"
else
    info "1b. skipped: math is built into $PY, the bundle has no extension module to damage"
fi

# ===========================================================================
# 2. 16 concurrent first launches on one empty cache
# ===========================================================================
d=$WORK/conc
mkdir -p "$d/cache" "$d/home" "$d/tmp"
pids=()
# each waits at a barrier (the file go) so that all 16 start the stub together
for i in $(seq 1 16); do
    # shellcheck disable=SC2016
    sandbox_cmd --cache "$d/cache" --home "$d/home" --env "TMPDIR=$d/tmp" \
        /bin/sh -c 'g=$1; : >"$g.ready.$2"; shift 2; until [ -e "$g" ]; do sleep 0.005; done; exec "$@"' \
        sh "$d/go" "$i" "$APP" "$d/marker.$i" math
    "${SANDBOX_CMD[@]}" >"$d/out.$i" 2>"$d/err.$i" </dev/null &
    pids+=($!)
    _E2E_PIDS+=($!)
done
t_end=$((SECONDS + 60))
until [[ $( (compgen -G "$d/go.ready.*" || true) | wc -l) == 16 ]] || ((SECONDS > t_end)); do sleep 0.02; done
: >"$d/go"
# each imports math too: 16 concurrent first imports unpack it side by side
want=$'math 2.0\napp ran'
for i in $(seq 1 16); do
    rc=0
    wait "${pids[i - 1]}" || rc=$?
    [[ $rc == 0 ]] || soft_fail "concurrent launch $i: exit status $rc (stderr: $(cat "$d/err.$i"))"
    [[ $(sed -n 1,2p "$d/out.$i") == "$want" ]] || soft_fail "concurrent launch $i: stdout $(_show "$(cat "$d/out.$i")")"
    [[ ! -s $d/err.$i ]] || soft_fail "concurrent launch $i: stderr $(_show "$(cat "$d/err.$i")")"
done
_E2E_PIDS=()
entries=$(leftovers "$d/cache" "$d/home" "$d/tmp")
[[ $entries == "$d/cache/$HASH" ]] || soft_fail "after 16 concurrent first launches: expected exactly one cache entry $d/cache/$HASH and no .tmp-*, found: ${entries:-nothing}"
left=$(find "$d/cache" -name '*.tmp-*' -print)
[[ -z $left ]] || soft_fail "after 16 concurrent first imports: temp files left: $left"
info "2. 16 concurrent first launches done"

# ===========================================================================
# 3. SIGKILL during the first extraction
# ===========================================================================
# A big bundle: many stdlib extension modules and their shared libraries.
cat >big.py <<'PY'
import sys
import array, asyncio, binascii, bz2, cmath, csv, ctypes, datetime, decimal, fractions
import hashlib, json, lzma, math, mmap, multiprocessing, pickle, queue, random, select
import socket, sqlite3, ssl, statistics, struct, unicodedata, uuid, zlib, zoneinfo
import xml.etree.ElementTree, xml.parsers.expat, curses, dbm, termios, resource, grp
print("big ok", len(sys.modules) > 100)
PY
build_app big.py --no-marathon
BIG=$WORK/dist/big
HASHB=$(bundle_hash "$BIG")
info "big bundle: $(stat -c %s "$BIG") bytes"
k=$WORK/kill
mkdir -p "$k/home" "$k/tmp"
landed=0 rounds=0
# kill_round DELAY: start dist/big on an empty cache, SIGKILL it DELAY seconds
# after its .tmp-* dir appears; then a normal launch must work and must remove
# the dead run's temp dir.
kill_round() {
    local delay=$1 pid rc tmpleft entry out t_end
    rounds=$((rounds + 1))
    rm -rf "$k/cache"
    mkdir -p "$k/cache"
    sandbox_cmd --cache "$k/cache" --home "$k/home" --env "TMPDIR=$k/tmp" "$BIG"
    "${SANDBOX_CMD[@]}" >/dev/null 2>&1 </dev/null &
    pid=$!
    t_end=$((SECONDS + 20))
    until compgen -G "$k/cache/.tmp-*" >/dev/null; do
        kill -0 "$pid" 2>/dev/null || break
        ((SECONDS < t_end)) || break
    done
    [[ $delay == 0 ]] || sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    tmpleft=$(compgen -G "$k/cache/.tmp-*" || true)
    entry=0
    [[ -d $k/cache/$HASHB ]] && entry=1
    if [[ -n $tmpleft && $entry == 0 ]]; then
        landed=$((landed + 1))
        info "  kill after +${delay}s: landed mid-extraction (left $(basename "$tmpleft"), $(find "$tmpleft" -type f | wc -l) files)"
    else
        info "  kill after +${delay}s: did not land mid-extraction (entry complete: $entry)"
    fi
    # keep a copy of the dead run's temp dir for the warm-start check below
    if [[ -n $tmpleft && -z ${STALE_KEPT:-} && -d $tmpleft ]]; then
        STALE_KEPT=$k/stale.$rounds
        cp -a "$tmpleft" "$STALE_KEPT"
    fi
    rc=0
    out=$(run_sandboxed --cache "$k/cache" --home "$k/home" --env "TMPDIR=$k/tmp" "$BIG" </dev/null 2>"$k/err") || rc=$?
    [[ $rc == 0 && $out == "big ok True" ]] ||
        soft_fail "launch after a SIGKILL at +${delay}s of the extraction: exit $rc, stdout $(_show "$out"), stderr $(head -c 1500 "$k/err")"
    local left
    left=$(leftovers "$k/cache" "$k/home" "$k/tmp")
    [[ $left == "$k/cache/$HASHB" ]] ||
        soft_fail "after a SIGKILL at +${delay}s and one more launch: expected only $k/cache/$HASHB, found: ${left:-nothing} (stale temp dirs of the killed run must be removed by a later start)"
}
for delay in 0 0.001 0.005 0.02 0.05; do kill_round "$delay"; done
while ((landed == 0 && rounds < 12)); do kill_round 0; done
((landed > 0)) || soft_fail "no SIGKILL landed mid-extraction in $rounds rounds: the crash-safety of the first extraction went untested"
# A killed first run's temp dir must also go when the entry is already
# complete (it was killed while a concurrent first run won): a later start
# removes it. One with an entry used more than a day ago must do so.
if [[ -n ${STALE_KEPT:-} ]]; then
    stale=$k/cache/.tmp-${HASHB:0:16}-KILLED
    # (the kept copy lost the dead process's lock, as the original did)
    cp -a "$STALE_KEPT" "$stale"
    touch -d '2 days ago' "$k/cache/$HASHB"
    rc=0
    out=$(run_sandboxed --cache "$k/cache" --home "$k/home" --env "TMPDIR=$k/tmp" "$BIG" </dev/null 2>"$k/err") || rc=$?
    [[ $rc == 0 && $out == "big ok True" ]] || soft_fail "warm launch with a stale temp dir: exit $rc, stdout $(_show "$out")"
    [[ ! -e $stale ]] || soft_fail "a warm start (entry last used 2 days ago) left the stale temp dir $stale of a killed run"
    cp -a "$STALE_KEPT" "$stale"
    rc=0
    run_sandboxed --cache "$k/cache" --home "$k/home" --env "TMPDIR=$k/tmp" "$BIG" </dev/null >/dev/null 2>&1 || rc=$?
    if [[ -e $stale ]]; then
        info "  note: a warm start (entry used today) leaves a stale temp dir for the next daily touch or fill"
    fi
fi
info "3. SIGKILL during extraction: $landed of $rounds kills landed mid-extraction"

# ===========================================================================
# 4. Cache location
# ===========================================================================
NLOC=0
# loc_run [sandbox options] -- [PREFIX...]: run the app in the sandbox with the
# options; LOC is a fresh dir; sets LOC_RC, LOC_OUT, LOC_ERR, LOC_MEI.
new_loc() {
    NLOC=$((NLOC + 1))
    LOC=$WORK/loc.$NLOC
    mkdir -p "$LOC"
}
loc_cmd() {
    local -a opts=()
    while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    # math: an extension module (where the interpreter builds it as one) is
    # unpacked on first import into the same place, or into a memfd
    sandbox_cmd "${opts[@]}" "$@" "$APP" "$LOC/marker" math
}
# loc_exec: run SANDBOX_CMD (as loc_cmd left it, or wrapped)
loc_exec() {
    LOC_RC=0
    LOC_OUT=$("${SANDBOX_CMD[@]}" </dev/null 2>"$LOC/err") || LOC_RC=$?
    LOC_ERR=$(cat "$LOC/err")
    LOC_MEI=$(sed -n 's/^meipass=//p' <<<"$LOC_OUT")
}
loc_run() {
    loc_cmd "$@"
    loc_exec
}
# loc_ok WHAT: the app ran and printed nothing on stderr
loc_ok() {
    if [[ $LOC_RC != 0 || $(sed -n 1,2p <<<"$LOC_OUT") != $'math 2.0\napp ran' ]]; then
        soft_fail "$1: the app did not run: exit $LOC_RC, stdout $(_show "$LOC_OUT"), stderr $(_show "$LOC_ERR")"
        return 1
    fi
    [[ -z $LOC_ERR ]] || soft_fail "$1: stderr is not empty: $(_show "$LOC_ERR")"
    return 0
}
# entry_at WHAT BASE: the entry is BASE/HASH (0700, files private), the app's
# _MEIPASS is in it, and BASE is 0700
entry_at() {
    local what=$1 base=$2 m
    if [[ ! -d $base/$HASH || -L $base/$HASH ]]; then
        soft_fail "$what: no cache entry at $base/$HASH; _MEIPASS=$LOC_MEI; entries: $(leftovers "$LOC" | tr '\n' ' ')"
        return 0
    fi
    [[ $LOC_MEI == "$base/$HASH"/* ]] || soft_fail "$what: _MEIPASS $LOC_MEI is not in $base/$HASH"
    m=$(stat -c %a "$base")
    [[ $m == 700 ]] || soft_fail "$what: base $base has mode $m, expected 700"
    m=$(stat -c %a "$base/$HASH")
    [[ $m == 700 ]] || soft_fail "$what: entry $base/$HASH has mode $m, expected 700"
    m=$(find "$base/$HASH" -perm /077 | head -3)
    [[ -z $m ]] || soft_fail "$what: files in the entry are open to group/others: $m"
}
# only_entries WHAT EXPECTED...: the hash-named and .tmp-* dirs under LOC are exactly these
only_entries() {
    local what=$1 got want
    shift
    got=$(leftovers "$LOC" | LC_ALL=C sort)
    want=
    if (($#)); then want=$(printf '%s\n' "$@" | LC_ALL=C sort); fi
    [[ $got == "$want" ]] || soft_fail "$what: cache entries expected: ${want:-none}; found: ${got:-none}"
}
# memory_mode WHAT: native parts came from memory: _MEIPASS is not a dir in any cache
memory_mode() {
    [[ $LOC_MEI == "$APP"/* ]] ||
        info "  $1: _MEIPASS is $LOC_MEI (not the memory-mode $APP/_native/site)"
}
NOHOME=(/usr/bin/env -u HOME)

# --- the order of the bases, each created 0700
new_loc
loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
loc_ok "BUNDLE_CACHE_DIR set" && { entry_at "BUNDLE_CACHE_DIR" "$LOC/bcd"; only_entries "BUNDLE_CACHE_DIR set" "$LOC/bcd/$HASH"; }
new_loc
loc_run --no-cache --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
loc_ok "XDG_CACHE_HOME" && { entry_at "XDG_CACHE_HOME" "$LOC/xdg/bundle"; only_entries "XDG_CACHE_HOME" "$LOC/xdg/bundle/$HASH"; }
[[ ! -d $LOC/xdg || $(stat -c %a "$LOC/xdg") == 700 ]] || soft_fail "XDG_CACHE_HOME created with mode $(stat -c %a "$LOC/xdg"), expected 700"
new_loc
mkdir -p "$LOC/home"
loc_run --no-cache --home "$LOC/home" --env "TMPDIR=$LOC/tmp" --
loc_ok "HOME" && { entry_at "HOME" "$LOC/home/.cache/bundle"; only_entries "HOME" "$LOC/home/.cache/bundle/$HASH"; }
[[ ! -d $LOC/home/.cache || $(stat -c %a "$LOC/home/.cache") == 700 ]] || soft_fail "\$HOME/.cache created with mode $(stat -c %a "$LOC/home/.cache"), expected 700"
new_loc
loc_run --no-cache --env "TMPDIR=$LOC/tmp" -- "${NOHOME[@]}"
loc_ok "TMPDIR (HOME unset)" && { entry_at "TMPDIR" "$LOC/tmp/bundle-$UID0"; only_entries "TMPDIR" "$LOC/tmp/bundle-$UID0/$HASH"; }
# TMPDIR unset too: /tmp/bundle-UID (a private tmpfs on /tmp, so the host's
# /tmp is left alone; reported from inside that namespace)
if [[ $E2E_ROOT != /tmp && $E2E_ROOT != /tmp/* ]]; then
    new_loc
    loc_cmd --no-cache -- "${NOHOME[@]}"
    # shellcheck disable=SC2016
    SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
        'mount -t tmpfs -o mode=1777,size=256m e2e-tmp /tmp || exit 125
"$@"; rc=$?
stat -c "%a %u" /tmp/bundle-'"$UID0"' /tmp/bundle-'"$UID0/$HASH"' >"'"$LOC"'/tmpstat" 2>&1
exit $rc' sh "${SANDBOX_CMD[@]}")
    loc_exec
    if loc_ok "TMPDIR unset (HOME unset)"; then
        [[ $LOC_MEI == "/tmp/bundle-$UID0/$HASH/"* ]] || soft_fail "TMPDIR unset: _MEIPASS $LOC_MEI is not under /tmp/bundle-$UID0/$HASH"
        check_stat=$(tr '\n' ' ' <"$LOC/tmpstat")
        [[ $check_stat == "700 $UID0 700 $UID0 " ]] ||
            soft_fail "TMPDIR unset: /tmp/bundle-$UID0 and its entry: mode and owner $check_stat, expected 700 $UID0 for both"
    fi
else
    info "  case skipped: TMPDIR unset (the work dirs are under /tmp)"
fi

# --- bases that are not the user's own are passed over
for variant in nobody 777 770 symlink; do
    new_loc
    mkdir -p "$LOC/bcd"
    case $variant in
        nobody) chown 65534:65534 "$LOC/bcd"; chmod 700 "$LOC/bcd" ;;
        777) chmod 777 "$LOC/bcd" ;;
        770) chmod 770 "$LOC/bcd" ;;
        symlink) mv "$LOC/bcd" "$LOC/elsewhere"; chmod 777 "$LOC/elsewhere"; ln -s elsewhere "$LOC/bcd" ;;
    esac
    loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
    if loc_ok "BUNDLE_CACHE_DIR ($variant)"; then
        [[ -z $(ls -A "$LOC/bcd/" 2>/dev/null) ]] ||
            soft_fail "BUNDLE_CACHE_DIR $variant: the stub wrote into it: $(ls -A "$LOC/bcd/")"
        entry_at "BUNDLE_CACHE_DIR $variant: the next base" "$LOC/xdg/bundle"
    fi
done
# an entry already filled in a base that later became world-writable, or that
# another user owns: not used either
for variant in 777 nobody; do
    new_loc
    loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
    loc_ok "fill before the $variant check" || continue
    case $variant in
        777) chmod 777 "$LOC/bcd" ;;
        nobody) chown 65534:65534 "$LOC/bcd" ;;
    esac
    rm -f "$LOC/marker"
    loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
    if loc_ok "existing entry in a base made $variant"; then
        [[ $LOC_MEI != "$LOC/bcd/"* ]] ||
            soft_fail "an existing entry in a base that is $variant ($LOC/bcd) is still used (_MEIPASS=$LOC_MEI)"
    fi
done

# --- a symlink planted at the entry path is not followed
new_loc
mkdir -p "$LOC/bcd" "$LOC/evil"
chmod 700 "$LOC/bcd"
echo planted >"$LOC/evil/planted"
ln -s "$LOC/evil" "$LOC/bcd/$HASH"
loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
if loc_ok "symlink planted at the entry path"; then
    [[ $(ls -A "$LOC/evil") == planted ]] || soft_fail "symlink at the entry path: the stub wrote through it: $(ls -A "$LOC/evil")"
    [[ $LOC_MEI != "$LOC/bcd/$HASH"/* && $LOC_MEI != "$LOC/evil"/* ]] ||
        soft_fail "symlink at the entry path was followed: _MEIPASS=$LOC_MEI"
fi
# --- a symlink planted at TMPDIR/bundle-UID (another user's dir) is not followed
new_loc
mkdir -p "$LOC/tmp" "$LOC/evil"
chown 65534:65534 "$LOC/evil"
chmod 777 "$LOC/evil"
ln -s "$LOC/evil" "$LOC/tmp/bundle-$UID0"
loc_run --no-cache --env "TMPDIR=$LOC/tmp" -- "${NOHOME[@]}"
if loc_ok "symlink planted at TMPDIR/bundle-UID"; then
    [[ -z $(ls -A "$LOC/evil") ]] || soft_fail "symlink at TMPDIR/bundle-$UID0: the stub wrote into its target: $(ls -A "$LOC/evil")"
    memory_mode "symlink planted at TMPDIR/bundle-UID"
fi

# --- nothing writable, HOME unset: the app still runs (memory fallback)
# (a) read-only bind mount (root cannot write there either)
new_loc
mkdir -p "$LOC/ro/bcd" "$LOC/ro/xdg" "$LOC/ro/tmp"
before=$(files_in "$LOC/ro")
loc_cmd --cache "$LOC/ro/bcd" --env "XDG_CACHE_HOME=$LOC/ro/xdg" --env "TMPDIR=$LOC/ro/tmp" -- "${NOHOME[@]}"
# shellcheck disable=SC2016
SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"' "$LOC/ro" "${SANDBOX_CMD[@]}")
loc_exec
if loc_ok "no writable cache dir (read-only mount), HOME unset"; then
    memory_mode "read-only"
    [[ $(files_in "$LOC/ro") == "$before" ]] || soft_fail "read-only case: files appeared under $LOC/ro"
fi
# (b) chmod 500 dirs, the DAC override capabilities dropped (as a plain user)
if setpriv --bounding-set=-dac_override,-dac_read_search -- true 2>/dev/null; then
    new_loc
    mkdir -p "$LOC/ro/bcd" "$LOC/ro/xdg" "$LOC/ro/tmp"
    chmod 500 "$LOC/ro/bcd" "$LOC/ro/xdg" "$LOC/ro/tmp" "$LOC/ro"
    loc_run --cache "$LOC/ro/bcd" --env "XDG_CACHE_HOME=$LOC/ro/xdg" --env "TMPDIR=$LOC/ro/tmp" -- \
        "${NOHOME[@]}" setpriv --bounding-set=-dac_override,-dac_read_search --
    if loc_ok "no writable cache dir (chmod 500, no DAC override), HOME unset"; then memory_mode "chmod 500"; fi
    chmod 700 "$LOC/ro" "$LOC/ro/bcd" "$LOC/ro/xdg" "$LOC/ro/tmp"
else
    info "  case skipped: chmod 500 without DAC override (setpriv cannot drop the capabilities)"
fi

# --- the cache on a noexec mount: the app still runs
# (a) every base on one noexec tmpfs
new_loc
mkdir -p "$LOC/nx"
loc_cmd --cache "$LOC/nx/bcd" --home "$LOC/nx/home" --env "XDG_CACHE_HOME=$LOC/nx/xdg" --env "TMPDIR=$LOC/nx/tmp" --
# shellcheck disable=SC2016
SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
    'mount -t tmpfs -o noexec,mode=0755,size=256m e2e-noexec "$0" && exec "$@"' "$LOC/nx" "${SANDBOX_CMD[@]}")
loc_exec
if loc_ok "every cache base on a noexec mount"; then memory_mode "noexec"; fi
# (b) an entry filled earlier on a filesystem now mounted noexec
new_loc
loc_run --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
if loc_ok "fill before the noexec remount"; then
    rm -f "$LOC/marker"
    loc_cmd --cache "$LOC/bcd" --home "$LOC/home" --env "XDG_CACHE_HOME=$LOC/xdg" --env "TMPDIR=$LOC/tmp" --
    # shellcheck disable=SC2016
    SANDBOX_CMD=(unshare --mount --propagation private -- /bin/sh -c \
        'mount --bind "$0" "$0" && mount -o remount,bind,noexec "$0" && exec "$@"' "$LOC/bcd" "${SANDBOX_CMD[@]}")
    loc_exec
    loc_ok "an existing cache entry on a filesystem remounted noexec" || true
fi
info "4. cache location: $NLOC cases run"

pass_unless_soft_failures
