"""A Flask service, the shape of a Marathon app: werkzeug's threaded server on
$HOST:$PORT0 (127.0.0.1:8080 by default), GET /health -> 200 "ok",
GET / -> JSON, anything else 404. SIGTERM (what Mesos sends to stop a task)
shuts it down cleanly: exit status 0, "stopped" on stderr."""
import os
import signal
import sys
import threading

from flask import Flask, jsonify
from werkzeug.serving import make_server

app = Flask(__name__)


@app.route("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/")
def index():
    return jsonify(hello="from flask", frozen=bool(getattr(sys, "frozen", False)))


def log(msg):
    print("flask_service: " + msg, file=sys.stderr, flush=True)


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT0") or 8080)
    server = make_server(host, port, app, threaded=True)

    def stop(signum, _frame):
        log("%s: shutting down" % signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("listening on %s:%d" % (host, server.server_port))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
