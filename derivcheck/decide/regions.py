"""Exact questions about regions, answered by an SMT solver (z3, nonlinear real arithmetic).

Piecewise-polynomial networks (ReLU, leaky ReLU, abs, hardtanh, identity) make every
question the decision procedure asks a sentence of the existential theory of the reals:
*is there a point inside the assumptions, with these gate arguments of these signs, where
the two formulas differ?* :class:`RegionSolver` writes both formulas, through the
network's definitions, as z3 terms: ``Step(u)`` is ``If(u > 0, 1, If(u < 0, 0, c))``
with ``c`` the Step(0) of the convention (one of its allowed values), ``[u > 0]`` and
``[u >= 0]`` exactly.

Transcendental values (``exp``, ``log``, ``erf``...) are *abstracted*: each distinct
argument gets a fresh real with what is certainly true of it (``exp(u) > 0``, ``exp(u) = 1``
where ``u = 0``, ``-1 < erf(u) < 1``). The abstraction only adds points, so ``unsat``
(no point) stays a proof; a point it returns is a candidate that the caller re-checks by
exact evaluation, and nothing is concluded from a point that fails that check.

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.assumptions import Assumptions
>>> from derivcheck.core.functions import Step
>>> net = chain(["w1"], "relu")
>>> w1, x = sympy.symbols("w1 x")
>>> rs = RegionSolver(net.definitions(), Assumptions.parse(["x > 0"]), [0, 1])
>>> rs.search([(w1 * x, 1), (w1, -1)], Step(w1 * x), Step(w1)).status
'empty'
>>> found = rs.search([], Step(w1 * x), Step(w1 - 1))
>>> found.status, sorted(map(str, found.point))
('point', ['w1', 'x'])
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from ..core.functions import IsNonNeg, IsPos, Step
from ..core.primitives import primitive_of
from .evaluate import _decomposed

try:  # z3-solver is a dependency; without it (a stripped install) nothing is claimed
    import z3
except ImportError:  # pragma: no cover - exercised only without the dependency
    z3 = None

__all__ = ["RegionSolver", "SmtAnswer", "available"]

#: Abstracted exponentials related pairwise by monotonicity (quadratic in their number).
MAX_MONOTONE = 12
#: Questions with more abstracted transcendental values than this are not asked.
MAX_ABSTRACTED = 40


def available() -> bool:
    """Is the SMT solver installed?

    >>> available()
    True
    """
    return z3 is not None


@dataclass
class SmtAnswer:
    """``empty`` (proved: no such point), ``point`` (a candidate point, exact rationals,
    to be re-checked), or ``unknown`` (timeout, or the solver gave up). ``points`` holds
    the candidate and rational approximations of it at increasing precision when the
    solver's point is irrational."""

    status: str
    points: list = field(default_factory=list)
    abstracted: bool = False  # some transcendental value was replaced by a free real

    @property
    def point(self) -> dict | None:
        return self.points[0] if self.points else None


class RegionSolver:
    """z3 terms for one network's definitions, the assumptions and Step(0)'s values."""

    def __init__(self, definitions: dict, assumptions, step0_values, domain=("any", [])):
        self.definitions = definitions
        self.domain = domain
        self.assumptions = assumptions
        self.step0_values = [Fraction(v) if not isinstance(v, sympy.Basic) else
                             Fraction(int(v.p), int(v.q)) for v in step0_values]
        self._memo: dict = {}
        self._leaves: dict = {}
        self._side: list = []        # facts about abstracted values
        self._exps: list = []        # (argument, value) of each abstracted exp
        self.abstracted = False
        self.c = z3.Real("step0") if z3 else None

    # -- translation -----------------------------------------------------------------------
    def term(self, expr):
        """The z3 term of ``expr`` (definitions followed, shared: linear in their size)."""
        return self._term(_decomposed(expr))

    def _term(self, e):
        if e.is_Symbol:
            if e in self._memo:
                return self._memo[e]
            if e in self.definitions:
                out = self._term(_decomposed(self.definitions[e]))
            else:
                out = self._leaves.setdefault(e, z3.Real(e.name))
            self._memo[e] = out
            return out
        if e.is_Rational:
            return z3.RealVal(f"{e.p}/{e.q}")
        if e.is_Float:
            r = sympy.Rational(str(e))
            return z3.RealVal(f"{r.p}/{r.q}")
        if e in self._memo:
            return self._memo[e]
        out = self._compound(e)
        self._memo[e] = out
        return out

    def _compound(self, e):
        if e.is_Add:
            return z3.Sum([self._term(a) for a in e.args])
        if e.is_Mul:
            return z3.Product([self._term(a) for a in e.args])
        if e.is_Pow and e.exp.is_Integer:
            n = int(e.exp)
            base = self._term(e.base)
            if n == 0:
                return z3.RealVal(1)
            power = base if abs(n) == 1 else base ** abs(n)
            return power if n > 0 else 1 / power
        f = e.func
        if f is Step:
            u = self._term(e.args[0])
            return z3.If(u > 0, z3.RealVal(1), z3.If(u < 0, z3.RealVal(0), self.c))
        if f is IsPos:
            return z3.If(self._term(e.args[0]) > 0, z3.RealVal(1), z3.RealVal(0))
        if f is IsNonNeg:
            return z3.If(self._term(e.args[0]) >= 0, z3.RealVal(1), z3.RealVal(0))
        if f is sympy.exp:
            return self._exp(e.args[0])
        primitive = primitive_of(f) if isinstance(f, type) else None
        form = primitive.exp_form if primitive is not None else None
        if form is not None:
            u = self._exp(e.args[0])
            num, den = (z3.Sum([c * u ** i if i else z3.RealVal(c) for i, c in enumerate(cs)
                                if c]) for cs in form)
            return num / den
        return self._abstract(e)

    def _exp(self, arg):
        """exp(u) as a fresh real: positive, 1 at u = 0, above 1 + u, and increasing in u
        (so equal where the arguments are equal, however they are written)."""
        u = z3.simplify(self._term(arg))
        key = ("exp", u.sexpr())
        if key not in self._memo:
            v = self._fresh()
            self._side += [v > 0, z3.Implies(u == 0, v == 1), z3.Implies(u > 0, v > 1),
                           z3.Implies(u < 0, v < 1), v >= 1 + u]
            for u2, v2 in self._exps[:MAX_MONOTONE]:
                self._side += [z3.Implies(u == u2, v == v2), z3.Implies(u < u2, v < v2),
                               z3.Implies(u > u2, v > v2)]
            self._exps.append((u, v))
            self._memo[key] = v
        return self._memo[key]

    def _abstract(self, e):
        """A fresh real for ``e``, one per function and argument *value* (the network's
        ``softplus(z1)`` and a candidate's ``softplus(w1*x)`` are one real), with what is
        certainly true of it."""
        args = [z3.simplify(self._term(a)) for a in e.args]
        key = ("abstract", e.func, tuple(a.sexpr() for a in args))
        if key in self._memo:
            return self._memo[key]
        v = self._memo[key] = self._fresh()
        if e.func is sympy.erf:
            self._side += [v > -1, v < 1]
        elif e.func is sympy.log:
            u = args[0]
            self._side += [z3.Implies(u == 1, v == 0), z3.Implies(u > 1, v > 0),
                           z3.Implies(z3.And(u > 0, u < 1), v < 0)]
        return v

    def _fresh(self):
        self.abstracted = True
        return z3.FreshReal("t")

    # -- questions ---------------------------------------------------------------------------
    def search(self, targets, reference, candidate, *, timeout: float = 5.0,
               pinned: dict | None = None) -> SmtAnswer:
        """A point where every ``(expr, sign)`` of ``targets`` has that sign (+1, -1, 0)
        and ``reference`` differs from ``candidate`` for some allowed Step(0), inside the
        assumptions, with the leaves of ``pinned`` at their values (substituted, so the
        question shrinks); ``empty`` when there is none (a proof)."""
        if z3 is None or timeout <= 0:
            return SmtAnswer("unknown")
        try:
            facts = [self._signed(t, s) for t, s in targets]
            facts.append(self.term(reference) != self.term(candidate))
        except (TypeError, ValueError, z3.Z3Exception, RecursionError):
            return SmtAnswer("unknown")  # something z3 cannot express
        if len(self._exps) > MAX_ABSTRACTED:
            return SmtAnswer("unknown", abstracted=True)
        facts += [*self._side, *self._bounds(),
                  z3.Or([self.c == _real(v) for v in self.step0_values])]
        pinned = {k: Fraction(v) for k, v in (pinned or {}).items()}
        if pinned:
            pairs = [(self._leaves.setdefault(k, z3.Real(k.name)), _real(v))
                     for k, v in pinned.items()]
            facts = [z3.simplify(z3.substitute(f, *pairs)) for f in facts]
        solver = z3.SolverFor("QF_NRA") if not self.abstracted else z3.Solver()
        solver.set("timeout", max(1, int(timeout * 1000)))
        solver.add(*facts)
        started = time.monotonic()
        preferred = self._domain()
        if preferred:  # a point inside the loss's domain first: believable
            solver.push()
            solver.add(*preferred)
            if _check(solver, timeout) == z3.sat:
                return SmtAnswer("point", self._points(solver.model(), pinned),
                                 self.abstracted)
            solver.pop()
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                return SmtAnswer("unknown", abstracted=self.abstracted)
            solver.set("timeout", max(1, int(left * 1000)))
        result = _check(solver, timeout - (time.monotonic() - started))
        if result == z3.unsat:
            return SmtAnswer("empty", abstracted=self.abstracted)
        if result != z3.sat or time.monotonic() - started > timeout:
            return SmtAnswer("unknown", abstracted=self.abstracted)
        return SmtAnswer("point", self._points(solver.model(), pinned), self.abstracted)

    def _domain(self) -> list:
        """The loss's domain for its targets (bce: [0, 1]; cross-entropy: a distribution)."""
        kind, targets = self.domain
        if kind == "any" or not targets:
            return []
        ts = [self._leaves.setdefault(t, z3.Real(t.name)) for t in targets]
        out = [z3.And(t >= 0, t <= 1) for t in ts]
        return out + ([z3.Sum(ts) == 1] if kind == "one_hot" else [])

    def _signed(self, expr, sign):
        t = self.term(expr)
        return t > 0 if sign > 0 else t < 0 if sign < 0 else t == 0

    def _bounds(self) -> list:
        out = []
        for b in self.assumptions.bounds:
            v = self._leaves.setdefault(b.symbol, z3.Real(b.symbol.name))
            out.append({">": v > _real(b.value), ">=": v >= _real(b.value),
                        "<": v < _real(b.value), "<=": v <= _real(b.value)}[b.op])
        return out

    def _points(self, model, pinned=None) -> list:
        """The model's leaves as Fractions: exact when rational, else approximations at
        10, 20 and 40 digits (an open region keeps its points under small moves)."""
        exact, approx = dict(pinned or {}), []
        irrational = {}
        for leaf, v in self._leaves.items():
            if leaf in exact:
                continue
            val = model.eval(v, model_completion=True)
            if z3.is_rational_value(val):
                exact[leaf] = Fraction(val.numerator_as_long(), val.denominator_as_long())
            else:
                irrational[leaf] = val
        if not irrational:
            return [exact]
        for digits in (10, 20, 40):
            point = dict(exact)
            for leaf, val in irrational.items():
                a = val.approx(digits)
                point[leaf] = Fraction(a.numerator_as_long(), a.denominator_as_long())
            approx.append(point)
        return approx


def _check(solver, seconds: float):
    """``solver.check()`` stopped after ``seconds`` whatever it is doing (z3's own timeout
    is not honoured inside every tactic): interrupted from a timer thread, it answers
    unknown."""
    if seconds <= 0:
        return z3.unknown
    timer = threading.Timer(seconds, solver.ctx.interrupt)
    timer.start()
    try:
        return solver.check()
    except z3.Z3Exception:
        return z3.unknown
    finally:
        timer.cancel()


def _real(v: Fraction):
    return z3.RealVal(f"{v.numerator}/{v.denominator}")
