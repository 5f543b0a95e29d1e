# requires: more_itertools (python3-more-itertools)
"""more-itertools: chunked, windowed, partition, unique_everseen, bucket, spy."""
import more_itertools as mi

print(list(mi.chunked(range(7), 3)), list(mi.windowed("abcd", 2)))
evens, odds = mi.partition(lambda x: x % 2, range(8))
print(list(evens), list(odds), list(mi.unique_everseen("AAAABBBCCDAABBB")))
b = mi.bucket(["a1", "b1", "a2"], key=lambda s: s[0])
print(list(b["a"]), mi.first([], default="none"), list(mi.flatten([[1], [2, 3]])))
head, it = mi.spy(range(5), 2)
print(head, list(it), mi.nth_or_last([1, 2], 9), list(mi.distinct_permutations("aab")))
