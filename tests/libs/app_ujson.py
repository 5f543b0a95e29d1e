# requires: ujson (python3-ujson)
"""ujson: dumps/loads (C), options."""
import ujson

d = {"b": [1, 2.5, None, True], "a": "é\u2603", "n": 2 ** 60}
s = ujson.dumps(d, sort_keys=True, ensure_ascii=False)
print(s, ujson.loads(s) == d)
print(ujson.dumps({"x": "</script>"}, escape_forward_slashes=False, indent=2))
print(ujson.dumps([1.0 / 4, -2 ** 63]), ujson.loads("[1e3, 0.5]"), ujson.__version__ > "1")
