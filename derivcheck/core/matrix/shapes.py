"""Shapes of matrix expressions, symbolic in size names, with numpy's rules.

A shape is a tuple of 0, 1 or 2 *dims*; a dim is a whole number or a size name (``"n1"``,
``"m"``). Broadcasting follows numpy: shapes are aligned on the right and a dim of 1
stretches; two different names never match (``n1`` and ``n2`` are different sizes, even
if an instance happens to give them one value).

>>> broadcast(("n1", "m"), ("n1", 1))
('n1', 'm')
>>> broadcast(("n1", "m"), ("n1",)) is None
True
>>> matmul_shape(("n1", "n0"), ("n0", "m")), matmul_shape(("m", "n0"), ("n0", "n1"))
(('n1', 'm'), ('m', 'n1'))
>>> matmul_shape(("n0", "m"), ("n1", "m")) is None
True
>>> show(("n1", "m")), show(()), show((3,))
('n1 x m', 'scalar', 'vector of length 3')
"""
from __future__ import annotations

__all__ = ["Dim", "Shape", "broadcast", "matmul_shape", "transpose_shape", "show", "a_shape",
           "instantiate", "sum_shape"]

Dim = int | str
Shape = tuple


def broadcast(*shapes: Shape) -> Shape | None:
    """numpy's broadcast of several shapes, or None when they do not fit."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        dims = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0}
        dims.discard(1)
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def matmul_shape(a: Shape, b: Shape) -> Shape | None:
    """The shape of ``a @ b`` (1-D operands as numpy reads them), or None."""
    if not a or not b:
        return None
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        return None
    return tuple(a[:-1]) + tuple(b[1:] if len(b) == 2 else ())


def transpose_shape(a: Shape) -> Shape:
    return tuple(reversed(a))


def sum_shape(a: Shape, axis: int | None, keepdims: bool) -> Shape | None:
    """The shape of ``np.sum(a, axis=axis, keepdims=keepdims)``; None for a bad axis."""
    if axis is None:
        return tuple(1 for _ in a) if keepdims else ()
    if not -len(a) <= axis < len(a):
        return None
    axis %= len(a)
    if keepdims:
        return tuple(1 if i == axis else d for i, d in enumerate(a))
    return tuple(d for i, d in enumerate(a) if i != axis)


def show(shape: Shape) -> str:
    """``n1 x m``, ``vector of length n1`` or ``scalar``."""
    if not shape:
        return "scalar"
    if len(shape) == 1:
        return f"vector of length {shape[0]}"
    return " x ".join(str(d) for d in shape)


def a_shape(shape: Shape) -> str:
    """:func:`show` with its article, a matrix named as one: for messages.

    >>> a_shape(("n1", "m")), a_shape((8, 3)), a_shape(("n1",)), a_shape(())
    ('a n1 x m matrix', 'an 8 x 3 matrix', 'a vector of length n1', 'a scalar')
    """
    text = show(shape)
    return ("an " if text[0] in "aeiou8" else "a ") + text + (" matrix" if " x " in text else "")


def instantiate(shape: Shape, sizes: dict) -> tuple[int, ...]:
    """The shape at concrete sizes (size name -> whole number).

    >>> instantiate(("n1", 1), {"n1": 3})
    (3, 1)
    """
    return tuple(d if isinstance(d, int) else sizes[d] for d in shape)
