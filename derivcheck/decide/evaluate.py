"""Exact evaluation of expressions at a point.

Rational points through piecewise-rational parts stay exact :class:`fractions.Fraction`;
transcendental parts (exp, log, erf, pi) switch to mpmath at a stated precision. Step
takes the given value at 0 (the kink convention), the Iverson brackets their fixed ones.

Expressions are first rewritten by :func:`derivcheck.core.functions.decompose`, so only a
handful of primitives are ever evaluated here.

>>> from fractions import Fraction
>>> from sympy import symbols
>>> from derivcheck.core.functions import ReLU, Step
>>> w, x = symbols("w x")
>>> ev = PointEvaluator({}, {w: Fraction(-2), x: Fraction(1, 2)}, step0=Fraction(1, 2))
>>> ev(ReLU(w * x) + Step(w + 4 * x))
Fraction(1, 2)
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy
from sympy import Symbol

from ..core.functions import IsNonNeg, IsPos, Step, decompose
from ..core.primitives import primitive_of

__all__ = ["PointEvaluator", "Undetermined", "UndefinedAt", "to_fraction", "is_exact",
           "DEFAULT_DPS"]

#: Decimal digits used for transcendental parts.
DEFAULT_DPS = 60
#: Largest |z| for which exp(z) is computed: mpmath stalls on exp(exp(exp(exp(3)))).
MAX_EXP_ARGUMENT = 10**9


class Undetermined(Exception):
    """The sign of a transcendental value is too close to 0 to decide at this precision."""


class UndefinedAt(Exception):
    """The expression is undefined at the point (division by zero, log of a non-positive)."""


class _Undefined:
    """The value of a definition that is undefined at the point: an error where it is
    used, except as a factor of a product with an exact 0 factor (a dead unit's
    Step(z) = 0 times an infinite dC/da, as backpropagation computes it)."""

    def __init__(self, message: str):
        self.message = message


def _defined(value):
    if isinstance(value, _Undefined):
        raise UndefinedAt(value.message)
    return value


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


@lru_cache(maxsize=200_000)
def _decomposed(expr):
    return decompose(expr)


def _mpf(v):
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return v


#: Relative error bounds past this are "no digit is known" (signs undetermined).
_LOST = 1e-3


def _certain_sign(v, rel) -> int:
    """The sign of a value whose relative error is at most ``rel`` (0 for exact values);
    Undetermined when the error bound does not exclude 0."""
    if isinstance(v, Fraction):
        return (v > 0) - (v < 0)
    if not v or rel >= 0.5:
        raise Undetermined("a step argument is within rounding of 0")
    return 1 if v > 0 else -1


class PointEvaluator:
    """Values at one point, each with a certified bound on its relative error.

    ``definitions`` (symbol -> expression, each using only earlier symbols) are
    evaluated on demand; ``point`` gives the leaves; ``step0`` is Step(0).

    Exact values are :class:`~fractions.Fraction`; an inexact one (an mpmath number) comes
    with a bound on its relative error (:meth:`error`), propagated operation by
    operation (a running error analysis). A gate's side is taken only when that bound
    excludes 0, so cancellation never flips a sign: HardTanh of 1e-89, written
    -1 + (z + 1), is undetermined at 60 digits instead of being a kink, and a
    transcendental value never becomes an exact 0 or 1.

    >>> from sympy import exp, Symbol
    >>> z = Symbol("z")
    >>> ev = PointEvaluator({}, {z: Fraction(-1, 10**70)})
    >>> ev(exp(z) - 1), ev.error(exp(z) - 1)  # -1e-70 is lost in 60 digits
    (mpf('0.0'), inf)
    >>> ev.error(exp(z)) < 1e-58
    True
    """

    def __init__(self, definitions: dict, point: dict, *, step0=Fraction(0),
                 dps: int = DEFAULT_DPS):
        self.definitions = definitions
        self.values: dict = {k: to_fraction(v) if not isinstance(v, mpmath.mpf) else v
                             for k, v in point.items()}
        self.errors: dict = {}  # symbol -> relative error bound of its inexact value
        self.step0 = to_fraction(step0)
        self.dps = dps
        # one rounding (mpmath rounds correctly; a few ulps for its functions), as a
        # float: past 300 digits 1e-300 overestimates it, which keeps the bounds sound
        self._ulp = 4.0 * 10.0 ** -min(dps - 1, 300)
        self._memo: dict = {}
        self.gate_values: list = []  # (argument, value) of every Step/Iverson met

    def __call__(self, expr):
        """The value of ``expr`` (Fraction or mpmath number)."""
        with mpmath.workdps(self.dps):
            return self._eval(_decomposed(_basic(expr)))[0]

    def error(self, expr) -> float:
        """A bound on the relative error of ``expr``'s value (0.0 when it is exact; at
        least 1e-3 means no digit is certain). Evaluates ``expr`` if needed."""
        with mpmath.workdps(self.dps):
            return self._eval(_decomposed(_basic(expr)))[1]

    def sign(self, expr) -> int:
        """The certified sign of ``expr``'s value; Undetermined when its error bound does
        not exclude 0."""
        with mpmath.workdps(self.dps):
            return _certain_sign(*self._eval(_decomposed(_basic(expr))))

    def define(self, symbol, expr):
        """Evaluate ``expr`` and give its value (and error bound) to ``symbol``."""
        with mpmath.workdps(self.dps):
            value, rel = self._eval(_decomposed(_basic(expr)))
        self.values[symbol] = value
        if rel:
            self.errors[symbol] = rel
        return value

    def symbol(self, s: Symbol):
        """The value of a leaf or a defined symbol (definitions evaluated in order)."""
        if s in self.values:
            return _defined(self.values[s])
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
                try:
                    self.define(top, self.definitions[top])
                except UndefinedAt as exc:  # an error only where it is used, not times 0
                    self.values[top] = _Undefined(str(exc))
        return _defined(self.values[s])

    def _eval(self, e):
        """(value, relative error bound) of a decomposed expression."""
        if e.is_Symbol:
            v = self.symbol(e)
            # a value set from outside (a leaf given as an mpmath number) is taken as given
            return v, self.errors.get(e, 0.0)
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q)), 0.0
        out = self._memo.get(e)
        if out is None:
            v, rel = self._eval_compound(e)
            if not isinstance(v, Fraction) and (not v or rel >= _LOST):
                rel = math.inf  # nothing is known about it, not even its sign
            out = self._memo[e] = (v, rel)
        return out

    def _eval_compound(self, e):
        if e.is_Add:
            vals = [self._eval(a) for a in e.args]
            if all(isinstance(v, Fraction) for v, _ in vals):
                return sum((v for v, _ in vals), Fraction(0)), 0.0
            total = mpmath.fsum([_mpf(v) for v, _ in vals])
            if any(r == math.inf for _, r in vals):
                return total, math.inf
            # the terms' absolute errors (an exact term is rounded once on conversion),
            # plus fsum's one rounding of the exact sum
            spread = mpmath.fsum([abs(_mpf(v)) * (r or self._ulp) for v, r in vals])
            if not total:
                return total, math.inf
            return total, float(spread / abs(total)) + self._ulp
        if e.is_Mul:
            out, rel = Fraction(1), 0.0
            vals, undefined = [], None
            for a in e.args:  # an exact 0 factor makes the product 0, defined or not
                try:
                    v, r = self._eval(a)
                except UndefinedAt as exc:
                    undefined = undefined or exc
                    continue
                if isinstance(v, Fraction) and v == 0:
                    return Fraction(0), 0.0
                vals.append((v, r))
            if undefined is not None:
                raise undefined
            for v, r in vals:
                if isinstance(out, Fraction) and isinstance(v, Fraction):
                    out = out * v
                else:
                    out = _mpf(out) * _mpf(v)  # an exact operand is rounded once too
                    rel = rel + r + rel * r + 2 * self._ulp
            return out, rel
        if e.is_Pow:
            return self._pow(e.args[0], e.args[1])
        f = e.func
        if f in (Step, IsPos, IsNonNeg):
            v, r = self._eval(e.args[0])
            self.gate_values.append((e.args[0], v))
            s = _certain_sign(v, r)
            if f is Step:
                return (Fraction(1) if s > 0 else Fraction(0) if s < 0 else self.step0), 0.0
            return Fraction(1 if s > 0 or (s == 0 and f is IsNonNeg) else 0), 0.0
        if f is sympy.log and e.args[0].is_Add and Fraction(1) in _constant(e.args[0]):
            # log(1 + x) as log1p(x): softplus(-246) is 1e-107, not log(1.0) = 0
            x, r = self._eval(e.args[0] - 1)
            if isinstance(x, Fraction) and x == 0:
                return Fraction(0), 0.0
            if x <= -1:
                raise UndefinedAt("log of a non-positive number")
            y = mpmath.log1p(_mpf(x))
            cond = abs(_mpf(x)) / (abs(1 + _mpf(x)) * abs(y)) if y else math.inf
            return y, self._through(float(cond), r)
        smooth = primitive_of(f)
        if smooth is not None and smooth.mpmath is not None:
            v, r = self._eval(e.args[0])
            if isinstance(v, Fraction):
                if any(v == Fraction(p) for p in smooth.poles):
                    raise UndefinedAt(f"{smooth.mpmath}({v}) is undefined")
                at, value = smooth.exact_at or (None, None)
                if v == at:
                    return Fraction(value), 0.0  # exp(0) = 1, log(1) = 0, cosh(0) = 1, ...
            return self._smooth(smooth.mpmath, v, r)
        if e.is_Number or e.is_NumberSymbol:
            return mpmath.mpf(sympy.N(e, self.dps + 5)), self._ulp
        raise UndefinedAt(f"cannot evaluate {f.__name__}")

    def _through(self, cond: float, rel: float) -> float:
        """A function's relative error: its argument's, times the condition number
        |z f'(z) / f(z)| (doubled, as first order), plus the function's own rounding."""
        if rel == math.inf or cond == math.inf:
            return math.inf
        return 2.0 * cond * rel + self._ulp if rel else self._ulp

    def _smooth(self, name: str, v, r):
        """exp, log, erf or a hyperbolic function (by name) of ``v``, with its bound."""
        x = _mpf(v)
        if name in ("exp", "sinh", "cosh", "tanh", "sech", "coth", "csch") and \
                abs(x) > MAX_EXP_ARGUMENT:
            raise UndefinedAt(f"{name} of a number too large to evaluate")
        if name == "log" and x <= 0:
            raise UndefinedAt("log of a non-positive number")
        y = getattr(mpmath, name)(x)
        if name == "exp":
            cond = abs(x)
        elif name == "log":
            cond = 1 / abs(y) if y else math.inf
        elif name == "erf":
            cond = abs(x) * 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x) / abs(y)
        else:  # the hyperbolic functions: |z f'/f| is at most 1 + |z| for each
            cond = 1 + abs(x)
        return y, self._through(float(cond), r)

    def _pow(self, base_expr, exponent):
        base, rb = self._eval(base_expr)
        if exponent.is_Integer:
            n = int(exponent)
            if base == 0 and n < 0:
                raise UndefinedAt("division by zero")
            if isinstance(base, Fraction):
                return base ** n, 0.0
            if rb == math.inf:
                return _mpf(base) ** n, math.inf
            # (1 + r)^k - 1 and 1/(1 - r)^k - 1 are at most 1.0011 k r while k r < 1e-3
            # (1 + r is 1.0 in floating point: the bound must not be computed as such)
            k = abs(n)
            grow = 1.0011 * k * rb if k * rb < _LOST else math.inf
            return _mpf(base) ** n, grow + self._ulp * (2 + math.log2(k + 1))
        e, re_ = self._eval(exponent)
        if base == 0:
            if e > 0:
                return Fraction(0), 0.0
            raise UndefinedAt("division by zero")
        if base < 0:
            raise UndefinedAt("a non-integer power of a negative number")
        if isinstance(base, Fraction) and isinstance(e, Fraction) and e.denominator == 2:
            num, den = base.numerator, base.denominator
            rn, rd = _isqrt_exact(num), _isqrt_exact(den)
            if rn is not None and rd is not None:
                return Fraction(rn, rd) ** (2 * e), 0.0
        y = mpmath.power(_mpf(base), _mpf(e))
        if rb == math.inf or re_ == math.inf:
            return y, math.inf
        # d(b^e)/b^e = e db/b + e log(b) de/e
        first = abs(_mpf(e)) * (rb + self._ulp) + abs(_mpf(e) * mpmath.log(_mpf(base))) * (
            re_ + self._ulp)
        return y, 2.0 * float(first) + self._ulp


def _constant(add) -> set:
    """The rational constant terms of an Add, as Fractions."""
    return {Fraction(int(a.p), int(a.q)) for a in add.args if a.is_Rational}


def _basic(expr):
    return expr if isinstance(expr, sympy.Basic) else sympy.Integer(expr)


def _isqrt_exact(n: int):
    import math
    r = math.isqrt(n)
    return r if r * r == n else None
