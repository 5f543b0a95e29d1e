#!/usr/bin/env bash
# examples/hello: built with the defaults, run with no Python on the machine.
# Checks: the output and exit status; dist/ holds exactly the binary (one
# self-contained file) and its Marathon JSON; a second run from the warm cache;
# a run with BUNDLE_CACHE_DIR unset puts the cache under $HOME/.cache/bundle;
# by default libpython travels compressed and is unpacked into the cache
# entry on the first start (loaded with dlopen); the same app built with
# --link-libpython (libpython linked into the executable) runs too, cold and
# warm, and unpacks no libpython; it is the bigger of the two.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork hello
cd "$WORK" || exit 1
cp "$SRCDIR/examples/hello/hello.py" .

build_app hello.py

# dist/: the binary and its Marathon app, nothing else (no temp files).
[[ -f dist/hello && -x dist/hello ]] || fail "dist/hello is not an executable file"
[[ -f dist/hello.marathon.json ]] || fail "dist/hello.marathon.json is missing"
assert_eq "$(printf '%s\n' ./hello ./hello.marathon.json)" "$(files_in dist)" "files in dist/"
[[ $(head -c 4 dist/hello | tail -c 3) == ELF ]] || fail "dist/hello is not an ELF executable"
# the marathon file is JSON (checked with the build python, outside any sandbox)
"$PY" -I -c 'import json, sys; json.load(open(sys.argv[1]))' dist/hello.marathon.json ||
    fail "dist/hello.marathon.json is not valid JSON"

# One self-contained file: moved alone to a fresh dir, it runs there.
mkdir solo
cp dist/hello solo/hello
rm -rf "$SB_CACHE" && mkdir "$SB_CACHE"

rc=0
out=$(run_sandboxed solo/hello </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "solo/hello exit status (stderr: $(cat "$WORK/err"))"
assert_contains "$out" "hello from bundle" "stdout of dist/hello"
assert_contains "$out" "frozen=True" "stdout of dist/hello"
assert_eq "" "$(cat "$WORK/err")" "stderr of dist/hello"
[[ -n $(ls -A "$SB_CACHE") ]] || fail "the first run left nothing in BUNDLE_CACHE_DIR ($SB_CACHE)"
cache_before=$(files_in "$SB_CACHE")
# the default: the shared libpython, compressed in the binary, unpacked
[[ -n $(find "$SB_CACHE" -path '*/lib/libpython*' -print) ]] ||
    fail "the default bundle left no libpython in its cache entry: $(cd "$SB_CACHE" && find . | head)"
grep -q '_native/lib/libpython.*(libpython, zstd-x86)' <<<"$("$BUNDLE" inspect dist/hello)" ||
    fail "libpython is not compressed: $("$BUNDLE" inspect dist/hello | grep libpython)"

# Warm cache: same output, and the cache is reused, not refilled.
rc=0
out2=$(run_sandboxed dist/hello </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "second run exit status (stderr: $(cat "$WORK/err"))"
assert_eq "$out" "$out2" "stdout of the warm-cache run"
assert_eq "$cache_before" "$(files_in "$SB_CACHE")" "cache contents after the warm run"

# BUNDLE_CACHE_DIR unset, HOME a fresh dir: the cache goes to $HOME/.cache/bundle.
home=$WORK/home2
mkdir "$home"
rc=0
out3=$(run_sandboxed --no-cache --home "$home" dist/hello </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "run without BUNDLE_CACHE_DIR (stderr: $(cat "$WORK/err"))"
assert_eq "$out" "$out3" "stdout without BUNDLE_CACHE_DIR"
[[ -d $home/.cache/bundle && -n $(ls -A "$home/.cache/bundle") ]] ||
    fail "no cache under \$HOME/.cache/bundle; HOME holds: $(cd "$home" && find . | head -20)"

# --link-libpython: the interpreter linked into the executable (where it has
# a static libpython and cc exists): the first start writes no libpython
rc=0
"$BUNDLE" --onefile hello.py --python "$PY" -q --no-marathon --link-libpython -o linked/hello 2>"$WORK/err" ||
    fail "--link-libpython build failed: $(cat "$WORK/err")"
if grep -q 'linked into the executable' <<<"$("$BUNDLE" inspect linked/hello)"; then
    rm -rf "$SB_CACHE" && mkdir "$SB_CACHE"
    for run in cold warm; do
        rc=0
        out4=$(run_sandboxed linked/hello </dev/null 2>"$WORK/err") || rc=$?
        assert_status 0 "$rc" "--link-libpython bundle, $run (stderr: $(cat "$WORK/err"))"
        assert_eq "$out" "$out4" "stdout of the --link-libpython bundle, $run"
    done
    [[ -z $(find "$SB_CACHE" -name 'libpython*' -print) ]] ||
        fail "a linked bundle unpacked a libpython: $(find "$SB_CACHE" -name 'libpython*')"
    (($(stat -c %s linked/hello) > $(stat -c %s dist/hello))) ||
        fail "the linked bundle is not the bigger one: $(stat -c %s linked/hello dist/hello)"
else
    info "libpython not linked in ($PY has no static libpython, or no cc): the shared way only"
fi

pass
