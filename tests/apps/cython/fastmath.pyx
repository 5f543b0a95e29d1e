# cython: language_level=3
cimport cython
from libc.math cimport sqrt


cdef double _norm(double[:] v):
    cdef double s = 0
    cdef Py_ssize_t i
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    return sqrt(s)


@cython.boundscheck(False)
def norm(double[:] v):
    """Euclidean norm of a vector."""
    return _norm(v)


cpdef int fib(int n):
    cdef int a = 0, b = 1, i
    for i in range(n):
        a, b = b, a + b
    return a


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"
