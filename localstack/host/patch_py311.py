"""Make localstack-core 4.13.1 importable on Python 3.11 (run by make localstack-host).

localstack/packages/api.py annotates ``install_lock: Lock | None``. On 3.11
``threading.Lock`` is a factory function, not a class, so evaluating ``Lock | None``
at import raises TypeError. Quoting the annotation defers it. Idempotent: a second
run finds the quoted form and changes nothing; a changed upstream file fails loudly.
"""

import importlib.util
import pathlib
import sys

spec = importlib.util.find_spec("localstack")
path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "packages" / "api.py"
old, new = "install_lock: Lock | None = None", 'install_lock: "Lock | None" = None'
text = path.read_text()
if new in text:
    print(f"{path}: already patched")
elif text.count(old) == 1:
    path.write_text(text.replace(old, new))
    for pyc in (path.parent / "__pycache__").glob("api.*.pyc"):
        pyc.unlink()
    print(f"{path}: patched {old!r} -> {new!r}")
else:
    sys.exit(f"{path}: expected exactly one {old!r}; localstack-core changed, review the patch")
