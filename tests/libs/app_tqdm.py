# requires: tqdm (python3-tqdm)
"""tqdm: progress bars written to a StringIO, trange, manual update, format_meter, tqdm.contrib."""
import io

from tqdm import tqdm, trange
from tqdm.contrib import tenumerate

buf = io.StringIO()
total = sum(x for x in tqdm(range(100), file=buf, mininterval=0, ascii=True))
print("sum", total, "100/100" in buf.getvalue())
b2 = io.StringIO()
with tqdm(total=10, file=b2, desc="work", ascii=True) as bar:
    for _ in range(5):
        bar.update(2)
print("n", bar.n, "work" in b2.getvalue())
print(tqdm.format_meter(50, 100, 10, ncols=60, ascii=True))
print(list(trange(3, file=io.StringIO())), list(tenumerate("ab", file=io.StringIO())))
