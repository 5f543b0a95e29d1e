# requires: h11 (python3-h11)
"""h11: client and server HTTP/1.1 state machines talking to each other in memory."""
import h11

client = h11.Connection(h11.CLIENT)
server = h11.Connection(h11.SERVER)
data = client.send(h11.Request(method="POST", target="/x", headers=[("Host", "t"), ("Content-Length", "5")]))
data += client.send(h11.Data(data=b"hello")) + client.send(h11.EndOfMessage())
server.receive_data(data)
events = []
while True:
    e = server.next_event()
    if e is h11.NEED_DATA:
        break
    events.append(type(e).__name__)
    if isinstance(e, h11.EndOfMessage):
        break
print(events, server.their_state)
out = server.send(h11.Response(status_code=200, headers=[("Content-Length", "2")])) + server.send(h11.Data(data=b"ok")) + server.send(h11.EndOfMessage())
print(out)
client.receive_data(out)
print(client.next_event().status_code, client.next_event().data, client.our_state, client.their_state)
