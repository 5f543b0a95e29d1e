# requires: cachetools (python3-cachetools)
"""cachetools: LRU/TTL caches with a fake timer, the cached decorator with keys."""
from cachetools import LFUCache, LRUCache, TTLCache, cached, keys

lru = LRUCache(maxsize=2)
lru["a"], lru["b"] = 1, 2
_ = lru["a"]
lru["c"] = 3
print(sorted(lru.items()))
now = [0]
ttl = TTLCache(maxsize=10, ttl=5, timer=lambda: now[0])
ttl["x"] = 1
now[0] = 10
print("x" in ttl, len(ttl))
calls = []


@cached(cache=LFUCache(maxsize=4), key=keys.hashkey)
def sq(n):
    calls.append(n)
    return n * n


print([sq(i % 3) for i in range(6)], calls)
