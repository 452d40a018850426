"""Gates in the formal evaluation: classes of arguments equal up to a positive factor.

Each gate ``Step(g)``, ``[g > 0]``, ``[g >= 0]`` is named by the projective fingerprint
of its argument with sign-definite factors taken out, so ``Step(w x)``, ``Step(-w x)``
and ``Step(3 w x)`` fall in one class with an orientation. In ``free`` mode a gate is an
atom; in ``offkink`` mode it is a 0/1 variable (fixed by the region's pattern or free).
:class:`Gates` is that part of :class:`derivcheck.decide.formal.FormalEvaluator`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.functions import IsNonNeg, IsPos, Step
from .evaluate import _decomposed
from .residues import P, projective, rational_reconstruct

__all__ = ["GateInfo", "Gates"]


@dataclass
class GateInfo:
    """One class of gate arguments equal up to a positive constant factor."""

    key: tuple                 # projective fingerprint
    rep: tuple                 # residues of the representative argument
    expr: sympy.Expr           # the representative argument (real expression)
    order: int                 # discovery order (inner gates first)
    dead: bool = False         # argument is identically zero

    def orientation(self, lead: int) -> int | None:
        """+1 or -1: the sign of the constant ratio of an argument in this class, whose
        first nonzero residue is ``lead``, to the representative; None when the ratio is
        too large to identify."""
        first = next(x for x in self.rep if x)
        rr = rational_reconstruct(lead * pow(first, -1, P) % P)
        if rr is None:
            return None
        return 1 if rr[0] > 0 else -1



class Gates:
    """Gate classes for the formal evaluator (it provides ``mode``, ``pattern``,
    ``c_value``, ``keyer``, ``gates``, ``free_gates``, ``_idempotent``, ``_stripped``,
    ``_random`` and ``_const``)."""

    def _gate(self, f, arg) -> tuple:
        value, complement = self._gate_value(f, arg)
        if complement is not False:  # a 0/1 value: s^2 = s, and s (1 - s) = 0
            self._idempotent[value] = complement
        return value

    def _gate_value(self, f, arg):
        """(residues, complement): the complement's residues when the gate is 0/1-valued
        wherever this evaluation speaks (None when no complement is known), False when it
        may take Step(0) = c with c^2 != c."""
        sign, v = self._stripped(arg)
        if all(x == 0 for x in v):
            value = self._kink_value(f)
            return value, (None if value in (self._const(0), self._const(1)) else False)
        if len(set(v)) == 1:  # a constant argument (e.g. only factors of known sign)
            rr = rational_reconstruct(v[0])
            if rr is not None:
                return self._const(int(sign * rr[0] > 0)), None
        if self.mode == "free" and f is Step and self.c_value in (0, 1):
            f = IsPos if self.c_value == 0 else IsNonNeg  # Step(0) = c fixed
        zero_one = self.mode != "free" or f is not Step  # off the kinks, or an Iverson bracket
        classified = (self.keyer or self).classify(arg, sign, v) if self.keyer is None \
            else self.keyer.classify(arg, *self.keyer._stripped(arg))
        if classified is None:  # proportional by an unknown constant: keep it apart
            return self._random(("gate-apart", f.__name__, v, sign)), (None if zero_one
                                                                     else False)
        key, positive = classified
        if self.mode == "free":
            return self._random(("gate", f.__name__, key, positive)), (None if zero_one
                                                                      else False)
        s = self.pattern.get(key)
        if s is None:
            if key not in self.free_gates:
                self.free_gates.append(key)
            s_val = self._random(("s", key))
        else:
            s_val = self._const(s)
        other = tuple((1 - x) % P for x in s_val)
        self._idempotent[other if positive else s_val] = s_val if positive else other
        return (s_val, other) if positive else (other, s_val)

    def classify(self, arg, sign, v):
        """(gate key, orientation) of an argument with stripped value ``v``; registers
        a new gate class on first sight. None when proportional to a known class by a
        constant too large to identify."""
        if all(x == 0 for x in v):
            return None
        key, lead = projective(v)
        info = self.gates.get(key)
        if info is None:
            info = GateInfo(key, v, sign * arg, len(self.gates))
            self.gates[key] = info
        orientation = info.orientation(lead)
        if orientation is None:
            return None
        return key, orientation * sign > 0

    def gate_of(self, expr):
        """(gate key, orientation) of the gate class met so far that ``expr`` is a
        nonzero constant multiple of (factors of known strict sign taken out):
        orientation +1 when ``expr`` points the way of the class's representative, -1
        when it points the other way. None when ``expr`` is identically 0, belongs to no
        class met so far, or is proportional to one by a constant too large to identify.

        >>> from derivcheck.core.functions import ReLU
        >>> from derivcheck.decide.formal import FormalEvaluator
        >>> w, x = sympy.symbols("w x")
        >>> fe = FormalEvaluator({}, mode="offkink", signs={x: 1})
        >>> _ = fe.value(Step(w * x))
        >>> [fe.gate_of(e)[1] for e in (w, -3 * w * x, w * x / 2)]
        [1, -1, 1]
        >>> fe.gate_of(x - w) is None, fe.gate_of(ReLU(w) - ReLU(-w)) == fe.gate_of(w)
        (True, True)
        """
        sign, v = self._stripped(_decomposed(expr))
        if all(x == 0 for x in v):
            return None
        key, lead = projective(v)
        info = self.gates.get(key)
        orientation = info.orientation(lead) if info is not None else None
        if orientation is None:
            return None
        return key, sign * orientation

    def _kink_value(self, f) -> tuple:
        if f is IsPos:
            return self._const(0)
        if f is IsNonNeg:
            return self._const(1)
        if self.c_value is None:
            return self._random(("c",))
        return self._const(self.c_value)

