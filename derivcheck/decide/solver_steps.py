"""The SMT solver inside the decision procedure: its time budget, and its points
re-checked by exact evaluation before anything is concluded from them.
"""
from __future__ import annotations

import time

__all__ = ["SolverSteps", "SMT_BUDGET", "SMT_SHARE"]

#: Seconds the SMT solver may take for one question (less when the check's time is short).
SMT_BUDGET = 10.0
#: Share of the check's time the SMT solver may take in all (so an undecidable formula
#: answers unknown well within its timeout).
SMT_SHARE = 0.4


class SolverSteps:
    """SMT questions of :class:`derivcheck.decide.equivalence.Procedure` (it provides
    ``smt``, ``smt_total``, ``smt_spent``, ``deadline``, ``sampler`` and ``compare``)."""

    def budget(self) -> float:
        """Seconds the SMT solver may take for one question: at most SMT_BUDGET, what is
        left of its share of the check's time, and what is left of that time."""
        return min(SMT_BUDGET, self.smt_total - self.smt_spent,
                   self.deadline - time.monotonic())

    def ask(self, targets, **options):
        """The SMT solver's answer for ``targets`` and a difference of the sides."""
        started = time.monotonic()
        try:
            return self.smt.search(targets, self.reference, self.candidate,
                                   timeout=self.budget(), **options)
        finally:
            self.smt_spent += time.monotonic() - started

    def smt_witness(self, answer, *, off_kink: bool):
        """The SMT solver's point (or a rational approximation of it) re-checked by exact
        evaluation: a Found (off the kinks when ``off_kink``), or None."""
        for point in answer.points:
            full = {**self.sampler.random_point(), **point}
            found = self.compare(full)
            if found and (not off_kink or not found.on_kink):
                return found
        return None

