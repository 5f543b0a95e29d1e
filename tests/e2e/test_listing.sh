#!/usr/bin/env bash
# Code that looks at its own package, run in the no-Python sandbox, must see
# what plain python sees (the build machine's __pycache__ aside):
#   pkgutil.iter_modules(pkg.__path__) and walk_packages    the bundled modules
#   importlib.resources.files(pkg): iterdir, is_dir, is_file, read_bytes,
#     read_text, joinpath of data in a sub-package nothing imports
#   a plugin package whose code lists its directory with os.listdir(__file__'s
#     dir) and imports what it finds by a computed name: shipped as files,
#     __file__ names its real .py
#   pkg_resources.resource_string / resource_listdir / resource_isdir
#   data in a sub-package nobody imports, read by path from __file__
#   a package whose __path__ points at another package's directory: its
#     submodules are found there, as the path-based finder finds them
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
mkwork listing
cd "$WORK" || exit 1
[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 (Debian's python3) on this machine"
E2E_PYTHON=/usr/bin/python3
find_python
need_sandbox

mkdir -p app/shop/plugins app/shop/data/words app/shop/sub
cat >app/shop/__init__.py <<'PY'
PY
echo 'alpha' >app/shop/data/words/a.txt
echo 'beta' >app/shop/data/words/b.txt
: >app/shop/data/__init__.py
: >app/shop/data/words/__init__.py
cat >app/shop/sub/__init__.py <<'PY'
import pkgutil
def tools():
    return sorted(m.name for m in pkgutil.walk_packages(__path__, __name__ + "."))
PY
cat >app/shop/sub/tool.py <<'PY'
X = 1
PY
cat >app/shop/cart.py <<'PY'
import os
def words():
    here = os.path.join(os.path.dirname(__file__), "data", "words")
    return sorted(open(os.path.join(here, n)).read().strip() for n in os.listdir(here) if n.endswith(".txt"))
PY
cat >app/shop/plugins/__init__.py <<'PY'
import importlib, os

def load():
    found = []
    for name in sorted(os.listdir(os.path.dirname(__file__))):
        if name.endswith(".py") and name != "__init__.py":
            mod = importlib.import_module(__name__ + "." + name[:-3])
            found.append((mod.NAME, os.path.basename(mod.__file__)))
    return found
PY
echo 'NAME = "csv"' >app/shop/plugins/csv_out.py
echo 'NAME = "json"' >app/shop/plugins/json_out.py
mkdir -p app/realpkg app/alias_pkg
: >app/realpkg/__init__.py
echo 'NAME = __name__' >app/realpkg/impl.py
cat >app/alias_pkg/__init__.py <<'PY'
import os
__path__ = [os.path.join(os.path.dirname(os.path.dirname(__file__)), "realpkg")]
PY
cat >app/main.py <<'PY'
import importlib.resources as ir
import pkgutil
import shop, shop.cart, shop.plugins, shop.sub
import realpkg.impl
import alias_pkg.impl
print("redirect", alias_pkg.impl.NAME, alias_pkg.impl is realpkg.impl)

# a package's modules are files on disk only where its own code lists its
# directory (the plugins); elsewhere importlib.resources shows its data
def clean(names):
    return sorted(n for n in names if n != "__pycache__" and not n.endswith((".pyc", ".py")))

print("iter_modules", sorted(m.name for m in pkgutil.iter_modules(shop.__path__)))
print("walk", shop.sub.tools())
root = ir.files("shop")
print("files", clean(p.name for p in root.iterdir() if p.is_file()))
data = root.joinpath("data").joinpath("words")
print("is_dir", data.is_dir(), root.joinpath("data").is_dir(), root.joinpath("nothing").exists())
print("data", clean(p.name for p in data.iterdir()), data.joinpath("a.txt").read_text().strip(),
      data.joinpath("b.txt").read_bytes())
print("words", shop.cart.words())
print("plugins", shop.plugins.load())
import pkg_resources
print("pkg_resources", pkg_resources.resource_string("shop.data.words", "a.txt"),
      clean(pkg_resources.resource_listdir("shop", "data/words")), pkg_resources.resource_isdir("shop", "data"))
PY

want=$(cd app && env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$PY" -s -E main.py) || fail "plain python failed"
build_app app/main.py --no-marathon -v
assert_contains "$BUILD_ERR" "package shop goes to disk as files" "bundle -v"
rc=0
got=$(run_sandboxed --timeout 60 dist/main </dev/null 2>"$WORK/err") || rc=$?
assert_status 0 "$rc" "exit status (stderr: $(cat "$WORK/err"))"
assert_eq "$want" "$got" "what the bundle sees of its own packages"
pass
