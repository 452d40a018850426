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
from ..names import Namespace, NamesOnDemand, valid_name
from . import is_latex, read_equation
from .matrix_calls import MATRIX_CALLS
from .resolve import Resolver
from .vocabulary import derivative_named, function_named

__all__ = ["parse_equations", "network_from_equations"]


class _Matrices(NamesOnDemand):
    """Any name is a matrix of a shape yet to be inferred (function names excepted); while
    a LaTeX equation is read (``latex``), a name as typed with its subscript (``W_1``) is
    none: the front end's name (``W1``) is."""

    latex = False

    def __missing__(self, name):
        if self.latex and "_" in name:
            raise KeyError(name)
        if not valid_name(name) or name in MATRIX_CALLS or name == "np" or (
                len(name) > 1 and (function_named(name) or derivative_named(name))):
            raise KeyError(name)
        leaf = mx.Leaf(name, (f"{name}.rows", f"{name}.cols"), key=("equation", name))
        self[name] = leaf
        return leaf


def _namespace(class_axis: int) -> Namespace:
    ns = Namespace(symbols=_Matrices())
    ns.class_axis = class_axis
    return ns


def _equation(text, index: int, ns: Namespace, where: str) -> Equation:
    """One equation, in plain syntax or LaTeX (``Z^{[1]} = W^{[1]} X + b^{[1]}``, read
    with the candidates' grammar: juxtaposed matrices are a matrix product)."""
    label = f"{where} {index}"
    ns.symbols.latex = is_latex(text)
    name, expr = read_equation(text, Resolver(ns, text), latex=ns.symbols.latex,
                               example="Z1 = W1 @ X + b1")
    if not isinstance(expr, mx.MExpr):
        raise ParseError("a forward equation computes a matrix here", text=text,
                         position=text.find("=") + 1, hint="e.g. Z1 = W1 @ X + b1")
    return Equation(name, expr, text, label)


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
