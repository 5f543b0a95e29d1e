# requires: websockets (python3-websockets)
"""websockets: an asyncio server on 127.0.0.1 and a client, text and binary frames, close codes."""
import asyncio

import websockets


async def echo(ws, path=None):
    async for msg in ws:
        await ws.send(msg.upper() if isinstance(msg, str) else msg[::-1])


async def main():
    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}", compression="deflate") as ws:
            await ws.send("hello")
            print("text", await ws.recv())
            await ws.send(b"\x01\x02\x03")
            print("binary", await ws.recv())
        print("closed", ws.close_code)


asyncio.run(main())
