#!/usr/bin/env bash
# The examples/ apps, bundled from the repository and run with no Python on
# the machine: hello; service (HTTP on $PORT0, /health, clean stop on
# SIGTERM); ingester (JSON lines from file:// and from an HTTP server outside
# the sandbox, counted; a URL that cannot be read; KAFKA_BOOTSTRAP without
# kafka-python in the build).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork examples
cd "$WORK" || exit 1
EX=$SRCDIR/examples

# ---- hello: built straight from examples/, the output lands in ./dist
build_app "$EX/hello/hello.py"
rc=0
out=$(run_sandboxed dist/hello </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "dist/hello (stderr: $(cat "$WORK/err"))"
assert_contains "$out" "hello from bundle" "stdout of dist/hello"

# ---- service
build_app "$EX/service/service.py"
port=$(free_port)
sandbox_cmd --env "PORT0=$port" dist/service
"${SANDBOX_CMD[@]}" </dev/null >"$WORK/svc.out" 2>"$WORK/svc.err" &
svc=$!
track_pid "$svc"
health=
for _ in $(seq 1 200); do # up to ~20 s: the first start fills the cache
    kill -0 "$svc" 2>/dev/null || fail "dist/service exited before answering; stderr: $(cat "$WORK/svc.err")"
    health=$(http_get /health "$port" 2>/dev/null) && break
    sleep 0.1
done
assert_eq "200 ok" "$health" "GET /health"
root=$(http_get / "$port") || fail "GET / got no answer"
assert_contains "$root" "200 " "GET /"
assert_contains "$root" '"hello": "from bundle"' "GET /"
assert_contains "$root" "\"pid\": $svc" "GET / (the service runs in the binary's own process, pid $svc)"
missing=$(http_get /nope "$port") || fail "GET /nope got no answer"
assert_contains "$missing" "404 " "GET /nope"
# the live process maps only the bundle's own libraries, and glibc's
cp "/proc/$svc/maps" "$WORK/svc.maps"
assert_host_libs_base "$WORK/svc.maps" "$SB_CACHE" "dist/service"

kill -TERM "$svc"
rc=
for _ in $(seq 1 50); do # 5 s
    if ! kill -0 "$svc" 2>/dev/null; then
        rc=0
        wait "$svc" || rc=$?
        break
    fi
    sleep 0.1
done
[[ -n $rc ]] || fail "dist/service still running 5 s after SIGTERM; stderr: $(cat "$WORK/svc.err")"
assert_status 0 "$rc" "dist/service exit status after SIGTERM (stderr: $(cat "$WORK/svc.err"))"
log=$(cat "$WORK/svc.err")
assert_contains "$log" "listening on 0.0.0.0:$port" "service log"
assert_contains "$log" '"GET /health HTTP/1.0" 200' "service log"
assert_contains "$log" '"GET /nope HTTP/1.0" 404' "service log"
assert_contains "$log" "stopped" "service log"
# PORT0 that is not a number: usage status 2, from inside the bundle
rc=0
run_sandboxed --env PORT0=eighty dist/service </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 2 "$rc" "dist/service with PORT0=eighty"

# ---- ingester
build_app "$EX/ingester/ingester.py"
mkdir data
cat >data/events.jsonl <<'JSONL'
{"id": 1, "user": "ann", "kind": "click"}
{"id": 2, "user": "bob"}

{"id": 3, "kind": "view", "note": "ünïcödé 日本"}
this is not json
[1, 2, 3]
{"id": 4, "user": "ann", "kind": "click"}
JSONL
want="4 records
  id: 4
  kind: 3
  note: 1
  user: 3"
# the same output as plain python, and the numbers themselves
plain=$(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$PY" -I "$EX/ingester/ingester.py" "file://$WORK/data/events.jsonl" 2>/dev/null)
assert_eq "$want" "$plain" "plain python ingester output"

rc=0
out=$(run_sandboxed dist/ingester "file://$WORK/data/events.jsonl" </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "dist/ingester file:// (stderr: $(cat "$WORK/err"))"
assert_eq "$want" "$out" "dist/ingester output, file://"
err=$(cat "$WORK/err")
assert_contains "$err" "line 5: skipped" "dist/ingester stderr"
assert_contains "$err" "line 6: skipped" "dist/ingester stderr"
assert_contains "$err" "2 bad line(s) skipped" "dist/ingester stderr"

# a plain path, given through INGEST_URL
rc=0
out=$(run_sandboxed --env "INGEST_URL=data/events.jsonl" dist/ingester </dev/null 2>/dev/null) || rc=$?
assert_status 0 "$rc" "dist/ingester with INGEST_URL"
assert_eq "$want" "$out" "dist/ingester output, INGEST_URL path"

# over HTTP, from a server outside the sandbox (plain python, on 127.0.0.1)
hport=$(free_port)
"$PY" -I -m http.server --bind 127.0.0.1 --directory "$WORK/data" "$hport" >/dev/null 2>"$WORK/http.err" &
track_pid $!
for _ in $(seq 1 100); do
    http_get /events.jsonl "$hport" >/dev/null 2>&1 && break
    sleep 0.1
done
rc=0
out=$(run_sandboxed dist/ingester "http://127.0.0.1:$hport/events.jsonl" </dev/null 2>/dev/null) || rc=$?
assert_status 0 "$rc" "dist/ingester over http"
assert_eq "$want" "$out" "dist/ingester output, http://"

# a URL that cannot be read: status 1, one clear line
rc=0
run_sandboxed dist/ingester "http://127.0.0.1:$hport/missing.jsonl" </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 1 "$rc" "dist/ingester on a 404"
assert_contains "$(cat "$WORK/err")" "ingester: cannot read" "dist/ingester stderr on a 404"
rc=0
run_sandboxed dist/ingester "$WORK/data/nope.jsonl" </dev/null >/dev/null 2>"$WORK/err" || rc=$?
assert_status 1 "$rc" "dist/ingester on a missing file"

# KAFKA_BOOTSTRAP set: this build has no kafka-python (unless the build python
# has it), so the optional import fails cleanly at run time, not at start.
if ! "$PY" -I -c 'import kafka' >/dev/null 2>&1; then
    rc=0
    run_sandboxed --env KAFKA_BOOTSTRAP=127.0.0.1:9 dist/ingester "file://$WORK/data/events.jsonl" \
        </dev/null >/dev/null 2>"$WORK/err" || rc=$?
    assert_status 1 "$rc" "dist/ingester with KAFKA_BOOTSTRAP and no kafka-python"
    assert_contains "$(cat "$WORK/err")" "kafka-python is not in this build" "dist/ingester stderr"
else
    info "case skipped: $PY has kafka-python, so no broker-less check here"
fi

pass
