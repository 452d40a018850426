"""SymPy functions for the piecewise world of backpropagation, by their public names.

The classes live with their registrations in :mod:`derivcheck.core.primitives`
(:mod:`~derivcheck.core.primitives.base`, ``piecewise``, ``smooth``); this module gathers
them under the names the rest of derivcheck imports.

>>> from sympy import Rational, Symbol, diff
>>> z = Symbol("z")
>>> diff(ReLU(z), z)
Step(z)
>>> ReLU(-3), ReLU(5), Step(2), Step(0)
(0, 5, 1, Step(0))
>>> LeakyReLU(z, Rational(1, 100)).decompose()
z*(99*Step(z)/100 + 1/100)
"""
from __future__ import annotations

from .primitives.base import PIECEWISE_PRIMITIVES, IsNonNeg, IsPos, Step, decompose
from .primitives.piecewise import (CELU, ELU, SELU, SELU_ALPHA, SELU_SCALE, Absolute,
                                   HardTanh, LeakyReLU, Max2, Min2, NecroReLU, PReLU, ReLU,
                                   ReLU6)
from .primitives.smooth import GELU, Sigmoid, Softplus, Swish

__all__ = [
    "Step", "IsPos", "IsNonNeg", "ReLU", "LeakyReLU", "PReLU", "NecroReLU", "ELU", "SELU",
    "CELU", "Softplus", "Sigmoid", "HardTanh", "ReLU6", "GELU", "Swish", "Absolute", "Max2",
    "Min2", "decompose", "PIECEWISE_PRIMITIVES",
    "SELU_ALPHA", "SELU_SCALE",
]
