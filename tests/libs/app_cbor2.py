# requires: cbor2 (python3-cbor2)
"""cbor2: dumps/loads with the C extension (_cbor2), tags, datetimes, canonical encoding."""
import datetime
import decimal
import fractions

import cbor2

d = {"a": 1, "b": [1.5, "x", b"\x01"], "dt": datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc),
     "dec": decimal.Decimal("1.25"), "fr": fractions.Fraction(1, 3), "set": {3, 1}}
enc = cbor2.dumps(d, canonical=True)
print(enc.hex())
print(cbor2.loads(enc))
print(cbor2.loads(cbor2.dumps(cbor2.CBORTag(4000, [1, 2]))), "C" if "_cbor2" in type(cbor2.CBOREncoder).__module__ + cbor2.CBOREncoder.__module__ else "py")
