"""The oracle against real torch autograd (float64) on random chains and MLPs.

Off the kinks torch agrees to 1e-12, relative to the largest gradient component (plus,
where ``yhat - y`` nearly cancels, the float rounding of that residual, see
:func:`derivcheck.oracle.adapters.check_point`). At points placed exactly on a kink, under the
torch profile, piecewise-linear networks agree EXACTLY: every value there is a float64,
torch takes the kink branch the profile describes, and ``float(exact) == torch``.
gradcheck, by contrast, fails at a ReLU kink where the oracle is exact.
"""
import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivcheck.oracle.adapters import check_point, torch_forward
from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import Oracle
from derivcheck.oracle.points import sample_points

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SMOOTH = ["elu(2)", "sigmoid", "tanh", "softplus", "leaky_relu(0.01)", "silu"]
PIECEWISE_LINEAR = ["relu", "leaky_relu(0.25)", "abs", "hardtanh"]
ACTIVATIONS = PIECEWISE_LINEAR + SMOOTH + ["hardswish"]


def autograd(net, point):
    """dC/dp by torch autograd on the network built from torch operations."""
    leaves = {s: torch.tensor(float(v), dtype=torch.float64, requires_grad=s in net.params)
              for s, v in point.items()}
    loss = torch_forward(net, leaves)
    grads = torch.autograd.grad(loss, [leaves[p] for p in net.params], allow_unused=True)
    return {p.name: 0.0 if g is None else g.item() for p, g in zip(net.params, grads)}


def exact_in_float(net, loss) -> bool:
    """Is every operation of the network exact in float64 at dyadic points?"""
    acts = net.spec.activations
    return all(a in PIECEWISE_LINEAR + ["identity"] for a in acts) and loss != "bce" \
        and loss != "cross_entropy"


def check_against_torch(net, seed, points=3):
    """Compare at random and kink points; returns how many kink points were exact."""
    oracle = Oracle(net, "torch")
    exact_kinks = 0
    for point, at_kink in sample_points(net, points=points, convention="torch", seed=seed,
                                        float_exact=True):
        got = autograd(net, point)
        if at_kink and exact_in_float(net, net.spec.loss):
            want = oracle.gradients(point)
            assert got == {k: float(v) for k, v in want.items()}, point
            exact_kinks += 1
        else:
            assert check_point(net, point, got, convention="torch", rtol=1e-12) is None, point
    return exact_kinks


# --- seeded: every activation, chains and MLPs ---------------------------------------------

@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["half_squared", "mse"])
def test_chains(act, loss):
    net = chain(["w1", "w2", "w3"], act, biases=["b1", "b2", "b3"], loss=loss)
    kinks = check_against_torch(net, seed=1)
    assert kinks > 0 or act not in PIECEWISE_LINEAR or act == "abs"


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_mlps(act):
    net = mlp([2, 3, 2, 1], f"{act},{act},identity", bias=True, loss="half_squared")
    kinks = check_against_torch(net, seed=2)
    assert kinks > 0 or act not in PIECEWISE_LINEAR or act == "abs"


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_bce_with_sigmoid_output(act):
    check_against_torch(mlp([2, 3, 1], f"{act},sigmoid", bias=True, loss="bce"), seed=3)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_cross_entropy_mlp(act):
    check_against_torch(mlp([2, 3, 3], f"{act},identity", bias=True, loss="cross_entropy"),
                        seed=4)


def test_mse_over_two_outputs_is_exact_at_kinks():
    net = mlp([2, 3, 2], "relu,identity", bias=True, loss="mse")
    assert check_against_torch(net, seed=5) >= 3


def test_bias_free_relu_mlp_is_exact_at_kinks():
    net = mlp([3, 3, 3, 1], "relu,relu,identity", loss="half_squared")
    assert check_against_torch(net, seed=6, points=6) > 0


# --- hypothesis: random architectures -----------------------------------------------------

@st.composite
def networks(draw):
    loss = draw(st.sampled_from(["half_squared", "mse", "bce", "cross_entropy"]))
    depth = draw(st.integers(1, 3))
    acts = draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth, max_size=depth))
    if loss == "bce":
        acts[-1] = "sigmoid"
    if loss != "cross_entropy" and draw(st.booleans()):
        return chain([f"w{k}" for k in range(1, depth + 1)], acts, loss=loss,
                     biases=[f"b{k}" for k in range(1, depth + 1)] if draw(st.booleans())
                     else None)
    widths = draw(st.lists(st.integers(1, 3), min_size=depth, max_size=depth))
    outputs = draw(st.integers(2, 3)) if loss == "cross_entropy" else 1
    return mlp([*widths, outputs], acts, bias=draw(st.booleans()), loss=loss)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), seed=st.integers(0, 2 ** 16))
def test_random_networks_agree_with_torch(net, seed):
    check_against_torch(net, seed, points=2)


# --- gradcheck's false failure at a kink ----------------------------------------------------

def test_gradcheck_fails_at_a_relu_kink_where_the_oracle_is_exact():
    net = chain(["w1"], "relu", loss="half_squared")
    kink = {"x": 1, "w1": 0, "y": 1}                      # z1 = 0; dC/dw1 = -Step(0)

    def loss(w1):
        return torch_forward(net, {"x": 1.0, "w1": w1, "y": 1.0})

    w1 = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    with pytest.raises(importlib.import_module("torch.autograd.gradcheck").GradcheckError):
        torch.autograd.gradcheck(loss, (w1,))
    assert torch.autograd.gradcheck(loss, (w1,), raise_exception=False) is False

    (analytic,) = torch.autograd.grad(loss(w1), (w1,))
    assert analytic.item() == float(Oracle(net, "torch").gradient("w1", kink)) == 0.0
    # the central difference sees the average of both sides: the Step(0) = 1/2 value
    eps = 2.0 ** -20
    numeric = (loss(torch.tensor(eps)) - loss(torch.tensor(-eps))).item() / (2 * eps)
    assert numeric == pytest.approx(float(Oracle(net, "1/2").gradient("w1", kink)), abs=eps)
    assert Oracle(net, "torch").at_kink(kink)
