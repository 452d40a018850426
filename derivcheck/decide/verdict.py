"""The result of a check: verdict, witnesses, diagnosis, and how it was decided.

>>> r = Result(verdict="equivalent", wrt="w1", candidate="x", gradient="x",
...            method="identity_test", kink_convention="any")
>>> r.exit_code, r.to_json()["verdict"], r.verdict == "equivalent"
(0, 'equivalent', True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from ..core.gradients import adjoint_name
from ..core.printing import format_value

__all__ = ["Result", "Witness", "Diagnosis", "Verdict", "DiagnosisKind", "VERDICTS",
           "EXIT_CODES"]


class Verdict(StrEnum):
    """The four answers of the contract; each value is the string the JSON carries.

    >>> Verdict("not_equivalent").exit_code, Verdict.UNKNOWN == "unknown", Verdict.UNKNOWN
    (1, True, 'unknown')
    """

    __repr__ = str.__repr__  # shown as the plain string the contract names

    EQUIVALENT = "equivalent"
    EQUIVALENT_ALMOST_EVERYWHERE = "equivalent_almost_everywhere"
    NOT_EQUIVALENT = "not_equivalent"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        """0 for the two kinds of equivalence, 1 for a counterexample, 3 for unknown."""
        return EXIT_CODES[self]


class DiagnosisKind(StrEnum):
    """The contract's names of mistakes (:mod:`derivcheck.decide.diagnosis` explains
    each)."""

    __repr__ = str.__repr__

    SIGN_FLIP = "sign_flip"
    CONSTANT_FACTOR = "constant_factor"
    MISSING_GATE = "missing_gate"
    MISSING_GATES = "missing_gates"
    EXTRA_GATE = "extra_gate"
    WRONG_GATE_ARGUMENT = "wrong_gate_argument"
    WRONG_ACTIVATION_DERIVATIVE = "wrong_activation_derivative"
    MISSING_FACTOR = "missing_factor"
    WRONG_FACTOR = "wrong_factor"
    DEAD_UNIT_CONVENTION = "dead_unit_convention"
    REUSED_LAST_LAYER_FORMULA = "reused_last_layer_formula"
    CONVENTION_ONLY = "convention_only"
    UNEXPLAINED = "unexplained"
    # matrices (CONTRACT section 5)
    SHAPE_MISMATCH = "shape_mismatch"
    MISSING_TRANSPOSE = "missing_transpose"
    EXTRA_TRANSPOSE = "extra_transpose"
    WRONG_PRODUCT_ORDER = "wrong_product_order"
    ELEMENTWISE_VS_MATRIX_PRODUCT = "elementwise_vs_matrix_product"
    MISSING_BATCH_MEAN = "missing_batch_mean"
    WRONG_SUM_AXIS = "wrong_sum_axis"
    SOFTMAX_JACOBIAN = "softmax_jacobian"


VERDICTS = tuple(Verdict)
EXIT_CODES = {Verdict.EQUIVALENT: 0, Verdict.EQUIVALENT_ALMOST_EVERYWHERE: 0,
              Verdict.NOT_EQUIVALENT: 1, Verdict.UNKNOWN: 3}


@dataclass
class Witness:
    """A point with both sides' exact values (a counterexample or a kink point)."""

    point: dict            # name -> Fraction (or mpmath number)
    candidate: object      # value of the candidate there
    expected: object       # value of the true gradient there
    step0: Fraction | None = None  # the value of Step(0) it was found under, if it matters
    #: gate arguments that are 0 on a whole neighbourhood of the point (after a dead unit)
    dead: list = field(default_factory=list)

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

    kind: DiagnosisKind
    message: str
    layer: int | None = None

    def __post_init__(self):
        self.kind = DiagnosisKind(self.kind)

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "message": self.message, "layer": self.layer}


@dataclass(repr=False)
class Result:
    """What :func:`derivcheck.check` returns."""

    verdict: Verdict
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
    explanation: object = None  # the diagnosis's evidence (decide.diagnosis.Explanation)
    elapsed: float = 0.0

    def __post_init__(self):
        self.verdict = Verdict(self.verdict)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    # -- how a result shows itself: ``assert check(...)``, print, repr, Jupyter ----------
    # (the text and HTML come from derivcheck.write, imported when a result is shown)

    def __bool__(self) -> bool:
        """True only for ``equivalent`` and ``equivalent_almost_everywhere``, so
        ``assert derivcheck.check(...)`` fails on a wrong formula (and on ``unknown``).

        >>> bool(Result(verdict="not_equivalent", wrt="w1", candidate="x", gradient="y",
        ...             method="symbolic", kink_convention="any"))
        False
        """
        return self.verdict in (Verdict.EQUIVALENT, Verdict.EQUIVALENT_ALMOST_EVERYWHERE)

    def __repr__(self) -> str:
        """Short: the verdict, the parameter and the formula.

        >>> Result(verdict="equivalent", wrt="w1", candidate="x*y", gradient="x*y",
        ...        method="symbolic", kink_convention="any")
        <Result equivalent: dC/dw1 = x*y>
        """
        text = self.candidate if len(self.candidate) <= 60 else self.candidate[:57] + "..."
        return f"<Result {self.verdict}: {adjoint_name(self.wrt)} = {text}>"

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
            "verdict": self.verdict.value,
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
