"""Every public kernel and module of dlcore.scratch has property tests (tests/test_properties_*.py).

Public means exported in a module's ``__all__``. Records (NamedTuple caches, dataclasses of results) and
constants are data, tested through the functions that return them; every function and every other
class must be named in some property module's ``covers(...)``. Names not yet covered are listed in
tests/property_pending.py, which may only shrink: a pending name that gains a property test must leave
the list, and the list names no object that does not exist.
"""

import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import dlcore.scratch
from tests.property_kit import COVERED
from tests.property_pending import PENDING

PROPERTY_MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_properties_*.py") if p.stem != Path(__file__).stem)


def public_kernels() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(dlcore.scratch.__path__):
        module = importlib.import_module(f"dlcore.scratch.{info.name}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and (issubclass(obj, tuple) or dataclasses.is_dataclass(obj)):
                continue  # a record
            if not callable(obj):
                continue  # a constant or a table
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_public_kernel_and_module_has_property_tests():
    for name in PROPERTY_MODULES:
        importlib.import_module(f"tests.{name}")  # each registers what it covers
    public = public_kernels()
    assert len(public) > 200, "the scan found too few public names: is dlcore.scratch importable?"
    missing = sorted(set(public) - COVERED - PENDING)
    assert not missing, f"public names with no property test: {missing}"
    stale = sorted(PENDING & COVERED)
    assert not stale, f"these now have property tests; remove them from tests/property_pending.py: {stale}"
    unknown = sorted(PENDING - set(public))
    assert not unknown, f"tests/property_pending.py names objects that are not public kernels: {unknown}"
