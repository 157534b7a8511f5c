"""The engine side of the pipeline never imports Django: it can be replayed and benchmarked without a database."""

import subprocess
import sys
from pathlib import Path

PURE = ["tracking.pipeline.layout", "tracking.pipeline.windows", "tracking.pipeline.engine",
        "tracking.pipeline.floorchoice", "tracking.pipeline.events"]
SCRIPT = f"""
import importlib, sys
for name in {PURE!r}:
    importlib.import_module(name)
print(sorted(n for n in sys.modules if n == "django" or n.startswith("django.")))
"""


def test_it_imports_the_engine_modules_without_django() -> None:
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
