# requires: packaging (python3-packaging)
"""packaging: versions, specifiers, requirements with markers, tags."""
from packaging import tags
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

print(sorted(["1.10", "1.2", "1.2rc1", "1.2.post1"], key=Version))
print(list(SpecifierSet(">=1.0,!=1.3,<2").filter(["0.9", "1.0", "1.3", "1.9", "2.0"])))
r = Requirement('requests[socks]>=2.0; python_version >= "3.6"')
print(r.name, r.extras, r.specifier, r.marker.evaluate({"python_version": "3.11"}))
print(Marker('os_name == "posix" and extra == "x"').evaluate({"os_name": "posix", "extra": "x"}))
t = next(iter(tags.sys_tags()))
print(t.interpreter, t.abi.startswith("cp3"), "linux" in t.platform)
