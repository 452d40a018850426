"""Every example of every ``--help`` and every console block of README.md runs, pasted
into bash as it is, against the real command; the README's sample output is the real
output (a line ending in '...' stands for the rest of that line)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derivcheck.app.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _parsers():
    parser = build_parser()
    yield "derivcheck", parser
    sub = next(a for a in parser._actions if a.choices and "check" in a.choices)
    yield from ((f"derivcheck {name}", p) for name, p in sub.choices.items())


def help_examples():
    """(command whose --help shows it, example line) for every example."""
    for name, parser in _parsers():
        text = parser.format_help()
        section = text.split("\nexamples:\n", 1)
        if len(section) < 2:
            continue
        for line in section[1].splitlines():
            if not line.startswith("  derivcheck "):
                break
            yield pytest.param(line.strip(), id=f"{name}: {line.strip()[:60]}")


def readme_sessions():
    """(command, expected output) for every ``$ derivcheck`` line of a console block."""
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```console\n(.*?)```", readme, re.S):
        sessions = re.split(r"^\$ ", block, flags=re.M)[1:]
        for session in sessions:
            command, _, output = session.partition("\n")
            yield pytest.param(command, output.rstrip("\n"), id=command[:60])


def bash(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` run by bash, with ``derivcheck`` this checkout's command."""
    script = f'derivcheck() {{ "{sys.executable}" -m derivcheck "$@"; }}\n{command}\n'
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    (cwd / "examples").exists() or (cwd / "examples").symlink_to(ROOT / "examples")
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_every_command_has_examples():
    shown = {name for name, p in _parsers() if "\nexamples:\n" in p.format_help()}
    assert shown >= {f"derivcheck {c}" for c in ("check", "gradient", "sheet", "vectors",
                                                 "parse", "run")}


@pytest.mark.parametrize("example", list(help_examples()))
def test_help_example_runs_as_pasted(example, tmp_path):
    done = bash(example, tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # a verdict, never an error
    assert "error" not in done.stderr.lower() and "Traceback" not in done.stderr


def test_readme_has_console_examples():
    assert len(list(readme_sessions())) >= 3


def _matches(expected: str, actual: str) -> bool:
    want, got = expected.splitlines(), actual.splitlines()
    return len(want) == len(got) and all(
        g.startswith(w[:-3]) if w.endswith("...") else g == w for w, g in zip(want, got))


@pytest.mark.parametrize("command, expected", list(readme_sessions()))
def test_readme_console_output_is_the_real_output(command, expected, tmp_path):
    done = bash(command, tmp_path)
    actual = (done.stdout + done.stderr).rstrip("\n")
    assert _matches(expected, actual), f"README shows:\n{expected}\n\nreal output:\n{actual}"
