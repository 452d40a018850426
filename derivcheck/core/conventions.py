"""Kink conventions: which value a derivative takes exactly on a breakpoint.

Two families, both plain data:

* ``any``, ``0``, ``1``, ``1/2`` (aliases ``step0``, ``step1``, ``half``): every
  piecewise derivative is written with ``Step`` (see :mod:`derivcheck.core.functions`) and
  ``Step(0) = c`` for each allowed c. ``any`` allows c in {0, 1/2, 1}.
* framework profiles ``torch``, ``jax``, ``tensorflow``: for each activation, its
  derivative written with Iverson brackets, so that the value on the kink is the one
  that framework computes (torch relu'(0) = 0 is ``[z > 0]``; jax leaky'(0) = 1 is
  ``a + (1 - a)[z >= 0]``; torch d max(x, 0)/dx at 0 = 1/2 is the mean of ``[x > 0]``
  and ``[x >= 0]``). A candidate's own ``Step(0)`` takes the profile's ``step0``.

Entries were checked against torch 2.x itself where torch is installed (see
``tests/test_torch_profiles.py``); jax and tensorflow entries follow their sources:
jax.nn.relu's custom JVP (``where(x > 0, g, 0)``), jax.nn.leaky_relu
(``where(x >= 0, x, a x)``), jax's ``max`` JVP splitting ties in half,
tf's ``ReluGrad`` (``features > 0``), ``LeakyReluGrad`` (``features > 0 ? 1 : alpha``),
``EluGrad`` (``activations < 0 ? g (a + 1) : g``), ``SeluGrad``, ``_MaximumGrad``
(``x >= y`` gets the gradient).

>>> get_convention("any").step0_values
(0, 1/2, 1)
>>> z = sympy.Symbol("z")
>>> get_convention("torch").derivative(functions.ReLU(z), 1)
IsPos(z)
>>> get_convention("1/2").derivative(functions.ReLU(z), 1)
Step(z)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy
from sympy import Rational, S, exp

from . import functions
from ..errors import SpecError
from .functions import IsNonNeg as Ge, IsPos as Gt

__all__ = ["Convention", "get_convention", "CONVENTION_NAMES", "PROFILES"]

HALF = Rational(1, 2)


def _tie(a, b):
    """d max(a, b)/da split in half at a tie: 1/2 ([a > b] + [a >= b])."""
    return HALF * (Gt(a - b) + Ge(a - b))


#: Derivatives with the bracket at the breakpoint left open: ``I`` is ``[. > 0]`` (the
#: kink takes the left-hand value) or ``[. >= 0]`` (the right-hand value).
_FORMS = {
    functions.ReLU: lambda I: {1: lambda z: I(z)},
    functions.LeakyReLU: lambda I: {1: lambda z, a: a + (1 - a) * I(z)},
    functions.PReLU: lambda I: {1: lambda z, a: a + (1 - a) * I(z)},
    functions.ELU: lambda I: {1: lambda z, a: I(z) + (1 - I(z)) * a * exp(z)},
    functions.SELU: lambda I: {1: lambda z: functions.SELU_SCALE
                               * (I(z) + (1 - I(z)) * functions.SELU_ALPHA * exp(z))},
    functions.HardTanh: lambda I: {1: lambda z: I(z + 1) * I(1 - z)},
    functions.ReLU6: lambda I: {1: lambda z: I(z) * I(6 - z)},
}

#: Which bracket each framework's kernel uses, per activation.
_SIDES = {
    "torch": {functions.ReLU: Gt, functions.LeakyReLU: Gt, functions.PReLU: Gt,
              functions.ELU: Gt, functions.SELU: Gt, functions.HardTanh: Gt,
              functions.ReLU6: Gt},
    "jax": {functions.ReLU: Gt, functions.LeakyReLU: Ge, functions.PReLU: Ge,
            functions.ELU: Gt, functions.SELU: Gt, functions.HardTanh: Ge,
            functions.ReLU6: Gt},
    "tensorflow": {functions.ReLU: Gt, functions.LeakyReLU: Gt, functions.PReLU: Gt,
                   functions.ELU: Ge, functions.SELU: Ge, functions.HardTanh: Ge,
                   functions.ReLU6: Gt},
}

_TIES_SPLIT = {functions.Max2: {1: _tie, 2: lambda a, b: _tie(b, a)},
               functions.Min2: {1: lambda a, b: _tie(b, a), 2: _tie}}

#: Entries that are not one bracket choice: |z|' and ties of max/min.
_OTHERS = {
    "torch": {functions.Absolute: {1: lambda z: Gt(z) - Gt(-z)}, **_TIES_SPLIT},
    "jax": {functions.Absolute: {1: lambda z: Ge(z) - Gt(-z)}, **_TIES_SPLIT},
    "tensorflow": {functions.Absolute: {1: lambda z: Gt(z) - Gt(-z)},
                   functions.Max2: {1: lambda a, b: Ge(a - b), 2: lambda a, b: Gt(b - a)},
                   functions.Min2: {1: lambda a, b: Ge(b - a), 2: lambda a, b: Gt(a - b)}},
}

#: Per framework: function class -> {argindex: derivative in Iverson form}.
#: Functions missing from a profile use their Step form with the profile's step0.
PROFILES: dict[str, dict] = {
    fw: {**{cls: _FORMS[cls](side) for cls, side in sides.items()}, **_OTHERS[fw]}
    for fw, sides in _SIDES.items()
}

_STEP_VALUES = {"0": (S.Zero,), "1": (S.One,), "1/2": (HALF,), "any": (S.Zero, HALF, S.One)}
_ALIASES = {"step0": "0", "step1": "1", "half": "1/2", "0.5": "1/2", "tf": "tensorflow",
            "pytorch": "torch"}

#: Every name --kink-convention accepts.
CONVENTION_NAMES = ("any", "0", "1", "1/2", "torch", "jax", "tensorflow",
                    *sorted(_ALIASES))


@dataclass(frozen=True)
class Convention:
    """A kink convention: allowed values of Step(0), and a profile table if any."""

    name: str
    step0_values: tuple
    table: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_profile(self) -> bool:
        return bool(self.table)

    def derivative(self, fn: sympy.Expr, argindex: int) -> sympy.Expr:
        """d fn / d (argument ``argindex``) under this convention.

        ``fn`` is an applied function (``ReLU(z)``); the result is in Step form for
        the Step conventions, in Iverson form for the profile's own entries.
        """
        row = self.table.get(type(fn))
        if row and argindex in row:
            return row[argindex](*fn.args)
        return fn.fdiff(argindex)


def get_convention(name: str | Convention) -> Convention:
    """Look a convention up by name (``any``, ``0``, ``torch``, ``step1``, ...).

    >>> get_convention("step1").name
    '1'
    """
    if isinstance(name, Convention):
        return name
    key = _ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key in _STEP_VALUES:
        return Convention(key, _STEP_VALUES[key])
    if key in PROFILES:
        return Convention(key, (S.Zero,), PROFILES[key])
    raise SpecError(f"unknown kink convention {name!r}",
                    hint="use one of: " + ", ".join(CONVENTION_NAMES))
