# requires: attrs (python3-attr)
"""attrs: define/frozen classes, validators, converters, asdict, evolve, cmp."""
import attr
import attrs


@attrs.define
class Point:
    x: int = attrs.field(converter=int)
    y: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attr.s(frozen=True, auto_attribs=True)
class Tag:
    name: str
    weight: float = 1.0


p = Point("3", 4)
print(p, attrs.asdict(p), attrs.evolve(p, y=9), p == Point(3, 4))
try:
    Point(1, -1)
except ValueError as e:
    print("invalid", str(e).split(" ")[0])
t = Tag("a")
try:
    t.name = "b"
except attr.exceptions.FrozenInstanceError:
    print("frozen", t, hash(t) == hash(Tag("a")))
print([f.name for f in attrs.fields(Point)], sorted([Tag("b"), Tag("a", 2.0)]))
