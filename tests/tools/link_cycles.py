#!/usr/bin/env python3
"""link_cycles.py OBJECT... - fails if the object files given depend on each
other in a cycle (issue 15: files depend one way).

A file depends on another when it uses a symbol the other defines (nm).
CMake passes the objects of a target ($<TARGET_OBJECTS:...>, separated by
semicolons or as separate arguments), so objects left in the build dir by
an older layout do not count.  Prints each cycle, exit 1.
"""
import collections
import subprocess
import sys


def graph(objects):
    defs, uses = {}, collections.defaultdict(set)
    for obj in sorted(objects):
        # CMakeFiles/TARGET.dir/stub/main.c.o -> stub/main
        name = obj.split(".dir/", 1)[-1].rsplit(".", 2)[0]
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRCV":
                defs.setdefault(f[2], name)
            elif len(f) == 2 and f[0] == "U":
                uses[name].add(f[1])
    g = collections.defaultdict(set)
    for name, syms in uses.items():
        g[name] |= {defs[s] for s in syms if s in defs and defs[s] != name}
    return g


def cycles(g):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main(argv):
    objects = [o for a in argv[1:] for o in a.split(";") if o]
    if not objects:
        sys.exit(__doc__)
    g = graph(objects)
    if not any(g.values()):
        sys.exit("link_cycles: no symbol is used across the %d objects given" % len(objects))
    found = cycles(g)
    for c in found:
        print("cycle: " + " <-> ".join(c))
    print("%d files, %d cycles" % (len(g), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
