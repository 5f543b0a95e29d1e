# requires: httpx (python3-httpx)
"""httpx: a Client and an AsyncClient on a MockTransport (no network), URL and header types."""
import asyncio
import json

import httpx


def handler(request):
    return httpx.Response(200, json={"method": request.method, "path": request.url.path,
                                     "q": dict(request.url.params), "body": request.content.decode()})


with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://api.test") as c:
    r = c.get("/items", params={"page": 2})
    print(r.status_code, r.json(), r.headers["content-type"])
    print(c.post("/items", json={"a": 1}).json()["body"])


async def main():
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
        rs = await asyncio.gather(*(c.get(f"http://t/{i}") for i in range(3)))
        print([x.json()["path"] for x in rs])


asyncio.run(main())
u = httpx.URL("https://example.org/a b?x=1")
print(u.host, u.raw_path, httpx.Headers({"A": "1"}).get("a"), httpx.codes.NOT_FOUND)
