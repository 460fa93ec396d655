"""Public signatures of dlcore.scratch carry type hints (STYLE.md: "Type hints on public functions").

Checked module by module: each module listed here annotates every parameter and the return of every
public function and public method (``__init__`` needs no return) of the names in its ``__all__``.
"""

import importlib
import inspect

import pytest

ANNOTATED = ["rnn", "lstm", "gru", "char_lstm", "sequence_model", "jordan", "descent", "surfaces",
             "benchmark_surfaces"]


def unannotated(func) -> list[str]:
    """The parameters of ``func`` (and "return") that have no annotation."""
    signature = inspect.signature(func)
    missing = [name for name, parameter in signature.parameters.items()
               if name not in ("self", "cls") and parameter.annotation is inspect.Parameter.empty]
    if func.__name__ != "__init__" and signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def public_callables(module) -> dict[str, object]:
    found = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # re-exported from elsewhere: checked where it is defined
        if inspect.isfunction(obj):
            found[name] = obj
        elif inspect.isclass(obj) and not issubclass(obj, tuple):
            for attribute, value in vars(obj).items():
                if inspect.isfunction(value) and (attribute == "__init__" or not attribute.startswith("_")):
                    found[f"{name}.{attribute}"] = value
    return found


def test_the_check_finds_a_missing_annotation():
    def half(x: float, y) -> float:
        return x / 2

    def whole(x: float):
        return x

    assert unannotated(half) == ["y"] and unannotated(whole) == ["return"]


@pytest.mark.parametrize("name", ANNOTATED)
def test_every_public_signature_is_annotated(name):
    module = importlib.import_module(f"dlcore.scratch.{name}")
    callables = public_callables(module)
    assert callables, f"dlcore.scratch.{name} exports no function or class"
    missing = {qualname: gaps for qualname, func in callables.items() if (gaps := unannotated(func))}
    assert not missing, f"dlcore.scratch.{name}: signatures without type hints: {missing}"
