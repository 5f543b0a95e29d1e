# requires: tomli (python3-tomli)
"""tomli: loads of TOML 1.0 (inline tables, dotted keys, dates, parse_float)."""
import decimal

import tomli

DOC = """
name = "x"
site."google.com" = true
point = { x = 1, y = 2 }
when = 1979-05-27
f = 1.5
arr = [[1, 2], ["a", "b"]]
"""
d = tomli.loads(DOC, parse_float=decimal.Decimal)
print(d)
try:
    tomli.loads("a = ")
except tomli.TOMLDecodeError as e:
    print("error", str(e))
