"""derivcheck.core.functions: Step and the Iverson brackets, Max2/Min2, decompose()."""
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, S, Symbol, exp, symbols

from derivcheck.core import hyperbolic as H
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.core.functions import (
    ELU, SELU, SELU_ALPHA, SELU_SCALE, Absolute, HardTanh, IsNonNeg, IsPos, LeakyReLU, Max2,
    Min2, NecroReLU, PReLU, ReLU, ReLU6, Sigmoid, Softplus, Step, Swish, decompose,
)

z, a, b, w, x = symbols("z a b w x")
pos = Symbol("p", positive=True)
neg = Symbol("n", negative=True)


@pytest.mark.parametrize("fn, at, expected", [
    (Step, 3, 1), (Step, Rational(-1, 7), 0), (Step, pos, 1), (Step, neg, 0),
    (IsPos, 2, 1), (IsPos, 0, 0), (IsPos, -5, 0), (IsPos, pos, 1), (IsPos, neg, 0),
    (IsNonNeg, 2, 1), (IsNonNeg, 0, 1), (IsNonNeg, -5, 0), (IsNonNeg, neg, 0),
])
def test_gates_evaluate_on_known_signs(fn, at, expected):
    assert fn(at) == expected


@pytest.mark.parametrize("arg", [0, z, w * x, z - 1])
def test_step_stays_unevaluated_at_zero_and_unknown_signs(arg):
    assert isinstance(Step(arg), Step)


def test_step_at_zero_is_the_convention_not_heaviside():
    assert Step(0) != Rational(1, 2) and Step(0) != sympy.Heaviside(0)
    for c in (Fraction(0), Fraction(1, 2), Fraction(1)):
        assert PointEvaluator({}, {}, step0=c)(Step(0)) == c
        assert PointEvaluator({}, {}, step0=c)(IsPos(0)) == 0
        assert PointEvaluator({}, {}, step0=c)(IsNonNeg(0)) == 1


@pytest.mark.parametrize("fn", [Step, IsPos, IsNonNeg])
def test_gates_have_zero_derivative(fn):
    assert sympy.diff(fn(w * x), w) == 0


@pytest.mark.parametrize("expr, expected", [
    (sympy.diff(ReLU(z), z), Step(z)),
    (sympy.diff(ReLU(w * x), w), x * Step(w * x)),
    (sympy.diff(LeakyReLU(z, a), z), a + (1 - a) * Step(z)),
    (sympy.diff(LeakyReLU(z, a), a), z - ReLU(z)),
    (sympy.diff(PReLU(z, a), z), a + (1 - a) * Step(z)),
    (sympy.diff(Absolute(z), z), Step(z) - Step(-z)),
    (sympy.diff(HardTanh(z), z), Step(z + 1) * Step(1 - z)),
    (sympy.diff(Max2(a, b), a), Step(a - b)),
    (sympy.diff(Max2(a, b), b), Step(b - a)),
    (sympy.diff(Min2(a, b), a), Step(b - a)),
    (sympy.diff(Min2(a, b), b), Step(a - b)),
    (sympy.diff(Sigmoid(z), z), Sigmoid(z) * (1 - Sigmoid(z))),
    (sympy.diff(Softplus(z), z), Sigmoid(z)),
    (sympy.diff(NecroReLU(z, a), z), a + (1 - a) * Step(z)),
    (sympy.diff(ELU(z, 1), z), Step(z) + (1 - Step(z)) * exp(z)),
])
def test_fdiff_table(expr, expected):
    assert sympy.expand(expr - expected) == 0


@pytest.mark.parametrize("expr, expected", [
    (ReLU(-3), 0), (ReLU(5), 5), (ReLU(0), 0), (ReLU(Rational(2, 3)), Rational(2, 3)),
    (LeakyReLU(-2, Rational(1, 10)), Rational(-1, 5)), (LeakyReLU(0, Rational(1, 3)), 0),
    (Absolute(-Rational(3, 4)), Rational(3, 4)), (Absolute(0), 0),
    (HardTanh(3), 1), (HardTanh(-3), -1), (HardTanh(Rational(1, 2)), Rational(1, 2)),
    (HardTanh(1), 1), (HardTanh(-1), -1),
    (Max2(2, 5), 5), (Max2(5, 2), 5), (Max2(3, 3), 3), (Min2(2, 5), 2), (Min2(3, 3), 3),
    (ELU(0, 1), 0), (ELU(2, 1), 2), (ELU(-1, 1), exp(-1) - 1), (SELU(0), 0),
    (SELU(1), SELU_SCALE), (Sigmoid(0), Rational(1, 2)), (NecroReLU(-1, Rational(1, 10)), 0),
])
def test_numeric_eval(expr, expected):
    assert sympy.simplify(expr - expected) == 0


@pytest.mark.parametrize("expr", [ReLU(z), Sigmoid(1), Softplus(0), LeakyReLU(z, a)])
def test_symbolic_or_transcendental_values_stay_unevaluated(expr):
    assert type(expr).__name__ in {"ReLU", "Sigmoid", "Softplus", "LeakyReLU"}


def test_numeric_evalf_goes_through_decompose():
    assert abs(sympy.N(Sigmoid(1)) - 1 / (1 + sympy.exp(-1)).evalf()) < 1e-14
    assert abs(sympy.N(Softplus(0)) - sympy.log(2).evalf()) < 1e-14
    assert abs(sympy.N(Absolute(Sigmoid(1) - 2), 30) - (2 - 1 / (1 + sympy.exp(-1)))) < 1e-25
    assert abs(sympy.N(ReLU(ReLU(sympy.pi) - 3)) - (sympy.pi - 3)) < 1e-14
    assert isinstance(sympy.N(Step(0)), Step)           # the convention is not a number
    assert sympy.N(ReLU(z)) == ReLU(z)


def test_evalf_keeps_relative_precision():
    """Numeric values are right to every digit asked for, even where the decomposition
    cancels: HardTanh(t) is -1 + (t + 1) for tiny t, ELU(t) is exp(t) - 1, and SymPy's
    own evalf of log(1 + exp(-246)) is 0. (The soundness run's verifier relies on it.)"""
    import mpmath
    tiny = Swish(sympy.Integer(-212))  # -212 sigmoid(-212), about -8e-91
    with mpmath.workdps(120):
        t = -212 / (1 + mpmath.exp(212))
        for f, want in [(HardTanh(tiny), t), (ReLU6(-tiny), -t), (ELU(tiny, 1), mpmath.expm1(t)),
                        (LeakyReLU(tiny, Rational(1, 10)), t / 10),
                        (Softplus(sympy.Integer(-246)), mpmath.log1p(mpmath.exp(-246))),
                        (Softplus(sympy.Integer(300)), mpmath.log1p(mpmath.exp(300)))]:
            got = sympy.N(f, 40, strict=True)
            assert abs(mpmath.mpf(got) / want - 1) < mpmath.mpf(10) ** -38, (f, got)
    assert sympy.N(HardTanh(Step(0) - S(1) / 2)).func is HardTanh  # depends on Step(0)


def test_selu_constants_are_the_framework_decimals():
    assert SELU_ALPHA == Rational("1.6732632423543772848170429916717")
    assert SELU_SCALE == Rational("1.0507009873554804934193349852946")


@pytest.mark.parametrize("expr", [
    ReLU(z), LeakyReLU(z, Rational(1, 100)), Absolute(z), HardTanh(z), Max2(z, w), Min2(z, w),
    Max2(w, z), Min2(w, z), Max2(z, 0), Max2(0, z), Min2(-z, 1), Absolute(-z), Absolute(1 - z),
    ELU(z, Rational(1, 2)), SELU(z), Sigmoid(z), Softplus(z), sympy.tanh(z), sympy.sech(z),
    sympy.cosh(z), sympy.sinh(z), sympy.coth(z), sympy.csch(z), H.tanh(z), H.sech(z),
    H.cosh(z), H.sinh(z), ELU(H.tanh(z) - w, 1),
    ReLU(w * ReLU(z) - 1) + Absolute(Sigmoid(z) - w),
])
@settings(max_examples=25, deadline=None)
@given(zv=st.fractions(-5, 5, max_denominator=20), wv=st.fractions(-5, 5, max_denominator=20))
def test_decompose_keeps_values_at_every_point_for_every_c(expr, zv, wv):
    """Including the kinks: the decomposition is the function, whatever Step(0) is.
    Hyperbolic functions stay (the evaluators read them as rational functions of exp)."""
    if zv == 0 and expr.has(sympy.coth, sympy.csch):
        return
    d = decompose(expr)
    assert not d.has(ReLU, LeakyReLU, Absolute, HardTanh, Max2, Min2, ELU, SELU, Sigmoid,
                     Softplus)
    exact = sympy.N(expr.subs({z: sympy.Rational(zv.numerator, zv.denominator),
                               w: sympy.Rational(wv.numerator, wv.denominator)}), 40)
    for c in (Fraction(0), Fraction(1, 2), Fraction(1)):
        got = PointEvaluator({}, {z: zv, w: wv}, step0=c)(d)
        got = sympy.Rational(got.numerator, got.denominator) if isinstance(got, Fraction) \
            else sympy.Float(got, 40)
        assert abs(sympy.N(got - exact, 40)) < sympy.Float("1e-30")


def test_decompose_leaves_plain_expressions_alone():
    e = w * x + exp(z) + Step(z)
    assert decompose(e) is e
    assert decompose(3) == 3


def test_decompose_nested():
    got = decompose(ReLU(w * ReLU(x)))
    inner = x * Step(x)
    assert got == w * inner * Step(w * inner)


def test_decompose_doctest_form_of_leaky():
    assert decompose(LeakyReLU(z, Rational(1, 100))) == z * (Rational(99, 100) * Step(z)
                                                             + Rational(1, 100))
