"""The LaTeX printer: names, functions and line breaking, as tables."""
import re

import pytest
import sympy
from sympy import Mul, Rational, Symbol, exp, symbols, tanh

from derivcheck.core import functions as F
from derivcheck.write.latex import WIDTH, align_row, latex, latex_name, latex_pieces, tex_width
from derivcheck.core.network import chain, mlp

z, x, y, w1, W0 = symbols("z1 x y w1 W0")

NAMES = [
    ("W0", "W^{(0)}"),
    ("W1_12", "W^{(1)}_{12}"),
    ("W10_1_2", "W^{(10)}_{1,2}"),
    ("z1", "z^{(1)}"),
    ("z1_2", "z^{(1)}_{2}"),
    ("a2", "a^{(2)}"),
    ("r2", "r^{(2)}"),
    ("h3", "h^{(3)}"),
    ("w1", "w_{1}"),
    ("w12", "w_{12}"),
    ("x1", "x_{1}"),
    ("b2", "b_{2}"),
    ("b1_3", "b^{(1)}_{3}"),
    ("x", "x"),
    ("C", "C"),
    ("yhat", r"\hat{y}"),
    ("yhat2", r"\hat{y}_{2}"),
    ("alpha", r"\alpha"),
    ("alpha1", r"\alpha_{1}"),
    ("pre1", r"\mathit{pre}_{1}"),
    ("w_hidden", r"w_{\mathrm{hidden}}"),
    ("dC/dz2", r"\frac{\partial C}{\partial z^{(2)}}"),
    ("dC/dW0_12", r"\frac{\partial C}{\partial W^{(0)}_{12}}"),
    ("dC/dyhat", r"\frac{\partial C}{\partial \hat{y}}"),
]


@pytest.mark.parametrize("name, expected", NAMES)
def test_names(name, expected):
    assert latex_name(name) == expected
    assert latex(Symbol(name)) == expected


EXPRESSIONS = [
    (F.ReLU(z), r"\operatorname{ReLU}(z^{(1)})"),
    (F.Step(z), r"\operatorname{Step}(z^{(1)})"),
    (F.Sigmoid(z), r"\sigma(z^{(1)})"),
    (F.IsPos(z), r"[z^{(1)} > 0]"),
    (F.IsNonNeg(z), r"[z^{(1)} \ge 0]"),
    (F.LeakyReLU(z, Rational(1, 100)),
     r"\operatorname{LeakyReLU}\left(z^{(1)}, \frac{1}{100}\right)"),
    (F.PReLU(z, Symbol("alpha")), r"\operatorname{PReLU}(z^{(1)}, \alpha)"),
    (F.ELU(z, 1), r"\operatorname{ELU}(z^{(1)}, 1)"),
    (F.Absolute(z), r"|z^{(1)}|"),
    (F.Max2(z, 0), r"\max(z^{(1)}, 0)"),
    (F.Min2(z, 1), r"\min(z^{(1)}, 1)"),
    (F.HardTanh(z), r"\operatorname{HardTanh}(z^{(1)})"),
    (F.Softplus(z), r"\operatorname{softplus}(z^{(1)})"),
    (F.ReLU6(z), r"\operatorname{ReLU6}(z^{(1)})"),
    (tanh(z), r"\tanh(z^{(1)})"),
    (1 - tanh(z) ** 2, r"1 - \tanh(z^{(1)})^{2}"),
    (F.Sigmoid(z) ** 2, r"\sigma(z^{(1)})^{2}"),
    (exp(-z), r"e^{- z^{(1)}}"),
    (F.Step(w1 * x), r"\operatorname{Step}(w_{1} x)"),
    ((F.ReLU(W0 * x) - y) * F.Step(W0 * x) * x,
     r"x \, (\operatorname{ReLU}(W^{(0)} x) - y) \, \operatorname{Step}(W^{(0)} x)"),
    ((y - x) ** 2 / 2, r"\frac{1}{2} \, (y - x)^{2}"),
    (-x * y, r"- x y"),
    (x / y, r"\frac{x}{y}"),
    (Symbol("dC/dz2") * w1, r"\frac{\partial C}{\partial z^{(2)}} \, w_{1}"),
    (F.Step(x / y), r"\operatorname{Step}\left(\frac{x}{y}\right)"),
    (F.Absolute(x / y), r"\left|\frac{x}{y}\right|"),
    (Mul(2, 3, x, evaluate=False), r"2 \cdot 3 x"),
]


@pytest.mark.parametrize("expr, expected", EXPRESSIONS)
def test_expressions(expr, expected):
    assert latex(expr) == expected


WIDTHS = [
    ("x", 1.0),
    ("x + y", 4.4),
    ("X", 1.3),
    (r"\frac{\partial C}{\partial z^{(2)}}", 4.35),
    (r"\operatorname{Step}(z)", 6.8),
    (r"\left(x\right)", 2.5),
    (r"a \quad b", 4.0),
    ("z^{(1)}_{2}", 2.75),  # the subscript sits under the superscript
    ("z^{(k-1)}", 4.15),  # no space around a minus in a superscript
]


@pytest.mark.parametrize("tex, width", WIDTHS)
def test_widths(tex, width):
    assert tex_width(tex) == width


def test_pieces_of_sums_and_products():
    a, b = symbols("a b")
    assert latex_pieces(a * b - y) == [("", "a"), ("", "b"), ("-", "y")]
    assert latex_pieces(-a * b) == [("-", "a"), ("", "b")]
    assert latex_pieces(x / y) == [("", r"\frac{x}{y}")]
    # a short bracketed sum stays whole
    assert latex_pieces(x * (a + b)) == [("", "x"), ("", "(a + b)")]
    # a long one is cut between its terms, never inside a term
    v = symbols("v1:9")
    long_sum = sum(w * F.ReLU(t) for w, t in zip(v[:4], v[4:])) - y
    pieces = latex_pieces(x * long_sum)
    assert [joiner for joiner, _ in pieces] == ["", "", "+", "+", "+", "-"]
    assert pieces[1] == ("", r"(v_{1} \, \operatorname{ReLU}(v_{5})")
    assert pieces[-1] == ("-", "y)")


def test_align_row_breaks_long_products_with_cdot():
    row = align_row("f", Mul(*symbols("w1:31"), evaluate=False), width=30)
    lines = row.split("\\\\*\n")
    assert len(lines) > 2
    assert lines[0].startswith("f &= w_{1}")
    assert all(line.startswith(r"&\quad \cdot ") for line in lines[1:])
    assert all(tex_width(line) <= 30 for line in lines)
    # every factor appears once, in order
    assert re.findall(r"w_\{(\d+)\}", row) == [str(i) for i in range(1, 31)]


def test_align_row_breaks_sums_with_their_signs():
    terms = symbols("v1:21")
    row = align_row("g", sympy.Add(*terms) - y, width=25)
    lines = row.split("\\\\*\n")
    assert len(lines) > 1
    assert all(re.match(r"&\\quad [+-] ", line) for line in lines[1:])
    assert lines[-1].endswith("- y")


def test_align_row_puts_a_side_that_does_not_fit_on_a_new_line():
    row = align_row(r"\frac{\partial C}{\partial w_{1}}", "A" * 30, "B" * 30, tag=3)
    assert row == ("\\frac{\\partial C}{\\partial w_{1}} &= " + "A" * 30 + " \\tag{3} \\\\*\n"
                   "&= " + "B" * 30)


def test_deep_chain_gradient_fits_the_page():
    net = chain([f"w{i}" for i in range(1, 51)], "relu")
    bw = net.backward()
    grad = bw.inline(bw.gradients[Symbol("w1")])
    lhs = latex(Symbol("dC/dw1"))
    row = align_row(lhs, grad)
    lines = row.split("\\\\*\n")
    assert len(lines) >= 8
    assert max(tex_width(line) for line in lines) <= WIDTH
    assert row.count(r"\operatorname{Step}") == 50


def test_mlp_names():
    net = mlp([2, 3, 1], ["relu", "identity"])
    z = net.graph.nodes[0]
    assert latex(z.symbol) == "z^{(1)}_{1}"
    assert latex(z.expr) == r"W^{(0)}_{11} x_{1} + W^{(0)}_{21} x_{2}"


def test_nesting_is_measured_without_recursion():
    from derivcheck.write.latex import MAX_NESTING, nesting
    net = chain([f"w{i}" for i in range(1, 401)], "relu")
    deep = net.backward().expand(net.graph.nodes[-2].expr)  # a400 = ReLU(... 400 levels)
    assert nesting(deep) > 400 > MAX_NESTING
    assert nesting(F.ReLU(x) + y) == 3
