# requires: yaml (python3-yaml)
"""PyYAML: load/dump with the libyaml C loader and dumper, custom tags, safe_load_all."""
import yaml

print("libyaml", yaml.__with_libyaml__)
DOC = """
name: demo
list: [1, 2.5, true, null, 2020-01-02]
nested: {a: {b: [x, y]}}
anchor: &a {k: v}
ref: *a
multi: |
  line1
  line2
"""
d = yaml.load(DOC, Loader=yaml.CSafeLoader)
print(sorted(d.items(), key=lambda kv: kv[0]))
print(yaml.dump(d, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False))
print(list(yaml.safe_load_all("---\na: 1\n---\nb: 2\n")))


class Point(yaml.YAMLObject):
    yaml_tag = "!Point"
    yaml_loader = yaml.CLoader
    yaml_dumper = yaml.CDumper

    def __init__(self, x, y):
        self.x, self.y = x, y


p = yaml.load("!Point {x: 1, y: 2}", Loader=yaml.CLoader)
print(type(p).__name__, p.x, p.y, yaml.dump(p, Dumper=yaml.CDumper).strip())
