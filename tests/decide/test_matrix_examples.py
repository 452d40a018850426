"""Per-example equations (deeplearning.ai's dz^{[1](i)}, numpy's dZ1[:, i]) decided for
every column and every size; wrong ones refused with a true diagnosis or counterexample."""
from __future__ import annotations

import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork

NG = MatrixNetwork(["n0", "n1", 2], "tanh,sigmoid", "bce", batch="m", bias=True, style="ng")
RELU = MatrixNetwork(["n0", "n1", "n2"], "relu,softmax", "cross_entropy", batch="m", bias=True,
                     style="ng")
CS = MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True,
                   style="cs231n")


@pytest.mark.parametrize("net,text", [
    (NG, r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * g^{[1]\prime}(z^{[1](i)})"),
    (NG, r"dz^{[2](i)} = a^{[2](i)} - y^{(i)}"),
    (NG, r"dW^{[1]} = \frac{1}{m} \sum_i dz^{[1](i)} x^{(i)T}"),
    (NG, r"dW^{[2]} = \frac{1}{m} \sum_{i=1}^{m} dz^{[2](i)} a^{[1](i)T}"),
    (NG, r"db^{[1]} = \frac{1}{m} \sum_{i=1}^{m} dz^{[1](i)}"),
    (NG, "dW1 = 1/m * sum(i, dZ1[:, i] @ X[:, i].T)"),
    (NG, "dZ1[:, i] = W2.T @ dZ2[:, i] * (1 - A1[:, i]**2)"),
    (CS, "dW2 = sum(i, H[i, :].T @ dscores[i, :])"),
    (CS, "dscores[i, :] = (P[i, :] - Y[i, :]) / N"),
])
def test_right_per_example_formulas_are_equivalent_for_every_size(net, text):
    r = derivcheck.check(net, text)
    assert r.verdict == "equivalent", (r.verdict, r.method_detail)
    assert "equal for every size" in r.method_detail


def test_a_relu_mask_per_example_is_equal_off_the_kinks():
    r = derivcheck.check(RELU, r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * (z^{[1](i)} > 0)")
    assert r.verdict == "equivalent_almost_everywhere"


@pytest.mark.parametrize("net,text,kind", [
    (RELU, r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)}", "missing_gate"),
    (NG, r"dW^{[1]} = \sum_i dz^{[1](i)} x^{(i)T}", "missing_batch_mean"),
    (NG, r"dz^{[1](i)} = W^{[2]} dz^{[2](i)} * g^{[1]\prime}(z^{[1](i)})", "shape_mismatch"),
    (CS, "dW2 = sum(i, dscores[i, :].T @ H[i, :])", "shape_mismatch"),
])
def test_wrong_per_example_formulas_are_refused_with_a_true_diagnosis(net, text, kind):
    r = derivcheck.check(net, text)
    assert r.verdict == "not_equivalent"
    kinds = [d.kind for d in r.diagnosis]
    assert kinds[0] == kind
    if kind == "shape_mismatch":   # and the fix that fits, verified
        assert kinds[1] == "missing_transpose"


@pytest.mark.parametrize("text", [
    r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * a^{[1](i)} * (1 - a^{[1](i)})",   # sigmoid' for tanh'
    r"dz^{[2](i)} = a^{[2](1)} - y^{(i)}",            # example 1 for every example
    r"dW^{[1]} = \frac{1}{5} \sum_i dz^{[1](i)} x^{(i)T}",   # 1/5 hard-coded for 1/m
    r"dW^{[1]} = \frac{1}{m} \sum_i dz^{[1](i)} x^{(1)T}",
])
def test_wrong_per_example_formulas_get_an_exact_counterexample(text):
    r = derivcheck.check(NG, text)
    assert r.verdict == "not_equivalent"
    w = r.counterexample
    assert w is not None and w.sizes and w.entry and w.candidate != w.expected


def test_a_sheet_s_da0_is_stacked_like_every_da():
    """ng's A0 is X: dA^{[0]} stacks the per-example gradients, as dA^{[1]} does."""
    r = derivcheck.check(NG, r"dA^{[0]} = W^{[1]T} dZ^{[1]}")
    assert r.verdict == "equivalent"


def test_a_sum_over_examples_that_ignores_its_index_counts_m_for_every_size():
    """sum_i of example 1's outer product is m times it: equal to 3 times it only at m = 3,
    so the proof must try more than one m (the summand's degree in m)."""
    base = r"dW^{[2]} = \frac{1}{m}\sum_i dz^{[2](i)} a^{[1](i)T} + \sum_{i=1}^{m} " \
           r"dz^{[2](1)} a^{[1](1)T} - "
    assert derivcheck.check(NG, base + r"m dz^{[2](1)} a^{[1](1)T}").verdict == "equivalent"
    for k in (2, 3, 4):
        r = derivcheck.check(NG, base + rf"{k} dz^{{[2](1)}} a^{{[1](1)T}}")
        assert r.verdict == "not_equivalent", k
    assert derivcheck.check(NG, r"dz^{[1](i)} = dz^{[1](1)}").verdict == "not_equivalent"


def test_a_column_times_a_row_is_not_warned_as_two_readings():
    """dz^{[1](i)} x^{(i)T}: a matrix product and a broadcast elementwise product are the
    same outer product, so no warning that the other reading would fit too."""
    r = derivcheck.check(NG, r"dW^{[1]} = \frac{1}{m} \sum_i dz^{[1](i)} x^{(i)T}")
    assert r.verdict == "equivalent"
    assert not any("would fit too" in w for w in r.warnings)
