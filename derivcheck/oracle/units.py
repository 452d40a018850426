"""Activations of the matrix oracle, entry by entry over a :class:`~.dyadic.Mat`.

:func:`apply` gives an activation's values and slopes at a matrix of pre-activations:
exactly for the piecewise-rational ones (relu, leaky_relu, identity, abs, hardtanh,
relu6), as certified balls (python-flint ``arb``) for the transcendental ones (sigmoid,
tanh, elu, softplus, swish, gelu). A pre-activation exactly on a breakpoint takes the
slope the kink convention gives there (torch relu'(0) = 0, jax leaky'(0) = 1, Step(0) = c),
read from the convention's own table, so the oracle and the checker agree. Under the
torch profile softplus is torch's (the identity past ``threshold=20``).

>>> import numpy as np
>>> from derivcheck.core.activations import parse_activation
>>> from derivcheck.core.conventions import get_convention
>>> z = Mat.from_floats(np.array([[-1.0, 0.0, 2.0]]))
>>> a, s = apply(parse_activation("relu"), z, get_convention("torch"), 0, 128)
>>> a.fractions().tolist(), s.fractions().tolist()
([[Fraction(0, 1), Fraction(0, 1), Fraction(2, 1)]], [[Fraction(0, 1), Fraction(0, 1), Fraction(1, 1)]])
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy

from ..errors import SpecError
from ..core.functions import IsNonNeg, IsPos, Step
from .dyadic import Mat

__all__ = ["apply", "SUPPORTED", "to_arbs", "from_arbs", "breakpoints",
           "TORCH_SOFTPLUS_THRESHOLD"]

#: Under the torch profile softplus is torch's ``F.softplus`` with its default
#: ``threshold=20``: z itself (slope 1) where z > 20, log(1 + e^z) elsewhere.
TORCH_SOFTPLUS_THRESHOLD = 20

#: Piecewise-rational activations: name -> breakpoints.
_PIECEWISE = {"relu": (0,), "leaky_relu": (0,), "identity": (), "abs": (0,),
              "hardtanh": (-1, 1), "relu6": (0, 6)}
_TRANSCENDENTAL = ("sigmoid", "tanh", "elu", "softplus", "swish", "gelu", "gelu_tanh")
SUPPORTED = (*_PIECEWISE, *_TRANSCENDENTAL)


def breakpoints(act) -> tuple:
    """Where an activation has a kink (a breakpoint of its derivative)."""
    if act.name == "elu":
        return () if act.args[0] == 1 else (0,)
    return _PIECEWISE.get(act.name, ())


@lru_cache(maxsize=None)
def kink_slope(act, convention, step0: Fraction, at: int) -> Fraction:
    """The slope of ``act`` exactly at breakpoint ``at`` under ``convention``."""
    z = sympy.Symbol("z")
    d = convention.derivative(act.apply(z), 1) if act.apply(z) != z else sympy.S.One
    d = d.subs(z, at).replace(Step, lambda e: sympy.Rational(step0) if e == 0 else
                              sympy.S.One if e > 0 else sympy.S.Zero)
    d = d.replace(IsPos, lambda e: sympy.S.One if e > 0 else sympy.S.Zero)
    d = d.replace(IsNonNeg, lambda e: sympy.S.One if e >= 0 else sympy.S.Zero)
    d = sympy.nsimplify(d) if not d.is_Rational else d
    if not d.is_Rational:
        raise SpecError(f"the slope of {act.label()} at {at} is not rational: {d}")
    return Fraction(int(d.p), int(d.q))


def _const(shape, value) -> Mat:
    v = Fraction(value)
    return Mat(np.full(shape, v.numerator, dtype=np.int64), v.denominator)


def _select(shape, choices) -> Mat:
    """A matrix taking ``value`` where ``mask``, for (mask, value) pairs covering all."""
    D = math.lcm(*(Fraction(v).denominator for _, v in choices))
    M = np.zeros(shape, dtype=np.int64)
    for mask, v in choices:
        v = Fraction(v)
        M = np.where(mask, v.numerator * (D // v.denominator), M)
    return Mat(M, D)


def apply(act, Z: Mat, convention, step0: Fraction, prec: int):
    """(values, slopes) of ``act`` at the pre-activations ``Z``."""
    name = act.name
    if name == "identity":
        return Z, _const(Z.shape, 1)
    if name in _PIECEWISE:
        return _piecewise(act, Z, convention, step0)
    if name in _TRANSCENDENTAL:
        return _transcendental(act, Z, convention, step0, prec)
    raise SpecError(f"the oracle at training sizes does not compute {act.label()} yet",
                    hint="supported: " + ", ".join(SUPPORTED))


def _piecewise(act, Z: Mat, convention, step0):
    name, shape = act.name, Z.shape
    kink = {k: kink_slope(act, convention, step0, k) for k in _PIECEWISE[name]}
    zero = _const(shape, 0)
    if name in ("relu", "leaky_relu", "abs"):
        s = Z.signs()
        neg = {"relu": Fraction(0), "abs": Fraction(-1)}.get(name) \
            if name != "leaky_relu" else Fraction(act.args[0])
        low = Z.scale(neg) if neg else zero
        values = Z.where(s > 0, low)
        slopes = _select(shape, [(s > 0, 1), (s < 0, neg), (s == 0, kink[0])])
        return values, slopes
    lo, hi = _PIECWISE_RANGE[name]
    below, above = Z.compare(lo), Z.compare(hi)
    values = Z.where((below > 0) & (above < 0), zero)
    values = _const(shape, lo).where(below <= 0, values)
    values = _const(shape, hi).where(above >= 0, values)
    slopes = _select(shape, [((below > 0) & (above < 0), 1), ((below < 0) | (above > 0), 0),
                             (below == 0, kink[lo]), (above == 0, kink[hi])])
    return values, slopes


_PIECWISE_RANGE = {"hardtanh": (-1, 1), "relu6": (0, 6)}


def to_arbs(Z: Mat, prec: int) -> list:
    """The entries as flint ``arb`` balls (row-major list)."""
    from flint import arb, ctx, fmpq
    ctx.prec = prec
    D = Z.D
    R = None if Z.R is None else Z.R.ravel()
    out = []
    for i, v in enumerate(Z.M.flat):
        x = arb(fmpq(int(v), D))
        if R is not None:
            x = x + arb(0, float(R[i]))
        out.append(x)
    return out


def from_arbs(values: list, shape, prec: int) -> Mat:
    """Balls back to a Mat: midpoints truncated to multiples of 2^-prec, radii widened
    by the truncation."""
    M = np.empty(len(values), dtype=object)
    R = np.empty(len(values), dtype=np.float64)
    for i, x in enumerate(values):
        if not x.is_finite():
            raise SpecError("a value of the network is not finite at this point")
        man, exp = x.mid().man_exp()
        man, exp = int(man), int(exp)
        k = exp + prec
        M[i] = man << k if k >= 0 else man >> -k
        R[i] = float(x.rad()) * (1 + 2.0 ** -30) + 2.0 ** -prec + 1e-300
    out = Mat(M.reshape(shape), 1 << prec, R.reshape(shape))
    return out._normal()


def _transcendental(act, Z: Mat, convention, step0, prec):
    from flint import arb
    xs = to_arbs(Z, prec + 16)
    name = act.name
    vals, slopes = [], []
    if name == "elu":
        a = arb(Fraction(act.args[0]).numerator) / Fraction(act.args[0]).denominator
        signs = Z.signs().ravel()
        k0 = kink_slope(act, convention, step0, 0)
    # torch's F.softplus (threshold=20) is z itself, slope 1, where z > 20
    linear = (Z.compare(TORCH_SOFTPLUS_THRESHOLD) > 0).ravel() \
        if name == "softplus" and convention.name == "torch" else None
    for i, x in enumerate(xs):
        if name == "sigmoid":
            s = 1 / (1 + (-x).exp())
            vals.append(s)
            slopes.append(s * (1 - s))
        elif name == "tanh":
            t = x.tanh()
            vals.append(t)
            slopes.append(1 - t * t)
        elif name == "softplus" and linear is not None and linear[i]:
            vals.append(x)
            slopes.append(arb(1))
        elif name == "softplus":
            vals.append(x.exp().log1p() if x < 0 else x + (-x).exp().log1p())
            slopes.append(1 / (1 + (-x).exp()))
        elif name == "swish":
            s = 1 / (1 + (-x).exp())
            vals.append(x * s)
            slopes.append(s + x * s * (1 - s))
        elif name == "gelu":
            phi = (1 + (x / arb(2).sqrt()).erf()) / 2
            vals.append(x * phi)
            slopes.append(phi + x * (-(x * x) / 2).exp() / (2 * arb.pi()).sqrt())
        elif name == "gelu_tanh":     # 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))
            c, k = (2 / arb.pi()).sqrt(), arb(44715) / 1000000
            t = (c * (x + k * x * x * x)).tanh()
            vals.append(x * (1 + t) / 2)
            slopes.append((1 + t) / 2 + x * (1 - t * t) * c * (1 + 3 * k * x * x) / 2)
        else:   # elu
            if signs[i] > 0:
                vals.append(x)
                slopes.append(arb(1))
            else:
                e = x.exp()
                vals.append(a * (e - 1))
                slopes.append(a * e if signs[i] < 0 else
                              arb(k0.numerator) / k0.denominator)
    return from_arbs(vals, Z.shape, prec), from_arbs(slopes, Z.shape, prec)
