"""Index-form bounds: how large and how many instance sizes must be for a few sizes to
stand for all (the bound route of MATRICES.md; the argument is in
:mod:`derivcheck.decide.matrix`).

Written in index form, every entry of a matrix expression is a sum of terms
``c(sizes) * sum over dummy indices of a product of factors``. For each size name s this
module bounds, per expression:

* ``indices[s]``: the distinct indices ranging over s in any one term (free indices of
  the result plus every contraction over s: a matrix product, an axis sum);
* ``degree[s] = (p, q)``: a term's coefficient is a rational function of s whose
  numerator has degree at most p and denominator at most q (``1/m`` is (0, 1); a sum over
  an index no factor uses multiplies by s, so each contraction may add 1 to p);
* ``fragment``: False (with the reason) when a nonlinear function, a division or a
  non-integer power is applied to something that sums over an index or holds a size
  name; then no index form of the kind above exists and nothing is claimed.

>>> import sympy
>>> from .expr import Leaf, Scalar, matmul, mul, transpose
>>> dZ = Leaf("dZ1", ("n1", "m")); X = Leaf("X", ("n0", "m"))
>>> b = bound(mul(Scalar(1 / sympy.Symbol("m")), matmul(dZ, transpose(X))))
>>> b.indices["m"], b.degree["m"], b.fragment
(1, (0, 1), True)
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sympy

from .expr import as_sympy, Elementwise, Leaf, MatMul, MExpr, Reshape, Scalar, Sum, Transpose

__all__ = ["Bound", "bound", "needed_values"]


@dataclass
class Bound:
    contractions: Counter = field(default_factory=Counter)
    degree: dict = field(default_factory=dict)       # size -> (p, q)
    fragment: bool = True
    reason: str = ""
    minimum: dict = field(default_factory=dict)      # size -> least value (entries used)
    indices: dict = field(default_factory=dict)      # filled by bound()


def _deg(b: Bound, s: str) -> tuple:
    return b.degree.get(s, (0, 0))


def _merge_min(*bs) -> dict:
    out: dict = {}
    for b in bs:
        for k, v in b.minimum.items():
            out[k] = max(out.get(k, 0), v)
    return out


def _fail(b: Bound, reason: str) -> Bound:
    if b.fragment:
        b.fragment, b.reason = False, reason
    return b


def _times(a: Bound, b: Bound) -> Bound:
    out = Bound(a.contractions + b.contractions, minimum=_merge_min(a, b))
    for s in set(a.degree) | set(b.degree):
        (p1, q1), (p2, q2) = _deg(a, s), _deg(b, s)
        out.degree[s] = (p1 + p2, q1 + q2)
    for x in (a, b):
        if not x.fragment:
            _fail(out, x.reason)
    return out


def _plus(a: Bound, b: Bound) -> Bound:
    out = Bound(a.contractions | b.contractions, minimum=_merge_min(a, b))
    for s in set(a.degree) | set(b.degree):
        (p1, q1), (p2, q2) = _deg(a, s), _deg(b, s)
        out.degree[s] = (max(p1 + q2, p2 + q1), q1 + q2)
    for x in (a, b):
        if not x.fragment:
            _fail(out, x.reason)
    return out


def _scalar(value: sympy.Expr) -> Bound:
    out = Bound()
    if not value.free_symbols:
        return out
    num, den = sympy.fraction(sympy.together(value))
    for s in value.free_symbols:
        try:
            out.degree[s.name] = (sympy.Poly(num, s).degree(), sympy.Poly(den, s).degree())
        except sympy.PolynomialError:
            return _fail(out, f"{value} is no rational function of the size {s}")
    return out


def _plain(b: Bound) -> bool:
    """No contraction and no size in the coefficients: a function of one entry pattern."""
    return not +b.contractions and all(d == (0, 0) for d in b.degree.values())


def _walk(node: MExpr, memo: dict) -> Bound:
    if id(node) in memo:
        return memo[id(node)]
    out = _node(node, memo)
    memo[id(node)] = out
    return out


def _node(node: MExpr, memo: dict) -> Bound:
    hook = getattr(node, "index_bound", None)   # index notation (:mod:`.indexed`)
    if hook is not None:
        return hook(lambda n: _walk(n, memo))
    if isinstance(node, Scalar):
        return _scalar(node.value)
    if isinstance(node, Leaf):
        key = node.key
        if key and key[0] == "entry":
            inner = _walk(key[1], memo)
            out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                        inner.reason, dict(inner.minimum))
            for i, d in zip(key[2], key[1].shape):
                if isinstance(d, str):
                    out.minimum[d] = max(out.minimum.get(d, 0), i)
            return out
        if node.expansion is not None:
            scale = as_sympy(key[3] if len(key) > 3 else sympy.S.One)
            inner = _walk(node.expansion, memo)
            if scale.is_Symbol and _deg(inner, scale.name)[1] >= 1:
                # m times a gradient of the mean: every term of the backward pass carries
                # the one factor 1/m of the cost, which m cancels
                p, q = _deg(inner, scale.name)
                out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                            inner.reason, dict(inner.minimum))
                out.degree[scale.name] = (p, q - 1)
                return out
            return _times(inner, _scalar(scale))
        return Bound()
    if isinstance(node, (Transpose, Reshape)):
        return _walk(node.children[0], memo)
    if isinstance(node, MatMul):
        out = _times(_walk(node.left, memo), _walk(node.right, memo))
        inner = node.left.shape[-1] if node.left.shape else None
        if isinstance(inner, str):
            out.contractions[inner] += 1
            left, right = axes(node.left, memo), axes(node.right, memo)
            k_right = 0 if len(node.right.shape) == 1 else -2
            if left[-1][0] and right[k_right][0]:
                p, q = _deg(out, inner)
                out.degree[inner] = (p + 1, q)
        return out
    if isinstance(node, Sum):
        inner = _walk(node.arg, memo)
        out = Bound(Counter(inner.contractions), dict(inner.degree), inner.fragment,
                    inner.reason, dict(inner.minimum))
        shape = node.arg.shape or ()
        summed = range(len(shape)) if node.axis is None else [node.axis % max(len(shape), 1)]
        info = axes(node.arg, memo)
        for axis in summed:
            d = shape[axis] if axis < len(shape) else 1
            if isinstance(d, str):
                out.contractions[d] += 1
                if info[axis][0]:
                    p, q = _deg(out, d)
                    out.degree[d] = (p + 1, q)
        return out
    if isinstance(node, Elementwise):
        kids = [_walk(a, memo) for a in node.args]
        if node.op in ("+", "-"):
            return _plus(kids[0], kids[1])
        if node.op == "neg":
            return kids[0]
        if node.op == "*":
            return _times(kids[0], kids[1])
        if node.op == "/":
            top, bottom = kids
            if isinstance(node.args[1], Scalar):
                flipped = Bound(degree={s: (q, p) for s, (p, q) in bottom.degree.items()})
                return _times(top, flipped)
            out = _times(top, Bound(minimum=bottom.minimum))
            if not _plain(bottom) or not bottom.fragment:
                return _fail(out, f"{node.text()} divides by an expression that sums over "
                                  "an index or holds a size")
            return out
        if node.op == "**":
            base, ex = node.args
            if isinstance(ex, Scalar) and ex.value.is_Integer and ex.value >= 0:
                out = Bound(minimum=kids[0].minimum)
                for _ in range(int(ex.value)):
                    out = _times(out, kids[0])
                return out
            out = Bound(minimum=_merge_min(*kids))
            if not all(_plain(k) and k.fragment for k in kids):
                return _fail(out, f"{node.text()}: a power that is no whole number of an "
                                  "expression that sums over an index or holds a size")
            return out
        out = Bound(minimum=_merge_min(*kids))
        for k in kids:
            out.contractions |= k.contractions
            if not _plain(k) or not k.fragment:
                return _fail(out, f"{node.text()} applies a function to an expression that "
                                  "sums over an index or holds a size")
        return out
    return _fail(Bound(), f"cannot bound {node.text()}")


_FREE = (True, False)   # an axis of length 1: no term depends on its index


def axes(node: MExpr, memo: dict) -> list:
    """Per axis of ``node``: (some term of its index form does not involve that axis's
    index, some term does). A sum over an axis multiplies by its size only in the first
    case, so only then may a contraction raise a coefficient's degree.

    >>> from .expr import Leaf, add, matmul
    >>> x, b = Leaf("X", ("n", "m")), Leaf("b", ("n", 1))
    >>> axes(add(x, b), {})
    [(False, True), (True, True)]
    """
    key = ("axes", id(node))
    if key in memo:
        return memo[key]
    out = _axes(node, memo)
    memo[key] = out
    return out


def _own(shape) -> list:
    return [_FREE if d == 1 else (False, True) for d in shape]


def _aligned(node: MExpr, memo: dict, rank: int) -> list:
    info, shape = axes(node, memo), node.shape or ()
    pad = rank - len(shape)
    return [_FREE] * pad + [_FREE if d == 1 else f for d, f in zip(shape, info)]


def _axes(node: MExpr, memo: dict) -> list:
    shape = node.shape or ()
    if isinstance(node, Scalar) or not shape:
        return []
    if hasattr(node, "matrix") and hasattr(node, "axis"):    # a slice: its matrix's row
        kept = axes(node.matrix, memo)[1 - node.axis]
        return [kept, _FREE] if node.axis == 1 else [_FREE, kept]
    if hasattr(node, "body"):   # a sum of matrices over an index, a stacked statement:
        return [_FREE if d == 1 else (True, True) for d in shape]   # claim nothing
    if isinstance(node, Leaf):
        if node.expansion is None:
            return _own(shape)
        inner = axes(node.expansion, memo)
        view = node.key[2] if len(node.key) > 2 else ""
        return list(reversed(inner)) if view == "T" else inner[:len(shape)]
    if isinstance(node, Transpose):
        return list(reversed(axes(node.arg, memo)))
    if isinstance(node, Reshape):
        flags = [f for f, d in zip(axes(node.arg, memo), node.arg.shape) if d != 1]
        return [_FREE if d == 1 else (flags.pop(0) if flags else (False, True)) for d in shape]
    if isinstance(node, MatMul):
        left, right = axes(node.left, memo), axes(node.right, memo)
        lead = left[:-1] if len(node.left.shape) > 1 else []
        tail = [right[-1]] if len(node.right.shape) > 1 else []
        return lead + tail
    if isinstance(node, Sum):
        info = axes(node.arg, memo)
        if node.axis is None:
            return [_FREE] * len(shape)
        a = node.axis % len(node.arg.shape)
        if node.keepdims:
            return [_FREE if i == a else f for i, f in enumerate(info)]
        return [f for i, f in enumerate(info) if i != a]
    if isinstance(node, Elementwise):
        rank = len(shape)
        kids = [_aligned(a, memo, rank) for a in node.args]
        out = []
        for i in range(rank):
            flags = [k[i] for k in kids]
            if node.op in ("+", "-"):
                out.append((any(f[0] for f in flags), any(f[1] for f in flags)))
            elif node.op in ("*", "neg"):
                out.append((all(f[0] for f in flags), any(f[1] for f in flags)))
            else:   # one factor: a function of its arguments' entries
                dep = any(f[1] for f in flags)
                out.append((not dep, dep))
        return out
    return _own(shape)


def bound(node: MExpr) -> Bound:
    """The bounds of one expression (see the module docstring)."""
    out = _walk(node, {})
    free = Counter(d for d in (node.shape or ()) if isinstance(d, str))
    out.indices = {s: free[s] + out.contractions[s]
                   for s in set(free) | set(out.contractions)}
    return out


def needed_values(a: Bound, b: Bound, sizes: list[str]) -> dict:
    """size -> (least value, how many values): large enough that every term's indices
    can be distinct, and one more value than the degree of the difference of two
    coefficients (p1 + q2 or p2 + q1), so that a rational identity in the size is pinned.
    """
    out = {}
    for s in sizes:
        (p1, q1), (p2, q2) = _deg(a, s), _deg(b, s)
        count = max(p1 + q2, p2 + q1) + 1
        least = max(a.indices.get(s, 0), b.indices.get(s, 0), a.minimum.get(s, 0),
                    b.minimum.get(s, 0), 1)
        out[s] = (least, count)
    return out
