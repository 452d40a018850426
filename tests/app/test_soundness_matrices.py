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
from derivcheck.decide.verdict import Diagnosis, Result

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
ms = sm.ms


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
SOFT = mc.Net(["n0", "n1", 3], ["relu", "softmax"], "cross_entropy", "m", True, "mean", "ng")


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


def test_a_planted_counterexample_entry_that_does_not_differ_is_caught():
    """Softmax's derivative taken elementwise agrees where y = 1: naming that entry is a
    false counterexample even though other entries differ."""
    net = mc.Net(["D", "H", 3], ["relu", "softmax"], "cross_entropy", "m", True, "mean",
                 "cs231n")
    node, text = _case(net, ("Z", 2), "softmax_elementwise")
    real = derivcheck.check(net.derivcheck_net(), text)
    assert sm.verify(real, net, node, ("Z", 2), random.Random(1), Counter()) is None
    Y = real.counterexample.matrices["Y"]
    row, col = next((i, j) for i, r in enumerate(Y) for j, y in enumerate(r) if y == 1)
    real.counterexample.entry = f"dscores[{row + 1},{col + 1}]"
    wrong = sm.verify(real, net, node, ("Z", 2), random.Random(1), Counter())
    assert wrong and "does not differ" in wrong, wrong


def test_planted_invalid_targets_are_caught():
    _, wrong_text = _case(RELU, ("W", 2), "sign_flip")
    real = derivcheck.check(RELU.derivcheck_net(), wrong_text)
    w = real.counterexample
    w.matrices = dict(w.matrices, Y=[[v / 2 for v in row] for row in w.matrices["Y"]])
    node, _ = _case(RELU, ("W", 2), "sign_flip")
    assert "not valid" in sm.verify(real, RELU, node, ("W", 2), random.Random(1), Counter())


def test_formulas_are_also_spelled_in_latex(monkeypatch):
    """The same trees typeset as the courses write them, read by derivcheck as equal."""
    monkeypatch.setattr(ms, "LATEX_SHARE", 1.0)
    texts = set()
    for seed in range(6):
        rng = random.Random(seed)
        name, node = mc.formula(NG, ("W", 1), rng)
        texts.add(ms.candidate(NG, ("W", 1), node, rng))
    assert all(t.startswith("dW^{[1]} = ") and "\\frac" in t for t in texts), texts
    assert any("\\top" in t or "^{\\intercal}" in t or "^T" in t for t in texts)
    for text in texts:
        assert derivcheck.check(NG.derivcheck_net(), text).verdict == "equivalent", text
    rng = random.Random(1)
    name, node = mc.formula(RELU, ("Z", 1), rng)
    text = ms.candidate(RELU, ("Z", 1), node, rng)
    assert "\\odot" in text or "\\circ" in text or " * " in text, text
    assert derivcheck.check(RELU.derivcheck_net(), text).verdict == \
        "equivalent_almost_everywhere", text


def test_a_juxtaposition_is_read_once_from_the_shapes_names():
    """dz^T x for x dz^T: the matrix product does not fit (n1 x 1 by n0 x 1 names), so
    the contract reads the elementwise (outer) product, also at sizes where n0 = n1 would
    let the matrix product fit; the verifier reads it the same way."""
    net = mc.Net(["n0", "n1", 1], ["sigmoid", "tanh"], "mse", None, False, "mean", "seed")
    node = ms.read(net, ms.juxtaposed(("mm", ("T", ("sg", ("Z", 1))), ("sq", ("X",)))))
    assert node[0] == "had"
    text = r"dW^{(0)} = (dz^{(1)})^T x"
    real = derivcheck.check(net.derivcheck_net(), text)
    assert real.verdict == "equivalent"
    tally = Counter()
    assert sm.verify(real, net, node, ("W", 1), random.Random(4), tally) is None
    assert tally["evidence"] == 1


_TRUE_DIAGNOSES = [(NG, ("W", 1), "sign_flip", "sign_flip"),
                   (NG, ("W", 1), "missing_mean", "missing_batch_mean"),
                   (NG, ("W", 1), "swap_order", "wrong_product_order"),
                   (NG, ("W", 1), "drop_transpose", "missing_transpose"),
                   (NG, ("b", 1), "wrong_sum_axis", "wrong_sum_axis"),
                   (NG, ("Z", 1), "elementwise_vs_matrix", "elementwise_vs_matrix_product"),
                   (RELU, ("Z", 1), "drop_mask", "missing_gate"),
                   (NG, ("Z", 1), "drop_mask", "missing_factor"),
                   (SOFT, ("Z", 2), "softmax_elementwise", "softmax_jacobian")]


@pytest.mark.parametrize("net,key,mutation,kind", _TRUE_DIAGNOSES,
                         ids=[row[3] for row in _TRUE_DIAGNOSES])
def test_a_true_diagnosis_is_confirmed(net, key, mutation, kind):
    node, text = _case(net, key, mutation)
    real = derivcheck.check(net.derivcheck_net(), text)
    assert kind in [d.kind for d in real.diagnosis], (text, real.diagnosis)
    tally = Counter()
    assert sm.verify(real, net, node, key, random.Random(1), tally) is None
    assert tally["diagnosis_checked"] == len(real.diagnosis) >= 1


_FALSE_DIAGNOSES = [(NG, ("W", 1), "sign_flip", "missing_batch_mean"),
                    (NG, ("W", 1), "missing_mean", "sign_flip"),
                    (NG, ("W", 1), "sign_flip", "wrong_product_order"),
                    (NG, ("W", 1), "missing_mean", "missing_transpose"),
                    (NG, ("W", 1), "sign_flip", "extra_transpose"),
                    (NG, ("W", 1), "missing_mean", "elementwise_vs_matrix_product"),
                    (NG, ("W", 1), "sign_flip", "wrong_sum_axis"),
                    (NG, ("W", 1), "sign_flip", "missing_gate"),
                    (NG, ("W", 1), "sign_flip", "missing_factor"),
                    (NG, ("W", 1), "sign_flip", "shape_mismatch"),
                    (SOFT, ("Z", 2), "sign_flip", "softmax_jacobian")]


@pytest.mark.parametrize("net,key,mutation,kind", _FALSE_DIAGNOSES,
                         ids=[row[3] for row in _FALSE_DIAGNOSES])
def test_a_planted_false_diagnosis_is_caught(net, key, mutation, kind):
    """A real counterexample with a diagnosis that does not hold: the verifier finds that
    no fix of that kind makes the formula right (or that its shapes fit)."""
    node, text = _case(net, key, mutation)
    real = derivcheck.check(net.derivcheck_net(), text)
    assert real.verdict == "not_equivalent" and kind not in [d.kind for d in real.diagnosis]
    real.diagnosis = [Diagnosis(kind, "planted")]
    wrong = sm.verify(real, net, node, key, random.Random(1), Counter())
    assert wrong and wrong.startswith(f"diagnosis {kind}, but"), wrong


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


def _on_a_kink(net):
    """random_values, with a first-layer pre-activation placed exactly on its kink."""
    draw = sm.random_values

    def values(n, sizes, rng):
        vals = draw(n, sizes, rng)
        vals[("b", 1)][0, 0] = -(vals[("W", 1)][0, :] @ vals[("X",)][:, 0])
        return vals

    return values


def test_a_random_point_on_a_kink_is_nudged_off_it(monkeypatch):
    """Found by the run at 5,000 cases (1319, 3285, 4385): an almost-everywhere verdict
    may differ from the reference on a kink, so a random point that lands on one is no
    evidence against it; the verifier nudges it off, as the scalar one does."""
    node, text = _case(RELU, ("Z", 1))
    real = derivcheck.check(RELU.derivcheck_net(), text)
    assert real.verdict == "equivalent_almost_everywhere"
    monkeypatch.setattr(sm, "random_values", _on_a_kink(RELU))
    vals = sm.random_values(RELU, {"D": 2, "H": 2, "m": 2}, random.Random(0))
    assert sm.kinks_at(RELU, vals) and not sm.kinks_at(
        RELU, sm.off_kinks(RELU, vals, random.Random(0)))
    assert sm.verify(real, RELU, node, ("Z", 1), random.Random(2), Counter()) is None


def test_a_planted_false_verdict_is_still_caught_at_points_on_kinks(monkeypatch):
    """db2 with its sign flipped differs whatever the units of layer 1 do: at every point
    the verifier draws (each on a kink, then nudged off it)."""
    monkeypatch.setattr(sm, "random_values", _on_a_kink(RELU))
    node, text = _case(RELU, ("b", 2), "sign_flip")
    real = derivcheck.check(RELU.derivcheck_net(), text)
    assert real.verdict == "not_equivalent"
    for verdict in ("equivalent", "equivalent_almost_everywhere"):
        fake = _planted(verdict, method_detail=real.method_detail, kink_point=None)
        wrong = sm.verify(fake, RELU, node, ("b", 2), random.Random(2), Counter())
        assert wrong and "differs in" in wrong and "sizes {'D': 1" in wrong, wrong


def test_dead_units_keep_their_zeros_under_the_nudge():
    """Without biases, after a layer of dead ReLU units the next pre-activations are 0 on
    an open set: ordinary points, not kinks, left as they are."""
    net = mc.Net([1, 1, 1], ["relu", "relu"], "half_squared", None, False, "mean", "ng")
    vals = sm.random_values(net, {}, random.Random(0))
    vals[("W", 1)][0, 0] = -vals[("W", 1)][0, 0] if (vals[("W", 1)] @ vals[("X",)])[0, 0] > 0 \
        else vals[("W", 1)][0, 0]
    assert sm.kinks_at(net, vals) == []
    assert sm.off_kinks(net, vals, random.Random(0)) is vals


@pytest.mark.parametrize("index, verdict", [(2131, "not_equivalent"), (3685, "not_equivalent"),
                                            (4385, "equivalent_almost_everywhere")])
def test_the_cases_flagged_at_5000_hold_up(index, verdict):
    """2131, 3685: a leaky-ReLU mask (Z2 > 0) after a dead ReLU layer of a bias-free
    network, once called equivalent almost everywhere; 4385: a verifier's point on a kink."""
    row = sm.run_case((20261129, index))
    assert row["verdict"] == verdict and row["wrong"] is None and row["evidence"], row
