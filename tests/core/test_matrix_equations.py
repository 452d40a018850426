"""Explicit matrix equations with shapes, read as the one matrix network model."""
from __future__ import annotations

import re

import pytest

from derivcheck.core.matrix.equations import parse_shape, parse_shapes
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.network import from_dict
from derivcheck.errors import NetworkLimitError, ParseError, SpecError
from derivcheck.parsing.matrix_equations import network_from_equations

NG = ["Z1 = W1 @ X + b1", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2", "A2 = sigmoid(Z2)"]
CS = ["H = np.maximum(0, X @ W1 + b1)", "scores = H @ W2 + b2"]


def net(equations, *shapes, **options):
    return network_from_equations(equations, parse_shapes(list(shapes)), **options)


def test_columns_layout_and_inferred_shapes():
    n = net(NG, "X=n0,m", "W1=n1,n0", "W2=1,n1", loss="bce")
    assert n.widths == ["n0", "n1", 1] and n.batch == "m" and n.bias
    assert n.style.layout == "columns" and n.style.weights == "out_in"
    # the biases and the targets were inferred: b1 n1 x 1 broadcast over m, Y like A2
    assert n.styled_shape(("b", 1)) == ("n1", 1) and n.styled_shape(("Y",)) == (1, "m")
    assert [n.name(k) for k in (("X",), ("W", 2), ("Z", 2), ("A", 2))] == ["X", "W2", "Z2", "A2"]


def test_rows_layout_with_the_pre_activation_unnamed():
    n = net(CS, "X=N,D", "W1=D,K", "W2=K,C", loss="cross_entropy")
    assert n.style.layout == "rows" and n.style.weights == "in_out"
    assert n.widths == ["D", "K", "C"] and n.batch == "N"
    assert n.name(("A", 1)) == "H" and n.name(("Z", 2)) == "scores"
    assert n.name(("Z", 1)) == "Z1"                   # named for it, H = relu(Z1)
    assert n.acts[1].name == "identity"               # logits: cross_entropy applies softmax
    assert n.styled_shape(("b", 1)) == ("K",)         # numpy's bias of length K


def test_same_network_as_widths():
    """The equations and --widths build one model: the same backward pass, in the same
    canonical layout."""
    a = net(NG, "X=n0,m", "W1=n1,n0", "W2=1,n1", loss="bce")
    b = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True)
    for key in (("W", 1), ("b", 1), ("Z", 1), ("W", 2)):
        assert a.gradient(key).expansion.text() == b.gradient(key).expansion.text()


@pytest.mark.parametrize("equations,layout,weights", [
    (["Z1 = W1.T @ X", "A1 = relu(Z1)"], "columns", "in_out"),
    (["Z1 = X @ W1.T", "A1 = relu(Z1)"], "rows", "out_in"),
    (["Z1 = np.dot(W1, X)", "A1 = relu(Z1)"], "columns", "out_in"),
])
def test_weight_layouts(equations, layout, weights):
    n = net(equations, "X=n0,m" if layout == "columns" else "X=m,n0",
            "W1=n1,n0" if weights == "out_in" else "W1=n0,n1")
    assert (n.style.layout, n.style.weights, n.bias) == (layout, weights, False)
    assert n.widths == ["n0", "n1"]


@pytest.mark.parametrize("last", ["Yhat = softmax(Z2)",
                                  "Yhat = np.exp(Z2) / np.sum(np.exp(Z2), axis=0, keepdims=True)"])
def test_softmax_output(last):
    n = net(["Z1 = W1 @ X", "A1 = relu(Z1)", "Z2 = W2 @ A1", last], "X=n0,m", "W1=n1,n0",
            "W2=n2,n1", loss="cross_entropy")
    assert n.softmax_output and n.name(("A", 2)) == "Yhat"


def test_softmax_over_the_examples_is_an_error():
    with pytest.raises(SpecError, match="mixes the examples") as err:
        net(["Z1 = W1 @ X", "Yhat = softmax(Z1, axis=1)"], "X=n0,m", "W1=n1,n0",
            loss="cross_entropy")
    assert err.value.position == err.value.text.index("Z1,")


def test_numbers_and_one_example():
    n = net(["z2 = w2 @ x + b2", "a2 = sigmoid(z2)"], "x=3,1", "w2=2,3")
    assert n.widths == [3, 2] and not n.has_batch


@pytest.mark.parametrize("shapes,message,at", [
    (("X=n0,m", "W1=n1,n2"), "the input size is n0 (from X=n0,m) but here n2", "n2"),
    (("X=n0,m", "W1=n1,n0", "b1=n1,m"), "must be 1", "m"),
    (("X=n0,m", "W1=n1,n0", "V=3,4"), "V is no quantity", "V"),
    (("X=n0,m", "W1=n1,n0", "X=3,4"), "two shapes", "X"),
    (("X=n0,m", "W1=n1,n0", "Y=n1,k"), "the number of examples is m", "k"),
    (("X=n0,m", "W1=n1,n0", "W2=n2,n1"), "no quantity", "W2"),
])
def test_contradicting_shapes_are_errors_with_the_position(shapes, message, at):
    with pytest.raises(SpecError, match=re.escape(message)) as err:
        net(["Z1 = W1 @ X + b1", "A1 = relu(Z1)"], *shapes)
    assert err.value.text[err.value.position:].startswith(at)


def test_a_size_no_shape_fixes_is_an_error_at_its_equation():
    with pytest.raises(SpecError, match="width of layer 2 is not given") as err:
        net(NG, "X=n0,m", "W1=n1,n0")
    assert err.value.text == NG[2] and err.value.text[err.value.position:].startswith("W2")


@pytest.mark.parametrize("text,kind,at", [
    ("W1=n1,300", NetworkLimitError, "300"), ("W1=n1,1234567", NetworkLimitError, "1234567"),
    ("W1=n1,n0!", SpecError, "n0!"), ("W1=n1,n0,k", SpecError, "k"), ("W1=n1,0", SpecError, "0"),
    ("1W=n1,n0", SpecError, "1W"), ("W1:n1,n0", SpecError, "W1"),
])
def test_bad_shapes(text, kind, at):
    with pytest.raises(kind) as err:
        parse_shape(text)
    assert err.value.text[err.value.position:].startswith(at)


@pytest.mark.parametrize("equations,message,at", [
    (["Z1 = W1 * X + b1", "A1 = relu(Z1)"], "cannot read", "W1"),
    (["Z1 = W1 @ X + b1", "A1 = np.exp(Z1)"], "unknown activation 'exp'", "Z1"),
    (["Z1 = W1 @ X + b1", "A1 = relu(Z2)"], "applied to the pre-activation Z1", "Z2"),
    (["Z1 = W1 @ X + b1", "Z1 = relu(Z1)"], "defined twice", None),
    (["Z1 = W1 @ X + b1", "A1 = relu(Z1)", "Z2 = A1 @ W2 + b2", "A2 = relu(Z2)"],
     "disagree on the layout", "W2"),
    (["Z1 = W1 @ X", "A1 = softmax(Z1)", "Z2 = W2 @ A1", "A2 = relu(Z2)"],
     "last layer's activation only", "Z1"),
    (["Z1 = W1 @ X", "Z2 = W2 @ Z1"], "feeds no activation", None),
    (["Z1 = W1 @ X", "A1 = relu(Z1)", "Z2 = W2 @ X", "A2 = relu(Z2)"],
     "the activations A1 of the layer above", "W2"),
    (["Z1 = W1 @ X", "A1 = relu(Z1)", "Z2 = W1 @ A1", "A2 = relu(Z2)"], "used twice", "W1"),
])
def test_structure_errors_name_the_equation_and_position(equations, message, at):
    shapes = ["X=n0,m", "W1=n1,n0"] + (["W2=n2,n1"] if "W2" in " ".join(equations) else [])
    with pytest.raises(SpecError, match=message) as err:
        net(equations, *shapes)
    assert err.value.text in equations
    if at is not None:
        assert err.value.text[err.value.position:].startswith(at)


def test_the_input_is_asked_for_when_one_layer_does_not_say():
    with pytest.raises(SpecError, match="which operand is the input"):
        net(["Z = U @ V", "A = relu(Z)"], "U=n1,n0", "V=n0,m")
    n = net(["Z = U @ V", "A = relu(Z)"], "U=n1,n0", "V=n0,m", input_name="V")
    assert n.name(("X",)) == "V" and n.name(("W", 1)) == "U"


def test_the_style_gives_the_meaning_of_gradient_names():
    ng = net(NG, "X=n0,m", "W1=n1,n0", "W2=1,n1", loss="bce")
    assert ng.style.name == "ng" and "Z" in ng.style.stacked     # examples as columns
    plain = net(CS, "X=N,D", "W1=D,K", "W2=K,C", loss="cross_entropy")
    assert plain.style.name == "cs231n" and not plain.style.stacked
    with pytest.raises(SpecError, match="puts them in rows"):
        net(NG, "X=n0,m", "W1=n1,n0", "W2=1,n1", style="cs231n")


def test_parse_errors_keep_their_position():
    with pytest.raises(ParseError) as err:
        net(["Z1 = W1 @ (X + b1", "A1 = relu(Z1)"], "X=n0,m")
    assert err.value.text == "Z1 = W1 @ (X + b1"


def test_spec_fields_and_round_trip():
    data = {"forward": NG, "shape": {"X": "n0,m", "W1": ["n1", "n0"], "W2": [1, "n1"]},
            "loss": "bce", "reduce": "sum"}
    n = from_dict(data)
    assert n.is_matrix and n.reduce == "sum" and n.widths == ["n0", "n1", 1]
    again = from_dict(n.spec.to_dict())
    assert again.widths == n.widths and again.name(("A", 2)) == "A2"
    with pytest.raises(SpecError, match="need the shapes"):
        from_dict({"forward": NG, "batch": "m"})
    with pytest.raises(SpecError, match="class labels are targets of cross_entropy"):
        from_dict({**data, "labels": True})


def test_scalar_forward_equations_are_unchanged():
    n = from_dict({"forward": ["z1 = w1*x + b1", "yhat = relu(z1)"]})
    assert not getattr(n, "is_matrix", False) and n.spec.kind == "forward"


ONE_BIAS = ["Z1 = W1 @ X + b1", "A1 = relu(Z1)", "Z2 = W2 @ A1", "Yhat = softmax(Z2)"]


def test_biases_on_some_layers_only():
    n = net(ONE_BIAS, "X=n0,m", "W1=n1,n0", "W2=n2,n1", loss="cross_entropy")
    assert [n.has_bias(l) for l in (1, 2)] == [True, False] and not n.bias
    assert [k for k in n.keys if k[0] == "b"] == [("b", 1)]
    assert "b1" in n.namespace.adjoints and "b2" not in n.namespace.adjoints
    # the layer with the bias may come second, in the rows layout too
    rows = net(["H = np.maximum(0, X @ W1)", "scores = H @ W2 + b2"], "X=N,D", "W1=D,K",
               "W2=K,C", loss="cross_entropy")
    assert [rows.has_bias(l) for l in (1, 2)] == [False, True]


def test_a_shape_for_a_bias_the_equations_do_not_have_is_an_error():
    with pytest.raises(SpecError, match="b2 is no quantity") as err:
        net(ONE_BIAS, "X=n0,m", "W1=n1,n0", "W2=n2,n1", "b2=n2,1", loss="cross_entropy")
    assert err.value.text[err.value.position:].startswith("b2")


def test_the_class_labels_take_a_shape_one_per_example():
    n = net(ONE_BIAS, "X=n0,m", "W1=n1,n0", "W2=n2,n1", "y=m", loss="cross_entropy",
            labels=True)
    assert n.labels and n.batch == "m"
    n = net(ONE_BIAS, "y=m", "X=n0,m", "W1=n1,n0", "W2=n2,n1", loss="cross_entropy",
            labels=True, target="y")            # a target in lower case: the labels
    assert n.labels


@pytest.mark.parametrize("shape,message,at", [
    ("y=n2", "the number of examples is m (from X=n0,m) but here n2", "n2"),
    ("y=4", "the number of examples is m (from X=n0,m) but here 4", "4"),
    ("y=m,1", "y should have 1 size(s) (m), got 2", "m,1"),
])
def test_class_labels_of_a_contradicting_shape_are_errors_at_the_size(shape, message, at):
    with pytest.raises(SpecError) as err:
        net(ONE_BIAS, "X=n0,m", "W1=n1,n0", "W2=n2,n1", shape, loss="cross_entropy",
            labels=True)
    assert message in err.value.message
    assert err.value.text == shape and err.value.text[err.value.position:].startswith(at)


def test_without_labels_y_is_no_quantity_and_the_hint_says_why():
    with pytest.raises(SpecError, match="y is no quantity") as err:
        net(ONE_BIAS, "X=n0,m", "W1=n1,n0", "W2=n2,n1", "y=m", loss="cross_entropy")
    assert "--labels" in err.value.hint


def test_widths_networks_check_the_shapes_given():
    base = {"widths": ["n0", "n1", "c"], "activations": "relu,softmax",
            "loss": "cross_entropy", "batch": "m", "labels": True}
    n = from_dict({**base, "shape": ["X=n0,m", "y=m", "W2=c,n1"]})
    assert n.labels
    for shape, at in (("y=c", "c"), ("W2=n1,c", "n1"), ("X=n0", "n0"), ("q=m", "q")):
        with pytest.raises(SpecError) as err:
            from_dict({**base, "shape": [shape]})
        assert err.value.text[err.value.position:].startswith(at), (shape, err.value)


def test_a_bias_per_layer_is_declared_by_the_equations_not_by_widths():
    with pytest.raises(SpecError, match="bias is true or false") as err:
        from_dict({"widths": ["n0", "n1", 1], "batch": "m", "bias": [True, False]})
    assert "forward" in err.value.hint


NG_LATEX = [r"Z^{[1]} = W^{[1]} X + b^{[1]}", r"A^{[1]} = \tanh(Z^{[1]})",
            r"Z^{[2]} = W^{[2]} A^{[1]} + b^{[2]}", r"A^{[2]} = \sigma(Z^{[2]})"]


def test_equations_in_latex_are_read_with_the_candidates_grammar():
    n = net(NG_LATEX, "X=n0,m", "W1=n1,n0", "W2=1,n1", loss="bce")
    plain = net(NG, "X=n0,m", "W1=n1,n0", "W2=1,n1", loss="bce")
    assert n.widths == plain.widths and n.batch == plain.batch and n.bias
    assert [n.name(k) for k in n.keys] == [plain.name(k) for k in plain.keys]
    assert [a.name for a in n.acts] == ["tanh", "sigmoid"]
    rows = net([r"H = \max(0, X W_1 + b_1)", r"S = H W_2 + b_2"], "X=N,D", "W1=D,K", "W2=K,C",
               loss="cross_entropy")
    assert rows.style.layout == "rows" and rows.name(("W", 1)) == "W1"


@pytest.mark.parametrize("equation,message,at", [
    (r"Z^{[1]} = W^{[1]} X + b^{[1]} = 3", "expected one equation", "= 3"),
    (r"Z^{[1]} + 1 = W^{[1]} X", "the left side of an equation must be one name", "Z^"),
    (r"Z^{[1]} = \frac{1}{2", "never closed", "{2"),
])
def test_latex_equation_errors_have_their_position(equation, message, at):
    with pytest.raises(ParseError, match=message) as err:
        net([equation, r"A^{[1]} = \tanh(Z^{[1]})"], "X=n0,m", "W1=n1,n0")
    assert err.value.text == equation
    assert equation[err.value.position:].startswith(at)
