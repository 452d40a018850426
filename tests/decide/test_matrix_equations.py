"""Candidates on explicit matrix equations are checked exactly like on --widths networks:
the same verdicts, counterexamples and diagnoses, proved for every size."""
from __future__ import annotations

from fractions import Fraction

import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.network import from_dict

NG_EQ = {"forward": ["Z1 = W1 @ X + b1", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2",
                     "A2 = sigmoid(Z2)"],
         "shape": {"X": "n0,m", "W1": "n1,n0", "W2": "1,n1"}, "loss": "bce"}
CS_EQ = {"forward": ["H = np.maximum(0, X @ W1 + b1)", "scores = H @ W2 + b2"],
         "shape": ["X=N,D", "W1=D,K", "W2=K,C"], "loss": "cross_entropy"}


@pytest.fixture(scope="module")
def ng_pair():
    return (from_dict(NG_EQ),
            MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True,
                          style="ng"))


@pytest.fixture(scope="module")
def cs_eq():
    return from_dict(CS_EQ)


NG_FORMULAS = [
    ("dZ2 = A2 - Y", "equivalent", None),
    (r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}", "equivalent", None),
    ("db2 = 1/m * np.sum(dZ2, axis=1, keepdims=True)", "equivalent", None),
    (r"dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - (A^{[1]})^2)", "equivalent", None),
    ("dW1 = 1/m * dZ1 @ X.T", "equivalent", None),
    ("dW1 = dZ1 @ X.T", "not_equivalent", "missing_batch_mean"),
    ("dW1 = 1/m * X @ dZ1", "not_equivalent", None),
    ("dW1 = 1/m * dZ1 @ X", "not_equivalent", None),
    ("db1 = np.sum(dZ1, axis=0) / m", "not_equivalent", "wrong_sum_axis"),
    ("dW1 = dZ1 @ X.T / 4", "not_equivalent", None),
]


@pytest.mark.parametrize("text,verdict,kind", NG_FORMULAS)
def test_equations_judge_as_widths_do(ng_pair, text, verdict, kind):
    eq, widths = ng_pair
    a, b = derivcheck.check(eq, text), derivcheck.check(widths, text)
    assert a.verdict == b.verdict == verdict, (a.reason, b.reason)
    if verdict == "equivalent":
        assert "for every size" in a.method_detail
    if kind is not None:
        assert kind in [d.kind for d in a.diagnosis]
        assert [d.kind for d in a.diagnosis] == [d.kind for d in b.diagnosis]
    if verdict == "not_equivalent" and a.counterexample is not None:
        cx = a.counterexample.to_json()
        assert cx["sizes"] and set(cx["matrices"]) >= {"X", "W1", "b1", "W2", "b2", "Y"}


def test_wrt_names_a_parameter_or_a_quantity(ng_pair):
    eq, _ = ng_pair
    assert derivcheck.check(eq, "1/m * dZ1 @ X.T", "W1").verdict == "equivalent"
    assert derivcheck.check(eq, "(A2 - Y) / m", "Z2").verdict == "equivalent"
    assert derivcheck.check(eq, "A2 - Y", "Z2").verdict == "not_equivalent"


@pytest.mark.parametrize("text,wrt,verdict", [
    ("(softmax(scores) - Y) / N", "scores", "equivalent"),
    ("dscores = (P - Y) / N", None, "equivalent"),
    ("dW2 = H.T @ dscores", None, "equivalent"),
    ("dW1 = X.T @ (dscores @ W2.T * (H > 0))", None, "equivalent"),
    ("db1 = np.sum(dscores @ W2.T * (H > 0), axis=0)", None, "equivalent"),
    ("dscores = P - Y", None, "not_equivalent"),
    ("dW2 = dscores @ H.T", None, "not_equivalent"),
    ("dW1 = X.T @ (dscores @ W2.T)", None, "not_equivalent"),
])
def test_cs231n_as_equations_under_torch(cs_eq, text, wrt, verdict):
    r = derivcheck.check(cs_eq, text, wrt, convention="torch")
    assert r.verdict == verdict, r.reason
    if verdict == "not_equivalent" and r.counterexample is not None:
        for row in r.counterexample.to_json()["matrices"]["Y"]:   # one-hot rows
            assert sorted(Fraction(v) for v in row).count(1) == 1


def test_labels_show_the_class_of_each_example():
    net = from_dict({**CS_EQ, "labels": True})
    r = derivcheck.check(net, "dscores = (P - Y) / N * 2")
    assert r.verdict == "not_equivalent"
    cx = r.counterexample.to_json()
    labels = [int(Fraction(v)) for v in cx["matrices"]["y"][0]]
    onehot = [[int(Fraction(v)) for v in row] for row in cx["matrices"]["Y"]]
    assert [row.index(1) for row in onehot] == labels     # rows are examples here
    assert any("class labels y" in note for note in r.readings)
    assert derivcheck.check(net, "dscores = (P - Y) / N").verdict == "equivalent"


@pytest.mark.parametrize("reduce,right,wrong", [
    ("mean", "dW2 = H.T @ (P - Y) / N", "dW2 = H.T @ (P - Y)"),
    ("sum", "dW2 = H.T @ (P - Y)", "dW2 = H.T @ (P - Y) / N"),
])
def test_reduce_mean_or_sum(reduce, right, wrong):
    for net in (from_dict({**CS_EQ, "reduce": reduce}),
                MatrixNetwork(["D", "K", "C"], "relu,identity", "cross_entropy", batch="N",
                              bias=True, style="cs231n", reduce=reduce)):
        assert derivcheck.check(net, right.replace("H.T", "A1.T") if net.source_spec is None
                                else right).verdict == "equivalent"
        r = derivcheck.check(net, wrong.replace("H.T", "A1.T") if net.source_spec is None
                             else wrong)
        assert r.verdict == "not_equivalent"
        assert "missing_batch_mean" in [d.kind for d in r.diagnosis]


def test_a_product_that_does_not_fit_is_a_verdict(cs_eq):
    r = derivcheck.check(cs_eq, "dW2 = H @ dscores")
    assert r.verdict == "not_equivalent" and "H.T @ dscores" in r.diagnosis[0].message


@pytest.mark.parametrize("text,verdict", [
    (r"\delta^{(3)} = (a^{(3)} - y) \odot \sigma'(z^{(3)})", "equivalent"),
    (r"\delta^2 = ((w^3)^T \delta^3) \odot \sigma'(z^2)", "equivalent"),
    (r"\delta^2 = (w^3 \delta^3) \odot \sigma'(z^2)", "not_equivalent"),
    ("dC/dw3 = delta3 @ a2.T", "equivalent"),
])
def test_nielsen_equations_keep_the_style_s_delta(text, verdict):
    """--style nielsen on equations: its delta names and bare layer superscripts, with the
    equations' own names (lowercase x, so the target is y)."""
    net = from_dict({"forward": ["z2 = w2 @ x + b2", "a2 = sigmoid(z2)", "z3 = w3 @ a2 + b3",
                                 "a3 = sigmoid(z3)"],
                     "shape": {"x": "n1,1", "w2": "n2,n1", "w3": "n3,n2"}, "style": "nielsen"})
    assert net.name(("Y",)) == "y" and not net.has_batch
    assert derivcheck.check(net, text).verdict == verdict


def test_a_bias_on_the_first_layer_only():
    n = from_dict({"forward": ["Z1 = W1 @ X + b1", "A1 = relu(Z1)", "Z2 = W2 @ A1",
                               "Yhat = softmax(Z2)"],
                   "shape": ["X=n0,m", "W1=n1,n0", "W2=n2,n1"], "loss": "cross_entropy"})
    right = derivcheck.check(n, "db1 = 1/m * np.sum((W2.T @ (Yhat - Y)) * (Z1 > 0), axis=1, "
                                "keepdims=True)")
    assert right.verdict in ("equivalent", "equivalent_almost_everywhere")
    assert "for every size" in right.method_detail
    wrong = derivcheck.check(n, "db1 = np.sum(dZ1, axis=1, keepdims=True)")
    assert wrong.verdict == "not_equivalent"
    assert [d.kind for d in wrong.diagnosis] == ["missing_batch_mean"]
    assert "b2" not in wrong.counterexample.to_json()["matrices"]
    assert derivcheck.check(n, "dZ2 = Yhat - Y").verdict == "equivalent"
