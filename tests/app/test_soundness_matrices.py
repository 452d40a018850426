"""The matrix soundness run: a quick run has no wrong verdict, and its verifier, which
never uses derivcheck's evaluators, catches planted false verdicts."""
from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

import derivcheck
from derivcheck.decide.verdict import Result

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name):
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sm = _load("soundness_matrices")
mc = sm.mc


def _case(net, key, mutation="same", seed=3):
    """A formula of ``net`` for dJ/d``key`` under ``mutation``: (tree, text)."""
    rng = random.Random(seed)
    name, node = mc.formula(net, key, rng)
    node = mc.mutate(net, key, node, mutation, rng)
    return node, f"{name} = {mc.text(net, node, rng)}"


def _planted(verdict, **fields):
    return Result(verdict=verdict, wrt="", candidate="", gradient="", method="identity_test",
                  kink_convention="any", **fields)


NG = mc.Net(["n0", "n1", 1], ["tanh", "sigmoid"], "bce", "m", True, "mean", "ng")
RELU = mc.Net(["D", "H", 3], ["relu", "identity"], "cross_entropy", "m", True, "mean", "cs231n")


def test_formulas_read_as_courses_write_them():
    assert _case(NG, ("W", 1))[1] in ("dW1 = 1/m * (dZ1 @ X.T)", "dW1 = (dZ1 @ X.T) / m",
                                      "dW1 = 1/m * (np.dot(dZ1, X.T))",
                                      "dW1 = (np.dot(dZ1, X.T)) / m")
    assert _case(RELU, ("W", 2))[1] in ("dW2 = A1.T @ dscores", "dW2 = np.dot(A1.T, dscores)")


@pytest.mark.parametrize("mutation", ["sign_flip", "missing_mean", "hardcoded_size",
                                      "drop_mask"])
def test_a_planted_false_equivalent_is_caught(mutation):
    net, key = (RELU, ("Z", 1)) if mutation == "drop_mask" else (NG, ("W", 1))
    node, text = _case(net, key, mutation)
    real = derivcheck.check(net.derivcheck_net(), text)
    assert real.verdict == "not_equivalent", text          # derivcheck itself is right
    fake = _planted("equivalent", method_detail=real.method_detail)
    assert sm.verify(fake, net, node, key, random.Random(1), Counter()) is not None


def test_a_planted_equivalent_that_differs_only_at_kinks_is_caught():
    """(Z1 > 0) for ReLU's derivative is right off the kinks only."""
    node, text = _case(RELU, ("Z", 1))
    assert "> 0" in text
    real = derivcheck.check(RELU.derivcheck_net(), text)
    assert real.verdict == "equivalent_almost_everywhere"
    assert sm.verify(real, RELU, node, ("Z", 1), random.Random(2), Counter()) is None
    fake = _planted("equivalent", method_detail=real.method_detail)
    wrong = sm.verify(fake, RELU, node, ("Z", 1), random.Random(2), Counter())
    assert wrong and "kink" in wrong


def test_a_planted_counterexample_that_shows_no_difference_is_caught():
    right, _ = _case(NG, ("W", 1))
    _, wrong_text = _case(NG, ("W", 1), "sign_flip")
    real = derivcheck.check(NG.derivcheck_net(), wrong_text)
    tally = Counter()
    fake = _planted("not_equivalent", counterexample=real.counterexample)
    assert "no difference" in sm.verify(fake, NG, right, ("W", 1), random.Random(1), tally)
    assert tally["compared"] > 0


def test_planted_invalid_targets_are_caught():
    _, wrong_text = _case(RELU, ("W", 2), "sign_flip")
    real = derivcheck.check(RELU.derivcheck_net(), wrong_text)
    w = real.counterexample
    w.matrices = dict(w.matrices, Y=[[v / 2 for v in row] for row in w.matrices["Y"]])
    node, _ = _case(RELU, ("W", 2), "sign_flip")
    assert "not valid" in sm.verify(real, RELU, node, ("W", 2), random.Random(1), Counter())


@pytest.mark.slow
def test_matrix_soundness_quick_run(capsys):
    assert sm.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "WRONG verdicts: 0" in out
    m = re.search(r"(\d+) entry comparisons by sympy.diff at exact points, (\d+) by torch "
                  r"autograd at larger sizes, (\d+) not evaluable; the verdict's own evidence "
                  r"confirmed in (\d+) of (\d+) decided", out)
    exact, by_torch, lost, confirmed, decided = map(int, m.groups())
    assert exact > 100 and by_torch > 0 and lost <= exact // 20
    assert confirmed == decided >= 20, m.group(0)
