#!/usr/bin/python3
"""validate_schema.py - check a JSON file against a JSON Schema, Draft 4.

usage: validate_schema.py SCHEMA.json INSTANCE.json

Exit status: 0 valid; 1 invalid (each error on stderr) or not JSON;
2 wrong usage or unreadable instance; 77 jsonschema or the schema file is
missing (test drivers treat 77 as "skipped").

Draft 4 is used explicitly: the Marathon and Metronome schemas declare an
unversioned "$schema", and newer drafts misread Marathon's "constraints".
The schema itself is not checked against the metaschema (Metronome's is not
a valid Draft 4 schema, though instances validate fine).  $refs resolve
relative to the schema file; every *.json beside it is preloaded under its
file URL, under its own "id" and relative to the schema's "id" (Marathon's
Group.json refers to "./AppDefinition.json" through a dead GitHub URL), and
http/https refs are refused, so nothing is fetched over the network.
For Debian's /usr/bin/python3 with python3-jsonschema.
"""
import json
import os
import pathlib
import sys
import urllib.parse
import warnings

SKIP = 77


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def preload(schema_path, schema):
    """Every sibling *.json keyed by each URL a $ref could name it by."""
    store = {}
    base_id = schema.get("id") if isinstance(schema, dict) else None
    for p in sorted(schema_path.parent.glob("*.json")):
        try:
            doc = load(p)
        except (OSError, ValueError):
            continue
        store[p.resolve().as_uri()] = doc
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            store[doc["id"].rstrip("#")] = doc
        if isinstance(base_id, str):
            store[urllib.parse.urljoin(base_id, p.name)] = doc
    return store


def no_network(uri):
    raise ValueError("refusing to fetch %s over the network" % uri)


def validator_for(jsonschema, schema_path, schema):
    store = preload(schema_path, schema)
    base = schema_path.resolve().as_uri()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver(
                base, schema, store=store,
                handlers={"http": no_network, "https": no_network})
            return jsonschema.Draft4Validator(schema, resolver=resolver)
    except AttributeError:
        pass
    # jsonschema without RefResolver: the referencing library.
    import referencing
    import referencing.jsonschema

    def retrieve(uri):
        if uri in store:
            return referencing.Resource.from_contents(
                store[uri], default_specification=referencing.jsonschema.DRAFT4)
        raise referencing.exceptions.NoSuchResource(ref=uri)

    registry = referencing.Registry(retrieve=retrieve)
    return jsonschema.Draft4Validator(schema, registry=registry)


def main(argv):
    if len(argv) != 3:
        print("usage: validate_schema.py SCHEMA.json INSTANCE.json", file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("validate_schema: python3-jsonschema is not installed", file=sys.stderr)
        return SKIP
    schema_path = pathlib.Path(argv[1])
    try:
        schema = load(schema_path)
    except FileNotFoundError:
        print("validate_schema: no schema '%s'" % schema_path, file=sys.stderr)
        return SKIP
    except (OSError, ValueError) as e:
        print("validate_schema: cannot read schema '%s': %s" % (schema_path, e),
              file=sys.stderr)
        return 2
    try:
        instance = load(argv[2])
    except ValueError as e:
        print("%s: not valid JSON: %s" % (argv[2], e), file=sys.stderr)
        return 1
    except OSError as e:
        print("validate_schema: cannot read '%s': %s" % (argv[2], e), file=sys.stderr)
        return 2
    validator = validator_for(jsonschema, schema_path, schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        msg = e.message if len(e.message) <= 300 else e.message[:300] + "..."
        print("%s: %s: %s (%s)" % (argv[2], where, msg, e.validator), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
