r"""One example's column of a batch quantity, and the matrix a per-example equation states.

deeplearning.ai writes ``z^{[1](i)}`` for example i's column of ``Z^{[1]}`` and states
equations for one example, ``dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * g^{[1]'}(z^{[1](i)})``,
meaning: for every column i. numpy writes the same column ``Z1[:, i]``. :class:`Slice` is
such a column (or a row, ``Z1[i, :]``, where examples are rows), with an index letter (or
a number); :class:`Stacked` is the matrix whose column i is a column expression in i, the
statement for every i; a sum over i of columns is an
:class:`~derivcheck.core.matrix.indexed.IndexSum` with a matrix summand
(``\sum_i dz^{[1](i)} x^{(i)T}`` is ``dZ1 @ X.T``).

Their bounds (:mod:`.bounds`) are those of index form: a column's entries are entries of
its matrix at the letter, so a slice bounds as an :class:`~.indexed.Entry`, a stacked
matrix as its body with the letter a free index of the result.

>>> from .expr import Leaf, matmul, transpose
>>> W = Leaf("W2", ("n2", "n1")); dZ = Leaf("dZ2", ("n2", "m"))
>>> col = matmul(transpose(W), Slice(dZ, "i", 1))
>>> form = Stacked(col, "i", 1, ("n1", "m"))
>>> col.shape, form.shape, form.text()
(('n1', 1), ('n1', 'm'), '[:,i] W2.T @ dZ2[:,i]')
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .expr import Leaf, MExpr, ShapeProblem
from .indexed import _bound
from .shapes import a_shape

__all__ = ["Slice", "Stacked", "example_axis", "has_slice"]

_KINDS_WITH_EXAMPLES = frozenset({"X", "Y", "Z", "A", "P"})


def example_axis(leaf) -> int | None:
    """The axis of ``leaf`` that runs over the examples (1 where they are columns, 0
    where rows), or None for a quantity that has no examples (weights, biases, the
    gradients of the cost with respect to them).

    >>> from .network import MatrixNetwork
    >>> ng = MatrixNetwork([2, 3, 1], "relu,sigmoid", "bce", batch="m", style="ng")
    >>> cs = ng.with_style("cs231n")
    >>> [example_axis(n.namespace.symbols[k]) for n, k in ((ng, "dZ1"), (cs, "X"), (ng, "W1"))]
    [1, 0, None]
    """
    key = getattr(leaf, "key", ())
    if not key or not isinstance(leaf, Leaf) or len(leaf.shape or ()) != 2:
        return None
    if key[0] == "grad":
        kind, view = key[1], key[2]
    elif isinstance(key[0], tuple) and len(key) > 1:
        kind, view = key[0], key[1]
    else:
        return None
    if kind[0] not in _KINDS_WITH_EXAMPLES:
        return None
    return 0 if view == "T" else 1


class Slice(MExpr):
    """Column ``index`` (``axis`` 1) or row ``index`` (``axis`` 0) of a named matrix;
    ``index`` is a letter (free or summed) or a 1-based number."""

    def __init__(self, matrix: Leaf, index, axis: int):
        self.matrix, self.index, self.axis = matrix, index, axis
        self.children = (matrix,)
        self.name = matrix.name
        rows, cols = matrix.shape
        self.shape = (rows, 1) if axis == 1 else (1, cols)

    def text(self) -> str:
        where = f":,{self.index}" if self.axis == 1 else f"{self.index},:"
        return f"{self.matrix.name}[{where}]"

    def letters(self) -> list:
        return [self.index] if isinstance(self.index, str) else []

    def evaluate(self, env):
        env = _bound(env)
        i = (env.indices[self.index] if isinstance(self.index, str) else self.index) - 1
        arr = env.array(self.matrix)
        return np.array(arr[:, i:i + 1] if self.axis == 1 else arr[i:i + 1, :], dtype=object)

    def index_bound(self, walk):
        """The matrix's own bound, and the least size a numbered slice needs."""
        inner = walk(self.matrix)
        from .bounds import Bound
        out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                    inner.reason, dict(inner.minimum))
        d = self.matrix.shape[self.axis]
        if isinstance(self.index, int) and isinstance(d, str):
            out.minimum[d] = max(out.minimum.get(d, 0), self.index)
        return out


class Stacked(MExpr):
    """The matrix of ``shape`` whose column (``axis`` 1) or row (``axis`` 0) ``letter`` is
    ``body``: a per-example equation, stated for every example. A body of another shape
    than one column (row) of ``shape`` leaves the form without a shape (a shape problem)."""

    def __init__(self, body: MExpr, letter: str, axis: int, shape: tuple):
        self.body, self.letter, self.axis = body, letter, axis
        self.children = (body,)
        self.shape = self.left_shape = tuple(shape)
        one = (shape[0], 1) if axis == 1 else (1, shape[1])
        if body.shape is None:
            self.shape, self.problem = None, body.problem
        elif tuple(body.shape) != one and not (len(body.shape) == 1 and body.shape[0] == (
                one[0] if axis == 1 else one[1])):
            what = "column" if axis == 1 else "row"
            self.shape = None
            self.problem = ShapeProblem(f"the right side is {a_shape(body.shape)}, but one "
                                        f"{what} of the left side is {a_shape(one)}",
                                        tuple(body.shape), one)

    def text(self) -> str:
        where = f":,{self.letter}" if self.axis == 1 else f"{self.letter},:"
        return f"[{where}] {self.body.text()}"

    def rebuilt(self, kids) -> "Stacked":
        return Stacked(kids[0], self.letter, self.axis, self.left_shape)

    def evaluate(self, env):
        from .shapes import instantiate
        env = _bound(env)
        dims = instantiate(self.left_shape, env.sizes)
        out = np.empty(dims, dtype=object)
        for v in range(dims[self.axis]):
            value = np.asarray(self.body.evaluate(env.bind(self.letter, v + 1)),
                               dtype=object).reshape(-1)
            if self.axis == 1:
                out[:, v] = value
            else:
                out[v, :] = value
        return out

    def index_bound(self, walk):
        return walk(self.body)


def has_slice(node: MExpr) -> bool:
    """True when ``node`` holds a column or row of a matrix (a sum of it over an index
    is a matrix, as ``\\sum_i dz^{[1](i)} x^{(i)T}`` is)."""
    return any(isinstance(n, Slice) for n in node.walk())

