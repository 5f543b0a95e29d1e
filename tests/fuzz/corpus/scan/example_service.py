"""service: a small HTTP service, the shape of a Marathon app.

Listens on 0.0.0.0:$PORT0 (Marathon's first port; 8080 when unset).

    GET /health   200 "ok"              (for Marathon's health check)
    GET /         200 {"hello": ...}    (JSON)
    anything else 404

One line per request on stderr. SIGTERM (what Marathon sends to stop a task)
or SIGINT stops it cleanly: in-flight requests finish, the socket is closed,
and the exit status is 0.
"""
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time

PROG = "service"


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "bundle-example-service/1.0"
    protocol_version = "HTTP/1.1"

    def _send(self, status, body, ctype):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, "ok", "text/plain; charset=utf-8")
        elif path == "/":
            body = {
                "hello": "from bundle",
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "uptime_s": round(time.monotonic() - self.server.started, 3),
                "frozen": bool(getattr(sys, "frozen", False)),
            }
            self._send(200, json.dumps(body) + "\n", "application/json")
        else:
            self._send(404, json.dumps({"error": "not found", "path": path}) + "\n",
                       "application/json")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        # one line per request: client, request line, status
        sys.stderr.write(f"{PROG}: {self.address_string()} {fmt % args}\n")
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = True


def main():
    try:
        port = int(os.environ.get("PORT0") or 8080)
    except ValueError:
        log(f"PORT0 is not a port number: {os.environ['PORT0']!r}")
        return 2
    host = os.environ.get("HOST", "0.0.0.0")
    try:
        server = Server((host, port), Handler)
    except OSError as exc:
        log(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    server.started = time.monotonic()

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name}: shutting down")
        # shutdown() waits for serve_forever() to return: call it off this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"listening on {host}:{server.server_address[1]}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
