"""The command line keeps its promises (issue 17): ``python -m derivcheck``, formulas that
start with '-', ``--wrt`` inferred, help for every option, MLP names explained."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derivcheck.app.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
ONE = ["--weights", "w1", "--act", "relu"]
MLP = ["--widths", "2,3,1", "--act", "relu,identity"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_dash_m_derivcheck_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "derivcheck", "check", *ONE,
                           "(relu(w1*x) - y)*step(w1*x)*x"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and done.stdout.startswith("equivalent")


@pytest.mark.parametrize("formula, code", [
    ("-(y - relu(w1*x))*step(w1*x)*x", 0), ("-(y-relu(w1*x))*x", 1), ("-x", 1)])
def test_a_formula_may_start_with_a_minus(capsys, formula, code):
    c, out, err = run(capsys, "check", *ONE, "--wrt", "w1", "--format", "json", formula)
    assert c == code, err
    assert json.loads(out)["verdict"] != "error"


def test_a_formula_starting_with_a_minus_may_come_before_options(capsys):
    c, out, _ = run(capsys, "check", *ONE, "-(y - relu(w1*x))*step(w1*x)*x", "--wrt", "w1")
    assert c == 0 and out.startswith("equivalent")


def test_parse_reads_a_formula_starting_with_a_minus(capsys):
    c, out, _ = run(capsys, "parse", "-x*w1")
    assert c == 0 and out.splitlines()[1].strip() in ("-w1*x", "-x*w1")


def test_wrt_is_inferred_for_a_one_parameter_network(capsys):
    c, out, _ = run(capsys, "check", *ONE, "--format", "json", "(relu(w1*x) - y)*step(w1*x)*x")
    assert c == 0 and json.loads(out)["wrt"] == "w1"


def test_wrt_is_still_asked_for_when_it_is_ambiguous(capsys):
    c, _, err = run(capsys, "check", "--weights", "w1,w2", "--act", "relu", "x")
    assert c == 2 and "--wrt" in err


def _options(command: str) -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "check" in a.choices)
    return {o: a for a in sub.choices[command]._actions for o in a.option_strings}


@pytest.mark.parametrize("command, option", [
    ("check", "--kink-convention"), ("gradient", "--kink-convention"),
    ("sheet", "--kink-convention"), ("vectors", "--kink-convention"),
    ("vectors", "--points"), ("vectors", "--seed"), ("parse", "--latex"),
    ("check", "--latex"), ("sheet", "--assume"), ("run", "--example")])
def test_every_option_has_help(command, option):
    assert (_options(command)[option].help or "").strip()


def test_vectors_help_says_its_default_differs_from_check():
    text = build_parser()._subparsers._group_actions[0].choices["vectors"].format_help()
    flat = " ".join(text.split())
    assert "default: torch" in flat and "check defaults to any" in flat


def test_help_explains_the_mlp_index_order():
    text = " ".join(build_parser()._subparsers._group_actions[0].choices["check"]
                    .format_help().split())
    assert "W0_ij join input i to unit j" in text


def test_a_swapped_mlp_index_is_explained(capsys):
    c, _, err = run(capsys, "check", *MLP, "--wrt", "W1_11", "W1_12*x1")
    assert c == 2
    assert "did you mean: W1_21?" in err and "indices are input, unit" in err


def test_delta_suggests_the_loss_derivative_names(capsys):
    c, _, err = run(capsys, "check", "--weights", "w1,w2", "--act", "relu", "--wrt", "w1",
                    r"\delta_2 x")
    assert c == 2 and "did you mean: dC/dz2?" in err and "dC/dz" in err


def test_run_example_seed_needs_no_file(capsys, tmp_path):
    c, out, _ = run(capsys, "run", "--example", "seed", "--out", str(tmp_path))
    assert c == 0 and "Seed 003" in out
