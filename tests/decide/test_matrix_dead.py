"""Dead regions of bias-free networks: where every unit of a ReLU layer is off for an
example, the next pre-activations are 0 on an open set, so a gate on them is not on a
kink of measure zero there (found by the matrix soundness run at 5,000 cases)."""
from __future__ import annotations

import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork


@pytest.fixture(scope="module")
def dead():
    """ReLU then leaky ReLU, no biases, a batch: Z2 = W2 A1 is 0 wherever every unit of
    layer 1 is off for an example (at the proof's sizes, n1 = 6, 1 example in 64 at
    random: the off-the-kinks route alone called the leaky masks below equivalent almost
    everywhere)."""
    return MatrixNetwork(["n0", "n1", 2, 3], "relu,leaky_relu(1/10),sigmoid", "bce",
                         batch="m", bias=False)


def _differs_where_dead(net, result):
    """The counterexample lies in a dead region and shows the difference there."""
    w = result.counterexample
    assert w.step0 is not None            # a difference that depends on Step(0) = c
    sizes = w.to_json()["sizes"]
    inst = net.instance(sizes)
    X, W1 = (inst.array(k) for k in (("X",), ("W", 1)))
    point = {str(s): v for s, v in w.point.items()}
    Z1 = [[sum(point[str(W1[j, i])] * point[str(X[i, k])] for i in range(X.shape[0]))
           for k in range(X.shape[1])] for j in range(W1.shape[0])]
    assert any(all(Z1[j][k] < 0 for j in range(len(Z1))) for k in range(len(Z1[0]))), Z1


@pytest.mark.parametrize("mask", ["(1/10 + 9/10 * (Z2 > 0))", "np.where(Z2 >= 0, 1, 1/10)",
                                  "(1 - 9/10 * (Z2 <= 0))"])
def test_a_leaky_mask_that_differs_where_the_units_before_are_dead_is_refuted(dead, mask):
    r = derivcheck.check(dead, f"dZ2 = {mask} * (W3.T @ dZ3)")
    assert r.verdict == "not_equivalent", (r.verdict, r.method_detail)
    assert "is off for example" in r.method_detail
    _differs_where_dead(dead, r)


def test_the_reference_mask_written_with_step_is_equivalent(dead):
    r = derivcheck.check(dead, "dZ2 = (1/10 + 9/10 * step(Z2)) * (W3.T @ dZ3)")
    assert r.verdict == "equivalent"


def test_a_mask_on_the_first_layer_stays_almost_everywhere(dead):
    """Z1 = W1 X is 0 on no open set: (Z1 > 0) for ReLU's derivative is right off the
    kinks, and the dead regions after it are checked too."""
    r = derivcheck.check(dead, "dZ1 = (W2.T @ dZ2) * (Z1 > 0)")
    assert r.verdict == "equivalent_almost_everywhere", r.reason
    assert "off for some examples" in r.method_detail


def test_with_biases_there_is_no_dead_region():
    net = MatrixNetwork(["n0", "n1", 2, 3], "relu,leaky_relu(1/10),sigmoid", "bce",
                        batch="m", bias=True)
    r = derivcheck.check(net, "dZ2 = (1/10 + 9/10 * (Z2 > 0)) * (W3.T @ dZ3)")
    assert r.verdict == "equivalent_almost_everywhere", r.reason
    assert "off for some examples" not in r.method_detail
