r"""LaTeX as people write it, and every formula of seed 003 as written.

Seed 003 (a Data Science Stack Exchange question and its accepted answer) derives dC/dw
for ReLU chains: the question's formulas are wrong (one has unbalanced parentheses), the
answer's are right. Its notation is the reference for what the LaTeX reader must accept.
"""
import pytest
import sympy
from sympy import Rational, Symbol, exp, log, sqrt

from derivcheck.errors import ParseError
from derivcheck.core.functions import Absolute, IsNonNeg, IsPos, Max2, ReLU, Sigmoid, Step
from derivcheck.core.hyperbolic import tanh
from derivcheck.names import Namespace
from derivcheck.parsing import parse_formula
from .test_parsing import ADJ, seed_namespace

S = Symbol
w1, w2, w3, w12, x, y, z, z1, z2, a1, a2, yhat, W0, W1, W1_12 = sympy.symbols(
    "w1 w2 w3 w12 x y z z1 z2 a1 a2 yhat W0 W1 W1_12")


def read(text, namespace=None):
    result = parse_formula(text, namespace if namespace is not None else seed_namespace(),
                           latex=True)
    assert result.latex is True
    return result.expr


LATEX = [
    # names: markup dropped, layer indices are not powers
    (r"w_1 x", w1 * x),
    (r"w_{1}x", w1 * x),
    (r"w_1x", w1 * x),
    (r"w_1w_2x", w1 * w2 * x),
    (r"W^{(0)}x", W0 * x),
    (r"W^{[1]}", W1),
    (r"W^{(1)}_{12}", W1_12),
    (r"W_{12}^{(1)}", W1_12),
    (r"z^{(1)}", z1),
    (r"r^{(1)}", a1),
    (r"a^{[2]}", a2),
    (r"\hat{y}", yhat),
    (r"\hat y", yhat),
    (r"\widehat{y}", yhat),
    (r"\hat{Y}", yhat),
    (r"xy", x * y),
    (r"2xy", 2 * x * y),
    (r"ReLU(xy)", ReLU(x * y)),
    # operators and grouping
    (r"x \cdot y", x * y),
    (r"x \times y", x * y),
    (r"x \odot y", x * y),
    (r"x \div y", x / y),
    (r"x^2", x**2),
    (r"x^{2}", x**2),
    (r"x^{-1}", 1 / x),
    (r"x^-1", 1 / x),
    (r"x^{12}", x**12),
    (r"(y - \hat y)^2", (y - yhat)**2),
    (r"x^T w_1", x * w1),
    (r"x^{T}", x),
    (r"x^\top", x),
    (r"W^{(0)T}x", W0 * x),
    (r"\left( x + y \right) z", (x + y) * z),
    (r"\left[ x + y \right] z", (x + y) * z),
    (r"\bigl( x + y \bigr) z", (x + y) * z),
    (r"{x + y}z", (x + y) * z),
    (r"\frac{x}{y}", x / y),
    (r"\dfrac{x}{y} + \tfrac{1}{2}", x / y + Rational(1, 2)),
    (r"\frac12 x", x / 2),
    (r"\frac{1}{2}(y - \hat{y})^2", (y - yhat)**2 / 2),
    (r"x / \frac{y}{z}", x * z / y),
    (r"\sqrt{x}", sqrt(x)),
    (r"x\,y\;z\!w_1\quad w_2~w_3", x * y * z * w1 * w2 * w3),
    (r"$x + y$", x + y),
    (r"x + y.", x + y),
    (r"x + y,", x + y),
    # functions
    (r"ReLU(x)", ReLU(x)),
    (r"\text{ReLU}(x)", ReLU(x)),
    (r"\mathrm{ReLU}(x)", ReLU(x)),
    (r"\operatorname{relu}(x)", ReLU(x)),
    (r"\operatorname{ReLU}\left(w_1 x\right)", ReLU(w1 * x)),
    (r"\mathrm{Step}(x)", Step(x)),
    (r"Step(x)", Step(x)),
    (r"H(x)", Step(x)),
    (r"\sigma(x)", Sigmoid(x)),
    (r"\tanh(x)", tanh(x)),
    (r"\tanh x", tanh(x)),
    (r"\exp(x)", exp(x)),
    (r"\exp\left(x\right)", exp(x)),
    (r"\log(x)", log(x)),
    (r"\ln(x)", log(x)),
    (r"\max(0, x)", Max2(0, x)),      # a max, not a ReLU: their slopes at a tie differ
    (r"\max\{0, x\}", Max2(0, x)),
    (r"|x|", Absolute(x)),
    (r"\left| x \right|", Absolute(x)),
    (r"\lvert x \rvert", Absolute(x)),
    (r"e^{x}", exp(x)),
    (r"e^{-x}", exp(-x)),
    (r"e^x", exp(x)),
    # activation derivatives
    (r"\sigma'(z_1)", Sigmoid(z1) * (1 - Sigmoid(z1))),
    (r"\sigma^{\prime}(z_1)", Sigmoid(z1) * (1 - Sigmoid(z1))),
    (r"ReLU'(z_1)", Step(z1)),
    (r"\text{ReLU}'(z)", Step(z)),
    (r"\tanh'(z)", 1 - tanh(z)**2),
    (r"f'(z^{(1)})", Step(z1)),
    (r"g'(z_2)", Step(z2)),
    # Iverson brackets and cases
    (r"[z > 0]", IsPos(z)),
    (r"[z \gt 0]", IsPos(z)),
    (r"[z \lt 0]", IsPos(-z)),
    (r"[z \ge 0]", IsNonNeg(z)),
    (r"[z \geq 0]", IsNonNeg(z)),
    (r"[z \le 0]", IsNonNeg(-z)),
    (r"[z \leq 0]", IsNonNeg(-z)),
    (r"[z >= 0]", IsNonNeg(z)),
    (r"\mathbb{1}[z > 0]", IsPos(z)),
    (r"\mathbb{1}_{z \ge 0}", IsNonNeg(z)),
    (r"\mathbf{1}\{z < 0\}", IsPos(-z)),
    (r"\mathbb{1}\left[z > 0\right]", IsPos(z)),
    (r"\mathbb{1}(z \geq 0)", IsNonNeg(z)),
    (r"1_{z > 0}", IsPos(z)),
    (r"\begin{cases} 0, & \text{if } x < 0, \\ x, & \text{otherwise}. \end{cases}",
     x * (1 - IsPos(-x))),
    (r"\begin{cases} x & x > 0 \\ 0 & x \le 0 \end{cases}", x * IsPos(x)),
    (r"\begin{cases} 1 & \text{if } z > 0 \\ 0 & \text{else} \end{cases}", IsPos(z)),
    # loss derivatives stand for their symbols
    (r"\frac{\partial C}{\partial a_1}", ADJ["a1"]),
    (r"\frac{\partial C}{\partial r^{(1)}}", ADJ["a1"]),
    (r"\frac{dC}{dz_2}", ADJ["z2"]),
    (r"\frac{\mathrm{d}C}{\mathrm{d}z_1}", ADJ["z1"]),
    (r"\frac{\partial J}{\partial z_1}", ADJ["z1"]),
    (r"\frac{\partial \mathcal{L}}{\partial z_1}", ADJ["z1"]),
    (r"\frac{\partial E}{\partial z_1}", ADJ["z1"]),
    (r"\frac{\partial Cost}{\partial z_1}", ADJ["z1"]),
    (r"\frac{\partial Loss}{\partial \hat{y}}", ADJ["yhat"]),
    (r"\partial C / \partial z^{(2)}", ADJ["z2"]),
    (r"dC/dz_2", ADJ["z2"]),
    (r"dz^{[2]} W^{[1]}", ADJ["z2"] * W1),
    (r"\frac{\partial C}{\partial z^{(2)}} w_2 Step(z^{(1)})", ADJ["z2"] * w2 * Step(z1)),
]


@pytest.mark.parametrize("text, expected", LATEX)
def test_latex_table(text, expected):
    assert read(text) == expected


def test_latex_is_detected():
    assert parse_formula(r"\frac{x}{2}", seed_namespace()).latex is True


def test_open_namespace_reads_letters_and_greek():
    alpha = S("alpha")
    assert parse_formula(r"\alpha x^{(1)}", latex=True).expr == alpha * S("x1")
    assert parse_formula(r"xy", latex=True).expr == x * y
    assert parse_formula(r"w_{12}", latex=True).expr == w12
    assert parse_formula(r"dz^{[2]}", latex=True).expr == S("dC/dz2")
    assert parse_formula(r"\pi r^2", latex=True).expr == sympy.pi * S("r")**2


def test_readings_say_how_names_were_read():
    f = parse_formula(r"W^{(0)} \hat{y} W_2", Namespace(symbols={"W0": W0, "yhat": yhat, "w2": w2}))
    assert f.expr == W0 * yhat * w2
    assert "read W^{(0)} as W0" in f.readings
    assert "read \\hat{y} as yhat" in f.readings
    assert "read W_2 as w2 (letter case)" in f.readings


@pytest.mark.parametrize("text, wrt", [
    (r"\frac{\partial C}{\partial w_2} = x", "w2"),
    (r"\frac{dC}{dw_1} = x", "w1"),
    (r"\frac{dC}{w_1} = x", "w1"),
    (r"dC/dw_2 = x", "w2"),
    (r"dw^{[1]} = x", "w1"),
    (r"dW^{[1]} = x", "W1"),
    (r"\frac{\partial C}{\partial W^{(1)}_{12}} = x", "W1_12"),
    (r"$\frac{\partial C}{\partial W^{(0)}}=x$", "W0"),
])
def test_latex_left_sides(text, wrt):
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == (wrt, x)


def test_typo_left_side_is_read_with_a_warning():
    f = parse_formula(r"\frac{dC}{w_1} = x", seed_namespace())
    assert any("missing" in w for w in f.warnings)


# -- seed 003: the question -----------------------------------------------------------

def test_seed_question_one_layer():
    f = parse_formula(r"$\frac{dC}{w_1}=(y-ReLU(w_1x))(x)$", seed_namespace())
    assert (f.wrt, f.expr) == ("w1", (y - ReLU(w1 * x)) * x)


def test_seed_question_chain_rule_line():
    # dC/dR dR/dw_1: R is not a quantity of the network, dR/dw_1 no loss derivative
    with pytest.raises(ParseError):
        parse_formula(r"$\frac{dC}{dw_1}=\frac{dC}{dR}\frac{dR}{dw_1}$", seed_namespace())


def test_seed_question_two_layers_balanced():
    f = parse_formula(r"$\frac{dC}{w_2}=(y-ReLU(w_1*ReLU(w_2x)))(w_1x)$", seed_namespace())
    assert (f.wrt, f.expr) == ("w2", (y - ReLU(w1 * ReLU(w2 * x))) * w1 * x)


def test_seed_question_three_layers_balanced():
    f = parse_formula(r"$\frac{dC}{w_3}=(y-ReLU(w_1*ReLU(w_2*ReLU(w_3x))))(w_1w_2x)$",
                      seed_namespace())
    assert (f.wrt, f.expr) == ("w3", (y - ReLU(w1 * ReLU(w2 * ReLU(w3 * x)))) * w1 * w2 * x)


def test_seed_question_since_lines():
    assert read(r"ReLU(w_1*ReLU(w_2x))=w_1w_2x") == w1 * w2 * x
    assert read(r"ReLU(w_1*ReLU(w_2*ReLU(w_3x)))=w_1w_2w_3x") == w1 * w2 * w3 * x


def test_seed_question_cost():
    assert read(r"\frac{1}{2}(y-\hat y)^2") == (y - yhat)**2 / 2


# -- seed 003: the answer -------------------------------------------------------------

def test_seed_answer_relu_definition():
    text = r"$ReLU(x) = \begin{cases} 0, & \text{if } x < 0, \\ x, & \text{otherwise}. \end{cases}$"
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == (None, x * (1 - IsPos(-x)))


def test_seed_answer_relu_derivative():
    text = (r"$\frac{d}{dx} ReLU(x) = \begin{cases} 0, & \text{if } x < 0, \\ 1, & "
            r"\text{otherwise}. \end{cases}$")
    assert parse_formula(text, seed_namespace()).expr == 1 - IsPos(-x)


def test_seed_answer_forward_equations():
    assert read(r"$z^{(1)} = W^{(0)}x$") == W0 * x
    assert read(r"$\hat{y} = r^{(1)} = ReLU(z^{(1)})$") == ReLU(z1)
    assert read(r"$C = \frac{1}{2}(y-\hat{y})^2$") == (y - yhat)**2 / 2


def test_seed_answer_output_gradient():
    text = (r"$\frac{\partial C}{\partial \hat{y}} = \frac{\partial C}{\partial r^{(1)}} = "
            r"\frac{\partial}{\partial r^{(1)}}\frac{1}{2}(y-r^{(1)})^2 = "
            r"\frac{1}{2}\frac{\partial}{\partial r^{(1)}}(y^2 - 2yr^{(1)} + (r^{(1)})^2) = "
            r"r^{(1)} - y$")
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == ("yhat", a1 - y)


def test_seed_answer_pre_activation_gradient():
    text = (r"$\frac{\partial C}{\partial z^{(1)}} = \frac{\partial C}{\partial r^{(1)}} "
            r"\frac{\partial r^{(1)}}{\partial z^{(1)}} = (r^{(1)} - y)Step(z^{(1)}) = "
            r"(ReLU(z^{(1)}) - y)Step(z^{(1)})$")
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == ("z1", (ReLU(z1) - y) * Step(z1))
    assert read(r"(r^{(1)} - y)Step(z^{(1)})") == (a1 - y) * Step(z1)


def test_seed_answer_weight_gradient():
    text = (r"$\frac{\partial C}{\partial W^{(0)}} = \frac{\partial C}{\partial z^{(1)}} "
            r"\frac{\partial z^{(1)}}{\partial W^{(0)}} = (ReLU(z^{(1)}) - y)Step(z^{(1)})x = "
            r"(ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x$")
    f = parse_formula(text, seed_namespace())
    assert (f.wrt, f.expr) == ("W0", (ReLU(W0 * x) - y) * Step(W0 * x) * x)
    assert read(r"(ReLU(z^{(1)}) - y)Step(z^{(1)})x") == (ReLU(z1) - y) * Step(z1) * x


def test_seed_answer_general_layer_equations():
    one = (r"$\frac{\partial C}{\partial z^{(k+1)}_j} = \frac{\partial C}{\partial r^{(k+1)}_j} "
           r"\frac{\partial r^{(k+1)}_j}{\partial z^{(k+1)}_j} = \frac{\partial C}{\partial "
           r"r^{(k+1)}_j}Step(z^{(k+1)}_j)$")
    f = parse_formula(one)
    assert (f.wrt, f.expr) == ("zk1_j", S("dC/drk1_j") * Step(S("zk1_j")))
    assert "read z^{(k+1)}_j as zk1_j" in f.readings
    three = (r"$\frac{\partial C}{\partial W^{(k)}_{ij}} = \frac{\partial C}{\partial "
             r"z^{(k+1)}_j} \frac{\partial z^{(k+1)}_j}{\partial W^{(k)}_{ij}} = \frac{\partial C}"
             r"{\partial z^{(k+1)}_j} r^{(k)}_{i}$")
    f = parse_formula(three)
    assert (f.wrt, f.expr) == ("Wk_ij", S("dC/dzk1_j") * S("rk_i"))
    assert read(r"z^{(k+1)}_j", Namespace(open=True)) == S("zk1_j")


def test_seed_answer_sum_is_refused_clearly():
    two = (r"$\frac{\partial C}{\partial r^{(k)}_i} = \sum_{\forall j} \frac{\partial C}"
           r"{\partial z^{(k+1)}_j} W^{(k)}_{ij}$")
    with pytest.raises(ParseError) as info:
        parse_formula(two)
    assert "\\sum" in info.value.message
    assert info.value.position == two.index("\\sum")
