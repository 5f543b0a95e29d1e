# requires: lxml (python3-lxml)
"""lxml: etree parse, xpath, XSLT, XML Schema validation, objectify, lxml.html, tostring."""
from io import BytesIO

from lxml import etree, html, objectify

xml = b"""<?xml version="1.0"?><lib xmlns:b="urn:b"><book id="1" b:lang="en"><title>A</title><price>10.5</price></book>
<book id="2"><title>B</title><price>3</price></book></lib>"""
root = etree.parse(BytesIO(xml)).getroot()
print(root.xpath("//book[price > 5]/title/text()"), root.xpath("count(//book)"), root.xpath("//@b:lang", namespaces={"b": "urn:b"}))
e = etree.SubElement(root, "book", id="3")
etree.SubElement(e, "title").text = "C & D"
print(etree.tostring(e, encoding="unicode"), etree.tostring(root, method="c14n")[:30])
xslt = etree.XSLT(etree.XML(b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><out><xsl:for-each select="//title"><t><xsl:value-of select="."/></t></xsl:for-each></out></xsl:template>
</xsl:stylesheet>"""))
print(str(xslt(root.getroottree())).strip())
schema = etree.XMLSchema(etree.XML(b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:element name="n" type="xs:integer"/></xs:schema>"""))
print(schema.validate(etree.XML(b"<n>5</n>")), schema.validate(etree.XML(b"<n>x</n>")))
o = objectify.fromstring(b"<r><a>1</a><b>2.5</b></r>")
print(o.a + 1, o.b * 2)
doc = html.fromstring("<div><p class='x'>Hi <a href='/l'>link</a></p><p>bye</div>")
print(doc.cssselect("p.x a")[0].get("href") if hasattr(doc, "cssselect") and False else doc.xpath("//a/@href"),
      html.tostring(doc, encoding="unicode"))
print(etree.LXML_VERSION >= (4,), etree.iterparse is not None)
