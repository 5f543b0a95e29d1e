# requires: jinja2 (python3-jinja2)
"""jinja2: an Environment with a DictLoader, inheritance, macros, filters, autoescape, the sandbox."""
from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

env = Environment(loader=DictLoader({
    "base.html": "<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}",
    "page.html": """{% extends "base.html" %}{% import "m.html" as m %}
{% block title %}{{ title|upper }}{% endblock %}
{% block body %}{% for u in users|sort(attribute='age') %}{{ m.row(u) }}{% endfor %}{{ raw }}{% endblock %}""",
    "m.html": "{% macro row(u) %}[{{ u.name }}:{{ u.age }}]{% endmacro %}",
}), autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
env.filters["rev"] = lambda s: s[::-1]
t = env.get_template("page.html")
print(t.render(title="people", users=[{"name": "bo", "age": 40}, {"name": "al", "age": 30}], raw="<x>"))
print(env.from_string("{{ 'abc'|rev }} {{ 3|string * 2 }} {{ [1,2,3]|sum }}").render())
print(SandboxedEnvironment().from_string("{{ x.__class__ }}").render(x=1) == "")
code = env.compile("{{ a + b }}", raw=True)
print("compiled", "def root" in code)
