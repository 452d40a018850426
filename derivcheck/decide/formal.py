"""Formal evaluation: expressions as rational functions, tested modulo a large prime.

Every gate ``Step(g)``, Iverson bracket and transcendental function value becomes an
*atom*: a fresh random variable chosen by the fingerprint of its argument (the
argument's values at the evaluation points). Two expressions whose values agree at
K random points modulo the prime P = 2^61 - 1 are, with probability at least
1 - (d/P)^K (Schwartz-Zippel; d bounds the degrees), the same rational function of
the leaves and the atoms, and therefore equal at every point where the atoms take
their real values.

Modes:

* ``free``: ``Step(g)``, ``Step(-g)``, ``[g > 0]``, ``[g >= 0]``... are independent
  atoms, and ``Step(0)`` is an atom ``c``. Identity here means equality at every
  point, kinks included, for every value of Step(0).
* ``offkink``: each gate class has one 0/1 variable s (``Step(-g) = 1 - s``,
  ``[g > 0] = [g >= 0] = s``), optionally fixed by ``pattern`` (gate key -> 0/1).
  Identity here means equality off the kinks on the pattern's region.

>>> from sympy import symbols
>>> from derivcheck.core.functions import ReLU, Step
>>> w, x = symbols("w x")
>>> fe = FormalEvaluator({}, mode="free")
>>> fe.value(ReLU(w * x)) == fe.value(w * x * Step(x * w))
True
>>> fe.value(ReLU(w * x)) == fe.value(w * x * Step(-w * x))
False
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import sympy

from ..core.functions import IsNonNeg, IsPos, Step
from ..core.primitives import primitive_of
from .evaluate import _decomposed
from .exponentials import Exponentials
from .gates import GateInfo, Gates
from .residues import K, P, rational_reconstruct
from .signs import SignFactors

__all__ = ["P", "K", "FormalEvaluator", "GateInfo", "rational_reconstruct"]


@dataclass
class FormalEvaluator(Gates, Exponentials, SignFactors):
    """Evaluate expressions formally at K random points modulo P."""

    definitions: dict
    mode: str = "free"
    pattern: dict = field(default_factory=dict)
    c_value: object = None        # fixed Step(0) (int residue) or None for an atom
    signs: dict = field(default_factory=dict)  # symbol -> +1/-1 known strict sign
    seed: int = 1
    keyer: "FormalEvaluator | None" = None  # names gates independently of the pattern
    registry: dict | None = None  # gate classes shared by evaluators that must agree
    known: dict | None = None     # values of symbols already evaluated elsewhere
    overrides: dict | None = None  # leaf symbol -> residues to use instead of random ones
    structural: bool = True       # take out factors positive by structure (exp, sigmoid)

    def __post_init__(self):
        self._values: dict = dict(self.known or {})
        self._exp_classes: dict = {}
        self._stripped_memo: dict = {}
        self._memo: dict = {}
        # key -> GateInfo; shared through ``registry`` so that a gate's orientation
        # (which of Step(g), Step(-g) is "s") is the same in every evaluator of a search
        self.gates: dict = self.registry if self.registry is not None else {}
        self._atoms: dict = {}
        self.free_gates: list = []   # keys met that the pattern does not fix
        self._idempotent: dict = {}  # 0/1 gate values -> their complements (or None)
        self.degree = 1              # running bound on degrees seen

    # -- atoms and leaves -------------------------------------------------------------
    def _random(self, tag) -> tuple:
        """K residues fixed by (seed, tag): the same atom gets the same value in every
        evaluator, whatever order it is met in."""
        if tag not in self._atoms:
            digest = hashlib.blake2b(repr((self.seed, tag)).encode(), digest_size=8 * K).digest()
            self._atoms[tag] = tuple(2 + int.from_bytes(digest[8 * i: 8 * i + 8], "big") % (P - 3)
                                     for i in range(K))
        return self._atoms[tag]

    def _const(self, n: int) -> tuple:
        return (n % P,) * K

    def symbol(self, s):
        if s in self._values:
            return self._values[s]
        if s not in self.definitions:
            if self.overrides and s in self.overrides:
                return self.overrides[s]
            return self._random(("leaf", s.name))
        pending = [s]
        while pending:
            top = pending[-1]
            missing = [d for d in _symbols_of(self.definitions[top])
                       if d not in self._values and d in self.definitions]
            if missing:
                pending.extend(missing)
                continue
            pending.pop()
            if top not in self._values:
                self._values[top] = self._eval(_decomposed(self.definitions[top]))
        return self._values[s]

    def value(self, expr) -> tuple:
        """The K residues of ``expr``."""
        return self._eval(_decomposed(expr))

    # -- evaluation ---------------------------------------------------------------------
    def _eval(self, e) -> tuple:
        if e.is_Symbol:
            return self.symbol(e)
        if e.is_Integer:
            return self._const(int(e))
        if e.is_Rational:
            return self._const(int(e.p) * pow(int(e.q), -1, P))
        if e.is_Float:
            r = sympy.Rational(str(e))
            return self._const(int(r.p) * pow(int(r.q), -1, P))
        if e in self._memo:
            return self._memo[e]
        out = self._compound(e)
        self._memo[e] = out
        return out

    def _compound(self, e) -> tuple:
        if e.is_Add:
            acc = [0] * K
            for a in e.args:
                v = self._eval(a)
                acc = [(p + q) % P for p, q in zip(acc, v)]
            return tuple(acc)
        if e.is_Mul:
            acc, gates = [1] * K, set()
            for a in e.args:
                v = self._eval(a)
                if v in self._idempotent:  # a 0/1 gate value: s s = s, s (1 - s) = 0
                    if self._idempotent[v] in gates:
                        return self._const(0)
                    if v in gates:
                        continue
                    gates.add(v)
                acc = [(p * q) % P for p, q in zip(acc, v)]
            return tuple(acc)
        if e.is_Pow:
            base, ex = e.args
            if ex.is_Integer:
                n = int(ex)
                b = self._eval(base)
                if n >= 1 and b in self._idempotent:
                    return b
                self.degree = max(self.degree, abs(n))
                if n < 0 and 0 in b:
                    raise ZeroDivisionError("a denominator vanished at a random point")
                return tuple(pow(v, n, P) for v in b)
            return self._random(("pow", self._eval(base), self._eval(ex)))
        f = e.func
        if f in (Step, IsPos, IsNonNeg):
            return self._gate(f, e.args[0])
        if f is sympy.exp:
            return self._exp(e.args[0])
        primitive = primitive_of(f)
        if primitive is not None and primitive.exp_form is not None:
            return self._hyperbolic(primitive.exp_form, e.args[0])
        return self._random((f.__name__,) + tuple(self._eval(a) for a in e.args))


@lru_cache(maxsize=200_000)
def _symbols_of(expr) -> tuple:
    return tuple(_decomposed(expr).free_symbols)
