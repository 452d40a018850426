"""Transposes pushed down to the leaves, to show a canonical formula in a style's layout.

The backward pass is built in one canonical layout (examples as columns); a style with
examples as rows (cs231n) reads it transposed. ``(A @ B).T = B.T @ A.T``, a transpose goes
through elementwise operations, and a named gradient stored transposed (``(dL/dZ2).T``)
is shown under its own name, so cs231n's ``dhidden`` reads ``dL/dA1 * relu_prime(Z1)``.

>>> from .expr import Leaf, matmul, transpose
>>> a, b = Leaf("A", ("n", "k")), Leaf("B", ("k", "p"))
>>> pushed(transpose(matmul(a, b))).text()
'B.T @ A.T'
>>> pushed(transpose(Leaf("(dL/dZ2).T", ("c", "N")))).text()
'dL/dZ2'
"""
from __future__ import annotations

from . import expr as mx

__all__ = ["pushed", "mapped"]


def pushed(node: mx.MExpr) -> mx.MExpr:
    """``node`` with every transpose moved down to a leaf (for display; same value)."""
    if isinstance(node, mx.Transpose):
        return _transposed(node.arg)
    return _rebuild(node, [pushed(c) for c in node.children])


def mapped(node: mx.MExpr, fn) -> mx.MExpr:
    """``node`` with ``fn`` applied top-down: where ``fn`` gives another node, that node
    replaces the subtree; elsewhere the children are mapped.

    >>> from .expr import Leaf, add, transpose
    >>> a, b = Leaf("A", ("n", "k")), Leaf("B", ("n", "k"))
    >>> mapped(transpose(add(a, a)), lambda x: b if x is a else x).text()
    '(B + B).T'
    """
    out = fn(node)
    if out is not node:
        return out
    kids = [mapped(k, fn) for k in node.children]
    if all(k is c for k, c in zip(kids, node.children)):
        return node
    if isinstance(node, mx.Transpose):
        return mx.transpose(kids[0])
    return _rebuild(node, kids)


def _rebuild(node, kids):
    if not kids:
        return node
    if hasattr(node, "rebuilt"):    # index forms (:mod:`.indexed`, :mod:`.slices`)
        return node.rebuilt(kids)
    if isinstance(node, mx.Elementwise):
        return mx.Elementwise(node.op, tuple(kids), node.build, node.label)
    if isinstance(node, mx.MatMul):
        return mx.MatMul(*kids)
    if isinstance(node, mx.Sum):
        return mx.Sum(kids[0], node.axis, node.keepdims)
    if isinstance(node, mx.Reshape):
        return mx.Reshape(kids[0], node.target)
    return node


def _transposed(node: mx.MExpr) -> mx.MExpr:
    """The pushed form of ``node.T``."""
    if node.shape is not None and len(node.shape) < 2:
        return pushed(node)
    if isinstance(node, mx.Transpose):
        return pushed(node.arg)
    if isinstance(node, mx.Leaf):
        if node.name.startswith("(") and node.name.endswith(").T"):
            return mx.Leaf(node.name[1:-3], tuple(reversed(node.shape)), key=node.key,
                           description=node.description, expansion=node.expansion)
        return mx.Transpose(node)
    if isinstance(node, mx.MatMul):
        return mx.MatMul(_transposed(node.right), _transposed(node.left))
    if isinstance(node, mx.Elementwise):
        return mx.Elementwise(node.op, tuple(_transposed(a) for a in node.args), node.build,
                              node.label)
    if isinstance(node, mx.Sum) and node.keepdims and node.axis is not None:
        return mx.Sum(_transposed(node.arg), 1 - node.axis % 2, True)
    return mx.Transpose(pushed(node))
