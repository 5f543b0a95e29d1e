#!/usr/bin/env bash
# Third-party packages from Debian's dist-packages, bundled with Debian's
# /usr/bin/python3 and run with no Python on the machine; each bundle must
# print exactly what plain python prints:
#   numpy     arrays, linalg, random, fft, save/load; its C extensions and
#             the BLAS/LAPACK/gfortran libraries they need come from the bundle
#   flask     routes, jsonify, templates, sessions, errors through the test
#             client, and a real werkzeug server answering over TCP
#   kafka     KafkaProducer/Consumer construction without a broker, kafka.errors,
#             kafka.vendor.six; examples/ingester counting a JSON-lines file,
#             and producing it to a fake broker outside the sandbox
#   requests  a Session against an HTTP server outside the sandbox
#   pkg_resources  its vendored packages (a meta path importer), dist metadata
#   together  numpy + kafka + flask + a local C-extension package (with a private
#             shared library found through $ORIGIN and a data file): build time
#             and size are reported
#   flags     --hidden-import, --exclude-module, --add-data, --exclude-data, --collect
# A part whose Debian package (python3-numpy, python3-flask, python3-kafka,
# python3-requests) is absent is skipped with a message; the test skips only
# when every part is.
# shellcheck source=lib.sh
#
# Why one file over 600 lines: one suite of packages sharing one build and one sandbox; split, each part would build them again.
. "$(dirname "$0")/lib.sh"
need_bundle
[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 (Debian's python3) on this machine"
E2E_PYTHON=/usr/bin/python3
find_python
need_sandbox
mkwork packages
cd "$WORK" || exit 1

RAN=()
SKIPPED=()
part_skip() {
    info "SKIP $1: $2"
    SKIPPED+=("$1")
}

# deb_has MODULE: the module imports from Debian's dist-packages
deb_has() {
    "$PY" -I -c "import sys, $1
sys.exit(0 if $1.__file__.startswith('/usr/lib/python3/dist-packages/') else 3)" >/dev/null 2>&1
}

# plain_run OUT ERR APP [ARGS...]: APP with plain python, the sandbox's environment
plain_run() {
    local out=$1 err=$2
    shift 2
    env -i PATH=/usr/bin:/bin "HOME=$SB_HOME" LANG=C.UTF-8 "${PLAIN_ENV[@]}" "$PY" -s -E "$@" </dev/null >"$out" 2>"$err"
}
PLAIN_ENV=()

# same_as_plain NAME APP [ARGS...]: APP (built as dist/NAME already) prints the same in the
# sandbox as with plain python, exits 0, and writes nothing on stderr. SB_ENV: extra
# --env options for the sandbox (the same variables go to plain python via PLAIN_ENV).
SB_ENV=()
same_as_plain() {
    local name=$1 app=$2 rc=0
    shift 2
    plain_run "$WORK/$name.want" "$WORK/$name.plain.err" "$app" "$@" || rc=$?
    assert_status 0 "$rc" "$name: plain python (stderr: $(cat "$WORK/$name.plain.err"))"
    rc=0
    run_sandboxed --timeout 120 "${SB_ENV[@]}" "dist/$name" "$@" </dev/null >"$WORK/$name.got" 2>"$WORK/$name.err" || rc=$?
    assert_status 0 "$rc" "$name: exit status of the bundle (stderr: $(head -c 3000 "$WORK/$name.err"))"
    assert_eq "$(cat "$WORK/$name.want")" "$(cat "$WORK/$name.got")" "$name: output of the bundle vs plain python"
    assert_eq "" "$(cat "$WORK/$name.err")" "$name: stderr of the bundle"
}

# wait_port FILE PID WHAT: the port a helper server printed on its first line
wait_port() {
    local f=$1 pid=$2 what=$3 _
    for _ in $(seq 1 100); do
        if [[ -s $f ]]; then head -n1 "$f"; return 0; fi
        kill -0 "$pid" 2>/dev/null || fail "$what exited before it listened: $(cat "$f.err" 2>/dev/null)"
        sleep 0.1
    done
    fail "$what did not start in 10 s"
}

# ---------------------------------------------------------------------------
# numpy
# ---------------------------------------------------------------------------
if deb_has numpy; then
    mkdir numpy_app && cat >numpy_app/np_app.py <<'PY'
import io, os
import numpy as np

a = np.arange(12, dtype=np.float64).reshape(3, 4)
print("sum", a.sum(), "mean", a.mean(axis=0).tolist())
m = np.array([[3.0, 1.0], [1.0, 2.0]])
print("solve", np.round(np.linalg.solve(m, np.array([9.0, 8.0])), 6).tolist())
print("inv", np.round(np.linalg.inv(m), 6).tolist(), "det", round(float(np.linalg.det(m)), 6))
print("eig", np.round(np.sort(np.linalg.eigvals(m)), 6).tolist())
print("svd", np.round(np.linalg.svd(m, compute_uv=False), 6).tolist())
big = np.random.default_rng(7).random((120, 120))
print("matmul", round(float((big @ big.T).trace()), 4))
rng = np.random.default_rng(42)
print("rng", np.round(rng.random(3), 6).tolist(), rng.integers(0, 100, 5).tolist())
np.random.seed(1)
print("legacy", np.round(np.random.rand(2), 6).tolist())
print("fft", [complex(round(c.real, 6), round(c.imag, 6)) for c in np.fft.fft([1.0, 2.0, 3.0, 4.0])])
print("sort", np.sort(np.array(["b", "a", "c"])).tolist(), np.unique([3, 1, 3, 2]).tolist())
print("dates", np.datetime64("2024-01-31") + np.timedelta64(1, "D"))
buf = io.BytesIO()
np.save(buf, a)
buf.seek(0)
print("save/load", np.array_equal(np.load(buf), a))
print("polyfit", np.round(np.polyfit([0, 1, 2], [1, 3, 5], 1), 6).tolist())
print("version", np.__version__)
if os.environ.get("MAPS_OUT"):
    with open("/proc/self/maps") as src, open(os.environ["MAPS_OUT"], "w") as dst:
        dst.write(src.read())
PY
    cd numpy_app || exit 1
    build_app np_app.py --no-marathon
    info "numpy: $(tail -n1 <<<"$BUILD_ERR")"
    SB_ENV=(--env "MAPS_OUT=$WORK/np.maps")
    same_as_plain np_app np_app.py
    SB_ENV=()
    # numpy's own libraries (BLAS, LAPACK, gfortran...) came from the bundle
    grep -v '/libgcc_s\.so\.1$' "$WORK/np.maps" >"$WORK/np.maps2" || true
    assert_host_libs_base "$WORK/np.maps2" "$SB_CACHE" "numpy app"
    grep -q '_multiarray_umath' "$WORK/np.maps" || fail "numpy app: _multiarray_umath is not mapped"
    cd "$WORK" || exit 1
    RAN+=(numpy)
else
    part_skip numpy "Debian's python3-numpy is not installed (apt-get install -y python3-numpy)"
fi

# ---------------------------------------------------------------------------
# flask (+ werkzeug, jinja2, click, itsdangerous, markupsafe)
# ---------------------------------------------------------------------------
if deb_has flask; then
    mkdir flask_app && cat >flask_app/flask_app.py <<'PY'
import json
import logging
import threading
import urllib.request

import click
from flask import Flask, abort, jsonify, redirect, render_template_string, request, session, url_for
from itsdangerous import URLSafeSerializer
from markupsafe import Markup, escape
from werkzeug.serving import make_server

app = Flask(__name__)
app.secret_key = "test-secret"
PAGE = """<ul>{% for k, v in items|dictsort %}<li>{{ k|upper }}={{ v|e }}</li>{% endfor %}</ul>
{% macro hi(n) %}hi {{ n }}{% endmacro %}{{ hi(name) }} {{ "%05.1f"|format(3.14159) }} {{ html }}"""


@app.route("/")
def index():
    return render_template_string(PAGE, items={"b": "<2>", "a": 1}, name="flask", html="<b>x</b>")


@app.route("/api/<int:n>")
def api(n):
    return jsonify(n=n, square=n * n, args=request.args.to_dict())


@app.route("/post", methods=["POST"])
def post():
    data = request.get_json()
    session["last"] = data.get("k")
    return jsonify(got=data)


@app.route("/last")
def last():
    return jsonify(last=session.get("last"))


@app.route("/go")
def go():
    return redirect(url_for("api", n=7))


@app.route("/nope")
def nope():
    abort(418)


@app.errorhandler(418)
def teapot(e):
    return jsonify(error="teapot"), 418


c = app.test_client()
r = c.get("/")
print(r.status_code, r.get_data(as_text=True))
r = c.get("/api/12?x=1&y=2")
print(r.status_code, r.get_json())
r = c.post("/post", data=json.dumps({"k": "v\u00e4lue"}), content_type="application/json")
print(r.status_code, r.get_json(), c.get("/last").get_json())
r = c.get("/go")
print(r.status_code, r.headers["Location"])
r = c.get("/nope")
print(r.status_code, r.get_json(), c.get("/missing").status_code)

# a real server on a TCP port, in this process
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log with a timestamp
srv = make_server("127.0.0.1", 0, app)
t = threading.Thread(target=srv.serve_forever, daemon=True)
t.start()
with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/api/3?via=tcp", timeout=10) as resp:
    print("tcp", resp.status, json.loads(resp.read()))
srv.shutdown()


@click.command()
@click.option("--n", default=2)
def cli(n):
    click.echo(f"click n={n}")


cli(["--n", "5"], standalone_mode=False)
s = URLSafeSerializer("k")
print(s.loads(s.dumps({"a": 1})), escape("<a>"), Markup("<b>%s</b>") % "<i>")
PY
    cd flask_app || exit 1
    build_app flask_app.py --no-marathon
    info "flask: $(tail -n1 <<<"$BUILD_ERR")"
    same_as_plain flask_app flask_app.py
    cd "$WORK" || exit 1
    RAN+=(flask)
else
    part_skip flask "Debian's python3-flask is not installed (apt-get install -y python3-flask)"
fi

# ---------------------------------------------------------------------------
# kafka-python
# ---------------------------------------------------------------------------
if deb_has kafka; then
    mkdir kafka_app && cat >kafka_app/kafka_app.py <<'PY'
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, NoBrokersAvailable, for_code
from kafka.partitioner import DefaultPartitioner
from kafka.protocol.metadata import MetadataRequest
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.vendor import six
from kafka.vendor.six.moves import range as srange
import kafka

print("kafka", kafka.__version__)
print("six", six.PY3, list(srange(3)), sorted(six.iteritems({"b": 2, "a": 1})))
print("errors", for_code(3).__name__, issubclass(NoBrokersAvailable, KafkaError))
# with api_version given nothing is sent: construction alone
p = KafkaProducer(bootstrap_servers=["127.0.0.1:1"], api_version=(2, 0, 0), max_block_ms=500,
                  compression_type="gzip", value_serializer=lambda v: v.encode())
print("producer constructed")
p.close(timeout=1)
try:  # without it the client probes the broker: there is none
    KafkaProducer(bootstrap_servers=["127.0.0.1:1"], max_block_ms=300, request_timeout_ms=500)
except NoBrokersAvailable as e:
    print("probe:", type(e).__name__)
c = KafkaConsumer(bootstrap_servers=["127.0.0.1:1"], api_version=(2, 0, 0), consumer_timeout_ms=100,
                  request_timeout_ms=1000, session_timeout_ms=500, heartbeat_interval_ms=100)
print("consumer constructed", c.config["group_id"])
c.close()
for codec in (0, 1):
    b = MemoryRecordsBuilder(magic=2, compression_type=codec, batch_size=1024)
    b.append(timestamp=1, key=b"k", value=b"v" * 100, headers=[])
    b.close()
    print("records codec", codec, len(b.buffer()) > 0)
req = MetadataRequest[0](topics=[])
print("protocol", len(req.encode()))
print("partition", DefaultPartitioner()(b"key", [0, 1, 2], [0, 1, 2]))
PY
    cd kafka_app || exit 1
    build_app kafka_app.py --no-marathon
    info "kafka: $(tail -n1 <<<"$BUILD_ERR")"
    same_as_plain kafka_app kafka_app.py
    cd "$WORK" || exit 1

    # the ingester: JSON lines from a file:// URL, counted
    mkdir ingester && cd ingester || exit 1
    cp "$SRCDIR/examples/ingester/ingester.py" .
    cat >"$WORK/events.jsonl" <<'JSONL'
{"id": 1, "user": "ann", "kind": "click"}
{"id": 2, "user": "bob"}

{"id": 3, "kind": "view", "note": "ünïcödé 日本"}
this is not json
{"id": 4, "user": "ann", "kind": "click"}
JSONL
    build_app ingester.py --no-marathon
    info "ingester: $(tail -n1 <<<"$BUILD_ERR")"
    rc=0
    want=$(plain_run /dev/stdout "$WORK/ing.plain.err" ingester.py "file://$WORK/events.jsonl") || rc=$?
    assert_status 0 "$rc" "ingester, plain python"
    rc=0
    got=$(run_sandboxed --timeout 60 dist/ingester "file://$WORK/events.jsonl" </dev/null 2>"$WORK/ing.err") || rc=$?
    assert_status 0 "$rc" "dist/ingester file:// (stderr: $(cat "$WORK/ing.err"))"
    assert_eq "$want" "$got" "dist/ingester output vs plain python"
    assert_contains "$got" "4 records" "dist/ingester output"
    assert_eq "$(cat "$WORK/ing.plain.err")" "$(cat "$WORK/ing.err")" "dist/ingester stderr (bad lines reported) vs plain python"

    # ...and produced to Kafka: a fake one-node broker outside the sandbox
    # (kafka-python's own protocol classes answer ApiVersions, Metadata, Produce)
    cat >"$WORK/fake_broker.py" <<'PY'
import io, socketserver, struct, sys, threading
from kafka.protocol.admin import ApiVersionResponse
from kafka.protocol.metadata import MetadataResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record import MemoryRecords

OUT = sys.argv[1]
LOCK = threading.Lock()
APIS = [(0, 0, 2), (3, 0, 1), (18, 0, 0)]  # Produce 0-2, Metadata 0-1, ApiVersions 0


def enc(obj):  # kafka-python's encode() holds its object weakly: keep a reference
    return obj.encode()


def exact(f, n):
    b = f.read(n)
    if len(b) != n:
        raise EOFError
    return b


def topics_of(req):
    n, = struct.unpack(">i", req.read(4))
    out = []
    for _ in range(max(n, 0)):
        ln, = struct.unpack(">h", req.read(2))
        out.append(req.read(ln).decode())
    return out


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            while True:
                size, = struct.unpack(">i", exact(self.rfile, 4))
                req = io.BytesIO(exact(self.rfile, size))
                key, ver, corr, clen = struct.unpack(">hhih", req.read(10))
                req.read(max(clen, 0))
                body = self.answer(key, ver, req)
                if body is None:  # unknown request: a broker closes the connection
                    return
                self.wfile.write(struct.pack(">ii", len(body) + 4, corr) + body)
                self.wfile.flush()
        except (EOFError, ConnectionError):
            return

    def answer(self, key, ver, req):
        port = self.server.server_address[1]
        if key == 18 and ver == 0:
            return enc(ApiVersionResponse[0](error_code=0, api_versions=APIS))
        if key == 3 and ver in (0, 1):
            parts = [(0, 0, 0, [0], [0])]
            topics = topics_of(req)
            if ver == 0:
                return enc(MetadataResponse[0]([(0, "127.0.0.1", port)], [(0, t, parts) for t in topics]))
            return enc(MetadataResponse[1]([(0, "127.0.0.1", port, None)], 0,
                                           [(0, t, False, parts) for t in topics]))
        if key == 0 and ver <= 2:
            p = ProduceRequest[ver].decode(req)
            result = []
            for topic, partitions in p.topics:
                for partition, data in partitions:
                    recs = MemoryRecords(data)
                    with LOCK, open(OUT, "a", encoding="utf-8") as f:
                        while recs.has_next():
                            for rec in recs.next_batch():
                                f.write(f"{topic}\t{rec.value.decode()}\n")
                    result.append((topic, [(partition, 0, 0, -1) if ver >= 2 else (partition, 0, 0)]))
            return enc(ProduceResponse[0](result) if ver == 0 else ProduceResponse[ver](result, 0))
        return None


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
    "$PY" -I "$WORK/fake_broker.py" "$WORK/broker.got" >"$WORK/broker.port" 2>"$WORK/broker.port.err" &
    broker=$!
    track_pid "$broker"
    bport=$(wait_port "$WORK/broker.port" "$broker" "the fake Kafka broker")
    rc=0
    PLAIN_ENV=("KAFKA_BOOTSTRAP=127.0.0.1:$bport" "KAFKA_TOPIC=plain")
    want=$(plain_run /dev/stdout "$WORK/kp.plain.err" ingester.py "$WORK/events.jsonl") || rc=$?
    PLAIN_ENV=()
    assert_status 0 "$rc" "ingester to Kafka, plain python (stderr: $(cat "$WORK/kp.plain.err"))"
    assert_eq "4 records sent to plain" "$want" "ingester to Kafka, plain python"
    rc=0
    got=$(run_sandboxed --timeout 60 --env "KAFKA_BOOTSTRAP=127.0.0.1:$bport" --env KAFKA_TOPIC=bundled \
        dist/ingester "$WORK/events.jsonl" </dev/null 2>"$WORK/kp.err") || rc=$?
    assert_status 0 "$rc" "dist/ingester to Kafka (stderr: $(cat "$WORK/kp.err"))"
    assert_eq "4 records sent to bundled" "$got" "dist/ingester to Kafka"
    assert_eq "$(sed -n 's/^plain\t//p' "$WORK/broker.got")" "$(sed -n 's/^bundled\t//p' "$WORK/broker.got")" \
        "records the broker got from the bundle vs from plain python"
    assert_eq 4 "$(grep -c '^bundled	' "$WORK/broker.got")" "records the broker got from the bundle"
    kill "$broker" 2>/dev/null || true
    cd "$WORK" || exit 1
    RAN+=(kafka)
else
    part_skip kafka "Debian's python3-kafka is not installed (apt-get install -y python3-kafka)"
fi

# ---------------------------------------------------------------------------
# requests (+ urllib3, idna, chardet/charset_normalizer, certifi)
# ---------------------------------------------------------------------------
if deb_has requests; then
    mkdir -p requests_app/srv && cd requests_app || exit 1
    printf '{"hello": "w\xc3\xb6rld", "n": [1, 2, 3]}\n' >srv/data.json
    printf 'caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade \xe0 la carte, d\xe9j\xe0 vu\n' >srv/latin1.txt
    cat >req_app.py <<'PY'
import sys
import idna
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

url = sys.argv[1]
s = requests.Session()
s.mount("http://", HTTPAdapter(max_retries=Retry(total=2, backoff_factor=0)))
s.headers["User-Agent"] = "bundle-test"
r = s.get(url + "/data.json", params={"q": "\u00e4 b"}, timeout=10)
print(r.status_code, r.headers.get("Content-Type"), r.json())
r = s.get(url + "/latin1.txt", timeout=10)
r.encoding = None  # guessed by chardet / charset_normalizer
print("text", r.text.strip())
p = s.prepare_request(requests.Request("POST", "http://example.invalid/p", json={"k": [1, 2]}, params={"a": "1"}))
print("prepared", p.method, p.url, p.headers["Content-Type"], p.body)
print("idna", idna.encode("b\u00fccher.example"), "b\u00fccher".encode("idna"))
r = s.get(url + "/missing", timeout=10)
print("missing", r.status_code, r.ok)
for bad in ("http://127.0.0.1:1/", "https://127.0.0.1:1/"):
    try:
        s.get(bad, timeout=2)
    except requests.ConnectionError as e:
        print("connection error", type(e).__name__)
PY
    cat >"$WORK/http_srv.py" <<'PY'
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
    "$PY" -I "$WORK/http_srv.py" "$PWD/srv" >"$WORK/http.port" 2>"$WORK/http.port.err" &
    hsrv=$!
    track_pid "$hsrv"
    hport=$(wait_port "$WORK/http.port" "$hsrv" "the HTTP server")
    build_app req_app.py --no-marathon
    info "requests: $(tail -n1 <<<"$BUILD_ERR")"
    same_as_plain req_app req_app.py "http://127.0.0.1:$hport"
    kill "$hsrv" 2>/dev/null || true
    cd "$WORK" || exit 1
    RAN+=(requests)
else
    part_skip requests "Debian's python3-requests is not installed (apt-get install -y python3-requests)"
fi

# ---------------------------------------------------------------------------
# pkg_resources: its vendored packages come through a meta path importer
# ---------------------------------------------------------------------------
if deb_has pkg_resources && deb_has requests; then
    mkdir pkgres && cd pkgres || exit 1
    cat >pr_app.py <<'PY'
import warnings
warnings.simplefilter("ignore")
import requests
import pkg_resources
print("requests", pkg_resources.get_distribution("requests").version == requests.__version__)
print("versions", pkg_resources.parse_version("1.2") < pkg_resources.parse_version("1.10"))
print("requirement", pkg_resources.Requirement.parse("requests>=2,<3").specifier.contains("2.5"))
PY
    build_app pr_app.py --no-marathon
    same_as_plain pr_app pr_app.py
    cd "$WORK" || exit 1
    RAN+=(pkg_resources)
else
    part_skip pkg_resources "Debian's python3-pkg-resources or python3-requests is not installed"
fi

# ---------------------------------------------------------------------------
# together: numpy + kafka + flask + a local C-extension package
# ---------------------------------------------------------------------------
PYINC=$("$PY" -I -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
EXT=$("$PY" -I -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
if ! deb_has numpy || ! deb_has kafka || ! deb_has flask; then
    part_skip together "needs python3-numpy, python3-kafka and python3-flask"
elif ! command -v gcc >/dev/null 2>&1; then
    part_skip together "no gcc to build the local C extension (apt-get install -y gcc)"
elif [[ ! -f $PYINC/Python.h ]]; then
    part_skip together "no $PYINC/Python.h to build the local C extension (apt-get install -y python3-dev)"
else
    mkdir -p together/fastpkg/data together/fastpkg/.libs && cd together || exit 1
    # a private shared library, found through the extension's $ORIGIN RPATH (as
    # wheels do with numpy.libs/ or .libs/ folders)
    cat >fastcore.c <<'C'
long fastcore_checksum(const char *s) { long h = 7; while (*s) h = h * 31 + (unsigned char)*s++; return h & 0xffffff; }
C
    gcc -shared -fPIC -O2 -Wl,-soname,libfastcore.so.1 -o fastpkg/.libs/libfastcore.so.1 fastcore.c
    cat >fastpkg/_fast.c <<'C'
#define PY_SSIZE_T_CLEAN
#include <Python.h>
long fastcore_checksum(const char *s);
static PyObject *checksum(PyObject *self, PyObject *args)
{
    const char *s;
    if (!PyArg_ParseTuple(args, "s", &s))
        return NULL;
    return PyLong_FromLong(fastcore_checksum(s));
}
static PyMethodDef methods[] = {{"checksum", checksum, METH_VARARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods};
PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&mod); }
C
    # shellcheck disable=SC2016
    gcc -shared -fPIC -O2 -I"$PYINC" -o "fastpkg/_fast$EXT" fastpkg/_fast.c fastpkg/.libs/libfastcore.so.1 \
        -Wl,-rpath,'$ORIGIN/.libs'
    rm fastpkg/_fast.c
    cat >fastpkg/__init__.py <<'PY'
from importlib.resources import files
from ._fast import checksum

def words():
    return files(__name__).joinpath("data/words.txt").read_text(encoding="utf-8").split()
PY
    printf 'kafka\nflask\nnumpy\n\xc3\xbcber\n' >fastpkg/data/words.txt
    cat >app.py <<'PY'
import json
import numpy as np
from flask import Flask, jsonify
from kafka import KafkaProducer
from kafka.errors import NoBrokersAvailable
import fastpkg

words = fastpkg.words()
sums = np.array([fastpkg.checksum(w) for w in words], dtype=np.int64)
print("words", words, "checksums", sums.tolist(), "mean", float(sums.mean()))
print("solve", np.round(np.linalg.solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]), 6).tolist())
app = Flask(__name__)

@app.route("/sum/<w>")
def s(w):
    return jsonify(word=w, checksum=fastpkg.checksum(w))

print("flask", app.test_client().get("/sum/bundle").get_json())
p = KafkaProducer(bootstrap_servers=["127.0.0.1:1"], api_version=(2, 0, 0),
                  value_serializer=lambda v: json.dumps(v).encode())
print("kafka producer", type(p).__name__)
p.close(timeout=1)
PY
    t0=$(date +%s%N)
    build_app app.py --no-marathon -n together
    t1=$(date +%s%N)
    size=$(stat -c %s dist/together)
    info "together (numpy + kafka + flask + local C extension): built in $(((t1 - t0) / 1000000)) ms, $size bytes ($((size / 1048576)) MiB)"
    info "together: $(tail -n1 <<<"$BUILD_ERR")"
    same_as_plain together app.py
    cd "$WORK" || exit 1
    RAN+=(together)
fi

# ---------------------------------------------------------------------------
# flags: --hidden-import, --exclude-module, --add-data, --exclude-data, --collect
# ---------------------------------------------------------------------------
if [[ $("$BUNDLE" --help 2>&1) != *--hidden-import* ]]; then
    part_skip flags "this bundle has no --hidden-import yet"
else
    mkdir -p flags/plugins flags/conf flags/assets/data && cd flags || exit 1
    touch plugins/__init__.py
    echo 'def run(): return "alpha ran"' >plugins/alpha.py
    echo 'def run(): return "beta ran"' >plugins/beta.py
    echo 'def run(): return "gamma ran"' >plugins/gamma.py
    printf 'colour = blue\n' >plugins/plugin.cfg
    printf '[app]\nname = flags\n' >conf/settings.ini
    touch assets/__init__.py
    printf 'keep me\n' >assets/data/keep.txt
    printf 'drop me\n' >assets/data/drop.bin
    cat >app.py <<'PY'
import importlib, os, sys
import assets
try:
    import xml.dom.minidom as optional_dep
except ImportError:
    optional_dep = None

names = sys.argv[1:] or ["alpha"]
for n in names:  # a computed name: no scanner can know it
    print(importlib.import_module("plugins." + n).run())
base = getattr(sys, "_MEIPASS", os.path.dirname(os.path.abspath(__file__)))
print("settings", open(os.path.join(base, "conf", "settings.ini")).read().split())
adir = os.path.join(os.path.dirname(assets.__file__), "data")
print("assets", sorted(os.listdir(adir)))
plugins = sys.modules["plugins"]
print("plugin.cfg", os.path.isfile(os.path.join(os.path.dirname(plugins.__file__), "plugin.cfg")))
print("optional", optional_dep is not None)
PY
    # no flag: the computed import finds the plugins by its literal prefix
    build_app app.py --no-marathon -n noplug --add-data conf/settings.ini:conf
    rc=0
    out=$(run_sandboxed --timeout 60 dist/noplug gamma </dev/null 2>"$WORK/noplug.err") || rc=$?
    # "plugins." + n: the literal prefix names the package, so every plugin comes along
    assert_status 0 "$rc" "dist/noplug (stderr: $(cat "$WORK/noplug.err"))"
    assert_contains "$out" "gamma ran" "dist/noplug: a plugin found by its computed name's prefix"
    # --hidden-import, --add-data (a file to a dir), --exclude-data
    build_app app.py --no-marathon -n flags --hidden-import plugins.alpha \
        --add-data conf/settings.ini:conf --exclude-data 'assets/data/*.bin'
    rc=0
    out=$(run_sandboxed --timeout 60 dist/flags alpha </dev/null 2>"$WORK/flags.err") || rc=$?
    assert_status 0 "$rc" "dist/flags (stderr: $(cat "$WORK/flags.err"))"
    assert_eq "alpha ran
settings ['[app]', 'name', '=', 'flags']
assets ['keep.txt']
plugin.cfg True
optional True" "$out" "dist/flags output"
    # --collect: every submodule (and file) of the package; --exclude-module: the
    # try/except fallback runs, and the bundle is smaller
    build_app app.py --no-marathon -n collected --collect plugins --add-data conf:conf \
        --exclude-module xml.dom.minidom
    rc=0
    out=$(run_sandboxed --timeout 60 dist/collected alpha beta gamma </dev/null 2>"$WORK/coll.err") || rc=$?
    assert_status 0 "$rc" "dist/collected (stderr: $(cat "$WORK/coll.err"))"
    assert_eq "alpha ran
beta ran
gamma ran
settings ['[app]', 'name', '=', 'flags']
assets ['drop.bin', 'keep.txt']
plugin.cfg True
optional False" "$out" "dist/collected output"
    cd "$WORK" || exit 1
    RAN+=(flags)
fi

((${#RAN[@]})) || skip "every part was skipped: ${SKIPPED[*]}"
info "ran: ${RAN[*]}${SKIPPED:+; skipped: ${SKIPPED[*]}}"
pass
