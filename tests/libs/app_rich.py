# requires: rich (python3-rich)
"""rich: a Console recording to a StringIO, a Table, markup, Syntax (pygments), a Tree, Markdown, a Panel."""
import io

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

con = Console(file=io.StringIO(), width=60, color_system="truecolor", force_terminal=True, record=True)
t = Table(title="Planets")
t.add_column("name")
t.add_column("moons", justify="right")
for n, m in [("Earth", 1), ("Mars", 2)]:
    t.add_row(n, str(m))
con.print(t)
con.print("[bold red]alert[/] and [link=https://x.test]link[/link]")
con.print(Syntax("def f(x):\n    return x + 1\n", "python", theme="monokai"))
tree = Tree("root")
tree.add("a").add("b")
con.print(tree)
con.print(Markdown("# Head\n\n* one\n* **two**\n\n```python\nx = 1\n```"))
con.print(Panel("boxed", title="p"))
print(con.export_text())
print(len(con.file.getvalue()) > 500, "\x1b[" in con.file.getvalue())
