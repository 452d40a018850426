"""``--assume`` conditions: strict or non-strict bounds between a name and a number, or
between two names (``yhat > y``).

The one model of assumptions: the CLI's ``--assume``, :func:`derivcheck.check` and the
oracle's point sampling all read them here, as texts or as ``(name, op, number)``.
Names may be intermediate quantities of the network (``z1 > 0``, ``yhat > y``): case
conditions of a derivation. :meth:`Assumptions.resolve` maps them to the network's
quantities, and a decision that samples points gives :meth:`Assumptions.bind` a way to
evaluate them there, so every point it keeps satisfies them.

>>> a = Assumptions.parse(["x > 0", "w1 >= -1/2", "3 > y", ("z", "<=", 0.25)])
>>> [str(b) for b in a.bounds]
['x > 0', 'w1 >= -1/2', 'y < 3', 'z <= 1/4']
>>> a.strict_signs()
{x: 1}
>>> str(Assumptions.parse(["yhat > y"]).bounds[0])
'yhat > y'
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
_HINT = "write a bound such as 'x > 0', 'w1 >= -1/2', 'z1 > 0' or 'yhat > y'"
_FORM = re.compile(rf"^\s*(?:({_NAME})\s*({_OP})\s*({_NUM})|({_NUM})\s*({_OP})\s*({_NAME}))\s*$")
_RELATION = re.compile(rf"^\s*({_NAME})\s*({_OP})\s*({_NAME})\s*$")


@dataclass(frozen=True)
class Bound:
    """``symbol op value``."""

    symbol: sympy.Symbol
    op: str
    value: Fraction
    #: ``symbol op other`` (a relation between two names; ``value`` is then 0).
    other: sympy.Symbol | None = None
    #: What ``symbol - other - value`` stands for in the network, once resolved, when a
    #: name is an intermediate quantity or the bound is a relation; None otherwise.
    quantity: sympy.Expr | None = None

    def holds(self, v) -> bool:
        return {">": v > self.value, ">=": v >= self.value, "<": v < self.value,
                "<=": v <= self.value}[self.op]

    def sign_holds(self, sign: int) -> bool:
        """Does a difference ``symbol - other - value`` of this sign satisfy the bound?"""
        return {">": sign > 0, ">=": sign >= 0, "<": sign < 0, "<=": sign <= 0}[self.op]

    @property
    def derived(self) -> bool:
        """True when the bound is on a quantity computed from the leaves."""
        return self.quantity is not None or self.other is not None

    def __str__(self) -> str:
        return f"{self.symbol} {self.op} {self.other if self.other is not None else self.value}"


@dataclass
class Assumptions:
    """A conjunction of bounds."""

    bounds: list = field(default_factory=list)
    #: ``(expr, point) -> sign`` (+1, 0, -1; None when it cannot be told) of a quantity of
    #: the network at a point of its leaves; set by :meth:`bind`.
    sign_at: object = field(default=None, repr=False, compare=False)

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
        """Every assumed name must be a name of the network (and, here, a leaf)."""
        for b in self.bounds:
            for name in (b.symbol, b.other):
                if name is not None and name not in known:
                    raise AssumptionError(f"--assume names {name}, which is not in the network",
                                          hint="known: " + ", ".join(sorted(map(str, known))))

    def resolve(self, names: dict, leaves: set) -> "Assumptions":
        """The bounds with every name looked up in ``names`` (plain name -> the network's
        expression, such as ``yhat`` -> ``a1``); bounds on intermediate quantities and
        relations get their ``quantity``. An unknown name is an AssumptionError.

        >>> from derivcheck.core.network import chain
        >>> net = chain(["w1"], "relu")
        >>> a = Assumptions.parse(["x > 0", "z1 > 0", "yhat > y"]).resolve(
        ...     net.namespace.symbols, set(net.variables))
        >>> [b.quantity for b in a.bounds], a.strict_signs()
        ([None, z1, a1 - y], {x: 1, z1: 1, a1 - y: 1})
        """
        out = []
        for b in self.bounds:
            exprs = []
            for name in (b.symbol, b.other):
                if name is None:
                    continue
                if str(name) not in names:
                    raise AssumptionError(
                        f"--assume names {name}, which is not in the network",
                        hint="known: " + ", ".join(sorted(names)))
                exprs.append(names[str(name)])
            if b.other is None and exprs[0] in leaves:
                out.append(Bound(exprs[0], b.op, b.value))
                continue
            quantity = exprs[0] - exprs[1] if b.other is not None else exprs[0]
            out.append(Bound(b.symbol, b.op, b.value, b.other, quantity))
        return Assumptions(out, self.sign_at)

    def bind(self, sign_at) -> "Assumptions":
        """The same bounds, with ``sign_at(expr, point)`` to check derived ones at points."""
        return Assumptions(list(self.bounds), sign_at)

    def holds(self, point: dict) -> bool:
        """Does ``point`` ({Symbol: value}) satisfy every bound on the symbols it has?
        A bound on a derived quantity is checked through :attr:`sign_at` (a point where
        its sign cannot be told does not satisfy it); without ``sign_at`` it is not
        checked here."""
        for b in self.bounds:
            if not b.derived:
                if b.symbol in point and not b.holds(point[b.symbol]):
                    return False
                continue
            if self.sign_at is None:
                continue
            expr = b.quantity if b.quantity is not None else b.symbol - b.other
            sign = self.sign_at(expr - sympy.Rational(b.value.numerator, b.value.denominator),
                                point)
            if sign is None or not b.sign_holds(sign):
                return False
        return True

    def strict_signs(self) -> dict:
        """Symbols (or, for bounds on derived quantities, the network's expressions) whose
        sign the bounds fix strictly (``x > 0``, ``w <= -1``, ``z1 > 0``, ``yhat > y``)."""
        out = {}
        for b in self.bounds:
            if b.derived and b.quantity is None:
                continue  # not resolved against a network: its expression is not known
            key = b.quantity if b.derived else b.symbol
            if (b.op == ">" and b.value >= 0) or (b.op == ">=" and b.value > 0):
                out[key] = 1
            elif (b.op == "<" and b.value <= 0) or (b.op == "<=" and b.value < 0):
                out[key] = -1
        return out

    def interval(self, symbol) -> tuple:
        """(low, high) with None for unbounded, strictness ignored (for sampling)."""
        lo = hi = None
        for b in self.bounds:
            if b.symbol != symbol or b.derived:
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
    if isinstance(item, str) and _RELATION.match(item):
        m = _RELATION.match(item)
        for name in (m.group(1), m.group(3)):
            if not valid_name(name):
                raise AssumptionError(f"{name!r} is not a valid name", text=item, position=0,
                                      hint="bound a quantity of the network")
        return Bound(sympy.Symbol(m.group(1)), _OPS[m.group(2)], Fraction(0),
                     sympy.Symbol(m.group(3)))
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
