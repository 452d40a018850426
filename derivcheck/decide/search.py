"""Real points: random ones, ones aimed at a sign pattern, and verified witnesses.

A *witness* is a point where the candidate and the true gradient are evaluated exactly
and differ. It is a counterexample (``not_equivalent``) when it lies inside the
assumptions and off the kink set: every gate argument there is nonzero, or zero on a
whole neighbourhood (a unit after a dead one), in which case the difference may depend
on Step(0) and the witness records the value used. Otherwise it is a kink point.

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.assumptions import Assumptions
>>> net = chain(["w1"], "relu")
>>> s = Sampler(net, net.definitions(), Assumptions.parse(["x > 0"]), seed=1)
>>> p = s.aim([(sympy.Symbol("z1"), -1)])
>>> s.value(sympy.Symbol("z1"), p) < 0
True
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy

from ..core.functions import IsNonNeg, IsPos, Step, decompose
from .evaluate import DEFAULT_DPS, PointEvaluator, Undetermined, UndefinedAt, _mpf, is_exact
from .verdict import Witness

__all__ = ["Sampler", "Found"]

_NICE = [Fraction(n, d) for d in (1, 2, 1, 4, 3) for n in range(-4, 5) if n]


_UNIT = [Fraction(0), Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(3, 4)]


def target_domain(net) -> tuple:
    """(kind, targets): where the loss's targets live: ``unit`` (bce: [0, 1]), ``one_hot``
    (cross-entropy: a distribution, one-hot preferred), or ``any``.

    >>> from derivcheck.core.network import chain
    >>> target_domain(chain(["w1"], "sigmoid", loss="bce"))
    ('unit', [y])
    """
    loss = getattr(net.spec, "loss", None)
    if loss == "bce":
        return "unit", list(net.targets)
    if loss == "cross_entropy":
        return "one_hot", list(net.targets)
    return "any", list(net.targets)


@dataclass
class Found:
    """The outcome of comparing both sides at a point."""

    witness: Witness
    on_kink: bool      # some live gate argument is exactly 0 there


class Sampler:
    """Points for one network and one pair of expressions."""

    def __init__(self, net, definitions: dict, assumptions, *, seed: int = 0):
        self.net = net
        self.definitions = definitions
        self.assumptions = assumptions
        self.leaves = list(dict.fromkeys(net.variables))
        self.rng = random.Random(seed)
        self._deps: dict = {}
        self._gates: dict = {}
        self.domain = target_domain(net)

    # -- points -------------------------------------------------------------------------
    def random_point(self, scale: int = 1) -> dict:
        """Small "nice" rationals inside the assumptions."""
        point = self._targets()
        for leaf in self.leaves:
            if leaf in point:
                continue
            lo, hi = self.assumptions.interval(leaf)
            v = self.rng.choice(_NICE) * scale
            if lo is not None and v <= lo:
                v = lo + abs(v)
            if hi is not None and v >= hi:
                v = hi - abs(v)
            if lo is not None and hi is not None and not lo < v < hi:
                v = lo + (hi - lo) * Fraction(self.rng.randint(1, 3), 4)  # both bounds
            point[leaf] = v
        return point

    def _targets(self) -> dict:
        """Targets inside the loss's domain, so counterexamples are believable: bce targets
        in [0, 1], cross-entropy targets one-hot. Empty for the other losses (any real)."""
        kind, targets = self.domain
        if kind == "unit":
            return {t: self.rng.choice(_UNIT) for t in targets
                    if self.assumptions.holds({t: Fraction(1, 2)})}
        if kind == "one_hot":
            hot = self.rng.randrange(len(targets))
            point = {t: Fraction(int(i == hot)) for i, t in enumerate(targets)}
            return point if self.assumptions.holds(point) else {}
        return {}

    def value(self, expr, point, step0=Fraction(0)):
        return PointEvaluator(self.definitions, point, step0=step0)(expr)

    def sign(self, expr, point) -> int:
        """The certified sign of ``expr`` at ``point``; Undetermined when rounding could
        hide it."""
        return PointEvaluator(self.definitions, point).sign(expr)

    def deps(self, expr) -> set:
        """Leaves ``expr`` depends on through the definitions."""
        out, stack, seen = set(), list(expr.free_symbols), set()
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            if s in self.definitions:
                stack.extend(self.definitions[s].free_symbols)
            else:
                out.add(s)
        return out

    def aim(self, targets, *, tries: int = 12, pinned: dict | None = None):
        """A point where each target ``(expr, sign)`` has that sign (+1, -1 or 0).

        Targets are met in order, each by solving for one leaf it depends on
        affinely, preferring leaves the earlier targets do not depend on. Leaves in
        ``pinned`` keep the given values (w2 = 0 turns the kink -b2 - w2 softplus(u) = 0,
        at an irrational b2, into b2 = 0).
        """
        pinned = pinned or {}
        earlier_deps = []
        for expr, _ in targets:
            earlier_deps.append(self.deps(expr) - set(pinned))
        for attempt in range(tries):
            point = {**self.random_point(scale=1 + attempt % 3), **pinned}
            if self.assumptions.holds(point) and self._meet(point, targets, earlier_deps):
                return point
        return None

    def _meet(self, point, targets, deps) -> bool:
        for i, (expr, want) in enumerate(targets):
            try:
                if self.sign(expr, point) == want:
                    continue
            except (Undetermined, UndefinedAt, ArithmeticError):
                return False
            before = set().union(*deps[:i]) if i else set()
            leaves = sorted(deps[i] - before, key=str) + sorted(deps[i] & before, key=str)
            if not any(self._solve(point, expr, want, v, targets[:i]) for v in leaves):
                return False
        return True

    def _solve(self, point, expr, want, leaf, done) -> bool:
        """Move ``leaf`` so that ``expr`` gets sign ``want``, keeping ``done`` intact."""
        old = point[leaf]
        try:
            g = []
            for t in (old, old + 1, old + 2):
                point[leaf] = t
                g.append(self.value(expr, point))
            point[leaf] = old
            if not all(is_exact(v) for v in g) or g[2] - g[1] != g[1] - g[0] or g[1] == g[0]:
                return False
            slope = g[1] - g[0]
            for magnitude in (Fraction(1), Fraction(1, 2), Fraction(3), Fraction(1, 8)):
                target = want * magnitude
                point[leaf] = old + (target - g[0]) / slope
                if self.assumptions.holds(point) and all(
                        self.sign(e, point) == w for e, w in done):
                    return True
            point[leaf] = old
            return False
        except (Undetermined, UndefinedAt, ArithmeticError):
            point[leaf] = old
            return False

    def sweep(self, wants: dict, *, tries: int = 3):
        """A point where each pre-activation node ``z`` in ``wants`` has sign
        ``wants[z]``, met in one forward pass (linear in depth): when a node has the
        wrong sign, one of its own affine leaves not used by any earlier node is solved
        for. Nodes that cannot be moved (the successor of a dead unit) are left as they
        are."""
        for attempt in range(tries):
            point = self.random_point(scale=1 + attempt % 3)
            ev = PointEvaluator(self.definitions, point)
            used: set = set()
            try:
                for node in self.net.graph.nodes:
                    want = wants.get(node.symbol)
                    if want is not None and node.linear:
                        self._sweep_node(ev, point, node, want, used)
                    used |= node.expr.free_symbols
            except (Undetermined, UndefinedAt, ArithmeticError):
                continue
            if self.assumptions.holds(point):
                return point
        return None

    def _sweep_node(self, ev, point, node, want, used) -> None:
        z = ev.symbol(node.symbol)
        try:
            if ev.sign(node.symbol) == want:
                return
        except Undetermined:
            pass  # too close to 0 to tell: move it where the sign is clear
        if not is_exact(z):  # a transcendental value: a close rational is enough for a sign
            z = Fraction(mpmath.nstr(z, 40, strip_zeros=False).replace(" ", ""))
        for leaf, coef in node.linear.items():
            if leaf not in point or leaf in used:
                continue
            c = ev(coef)
            if not is_exact(c) or c == 0:
                continue
            target = want * self.rng.choice(_NICE[4:8] or [Fraction(1)]).__abs__()
            new = point[leaf] + (target - z) / c
            trial = {**point, leaf: new}
            if not self.assumptions.holds(trial):
                continue
            point[leaf] = new
            ev.values[leaf] = new
            ev.values.pop(node.symbol, None)
            ev._memo.clear()
            ev.symbol(node.symbol)
            return

    # -- witnesses ----------------------------------------------------------------------
    def compare(self, point, reference, candidate, step0_values, zeros=None):
        """Compare both sides at ``point`` for each allowed Step(0); a :class:`Found` for
        the first difference, or None when they agree (or cannot be evaluated).
        ``zeros`` (gate argument -> bool) names the arguments proved exactly 0 there (a
        leaf solved for a kink at an irrational value)."""
        if not self.assumptions.holds(point):
            return None
        for c in step0_values:
            ev = PointEvaluator(self.definitions, point, step0=c, zeros=zeros)
            try:
                r, k = ev(reference), ev(candidate)
                er, ek = ev.error(reference), ev.error(candidate)
            except (Undetermined, UndefinedAt, ArithmeticError):
                return None
            if not (_differ(r, k, er, ek) or ev.apart(reference, candidate)) or \
                    not self._confirmed(point, c, reference, candidate, zeros):
                continue
            # every inexact gate value was certified nonzero: only exact zeros are kinks
            zeros = list(dict.fromkeys(g for g, v in ev.gate_values if is_exact(v) and v == 0))
            zeros += self._unmet_zeros(ev, reference, candidate)
            live = self.live(point, zeros)
            depends = bool(zeros) and len(step0_values) > 1
            names = {str(s): v for s, v in point.items()}
            dead = [str(g) for g in zeros if g not in live]
            return Found(Witness(names, k, r, step0=c if depends or live else None,
                                 dead=dead if not live else []),
                         on_kink=bool(live))
        return None

    def _unmet_zeros(self, ev, reference, candidate) -> list:
        """Gate arguments the evaluation skipped (a factor after an exact 0: relu(w1 x) is
        w1 x Step(w1 x), and Step is not reached at w1 x = 0) that are 0, or too close to
        0 to tell, at the point: a kink there is a kink all the same, and the unit after
        it is dead on one side of it only."""
        met = {g for g, _ in ev.gate_values}
        out = []
        for g in self.gate_arguments(reference, candidate):
            if g in met:
                continue
            try:
                if ev.sign(g) == 0:
                    out.append(g)
            except Undetermined:
                out.append(g)
            except (UndefinedAt, ArithmeticError, KeyError):
                continue
        return out

    def gate_arguments(self, *exprs) -> list:
        """Every gate argument in ``exprs`` and the definitions they use, decomposed."""
        key = tuple(exprs)
        if key not in self._gates:
            out, stack, seen = [], [decompose(e) for e in exprs], set()
            while stack:
                e = stack.pop()
                if e in seen:
                    continue
                seen.add(e)
                if e.is_Symbol and e in self.definitions:
                    stack.append(decompose(self.definitions[e]))
                elif e.func in (Step, IsPos, IsNonNeg):
                    out.append(e.args[0])
                stack.extend(e.args)
            self._gates[key] = list(dict.fromkeys(out))
        return self._gates[key]

    def _confirmed(self, point, c, reference, candidate, zeros=None) -> bool:
        """A difference holds at three times the precision too: a second, independent
        evaluation, on top of the error bounds."""
        ev = PointEvaluator(self.definitions, point, step0=c, dps=3 * DEFAULT_DPS,
                            zeros=zeros)
        try:
            return _differ(ev(reference), ev(candidate), ev.error(reference),
                           ev.error(candidate)) or ev.apart(reference, candidate)
        except (Undetermined, UndefinedAt, ArithmeticError):
            return False

    def live(self, point, gates) -> list:
        """The gates among ``gates`` (all zero at ``point``) that are not zero on a whole
        neighbourhood: zero at two random nearby points means dead (the successor of a
        dead unit is exactly 0 there), nonzero at either means a real kink. A gate
        whose neighbourhood cannot be sampled inside the assumptions counts as live:
        a difference on it is then a kink point, never a counterexample."""
        out = []
        if not gates:
            return out
        for _ in range(2):
            moved = self._nearby(point)
            if moved is None:
                return list(gates)
            ev = PointEvaluator(self.definitions, moved)
            for g in gates:
                try:
                    if g not in out and ev.sign(g) != 0:
                        out.append(g)
                except (Undetermined, UndefinedAt, ArithmeticError):
                    out.append(g)
        return out

    def _nearby(self, point, tries: int = 4):
        """``point`` with every leaf moved by its own relative amount below 1e-9 (all
        different: moved by one common factor, b2 + w2 = 0 at b2 = 2, w2 = -2 stays 0
        and a live kink looked dead); None when no such point meets the assumptions."""
        for _ in range(tries):
            steps = self.rng.sample(range(1, 10**6), len(point))
            moved = {}
            for (leaf, v), k in zip(point.items(), steps):
                delta = Fraction(self.rng.choice((-1, 1)) * k, 10**15)
                moved[leaf] = (v * (1 + delta) if not isinstance(v, sympy.Basic)
                               else v * sympy.Rational(1 + delta)) if v else delta
            if self.assumptions.holds(moved):
                return moved
        return None


def _differ(a, b, ea: float = 0.0, eb: float = 0.0) -> bool:
    """Do two values differ, beyond their relative error bounds ``ea``, ``eb`` and
    beyond the 25th significant digit? Exact values exactly. The comparison runs at
    the evaluators' precision: at mpmath's default 15 digits, 13/9 and its 60-digit value
    differed.

    >>> from fractions import Fraction
    >>> _differ(Fraction(13, 9), mpmath.mpf(13) / 9), _differ(Fraction(1, 3), Fraction(1, 3))
    (True, False)
    >>> with mpmath.workdps(60):
    ...     v = mpmath.mpf(13) / 9
    >>> _differ(Fraction(13, 9), v, 0.0, 1e-59)
    False
    >>> _differ(Fraction(1), v, 0.0, 0.5), _differ(Fraction(1), v, 0.0, 1e-59)
    (False, True)
    """
    if is_exact(a) and is_exact(b):
        return a != b
    if math.inf in (ea, eb):
        return False  # one side has no certain digit
    with mpmath.workdps(DEFAULT_DPS):
        a, b = _mpf(a), _mpf(b)
        scale = max(mpmath.mpf(1), abs(a), abs(b))
        bound = 2 * (abs(a) * ea + abs(b) * eb)
        return abs(a - b) > max(scale * mpmath.mpf(10) ** -25, bound)
