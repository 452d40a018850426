"""The named mistakes: one small class per kind (pyflakes' messages are the model).

Each has its ``kind``, a message ``template`` filled from its fields, and a ``fix`` hook:
the candidate with this mistake undone, when that can be said on the candidate itself
(None otherwise; then the mistake was found as an edit of the derivation, see
:mod:`derivcheck.decide.mutants`). :mod:`derivcheck.decide.diagnosis` prints a mistake
only when it is verified.

>>> import sympy
>>> w1, x = sympy.symbols("w1 x")
>>> SignFlip().fix(w1 * x), ConstantFactor(factor="2", why="").fix(w1)
(-w1*x, w1/2)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..core.functions import Step
from .verdict import Diagnosis, DiagnosisKind

__all__ = ["Mistake", "MISTAKES", "SignFlip", "ConstantFactor", "MissingGate", "MissingGates",
           "ExtraGate", "WrongGateArgument", "WrongActivationDerivative", "MissingFactor",
           "WrongFactor", "ReusedLastLayerFormula", "DeadUnitConvention", "ConventionOnly",
           "Unexplained", "ShapeMismatch", "MissingTranspose", "ExtraTranspose",
           "WrongProductOrder", "ElementwiseVsMatrixProduct", "MissingBatchMean", "WrongSumAxis",
           "SoftmaxJacobian"]


class Mistake:
    """One kind of mistake (pyflakes' messages are the model): a subclass per ``kind``
    with a message ``template`` filled from its fields; ``layer`` is where in the
    derivation it is, when known. :meth:`diagnosis` is the public record.

    >>> MissingGate(z="z2", layer=2).diagnosis().to_json()["layer"]
    2
    """

    kind: DiagnosisKind
    template: str
    layer: int | None = None

    @property
    def message(self) -> str:
        return self.template.format(**vars(self))

    def diagnosis(self) -> Diagnosis:
        return Diagnosis(self.kind, self.message, self.layer)

    def fix(self, candidate):
        """``candidate`` with this mistake undone, or None when that cannot be said on
        the candidate alone."""
        return None


@dataclass
class SignFlip(Mistake):
    kind = DiagnosisKind.SIGN_FLIP
    template = "The sign is flipped: {why}"
    why: str = ("the loss derivative is (yhat - y), not (y - yhat). dC/dyhat of "
                "(y - yhat)^2/2 is -(y - yhat).")

    def fix(self, candidate):
        return -candidate


@dataclass
class ConstantFactor(Mistake):
    kind = DiagnosisKind.CONSTANT_FACTOR
    template = "Off by a constant factor {factor}: {why}"
    factor: str
    why: str

    def fix(self, candidate):
        return candidate / sympy.Rational(self.factor)


@dataclass
class MissingGate(Mistake):
    kind = DiagnosisKind.MISSING_GATE
    template = ("The ReLU gate Step({z}) of layer {layer} is missing: backpropagating "
                "through a_{layer} = relu({z}) multiplies by relu'({z}) = Step({z}).")
    z: str
    layer: int

    def fix(self, candidate):
        return candidate * Step(sympy.Symbol(self.z))


@dataclass
class MissingGates(Mistake):
    kind = DiagnosisKind.MISSING_GATES
    template = ("Every activation derivative is missing: each layer's chain-rule step "
                "dC/dz = dC/da * f'(z) was dropped (for ReLU the factors Step(z_k)).")


@dataclass
class ExtraGate(Mistake):
    kind = DiagnosisKind.EXTRA_GATE
    template = ("There is a gate Step({arg}) that the correct gradient does not have: "
                "without it the formula is right.")
    arg: str
    gate: object = field(default=None, repr=False)

    def fix(self, candidate):
        return None if self.gate is None else candidate.xreplace({self.gate: sympy.S.One})


@dataclass
class WrongGateArgument(Mistake):
    kind = DiagnosisKind.WRONG_GATE_ARGUMENT
    template = ("Layer {layer}'s gate is applied to the activation {a} instead of the "
                "pre-activation {z}: the derivative is f'({z}).")
    a: str
    z: str
    layer: int

    def fix(self, candidate):
        a, z = sympy.Symbol(self.a), sympy.Symbol(self.z)
        return candidate.xreplace({Step(a): Step(z)})


@dataclass
class WrongActivationDerivative(Mistake):
    kind = DiagnosisKind.WRONG_ACTIVATION_DERIVATIVE
    template = "Layer {layer} uses {used} where the derivative of its activation {act} " \
               "belongs ({right})."
    used: str
    act: str
    right: str
    layer: int


@dataclass
class MissingFactor(Mistake):
    kind = DiagnosisKind.MISSING_FACTOR
    template = "A factor {factor} is missing at layer {layer}: {why}"
    factor: str
    why: str
    layer: int | None
    expr: object = field(default=None, repr=False)

    def fix(self, candidate):
        return None if self.expr is None else candidate * self.expr


@dataclass
class WrongFactor(Mistake):
    kind = DiagnosisKind.WRONG_FACTOR
    template = ("{used} is written where {right} belongs: with {right} in that place the "
                "formula is right.")
    used: str
    right: str
    fixed: object = field(default=None, repr=False)
    original: object = field(default=None, repr=False)

    def fix(self, candidate):
        """The edit, on the candidate it was found in (or a constant multiple of it)."""
        if self.fixed is None or self.original is None:
            return None
        q = sympy.cancel(candidate / self.original)
        return q * self.fixed if q.is_number else None


@dataclass
class DeadUnitConvention(Mistake):
    kind = DiagnosisKind.DEAD_UNIT_CONVENTION
    template = ("{where}the formula's value there depends on Step(0): it is right exactly "
                "when Step(0) = {values}{frameworks}, and wrong for Step(0) = {others}.")
    where: str
    values: str
    others: str
    frameworks: str = ""


@dataclass
class ReusedLastLayerFormula(Mistake):
    kind = DiagnosisKind.REUSED_LAST_LAYER_FORMULA
    template = ("A guess, from this evidence: the formula does not involve {missing}, "
                "although the gradient of {wrt} "
                "depends on them: it looks like the formula of a shallower network (the last "
                "layer's formula) reused for a deeper weight. Backpropagate through every "
                "layer between {wrt} and the loss.")
    missing: str
    wrt: str


@dataclass
class ConventionOnly(Mistake):
    kind = DiagnosisKind.CONVENTION_ONLY
    template = ("Equal everywhere except on the kinks: the formulas differ only in the value "
                "taken at a breakpoint (e.g. Step(0) versus [z > 0]).")


@dataclass
class Unexplained(Mistake):
    kind = DiagnosisKind.UNEXPLAINED
    template = ("The candidate differs from the correct gradient in a way that is not one of "
                "the common single mistakes; compare it with the derivation step by step.")


# -- matrices (CONTRACT section 5): found by derivcheck.decide.matrix_fixes, which says in
# ``why`` which product, sum or factor it is and what the fix is

@dataclass
class ShapeMismatch(Mistake):
    kind = DiagnosisKind.SHAPE_MISMATCH
    template = "The shapes do not fit: {why}"
    why: str = "a product or a sum of matrices whose shapes disagree"


@dataclass
class MissingTranspose(Mistake):
    kind = DiagnosisKind.MISSING_TRANSPOSE
    template = "A transpose is missing: {why}"
    why: str = "a factor should be transposed"


@dataclass
class ExtraTranspose(Mistake):
    kind = DiagnosisKind.EXTRA_TRANSPOSE
    template = "A transpose is too many: {why}"
    why: str = "a factor should not be transposed"


@dataclass
class WrongProductOrder(Mistake):
    kind = DiagnosisKind.WRONG_PRODUCT_ORDER
    template = "The factors of a matrix product are in the wrong order: {why}"
    why: str = "swap them"


@dataclass
class ElementwiseVsMatrixProduct(Mistake):
    kind = DiagnosisKind.ELEMENTWISE_VS_MATRIX_PRODUCT
    template = "An elementwise product and a matrix product are confused: {why}"
    why: str = "use the other product"


@dataclass
class MissingBatchMean(Mistake):
    kind = DiagnosisKind.MISSING_BATCH_MEAN
    template = "The batch mean is wrong: {why}"
    why: str = "the 1/m of the mean over the batch is missing or taken twice"


@dataclass
class WrongSumAxis(Mistake):
    kind = DiagnosisKind.WRONG_SUM_AXIS
    template = "A sum runs over the wrong axis or drops it: {why}"
    why: str = "sum over the other axis, with keepdims=True"


@dataclass
class SoftmaxJacobian(Mistake):
    kind = DiagnosisKind.SOFTMAX_JACOBIAN
    template = ("Softmax's derivative is taken elementwise as P(1 - P); its Jacobian is "
                "diag(P) - P P^T, so dZ = P * (dA - sum over classes of P * dA) (for "
                "cross-entropy: P - Y). {why}")
    why: str = ""


#: kind -> its class, one for every kind of the contract.
MISTAKES = {cls.kind: cls for cls in Mistake.__subclasses__()}
