# requires: toml (python3-toml)
"""toml: loads/dumps of a document with tables, arrays of tables, dates."""
import toml

DOC = """
title = "demo"
[owner]
name = "Tom"
dob = 1979-05-27T07:32:00Z
[db]
ports = [8001, 8002]
enabled = true
[[fruit]]
name = "apple"
[[fruit]]
name = "banana"
"""
d = toml.loads(DOC)
print(d["title"], d["owner"]["dob"].isoformat(), d["db"], [f["name"] for f in d["fruit"]])
print(toml.dumps({"a": 1, "t": {"x": [1, 2], "s": "q\"uote"}}))
