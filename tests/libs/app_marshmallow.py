# requires: marshmallow (python3-marshmallow)
"""marshmallow: schemas with nested fields, load/dump, validation errors, post_load."""
import datetime
import json

from marshmallow import Schema, ValidationError, fields, post_load, validate


class Author(Schema):
    name = fields.Str(required=True)
    email = fields.Email()


class Book(Schema):
    title = fields.Str(validate=validate.Length(min=1))
    year = fields.Int(validate=validate.Range(min=1000))
    published = fields.Date()
    author = fields.Nested(Author)

    @post_load
    def make(self, data, **kw):
        return ("book", data["title"], data.get("year"))


print(Book().load({"title": "T", "year": 2001, "published": "2001-02-03", "author": {"name": "A"}}))
print(json.dumps(Book().dump({"title": "T", "year": 1, "published": datetime.date(2020, 1, 2), "author": {"name": "B", "email": "b@x.org"}}), sort_keys=True))
try:
    Book().load({"title": "", "year": 5, "author": {"email": "bad"}})
except ValidationError as e:
    print(json.dumps(e.messages, sort_keys=True))
