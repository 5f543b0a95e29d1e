# requires: docutils (python3-docutils)
"""docutils: publish_string reST to HTML5 and LaTeX, publish_parts, a directive, a role."""
from docutils.core import publish_parts, publish_string

RST = """
Title
=====

Some *emphasis*, ``code`` and a link_.

.. _link: https://example.org

.. note:: A note.

* one
* two

.. code:: python

   x = 1

=====  =====
a      b
=====  =====
1      2
=====  =====
"""
settings = {"output_encoding": "unicode", "embed_stylesheet": False, "datestamp": False, "report_level": 5,
            "syntax_highlight": "none", "use_latex_citations": True, "legacy_column_widths": False}
out = publish_string(RST, writer_name="html5", settings_overrides=settings)
print(len(out) > 500, "<em>emphasis</em>" in out, 'class="admonition note"' in out, "<table" in out)
parts = publish_parts(RST, writer_name="html", settings_overrides=settings)
print(parts["title"], parts["body"].count("<li>"))
print(publish_string(RST, writer_name="latex", settings_overrides=settings).count("\\section"))
print(publish_string("Hello *x*", writer_name="pseudoxml", settings_overrides=settings))
print(len(publish_string(RST, writer_name="manpage", settings_overrides=settings)) > 100,
      len(publish_string(RST, writer_name="odt", settings_overrides={"report_level": 5})) > 1000)
