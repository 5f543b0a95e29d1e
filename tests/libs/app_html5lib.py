# requires: html5lib (python3-html5lib)
"""html5lib: parse broken HTML with the etree and dom tree builders, serialize, sanitize-style walk."""
import html5lib
from html5lib import serializer, treewalkers

doc = html5lib.parse("<p>one<p>two<table><td>cell</table><b><i>x</b>y</i>", namespaceHTMLElements=False)
print([e.tag for e in doc.iter()])
dom = html5lib.parse("<title>T</title><p id=a>hi", treebuilder="dom")
print(dom.getElementsByTagName("p")[0].getAttribute("id"), dom.getElementsByTagName("title")[0].firstChild.data)
walker = treewalkers.getTreeWalker("etree")
s = serializer.HTMLSerializer(omit_optional_tags=False, quote_attr_values="always")
print(s.render(walker(html5lib.parse("<a href=x>l</a>", namespaceHTMLElements=False))))
print(html5lib.parseFragment("<b>f</b>tail", namespaceHTMLElements=False)[0].tail)
