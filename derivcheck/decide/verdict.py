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


@dataclass(repr=False)
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

    # -- how a result shows itself: ``assert check(...)``, print, repr, Jupyter ----------
    # (the text and HTML come from derivcheck.write, imported when a result is shown)

    def __bool__(self) -> bool:
        """True only for ``equivalent`` and ``equivalent_almost_everywhere``, so
        ``assert derivcheck.check(...)`` fails on a wrong formula (and on ``unknown``).

        >>> bool(Result(verdict="not_equivalent", wrt="w1", candidate="x", gradient="y",
        ...             method="symbolic", kink_convention="any"))
        False
        """
        return self.verdict in ("equivalent", "equivalent_almost_everywhere")

    def __repr__(self) -> str:
        """Short: the verdict, the parameter and the formula.

        >>> Result(verdict="equivalent", wrt="w1", candidate="x*y", gradient="x*y",
        ...        method="symbolic", kink_convention="any")
        <Result equivalent: dC/dw1 = x*y>
        """
        text = self.candidate if len(self.candidate) <= 60 else self.candidate[:57] + "..."
        return f"<Result {self.verdict}: dC/d{self.wrt} = {text}>"

    def __str__(self) -> str:
        """The text ``derivcheck check`` prints."""
        from ..write.textout import format_result
        return format_result(self)

    def _repr_html_(self) -> str:
        from ..write.notebook import result_html
        return result_html(self)

    def _repr_latex_(self) -> str:
        from ..write.notebook import result_latex
        return result_latex(self)

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
