"""derivcheck.core.primitives: every registered primitive, facet by facet, as tables.

Each test runs over the whole registry, so a primitive added in one place is checked
here without a new row: its facets are well formed, it reads back from its plain and
LaTeX forms, its derivative is the derivative of its decomposition off the kinks, and
each framework profile's value on a kink is the side the primitive declares.
"""
from fractions import Fraction

import pytest
import sympy
from sympy import Rational, Symbol

from derivcheck.core.activations import parse_activation
from derivcheck.core.conventions import PROFILES
from derivcheck.core.functions import decompose
from derivcheck.core.primitives import (Param, Primitive, Side, ZeroSet, derivative,
                                        primitive_named, primitive_of, primitives, register)
from derivcheck.core.printing import plain
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.parsing import parse_formula
from derivcheck.write.latex import latex

ALL = primitives()
IDS = [p.name for p in ALL]
FORMULA = [p for p in ALL if p.formula]
#: Activations no framework has as one operation.
NO_TORCH_OP = {"identity", "necro_relu"}
#: Operations torch has and jax does not (jax writes jnp.where).
TORCH_ONLY = {"threshold"}
#: Derivatives that are not the derivative of the forward value, on purpose.
SURROGATES = {"necro_relu"}
#: Points off every kink (kinks are at 0, +-1, +-3, 6).
POINTS = [Rational(-37, 10), Rational(-2), Rational(-1, 3), Rational(1, 5), Rational(5, 2),
          Rational(41, 10), Rational(7)]


def operands(prim):
    return [Symbol(n) for n in "zuv"[:prim.operands]]


def example(prim):
    """The primitive applied to symbols, parameters at their defaults (a learnable one a
    name)."""
    params = [Symbol(p.name) if p.default is None else Rational(p.default) for p in prim.params]
    return prim.apply([*operands(prim), *params])


def value(expr, point, step0=0):
    return PointEvaluator({}, {k: Fraction(v) for k, v in point.items()},
                          step0=Fraction(step0))(expr)


# --- every facet is declared and well formed ------------------------------------------------

@pytest.mark.parametrize("prim", ALL, ids=IDS)
def test_facets_are_well_formed(prim):
    assert prim.doc
    assert all(primitive_named(n) is prim for n in prim.names)
    assert prim.cls is not None or prim.build is not None
    if prim.cls is not None:
        assert primitive_of(prim.cls) is prim
    assert all(isinstance(p, Param) for p in prim.params)
    assert prim.zeros is None or isinstance(prim.zeros, ZeroSet) or callable(prim.zeros)
    assert prim.zero_set(operands(prim)) is None or \
        isinstance(prim.zero_set(operands(prim)), ZeroSet)
    assert set(prim.at_kink) <= set(PROFILES)
    for profile in prim.at_kink:
        sides = prim.sides(profile)
        assert all(isinstance(s, Side) for s in sides)
        assert len(sides) == (prim.operands if prim.operands > 1 else len(prim.kinks))
    if prim.operands == 1:     # a number, or a parameter's name (clamp's a and b)
        assert all(k in {p.name for p in prim.params} or Rational(k).is_Rational
                   for k in prim.kinks)
    else:
        assert len(prim.kinks) <= 1
    assert (prim.jax is None) == (prim.torch is None) or prim.name in TORCH_ONLY


@pytest.mark.parametrize("prim", [p for p in ALL if p.activation], ids=lambda p: p.name)
def test_every_activation_has_its_facets(prim):
    required = [p.name for p in prim.params if p.default is None]
    args = f"({', '.join(required)})" if required else ""
    assert all(parse_activation(n + args).kind is prim for n in prim.names)
    assert (prim.torch is None) == (prim.name in NO_TORCH_OP)
    assert (prim.zeros is None) == (prim.name in {"identity", "necro_relu", "hardswish"})


def test_registering_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register(Primitive("relu", None, build=lambda args: args[0], doc="again"))


def test_only_the_profiles_with_sides_change_the_derivative():
    z = Symbol("z")
    relu = primitive_named("relu").apply([z])
    assert derivative(relu) == derivative(relu, 1, "no such profile") == relu.fdiff(1)
    assert derivative(primitive_named("sigmoid").apply([z]), 1, "torch") == \
        primitive_named("sigmoid").apply([z]).fdiff(1)


# --- names and heads read back ------------------------------------------------------------

@pytest.mark.parametrize("prim", FORMULA, ids=lambda p: p.name)
@pytest.mark.parametrize("form", ["plain", "latex"])
def test_printed_form_reads_back(prim, form):
    expr = example(prim)
    text = plain(expr) if form == "plain" else latex(expr)
    back = parse_formula(text, latex=form == "latex").expr
    assert sympy.expand(decompose(back) - decompose(expr)) == 0, text


@pytest.mark.parametrize("prim", [p for p in FORMULA if p.cls is not None], ids=lambda p: p.name)
def test_every_name_calls_the_primitive(prim):
    for name in prim.names:
        args = ", ".join(str(a) for a in example(prim).args)
        got = parse_formula(f"{name}({args})").expr
        assert primitive_of(got) is primitive_of(example(prim))


# --- one derivative -------------------------------------------------------------------------

@pytest.mark.parametrize("prim", [p for p in ALL if p.cls is not None], ids=lambda p: p.name)
def test_derivative_is_the_derivative_of_the_decomposition_off_kinks(prim):
    expr = example(prim)
    assert isinstance(expr, sympy.Function)
    forward = decompose(expr)
    others = {Symbol(p.name): Rational(1, 4) for p in prim.params if p.default is None}
    for i, x in enumerate(operands(prim), 1):
        mine, theirs = derivative(expr, i), sympy.diff(forward, x)
        for at in POINTS:
            if prim.name == "log" and at <= 0:
                continue
            point = {**others, **{s: Rational(1, 2) for s in operands(prim)}, x: at}
            a, b = value(mine, point), value(theirs, point)
            if prim.name in SURROGATES:
                assert (a == b) == (at > 0)
            else:
                assert abs(float(a) - float(b)) <= 1e-12 * max(1, abs(float(b))), (at, a, b)


@pytest.mark.parametrize("prim", [p for p in ALL if p.kinks and p.at_kink], ids=lambda p: p.name)
def test_each_profile_takes_its_declared_side_on_each_kink(prim):
    """At a kink, the profile's value is the Step form's value from below (Step atoms that
    tie take their left limit), from above, or the mean of the two."""
    expr = example(prim)
    eps = Rational(1, 10**9)
    others = {Symbol(p.name): Rational(1 + 2 * i, 4)
              for i, p in enumerate(prim.params) if p.default is None}
    for profile in prim.at_kink:
        for i, x in enumerate(operands(prim), 1):
            kinks = [others.get(Symbol(k)) or Rational(k) for k in prim.kinks] \
                if prim.operands == 1 else [Rational(1, 2)]
            for j, k in enumerate(kinks):
                side = prim.sides(profile)[i - 1 if prim.operands > 1 else j]
                point = {**others, **{s: Rational(1, 2) for s in operands(prim)}, x: k}
                got = float(value(derivative(expr, i, profile), point))
                below = float(value(expr.fdiff(i), {**point, x: k - eps}))
                above = float(value(expr.fdiff(i), {**point, x: k + eps}))
                want = {Side.LEFT: below, Side.RIGHT: above, Side.MEAN: (below + above) / 2}[side]
                assert got == pytest.approx(want, abs=1e-8), (profile, k, side)


@pytest.mark.parametrize("prim", [p for p in ALL if p.output_form], ids=lambda p: p.name)
def test_output_form_is_the_derivative_in_the_output(prim):
    expr, z = example(prim), Symbol("z")
    for at in POINTS:
        out = expr.subs(z, at).evalf(30)
        assert float(prim.output_form(out)) == pytest.approx(
            float(derivative(expr).subs(z, at).evalf(30)), rel=1e-12)


# --- the facts the exact evaluators use ------------------------------------------------------

SMOOTH = [p for p in ALL if p.mpmath]


@pytest.mark.parametrize("prim", SMOOTH, ids=lambda p: p.name)
def test_mpmath_function_computes_the_primitive(prim):
    import mpmath
    for at in (Rational(1, 3), Rational(5, 2)):
        want = sympy.N(prim.cls(at), 30)
        assert float(getattr(mpmath, prim.mpmath)(mpmath.mpf(float(at)))) == pytest.approx(
            float(want), rel=1e-14)


@pytest.mark.parametrize("prim", [p for p in ALL if p.exact_at], ids=lambda p: p.name)
def test_exact_value_at_its_point(prim):
    at, want = prim.exact_at
    assert prim.cls(Rational(at)) == want


@pytest.mark.parametrize("prim", [p for p in ALL if p.poles], ids=lambda p: p.name)
def test_poles_are_poles(prim):
    for p in prim.poles:
        assert not prim.cls(Rational(p)).is_finite


@pytest.mark.parametrize("prim", [p for p in ALL if p.exp_form], ids=lambda p: p.name)
def test_exp_form_is_the_function_of_exp(prim):
    num, den = prim.exp_form
    for at in (Rational(-7, 3), Rational(1, 3), Rational(5, 2)):
        u = sympy.exp(at)
        form = sum(c * u**i for i, c in enumerate(num)) / sum(c * u**i for i, c in enumerate(den))
        assert float(form) == pytest.approx(float(sympy.N(prim.cls(at), 30)), rel=1e-13)
