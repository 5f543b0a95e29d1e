# requires: sortedcontainers (python3-sortedcontainers)
"""sortedcontainers: SortedList, SortedDict, SortedSet operations."""
from sortedcontainers import SortedDict, SortedList, SortedSet

sl = SortedList([5, 1, 4, 1, 9])
sl.add(3)
print(sl, sl.bisect_left(4), list(sl.irange(2, 5)), sl[-1])
sd = SortedDict({"b": 2, "a": 1, "c": 3})
print(sd, sd.peekitem(0), sd.bisect_right("b"), list(sd.irange("a", "b")))
ss = SortedSet("hello world")
print(ss, ss | SortedSet("xyz"), ss.index("o"))
