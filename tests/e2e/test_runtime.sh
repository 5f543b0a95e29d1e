#!/usr/bin/env bash
# The run-time contract of a bundle (issue 4), in the no-Python sandbox:
#  - signals: SIGTERM and SIGINT reach the app's own handlers (the handler
#    prints a line and exits 0; examples/service exits 0 on SIGTERM); with no
#    handler SIGTERM gives 143, SIGINT raises KeyboardInterrupt (status 130),
#    as under plain python; SIGKILL leaves no process behind, multiprocessing
#    children, resource tracker and forkserver included, and no temp file;
#  - exit status equals plain python's for sys.exit(0), sys.exit(3),
#    sys.exit("msg") and an uncaught exception;
#  - multiprocessing with the spawn and forkserver start methods;
#  - sys.frozen is True, sys.executable is the binary's absolute path,
#    sys.argv[0] is what was typed, sys._MEIPASS is a directory;
#  - the app's environment is exactly what plain python -I sees in the same
#    environment (no LD_LIBRARY_PATH, nothing the stub added); subprocesses
#    (/bin/sh, ls, env) work and see no bundle library;
#  - a stray NAME._pth or python3XY._pth beside the binary changes nothing;
#  - BUNDLE_DEBUG=1 prints timed steps on stderr, nothing without it;
#  - two bundles of different apps share one cache dir without interfering,
#    and pruning removes only the same app's entries unused for 30 days and
#    not in use;
#  - a bundle runs from another cwd and through a symlink;
#  - tracebacks carry lines, and columns only with --debug-ranges (3.11+).
# Every check runs; the failures are listed at the end.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork runtime
cd "$WORK" || exit 1

# check EXPECTED ACTUAL WHAT: soft assert_eq
check() {
    [[ $1 == "$2" ]] || soft_fail "$3: expected $(_show "$1" | tr '\n' ' ') got $(_show "$2" | tr '\n' ' ')"
}
# json_get JSON KEY: a value of a JSON object, as the build python prints it
json_get() { "$PY" -I -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

cat >rt.py <<'PY'
import json
import os
import signal
import sys
import time


def child(x):
    return [x * x, bool(getattr(sys, "frozen", False)), sys.executable, os.getpid()]


def busy(t):
    time.sleep(t)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "info"
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode == "info":
        mei = getattr(sys, "_MEIPASS", None)
        print(json.dumps({
            "frozen": getattr(sys, "frozen", None), "executable": sys.executable,
            "argv0": sys.argv[0], "meipass": mei, "meipass_isdir": bool(mei) and os.path.isdir(mei),
            "path": sys.path, "prefix": sys.prefix, "cwd": os.getcwd(),
        }, sort_keys=True))
    elif mode == "handler":
        def handler(signum, frame):
            print("handler got %s" % signal.Signals(signum).name, flush=True)
            sys.exit(0)
        signal.signal(getattr(signal, arg), handler)
        print("ready", flush=True)
        while True:
            time.sleep(1)
    elif mode == "nohandler":
        print("ready", flush=True)
        time.sleep(60)
        print("not interrupted")
    elif mode == "kbi":
        print("ready", flush=True)
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            print("KeyboardInterrupt caught", flush=True)
            sys.exit(0)
    elif mode == "exit":
        sys.exit(int(arg))
    elif mode == "exitmsg":
        sys.exit("a message for stderr")
    elif mode == "raise":
        raise RuntimeError("kaboom")
    elif mode == "mp":
        import multiprocessing as mp
        ctx = mp.get_context(arg)
        with ctx.Pool(2) as pool:
            res = pool.map(child, [1, 2, 3, 4])
        print(json.dumps({
            "squares": [r[0] for r in res], "frozen": all(r[1] for r in res),
            "executables": sorted({r[2] for r in res}),
            "in_children": all(r[3] != os.getpid() for r in res),
        }, sort_keys=True))
    elif mode == "mpkill":
        import multiprocessing as mp
        ctx = mp.get_context(arg)
        procs = [ctx.Process(target=busy, args=(2,)) for _ in range(2)]
        for p in procs:
            p.start()
        print("ready", flush=True)
        time.sleep(60)
    elif mode == "env":
        print(json.dumps(dict(os.environ), sort_keys=True))
    elif mode == "subproc":
        import subprocess
        r = {}
        r["sh"] = subprocess.run(["/bin/sh", "-c", "echo ok"], capture_output=True, text=True).stdout
        r["sh_ld"] = subprocess.run(["/bin/sh", "-c", 'echo "${LD_LIBRARY_PATH-unset}"'],
                                    capture_output=True, text=True).stdout.strip()
        ls = subprocess.run(["ls", "/"], capture_output=True, text=True)
        r["ls"] = [ls.returncode, "usr" in ls.stdout.split()]
        out = subprocess.run(["/usr/bin/env", "-0"], capture_output=True).stdout
        child_env = dict(x.split("=", 1) for x in out.decode("utf-8", "surrogateescape").split("\0") if x)
        r["env_same"] = child_env == dict(os.environ)
        r["child_env_extra"] = sorted(set(child_env) ^ set(os.environ))
        mei = getattr(sys, "_MEIPASS", None)
        base = os.path.dirname(mei) if mei else None
        maps = subprocess.run(["cat", "/proc/self/maps"], capture_output=True, text=True).stdout
        r["child_maps_bundle"] = sorted({l.split()[-1] for l in maps.splitlines() if base and base in l})
        print(json.dumps(r, sort_keys=True))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
PY
build_app rt.py --no-marathon
RT=$WORK/dist/rt
PENV=(PATH=/usr/bin:/bin "HOME=$SB_HOME" LANG=C.UTF-8 "BUNDLE_CACHE_DIR=$SB_CACHE")
# plain ARGS...: plain python -I rt.py ARGS in the sandbox's environment (outside it)
plain() { env -i "${PENV[@]}" "$PY" -I "$WORK/rt.py" "$@"; }

# fill the cache once
rc=0
out=$(run_sandboxed "$RT" info </dev/null 2>"$WORK/err") || rc=$?
[[ $rc == 0 ]] || fail "dist/rt info: exit $rc, stderr: $(cat "$WORK/err")"

# ===========================================================================
# Signals
# ===========================================================================
# DEFSIG: a prefix that execs its arguments with SIGINT and SIGQUIT at their defaults
if env --default-signal=INT,QUIT true 2>/dev/null; then
    DEFSIG=(env '--default-signal=INT,QUIT')
else
    DEFSIG=("$PY" -I -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
fi
# start_bg OUT ERR [sandbox options] BINARY ARGS...: start in the sandbox, in
# a session of its own (SID = its PID: the exec chain ends in the binary),
# with SIGINT and SIGQUIT at their defaults (a background job inherits them
# ignored, and python then installs no KeyboardInterrupt handler). BG_PID.
start_bg() {
    local out=$1 err=$2
    shift 2
    sandbox_cmd "$@"
    setsid "${DEFSIG[@]}" "${SANDBOX_CMD[@]}" >"$out" 2>"$err" </dev/null &
    BG_PID=$!
    _E2E_PIDS+=("$BG_PID")
}
# start_plain_bg OUT ERR ARGS...: the same for plain python rt.py ARGS
start_plain_bg() {
    local out=$1 err=$2
    shift 2
    setsid "${DEFSIG[@]}" env -i "${PENV[@]}" "$PY" -I "$WORK/rt.py" "$@" >"$out" 2>"$err" </dev/null &
    BG_PID=$!
    _E2E_PIDS+=("$BG_PID")
}
# wait_ready FILE PID WHAT: until FILE has a line "ready" (20 s)
wait_ready() {
    local t_end=$((SECONDS + 20))
    until grep -qx ready "$1" 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || { soft_fail "$3: exited before it was ready; stderr: $(head -c 1500 "$1.err" 2>/dev/null)"; return 1; }
        ((SECONDS < t_end)) || { soft_fail "$3: not ready after 20 s"; return 1; }
        sleep 0.02
    done
}
# wait_status PID: WS_RC = its exit status (after at most 15 s; then SIGKILL: 137).
# (not in $(...): a subshell cannot wait for the shell's children)
wait_status() {
    local t_end=$((SECONDS + 15))
    while kill -0 "$1" 2>/dev/null && ((SECONDS < t_end)); do sleep 0.02; done
    if kill -0 "$1" 2>/dev/null; then kill -KILL "$1"; fi
    WS_RC=0
    { wait "$1"; } 2>/dev/null || WS_RC=$?
}
# session_pids SID: the processes still in session SID
session_pids() { ps -eo pid=,sid= | awk -v s="$1" '$2 == s { printf "%s ", $1 }'; }

# signal_case WHO MODE ARG SIG: start dist/rt (WHO=bundle) or plain python
# (WHO=plain) in MODE, send SIG once it is ready; SC_RC, SC_OUT, SC_ERR
signal_case() {
    local who=$1 mode=$2 arg=$3 sig=$4 f=$WORK/sig.$1.$2.$4
    if [[ $who == bundle ]]; then
        start_bg "$f" "$f.err" "$RT" "$mode" ${arg:+"$arg"}
    else
        start_plain_bg "$f" "$f.err" "$mode" ${arg:+"$arg"}
    fi
    SC_RC=none SC_OUT='' SC_ERR=''
    wait_ready "$f" "$BG_PID" "$who $mode $arg" || { kill -KILL "$BG_PID" 2>/dev/null; { wait "$BG_PID"; } 2>/dev/null || true; return 0; }
    kill -"$sig" "$BG_PID"
    wait_status "$BG_PID"
    SC_RC=$WS_RC
    SC_OUT=$(cat "$f") SC_ERR=$(cat "$f.err")
}

# the app's own handlers
for sig in TERM INT; do
    signal_case bundle handler "SIG$sig" "$sig"
    check 0 "$SC_RC" "exit status after SIG$sig with the app's own handler (stderr: $SC_ERR)"
    check "$(printf 'ready\nhandler got SIG%s' "$sig")" "$SC_OUT" "stdout after SIG$sig with the app's own handler"
done
# no handler: as plain python
for sig in TERM INT; do
    signal_case plain nohandler "" "$sig"
    prc=$SC_RC perr=$SC_ERR
    signal_case bundle nohandler "" "$sig"
    check "$prc" "$SC_RC" "exit status after SIG$sig with no handler (plain python gives $prc; stderr: $SC_ERR)"
    if [[ $sig == TERM ]]; then
        check 143 "$SC_RC" "exit status after SIGTERM with no handler"
    else
        check 130 "$SC_RC" "exit status after SIGINT with no handler"
        [[ $SC_ERR == *KeyboardInterrupt* ]] || soft_fail "SIGINT with no handler: no KeyboardInterrupt on stderr: $(_show "$SC_ERR")"
        [[ $perr == *KeyboardInterrupt* ]] || info "  (plain python's stderr after SIGINT: $perr)"
    fi
done
# Ctrl-C raises KeyboardInterrupt in the app
signal_case bundle kbi "" INT
check 0 "$SC_RC" "exit status after SIGINT caught as KeyboardInterrupt (stderr: $SC_ERR)"
check "$(printf 'ready\nKeyboardInterrupt caught')" "$SC_OUT" "SIGINT raises KeyboardInterrupt in the app"

# examples/service: SIGTERM stops it with status 0
mkdir svc
(cd svc && build_app "$SRCDIR/examples/service/service.py" --no-marathon)
port=$(free_port)
start_bg "$WORK/svc.out" "$WORK/svc.err" --env "PORT0=$port" --env HOST=127.0.0.1 "$WORK/svc/dist/service"
svc=$BG_PID
ok=0
for _ in $(seq 1 200); do
    if resp=$(http_get /health "$port" 2>/dev/null) && [[ $resp == "200 ok" ]]; then ok=1; break; fi
    kill -0 "$svc" 2>/dev/null || break
    sleep 0.05
done
if ((ok)); then
    kill -TERM "$svc"
    wait_status "$svc"
    check 0 "$WS_RC" "examples/service exit status after SIGTERM (stderr: $(cat "$WORK/svc.err"))"
    [[ $(cat "$WORK/svc.err") == *stopped* ]] || soft_fail "examples/service did not log 'stopped' after SIGTERM: $(cat "$WORK/svc.err")"
else
    soft_fail "examples/service did not answer /health on port $port; stderr: $(cat "$WORK/svc.err")"
    kill -KILL "$svc" 2>/dev/null || true
    { wait "$svc"; } 2>/dev/null || true
fi

# SIGKILL: no process left, no temp file left (warm cache)
before_cache=$(files_in "$SB_CACHE")
mkdir -p "$WORK/ktmp"
start_bg "$WORK/k.out" "$WORK/k.err" --env "TMPDIR=$WORK/ktmp" "$RT" nohandler
if wait_ready "$WORK/k.out" "$BG_PID" "nohandler (for SIGKILL)"; then
    sid=$BG_PID
    [[ $(ps -o sid= -p "$BG_PID" | tr -d ' ') == "$sid" ]] || info "  (test: the app is not its session's leader)"
    kill -KILL "$BG_PID"
    wait_status "$BG_PID"
    check 137 "$WS_RC" "exit status after SIGKILL"
    sleep 0.2
    left=$(session_pids "$sid")
    [[ -z $left ]] || soft_fail "SIGKILL left processes behind: $left"
    check "$before_cache" "$(files_in "$SB_CACHE")" "the cache after a SIGKILLed warm start"
    check "" "$(files_in "$WORK/ktmp")" "TMPDIR after a SIGKILLed start"
fi
# ... with multiprocessing children (busy for 2 s), the resource tracker and
# the forkserver: within 15 s of the SIGKILL no process of the app is left
for method in spawn forkserver; do
    start_bg "$WORK/mk.$method.out" "$WORK/mk.$method.err" --env "TMPDIR=$WORK/ktmp" "$RT" mpkill "$method"
    wait_ready "$WORK/mk.$method.out" "$BG_PID" "mpkill $method" || continue
    sid=$BG_PID
    n_before=$(session_pids "$sid" | wc -w)
    kill -KILL "$BG_PID"
    wait_status "$BG_PID"
    t_end=$((SECONDS + 15))
    while [[ -n $(session_pids "$sid") ]] && ((SECONDS < t_end)); do sleep 0.1; done
    left=$(session_pids "$sid")
    if [[ -n $left ]]; then
        what=$(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120; echo; done)
        soft_fail "SIGKILL of a $method multiprocessing app ($n_before processes) left, 15 s later: $what"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
    fi
done
pymp=$(find "$WORK/ktmp" -mindepth 1 -maxdepth 1 -name 'pymp-*' | wc -l)
((pymp == 0)) || info "  note: $pymp pymp-* dir(s) left in TMPDIR by the SIGKILLed multiprocessing apps (python's own, plain python leaves them too)"
info "signals: done"

# ===========================================================================
# Exit status as plain python
# ===========================================================================
for args in "exit 0" "exit 3" "exitmsg" "raise"; do
    read -r -a a <<<"$args"
    prc=0
    plain "${a[@]}" >/dev/null 2>"$WORK/perr" || prc=$?
    rc=0
    run_sandboxed "$RT" "${a[@]}" </dev/null >/dev/null 2>"$WORK/err" || rc=$?
    check "$prc" "$rc" "exit status of '$args' (plain python: $prc; stderr: $(head -c 800 "$WORK/err"))"
    case $args in
        exitmsg) check "a message for stderr" "$(cat "$WORK/err")" "stderr of sys.exit(msg)" ;;
        raise) [[ $(tail -n1 "$WORK/err") == "RuntimeError: kaboom" ]] ||
            soft_fail "uncaught exception: last stderr line $(_show "$(tail -n1 "$WORK/err")")" ;;
    esac
done
check 3 "$(rc=0; plain exit 3 >/dev/null 2>&1 || rc=$?; echo "$rc")" "(test) plain python's status of sys.exit(3)"
info "exit status: done"

# ===========================================================================
# multiprocessing: spawn and forkserver
# ===========================================================================
for method in spawn forkserver; do
    rc=0
    out=$(run_sandboxed --timeout 60 "$RT" mp "$method" </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "multiprocessing $method: exit status (stderr: $(head -c 2000 "$WORK/err"))"
    want=$(printf '{"executables": ["%s"], "frozen": true, "in_children": true, "squares": [1, 4, 9, 16]}' "$RT")
    check "$want" "$out" "multiprocessing $method: result"
done
info "multiprocessing: done"

# ===========================================================================
# sys.frozen, sys.executable, sys.argv[0], sys._MEIPASS
# ===========================================================================
for argv0 in dist/rt ./dist/rt "$RT"; do
    rc=0
    out=$(run_sandboxed "$argv0" info </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "$argv0 info: exit status (stderr: $(cat "$WORK/err"))"
    check true "$(json_get "$out" frozen)" "sys.frozen ($argv0)"
    check "$RT" "$(json_get "$out" executable)" "sys.executable ($argv0)"
    check "$argv0" "$(json_get "$out" argv0)" "sys.argv[0] ($argv0)"
    check true "$(json_get "$out" meipass_isdir)" "sys._MEIPASS is a directory ($argv0: $(json_get "$out" meipass))"
done
info "sys attributes: done"

# ===========================================================================
# Environment and subprocesses
# ===========================================================================
for lang in C.UTF-8 none; do
    if [[ $lang == none ]]; then
        opts=(--no-lang) penv=(PATH=/usr/bin:/bin "HOME=$SB_HOME" "BUNDLE_CACHE_DIR=$SB_CACHE")
    else
        opts=(--lang "$lang") penv=(PATH=/usr/bin:/bin "HOME=$SB_HOME" "LANG=$lang" "BUNDLE_CACHE_DIR=$SB_CACHE")
    fi
    want=$(env -i "${penv[@]}" "$PY" -I "$WORK/rt.py" env)
    rc=0
    got=$(run_sandboxed "${opts[@]}" "$RT" env </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "env (LANG $lang): exit status"
    check "$want" "$got" "os.environ of the app vs plain python -I in the same environment (LANG $lang)"
    [[ $got != *LD_LIBRARY_PATH* ]] || soft_fail "LD_LIBRARY_PATH in the app's environment (LANG $lang)"
done
rc=0
out=$(run_sandboxed "$RT" subproc </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "subprocesses: exit status (stderr: $(head -c 2000 "$WORK/err"))"
if [[ $rc == 0 ]]; then
    check ok "$(json_get "$out" sh | tr -d '\n')" "/bin/sh -c 'echo ok' from the app"
    check unset "$(json_get "$out" sh_ld)" "LD_LIBRARY_PATH seen by /bin/sh started by the app"
    check "[0, true]" "$(json_get "$out" ls)" "ls / from the app (status, lists usr)"
    check true "$(json_get "$out" env_same)" "env(1) started by the app sees the app's os.environ (differs in: $(json_get "$out" child_env_extra))"
    check "[]" "$(json_get "$out" child_maps_bundle)" "libraries from the bundle's cache mapped by a subprocess (cat /proc/self/maps)"
fi
info "environment: done"

# ===========================================================================
# A stray ._pth beside the binary changes nothing
# ===========================================================================
mkdir pth
cp "$RT" pth/rt
rc=0
ref=$(run_sandboxed pth/rt info </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "pth/rt info without ._pth files"
xy=$(cut -d. -f1,2 <<<"$PY_VERSION" | tr -d .)
for f in rt._pth "python$xy._pth"; do
    printf '/nonexistent-pth-dir\n.\n' >"pth/$f"
    rc=0
    out=$(run_sandboxed pth/rt info </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "a stray $f beside the binary: exit status (stderr: $(head -c 1500 "$WORK/err"))"
    check "$ref" "$out" "sys facts with a stray $f beside the binary"
    rm -f "pth/$f"
done
info "._pth: done"

# ===========================================================================
# BUNDLE_DEBUG
# ===========================================================================
dbg=$WORK/dbg-cache
for phase in cold warm; do
    rc=0
    out=$(run_sandboxed --cache "$dbg" --env BUNDLE_DEBUG=1 "$RT" exit 0 </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "BUNDLE_DEBUG=1 ($phase): exit status"
    check "" "$out" "BUNDLE_DEBUG=1 ($phase): stdout"
    err=$(cat "$WORK/err")
    n=$(grep -c '' <<<"$err" || true)
    bad=$(grep -Ev '^\[rt +[0-9]+\.[0-9]+ ms\] .+' <<<"$err" || true)
    [[ -z $bad ]] || soft_fail "BUNDLE_DEBUG=1 ($phase): lines that are not '[rt  T ms] step': $(_show "$bad")"
    ((n >= 3)) || soft_fail "BUNDLE_DEBUG=1 ($phase): only $n line(s) on stderr: $(_show "$err")"
    [[ $err == *"$dbg"* ]] || soft_fail "BUNDLE_DEBUG=1 ($phase): does not say where it looked (no $dbg): $(_show "$err")"
    # times never go back
    sed -E 's/^\[rt +//' <<<"$err" | awk '{ t = $1 + 0; if (NR > 1 && t < p) bad = 1; p = t } END { exit bad }' ||
        soft_fail "BUNDLE_DEBUG=1 ($phase): times go backwards: $(_show "$err")"
    if [[ $phase == cold ]]; then
        grep -qi extract <<<"$err" || soft_fail "BUNDLE_DEBUG=1 (cold): does not say what it extracted: $(_show "$err")"
    fi
    info "  BUNDLE_DEBUG=1 $phase: $n lines, last: $(tail -n1 <<<"$err")"
done
rm -rf "$dbg"
for phase in cold warm; do
    for v in unset 0; do
        extra=()
        [[ $v == 0 ]] && extra=(--env BUNDLE_DEBUG=0)
        rc=0
        run_sandboxed --cache "$dbg" "${extra[@]}" "$RT" exit 0 </dev/null >/dev/null 2>"$WORK/err" || rc=$?
        check 0 "$rc" "BUNDLE_DEBUG $v ($phase): exit status"
        check "" "$(cat "$WORK/err")" "stderr with BUNDLE_DEBUG $v ($phase)"
    done
done
info "BUNDLE_DEBUG: done"

# ===========================================================================
# Two apps, one cache; pruning
# ===========================================================================
mkdir other
cat >other/other.py <<'PY'
import sys
print("other ok", getattr(sys, "_MEIPASS", None))
PY
(cd other && build_app other.py --no-marathon)
OTHER=$WORK/other/dist/other
H_RT=$(bundle_hash "$RT") H_OTHER=$(bundle_hash "$OTHER")
shared=$WORK/shared
mkdir -p "$shared"
# both cold at once, then both warm
sandbox_cmd --cache "$shared" "$RT" info
"${SANDBOX_CMD[@]}" >"$WORK/sh.rt" 2>"$WORK/sh.rt.err" </dev/null &
p1=$!
sandbox_cmd --cache "$shared" "$OTHER"
"${SANDBOX_CMD[@]}" >"$WORK/sh.other" 2>"$WORK/sh.other.err" </dev/null &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
check 0 "$rc1" "rt and other started together on one cache: rt's status (stderr: $(cat "$WORK/sh.rt.err"))"
check 0 "$rc2" "rt and other started together on one cache: other's status (stderr: $(cat "$WORK/sh.other.err"))"
check "$shared/$H_RT/site" "$(json_get "$(cat "$WORK/sh.rt")" meipass)" "rt's _MEIPASS in the shared cache"
check "other ok $shared/$H_OTHER/site" "$(cat "$WORK/sh.other")" "other's output in the shared cache"
for i in 1 2; do
    rc=0
    out=$(run_sandboxed --cache "$shared" "$OTHER" </dev/null 2>"$WORK/err") || rc=$?
    check "0 other ok $shared/$H_OTHER/site" "$rc $out" "other, warm run $i"
    rc=0
    out=$(run_sandboxed --cache "$shared" "$RT" exit 0 </dev/null 2>"$WORK/err") || rc=$?
    check 0 "$rc" "rt, warm run $i"
done
check "$(printf '%s\n' "$H_OTHER" "$H_RT" | LC_ALL=C sort)" "$(ls -A "$shared" | LC_ALL=C sort)" "entries of the shared cache"

# Pruning: a new build of rt removes rt's old entries unused for 30 days and
# not in use, and never touches other's entry.
newbuild() { # newbuild N: a new build of rt (same name, different code) in vN/dist/rt
    mkdir -p "v$1"
    { cat rt.py; echo "BUILD = $1"; } >"v$1/rt.py"
    (cd "v$1" && build_app rt.py --no-marathon)
}
newbuild 2
newbuild 3
H2=$(bundle_hash v2/dist/rt) H3=$(bundle_hash v3/dist/rt)
# rt (old build) is running and holds its entry, made 40 days old
start_bg "$WORK/old.out" "$WORK/old.err" --cache "$shared" "$RT" nohandler
old=$BG_PID
if wait_ready "$WORK/old.out" "$old" "old rt build (holding its entry)"; then
    touch -d '40 days ago' "$shared/$H_RT" "$shared/$H_OTHER"
    rc=0
    run_sandboxed --cache "$shared" v2/dist/rt exit 0 </dev/null >/dev/null 2>"$WORK/err" || rc=$?
    check 0 "$rc" "new build v2 of rt on the shared cache"
    [[ -d $shared/$H_RT ]] || soft_fail "pruning removed rt's old entry while a process was using it"
    [[ -d $shared/$H_OTHER ]] || soft_fail "pruning by rt removed the entry of another app (other)"
    kill -KILL "$old"
    { wait "$old"; } 2>/dev/null || true
    # now nobody holds it: the next fill of rt removes it
    rc=0
    run_sandboxed --cache "$shared" v3/dist/rt exit 0 </dev/null >/dev/null 2>"$WORK/err" || rc=$?
    check 0 "$rc" "new build v3 of rt on the shared cache"
    [[ ! -d $shared/$H_RT ]] || soft_fail "pruning kept rt's entry unused for 40 days (no process holds it) after a new build of rt filled the cache"
    [[ -d $shared/$H_OTHER ]] || soft_fail "pruning by rt removed the entry of another app (other)"
    [[ -d $shared/$H2 && -d $shared/$H3 ]] || soft_fail "pruning removed a recent entry of rt"
    left=$(find "$shared" -mindepth 1 -maxdepth 1 -name '.tmp-*')
    [[ -z $left ]] || soft_fail "pruning left temp dirs: $left"
    rc=0
    out=$(run_sandboxed --cache "$shared" "$OTHER" </dev/null 2>"$WORK/err") || rc=$?
    check "0 other ok $shared/$H_OTHER/site" "$rc $out" "other after rt's pruning"
fi
info "shared cache and pruning: done"

# ===========================================================================
# Another cwd, a symlink
# ===========================================================================
rc=0
out=$(cd / && run_sandboxed "$RT" info </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "run from / (stderr: $(cat "$WORK/err"))"
check "/" "$(json_get "$out" cwd)" "cwd of a run from /"
check "$RT" "$(json_get "$out" executable)" "sys.executable of a run from /"
mkdir -p links
ln -s ../dist/rt links/myapp
ln -s "$RT" links/abs-link
rc=0
out=$(cd links && run_sandboxed ./myapp info </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "run through a relative symlink (stderr: $(cat "$WORK/err"))"
check "./myapp" "$(json_get "$out" argv0)" "sys.argv[0] through a symlink"
check true "$(json_get "$out" frozen)" "sys.frozen through a symlink"
check "$RT" "$(json_get "$out" executable)" "sys.executable through a symlink (the binary itself)"
rc=0
out=$(cd / && run_sandboxed "$WORK/links/abs-link" exit 0 </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "run through an absolute symlink from / (stderr: $(cat "$WORK/err"))"
rc=0
out=$(run_sandboxed --env "PATH=$WORK/links:/usr/bin:/bin" myapp info </dev/null 2>"$WORK/err") || rc=$?
check 0 "$rc" "run through a symlink found on PATH (stderr: $(cat "$WORK/err"))"
check myapp "$(json_get "$out" argv0)" "sys.argv[0] through a symlink found on PATH"
info "cwd and symlinks: done"

# Tracebacks (Python 3.11 and later): by default modules carry line numbers
# but no column table (-X no_debug_ranges), so a traceback names file, line
# and function, shows the source line where it can read it, and draws no ^^^
# marks; --debug-ranges keeps the columns and the marks.
if "$PY" -I -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    mkdir -p dr && cat >dr/dr.py <<'PY'
import sys
def f(d):
    return d["a"]["b"] + 1
code = f.__code__
print("columns", any(p[2] is not None for p in code.co_positions()))
f({"a": None})
PY
    for mode in default debug-ranges; do
        flags=(); [[ $mode == default ]] || flags=(--debug-ranges)
        (cd dr && build_app dr.py -q --no-marathon -o "$mode/dr" "${flags[@]}")
        rc=0
        out=$(cd dr && run_sandboxed "$mode/dr" </dev/null 2>"$WORK/err") || rc=$?
        check 1 "$rc" "$mode: exit status of an uncaught TypeError"
        tb=$(cat "$WORK/err")
        grep -q 'File "dr.py", line 3, in f' <<<"$tb" || soft_fail "$mode: the traceback lost its line: $tb"
        grep -qF 'return d["a"]["b"] + 1' <<<"$tb" || soft_fail "$mode: the traceback lost the source line: $tb"
        if [[ $mode == default ]]; then
            check "columns False" "$out" "$mode: co_positions"
            ! grep -q '\^' <<<"$tb" || soft_fail "$mode: ^^^ marks without a column table: $tb"
        else
            check "columns True" "$out" "$mode: co_positions"
            grep -q '\^\^\^' <<<"$tb" || soft_fail "$mode: no ^^^ marks with --debug-ranges: $tb"
        fi
    done
    info "tracebacks with and without --debug-ranges: done"
else
    info "SKIP tracebacks: $PY is older than 3.11 (no column table)"
fi

pass_unless_soft_failures
