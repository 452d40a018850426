"""torch.autograd.gradcheck and derivcheck.gradcheck side by side, at a ReLU kink.

A 3-4-2 ReLU network whose first layer has a unit exactly at z = 0. torch's autograd is
right there (relu'(0) = 0 is torch's own rule), but ``torch.autograd.gradcheck`` compares
it with central finite differences, which straddle the kink and average the two slopes:
it reports a failure on a correct implementation. ``derivcheck.gradcheck`` compares with
the exact gradient under torch's convention: it passes, and it does catch a ReLU written
with ``torch.where(z >= 0, ...)`` (slope 1 at the kink), which finite differences cannot
tell apart from the right one.

Run: ``python examples/gradcheck_kink.py``.
"""
import torch

import derivcheck
from derivcheck.oracle.array_points import place_kinks, random_arrays

NET = derivcheck.mlp([3, 4, 2], "relu,identity", bias=True, batch=2)


def loss_with(relu):
    def loss(a):
        Z1 = a["W1"] @ a["X"] + a["b1"]
        return ((a["W2"] @ relu(Z1) + a["b2"] - a["Y"]) ** 2).sum() / 4
    return loss


def where_relu(z):
    return torch.where(z >= 0, z, torch.zeros_like(z))


def torch_gradcheck_at_kink(relu) -> bool:
    arrays, _ = place_kinks(NET, random_arrays(NET, 2))
    leaves = {k: torch.tensor(v, requires_grad=k in ("W1", "b1")) for k, v in arrays.items()}

    def f(W1, b1):
        return loss_with(relu)({**leaves, "W1": W1, "b1": b1})
    return torch.autograd.gradcheck(f, (leaves["W1"], leaves["b1"]), raise_exception=False)


def main() -> dict:
    rows = {}
    for name, relu in (("torch.relu (right)", torch.relu),
                       ("torch.where(z >= 0) (slope 1 at 0)", where_relu)):
        rows[name] = (torch_gradcheck_at_kink(relu),
                      bool(derivcheck.gradcheck(loss_with(relu), NET)))
    print(f"{'implementation':<38} {'torch gradcheck':>16} {'derivcheck':>11}")
    for name, (theirs, ours) in rows.items():
        print(f"{name:<38} {str(theirs):>16} {str(ours):>11}")
    print("\n" + str(derivcheck.gradcheck(loss_with(where_relu), NET)))
    return rows


if __name__ == "__main__":
    main()
