"""``derivcheck.gradcheck``: the exact counterpart of ``torch.autograd.gradcheck``.

torch's gradcheck compares autograd with finite differences, which are wrong at a kink
(a central difference across ReLU's breakpoint averages both slopes), so it fails on a
correct implementation there, and it needs a tolerance elsewhere. :func:`gradcheck`
compares the autodiff gradient of ``fn`` with exact gradients at random points and at
points exactly on every piecewise layer's kink, under the framework's own convention.

``fn(arrays) -> loss`` takes every array of the network by name (``W1``, ``b1``, ...,
``X``, ``Y`` in the style's layout) as torch tensors (float64), or as jax arrays when
``framework="jax"``; the loss it returns is differentiated by that framework.

>>> import torch, derivcheck
>>> net = derivcheck.mlp([3, 4, 2], "relu,identity", bias=True, batch=2)
>>> def loss(a):
...     Z1 = a["W1"] @ a["X"] + a["b1"]
...     out = a["W2"] @ torch.relu(Z1) + a["b2"]
...     return ((out - a["Y"]) ** 2).sum() / 4
>>> bool(gradcheck(loss, net))
True
>>> def wrong(a):                  # max(Z, 0) by torch.clamp: slope 1 at the kink
...     Z1 = a["W1"] @ a["X"] + a["b1"]
...     out = a["W2"] @ torch.where(Z1 >= 0, Z1, 0 * Z1) + a["b2"]
...     return ((out - a["Y"]) ** 2).sum() / 4
>>> result = gradcheck(wrong, net)
>>> bool(result), result.kink_points
(False, 1)
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .array_compare import ArrayComparison, compare_arrays

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_exception=True)``; the message is the report."""


def _torch_gradients(fn, parameters):
    import torch

    def gradients(arrays: dict) -> dict:
        leaves = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=k in parameters)
                  for k, v in arrays.items()}
        loss = fn(leaves)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise SpecError("fn must return the loss as a one-element torch tensor")
        grads = torch.autograd.grad(loss.reshape(()), [leaves[p] for p in parameters],
                                    allow_unused=True)
        return {p: np.zeros(np.shape(arrays[p])) if g is None else g.numpy()
                for p, g in zip(parameters, grads)}
    return gradients


def _x64(jax):
    """float64 in jax for the duration (``jax.enable_x64``, or the config flag)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    jax.config.update("jax_enable_x64", True)
    import contextlib
    return contextlib.nullcontext()


def _jax_gradients(fn, parameters):
    import jax

    def gradients(arrays: dict) -> dict:
        with _x64(jax):
            rest = {k: jax.numpy.asarray(v) for k, v in arrays.items() if k not in parameters}

            def loss(params):
                return fn({**params, **rest}).reshape(())
            grads = jax.grad(loss)({p: jax.numpy.asarray(arrays[p]) for p in parameters})
            return {k: np.asarray(v) for k, v in grads.items()}
    return gradients


def gradcheck(fn, net, *, framework: str = "torch", convention: str | None = None,
              points: int = 2, kinks: bool = True, rtol: float = 1e-12, atol: float = 0.0,
              seed=0, raise_exception: bool = False) -> ArrayComparison:
    """Does ``fn``'s autodiff gradient equal the exact one (under ``convention``, by
    default the framework's own), at random points and on every kink?

    Returns an :class:`~derivcheck.oracle.array_compare.ArrayComparison`, true or false
    like a bool, whose ``str`` is the report; ``raise_exception=True`` raises
    :class:`GradcheckError` with the report instead of returning false.
    """
    from .arrays import ArrayOracle

    oracle = ArrayOracle(net)
    make = {"torch": _torch_gradients, "jax": _jax_gradients}.get(framework)
    if make is None:
        raise SpecError(f"unknown framework {framework!r}", hint="use torch or jax")
    result = compare_arrays(oracle.net, make(fn, oracle.parameters),
                            convention=convention or framework, points=points, kinks=kinks,
                            rtol=rtol, atol=atol, seed=seed)
    if raise_exception and not result:
        raise GradcheckError(str(result))
    return result
