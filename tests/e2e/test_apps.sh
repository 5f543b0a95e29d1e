#!/usr/bin/env bash
# Real command-line applications that Debian 12 ships in Python (linters,
# formatters, doc builders, version control, backup, tools with C
# extensions), each bundled from the launcher script Debian installs in
# /usr/bin and run with no Python on the machine: exit status, stdout and the
# files it writes must be what plain /usr/bin/python3 gives.
#
# The engine is bench/apps (the apps are the folders of tests/apps/; see
# tests/apps/README.md); this test runs it with --tsv and judges its rows:
#   - an app that fails and is not listed in tests/apps/known-failures.txt
#     fails the test;
#   - a listed app that now works is reported (remove it from the list);
#   - an app whose launcher is not installed is skipped with a message.
# Prints `apps: K/N work`. Skips (77) without root / unshare / Debian's
# python3, or when none of tests/apps/debian-packages.txt is installed.
# About 2-3 minutes on 2 cores (30 apps: plain run, build, sandboxed run).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
[[ $(id -u) == 0 ]] || skip "needs root: the no-Python sandbox uses a mount namespace"
command -v unshare >/dev/null 2>&1 || skip "no unshare(1): cannot build the no-Python sandbox (apt-get install util-linux)"
[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 (Debian's python3): the apps are Debian's"
APPS_DIR=$SRCDIR/tests/apps
[[ -f $APPS_DIR/debian-packages.txt ]] || fail "no $APPS_DIR/debian-packages.txt"

missing=()
while IFS= read -r pkg || [[ -n $pkg ]]; do
    [[ -z $pkg || $pkg == \#* ]] && continue
    if [[ $(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true) != *" installed" ]]; then
        missing+=("$pkg")
    fi
done <"$APPS_DIR/debian-packages.txt"
total=$(grep -c -v -E '^[[:space:]]*(#|$)' "$APPS_DIR/debian-packages.txt" || true)
if ((${#missing[@]} == total)); then
    skip "none of the Debian packages of tests/apps/debian-packages.txt is installed (apt-get install --no-install-recommends \$(cat tests/apps/debian-packages.txt))"
fi
if ((${#missing[@]})); then
    info "not installed (their apps are skipped): ${missing[*]}"
fi

export E2E_PYTHON=/usr/bin/python3
find_python
need_sandbox # skips here, not inside bench/apps, if the sandbox cannot be built
mkwork apps

rc=0
WORKDIR=$E2E_ROOT bash "$SRCDIR/bench/apps" --no-sizes --tsv "$WORK/results.tsv" || rc=$?
[[ $rc == 0 ]] || fail "bench/apps could not run (exit $rc)"
[[ -s $WORK/results.tsv ]] || fail "bench/apps wrote no results"

# known failures: APP reason...
declare -A KNOWN=()
while read -r app reason; do
    [[ -z $app || $app == \#* ]] && continue
    KNOWN[$app]=$reason
done <"$APPS_DIR/known-failures.txt"

k=0 n=0
unexpected=() now_pass=() still=()
while IFS=$'\t' read -r app status _bsize _isize _build _plain _brun _prc _brc reason; do
    case $status in
        skip) continue ;;
        ok)
            n=$((n + 1)) k=$((k + 1))
            if [[ -n ${KNOWN[$app]+x} ]]; then now_pass+=("$app"); fi
            ;;
        *)
            n=$((n + 1))
            if [[ -n ${KNOWN[$app]+x} ]]; then
                still+=("$app")
            else
                unexpected+=("$app: $reason")
            fi
            ;;
    esac
done <"$WORK/results.tsv"

echo "apps: $k/$n work"
if ((${#still[@]})); then info "known failures, still failing: ${still[*]}"; fi
if ((${#now_pass[@]})); then
    info "known failures that now PASS (remove them from tests/apps/known-failures.txt): ${now_pass[*]}"
fi
if ((${#unexpected[@]})); then
    fail "$(printf '%s\n' "${#unexpected[@]} app(s) fail that tests/apps/known-failures.txt does not list:" "${unexpected[@]}")"
fi
pass
