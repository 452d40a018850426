"""Seed 001's numpy XOR network, with its hand-written backward pass exactly as posted.

A two-layer ReLU network (no biases, identity output) trained on XOR with the loss
``np.square(y_pred - y).sum()``. Its backward pass masks the ReLU with
``grad_h[h < 0] = 0``: where ``h == 0`` the gradient passes, so it uses Step(0) = 1,
not torch's relu'(0) = 0. ``examples/test_xor_numpy.py`` shows derivcheck's
``gradient_oracle`` fixture telling exactly that.

Run ``python examples/xor_numpy.py`` to train the seed's 2-30-1 network.

>>> w1 = np.array([[1.0, -1.0, 0.0], [0.5, 1.0, 1.0]])
>>> w2 = np.array([[2.0], [-0.5], [2.0]])
>>> x, y = X[2:3], Y[2:3]             # x = (1, 0): the third hidden unit has h = 0
>>> x.dot(w1)
array([[ 1., -1.,  0.]])
>>> loss, grad_w1, grad_w2 = forward_backward(x, y, w1, w2)
>>> float(loss), float(grad_w1[0, 2])  # relu'(0) taken as 1: the gradient flows through
(1.0, 4.0)
"""
import numpy as np

import derivcheck

#: The seed's XOR data: four inputs and their targets.
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [0]])


def forward_backward(x, y, w1, w2):
    """The seed's forward and backward pass, line for line: (loss, grad_w1, grad_w2)."""
    # Forward pass: compute predicted y
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)  # using ReLU as activate function
    y_pred = h_relu.dot(w2)
    # Compute and print loss
    loss = np.square(y_pred - y).sum()  # loss function
    # Backprop to compute gradients of w1 and w2 with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)  # the last layer's error
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h_relu = grad_y_pred.dot(w2.T)  # the second laye's error
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0  # the derivate of ReLU
    grad_w1 = x.T.dot(grad_h)
    return loss, grad_w1, grad_w2


def network(hidden: int = 3) -> derivcheck.Network:
    """The same network for derivcheck, 2-``hidden``-1 (small enough for exact work).

    >>> network().params[:3]
    [W0_11, W0_21, W0_12]
    """
    return derivcheck.mlp([2, hidden, 1], "relu,identity", loss="squared")


def backward(params, inputs, targets):
    """``forward_backward`` on one example, as ``gradient_oracle.check`` calls it:
    ``W0_ij`` is ``w1[i-1, j-1]`` and ``W1_j1`` is ``w2[j-1, 0]``.

    >>> grads = backward({"W0_11": 1, "W0_21": 1, "W1_11": 2}, {"x1": 1, "x2": 1}, {"y": 0})
    >>> {k: float(v) for k, v in grads.items()}
    {'W0_11': 16.0, 'W0_21': 16.0, 'W1_11': 16.0}
    """
    hidden = range(1, sum(name.startswith("W1_") for name in params) + 1)
    w1 = np.array([[params[f"W0_{i}{j}"] for j in hidden] for i in (1, 2)], dtype=float)
    w2 = np.array([[params[f"W1_{j}1"]] for j in hidden], dtype=float)
    x = np.array([[inputs["x1"], inputs["x2"]]])
    _, grad_w1, grad_w2 = forward_backward(x, np.array([[targets["y"]]]), w1, w2)
    grads = {f"W0_{i}{j}": grad_w1[i - 1, j - 1] for i in (1, 2) for j in hidden}
    grads.update({f"W1_{j}1": grad_w2[j - 1, 0] for j in hidden})
    return grads


def train(hidden: int = 30, steps: int = 200, learning_rate: float = 0.002, seed: int = 0):
    """The seed's training loop (without the plot): the loss at every step."""
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((2, hidden))
    w2 = rng.standard_normal((hidden, 1))
    losses = []
    for _ in range(steps):
        loss, grad_w1, grad_w2 = forward_backward(X, Y, w1, w2)
        losses.append(float(loss))
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return losses


if __name__ == "__main__":
    losses = train()
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {len(losses)} steps")
