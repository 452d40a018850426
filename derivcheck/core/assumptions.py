"""``--assume`` conditions: strict or non-strict bounds between a name and a number.

The one model of assumptions: the CLI's ``--assume``, :func:`derivcheck.check` and the
oracle's point sampling all read them here, as texts or as ``(name, op, number)``.

>>> a = Assumptions.parse(["x > 0", "w1 >= -1/2", "3 > y", ("z", "<=", 0.25)])
>>> [str(b) for b in a.bounds]
['x > 0', 'w1 >= -1/2', 'y < 3', 'z <= 1/4']
>>> a.strict_signs()
{x: 1}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from ..errors import AssumptionError
from ..names import valid_name

__all__ = ["Bound", "Assumptions"]

_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "\\gt": ">", "\\lt": "<", "\\ge": ">=",
        "\\le": "<=", "\\geq": ">=", "\\leq": "<=", "≥": ">=", "≤": "<="}
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:/\d+)?"
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_OP = r">=|<=|>|<|≥|≤|\\geq|\\leq|\\ge|\\le|\\gt|\\lt"
_HINT = "write a bound such as 'x > 0' or 'w1 >= -1/2'"
_FORM = re.compile(rf"^\s*(?:({_NAME})\s*({_OP})\s*({_NUM})|({_NUM})\s*({_OP})\s*({_NAME}))\s*$")


@dataclass(frozen=True)
class Bound:
    """``symbol op value``."""

    symbol: sympy.Symbol
    op: str
    value: Fraction

    def holds(self, v) -> bool:
        return {">": v > self.value, ">=": v >= self.value, "<": v < self.value,
                "<=": v <= self.value}[self.op]

    def __str__(self) -> str:
        return f"{self.symbol} {self.op} {self.value}"


@dataclass
class Assumptions:
    """A conjunction of bounds."""

    bounds: list = field(default_factory=list)

    @classmethod
    def parse(cls, items, *, known: set | None = None) -> "Assumptions":
        """Bounds from texts such as ``x > 0`` or ``3 >= w1``, or from triples
        ``(name or Symbol, op, number)``; with ``known`` (the network's symbols), every
        bound must name one of them (:meth:`check_names`)."""
        out = cls([_bound(item) for item in items or ()])
        if known is not None:
            out.check_names(known)
        return out

    def check_names(self, known: set) -> None:
        """Every assumed name must be a name of the network."""
        for b in self.bounds:
            if b.symbol not in known:
                raise AssumptionError(f"--assume names {b.symbol}, which is not in the network",
                                      hint="known: " + ", ".join(sorted(map(str, known))))

    def holds(self, point: dict) -> bool:
        """Does ``point`` ({Symbol: value}) satisfy every bound on the symbols it has?"""
        return all(b.holds(point[b.symbol]) for b in self.bounds if b.symbol in point)

    def strict_signs(self) -> dict:
        """Symbols whose sign the bounds fix strictly (``x > 0``, ``w <= -1``)."""
        out = {}
        for b in self.bounds:
            if (b.op == ">" and b.value >= 0) or (b.op == ">=" and b.value > 0):
                out[b.symbol] = 1
            elif (b.op == "<" and b.value <= 0) or (b.op == "<=" and b.value < 0):
                out[b.symbol] = -1
        return out

    def interval(self, symbol) -> tuple:
        """(low, high) with None for unbounded, strictness ignored (for sampling)."""
        lo = hi = None
        for b in self.bounds:
            if b.symbol != symbol:
                continue
            if b.op in (">", ">="):
                lo = b.value if lo is None else max(lo, b.value)
            else:
                hi = b.value if hi is None else min(hi, b.value)
        return lo, hi

    def texts(self) -> list[str]:
        return [str(b) for b in self.bounds]


def _bound(item) -> Bound:
    """One bound from a text or a ``(name, op, number)`` triple."""
    if isinstance(item, str):
        m = _FORM.match(item)
        if not m:
            raise AssumptionError(f"cannot read assumption {item!r}", text=item, position=0,
                                  hint=_HINT)
        if m.group(1):
            name, op, num = m.group(1), _OPS[m.group(2)], m.group(3)
        else:
            name, op, num = m.group(6), _FLIP[_OPS[m.group(5)]], m.group(4)
        text = item
    else:
        try:
            name, op, num = item
        except (TypeError, ValueError):
            raise AssumptionError(f"cannot read assumption {item!r}", hint=_HINT) from None
        name = name.name if isinstance(name, sympy.Symbol) else str(name)
        text = f"{name} {op} {num}"
        if op not in _OPS:
            raise AssumptionError(f"cannot read assumption {text!r}: {op!r} is not one of "
                                  "> >= < <=", hint=_HINT)
        op = _OPS[op]
    if not valid_name(name):
        raise AssumptionError(f"{name!r} is not a valid name", text=text, position=0,
                              hint="bound an input, parameter or target of the network")
    return Bound(sympy.Symbol(name), op, _number(num, text))


def _number(value, text: str) -> Fraction:
    """An exact bound: a decimal or fraction text, or an int, float (exactly), Fraction
    or SymPy rational."""
    if isinstance(value, str):
        if not re.fullmatch(rf"\s*{_NUM}\s*", value):
            raise AssumptionError(f"cannot read the number {value!r} in {text!r}", hint=_HINT)
        return Fraction(value.strip())
    try:
        return Fraction(value)
    except (TypeError, ValueError, OverflowError):
        raise AssumptionError(f"the bound {value!r} in {text!r} is not an exact finite "
                              "number", hint=_HINT) from None
