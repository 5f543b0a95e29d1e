# -*- coding: utf-8 -*-
s = f'{x!r:>{w}} {"import a"}' f"{'{'}" rb'\q' '''import b'''
try:
    import c.d as e, f
except ImportError:
    from .. import g
if __name__ == '__main__':
    __import__('h.i')
x = (1,
  2) \
  ; from j import (k as l, m,)
def f():
	import importlib; importlib.import_module("n")
match x:
    case 1:
        from o import *
