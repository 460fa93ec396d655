"""Fixtures for the browser tests: one JupyterLab server and one Chromium per session.

The server serves copies of the notebooks in a scratch folder, never the
repository's own files. Everything started here is stopped at the end of the
session, also when a test fails. Screenshots and the server's log go to
test-artifacts/browser/.

Chromium missing is a failure with instructions, not a skip: CI must run these
tests. For a local run without a browser, DLCORE_SKIP_BROWSER_TESTS=1 skips them
(ignored when CI is set).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SKIP_ENV = "DLCORE_SKIP_BROWSER_TESTS"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser_available():
    if os.environ.get(SKIP_ENV) == "1" and not os.environ.get("CI"):
        pytest.skip(f"browser tests skipped by {SKIP_ENV}=1")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the browser tests need Playwright's Python package: run `make test` "
                    "(or `.venv/bin/pip install -e '.[test]'`)", pytrace=False)
    problem = server.chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def lab_server(browser_available, tmp_path_factory):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's screenshots only
    scratch = tmp_path_factory.mktemp("jupyterlab")
    # JupyterLab autosaves what it opens: it serves copies, from outside the repository.
    assert ROOT.resolve() not in scratch.resolve().parents, f"{scratch} is inside the repository"
    for folder in ("solutions", "chapters"):
        server.copy_notebooks(ROOT / folder, scratch / "root" / folder)
    lab = server.LabServer(scratch / "root", scratch / "state", scratch / "jupyterlab.log")
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if lab.log_path.exists():
            shutil.copy(lab.log_path, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="session")
def chromium(browser_available):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = server.launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def lab_page(request, chromium):
    """A fresh browser context (its own storage) and page; a screenshot is kept if the test fails."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        yield page
    finally:
        if getattr(request.node, "browser_test_failed", False):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "-").replace("[", "-").rstrip("]")
            try:
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=False)
            except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
                pass
        context.close()
