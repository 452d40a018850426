"""Softmax in a formula read as the network's probabilities.

A candidate may write the probabilities as the softmax of the last pre-activation over the
classes (``softmax(Z2)``, ``np.exp(scores) / np.sum(np.exp(scores), axis=1,
keepdims=True)``); :func:`with_probabilities` reads that as the network's ``P`` (or its
softmax output): the same value, and the form the backward pass uses, so the proof for
every size applies to it.
"""
from __future__ import annotations

from .expr import Leaf, MExpr
from .layers import softmax_of
from .layout import mapped

__all__ = ["with_probabilities"]


def with_probabilities(net, expr: MExpr) -> MExpr:
    """``expr`` with the softmax of the last pre-activation over the classes
    (``softmax(Z2)``, ``np.exp(scores) / np.sum(np.exp(scores), axis=1,
    keepdims=True)``) read as the network's probabilities: the same value, and the form
    the backward pass uses, so the proof for every size applies to it.

    >>> from .network import MatrixNetwork
    >>> net = MatrixNetwork(["n0", "n1", "c"], "relu,identity", "cross_entropy", batch="m")
    >>> from derivcheck.parsing import parse_formula
    >>> net.with_probabilities(parse_formula("softmax(Z2) - Y", net.namespace).expr).text()
    'P - Y'
    """
    if net.loss != "cross_entropy" and not net.softmax_output:
        return expr
    L = net.L
    if net.softmax_output:                      # A_L = softmax(Z_L)
        of = {("Z", L): ("A", L)}
    else:                                        # P = softmax(A_L), A_L = g(Z_L)
        of = {("A", L): ("P",)}
        if net.acts[-1].name == "identity":
            of[("Z", L)] = ("P",)
    axes = (0, -2) if net.style.layout == "columns" else (1, -1)

    def swap(node):
        found = softmax_of(node)
        if found is None:
            return node
        arg, axis = found
        key = arg.key[0] if isinstance(arg, Leaf) and len(arg.key) == 2 else None
        if key in of and axis in axes and arg.shape == net.styled_shape(key):
            return net.leaf(of[key])
        return node

    return mapped(expr, swap)
