"""The activation table: forward values, derivatives, kinks and conventions.

Each activation is checked against an independent mpmath implementation (its value),
against ``sympy.diff`` of its own ``decompose()`` form (its ``fdiff``, off the kinks), on
both sides of every kink, exactly at every kink, and at every breakpoint under every
Step value c and every framework profile.
"""
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, Symbol

from derivcheck.core.activations import ACTIVATIONS, activation_names, parse_activation
from derivcheck.core.conventions import get_convention
from derivcheck.errors import SpecError
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.core.functions import SELU_ALPHA, SELU_SCALE, Step, decompose

z = Symbol("z")

with mpmath.workdps(60):
    SCALE = mpmath.mpf(SELU_SCALE.p) / SELU_SCALE.q
    ALPHA = mpmath.mpf(SELU_ALPHA.p) / SELU_ALPHA.q


@pytest.fixture(autouse=True)
def _precision():
    """References are computed at 50 digits (without touching mpmath's global state)."""
    with mpmath.workdps(50):
        yield


def _elu(v, a):
    return v if v > 0 else a * (mpmath.exp(v) - 1)




def _gelu_tanh_u(v):
    """sqrt(2/pi) (v + 0.044715 v^3), at the working precision."""
    return mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf(44715) / 1000000 * v**3)


def _gelu_tanh_slope(v):
    t, c, k = mpmath.tanh(_gelu_tanh_u(v)), mpmath.sqrt(2 / mpmath.pi), mpmath.mpf(44715) / 10**6
    return (1 + t) / 2 + v * (1 - t * t) * c * (1 + 3 * k * v * v) / 2


#: Independent forward implementations (spec text -> (value, a) -> mpf).
REFERENCE = {
    "relu": lambda v: max(v, 0),
    "leaky_relu": lambda v: v if v > 0 else v / 100,
    "leaky_relu(1/5)": lambda v: v if v > 0 else v / 5,
    "prelu(1/4)": lambda v: v if v > 0 else v / 4,
    "necro_relu": lambda v: max(v, 0),
    "elu": lambda v: _elu(v, 1),
    "elu(1/2)": lambda v: _elu(v, mpmath.mpf(1) / 2),
    "selu": lambda v: SCALE * _elu(v, ALPHA),
    "celu": lambda v: max(v, 0) + min(0, mpmath.exp(v) - 1),
    "celu(2)": lambda v: max(v, 0) + min(0, 2 * (mpmath.exp(v / 2) - 1)),
    "softplus": lambda v: mpmath.log(1 + mpmath.exp(v)),
    "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)),
    "tanh": mpmath.tanh,
    "abs": abs,
    "identity": lambda v: v,
    "hardtanh": lambda v: min(max(v, -1), 1),
    "relu6": lambda v: min(max(v, 0), 6),
    "gelu": lambda v: v * (1 + mpmath.erf(v / mpmath.sqrt(2))) / 2,
    "gelu_tanh": lambda v: v * (1 + mpmath.tanh(_gelu_tanh_u(v))) / 2,
    "swish": lambda v: v / (1 + mpmath.exp(-v)),
    "silu": lambda v: v / (1 + mpmath.exp(-v)),
    "hardswish": lambda v: v * min(max(v + 3, 0), 6) / 6,
}

#: Analytic derivatives, for the smooth parts (off the kinks).
REFERENCE_SLOPE = {
    "relu": lambda v: 1 if v > 0 else 0,
    "leaky_relu": lambda v: 1 if v > 0 else mpmath.mpf(1) / 100,
    "leaky_relu(1/5)": lambda v: 1 if v > 0 else mpmath.mpf(1) / 5,
    "prelu(1/4)": lambda v: 1 if v > 0 else mpmath.mpf(1) / 4,
    "necro_relu": lambda v: 1 if v > 0 else mpmath.mpf(1) / 10,   # the surrogate slope
    "elu": lambda v: 1 if v > 0 else mpmath.exp(v),
    "elu(1/2)": lambda v: 1 if v > 0 else mpmath.exp(v) / 2,
    "selu": lambda v: SCALE * (1 if v > 0 else ALPHA * mpmath.exp(v)),
    "celu": lambda v: 1 if v > 0 else mpmath.exp(v),
    "celu(2)": lambda v: 1 if v > 0 else mpmath.exp(v / 2),
    "softplus": lambda v: 1 / (1 + mpmath.exp(-v)),
    "sigmoid": lambda v: mpmath.exp(-v) / (1 + mpmath.exp(-v)) ** 2,
    "tanh": lambda v: mpmath.sech(v) ** 2,
    "abs": lambda v: 1 if v > 0 else -1,
    "identity": lambda v: 1,
    "hardtanh": lambda v: 1 if -1 < v < 1 else 0,
    "relu6": lambda v: 1 if 0 < v < 6 else 0,
    "gelu": lambda v: (1 + mpmath.erf(v / mpmath.sqrt(2))) / 2
    + v * mpmath.exp(-v * v / 2) / mpmath.sqrt(2 * mpmath.pi),
    "gelu_tanh": _gelu_tanh_slope,
    "swish": lambda v: 1 / (1 + mpmath.exp(-v))
    + v * mpmath.exp(-v) / (1 + mpmath.exp(-v)) ** 2,
    "silu": lambda v: 1 / (1 + mpmath.exp(-v))
    + v * mpmath.exp(-v) / (1 + mpmath.exp(-v)) ** 2,
    "hardswish": lambda v: 0 if v < -3 else 1 if v > 3 else v / 3 + mpmath.mpf(1) / 2,
}

SPECS = sorted(REFERENCE)


def test_every_table_entry_is_covered():
    assert {parse_activation(s).name for s in SPECS} == set(activation_names())


def kinks_of(spec):
    return [Rational(k) for k in parse_activation(spec).kind.kinks]


def value(expr, at, step0=0):
    """Exact (or mpmath) value of expr at z = at, with Step(0) = step0."""
    return PointEvaluator({}, {z: Fraction(at)}, step0=Fraction(step0))(expr)


def as_mpf(v):
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(v, sympy.Basic):
        return mpmath.mpf(sympy.N(v, 50))
    return mpmath.mpf(v)


def close(a, b, tol=mpmath.mpf(10) ** -40):
    """Equal if both exact, else within tol (relative) at 50 digits."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    a, b = as_mpf(a), as_mpf(b)
    return abs(a - b) <= tol * (1 + abs(b))


def ref(spec, at, table=REFERENCE):
    v = table[spec](mpmath.mpf(at.numerator) / at.denominator)
    return v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)


rationals = st.fractions(min_value=-8, max_value=8, max_denominator=50)


def off_kinks(spec, q):
    return all(q != Fraction(int(k.p), int(k.q)) for k in kinks_of(spec))


# --- forward values ------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=40, deadline=None)
@given(q=rationals)
def test_value_matches_reference(spec, q):
    act = parse_activation(spec)
    assert close(value(act.apply(z), q), ref(spec, q))


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=30, deadline=None)
@given(q=rationals)
def test_decompose_agrees_with_own_numeric_eval(spec, q):
    act = parse_activation(spec)
    r = sympy.Rational(q.numerator, q.denominator)
    own = act.apply(r)                                   # the function's own eval
    decomposed = decompose(act.apply(z)).subs(z, r)
    if own.is_Rational:                                  # piecewise-rational: exact
        assert decomposed == own
    assert close(sympy.N(own, 50), sympy.N(decomposed, 50))   # N works on every entry
    assert close(sympy.N(own, 50), ref(spec, q))


@pytest.mark.parametrize("spec, at, expected", [
    ("relu", 0, 0), ("leaky_relu", 0, 0), ("prelu(1/4)", 0, 0), ("necro_relu", 0, 0),
    ("elu", 0, 0), ("elu(1/2)", 0, 0), ("selu", 0, 0), ("celu", 0, 0), ("abs", 0, 0),
    ("hardtanh", 1, 1), ("hardtanh", -1, -1), ("relu6", 0, 0), ("relu6", 6, 6),
    ("sigmoid", 0, Rational(1, 2)), ("tanh", 0, 0), ("softplus", 0, sympy.log(2)),
    ("gelu", 0, 0), ("swish", 0, 0), ("silu", 0, 0), ("identity", 0, 0),
    ("hardswish", -3, 0), ("hardswish", 3, 3),
])
def test_values_at_kinks_are_numbers_not_conventions(spec, at, expected):
    act = parse_activation(spec)
    got = act.apply(sympy.Integer(at))
    if not got.is_Number:                      # softplus stays symbolic until decomposed
        got = decompose(got)
    assert sympy.simplify(got - expected) == 0
    for c in (0, Fraction(1, 2), 1):            # the decomposed form ignores Step(0)
        assert close(value(act.apply(z), Fraction(at), step0=c), ref(spec, Fraction(at)))


@pytest.mark.parametrize("spec", [s for s in SPECS if kinks_of(s)])
@pytest.mark.parametrize("eps", [Fraction(1, 1000), Fraction(1, 10**9)])
def test_values_on_both_sides_of_every_kink(spec, eps):
    act = parse_activation(spec)
    for k in kinks_of(spec):
        k = Fraction(int(k.p), int(k.q))
        for q in (k - eps, k + eps):
            assert close(value(act.apply(z), q), ref(spec, q))


@pytest.mark.parametrize("spec", [s for s in SPECS if kinks_of(s)])
def test_values_are_continuous_at_kinks(spec):
    act = parse_activation(spec)
    eps = Fraction(1, 10**12)
    for k in kinks_of(spec):
        k = Fraction(int(k.p), int(k.q))
        left, mid, right = (value(act.apply(z), q) for q in (k - eps, k, k + eps))
        assert abs(as_mpf(left) - as_mpf(mid)) < 1e-9
        assert abs(as_mpf(right) - as_mpf(mid)) < 1e-9


# --- derivatives off the kinks -------------------------------------------------------------

TRUE_DERIVATIVE = [s for s in SPECS if s != "necro_relu"]  # necro's backward is a surrogate


@pytest.mark.parametrize("spec", TRUE_DERIVATIVE)
@settings(max_examples=40, deadline=None)
@given(q=rationals)
def test_fdiff_is_diff_of_decomposed_form(spec, q):
    if not off_kinks(spec, q):
        return
    act = parse_activation(spec)
    mine = act.derivative(z)
    theirs = sympy.diff(decompose(act.apply(z)), z)
    for c in (0, 1):   # off the kinks Step(0) never matters
        assert close(value(mine, q, c), value(theirs, q, c))
    assert close(value(mine, q), ref(spec, q, REFERENCE_SLOPE))


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("eps", [Fraction(1, 1000), Fraction(1, 10**9)])
def test_derivative_on_both_sides_of_every_kink(spec, eps):
    act = parse_activation(spec)
    for k in kinks_of(spec) or [Rational(0)]:
        k = Fraction(int(k.p), int(k.q))
        for q in (k - eps, k + eps):
            for c in (0, Fraction(1, 2), 1):
                assert close(value(act.derivative(z), q, c), ref(spec, q, REFERENCE_SLOPE))


@pytest.mark.parametrize("spec, left, right", [
    ("relu", 0, 1), ("leaky_relu", Fraction(1, 100), 1), ("leaky_relu(1/5)", Fraction(1, 5), 1),
    ("prelu(1/4)", Fraction(1, 4), 1), ("necro_relu", Fraction(1, 10), 1), ("abs", -1, 1),
    ("identity", 1, 1),
])
def test_piecewise_linear_one_sided_slopes_are_difference_quotients(spec, left, right):
    act = parse_activation(spec)
    h = Fraction(1, 7)
    f = lambda q: value(act.apply(z), q)  # noqa: E731
    assert value(act.derivative(z), -h) == left
    assert value(act.derivative(z), h) == right
    if spec != "necro_relu":
        assert (f(Fraction(0)) - f(-h)) / h == left and (f(h) - f(Fraction(0))) / h == right
    else:  # forward is ReLU, backward pretends a slope for z < 0
        assert (f(Fraction(0)) - f(-h)) / h == 0


# --- derivatives at the kinks --------------------------------------------------------------

S_ = SELU_SCALE
A_ = SELU_ALPHA


@pytest.mark.parametrize("spec, at, expected", [
    ("relu", 0, lambda c: c),
    ("leaky_relu", 0, lambda c: Rational(1, 100) + Rational(99, 100) * c),
    ("leaky_relu(1/5)", 0, lambda c: Rational(1, 5) + Rational(4, 5) * c),
    ("prelu(1/4)", 0, lambda c: Rational(1, 4) + Rational(3, 4) * c),
    ("necro_relu", 0, lambda c: Rational(1, 10) + Rational(9, 10) * c),
    ("elu", 0, lambda c: 1),                  # alpha = 1 is C^1: no kink in the slope
    ("elu(1/2)", 0, lambda c: c + (1 - c) / 2),
    ("selu", 0, lambda c: S_ * (c + (1 - c) * A_)),
    ("celu", 0, lambda c: 1),
    ("abs", 0, lambda c: 0),                  # sign(0) = 0 for every c
    ("hardtanh", 1, lambda c: c),
    ("hardtanh", -1, lambda c: c),
    ("relu6", 0, lambda c: c),
    ("relu6", 6, lambda c: c),
    ("hardswish", -3, lambda c: -c / 2),
    ("hardswish", 3, lambda c: 1 + c / 2),
])
@pytest.mark.parametrize("c", [Fraction(0), Fraction(1, 2), Fraction(1)])
def test_derivative_at_breakpoint_per_step_value(spec, at, expected, c):
    act = parse_activation(spec)
    got = value(act.derivative(z), Fraction(at), step0=c)
    want = sympy.sympify(expected(Rational(c.numerator, c.denominator)))
    assert isinstance(got, Fraction)          # piecewise-rational at the kink: exact
    assert close(got, want) and (not want.is_Rational or got == Fraction(str(want)))


@pytest.mark.parametrize("spec", ["relu", "leaky_relu", "hardtanh", "relu6", "elu(1/2)",
                                  "hardswish"])
def test_step_form_derivative_is_unevaluated_at_the_kink(spec):
    """At a breakpoint the derivative still holds Step(0): the convention decides it."""
    act = parse_activation(spec)
    for k in kinks_of(spec):
        assert act.derivative(z).subs(z, k).has(Step(0))


def test_abs_derivative_at_zero_is_zero_symbolically():
    assert parse_activation("abs").derivative(z).subs(z, 0) == 0


# --- framework profiles --------------------------------------------------------------------

PROFILE_TABLE = [
    # (convention, activation, breakpoint, derivative there)
    ("torch", "relu", 0, 0), ("jax", "relu", 0, 0), ("tensorflow", "relu", 0, 0),
    ("torch", "leaky_relu", 0, Rational(1, 100)), ("jax", "leaky_relu", 0, 1),
    ("tensorflow", "leaky_relu", 0, Rational(1, 100)),
    ("torch", "leaky_relu(1/5)", 0, Rational(1, 5)), ("jax", "leaky_relu(1/5)", 0, 1),
    ("torch", "prelu(1/4)", 0, Rational(1, 4)), ("jax", "prelu(1/4)", 0, 1),
    ("torch", "abs", 0, 0), ("jax", "abs", 0, 1), ("tensorflow", "abs", 0, 0),
    ("torch", "hardtanh", 1, 0), ("torch", "hardtanh", -1, 0),
    ("jax", "hardtanh", 1, 1), ("jax", "hardtanh", -1, 1),
    ("tensorflow", "hardtanh", 1, 1), ("tensorflow", "hardtanh", -1, 1),
    ("torch", "relu6", 0, 0), ("torch", "relu6", 6, 0), ("jax", "relu6", 6, 0),
    ("torch", "selu", 0, S_ * A_), ("jax", "selu", 0, S_ * A_), ("tensorflow", "selu", 0, S_),
    ("torch", "elu", 0, 1), ("jax", "elu", 0, 1), ("tensorflow", "elu", 0, 1),
    ("torch", "elu(1/2)", 0, Rational(1, 2)), ("tensorflow", "elu(1/2)", 0, 1),
    # torch 2.x, jax and tensorflow all take hardswish's flat sides
    ("torch", "hardswish", -3, 0), ("torch", "hardswish", 3, 1),
    ("jax", "hardswish", -3, 0), ("jax", "hardswish", 3, 1),
    ("tensorflow", "hardswish", -3, 0), ("tensorflow", "hardswish", 3, 1),
    # not in the profile tables: Step form with the profile's Step(0) = 0
    ("torch", "necro_relu", 0, Rational(1, 10)), ("jax", "necro_relu", 0, Rational(1, 10)),
]


@pytest.mark.parametrize("conv, spec, at, expected", PROFILE_TABLE)
def test_profile_derivative_at_breakpoint(conv, spec, at, expected):
    convention = get_convention(conv)
    assert convention.is_profile and convention.step0_values == (0,)
    d = convention.derivative(parse_activation(spec).apply(z), 1)
    got = value(d, Fraction(at), step0=convention.step0_values[0])
    if sympy.sympify(expected).is_Rational:
        assert got == Fraction(int(Rational(expected).p), int(Rational(expected).q))
    else:
        assert close(got, expected)


@pytest.mark.parametrize("conv", ["torch", "jax", "tensorflow"])
@pytest.mark.parametrize("spec", [s for s in SPECS if s != "necro_relu"])
@settings(max_examples=15, deadline=None)
@given(q=rationals)
def test_profiles_agree_with_step_form_off_the_kinks(conv, spec, q):
    if not off_kinks(spec, q):
        return
    fn = parse_activation(spec).apply(z)
    if fn == z:
        return
    assert close(value(get_convention(conv).derivative(fn, 1), q),
                 value(parse_activation(spec).derivative(z), q))


@pytest.mark.parametrize("conv", ["torch", "jax", "tensorflow"])
def test_selu_and_elu_profiles_at_kink(conv):
    """torch/jax take the exp branch at 0 (slope scale*alpha), tensorflow the linear one."""
    d = get_convention(conv).derivative(parse_activation("selu").apply(z), 1)
    got = value(d, Fraction(0))
    want = S_ if conv == "tensorflow" else S_ * A_
    assert close(got, mpmath.mpf(sympy.N(want, 50)))


# --- the table itself ----------------------------------------------------------------------

@pytest.mark.parametrize("text, name, args", [
    ("relu", "relu", ()),
    ("ReLU", "relu", ()),
    ("leaky_relu(0.01)", "leaky_relu", (Rational(1, 100),)),
    ("leaky_relu", "leaky_relu", (Rational(1, 100),)),
    ("leaky", "leaky_relu", (Rational(1, 100),)),
    ("lrelu(1/3)", "leaky_relu", (Rational(1, 3),)),
    ("elu", "elu", (1,)),
    ("elu(0.5)", "elu", (Rational(1, 2),)),
    ("prelu(alpha)", "prelu", (Symbol("alpha"),)),
    ("sigma", "sigmoid", ()),
    ("logistic", "sigmoid", ()),
    ("silu", "silu", ()),
    ("swish", "swish", ()),
    ("hard_swish", "hardswish", ()),
    ("linear", "identity", ()),
    (" necro_relu ( 0.2 ) ", "necro_relu", (Rational(1, 5),)),
])
def test_parse_activation(text, name, args):
    act = parse_activation(text)
    assert act.name == name and act.args == args


@pytest.mark.parametrize("text, fragment", [
    ("relux", "unknown activation"),
    ("prelu", "needs its a argument"),
    ("relu(1)", "takes 0 argument"),
    ("leaky_relu(1, 2)", "takes 1 argument"),
    ("leaky_relu(__import__)", "must be a number or a name"),
    ("leaky_relu(a b)", "must be a number or a name"),
    ("relu(", "cannot read"),
    ("", "cannot read"),
])
def test_parse_activation_errors(text, fragment):
    with pytest.raises(SpecError) as err:
        parse_activation(text)
    assert fragment in err.value.message


def test_unknown_activation_suggests_closest():
    with pytest.raises(SpecError) as err:
        parse_activation("sigmod")
    assert err.value.suggestion == "sigmoid"


def test_learnable_and_label():
    assert parse_activation("prelu(p)").learnable == (Symbol("p"),)
    assert parse_activation("leaky_relu(0.2)").learnable == ()
    assert parse_activation("leaky_relu(0.2)").label() == "leaky_relu(1/5)"
    assert parse_activation("relu").label() == "relu"
    assert parse_activation("relu").is_piecewise and not parse_activation("tanh").is_piecewise


def test_output_forms():
    a = Symbol("a")
    assert ACTIVATIONS["sigmoid"].output_form(a) == a * (1 - a)
    assert ACTIVATIONS["tanh"].output_form(a) == 1 - a ** 2
    # and they are right: sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2
    for spec in ("sigmoid", "tanh"):
        act = parse_activation(spec)
        for q in (Fraction(-3, 2), Fraction(1, 3)):
            out = value(act.apply(z), q)
            assert close(PointEvaluator({}, {a: out})(act.kind.output_form(a)),
                         value(act.derivative(z), q))


def test_prelu_derivative_wrt_its_slope_is_min_z_0():
    a = Symbol("a")
    fn = parse_activation("prelu(a)").apply(z)
    d = fn.fdiff(2)
    for q in (Fraction(-3), Fraction(2), Fraction(0)):
        assert PointEvaluator({}, {z: q, a: Fraction(1, 4)})(d) == min(q, 0)
