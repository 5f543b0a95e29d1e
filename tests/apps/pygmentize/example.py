import re

PATTERN = re.compile(r"(\d+)-(\w+)")


@staticmethod
def parse(text: str) -> dict[str, int]:
    """Parse 'N-name' pairs."""
    return {m[2]: int(m[1]) for m in PATTERN.finditer(text)}  # comment
