"""derivcheck.oracle.points: random nice points, assumptions, exact kink placement, is_kink."""
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Symbol

from derivcheck.core.assumptions import Assumptions
from derivcheck.errors import AssumptionError, SpecError
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import Oracle
from derivcheck.oracle.points import (is_kink, kink_points, kink_sites, place_on_kink,
                               random_point, sample_points)

S = Symbol


def value(net, point, expr):
    return PointEvaluator(net.graph.definitions, point)(expr)


# --- random points ------------------------------------------------------------------------

def test_random_point_is_nice_and_reproducible():
    net = mlp([3, 4, 2], "relu", bias=True)
    p = random_point(net, random.Random(5))
    assert list(p) == net.variables
    assert all(isinstance(v, Fraction) and v.denominator in (1, 2, 4) and abs(v) <= 3
               for v in p.values())
    assert all(p[s] > 0 for s in net.inputs)
    assert all(p[s] != 0 for s in net.params)
    assert p == random_point(net, 5) == random_point(net, random.Random(5))


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_probability_targets(loss):
    net = mlp([2, 2, 2 if loss == "cross_entropy" else 1], "relu,sigmoid", loss=loss)
    for seed in range(10):
        p = random_point(net, seed)
        assert all(0 <= p[t] <= 1 for t in net.targets)


def test_random_points_avoid_kinks():
    net = chain(["w1", "w2", "w3"], "relu")
    assert not any(is_kink(net, random_point(net, seed)) for seed in range(20))


@settings(max_examples=60, deadline=None)
@given(lo=st.fractions(-50, 50, max_denominator=8), width=st.fractions(0, 20, max_denominator=8),
       strict=st.booleans(), seed=st.integers(0, 10 ** 6))
def test_random_point_honours_bounds(lo, width, strict, seed):
    hi = lo + width
    if strict and width == 0:
        hi += Fraction(1, 8)
    net = chain(["w1"], "relu")
    bounds = [("w1", ">" if strict else ">=", lo), ("w1", "<" if strict else "<=", hi),
              ("x", ">", hi)]
    p = random_point(net, seed, assume=bounds, avoid_kinks=None)
    assert Assumptions.parse(bounds).holds(p) and set(p) == set(net.variables)


def test_unsatisfiable_bounds_are_reported():
    with pytest.raises(SpecError, match="no value of w1"):
        random_point(chain(["w1"]), 0, assume=["w1 > 1", "w1 < 1"])


def test_points_read_assumptions_like_check():
    """One model of assumptions: the oracle's points read --assume through Assumptions,
    so a bad bound is the same AssumptionError as in check (it was a SpecError here)."""
    net = chain(["w1"])
    p = random_point(net, 0, assume=["x>0", "1/2 >= w1", (S("y"), "<", 0.5)])
    assert p[S("x")] > 0 and p[S("w1")] <= Fraction(1, 2) and p[S("y")] < Fraction(1, 2)
    with pytest.raises(AssumptionError, match="cannot read"):
        random_point(net, 0, assume=["x == 1"])
    with pytest.raises(AssumptionError, match="not in the network"):
        sample_points(net, assume=["q > 1"])


# --- kink placement -----------------------------------------------------------------------

@pytest.mark.parametrize("act, breakpoints", [
    ("relu", {0}), ("leaky_relu(0.01)", {0}), ("abs", {0}), ("elu(2)", {0}),
    ("hardtanh", {-1, 1}), ("relu6", {0, 6}),
])
def test_place_on_kink_is_exact(act, breakpoints):
    net = chain(["w1", "w2"], act, biases=["b1", "b2"])
    z1 = net.graph.definitions[S("z1")]
    for seed in range(8):
        p = place_on_kink(net, random_point(net, seed), "z1")
        assert value(net, p, z1) in breakpoints


def test_nearest_breakpoint_or_the_one_asked_for():
    net = chain(["w1"], "hardtanh", biases=["b1"])
    p = {"x": 1, "w1": 2, "b1": 0, "y": 0}                 # z1 = 2: nearest breakpoint 1
    assert place_on_kink(net, p, "z1")[S("b1")] == -1
    assert place_on_kink(net, p, "z1", breakpoint=-1)[S("b1")] == -3
    net6 = chain(["w1"], "relu6")
    assert place_on_kink(net6, {"x": 1, "w1": 5, "y": 0}, "z1")[S("w1")] == 6


def test_only_the_chosen_parameter_moves_and_small_denominators_win():
    net = mlp([2, 1], "relu", bias=True)
    p = {"x1": 3, "x2": 4, "W0_11": 1, "W0_21": 1, "b1_1": Fraction(1, 2), "y": 0}
    placed = place_on_kink(net, p, "z1_1")     # b1_1 -> -7 has denominator 1; W0_21 -> -7/8
    changed = {k for k in placed if placed[k] != Fraction(p[k.name])}
    assert changed == {S("b1_1")} and placed[S("b1_1")] == -7


def test_no_linear_parameter_gives_none():
    net = chain(["w1", "w2"], "relu")
    dead = {"x": 1, "w1": -1, "w2": 2, "y": 0}    # z2 = w2 * a1 with a1 = 0
    assert place_on_kink(net, dead, "z2") is None


def test_transcendental_pre_activation_gives_none():
    net = chain(["w1", "w2"], "sigmoid,relu")     # z2 = w2 * sigmoid(z1) is not rational
    assert place_on_kink(net, {"x": 1, "w1": 1, "w2": 1, "y": 0}, "z2") is None


def test_unknown_site_is_an_error():
    with pytest.raises(SpecError, match="not the input of an activation with a kink"):
        place_on_kink(chain(["w1"], "sigmoid"), {"x": 1, "w1": 1, "y": 0}, "z1")


def test_kink_sites():
    net = mlp([2, 2, 1], "relu,sigmoid")
    assert [str(s) for s in kink_sites(net)] == ["z1_1", "z1_2"]
    assert kink_sites(chain(["w1"], "elu(1)")) != {}   # listed: ELU has a breakpoint at 0


# --- is_kink: the contract's definition ---------------------------------------------------

def test_is_kink_follows_the_contract():
    net = chain(["w1", "w2"], "relu")
    assert is_kink(net, {"x": 1, "w1": 0, "w2": 2, "y": 1})
    assert not is_kink(net, {"x": 1, "w1": -1, "w2": 2, "y": 1})     # behind a dead unit
    assert not is_kink(net, {"x": 1, "w1": 0, "w2": 2, "y": 0})      # upstream adjoint 0


def test_c1_activations_have_no_kink():
    assert not is_kink(chain(["w1"], "elu(1)"), {"x": 1, "w1": 0, "y": 1})
    assert is_kink(chain(["w1"], "elu(2)"), {"x": 1, "w1": 0, "y": 1})


def test_abs_kink_depends_on_the_convention():
    net = chain(["w1"], "abs")
    at_zero = {"x": 1, "w1": 0, "y": 1}      # sign(0) = 0 for every Step(0); jax says 1
    assert not is_kink(net, at_zero)
    assert not is_kink(net, at_zero, "torch")
    assert is_kink(net, at_zero, "jax")


def test_kink_points_are_kinks():
    net = mlp([2, 3, 1], "relu", bias=True)
    found = {}
    for seed in range(3):
        found.update(kink_points(net, random_point(net, seed), "torch"))
    assert set(found) == {S("z1_1"), S("z1_2"), S("z1_3"), S("z2_1")}
    assert all(is_kink(net, p) for p in found.values())


# --- samples ------------------------------------------------------------------------------

def test_sample_points_one_kink_point_per_site():
    net = mlp([2, 3, 1], "relu", bias=True)
    sample = sample_points(net, points=4, seed=2, convention="torch")
    assert [k for _, k in sample[:4]] == [False] * 4
    kinks = [p for p, k in sample[4:]]
    assert len(kinks) == 4 and all(Oracle(net, "torch").at_kink(p) for p in kinks)


def test_sample_points_float_exact():
    net = chain(["w1", "w2"], "leaky_relu(0.1)")     # a1 = z1 / 10 is rarely a float
    for seed in range(5):
        kinks = sample_points(net, points=2, seed=seed, float_exact=True)[2:]
        assert kinks
        for point, _ in kinks:
            values = Oracle(net).values(point)
            forward = [values[s] for s in net.graph.definitions if s != net.graph.loss]
            assert all(Fraction(float(v)) == v for v in [*point.values(), *forward])


def test_sample_points_honour_assumptions_and_kinks_false():
    net = chain(["w1", "w2"], "relu", biases=["b1", "b2"])
    sample = sample_points(net, points=3, seed=0, assume=["b1 > 0", "b2 < 0"])
    assert all(p[S("b1")] > 0 and p[S("b2")] < 0 for p, _ in sample)
    assert len(sample_points(net, points=3, kinks=False)) == 3


def test_random_points_keep_sigmoid_and_tanh_unsaturated():
    net = mlp([3, 3, 3, 1], "tanh,sigmoid,identity", bias=True)
    for seed in range(5):
        values = Oracle(net).values(random_point(net, seed))
        assert all(abs(values[S(f"z1_{j}")]) <= 3 and abs(values[S(f"z2_{j}")]) <= 6
                   for j in (1, 2, 3))


def test_cross_entropy_targets_are_one_hot():
    """Issue 19: cross-entropy vectors had targets such as y = (1, 1/2)."""
    from fractions import Fraction

    from derivcheck.core.network import mlp
    from derivcheck.oracle.points import random_point
    net = mlp([2, 3, 3], "relu,identity", loss="cross_entropy")
    for seed in range(10):
        point = random_point(net, seed)
        ys = [point[t] for t in net.targets]
        assert sorted(ys) == [Fraction(0), Fraction(0), Fraction(1)]
