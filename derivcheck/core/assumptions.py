"""``--assume`` conditions: strict or non-strict bounds between a name and a number.

>>> a = Assumptions.parse(["x > 0", "w1 >= -1/2", "3 > y"])
>>> [str(b) for b in a.bounds]
['x > 0', 'w1 >= -1/2', 'y < 3']
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
    def parse(cls, texts) -> "Assumptions":
        out = []
        for text in texts or []:
            m = _FORM.match(text)
            if not m:
                raise AssumptionError(f"cannot read assumption {text!r}", text=text, position=0,
                                      hint="write a bound such as 'x > 0' or 'w1 >= -1'")
            if m.group(1):
                name, op, num = m.group(1), _OPS[m.group(2)], m.group(3)
            else:
                name, op, num = m.group(6), _FLIP[_OPS[m.group(5)]], m.group(4)
            if not valid_name(name):
                raise AssumptionError(f"{name!r} is not a valid name", text=text, position=0)
            out.append(Bound(sympy.Symbol(name), op, Fraction(num)))
        return cls(out)

    def check_names(self, known: set) -> None:
        """Every assumed name must be a name of the network."""
        for b in self.bounds:
            if b.symbol not in known:
                raise AssumptionError(f"--assume names {b.symbol}, which is not in the network",
                                      hint="known: " + ", ".join(sorted(map(str, known))))

    def holds(self, point: dict) -> bool:
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
