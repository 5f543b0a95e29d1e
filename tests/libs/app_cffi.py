# requires: cffi (python3-cffi)
"""cffi: ABI mode dlopen of libc, cdef, new/cast/string, callbacks."""
from cffi import FFI

ffi = FFI()
ffi.cdef("""
size_t strlen(const char *);
int snprintf(char *, size_t, const char *, ...);
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
""")
C = ffi.dlopen(None)
print(C.strlen(b"hello cffi"))
buf = ffi.new("char[64]")
C.snprintf(buf, 64, b"%d-%s", ffi.cast("int", 42), ffi.new("char[]", b"x"))
print(ffi.string(buf))


@ffi.callback("int(const void *, const void *)")
def cmp(a, b):
    x, y = ffi.cast("int *", a)[0], ffi.cast("int *", b)[0]
    return (x > y) - (x < y)


arr = ffi.new("int[]", [5, 3, 9, 1])
C.qsort(arr, 4, ffi.sizeof("int"), cmp)
print(list(arr), ffi.sizeof("long"), ffi.typeof("int[4]").length)
