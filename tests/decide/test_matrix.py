"""Deciding matrix formulas: shapes first, refutation on instances, proof for every size."""
from __future__ import annotations

from fractions import Fraction

import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.network import from_dict, mlp


@pytest.fixture(scope="module")
def ng():
    return MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True)


@pytest.fixture(scope="module")
def cs():
    return MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True,
                         style="cs231n")


def test_right_formula_is_equivalent_for_every_size(ng):
    r = derivcheck.check(ng, "dW1 = 1/m * dZ1 @ X.T")
    assert r.verdict == "equivalent" and "for every size" in r.method_detail
    assert "m in [" in r.method_detail          # several values of the batch size were used


def test_a_hard_coded_size_is_refuted(ng):
    r = derivcheck.check(ng, "dW1 = dZ1 @ X.T / 4")
    assert r.verdict == "not_equivalent"
    assert r.counterexample.to_json()["sizes"]["m"] != 4


def test_shape_mismatch_is_a_verdict_with_the_fix(ng):
    r = derivcheck.check(ng, "dW1 = 1/m * X @ dZ1")
    assert r.verdict == "not_equivalent" and r.exit_code == 1
    d = r.diagnosis[0]
    assert d.kind in ("shape_mismatch", "wrong_product_order", "missing_transpose")
    assert "n0 x m" in d.message and "n1 x m" in d.message
    js = r.to_json()
    for key in ("verdict", "wrt", "candidate", "gradient", "counterexample", "kink_point",
                "diagnosis", "method", "kink_convention", "assumptions"):
        assert key in js


def test_counterexample_gives_sizes_matrices_and_entry(ng):
    cx = derivcheck.check(ng, "dZ2 = Y - A2").counterexample.to_json()
    assert set(cx) >= {"sizes", "matrices", "entry", "point", "candidate", "expected"}
    assert cx["entry"].startswith("dZ2[")
    for row in cx["matrices"]["Y"]:           # bce targets lie in [0, 1]
        assert all(0 <= Fraction(v) <= 1 for v in row)


def test_cross_entropy_counterexample_has_one_hot_targets(cs):
    cx = derivcheck.check(cs, "dscores = (P - Y) / N * 2").counterexample.to_json()
    for row in cx["matrices"]["Y"]:           # rows are examples under cs231n
        assert sorted(Fraction(v) for v in row) == [0, 0, 1]


def test_rewriting_a_forward_quantity_is_never_a_false_equivalent(ng):
    r = derivcheck.check(ng, "dZ1 = W2.T @ dZ2 * (1 - np.tanh(W1 @ X + b1)**2)")
    assert r.verdict == "unknown" and "not proved for every size" in r.reason


def test_diagnoses_are_verified_fixes(ng, cs):
    cases = [(ng, "dW1 = dZ1 @ X.T", "missing_batch_mean"),
             (ng, "dW1 = 1/m**2 * dZ1 @ X.T", "missing_batch_mean"),
             (ng, "db1 = np.sum(dZ1, axis=1) / m", "wrong_sum_axis"),
             (ng, "db1 = np.sum(dZ1, axis=0, keepdims=True) / m", "wrong_sum_axis"),
             (cs, "dW2 = dscores @ H.T", "wrong_product_order"),
             (cs, "dZ1 = dscores @ W2.T", "missing_gate"),   # dhidden unmasked is dL/dH
             (ng, "dZ2 = Y - A2", "sign_flip")]
    for net, text, kind in cases:
        r = derivcheck.check(net, text)
        assert r.verdict == "not_equivalent", text
        assert kind in [d.kind for d in r.diagnosis], (text, r.diagnosis)


def test_a_fix_right_at_one_size_only_is_no_diagnosis():
    """1/4 for 1/m: at the instance m = 2, "times m" turns 1/4 into 1/m, but not at other
    m, so "the 1/m is taken twice" would be untrue (found by the matrix soundness run)."""
    net = MatrixNetwork(["n0", "n1", "n2"], "relu,relu", "half_squared", batch="m", bias=True,
                        style="ng")
    for text in ("db2 = 1/4 * np.sum(dZ2, axis=1, keepdims=True)",
                 "dW1 = 1/4 * dZ1 @ X.T", "dW1 = dZ1 @ X.T / 8"):
        r = derivcheck.check(net, text)
        assert r.verdict == "not_equivalent", text
        assert "missing_batch_mean" not in [d.kind for d in r.diagnosis], (text, r.diagnosis)
    r = derivcheck.check(net, "dW1 = dZ1 @ X.T / m**2")
    assert "missing_batch_mean" in [d.kind for d in r.diagnosis]


def test_the_counterexample_entry_differs_after_the_targets_go_one_hot():
    """Softmax's derivative taken elementwise is right where y = 1 and wrong where y = 0:
    moving the targets to one-hot columns must keep the named entry one that differs, by
    more than rounding (mpmath values equal in truth differed in an ulp)."""
    net = MatrixNetwork(["D", "H", 3], "relu,softmax", "cross_entropy", batch="N", bias=True,
                        style="cs231n")
    r = derivcheck.check(net, "dZ2 = dA2 * A2 * (1 - A2)")
    assert r.verdict == "not_equivalent"
    cx = r.counterexample.to_json()
    row = int(cx["entry"].split("[")[1].split(",")[0]) - 1
    col = int(cx["entry"].split(",")[1].rstrip("]")) - 1
    assert cx["matrices"]["Y"][row][col] == "0", cx      # the entry where y = 0
    assert abs(float(cx["candidate"]) - float(cx["expected"])) > 1e-6, cx


def test_a_dropped_activation_derivative_is_diagnosed(ng):
    r = derivcheck.check(ng, "dZ1 = W2.T @ dZ2")
    assert r.verdict == "not_equivalent"
    assert [d.kind for d in r.diagnosis] == ["missing_factor"], r.diagnosis
    assert "tanh'(Z1)" in r.diagnosis[0].message
    r = derivcheck.check(ng, "dZ1 = W2.T @ dZ2 * A1 * (1 - A1)")    # sigmoid' for tanh'
    assert "missing_factor" not in [d.kind for d in r.diagnosis]


def test_elementwise_for_matrix_product_is_diagnosed():
    net = MatrixNetwork([3, 3, 3], "identity", "half_squared", batch=3, reduce="sum")
    r = derivcheck.check(net, "dW2 = dZ2 * A1.T", wrt=None)
    assert r.verdict == "not_equivalent"
    assert "elementwise_vs_matrix_product" in [d.kind for d in r.diagnosis]


def test_wrt_may_name_any_quantity(ng):
    assert derivcheck.check(ng, "1/m * (A2 - Y)", wrt="Z2").verdict == "equivalent"
    assert derivcheck.check(ng, "A2 - Y", wrt="dZ2").verdict == "equivalent"
    one = MatrixNetwork([2, 3, 1], "tanh,sigmoid", "bce")
    assert derivcheck.check(one, "dJ/dW1_21 = dZ1_21 * X_11").verdict == "equivalent"
    assert derivcheck.check(one, "dZ1_21 * X_21", wrt="W1_21").verdict == "not_equivalent"


def test_scalar_mlp_accepts_matrix_names_with_a_warning():
    net = mlp([2, 3, 1], "relu")
    r = derivcheck.check(net, "dW2 = dZ2 @ A1.T")
    assert r.verdict == "equivalent"
    assert any("read in the ng style" in w for w in r.readings)


def test_toml_fields_build_a_matrix_network():
    net = from_dict({"widths": [2, "n", 1], "activations": "relu", "batch": "m"})
    assert net.is_matrix and net.size_names == ["n", "m"]


def test_softmax_derivative_taken_elementwise_is_diagnosed():
    net = MatrixNetwork(["n0", "n1", 3], "relu,softmax", "half_squared", batch="m", bias=True)
    r = derivcheck.check(net, "dZ2 = dA2 * A2 * (1 - A2)")
    assert r.verdict == "not_equivalent" and r.diagnosis[0].kind == "softmax_jacobian"
    right = "dZ2 = A2 * (dA2 - np.sum(A2 * dA2, axis=0, keepdims=True))"
    assert derivcheck.check(net, right).verdict == "equivalent"
    ce = MatrixNetwork([4, 5, 3], "relu,softmax", "cross_entropy", batch="m", bias=True)
    assert derivcheck.check(ce, "dZ2 = -Y * (1 - A2)").diagnosis[0].kind == "softmax_jacobian"
    assert derivcheck.check(ce, "dAL = -Y / AL").verdict == "equivalent"


def test_without_a_style_the_formula_s_own_names_decide():
    net = MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True)
    r = derivcheck.check(net, "dW2 = H.T @ dscores")
    assert r.verdict == "equivalent" and any("cs231n style" in w for w in r.readings)
    r = derivcheck.check(net, "dW2 = 1/N * dZ2 @ A1.T")
    assert r.verdict == "equivalent" and any("ng style" in w for w in r.readings)


@pytest.mark.parametrize("text", ["dW1 = 1/m * X @ dZ1", "dW2 = 1/m * A1.T @ dZ2"])
def test_shape_mismatch_counterexample_has_valid_targets(ng, cs, text):
    """Found by the matrix soundness run: the one point of a shape mismatch drew bce
    targets outside [0, 1] (and cross-entropy targets that were not one-hot)."""
    cx = derivcheck.check(ng, text).counterexample.to_json()
    assert all(0 <= Fraction(v) <= 1 for row in cx["matrices"]["Y"] for v in row)
    cx = derivcheck.check(cs, "dW2 = dscores @ H").counterexample.to_json()
    for row in cx["matrices"]["Y"]:
        assert sorted(Fraction(v) for v in row) == [0, 0, 1]


def test_shape_mismatch_with_a_softmax_output_is_a_verdict_not_a_crash():
    """Found by the matrix soundness run: the softmax_jacobian diagnosis evaluated a
    formula whose shapes do not fit and crashed with a reshape error."""
    net = MatrixNetwork(["n0", 2], "softmax", "cross_entropy", batch="m")
    r = derivcheck.check(net, "dW1 = 1/m * (X.T @ dZ1)")
    assert r.verdict == "not_equivalent"
    assert r.diagnosis and r.diagnosis[0].kind in ("shape_mismatch", "wrong_product_order",
                                                   "missing_transpose")


def test_an_undecided_instance_is_never_called_equal(ng, monkeypatch):
    """Found by the matrix soundness run under load: entries left unknown at the first
    instance (time ran out) were reported as "equal at sizes ...", an untrue reason."""
    import derivcheck.decide.matrix as dm
    monkeypatch.setattr(dm, "_true_level", lambda *a, **k: ("unknown", None, None))
    r = derivcheck.check(ng, "dZ1 = W2.T @ dZ2 * (1 - np.tanh(W1 @ X + b1)**2)")
    assert r.verdict == "unknown"
    assert "equal at" not in r.reason and "not decided at sizes" in r.reason


# -- the two unknowns of issue 15: decided soundly ------------------------------------------

@pytest.fixture(scope="module")
def cs_classes():
    """cs231n's classifier with a number of classes that is a size name."""
    return MatrixNetwork(["D", "H", "C"], "relu,softmax", "cross_entropy", batch="N",
                         bias=True, style="cs231n")


@pytest.mark.parametrize("text", ["dscores @ W2.T * (H > 0)",
                                  "np.where(H <= 0, 0, dscores @ W2.T)",
                                  "dscores @ W2.T * (1 - (H <= 0))"])
def test_dhidden_masked_by_h_is_equivalent_under_torch(cs, text):
    """relu(z) > 0 exactly where z > 0, so the mask on H is the mask on Z1, at the kink
    too: relu'(0) = 0 under torch (the backward pass is built under the check's
    convention; before, it kept Step(0) free and the internal check said unknown)."""
    r = derivcheck.check(cs, text, "dhidden", convention="torch")
    assert r.verdict == "equivalent", r.reason


def test_dhidden_mask_differs_at_the_kink_under_other_conventions(cs):
    for conv in ("any", "numpy"):   # numpy's relu'(0) = 1: (H > 0) differs at Z1 = 0
        r = derivcheck.check(cs, "dscores @ W2.T * (H > 0)", "dhidden", convention=conv)
        assert r.verdict == "equivalent_almost_everywhere"


def test_mask_that_keeps_everything_is_refuted_under_torch(cs):
    r = derivcheck.check(cs, "dscores @ W2.T * (H >= 0)", "dhidden", convention="torch")
    assert r.verdict == "not_equivalent"


@pytest.mark.parametrize("text,wrt", [("H.T @ dscores", "dW2"), ("(P - Y) / N", "dscores"),
                                      ("X.T @ (dscores @ W2.T * (H > 0))", "dW1"),
                                      ("np.sum(dscores, axis=0)", "db2")])
def test_cross_entropy_with_a_named_class_count_is_proved(cs_classes, text, wrt):
    r = derivcheck.check(cs_classes, text, wrt, convention="torch")
    assert r.verdict == "equivalent" and "for every size" in r.method_detail
    assert "C in [" in r.method_detail       # the class count was varied too


@pytest.mark.parametrize("text", ["(P - Y) / 5", "(P - Y) / C", "(P - Y) / N * 2",
                                  "P / N"])
def test_cross_entropy_with_a_named_class_count_refutes(cs_classes, text):
    r = derivcheck.check(cs_classes, text, "dscores")
    assert r.verdict == "not_equivalent"
    for row in r.counterexample.to_json()["matrices"]["Y"]:   # one-hot rows
        assert sorted(Fraction(v) for v in row).count(1) == 1


def test_a_formula_right_only_for_one_hot_targets_is_never_a_false_verdict(cs_classes):
    """P sum(Y) - Y equals P - Y for one-hot targets: the bound route (free targets) does
    not prove it, and nothing refutes it."""
    r = derivcheck.check(cs_classes, "(P * np.sum(Y, axis=1, keepdims=True) - Y) / N",
                         "dscores")
    assert r.verdict in ("unknown", "equivalent")


def test_softmax_of_the_pre_activation_is_not_the_probabilities_after_tanh():
    """P = softmax(tanh(Z2)) here: reading softmax(Z2) as P would be a false equivalent."""
    net = MatrixNetwork(["n0", "n1", "c"], "relu,tanh", "cross_entropy", batch="m")
    assert derivcheck.check(net, "dZ2 = (softmax(Z2) - Y) * (1 - A2**2)").verdict == (
        "not_equivalent")
    right = derivcheck.check(net, "dZ2 = (softmax(A2) - Y) * (1 - A2**2)")
    assert right.verdict == "equivalent" and "for every size" in right.method_detail
