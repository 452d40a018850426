"""Kink conventions: which value a derivative takes exactly on a breakpoint.

Two families, both plain data:

* ``any``, ``0``, ``1``, ``1/2`` (aliases ``step0``, ``step1``, ``half``): every
  piecewise derivative is written with ``Step`` (see :mod:`derivcheck.core.functions`) and
  ``Step(0) = c`` for each allowed c. ``any`` allows c in {0, 1/2, 1}.
* framework profiles ``torch``, ``jax``, ``tensorflow``, and ``numpy`` for hand-written
  numpy backward passes (seed 001's ``grad_h[h < 0] = 0``: relu'(0) = 1): each primitive
  declares, in :mod:`derivcheck.core.primitives`, which one-sided derivative each framework
  returns on its kinks (torch relu'(0) = 0 is the left one; jax leaky'(0) = 1 the right
  one; torch d max(x, 0)/dx at 0 = 1/2 their mean), and its derivative is written with
  the Iverson brackets that give that value. A candidate's own ``Step(0)`` takes the
  profile's ``step0`` below.

The declared sides were checked against torch 2.x itself where torch is installed (see
``tests/oracle/test_torch_profiles.py``); jax and tensorflow entries follow their sources:
jax.nn.relu's custom JVP (``where(x > 0, g, 0)``), jax.nn.leaky_relu
(``where(x >= 0, x, a x)``), jax's ``max`` JVP splitting ties in half,
tf's ``ReluGrad`` (``features > 0``), ``LeakyReluGrad`` (``features > 0 ? 1 : alpha``),
``EluGrad`` (``activations < 0 ? g (a + 1) : g``), ``SeluGrad``, ``_MaximumGrad``
(``x >= y`` gets the gradient).

>>> get_convention("any").step0_values
(0, 1/2, 1)
>>> z = sympy.Symbol("z")
>>> from derivcheck.core.functions import ReLU
>>> get_convention("torch").derivative(ReLU(z), 1)
IsPos(z)
>>> get_convention("numpy").derivative(ReLU(z), 1)
IsNonNeg(z)
>>> get_convention("1/2").derivative(ReLU(z), 1)
Step(z)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Rational, S

from ..errors import SpecError
from .primitives import derivative

__all__ = ["Convention", "get_convention", "CONVENTION_NAMES", "PROFILES", "FRAMEWORKS"]

HALF = Rational(1, 2)

#: Framework profiles and the value a candidate's own Step(0) takes under each.
PROFILES = {"torch": S.Zero, "jax": S.Zero, "tensorflow": S.Zero, "numpy": S.One}
#: The profiles of automatic differentiation frameworks (sheets show their kink values).
FRAMEWORKS = ("torch", "jax", "tensorflow")

_STEP_VALUES = {"0": (S.Zero,), "1": (S.One,), "1/2": (HALF,), "any": (S.Zero, HALF, S.One)}
_ALIASES = {"step0": "0", "step1": "1", "half": "1/2", "0.5": "1/2", "tf": "tensorflow",
            "pytorch": "torch"}

#: Every name --kink-convention accepts.
CONVENTION_NAMES = ("any", "0", "1", "1/2", *PROFILES, *sorted(_ALIASES))


@dataclass(frozen=True)
class Convention:
    """A kink convention: allowed values of Step(0); a framework profile by its name."""

    name: str
    step0_values: tuple

    @property
    def is_profile(self) -> bool:
        return self.name in PROFILES

    def derivative(self, fn: sympy.Expr, argindex: int) -> sympy.Expr:
        """d fn / d (argument ``argindex``) under this convention.

        ``fn`` is an applied function (``ReLU(z)``); the result is in Step form for
        the Step conventions, in Iverson form where a profile declares its kink sides.
        """
        return derivative(fn, argindex, self.name if self.is_profile else None)


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
        return Convention(key, (PROFILES[key],))
    raise SpecError(f"unknown kink convention {name!r}",
                    hint="use one of: " + ", ".join(CONVENTION_NAMES))
