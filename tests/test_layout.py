"""Where code goes (README, "What is where"): widgets/ is UI only, and nothing else needs it."""

import subprocess
import sys

IMPORT_ALL_BUT_WIDGETS = """
import importlib, pkgutil, sys

def walk(package):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name not in ("dlcore.widgets", "dlcore.tools"):
            module = importlib.import_module(info.name)
            if info.ispkg:
                walk(module)

import dlcore
walk(dlcore)
print(sorted(m for m in ("ipywidgets", "dlcore.widgets") if m in sys.modules))
"""


def test_no_experiment_imports_ipywidgets():
    """Every module outside widgets/ (and the course tools, which drive the widgets) imports without them."""
    result = subprocess.run([sys.executable, "-c", IMPORT_ALL_BUT_WIDGETS], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"imported by a module outside dlcore/widgets: {result.stdout.strip()}"
