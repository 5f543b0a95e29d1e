"""What a bundle must still do on a host whose glibc is older than the one
it carries (--carry-glibc): users and hosts from the host's /etc files, a
child shell that runs on the host's own libc with the environment the app
got, locale and codecs, sys.executable for multiprocessing's spawn.  Prints
the same lines under plain python."""
import codecs
import locale
import multiprocessing
import os
import pwd
import socket
import subprocess
import sys


def square(x):
    return x * x


def main():
    print("pwd:", pwd.getpwuid(0).pw_name, pwd.getpwnam("root").pw_uid)
    print("gethostbyname:", socket.gethostbyname("localhost"))
    print("getaddrinfo:", sorted({a[4][0] for a in socket.getaddrinfo("localhost", 80, socket.AF_INET)}))
    child = subprocess.run(
        ["/bin/sh", "-c", "env | grep -c '^LD_\\|^BUNDLE' ; echo \"$HOME $PATH\"; "
         "grep -o '/[^ ]*/libc[.-][^ ]*' /proc/self/maps | head -n 1"],
        capture_output=True, text=True).stdout.splitlines()
    loader_vars, home_path, libc = child
    mine = sum(k.startswith(("LD_", "BUNDLE")) for k in os.environ)
    print("child env is the app's:", loader_vars == str(mine), home_path == "%s %s" % (os.environ.get("HOME"), os.environ.get("PATH")))
    print("child libc is the host's:", "/glibc/" not in libc and "/proc/" not in libc and libc.startswith(("/lib", "/usr/lib")))
    print("locale:", locale.setlocale(locale.LC_ALL, "C.UTF-8"), "é".encode(locale.getpreferredencoding(False)))
    print("codecs:", codecs.lookup("latin-1").name, "ü".encode("cp1252"), "日本".encode("shift_jis"))
    print("executable is a file:", os.path.isfile(sys.executable) and "/proc/" not in sys.executable)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print("spawn:", pool.map(square, [1, 2, 3]))


if __name__ == "__main__":
    main()
