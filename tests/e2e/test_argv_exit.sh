#!/usr/bin/env bash
# argv and exit status are the app's: arguments with spaces, empty strings,
# UTF-8 and leading dashes reach sys.argv unchanged; sys.argv[0] is the path
# typed; sys.exit(N), an uncaught exception and death by a signal give the
# statuses they give under python; the app runs in the binary's own process.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork argv
cd "$WORK" || exit 1

cat >argv.py <<'PY'
import json
import os
import signal
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else "0"
print(sys.argv[0])
print(json.dumps(sys.argv[1:]))
sys.stdout.flush()
if mode == "raise":
    raise RuntimeError("kaboom")
if mode == "message":
    sys.exit("a message for stderr")
if mode == "pid":
    print(os.getpid(), os.getppid())
    sys.exit(0)
if mode == "sigterm":
    os.kill(os.getpid(), signal.SIGTERM)
    signal.pause()
sys.exit(int(mode))
PY

build_app argv.py

# expected_args ARGS...: sys.argv[1:] as JSON, as the build python prints it
expected_args() { "$PY" -I -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

# check_run STATUS ARGV0 ARGS...: run ARGV0 ARGS... in the sandbox and check
# exit status, sys.argv[0] and sys.argv[1:]
check_run() {
    local want=$1 argv0=$2 rc=0 out
    shift 2
    out=$(run_sandboxed "$argv0" "$@" </dev/null 2>"$WORK/err") || rc=$?
    assert_status "$want" "$rc" "exit status of $argv0 $* (stderr: $(cat "$WORK/err"))"
    assert_eq "$argv0" "$(sed -n 1p <<<"$out")" "sys.argv[0] for $argv0"
    assert_eq "$(expected_args "$@")" "$(sed -n 2p <<<"$out")" "sys.argv[1:] for $argv0 $*"
}

# shellcheck disable=SC2016
check_run 0 dist/argv 0 "two words" "" "  lead and trail  " "héllo wörld" "日本" 'quo"te' "back\\slash" 'new
line' '$HOME' '*'
check_run 3 dist/argv 3
check_run 42 dist/argv 42 --help -v --onefile -- -
check_run 0 "$WORK/dist/argv" 0 abs
check_run 255 ./dist/argv 255 dot-slash
check_run 0 dist/argv   # no argument at all

# found through PATH: argv[0] is the bare name
rc=0
out=$(run_sandboxed --env "PATH=$WORK/dist:/usr/bin:/bin" argv 7 via-path </dev/null 2>"$WORK/err") || rc=$?
assert_status 7 "$rc" "exit status through PATH (stderr: $(cat "$WORK/err"))"
assert_eq "argv" "$(sed -n 1p <<<"$out")" "sys.argv[0] through PATH"

# sys.exit("message"): status 1, the message on stderr
rc=0
run_sandboxed dist/argv message </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 1 "$rc" "exit status of sys.exit(message)"
assert_eq "a message for stderr" "$(cat "$WORK/err")" "stderr of sys.exit(message)"

# uncaught exception: status 1, the traceback on stderr
rc=0
run_sandboxed dist/argv raise </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 1 "$rc" "exit status of an uncaught exception"
err=$(cat "$WORK/err")
assert_contains "$err" "Traceback (most recent call last):" "stderr of an uncaught exception"
assert_contains "$err" "RuntimeError: kaboom" "stderr of an uncaught exception"

# killed by a signal: the shell sees 128+15, as with plain python
rc=0
run_sandboxed dist/argv sigterm </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 143 "$rc" "exit status of an app killed by SIGTERM (stderr: $(cat "$WORK/err"))"

# one process: the app's pid is the pid of the binary we started
sandbox_cmd dist/argv pid
rc=0
"${SANDBOX_CMD[@]}" </dev/null >"$WORK/out" 2>"$WORK/err" &
pid=$!
wait "$pid" || rc=$?
assert_status 0 "$rc" "exit status of the pid run (stderr: $(cat "$WORK/err"))"
read -r app_pid app_ppid < <(sed -n 3p "$WORK/out")
assert_eq "$pid" "$app_pid" "the app's os.getpid() (the binary's pid is $pid)"
assert_eq "$$" "$app_ppid" "the app's os.getppid() (this shell is $$)"

pass
