#!/usr/bin/env bash
# Fit for CI (issue 6): byte-identical builds in different folders at
# different times; no build path, host or user name in the output;
# SOURCE_DATE_EPOCH honoured; the same bytes from the builder's cache of
# compressed files, and from a damaged one; --json on success and on failure; bundle
# inspect and bundle verify on a good, a corrupt and a foreign file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
mkwork ci
cd "$WORK" || exit 1

mkdir -p one/app two/deeper/app
cat > one/app/main.py <<'PY'
import helper, json
print(json.dumps(helper.greet("ci")))
PY
printf 'def greet(who):\n    return "hello " + who\n' > one/app/helper.py
cp one/app/*.py two/deeper/app/

# two builds: other folders, other times, same inputs
(cd one/app && "$BUNDLE" --onefile main.py --python "$PY" -q --url https://artifacts.example/main) ||
    fail "first build failed"
sleep 1.1
(cd two/deeper/app && "$BUNDLE" --onefile main.py --python "$PY" -q --url https://artifacts.example/main) ||
    fail "second build failed"
cmp one/app/dist/main two/deeper/app/dist/main || fail "the two binaries differ"
cmp one/app/dist/main.marathon.json two/deeper/app/dist/main.marathon.json || fail "the two JSON files differ"

# The builder's cache (buildcache.h) of compressed files (packcache.h) and
# of compiled modules (pyc.h): a build that reads every large file and every
# module from it, ones that find every entry damaged or cut short (and make
# them again), and one with no cache make the same bytes as the first build,
# which filled it; a cache dir others can write is neither read nor written.
pcache=$WORK/pcache
sums() { (cd "$pcache" && sha256sum -- * 2>/dev/null); }
for run in fill hit damaged cut none open; do
    case $run in
    damaged)
        for e in "$pcache"/*; do
            "$PY" -I -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x10; open(p, "wb").write(b)' "$e"
        done ;;
    cut)
        for e in "$pcache"/*; do truncate -s $(($(stat -c %s "$e") / 2)) "$e"; done ;;
    open) rm -f "$pcache"/* && chmod 0777 "$pcache" ;;
    esac
    dir=$pcache; [[ $run == none ]] && dir=
    said=$(cd one/app && BUNDLE_BUILD_CACHE_DIR=$dir "$BUNDLE" --onefile main.py --python "$PY" -v \
        --url https://artifacts.example/main -o "c-$run/main" 2>&1) || fail "build with the cache ($run) failed: $said"
    compiled=$(grep -o "^bundle: [0-9]* modules compiled" <<<"$said" | grep -o "[0-9]*" || true)
    said=$(grep "builder's cache" <<<"$said" || true)
    [[ $run == fill ]] || cmp one/app/c-fill/main "one/app/c-$run/main" ||
        fail "a build with the cache ($run) differs from the one that filled it"
    case $run in
    fill)
        filled=$(sums)
        [[ -n $filled ]] || fail "the build left nothing in its cache $pcache"
        n=$(grep -o "[0-9]* compressed anew" <<<"$said" | grep -o "^[0-9]*" || true)
        m=$compiled
        ((n > 0 && m > 0)) || fail "the first build compressed $n large files and compiled $m modules"
        # the app's modules, its libraries', and the bundle's own two
        assert_eq $((n + m + 2)) "$(wc -l <<<"$filled")" "entries in the cache after the first build"
        assert_eq "bundle: 0 of $n large files read from the builder's cache, $n compressed anew" "$said" "-v, $run" ;;
    hit)
        assert_eq "bundle: 0 modules compiled, 0 reused from __pycache__, $m read from the builder's cache
bundle: $n of $n large files read from the builder's cache, 0 compressed anew" "$said" "-v, $run" ;;
    damaged | cut)
        assert_eq "$m" "$compiled" "modules compiled again, their entries $run"
        assert_eq "bundle: 0 of $n large files read from the builder's cache, $n compressed anew" "$said" "-v, $run"
        assert_eq "$filled" "$(sums)" "the cache's entries, made again ($run)" ;;
    none) assert_eq "" "$said" "-v without a cache" ;;
    open)
        assert_eq "" "$said" "-v with a cache dir others can write"
        [[ -z $(ls -A "$pcache") ]] || fail "a build wrote into a cache dir others can write" ;;
    esac
done
cmp one/app/dist/main one/app/c-none/main || fail "a build without the cache differs from the first build"
# a module's code depends on the options: --debug-ranges reads none of the
# code a build without it left in the cache
pcache2=$WORK/pcache2
(cd one/app && BUNDLE_BUILD_CACHE_DIR=$pcache2 "$BUNDLE" --onefile main.py --python "$PY" -q -o c-opt/main) ||
    fail "build into a second cache failed"
said=$(cd one/app && BUNDLE_BUILD_CACHE_DIR=$pcache2 "$BUNDLE" --onefile main.py --python "$PY" -v --debug-ranges \
    -o c-ranges/main 2>&1) || fail "build with --debug-ranges failed: $said"
[[ $(grep "modules compiled" <<<"$said") != *"builder's cache"* ]] ||
    fail "a build with --debug-ranges read modules compiled without it: $(grep "modules compiled" <<<"$said")"

# nothing of the build machine leaks into the binary
strings -n 6 one/app/dist/main >strings.out
for word in "$WORK" "$(hostname)" "/one/app" "/deeper/app"; do
    # a short host name ("vm") is in any binary by chance
    if ((${#word} < 6)); then
        info "not looking for '$word' in the binary: too short to mean anything there"
        continue
    fi
    if grep -qF -- "$word" strings.out; then
        fail "the binary holds '$word'"
    fi
done

# SOURCE_DATE_EPOCH sets the archive's times (and so changes the bytes)
(cd one/app && SOURCE_DATE_EPOCH=1700000000 "$BUNDLE" --onefile main.py --python "$PY" -q \
    --url https://artifacts.example/main -o dist/dated) || fail "dated build failed"
"$PY" -I -c '
import sys, zipfile, time
z = zipfile.ZipFile(sys.argv[1])
years = {i.date_time[0] for i in z.infolist()}
want = time.gmtime(1700000000).tm_year
assert years == {want}, (years, want)
' one/app/dist/dated || fail "SOURCE_DATE_EPOCH was not honoured"
cmp -s one/app/dist/dated one/app/dist/main && fail "SOURCE_DATE_EPOCH changed nothing"

# --json: one object on stdout, messages on stderr
(cd one/app && "$BUNDLE" --onefile main.py --python "$PY" --json --no-marathon -o dist/j) \
    >json.out 2>json.err || fail "--json build failed: $(cat json.err)"
"$PY" -I -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["output"] == "dist/j" and d["marathon"] is None, d
for k in ("size", "sha256", "archive_sha256", "python", "glibc", "modules", "native_files",
          "data_files", "missing", "warnings", "build_seconds"):
    assert k in d, k
assert d["modules"] > 10 and d["native_files"] >= 1 and len(d["sha256"]) == 64
assert all(set(m) == {"name", "imported_by", "line", "optional"} for m in d["missing"])
' json.out || fail "--json output is wrong: $(cat json.out)"
rc=0
"$BUNDLE" --onefile nothere.py --json >bad.out 2>bad.err || rc=$?
assert_eq 2 "$rc" "exit status of a --json usage error"
"$PY" -I -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"ok": False, "status": 2, "error": d["error"]} and "nothere.py" in d["error"], d
' bad.out || fail "--json error output is wrong: $(cat bad.out)"

# inspect: table and JSON
bin=one/app/dist/main
"$BUNDLE" inspect "$bin" >inspect.out || fail "inspect failed"
assert_contains "$(cat inspect.out)" "__bundle_main__"
# libpython: a native entry, compressed (the default), or linked into the
# executable (--link-libpython, where the static one and cc exist)
assert_contains "$(cat inspect.out)" "_native/lib/libpython"
"$BUNDLE" --onefile one/app/main.py --python "$PY" -q --no-marathon --link-libpython -o linked/main ||
    fail "--link-libpython build failed"
"$BUNDLE" inspect linked/main >inspect-linked.out || fail "inspect failed"
if grep -q 'linked into the executable' inspect-linked.out; then
    [[ $(cat inspect-linked.out) != *"_native/lib/libpython"* ]] || fail "a linked bundle carries a libpython entry"
fi
"$BUNDLE" inspect --json linked/main | "$PY" -I -c '
import json, sys
d = json.load(sys.stdin)
assert d["by_kind"]["libpython"]["count"] == (d["libpython"] != "linked into the executable"), d["by_kind"]
' || fail "inspect --json of a --link-libpython bundle is wrong"
"$BUNDLE" inspect --json "$bin" | "$PY" -I -c '
import json, sys
d = json.load(sys.stdin)
names = {m["name"] for m in d["modules"]}
assert {"__bundle_main__", "helper", "json"} <= names, names
assert d["name"] == "main" and d["python"].startswith("3.")
assert d["kernel"] == "3.10" and d["glibc"].startswith("2."), (d["kernel"], d["glibc"])
# per native entry: stored (compressed) and unpacked size, compression, kind
files = d["files"]
assert files and all(f["unpacked_size"] == f["size"] for f in files), files
assert all(f["stored_size"] == f["size"] for f in files if f["compression"] == "stored"), files
kinds = {f["name"]: f["kind"] for f in files}
assert kinds["_native/manifest"] == "manifest", kinds
assert set(kinds.values()) <= {"libpython", "extension", "library", "data", "manifest", "directory"}, kinds
ext = sum(m["extension"] for m in d["modules"])
assert sum(k == "extension" for k in kinds.values()) == ext, (kinds, ext)
# where the bytes go: every byte of the file in one part
parts = d["by_kind"]
assert sum(p["stored_size"] for p in parts.values()) == d["size"], parts
assert parts["stub"]["stored_size"] == d["stub_size"] and parts["modules"]["stored_size"] == d["pyz_size"]
assert parts["modules"]["unpacked_size"] > d["pyz_size"]  # zstd
assert d["files_stored_size"] == sum(f["stored_size"] for f in files)
assert d["files_unpacked_size"] == sum(f["unpacked_size"] for f in files)
assert parts["extension"]["count"] == ext and parts["libpython"]["count"] == (d["libpython"] != "linked into the executable")
' || fail "inspect --json is wrong"
assert_contains "$(cat inspect.out)" "where the bytes go"
assert_contains "$(cat inspect.out)" "_native/manifest (manifest)"
"$BUNDLE" inspect --json "$bin" | "$PY" -I -c '
import json, sys
d = json.load(sys.stdin)
lp = [f for f in d["files"] if f["kind"] == "libpython"]
assert len(lp) == 1 and lp[0]["name"] == "_native/" + d["libpython"], lp
assert d["by_kind"]["libpython"]["stored_size"] == lp[0]["stored_size"] > 1000000
assert lp[0]["compression"] in ("zstd", "zstd-x86") and lp[0]["unpacked_size"] > 2 * lp[0]["stored_size"], lp
' || fail "inspect --json of the libpython entry is wrong"

# verify: ok, corrupt, foreign
out=$("$BUNDLE" verify "$bin") || fail "verify of a good bundle failed"
assert_contains "$out" "ok"
cp "$bin" corrupt
size=$(stat -c %s corrupt)
printf 'Z' | dd of=corrupt bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
rc=0
"$BUNDLE" verify corrupt 2>verify.err || rc=$?
assert_eq 1 "$rc" "exit status of verify on a corrupt bundle"
assert_contains "$(cat verify.err)" "checksum mismatch"
[[ $(wc -l <verify.err) == 1 ]] || fail "verify printed more than one line: $(cat verify.err)"
rc=0
"$BUNDLE" inspect /bin/sh 2>foreign.err || rc=$?
assert_eq 1 "$rc" "exit status of inspect on a file that is not a bundle"
assert_contains "$(cat foreign.err)" "is not a bundle"
pass
