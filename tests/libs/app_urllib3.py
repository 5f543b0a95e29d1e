# requires: urllib3 (python3-urllib3)
"""urllib3: PoolManager against a local http.server, Retry, url parsing, multipart encoding."""
import http.server
import threading

import urllib3
from urllib3.util import Retry, Timeout, parse_url


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"path={self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
pm = urllib3.PoolManager(retries=Retry(total=1), timeout=Timeout(connect=5, read=5))
r = pm.request("GET", f"http://127.0.0.1:{srv.server_port}/a?b=c", fields=None)
print(r.status, r.data.decode())
srv.shutdown()
u = parse_url("https://user@example.org:8443/p/q?x=1#f")
print(u.scheme, u.host, u.port, u.path, u.query, u.fragment, u.auth)
body, ctype = urllib3.encode_multipart_formdata({"f": ("a.txt", b"hello", "text/plain")}, boundary="XyZ")
print(ctype, len(body), b"hello" in body)
print(urllib3.util.make_headers(basic_auth="u:p", accept_encoding=True))
