# requires: requests (python3-requests)
"""requests: a Session with a transport adapter that answers locally (no network), prepared requests, auth."""
import io
import json

import requests
from requests.adapters import BaseAdapter
from requests.auth import HTTPBasicAuth
from urllib3.response import HTTPResponse


class Echo(BaseAdapter):
    def send(self, request, **kw):
        body = json.dumps({"method": request.method, "url": request.url,
                           "auth": request.headers.get("Authorization"),
                           "body": request.body.decode() if isinstance(request.body, bytes) else request.body}).encode()
        raw = HTTPResponse(body=io.BytesIO(body), headers={"Content-Type": "application/json"},
                           status=200, preload_content=False)
        return self.build_response(request, raw)

    def build_response(self, req, resp):
        from requests.adapters import HTTPAdapter
        return HTTPAdapter().build_response(req, resp)

    def close(self):
        pass


s = requests.Session()
s.mount("http://mock.test/", Echo())
r = s.get("http://mock.test/path", params={"q": "a b", "n": 1}, auth=HTTPBasicAuth("u", "p"))
print(r.status_code, r.headers["Content-Type"], r.json())
r = s.post("http://mock.test/post", json={"k": [1, 2]})
print(r.json()["body"], r.encoding, r.ok)
p = requests.Request("PUT", "http://example.invalid/x", data={"a": "1"}, cookies={"c": "v"}).prepare()
print(p.method, p.url, p.headers["Content-Type"], p.headers["Cookie"], p.body)
print(requests.utils.quote("a b/c"), requests.codes.teapot, requests.__version__ > "2")
