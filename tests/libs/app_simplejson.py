# requires: simplejson (python3-simplejson)
"""simplejson: dumps/loads through the C speedups, Decimal, for_json, ordered output."""
import decimal

import simplejson as json

print("speedups", json._import_c_make_encoder() is not None)
doc = {"b": [1, 2.5, None, True], "a": "é\u2603", "d": decimal.Decimal("1.10")}
s = json.dumps(doc, sort_keys=True, use_decimal=True)
print(s)
print(json.loads(s, use_decimal=True)["d"], json.loads('{"x": 1.1}', parse_float=decimal.Decimal))
print(json.dumps({"k": 1}, indent=2, separators=(",", ": ")))


class P:
    def for_json(self):
        return {"p": 1}


print(json.dumps([P()], for_json=True), json.dumps("\u2603", ensure_ascii=True))
try:
    json.loads("{bad")
except json.JSONDecodeError as e:
    print("error", e.lineno, e.colno)
