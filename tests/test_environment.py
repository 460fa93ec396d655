"""pyproject.toml is the source of the dependencies; environment.yml must agree with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def _pip_section(environment) -> list[str]:
    sections = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict) and "pip" in entry]
    assert len(sections) == 1, "environment.yml must have exactly one pip: section"
    return sections[0]


def test_environment_lists_exactly_the_pyproject_requirements():
    project = _pyproject()["project"]
    expected = {_normalise(r) for r in project["dependencies"]}
    expected |= {_normalise(r) for r in project["optional-dependencies"]["test"]}
    pip_lines = _pip_section(_environment())
    listed = {_normalise(line) for line in pip_lines if not line.startswith("-")}
    missing = sorted(expected - listed)
    extra = sorted(listed - expected)
    assert not missing and not extra, f"environment.yml is missing {missing} and has extra {extra}"


def test_environment_installs_the_course_package_itself():
    assert "-e ." in _pip_section(_environment())


def test_python_versions_agree():
    requires = _pyproject()["project"]["requires-python"]
    conda_python = [d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert conda_python == ["python=3.11"]
    assert ">=3.11" in requires and "<3.12" in requires


def test_torch_is_pinned_in_both():
    pins = [r for r in _pyproject()["project"]["dependencies"] if r.startswith("torch")]
    assert pins == ["torch==2.13.0"]
    assert "torch==2.13.0" in _pip_section(_environment())


def test_every_pyproject_requirement_is_importable_in_this_environment():
    """What the two files promise is what the tests actually run on."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(line)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            raise AssertionError(f"{requirement.name} is required by pyproject.toml but not installed") from None
        release = installed.split("+")[0]  # torch reports e.g. 2.13.0+cpu
        assert requirement.specifier.contains(release, prereleases=True), f"{requirement.name} {installed} does not satisfy {line}"
