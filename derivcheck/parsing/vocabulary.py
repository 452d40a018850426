"""The words a formula may use besides names: functions, loss names, Greek letters.

Every function a candidate may call is one :class:`FunctionSpec` row: how its SymPy value is
built from the arguments, how many arguments it takes, and (for a prime such as
``relu'(z)``) its derivative.

>>> function_named("ReLU").name, function_named("heaviside").name, function_named("H").name
('relu', 'step', 'step')
>>> z = sympy.Symbol("z")
>>> function_named("sigma").derivative(z) == F.Sigmoid(z) * (1 - F.Sigmoid(z))
True
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

import sympy

from ..core import functions as F
from ..core import hyperbolic as H

__all__ = ["FunctionSpec", "function_named", "function_names", "derivative_named", "LOSS_NAMES",
           "GENERIC_ACTIVATIONS",
           "GREEK", "greek_name", "ACCENTS"]


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its canonical name, builder and number of arguments."""

    name: str
    build: Callable[[list], sympy.Expr]
    min_args: int = 1
    max_args: int | None = 1

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
        return sympy.diff(self.build([t]), t).xreplace({t: arg})


def _fold(pair):
    """max/min of several arguments as nested two-argument functions."""
    def build(args):
        value = args[0]
        for arg in args[1:]:
            value = pair(value, arg)
        return value
    return build


def _max2(a, b):
    if a == 0:
        return F.ReLU(b)
    if b == 0:
        return F.ReLU(a)
    return F.Max2(a, b)


def _min2(a, b):
    if a == 0:
        return -F.ReLU(-b)
    if b == 0:
        return -F.ReLU(-a)
    return F.Min2(a, b)


def _one(cls):
    return lambda args: cls(args[0])


def _with_default(cls, default):
    return lambda args: cls(args[0], args[1] if len(args) > 1 else default)


_SPECS = [
    (FunctionSpec("relu", _one(F.ReLU)), ("relu",)),
    (FunctionSpec("step", _one(F.Step)), ("step", "heaviside", "H")),
    (FunctionSpec("sigmoid", _one(F.Sigmoid)), ("sigmoid", "sigma", "logistic")),
    (FunctionSpec("tanh", _one(H.tanh)), ("tanh",)),
    (FunctionSpec("exp", _one(sympy.exp)), ("exp",)),
    (FunctionSpec("log", _one(sympy.log)), ("log", "ln")),
    (FunctionSpec("sqrt", _one(sympy.sqrt)), ("sqrt",)),
    (FunctionSpec("abs", _one(F.Absolute)), ("abs",)),
    (FunctionSpec("sign", lambda a: F.Step(a[0]) - F.Step(-a[0])), ("sign", "sgn")),
    (FunctionSpec("sech", _one(H.sech)), ("sech",)),
    (FunctionSpec("cosh", _one(H.cosh)), ("cosh",)),
    (FunctionSpec("sinh", _one(H.sinh)), ("sinh",)),
    (FunctionSpec("softplus", _one(F.Softplus)), ("softplus",)),
    (FunctionSpec("leaky_relu", _with_default(F.LeakyReLU, sympy.Rational(1, 100)), 1, 2),
     ("leaky_relu", "leakyrelu", "lrelu", "leaky")),
    (FunctionSpec("elu", _with_default(F.ELU, sympy.S.One), 1, 2), ("elu",)),
    (FunctionSpec("celu", _with_default(F.CELU, sympy.S.One), 1, 2), ("celu",)),
    (FunctionSpec("prelu", lambda a: F.PReLU(a[0], a[1]), 2, 2), ("prelu",)),
    (FunctionSpec("necro_relu", _with_default(F.NecroReLU, sympy.Rational(1, 10)), 1, 2),
     ("necro_relu", "necrorelu")),
    (FunctionSpec("selu", _one(F.SELU)), ("selu",)),
    (FunctionSpec("gelu", _one(F.GELU)), ("gelu",)),
    (FunctionSpec("swish", _one(F.Swish)), ("swish", "silu")),
    (FunctionSpec("relu6", _one(F.ReLU6)), ("relu6",)),
    (FunctionSpec("hardtanh", _one(F.HardTanh)), ("hardtanh", "hard_tanh")),
    (FunctionSpec("max", _fold(_max2), 2, None), ("max",)),
    (FunctionSpec("min", _fold(_min2), 2, None), ("min",)),
]

_FUNCTIONS: dict[str, FunctionSpec] = {alias: spec for spec, aliases in _SPECS for alias in aliases}


def function_named(word: str) -> FunctionSpec | None:
    """The function ``word`` names: exact for one letter (``H``), any letter case otherwise.

    >>> function_named("Step").name, function_named("h")
    ('step', None)
    """
    if word in _FUNCTIONS:
        return _FUNCTIONS[word]
    return _FUNCTIONS.get(word.lower()) if len(word) > 1 else None


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
    ['relu', 'step', 'sigmoid', 'tanh']
    """
    return [spec.name for spec, _ in _SPECS]


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
