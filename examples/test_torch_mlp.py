"""A torch MLP checked with derivcheck's ``gradient_oracle``: ``torch.relu`` is exact
everywhere under the torch profile; the tutorial's ``MyReLU`` uses Step(0) = 1.
Run from the repository root: ``python -m pytest examples/``.
"""
import importlib.metadata
import sys
from pathlib import Path

import pytest

# Installed, derivcheck's pytest plugin comes from its entry point; in a bare checkout
# this module loads it.
pytest_plugins = [] if importlib.metadata.entry_points(group="pytest11", name="derivcheck") \
    else ["derivcheck.oracle.pytest_plugin"]

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_mlp  # noqa: E402  (the sibling module, found through the line above)

NET = torch_mlp.network(hidden=3)


def test_torch_relu_is_exact_at_the_kinks_too(gradient_oracle):
    result = gradient_oracle.check_torch(NET, torch_mlp.TwoLayerNet(hidden=3))
    assert result.kink_points > 0


def test_my_relu_is_right_off_the_kinks(gradient_oracle):
    gradient_oracle.check_torch(NET, torch_mlp.TwoLayerNet(relu=torch_mlp.MyReLU.apply),
                                kinks=False)


def test_my_relu_uses_step0_equal_to_one(gradient_oracle):
    model = torch_mlp.TwoLayerNet(relu=torch_mlp.MyReLU.apply)
    gradient_oracle.check_torch(NET, model, convention="1")
    with pytest.raises(AssertionError) as failure:
        gradient_oracle.check_torch(NET, model, convention="torch")
    assert "only a kink convention: your implementation uses Step(0) = 1" in \
        str(failure.value)


def test_a_wrong_activation_is_a_real_error(gradient_oracle):
    model = torch_mlp.TwoLayerNet(relu=torch.nn.functional.softplus)
    with pytest.raises(AssertionError) as failure:
        gradient_oracle.check_torch(NET, model, kinks=False)
    assert "only a kink convention" not in str(failure.value)
