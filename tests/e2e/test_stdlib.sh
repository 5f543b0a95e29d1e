#!/usr/bin/env bash
# One app that exercises the standard library's native parts and tricky
# corners: sqlite3, ssl, hashlib, decimal, xml.etree, lzma, bz2, zlib, ctypes,
# unicodedata, json, csv, asyncio, and multiprocessing with the spawn start
# method. The bundle, run with no Python on the machine, must print exactly
# what plain python prints (no line may differ), ending with "ALL OK", and
# load no shared library from the host but glibc's.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork stdlib
cd "$WORK" || exit 1

cat >stdlib_app.py <<'PY'
import asyncio
import bz2
import csv
import ctypes
import decimal
import hashlib
import io
import json
import lzma
import multiprocessing
import os
import sqlite3
import ssl
import sys
import unicodedata
import xml.etree.ElementTree as ET
import zlib

RESULTS = []


def check(name):
    def wrap(fn):
        try:
            detail = fn()
            RESULTS.append(True)
            print(f"{name}: ok {detail}", flush=True)
        except Exception as exc:  # report every check, whatever fails
            RESULTS.append(False)
            print(f"{name}: FAIL {type(exc).__name__}: {exc}", flush=True)
        return fn
    return wrap


def square(x):  # module level: spawn children import it by name
    return x * x


def main():
    @check("pkgutil")
    def _():
        import pkgutil  # the bundle's importer lists its top-level modules
        names = {m.name for m in pkgutil.iter_modules()}
        # a package's submodules (the bundle holds those json imports)
        subs = {m.name: m.ispkg for m in pkgutil.iter_modules(json.__path__, "json.")}
        want = ("json.decoder", "json.encoder", "json.scanner")
        return f"json={'json' in names} sqlite3={'sqlite3' in names} {[(n, subs.get(n)) for n in want]}"

    @check("sqlite3")
    def _():
        db = sqlite3.connect(":memory:")
        db.execute("create table t (k text primary key, v integer)")
        db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("ç", 3)])
        rows = db.execute("select k, v from t where v >= 2 order by v").fetchall()
        total = db.execute("select sum(v) from t").fetchone()[0]
        return f"{rows} sum={total}"

    @check("ssl")
    def _():
        ctx = ssl.create_default_context()
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        return ssl.OPENSSL_VERSION

    @check("hashlib")
    def _():
        data = b"bundle"
        return " ".join([hashlib.sha256(data).hexdigest()[:16], hashlib.md5(data).hexdigest()[:16],
                         hashlib.blake2b(data, digest_size=16).hexdigest(),
                         hashlib.sha3_256(data).hexdigest()[:16]])

    @check("decimal")
    def _():
        decimal.getcontext().prec = 30
        third = decimal.Decimal(1) / decimal.Decimal(3)
        return f"{third} {decimal.Decimal('0.1') + decimal.Decimal('0.2')}"

    @check("xml.etree")
    def _():
        root = ET.fromstring('<r a="1"><i>x</i><i>y</i><j>z</j></r>')
        return f"{root.get('a')} {[i.text for i in root.iter('i')]} {ET.tostring(root.find('j'))!r}"

    payload = ("bundle " * 1000 + "ünïcödé").encode("utf-8")

    @check("lzma")
    def _():
        c = lzma.compress(payload)
        assert lzma.decompress(c) == payload
        return f"{len(payload)} bytes round trip"

    @check("bz2")
    def _():
        assert bz2.decompress(bz2.compress(payload)) == payload
        return f"{len(payload)} bytes round trip"

    @check("zlib")
    def _():
        assert zlib.decompress(zlib.compress(payload, 9)) == payload
        return f"crc32={zlib.crc32(payload):08x}"

    @check("ctypes")
    def _():
        libc = ctypes.CDLL(None)
        libc.strlen.restype = ctypes.c_size_t
        libc.strlen.argtypes = [ctypes.c_char_p]
        buf = ctypes.create_string_buffer(b"hello", 16)
        return f"strlen={libc.strlen(b'hello, world')} sizeof={ctypes.sizeof(buf)}"

    @check("unicodedata")
    def _():
        return (f"{unicodedata.name('é')} | {unicodedata.name('日')} | "
                f"{unicodedata.normalize('NFD', 'é').encode('unicode_escape')} | "
                f"{unicodedata.category('🎉')}")

    @check("json")
    def _():
        doc = {"b": [1, 2.5, None, True], "a": "ünï", "c": {"d": "日本"}}
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        assert json.loads(text) == doc
        return text

    @check("csv")
    def _():
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["a", "b,c", 'd"e'])
        w.writerow([1, "", "ü"])
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        return f"{out.getvalue()!r} -> {rows}"

    @check("asyncio")
    def _():
        async def work(i):
            await asyncio.sleep(0)
            return i * 10

        async def run():
            return await asyncio.gather(*(work(i) for i in range(5)))

        return asyncio.run(run())

    @check("multiprocessing-spawn")
    def _():
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            result = pool.map(square, range(8))
        q = ctx.Queue()
        p = ctx.Process(target=q.put, args=("from a spawned child",))
        p.start()
        msg = q.get(timeout=60)
        p.join(60)
        return f"{result} {msg!r} exitcode={p.exitcode}"

    maps_out = os.environ.get("MAPS_OUT")
    if maps_out:  # for the test: which shared libraries this process loaded
        with open("/proc/self/maps") as src, open(maps_out, "w") as dst:
            dst.write(src.read())
    if all(RESULTS):
        print("ALL OK")
        return 0
    print(f"{RESULTS.count(False)} FAILED")
    return 1


if __name__ == "__main__":
    sys.exit(main())
PY

build_app stdlib_app.py

rc=0
want=$(env -i PATH=/usr/bin:/bin "HOME=$SB_HOME" LANG=C.UTF-8 "$PY" -I stdlib_app.py </dev/null 2>"$WORK/plain.err") || rc=$?
assert_status 0 "$rc" "plain python on the test app (stderr: $(cat "$WORK/plain.err"))"
assert_contains "$want" "ALL OK" "plain python's output"

rc=0
got=$(run_sandboxed --timeout 180 --env "MAPS_OUT=$WORK/maps.txt" dist/stdlib_app </dev/null 2>"$WORK/err") || rc=$?
info "bundle output:"$'\n'"$got"
assert_status 0 "$rc" "exit status of dist/stdlib_app (stderr: $(head -c 3000 "$WORK/err"))"
assert_eq "$want" "$got" "output of dist/stdlib_app vs plain python"
assert_eq "" "$(cat "$WORK/err")" "stderr of dist/stdlib_app"
# every shared library it loaded came from the bundle, or is glibc's
[[ -s $WORK/maps.txt ]] || fail "the app did not write its /proc/self/maps"
assert_host_libs_base "$WORK/maps.txt" "$SB_CACHE" "dist/stdlib_app"

# warm cache, second run: same again
rc=0
got2=$(run_sandboxed --timeout 180 dist/stdlib_app </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "exit status of the warm-cache run (stderr: $(head -c 3000 "$WORK/err"))"
assert_eq "$want" "$got2" "output of the warm-cache run"

pass
