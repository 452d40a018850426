"""ReLUs written as their linear piece under their gate (decide/gate_facts.py): the
rewrite keeps every value at every point, kinks included, for every Step(0); formulas
that are right only under the gate are proved equivalent, and the rewrite never turns a
wrong formula right. The three networks below were `unknown` in the soundness run (seed
20261129, cases 1676, 1736 and 2836)."""
import random
from fractions import Fraction

import pytest
import sympy

from derivcheck.core.assumptions import Assumptions
from derivcheck.core.functions import Absolute, IsNonNeg, IsPos, ReLU, ReLU6, Step, decompose
from derivcheck.core.network import chain, mlp
from derivcheck.core.primitives.piecewise import HardTanh, LeakyReLU, Threshold
from derivcheck.decide.check import check
from derivcheck.decide.equivalence import Procedure
from derivcheck.decide.gate_facts import inline, total, under_gates

X, Y, W = sympy.symbols("x y w")


def _value(expr, point, c):
    """``expr`` at ``point`` exactly, Step(0) = c."""
    e = decompose(expr).xreplace({k: sympy.Rational(v) for k, v in point.items()})
    for gate, at in ((Step, (1, c, 0)), (IsPos, (1, 0, 0)), (IsNonNeg, (1, 1, 0))):
        e = sympy.S(e).replace(gate, lambda a, at=at: at[0] if a > 0 else at[2] if a < 0
                               else at[1])
    return sympy.expand(e)


def _random_expr(rng, depth):
    """A random total expression in x, y, w: products of gates and piecewise pieces."""
    leaves = [X, Y, W, X - Y, W * X, X + 1, 2 - W, -X]
    if depth == 0:
        return rng.choice(leaves)
    a, b = _random_expr(rng, depth - 1), _random_expr(rng, depth - 1)
    return rng.choice([
        lambda: a + b, lambda: a * b, lambda: ReLU(a), lambda: ReLU6(a),
        lambda: Absolute(a), lambda: Step(a) * b, lambda: Step(a) * Step(b) * ReLU(a - b),
        lambda: (ReLU(a) - b) * Step(a), lambda: ReLU6(a) * Step(a) * Step(6 - a) * b,
        lambda: IsPos(-a) * Absolute(a), lambda: IsNonNeg(a) * ReLU(-a) + b,
        lambda: Step(ReLU(a) - 1) * Step(b) * ReLU(b - 1),
        lambda: Threshold(a, 1, 5) * Step(a - 1) + b,  # a jump at its kink: kept
        lambda: HardTanh(a) * Step(a + 1) * Step(1 - a) * b,
        lambda: LeakyReLU(a, sympy.Rational(1, 10)) * Step(-a) * b,
    ])()


def test_the_rewrite_keeps_every_value_on_and_off_the_kinks():
    rng = random.Random(7)
    grid = [Fraction(v) for v in (-2, -1, 0, 1, 2, 3, 6)] + [Fraction(1, 2), Fraction(-3, 2)]
    changed = 0
    for _ in range(250):
        expr = _random_expr(rng, rng.choice([2, 3]))
        new = under_gates(expr)
        changed += new != expr
        for _ in range(6):
            point = {s: rng.choice(grid) for s in (X, Y, W)}
            for c in (0, sympy.Rational(1, 2), 1):
                assert _value(new, point, c) == _value(expr, point, c), (expr, new, point, c)
    assert changed > 40  # the rewrite did something worth testing


def test_a_fact_never_justifies_its_own_gate():
    # Step(relu(z) - 1) * Step(z): rewriting the first gate with its own fact would be
    # circular; with z's fact relu(z) is z, which is right
    z = sympy.Symbol("z")
    assert under_gates(Step(ReLU(z) - 1)) == Step(ReLU(z) - 1)
    assert under_gates(Step(ReLU(z) - 1) * Step(z)) == Step(z - 1) * Step(z)


def test_only_total_formulas_qualify():
    assert total(ReLU(X) * Step(X) * sympy.exp(W))
    assert not total(sympy.log(ReLU(X) + 1) * Step(X))
    assert not total(Step(X) / (X + 1))
    assert not total(sympy.sqrt(ReLU(X)))
    a, z = sympy.symbols("a z")
    assert inline(a, {a: z * X, z: X + 1}) == (X + 1) * X
    assert inline(a, {a: z * X, z: X + 1}, limit=3) is None


@pytest.mark.parametrize("acts,wrt,relu_at", [
    (["softplus", "identity", "relu", "relu6"], "w2", 2),
    (["relu", "tanh"], "w1", 0),
    (["abs", "relu"], "w1", 1),
])
def test_a_relu_written_as_its_linear_piece_under_its_gate_is_equivalent(acts, wrt, relu_at):
    net = chain([f"w{k}" for k in range(1, len(acts) + 1)], acts, loss="half_squared")
    truth = net.gradient(sympy.Symbol(wrt), form="expanded")
    relus = sorted(truth.atoms(ReLU), key=sympy.count_ops)
    cand = truth.xreplace({relus[0]: relus[0].args[0]})
    assert cand != truth
    proc = Procedure(net, sympy.Symbol(f"dC/d{wrt}"), cand, "any", Assumptions(), 60, 1)
    assert proc.gate_facts_equal()
    result = check(net, cand, wrt, timeout=60)
    assert result.verdict == "equivalent", result.reason
    assert "piece on the side" in result.method_detail


def test_the_linear_piece_without_its_gate_is_not_equivalent():
    net = chain(["w1", "w2"], ["relu", "relu"], loss="half_squared")
    # (z2 - y) for (relu(z2) - y), but the gate of z2 dropped: wrong where z2 < 0
    cand = "(w2*relu(w1*x) - y)*w2*step(w1*x)*x"
    w1, w2 = sympy.symbols("w1 w2")
    expr = (w2 * ReLU(w1 * X) - Y) * w2 * Step(w1 * X) * X
    proc = Procedure(net, sympy.Symbol("dC/dw1"), expr, "any", Assumptions(), 60, 1)
    assert not proc.gate_facts_equal()
    assert check(net, cand, "w1", timeout=60).verdict == "not_equivalent"


def test_the_linear_piece_under_the_wrong_gate_is_not_equivalent():
    net = chain(["w1"], ["relu"], loss="half_squared")
    # relu(w1 x) as w1 x under Step(w1): w1 > 0 does not put w1 x on its linear piece
    assert check(net, "(w1*x - y)*step(w1)*x", "w1", timeout=60).verdict == "not_equivalent"
    # and under the flipped gate the piece is 0, not the linear one
    assert check(net, "(w1*x - y)*step(-w1*x)*x", "w1", timeout=60).verdict == "not_equivalent"


def test_the_mlp_output_written_as_its_pre_activation_is_equivalent():
    net = mlp([1, 2, 2, 1], ["relu6", "relu6", "relu"])
    truth = net.gradient(sympy.Symbol("W0_11"), form="expanded")
    out = max(truth.atoms(ReLU), key=sympy.count_ops)
    cand = truth.xreplace({out: out.args[0]})
    assert check(net, cand, "W0_11", timeout=60).verdict == "equivalent"
