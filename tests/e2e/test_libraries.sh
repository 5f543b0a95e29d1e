#!/usr/bin/env bash
# The library suite (tests/libs/app_*.py: one widely used library from Debian's
# python3-* packages each, used the way its README shows), bundled with
# /usr/bin/python3 and run with no Python on the machine: each bundle must print
# what plain python prints and exit as it does. bench/packages is the engine
# (it runs the programs 2 at a time and says which library is not installed);
# this test reads its --tsv output.
# Fails if a program that tests/libs/known-failures.txt does not list fails
# (or if plain python fails on one: a broken program); a listed one that now
# passes is reported ("remove it from known-failures.txt"), not a failure.
# Skips when no program could run (none of the libraries installed:
# apt-get install $(cat tests/libs/debian-packages.txt)).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 (Debian's python3) on this machine"
# shellcheck disable=SC2034 # read by find_python
E2E_PYTHON=/usr/bin/python3
find_python
need_sandbox
mkwork libraries

rc=0
BUNDLE=$BUNDLE "$SRCDIR/bench/packages" --jobs 2 --tsv "$WORK/results.tsv" >"$WORK/report.txt" 2>&1 || rc=$?
if [[ $rc == 77 ]]; then
    skip "bench/packages cannot run here: $(tail -n 1 "$WORK/report.txt")"
fi
[[ $rc == 0 && -f $WORK/results.tsv ]] || fail "bench/packages exited $rc:
$(tail -n 30 "$WORK/report.txt")"
sed 's/^/  /' "$WORK/report.txt" >&"$E2E_LOGFD"

declare -A KNOWN=()
while read -r n reason; do
    [[ -z $n || $n == \#* ]] && continue
    KNOWN[$n]=${reason:-known failure}
done <"$SRCDIR/tests/libs/known-failures.txt"

ok=0 total=0
new=() fixed=() known=() skipped=()
while IFS=$'\t' read -r n st _ _ _ msg; do
    case $st in
        skip) skipped+=("$n"); continue ;;
        ok)
            ok=$((ok + 1))
            [[ -n ${KNOWN[$n]:-} ]] && fixed+=("$n")
            ;;
        *)
            if [[ -n ${KNOWN[$n]:-} && $st == FAIL ]]; then
                known+=("$n")
            else
                new+=("$n $st: $msg")
            fi
            ;;
    esac
    total=$((total + 1))
done <"$WORK/results.tsv"

((total)) || skip "no library of the suite is installed (apt-get install \$(cat tests/libs/debian-packages.txt)); skipped: ${skipped[*]}"
info "libraries: $ok/$total work${skipped:+ (${#skipped[@]} skipped: not installed)}"
((${#known[@]} == 0)) || info "known failures (tests/libs/known-failures.txt): ${known[*]}"
for n in "${fixed[@]}"; do
    info "$n now passes: remove it from tests/libs/known-failures.txt"
done
if ((${#new[@]})); then
    fail "$((${#new[@]})) program(s) fail that tests/libs/known-failures.txt does not list (E2E_KEEP=1 keeps their outputs):
$(printf '  %s\n' "${new[@]}")"
fi
pass
