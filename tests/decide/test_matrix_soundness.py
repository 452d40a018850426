"""'equivalent for every size' checked independently: at sizes the decision never tried,
each entry of the formula agrees with sympy.diff of the fully substituted loss."""
from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import sympy

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.decide.evaluate import PointEvaluator

NET = MatrixNetwork(["n0", "n1", "n2"], "relu,identity", "half_squared", batch="m", bias=True)
CASES = [
    ("dW1 = 1/m * dZ1 @ X.T", ("W", 1)),
    ("dW1 = (X @ dZ1.T).T / m", ("W", 1)),
    ("dW2 = np.dot(dZ2, A1.T) / m", ("W", 2)),
    ("db1 = np.mean(dZ1, axis=1, keepdims=True)", ("b", 1)),
    ("dJ/dW2 = 1/m * (A2 - Y) @ A1.T", ("W", 2)),
]


@pytest.mark.parametrize("text,key", CASES)
def test_equivalent_holds_at_sizes_never_tried(text, key):
    r = derivcheck.check(NET, text)
    assert r.verdict == "equivalent"
    tried = r.method_detail
    rng = random.Random(7)
    for sizes in ({"n0": 1, "n1": 1, "n2": 1, "m": 1}, {"n0": 3, "n1": 2, "n2": 2, "m": 7}):
        assert f"m in [{sizes['m']}" not in tried
        inst = NET.instance(sizes)
        net = inst.true_network
        defs = net.definitions()
        point = {s: Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for s in inst.leaves()}
        loss = net.loss()
        env = inst.env("true")
        cand = np.asarray(r.candidate_expr.evaluate(env), dtype=object)
        param = inst.styled(key, inst.array(key))
        for idx in np.ndindex(param.shape):
            want = PointEvaluator({}, point)(sympy.diff(loss, param[idx]))
            got = PointEvaluator(defs, point)(cand[idx])
            assert got == want, (text, sizes, idx)
