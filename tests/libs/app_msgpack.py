# requires: msgpack (python3-msgpack)
"""msgpack: packb/unpackb with the C extension, ext types, a streaming Unpacker."""
import datetime

import msgpack
from msgpack import fallback

data = {"int": 1, "neg": -300, "float": 1.5, "str": "héllo", "bin": b"\x00\xff", "list": [1, [2, 3]], "none": None}
packed = msgpack.packb(data, use_bin_type=True)
print(len(packed), packed.hex()[:40])
print(msgpack.unpackb(packed, raw=False) == data, msgpack.Packer is not fallback.Packer)


def default(o):
    if isinstance(o, complex):
        return msgpack.ExtType(42, f"{o.real},{o.imag}".encode())
    raise TypeError


def ext_hook(code, data):
    return complex(*map(float, data.decode().split(","))) if code == 42 else msgpack.ExtType(code, data)


print(msgpack.unpackb(msgpack.packb([1 + 2j], default=default), ext_hook=ext_hook))
ts = datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)
print(msgpack.unpackb(msgpack.packb(ts, datetime=True), timestamp=3))
u = msgpack.Unpacker()
u.feed(msgpack.packb(1) + msgpack.packb("two"))
u.feed(msgpack.packb([3]))
print(list(u))
