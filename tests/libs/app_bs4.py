# requires: bs4 (python3-bs4)
"""bs4 (BeautifulSoup): parse with html.parser and lxml, find_all, CSS select (soupsieve), modify."""
from bs4 import BeautifulSoup

HTML = """<html><body><div id="m"><p class="a">One <b>bold</b></p><p class="a b">Two</p>
<a href="/x">X</a><a href="/y">Y</a><ul><li>1<li>2</ul></div></body></html>"""
for parser in ("html.parser", "lxml", "html5lib"):
    s = BeautifulSoup(HTML, parser)
    print(parser, [p.get_text() for p in s.find_all("p", class_="a")], [a["href"] for a in s.select("div#m > a")],
          len(s.find_all("li")))
s = BeautifulSoup(HTML, "html.parser")
s.b.string = "BOLD"
s.find("a")["href"] = "/z"
print(s.find("p"), s.select_one("p.b").text, s.find(string="X").parent.name)
print(BeautifulSoup("<r><i k='1'>t</i></r>", "xml").find("i")["k"])
