"""The standard library's native parts on the host: every check prints one
line, the same under plain python and in the bundle, then ALL OK (exit 0).
Python 3.8 to 3.13."""
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
import socket
import sqlite3
import ssl
import subprocess
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
            print("%s: ok %s" % (name, detail), flush=True)
        except Exception as exc:  # report every check, whatever fails
            RESULTS.append(False)
            print("%s: FAIL %s: %s" % (name, type(exc).__name__, exc), flush=True)
        return fn
    return wrap


def square(x):  # module level: spawn children import it by name
    return x * x


def main():
    payload = ("bundle " * 1000 + "\u00fcn\u00efc\u00f6d\u00e9").encode("utf-8")

    @check("encoding")
    def _():
        return "%s %s" % (sys.getfilesystemencoding(), sys.stdout.encoding)

    @check("sqlite3")
    def _():
        db = sqlite3.connect(":memory:")
        db.execute("create table t (k text primary key, v integer)")
        db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("\u00e7", 3)])
        return "%s sum=%s" % (db.execute("select k, v from t where v >= 2 order by v").fetchall(),
                              db.execute("select sum(v) from t").fetchone()[0])

    @check("ssl")
    def _():
        ctx = ssl.create_default_context()
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        return ssl.OPENSSL_VERSION

    @check("hashlib")
    def _():
        data = b"bundle"
        return " ".join([hashlib.sha256(data).hexdigest()[:16], hashlib.md5(data).hexdigest()[:16],
                         hashlib.blake2b(data, digest_size=8).hexdigest(),
                         hashlib.sha3_256(data).hexdigest()[:16]])

    @check("decimal")
    def _():
        decimal.getcontext().prec = 30
        return "%s %s" % (decimal.Decimal(1) / decimal.Decimal(3), decimal.Decimal("0.1") + decimal.Decimal("0.2"))

    @check("xml.etree")
    def _():
        root = ET.fromstring('<r a="1"><i>x</i><i>y</i><j>z</j></r>')
        return "%s %s %r" % (root.get("a"), [i.text for i in root.iter("i")], ET.tostring(root.find("j")))

    @check("lzma bz2 zlib")
    def _():
        assert lzma.decompress(lzma.compress(payload)) == payload
        assert bz2.decompress(bz2.compress(payload)) == payload
        assert zlib.decompress(zlib.compress(payload, 9)) == payload
        return "%d bytes, crc32=%08x" % (len(payload), zlib.crc32(payload))

    @check("ctypes")
    def _():
        libc = ctypes.CDLL(None)
        libc.strlen.restype = ctypes.c_size_t
        libc.strlen.argtypes = [ctypes.c_char_p]
        return "strlen=%d" % libc.strlen(b"hello, world")

    @check("unicodedata")
    def _():
        return "%s | %s | %s" % (unicodedata.name("\u00e9"), unicodedata.normalize("NFD", "\u00e9").encode("unicode_escape"),
                                 unicodedata.category("\U0001f389"))

    @check("json csv")
    def _():
        doc = {"b": [1, 2.5, None, True], "a": "\u00fcn\u00ef", "c": {"d": "\u65e5\u672c"}}
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        assert json.loads(text) == doc
        out = io.StringIO()
        csv.writer(out).writerow(["a", "b,c", 'd"e'])
        return "%s %r" % (text, out.getvalue())

    @check("socket")
    def _():
        a, b = socket.socketpair()
        with a, b:
            a.sendall("\u00fc".encode("utf-8"))
            return b.recv(16).decode("utf-8")

    @check("subprocess")
    def _():
        return subprocess.run(["echo", "from a child"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()

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
        return "%s %r exitcode=%s" % (result, msg, p.exitcode)

    if all(RESULTS):
        print("ALL OK")
        return 0
    print("%d FAILED" % RESULTS.count(False))
    return 1


if __name__ == "__main__":
    sys.exit(main())
