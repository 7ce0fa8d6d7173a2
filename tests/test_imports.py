"""Every module imports on its own, whichever is imported first.

Import cycles depend on which module a process imports first (``stackspec`` → ``kinds`` →
``backends.binaries`` → ``backends/__init__`` → ``stackspec`` failed only when a command started
from ``analysis.configdiff``), so each module is imported first once, in a fresh interpreter
state (every ``alertdrill`` module dropped from ``sys.modules`` in between).
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

SCRIPT = r"""
import importlib, pkgutil, sys, traceback
import alertdrill
names = sorted(m.name for m in pkgutil.walk_packages(alertdrill.__path__, "alertdrill.")
               if not m.name.endswith("__main__"))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "alertdrill" or m.startswith("alertdrill.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print(len(names))
print("\n".join(failed))
"""


def test_every_module_imports_first() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    count, *failed = done.stdout.strip().splitlines()
    assert int(count) > 100, "every module of the package was tried"
    assert failed == [], "\n".join(failed)
