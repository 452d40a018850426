"""The soundness run's verifier can fail: fed false verdicts of every kind, it rejects
each one, and it accepts true ones. Its reference (benchmarks/reference.py) agrees
with derivcheck's own gradient and with torch / jax autograd off the kinks."""
import importlib
import random
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from sympy import Rational, Symbol

from derivcheck.core.functions import IsPos, ReLU, Step
from derivcheck.core.network import chain, mlp
from derivcheck.decide.check import check
from derivcheck.decide.verdict import Result, Witness

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
reference = importlib.import_module("reference")
verifier = importlib.import_module("verifier")

F = Fraction
NETS = {
    "relu,relu": chain(["w1", "w2"], ["relu", "relu"]),
    "sigmoid,hardtanh +b": chain(["w1", "w2"], ["sigmoid", "hardtanh"], biases=["b1", "b2"]),
    "tanh,relu6 +b": chain(["w1", "w2"], ["tanh", "relu6"], biases=["b1", "b2"]),
    "softplus,leaky": chain(["w1", "w2"], ["softplus", "leaky_relu(1/10)"]),
    "relu,relu,relu +b": chain(["w1", "w2", "w3"], ["relu"] * 3, biases=["b1", "b2", "b3"]),
    "elu squared": chain(["w1"], ["elu"], loss="squared"),
    "swish,sigmoid": chain(["w1", "w2"], ["swish", "sigmoid"]),
    "mlp relu,abs +b": mlp([2, 2, 1], ["relu", "abs"], bias=True),
}


def _result(verdict, net, wrt, candidate, point=None, step0=None):
    w = None if point is None else Witness({str(k): v for k, v in point.items()}, None, None,
                                           None if step0 is None else F(step0))
    return Result(verdict=verdict, wrt=str(wrt), candidate=str(candidate), gradient="",
                  method="planted", kink_convention="any",
                  counterexample=w if verdict == "not_equivalent" else None,
                  kink_point=w if verdict == "equivalent_almost_everywhere" else None)


def _verify(result, net, wrt, candidate, seed=0):
    return verifier.verify(result, net, wrt, candidate, random.Random(seed), Counter(),
                           frameworks=False)


def _point(net, seed):
    case = verifier.Case(net, None, None, random.Random(seed), Counter())
    return case.draw("unit")


def _on_kink(net, wrt, candidate, gate_arg, seed=0):
    """A point exactly on ``gate_arg = 0``, found as the verifier finds its probes."""
    case = verifier.Case(net, wrt, candidate, random.Random(seed), Counter())
    for attempt in range(5):
        p = verifier.aim(case, gate_arg, F(0), case.draw("unit"))
        if p is not None:
            return p
    raise AssertionError(f"no point on {gate_arg} = 0")


def _kink_terms(net, wrt, complements=True):
    """True-almost-everywhere candidates: g + (Step(a) - IsPos(a)) for a gate of every
    layer, and g with a gate complemented (1 - Step(-a), which is 1 - c at a = 0)."""
    g = net.gradient(wrt)
    out = []
    for gate in sorted(g.atoms(Step), key=str):
        a = gate.args[0]
        out.append((g + Step(a) - IsPos(a), a))
        if complements:
            out.append((g.xreplace({gate: 1 - Step(-a)}), a))
    return out


def _wrong_formulas(net, wrt):
    g = net.gradient(wrt)
    gates = sorted(g.atoms(Step), key=str)
    leaf = sorted(net.inputs + net.params, key=str)[-1]
    out = [-g, 2 * g, g + Rational(1, 1000) * leaf, g + sympy.exp(-30) * net.inputs[0]]
    out += [g.xreplace({s: 1}) for s in gates]  # a dropped gate (differs on one piece only)
    others = [p for p in net.params if p != wrt]
    if others:
        out.append(g.xreplace({others[0]: 1}))
    return [c for c in out if c != g]


# -- planted false verdicts -----------------------------------------------------------------
#: The parameters each planted test differentiates by: the first one in the normal suite
#: (a few seconds), all of them under -m slow.
SCOPE = pytest.mark.parametrize("params", [1, pytest.param(None, marks=pytest.mark.slow)])
#: Complemented gates that are no mistake: z2 = w2 softplus(w1 x) is 0 only at w2 = 0,
#: where the factor w2 of dC/dw1 is 0 too; ELU(z, 1)' at 0 is c + (1 - c) e^0 = 1 for
#: every c. Either way the complemented gate is equal everywhere.
EQUAL_ANYWAY = {("softplus,leaky", "w1"), ("elu squared", "w1")}


@SCOPE
def test_fabricated_counterexamples_are_rejected(params):
    planted = []
    for name, net in NETS.items():
        for wrt in net.params[:params]:
            g = net.gradient(wrt)
            for seed, step0 in ((1, None), (2, Rational(1, 2)), (3, 0)):
                planted.append((name, net, wrt, g, _point(net, seed), step0))
            for cand, a in _kink_terms(net, wrt)[:2]:  # differ only on the kink ...
                if "+b" in name or not a.has(ReLU):  # ... unless a unit dies on a region
                    planted.append((name, net, wrt, cand, _on_kink(net, wrt, cand, a), 1))
    accepted = []
    for name, net, wrt, cand, point, step0 in planted:
        failure = _verify(_result("not_equivalent", net, wrt, cand, point, step0), net, wrt,
                          cand)
        if failure is None or failure.kind != "wrong":
            accepted.append((name, str(wrt), point, step0, failure))
    assert len(planted) >= (40 if params is None else 23) and not accepted, accepted


def test_a_counterexample_where_a_unit_is_dead_on_a_region_is_accepted():
    """Bias-free: x w1 < 0 kills unit 1, so z2 = w2 relu(w1 x) is 0 on a whole region, where
    Step(z2) - IsPos(z2) is Step(0) = 1: a real difference, not a kink."""
    net = NETS["relu,relu"]
    x, y, w1, w2 = Symbol("x"), Symbol("y"), *net.params
    a = w2 * ReLU(w1 * x)
    cand = net.gradient(w2) + Step(a) - IsPos(a)
    point = {x: F(-2), y: F(1), w1: F(3, 4), w2: F(5, 2)}
    assert _verify(_result("not_equivalent", net, w2, cand, point, 1), net, w2, cand) is None
    assert _verify(_result("not_equivalent", net, w2, cand, point, 0), net, w2, cand).kind \
        == "wrong"


def test_a_counterexample_without_a_value_for_every_leaf_is_unconfirmed():
    net = NETS["sigmoid,hardtanh +b"]
    w1 = net.params[0]
    point = _point(net, 4)
    del point[Symbol("b2")]
    failure = _verify(_result("not_equivalent", net, w1, 2 * net.gradient(w1), point), net, w1,
                      2 * net.gradient(w1))
    assert failure is not None and failure.kind == "unconfirmed"


@SCOPE
def test_equivalent_is_rejected_where_the_truth_is_only_almost_everywhere(params):
    planted = [(name, net, wrt, cand) for name, net in NETS.items()
               for wrt in net.params[:params] for cand, _ in _kink_terms(
                   net, wrt, complements=(name, str(wrt)) not in EQUAL_ANYWAY)]
    accepted = [(name, str(wrt), str(cand)) for name, net, wrt, cand in planted
                if _verify(_result("equivalent", net, wrt, cand), net, wrt, cand) is None]
    assert len(planted) >= (30 if params is None else 10) and not accepted, accepted


@SCOPE
def test_equivalent_and_almost_everywhere_are_rejected_on_wrong_formulas(params):
    planted = [(name, net, wrt, cand) for name, net in NETS.items()
               for wrt in net.params[:params] for cand in _wrong_formulas(net, wrt)]
    accepted = []
    for i, (name, net, wrt, cand) in enumerate(planted):
        verdicts = ["equivalent", "equivalent_almost_everywhere"]
        for verdict in verdicts if params is None or i % 4 == 0 else verdicts[:1]:
            point = _point(net, 5) if verdict != "equivalent" else None
            if _verify(_result(verdict, net, wrt, cand, point, 0), net, wrt, cand) is None:
                accepted.append((name, str(wrt), verdict, str(cand)))
    assert len(planted) >= 30 and not accepted, accepted


def test_almost_everywhere_is_rejected_when_the_witness_shows_nothing():
    net = NETS["relu,relu,relu +b"]
    w2 = net.params[2]
    g = net.gradient(w2)
    for cand, a in _kink_terms(net, w2):
        off = _point(net, 6)  # a true a.e. candidate, but a witness off every kink
        assert _verify(_result("equivalent_almost_everywhere", net, w2, cand, off, 1), net, w2,
                       cand) is not None
    on = _on_kink(net, w2, g, sorted(g.atoms(Step), key=str)[0].args[0])
    assert _verify(_result("equivalent_almost_everywhere", net, w2, g, on, 1), net, w2,
                   g) is not None  # the true gradient itself: equivalent, not a.e.


def test_a_counterexample_only_on_a_deep_kink_is_rejected():
    """A kink reachable only by pinning: z2 = w2 softplus(w1 x) is 0 only at w2 = 0."""
    net = NETS["softplus,leaky"]
    w1, w2 = net.params
    a, = [s.args[0] for s in net.gradient(w1).atoms(Step)]
    assert a.has(w2) and a.has(sympy.Function("Softplus")) or "Softplus" in str(a)
    cand = net.gradient(w1) + Step(a) - IsPos(a)
    point = _on_kink(net, w1, cand, a)
    assert point[w2] == 0 and reference.value(a, point) == 0
    assert _verify(_result("not_equivalent", net, w1, cand, point, 1), net, w1, cand).kind \
        == "wrong"
    assert _verify(_result("equivalent", net, w1, cand), net, w1, cand) is not None


# -- true verdicts are accepted -----------------------------------------------------------

@pytest.mark.parametrize("name", ["relu,relu", "sigmoid,hardtanh +b", "softplus,leaky",
                                  "mlp relu,abs +b"])
def test_true_verdicts_from_check_are_accepted(name):
    net = NETS[name]
    wrt = net.params[0]
    g = net.gradient(wrt)
    gate = sorted(g.atoms(Step), key=str)[0]
    a = gate.args[0]
    for cand in (g, -g, g + Step(a) - IsPos(a)):
        result = check(net, cand, str(wrt), timeout=30)
        assert result.verdict != "unknown"
        assert _verify(result, net, wrt, cand) is None, (cand, result.verdict)


# -- the reference itself -------------------------------------------------------------------

def test_reference_gradient_agrees_with_derivcheck_at_points_and_on_kinks():
    from derivcheck.decide.evaluate import PointEvaluator
    for name, net in NETS.items():
        for wrt in net.params:
            g = net.gradient(wrt)
            for seed in range(3):
                point = _point(net, seed)
                for c in (F(0), F(1, 2), F(1)):
                    mine, _ = reference.gradient(net, wrt, point, step0=c)
                    theirs = PointEvaluator({}, point, step0=c)(g)
                    if isinstance(mine, F) and isinstance(theirs, F):
                        assert mine == theirs, (name, wrt, point, c)
                    else:
                        m, t = reference.to_float(mine), float(theirs)
                        assert abs(m - t) <= 1e-12 * max(1.0, abs(m)), (name, wrt, point, c)


def test_reference_values_of_every_activation_from_their_definitions():
    z = Symbol("z")
    from derivcheck.core import functions as fn
    from derivcheck.core.hyperbolic import tanh
    cases = {fn.ReLU(z): (F(-2), 0), fn.HardTanh(z): (F(3, 2), 1),
             fn.ReLU6(z): (F(7), 6), fn.LeakyReLU(z, F(1, 10)): (F(-3), F(-3, 10)),
             fn.Absolute(z): (F(-5, 2), F(5, 2)), fn.Max2(z, 1): (F(1, 2), 1)}
    for expr, (at, want) in cases.items():
        assert reference.value(expr, {z: at}) == want
    near = {fn.Sigmoid(z): 1 / (1 + sympy.exp(-1)), tanh(z): sympy.tanh(1),
            fn.Softplus(z): sympy.log(1 + sympy.E), fn.ELU(-z, 1): sympy.exp(-1) - 1,
            fn.GELU(z): (1 + sympy.erf(1 / sympy.sqrt(2))) / 2,
            fn.SELU(-z): reference.SELU_SCALE * reference.SELU_ALPHA * (sympy.exp(-1) - 1)}
    for expr, want in near.items():
        v = reference.value(expr, {z: F(1)})
        assert abs(float(v.mid) - float(want)) < 1e-15 and v.delta < 1e-50


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_reference_gradient_agrees_with_framework_autograd(framework):
    pytest.importorskip(framework)  # both are installed by `make test` (see .ci/run)
    for name, net in NETS.items():
        for wrt in net.params:
            case = verifier.Case(net, wrt, None, random.Random(7), Counter())
            tally = case.tally
            assert case.check_frameworks([case.draw("unit") for _ in range(4)]) is None
            assert tally[f"framework_{framework}"] > 0, name


def test_a_wrong_reference_is_caught_by_the_frameworks(monkeypatch):
    pytest.importorskip("torch")
    net = NETS["sigmoid,hardtanh +b"]
    w1 = net.params[0]
    real = reference.gradient
    monkeypatch.setattr(reference, "gradient",
                        lambda *a, **k: (reference.add(real(*a, **k)[0], F(1, 10**6)),
                                         real(*a, **k)[1]))
    case = verifier.Case(net, w1, None, random.Random(1), Counter())
    assert "autograd" in case.check_frameworks([case.draw("unit") for _ in range(4)])


def test_the_reference_modules_doctests():
    import doctest
    for module in (reference, verifier):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(reference).attempted >= 5


# -- kink witnesses at irrational points ---------------------------------------------------

IRRATIONAL_NET = chain(["w1", "w2", "w3"], ["tanh", "hardtanh", "hardtanh"],
                       loss="half_squared")
SQUARED_GATE = ("w3*w2*x*(1 - tanh(w1*x)^2)*(hardtanh(w3*hardtanh(w2*tanh(w1*x))) - y)"
                "*step(1 - w2*tanh(w1*x))^2*step(1 + w2*tanh(w1*x))"
                "*step(1 - w3*hardtanh(w2*tanh(w1*x)))*step(1 + w3*hardtanh(w2*tanh(w1*x)))")


def test_an_irrational_kink_witness_is_confirmed_exactly():
    w1 = IRRATIONAL_NET.params[0]
    result = check(IRRATIONAL_NET, SQUARED_GATE, "w1", timeout=60)
    assert result.verdict == "equivalent_almost_everywhere"
    assert any(isinstance(v, sympy.Basic) for v in result.kink_point.point.values())
    cand = result.candidate_expr
    assert _verify(result, IRRATIONAL_NET, w1, cand) is None


def test_an_irrational_witness_off_its_kink_or_without_a_difference_is_rejected():
    w1, w2, w3 = IRRATIONAL_NET.params
    x, y = Symbol("x"), Symbol("y")
    cand = check(IRRATIONAL_NET, SQUARED_GATE, "w1", timeout=60).candidate_expr
    on = {x: 2, w1: -1, w2: -1 / sympy.tanh(2), w3: Rational(-1, 4), y: -1}
    near = {**on, w2: on[w2] + Rational(1, 10**70)}  # within rounding of the kink, not on it
    assert _verify(_result("equivalent_almost_everywhere", IRRATIONAL_NET, w1, cand, near,
                           F(1, 2)), IRRATIONAL_NET, w1, cand) is not None
    truth = IRRATIONAL_NET.gradient(w1)  # on the kink, but the true gradient: no difference
    assert _verify(_result("equivalent_almost_everywhere", IRRATIONAL_NET, w1, truth, on,
                           F(1, 2)), IRRATIONAL_NET, w1, truth) is not None
    assert _verify(_result("equivalent_almost_everywhere", IRRATIONAL_NET, w1, cand, on,
                           F(1, 2)), IRRATIONAL_NET, w1, cand) is None
