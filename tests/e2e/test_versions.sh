#!/usr/bin/env bash
# Every CPython on this machine: pyenv's 3.8 to 3.13 (under $(pyenv root)/versions)
# and Debian's /usr/bin/python3 each bundle one stdlib-heavy app (json, sqlite3,
# decimal, asyncio, hashlib, ssl, xml, lzma, bz2, ctypes, email, logging.config,
# strptime, dbm, zoneinfo, importlib.resources, multiprocessing with spawn; and a
# fork as it starts, while its first start prefetches), and the bundle, run
# with no Python on the machine, prints exactly what plain python prints
# (and no warning) and loads no host library but glibc's. Versions that are absent
# are skipped with a message; the test skips only when none is there.
# pyenv's 2.7, 3.6 and 3.7 (when present) must be refused: exit status 1 or 2,
# one line on stderr naming the version, no output file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
mkwork versions
cd "$WORK" || exit 1

PYENV_ROOT_DIR=
if command -v pyenv >/dev/null 2>&1; then PYENV_ROOT_DIR=$(pyenv root 2>/dev/null || true); fi
[[ -n $PYENV_ROOT_DIR ]] || PYENV_ROOT_DIR=${PYENV_ROOT:-$HOME/.pyenv}

# ---- the interpreters: "label path" lines
cands=()
for minor in 8 9 10 11 12 13; do
    found=
    for d in "$PYENV_ROOT_DIR"/versions/3."$minor".*; do
        [[ -x $d/bin/python3 && $(basename "$d") =~ ^3\.$minor\.[0-9]+$ ]] || continue
        found=$d/bin/python3 # the highest patch release sorts last
    done
    if [[ -n $found ]]; then
        cands+=("$(basename "$(dirname "$(dirname "$found")")") $found")
    else
        info "SKIP 3.$minor: no $PYENV_ROOT_DIR/versions/3.$minor.*"
    fi
done
if [[ -x /usr/bin/python3 ]]; then
    cands+=("debian /usr/bin/python3")
else
    info "SKIP debian: no /usr/bin/python3"
fi
((${#cands[@]})) || skip "no CPython 3.8-3.13 found (pyenv root $PYENV_ROOT_DIR, /usr/bin/python3)"

# ---- too old: refused cleanly, in one line
for old in 2.7 3.6 3.7; do
    for d in "$PYENV_ROOT_DIR"/versions/"$old".*; do
        [[ -x $d/bin/python ]] || continue
        echo 'print("hi")' >old.py
        rc=0
        "$BUNDLE" --onefile old.py --python "$d/bin/python" -o "$WORK/old/app" >"$WORK/old.out" 2>"$WORK/old.err" || rc=$?
        [[ $rc == 1 || $rc == 2 ]] || fail "bundle --python $d/bin/python: exit status $rc, expected 1 or 2 (stderr: $(cat "$WORK/old.err"))"
        [[ $(wc -l <"$WORK/old.err") == 1 ]] || fail "bundle --python $d/bin/python: expected one line on stderr, got:
$(cat "$WORK/old.err")"
        assert_contains "$(cat "$WORK/old.err")" "bundle: " "stderr for Python $old"
        assert_contains "$(cat "$WORK/old.err")" "3.8" "stderr for Python $old (names the supported range)"
        assert_eq "" "$(files_in "$WORK/old")" "files written for Python $old"
        info "Python $old refused: $(cat "$WORK/old.err")"
    done
done

cat >app.py <<'PY'
import os, threading, warnings
# a fork as the app starts, while a first start unpacks the modules below
# on another CPU (stub/prefetch.c): Python 3.12 and later warn on stderr
# when a process with threads forks (once threading is imported)
with warnings.catch_warnings():
    warnings.simplefilter("always")
    if os.fork() == 0:
        os._exit(0)
    os.wait()

import asyncio, bz2, ctypes, datetime, dbm, decimal, email, email.policy, hashlib, importlib.resources
import json, logging, logging.config, lzma, multiprocessing, os, sqlite3, ssl, sys, tempfile, time
import xml.dom, xml.etree.ElementTree as ET, xml.sax, zlib

def sq(x):
    return x * x

RESULTS = []

def check(name):
    def wrap(fn):
        try:
            print(f"{name}: {fn()}", flush=True)
            RESULTS.append(True)
        except Exception as exc:
            RESULTS.append(False)
            print(f"{name}: FAIL {type(exc).__name__}: {exc}", flush=True)
    return wrap

def main():
    @check("version")
    def _():
        return "%d.%d" % sys.version_info[:2]

    @check("json")
    def _():
        doc = {"b": [1, 2.5, None, True], "a": "\u00fcn\u00ef", "c": {"d": "\u65e5\u672c"}}
        s = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        assert json.loads(s) == doc
        return s

    @check("sqlite3")
    def _():
        db = sqlite3.connect(":memory:")
        db.execute("create table t (k text, v integer)")
        db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2)])
        return f"{db.execute('select sum(v) from t').fetchone()[0]} {list(db.iterdump())[1]}"

    @check("decimal")
    def _():
        decimal.getcontext().prec = 25
        return str(decimal.Decimal(1) / decimal.Decimal(7))

    @check("asyncio")
    def _():
        async def echo():
            async def handle(r, w):
                w.write((await r.readline()).upper())
                await w.drain()
                w.close()
            srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            r, w = await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1])
            w.write(b"ping\n")
            line = await r.readline()
            w.close()
            srv.close()
            await srv.wait_closed()
            return line
        return asyncio.run(echo())

    @check("hashlib")
    def _():
        return " ".join(h(b"bundle").hexdigest()[:12] for h in
                        (hashlib.md5, hashlib.sha1, hashlib.sha256, hashlib.sha3_256, hashlib.blake2b))

    @check("ssl")
    def _():
        ctx = ssl.create_default_context()
        return f"{ssl.OPENSSL_VERSION} {ctx.verify_mode == ssl.CERT_REQUIRED}"

    @check("xml")
    def _():
        root = ET.fromstring('<r a="1"><i>x</i><i>y</i></r>')
        names = []
        class H(xml.sax.ContentHandler):
            def startElement(self, name, attrs):
                names.append(name)
        xml.sax.parseString(b"<a><b/></a>", H())
        doc = xml.dom.getDOMImplementation().createDocument(None, "top", None)
        return f"{[i.text for i in root.iter('i')]} {names} {doc.documentElement.tagName}"

    data = ("bundle " * 500).encode()

    @check("compression")
    def _():
        assert lzma.decompress(lzma.compress(data)) == data
        assert bz2.decompress(bz2.compress(data)) == data
        return f"crc32={zlib.crc32(data):08x}"

    @check("ctypes")
    def _():
        libc = ctypes.CDLL(None)
        libc.strlen.restype = ctypes.c_size_t
        return libc.strlen(b"bundle")

    @check("strptime")
    def _():
        return f"{time.strptime('2024-02-29', '%Y-%m-%d').tm_yday} {datetime.datetime.strptime('03/04/2021', '%d/%m/%Y').date()}"

    @check("email")
    def _():
        m = email.message_from_string("Subject: =?utf-8?q?h=C3=A9?=\n\nbody\n", policy=email.policy.default)
        return m["subject"]

    @check("logging.config")
    def _():
        logging.config.dictConfig({"version": 1, "handlers": {"r": {
            "class": "logging.handlers.RotatingFileHandler", "filename": os.devnull}},
            "root": {"handlers": ["r"]}})
        return type(logging.getLogger().handlers[0]).__name__

    @check("dbm")
    def _():
        with tempfile.TemporaryDirectory() as d:
            with dbm.open(os.path.join(d, "db"), "c") as db:
                db[b"k"] = b"v"
            return dbm.whichdb(os.path.join(d, "db"))

    @check("zoneinfo")
    def _():
        if sys.version_info < (3, 9):
            return "n/a"
        import zoneinfo
        t = datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
        return t.utcoffset()

    @check("importlib.resources")
    def _():
        if sys.version_info < (3, 9):
            return "n/a"
        return importlib.resources.files("email").joinpath("charset.py").name

    @check("multiprocessing-spawn")
    def _():
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            return pool.map(sq, range(6))

    maps = os.environ.get("MAPS_OUT")
    if maps:
        with open("/proc/self/maps") as src, open(maps, "w") as dst:
            dst.write(src.read())
    print("ALL OK" if all(RESULTS) else f"{RESULTS.count(False)} FAILED")
    return 0 if all(RESULTS) else 1

if __name__ == "__main__":
    sys.exit(main())
PY

first=1
tested=()
for c in "${cands[@]}"; do
    label=${c%% *}
    py=${c#* }
    facts=$("$py" -I -c 'import sys, sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)' 2>&1) ||
        fail "$py does not run: $facts"
    if [[ $facts != 1 ]]; then
        info "SKIP $label: $py has no shared libpython"
        continue
    fi
    if ((first)); then
        # the sandbox hides every Python on the machine whatever PY is
        E2E_PYTHON=$py
        find_python
        need_sandbox
        first=0
    fi
    PY=$py
    mkdir -p "$WORK/$label"
    cd "$WORK/$label" || exit 1
    cp "$WORK/app.py" .
    rc=0
    want=$(env -i PATH=/usr/bin:/bin "HOME=$SB_HOME" LANG=C.UTF-8 "$py" -I app.py </dev/null 2>plain.err) || rc=$?
    assert_status 0 "$rc" "$label: plain python (stderr: $(cat plain.err))"
    assert_contains "$want" "ALL OK" "$label: plain python's output"
    build_app app.py --no-marathon
    info "$label: $(tail -n1 <<<"$BUILD_ERR")"
    assert_contains "$BUILD_ERR" "needs glibc >=" "$label: the build summary"
    cache=$WORK/$label/cache
    mkdir -p "$cache"
    rc=0
    got=$(run_sandboxed --timeout 120 --cache "$cache" --env "MAPS_OUT=$WORK/$label/maps" dist/app </dev/null 2>err) || rc=$?
    assert_status 0 "$rc" "$label: exit status of the bundle (stderr: $(head -c 3000 err))"
    assert_eq "$want" "$got" "$label: output of the bundle vs plain python"
    assert_eq "" "$(cat err)" "$label: stderr of the bundle"
    [[ -s maps ]] || fail "$label: the app did not write its /proc/self/maps"
    # glibc itself dlopens libgcc_s.so.1 when a thread exits with
    # pthread_exit (3.8 does so at shutdown): part of every glibc system's
    # base (Debian: Priority required), not something the bundle must carry
    grep -v '/libgcc_s\.so\.1$' maps >maps.noglibc || true
    assert_host_libs_base maps.noglibc "$cache" "$label: dist/app"
    tested+=("$label")
    cd "$WORK" || exit 1
    rm -rf "${WORK:?}/${label:?}"
done
((${#tested[@]})) || skip "no interpreter with a shared libpython"
info "passed: ${tested[*]}"
pass
