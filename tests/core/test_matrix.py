"""The matrix network model: shapes, styles, names, instances, the backward pass."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from derivcheck.core.matrix import expr as mx
from derivcheck.core.matrix.bounds import bound, needed_values
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.matrix.shapes import broadcast, matmul_shape, sum_shape
from derivcheck.core.network import from_dict
from derivcheck.core.styles import STYLES
from derivcheck.errors import SpecError


def ng():
    return MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True)


def test_numpy_broadcasting_and_products():
    assert broadcast(("n", "m"), (1, "m")) == ("n", "m")
    assert broadcast(("n", "m"), ("m",)) == ("n", "m")
    assert broadcast(("n", 1), ("n",)) == ("n", "n")  # a vector of length n is a row
    assert broadcast(("n", "m"), ("k", "m")) is None
    assert matmul_shape(("a", "b"), ("b",)) == ("a",)
    assert sum_shape(("n", "m"), 1, True) == ("n", 1) and sum_shape(("n", "m"), 0, False) == ("m",)
    assert sum_shape(("n", "m"), 2, False) is None


def test_a_mismatched_product_is_built_with_its_problem_and_fix():
    X, W = mx.Leaf("X", ("n0", "m")), mx.Leaf("W1", ("n1", "n0"))
    bad = mx.matmul(X, W)
    assert bad.shape is None and "m != n1" in bad.problem.message
    assert bad.problem.fix == "W1 @ X"
    assert mx.add(bad, X).problem is bad.problem  # the first problem travels up


def test_juxtaposition_reads_the_product_whose_shapes_fit():
    from derivcheck.parsing.tokens import Notes
    notes = Notes()
    a, b = mx.Leaf("A", ("n", "m")), mx.Leaf("B", ("n", "m"))
    assert isinstance(mx.juxtapose(a, b, notes), mx.Elementwise)
    assert "elementwise" in notes.readings[-1]
    c = mx.Leaf("C", ("m", "k"))
    assert isinstance(mx.juxtapose(a, c, notes), mx.MatMul)


@pytest.mark.parametrize("style,names", [
    ("ng", {"W1": ("n1", "n0"), "X": ("n0", "m"), "Z1": ("n1", "m"), "b1": ("n1", 1)}),
    ("cs231n", {"W1": ("n0", "n1"), "X": ("m", "n0"), "H": ("m", "n1"), "b1": ("n1",),
                "scores": ("m", 2)}),
    ("nielsen", {"w2": ("n1", "n0"), "x": ("n0", "m"), "z2": ("n1", "m"), "delta2": ("n1", "m")}),
    ("seed", {"W0": ("n0", "n1"), "z1": ("n1", "m"), "r1": ("n1", "m")}),
])
def test_styles_name_and_lay_out_one_network(style, names):
    net = MatrixNetwork(["n0", "n1", 2], "relu,identity", "cross_entropy", batch="m", bias=True,
                        style=style)
    ns = net.namespace
    for name, shape in names.items():
        assert ns.symbols[name].shape == shape, name


def test_styles_are_data():
    assert {s.layout for s in STYLES.values()} == {"columns", "rows"}
    assert STYLES["ng"].stacked == {"Z", "A"} and not STYLES["cs231n"].stacked


def test_gradient_names_follow_each_course():
    ns = ng().namespace
    assert ns.symbols["dZ1"].key[3] == sympy.Symbol("m")   # per-example gradients stacked
    assert ns.symbols["dW1"].key[3] == 1                   # gradient of the mean cost
    assert ns.adjoints["Z1"].key[3] == 1                   # dJ/dZ1 itself


def test_entries_are_one_based_row_then_column_of_the_style_shape():
    net = MatrixNetwork([2, 3, 1], "relu", batch=2, style="cs231n")
    ns = net.namespace
    leaf = ns.symbols["W1_21"]          # cs231n W1 is 2 x 3: row 2, column 1
    inst = net.instance({})
    assert str(leaf.evaluate(inst.env("true"))) == "W1_21"
    assert "W1_31" not in ns.symbols    # no row 3
    assert ns.symbols["W1[2,3]"].shape == ()


def test_instance_is_the_scalar_network_of_entries():
    net = MatrixNetwork([2, 3, 2], "relu,softmax", "cross_entropy", batch="m", bias=True)
    inst = net.instance({"m": 2})
    tn = inst.true_network
    assert len(tn.inputs) == 4 and len(tn.params) == 2 * 3 + 3 + 3 * 2 + 2
    Y = inst.array(("Y",))
    assert Y[-1, 0] in tn.definitions()    # one-hot targets: the last class is 1 - the rest


def test_backward_in_matrix_form_matches_exact_scalar_gradients():
    """The reference every matrix formula is compared with agrees with the scalar reverse
    mode at concrete sizes (formal identity with the true definitions)."""
    from derivcheck.decide.formal import FormalEvaluator
    nets = [ng(), MatrixNetwork([3, 4, 3], "relu,softmax", "cross_entropy", batch="m",
                                bias=True, style="cs231n"),
            MatrixNetwork(["a", 3, 2], "sigmoid", "mse", batch="m", bias=True)]
    nets += [MatrixNetwork([2, 3, 2], acts, loss, batch=2, bias=True, style=style, reduce=red)
             for acts, loss, style, red in (
                 ("tanh,softmax", "half_squared", "nielsen", "mean"),
                 ("leaky_relu(0.1),identity", "cross_entropy", "seed", "sum"),
                 ("elu,sigmoid", "bce", "cs231n", "mean"),
                 ("softplus,relu", "squared", "ng", "sum"),
                 ("relu,softmax", "mse", "cs231n", "mean"))]
    for net in nets:
        sizes = {s: 2 + i for i, s in enumerate(net.size_names)}
        inst = net.instance(sizes)
        atom, true = inst.env("atom"), inst.env("true")
        values = {key: np.asarray(net.gradient(key).evaluate(atom)).flat
                  for key in net.keys if key in net._gradients}
        fe = FormalEvaluator({**inst.true_network.definitions(), **inst.atom_definitions},
                             mode="free")
        for key in net.keys:
            if key in net._gradients:
                a = values[key]
                t = np.asarray(true.gradient(key)).flat
                assert all(fe.value(x) == fe.value(y) for x, y in zip(a, t)), key


def test_bounds_count_indices_and_coefficient_degrees():
    m = sympy.Symbol("m")
    dz, x = mx.Leaf("dZ", ("n", "m")), mx.Leaf("X", ("k", "m"))
    good = mx.mul(mx.Scalar(1 / m), mx.matmul(dz, mx.transpose(x)))
    hard = mx.div(mx.matmul(dz, mx.transpose(x)), mx.Scalar(sympy.Integer(5)))
    plan = needed_values(bound(good), bound(hard), ["m", "n", "k"])
    assert plan["m"][1] >= 2          # 1/m against 1/5: two values of m at least
    assert bound(mx.apply("exp", lambda a: sympy.exp(a[0]), [mx.matmul(dz, mx.transpose(x))])
                 ).fragment is False  # a function of a sum: no index form


@pytest.mark.parametrize("data,fragment", [
    ({"widths": ["n0", "n!", 1], "batch": "m"}, "widths must be whole numbers or size names"),
    ({"widths": [2, 3, 2], "activations": "softmax,relu", "batch": 2}, "last layer"),
    ({"widths": [2, 3, 1], "loss": "cross_entropy", "batch": "m"}, "two classes"),
    ({"widths": [2, 3, 1], "style": "fancy"}, "unknown style"),
])
def test_bad_matrix_networks_are_clear_errors(data, fragment):
    with pytest.raises(SpecError) as err:
        from_dict(data)
    assert fragment in err.value.message


def test_spec_round_trip_keeps_batch_and_style():
    net = from_dict({"widths": "n0,n1,1", "batch": "m", "style": "cs231n", "bias": True})
    assert net.spec.to_dict()["style"] == "cs231n" and net.spec.to_dict()["batch"] == "m"


@pytest.mark.parametrize("acts,text,read", [
    ("relu,identity", "softmax(Z2) - Y", "P - Y"),            # P = softmax(Z2) for logits
    ("relu,softmax", "softmax(Z2) - Y", "A2 - Y"),            # the output is softmax(Z2)
    ("relu,tanh", "softmax(A2) - Y", "P - Y"),                # P = softmax(A2)
    ("relu,tanh", "softmax(Z2) - Y", None),                   # not P: A2 = tanh(Z2)
    ("relu,identity", "softmax(Z2, axis=1) - Y", None),       # over the examples: not P
    ("relu,identity", "np.exp(Z2) / np.sum(np.exp(Z2), axis=0, keepdims=True)", "P"),
])
def test_softmax_of_the_logits_is_read_as_the_probabilities(acts, text, read):
    from derivcheck.parsing import parse_formula
    net = MatrixNetwork(["n0", "n1", "c"], acts, "cross_entropy", batch="m")
    expr = parse_formula(text, net.namespace).expr
    out = net.with_probabilities(expr)
    assert (out is expr) if read is None else out.text() == read


def test_masks_on_activations_are_masks_on_pre_activations():
    from derivcheck.core.functions import IsNonNeg, IsPos
    inst = MatrixNetwork([2, 2, 1], "tanh,sigmoid").instance({})
    a, z = inst.array(("A", 1))[1, 0], inst.array(("Z", 1))[1, 0]
    assert inst.masks[IsPos(a)] == IsPos(z) and inst.masks[IsNonNeg(-a)] == 1 - IsPos(z)
    out = inst.array(("A", 2))[0, 0]                     # sigmoid is positive everywhere
    assert IsPos(out) not in inst.masks
