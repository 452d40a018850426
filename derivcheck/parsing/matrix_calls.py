"""numpy's matrix operations a formula may call: ``np.sum``, ``np.dot``, ``np.where``...

Each row builds a node of :mod:`derivcheck.core.matrix.expr` from the call's arguments
(keyword arguments as ``(name, value)`` pairs). On scalars they reduce to the scalar
meaning (``np.sum(x)`` is x, ``np.dot(a, b)`` is a b).

>>> import sympy
>>> from derivcheck.core.matrix.expr import Leaf
>>> dz = Leaf("dZ1", ("n1", "m"))
>>> build_call("sum", [dz, ("axis", sympy.Integer(1)), ("keepdims", sympy.Integer(1))]).shape
('n1', 1)
>>> build_call("dot", [sympy.Symbol("a"), sympy.Symbol("b")])
a*b
"""
from __future__ import annotations

import sympy

from ..core.matrix import expr as mx
from .vocabulary import function_named

__all__ = ["MATRIX_CALLS", "PLAIN_CALLS", "CLASS_AXIS_CALLS", "build_call", "CallError"]


class CallError(ValueError):
    """A call with arguments the function does not take (message for the user)."""


def _positional(args, count: int, name: str, keywords=()) -> tuple[list, dict]:
    pos = [a for a in args if not isinstance(a, tuple)]
    kw = dict(a for a in args if isinstance(a, tuple))
    bad = sorted(set(kw) - set(keywords))
    if bad:
        raise CallError(f"np.{name} takes no argument {bad[0]!r} here"
                        + (f" (only {', '.join(keywords)})" if keywords else ""))
    if len(pos) != count:
        raise CallError(f"np.{name} takes {count} argument{'s' if count > 1 else ''} here, "
                        f"got {len(pos)}")
    return pos, kw


def _int(value, what: str):
    if isinstance(value, mx.Scalar):
        value = value.value
    if value is None or not getattr(value, "is_Integer", False):
        raise CallError(f"{what} must be a whole number")
    return int(value)


def _sum(args, mean=False):
    name = "mean" if mean else "sum"
    (x,), kw = _positional(args, 1, name, ("axis", "keepdims"))
    axis = _int(kw["axis"], "axis") if "axis" in kw else None
    keep = bool(_int(kw["keepdims"], "keepdims")) if "keepdims" in kw else False
    out = mx.total(x, axis, keep)
    if mean and out.shape is not None:
        shape = mx.as_mexpr(x).shape
        axes = range(len(shape)) if axis is None else [axis % len(shape)]
        count = sympy.S.One
        for a in axes:
            d = shape[a]
            count *= sympy.Symbol(d) if isinstance(d, str) else sympy.Integer(d)
        out = mx.div(out, mx.Scalar(count))
    return out


def _two(op, name):
    def build(args):
        (a, b), _ = _positional(args, 2, name)
        return op(a, b)
    return build


def _entrywise(fname, name):
    spec = function_named(fname)

    def build(args):
        (a, b), _ = _positional(args, 2, name)
        return mx.apply(fname, spec.build, [a, b])
    return build


def _where(args):
    (c, a, b), _ = _positional(args, 3, "where")
    return mx.where(c, a, b)


def _power(args):
    (a, b), _ = _positional(args, 2, "power")
    return mx.power(a, b)


def _one(op, name):
    def build(args):
        (a,), _ = _positional(args, 1, name)
        return op(a)
    return build


def _softmax(args):
    (x,), kw = _positional(args, 1, "softmax", ("axis",))
    if not mx.is_matrix(x) or not x.shape:
        raise CallError("softmax is read on the matrix of a layer's classes, not on a number")
    if "axis" not in kw:
        raise CallError("softmax needs the axis of the classes here: softmax(Z, axis=0) "
                        "with examples as columns, axis=1 with examples as rows")
    e = mx.apply("exp", function_named("exp").build, [x])
    return mx.div(e, mx.total(e, _int(kw["axis"], "axis"), True))


MATRIX_CALLS = {
    "sum": _sum,
    "mean": lambda args: _sum(args, mean=True),
    "dot": _two(mx.matmul, "dot"),
    "matmul": _two(mx.matmul, "matmul"),
    "multiply": _two(mx.mul, "multiply"),
    "divide": _two(mx.div, "divide"),
    "add": _two(mx.add, "add"),
    "subtract": _two(mx.sub, "subtract"),
    "maximum": _entrywise("max", "maximum"),
    "minimum": _entrywise("min", "minimum"),
    "where": _where,
    "power": _power,
    "square": _one(lambda a: mx.power(a, 2), "square"),
    "transpose": _one(mx.transpose, "transpose"),
    "softmax": _softmax,
}

#: Calls that may be written without ``np.`` (``softmax(Z2)``: numpy has none).
PLAIN_CALLS = ("softmax",)
#: Calls whose ``axis`` defaults to the classes' axis of the network, when it has one.
CLASS_AXIS_CALLS = ("softmax",)


def build_call(name: str, args: list, class_axis: int | None = None):
    """The node (or, on scalars only, the SymPy value) of ``np.<name>(args)``;
    ``class_axis``: the default axis of :data:`CLASS_AXIS_CALLS` (0 with examples as
    columns, 1 with examples as rows).

    >>> from derivcheck.core.matrix.expr import Leaf
    >>> build_call("softmax", [Leaf("Z2", ("n2", "m"))], class_axis=0).text()
    'exp(Z2) / np.sum(exp(Z2), axis=0, keepdims=True)'
    """
    if (name in CLASS_AXIS_CALLS and class_axis is not None
            and not any(isinstance(a, tuple) and a[0] == "axis" for a in args)):
        args = [*args, ("axis", sympy.Integer(class_axis))]
    out = MATRIX_CALLS[name](args)
    return out.value if isinstance(out, mx.Scalar) else out
