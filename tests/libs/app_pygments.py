# requires: pygments (python3-pygments)
"""Pygments: lexers looked up by name, alias and file name, guess_lexer, HTML/terminal/LaTeX formatters, styles by name."""
from pygments import highlight, lex
from pygments.formatters import get_formatter_by_name
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename, guess_lexer
from pygments.styles import get_style_by_name

code = "def f(x):\n    return x * 2  # double\n"
for name in ("python", "rust", "yaml", "sql", "bash"):
    lx = get_lexer_by_name(name)
    print(name, lx.name, len(list(lex(code, lx))))
print(get_lexer_for_filename("x.go").name, get_lexer_for_filename("Makefile").name, guess_lexer("<?php echo 1; ?>").name)
print(highlight(code, get_lexer_by_name("python"), get_formatter_by_name("html", style="monokai", noclasses=True))[:120])
print(repr(highlight("x = 1", get_lexer_by_name("python"), get_formatter_by_name("terminal256", style="friendly"))))
print(highlight("a", get_lexer_by_name("text"), get_formatter_by_name("latex")).splitlines()[0])
print(get_style_by_name("solarized-dark").background_color, get_style_by_name("emacs").name if hasattr(get_style_by_name("emacs"), "name") else "emacs")
