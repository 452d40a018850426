"""Plain-text printing: expressions as derivcheck's plain syntax reads them back.

>>> from sympy import symbols
>>> from derivcheck.core.functions import ReLU, Step, IsPos, LeakyReLU
>>> w, x, y = symbols("w x y")
>>> plain((ReLU(w * x) - y) * Step(w * x) * x)
'(relu(w*x) - y)*step(w*x)*x'
>>> plain(IsPos(w) + LeakyReLU(x, sympy.Rational(1, 100)))
'[w > 0] + leaky_relu(x, 1/100)'
"""
from __future__ import annotations

import decimal
import re
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .primitives import primitive_of

__all__ = ["PlainPrinter", "plain", "format_value"]


class PlainPrinter(StrPrinter):
    """StrPrinter with the registry's plain heads and Iverson brackets."""

    def _print_Function(self, expr):
        primitive = primitive_of(expr)
        if primitive is None:
            return super()._print_Function(expr)
        return f"{primitive.plain_head}({', '.join(self._print(a) for a in expr.args)})"

    def _print_IsPos(self, expr):
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_IsNonNeg(self, expr):
        return f"[{self._print(expr.args[0])} >= 0]"

    def _print_Add(self, expr, order=None):
        """Positive terms first, so ``a - y`` rather than ``-y + a``."""
        terms = sorted(expr.args, key=lambda t: t.could_extract_minus_sign())
        out = []
        for i, t in enumerate(terms):
            neg = t.could_extract_minus_sign()
            body = self._print(-t if neg else t)
            if neg and sympy.Add in {type(-t)}:
                body = f"({body})"
            out.append(("-" if neg else "+") if i else ("-" if neg else ""))
            out.append(body)
        text = " ".join(out[1:]) if out and out[0] == "" else " ".join(out)
        return text.replace("- ", "-", 1) if text.startswith("- ") else text

    def _print_Mul(self, expr):
        """Products in backpropagation order: the loss factor, then layers from the
        output down (gate before weight), inputs last: ``(a2 - y)*step(z2)*w2*step(z1)*x``."""
        args = expr.args
        if expr.could_extract_minus_sign() or any(
                a.is_Pow and a.exp.is_negative or a.is_Rational and not a.is_Integer
                for a in args):
            return super()._print_Mul(expr)
        ordered = sorted(args, key=_backprop_order)
        return "*".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in ordered)

    def _print_Symbol(self, expr):
        return expr.name


_INDEX = re.compile(r"(\d+)")


@lru_cache(maxsize=4096)
def _backprop_order(factor):
    """Sort key: numbers, then sums (the loss factor), then by layer, highest first.

    Cached: a deep gradient prints the same factors at every level of nesting, and the
    key's ``str`` is as long as the factor."""
    indices = [int(m) for s in factor.free_symbols for m in _INDEX.findall(s.name)[:1]]
    layer = max(indices, default=-1)
    return (not factor.is_Number, not factor.is_Add, -layer,
            not isinstance(factor, sympy.Function), str(factor))


def plain(expr) -> str:
    """The plain-syntax text of ``expr``."""
    return PlainPrinter({"order": "none"}).doprint(expr)


def format_value(value, digits: int = 20) -> str:
    """``"3/7"`` for exact values (past Python's 4300-digit ``str`` limit too), a decimal
    string otherwise.

    An exact irrational value (a leaf solved for a kink) is written exactly.

    >>> format_value(Fraction(3, 7)), len(format_value(Fraction(7) ** 6000))
    ('3/7', 5071)
    >>> format_value(-1 / sympy.tanh(2))
    '-1/tanh(2)'
    """
    if isinstance(value, Fraction):
        num, den = (str(decimal.Decimal(k)) for k in (value.numerator, value.denominator))
        return num if den == "1" else f"{num}/{den}"
    if isinstance(value, sympy.Basic):
        return plain(value)
    return mpmath.nstr(value, digits)
