"""derivcheck.decide.evaluate: exact values, arb balls for transcendental parts, undefined points."""
import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from sympy import Rational, Symbol, exp, log, sqrt, symbols

from derivcheck import limits
from derivcheck.decide.evaluate import (
    DEFAULT_DPS, PointEvaluator, UndefinedAt, Undetermined, is_exact, to_fraction,
)
from derivcheck.core.functions import (Absolute, IsNonNeg, IsPos, LeakyReLU, ReLU, Sigmoid, Softplus,
                                  Step)
from derivcheck.core.network import chain

w, x, y, z = symbols("w x y z")


def ev(expr, step0=0, **point):
    return PointEvaluator({}, {Symbol(k): v for k, v in point.items()},
                          step0=step0)(expr)


@pytest.mark.parametrize("expr, point, expected", [
    (ReLU(w * x) + Step(w + 4 * x), dict(w=-2, x=Fraction(1, 2)), Fraction(0)),
    ((ReLU(w * x) - y) * Step(w * x) * x, dict(w=3, x=Fraction(1, 2), y=1), Fraction(1, 4)),
    (LeakyReLU(z, Rational(1, 100)), dict(z=Fraction(-7, 3)), Fraction(-7, 300)),
    (Absolute(z - 1), dict(z=Fraction(1, 3)), Fraction(2, 3)),
    (x ** 3 / (1 + x ** 2), dict(x=Fraction(1, 2)), Fraction(1, 10)),
    (x ** -2, dict(x=Fraction(2, 3)), Fraction(9, 4)),
    (sqrt(x), dict(x=Fraction(9, 4)), Fraction(3, 2)),
    (x ** Rational(3, 2), dict(x=Fraction(4, 9)), Fraction(8, 27)),
    (exp(x - x * 1), dict(x=5), Fraction(1)),
    (exp(z), dict(z=0), Fraction(1)),
    (log(x), dict(x=1), Fraction(0)),
    (Sigmoid(z), dict(z=0), Fraction(1, 2)),
    (Rational(1, 3) * x + Rational(2, 3), dict(x=Fraction(1, 10**30)),
     Fraction(2, 3) + Fraction(1, 3 * 10**30)),
])
def test_exact_results_are_fractions(expr, point, expected):
    got = ev(expr, **point)
    assert isinstance(got, Fraction) and is_exact(got)
    assert got == expected


@pytest.mark.parametrize("c", [Fraction(0), Fraction(1, 2), Fraction(1)])
def test_step_at_zero_takes_the_convention_iverson_brackets_do_not(c):
    assert ev(Step(w * x), step0=c, w=0, x=3) == c
    assert ev(IsPos(w * x), step0=c, w=0, x=3) == 0
    assert ev(IsNonNeg(w * x), step0=c, w=0, x=3) == 1
    assert ev(ReLU(w * x), step0=c, w=0, x=3) == 0        # values never depend on c


@pytest.mark.parametrize("expr, point, reference", [
    (Sigmoid(z), dict(z=Fraction(1, 3)), lambda: 1 / (1 + mpmath.exp(-mpmath.mpf(1) / 3))),
    (sympy.tanh(z), dict(z=Fraction(-5, 2)), lambda: mpmath.tanh(mpmath.mpf(-5) / 2)),
    (Sigmoid(z) * (1 - Sigmoid(z)), dict(z=Fraction(2)),
     lambda: mpmath.exp(-2) / (1 + mpmath.exp(-2)) ** 2),
    (log(1 + exp(z)), dict(z=Fraction(-3)), lambda: mpmath.log1p(mpmath.exp(-3))),
    (sympy.erf(z), dict(z=Fraction(1, 2)), lambda: mpmath.erf(mpmath.mpf(1) / 2)),
    (sympy.pi * x, dict(x=Fraction(1, 2)), lambda: mpmath.pi / 2),
    (sqrt(x), dict(x=Fraction(2)), lambda: mpmath.sqrt(2)),
])
def test_transcendental_parts_use_mpmath_at_full_precision(expr, point, reference):
    got = ev(expr, **point)
    assert isinstance(got, mpmath.mpf) and not is_exact(got)
    with mpmath.workdps(DEFAULT_DPS + 10):
        assert abs(got - reference()) < mpmath.mpf(10) ** -(DEFAULT_DPS - 5)


def test_step_of_transcendental_value_decided_when_clear():
    assert ev(Step(Sigmoid(z) - Rational(1, 2)), z=Fraction(1, 10**20)) == 1
    assert ev(Step(exp(z) - 1 - z), z=Fraction(1, 10**10)) == 1


def test_step_of_transcendental_value_too_close_to_zero_is_undetermined():
    with pytest.raises(Undetermined):
        ev(Step(log(2 * x) - log(2) - log(x)), x=1)
    with pytest.raises(Undetermined):  # exp(z) = 1 + z + z^2/2 + 1.7e-91: lost at 60 digits
        ev(Step(exp(z) - 1 - z - z**2 / 2), z=Fraction(1, 10**30))
    with pytest.raises(Undetermined):  # ELU's exp(z) - 1 at z = -1e-70
        ev(Step(exp(z) - 1 - z), z=Fraction(-1, 10**70))


def test_small_values_with_certified_digits_have_a_sign():
    """A tiny value is not a kink when its error bound says so: SymPy folds this to
    -1e-80 tanh(1), whose sign is certain (the old absolute threshold called it 0)."""
    assert ev(IsPos(sympy.tanh(z) + sympy.tanh(-z) * (1 + Rational(1, 10**80))), z=1) == 0
    assert ev(Step(z * exp(-z)), z=Fraction(700)) == 1  # 7e-302


def test_inexact_values_never_become_exact():
    """exp(z) - 1 at z = -1e-70 rounds to 0 at 60 digits; exp of it must not be an exact
    1, nor a product with it an exact 0 (that was a kink made out of rounding)."""
    e = exp(z) - 1
    evaluator = PointEvaluator({}, {z: Fraction(-1, 10**70)})
    assert evaluator(e) == 0 and not is_exact(evaluator(e)) and evaluator.error(e) == math.inf
    assert not is_exact(evaluator(exp(e))) and not is_exact(evaluator(z * e))


def test_log_of_one_plus_tiny_keeps_relative_precision():
    """Softplus(-246) = log(1 + exp(-246)) is 1.1e-107, through log1p (SymPy's own
    evalf returns 0 here)."""
    evaluator = PointEvaluator({}, {z: Fraction(-246)})
    v = evaluator(Softplus(z))
    with mpmath.workdps(80):
        assert abs(v / mpmath.exp(-246) - 1) < mpmath.mpf(10) ** -50
    assert evaluator.error(Softplus(z)) < 1e-50


def test_error_bounds_cover_the_true_error():
    """Each value at 60 digits is within its bound of the 200-digit value."""
    cases = [(exp(z) - 1, Fraction(-1, 10**20)), (Softplus(z) - z, Fraction(40)),
             (Sigmoid(z) * (1 - Sigmoid(z)), Fraction(-90)), (sympy.erf(z) - 1, Fraction(5)),
             (sympy.tanh(z) ** 3 - z ** 3, Fraction(1, 10**6)), (sqrt(z) * log(z), Fraction(3))]
    for e, at in cases:
        low = PointEvaluator({}, {z: at})
        high = PointEvaluator({}, {z: at}, dps=200)
        v, bound = low(e), low.error(e)
        with mpmath.workdps(220):
            true = high(e)
            assert abs(v - true) <= abs(true) * bound, (e, v, true, bound)


def test_ball_bounds_are_tight_on_deep_transcendental_gradients():
    """Balls (arb) keep the bound near the working precision through a backward pass: at
    60 digits every gradient of an 8-layer sigmoid/tanh chain is certified to 1e-59 (the
    running error analysis it replaced certified 5e-56), and the bound still covers the
    200-digit value."""
    net = chain([f"w{i}" for i in range(1, 9)], "sigmoid,tanh," * 3 + "sigmoid,tanh")
    point = {s: Fraction((-1) ** i * (i % 5 + 2), 7) for i, s in enumerate(net.variables)}
    low = PointEvaluator(net.definitions(), point)
    high = PointEvaluator(net.definitions(), point, dps=200)
    for p in net.params:
        g = net.gradient(p)
        bound = low.error(g)
        assert 0 < bound < 1e-59, (p, bound)
        with mpmath.workdps(220):
            assert abs(low(g) - high(g)) <= abs(high(g)) * bound


@pytest.mark.parametrize("expr, point", [
    (log(x), dict(x=0)),
    (log(x - 1), dict(x=Fraction(1, 2))),
    (1 / x, dict(x=0)),
    (w / (x - y), dict(w=1, x=2, y=2)),
    (x ** -3, dict(x=0)),
    (sqrt(x), dict(x=-1)),
    (x ** Rational(-1, 2), dict(x=0)),
    (log(Sigmoid(z) - 1), dict(z=3)),
])
def test_undefined_points(expr, point):
    with pytest.raises(UndefinedAt):
        ev(expr, **point)


def test_unknown_function_is_reported():
    with pytest.raises(UndefinedAt):
        ev(sympy.Function("mystery")(x), x=1)


def test_missing_value_is_a_key_error():
    with pytest.raises(KeyError):
        ev(x + y, x=1)


def test_definitions_are_evaluated_on_demand_in_order():
    a1, z1, out = symbols("a1 z1 out")
    defs = {z1: w * x, a1: ReLU(z1), out: (a1 - y) ** 2}
    e = PointEvaluator(defs, {w: Fraction(2), x: Fraction(3), y: Fraction(1)})
    assert e(out) == 25
    assert e.symbol(a1) == 6 and e.symbol(z1) == 6


def test_point_values_are_read_exactly():
    e = PointEvaluator({}, {x: 0.1, y: "1/3", z: Rational(2, 7), w: sympy.Float("0.25")})
    assert e(x) == Fraction(0.1)          # the float, exactly
    assert e(y) == Fraction(1, 3) and e(z) == Fraction(2, 7) and e(w) == Fraction(1, 4)


def test_iterative_evaluation_at_depth_3000(monkeypatch):
    """Past the input limit on purpose: evaluation itself must stay iterative."""
    monkeypatch.setattr(limits, "MAX_DEPTH", 5_000)
    depth = 3000
    net = chain([f"w{k}" for k in range(1, depth + 1)], "relu")
    point = {p: Fraction(1) for p in net.params}
    point.update({Symbol("x"): Fraction(1, 2), Symbol("y"): Fraction(0)})
    e = PointEvaluator(net.definitions(), point)
    # yhat = x, C = x^2/2, every dC/dw_k = yhat * x-ish = 1/4, dC/dx = 1/2
    assert e(Symbol("dC/dw1")) == Fraction(1, 4)
    assert e(Symbol(f"dC/dw{depth}")) == Fraction(1, 4)
    assert e(Symbol("dC/dx")) == Fraction(1, 2)
    assert e(Symbol("C")) == Fraction(1, 8)


@pytest.mark.parametrize("value, expected", [
    ("0.1", Fraction(1, 10)), (0.5, Fraction(1, 2)), ("3/7", Fraction(3, 7)), (7, Fraction(7)),
    (Rational(-2, 9), Fraction(-2, 9)), (sympy.Integer(4), Fraction(4)),
    (Fraction(5, 3), Fraction(5, 3)), ("-1e-3", Fraction(-1, 1000)),
])
def test_to_fraction(value, expected):
    assert to_fraction(value) == expected


def test_to_fraction_refuses_inexact():
    with pytest.raises(TypeError):
        to_fraction(sympy.pi)
    with pytest.raises(TypeError):
        to_fraction(object())


def test_error_bound_of_a_power_is_not_lost_to_floating_point():
    """(1 + 1e-59) ** k - 1 is 0.0 in floating point; the bound of a power must still grow
    with k ((1 + exp(z)) ** 1000 at 60 digits keeps about 57 of them)."""
    base = 1 + exp(z)
    evaluator = PointEvaluator({}, {z: Fraction(1, 3)})
    assert evaluator.error(base ** 1000) > 500 * evaluator.error(base) > 0
    evaluator = PointEvaluator({}, {z: Fraction(1, 3)}, dps=30)
    with mpmath.workdps(100):
        true = (1 + mpmath.exp(mpmath.mpf(1) / 3)) ** -777
    v = evaluator(base ** -777)
    with mpmath.workdps(100):
        assert abs(v - true) <= abs(true) * evaluator.error(base ** -777)
