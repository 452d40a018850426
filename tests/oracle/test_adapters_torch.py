"""derivcheck.oracle.adapters with torch: forward passes, losses, modules and functions
compared with the oracle. (The numpy side is in test_adapters.py, which runs without
torch.)"""
from fractions import Fraction

import pytest

from derivcheck.oracle.adapters import compare_torch, torch_forward, torch_loss
from derivcheck.errors import SpecError
from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import Oracle

from .test_adapters import NET

torch = pytest.importorskip("torch")

def test_torch_forward_is_the_network():
    net = mlp([2, 2, 2], "tanh,identity", bias=True, loss="cross_entropy")
    point = {s.name: Fraction(k % 5 - 2, 4) for k, s in enumerate(net.variables)}
    loss = torch_forward(net, point)
    assert loss.item() == pytest.approx(float(Oracle(net).loss(point)), rel=1e-14)


@pytest.mark.parametrize("loss", ["half_squared", "squared", "mse", "bce", "cross_entropy"])
def test_torch_losses_are_ours(loss):
    outputs, targets = torch.tensor([0.25, 0.5], dtype=torch.float64), \
        torch.tensor([0.75, 0.0], dtype=torch.float64)
    net = mlp([1, 2], "identity", loss=loss)
    point = {"x": 1, "W0_11": Fraction(1, 4), "W0_12": Fraction(1, 2), "y1": Fraction(3, 4),
             "y2": 0}
    assert torch_loss(loss, outputs, targets).item() == pytest.approx(
        float(Oracle(net).loss(point)), rel=1e-15)


def test_compare_torch_on_the_network_itself():
    assert compare_torch(NET, points=4).ok


def test_compare_torch_on_a_module():
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert compare_torch(NET, module, points=4).ok
    assert next(module.parameters()).dtype == torch.float32   # the user's module is untouched


def test_compare_torch_on_a_function_and_a_wrong_module():
    net = chain(["w1", "w2"], "relu", biases=["b1", "b2"])

    def loss(p, i, t):
        a1 = torch.relu(p["w1"] * i["x"] + p["b1"])
        return (torch.relu(p["w2"] * a1 + p["b2"]) - t["y"]) ** 2 / 2
    assert compare_torch(net, loss, points=4).ok
    leaky = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.5),
                                torch.nn.Linear(3, 1))
    result = compare_torch(NET, leaky, points=4)
    assert not result.ok and not result.convention_only


def test_module_shapes_must_match():
    with pytest.raises(SpecError, match="nn.Linear layers"):
        compare_torch(NET, torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(),
                                               torch.nn.Linear(4, 1)))


def test_activations_torch_cannot_compute_are_errors():
    with pytest.raises(SpecError, match="no torch operation computes NecroReLU"):
        compare_torch(chain(["w1"], "necro_relu"), points=1, kinks=False)
