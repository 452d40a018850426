"""derivcheck.core.losses: values and derivatives of every loss."""
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, log, symbols

from derivcheck.errors import SpecError
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.core.functions import Sigmoid
from derivcheck.core.losses import LOSSES, loss_expr

o1, o2, o3, y1, y2, y3, z = symbols("o1 o2 o3 y1 y2 y3 z")


@pytest.fixture(autouse=True)
def _precision():
    """References are computed at 60 digits (without touching mpmath's global state)."""
    with mpmath.workdps(60):
        yield


def at(expr, **point):
    return PointEvaluator({}, {sympy.Symbol(k): Fraction(v) for k, v in point.items()})(expr)


def mpf(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def test_loss_names_are_the_contracts():
    """l1, none and upstream: issue 16 (networks authors write)."""
    assert set(LOSSES) == {"half_squared", "squared", "mse", "bce", "cross_entropy", "l1",
                           "none", "upstream"}


@pytest.mark.parametrize("name, outs, ys, point, expected", [
    ("half_squared", [o1], [y1], {"o1": 3, "y1": 1}, 2),
    ("half_squared", [o1, o2], [y1, y2], {"o1": 3, "y1": 1, "o2": 0, "y2": 1}, Rational(5, 2)),
    ("squared", [o1], [y1], {"o1": 3, "y1": 1}, 4),
    ("squared", [o1, o2], [y1, y2], {"o1": 3, "y1": 1, "o2": 0, "y2": 1}, 5),
    ("mse", [o1], [y1], {"o1": 3, "y1": 1}, 4),
    ("mse", [o1, o2], [y1, y2], {"o1": 3, "y1": 1, "o2": 0, "y2": 1}, Rational(5, 2)),
    ("mse", [o1, o2, o3], [y1, y2, y3],
     {"o1": 1, "y1": 0, "o2": 2, "y2": 0, "o3": 3, "y3": 0}, Rational(14, 3)),
    ("bce", [o1], [y1], {"o1": Fraction(1, 2), "y1": 1}, log(2)),
    ("bce", [o1], [y1], {"o1": Fraction(1, 4), "y1": 0}, -log(Rational(3, 4))),
    ("bce", [o1], [y1], {"o1": Fraction(1, 4), "y1": Fraction(1, 2)},
     -(log(Rational(1, 4)) + log(Rational(3, 4))) / 2),
    ("bce", [o1], [y1], {"o1": 1, "y1": 1}, 0),     # log(1) exactly, 0*log(0) never met
    ("cross_entropy", [o1, o2], [y1, y2], {"o1": 0, "o2": 0, "y1": 1, "y2": 0}, log(2)),
    ("l1", [o1, o2], [y1, y2], {"o1": 3, "y1": 1, "o2": -1, "y2": 1}, 4),
    ("none", [o1], [y1], {"o1": 3, "y1": 1}, 3),
    ("upstream", [o1, o2], [y1, y2], {"o1": 3, "y1": 2, "o2": 5, "y2": -1}, 1),
    ("cross_entropy", [o1, o2, o3], [y1, y2, y3],
     {"o1": 1, "o2": 2, "o3": 3, "y1": 0, "y2": 0, "y3": 1},
     log(sympy.exp(1) + sympy.exp(2) + sympy.exp(3)) - 3),
])
def test_values(name, outs, ys, point, expected):
    got = at(loss_expr(name, outs, ys), **point)
    if isinstance(got, Fraction):
        assert got == Fraction(str(sympy.nsimplify(expected)))
    else:
        assert abs(got - mpmath.mpf(sympy.N(expected, 60))) < mpmath.mpf(10) ** -50


@pytest.mark.parametrize("name, d_do1", [
    ("half_squared", o1 - y1),
    ("squared", 2 * (o1 - y1)),
    ("mse", (o1 - y1)),            # two outputs: 2 (o1 - y1) / 2
    ("bce", (o1 - y1) / (o1 * (1 - o1))),
])
def test_derivatives(name, d_do1):
    outs, ys = ([o1, o2], [y1, y2]) if name == "mse" else ([o1], [y1])
    assert sympy.simplify(sympy.diff(loss_expr(name, outs, ys), o1) - d_do1) == 0


def test_bce_after_sigmoid_gives_a_minus_y():
    c = loss_expr("bce", [Sigmoid(z)], [y1])
    d = sympy.diff(c, z)
    for zv, yv in [(Fraction(1, 3), 1), (Fraction(-2), 0), (Fraction(5, 2), Fraction(1, 4))]:
        got = mpf(at(d, z=zv, y1=yv))
        want = mpf(at(Sigmoid(z), z=zv)) - mpf(Fraction(yv))
        assert abs(got - want) < mpmath.mpf(10) ** -50


@settings(max_examples=40, deadline=None)
@given(logits=st.lists(st.fractions(-4, 4, max_denominator=8), min_size=2, max_size=4),
       data=st.data())
def test_cross_entropy_gradient_is_softmax_minus_y(logits, data):
    m = len(logits)
    outs = list(symbols(f"o1:{m + 1}"))
    ys = list(symbols(f"y1:{m + 1}"))
    hot = data.draw(st.integers(0, m - 1))
    # one-hot target, or a soft target that sums to 1
    soft = data.draw(st.booleans())
    target = ([Fraction(1, m)] * m) if soft else [Fraction(int(j == hot)) for j in range(m)]
    c = loss_expr("cross_entropy", outs, ys)
    point = {**dict(zip(outs, logits)), **dict(zip(ys, target))}
    ev = PointEvaluator({}, point)
    exps = [mpmath.exp(mpf(v)) for v in logits]
    total = mpmath.fsum(exps)
    for j in range(m):
        got = mpf(ev(sympy.diff(c, outs[j])))
        assert abs(got - (exps[j] / total - mpf(target[j]))) < mpmath.mpf(10) ** -45


@pytest.mark.parametrize("name, outs, ys, fragment", [
    ("hinge", [o1], [y1], "unknown loss"),
    ("half_squared", [o1, o2], [y1], "2 outputs but 1 targets"),
    ("cross_entropy", [o1], [y1], "at least two outputs"),
])
def test_errors(name, outs, ys, fragment):
    with pytest.raises(SpecError) as err:
        loss_expr(name, outs, ys)
    assert fragment in err.value.message


def test_unknown_loss_lists_known_ones():
    with pytest.raises(SpecError) as err:
        loss_expr("l2", [o1], [y1])
    assert "half_squared" in err.value.hint


def test_no_loss_needs_one_output():
    with pytest.raises(SpecError, match="one output"):
        loss_expr("none", [o1, o2], [y1, y2])
