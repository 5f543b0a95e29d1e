# requires: gunicorn (python3-gunicorn)
"""gunicorn: worker classes loaded by dotted name, its config, and a real arbiter (forked) serving a WSGI app on 127.0.0.1."""
import os
import signal
import socket
import sys
import time

from gunicorn.app.base import BaseApplication
from gunicorn.config import Config
from gunicorn.util import load_class

for name in ("sync", "gthread", "gunicorn.workers.sync.SyncWorker"):
    cls = load_class(name, default="gunicorn.workers.sync.SyncWorker", section="gunicorn.workers")
    print(name, cls.__module__ + "." + cls.__name__)
c = Config()
c.set("workers", 3)
c.set("bind", "127.0.0.1:0")
print("config", c.workers, c.bind, c.worker_class_str, c.logger_class.__name__)


def wsgi(environ, start_response):
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['QUERY_STRING']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class App(BaseApplication):
    def __init__(self, opts):
        self.opts = opts
        super().__init__()

    def load_config(self):
        for k, v in self.opts.items():
            self.cfg.set(k, v)

    def load(self):
        return wsgi


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    App({"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gthread", "threads": 2,
         "loglevel": "critical"}).run()
    os._exit(0)
resp = b""
for _ in range(200):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c2:
            c2.sendall(b"GET /hi?x=1 HTTP/1.0\r\nHost: t\r\n\r\n")
            while chunk := c2.recv(4096):
                resp += chunk
        break
    except ConnectionRefusedError:
        time.sleep(0.05)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
print("http", resp.split(b"\r\n")[0], resp.split(b"\r\n\r\n", 1)[-1], "server" in resp.decode().lower())
print("arbiter exit", os.waitstatus_to_exitcode(status))
