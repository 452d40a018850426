"""derivcheck.oracle.adapters: comparing numpy backward passes with the oracle (torch's
are in test_adapters_torch.py: these run without torch)."""
import numpy as np
import pytest

from derivcheck.oracle.adapters import Comparison, Mismatch, check_point, compare_numpy
from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import Oracle

NET = mlp([2, 3, 1], "relu,identity", bias=True, loss="half_squared")


def numpy_backward(mask):
    """A hand-written backward pass for NET; ``mask(h)`` is where ReLU' is 0."""
    def backward(params, inputs, targets):
        x = np.array([[inputs["x1"], inputs["x2"]]])
        w1 = np.array([[params[f"W0_{i}{j}"] for j in (1, 2, 3)] for i in (1, 2)])
        b1 = np.array([params[f"b1_{j}"] for j in (1, 2, 3)])
        w2 = np.array([[params[f"W1_{j}1"]] for j in (1, 2, 3)])
        h = x @ w1 + b1
        y_pred = np.maximum(h, 0) @ w2 + params["b2_1"]
        grad_y = y_pred - targets["y"]
        grad_h = grad_y @ w2.T
        grad_h[mask(h)] = 0
        grads = {f"W0_{i}{j}": (x.T @ grad_h)[i - 1, j - 1] for i in (1, 2) for j in (1, 2, 3)}
        grads.update({f"b1_{j}": grad_h[0, j - 1] for j in (1, 2, 3)})
        grads.update({f"W1_{j}1": (np.maximum(h, 0).T @ grad_y)[j - 1, 0] for j in (1, 2, 3)})
        grads["b2_1"] = grad_y[0, 0]
        return grads
    return backward


CORRECT = numpy_backward(lambda h: h <= 0)          # relu'(0) = 0, torch's convention
SEED_STYLE = numpy_backward(lambda h: h < 0)        # seed 001: Step(0) = 1


def test_a_correct_backward_pass_passes_at_kinks_too():
    result = compare_numpy(NET, CORRECT, points=6)
    assert result.ok and bool(result) and result.first is None
    assert result.kink_points >= 3 and result.points == 6 + result.kink_points
    assert str(result) == f"all {result.points} points agree ({result.kink_points} on kinks)"
    assert repr(result) == f"<Comparison ok: {result.points} points, convention torch>"


def test_step0_equal_one_is_only_a_kink_convention():
    result = compare_numpy(NET, SEED_STYLE, points=6)
    assert not result.ok and result.convention_only
    first = result.first
    assert first.at_kink and first.convention == "1"
    assert first.parameter.startswith(("W0_", "b1_"))
    assert first.expected == Oracle(NET, "torch").gradients(first.point)[first.parameter]
    text = str(result)
    assert f"dC/d{first.parameter} differs from the exact gradient (kink convention torch)" in text
    assert "(a kink point)" in text
    assert "only a kink convention: your implementation uses Step(0) = 1" in text
    assert compare_numpy(NET, SEED_STYLE, points=6, convention="1").ok
    assert compare_numpy(NET, SEED_STYLE, points=6, convention="any").ok
    assert not compare_numpy(NET, CORRECT, points=6, convention="1").ok


def test_a_real_error_is_not_a_convention():
    def flipped(params, inputs, targets):
        return {k: -v for k, v in CORRECT(params, inputs, targets).items()}
    result = compare_numpy(NET, flipped, points=3, kinks=False)
    assert not result.ok and not result.convention_only
    assert not result.first.at_kink and result.first.convention is None
    assert result.first.actual == -float(result.first.expected)
    assert "only a kink convention" not in str(result)
    assert "3 of 3 points disagree (0 on kinks)" in str(result)
    assert repr(result).startswith(f"<Comparison failed: dC/d{result.first.parameter} = ")


def test_missing_gradients_are_reported():
    def partial(params, inputs, targets):
        grads = CORRECT(params, inputs, targets)
        del grads["b2_1"]
        return grads
    result = compare_numpy(NET, partial, points=1, kinks=False)
    assert result.first.parameter == "b2_1" and result.first.actual is None
    assert "yours: (missing)" in str(result)


def test_a_profile_explains_jax_style_abs():
    net = chain(["w1"], "abs")

    def jax_abs(params, inputs, targets):      # d|z|/dz = 1 at 0, as jax computes it
        z = params["w1"] * inputs["x"]
        return {"w1": (abs(z) - targets["y"]) * (1.0 if z >= 0 else -1.0) * inputs["x"]}
    result = compare_numpy(net, jax_abs, points=2)
    assert result.first.convention == "jax"
    assert "your implementation uses the jax convention" in str(result)
    assert compare_numpy(net, jax_abs, points=2, convention="jax").ok


def test_long_points_are_shortened():
    net = mlp([4, 4, 1], "relu")
    result = compare_numpy(net, lambda p, i, t: {}, points=1, kinks=False)
    assert "... (9 more)" in str(result)


def test_check_point():
    net = chain(["w1"], "relu")
    point = {"x": 1, "w1": 0, "y": 1}
    assert check_point(net, point, {"w1": 0.0}) is None
    found = check_point(net, point, {"w1": -1.0})
    assert isinstance(found, Mismatch) and found.convention == "1" and found.at_kink
    assert check_point(net, point, {"w1": -0.5}).convention == "1/2"


def test_rounding_of_a_cancelling_residual_is_allowed_but_errors_are_not():
    # elu(2) saturates at -2 and the target is -2: yhat - y ~ 1e-7 loses digits in float
    net = chain(["w1", "w2"], "relu,elu(2)", loss="half_squared")
    point = {"x": 1, "w1": 3, "w2": -6, "y": -2}
    exact = Oracle(net, "torch").gradients(point)
    yhat = 2 * (np.exp(-18.0) - 1)
    residual = yhat - (-2)
    float_grads = {"w1": residual * 2 * np.exp(-18.0) * -6, "w2": residual * 2 * np.exp(-18.0) * 3}
    assert float_grads["w2"] != pytest.approx(float(exact["w2"]), rel=1e-12, abs=0)
    assert check_point(net, point, float_grads) is None
    assert check_point(net, point, {k: -v for k, v in float_grads.items()}) is not None


def test_comparison_text_for_one_kink():
    c = Comparison("torch", points=3, kink_points=1)
    assert str(c) == "all 3 points agree (1 on a kink)"
