"""Kink witnesses at irrational points: a leaf solved exactly for the kink.

A kink such as ``w3 tanh(u) - 1 = 0`` or ``b2 + w2 softplus(u) = 0`` holds at no rational
point where the unit is live, so no rational witness shows a difference that exists only
there (through Step(0)). Its argument is affine in some leaf (``w3``, ``b2``): with every
other leaf rational, that leaf's exact value is a SymPy number (``1/tanh(u0)``), and

* the kink's argument is 0 there *by construction*: it is ``slope * leaf + rest``, an
  identity checked symbolically, with ``slope`` certified nonzero at the point;
* any other gate argument is proved 0 there only when it is ``q / d`` times the kink's
  argument as polynomials in the leaves and function values (checked by expansion) with
  ``d`` certified nonzero at the point; every other sign is certified by ball arithmetic,
  or the point is not used;
* the two sides are compared with rigorous error bounds (python-flint ``arb``), at
  the usual and at three times the precision.

Nothing is concluded from a rounded value: a gate whose argument's ball holds 0 and is
not proved 0 makes the point unusable.

>>> x, w = sympy.symbols("x w")
>>> affine_split(w * sympy.tanh(x) - 1, w)
(tanh(x), -1)
>>> affine_split(sympy.tanh(w * x) - 1, w) is None
True
"""
from __future__ import annotations

import sympy

from .evaluate import PointEvaluator, Undetermined, UndefinedAt, _decomposed
from .outcome import Outcome

__all__ = ["IrrationalKinks", "affine_split", "expanded", "KinkProof"]

#: Random base points tried per (kink, leaf).
IRRATIONAL_TRIES = 6
#: Leaves tried per kink.
MAX_LEAVES = 4


def expanded(expr, definitions: dict):
    """``expr`` with every defined name replaced down to the leaves, decomposed (the
    primitives written in Step, exp and log); None when the definitions do not bottom
    out.

    >>> a, z, w, x = sympy.symbols("a z w x")
    >>> expanded(a + 1, {a: w * z, z: x})
    w*x + 1
    """
    out = expr
    for _ in range(64):
        new = out.xreplace(definitions)
        if new == out:
            return _decomposed(out)
        out = new
    return None


def affine_split(full, leaf, deep: bool = True):
    """(slope, rest) with ``full = slope * leaf + rest`` identically and neither depending
    on ``leaf``; None when ``full`` is not affine in ``leaf`` (it occurs inside a
    function, squared, or in a denominator) or does not depend on it. The terms of
    ``full`` with its products distributed (inside function arguments too when
    ``deep``) are regrouped, exactly.

    >>> w, x = sympy.symbols("w x")
    >>> affine_split(x * (w + 1) / (1 + sympy.exp(x)), w)
    (x/(exp(x) + 1), x/(exp(x) + 1))
    >>> affine_split(w / (1 + w), w) is None
    True
    """
    if leaf not in full.free_symbols:
        return None
    slope, rest = [], []
    for term in sympy.Add.make_args(sympy.expand_mul(full, deep=deep)):
        if leaf not in term.free_symbols:
            rest.append(term)
            continue
        coefficient, part = term.as_independent(leaf, as_Add=False)
        if part != leaf:
            return None
        slope.append(coefficient)
    slope = sympy.Add(*slope)
    if slope == 0:
        return None
    return slope, sympy.Add(*rest)


class KinkProof:
    """Which gate arguments are exactly 0 at a point where ``leaf`` was solved for the
    kink ``target`` (its expansion ``full``): called with a gate argument, True only when
    that is proved.

    >>> w, x = sympy.symbols("w x")
    >>> point = {x: sympy.Rational(1, 2), w: 1 / sympy.tanh(sympy.Rational(1, 2))}
    >>> proof = KinkProof({}, w * sympy.tanh(x) - 1, point)
    >>> proof(1 - w * sympy.tanh(x)), proof(2 * w * sympy.tanh(x) - 2), proof(w - 1)
    (True, True, False)
    """

    def __init__(self, definitions: dict, full, point: dict):
        self.definitions = definitions
        self.full = full
        self.point = point
        self._memo: dict = {}

    def __call__(self, argument) -> bool:
        if argument not in self._memo:
            self._memo[argument] = self._proved(argument)
        return self._memo[argument]

    def _proved(self, argument) -> bool:
        g = expanded(argument, self.definitions)
        if g is None:
            return False
        if g == self.full or g == -self.full:
            return True
        try:
            num, den = sympy.fraction(sympy.cancel(g / self.full))
            if sympy.expand(g * den - num * self.full) != 0:
                return False  # not an identity as polynomials in leaves and functions
            ev = PointEvaluator({}, {s: v for s, v in self.point.items()
                                     if s in den.free_symbols})
            return ev.sign(den) != 0
        except (Undetermined, UndefinedAt, ArithmeticError, sympy.PolynomialError,
                KeyError, TypeError):
            return False


class IrrationalKinks:
    """The irrational-kink step of :class:`derivcheck.decide.equivalence.Procedure` (it
    provides ``defs``, ``sampler``, ``assumptions``, ``reference``, ``candidate``,
    ``step0_values`` and ``timed_out``)."""

    def irrational_kink(self, target) -> Outcome:
        """A kink witness on ``target = 0`` with one leaf at its exact irrational value
        (or nothing): the sides differ there under some allowed Step(0), the kink proved
        exactly, the values certified."""
        full = expanded(target, self.defs)
        if full is None:
            return Outcome()
        leaves = [s for s in sorted(self.sampler.deps(target), key=str)
                  if self.assumptions.interval(s) == (None, None)]
        tried = 0
        for leaf in leaves:
            split = affine_split(full, leaf)
            if split is None:
                continue
            tried += 1
            if tried > MAX_LEAVES:
                break
            for attempt in range(IRRATIONAL_TRIES):
                if self.timed_out():
                    return Outcome()
                found = self._solved_kink(full, leaf, split, attempt)
                if found is not None:
                    return Outcome(kink=found.witness, note=(
                        f"the kink point's {leaf} is the exact root of the kink's argument "
                        "(irrational): that argument is 0 there by construction, and the "
                        "values are certified by ball arithmetic"))
        return Outcome()

    def _solved_kink(self, full, leaf, split, attempt):
        """Found (on a kink) at a random point with ``leaf`` solved for ``full = 0``."""
        base = self.sampler.random_point(scale=1 + attempt % 3)
        exact = {s: sympy.Rational(v.numerator, v.denominator) for s, v in base.items()
                 if s != leaf}
        slope, rest = (e.xreplace(exact) for e in split)
        if slope.free_symbols or rest.free_symbols:
            return None
        try:
            if PointEvaluator({}, {}).sign(slope) == 0:
                return None
        except (Undetermined, UndefinedAt, ArithmeticError):
            return None
        root = -rest / slope
        if root.is_Rational:
            return None  # a rational kink point: the aimed search covers those
        point = {**base, leaf: root}
        proof = KinkProof(self.defs, full, {**exact, leaf: root})
        found = self.sampler.compare(point, self.reference, self.candidate,
                                     self.step0_values, zeros=proof)
        return found if found is not None and found.on_kink else None
