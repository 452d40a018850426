"""Masked (gated) matrix formulas: the answers users type most often are decided, all
entries at once, and the gated route refuses what it cannot claim.

The matrix soundness run (5,000 cases) left 27 formulas unknown, every one a correct mask
such as ``dZ1 = dA1 * (Z1 > 0)``, 21 of them past its 10 s budget: the general route
decided every entry with the scalar procedure, twice. The networks below are those cases'.
"""
from __future__ import annotations

import time

import pytest

import derivcheck
from derivcheck.core.assumptions import Assumptions
from derivcheck.core.conventions import get_convention
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.decide.formal import FormalEvaluator
from derivcheck.decide.matrix_gates import kink_witness, off_kinks_identical
from derivcheck.decide.matrix_levels import _c_fixed, _entries, _values
from derivcheck.parsing import parse_formula

ANY = get_convention("any")
GATED = "each gate a 0/1 variable"   # the gated route's method names it

CORRECT = [
    # (widths, activations, loss, options, formula): cases of the soundness run
    (["n0", "n1", "n2", 2], "relu,relu,tanh", "mse", dict(batch="m", style="ng"),
     "dZ1 = dA1 * (Z1 > 0)"),
    (["n0", "n1", "n2", "n3"], "relu,relu,tanh", "half_squared", dict(batch="m", style="ng"),
     "dZ1 = (Z1 > 0) * (W2.T @ dZ2)"),
    (["n0", "n1", "n2", "n3"], "relu,sigmoid,relu", "half_squared",
     dict(batch="m", style="seed", bias=True), "dz3 = 1/m * ((r3 - y) * (z3 > 0))"),
    (["D", "H", "H2", 2], "leaky_relu(1/10),leaky_relu(1/10),identity", "cross_entropy",
     dict(batch="m", style="cs231n"), "dZ2 = (1/10 + 9/10 * (Z2 > 0)) * (dscores @ W3.T)"),
    (["n0", "n1", "n2", 2], "leaky_relu(1/10),relu,identity", "cross_entropy",
     dict(batch="m", style="seed"), "dz2 = np.where(z2 > 0, 1, 0) * (W2 @ dz3)"),
    (["n0", "n1", "n2", 3], "relu,relu,identity", "cross_entropy",
     dict(batch="m", style="nielsen", bias=True), "delta3 = (z3 > 0) * (w4.T @ delta4)"),
    ([3, "n1", "n2", 2], "relu,sigmoid,identity", "cross_entropy",
     dict(batch="m", style="ng", bias=True),
     r"dZ^{[1]} = (W^{[2]T} \cdot dZ^{[2]}) * \mathbb{1}[Z^{[1]} > 0]"),
    (["n0", "n1", "n2", 3], "relu,leaky_relu(1/10),identity", "cross_entropy",
     dict(batch=3, style="ng"), "dZ1 = ((dZ2.T @ W2)).T * (Z1 > 0)"),
    (["n0", 3, "n2", 3], "sigmoid,leaky_relu(1/10),tanh", "mse", dict(style="ng"),
     "dZ2 = dA2 * (1/10 + 9/10 * (Z2 > 0))"),
    (["n0", "n1", 3, 2], "sigmoid,relu,softmax", "cross_entropy",
     dict(style="nielsen", bias=True), "delta3 = da3 * (z3 > 0)"),
    ([3, "n1", 2], "tanh,relu", "half_squared", dict(batch="m", style="ng", bias=True),
     r"dZ^{[2]} = (A^{[2]} \odot (Z^{[2]} > 0)) - (Y \circ (Z^{[2]} > 0))"),
]


@pytest.mark.parametrize("widths,acts,loss,options,text", CORRECT,
                         ids=[c[-1] for c in CORRECT])
def test_the_common_masked_answers_are_decided(widths, acts, loss, options, text):
    """Each is right off the kinks and differs at one for Step(0) = c > 0 (the mask's
    ``(Z > 0)`` is 0 there): equivalent almost everywhere, with the kink point."""
    net = MatrixNetwork(widths, acts, loss, **options)
    r = derivcheck.check(net, text)
    assert r.verdict == "equivalent_almost_everywhere", (r.verdict, r.reason)
    assert GATED in r.method_detail
    assert r.kink_point is not None


def test_a_mask_that_matches_the_convention_is_equivalent():
    """Under Step(0) = 0, ``(Z1 > 0)`` is the reference's gate at the kinks too."""
    net = MatrixNetwork(["n0", "n1", 2], "relu,identity", "mse", batch="m", style="ng")
    r = derivcheck.check(net, "dZ1 = dA1 * (Z1 > 0)", convention="0")
    assert r.verdict == "equivalent", r.reason


# -- the gated route refuses ------------------------------------------------------------------

def _read(net, text):
    return net.with_probabilities(parse_formula(text, net.namespace).expr)


def _identical(net, sizes, text, reference):
    inst = net.instance(sizes)
    return off_kinks_identical(inst, _read(net, text), net.namespace.symbols[reference], ANY)


WRONG = [
    # a mask on the wrong layer (the shapes fit: both hidden layers have 3 units)
    (MatrixNetwork([2, 3, 3, 1], "relu,relu,sigmoid", "bce", batch="m", style="ng"),
     {"m": 2}, "dZ1 = dA1 * (Z2 > 0)", "dZ1"),
    # a transposed mask (Z1 is 3 x 3)
    (MatrixNetwork([2, 3, 1], "relu,sigmoid", "bce", batch=3, style="ng"),
     {}, "dZ1 = dA1 * (Z1.T > 0)", "dZ1"),
    # a leaky slope that differs from the network's
    (MatrixNetwork(["n0", "n1", 1], "leaky_relu(1/10),sigmoid", "bce", batch="m", style="ng"),
     {"n0": 2, "n1": 3, "m": 2}, "dZ1 = dA1 * (1/100 + 99/100 * (Z1 > 0))", "dZ1"),
    # a mask on the right layer, the wrong side of the kink
    (MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m", style="ng"),
     {"n0": 2, "n1": 3, "m": 2}, "dZ1 = dA1 * (Z1 < 0)", "dZ1"),
    # a leaky mask for a ReLU layer
    (MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m", style="ng"),
     {"n0": 2, "n1": 3, "m": 2}, "dZ1 = dA1 * (1/10 + 9/10 * (Z1 > 0))", "dZ1"),
]


@pytest.mark.parametrize("net,sizes,text,reference", WRONG, ids=[w[2] for w in WRONG])
def test_a_wrong_mask_is_not_identical_off_the_kinks_and_is_refuted(net, sizes, text,
                                                                     reference):
    assert not _identical(net, sizes, text, reference)
    r = derivcheck.check(net, text)
    assert r.verdict == "not_equivalent", (r.verdict, r.reason)
    assert r.counterexample is not None


def test_a_gate_on_a_quantity_that_vanishes_on_an_open_set_is_refused():
    """``(A1 >= 0)`` is 1 wherever the ReLU is off, ``(2 A1 > 0)`` is 0 there; one 0/1
    variable for both (what the formal evaluator's off-the-kinks mode gives a gate on
    A1) makes this wrong formula identical to the reference. The route claims nothing
    unless every gate is on a free leaf, and the formula is refuted."""
    net = MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m", style="ng")
    text = "dZ1 = dA1 * (Z1 > 0) + dA1 * (2 * A1 > 0) - dA1 * (A1 >= 0)"
    inst = net.instance({"n0": 2, "n1": 3, "m": 2})
    reference = net.namespace.symbols["dZ1"]
    cand, ref = _values(_read(net, text), reference, inst.env("atom", ANY))
    fe = FormalEvaluator(inst.atom_defs(ANY), mode="offkink", c_value=_c_fixed(ANY))
    assert all(fe.value(r) == fe.value(c)            # what the guard is for
               for (_, r), (_, c) in zip(_entries(ref), _entries(cand)))
    assert not off_kinks_identical(inst, _read(net, text), reference, ANY)
    r = derivcheck.check(net, text)
    assert r.verdict == "not_equivalent", (r.verdict, r.reason)


def test_no_kink_witness_when_the_entries_are_equal_at_the_kinks_too():
    """Relu written as ``Z1 * (Z1 > 0)`` is equal to A1 at its kink: identical off the
    kinks, but no kink point, so the gated route does not answer."""
    net = MatrixNetwork([2, 2, 1], "relu,sigmoid", "bce", style="ng")
    expr, reference = _read(net, "dW2 = dZ2 @ (Z1 * (Z1 > 0)).T"), net.namespace.symbols["dW2"]
    assert _identical(net, {}, "dW2 = dZ2 @ (Z1 * (Z1 > 0)).T", "dW2")
    assert kink_witness(net, [{}], expr, reference, ANY, Assumptions.parse([]),
                        time.monotonic() + 30) is None


def test_with_assumptions_the_kink_is_sought_where_the_proof_starts():
    """An assumption may name an entry that the smallest sizes do not have: the kink
    point is then sought at the grid's first sizes, where the general route seeks it."""
    net = MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m", style="ng")
    r = derivcheck.check(net, "dZ1 = dA1 * (Z1 > 0)", assume=["W1_22 > 0"])
    assert r.verdict == "equivalent_almost_everywhere", r.reason
    sizes = r.kink_point.to_json()["sizes"]
    assert min(sizes.values()) >= 2 and "W1_22" in r.kink_point.to_json()["point"]
    plain = derivcheck.check(net, "dZ1 = dA1 * (Z1 > 0)")
    assert set(plain.kink_point.to_json()["sizes"].values()) == {1}


def test_a_formula_undefined_at_the_smallest_sizes_is_no_kink_witness_there():
    net = MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m", style="ng")
    expr = _read(net, "dZ1 = dA1 * (Z1 > 0) * (m - 1) / (m - 1)")
    assert kink_witness(net, [{"n0": 2, "n1": 3, "m": 2}], expr, net.namespace.symbols["dZ1"],
                        ANY, Assumptions.parse([]), time.monotonic() + 30) is None
