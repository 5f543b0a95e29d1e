# requires: scipy (python3-scipy)
"""scipy: linalg, optimize, sparse (+ sparse.linalg), integrate, interpolate, stats, special, fft, signal."""
import numpy as np
from scipy import fft, integrate, interpolate, linalg, optimize, signal, sparse, special, stats
from scipy.sparse.linalg import spsolve

A = np.array([[4.0, 2.0, 0.0], [2.0, 5.0, 1.0], [0.0, 1.0, 3.0]])
print("lu", np.round(linalg.lu_factor(A)[0][0], 6).tolist(), "det", round(linalg.det(A), 6))
print("cho", np.round(linalg.cholesky(A)[0], 6).tolist(), "expm", round(float(linalg.expm(np.eye(2))[0, 0]), 6))
r = optimize.minimize(optimize.rosen, [1.3, 0.7, 0.8], method="L-BFGS-B")
print("minimize", np.round(r.x, 4).tolist(), r.success)
print("brentq", round(optimize.brentq(lambda x: x ** 3 - 2, 0, 2), 8))
S = sparse.csr_matrix(A)
print("sparse", S.nnz, np.round(spsolve(S.tocsc(), np.array([1.0, 2.0, 3.0])), 6).tolist())
print("quad", round(integrate.quad(np.sin, 0, np.pi)[0], 8))
sol = integrate.solve_ivp(lambda t, y: -y, (0, 1), [1.0], rtol=1e-8, atol=1e-10)
print("ivp", round(float(sol.y[0, -1]), 6))
print("interp", round(float(interpolate.CubicSpline([0, 1, 2, 3], [0, 1, 8, 27])(1.5)), 6))
print("stats", round(stats.norm.cdf(1.0), 8), round(stats.ttest_ind([1, 2, 3, 4], [2, 3, 4, 5]).pvalue, 6))
print("special", round(float(special.gamma(5.5)), 6), round(float(special.erf(0.5)), 8))
print("fft", np.round(np.abs(fft.fft([1, 2, 3, 4])), 6).tolist())
b, a = signal.butter(2, 0.25)
print("signal", np.round(b, 6).tolist())
