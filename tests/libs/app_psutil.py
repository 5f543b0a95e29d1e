# requires: psutil (python3-psutil)
"""psutil: the current process (its C extension reading /proc), system-wide counters as types only."""
import os

import psutil

p = psutil.Process()
print(p.pid == os.getpid(), p.status(), p.num_threads() >= 1, p.memory_info().rss > 0)
print(psutil.cpu_count() >= 1, isinstance(psutil.virtual_memory().total, int), psutil.boot_time() > 0)
print(sorted(psutil.disk_usage("/")._fields), [f for f in psutil.cpu_times()._fields][:3])
print(psutil.pid_exists(os.getpid()), type(psutil.net_if_addrs()).__name__, psutil.LINUX)
