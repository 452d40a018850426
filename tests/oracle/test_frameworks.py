"""Arrays in and out: numpy backward passes, torch modules, jax pytrees, gradcheck,
hypothesis strategies, all against the exact oracle."""
import numpy as np
import pytest
from hypothesis import given, settings

import derivcheck
from derivcheck.errors import SpecError
from derivcheck.oracle.array_compare import compare_arrays
from derivcheck.oracle.pytest_plugin import GradientOracle
from derivcheck.strategies import networks, points

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def numpy_backward(transpose=True):
    def backward(a):
        Z1 = a["W1"] @ a["X"] + a["b1"]
        A1 = np.maximum(Z1, 0)
        dZ2 = (a["W2"] @ A1 + a["b2"] - a["Y"]) / a["X"].shape[1]
        dZ1 = ((a["W2"].T if transpose else a["W2"][:, :A1.shape[0]].T) @ dZ2) * (Z1 > 0)
        dW2 = dZ2 @ A1.T if transpose else (A1 @ dZ2.T).T * 1.0
        return {"W1": dZ1 @ a["X"].T, "b1": dZ1.sum(1, keepdims=True),
                "W2": dW2, "b2": dZ2.sum(1, keepdims=True)}
    return backward


def test_a_numpy_backward_over_whole_arrays():
    net = derivcheck.mlp([5, 4, 3], "relu,identity", bias=True, batch=3)
    assert compare_arrays(net, numpy_backward())

    def forgot_the_mean(a):
        g = numpy_backward()(a)
        g["W2"] = g["W2"] * a["X"].shape[1]
        return g
    result = compare_arrays(net, forgot_the_mean)
    assert not result and "dJ/dW2 differs" in str(result)
    assert result.mismatches[0].convention is None


@pytest.mark.parametrize("model,loss", [
    (lambda: nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.LeakyReLU(0.1),
                           nn.Linear(4, 3)), nn.CrossEntropyLoss()),
    (lambda: nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1), nn.Sigmoid()),
     nn.BCELoss()),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ELU(0.5), nn.Linear(5, 3),
                           nn.LogSoftmax(dim=1)), nn.NLLLoss(reduction="sum")),
    (lambda: nn.Sequential(nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 3), nn.Softmax(dim=1)),
     nn.MSELoss()),
    (lambda: nn.Sequential(nn.Linear(6, 5, bias=False), nn.ReLU(), nn.Linear(5, 3, bias=False)),
     nn.MSELoss(reduction="sum")),
    (lambda: nn.Sequential(nn.Linear(6, 5), nn.Hardtanh(), nn.Linear(5, 4), nn.ReLU6(),
                           nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 3), nn.SiLU(),
                           nn.Linear(3, 2)), nn.CrossEntropyLoss()),
    (lambda: nn.Sequential(nn.Linear(6, 5), nn.Softplus(), nn.Linear(5, 2)), nn.MSELoss()),
])
def test_torch_modules_are_mapped_and_agree(model, loss):
    from derivcheck.oracle.torch_module import compare_torch_module
    result = compare_torch_module(model(), loss, batch=4, points=2)
    assert result and result.points == 3


def test_a_torch_module_at_a_relu_kink_agrees_exactly_under_torch_only():
    from derivcheck.oracle.torch_module import compare_torch_module
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    result = compare_torch_module(model, nn.CrossEntropyLoss(), batch=2, points=0)
    assert result and result.kink_points == 1
    under_one = compare_torch_module(model, nn.CrossEntropyLoss(), batch=2, points=0,
                                     convention="1")
    assert not under_one and under_one.mismatches[0].convention == "0"


@pytest.mark.parametrize("model,loss,message", [
    (nn.Sequential(nn.Linear(2, 2), nn.Mish()), nn.MSELoss(), "cannot map the layer Mish"),
    (nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1)), nn.CrossEntropyLoss(),
     "softmax twice"),
    (nn.Sequential(nn.Linear(2, 2)), nn.L1Loss(), "cannot map the loss L1Loss"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), nn.MSELoss(), "must follow an nn.Linear"),
])
def test_layers_it_cannot_map_are_clear_errors(model, loss, message):
    from derivcheck.oracle.torch_module import compare_torch_module
    with pytest.raises(SpecError, match=message):
        compare_torch_module(model, loss)


def test_a_module_whose_forward_is_not_its_layers_in_order_is_refused():
    from derivcheck.oracle.torch_module import compare_torch_module

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.r, self.b = nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2)

        def forward(self, x):
            return self.b(self.r(self.a(x)) + x)
    with pytest.raises(SpecError, match="in order"):
        compare_torch_module(Residual(), nn.CrossEntropyLoss())


def relu_net():
    return derivcheck.mlp([3, 4, 2], "relu,identity", bias=True, batch=2)


def torch_loss(relu):
    def loss(a):
        Z1 = a["W1"] @ a["X"] + a["b1"]
        return ((a["W2"] @ relu(Z1) + a["b2"] - a["Y"]) ** 2).sum() / 4
    return loss


def test_gradcheck_is_right_at_kinks_where_torch_gradcheck_is_not():
    net = relu_net()
    assert derivcheck.gradcheck(torch_loss(torch.relu), net)
    # torch.where(Z >= 0, ...) has slope 1 at 0: not torch.relu's convention
    ge = derivcheck.gradcheck(torch_loss(lambda z: torch.where(z >= 0, z, 0 * z)), net)
    assert not ge and ge.kink_points == 1 and ge.mismatches[0].at_kink
    with pytest.raises(derivcheck.oracle.gradcheck.GradcheckError, match="kink"):
        derivcheck.gradcheck(torch_loss(lambda z: torch.where(z >= 0, z, 0 * z)), net,
                             raise_exception=True)
    # finite differences straddle the kink: torch's gradcheck rejects a correct relu
    from derivcheck.oracle.array_points import place_kinks, random_arrays
    arrays, _ = place_kinks(net, random_arrays(net, 2))
    leaves = {k: torch.tensor(v, requires_grad=k in ("W1", "b1")) for k, v in arrays.items()}

    def f(W1, b1):
        return torch_loss(torch.relu)({**leaves, "W1": W1, "b1": b1})
    assert not torch.autograd.gradcheck(f, (leaves["W1"], leaves["b1"]),
                                        raise_exception=False)


def test_jax_pytrees_under_jax_convention():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    from derivcheck.oracle.jax_adapter import compare_jax
    net = derivcheck.mlp([3, 4, 2], "leaky_relu(0.25),identity", bias=True, batch=2)

    def loss_fn(params, X, Y):
        h = jax.nn.leaky_relu(X @ params["l1"]["w"] + params["l1"]["b"], 0.25)
        return jnp.sum((h @ params["l2"]["w"] + params["l2"]["b"] - Y) ** 2) / 4
    params = {"l1": {"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)},
              "l2": {"w": jnp.zeros((4, 2)), "b": jnp.zeros(2)}}
    assert compare_jax(net, loss_fn, params)
    under_torch = compare_jax(net, loss_fn, params, convention="torch")
    assert not under_torch and under_torch.mismatches[0].at_kink
    with pytest.raises(SpecError, match="leaves"):
        compare_jax(net, loss_fn, {"w": jnp.zeros((3, 4))})


def test_jax_pytrees_with_a_bias_on_the_second_layer_only():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    from derivcheck.oracle.jax_adapter import compare_jax
    net = derivcheck.forward(["Z1 = W1 @ X", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2"],
                             shapes={"X": "3,2", "W1": "4,3", "W2": "2,4"})

    def loss_fn(params, X, Y):
        h = jnp.tanh(X @ params[0]["w"])
        return jnp.sum((h @ params[1]["w"] + params[1]["b"] - Y) ** 2) / 4
    params = [{"w": jnp.zeros((3, 4))}, {"w": jnp.zeros((4, 2)), "b": jnp.zeros(2)}]
    assert compare_jax(net, loss_fn, params)

    def no_bias(params, X, Y):
        h = jnp.tanh(X @ params[0]["w"])
        return jnp.sum((h @ params[1]["w"] - Y) ** 2) / 4
    assert not compare_jax(net, no_bias, params)


def test_the_fixture_methods_raise_with_the_report():
    oracle = GradientOracle("torch", points=2)
    net = derivcheck.mlp([5, 4, 3], "relu,identity", bias=True, batch=3)
    assert oracle.check_arrays(net, numpy_backward())
    with pytest.raises(AssertionError, match="dJ/dW"):
        oracle.check_arrays(net, lambda a: {k: 2 * v for k, v in
                                            numpy_backward()(a).items()})
    assert oracle.check_torch_module(nn.Sequential(nn.Linear(5, 3)), nn.MSELoss(), batch=2)


def _torch_loss_of(net):
    acts = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "identity": lambda z: z, "abs": torch.abs, "elu(1)": torch.nn.functional.elu,
            "hardtanh": torch.nn.functional.hardtanh,
            "leaky_relu(1/8)": lambda z: torch.nn.functional.leaky_relu(z, 0.125),
            "softplus": lambda z: torch.nn.functional.softplus(z, threshold=1e300),
            "softmax": lambda z: torch.softmax(z, 0)}
    names = [a if isinstance(a, str) else a.label() for a in net.acts]

    def loss(a):
        h = a["X"]
        for l in range(1, net.L + 1):
            z = a[f"W{l}"] @ h + (a[f"b{l}"] if net.bias else 0)
            h = acts[names[l - 1]](z)
        y, m = a["Y"], a["Y"].shape[1]
        if net.loss == "cross_entropy":
            per = -(y * torch.log(h)).sum() if names[-1] == "softmax" else \
                -(y * torch.log_softmax(h, 0)).sum()
        elif net.loss == "bce":
            per = torch.nn.functional.binary_cross_entropy(h, y, reduction="sum")
        else:
            per = ((h - y) ** 2).sum() * {"half_squared": 0.5, "squared": 1.0,
                                          "mse": 1.0 / y.shape[0]}[net.loss]
        return per / m
    return loss


@settings(max_examples=25, deadline=None)
@given(networks(activations=["relu", "tanh", "sigmoid", "identity", "abs", "elu",
                             "hardtanh", "leaky_relu(0.125)", "softplus"]))
def test_random_networks_property_test_against_torch(net):
    result = derivcheck.gradcheck(_torch_loss_of(net), net, points=1, rtol=1e-11)
    assert result, str(result)


@settings(max_examples=10, deadline=None)
@given(networks(activations=["relu", "abs"], losses=["half_squared"], bias=True).flatmap(
    lambda net: points(net).map(lambda p: (net, p))))
def test_points_strategy_gives_every_array(case):
    net, arrays = case
    oracle = derivcheck.Oracle(net, "torch")
    assert set(arrays) == set(oracle.names)
    assert set(oracle.gradients(arrays)) == set(oracle.parameters)


def _gelu_loss(gelu):
    def loss(a):
        out = a["W2"] @ gelu(a["W1"] @ a["X"] + a["b1"]) + a["b2"]
        return ((out - a["Y"]) ** 2).sum() / 4
    return loss


def test_gelu_tanh_is_torch_approximate_tanh_and_jax_default_gelu():
    jax = pytest.importorskip("jax")
    tanh_net = derivcheck.mlp([3, 4, 2], "gelu_tanh,identity", bias=True, batch=2)
    erf_net = derivcheck.mlp([3, 4, 2], "gelu,identity", bias=True, batch=2)
    torch_tanh = _gelu_loss(lambda z: F.gelu(z, approximate="tanh"))
    assert derivcheck.gradcheck(torch_tanh, tanh_net)
    assert derivcheck.gradcheck(_gelu_loss(F.gelu), erf_net)
    jax_default = _gelu_loss(jax.nn.gelu)            # approximate=True by default
    assert derivcheck.gradcheck(jax_default, tanh_net, framework="jax")
    assert not derivcheck.gradcheck(jax_default, erf_net, framework="jax")
    from derivcheck.oracle.torch_module import network_of_module
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 2))
    assert network_of_module(model, nn.MSELoss()).acts[0].name == "gelu_tanh"


@pytest.mark.parametrize("w", [0.0, 0.5, 0.25, 1.0])
def test_clamp_and_clip_take_each_frameworks_value_at_both_ends(w):
    """torch.clamp passes the gradient at both ends (1), jnp.clip splits the ties (1/2)."""
    jax = pytest.importorskip("jax")
    net = derivcheck.forward(["yhat = clamp(w*x, 0, 1)"], inputs="x")
    point = {"x": 2.0, "w": w, "y": -1.0}       # w x = 0, 1, 1/2, 2
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    ((torch.clamp(wt * 2.0, 0, 1) + 1.0) ** 2 / 2).backward()
    assert float(derivcheck.Oracle(net, "torch").gradient("w", point)) == wt.grad.item()
    with jax.enable_x64(True):
        theirs = jax.grad(lambda v: (jax.numpy.clip(v * 2.0, 0.0, 1.0) + 1.0) ** 2 / 2)(w)
    assert float(derivcheck.Oracle(net, "jax").gradient("w", point)) == float(theirs)
