"""Reading explicit matrix equations (``Z1 = W1 @ X + b1``) with the one grammar.

Every name on a right side is a matrix (:class:`~derivcheck.core.matrix.expr.Leaf`) whose
shape is not known yet; :mod:`derivcheck.core.matrix.equations` recognizes the layers in
the parsed equations and infers the shapes. ``softmax(Z)`` is read over the classes'
axis, which the layout fixes: the equations are read once with examples as columns and,
when the layers say examples are rows, once more.

>>> eqs = parse_equations(["Z1 = W1 @ X + b1", "A1 = np.maximum(0, Z1)"])
>>> [(e.name, e.expr.text()) for e in eqs]
[('Z1', 'W1 @ X + b1'), ('A1', 'max(0, Z1)')]
>>> parse_equations(["Z1 == W1 @ X"])
Traceback (most recent call last):
derivcheck.errors.ParseError: error: expected one equation 'name = formula' at column 5
  Z1 == W1 @ X
      ^
hint: e.g. Z1 = W1 @ X + b1
"""
from __future__ import annotations

from ..core.matrix import expr as mx
from ..core.matrix.layers import Equation, is_affine
from ..errors import ParseError
from ..names import Namespace, valid_name
from . import _check_input, _read, _room_to_recurse, _slice
from .matrix_calls import MATRIX_CALLS
from .plain import scan_plain
from .resolve import Resolver
from .tokens import segments
from .vocabulary import derivative_named, function_named

__all__ = ["parse_equations", "network_from_equations"]


class _Matrices(dict):
    """Any name is a matrix of a shape yet to be inferred (function names excepted)."""

    def __missing__(self, name):
        if not valid_name(name) or name in MATRIX_CALLS or name == "np" or (
                len(name) > 1 and (function_named(name) or derivative_named(name))):
            raise KeyError(name)
        leaf = mx.Leaf(name, (f"{name}.rows", f"{name}.cols"), key=("equation", name))
        self[name] = leaf
        return leaf

    def __contains__(self, name):
        try:
            self[name]
        except KeyError:
            return False
        return True

    def get(self, name, default=None):
        return self[name] if name in self else default


def _namespace(class_axis: int) -> Namespace:
    ns = Namespace(symbols=_Matrices())
    ns.class_axis = class_axis
    return ns


def _equation(text, index: int, ns: Namespace, where: str) -> Equation:
    label = f"{where} {index}"
    _check_input(text)
    tokens = scan_plain(text)
    sides = segments(tokens, lambda t: t.type, lambda t: (t.start_pos, t.end_pos))
    if len(sides) != 2:
        at = tokens[sides[2].lo - 1].start_pos if len(sides) > 2 else 0
        raise ParseError("expected one equation 'name = formula'", text=text, position=at,
                         hint="e.g. Z1 = W1 @ X + b1")
    left = _slice(tokens, sides[0])
    if len(left) != 1 or left[0].type != "NAME" or not valid_name(left[0].value.name):
        raise ParseError("the left side of an equation must be one name", text=text,
                         position=sides[0].start, hint="e.g. Z1 = W1 @ X + b1")
    if sides[1].lo == sides[1].hi:
        raise ParseError("nothing after '='", text=text, position=sides[1].start,
                         hint="e.g. Z1 = W1 @ X + b1")
    with _room_to_recurse(text):
        expr = _read(_slice(tokens, sides[1]), sides[1], Resolver(ns, text))
    if not isinstance(expr, mx.MExpr):
        raise ParseError("a forward equation computes a matrix here", text=text,
                         position=sides[1].start, hint="e.g. Z1 = W1 @ X + b1")
    return Equation(left[0].value.name, expr, text, label)


def parse_equations(texts, *, class_axis: int = 0, where: str = "equation") -> list[Equation]:
    """Each ``name = formula`` parsed with every name a matrix (see the module docstring)."""
    ns = _namespace(class_axis)
    return [_equation(text, i, ns, where) for i, text in enumerate(texts, 1)]


def network_from_equations(texts, shapes, *, where: str = "equation", **options):
    """The :class:`~derivcheck.core.matrix.network.MatrixNetwork` of the equations
    (options as :func:`~derivcheck.core.matrix.equations.build_network` takes them)."""
    from ..core.matrix.equations import build_network
    equations = parse_equations(texts, where=where)
    if _rows(equations):
        equations = parse_equations(texts, class_axis=1, where=where)
    return build_network(equations, shapes, **options)


def _rows(equations: list[Equation]) -> bool:
    """Do the layers put the examples in rows (``X @ W1``)? Read from the second layer's
    product, whose activations come from an equation, or the first's input name."""
    defined = {e.name for e in equations}
    for eq in equations:
        found = is_affine(eq.expr)
        if found is None:
            continue
        left, right, _ = found
        if left[0] in defined and not left[1]:
            return True
        if right[0] in defined and not right[1]:
            return False
    for eq in equations:
        found = is_affine(eq.expr)
        if found is not None:
            return found[0][0] in ("X", "x") and not found[0][1]
    return False
