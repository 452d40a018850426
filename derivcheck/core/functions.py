"""SymPy functions for the piecewise world of backpropagation.

Every piecewise function here keeps three things side by side, micrograd style:

* its value on numbers (``eval``), exact for rationals;
* its derivative (``fdiff``), written with :class:`Step` so the kink value stays a
  *convention* instead of SymPy's silent ``Heaviside(0) = 1/2``;
* its ``decompose()``: the same function written with only ``Step``, the Iverson
  brackets :class:`IsPos` / :class:`IsNonNeg` and smooth functions (``exp``, ``log``,
  ``erf``). The decomposition has the right value at every point, kinks included, for
  every value of ``Step(0)``; the exact evaluators and the equivalence decision only
  ever see decomposed expressions.

>>> from sympy import Symbol, diff
>>> z = Symbol("z")
>>> diff(ReLU(z), z)
Step(z)
>>> ReLU(-3), ReLU(5), Step(2), Step(0)
(0, 5, 1, Step(0))
>>> LeakyReLU(z, sympy.Rational(1, 100)).decompose()
z*(99*Step(z)/100 + 1/100)
"""
from __future__ import annotations

import math

import mpmath
import sympy
from mpmath import libmp as mlib
from sympy import Function, Integer, Rational, S, exp, log, erf, sqrt

__all__ = [
    "Step", "IsPos", "IsNonNeg", "ReLU", "LeakyReLU", "PReLU", "NecroReLU", "ELU", "SELU",
    "CELU", "Softplus", "Sigmoid", "HardTanh", "ReLU6", "GELU", "Swish", "Absolute", "Max2",
    "Min2", "decompose", "PIECEWISE_PRIMITIVES",
    "SELU_ALPHA", "SELU_SCALE",
]

#: SELU's constants as exact rationals of the decimals every framework uses.
SELU_ALPHA = Rational("1.6732632423543772848170429916717")
SELU_SCALE = Rational("1.0507009873554804934193349852946")


def _sign_of(z):
    """1, -1 or 0 for a number, None when SymPy cannot tell."""
    if z.is_positive:
        return 1
    if z.is_negative:
        return -1
    if z.is_zero:
        return 0
    return None


class Step(Function):
    """Unit step: 1 for z > 0, 0 for z < 0, and the *convention* c at z = 0.

    ``Step(0)`` stays unevaluated: which value it takes is the kink convention.

    >>> Step(sympy.Rational(-1, 2)), Step(0)
    (0, Step(0))
    """

    nargs = None  # no FiniteSet built per application (reverse mode makes many)

    @classmethod
    def eval(cls, z):
        s = _sign_of(z)
        if s == 1:
            return S.One
        if s == -1:
            return S.Zero
        return None

    def fdiff(self, argindex=1):
        return S.Zero  # zero off the kink; no Dirac deltas in backpropagation

    def decompose(self):
        return self


class IsPos(Function):
    """Iverson bracket ``[z > 0]``: 0 at z = 0 whatever the convention."""

    nargs = None  # no FiniteSet built per application (reverse mode makes many)

    @classmethod
    def eval(cls, z):
        s = _sign_of(z)
        return None if s is None else (S.One if s == 1 else S.Zero)

    def fdiff(self, argindex=1):
        return S.Zero

    def decompose(self):
        return self


class IsNonNeg(Function):
    """Iverson bracket ``[z >= 0]``: 1 at z = 0 whatever the convention."""

    nargs = None  # no FiniteSet built per application (reverse mode makes many)

    @classmethod
    def eval(cls, z):
        s = _sign_of(z)
        return None if s is None else (S.Zero if s == -1 else S.One)

    def fdiff(self, argindex=1):
        return S.Zero

    def decompose(self):
        return self


class _Activation(Function):
    """Base of the activation functions: numeric eval through ``decompose``."""

    @classmethod
    def eval(cls, *args):
        if all(a.is_Number for a in args):
            value = cls(*args, evaluate=False).decompose()
            if not value.has(Step):
                return value
        return None

    def decompose(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _eval_evalf(self, prec):
        """Numeric value through ``decompose`` (``N(Sigmoid(1))`` is a number), to the
        full ``prec`` bits; None (unevaluated) when a gate's side cannot be told (an
        exact zero hiding behind the convention) or the precision cannot be reached.

        Values are kept with 30 guard digits: SymPy's adaptive evaluation asks again at
        a little more precision after a cancellation, and without the cache each retry
        would evaluate every nested activation again (exponential in the nesting)."""
        dps = mlib.libmpf.prec_to_dps(prec)
        hit = _EVALF_CACHE.get(self)
        if hit is None or hit[0] < dps:
            if len(_EVALF_CACHE) > 20_000:
                _EVALF_CACHE.clear()
            hit = _EVALF_CACHE[self] = (dps + _GUARD, self._numeric(dps + _GUARD))
        return None if hit[1] is None else sympy.Float(hit[1], dps)

    def _numeric(self, dps: int):
        """The value to ``dps`` digits. The arguments are evaluated once, with guard
        digits, and the decomposition on them by SymPy's adaptive evaluation, so its
        cancellations keep relative precision (``HardTanh(1e-89)`` is 1e-89, not
        -1 + (1 + 1e-89) = 0)."""
        values = _numeric_args(self.args, dps)
        if values is None:
            return None
        dummies = [sympy.Dummy() for _ in values]
        subs = dict(zip(dummies, values))
        value = type(self)(*dummies, evaluate=False).decompose()
        try:
            gates = {}
            for gate in value.atoms(Step, IsPos, IsNonNeg):
                arg = gate.args[0].evalf(dps, subs=subs, maxn=_maxn(dps), strict=True)
                if not arg.is_Number or arg.is_zero:
                    return None  # unknown, or a kink: the value may hang on Step(0)
                gates[gate] = S.One if arg > 0 else S.Zero
            out = value.xreplace(gates).evalf(dps, subs=subs, maxn=_maxn(dps), strict=True)
        except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
            return None
        return out if out.is_number else None


#: Activation -> (digits, value) of its last numeric evaluation (see ``_eval_evalf``).
_EVALF_CACHE: dict = {}
#: Guard digits: on cached values (for SymPy's retries), and on arguments (for the
#: digits a function's condition number takes).
_GUARD = 30


def _maxn(dps: int) -> int:
    """The most digits SymPy's strict evaluation may use to reach ``dps`` correct ones."""
    return max(400, 4 * dps)


def _numeric_args(args, dps: int):
    """The arguments as Floats correct to ``dps`` + _GUARD digits, and more for large ones (a
    function's condition number, exp's |z|, eats digits); None when one is not a number
    or cannot be certified."""
    out = []
    try:
        for a in args:
            if a.is_Rational:
                out.append(a)
                continue
            v = a.evalf(dps + _GUARD, maxn=_maxn(dps), strict=True)
            if not v.is_Number:
                return None
            size = int(mpmath.mag(v._to_mpmath(60)) * math.log10(2)) if v else 0
            if size > 25:  # |z| > 1e25: give the digits the condition number takes
                v = a.evalf(dps + _GUARD + size, maxn=_maxn(dps) + size, strict=True)
            out.append(v)
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None
    return out


class ReLU(_Activation):
    """max(0, z); ReLU(0) = 0, ReLU'(z) = Step(z)."""

    def fdiff(self, argindex=1):
        return Step(self.args[0])

    def decompose(self):
        z, = self.args
        return z * Step(z)


class NecroReLU(_Activation):
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


class LeakyReLU(_Activation):
    """z for z > 0, a*z otherwise; leaky'(z) = a + (1 - a) Step(z)."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return a + (1 - a) * Step(z)
        return z - ReLU(z)

    def decompose(self):
        z, a = self.args
        return z * (a + (1 - a) * Step(z))


class PReLU(LeakyReLU):
    """Leaky ReLU whose slope is a learnable parameter (same values, own name)."""


class ELU(_Activation):
    """z for z > 0, a (exp(z) - 1) otherwise; ELU(0) = 0."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return Step(z) + (1 - Step(z)) * a * exp(z)
        return (1 - Step(z)) * (exp(z) - 1)

    def decompose(self):
        z, a = self.args
        return z * Step(z) + (1 - Step(z)) * a * (exp(z) - 1)


class SELU(_Activation):
    """scale * ELU(z, alpha) with the fixed self-normalizing constants."""

    def fdiff(self, argindex=1):
        z, = self.args
        return SELU_SCALE * (Step(z) + (1 - Step(z)) * SELU_ALPHA * exp(z))

    def decompose(self):
        z, = self.args
        return SELU_SCALE * (z * Step(z) + (1 - Step(z)) * SELU_ALPHA * (exp(z) - 1))


class CELU(_Activation):
    """max(0, z) + min(0, a (exp(z/a) - 1)); C^1, so no kink."""

    def fdiff(self, argindex=1):
        z, a = self.args
        if argindex == 1:
            return Step(z) + (1 - Step(z)) * exp(z / a)
        return (1 - Step(z)) * (exp(z / a) * (1 - z / a) - 1)

    def decompose(self):
        z, a = self.args
        return z * Step(z) + (1 - Step(z)) * a * (exp(z / a) - 1)


class Sigmoid(_Activation):
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


class Softplus(_Activation):
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
        values = _numeric_args(self.args, dps)
        if values is None:
            return None
        with mpmath.workdps(dps + _GUARD):
            z = sympy.Float(values[0], dps + _GUARD)._to_mpmath(mpmath.mp.prec)
            return sympy.Float(mpmath.log1p(mpmath.exp(z)), dps)


class HardTanh(_Activation):
    """clamp(z, -1, 1); derivative Step(z + 1) Step(1 - z)."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z + 1) * Step(1 - z)

    def decompose(self):
        z, = self.args
        return -1 + (z + 1) * Step(z + 1) - (z - 1) * Step(z - 1)


class ReLU6(_Activation):
    """min(max(0, z), 6); derivative Step(z) Step(6 - z)."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z) * Step(6 - z)

    def decompose(self):
        z, = self.args
        return z * Step(z) - (z - 6) * Step(z - 6)


class GELU(_Activation):
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


class Swish(_Activation):
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


class Absolute(_Activation):
    """|z| as an activation; |z|' = Step(z) - Step(-z), so sign(0) = 0 for every c."""

    def fdiff(self, argindex=1):
        z, = self.args
        return Step(z) - Step(-z)

    def decompose(self):
        z, = self.args
        z = -z if z.could_extract_minus_sign() else z
        return z * (2 * Step(z) - 1)


class Max2(_Activation):
    """max(a, b); d/da = Step(a - b), d/db = Step(b - a)."""

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(a - b) if argindex == 1 else Step(b - a)

    def decompose(self):
        a, b = self.args
        if (a - b).could_extract_minus_sign():
            return a + (b - a) * Step(b - a)
        return b + (a - b) * Step(a - b)


class Min2(_Activation):
    """min(a, b); d/da = Step(b - a), d/db = Step(a - b)."""

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(b - a) if argindex == 1 else Step(a - b)

    def decompose(self):
        a, b = self.args
        if (a - b).could_extract_minus_sign():
            return b - (b - a) * Step(b - a)
        return a - (a - b) * Step(a - b)


#: The functions the exact evaluators understand directly after ``decompose``.
PIECEWISE_PRIMITIVES = (Step, IsPos, IsNonNeg)


def decompose(expr):
    """Rewrite every activation in ``expr`` into Step/Iverson/exp/log form.

    >>> z = sympy.Symbol("z")
    >>> decompose(ReLU(z) + Absolute(z))
    z*(2*Step(z) - 1) + z*Step(z)
    """
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    args = [decompose(a) for a in expr.args]
    if isinstance(expr, _Activation):
        return type(expr)(*args, evaluate=False).decompose()
    if any(a is not b for a, b in zip(args, expr.args)):
        return expr.func(*args)
    return expr
