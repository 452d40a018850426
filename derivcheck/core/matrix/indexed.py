r"""Index notation as matrix expressions: entries with index letters, sums over an index,
and the matrix a formula with free indices denotes.

Nielsen's ``\partial C/\partial w^l_{jk} = a^{l-1}_k \delta^l_j`` states one entry per value
of the free indices j, k: the right side is a scalar expression (:class:`Entry` leaves,
:class:`IndexSum` sums, elementwise functions of entries), and :class:`IndexForm` makes it
the matrix whose entry (j, k) is that expression, so the matrix decision compares it with
the gradient like any matrix formula.

Index form is the form the for-every-size argument of :mod:`derivcheck.decide.matrix` is
stated in (a sum of terms, each a coefficient times a sum over dummy indices of a product
of factors), so the bounds extend directly: a sum over an index ranging over size s adds
one index over s to every term, and raises a coefficient's degree in s only when some
term of its summand does not involve the index (``sum_k 1`` is s).

>>> import sympy
>>> from .expr import Leaf, mul
>>> W = Leaf("W2", ("n2", "n1")); d = Leaf("dZ2", ("n2", 1))
>>> body = IndexSum("k", "n2", mul(Entry(W, ("k", "j")), Entry(d, ("k", None))))
>>> form = IndexForm(body, ("j", None), ("n1", 1))
>>> form.text(), form.shape
('[j] sum_k W2[k,j] * dZ2[k]', ('n1', 1))
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import sympy

from .expr import Elementwise, Leaf, MatMul, MExpr, Scalar, Transpose

__all__ = ["Entry", "IndexSum", "IndexForm", "involves"]


class _Bound:
    """An environment with values for index letters (the rest is the wrapped one)."""

    def __init__(self, env, indices: dict, cache: dict):
        self._env, self.indices, self._cache = env, indices, cache

    def __getattr__(self, name):
        return getattr(self._env, name)

    def array(self, leaf: Leaf):
        """The value of a whole matrix leaf, computed once per environment."""
        if id(leaf) not in self._cache:
            self._cache[id(leaf)] = np.asarray(self._env.leaf(leaf), dtype=object)
        return self._cache[id(leaf)]

    def bind(self, letter: str, value: int) -> "_Bound":
        return _Bound(self._env, {**self.indices, letter: value}, self._cache)


def _bound(env) -> _Bound:
    return env if isinstance(env, _Bound) else _Bound(env, {}, {})


class Entry(MExpr):
    """One entry of a named matrix: ``indices`` holds, per axis, an index letter, a 1-based
    number, or None for an axis of length 1 that is not written (``\\delta_j`` of an
    n x 1 matrix)."""

    shape = ()

    def __init__(self, matrix: Leaf, indices: tuple, text: str | None = None):
        self.matrix, self.indices = matrix, tuple(indices)
        self.children = (matrix,)
        self._text = text
        self.name = matrix.name

    def text(self) -> str:
        if self._text:
            return self._text
        shown = [str(i) for i in self.indices if i is not None]
        return f"{self.matrix.name}[{','.join(shown)}]"

    def letters(self) -> list:
        return [i for i in self.indices if isinstance(i, str)]

    def evaluate(self, env):
        env = _bound(env)
        where = tuple(0 if i is None else (env.indices[i] if isinstance(i, str) else i) - 1
                      for i in self.indices)
        arr = env.array(self.matrix)
        return np.array(arr[where[:arr.ndim]], dtype=object)

    def index_bound(self, walk):
        """The matrix's own bound (its expansion's sums), and the least sizes numbered
        indices need."""
        inner = walk(self.matrix)
        from .bounds import Bound
        out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                    inner.reason, dict(inner.minimum))
        for i, d in zip(self.indices, self.matrix.shape):
            if isinstance(i, int) and isinstance(d, str):
                out.minimum[d] = max(out.minimum.get(d, 0), i)
        return out


class IndexSum(MExpr):
    """``sum over letter = 1..size`` of a scalar body, or of a matrix body that holds
    slices at the letter (:mod:`.slices`: ``\\sum_i dz^{[1](i)} x^{(i)T}``)."""

    shape = ()
    prec = 2

    def __init__(self, letter: str, size, body: MExpr):
        self.letter, self.size, self.body = letter, size, body
        self.children = (body,)
        self.shape = body.shape
        if body.shape is None:
            self.problem = body.problem

    def text(self) -> str:
        return f"sum_{self.letter} {self._wrap(self.body, 2)}"

    def rebuilt(self, kids) -> "IndexSum":
        return IndexSum(self.letter, self.size, kids[0])

    def evaluate(self, env):
        env = _bound(env)
        n = self.size if isinstance(self.size, int) else env.sizes[self.size]
        terms = [np.asarray(self.body.evaluate(env.bind(self.letter, v)), dtype=object)
                 for v in range(1, n + 1)]
        if not self.shape:
            return np.array(sympy.Add(*[t.item() for t in terms]), dtype=object)
        return np.asarray(np.frompyfunc(lambda *xs: sympy.Add(*xs), n, 1)(*terms),
                          dtype=object)

    def index_bound(self, walk):
        inner = walk(self.body)
        from .bounds import Bound
        out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                    inner.reason, dict(inner.minimum))
        if isinstance(self.size, str):
            out.contractions[self.size] += 1
            if not involves(self.body, self.letter):
                p, q = out.degree.get(self.size, (0, 0))
                out.degree[self.size] = (p + 1, q)
        return out


class IndexForm(MExpr):
    """The matrix whose entry at the free index values is ``body``; ``axes`` names, per
    axis of ``shape``, the free index letter (None for an unwritten axis of length 1).
    ``left_shape`` keeps the left side's shape when an index that ranges over two sizes
    leaves the formula without one (``shape`` None)."""

    def __init__(self, body: MExpr, axes: tuple, shape: tuple):
        self.body, self.axes = body, tuple(axes)
        self.children = (body,)
        self.shape = self.left_shape = tuple(shape)
        if body.shape is None:
            self.shape, self.problem = None, body.problem

    def text(self) -> str:
        letters = [a for a in self.axes if a is not None]
        return f"[{','.join(letters)}] {self.body.text()}"

    def evaluate(self, env):
        from .shapes import instantiate
        env = _bound(env)
        dims = instantiate(self.shape, env.sizes)
        out = np.empty(dims, dtype=object)
        for idx in np.ndindex(*dims):
            bound = env
            for letter, i in zip(self.axes, idx):
                if letter is not None:
                    bound = bound.bind(letter, i + 1)
            out[idx] = np.asarray(self.body.evaluate(bound), dtype=object).reshape(-1)[0]
        return out

    def index_bound(self, walk):
        return walk(self.body)


def involves(node: MExpr, letter: str) -> bool:
    """True when every term of ``node``'s index form involves index ``letter`` (a sum
    over it then multiplies no coefficient by its size). False when unsure: that only
    asks for one more instance size.

    >>> from .expr import Leaf, Scalar, mul, sub
    >>> a = Entry(Leaf("a", ("n", 1)), ("k", None))
    >>> involves(mul(a, Scalar(sympy.Integer(2))), "k"), involves(sub(a, Scalar(sympy.S.One)), "k")
    (True, False)
    """
    if isinstance(node, Entry) or hasattr(node, "letters"):
        return letter in node.letters()
    if isinstance(node, (MatMul, Transpose)):   # every term of a product has one of each
        return any(involves(a, letter) for a in node.children)
    if isinstance(node, IndexSum):
        return node.letter != letter and involves(node.body, letter)
    if isinstance(node, Elementwise):
        if node.op in ("+", "-"):
            return all(involves(a, letter) for a in node.args)
        if node.op in ("neg",):
            return involves(node.args[0], letter)
        if node.op == "**":
            ex = node.args[1]
            return (isinstance(ex, Scalar) and ex.value.is_Integer and ex.value > 0
                    and involves(node.args[0], letter))
        return any(involves(a, letter) for a in node.args)
    return False
