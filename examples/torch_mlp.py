"""A small torch MLP, with the PyTorch tutorial's hand-written ReLU that seed 001 links to.

The tutorial ("Learning PyTorch with Examples") defines ``MyReLU`` as an autograd
Function whose backward pass is ``grad_input[input < 0] = 0``: at ``input == 0`` the
gradient passes, so it uses Step(0) = 1, while ``torch.relu`` has relu'(0) = 0.
``examples/test_torch_mlp.py`` checks both with derivcheck's ``gradient_oracle``.

>>> z = torch.zeros(3, requires_grad=True)
>>> MyReLU.apply(z).sum().backward()
>>> z.grad                            # MyReLU: Step(0) = 1
tensor([1., 1., 1.])
>>> z.grad = None
>>> torch.relu(z).sum().backward()
>>> z.grad                            # torch: relu'(0) = 0
tensor([0., 0., 0.])

Run ``python examples/torch_mlp.py`` to train it on XOR.
"""
import torch

import derivcheck


class MyReLU(torch.autograd.Function):
    """The tutorial's ReLU: forward ``clamp(min=0)``, backward ``grad[input < 0] = 0``."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class TwoLayerNet(torch.nn.Module):
    """``linear2(relu(linear1(x)))``, with biases; ``relu`` is any ReLU to test."""

    def __init__(self, d_in: int = 2, hidden: int = 3, d_out: int = 1, relu=torch.relu):
        super().__init__()
        self.linear1 = torch.nn.Linear(d_in, hidden)
        self.linear2 = torch.nn.Linear(hidden, d_out)
        self.relu = relu

    def forward(self, x):
        return self.linear2(self.relu(self.linear1(x)))


def network(hidden: int = 3) -> derivcheck.Network:
    """The same network for derivcheck: 2-``hidden``-1 with biases, ReLU hidden layer,
    identity output, the tutorial's loss ``(y_pred - y).pow(2).sum()``.

    >>> len(network().params)
    13
    """
    return derivcheck.mlp([2, hidden, 1], "relu,identity", bias=True, loss="squared")


def train(model: torch.nn.Module, steps: int = 500, learning_rate: float = 0.05):
    """Fit XOR with plain gradient descent; the loss at every step."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    losses = []
    for _ in range(steps):
        loss = (model(x) - y).pow(2).sum()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= learning_rate * p.grad
        losses.append(loss.item())
    return losses


if __name__ == "__main__":
    torch.manual_seed(0)
    losses = train(TwoLayerNet(hidden=8, relu=MyReLU.apply))
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {len(losses)} steps")
