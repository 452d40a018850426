"""The result of a check: verdict, witnesses, diagnosis, and how it was decided.

>>> r = Result(verdict="equivalent", wrt="w1", candidate="x", gradient="x",
...            method="identity_test", kink_convention="any")
>>> r.exit_code, r.to_json()["verdict"]
(0, 'equivalent')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .evaluate import format_value

__all__ = ["Result", "Witness", "Diagnosis", "VERDICTS", "EXIT_CODES"]

VERDICTS = ("equivalent", "equivalent_almost_everywhere", "not_equivalent", "unknown")
EXIT_CODES = {"equivalent": 0, "equivalent_almost_everywhere": 0, "not_equivalent": 1,
              "unknown": 3}


@dataclass
class Witness:
    """A point with both sides' exact values (a counterexample or a kink point)."""

    point: dict            # name -> Fraction (or mpmath number)
    candidate: object      # value of the candidate there
    expected: object       # value of the true gradient there
    step0: Fraction | None = None  # the value of Step(0) it was found under, if it matters

    def to_json(self) -> dict:
        out = {"point": {k: format_value(v) for k, v in self.point.items()},
               "candidate": format_value(self.candidate),
               "expected": format_value(self.expected),
               "step0": None if self.step0 is None else format_value(self.step0)}
        return out


@dataclass
class Diagnosis:
    """One named mistake: ``kind`` from the contract's list, a message for people, and
    where in the derivation it is (``layer``), when known."""

    kind: str
    message: str
    layer: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message, "layer": self.layer}


@dataclass
class Result:
    """What :func:`derivcheck.check` returns."""

    verdict: str
    wrt: str
    candidate: str
    gradient: str
    method: str
    kink_convention: str
    counterexample: Witness | None = None
    kink_point: Witness | None = None
    diagnosis: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    method_detail: str = ""
    reason: str | None = None
    readings: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    definitions: dict = field(default_factory=dict)
    source: str = ""
    candidate_expr: object = None
    gradient_expr: object = None
    network: object = None
    elapsed: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict:
        """The contract's JSON object: every key always present (``None``, ``[]`` or
        ``{}`` when empty), whatever the verdict."""
        out = {
            "verdict": self.verdict,
            "wrt": self.wrt,
            "candidate": self.candidate,
            "gradient": self.gradient,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
            "kink_point": self.kink_point.to_json() if self.kink_point else None,
            "diagnosis": [d.to_json() for d in self.diagnosis],
            "method": self.method,
            "kink_convention": self.kink_convention,
            "assumptions": list(self.assumptions),
            "method_detail": self.method_detail,
            "reason": self.reason,
            "definitions": dict(self.definitions),
            "readings": list(self.readings),
            "warnings": list(self.warnings),
        }
        return out
