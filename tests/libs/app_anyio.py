# requires: anyio (python3-anyio)
"""AnyIO: anyio.run with the asyncio backend (loaded by name), task groups, memory streams, a TCP listener, to_thread."""
import anyio
from anyio.streams.buffered import BufferedByteReceiveStream


async def producer(send, n):
    async with send:
        for i in range(n):
            await send.send(i * i)


async def handle(stream):
    async with stream:
        data = await stream.receive()
        await stream.send(data.upper())


async def main():
    send, recv = anyio.create_memory_object_stream(10)
    async with anyio.create_task_group() as tg:
        tg.start_soon(producer, send, 5)
        out = [x async for x in recv]
    print("stream", out)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        async with await anyio.connect_tcp("127.0.0.1", port) as c:
            await c.send(b"hello anyio\n")
            print("tcp", await BufferedByteReceiveStream(c).receive_until(b"\n", 100))
        tg.cancel_scope.cancel()
    print("thread", await anyio.to_thread.run_sync(sum, [1, 2, 3]))
    with anyio.move_on_after(0.05) as scope:
        await anyio.sleep(5)
    print("cancelled", scope.cancel_called, anyio.get_current_task().name is not None)
    return "done"


print(anyio.run(main, backend="asyncio"))
