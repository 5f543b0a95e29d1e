# requires: markdown (python3-markdown)
"""Python-Markdown: convert with extensions loaded by name (tables, fenced_code, toc, codehilite, footnotes, attr_list)."""
import markdown

TEXT = """# Title

[TOC]

Some *text* with a footnote[^1].

| a | b |
|---|---|
| 1 | 2 |

```python
print("hi")
```

## Section {: #sec }

[^1]: The note.
"""
md = markdown.Markdown(extensions=["tables", "fenced_code", "toc", "footnotes", "attr_list", "codehilite",
                                   "markdown.extensions.smarty", "extra"])
html = md.convert(TEXT)
print(html)
print(md.toc_tokens)
print(markdown.markdown("**bold** and `code`"))
