"""The repository's skip policy (conftest.py): under CI=true an unexpected skip fails the
run; a test marked ``may_skip`` may skip; outside CI skips are reported as usual."""
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

POLICY = (Path(__file__).resolve().parents[1] / "conftest.py").read_text()
TESTS = """
import pytest

def test_runs():
    assert True

def test_skips():
    pytest.skip("torch is not installed")
"""


def _run(pytester, monkeypatch, ci, source=TESTS):
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(skip_policy=POLICY, test_some=source)
    pytester.syspathinsert()
    return pytester.runpytest("-p", "skip_policy", "test_some.py")


def test_an_unexpected_skip_fails_under_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unexpected skips (CI=true)*",
                                 "*test_skips: *torch is not installed*"])


def test_skips_are_fine_outside_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "")
    assert result.ret == pytest.ExitCode.OK


def test_a_skip_marked_may_skip_is_fine_under_ci(pytester, monkeypatch):
    source = TESTS.replace("def test_skips", "@pytest.mark.may_skip('no GPU here')\ndef test_skips")
    result = _run(pytester, monkeypatch, "true", source)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_failure_keeps_its_exit_status(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true", TESTS + "\ndef test_fails():\n    assert 0\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
