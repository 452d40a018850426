"""A user's MNIST-size MLP (784-128-10, ReLU, softmax cross-entropy), twice: a numpy
forward/backward written by hand over whole arrays, and the same model in torch.

``backward(arrays)`` takes every array by name, deeplearning.ai's layout (``W1`` is
128 x 784, ``X`` is 784 x m, examples as columns) and returns dJ/dW1, dJ/db1, dJ/dW2,
dJ/db2 of the mean cost. ``examples/test_mnist_mlp.py`` checks both with derivcheck's
pytest plugin, exactly, at random points and at points on ReLU's kink.
"""
import numpy as np

WIDTHS = (784, 128, 10)


def backward(a: dict, relu_slope_at_zero: float = 0.0) -> dict:
    """The backward pass as courses write it; ``relu_slope_at_zero`` is what ``Z1 > 0``
    (0) or ``Z1 >= 0`` (1) gives at the kink."""
    m = a["X"].shape[1]
    Z1 = a["W1"] @ a["X"] + a["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = a["W2"] @ A1 + a["b2"]
    P = np.exp(Z2 - Z2.max(axis=0))
    P /= P.sum(axis=0)
    dZ2 = (P - a["Y"]) / m
    dZ1 = (a["W2"].T @ dZ2) * np.where(Z1 > 0, 1.0, np.where(Z1 == 0, relu_slope_at_zero, 0.0))
    return {"W1": dZ1 @ a["X"].T, "b1": dZ1.sum(axis=1, keepdims=True),
            "W2": dZ2 @ A1.T, "b2": dZ2.sum(axis=1, keepdims=True)}


def torch_model():
    """The same network in torch (nn.Linear keeps weights as out x in, like W1)."""
    import torch

    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                               torch.nn.Linear(128, 10))
