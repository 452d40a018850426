"""Kink witnesses at irrational points (decide/irrational_kinks.py): a kink no rational
point reaches (w2 tanh(w1 x) = 1, b3 + w3 relu(b2 + w2 softplus(z1)) = -1) is met by
solving one leaf exactly; the kink is proved there symbolically, the values certified.
Each network below was `unknown` (soundness run, seed 20261129) before."""
from fractions import Fraction

import sympy

from derivcheck.decide.check import check
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.decide.irrational_kinks import KinkProof, affine_split, expanded
from derivcheck.core.functions import Step
from derivcheck.core.network import chain

w1, w2, w3, x = sympy.symbols("w1 w2 w3 x")


def kink_witness(net, wrt, candidate, irrational=True):
    result = check(net, candidate, wrt, timeout=60)
    assert result.verdict == "equivalent_almost_everywhere", result.reason
    point = result.kink_point.point
    if irrational:  # no rational point is on this kink where it matters
        assert [k for k, v in point.items() if isinstance(v, sympy.Basic)], point
    return result


def test_a_squared_gate_behind_tanh_is_told_at_an_irrational_kink():
    # Step(1 - z2)^2 for Step(1 - z2): they differ only on z2 = w2 tanh(w1 x) = 1, under
    # Step(0) = 1/2, and w2 = 1/tanh(w1 x) is irrational wherever the unit is live
    net = chain(["w1", "w2", "w3"], ["tanh", "hardtanh", "hardtanh"], loss="half_squared")
    cand = ("w3*w2*x*(1 - tanh(w1*x)^2)*(hardtanh(w3*hardtanh(w2*tanh(w1*x))) - y)"
            "*step(1 - w2*tanh(w1*x))^2*step(1 + w2*tanh(w1*x))"
            "*step(1 - w3*hardtanh(w2*tanh(w1*x)))*step(1 + w3*hardtanh(w2*tanh(w1*x)))")
    result = kink_witness(net, "w1", cand)
    assert result.kink_point.step0 == Fraction(1, 2)
    point = {sympy.Symbol(k): v for k, v in result.kink_point.point.items()}
    assert sympy.simplify((point[w2] * sympy.tanh(point[w1] * point[x])) - 1) == 0


def test_a_kink_only_term_at_a_softplus_kink_is_almost_everywhere():
    # an extra term alive only where w3 softplus(...) = 6 (relu6's top kink)
    net = chain(["w1", "w2", "w3", "w4"], ["leaky_relu(1/10)", "softplus", "relu6", "tanh"],
                loss="half_squared")
    grad = ("(tanh(w4*relu6(w3*softplus(w2*leaky_relu(w1*x, 1/10)))) - y)"
            "*(1 - tanh(w4*relu6(w3*softplus(w2*leaky_relu(w1*x, 1/10))))^2)*w4"
            "*step(6 - w3*softplus(w2*leaky_relu(w1*x, 1/10)))"
            "*step(w3*softplus(w2*leaky_relu(w1*x, 1/10)))*w3"
            "*sigmoid(w2*leaky_relu(w1*x, 1/10))*leaky_relu(w1*x, 1/10)")
    assert check(net, grad, "w2", timeout=60).verdict == "equivalent"
    kink_only = ("2*[6 - w3*softplus(w2*leaky_relu(w1*x, 1/10)) >= 0]"
                 "*[w3*softplus(w2*leaky_relu(w1*x, 1/10)) - 6 >= 0]")
    kink_witness(net, "w2", f"{kink_only} + {grad}")


def test_a_squared_gate_behind_a_softplus_bias_chain():
    # on z3 = -1 the unit after softplus must be live: b3 = -1 - w3 z2 is irrational
    # unless w2 = 0 is pinned; either witness will do
    net = chain(["w1", "w2", "w3"], ["softplus", "relu", "hardtanh"],
                biases=["b1", "b2", "b3"], loss="half_squared")
    cand = ("(hardtanh(b3 + w3*relu(b2 + w2*softplus(b1 + w1*x))) - y)"
            "*step(1 - b3 - w3*relu(b2 + w2*softplus(b1 + w1*x)))"
            "*step(1 + b3 + w3*relu(b2 + w2*softplus(b1 + w1*x)))^2*w3"
            "*step(b2 + w2*softplus(b1 + w1*x))*softplus(b1 + w1*x)")
    kink_witness(net, "w2", cand, irrational=False)


def test_the_kink_is_proved_exactly_not_rounded():
    full = w2 * sympy.tanh(w1 * x) - 1
    assert affine_split(full, w2) == (sympy.tanh(w1 * x), -1)
    assert affine_split(full, w1) is None  # inside tanh: no exact root by this route
    point = {w1: sympy.Integer(1), x: sympy.Integer(2), w2: 1 / sympy.tanh(2)}
    proof = KinkProof({}, full, point)
    assert proof(3 - 3 * w2 * sympy.tanh(w1 * x))
    assert not proof(w2 - 1) and not proof(w1 * x - 2)  # 0 there, but not proved so
    ev = PointEvaluator({}, point, step0=Fraction(1, 2), zeros=proof)
    assert ev(Step(1 - w2 * sympy.tanh(w1 * x))) == Fraction(1, 2)
    assert ev(Step(w2 - 1)) == 1  # certified by its ball: 1/tanh(2) > 1
    unproved = PointEvaluator({}, point, step0=Fraction(1, 2))
    try:
        unproved(Step(1 - w2 * sympy.tanh(w1 * x)))
    except Exception as exc:  # noqa: BLE001 - the rounded value must not decide
        assert type(exc).__name__ == "Undetermined"
    else:
        raise AssertionError("a rounded 0 decided a gate")


def test_expanded_follows_definitions_to_the_leaves():
    a, z = sympy.symbols("a z")
    assert expanded(a * w2 - 1, {a: sympy.tanh(z), z: w1 * x}) == w2 * sympy.tanh(w1 * x) - 1


def test_a_complement_gate_at_a_sigmoid_kink_is_almost_everywhere():
    # 1 - Step(-z4) for Step(z4) at relu6's lower kink, z4 = b4 + w4 sigmoid(z3): b4 is
    # irrational there whatever is pinned (sigmoid(0) = 1/2 only with w3 = b3 = 0 pinned)
    net = chain(["w1", "w2", "w3", "w4"], ["hardtanh", "softplus", "sigmoid", "relu6"],
                biases=["b1", "b2", "b3", "b4"], loss="squared")
    inner = "b3 + w3*softplus(b2 + w2*hardtanh(b1 + w1*x))"
    cand = (f"(2*relu6(b4 + w4*sigmoid({inner})) - 2*y)*(1 - step(-b4 - w4*sigmoid({inner})))"
            f"*(1 - sigmoid({inner}))*step(6 - b4 - w4*sigmoid({inner}))*w4"
            f"*sigmoid({inner})*softplus(b2 + w2*hardtanh(b1 + w1*x))")
    kink_witness(net, "w3", cand, irrational=False)
