# requires: aiohttp (python3-aiohttp)
"""aiohttp: a web.Application served on 127.0.0.1 and queried by aiohttp's ClientSession."""
import asyncio

from aiohttp import ClientSession, web


async def hello(request):
    return web.json_response({"name": request.match_info["name"], "q": request.query.get("q")})


async def echo(request):
    data = await request.post()
    return web.Response(text=",".join(f"{k}={v}" for k, v in sorted(data.items())))


async def main():
    app = web.Application()
    app.add_routes([web.get("/hi/{name}", hello), web.post("/echo", echo)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with ClientSession() as s:
        async with s.get(f"http://127.0.0.1:{port}/hi/bob", params={"q": "x"}) as r:
            print(r.status, await r.json())
        async with s.post(f"http://127.0.0.1:{port}/echo", data={"b": "2", "a": "1"}) as r:
            print(r.status, await r.text())
        async with s.get(f"http://127.0.0.1:{port}/nope") as r:
            print(r.status)
    await runner.cleanup()


asyncio.run(main())
