# requires: jsonschema (python3-jsonschema)
"""jsonschema: validators for several drafts (their bundled meta-schemas), errors, format checker."""
import jsonschema
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"name": {"type": "string", "minLength": 2}, "age": {"type": "integer", "minimum": 0},
                         "email": {"type": "string", "format": "email"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
          "required": ["name"], "additionalProperties": False}
v = Draft202012Validator(schema, format_checker=FormatChecker())
print(v.is_valid({"name": "ann", "age": 3, "tags": ["a"]}))
for e in sorted(v.iter_errors({"name": "x", "age": -1, "email": "nope", "tags": ["c"], "z": 1}), key=lambda e: list(e.path)):
    print(list(e.path), e.validator, e.message)
print(jsonschema.validators.validator_for(schema).__name__, jsonschema.validators.validator_for({}).__name__)
Draft7Validator.check_schema({"type": "string"})
try:
    jsonschema.validate(5, {"type": "string"})
except jsonschema.ValidationError as e:
    print("error", e.message)
