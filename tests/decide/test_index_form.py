"""Deciding index-form candidates (derivcheck.decide.index_form): the matrix of entries
compared for every size, formulas with a layer letter checked for every layer, and a
generic index on one neuron's left side."""
import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.core.network import forward
from derivcheck.decide.index_form import check_layers
from derivcheck.errors import NameError_

NIELSEN = MatrixNetwork(["n1", "n2", "n3", "n4"], "sigmoid", style="nielsen")
NG = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True, style="ng")
SUM_M = r"\sum_{k=1}^{m} 1"


def test_a_layer_letter_is_checked_at_every_layer_and_the_worst_verdict_shown():
    right = check_layers(NIELSEN, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j")
    assert right.verdict == "equivalent"
    assert right.readings[:4] == ["read l as every layer: l = 2, 3, 4 (checked one by one)",
                                  "l = 2: equivalent", "l = 3: equivalent", "l = 4: equivalent"]
    # BP2 without its sigma': wrong at every layer it is stated for
    wrong = check_layers(NIELSEN, r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k")
    assert wrong.verdict == "not_equivalent"
    assert "shown below: l = 2" in wrong.readings
    assert wrong.counterexample.to_json()["entry"].startswith("delta2[")


def test_a_layer_letter_no_layer_fits_reports_the_furthest_reading():
    with pytest.raises(NameError_) as info:
        check_layers(NIELSEN, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j "
                              r"+ \delta^{l+3}_j")
    assert "delta" in info.value.message and info.value.position > 40


def test_an_index_over_two_sizes_is_a_shape_mismatch_with_a_counterexample():
    # the free indices swapped: the shape problem (CONTRACT section 5), then its fix
    # (verified), which names the kind
    r = derivcheck.check(NIELSEN, r"\frac{\partial C}{\partial w^3_{jk}} = a^{2}_j \delta^3_k")
    assert r.verdict == "not_equivalent"
    assert [d.kind for d in r.diagnosis] == ["shape_mismatch", "missing_transpose"]
    assert "index j runs over the rows of dC/dw3 (n3)" in r.diagnosis[0].message
    assert "with this fix the formula is right" in r.diagnosis[1].message
    assert r.counterexample.to_json()["sizes"]


def test_a_hard_coded_batch_size_is_refuted_on_a_later_instance():
    r = derivcheck.check(NG, "db1_j = sum_i dZ1_ji / 2")
    assert r.verdict == "not_equivalent"
    assert r.counterexample.to_json()["sizes"]["m"] != 2


def test_a_sum_whose_summand_ignores_its_index_multiplies_by_the_size():
    # (S - 3)(S - 4)(S - 5) with S = sum_{k=1}^m 1 = m vanishes at m = 3, 4, 5: only the
    # degree each such sum adds (core.matrix.indexed) asks for m = 6, where it is refuted
    text = (r"db1_j = \sum_i dZ1_{ji} / m + " + "".join(f"({SUM_M} - {v})" for v in (3, 4, 5))
            + " b1_j")
    r = derivcheck.check(NG, text)
    assert r.verdict == "not_equivalent"
    assert r.counterexample.to_json()["sizes"]["m"] == 6


def test_equal_for_every_size_states_the_instances():
    r = derivcheck.check(NG, f"db1_j = \\sum_i dZ1_{{ji}} / m + ({SUM_M} - {SUM_M}) b1_j")
    assert r.verdict == "equivalent"
    assert "equal for every size" in r.method_detail and "m in [2, 3, 4, 5]" in r.method_detail


def test_a_matrix_formula_without_a_layer_letter_is_unchanged():
    r = check_layers(NG, "dW1 = 1/m * dZ1 @ X.T")
    assert r.verdict == "equivalent"
    assert not any("every layer" in x for x in r.readings)


@pytest.mark.parametrize("text,verdict", [
    ("dC/dw_j = (yhat - y)*yhat*(1 - yhat)*x_j", "equivalent"),
    (r"\frac{\partial C}{\partial w_j} = (\hat{y} - y)\hat{y}(1 - \hat{y})x_j", "equivalent"),
    ("dC/dw_j = (y - yhat)*yhat*(1 - yhat)*x_j", "not_equivalent"),
])
def test_a_generic_index_on_the_left_side_is_the_statement_for_every_j(text, verdict):
    net = forward(["yhat = sigmoid(w1*x1 + w2*x2 + w3*x3)"], inputs="x1,x2,x3")
    r = derivcheck.check(net, text)
    assert r.verdict == verdict
    assert r.readings[0] == "read w_j as the statement for every j: checked w1, w2, w3 one by one"


SOUND_NET = MatrixNetwork(["n0", "n1", "n2"], "relu,identity", "half_squared", batch="m",
                          bias=True, style="ng")


@pytest.mark.parametrize("text,key", [
    ("dW1[j,k] = 1/m * sum(i, dZ1[j,i] * X[k,i])", ("W", 1)),
    ("db1_j = sum_i dZ1_ji / m", ("b", 1)),
    (r"dW2[j,k] = \frac{1}{m} \sum_i (A2[j,i] - Y[j,i]) A1[k,i]", ("W", 2)),
])
def test_equivalent_index_forms_hold_at_sizes_never_tried(text, key):
    """Checked independently: each entry agrees with sympy.diff of the substituted loss."""
    import random
    from fractions import Fraction

    import numpy as np
    import sympy

    from derivcheck.decide.evaluate import PointEvaluator
    r = derivcheck.check(SOUND_NET, text)
    assert r.verdict == "equivalent"
    rng = random.Random(11)
    for sizes in ({"n0": 1, "n1": 1, "n2": 1, "m": 1}, {"n0": 3, "n1": 2, "n2": 2, "m": 7}):
        assert f"m in [{sizes['m']}" not in r.method_detail
        inst = SOUND_NET.instance(sizes)
        net = inst.true_network
        point = {s: Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for s in inst.leaves()}
        loss = net.loss()
        cand = np.asarray(r.candidate_expr.evaluate(inst.env("true")), dtype=object)
        param = inst.styled(key, inst.array(key))
        for idx in np.ndindex(param.shape):
            want = PointEvaluator({}, point)(sympy.diff(loss, param[idx]))
            assert PointEvaluator(net.definitions(), point)(cand[idx]) == want, (sizes, idx)
