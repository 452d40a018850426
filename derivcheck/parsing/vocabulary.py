"""The words a formula may use besides names: functions, loss names, Greek letters.

Every function a candidate may call is a primitive of :mod:`derivcheck.core.primitives`
(its names, parameters and defaults are declared there); a :class:`FunctionSpec` gives the
parser its arity, its SymPy value and, for a prime such as ``relu'(z)``, its derivative.

>>> function_named("ReLU").name, function_named("heaviside").name, function_named("H").name
('relu', 'step', 'step')
>>> z = sympy.Symbol("z")
>>> function_named("sigma").derivative(z)
(1 - Sigmoid(z))*Sigmoid(z)
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sympy

from ..core.primitives import Primitive, derivative, primitive_named, primitives

__all__ = ["FunctionSpec", "function_named", "function_names", "derivative_named", "LOSS_NAMES",
           "GENERIC_ACTIVATIONS",
           "GREEK", "greek_name", "ACCENTS"]


@dataclass(frozen=True)
class FunctionSpec:
    """A function a formula may call: its primitive, read from the registry."""

    primitive: Primitive
    name: str
    min_args: int
    max_args: int | None

    @classmethod
    def of(cls, primitive: Primitive) -> FunctionSpec:
        if primitive.name not in _SPECS:
            _SPECS[primitive.name] = cls(primitive, primitive.name, primitive.min_args,
                                         primitive.max_args)
        return _SPECS[primitive.name]

    def build(self, args: list) -> sympy.Expr:
        """The SymPy value of the call (defaults fill missing parameters)."""
        return self.primitive.apply(args)

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity(self) -> str:
        """``1 argument``, ``1 or 2 arguments``, ``2 or more arguments``."""
        if self.max_args is None:
            return f"{self.min_args} or more arguments"
        if self.max_args == self.min_args:
            return f"{self.min_args} argument" + ("s" if self.min_args > 1 else "")
        return f"{self.min_args} or {self.max_args} arguments"

    def derivative(self, arg):
        """The derivative of the one-argument form at ``arg`` (``relu'(z)`` is ``Step(z)``)."""
        t = sympy.Dummy("t")
        value = self.build([t])
        if isinstance(value, sympy.Function) and value.args[0] == t:
            return derivative(value, 1).xreplace({t: arg})
        return sympy.diff(value, t).xreplace({t: arg})


#: Primitive name -> its FunctionSpec, made once.
_SPECS: dict[str, FunctionSpec] = {}


def function_named(word: str) -> FunctionSpec | None:
    """The function ``word`` names: exact for one letter (``H``), any letter case otherwise.

    >>> function_named("Step").name, function_named("h")
    ('step', None)
    """
    found = primitive_named(word, exact=len(word) == 1)
    return FunctionSpec.of(found) if found is not None and found.formula else None


#: How authors name an activation's derivative: ``relu_prime``, ``ReLU_Prime``, ``relu_grad``,
#: ``relu_deriv``, ``relu_derivative``, ``drelu``, ``d_relu``.
_DERIVATIVE_NAME = re.compile(r"^(?:d_?(?P<pre>[A-Za-z][A-Za-z0-9_]*?)|(?P<post>[A-Za-z]"
                              r"[A-Za-z0-9_]*?)_?(?:prime|grad|deriv|derivative))$",
                              re.IGNORECASE)


def derivative_named(word: str) -> FunctionSpec | None:
    """The one-argument function whose derivative ``word`` names, else None.

    >>> [derivative_named(w).name for w in ("ReLU_Prime", "relu_grad", "drelu", "dsigmoid",
    ...                                     "tanh_grad", "sigmoid_prime", "d_tanh")]
    ['relu', 'relu', 'relu', 'sigmoid', 'tanh', 'sigmoid', 'tanh']
    >>> derivative_named("dx") is None, derivative_named("max_grad") is None
    (True, True)
    """
    m = _DERIVATIVE_NAME.match(word)
    if not m:
        return None
    base = m["pre"] or m["post"]
    spec = function_named(base) if len(base) > 1 else None
    if spec is None or spec.min_args > 1 or spec.name == "step":
        return None
    return spec


def function_names() -> list[str]:
    """Canonical function names, for error messages.

    >>> function_names()[:4]
    ['step', 'sign', 'relu', 'necro_relu']
    """
    return [p.name for p in primitives() if p.formula]


#: What the loss may be called in ``dC/dw``, ``\frac{\partial J}{\partial w}``.
LOSS_NAMES = frozenset({"C", "J", "L", "E", "Cost", "Loss", "cost", "loss"})

#: Letters that stand for "the layer's activation" in ``f'(z)``.
GENERIC_ACTIVATIONS = frozenset({"f", "g", "h", "phi", "varphi"})

#: Greek letters as LaTeX commands (``\alpha`` is the name ``alpha``).
GREEK = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa
    lambda mu nu xi omicron rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
    Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi Omega""".split())

#: Accents that become part of a name: ``\hat{y}`` is ``yhat``.
ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
           "widetilde": "tilde", "vec": "", "dot": "dot"}


def greek_name(char: str) -> str | None:
    """The name of a Greek letter typed as Unicode (``σ`` is ``sigma``), else None.

    >>> greek_name("σ"), greek_name("Δ"), greek_name("x")
    ('sigma', 'Delta', None)
    """
    label = unicodedata.name(char, "")
    for prefix, case in (("GREEK SMALL LETTER ", str.lower), ("GREEK CAPITAL LETTER ", str.title)):
        if label.startswith(prefix) and " " not in label[len(prefix):]:
            name = case(label[len(prefix):])
            return {"lamda": "lambda", "Lamda": "Lambda"}.get(name, name)
    return None
