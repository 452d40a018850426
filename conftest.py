"""Repository-wide pytest policy: under CI (``CI=true``, as .ci/run runs), a skipped test
fails the run unless it carries ``@pytest.mark.may_skip(reason)``. CI installs torch, jax
and pdflatex, so a skip there means a missing install or a test hiding a missing feature,
and "3 passed, 2000 skipped" must not pass."""
import os

import pytest

_UNEXPECTED: list = []


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_runtest_logreport(report):
    if report.skipped and "may_skip" not in report.keywords and _ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        _UNEXPECTED.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter):
    if _UNEXPECTED:
        terminalreporter.section("unexpected skips (CI=true)", red=True)
        for line in _UNEXPECTED:
            terminalreporter.line(line)


def pytest_sessionfinish(session, exitstatus):
    if _UNEXPECTED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
