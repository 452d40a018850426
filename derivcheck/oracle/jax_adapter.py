"""jax adapter: check ``jax.grad`` of a loss over a params pytree, kinks under jax's rules.

``loss_fn(params, X, Y)`` is a jax function of a params pytree (dicts, lists, tuples, as
flax and haiku keep them) whose leaves, in ``jax.tree_util`` order, are each layer's
weight matrix then its bias; examples are rows (``X`` is m x n0, ``Y`` is m x n_out) and a
layer computes ``x @ W + b`` (``W`` is n_in x n_out, as flax's ``Dense`` kernel), or
``x @ W.T + b`` with ``layout="out_in"`` (``W`` n_out x n_in, as torch keeps it).
:func:`compare_jax` evaluates ``jax.grad`` in float64 at the oracle's points (random, and
one unit of each piecewise layer exactly on its kink) and compares it with the exact
gradients under jax's convention (``jax.nn.relu'(0) = 0``, ``leaky_relu'(0) = 1``).

>>> import jax, jax.numpy as jnp, derivcheck
>>> net = derivcheck.mlp([3, 4, 2], "leaky_relu(0.25),identity", bias=True, batch=2)
>>> def loss_fn(params, X, Y):
...     h = jax.nn.leaky_relu(X @ params[0]["w"] + params[0]["b"], 0.25)
...     return jnp.sum((h @ params[1]["w"] + params[1]["b"] - Y) ** 2) / 4
>>> params = [{"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)}, {"w": jnp.zeros((4, 2)), "b": jnp.zeros(2)}]
>>> compare_jax(net, loss_fn, params)
<ArrayComparison ok: 3 points (1 on kinks), convention jax>
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .array_compare import ArrayComparison, compare_arrays
from .arrays import ArrayOracle
from .gradcheck import _x64

__all__ = ["compare_jax"]


def compare_jax(net, loss_fn, params, *, layout: str = "in_out", convention="jax",
                points: int = 2, kinks: bool = True, rtol: float = 1e-12, atol: float = 0.0,
                seed=0) -> ArrayComparison:
    """``jax.grad(loss_fn)(params, X, Y)`` against the exact oracle (see the module)."""
    import jax

    oracle = ArrayOracle(net)
    net = oracle.net
    if net.style.name != "ng":
        net = net.with_style("ng")
        oracle = ArrayOracle(net)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    if len(leaves) != len(oracle.parameters):
        raise SpecError(f"the params pytree has {len(leaves)} leaves, the network has "
                        f"{len(oracle.parameters)} weight and bias arrays "
                        f"({', '.join(oracle.parameters)})",
                        hint="one weight matrix and (with biases) one bias vector per layer")
    names = _leaf_names(leaves, net.L, net.biases)
    if layout not in ("in_out", "out_in"):
        raise SpecError(f"unknown layout {layout!r}", hint="in_out (x @ W) or out_in (x @ W.T)")
    shapes = oracle.shapes()
    for leaf, name in zip(leaves, names):
        want = shapes[name]
        want = (want[0],) if name.startswith("b") else \
            want[::-1] if layout == "in_out" else want
        if tuple(np.shape(leaf)) != want:
            raise SpecError(f"the pytree leaf for {name} has shape {tuple(np.shape(leaf))}, "
                            f"the network needs {want}")

    def to_leaf(name, a):
        a = np.asarray(a)
        if name.startswith("b"):
            return a.reshape(-1)
        return a.T if layout == "in_out" else a

    def gradients(arrays: dict) -> dict:
        with _x64(jax):
            tree = jax.tree_util.tree_unflatten(
                treedef, [jax.numpy.asarray(to_leaf(n, arrays[n])) for n in names])
            X = jax.numpy.asarray(np.asarray(arrays["X"]).T)
            Y = jax.numpy.asarray(np.asarray(arrays["Y"]).T)
            grads = jax.tree_util.tree_leaves(jax.grad(loss_fn)(tree, X, Y))
        out = {}
        for name, g in zip(names, grads):
            g = np.asarray(g, dtype=np.float64)
            out[name] = g.reshape(-1, 1) if name.startswith("b") else \
                g.T if layout == "in_out" else g
        return out

    return compare_arrays(net, gradients, convention=convention, points=points, kinks=kinks,
                          rtol=rtol, atol=atol, seed=seed)


def _leaf_names(leaves: list, layers: int, biases: tuple) -> list[str]:
    """Each leaf's array name: the layers in order, a 2-D leaf the weight and a 1-D leaf
    the bias of the current layer (dict keys sort ``b`` before ``w``: either order);
    ``biases`` says per layer whether it has one."""
    names, layer, seen = [], 1, set()
    for leaf in leaves:
        kind = "W" if np.ndim(leaf) == 2 else "b" if np.ndim(leaf) == 1 else None
        if kind is None or kind in seen or layer > layers:
            raise SpecError(f"cannot read the params pytree: leaf {len(names) + 1} has shape "
                            f"{tuple(np.shape(leaf))}",
                            hint="one weight matrix and (with biases) one bias vector per "
                                 "layer, layer by layer")
        names.append(f"{kind}{layer}")
        seen.add(kind)
        if len(seen) == (2 if biases[layer - 1] else 1):
            layer, seen = layer + 1, set()
    return names
