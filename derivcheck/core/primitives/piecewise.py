"""Piecewise primitives: the ReLU family, clamps, |z|, max and min, each class followed by
its registration (names, parameters, heads, kinks, the side each framework takes on a
kink, zero set, torch and jax operations).

>>> z = sympy.Symbol("z")
>>> sympy.diff(ReLU(z), z)
Step(z)
>>> ReLU(-3), ReLU(5)
(0, 5)
>>> LeakyReLU(z, sympy.Rational(1, 100)).decompose()
z*(99*Step(z)/100 + 1/100)
"""
from __future__ import annotations

import sympy
from sympy import Rational, S, exp

from .base import PrimitiveFunction, Step
from .registry import Param, Primitive, Side, ZeroSet, register

__all__ = ["ReLU", "LeakyReLU", "PReLU", "NecroReLU", "ELU", "SELU", "CELU", "HardTanh",
           "ReLU6", "Absolute", "Max2", "Min2", "Clamp", "HardSwish", "SELU_ALPHA", "SELU_SCALE"]

L, R, MEAN = Side.LEFT, Side.RIGHT, Side.MEAN
_F = "torch.nn.functional."

#: SELU's constants as exact rationals of the decimals every framework uses.
SELU_ALPHA = Rational("1.6732632423543772848170429916717")
SELU_SCALE = Rational("1.0507009873554804934193349852946")


def _op(name: str) -> str:
    """The LaTeX head ``\\operatorname{name}``."""
    return rf"\operatorname{{{name}}}"


class ReLU(PrimitiveFunction):
    """max(0, z); ReLU(0) = 0, ReLU'(z) = Step(z)."""

    def fdiff(self, argindex=1):
        return Step(self.args[0])

    def decompose(self):
        z, = self.args
        return z * Step(z)


register(Primitive(
    "relu", ReLU, activation=True, latex=_op("ReLU"), kinks=("0",),
    # numpy: seed 001's hand-written backward, grad_h[h < 0] = 0, keeps the gradient at 0
    at_kink={"torch": L, "jax": L, "tensorflow": L, "numpy": R}, zeros=ZeroSet.REGION,
    positive_with_argument=True, torch="torch.relu", jax="jax.nn.relu", doc="max(0, z)"))


class NecroReLU(PrimitiveFunction):
    """ReLU forward with a surrogate backward slope for z < 0 (seed 002's "NecroReLU").

    Its *derivative* as backpropagation uses it is ``slope + (1 - slope) Step(z)``:
    deliberately not the derivative of its forward value.
    """

    def fdiff(self, argindex=1):
        z, slope = self.args
        if argindex == 1:
            return slope + (1 - slope) * Step(z)
        return S.Zero

    def decompose(self):
        z, _ = self.args
        return z * Step(z)


register(Primitive(
    "necro_relu", NecroReLU, (Param("slope", Rational(1, 10)),), aliases=("necrorelu",),
    activation=True, latex=_op("NecroReLU"), kinks=("0",),
    doc="ReLU forward, backward slope `slope` for z < 0 (a surrogate gradient)"))


class LeakyReLU(PrimitiveFunction):
    """z for z > 0, a*z otherwise; leaky'(z) = a + (1 - a) Step(z)."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return a + (1 - a) * Step(z)
        return z - ReLU(z)

    def decompose(self):
        z, a = self.args
        return z * (a + (1 - a) * Step(z))


register(Primitive(
    "leaky_relu", LeakyReLU, (Param("a", Rational(1, 100)),),
    aliases=("leaky", "lrelu", "leakyrelu"), activation=True, latex=_op("LeakyReLU"),
    kinks=("0",), at_kink={"torch": L, "jax": R, "tensorflow": L}, zeros=ZeroSet.AT_ZERO,
    torch=_F + "leaky_relu", jax="jax.nn.leaky_relu", doc="z for z > 0, a z otherwise"))


class PReLU(LeakyReLU):
    """Leaky ReLU whose slope is a learnable parameter (same values, own name)."""


register(Primitive(
    "prelu", PReLU, (Param("a", learnable=True),), activation=True, plain="leaky_relu",
    latex=_op("PReLU"), kinks=("0",), at_kink={"torch": L, "jax": R, "tensorflow": L},
    zeros=ZeroSet.AT_ZERO, torch=_F + "prelu", jax="jax.nn.leaky_relu",
    doc="leaky ReLU with a learnable slope (a parameter)"))


class ELU(PrimitiveFunction):
    """z for z > 0, a (exp(z) - 1) otherwise; ELU(0) = 0."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return Step(z) + (1 - Step(z)) * a * exp(z)
        return (1 - Step(z)) * (exp(z) - 1)

    def decompose(self):
        z, a = self.args
        return z * Step(z) + (1 - Step(z)) * a * (exp(z) - 1)


register(Primitive(
    "elu", ELU, (Param("a", 1),), activation=True, latex=_op("ELU"), kinks=("0",),
    at_kink={"torch": L, "jax": L, "tensorflow": R}, zeros=ZeroSet.AT_ZERO,
    torch=_F + "elu", jax="jax.nn.elu", doc="z for z > 0, a (e^z - 1) otherwise"))


class SELU(PrimitiveFunction):
    """scale * ELU(z, alpha) with the fixed self-normalizing constants."""

    def fdiff(self, argindex=1):
        z, = self.args
        return SELU_SCALE * (Step(z) + (1 - Step(z)) * SELU_ALPHA * exp(z))

    def decompose(self):
        z, = self.args
        return SELU_SCALE * (z * Step(z) + (1 - Step(z)) * SELU_ALPHA * (exp(z) - 1))


register(Primitive(
    "selu", SELU, activation=True, latex=_op("SELU"), kinks=("0",),
    at_kink={"torch": L, "jax": L, "tensorflow": R}, zeros=ZeroSet.AT_ZERO,
    torch=_F + "selu", jax="jax.nn.selu", doc="scale * elu(z, alpha), fixed constants"))


class CELU(PrimitiveFunction):
    """max(0, z) + min(0, a (exp(z/a) - 1)); C^1, so no kink."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return Step(z) + (1 - Step(z)) * exp(z / a)
        return (1 - Step(z)) * (exp(z / a) * (1 - z / a) - 1)

    def decompose(self):
        z, a = self.args
        return z * Step(z) + (1 - Step(z)) * a * (exp(z / a) - 1)


register(Primitive(
    "celu", CELU, (Param("a", 1),), activation=True, latex=_op("CELU"),
    zeros=ZeroSet.AT_ZERO, torch=_F + "celu", jax="jax.nn.celu",
    doc="max(0,z) + min(0, a (e^(z/a) - 1))"))


class HardTanh(PrimitiveFunction):
    """clamp(z, -1, 1); derivative Step(z + 1) Step(1 - z)."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z + 1) * Step(1 - z)

    def decompose(self):
        z, = self.args
        return -1 + (z + 1) * Step(z + 1) - (z - 1) * Step(z - 1)


register(Primitive(
    "hardtanh", HardTanh, aliases=("hard_tanh",), activation=True, latex=_op("HardTanh"),
    kinks=("-1", "1"), at_kink={"torch": (L, R), "jax": (R, L), "tensorflow": (R, L)},
    zeros=ZeroSet.AT_ZERO, torch=_F + "hardtanh", jax="jax.nn.hard_tanh",
    doc="clamp(z, -1, 1)"))


class ReLU6(PrimitiveFunction):
    """min(max(0, z), 6); derivative Step(z) Step(6 - z)."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z) * Step(6 - z)

    def decompose(self):
        z, = self.args
        return z * Step(z) - (z - 6) * Step(z - 6)


register(Primitive(
    "relu6", ReLU6, activation=True, latex=_op("ReLU6"), kinks=("0", "6"),
    at_kink={"torch": (L, R), "jax": (L, R), "tensorflow": (L, R)}, zeros=ZeroSet.REGION,
    torch=_F + "relu6", jax="jax.nn.relu6", doc="min(max(0, z), 6)"))


class Absolute(PrimitiveFunction):
    """|z| as an activation; |z|' = Step(z) - Step(-z), so sign(0) = 0 for every c."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z) - Step(-z)

    def decompose(self):
        z, = self.args
        z = -z if z.could_extract_minus_sign() else z
        return z * (2 * Step(z) - 1)


register(Primitive(
    "abs", Absolute, activation=True, kinks=("0",),
    at_kink={"torch": MEAN, "jax": R, "tensorflow": MEAN}, zeros=ZeroSet.AT_ZERO,
    torch="torch.abs", jax="jax.numpy.abs", doc="|z|"))


class Max2(PrimitiveFunction):
    """max(a, b); d/da = Step(a - b), d/db = Step(b - a)."""

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(a - b) if argindex == 1 else Step(b - a)

    def decompose(self):
        a, b = self.args
        if (a - b).could_extract_minus_sign():
            return a + (b - a) * Step(b - a)
        return b + (a - b) * Step(a - b)


class Min2(PrimitiveFunction):
    """min(a, b); d/da = Step(b - a), d/db = Step(a - b)."""

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(b - a) if argindex == 1 else Step(a - b)

    def decompose(self):
        a, b = self.args
        if (a - b).could_extract_minus_sign():
            return b - (b - a) * Step(b - a)
        return a - (a - b) * Step(a - b)


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
        return ReLU(b)
    if b == 0:
        return ReLU(a)
    return Max2(a, b)


def _min2(a, b):
    if a == 0:
        return -ReLU(-b)
    if b == 0:
        return -ReLU(-a)
    return Min2(a, b)


# torch and jax split a tie in half; tensorflow gives it to the first argument of max
# (x >= y gets the gradient) and of min (x <= y)
register(Primitive(
    "max", Max2, build=_fold(_max2), operands=2, variadic=True, latex=r"\max",
    kinks=("a = b",), at_kink={"torch": MEAN, "jax": MEAN, "tensorflow": (R, L)},
    torch="torch.maximum", jax="jax.numpy.maximum", doc="the larger argument"))
register(Primitive(
    "min", Min2, build=_fold(_min2), operands=2, variadic=True, latex=r"\min",
    kinks=("a = b",), at_kink={"torch": MEAN, "jax": MEAN, "tensorflow": (L, R)},
    torch="torch.minimum", jax="jax.numpy.minimum", doc="the smaller argument"))


class Clamp(PrimitiveFunction):
    """clamp(z, a, b): z limited to [a, b]; derivative Step(z - a) Step(b - z)."""

    def fdiff(self, argindex=1):
        z, lo, hi = self.args
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return Step(z - lo) * Step(hi - z)

    def decompose(self):
        z, lo, hi = self.args
        return lo + (z - lo) * Step(z - lo) - (z - hi) * Step(z - hi)


# torch.clamp (and torch.clip) pass the gradient at both ends, lo <= z <= hi; jnp.clip is
# minimum(maximum(z, lo), hi), whose ties split in half
register(Primitive(
    "clamp", Clamp, (Param("a"), Param("b")), aliases=("clip",), latex=_op("clamp"),
    kinks=("a", "b"), at_kink={"torch": (R, L), "jax": MEAN},
    torch="torch.clamp", jax="jax.numpy.clip", doc="z limited to [a, b]"))


class HardSwish(PrimitiveFunction):
    """z relu6(z + 3) / 6; derivative (relu6(z + 3) + z Step(z + 3) Step(3 - z)) / 6."""

    def fdiff(self, argindex=1):
        z, = self.args
        return (ReLU6(z + 3) + z * Step(z + 3) * Step(3 - z)) / 6

    def decompose(self):
        z, = self.args
        return z * ((z + 3) * Step(z + 3) - (z - 3) * Step(z - 3)) / 6


# torch 2.x's kernel takes z/3 + 1/2 on the open (-3, 3); jax and tensorflow differentiate
# z relu6(z + 3)/6 with relu6' = [0 < u < 6]: every one takes the flat side at both kinks
register(Primitive(
    "hardswish", HardSwish, aliases=("hard_swish",), activation=True,
    latex=_op("hardswish"), kinks=("-3", "3"),
    at_kink={"torch": (L, R), "jax": (L, R), "tensorflow": (L, R)},
    torch=_F + "hardswish", jax="jax.nn.hard_swish", doc="z relu6(z + 3) / 6"))
