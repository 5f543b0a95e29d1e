# requires: mako (python3-mako)
"""mako: templates with inheritance through a TemplateLookup, defs, filters, and the compiled module."""
from mako.lookup import TemplateLookup
from mako.template import Template

lk = TemplateLookup()
lk.put_string("base.mako", "<html>${self.body()}</html>")
lk.put_string("page.mako", """<%inherit file="base.mako"/>
<%def name="item(x)">[${x | h}]</%def>
% for x in items:
${item(x)}
% endfor
""")
print(lk.get_template("page.mako").render(items=["a", "<b>"]).split())
t = Template("${ sum(n ** 2 for n in range(k)) } ${ name.upper() }")
print(t.render(k=5, name="mako"))
print("def render_body" in t.code)
