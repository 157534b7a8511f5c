import subprocess
import sys
from pathlib import Path

import tracking.localization

SCRIPT = """
import importlib, pkgutil, sys
import tracking.localization as pkg
for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    importlib.import_module(m.name)
print(sorted(n for n in sys.modules if n == "django" or n.startswith("django.")))
"""


def test_it_imports_every_localization_module_without_django() -> None:
    root = Path(tracking.localization.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
