"""Smooth primitives: the logistic family, GELU, the hyperbolic functions and SymPy's own
exp, log, sqrt and erf, each followed by its registration.

>>> z = sympy.Symbol("z")
>>> sympy.diff(Sigmoid(z), z)
(1 - Sigmoid(z))*Sigmoid(z)
>>> Sigmoid(0), sympy.N(Softplus(0), 5)
(1/2, 0.69315)
"""
from __future__ import annotations

import mpmath
import sympy
from sympy import S, erf, exp, log, sqrt

from .. import hyperbolic
from .base import GUARD, PrimitiveFunction, numeric_args
from .registry import Primitive, ZeroSet, register

__all__ = ["Sigmoid", "Softplus", "GELU", "GELUTanh", "Swish", "SiLU"]


class Sigmoid(PrimitiveFunction):
    """The logistic function 1 / (1 + exp(-z)); sigmoid' = sigmoid (1 - sigmoid)."""

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return S.Half
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def decompose(self):
        z, = self.args
        return 1 / (1 + exp(-z))


register(Primitive(
    "sigmoid", Sigmoid, aliases=("logistic", "sigma"), activation=True, latex=r"\sigma",
    zeros=ZeroSet.NEVER, output_form=lambda a: a * (1 - a), torch="torch.sigmoid",
    jax="jax.nn.sigmoid", doc="1 / (1 + e^-z)"))


class Softplus(PrimitiveFunction):
    """log(1 + exp(z)); softplus' = sigmoid."""

    @classmethod
    def eval(cls, z):
        return None

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    def decompose(self):
        z, = self.args
        return log(1 + exp(z))

    def _numeric(self, dps: int):
        """log1p(exp(z)) with mpmath: SymPy's own ``log(1 + exp(-246)).evalf()`` is 0,
        not 1.1e-107."""
        values = numeric_args(self.args, dps)
        if values is None:
            return None
        with mpmath.workdps(dps + GUARD):
            z = sympy.Float(values[0], dps + GUARD)._to_mpmath(mpmath.mp.prec)
            return sympy.Float(mpmath.log1p(mpmath.exp(z)), dps)


# torch's default threshold (20) replaces softplus by z beyond it: compute it whole
register(Primitive(
    "softplus", Softplus, activation=True, latex=r"\operatorname{softplus}",
    zeros=ZeroSet.NEVER, torch="torch.nn.functional.softplus",
    torch_kwargs={"threshold": float("inf")}, jax="jax.nn.softplus", doc="log(1 + e^z)"))


class GELU(PrimitiveFunction):
    """z Phi(z) with the exact normal CDF Phi(z) = (1 + erf(z / sqrt 2)) / 2."""

    @classmethod
    def eval(cls, z):
        return S.Zero if z.is_zero else None

    def fdiff(self, argindex=1):
        z, = self.args
        return (1 + erf(z / sqrt(2))) / 2 + z * exp(-z**2 / 2) / sqrt(2 * sympy.pi)

    def decompose(self):
        z, = self.args
        return z * (1 + erf(z / sqrt(2))) / 2


register(Primitive(
    "gelu", GELU, activation=True, latex=r"\operatorname{GELU}", zeros=ZeroSet.AT_ZERO,
    torch="torch.nn.functional.gelu", jax="jax.nn.gelu", jax_kwargs={"approximate": False},
    doc="z Phi(z), exact erf form"))


#: GELU's tanh approximation: sqrt(2/pi) and the cubic coefficient 0.044715, exactly.
GELU_TANH_C = sqrt(2 / sympy.pi)
GELU_TANH_K = sympy.Rational(44715, 1000000)


class GELUTanh(PrimitiveFunction):
    """GELU's tanh approximation z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2: what
    ``jax.nn.gelu`` computes by default and torch's ``gelu(approximate="tanh")``."""

    @classmethod
    def eval(cls, z):
        return S.Zero if z.is_zero else None

    def fdiff(self, argindex=1):
        z, = self.args
        t = hyperbolic.tanh(GELU_TANH_C * (z + GELU_TANH_K * z**3))
        return (1 + t) / 2 + z * (1 - t**2) * GELU_TANH_C * (1 + 3 * GELU_TANH_K * z**2) / 2

    def decompose(self):
        z, = self.args
        return z * (1 + hyperbolic.tanh(GELU_TANH_C * (z + GELU_TANH_K * z**3))) / 2


register(Primitive(
    "gelu_tanh", GELUTanh, aliases=("gelu_approx",), activation=True,
    latex=r"\operatorname{gelu_tanh}", zeros=ZeroSet.AT_ZERO,
    torch="torch.nn.functional.gelu", torch_kwargs={"approximate": "tanh"},
    jax="jax.nn.gelu", jax_kwargs={"approximate": True},
    doc="GELU's tanh approximation (jax.nn.gelu's default)"))


class Swish(PrimitiveFunction):
    """z sigmoid(z) (SiLU)."""

    @classmethod
    def eval(cls, z):
        return S.Zero if z.is_zero else None

    def fdiff(self, argindex=1):
        z, = self.args
        return Sigmoid(z) + z * Sigmoid(z) * (1 - Sigmoid(z))

    def decompose(self):
        z, = self.args
        return z / (1 + exp(-z))


register(Primitive(
    "swish", Swish, activation=True, latex=r"\operatorname{swish}", zeros=ZeroSet.AT_ZERO,
    torch="torch.nn.functional.silu", jax="jax.nn.swish", doc="z sigmoid(z)"))


class SiLU(Swish):
    """z sigmoid(z) under the name torch and jax give it (``swish`` stays its own)."""


register(Primitive(
    "silu", SiLU, activation=True, latex=r"\operatorname{SiLU}", zeros=ZeroSet.AT_ZERO,
    torch="torch.nn.functional.silu", jax="jax.nn.silu",
    doc="z sigmoid(z), the sigmoid linear unit"))


register(Primitive(
    "identity", None, aliases=("linear", "none"), build=lambda args: args[0],
    activation=True, formula=False, doc="z"))
# The hyperbolic functions are rational functions of u = exp(z) (``exp_form``: coefficients,
# lowest power first, of numerator and denominator). The evaluators compute them from exp(z)
# so ``1 - tanh(z)**2`` and ``sech(z)**2`` meet as the same function of exp(z); decompose
# leaves them alone, since writing them out in SymPy's exp copies the argument and SymPy's
# assumptions then walk the copies (sech nested 20 deep hung).
register(Primitive(
    "tanh", hyperbolic.tanh, also=(sympy.tanh,), activation=True, latex=r"\tanh",
    zeros=ZeroSet.AT_ZERO, positive_with_argument=True, output_form=lambda a: 1 - a**2,
    torch="torch.tanh",
    jax="jax.numpy.tanh", mpmath="tanh", exact_at=(0, 0), exp_form=((-1, 0, 1), (1, 0, 1)),
    doc="tanh z"))
register(Primitive(
    "sech", hyperbolic.sech, also=(sympy.sech,), zeros=ZeroSet.NEVER,
    latex=r"\operatorname{sech}", mpmath="sech", exact_at=(0, 1),
    exp_form=((0, 2), (1, 0, 1)), doc="1 / cosh z"))
register(Primitive(
    "cosh", hyperbolic.cosh, also=(sympy.cosh,), zeros=ZeroSet.NEVER, torch="torch.cosh",
    jax="jax.numpy.cosh", mpmath="cosh", exact_at=(0, 1), exp_form=((1, 0, 1), (0, 2)),
    doc="cosh z"))
register(Primitive(
    "sinh", hyperbolic.sinh, also=(sympy.sinh,), zeros=ZeroSet.AT_ZERO, torch="torch.sinh",
    jax="jax.numpy.sinh", mpmath="sinh", exact_at=(0, 0), exp_form=((-1, 0, 1), (0, 2)),
    doc="sinh z"))
register(Primitive(
    "coth", sympy.coth, formula=False, mpmath="coth", poles=("0",),
    exp_form=((1, 0, 1), (-1, 0, 1)), doc="1 / tanh z (SymPy may write it)"))
register(Primitive(
    "csch", sympy.csch, formula=False, mpmath="csch", poles=("0",),
    exp_form=((0, 2), (-1, 0, 1)), doc="1 / sinh z (SymPy may write it)"))
register(Primitive(
    "exp", exp, zeros=ZeroSet.NEVER, torch="torch.exp", jax="jax.numpy.exp", mpmath="exp",
    exact_at=(0, 1), doc="e^z"))
register(Primitive(
    "log", log, aliases=("ln",), latex=r"\log", torch="torch.log", jax="jax.numpy.log",
    mpmath="log", exact_at=(1, 0), doc="natural logarithm"))
register(Primitive("sqrt", None, build=lambda args: sqrt(args[0]), doc="square root"))
register(Primitive(
    "erf", erf, formula=False, torch="torch.erf", jax="jax.scipy.special.erf", mpmath="erf",
    exact_at=(0, 0), doc="the error function (in GELU's decomposition)"))
