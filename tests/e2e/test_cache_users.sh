#!/usr/bin/env bash
# No other user's code, ever (in the no-Python sandbox).  A user made with
# useradd races the app:
#  1. the cache base under a directory that user can write and that is not
#     sticky (TMPDIR=<shared>, mode 0777, the only base: no HOME, no
#     BUNDLE_CACHE_DIR), where the app's own base and entry already exist:
#     the other user swaps the base with a planted one of theirs (same
#     layout, their own library in place of math's extension module and of
#     libgcc_s) as fast as renameat2(RENAME_EXCHANGE) goes, with no sleeps
#     (the base never goes missing, so the app never makes a new one), while
#     the app starts 200 times and imports math.  Not one start may load the
#     planted library (its constructor leaves a mark), every start must
#     print the right answer, and the racer must have swapped the base (else
#     the test proves nothing);
#  2. the same with the directory sticky (mode 1777, as /tmp; 50 starts):
#     the base is used (sys._MEIPASS is in it) and the other user's renames
#     all fail.
# Skips without useradd or cc.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork users
cd "$WORK" || exit 1

command -v useradd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v useradd >/dev/null 2>&1 || skip "no useradd: cannot make another user to race the app"
command -v userdel >/dev/null 2>&1 || skip "no userdel: cannot remove the user this test would make"
command -v cc >/dev/null 2>&1 || skip "no cc: cannot build the other user's library and racer"
command -v setpriv >/dev/null 2>&1 || skip "no setpriv: cannot run as the other user"
[[ $(id -u) == 0 ]] || skip "not root: cannot make another user"
ROUNDS=${E2E_RACE_ROUNDS:-200}


OTHER=bundle-e2e-$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$OTHER" 2>"$WORK/useradd.err" ||
    skip "useradd $OTHER failed: $(cat "$WORK/useradd.err")"
remove_user() { userdel "$OTHER" 2>/dev/null || true; }
# (the status is handed on to lib.sh's cleanup, which removes the work dirs)
trap 'rc=$?; trap - ERR; set +e; remove_user; (exit "$rc"); _e2e_cleanup' EXIT
OUID=$(id -u "$OTHER") OGID=$(id -g "$OTHER")
as_other() { setpriv --reuid="$OUID" --regid="$OGID" --clear-groups -- "$@"; }

cat >app.py <<'PY'
import math
import sys
print("math", math.sqrt(4.0))
print("meipass=%s" % sys._MEIPASS)
PY
build_app app.py --no-marathon
APP=$WORK/dist/app
HASH=$(bundle_hash "$APP")
chmod 755 "$WORK" "$WORK/dist" # the other user may read the bundle (it is no secret)

# A race ground everybody can reach: under /tmp (sticky, root's), a dir of
# its own (755), and in it the shared dir and the marks dir.
RACE=$(mktemp -d /tmp/bundle-e2e-race.XXXXXX)
_E2E_CLEAN+=("$RACE")
chmod 755 "$RACE"
mkdir -m 1777 "$RACE/marks"

# The other user's library: its constructor leaves a mark (it runs as the
# app's user, here root).
cat >evil.c <<EOF
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void)
{
    char p[256];
    snprintf(p, sizeof p, "$RACE/marks/loaded-%ld", (long)getpid());
    int fd = open(p, O_WRONLY | O_CREAT, 0666);
    if (fd >= 0)
        close(fd);
}
EOF
cc -shared -fPIC -o evil.so evil.c || fail "cannot build the other user's library"
# The racer: swaps DIR/bundle-UID and DIR/planted (atomically: the base never
# goes missing, so the app never makes a new one), as fast as it can, until
# DIR/stop exists; prints how many swaps went through, and how many failed.
cat >racer.c <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char base[4096], planted[4096], stop[4096];
    unsigned long swaps = 0, failed = 0;
    (void)argc;
    snprintf(base, sizeof base, "%s/%s", argv[1], argv[2]);
    snprintf(planted, sizeof planted, "%s/planted", argv[1]);
    snprintf(stop, sizeof stop, "%s/stop", argv[1]);
    while (access(stop, F_OK) != 0) {
        if (renameat2(AT_FDCWD, planted, AT_FDCWD, base, RENAME_EXCHANGE) == 0)
            swaps++;
        else
            failed++;
    }
    /* the app's own base back in place */
    if (swaps % 2)
        renameat2(AT_FDCWD, planted, AT_FDCWD, base, RENAME_EXCHANGE);
    printf("%lu %lu\n", swaps, failed);
    return 0;
}
EOF
cc -O2 -o racer racer.c || fail "cannot build the racer"
chmod 755 evil.so racer

# race MODE: the shared dir with MODE; the app's base and entry made by a
# start with its own private TMPDIR, then moved there (so that they exist
# whatever the stub thinks of the shared dir); the planted base beside it.
race() {
    local mode=$1 rounds=$2 shared=$RACE/shared-$1 base n=0 bad=0 loaded rc out racer_pid swaps failed mei
    mkdir -p "$shared"
    chmod "$mode" "$shared"
    base=$shared/bundle-0
    [[ $(id -u) == 0 ]] || base=$shared/bundle-$(id -u)
    mkdir -m 700 "$WORK/own-$mode"
    run_sandboxed --no-cache --env "TMPDIR=$WORK/own-$mode" "${NOHOME[@]}" "$APP" >/dev/null 2>&1 </dev/null ||
        soft_fail "$mode: the app did not run with a private TMPDIR"
    mv "$WORK/own-$mode/${base##*/}" "$base"
    [[ -d $base/$HASH ]] || { soft_fail "$mode: no entry to race for at $base/$HASH"; return; }
    # the planted base: the same layout, the other user's library in place
    # of every shared library the stub loads
    as_other mkdir -p "$shared/planted"
    (cd "$base" && find "$HASH" -type d) | while IFS= read -r d; do as_other mkdir -p "$shared/planted/$d"; done
    (cd "$base" && find "$HASH" -type f) | while IFS= read -r f; do
        case $f in
            *.so | *.so.*) as_other cp "$WORK/evil.so" "$shared/planted/$f" ;;
            *) as_other tee "$shared/planted/$f" <"$base/$f" >/dev/null ;;
        esac
    done
    as_other test -f "$shared/planted/$HASH/manifest" || { soft_fail "$mode: planting failed"; return; }
    as_other "$WORK/racer" "$shared" "${base##*/}" >"$WORK/racer-$mode.out" 2>&1 &
    racer_pid=$!
    track_pid "$racer_pid"
    for ((n = 0; n < rounds; n++)); do
        rc=0
        out=$(run_sandboxed --no-cache --env "TMPDIR=$shared" "${NOHOME[@]}" "$APP" </dev/null 2>"$WORK/err") || rc=$?
        if [[ $rc != 0 || $(head -1 <<<"$out") != "math 2.0" ]]; then
            bad=$((bad + 1))
            ((bad > 3)) || info "  $mode: start $n: exit $rc, stdout $(_show "$out"), stderr $(head -c 300 "$WORK/err")"
        fi
        mei=$(sed -n 's/^meipass=//p' <<<"$out")
    done
    touch "$shared/stop"
    wait "$racer_pid" || true
    read -r swaps failed <"$WORK/racer-$mode.out" || true
    loaded=$(find "$RACE/marks" -type f | wc -l)
    info "$mode: $rounds starts; the other user swapped the base $swaps times ($failed swaps failed); planted library loaded by $loaded starts; $bad starts failed"
    ((loaded == 0)) || soft_fail "shared dir $mode: the other user's library was loaded by $loaded of $rounds starts"
    ((bad == 0)) || soft_fail "shared dir $mode: $bad of $rounds starts did not print the right answer"
    if [[ $mode == 777 ]]; then
        ((swaps > 1000)) || soft_fail "test bug: the other user hardly swapped the base (racer: $(cat "$WORK/racer-$mode.out"))"
        [[ $mei != "$base"/* ]] || soft_fail "shared dir 777: the app still uses the base $base (_MEIPASS=$mei)"
    else
        ((swaps == 0)) || soft_fail "shared dir 1777: the other user renamed the base $swaps times in a sticky dir"
        [[ $mei == "$base/$HASH/"* ]] || soft_fail "shared dir 1777: the app does not use its base $base (_MEIPASS=$mei)"
    fi
    rm -f "$RACE"/marks/*
}
NOHOME=(/usr/bin/env -u HOME)
race 777 "$ROUNDS"
race 1777 $((ROUNDS < 50 ? ROUNDS : 50))

pass_unless_soft_failures
