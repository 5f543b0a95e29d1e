# requires: sympy (python3-sympy)
"""sympy: symbols, simplify, solve, diff/integrate, series, matrices, lambdify with numpy."""
import sympy as sp

x, y = sp.symbols("x y")
e = (x + 1) ** 3
print(sp.expand(e), sp.factor(x ** 2 - 4))
print(sp.solve(x ** 2 - 5 * x + 6, x), sp.solve([x + y - 3, x - y - 1], [x, y]))
print(sp.diff(sp.sin(x) * x, x), sp.integrate(sp.exp(-x), (x, 0, sp.oo)))
print(sp.series(sp.cos(x), x, 0, 6))
M = sp.Matrix([[1, 2], [3, 4]])
print(M.det(), M.inv(), M.eigenvals())
print(sp.simplify(sp.sin(x) ** 2 + sp.cos(x) ** 2), sp.latex(sp.sqrt(x) / y))
f = sp.lambdify(x, sp.sin(x) + x ** 2, "numpy")
print(round(float(f(1.0)), 8), sp.N(sp.pi, 20), sp.isprime(2 ** 31 - 1))
