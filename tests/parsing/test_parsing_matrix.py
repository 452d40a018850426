"""Matrix formulas through the one grammar: numpy-like and LaTeX."""
from __future__ import annotations

import pytest

from derivcheck.core.matrix import expr as mx
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.errors import ParseError
from derivcheck.parsing import parse_formula


@pytest.fixture(scope="module")
def ns():
    return MatrixNetwork(["n0", "n1", 2], "relu,sigmoid", "half_squared", batch="m",
                         bias=True).namespace


@pytest.mark.parametrize("text,shape,reading", [
    ("dZ1 @ X.T", ("n1", "n0"), "dZ1 @ X.T"),
    ("np.dot(dZ1, X.T) / m", ("n1", "n0"), "dZ1 @ X.T / m"),
    ("np.sum(dZ1, axis=1, keepdims=True)", ("n1", 1), "np.sum(dZ1, axis=1, keepdims=True)"),
    ("np.sum(dZ1, axis=1)", ("n1",), "np.sum(dZ1, axis=1)"),
    ("np.mean(dZ1, axis=1, keepdims=True)", ("n1", 1), "/ m"),
    ("np.maximum(0, Z1)", ("n1", "m"), "max(0, Z1)"),
    ("np.where(Z1 > 0, 1, 0)", ("n1", "m"), "(Z1 > 0)"),
    ("(Z1 > 0) * dA1", ("n1", "m"), "(Z1 > 0) * dA1"),
    ("A1**2", ("n1", "m"), "A1**2"),
    ("np.exp(Z2) / np.sum(np.exp(Z2), axis=0, keepdims=True)", (2, "m"), "exp(Z2)"),
    (r"\frac{1}{m} dZ^{[1]} X^T", ("n1", "n0"), "1/m * dZ1 @ X.T"),
    (r"\frac{1}{m} dZ^{[1]} X^{\top}", ("n1", "n0"), "X.T"),
    (r"\frac{1}{m} dZ^{[1]} \cdot X^{\intercal}", ("n1", "n0"), "X.T"),
    (r"W^{[2]T} dZ^{[2]} \odot g'(Z^{[1]})", ("n1", "m"), "W2.T @ dZ2 * relu'(Z1)"),
    (r"(W^{[2]})^T dZ^{[2]} \circ (1 - (A^{[1]})^2)", ("n1", "m"), "1 - A1**2"),
    # deeplearning.ai's slides mix the two: numpy calls inside LaTeX
    (r"\frac{1}{m} np.sum(dZ^{[1]}, axis=1, keepdims=True)", ("n1", 1),
     "1/m * np.sum(dZ1, axis=1, keepdims=True)"),
    (r"np.dot(W^{[2]T}, dZ^{[2]}) * (1 - np.power(A^{[1]}, 2))", ("n1", "m"), "W2.T @ dZ2"),
])
def test_matrix_formulas(ns, text, shape, reading):
    f = parse_formula(text, ns)
    assert isinstance(f.expr, mx.MExpr)
    assert f.expr.shape == shape
    assert reading in f.expr.text()


def test_product_that_does_not_fit_is_no_parse_error(ns):
    f = parse_formula("X @ dZ1", ns)
    assert f.expr.shape is None and "does not fit" in f.expr.problem.message


def test_left_side_names_the_gradient(ns):
    assert parse_formula(r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T", ns).wrt == "dW1"
    assert parse_formula("dJ/dZ2 = A2 - Y", ns).wrt == "Z2"


@pytest.mark.parametrize("text,words", [
    ("np.sum(dZ1, axes=1)", "'='"),
    ("np.sum(dZ1, axis=Z1)", "axis must be a whole number"),
    ("np.sum(dZ1, dZ1)", "takes 1 argument"),
    ("np.frobnicate(dZ1)", "cannot read the function"),
    (r"\frac{1}{m} np.frobnicate(dZ^{[1]})", "cannot read the function"),
])
def test_bad_calls_are_errors_with_a_position(ns, text, words):
    with pytest.raises(ParseError) as err:
        parse_formula(text, ns)
    assert words in err.value.message and err.value.position is not None


def test_scalar_formulas_are_read_as_before():
    from derivcheck.core.network import chain
    with pytest.raises(ParseError, match="unexpected character '@'"):
        parse_formula("x @ y")
    g = parse_formula(r"W^{(0)T} x", chain(["W0"]).namespace)
    assert str(g.expr) == "W0*x" and any("no-op on scalars" in r for r in g.readings)


def test_bare_superscripts_are_layers_only_in_nielsen_notation():
    nielsen = MatrixNetwork(["n1", "n2", "n3"], "sigmoid", style="nielsen").namespace
    f = parse_formula(r"\delta^3 \odot \sigma'(z^{3})", nielsen)
    assert f.expr.text() == "delta3 * sigmoid'(z3)"
    assert any("the layer" in r for r in f.readings)
    ng = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", batch="m").namespace
    assert parse_formula(r"(A^{[1]})^2", ng).expr.text() == "A1**2"   # a power here


@pytest.mark.parametrize("text,shape,reading", [
    # deeplearning.ai prints numpy calls next to LaTeX
    (r"\frac{1}{m} np.sum(dZ^{[1]}, axis = 1, keepdims = True)", ("n1", 1),
     "1/m * np.sum(dZ1, axis=1, keepdims=True)"),
    (r"\frac{1}{m} np.dot(dZ^{[1]}, X^T)", ("n1", "n0"), "1/m * (dZ1 @ X.T)"),
    # its g^{[1]'}: layer 1's activation derivative
    (r"W^{[2]T} dZ^{[2]} * g^{[1]'}(Z^{[1]})", ("n1", "m"), "W2.T @ dZ2 * relu'(Z1)"),
    (r"W^{[2]T} dZ^{[2]} * g^{[1]\prime}(Z^{[1]})", ("n1", "m"), "relu'(Z1)"),
    # cs231n's H^T typed as plain text: a transpose on a matrix network
    ("dZ2 A1^T", (2, "n1"), "dZ2 @ A1.T"),
])
def test_formulas_as_courses_print_them(ns, text, shape, reading):
    f = parse_formula(text, ns)
    assert f.expr.shape == shape
    assert reading in f.expr.text()


def test_an_unknown_numpy_call_in_latex_is_an_error_at_its_position(ns):
    text = r"\frac{1}{m} np.foo(dZ^{[1]})"
    with pytest.raises(ParseError) as err:
        parse_formula(text, ns)
    assert text[err.value.position:].startswith("np.foo")


def test_caret_t_stays_a_power_where_t_is_a_name():
    from derivcheck.core.network import forward
    net = forward(["yhat = T*x"], inputs="x")
    assert str(parse_formula("x^T", net.namespace).expr) == "x**T"


NIELSEN = MatrixNetwork(["n1", "n2", "n3"], "sigmoid", bias=True, style="nielsen")


@pytest.mark.parametrize("text,reading", [
    (r"\nabla_a C \odot \sigma'(z^L)", "dC/daL * sigmoid'(zL)"),
    (r"\nabla_{a^L} C \odot \sigma'(z^L)", "dC/daL * sigmoid'(zL)"),
    (r"\nabla_{a^3} J", "dC/da3"),
    (r"\nabla_{z^2} C", "dC/dz2"),
])
def test_nielsen_nabla_is_the_gradient_of_the_loss(text, reading):
    f = parse_formula(text, NIELSEN.namespace)
    assert f.expr.shape == (("n2", 1) if "z2" in reading else ("n3", 1))
    assert f.expr.text() == reading


@pytest.mark.parametrize("text,at", [(r"\nabla_a x", r"\nabla"), (r"\nabla C", r"\nabla"),
                                     (r"1 + \nabla_{a b} C", r"\nabla")])
def test_a_nabla_that_is_no_gradient_of_the_loss_is_an_error(text, at):
    with pytest.raises(ParseError, match="nabla") as err:
        parse_formula(text, NIELSEN.namespace)
    assert text[err.value.position:].startswith(at)


def test_an_index_name_without_its_layer_says_to_write_the_layer():
    seed = MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed")
    with pytest.raises(Exception) as err:
        parse_formula(r"dC/dr_i = \sum_j dC/dz_j W_ij", seed.namespace)
    assert "r is a quantity of every layer (r0, r1, r2)" in err.value.hint
