# requires: tabulate (python3-tabulate)
"""tabulate: tables in several formats."""
from tabulate import tabulate

rows = [["Sun", 696000, 1989100000], ["Earth", 6371, 5973.6], ["Moon", 1737, 73.5]]
for fmt in ("plain", "grid", "github", "latex", "html"):
    print(tabulate(rows, headers=["Planet", "R (km)", "mass"], tablefmt=fmt, floatfmt=".1f"))
