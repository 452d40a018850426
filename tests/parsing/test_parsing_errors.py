"""Errors that help: what is wrong, where (the position), and what to do (the hint)."""
import pytest

from derivcheck.errors import DerivcheckError, LimitError, NameError_, ParseError
from derivcheck.limits import MAX_DIGITS, MAX_NAMES, MAX_NESTING, MAX_TEXT_LENGTH
from derivcheck.names import Namespace
from derivcheck.parsing import parse_equation, parse_formula
from .test_parsing import seed_namespace

SEED_TWO_LAYERS = r"$\frac{dC}{w_2}=(y-ReLU(w_1*ReLU(w_2x))(w_1x)$"
SEED_THREE_LAYERS = r"$\frac{dC}{w_3}=(y-ReLU(w_1*ReLU(w_2(*ReLU(w_3)))(w_1w_2x)$"
LARK_JARGON = ("Expected one of", "LPAR", "RPAR", "$END", "Token(", "UnexpectedToken", "ADDOP",
               "MULOP", "NAME", "NUMBER")


def error_of(text, namespace=None, **kw) -> DerivcheckError:
    with pytest.raises(DerivcheckError) as info:
        parse_formula(text, namespace if namespace is not None else seed_namespace(), **kw)
    err = info.value
    assert err.text == text
    assert isinstance(err.position, int) and 0 <= err.position <= len(text)
    return err


def test_seed_two_layer_question_points_at_the_unclosed_parenthesis():
    err = error_of(SEED_TWO_LAYERS)
    assert type(err) is ParseError
    assert err.position == SEED_TWO_LAYERS.index("=(") + 1
    assert "never closed" in err.message
    assert "(w_1x)" in err.hint
    assert f"column {SEED_TWO_LAYERS.index('(w_1x)') + 1}" in err.hint
    rendered = err.render()
    assert rendered.splitlines()[2].index("^") - 2 == err.position


def test_seed_three_layer_question_points_at_the_unclosed_parenthesis():
    err = error_of(SEED_THREE_LAYERS)
    assert err.position == SEED_THREE_LAYERS.index("=(") + 1
    assert "never closed" in err.message
    assert "(w_1w_2x)" in err.hint
    assert "2 closing brackets" in err.hint


def test_seed_three_layer_question_with_balanced_parentheses_points_at_the_operator():
    text = r"(y-ReLU(w_1*ReLU(w_2(*ReLU(w_3x)))))(w_1w_2x)"
    err = error_of(text)
    assert err.position == text.index("(*") + 1
    assert err.message == "expected an operand before '*'"
    assert "'('" in err.hint


@pytest.mark.parametrize("text, position, words", [
    ("(*ReLU(x))", 1, "expected an operand before '*'"),
    ("x + * y", 4, "expected an operand before '*'"),
    ("max(0,)", 6, "expected an operand before ')'"),
    ("x +", 2, "expected an operand after '+'"),
    ("x ^", 2, "expected an operand after '^'"),
    ("(x))", 3, "')' closes nothing"),
    ("[x)", 2, "'[' at column 1 is closed by ')'"),
    ("relu(x", 4, "'(' is never closed"),
    ("|x", 0, "'|' is never closed"),
    ("x @ y", 2, "unexpected character '@'"),
    ("(x, y)", 2, "',' outside a function's arguments"),
    ("x > 0", 2, "a comparison '>' is read only inside"),
    ("[z1 > 0 > 1]", 8, "a comparison '>' is read only inside"),
    (r"\mathbb{1}[z1]", 13, "expected a comparison"),
    ("relu(x, y)", 0, "relu takes 1 argument, got 2"),
    ("max(x)", 0, "max takes 2 or more arguments, got 1"),
    ("x'", 1, "a prime is read only on an activation"),
    ("(x)'", 3, "a prime (') is read only right after an activation"),
    ("x1'(z)", 2, "cannot read x1'"),
    ("relu", 0, "'relu' is a function"),
    ("1/0", 1, "division by zero"),
    (r"\frac{x}{0}", 0, "division by zero"),
    ("log(0)", 0, "undefined"),
    ("0^-1", 1, "0 raised to a negative power"),
    ("x.y", 1, "unexpected '.'"),
    ("[x = 0]", 3, "'=' inside brackets"),
    (r"\frac{d}{dx} relu(x)", 0, "derivative operator"),
    (r"\frac{\partial z_1}{\partial w_1}", 0, "not a derivative of the loss"),
    (r"\frac{\partial C}{2}", 0, "cannot read"),
    (r"\partial x", 0, "is read only in a derivative of the loss"),
    (r"\input{/etc/passwd}", 0, "unknown LaTeX command '\\input'"),
    (r"\sum_j x_j", 0, "'\\sum' cannot be read"),
    (r"\sqrt[3]{x}", 0, "n-th root"),
    (r"\frac{x}{y", 8, "'{' is never closed"),
    (r"\alpha}", 6, "'}' closes no '{'"),
    (r"x}", 1, "'}' closes nothing"),
    (r"W^{(0)}_", 7, "needs an argument"),
    (r"$_1 x$", 1, "a subscript needs a name"),
    (r"w_1_2", 3, "a second subscript"),
    (r"\begin{matrix} x \end{matrix}", 0, "environment 'matrix'"),
    (r"\left< x \right>", 5, "delimiter"),
    (r"\text{so that} x", 0, "cannot read \\text{so that}"),
    (r"x + \hat{}", 4, "needs a letter"),
    (r"x^{_1}", 3, "a subscript needs a name"),
    ("x 1e99999", 2, "beyond 1000"),
    ("x^2000", 1, "beyond the limit of 1000"),
    ("x^(1/2000)", 1, "beyond the limit of 1000"),
    ("9^9^9^9", 3, "beyond the limit of 1000"),
    (r"9^{9^{9^{9}}}", 4, "beyond the limit of 1000"),
])
def test_error_table(text, position, words):
    err = error_of(text)
    assert words in err.message
    assert err.position == position
    assert err.hint or err.suggestion


def test_empty_input():
    for text in ("", "   ", "$ $", "\n"):
        err = error_of(text)
        assert "empty" in err.message and err.position == 0
    err = error_of("dC/dw1 =")
    assert "empty" in err.message and err.position == len("dC/dw1 =")


def test_unknown_function_lists_the_known_ones():
    err = error_of("foo(x)")
    assert err.message == "unknown function 'foo'" and err.position == 0
    assert "relu" in err.hint and "sigmoid" in err.hint and "leaky_relu" in err.hint
    assert error_of("relux(x)").suggestion == "relu"
    assert error_of("sigmod(x)", Namespace(open=True)).suggestion == "sigmoid"


def test_unknown_name_suggests_the_closest_and_lists_known_names():
    err = error_of("(y - relu(w4*x))*x")
    assert type(err) is NameError_
    assert err.position == 10 and err.suggestion in ("w1", "w2", "w3")
    assert "known names" in err.hint and "w1" in err.hint
    big = Namespace(symbols={f"v{i}": None for i in range(500)})
    assert len(error_of("q", big).hint) < 200


def test_names_that_split_in_several_ways_are_refused():
    import sympy
    ns = Namespace(symbols={n: sympy.Symbol(n) for n in ("a", "b", "c", "ab", "bc")})
    err = error_of("abc", ns)
    assert type(err) is NameError_ and "more than one way" in err.message


def test_missing_loss_derivative_lists_the_known_ones():
    err = error_of("dC/dw3 * x")
    assert type(err) is NameError_ and "dC/dw3" in err.message
    assert "z1" in err.hint


def test_activation_derivative_needs_an_activation():
    err = error_of("f'(a1)")
    assert "activation" in err.message and err.position == 0


def test_no_lark_jargon_in_messages():
    for text in ("(*x)", "x +", "max(0,)", "(x, y)", "x > 0", r"\mathbb{1}[x]", "relu x y",
                 r"\exp", r"\begin{cases} x \end{cases}", "[x >]", "x ^ ^ y", r"\frac{x}{}"):
        err = error_of(text)
        for word in LARK_JARGON:
            assert word not in err.message and word not in (err.hint or ""), (text, word)


def test_limits():
    err = error_of("x" * (MAX_TEXT_LENGTH + 1))
    assert type(err) is LimitError
    err = error_of("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1))
    assert type(err) is LimitError and err.position == MAX_NESTING
    assert type(error_of("x^" * (MAX_NESTING + 1) + "x")) is LimitError
    assert type(error_of("1" * (MAX_DIGITS + 1))) is LimitError
    assert type(error_of("+".join(f"v{i}" for i in range(MAX_NAMES + 1)),
                         Namespace(open=True))) is LimitError
    assert type(error_of("*".join(["10^999"] * 20))) is LimitError
    assert parse_formula("(" * MAX_NESTING + "x" + ")" * MAX_NESTING).expr.name == "x"


def test_hostile_strings_get_clean_errors():
    for text in ("__import__('os')", "().__class__", "exec('1')", "lambda: 0", "os.system"):
        err = error_of(text)
        assert isinstance(err, ParseError)


def test_not_text():
    with pytest.raises(ParseError):
        parse_formula(None)
    with pytest.raises(ParseError):
        parse_equation(b"x = 1")


def test_error_renders_a_caret_under_the_position():
    err = error_of("x + @")
    assert err.render().splitlines()[1:3] == ["  x + @", "      ^"]
