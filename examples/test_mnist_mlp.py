"""A 784-128-10 model, numpy and torch, checked exactly with derivcheck's pytest plugin.
Run from the repository root: ``python -m pytest examples/``.
"""
import importlib.metadata
import sys
from pathlib import Path

import pytest

import derivcheck

pytest_plugins = [] if importlib.metadata.entry_points(group="pytest11", name="derivcheck") \
    else ["derivcheck.oracle.pytest_plugin"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mnist_mlp  # noqa: E402

NET = derivcheck.mlp(list(mnist_mlp.WIDTHS), "relu,identity", bias=True,
                     loss="cross_entropy", batch=2, oracle=True)


def test_the_numpy_backward_pass_is_exact_on_the_kinks_too(gradient_oracle):
    result = gradient_oracle.check_arrays(NET, mnist_mlp.backward)
    assert result.kink_points == 1


def test_a_mask_written_z_ge_0_is_caught_at_the_kink_only(gradient_oracle):
    def ge(arrays):
        return mnist_mlp.backward(arrays, relu_slope_at_zero=1.0)
    gradient_oracle.check_arrays(NET, ge, kinks=False)
    with pytest.raises(AssertionError) as failure:
        gradient_oracle.check_arrays(NET, ge)
    assert "on a kink point" in str(failure.value)
    assert "agrees with convention '1'" in str(failure.value)


def test_the_torch_model_is_mapped_and_exact(gradient_oracle):
    pytest.importorskip("torch")
    import torch
    result = gradient_oracle.check_torch_module(mnist_mlp.torch_model(),
                                                torch.nn.CrossEntropyLoss(), batch=2)
    assert result.kink_points == 1
