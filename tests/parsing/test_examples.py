"""One example's column: deeplearning.ai's z^{[1](i)}, x^{(i)} and numpy's Z1[:, i]."""
from __future__ import annotations

import pytest

from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.matrix.slices import Slice, Stacked
from derivcheck.core.network import chain
from derivcheck.errors import DerivcheckError, NameError_, ParseError
from derivcheck.parsing import parse_formula

NG = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True, style="ng")
CS = MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True,
                   style="cs231n")


def _slices(expr):
    return [(n.matrix.name, n.index, n.axis) for n in expr.walk() if isinstance(n, Slice)]


def test_a_layer_and_an_example_in_one_superscript_is_a_column_of_the_batch_quantity():
    f = parse_formula(r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * g^{[1]\prime}(z^{[1](i)})",
                      NG.namespace)
    assert isinstance(f.expr, Stacked) and f.wrt == "dZ1" and f.expr.shape == ("n1", "m")
    assert sorted(_slices(f.expr)) == [("Z1", "i", 1), ("dZ2", "i", 1)]
    assert "read dz^{[1](i)} as column i of dZ1 (one example)" in f.readings
    assert "read the left side dz^{[1](i)} as column i of dZ1, for every i" in f.readings
    assert f.expr.body.shape == ("n1", 1)


def test_the_input_and_targets_take_an_example_not_a_layer():
    f = parse_formula(r"dW^{[1]} = \frac{1}{m} \sum_i dz^{[1](i)} x^{(i)T}", NG.namespace)
    assert sorted(_slices(f.expr)) == [("X", "i", 1), ("dZ1", "i", 1)]
    assert f.expr.shape == ("n1", "n0")
    assert any("sum over i as running over the examples" in r for r in f.readings)
    f = parse_formula(r"dz^{[2](i)} = \hat{y}^{(i)} - y^{(1)}", NG.namespace)
    assert sorted(_slices(f.expr)) == [("Y", 1, 1), ("Yhat", "i", 1)]


def test_numpy_slices_are_columns_and_rows():
    f = parse_formula("dW1 = 1/m * sum(i, dZ1[:, i] @ X[:, i].T)", NG.namespace)
    assert sorted(_slices(f.expr)) == [("X", "i", 1), ("dZ1", "i", 1)]
    f = parse_formula("dW2 = sum(i, H[i, :].T @ dscores[i, :])", CS.namespace)
    assert sorted(_slices(f.expr)) == [("H", "i", 0), ("dscores", "i", 0)]
    assert f.expr.shape == ("H", 3)


def test_a_row_left_side_where_examples_are_rows():
    f = parse_formula("dscores[i, :] = P[i, :] - Y[i, :]", CS.namespace)
    assert isinstance(f.expr, Stacked) and f.expr.axis == 0 and f.expr.shape == ("N", 3)


def test_a_column_that_does_not_fit_its_left_side_is_a_shape_problem():
    f = parse_formula(r"dz^{[1](i)} = dZ^{[1]}", NG.namespace)
    assert f.expr.shape is None and "one column of the left side" in f.expr.problem.message


@pytest.mark.parametrize("text,position,words", [
    ("dW1 = dz1_i", 6, "cannot tell what dz1_i means"),
    (r"dW^{[1]} = w^{[1](i)}", 11, "W1 has no examples"),
    (r"\frac{\partial J}{\partial z^{[1](i)}} = a^{[1](i)}", 0, "differentiates by one"),
    (r"dz^{[1](3)} = dZ1[:, 3]", 0, "names one column by its number"),
    (r"dz^{[1](i)} = dz^{[1](j)}", 14, "index j is neither free nor summed"),
    (r"dW1 = dZ1[:, 9] @ X.T", None, None),
])
def test_what_cannot_be_read_is_an_error_at_its_position(text, position, words):
    if position is None:      # a numbered column is read (m is a size name: no bound)
        assert _slices(parse_formula(text, NG.namespace).expr) == [("dZ1", 9, 1)]
        return
    with pytest.raises(ParseError) as err:
        parse_formula(text, NG.namespace)
    assert err.value.position == position and words in str(err.value)


def test_dz1_i_error_says_how_to_write_the_column():
    with pytest.raises(ParseError) as err:
        parse_formula("dW1 = dz1_i", NG.namespace)
    assert "dZ1[:, i]" in err.value.hint


def test_one_example_network_and_scalar_networks_refuse_example_columns():
    single = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", bias=True, style="ng")
    with pytest.raises(ParseError, match="the network has one example"):
        parse_formula(r"dz^{[1](i)} = dZ1", single.namespace)
    scalar = chain(["w1"], "relu").namespace
    with pytest.raises(ParseError, match="read on matrix networks with a batch") as err:
        parse_formula(r"dC/dw1 = z^{[1](i)}", scalar)
    assert err.value.position == 9
    with pytest.raises(ParseError, match="read on matrix networks only"):
        parse_formula("dC/dw1 = w1[:, i]", scalar)


def test_an_unknown_quantity_with_an_example_is_a_name_error():
    with pytest.raises(NameError_, match="no batch quantity q1"):
        parse_formula(r"dW^{[1]} = q^{[1](i)}", NG.namespace)


def test_x_with_a_parenthesised_layer_stays_a_layer_where_x_has_layers():
    seed = MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed")
    with pytest.raises(DerivcheckError) as err:   # r^{(k)}: a layer letter, as before
        parse_formula(r"\frac{\partial C}{\partial r^{(k)}_i} = r^{(k)}_i", seed.namespace)
    assert "every layer" in str(err.value)
