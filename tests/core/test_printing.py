"""derivcheck.core.printing: plain syntax, as a table of (expression, text)."""
from fractions import Fraction

import mpmath
import pytest
import sympy
from sympy import Rational, Symbol, exp, log, symbols, tanh

from derivcheck.core.functions import (
    CELU, ELU, GELU, SELU, Absolute, HardTanh, IsNonNeg, IsPos, LeakyReLU, Max2, Min2,
    NecroReLU, PReLU, ReLU, ReLU6, Sigmoid, Softplus, Step, Swish,
)
from derivcheck.core.network import chain
from derivcheck.core.printing import format_value, plain

a, w, x, y, z = symbols("a w x y z")


@pytest.mark.parametrize("expr, text", [
    # sums: positive terms first
    (a - y, "a - y"),
    (y - a, "y - a"),
    (-a - y, "-a - y"),
    (3 - 2 * x, "3 - 2*x"),
    (y - x / 2, "y - x/2"),
    (-x, "-x"),
    (Rational(-1, 2), "-1/2"),
    (x - w * (a - y), "x - (a - y)*w"),
    # products and powers
    (x * (a - y), "(a - y)*x"),
    ((a - y) ** 2 / 2, "(a - y)**2/2"),
    (1 / (a - y), "1/(a - y)"),
    (x ** 2, "x**2"),
    # derivcheck's functions under their plain names
    (Step(w * x) * x, "step(w*x)*x"),
    (Step(z) - Step(-z), "step(z) - step(-z)"),
    ((ReLU(w * x) - y) * Step(w * x) * x, "(relu(w*x) - y)*step(w*x)*x"),
    (IsPos(z), "[z > 0]"),
    (IsNonNeg(z - 1), "[z - 1 >= 0]"),
    (2 * IsPos(-z), "2*[-z > 0]"),
    (IsPos(w) + LeakyReLU(x, Rational(1, 100)), "[w > 0] + leaky_relu(x, 1/100)"),
    (PReLU(z, a), "leaky_relu(z, a)"),
    (NecroReLU(z, Rational(1, 10)), "necro_relu(z, 1/10)"),
    (ELU(z, 1), "elu(z, 1)"),
    (SELU(z), "selu(z)"),
    (CELU(z, 2), "celu(z, 2)"),
    (Softplus(z), "softplus(z)"),
    (Sigmoid(z) * (1 - Sigmoid(z)), "(1 - sigmoid(z))*sigmoid(z)"),
    (HardTanh(z), "hardtanh(z)"),
    (ReLU6(z), "relu6(z)"),
    (GELU(z), "gelu(z)"),
    (Swish(z), "swish(z)"),
    (Absolute(z), "abs(z)"),
    (Max2(x, 0), "max(x, 0)"),
    (Min2(x, y), "min(x, y)"),
    (tanh(z), "tanh(z)"),
    (exp(-z), "exp(-z)"),
    (log(1 - a), "log(1 - a)"),
    # names
    (Symbol("W0_12") * x, "W0_12*x"),
    (Symbol("dC/dz2") * w * Step(z), "dC/dz2*step(z)*w"),
])
def test_plain(expr, text):
    assert plain(expr) == text


def test_seed_gradient_prints_like_the_contract():
    net = chain(["w1"], "relu")
    assert plain(net.gradient("w1")) == "(relu(w1*x) - y)*step(w1*x)*x"
    assert plain(net.gradient("w1", form="inline")) == "(a1 - y)*step(z1)*x"


def test_backward_definitions_print_like_the_seed():
    bw = chain(["w1", "w2", "w3"], "relu").backward()
    texts = {str(k): plain(v) for k, v in bw.compact().items()}
    assert texts == {"dC/dz3": "(a3 - y)*step(z3)", "dC/dz2": "dC/dz3*w3*step(z2)",
                     "dC/dz1": "dC/dz2*w2*step(z1)"}


def test_unknown_functions_print_as_sympy_does():
    f = sympy.Function("f")
    assert plain(2 * f(x)) == "2*f(x)"


def test_format_value():
    assert format_value(Fraction(3, 7)) == "3/7"
    assert format_value(Fraction(4)) == "4"
    assert format_value(mpmath.mpf(1) / 3, digits=5) == "0.33333"
