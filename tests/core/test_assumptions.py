"""derivcheck.core.assumptions: the one reader of --assume bounds, as tables."""
from fractions import Fraction

import pytest
import sympy

from derivcheck.core.assumptions import Assumptions
from derivcheck.errors import AssumptionError

x, w1, y = sympy.symbols("x w1 y")


@pytest.mark.parametrize("item, shown", [
    ("x > 0", "x > 0"), ("x>=-1/2", "x >= -1/2"), ("3 > y", "y < 3"), ("-2 <= w1", "w1 >= -2"),
    (r"x \geq .5", "x >= 1/2"), ("x ≤ 2.25", "x <= 9/4"), (r"0 \lt x", "x > 0"),
    (("w1", "<", 1), "w1 < 1"), ((x, ">=", "1/3"), "x >= 1/3"), (("y", ">", 0.25), "y > 1/4"),
    (("y", r"\le", Fraction(2, 7)), "y <= 2/7"), (("x", ">", sympy.Rational(-1, 2)), "x > -1/2"),
])
def test_bounds_read_from_texts_and_triples(item, shown):
    (bound,) = Assumptions.parse([item]).bounds
    assert str(bound) == shown and isinstance(bound.value, Fraction)


@pytest.mark.parametrize("item, message", [
    ("x == 1", "cannot read"), ("x > y + 1", "cannot read"), ("x > 1e3", "cannot read"),
    ("lambda > 0", "not a valid name"), (("x", "=", 1), "not one of"),
    (("x", ">", float("inf")), "not an exact finite"), (("x", ">", "ten"), "cannot read"),
    (("x", ">"), "cannot read"), (("x", ">", sympy.pi), "not an exact finite"),
])
def test_unreadable_bounds_are_assumption_errors(item, message):
    with pytest.raises(AssumptionError, match=message) as err:
        Assumptions.parse([item])
    assert err.value.kind == "assumption_error" and err.value.hint


def test_names_are_checked_against_the_network():
    assert Assumptions.parse(["x > 0"], known={x, w1}).texts() == ["x > 0"]
    with pytest.raises(AssumptionError, match="not in the network") as err:
        Assumptions.parse(["q > 0"], known={x, w1})
    assert "w1" in err.value.hint


@pytest.mark.parametrize("texts, signs", [
    (["x > 0"], {x: 1}), (["x >= 0"], {}), (["x >= 1/2"], {x: 1}), (["w1 < 0"], {w1: -1}),
    (["w1 <= 0"], {}), (["x > -1"], {}), (["x < 3"], {}), (["x > 0", "w1 <= -2"], {x: 1, w1: -1}),
])
def test_strict_signs(texts, signs):
    assert Assumptions.parse(texts).strict_signs() == signs


@pytest.mark.parametrize("texts, interval", [
    ([], (None, None)), (["x > 0"], (0, None)), (["x > 0", "x >= 1", "x < 5", "x <= 4"], (1, 4)),
    (["w1 > 7"], (None, None)),
])
def test_interval(texts, interval):
    assert Assumptions.parse(texts).interval(x) == interval


@pytest.mark.parametrize("point, holds", [
    ({x: Fraction(1), y: Fraction(0)}, True), ({x: Fraction(0), y: Fraction(0)}, False),
    ({x: Fraction(1), y: Fraction(3)}, False), ({y: Fraction(1)}, True),   # x not given
])
def test_holds(point, holds):
    assert Assumptions.parse(["x > 0", "y < 3"]).holds(point) is holds


def test_a_relation_between_two_names_is_a_bound():
    """Issue 16: case conditions such as yhat > y (formerly refused as unreadable)."""
    (bound,) = Assumptions.parse(["yhat > y"]).bounds
    assert str(bound) == "yhat > y" and bound.derived
    assert Assumptions.parse(["yhat > y"]).strict_signs() == {}  # not resolved yet
