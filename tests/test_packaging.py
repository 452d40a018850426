"""The distribution: an sdist that holds its own tests, and a wheel that works installed
in a fresh virtual environment outside the source tree (the CLI, ``python -m``, the
shipped schemas and seed question, and the pytest plugin), built without warnings."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
from pathlib import Path

import pytest

import derivcheck

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "out", "__pycache__",
                              "*.egg-info", ".hypothesis", ".pytest_cache")


def run(*argv, cwd, env=None, timeout=300):
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def clean_env() -> dict:
    """The environment without this checkout on PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_one_version_and_spdx_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in meta and "version" in meta["dynamic"]
    assert meta["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert meta["classifiers"] and meta["keywords"]


def test_the_seed_question_in_the_package_is_the_one_in_examples():
    from derivcheck.examples import example_path
    assert example_path("seed").read_text() == (ROOT / "examples" / "seed_003.toml").read_text()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(unpacked sdist, fresh venv with the wheel built from that sdist, build output)."""
    tmp = tmp_path_factory.mktemp("dist")
    tree = tmp / "tree"
    shutil.copytree(ROOT, tree, ignore=SKIP, symlinks=True)
    log = run(sys.executable, "-c", "from setuptools import build_meta as b; "
              "print(b.build_sdist('dist'))", cwd=tree, env=clean_env())
    sdist = next((tree / "dist").glob("derivcheck-*.tar.gz"))
    log += run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "-w", tmp / "wheels", sdist, cwd=tmp, env=clean_env())
    wheel = next((tmp / "wheels").glob("derivcheck-*.whl"))
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    py = venv / "bin" / "python"
    site = run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
               cwd=tmp).strip()
    # the dependencies (sympy, pytest, ...) from this environment, not derivcheck itself:
    # a .pth path line adds the directory without running its .pth files (the editable
    # install of the checkout)
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    log += run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", wheel,
               cwd=tmp, env=clean_env())
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "sdist", filter="data")
    return next((tmp / "sdist").iterdir()), venv, log


def test_building_prints_no_warnings(built):
    log = built[2]
    assert not re.search(r"(?i)deprecat|warning", log), log


def test_the_sdist_is_self_contained(built):
    unpacked = built[0]
    for path in ("tests/conftest.py", "tests/oracle/test_pytest_plugin.py", "LICENSE",
                 "examples/seed_003.toml", "examples/xor_numpy.py", "benchmarks/soundness.py",
                 "templates/sheet.tex", "derivcheck/schemas/check.schema.json", "Makefile"):
        assert (unpacked / path).is_file(), path


def test_the_installed_wheel_is_used_outside_the_tree(built, tmp_path):
    venv = built[1]
    where = run(venv / "bin" / "python", "-P", "-c", "import derivcheck, sys; "
                "print(derivcheck.__file__, derivcheck.__version__)", cwd=tmp_path,
                env=clean_env())
    assert where.startswith(str(venv)) and where.split()[1] == derivcheck.__version__
    out = run(venv / "bin" / "derivcheck", "check", "--weights", "w1", "--act", "relu",
              "--format", "json", "(relu(w1*x) - y)*step(w1*x)*x", cwd=tmp_path, env=clean_env())
    assert '"equivalent"' in out
    assert "derivcheck" in run(venv / "bin" / "python", "-m", "derivcheck", "--version",
                               cwd=tmp_path, env=clean_env())
    assert "[[formulas]]" in run(
        venv / "bin" / "python", "-P", "-c", "from derivcheck.examples import example_path;"
        "from derivcheck import schemas; schemas.schema('check');"
        "print(example_path('seed').read_text())", cwd=tmp_path, env=clean_env())


def test_the_sdist_tests_pass_against_the_installed_wheel(built):
    unpacked, venv, _ = built
    shutil.rmtree(unpacked / "derivcheck")  # only the installed copy can be imported
    out = run(venv / "bin" / "python", "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider",
              "--import-mode=importlib", "tests/app/test_cli.py",
              "tests/oracle/test_pytest_plugin.py", "tests/schemas/test_schemas.py",
              cwd=unpacked, env=clean_env())
    assert re.search(r"\d+ passed", out) and "failed" not in out
