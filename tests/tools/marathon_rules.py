#!/usr/bin/python3
"""marathon_rules.py - what the schemas miss, and the task's fields for a test.

usage:
  marathon_rules.py check [--metronome] [--binary FILE] [--url URL] JSON
      Checks the rules Marathon's (or Metronome's) server applies and the
      Draft 4 schema does not (../shared/schemas/FACTS.md), plus what bundle
      promises: ids, exactly one of cmd/args, numbers, fetch URIs the Mesos
      fetcher accepts, one health check on a declared port, the BUNDLE_SHA256
      label (equal to FILE's SHA-256 with --binary, and checked by cmd), and
      with --url that the binary comes from URL.  Exit 0, or 1 listing every
      broken rule on stderr.
  marathon_rules.py get JSON KEY[.KEY...]
      Prints one value: a string as is, anything else as JSON.
  marathon_rules.py fetch JSON
      Prints one line per fetch URI (Marathon "fetch", Metronome
      "run.artifacts"): URI, the file name the Mesos fetcher gives it
      (destPath, else the URI's last path segment, query included), and 1 or
      0 for "executable", separated by tabs.

Standard library only: runs with any python3 (outside the no-Python sandbox).
Exit status 2: wrong usage or unreadable JSON.
"""
import hashlib
import json
import re
import sys

LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
SEGMENT = re.compile(r"^%s(\.%s)*$" % (LABEL, LABEL))
RESERVED = {"restart", "tasks", "versions"}
DNS_MAX = 54


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Rules:
    def __init__(self):
        self.errors = []

    def bad(self, msg):
        self.errors.append(msg)

    # -- ids --
    def marathon_id(self, i):
        if not isinstance(i, str) or not i.startswith("/"):
            return self.bad("id %r is not an absolute path" % (i,))
        segs = i[1:].split("/")
        for s in segs:
            if not SEGMENT.match(s):
                self.bad("id %r: segment %r is not dot-separated [a-z0-9-] labels "
                         "without '-' at either end" % (i, s))
        if segs[-1] in RESERVED:
            self.bad("id %r ends in the reserved %r" % (i, segs[-1]))
        if len(i.replace("/", "")) > DNS_MAX:
            self.bad("id %r is longer than %d characters (Mesos-DNS)" % (i, DNS_MAX))

    def metronome_id(self, i):
        if not isinstance(i, str) or not SEGMENT.match(i):
            self.bad("metronome id %r is not dot-separated lower-case labels" % (i,))

    # -- fetch URIs --
    def uri(self, u, where):
        if not isinstance(u, str):
            return self.bad("%s: uri is not a string" % where)
        if "'" in u or "\\" in u:
            self.bad("%s: the Mesos fetcher refuses %r (quote or backslash)" % (where, u))
        m = re.match(r"^(https?|file)://([^/?#]*)(/[^?#]*)?", u)
        if not m:
            return self.bad("%s: %r is not an http, https or file URL" % (where, u))
        if m.group(1) != "file" and not m.group(2):
            self.bad("%s: %r has no host" % (where, u))
        path = m.group(3) or ""
        if path in ("", "/") or path.endswith("/"):
            self.bad("%s: %r has no file name (no path, or it ends in '/')" % (where, u))

    def fetch(self, entries, where, need_dest):
        if not isinstance(entries, list):
            return self.bad("%s is not a list" % where)
        for n, e in enumerate(entries):
            w = "%s[%d]" % (where, n)
            if not isinstance(e, dict):
                self.bad("%s is not an object" % w)
                continue
            self.uri(e.get("uri"), w)
            for k in ("executable", "extract", "cache"):
                if k in e and not isinstance(e[k], bool):
                    self.bad("%s.%s is not a boolean" % (w, k))
            if e.get("executable") and e.get("extract", True) is not False:
                self.bad("%s: executable without extract: false" % w)
            d = e.get("destPath")
            if d is not None:
                if not isinstance(d, str) or not d or d.startswith("/") or ".." in d.split("/"):
                    self.bad("%s.destPath %r is not a relative path in the sandbox" % (w, d))
            elif need_dest:
                self.bad("%s has no destPath" % w)

    # -- cmd --
    def cmd(self, doc, where, sha, url, fetched):
        c = doc.get("cmd")
        has_args = "args" in doc
        if (c is None) == (not has_args):
            return self.bad("%s: exactly one of cmd and args is needed" % where)
        if not isinstance(c, str) or not c.strip():
            return self.bad("%s.cmd is not a non-empty string" % where)
        if sha and sha not in c:
            self.bad("%s.cmd does not check the bundle's sha256 %s" % (where, sha))
        if "sha256sum -c -" not in c:
            self.bad("%s.cmd does not verify the download (sha256sum -c -)" % where)
        if "exec " not in c:
            self.bad("%s.cmd does not exec the app (it would not be the task's process)" % where)
        if url:
            quoted = "'" + url + "'"
            if fetched:
                if "curl" in c:
                    self.bad("%s.cmd downloads with curl although the fetcher does" % where)
            elif quoted not in c:
                self.bad("%s.cmd does not download %s" % (where, url))

    def app(self, d, sha, url):
        if not isinstance(d, dict):
            return self.bad("the document is not an object")
        self.marathon_id(d.get("id"))
        fetched = "fetch" in d
        self.cmd(d, "app", sha, url, fetched)
        if not is_num(d.get("cpus")) or d["cpus"] < 0.001:
            self.bad("cpus %r is not a number >= 0.001" % (d.get("cpus"),))
        if not is_num(d.get("mem")) or d["mem"] <= 0:
            self.bad("mem %r is not a number of MB above 0" % (d.get("mem"),))
        if "disk" in d and (not is_num(d["disk"]) or d["disk"] < 0):
            self.bad("disk %r is not a number of MB, 0 or more" % (d["disk"],))
        if not is_int(d.get("instances", 1)) or d.get("instances", 1) < 0:
            self.bad("instances %r is not an integer >= 0" % (d.get("instances"),))
        for k, v in (d.get("env") or {}).items():
            if not isinstance(v, str):
                self.bad("env %s is not a string" % k)
        labels = d.get("labels") or {}
        got = labels.get("BUNDLE_SHA256")
        if not isinstance(got, str) or not re.match(r"^[0-9a-f]{64}$", got):
            self.bad("labels.BUNDLE_SHA256 %r is not 64 lower-case hex digits" % (got,))
        elif sha and got != sha:
            self.bad("labels.BUNDLE_SHA256 is %s, the binary's sha256 is %s" % (got, sha))
        if fetched:
            self.fetch(d["fetch"], "fetch", need_dest=False)
            if url and [e.get("uri") for e in d["fetch"] if isinstance(e, dict)] != [url]:
                self.bad("fetch does not download exactly %s" % url)
        ports = d.get("portDefinitions")
        nports = 1 if ports is None else len(ports)
        for n, p in enumerate(ports or []):
            if not is_int(p.get("port")) or not 0 <= p["port"] <= 65535:
                self.bad("portDefinitions[%d].port %r is not a port number" % (n, p.get("port")))
        checks = d.get("healthChecks") or []
        mesos = [h for h in checks if str(h.get("protocol", "")).startswith("MESOS_")]
        if len(mesos) > 1:
            self.bad("more than one Mesos health check")
        for n, h in enumerate(checks):
            pi = h.get("portIndex", 0)
            if h.get("protocol") in ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", "HTTP", "TCP"):
                if not is_int(pi) or not 0 <= pi < nports:
                    self.bad("healthChecks[%d].portIndex %r names no port (%d declared)"
                             % (n, pi, nports))
            if "HTTP" in str(h.get("protocol")) and not str(h.get("path", "/")).startswith("/"):
                self.bad("healthChecks[%d].path does not start with '/'" % n)
        g = d.get("taskKillGracePeriodSeconds")
        if g is not None and (not is_int(g) or g < 0):
            self.bad("taskKillGracePeriodSeconds %r is not an integer >= 0" % (g,))

    def job(self, d, sha, url):
        if not isinstance(d, dict):
            return self.bad("the document is not an object")
        self.metronome_id(d.get("id"))
        run = d.get("run")
        if not isinstance(run, dict):
            return self.bad("run is not an object")
        fetched = "artifacts" in run
        self.cmd(run, "run", sha, url, fetched)
        if not is_num(run.get("cpus")) or run["cpus"] < 0.01:
            self.bad("run.cpus %r is not a number >= 0.01" % (run.get("cpus"),))
        if not is_num(run.get("mem")) or run["mem"] < 32:
            self.bad("run.mem %r is not a number >= 32" % (run.get("mem"),))
        if not is_num(run.get("disk")) or run["disk"] < 0:
            self.bad("run.disk %r is missing or not a number >= 0 (Metronome requires it)"
                     % (run.get("disk"),))
        if fetched:
            self.fetch(run["artifacts"], "run.artifacts", need_dest=False)
            for e in run["artifacts"]:
                if isinstance(e, dict) and "destPath" in e:
                    self.bad("run.artifacts: Metronome cannot rename (destPath)")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("marathon_rules: cannot read %s: %s" % (path, e), file=sys.stderr)
        sys.exit(2)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dest_name(entry):
    if entry.get("destPath"):
        return entry["destPath"]
    u = entry["uri"]
    return u[u.rindex("/") + 1:]


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
        return 2
    cmd, rest = argv[1], argv[2:]
    if cmd == "check":
        metronome, binary, url = False, None, None
        while len(rest) > 1:
            if rest[0] == "--metronome":
                metronome, rest = True, rest[1:]
            elif rest[0] == "--binary" and len(rest) > 2:
                binary, rest = rest[1], rest[2:]
            elif rest[0] == "--url" and len(rest) > 2:
                url, rest = rest[1], rest[2:]
            else:
                break
        if len(rest) != 1:
            print("usage: marathon_rules.py check [--metronome] [--binary FILE] [--url URL] JSON",
                  file=sys.stderr)
            return 2
        doc = load(rest[0])
        sha = sha256_of(binary) if binary else None
        r = Rules()
        (r.job if metronome else r.app)(doc, sha, url)
        for e in r.errors:
            print("%s: %s" % (rest[0], e), file=sys.stderr)
        return 1 if r.errors else 0
    if cmd == "get" and len(rest) == 2:
        v = load(rest[0])
        for k in rest[1].split("."):
            if not isinstance(v, dict) or k not in v:
                print("marathon_rules: %s has no %s" % (rest[0], rest[1]), file=sys.stderr)
                return 1
            v = v[k]
        sys.stdout.write(v if isinstance(v, str) else json.dumps(v))
        return 0
    if cmd == "fetch" and len(rest) == 1:
        d = load(rest[0])
        entries = d.get("fetch")
        if entries is None and isinstance(d.get("run"), dict):
            entries = d["run"].get("artifacts")
        for e in entries or []:
            print("%s\t%s\t%d" % (e["uri"], dest_name(e), 1 if e.get("executable") else 0))
        return 0
    print("marathon_rules: unknown command or arguments: %s" % " ".join(argv[1:]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
