# shellcheck shell=bash disable=SC2034  # its variables are for the scripts that source it
# bench/lib.sh: what bench/size and bench/download share, sourced by both
# (not run): the apps they measure, how plain python runs each, and building
# each with bundle and with the peers, PyInstaller and Nuitka, where those
# are installed.
#
# The apps (bench_write_apps writes them into a directory):
#   hello   examples/hello/hello.py
#   stdlib  a stdlib tour: sqlite3, ssl, asyncio, json, decimal, email,
#           xml.etree, csv, zlib/bz2/lzma, hashlib, uuid, logging...
#   numpy   the numpy app of bench/build (arrays, linalg, fft)
#   flask   tests/libs/app_flask.py: routes, Jinja, sessions, errors
# Each prints the same lines on every run.
#
# The peers are looked up for the interpreter the apps are built with:
# PyInstaller as `PY -m PyInstaller`, else `pyinstaller` on PATH; Nuitka as
# `PY -m nuitka`, else `nuitka3` or `nuitka` on PATH.  The environment
# variables PYINSTALLER and NUITKA, when set, name the command instead
# (e.g. PYINSTALLER="/opt/venv/bin/python -m PyInstaller").

BENCH_ALL_APPS=(hello stdlib numpy flask)
declare -A BENCH_SCRIPT=([hello]=hello.py [stdlib]=stdlib_tour.py [numpy]=numpy_app.py [flask]=flask_app.py)
# what plain python needs besides the stdlib, and how it runs the app:
# -S (no site) where the app needs nothing from site-packages
declare -A BENCH_NEEDS=([hello]='' [stdlib]='' [numpy]=numpy [flask]=flask)
declare -A BENCH_FLAGS=([hello]='-I -S' [stdlib]='-I -S' [numpy]='-I' [flask]='-I')
declare -A BENCH_DEB=([numpy]=python3-numpy [flask]=python3-flask)

# bench_write_apps ROOT DIR: writes every app's script into DIR
bench_write_apps() {
    local root=$1 dir=$2
    cp "$root/examples/hello/hello.py" "$dir/hello.py"
    cp "$root/tests/libs/app_flask.py" "$dir/flask_app.py"
    cat >"$dir/numpy_app.py" <<'PY'
import numpy as np
a = np.arange(12.0).reshape(3, 4)
print(a.sum(), np.linalg.norm(a), np.fft.fft(np.ones(4)).real.tolist())
PY
    cat >"$dir/stdlib_tour.py" <<'PY'
"""stdlib tour (bench/size, bench/download): a little of what the stdlib
side of a service uses, printing the same lines on every run."""
import argparse
import asyncio
import base64
import bz2
import collections
import csv
import datetime
import decimal
import email.message
import email.policy
import hashlib
import io
import json
import logging
import lzma
import re
import sqlite3
import ssl
import statistics
import struct
import sys
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
import zlib

print("stdlib tour")
args = argparse.ArgumentParser().parse_args([])
db = sqlite3.connect(":memory:")
db.execute("create table t (k text primary key, v integer)")
db.executemany("insert into t values (?, ?)", [(c, ord(c)) for c in "bundle"])
print("sqlite3", sqlite3.sqlite_version_info[0], db.execute("select count(*), sum(v) from t").fetchone())
ctx = ssl.create_default_context()
print("ssl", ssl.OPENSSL_VERSION.split()[0], ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname)


async def square(x):
    await asyncio.sleep(0)
    return x * x


async def tour():
    return sum(await asyncio.gather(*(square(i) for i in range(10))))


print("asyncio", asyncio.run(tour()))
print("json", json.dumps({"b": [1, 2.5, None], "a": "\u00e9"}, sort_keys=True))
decimal.getcontext().prec = 30
print("decimal", decimal.Decimal(1) / decimal.Decimal(7), decimal.Decimal("1.1") + decimal.Decimal("2.2"))
m = email.message.EmailMessage(policy=email.policy.SMTP)
m["From"], m["To"], m["Subject"] = "a@example.org", "b@example.org", "h\u00e9llo"
m.set_content("body\n")
print("email", ascii(str(m["Subject"])), len(m.as_bytes()))
root = ET.Element("r", a="1")
ET.SubElement(root, "c").text = "x & y"
print("xml", ET.tostring(root).decode(), len(ET.fromstring("<a><b/><b/></a>").findall("b")))
buf = io.StringIO()
csv.writer(buf).writerows([["k", "v"], ["a, b", 1]])
print("csv", list(csv.reader(io.StringIO(buf.getvalue()))))
data = b"bundle " * 1000
print("zlib", zlib.crc32(data), len(zlib.compress(data, 9)), len(bz2.compress(data)) > 0, len(lzma.compress(data)) > 0)
print("hashlib", hashlib.sha256(b"bundle").hexdigest()[:16], hashlib.md5(b"x").hexdigest()[:8])
print("base64", base64.b64encode(struct.pack("<IHd", 1, 2, 0.5)).decode())
print("datetime", datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.timezone.utc).isoformat())
print("urllib", urllib.parse.urlsplit("https://u@example.org:8443/p?q=1#f").port,
      urllib.request.Request("http://example.org/x", data=b"").get_method())
print("uuid", uuid.uuid5(uuid.NAMESPACE_DNS, "example.org"))
print("re", re.findall(r"(\w)\1", "bookkeeper"), statistics.median([3, 1, 4, 1, 5]),
      collections.Counter("bundle").most_common(1))
log = logging.getLogger("tour")
log.addHandler(logging.StreamHandler(sys.stdout))
log.warning("logging %s", "ok")
PY
}

# bench_app_usable APP PY: 0 if PY can run APP (its package is installed),
# else prints why on stdout and returns 1
bench_app_usable() {
    local app=$1 py=$2 need=${BENCH_NEEDS[$1]}
    [[ -z $need ]] && return 0
    "$py" -I -c "import $need" 2>/dev/null && return 0
    echo "$py cannot import $need (apt-get install ${BENCH_DEB[$app]})"
    return 1
}

# bench_plain APP PY DIR: the plain-python command of APP in DIR, on stdout
bench_plain() {
    echo "$2 ${BENCH_FLAGS[$1]} $3/${BENCH_SCRIPT[$1]}"
}

# bench_find_peers PY: sets PYINSTALLER_CMD and NUITKA_CMD (arrays, empty
# when not installed) and PYINSTALLER_NOTE, NUITKA_NOTE (what was found)
bench_find_peers() {
    local py=$1 c
    PYINSTALLER_CMD=() NUITKA_CMD=() PYINSTALLER_NOTE='not installed' NUITKA_NOTE='not installed'
    if [[ -n ${PYINSTALLER:-} ]]; then
        read -r -a PYINSTALLER_CMD <<<"$PYINSTALLER"
    elif "$py" -I -c 'import PyInstaller' 2>/dev/null; then
        PYINSTALLER_CMD=("$py" -m PyInstaller)
    elif c=$(command -v pyinstaller); then
        PYINSTALLER_CMD=("$c")
    fi
    if ((${#PYINSTALLER_CMD[@]})); then
        PYINSTALLER_NOTE="${PYINSTALLER_CMD[*]} $("${PYINSTALLER_CMD[@]}" --version 2>/dev/null | head -1)"
    fi
    if [[ -n ${NUITKA:-} ]]; then
        read -r -a NUITKA_CMD <<<"$NUITKA"
    elif "$py" -I -c 'import nuitka' 2>/dev/null; then
        NUITKA_CMD=("$py" -m nuitka)
    elif c=$(command -v nuitka3 || command -v nuitka); then
        NUITKA_CMD=("$c")
    fi
    if ((${#NUITKA_CMD[@]})); then
        NUITKA_NOTE="${NUITKA_CMD[*]} $("${NUITKA_CMD[@]}" --version 2>/dev/null | head -1)"
    fi
}

# bench_build_bundle BUNDLE APP PY SRCDIR OUT LOG: bundle --onefile
bench_build_bundle() {
    local bundle=$1 app=$2 py=$3 src=$4 out=$5 log=$6
    "$bundle" --onefile "$src/${BENCH_SCRIPT[$app]}" --python "$py" -o "$out" -n "$app" \
        --no-marathon -q >"$log" 2>&1
}

# bench_build_pyinstaller APP PY SRCDIR OUTDIR LOG: PyInstaller --onefile;
# the executable is OUTDIR/APP
bench_build_pyinstaller() {
    local app=$1 src=$3 outdir=$4 log=$5
    mkdir -p "$outdir/work" "$outdir/spec"
    "${PYINSTALLER_CMD[@]}" --onefile --noconfirm --log-level WARN --name "$app" \
        --distpath "$outdir" --workpath "$outdir/work" --specpath "$outdir/spec" \
        "$src/${BENCH_SCRIPT[$app]}" >"$log" 2>&1 && [[ -x $outdir/$app ]]
}

# bench_build_nuitka APP PY SRCDIR OUTDIR LOG: Nuitka --onefile; the
# executable is OUTDIR/APP
bench_build_nuitka() {
    local app=$1 src=$3 outdir=$4 log=$5
    mkdir -p "$outdir"
    "${NUITKA_CMD[@]}" --onefile --assume-yes-for-downloads --remove-output --output-dir="$outdir" \
        --output-filename="$app" "$src/${BENCH_SCRIPT[$app]}" >"$log" 2>&1 && [[ -x $outdir/$app ]]
}
