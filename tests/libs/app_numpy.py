# requires: numpy (python3-numpy)
"""numpy: arrays, linalg (LAPACK), fft, random Generator with a seed, save/load."""
import io

import numpy as np

a = np.arange(12, dtype=np.float64).reshape(3, 4)
print("sum", a.sum(), a.mean(axis=0).tolist())
m = np.array([[4.0, 1.0], [2.0, 3.0]])
print("solve", np.round(np.linalg.solve(m, [1.0, 2.0]), 6).tolist(), "eig", np.round(np.sort(np.linalg.eigvals(m)), 6).tolist())
print("fft", np.round(np.abs(np.fft.rfft([1.0, 0.0, -1.0, 0.0])), 6).tolist())
rng = np.random.default_rng(123)
print("rng", np.round(rng.normal(size=3), 6).tolist(), rng.integers(0, 10, 4).tolist())
buf = io.BytesIO()
np.savez_compressed(buf, a=a)
buf.seek(0)
print("npz", np.array_equal(np.load(buf)["a"], a), np.einsum("ij,ij->", a, a))
