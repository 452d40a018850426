"""What the decision procedure answers: a :class:`Decision`, and the :class:`Outcome` of
one of its steps (decided, or what later steps build on).
"""
from __future__ import annotations

from dataclasses import dataclass

from .verdict import Verdict, Witness

__all__ = ["Decision", "Outcome"]


@dataclass
class Decision:
    """A verdict with its witnesses and how it was reached."""

    verdict: Verdict
    method: str
    detail: str
    counterexample: Witness | None = None
    kink_point: Witness | None = None
    reason: str | None = None


@dataclass
class Outcome:
    """What one step of the procedure found: the final ``decision``, or what later steps
    build on (the number of sign ``regions`` searched, a ``kink`` witness)."""

    decision: Decision | None = None
    regions: int = 0
    kink: Witness | None = None
    note: str = ""  # how the kink witness was found, when it needs saying

