# requires: xmltodict (python3-xmltodict)
"""xmltodict: parse with attributes and namespaces, unparse, streaming item callback."""
import json

import xmltodict

x = '<r xmlns:a="urn:a"><i id="1">one</i><i id="2"><a:n>two</a:n></i><e/></r>'
d = xmltodict.parse(x, process_namespaces=True)
print(json.dumps(d, sort_keys=True))
print(xmltodict.unparse({"root": {"@v": "1", "k": ["a", "b"], "#text": "t"}}, pretty=False))
seen = []
xmltodict.parse(x, item_depth=2, item_callback=lambda path, item: seen.append((path[-1][0], item)) or True)
print(seen)
