# requires: tornado (python3-tornado)
"""tornado: a web.Application on 127.0.0.1, fetched with AsyncHTTPClient; tornado.template."""
import asyncio
import logging

import tornado.httpclient
import tornado.web
from tornado.template import Template

logging.getLogger("tornado.access").setLevel(logging.CRITICAL)


class Main(tornado.web.RequestHandler):
    def get(self, n):
        self.write({"n": int(n), "sq": int(n) ** 2})


async def main():
    app = tornado.web.Application([(r"/sq/(\d+)", Main)])
    server = app.listen(0, address="127.0.0.1")
    port = next(iter(server._sockets.values())).getsockname()[1]
    client = tornado.httpclient.AsyncHTTPClient()
    r = await client.fetch(f"http://127.0.0.1:{port}/sq/12")
    print(r.code, r.body.decode())
    try:
        await client.fetch(f"http://127.0.0.1:{port}/missing")
    except tornado.httpclient.HTTPClientError as e:
        print("error", e.code)
    server.stop()


asyncio.run(main())
print(Template("{% for x in xs %}{{ x * 2 }},{% end %}").generate(xs=[1, 2, 3]).decode())
print(tornado.escape.json_encode({"a": "<b>"}), tornado.escape.url_escape("a b"))
