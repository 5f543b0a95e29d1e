# requires: docopt (python3-docopt)
"""docopt: parse argument lists against a usage text."""
from docopt import DocoptExit, docopt

USAGE = """Naval Fate.

Usage:
  naval ship new <name>...
  naval ship <name> move <x> <y> [--speed=<kn>]
  naval (-h | --help)

Options:
  --speed=<kn>  Speed in knots [default: 10].
"""
print(sorted(docopt(USAGE, ["ship", "new", "a", "b"]).items()))
print(sorted(docopt(USAGE, ["ship", "x", "move", "1", "2", "--speed=20"]).items()))
try:
    docopt(USAGE, ["bogus"])
except DocoptExit as e:
    print("exit", str(e).splitlines()[0])
