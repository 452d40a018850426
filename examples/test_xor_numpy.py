"""Seed 001's numpy XOR backward pass, checked with derivcheck's ``gradient_oracle``.

Off the kinks it is right; exactly on a kink (a hidden pre-activation h = 0) it uses
Step(0) = 1, which the fixture names instead of calling it wrong.
Run from the repository root: ``python -m pytest examples/``.
"""
import importlib.metadata
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# Installed, derivcheck's pytest plugin comes from its entry point; in a bare checkout
# this module loads it.
pytest_plugins = [] if importlib.metadata.entry_points(group="pytest11", name="derivcheck") \
    else ["derivcheck.oracle.pytest_plugin"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xor_numpy  # noqa: E402  (the sibling module, found through the line above)

NET = xor_numpy.network(hidden=3)


def test_right_off_the_kinks(gradient_oracle):
    gradient_oracle.check(NET, xor_numpy.backward, kinks=False)


def test_right_everywhere_with_step0_equal_to_one(gradient_oracle):
    result = gradient_oracle.check(NET, xor_numpy.backward, convention="1")
    assert result.kink_points > 0


def test_under_torch_the_message_names_the_convention(gradient_oracle):
    with pytest.raises(AssertionError) as failure:
        gradient_oracle.check(NET, xor_numpy.backward, convention="torch")
    message = str(failure.value)
    assert "differs from the exact gradient (kink convention torch)" in message
    assert "(a kink point)" in message
    assert "only a kink convention: your implementation uses Step(0) = 1" in message


def test_the_xor_batch_is_the_sum_of_exact_per_example_gradients(gradient_oracle):
    """The seed sums the loss over the four XOR examples; at weights where x = (1, 0)
    puts a hidden unit exactly on its kink, the batch gradient is the sum of the exact
    per-example gradients under Step(0) = 1."""
    w1 = np.array([[1.0, -1.0, 0.0], [0.5, 1.0, 1.0]])
    w2 = np.array([[2.0], [-0.5], [2.0]])
    _, grad_w1, grad_w2 = xor_numpy.forward_backward(xor_numpy.X, xor_numpy.Y, w1, w2)
    oracle = gradient_oracle.oracle(NET, convention="1")
    weights = {f"W0_{i}{j}": w1[i - 1, j - 1] for i in (1, 2) for j in (1, 2, 3)}
    weights.update({f"W1_{j}1": w2[j - 1, 0] for j in (1, 2, 3)})
    total = {name: Fraction(0) for name in weights}
    for (x1, x2), (y,) in zip(xor_numpy.X, xor_numpy.Y):
        point = {"x1": int(x1), "x2": int(x2), "y": int(y), **weights}
        for name, g in oracle.gradients(point).items():
            total[name] += g
    batch = {f"W0_{i}{j}": grad_w1[i - 1, j - 1] for i in (1, 2) for j in (1, 2, 3)}
    batch.update({f"W1_{j}1": grad_w2[j - 1, 0] for j in (1, 2, 3)})
    assert {name: float(g) for name, g in total.items()} == batch
    on_kink = {"x1": 1, "x2": 0, "y": 1, **weights}          # h = x w1 = (1, -1, 0)
    assert oracle.gradient("W0_13", on_kink) == 4
    assert gradient_oracle.oracle(NET, "torch").gradient("W0_13", on_kink) == 0
