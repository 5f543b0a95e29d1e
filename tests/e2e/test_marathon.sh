#!/usr/bin/env bash
# Marathon JSON, proven by playing Mesos.
#
# examples/hello (curl in cmd, and --fetch) and examples/service are bundled
# with --url http://127.0.0.1:PORT/NAME; their JSON is checked against
# ../shared/schemas (Draft 4) and the server's own rules
# (tests/tools/marathon_rules.py); dist/ is served over loopback HTTP by a
# python3 -m http.server outside the sandbox; then each JSON's cmd runs as a
# Mesos agent runs it (tests/tools/mesos_run.sh): /bin/sh -c CMD in an empty
# sandbox dir, MESOS_SANDBOX and PORT0 set, HOME the "agent's", every Python
# hidden (run_sandboxed), inside a cgroup v1 memory limit of the JSON's "mem"
# (that part is skipped, with a message, where no such cgroup can be made).
# Checks: hello prints its line and exits 0 within the limit (peak usage
# below it and memory.failcnt 0; the peak is printed), the stub's cache lands
# in the sandbox; the fetcher's way (download as destPath, chmod 0755) works;
# a tampered download is refused by cmd before anything runs; the service
# answers /health with 200 from inside, listens on 0.0.0.0:$PORT0 and stops
# with status 0 on SIGTERM. And bad command lines (--cpus 0, --mem -1, ids
# Marathon refuses, URLs the fetcher refuses): one line, status 2, no file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork marathon
cd "$WORK" || exit 1
EX=$SRCDIR/examples
TOOLS=$SRCDIR/tests/tools
SCHEMAS=$SRCDIR/../shared/schemas
# Python for the tools, outside the sandbox: Debian's has python3-jsonschema.
HPY=/usr/bin/python3
[[ -x $HPY ]] || HPY=$PY
rules() { "$HPY" -I "$TOOLS/marathon_rules.py" "$@"; }

# curl must be there for the cmd, inside the sandbox too
rc=0
where=$(run_sandboxed /bin/sh -c 'command -v curl && command -v sha256sum' </dev/null 2>&1) || rc=$?
if [[ $rc != 0 ]]; then
    command -v curl >/dev/null 2>&1 || skip "no curl on this machine: the cmd (curl -fsSL ...) needs it on every agent"
    fail "curl or sha256sum is not visible in the sandbox: $where"
fi
assert_contains "$where" "/curl" "curl in the sandbox"

# ---------------------------------------------------------------------------
# Bad command lines: one line on stderr, status 2, no binary and no JSON.
# ---------------------------------------------------------------------------
mkdir bad
cp "$EX/hello/hello.py" bad/
good_url=http://127.0.0.1:9/dl/hello
bad_cases=(
    "--cpus|0"
    "--cpus|-1"
    "--cpus|0.0005"
    "--mem|-1"
    "--mem|0"
    "--marathon-id|/Bad_Id"
    "--marathon-id|/a/restart"
    "--marathon-id|/a/-b"
    "--marathon-id|hello"
    "--url|ftp://x/y"
    "--url|http://127.0.0.1/dl/"
    "--url|http://127.0.0.1/dl/it's"
    "--url|http://127.0.0.1/dl/a\\b"
    "--url|http://127.0.0.1"
    "--health-path|/a b"
    $'--args|a\nb'
)
for c in "${bad_cases[@]}"; do
    flag=${c%%|*} val=${c#*|}
    extra=(--url "$good_url")
    [[ $flag == --url ]] && extra=()
    rc=0
    (cd bad && "$BUNDLE" --onefile hello.py --python "$PY" "${extra[@]}" "$flag" "$val") \
        >"$WORK/bad.out" 2>"$WORK/bad.err" </dev/null || rc=$?
    err=$(cat "$WORK/bad.err")
    assert_status 2 "$rc" "bundle $flag '$val' (stderr: $err)"
    [[ $(wc -l <"$WORK/bad.err") == 1 && $err == "bundle: "* ]] ||
        fail "bundle $flag '$val': stderr is not one 'bundle: ...' line:
$err"
    assert_eq "" "$(cat "$WORK/bad.out")" "stdout of bundle $flag '$val'"
    assert_eq "./hello.py" "$(files_in bad)" "files after bundle $flag '$val' (no binary, no JSON)"
done
info "bad command lines: ${#bad_cases[@]} refused with one line and status 2, nothing written"

# ---------------------------------------------------------------------------
# Build, check the JSON, serve it.
# ---------------------------------------------------------------------------
port=$(free_port)
base=http://127.0.0.1:$port
build_app "$EX/hello/hello.py" --url "$base/hello" --metronome
build_app "$EX/hello/hello.py" -o fdist/hello --fetch --url "$base/f/hello"
build_app "$EX/service/service.py" --health-path /health --kill-grace 5 --url "$base/service"

# name json binary url [--metronome]
jsons=(
    "hello|dist/hello.marathon.json|dist/hello|$base/hello|"
    "hello (metronome)|dist/hello.metronome.json|dist/hello|$base/hello|--metronome"
    "hello --fetch|fdist/hello.marathon.json|fdist/hello|$base/f/hello|"
    "service|dist/service.marathon.json|dist/service|$base/service|"
)
schema_note=
if [[ ! -d $SCHEMAS ]]; then
    schema_note="no $SCHEMAS"
elif [[ ! -x /usr/bin/python3 ]]; then
    schema_note="no /usr/bin/python3 (Debian's, with python3-jsonschema)"
fi
for j in "${jsons[@]}"; do
    IFS='|' read -r what json bin url metro <<<"$j"
    [[ -f $json ]] || fail "$json was not written"
    schema=$SCHEMAS/marathon/AppDefinition.json
    [[ -n $metro ]] && schema=$SCHEMAS/metronome/jobspec.schema.json
    if [[ -z $schema_note ]]; then
        rc=0
        /usr/bin/python3 -I "$TOOLS/validate_schema.py" "$schema" "$json" 2>"$WORK/schema.err" || rc=$?
        if [[ $rc == 77 ]]; then
            schema_note=$(cat "$WORK/schema.err")
        elif [[ $rc != 0 ]]; then
            fail "$json ($what) is not valid against $schema:
$(cat "$WORK/schema.err")
$(cat "$json")"
        fi
    fi
    rc=0
    # shellcheck disable=SC2086
    rules check $metro --binary "$bin" --url "$url" "$json" 2>"$WORK/rules.err" || rc=$?
    [[ $rc == 0 ]] || fail "$json ($what) breaks the server's rules:
$(cat "$WORK/rules.err")
$(cat "$json")"
done
if [[ -n $schema_note ]]; then
    info "SKIP part: JSON Schema checks ($schema_note); the server rules were checked"
else
    info "4 documents valid against ../shared/schemas (Draft 4) and the server rules"
fi
# the rule checker is no rubber stamp
sed 's|"id": "/hello"|"id": "/hello/restart"|' dist/hello.marathon.json >"$WORK/bad.json"
if rules check "$WORK/bad.json" 2>/dev/null; then fail "marathon_rules.py accepted the id /hello/restart"; fi
cmp -s dist/hello fdist/hello || info "note: dist/hello and fdist/hello differ (builds are not byte-identical)"

hello_cmd=$(rules get dist/hello.marathon.json cmd)
hello_mem=$(rules get dist/hello.marathon.json mem)
fetch_cmd=$(rules get fdist/hello.marathon.json cmd)
fetch_mem=$(rules get fdist/hello.marathon.json mem)
svc_cmd=$(rules get dist/service.marathon.json cmd)
svc_mem=$(rules get dist/service.marathon.json mem)
assert_eq "$hello_cmd" "$(rules get dist/hello.metronome.json run.cmd)" "the Metronome job's cmd"
rules fetch fdist/hello.marathon.json >"$WORK/fetch.list"
assert_eq "$base/f/hello"$'\t'hello$'\t'1 "$(cat "$WORK/fetch.list")" "fetch URIs of fdist/hello.marathon.json"
assert_contains "$hello_cmd" "curl -fsSL -o 'hello' '$base/hello'" "hello cmd"
assert_not_contains "$fetch_cmd" "curl" "--fetch cmd"

mkdir -p www/f
cp dist/hello dist/service www/
cp fdist/hello www/f/hello
"$PY" -I -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port" >/dev/null 2>"$WORK/http.err" {E2E_LOGFD}>&- &
track_pid $!
for _ in $(seq 1 100); do
    http_get /f/nothing "$port" >/dev/null 2>&1 && break
    sleep 0.1
done
http_get /f/nothing "$port" >/dev/null 2>&1 || fail "the HTTP server on port $port does not answer: $(cat "$WORK/http.err")"

# ---------------------------------------------------------------------------
# The memory cgroup (v1): a child of ours, one per task.
# ---------------------------------------------------------------------------
CG_PARENT='' CG_NOTE='' CG_MOUNTED='' CG=''
_CG_ALL=()
cg_init() {
    local mnt cur try
    mnt=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
                   if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) print $5
                   break } }' /proc/self/mountinfo | head -n1)
    if [[ -z $mnt ]]; then
        # not mounted: mount the v1 memory controller on a dir of our own
        mnt=$E2E_ROOT/.cgroup-memory.$$
        mkdir -p "$mnt"
        if ! mount -t cgroup -o memory bundle-e2e-memory "$mnt" 2>"$WORK/mount.err"; then
            rmdir "$mnt" 2>/dev/null
            CG_NOTE="the cgroup v1 memory controller is not mounted and cannot be ($(head -n1 "$WORK/mount.err"); with cgroup v2 it is bound to the unified hierarchy)"
            return 1
        fi
        CG_MOUNTED=$mnt
    fi
    cur=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; exit }' /proc/self/cgroup)
    for try in "$mnt${cur%/}" "$mnt"; do
        [[ -d $try && -f $try/memory.limit_in_bytes ]] || continue
        if mkdir "$try/bundle-e2e-probe.$$" 2>/dev/null; then
            rmdir "$try/bundle-e2e-probe.$$"
            CG_PARENT=$try
            return 0
        fi
    done
    CG_NOTE="cannot create a memory cgroup under $mnt${cur%/} (read-only or not ours)"
    return 1
}

# cg_new NAME MB: CG = a fresh memory cgroup limited to MB MiB ("" when
# skipped); the previous task's group (that task has ended) is removed.
_CG_N=0
cg_new() {
    [[ -n $CG ]] && cg_drop "$CG"
    CG=
    [[ -n $CG_PARENT ]] || return 0
    _CG_N=$((_CG_N + 1))
    CG=$CG_PARENT/bundle-e2e-$1.$$.$_CG_N
    mkdir "$CG" || fail "cannot create the memory cgroup $CG"
    _CG_ALL+=("$CG")
    local bytes
    bytes=$(awk -v m="$2" 'BEGIN { printf "%d", m * 1048576 }')
    echo "$bytes" >"$CG/memory.limit_in_bytes" || fail "cannot set $CG/memory.limit_in_bytes to $bytes"
    assert_eq "$bytes" "$(cat "$CG/memory.limit_in_bytes")" "$CG/memory.limit_in_bytes"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# cg_check WHAT MB: the task stayed within MB (peak below, no failcnt); the peak is printed
cg_check() {
    [[ -n $CG ]] || return 0
    local what=$1 mb=$2 peak fails cache
    peak=$(cat "$CG/memory.max_usage_in_bytes")
    fails=$(cat "$CG/memory.failcnt")
    cache=$(awk '$1 == "total_cache" { print $2 }' "$CG/memory.stat")
    info "memory, $what: peak $(mib "$peak") MB of the $mb MB limit, failcnt $fails (page cache still charged: $(mib "$cache") MB)"
    [[ $fails == 0 ]] || fail "$what hit its memory limit of $mb MB $fails times (peak $(mib "$peak") MB)"
    ((peak < ${mb%.*} * 1048576)) || fail "$what peaked at $(mib "$peak") MB, not below its limit of $mb MB"
    if [[ -f $CG/memory.oom_control ]] && grep -q '^oom_kill [1-9]' "$CG/memory.oom_control"; then
        fail "$what was OOM-killed"
    fi
}

cg_drop() {
    local g p
    for g in "$@"; do
        [[ -d $g ]] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            rmdir "$g" 2>/dev/null && break
            # only our own task can be in there
            while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$g/cgroup.procs" 2>/dev/null || true
            sleep 0.1
        done
    done
}

# At exit: our cgroups (and a mount of our own), then lib.sh's cleanup with
# the test's exit status.
_mt_cleanup() {
    local rc=$?
    trap - ERR
    set +e
    ((${#_CG_ALL[@]})) && cg_drop "${_CG_ALL[@]}"
    if [[ -n $CG_MOUNTED ]]; then umount "$CG_MOUNTED" 2>/dev/null && rmdir "$CG_MOUNTED"; fi
    (exit "$rc")
    _e2e_cleanup
}
trap _mt_cleanup EXIT

cg_init || info "SKIP part: memory limits are not enforced: $CG_NOTE"

# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------
AGENT_HOME=$WORK/agent-home # HOME of the agent, which a task inherits
mkdir "$AGENT_HOME"

# task NAME CMD MEM FETCHLIST [PORT0]: run CMD as a Mesos task in a fresh
# sandbox $WORK/sb-NAME (SB), in a memory cgroup of MEM MB; stdout in OUT,
# stderr in $WORK/NAME.err, exit status in RC.
task() {
    local name=$1 cmd=$2 mem=$3 list=$4 p0=${5:-$(free_port)}
    SB=$WORK/sb-$name
    mkdir -p "$SB"
    cg_new "$name" "$mem"
    RC=0
    OUT=$(run_sandboxed --no-cache --home "$AGENT_HOME" --env "MESOS_SANDBOX=$SB" \
        --env "PORT0=$p0" --env "PORT=$p0" --env "PORTS=$p0" --env "MESOS_TASK_ID=$name.1" \
        /bin/sh "$TOOLS/mesos_run.sh" "${CG:--}" "$list" "$cmd" </dev/null 2>"$WORK/$name.err") || RC=$?
}

# ---- hello, curl in cmd
task hello "$hello_cmd" "$hello_mem" -
assert_status 0 "$RC" "hello task (stderr: $(cat "$WORK/hello.err"))"
assert_contains "$OUT" "hello: OK" "hello task stdout (sha256sum -c)"
assert_contains "$OUT" "hello from bundle" "hello task stdout"
assert_contains "$OUT" "frozen=True" "hello task stdout"
[[ -f $SB/hello && -x $SB/hello ]] || fail "the sandbox holds no executable ./hello: $(files_in "$SB")"
cmp -s "$SB/hello" dist/hello || fail "the downloaded ./hello differs from dist/hello"
[[ -n $(ls -A "$SB/.bundle-cache" 2>/dev/null) ]] ||
    fail "the stub's cache is not in the sandbox (\$MESOS_SANDBOX/.bundle-cache): $(files_in "$SB" | head)"
assert_eq "" "$(files_in "$AGENT_HOME")" "files in the agent's HOME (the task must keep to its sandbox)"
cg_check "hello, first start (download + unpack)" "$hello_mem"

# the same task restarted in its sandbox: the cache is warm
task hello "$hello_cmd" "$hello_mem" -
assert_status 0 "$RC" "hello task, warm (stderr: $(cat "$WORK/hello.err"))"
assert_contains "$OUT" "hello from bundle" "hello task stdout, warm"
cg_check "hello, restart in the same sandbox (warm cache)" "$hello_mem"

# ---- the cmd refuses a tampered download before it runs anything
printf '#!/bin/sh\necho TAMPERED\nexit 0\n' >"$WORK/tampered"
cp www/hello "$WORK/hello.orig"
cp "$WORK/tampered" www/hello.tmp && mv -f www/hello.tmp www/hello
task tampered "$hello_cmd" "$hello_mem" -
[[ $RC != 0 ]] || fail "the hello cmd ran a tampered download (status 0); stdout: $OUT"
assert_not_contains "$OUT" "TAMPERED" "stdout of the cmd with a tampered download"
assert_contains "$OUT" "hello: FAILED" "stdout of the cmd with a tampered download (sha256sum -c)"
assert_contains "$(cat "$WORK/tampered.err")" "did NOT match" "stderr of the cmd with a tampered download"
[[ -f $SB/hello && ! -x $SB/hello ]] || fail "the tampered ./hello was made executable or is missing"
mv -f "$WORK/hello.orig" www/hello

# ---- hello --fetch: the Mesos fetcher's way
task fetch "$fetch_cmd" "$fetch_mem" "$WORK/fetch.list"
assert_status 0 "$RC" "hello --fetch task (stderr: $(cat "$WORK/fetch.err"))"
assert_contains "$OUT" "hello from bundle" "hello --fetch task stdout"
assert_eq 755 "$(stat -c %a "$SB/hello")" "mode of the fetched ./hello"
[[ -n $(ls -A "$SB/.bundle-cache" 2>/dev/null) ]] || fail "--fetch: the stub's cache is not in the sandbox"
cg_check "hello --fetch, first start (fetch + unpack)" "$fetch_mem"

cp www/f/hello "$WORK/hello.orig"
cp "$WORK/tampered" www/f/hello.tmp && mv -f www/f/hello.tmp www/f/hello
task fetch-tampered "$fetch_cmd" "$fetch_mem" "$WORK/fetch.list"
[[ $RC != 0 ]] || fail "the --fetch cmd ran a tampered download (status 0); stdout: $OUT"
assert_not_contains "$OUT" "TAMPERED" "stdout of the --fetch cmd with a tampered download"
assert_contains "$OUT" "hello: FAILED" "stdout of the --fetch cmd with a tampered download"
mv -f "$WORK/hello.orig" www/f/hello

# ---- the service
p0=$(free_port)
SB=$WORK/sb-service
mkdir "$SB"
cg_new service "$svc_mem"
sandbox_cmd --no-cache --home "$AGENT_HOME" --env "MESOS_SANDBOX=$SB" --env "PORT0=$p0" \
    --env "PORT=$p0" --env "PORTS=$p0" --env "MESOS_TASK_ID=service.1" \
    /bin/sh "$TOOLS/mesos_run.sh" "${CG:--}" - "$svc_cmd"
"${SANDBOX_CMD[@]}" </dev/null >"$WORK/svc.out" 2>"$WORK/svc.err" &
svc=$!
track_pid "$svc"
health=
for _ in $(seq 1 200); do # up to ~20 s
    kill -0 "$svc" 2>/dev/null || fail "the service task exited before answering; stderr: $(cat "$WORK/svc.err")"
    health=$(http_get /health "$p0" 2>/dev/null) && break
    sleep 0.1
done
assert_eq "200 ok" "$health" "GET /health"
# from inside, as a MESOS_HTTP check does: curl in the sandbox
rc=0
inside=$(run_sandboxed /usr/bin/curl -fsS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p0/health" </dev/null 2>&1) || rc=$?
assert_eq "0 200" "$rc $inside" "curl /health from inside the sandbox"
# listening on 0.0.0.0:$PORT0 (a Mesos health check comes from the task's own netns)
hexport=$(printf '%04X' "$p0")
awk -v p=":$hexport" '$2 ~ p"$" && $4 == "0A" { print $2 }' /proc/net/tcp | grep -qx "00000000:$hexport" ||
    fail "the service does not listen on 0.0.0.0:$p0: $(awk -v p=":$hexport" '$2 ~ p"$"' /proc/net/tcp /proc/net/tcp6)"
# the app is the task's main process: exec all the way down
assert_eq "$SB/service" "$(readlink "/proc/$svc/exe")" "the task's main process"
kill -TERM "$svc"
rc=
for _ in $(seq 1 50); do # 5 s (its --kill-grace)
    if ! kill -0 "$svc" 2>/dev/null; then
        rc=0
        wait "$svc" || rc=$?
        break
    fi
    sleep 0.1
done
[[ -n $rc ]] || fail "the service still runs 5 s after SIGTERM; stderr: $(cat "$WORK/svc.err")"
assert_status 0 "$rc" "the service's status after SIGTERM (stderr: $(cat "$WORK/svc.err"))"
assert_contains "$(cat "$WORK/svc.err")" "stopped" "service log"
assert_eq "" "$(files_in "$AGENT_HOME")" "files in the agent's HOME"
cg_check "service, first start + requests + SIGTERM" "$svc_mem"

info "sizes: dist/hello $(mib "$(stat -c %s dist/hello)") MB (mem $hello_mem), dist/service $(mib "$(stat -c %s dist/service)") MB (mem $svc_mem)"
pass
