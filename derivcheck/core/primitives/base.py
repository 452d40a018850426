"""The ground floor of the primitives: the unit step and the Iverson brackets, and the
base class whose numeric values every activation shares.

Every piecewise primitive keeps three things side by side, micrograd style: its value on
numbers (``eval``), exact for rationals; its derivative (``fdiff``), written with
:class:`Step` so the kink value stays a *convention* instead of SymPy's silent
``Heaviside(0) = 1/2``; and its ``decompose()``: the same function written with only
``Step``, the Iverson brackets :class:`IsPos` / :class:`IsNonNeg` and smooth functions.
The decomposition has the right value at every point, kinks included, for every value of
``Step(0)``; the exact evaluators and the equivalence decision only ever see decomposed
expressions.

>>> z = sympy.Symbol("z")
>>> Step(2), Step(0), IsPos(0), IsNonNeg(0)
(1, Step(0), 0, 1)
"""
from __future__ import annotations

import math

import mpmath
import sympy
from mpmath import libmp as mlib
from sympy import Function, S

from .registry import Primitive, ZeroSet, register

__all__ = ["Step", "IsPos", "IsNonNeg", "PrimitiveFunction", "decompose", "numeric_args",
           "GUARD", "PIECEWISE_PRIMITIVES"]


def _sign_of(z):
    """1, -1 or 0 for a number, None when SymPy cannot tell."""
    if z.is_positive:
        return 1
    if z.is_negative:
        return -1
    if z.is_zero:
        return 0
    return None


class _Gate(Function):
    """A 0/1 function of the sign of its argument, flat off zero: its derivative is 0
    (no Dirac deltas in backpropagation)."""

    nargs = None  # no FiniteSet built per application (reverse mode makes many)
    #: The value for a positive, a zero and a negative argument (None: unevaluated).
    gate_values = (S.One, None, S.Zero)

    @classmethod
    def eval(cls, z):
        s = _sign_of(z)
        return None if s is None else cls.gate_values[1 - s]

    def fdiff(self, argindex=1):
        return S.Zero

    def decompose(self):
        return self


class Step(_Gate):
    """Unit step: 1 for z > 0, 0 for z < 0, and the *convention* c at z = 0.

    ``Step(0)`` stays unevaluated: which value it takes is the kink convention.

    >>> Step(sympy.Rational(-1, 2)), Step(0)
    (0, Step(0))
    """


class IsPos(_Gate):
    """Iverson bracket ``[z > 0]``: 0 at z = 0 whatever the convention."""

    gate_values = (S.One, S.Zero, S.Zero)


class IsNonNeg(_Gate):
    """Iverson bracket ``[z >= 0]``: 1 at z = 0 whatever the convention."""

    gate_values = (S.One, S.One, S.Zero)


class PrimitiveFunction(Function):
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
            hit = _EVALF_CACHE[self] = (dps + GUARD, self._numeric(dps + GUARD))
        return None if hit[1] is None else sympy.Float(hit[1], dps)

    def _numeric(self, dps: int):
        """The value to ``dps`` digits. The arguments are evaluated once, with guard
        digits, and the decomposition on them by SymPy's adaptive evaluation, so its
        cancellations keep relative precision (``HardTanh(1e-89)`` is 1e-89, not
        -1 + (1 + 1e-89) = 0)."""
        values = numeric_args(self.args, dps)
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
GUARD = 30


def _maxn(dps: int) -> int:
    """The most digits SymPy's strict evaluation may use to reach ``dps`` correct ones."""
    return max(400, 4 * dps)


def numeric_args(args, dps: int):
    """The arguments as Floats correct to ``dps`` + GUARD digits, and more for large ones (a
    function's condition number, exp's |z|, eats digits); None when one is not a number
    or cannot be certified."""
    out = []
    try:
        for a in args:
            if a.is_Rational:
                out.append(a)
                continue
            v = a.evalf(dps + GUARD, maxn=_maxn(dps), strict=True)
            if not v.is_Number:
                return None
            size = int(mpmath.mag(v._to_mpmath(60)) * math.log10(2)) if v else 0
            if size > 25:  # |z| > 1e25: give the digits the condition number takes
                v = a.evalf(dps + GUARD + size, maxn=_maxn(dps) + size, strict=True)
            out.append(v)
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None
    return out


#: The functions the exact evaluators understand directly after ``decompose``.
PIECEWISE_PRIMITIVES = (Step, IsPos, IsNonNeg)


def decompose(expr):
    """Rewrite every activation in ``expr`` into Step/Iverson/exp/log form.

    >>> from derivcheck.core.functions import Absolute, ReLU
    >>> z = sympy.Symbol("z")
    >>> decompose(ReLU(z) + Absolute(z))
    z*(2*Step(z) - 1) + z*Step(z)
    """
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    args = [decompose(a) for a in expr.args]
    if isinstance(expr, PrimitiveFunction):
        return type(expr)(*args, evaluate=False).decompose()
    if any(a is not b for a, b in zip(args, expr.args)):
        return expr.func(*args)
    return expr


register(Primitive(
    "step", Step, aliases=("heaviside", "H"), latex=r"\operatorname{Step}", kinks=("0",),
    zeros=ZeroSet.REGION, doc="1 for z > 0, 0 for z < 0, the convention c at 0"))
register(Primitive("ispos", IsPos, formula=False, zeros=ZeroSet.REGION, doc="[z > 0]"))
register(Primitive("isnonneg", IsNonNeg, formula=False, zeros=ZeroSet.REGION, doc="[z >= 0]"))
register(Primitive(
    "sign", None, aliases=("sgn",), build=lambda args: Step(args[0]) - Step(-args[0]),
    doc="Step(z) - Step(-z): sign(0) = 0 whatever the convention"))
