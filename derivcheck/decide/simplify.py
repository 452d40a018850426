"""Counterexamples people check by hand: each coordinate replaced, in turn, by the
simplest small number that keeps the point a counterexample of the same kind.
"""
from __future__ import annotations

from fractions import Fraction

from .outcome import Decision
from .verdict import Verdict

__all__ = ["Simplifier", "height"]

#: Counterexamples over at most this many leaves are simplified coordinate by coordinate.
SIMPLIFY_LEAVES = 24
_SIMPLE = [Fraction(n, d) for n, d in ((0, 1), (1, 1), (-1, 1), (1, 2), (-1, 2), (2, 1), (-2, 1))]


def height(v: Fraction) -> int:
    """How hard a number is to check by hand: 0 for 0, else max(|numerator|, denominator)
    plus one for a sign.

    >>> [height(Fraction(0)), height(Fraction(-1, 2)), height(Fraction(3))]
    [0, 3, 3]
    """
    return 0 if v == 0 else max(abs(v.numerator), v.denominator) + (v < 0)


class Simplifier:
    """Counterexamples of :class:`derivcheck.decide.equivalence.Procedure`, simplified."""

    def refuted(self, witness, how) -> Decision:
        witness = self.simpler(witness)
        return Decision(Verdict.NOT_EQUIVALENT, "identity_test",
                        f"counterexample {how}, re-checked by exact evaluation of both sides",
                        counterexample=witness)

    def simpler(self, witness):
        """The counterexample with each coordinate, in turn, replaced by the simplest
        small number that keeps it a counterexample of the same kind (off the kinks, and
        independent of Step(0) if it was): numbers people check by hand."""
        if not all(isinstance(v, Fraction) for v in witness.point.values()) or \
                len(witness.point) > SIMPLIFY_LEAVES:
            return witness
        point = {s: witness.point[str(s)] for s in self.sampler.leaves
                 if str(s) in witness.point}
        if len(point) != len(witness.point):
            return witness
        kind, targets = self.sampler.domain
        for leaf in [s for s in point if kind == "any" or s not in targets]:
            for v in _SIMPLE:
                if self.timed_out() or height(v) >= height(point[leaf]):
                    break
                trial = {**point, leaf: v}
                found = self.compare(trial)
                if found and not found.on_kink and (witness.step0 is not None or
                                                    found.witness.step0 is None):
                    point, witness = trial, found.witness
                    break
        return witness

