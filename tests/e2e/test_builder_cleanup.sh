#!/usr/bin/env bash
# The builder leaves nothing behind (issue 12, items 5 and 6):
#  (a) its temp files go under $TMPDIR: with TMPDIR a fresh empty dir, builds
#      (linked stub and strip, --entry, --trace, a failing one) leave that dir
#      empty and nothing new named bundle-* in /tmp; an unusable TMPDIR fails
#      the build (so it is the dir used), leaving no output and no dist/;
#  (b) SIGINT, SIGTERM and SIGHUP at spread-out moments of a build (probing,
#      linking, compiling, stripping, writing) end it with the signal's
#      status, and leave no dist/.NAME.tmp-*, no output (nor the dist/ it
#      made), nothing in TMPDIR and no helper process (cc, ld, strip,
#      python3) still running; a signal that comes after the build's last
#      step may leave its outputs, whole (they must verify);
#  (c) a --name with a control character is refused: exit 2, one line on
#      stderr naming --name, nothing in dist/.
# The built binaries are not run: no sandbox needed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
mkwork cleanup
cd "$WORK" || exit 1

# something that takes a while: extension modules and their libraries to
# strip, the stub to link
printf 'import json, email, email.mime.text, sqlite3, http.client, xml.dom.minidom, decimal, csv\nprint("ok")\n' >app.py
printf 'import os\n\ndef broken(:\n    pass\n' >syntax.py

# The names the builder gives its temp files in TMPDIR (src/build.c,
# src/collect/native.c, src/analyze/trace.c): those in /tmp, for the
# before/after comparison.
tmp_names() { find /tmp -maxdepth 1 -mindepth 1 -name 'bundle-*' -printf '%f\n' 2>/dev/null |
    grep -E '^bundle-(boot|absent|link|strip|entry|trace)-' | LC_ALL=C sort || true; }

# new_in_tmp BEFORE: what is in /tmp now, was not before, and is still there
# a few seconds later (another build on this machine may have a temp file
# there for a moment; a leftover stays)
new_in_tmp() {
    local new
    new=$(LC_ALL=C comm -13 <(printf '%s\n' "$1") <(tmp_names) | grep . || true)
    [[ -z $new ]] && return 0
    sleep 3
    LC_ALL=C comm -12 <(printf '%s\n' "$new") <(tmp_names) | grep . || true
}

# helpers: any process whose command line names a path under $1
helpers_under() { pgrep -af -- "$1" || true; }

TMPD=$WORK/tmpdir
mkdir "$TMPD"
before=$(tmp_names)

# ---- (a) every kind of build leaves TMPDIR empty --------------------------
t0=$(date +%s%N)
TMPDIR=$TMPD "$BUNDLE" --onefile app.py --python "$PY" -q -n app >out 2>err ||
    fail "the build with TMPDIR=$TMPD failed: $(cat err)"
t1=$(date +%s%N)
BUILD_MS=$(((t1 - t0) / 1000000))
info "a full build takes $BUILD_MS ms"
[[ -f dist/app && -f dist/app.marathon.json ]] || fail "the build wrote no dist/app: $(files_in dist)"
assert_eq "" "$(files_in "$TMPD")" "TMPDIR after a build"
assert_eq "$(printf '%s\n' ./app ./app.marathon.json)" "$(files_in dist)" "files in dist/ after a build"

TMPDIR=$TMPD "$BUNDLE" --onefile --entry json.tool:main --python "$PY" -q --no-marathon -o entry/app >out 2>err ||
    fail "the --entry build failed: $(cat err)"
assert_eq "" "$(files_in "$TMPD")" "TMPDIR after an --entry build"

TMPDIR=$TMPD "$BUNDLE" --onefile app.py --trace --python "$PY" -q --no-marathon -o traced/app >out 2>err ||
    fail "the --trace build failed: $(cat err)"
assert_eq "" "$(files_in "$TMPD")" "TMPDIR after a --trace build"

rc=0
TMPDIR=$TMPD "$BUNDLE" --onefile syntax.py --python "$PY" -q -o failed/syntax >out 2>err || rc=$?
assert_status 1 "$rc" "a build of a script with a syntax error"
assert_eq "" "$(files_in "$TMPD")" "TMPDIR after a failed build"
[[ ! -e failed ]] || fail "the failed build left failed/: $(files_in failed)"

# TMPDIR is the dir used: one that does not exist fails the build, naming it
rc=0
TMPDIR=$WORK/no-such-dir "$BUNDLE" --onefile app.py --python "$PY" -q -o notmp/app >out 2>err || rc=$?
assert_status 1 "$rc" "a build with TMPDIR=$WORK/no-such-dir (stderr: $(cat err))"
assert_contains "$(cat err)" "$WORK/no-such-dir" "the error of a build with a TMPDIR that does not exist"
[[ ! -e notmp ]] || fail "the build that could not make its temp files left notmp/: $(files_in notmp)"

left=$(new_in_tmp "$before")
[[ -z $left ]] || fail "builds with TMPDIR set left temp files in /tmp: $left"

# ---- (b) signals mid-build leave nothing ----------------------------------
# delays spread over a whole build (probing, linking and compiling, the
# native closure and strip, writing), timed warm: the shortest of two
for _ in 1 2; do
    rm -rf dist
    t0=$(date +%s%N)
    TMPDIR=$TMPD "$BUNDLE" --onefile app.py --python "$PY" -q -n app >out 2>err ||
        fail "the build with TMPDIR=$TMPD failed: $(cat err)"
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    ((ms < BUILD_MS)) && BUILD_MS=$ms
done
info "a warm build takes $BUILD_MS ms"
fractions=(5 15 25 35 45 55 65 75 90)
interrupted=0
for sig in INT TERM HUP; do
    signum=$(kill -l "$sig")
    for f in "${fractions[@]}"; do
        ms=$((BUILD_MS * f / 100))
        delay=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
        rm -rf dist
        # not as a plain background job: bash would start it with SIGINT ignored
        (
            trap - INT QUIT
            TMPDIR=$TMPD exec "$BUNDLE" --onefile app.py --python "$PY" -q -n app >out 2>err
        ) &
        pid=$!
        sleep "$delay"
        kill -"$sig" "$pid" 2>/dev/null || true
        rc=0
        { wait "$pid"; } 2>/dev/null || rc=$? # (no "Hangup" job notice)
        what="SIG$sig after ${delay}s"
        [[ $rc == 0 || $rc == $((128 + signum)) ]] ||
            fail "$what: exit status $rc, expected $((128 + signum)) (stderr: $(cat err))"
        assert_eq "" "$(files_in "$TMPD")" "TMPDIR after $what (exit status $rc)"
        left=$(find . -maxdepth 2 \( -name '.app.tmp-*' -o -name '.app.marathon.json.tmp-*' \))
        [[ -z $left ]] || fail "$what left temp files beside the output: $left"
        busy=$(helpers_under "$TMPD")
        [[ -z $busy ]] || fail "$what left helper processes running: $busy"
        if [[ -e dist && -n $(ls -A dist) ]]; then
            # all or nothing: only a finished build (the signal came after
            # its last step, or not at all before the exit) leaves files
            assert_eq "$(printf '%s\n' ./app ./app.marathon.json)" "$(files_in dist)" "files in dist/ after $what (exit status $rc)"
            "$BUNDLE" verify dist/app >/dev/null 2>verify.err ||
                fail "$what (exit status $rc) left a dist/app that does not verify: $(cat verify.err)"
            continue
        fi
        [[ $rc != 0 ]] || fail "$what: the build exited 0 without writing dist/app"
        interrupted=$((interrupted + 1))
    done
done
info "$interrupted of $((3 * ${#fractions[@]})) builds were interrupted before their end"
((interrupted >= 3 * ${#fractions[@]} / 2)) ||
    fail "only $interrupted builds were interrupted: the signals came too late to test anything"

left=$(new_in_tmp "$before")
[[ -z $left ]] || fail "interrupted builds with TMPDIR set left temp files in /tmp: $left"

# ---- (c) --name with a control character ----------------------------------
for extra in "" --no-marathon; do
    rm -rf dist
    rc=0
    # shellcheck disable=SC2086
    "$BUNDLE" --onefile app.py --python "$PY" $extra --name $'app\nx' >out 2>err </dev/null || rc=$?
    what="--name \$'app\\nx' $extra"
    assert_status 2 "$rc" "$what: exit status (stderr: $(cat err))"
    lines=$(grep -c '' err || true)
    [[ $lines == 1 ]] || fail "$what: expected one line on stderr, got $lines: $(_show "$(cat err)")"
    assert_contains "$(cat err)" "--name" "$what: the error"
    [[ ! -e dist || -z $(ls -A dist) ]] || fail "$what: dist/ holds $(files_in dist)"
done
rc=0
"$BUNDLE" --onefile app.py --python "$PY" --no-marathon -n $'tab\there' >out 2>err </dev/null || rc=$?
assert_status 2 "$rc" "--name with a tab: exit status (stderr: $(cat err))"

pass
