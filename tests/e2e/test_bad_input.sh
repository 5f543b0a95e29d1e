#!/usr/bin/env bash
# Bad input to the bundle CLI. Each failure must exit 2 (usage) or 1 (build
# failure) as the contract says, print exactly one line on stderr starting
# with "bundle: " (naming the problem), and leave no file behind: nothing in
# the output dir, no temp file anywhere in the work dir. --help and --version
# exit 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
mkwork bad
cd "$WORK" || exit 1

printf 'print("fine")\n' >good.py
printf 'import os\n\ndef broken(:\n    pass\n' >syntax.py
printf 'import helper\nhelper.hi()\n' >uses_helper.py
printf 'def hi():\n    print("hi")\n\n\nx = = 1\n' >helper.py
mkdir adir adir.py

CASES=0

# snapshot: every path under the work dir but the test's own scratch files
snapshot() { (find . -mindepth 1 -not -path './.sb-*' -not -name '.out' -not -name '.err' |
    grep -v '/__pycache__' | LC_ALL=C sort); }

# expect_fail STATUSES NEEDLE [--as-user] -- BUNDLE-ARGS...
#   STATUSES: allowed exit statuses ("2" or "1 2"); NEEDLE: text the one line
#   must contain (case-insensitive; "" for none).
expect_fail() {
    local statuses=$1 needle=$2 drop=0 rc=0 before after err lines
    shift 2
    [[ $1 == --as-user ]] && { drop=1; shift; }
    [[ $1 == -- ]] && shift
    CASES=$((CASES + 1))
    before=$(snapshot)
    if ((drop)); then
        # root, minus the capabilities that let it ignore file permissions
        setpriv --bounding-set=-dac_override,-dac_read_search \
            --inh-caps=-dac_override,-dac_read_search -- "$BUNDLE" "$@" >.out 2>.err </dev/null || rc=$?
    else
        "$BUNDLE" "$@" >.out 2>.err </dev/null || rc=$?
    fi
    err=$(cat .err)
    after=$(snapshot)
    local what="bundle $*"
    [[ " $statuses " == *" $rc "* ]] ||
        fail "$what: exit status $rc, expected ${statuses// / or }; stderr: $err"
    lines=$(grep -c '' .err || true)
    [[ $lines == 1 ]] || fail "$what: expected exactly one line on stderr, got $lines:
$(_show "$err")"
    [[ $err == "bundle: "* ]] || fail "$what: stderr does not start with 'bundle: ': $err"
    if [[ -n $needle ]]; then
        grep -qiF -- "$needle" .err || fail "$what: the error does not name '$needle': $err"
    fi
    if [[ $before != "$after" ]]; then
        # a new empty directory (dist/ made before the failure) is tolerated;
        # any new file, or anything that vanished, is not
        local p left=""
        while IFS= read -r p; do
            if [[ -d $p && -z $(ls -A "$p") ]]; then
                info "note: bundle $* left an empty directory $p"
            else
                left+="$p"$'\n'
            fi
        done < <(LC_ALL=C comm -13 <(echo "$before") <(echo "$after"))
        [[ -z $left ]] || fail "$what: left files behind:
$left"
        local gone
        gone=$(LC_ALL=C comm -23 <(echo "$before") <(echo "$after"))
        [[ -z $gone ]] || fail "$what: removed files: $gone"
    fi
    info "ok: bundle $* -> $rc: $err"
}

# 1. no such script
expect_fail 2 "missing.py" -- --onefile missing.py --python "$PY"
# 2. a directory as the script (named like one, too)
expect_fail 2 "adir" -- --onefile adir --python "$PY"
expect_fail 2 "adir.py" -- --onefile adir.py --python "$PY"
# 3. unreadable script: root reads anything, so drop the capabilities that
#    allow that; the file stays root's own with mode 000.
cp good.py unreadable.py
chmod 000 unreadable.py
if command -v setpriv >/dev/null 2>&1 && ! setpriv --bounding-set=-dac_override,-dac_read_search \
    --inh-caps=-dac_override,-dac_read_search -- cat unreadable.py >/dev/null 2>&1; then
    expect_fail "1 2" "unreadable.py" --as-user -- --onefile unreadable.py --python "$PY"
elif [[ $(id -u) != 0 ]]; then
    expect_fail "1 2" "unreadable.py" -- --onefile unreadable.py --python "$PY"
else
    info "case skipped: unreadable script (root, and setpriv cannot drop the DAC capabilities)"
fi
chmod 644 unreadable.py
# 4. syntax errors name file:line, in the script and in a module it imports
expect_fail 1 "syntax.py:3" -- --onefile syntax.py --python "$PY"
expect_fail 1 "helper.py:5" -- --onefile uses_helper.py --python "$PY"
# 5. an interpreter that is not Python, one that does not exist
expect_fail "1 2" "/bin/ls" -- --onefile good.py --python /bin/ls
expect_fail "1 2" "/nonexistent/python3" -- --onefile good.py --python /nonexistent/python3
# 6. a Python without a shared libpython, if this machine has one
static_py=
for cand in /usr/bin/python3* /usr/local/bin/python3* /opt/*/bin/python3*; do
    [[ -x $cand && -f $cand ]] || continue
    if [[ $("$cand" -I -c 'import sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)' 2>/dev/null) == 0 ]]; then
        static_py=$cand
        break
    fi
done
if [[ -n $static_py ]]; then
    expect_fail "1 2" "" -- --onefile good.py --python "$static_py"
else
    info "case skipped: no Python without a shared libpython on this machine"
fi
# 7. an output dir that cannot be written
#    a) a file in the way of dist/
mkdir blocked && : >blocked/dist
(cd blocked && expect_fail 1 "dist" -- --onefile ../good.py --python "$PY") || exit 1
#    b) -o into a dir under /proc
expect_fail "1 2" "" -- --onefile good.py --python "$PY" -o /proc/no-such-dir/app
#    c) a read-only dist/ (mode 555; for root, without the DAC capabilities)
mkdir -p ro/dist && chmod 555 ro/dist
if [[ $(id -u) != 0 ]] || { command -v setpriv >/dev/null 2>&1 &&
    ! setpriv --bounding-set=-dac_override,-dac_read_search -- touch ro/dist/x 2>/dev/null; }; then
    if [[ $(id -u) == 0 ]]; then
        (cd ro && expect_fail 1 "dist" --as-user -- --onefile ../good.py --python "$PY") || exit 1
    else
        (cd ro && expect_fail 1 "dist" -- --onefile ../good.py --python "$PY") || exit 1
    fi
    [[ -z $(ls -A ro/dist) ]] || fail "files left in the read-only dist/: $(ls -A ro/dist)"
else
    info "case skipped: read-only dist/ (root, and setpriv cannot drop the DAC capabilities)"
fi
chmod 755 ro/dist
# 8. usage errors
expect_fail 2 "--frobnicate" -- --onefile good.py --python "$PY" --frobnicate
expect_fail 2 "" --
expect_fail 2 "" -- --onefile
expect_fail 2 "" -- --onefile good.py --python "$PY" -o

# Nothing above may have created an output.
[[ ! -e dist || -z $(ls -A dist) ]] || fail "dist/ has files after failed builds: $(ls -A dist)"

# --help and --version: status 0, on stdout
rc=0
out=$("$BUNDLE" --help 2>"$WORK/.err") || rc=$?
assert_status 0 "$rc" "bundle --help"
assert_contains "$out" "--onefile" "bundle --help"
assert_contains "$out" "--python" "bundle --help"
rc=0
out=$("$BUNDLE" --version 2>"$WORK/.err") || rc=$?
assert_status 0 "$rc" "bundle --version"
[[ $out =~ [0-9]+\.[0-9]+ ]] || fail "bundle --version prints no version number: $out"

# And the good script builds, for contrast (the cases above failed for their reason).
build_app good.py
[[ -x dist/good ]] || fail "dist/good was not built"
info "$CASES failure cases checked"
pass
