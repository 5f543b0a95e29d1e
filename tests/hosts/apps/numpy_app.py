"""numpy on the host: arrays, linalg (BLAS/LAPACK), fft, random with a seed."""
import numpy as np

a = np.arange(12.0).reshape(3, 4)
print(a.sum(), np.linalg.norm(a), np.fft.fft(np.ones(4)).real.tolist())
m = np.array([[4.0, 1.0], [2.0, 3.0]])
print(np.round(np.linalg.solve(m, [1.0, 2.0]), 6).tolist(), np.round(np.sort(np.linalg.eigvals(m)), 6).tolist())
print((m @ m).tolist(), np.random.default_rng(13).integers(0, 100, 5).tolist())
