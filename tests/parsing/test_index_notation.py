"""Index notation on matrix networks (derivcheck.parsing.index_notation): entries with index
letters, sums with implied or given ranges, layer letters, and bad input with positions."""
import pytest

from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.errors import NameError_, ParseError
from derivcheck.names import Namespace
from derivcheck.parsing import left_side_name, parse_formula
from derivcheck.parsing.index_notation import LayerVariable

NIELSEN = MatrixNetwork(["n1", "n2", "n3"], "sigmoid", style="nielsen", bias=True)
NUMBERS = MatrixNetwork([2, 3, 4], "sigmoid", style="nielsen")
SEED = MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed")
NG = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True, style="ng")


def read(text, net=NIELSEN, **kw):
    return parse_formula(text, net.namespace, **kw)


def test_bp4_left_side_names_an_entry_and_its_free_indices():
    f = read(r"\frac{\partial C}{\partial w^3_{jk}} = a^{2}_k \delta^3_j")
    assert f.wrt == "w3"
    assert f.expr.text() == "[j,k] a2[k] * delta3[j]"
    assert f.expr.shape == ("n3", "n2")
    assert ("read the left side \\frac{\\partial C}{\\partial w^3_{jk}} as entry [j, k] of "
            "dC/dw3, for every j, k (free indices)") in f.readings
    assert "read a^{2}_k as entry [k] of a2" in f.readings


def test_a_subscript_after_a_superscript_belongs_to_the_name():
    # a^{2}_k was "a subscript needs a name before it"; in LaTeX it is a_k^{2}
    assert str(parse_formula(r"x^2_1 + y", Namespace(open=True), latex=True).expr) == "x1**2 + y"


@pytest.mark.parametrize("text", [
    r"\delta^2_j = \sum_k w^{3}_{kj} \delta^{3}_k \sigma'(z^2_j)",
    r"\delta^2_j = \sum_{k=1}^{n3} w^3_{kj} \delta^3_k \sigma'(z^2_j)",
    r"\delta^2_j = \sum_{\forall k} w^3_{kj} \delta^3_k \sigma'(z^2_j)",
    "delta2[j] = sum(k, w3[k,j]*delta3[k]) * sigmoid'(z2[j])",
    "delta2_j = sum_k w3_kj*delta3_k*sigmoid'(z2_j)",
])
def test_bp2_in_every_notation_reads_the_same(text):
    f = read(text)
    assert f.wrt == "delta2"
    assert f.expr.text() == "[j] sum_k w3[k,j] * delta3[k] * sigmoid'(z2[j])"
    assert "read the sum over k as running over the rows of w3 (1..n3)" in f.readings


def test_a_range_may_be_the_width_of_a_layer():
    f = read(r"\delta^l_j = \sum_{k=1}^{n_{l+1}} w^{l+1}_{kj} \delta^{l+1}_k",
             MatrixNetwork([2, 3, 4], "sigmoid", style="nielsen"), layers={"l": 2})
    assert "read n_{l+1} as the width of layer 3 (4)" in f.readings
    with pytest.raises(ParseError) as info:
        read(r"\delta^2_j = \sum_{k=1}^{n_{2}} w^{3}_{kj} \delta^{3}_k",
             MatrixNetwork([2, 3, 4], "sigmoid", style="nielsen"))
    assert info.value.message == ("the sum over k runs to 3, but k indexes the rows of w3 "
                                  "(4)")


def test_a_sum_reaches_to_the_end_of_its_term():
    f = read(r"\delta^3_j = \sum_k w^3_{jk} a^2_k + b^3_j", NIELSEN)
    assert f.expr.text() == "[j] sum_k w3[j,k] * a2[k] + b3[j]"


def test_nested_sums_and_a_sum_in_brackets():
    f = read(r"\delta^3_j = \sum_k \sum_i w^3_{jk} w^2_{ki} a^1_i (a^3_j - y_j)", NIELSEN)
    assert f.expr.text() == "[j] sum_k sum_i w3[j,k] * w2[k,i] * a1[i] * (a3[j] - y[j])"


def test_seed_general_equation_with_a_layer_letter():
    text = (r"\frac{\partial C}{\partial r^{(k)}_i} = \sum_{\forall j} \frac{\partial C}"
            r"{\partial z^{(k+1)}_j} W^{(k)}_{ij}")
    with pytest.raises(LayerVariable) as info:
        read(text, SEED)
    assert info.value.letter == "k"
    f = read(text, SEED, layers={"k": 1})
    assert f.wrt == "r1"
    assert f.expr.text() == "[i] sum_j dC/dz2[j] * W1[i,j]"
    assert f.expr.shape == ("n1", 1)


def test_a_layer_letter_where_the_layer_does_not_exist():
    with pytest.raises(NameError_) as info:
        read(r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k", layers={"l": 3})
    assert "w4" in info.value.message


def test_plain_entries_of_a_batch():
    f = read("dW1[j,k] = 1/m * sum(i, dZ1[j,i] * X[k,i])", NG)
    assert f.wrt == "dW1"
    assert f.expr.text() == "[j,k] 1/m * (sum_i dZ1[j,i] * X[k,i])"
    assert "read the sum over i as running over the columns of dZ1 (1..m)" in f.readings


def test_an_index_over_two_sizes_is_a_shape_problem_not_an_error():
    f = read(r"\frac{\partial C}{\partial w^3_{jk}} = a^{2}_j \delta^3_k")
    assert f.expr.shape is None
    assert f.expr.problem.message.startswith(
        "index j runs over the rows of dC/dw3 (n3) on the left side, but over the rows of "
        "a2 (n2) at a^{2}_j")


@pytest.mark.parametrize("text,net,position,message", [
    (r"\delta^3_j = a^2_i", NIELSEN, 13, "index i is neither free nor summed"),
    (r"\delta^3_j = \sum_k 1", NIELSEN, 13, "the sum over k has no range"),
    (r"\delta^3_j = \sum_{k=0}^{n2} a^2_k", NIELSEN, 13, "the sum over k starts at 0"),
    (r"\delta^3_j = \sum_{k=1}^{n3} a^2_k", NIELSEN, 13,
     "the sum over k runs to n3, but k indexes the rows of a2 (n2)"),
    (r"\delta^3_j = \sum_{k=1}^{q} 1", NIELSEN, 25, "cannot read the upper end of this sum"),
    (r"\delta^3_j = \sum_j a^3_j", NIELSEN, 13, "index j is free on the left side"),
    (r"\delta^3_j = \sum_k \sum_k a^2_k", NIELSEN, 20, "index k is already summed"),
    (r"\delta^3_j = \sum a^3_j", NIELSEN, 13, "'\\sum' needs its index"),
    (r"\delta^3_j = \sum_k", NIELSEN, 13, "nothing to sum over k"),
    (r"\delta^3_j = w3", NIELSEN, 12, "the right side is a n3 x n2 matrix, not one entry"),
    ("dC/dw3[j,k] = w3[5,1]", NUMBERS, 14, "index 5 is out of the dimension of w3"),
    ("dC/dw3[j,k] = w3[j]", NUMBERS, 14, "w3 is a 4 x 3 matrix: it takes 2 indices, not 1"),
    ("dC/dw3[j,j] = 1", NUMBERS, 0, "the left side needs one index letter per axis"),
    ("delta3[j] = sum(k)", NUMBERS, 12, "unknown function 'sum'"),
    ("delta3[j] = sum(delta3, axis=0)", NUMBERS, 12, "unknown function 'sum'"),
])
def test_bad_index_notation_is_an_error_with_its_position(text, net, position, message):
    with pytest.raises(ParseError) as info:
        read(text, net)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.position == position


def test_sums_stay_refused_on_scalar_networks():
    with pytest.raises(ParseError) as info:
        parse_formula(r"\sum_j x_j", Namespace(open=True))
    assert "'\\sum' cannot be read" in info.value.message and info.value.position == 0


def test_left_side_name_is_the_name_as_written():
    assert left_side_name("dC/dw_j = x_j") == "w_j"
    assert left_side_name(r"\frac{\partial C}{\partial w_{j}} = x_j") == "w_{j}"
    assert left_side_name("x_j") is None and left_side_name("z1 = x") is None
