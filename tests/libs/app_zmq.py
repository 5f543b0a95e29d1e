# requires: zmq (python3-zmq)
"""pyzmq: PAIR over inproc, REQ/REP over tcp on 127.0.0.1, PUB/SUB, multipart, the libzmq version."""
import threading

import zmq

ctx = zmq.Context()
a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
a.bind("inproc://x")
b.connect("inproc://x")
a.send_multipart([b"one", b"two"])
print("pair", b.recv_multipart())
rep = ctx.socket(zmq.REP)
port = rep.bind_to_random_port("tcp://127.0.0.1")


def serve():
    for _ in range(2):
        rep.send_json({"echo": rep.recv_json()})


t = threading.Thread(target=serve)
t.start()
req = ctx.socket(zmq.REQ)
req.connect(f"tcp://127.0.0.1:{port}")
for i in range(2):
    req.send_json({"i": i})
    print("reqrep", req.recv_json())
t.join()
poller = zmq.Poller()
poller.register(b, zmq.POLLIN)
a.send_string("polled")
print("poll", dict(poller.poll(1000)).get(b) == zmq.POLLIN, b.recv_string())
print("libzmq", zmq.zmq_version_info() >= (4,), zmq.pyzmq_version() > "1")
for s in (a, b, rep, req):
    s.close(linger=0)
ctx.term()
