#!/usr/bin/env bash
# stdin: UTF-8 read from stdin, upper-cased to stdout, counted in characters
# (not bytes). The bundle must print exactly what plain `python3 -I app.py`
# prints in the same environment: with LANG=C.UTF-8, and with no LANG at all
# (C locale, where python coerces to UTF-8). Also a 1 MiB input and an empty one.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork stdin
cd "$WORK" || exit 1

cat >upper.py <<'PY'
import sys

data = sys.stdin.read()
sys.stdout.write(data.upper())
print(f"chars={len(data)} bytes={len(data.encode('utf-8', 'surrogateescape'))} "
      f"lines={data.count(chr(10))}")
print(f"stdin={sys.stdin.encoding} stdout={sys.stdout.encoding} "
      f"fs={sys.getfilesystemencoding()}")
PY

build_app upper.py

printf 'héllo wörld\n日本語のテキスト\nstraße ﬁx ǆ\nemoji 🎉 done\n' >in.txt
# characters, independently of python: 12 + 9 + 12 + 13 = 46
assert_eq 46 "$(LC_ALL=C.UTF-8 wc -m <in.txt | tr -d ' ')" "character count of the test input (wc -m)"
: >empty.txt
"$PY" -I -c 'import sys
line = "ünïcödé 日本 🎉 abc\n"
sys.stdout.buffer.write((line * (1048576 // len(line.encode()) + 1)).encode())' >big.txt

# plain ENVSPEC INPUT: what plain python prints, outside the sandbox, in env -i + ENVSPEC
plain() {
    local -a envs
    read -r -a envs <<<"$1"
    env -i PATH=/usr/bin:/bin "HOME=$SB_HOME" "${envs[@]}" "$PY" -I upper.py <"$2"
}

for locale in LANG=C.UTF-8 none; do
    if [[ $locale == none ]]; then opts=(--no-lang) envspec=""; else opts=(--lang "${locale#LANG=}") envspec=$locale; fi
    for input in in.txt empty.txt big.txt; do
        want=$(plain "$envspec" "$input") || fail "plain python failed on $input ($locale)"
        rc=0
        got=$(run_sandboxed "${opts[@]}" dist/upper <"$input" 2>"$WORK/err") || rc=$?
        assert_status 0 "$rc" "exit status ($locale, $input; stderr: $(head -c 2000 "$WORK/err"))"
        assert_eq "" "$(cat "$WORK/err")" "stderr ($locale, $input)"
        if [[ $input == big.txt ]]; then
            # don't print a MiB on failure: compare digests and the summary lines
            assert_eq "$(tail -n 2 <<<"$want")" "$(tail -n 2 <<<"$got")" "summary lines ($locale, $input)"
            assert_eq "$(md5sum <<<"$want")" "$(md5sum <<<"$got")" "md5 of the output ($locale, $input)"
        else
            assert_eq "$want" "$got" "output ($locale, $input)"
        fi
    done
    # the counts themselves, not only the equality with plain python
    got=$(run_sandboxed "${opts[@]}" dist/upper <in.txt 2>/dev/null)
    assert_contains "$got" "chars=46 bytes=$(wc -c <in.txt | tr -d ' ') lines=4" "counts ($locale)"
    assert_contains "$got" "HÉLLO WÖRLD" "upper-cased text ($locale)"
    assert_contains "$got" "STRASSE" "upper-cased text ($locale)"
    assert_contains "$got" "stdin=utf-8 stdout=utf-8" "stream encodings ($locale)"
done

pass
