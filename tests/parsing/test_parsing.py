"""Plain syntax, names and the public API of derivcheck.parsing.

Expected values are SymPy expressions built by hand from the function classes and
compared with ``==`` (structural equality).
"""
import pytest
import sympy
from sympy import Integer, Rational, Symbol, exp, log, sqrt

from derivcheck.core.activations import parse_activation
from derivcheck.errors import NameError_, ParseError
from derivcheck.core.functions import (ELU, Absolute, IsNonNeg, IsPos, LeakyReLU, Max2, Min2, NecroReLU,
                                  ReLU, Sigmoid, Softplus, Step)
from derivcheck.core.hyperbolic import cosh, sech, sinh, tanh
from derivcheck.names import Namespace
from derivcheck.parsing import ParsedFormula, is_latex, parse_equation, parse_formula

S = Symbol
w1, w2, w3, x, y, z, z1, z2, z3, a1, a2, yhat, W0, b1 = sympy.symbols(
    "w1 w2 w3 x y z z1 z2 z3 a1 a2 yhat W0 b1")
ADJ = {q: S(f"dC/d{q}") for q in ("z1", "z2", "z3", "a1", "a2", "yhat", "W0")}


def seed_namespace(**extra) -> Namespace:
    """The names of seed 003's networks: weights, input, target, z/a/r per layer, yhat."""
    names = "w1 w2 w3 x y z z1 z2 z3 a1 a2 a3 yhat W0 W1 W1_12 b1".split()
    symbols = {n: S(n) for n in names}
    symbols.update(r1=symbols["a1"], r2=symbols["a2"])
    roles = {n: "parameter" for n in ("w1", "w2", "w3", "W0", "W1", "W1_12", "b1")}
    roles.update(x="input", y="target", z1="intermediate", a1="intermediate")
    return Namespace(symbols=symbols, roles=roles, adjoints=dict(ADJ),
                     activations={"z1": parse_activation("relu"), "z2": parse_activation("relu"),
                                  "z3": parse_activation("sigmoid")}, **extra)


def read(text, **kw):
    return parse_formula(text, seed_namespace(), **kw).expr


PLAIN = [
    ("x + y", x + y),
    ("x - y - w1", x - y - w1),
    ("2*x", 2 * x),
    ("x/2", x / 2),
    ("x / y / w1", x / (y * w1)),
    ("x^2", x**2),
    ("x**2", x**2),
    ("-x^2", -x**2),
    ("x^-1", 1 / x),
    ("2^-1", Rational(1, 2)),
    ("x^y^2", x**(y**2)),
    ("-(x - y)", y - x),
    ("+x", x),
    ("0.01", Rational(1, 100)),
    ("1e-3", Rational(1, 1000)),
    ("2.5e2", Integer(250)),
    (".5 x", x / 2),
    ("3.", Integer(3)),
    ("2x", 2 * x),
    ("w1 x", w1 * x),
    ("2(x+1)", 2 * (x + 1)),
    ("(x)(y)", x * y),
    ("(x + 1)(y - 1)", (x + 1) * (y - 1)),
    ("x(y + 1)", x * (y + 1)),
    ("2 x y / 4", x * y / 2),
    ("{x + 1} y", (x + 1) * y),
    ("[x + 1] y", (x + 1) * y),
    ("relu(x)", ReLU(x)),
    ("ReLU(w1*x)", ReLU(w1 * x)),
    ("RELU(x)", ReLU(x)),
    ("step(x)", Step(x)),
    ("Step(x)", Step(x)),
    ("H(x)", Step(x)),
    ("heaviside(x)", Step(x)),
    ("sigmoid(x)", Sigmoid(x)),
    ("\u03c3(x)", Sigmoid(x)),
    ("tanh(x)", tanh(x)),
    ("exp(x)", exp(x)),
    ("log(x)", log(x)),
    ("ln(x)", log(x)),
    ("sqrt(x)", sqrt(x)),
    ("abs(x)", Absolute(x)),
    ("|x|", Absolute(x)),
    ("|x - y| |x|", Absolute(x - y) * Absolute(x)),
    ("2|x|", 2 * Absolute(x)),
    ("||x||", Absolute(Absolute(x))),
    ("max(0, x)", Max2(0, x)),    # a max, not a ReLU: torch.maximum's slope at 0 is 1/2
    ("max(x, 0)", Max2(x, 0)),
    ("max(x, y)", Max2(x, y)),
    ("max(x, y, w1)", Max2(Max2(x, y), w1)),
    ("max(0, x, y)", Max2(Max2(0, x), y)),
    ("min(x, y)", Min2(x, y)),
    ("min(0, x)", Min2(0, x)),
    ("leaky_relu(x)", LeakyReLU(x, Rational(1, 100))),
    ("leaky_relu(x, 0.2)", LeakyReLU(x, Rational(1, 5))),
    ("elu(x)", ELU(x, 1)),
    ("elu(x, 2)", ELU(x, 2)),
    ("softplus(x)", Softplus(x)),
    ("necro_relu(x)", NecroReLU(x, Rational(1, 10))),
    ("sign(x)", Step(x) - Step(-x)),
    ("sech(x) + cosh(x) + sinh(x)", sech(x) + cosh(x) + sinh(x)),
    ("[x > 0]", IsPos(x)),
    ("[x >= 0]", IsNonNeg(x)),
    ("[x < 0]", IsPos(-x)),
    ("[x <= 0]", IsNonNeg(-x)),
    ("[x > y]", IsPos(x - y)),
    ("[0 < x]", IsPos(x)),
    ("[x \u2265 0]", IsNonNeg(x)),
    ("relu'(x)", Step(x)),
    ("ReLU'(w1*x)", Step(w1 * x)),
    ("sigmoid'(x)", Sigmoid(x) * (1 - Sigmoid(x))),
    ("tanh'(x)", 1 - tanh(x)**2),
    ("leaky_relu'(x)", Rational(1, 100) + Rational(99, 100) * Step(x)),
    ("f'(z1)", Step(z1)),
    ("f '(z3)", Sigmoid(z3) * (1 - Sigmoid(z3))),
    ("g'(z2)", Step(z2)),
    ("e^x", exp(x)),
    ("e^(-x)", exp(-x)),
    ("x \u00b7 y \u2212 w1", x * y - w1),
    ("\u0177 - y", yhat - y),
    ("(y - relu(w1*x))*x", (y - ReLU(w1 * x)) * x),
    ("x*(relu(w1*x) - y)*step(w1*x)", x * (ReLU(w1 * x) - y) * Step(w1 * x)),
    ("x + y.", x + y),
]


@pytest.mark.parametrize("text, expected", PLAIN)
def test_plain_table(text, expected):
    result = parse_formula(text, seed_namespace(), latex=False)
    assert result.expr == expected
    assert result.latex is False


LOSS_DERIVATIVES = [
    ("dC/dz2", ADJ["z2"]),
    ("dJ/dz1 * w2", ADJ["z1"] * w2),
    ("dL/dz1", ADJ["z1"]),
    ("dE/dz1", ADJ["z1"]),
    ("dCost/dz1", ADJ["z1"]),
    ("dLoss/dz1", ADJ["z1"]),
    ("\u2202C/\u2202z1", ADJ["z1"]),
    ("dC / dz3 * step(z2)", ADJ["z3"] * Step(z2)),
    ("dz2 * w2", ADJ["z2"] * w2),
    ("dr1", ADJ["a1"]),
    ("dyhat * 2", 2 * ADJ["yhat"]),
]


@pytest.mark.parametrize("text, expected", LOSS_DERIVATIVES)
def test_loss_derivatives_stand_for_their_symbols(text, expected):
    assert read(text) == expected


def test_plain_names_split_only_when_unknown_and_unique():
    f = parse_formula("w1x + w1w2x", seed_namespace())
    assert f.expr == w1 * x + w1 * w2 * x
    assert "read w1x as w1*x" in f.readings
    assert "read w1w2x as w1*w2*x" in f.readings
    ns = seed_namespace()
    ns.symbols["w1x"] = S("w1x")
    assert parse_formula("w1x", ns).expr == S("w1x")


def test_open_namespace_keeps_plain_words_whole():
    assert parse_formula("w1x + yhat(1 - yhat)").expr == S("w1x") + yhat * (1 - yhat)
    assert parse_formula("dC/dz2 * w1").expr == S("dC/dz2") * w1


def test_letter_case_match_is_taken_with_a_warning():
    f = parse_formula("W1 * X", Namespace(symbols={"w1": w1, "x": x}))
    assert f.expr == w1 * x
    assert "read W1 as w1 (letter case)" in f.readings
    assert any("letter case" in w for w in f.warnings)


def test_names_stand_for_namespace_expressions():
    ns = Namespace(symbols={"x": x, "w1": w1, "yhat": ReLU(w1 * x), "z1": w1 * x})
    assert parse_formula("yhat - z1", ns).expr == ReLU(w1 * x) - w1 * x


def test_activation_derivative_uses_default_activation():
    ns = Namespace(symbols={"z1": z1, "a1": a1}, default_activation=parse_activation("tanh"))
    assert parse_formula("f'(a1)", ns).expr == 1 - tanh(a1)**2
    f = parse_formula("f'(z1)", seed_namespace())
    assert "read f'(z1) as relu'(z1)" in f.readings


LEFT_SIDES = [
    ("dC/dw2 = x", "w2", x),
    ("dC/dw1 = dC/dz1 * x", "w1", ADJ["z1"] * x),
    ("dw1 = x", "w1", x),
    ("dJ/dW0 = x", "W0", x),
    ("dC/dw1 = step(z1) = x", "w1", x),
]


@pytest.mark.parametrize("text, wrt, expected", LEFT_SIDES)
def test_left_side_names_the_parameter(text, wrt, expected):
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == (wrt, expected)


def test_chain_takes_the_last_right_side_and_the_first_left_side():
    f = parse_formula("dC/dw1 = dC/dz1 * dz1/dw1 = (relu(w1*x) - y)*step(w1*x)*x", seed_namespace())
    assert (f.wrt, f.expr) == ("w1", (ReLU(w1 * x) - y) * Step(w1 * x) * x)


def test_left_side_that_is_no_loss_derivative_is_ignored_with_a_warning():
    f = parse_formula("yhat = relu(z1)", seed_namespace())
    assert f.wrt is None and f.expr == ReLU(z1)
    assert any("not a derivative of the loss" in w for w in f.warnings)


def test_left_side_with_respect_to_an_intermediate_is_read_so():
    # CONTRACT section 5: the left side may name any quantity (dC/dz is asked as often)
    f = parse_formula("dC/dz1 = x", seed_namespace())
    assert f.wrt == "z1"
    assert any("not a parameter" in r for r in f.readings) and not f.warnings


def test_wrt_argument_must_agree_with_left_side():
    assert parse_formula("dC/dw2 = x", seed_namespace(), wrt="w2").wrt == "w2"
    assert parse_formula("x", seed_namespace(), wrt="w2").wrt is None
    with pytest.raises(ParseError) as info:
        parse_formula("  dC/dw2 = x", seed_namespace(), wrt="w1")
    assert info.value.position == 2
    assert "w2" in info.value.message and "w1" in info.value.message


def test_unknown_left_side_parameter_suggests_a_name():
    with pytest.raises(NameError_) as info:
        parse_formula("dC/dw7 = x", seed_namespace())
    assert info.value.position == 4
    assert info.value.suggestion in ("w1", "w2", "w3")


def test_parsed_formula_fields():
    f = parse_formula("x", seed_namespace())
    assert isinstance(f, ParsedFormula)
    assert (f.expr, f.wrt, f.latex, f.readings, f.warnings) == (x, None, False, [], [])


@pytest.mark.parametrize("text, expected", [
    ("z1 = w1*x + b1", ("z1", w1 * x + b1)),
    ("h = relu(z1)", ("h", ReLU(z1))),
    ("yhat = w2*h + b2", ("yhat", w2 * S("h") + S("b2"))),
    ("a_1 = leaky_relu(z1, 0.1)", ("a_1", LeakyReLU(z1, Rational(1, 10)))),
    ("q = foo1 * x", ("q", S("foo1") * x)),
])
def test_parse_equation(text, expected):
    assert parse_equation(text) == expected


@pytest.mark.parametrize("text, position", [
    ("z1 + 1 = x", 0),
    ("= x", 0),
    ("z1 =", 4),
    ("z1 = x = y", 7),
    ("2 = x", 0),
    ("z1", 0),
])
def test_parse_equation_errors(text, position):
    with pytest.raises(ParseError) as info:
        parse_equation(text)
    assert info.value.position == position


@pytest.mark.parametrize("text, expected", [
    (r"\frac{1}{2}", True),
    ("x^{2}", True),
    ("w_{12}", True),
    ("(y-ReLU(w_1x))(x)", True),
    ("$x$", True),
    ("(y - relu(w1*x))*x", False),
    ("W0_12 * leaky_relu(x)", False),
    ("x^2 + dC/dz2", False),
])
def test_is_latex(text, expected):
    assert is_latex(text) is expected
