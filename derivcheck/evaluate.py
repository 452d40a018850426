"""Exact evaluation of expressions at a point.

Rational points through piecewise-rational parts stay exact :class:`fractions.Fraction`;
transcendental parts (exp, log, erf, pi) switch to mpmath at a stated precision. Step
takes the given value at 0 (the kink convention), the Iverson brackets their fixed ones.

Expressions are first rewritten by :func:`derivcheck.functions.decompose`, so only a
handful of primitives are ever evaluated here.

>>> from fractions import Fraction
>>> from sympy import symbols
>>> from derivcheck.functions import ReLU, Step
>>> w, x = symbols("w x")
>>> ev = PointEvaluator({}, {w: Fraction(-2), x: Fraction(1, 2)}, step0=Fraction(1, 2))
>>> ev(ReLU(w * x) + Step(w + 4 * x))
Fraction(1, 2)
"""
from __future__ import annotations

import decimal
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy
from sympy import Symbol

from .functions import IsNonNeg, IsPos, Step, decompose
from .hyperbolic import hyperbolic_form

__all__ = ["PointEvaluator", "Undetermined", "UndefinedAt", "to_fraction", "format_value",
           "is_exact", "DEFAULT_DPS"]

#: Decimal digits used for transcendental parts.
DEFAULT_DPS = 60
#: Largest |z| for which exp(z) is computed: mpmath stalls on exp(exp(exp(exp(3)))).
MAX_EXP_ARGUMENT = 10**9


class Undetermined(Exception):
    """The sign of a transcendental value is too close to 0 to decide at this precision."""


class UndefinedAt(Exception):
    """The expression is undefined at the point (division by zero, log of a non-positive)."""


def to_fraction(value) -> Fraction:
    """Exact Fraction from an int, a decimal string, a float (exactly) or a SymPy number.

    >>> to_fraction("0.1"), to_fraction(0.5), to_fraction("3/7")
    (Fraction(1, 10), Fraction(1, 2), Fraction(3, 7))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, float, str)):
        return Fraction(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sympy.Float):
        return Fraction(str(value))
    raise TypeError(f"not an exact number: {value!r}")


def is_exact(value) -> bool:
    return isinstance(value, Fraction)


def format_value(value, digits: int = 20) -> str:
    """``"3/7"`` for exact values (past Python's 4300-digit ``str`` limit too), a decimal
    string otherwise.

    >>> format_value(Fraction(3, 7)), len(format_value(Fraction(7) ** 6000))
    ('3/7', 5071)
    """
    if isinstance(value, Fraction):
        num, den = (str(decimal.Decimal(k)) for k in (value.numerator, value.denominator))
        return num if den == "1" else f"{num}/{den}"
    return mpmath.nstr(value, digits)


@lru_cache(maxsize=200_000)
def _decomposed(expr):
    return decompose(expr)


def _mpf(v):
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return v


def _sign(v, tiny) -> int:
    if isinstance(v, Fraction):
        return (v > 0) - (v < 0)
    if abs(v) < tiny:
        raise Undetermined("a step argument is within rounding of 0")
    return 1 if v > 0 else -1


class PointEvaluator:
    """Values at one point.

    ``definitions`` (symbol -> expression, each using only earlier symbols) are
    evaluated on demand; ``point`` gives the leaves; ``step0`` is Step(0).
    """

    def __init__(self, definitions: dict, point: dict, *, step0=Fraction(0),
                 dps: int = DEFAULT_DPS):
        self.definitions = definitions
        self.values: dict = {k: to_fraction(v) if not isinstance(v, mpmath.mpf) else v
                             for k, v in point.items()}
        self.step0 = to_fraction(step0)
        self.dps = dps
        self._tiny = mpmath.mpf(10) ** (-(dps * 2 // 3))
        self._memo: dict = {}
        self.gate_values: list = []  # (argument, value) of every Step/Iverson met

    def __call__(self, expr):
        """The value of ``expr`` (Fraction or mpmath number)."""
        with mpmath.workdps(self.dps):
            return self._eval(_decomposed(expr if isinstance(expr, sympy.Basic)
                                          else sympy.Integer(expr)))

    def symbol(self, s: Symbol):
        """The value of a leaf or a defined symbol (definitions evaluated in order)."""
        if s in self.values:
            return self.values[s]
        if s not in self.definitions:
            raise KeyError(f"no value for {s}")
        pending = [s]
        while pending:  # iterative, so deep chains never hit the recursion limit
            top = pending[-1]
            deps = [d for d in _decomposed(self.definitions[top]).free_symbols
                    if d not in self.values]
            missing = [d for d in deps if d in self.definitions]
            unknown = [d for d in deps if d not in self.definitions]
            if unknown:
                raise KeyError(f"no value for {unknown[0]}")
            if missing:
                pending.extend(missing)
                continue
            pending.pop()
            if top not in self.values:
                with mpmath.workdps(self.dps):
                    self.values[top] = self._eval(_decomposed(self.definitions[top]))
        return self.values[s]

    def _eval(self, e):
        if e.is_Symbol:
            return self.symbol(e)
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q))
        key = e
        if key in self._memo:
            return self._memo[key]
        out = self._eval_compound(e)
        self._memo[key] = out
        return out

    def _eval_compound(self, e):
        if e.is_Add:
            vals = [self._eval(a) for a in e.args]
            if all(isinstance(v, Fraction) for v in vals):
                return sum(vals, Fraction(0))
            return mpmath.fsum([_mpf(v) for v in vals])
        if e.is_Mul:
            out = Fraction(1)
            for a in e.args:
                v = self._eval(a)
                if v == 0:
                    return Fraction(0)
                out = out * v if isinstance(out, Fraction) and isinstance(v, Fraction) \
                    else _mpf(out) * _mpf(v)
            return out
        if e.is_Pow:
            return self._pow(self._eval(e.args[0]), e.args[1])
        f = e.func
        if f in (Step, IsPos, IsNonNeg):
            v = self._eval(e.args[0])
            self.gate_values.append((e.args[0], v))
            s = _sign(v, self._tiny)
            if f is Step:
                return Fraction(1) if s > 0 else Fraction(0) if s < 0 else self.step0
            return Fraction(1 if s > 0 or (s == 0 and f is IsNonNeg) else 0)
        if f is sympy.exp:
            v = self._eval(e.args[0])
            if abs(v) > MAX_EXP_ARGUMENT:
                raise UndefinedAt("exp of a number too large to evaluate")
            return Fraction(1) if v == 0 else mpmath.exp(_mpf(v))
        if hyperbolic_form(f) is not None:
            v = self._eval(e.args[0])
            if abs(v) > MAX_EXP_ARGUMENT:
                raise UndefinedAt(f"{f.__name__} of a number too large to evaluate")
            if v == 0:
                if f.__name__ in ("coth", "csch"):
                    raise UndefinedAt(f"{f.__name__}(0) is undefined")
                return Fraction(int(f.__name__ in ("sech", "cosh")))
            return getattr(mpmath, f.__name__)(_mpf(v))
        if f is sympy.log:
            v = self._eval(e.args[0])
            if v <= 0:
                raise UndefinedAt("log of a non-positive number")
            return Fraction(0) if v == 1 else mpmath.log(_mpf(v))
        if f is sympy.erf:
            v = self._eval(e.args[0])
            return Fraction(0) if v == 0 else mpmath.erf(_mpf(v))
        if e.is_Number or e.is_NumberSymbol:
            return mpmath.mpf(sympy.N(e, self.dps + 5))
        raise UndefinedAt(f"cannot evaluate {f.__name__}")

    def _pow(self, base, exponent):
        if exponent.is_Integer:
            n = int(exponent)
            if base == 0 and n < 0:
                raise UndefinedAt("division by zero")
            if isinstance(base, Fraction):
                return base ** n
            return _mpf(base) ** n
        e = self._eval(exponent)
        if base == 0:
            if e > 0:
                return Fraction(0)
            raise UndefinedAt("division by zero")
        if base < 0:
            raise UndefinedAt("a non-integer power of a negative number")
        if isinstance(base, Fraction) and isinstance(e, Fraction) and e.denominator == 2:
            num, den = base.numerator, base.denominator
            rn, rd = _isqrt_exact(num), _isqrt_exact(den)
            if rn is not None and rd is not None:
                return Fraction(rn, rd) ** (2 * e)
        return mpmath.power(_mpf(base), _mpf(e))


def _isqrt_exact(n: int):
    import math
    r = math.isqrt(n)
    return r if r * r == n else None
