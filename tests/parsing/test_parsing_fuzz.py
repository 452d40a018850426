"""Any text gets an answer quickly: a SymPy expression or a clean error, never a crash.

Random strings and random soups of plain and LaTeX tokens must raise nothing but
ParseError (or its subclasses) and LimitError, with text, position and hint, each in well
under the per-input bound. Hostile inputs (power towers, deep nesting, a megabyte) are
refused quickly. Printed expressions read back to themselves.
"""
import time

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derivcheck.errors import DerivcheckError, LimitError, ParseError
from derivcheck.core import hyperbolic as H
from derivcheck.core.functions import ReLU, Sigmoid, Step
from derivcheck.write.latex import latex
from derivcheck.names import Namespace
from derivcheck.parsing import parse_equation, parse_formula
from derivcheck.core.printing import plain
from .test_parsing import seed_namespace

#: Generous bound for one input on a loaded machine; typical inputs take milliseconds.
PER_INPUT_SECONDS = 5.0
FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

PLAIN_TOKENS = ["x", "y", "w1", "w2", "z1", "a1", "r1", "yhat", "W0", "w1x", "relu", "ReLU", "step",
                "sigmoid", "tanh", "exp", "log", "abs", "max", "min", "leaky_relu", "elu",
                "softplus", "sqrt", "f", "g", "H", "e", "dC", "dz1", "dw1", "foo", "/", "*", "+",
                "-", "^", "**", "(", ")", "[", "]", "{", "}", "|", ",", ">", ">=", "<", "<=", "=",
                "'", ".", ";", "0", "1", "2.5", "1e-3", "9", " ", "\u2202", "\u03c3", "\u0177",
                "\u00b7", "@", "_", "\\", "#", "\u2265", "e99999", "0.000"]
LATEX_TOKENS = [r"\frac", "{", "}", "^", "_", r"\partial", "C", "J", "w", "1", "2", "x", "y", "z",
                "r", "W", "d", r"\hat", r"\cdot", r"\times", r"\odot", r"\left(", r"\right)",
                r"\left|", r"\right|", r"\left[", r"\right]", "(", ")", "[", "]", r"\mathbb{1}",
                r"\mathbf{1}", r"\begin{cases}", r"\end{cases}", "&", r"\\", r"\text{if }",
                r"\text{otherwise}", r"\sigma", r"\tanh", r"\exp", r"\log", r"\max", r"\sqrt",
                "'", r"\prime", r"\,", r"\;", r"\quad", r"\ge", r"\le", ">", "<", "=", "ReLU",
                "Step", r"\mathrm{d}", "(0)", "[1]", "(k+1)", "T", r"\top", r"\operatorname{relu}",
                r"\text{ReLU}", "$", ".", ",", r"\alpha", r"\mathbf{W}", r"\{", r"\}", "^{(0)}",
                "_{12}", "e", "-", "+", "*", "/", r"\dfrac", r"\lvert", r"\rvert", r"\foo", "%",
                "~", " ", r"\sum", r"\begin{aligned}", r"\end{aligned}", r"\mathcal{L}", "f"]


def answers_cleanly(text, namespace=None, latex_flag=None):
    """Parse; the only allowed failure is a DerivcheckError that locates itself."""
    start = time.process_time()
    try:
        result = parse_formula(text, namespace, latex=latex_flag)
    except DerivcheckError as err:
        assert isinstance(err, (ParseError, LimitError)), type(err)
        assert err.text == text
        assert isinstance(err.position, int) and 0 <= err.position <= len(text), err.position
        assert err.hint or err.suggestion, err.message
        err.render()
    else:
        assert isinstance(result.expr, sympy.Basic)
        assert result.wrt is None or isinstance(result.wrt, str)
    assert time.process_time() - start < PER_INPUT_SECONDS


@FUZZ
@given(st.text(max_size=80))
def test_random_text(text):
    answers_cleanly(text)
    answers_cleanly(text, seed_namespace())


def soup(vocabulary):
    """Texts made of tokens from ``vocabulary``, glued or spaced."""
    return st.tuples(st.lists(st.sampled_from(vocabulary), max_size=30),
                     st.sampled_from(["", " "])).map(lambda pair: pair[1].join(pair[0]))


@FUZZ
@given(soup(PLAIN_TOKENS))
def test_plain_token_soup(text):
    answers_cleanly(text, latex_flag=False)
    answers_cleanly(text, seed_namespace())


@FUZZ
@given(soup(LATEX_TOKENS))
def test_latex_token_soup(text):
    answers_cleanly(text, latex_flag=True)
    answers_cleanly(text, seed_namespace(), latex_flag=True)


@FUZZ
@given(st.lists(st.sampled_from(PLAIN_TOKENS), max_size=20))
def test_equation_soup(tokens):
    text = "z1 = " + " ".join(tokens)
    try:
        name, expr = parse_equation(text)
    except DerivcheckError as err:
        assert isinstance(err, (ParseError, LimitError)) and 0 <= err.position <= len(text)
    else:
        assert name == "z1" and isinstance(expr, sympy.Basic)


HOSTILE = [
    "9^{9^{9^{9}}}",
    "9^9^9^9",
    "(" * 10**5 + "x" + ")" * 10**5,
    "[" * 10**5,
    r"\frac{" * 10**4,
    "x" * 10**6,
    "__import__('os')",
    "__import__('os').system('true')",
    r"\input{/etc/passwd}",
    r"\include{x}\write18{ls}",
    "x^" * 10**4 + "x",
    "e^" * 300 + "1",
    "10^999 * " * 30 + "1",
    "(10^999)^999",
    "1e99999999999999999999",
    "9" * 10**4,
    "|" * 10**4,
    "\x00\x01\x02",
    "relu(" * 300 + "x" + ")" * 300,
    "\\" * 1000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_are_refused_quickly(text):
    start = time.process_time()
    with pytest.raises(DerivcheckError) as info:
        parse_formula(text)
    assert isinstance(info.value, (ParseError, LimitError))
    assert 0 <= info.value.position <= len(text)
    assert time.process_time() - start < PER_INPUT_SECONDS


def test_long_flat_sum_has_no_recursion_limit():
    terms = 20_000
    assert parse_formula("+".join(["x"] * terms)).expr == terms * sympy.Symbol("x")


# -- printing and reading back -----------------------------------------------------------

NAMES = sympy.symbols("w1 x y W0_12")
ROUND_TRIP_NAMESPACE = Namespace(symbols={str(s): s for s in NAMES})


def _expressions():
    leaves = st.sampled_from(NAMES) | st.integers(1, 4).map(sympy.Integer)
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(ReLU, inner), st.builds(Step, inner), st.builds(Sigmoid, inner),
        st.builds(H.tanh, inner), st.builds(sympy.exp, inner),
        st.builds(lambda a, b: a + b, inner, inner), st.builds(lambda a, b: a - b, inner, inner),
        st.builds(lambda a, b: a * b, inner, inner), st.builds(lambda a, b: a / b, inner, inner),
    ), max_leaves=8)


def _readable(expr) -> bool:
    return not expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _same(got, expr) -> bool:
    """Equal, or equal once expanded: SymPy distributes ``2*(a + b)`` when it is built alone but
    not inside a longer product, so reading a product in another order may distribute it."""
    return got == expr or sympy.expand(got - expr) == 0


@pytest.mark.parametrize("printer, is_latex", [(latex, True), (plain, False)])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions())
def test_printer_round_trip(printer, is_latex, expr):
    assume(_readable(expr))
    text = printer(expr)
    assert _same(parse_formula(text, ROUND_TRIP_NAMESPACE, latex=is_latex).expr, expr), text


@pytest.mark.parametrize("expr", [1 / NAMES[0], NAMES[1] + 1 / (NAMES[0] + 1)])
def test_latex_printer_round_trip_of_reciprocals(expr):
    assert parse_formula(latex(expr), ROUND_TRIP_NAMESPACE, latex=True).expr == expr
