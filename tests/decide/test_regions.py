"""derivcheck.decide.regions: exact emptiness of sign regions (z3), and its use in decide."""
from fractions import Fraction

import pytest
import sympy

from derivcheck.core.assumptions import Assumptions
from derivcheck.core.functions import IsPos, ReLU, Step
from derivcheck.core.network import chain
from derivcheck.decide.check import check
from derivcheck.decide.regions import RegionSolver

w1, w2, x, u = sympy.symbols("w1 w2 x u")
ANY = [0, Fraction(1, 2), 1]


def solver(assume=(), definitions=None):
    return RegionSolver(definitions or {}, Assumptions.parse(list(assume)), ANY)


@pytest.mark.parametrize("targets, assume, status", [
    ([(w1 * x, 1), (w1 * x**3, -1)], [], "empty"),      # w1 x^3 = (w1 x) x^2
    ([(w1 * x, 1), (w1, -1)], ["x > 0"], "empty"),
    ([(w1 * x, 1), (w1, -1)], [], "point"),
    ([(sympy.exp(u) - 1, 1), (u, -1)], [], "empty"),    # exp abstracted, soundly
    ([(x**2 - 2, 0)], [], "point"),                     # an irrational point
], ids=["cube", "assumed sign", "no assumption", "exp", "sqrt 2"])
def test_regions_are_decided(targets, assume, status):
    one = sympy.Integer(1)
    answer = solver(assume).search(targets, one, 2 * one)
    assert answer.status == status


def test_an_irrational_point_comes_as_rational_approximations():
    answer = solver().search([(x**2 - 2, 0), (x, 1)], sympy.Integer(1), sympy.Integer(2))
    assert answer.status == "point" and len(answer.points) == 3
    assert all(abs(p[x] - Fraction(14142135623730951, 10**16)) < Fraction(1, 10**9)
               for p in answer.points)


def test_a_difference_only_at_a_step0_value_is_found_and_absent_for_torch():
    # Step(u)^2 and Step(u) differ only at u = 0 with Step(0) = 1/2
    found = solver().search([], Step(u) ** 2, Step(u))
    assert found.status == "point" and found.point[u] == 0
    torch = RegionSolver({}, Assumptions(), [0]).search([], Step(u) ** 2, Step(u))
    assert torch.status == "empty"


def test_the_abstraction_says_when_it_was_used():
    a = solver().search([], sympy.exp(u), sympy.exp(u) + IsPos(u))
    assert a.abstracted and a.status == "point"


# -- in the decision -------------------------------------------------------------------------

HT = chain(["w1"], "hardtanh")


@pytest.mark.parametrize("formula, verdict", [
    # hardtanh' written as one gate of a polynomial argument: its regions and kinks
    # are nonlinear in the leaves; before z3 this was unknown
    ("(hardtanh(w1*x) - y)*step(1 - (w1*x)^2)*x", "equivalent"),
    ("(hardtanh(w1*x) - y)*step(1 - (w1*x)^3)*x", "not_equivalent"),
])
def test_polynomial_gate_arguments_are_decided(formula, verdict):
    r = check(HT, formula, "w1")
    assert r.verdict == verdict
    if verdict == "equivalent":
        assert "z3" in r.method_detail


@pytest.mark.parametrize("net, formula, wrt", [
    # exp-based activations whose derivative is written through min/max: the kink itself
    (chain(["w1"], "elu"), "(elu(w1*x) - y)*min(exp(w1*x), 1)*x", "w1"),
    (chain(["w1"], "celu"), "(celu(w1*x) - y)*max(min(exp(w1*x), 1), step(w1*x))*x", "w1"),
    (chain(["w1", "w2"], "elu"), "(a2 - y)*exp(min(z2, 0))*w2*exp(min(z1, 0))*x", "w1"),
])
def test_kinks_of_exp_activations_written_without_step_are_decided(net, formula, wrt):
    assert check(net, formula, wrt).verdict == "equivalent"


@pytest.mark.parametrize("net, formula, wrt, assume, verdict", [
    # a gate's argument written without a factor of known sign: the same gate
    (chain(["w1"], "relu"), "(relu(w1*x) - y)*step(w1)*x", "w1", ["x > 0"], "equivalent"),
    (chain(["w1", "w2"], ["sigmoid", "relu"]), "(relu(z2) - y)*step(w2)*a1", "w2", [],
     "equivalent"),
    (chain(["w1", "w2"], ["softplus", "relu"]), "(relu(z2) - y)*step(3*w2)*a1", "w2", [],
     "equivalent"),
    (chain(["w1", "w2"], ["tanh", "relu"]), "(a2 - y)*step(tanh(z2))*w2*(1 - a1^2)*x", "w1",
     [], "equivalent"),
    # a ReLU written as its linear piece under its own gate
    (chain(["w1", "w2"], "relu"), "(w2*a1 - y)*step(w2*w1*x)*w2*step(w1*x)*x", "w1",
     ["x > 0"], "equivalent"),
    (chain(["w1", "w2"], "relu"), "(w2*z1 - y)*step(z2)*z1", "w2", [], "not_equivalent"),
])
def test_gates_normalised_by_sign_definite_factors(net, formula, wrt, assume, verdict):
    assert check(net, formula, wrt, assume=assume).verdict == verdict


@pytest.mark.parametrize("formula, convention, verdict", [
    # gates are 0/1 off their kinks; at the kink Step(0)^2 = c^2, which is c only for 0, 1
    ("(relu(w1*x) - y)*step(w1*x)^2*x", "torch", "equivalent"),
    ("(relu(w1*x) - y)*step(w1*x)^2*x", "1", "equivalent"),
    ("(relu(w1*x) - y)*step(w1*x)^2*x", "any", "equivalent_almost_everywhere"),
    ("(relu(w1*x) - y)*step(w1*x)*(1 - step(-w1*x))*x", "torch", "equivalent"),
    ("(relu(w1*x) - y)*step(w1*x)*(1 - step(-w1*x))*x", "1", "equivalent_almost_everywhere"),
    ("(relu(w1*x) - y)*step(w1*x)*step(2*w1*x)*x", "0", "equivalent"),
])
def test_gates_are_idempotent_where_they_are_0_or_1(formula, convention, verdict):
    assert check(chain(["w1"], "relu"), formula, "w1", convention=convention).verdict == verdict


def test_relu_in_the_formal_test_stays_exact():
    # a ReLU of a ReLU is not its argument when the inner one is negative
    net = chain(["w1"], "relu")
    assert check(net, (ReLU(ReLU(w1 * x)) - sympy.Symbol("y")) * Step(w1 * x) * x,
                 "w1").verdict == "equivalent"


def test_one_transcendental_value_however_it_is_reached():
    # the network's softplus(z1) and a candidate's softplus(w1*x) are the same value: the
    # abstraction must not make them two reals (it found a spurious "point" before)
    from derivcheck.core.functions import Softplus
    z1 = sympy.Symbol("z1")
    rs = solver(definitions={z1: w1 * x})
    answer = rs.search([], ReLU(Softplus(z1) - 1), ReLU(Softplus(w1 * x) - 1))
    assert answer.status == "empty"
    assert answer.abstracted
    # and different arguments stay different reals
    assert solver().search([], Softplus(w1), Softplus(w2)).status == "point"
