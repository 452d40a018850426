"""The names a formula may use for a matrix network, per style.

Every quantity under the style's name and aliases (``W1``, ``H``, ``scores``), every
gradient name (``dW1``, ``dZ1`` stacked under ng, ``dscores``, ``delta2``, ``dhidden``),
``dJ/dQ`` for every quantity, the size names, and entries (``W1_32``, ``W1[3,2]``,
``X_{11}``) made when first asked for.

>>> from .network import MatrixNetwork
>>> ns = MatrixNetwork([2, 3, 1], "relu", batch="m", style="cs231n").namespace
>>> ns.symbols["W1_21"].description, ns.roles["dW1"], "W1_31" in ns.symbols
('W1_21 -> entry [2, 1] of W1', 'gradient', False)
"""
from __future__ import annotations

import re

import sympy

from ...names import Namespace, NamesOnDemand
from .expr import Leaf, Scalar

__all__ = ["namespace", "entry", "MatrixNames"]

_ENTRY = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)(?:_(?P<r1>\d)(?P<c1>\d)|_(?P<r2>\d+)_(?P<c2>\d+)"
                    r"|\[(?P<r3>\d+),(?P<c3>\d+)\]|_(?P<i>\d+)|(?P<r4>\d)(?P<c4>\d))$")


class MatrixNames(NamesOnDemand):
    """Known names; an entry such as ``W1_32`` is made the first time it is asked for."""

    def __init__(self, net, *args):
        super().__init__(*args)
        self.net = net

    def __missing__(self, name):
        leaf = entry(self.net, name, self)
        if leaf is None:
            raise KeyError(name)
        self[name] = leaf
        return leaf


def namespace(net) -> Namespace:
    """Every name a formula may use, each a Leaf (sizes are Scalars)."""
    ns = Namespace(symbols=MatrixNames(net))
    names = net.quantity_names()
    for name, key in names.items():
        ns.symbols[name] = net.leaf(key, name)
        kind = key[0]
        ns.roles[name] = {"W": "parameter", "b": "parameter", "X": "input",
                          "Y": "target"}.get(kind, "intermediate")
    for name, (kind, layer) in net.style.gradient_names.items():
        if (kind, layer) in net._gradients and layer < net.L:
            ns.symbols[name] = net.gradient_leaf((kind, layer), name)
            ns.roles[name] = "gradient"
    for name, key in names.items():
        if key not in net._gradients:
            continue
        stacked = key[0] in net.style.stacked or (   # ng's A0 = X: dA0 stacks as dA1 does
            key == ("X",) and name != net.name(key) and "A" in net.style.stacked)
        ns.symbols.setdefault("d" + name, net.gradient_leaf(key, "d" + name, stacked))
        ns.roles.setdefault("d" + name, "gradient")
        ns.adjoints[name] = net.gradient_leaf(key, f"d{net.style.loss}/d{name}")
    for prefix, kind in net.style.gradient_aliases.items():
        stem = net.style.templates[kind].split("{")[0]
        for name, key in names.items():   # z3 -> delta3, zL -> deltaL
            if key[0] == kind and name.startswith(stem) and key in net._gradients:
                alias = prefix + name[len(stem):]
                ns.symbols.setdefault(alias, net.gradient_leaf(key, alias))
                ns.roles.setdefault(alias, "gradient")
    ns.layer_superscripts = net.style.bare_layers
    ns.class_axis = 0 if net.style.layout == "columns" else 1   # softmax(Z2)'s default
    ns.batched = net.has_batch   # one example's column (z^{[1](i)}) is read
    for s in net.size_names:
        ns.symbols.setdefault(s, Scalar(sympy.Symbol(s)))
        ns.roles.setdefault(s, "size")
    acts = {}
    for l in range(1, net.L + 1):
        if not isinstance(net.acts[l - 1], str):
            acts[net.name(("Z", l))] = net.acts[l - 1]
    ns.activations = acts
    kinds = {a.label() for a in acts.values()}
    if len(kinds) == 1:
        ns.default_activation = next(iter(acts.values()))
    return ns

def entry(net, name: str, symbols) -> Leaf | None:
    """``W1_32``, ``W1[3,2]``, ``b1_2``: one entry (1-based, row then column of the
    style's shape) of a named matrix, or None."""
    hit = _ENTRY.match(name)
    if hit is None:
        return None
    base = hit["base"]
    if not dict.__contains__(symbols, base):
        return None
    matrix = dict.__getitem__(symbols, base)
    if not isinstance(matrix, Leaf) or not matrix.shape:
        return None
    if hit["i"] is not None:
        idx = (int(hit["i"]),) + ((1,) if len(matrix.shape) == 2 else ())
    else:
        r = hit["r1"] or hit["r2"] or hit["r3"] or hit["r4"]
        c = hit["c1"] or hit["c2"] or hit["c3"] or hit["c4"]
        idx = (int(r), int(c))
    if len(idx) != len(matrix.shape) or min(idx) < 1 or any(
            isinstance(d, int) and i > d for i, d in zip(idx, matrix.shape)):
        return None
    return Leaf(name, (), key=("entry", matrix, idx),
                description=f"{name} -> entry {list(idx)} of {matrix.name}")
