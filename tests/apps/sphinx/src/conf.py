project = "Widget"
author = "The Widget Team"
copyright = "2020, The Widget Team"
extensions = ["sphinx.ext.todo", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
todo_include_todos = True
import os, sys
sys.path.insert(0, os.path.abspath("."))
