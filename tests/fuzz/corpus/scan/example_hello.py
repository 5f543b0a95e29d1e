"""The smallest app: bundle --onefile examples/hello/hello.py && ./dist/hello"""
import sys


def main():
    print("hello from bundle")
    print(f"python {sys.version_info.major}.{sys.version_info.minor}, "
          f"frozen={bool(getattr(sys, 'frozen', False))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
