# requires: regex (python3-regex)
"""regex: Unicode properties, fuzzy matching, variable-length lookbehind, recursion, named lists."""
import regex

print(regex.findall(r"\p{Greek}+", "alpha αβγ beta δε"), regex.findall(r"\p{Lu}\p{Ll}+", "Hello World ÉTÉ Été"))
m = regex.search(r"(?:hello){e<=1}", "say helo there")
print(m.group(), m.fuzzy_counts)
print(regex.search(r"(?<=\d+ )apples", "12 apples").group())
print(regex.fullmatch(r"(\((?:[^()]|(?1))*\))", "(a(b)c(d(e)))") is not None)
print(regex.findall(r"\L<words>", "cat dog bird", words=["cat", "bird"]), regex.sub(r"(?i)é", "e", "CAFÉ café"))
print(regex.split(r"\b", "a b", flags=regex.V1), regex.__version__ > "2")
