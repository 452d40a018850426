"""Exact evaluation of expressions at a point.

Rational points through piecewise-rational parts stay exact :class:`fractions.Fraction`;
transcendental parts (exp, log, erf, pi) are computed as balls (python-flint ``arb``) at a
stated precision, with rigorous error bounds. Step
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
from flint import arb, ctx, fmpq
from mpmath.libmp import from_man_exp
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


#: Relative error bounds past this are "no digit is known" (error() reports inf).
_LOST = 1e-3


def _bits(dps: int) -> int:
    """Working precision in bits for ``dps`` digits, with a few guard bits."""
    return int(dps * 3.3219280948873626) + 8


def _ball(v):
    """An exact Fraction as an arb ball (a dyadic one exactly, others to the precision)."""
    return arb(fmpq(v.numerator, v.denominator))


def _ball_of_mpf(v, rel: float = 0.0):
    """An mpmath number (exactly) as a ball, widened by the relative error ``rel``."""
    sign, man, exp, _ = v._mpf_
    if not man and exp:                                  # inf or nan
        return arb(0, math.inf)
    b = arb((-man if sign else man, exp))
    if rel == math.inf:
        return arb(b, math.inf)
    return arb(b, (abs(b) * rel).upper()) if rel else b


def _value(v):
    """The value a caller sees: a Fraction, or the ball's midpoint as an exact mpmath
    number; Undetermined when not even the midpoint is finite."""
    if isinstance(v, Fraction):
        return v
    mid = v.mid()
    if not mid.is_finite():
        raise Undetermined("the value is not finite at this precision")
    man, exp = mid.man_exp()
    return mpmath.mp.make_mpf(from_man_exp(int(man), int(exp)))  # exactly, not rounded


def _as_ball(v):
    """An evaluated value as an arb ball (an exact Fraction: its exact ball)."""
    return _ball(v) if isinstance(v, Fraction) else v


def _rel(v) -> float:
    """A bound on the relative error of ``_value(v)``: 0 when exact, inf when no digit
    is certain."""
    if isinstance(v, Fraction):
        return 0.0
    if not v.is_finite() or v.contains(0):
        return math.inf
    rad = v.rad()
    if rad == 0:
        return 0.0
    rel = float((rad / abs(v.mid())).upper())
    return math.inf if rel >= _LOST else max(rel, 1e-300)


def _certain_sign(v) -> int:
    """The sign of an exact value or of every point of a ball; Undetermined when the
    ball holds 0 (a value computed with rounding is never taken for an exact 0)."""
    if isinstance(v, Fraction):
        return (v > 0) - (v < 0)
    if v > 0:
        return 1
    if v < 0:
        return -1
    raise Undetermined("a step argument is within rounding of 0")


class PointEvaluator:
    """Values at one point, each with a certified bound on its error.

    ``definitions`` (symbol -> expression, each using only earlier symbols) are
    evaluated on demand; ``point`` gives the leaves; ``step0`` is Step(0).

    Exact values are :class:`~fractions.Fraction`; an inexact one is computed as a ball
    (python-flint ``arb``: a midpoint and a rigorous radius, propagated operation by
    operation) and shown as its midpoint, an mpmath number, with a bound on its relative
    error (:meth:`error`). A gate's side is taken only when the ball excludes 0, so
    cancellation never flips a sign: HardTanh of 1e-89, written -1 + (z + 1), is
    undetermined at 60 digits instead of being a kink, and a transcendental value never
    becomes an exact 0 or 1.

    >>> from sympy import exp, Symbol
    >>> z = Symbol("z")
    >>> ev = PointEvaluator({}, {z: Fraction(-1, 10**70)})
    >>> ev.error(exp(z) - 1)  # -1e-70 is lost in 60 digits
    inf
    >>> ev.error(exp(z)) < 1e-58
    True
    """

    def __init__(self, definitions: dict, point: dict, *, step0=Fraction(0),
                 dps: int = DEFAULT_DPS, zeros=None):
        self.definitions = definitions
        exact = {k: v for k, v in point.items() if _is_constant_expression(v)}
        self.values: dict = {k: to_fraction(v) if not isinstance(v, mpmath.mpf) else v
                             for k, v in point.items() if k not in exact}
        self.errors: dict = {}  # symbol -> relative error bound of its inexact value
        self.step0 = to_fraction(step0)
        self.dps = dps
        self._prec = _bits(dps)
        self._balls: dict = {}  # symbol -> (its shown value, its ball)
        self._memo: dict = {}
        self.gate_values: list = []  # (argument, value) of every Step/Iverson met
        #: ``argument -> bool``: is this gate argument proved exactly 0 at the point (a
        #: leaf solved for a kink, whose value is only known as a ball)?
        self.zeros = zeros
        for k, v in exact.items():  # an irrational leaf given exactly: its ball
            self.define(k, v)

    def __call__(self, expr):
        """The value of ``expr`` (Fraction or mpmath number)."""
        with mpmath.workdps(self.dps), ctx.workprec(self._prec):
            return _value(self._eval(_decomposed(_basic(expr))))

    def error(self, expr) -> float:
        """A bound on the relative error of ``expr``'s value (0.0 when it is exact; inf
        when no digit is certain). Evaluates ``expr`` if needed."""
        with mpmath.workdps(self.dps), ctx.workprec(self._prec):
            return _rel(self._eval(_decomposed(_basic(expr))))

    def apart(self, a, b) -> bool:
        """Are the values of ``a`` and ``b`` certainly different: their enclosures at
        this precision finite and disjoint? This holds where relative errors say
        nothing: a value that cancels to 0 (``s - relu(s)`` for s > 0) is a ball around
        0 with no certain digit, yet certainly not -0.14.

        >>> import sympy
        >>> from derivcheck.core.functions import ReLU, Sigmoid
        >>> s = Sigmoid(sympy.Symbol("x"))
        >>> ev = PointEvaluator({}, {sympy.Symbol("x"): Fraction(1)})
        >>> ev.error(s - ReLU(s)), ev.apart(s - ReLU(s), s / 7), ev.apart(s - ReLU(s), 0)
        (inf, True, False)
        """
        with mpmath.workdps(self.dps), ctx.workprec(self._prec):
            x, y = (_as_ball(self._eval(_decomposed(_basic(e)))) for e in (a, b))
        return x.is_finite() and y.is_finite() and not x.overlaps(y)

    def sign(self, expr) -> int:
        """The certified sign of ``expr``'s value; Undetermined when its error bound does
        not exclude 0."""
        with mpmath.workdps(self.dps), ctx.workprec(self._prec):
            return _certain_sign(self._eval(_decomposed(_basic(expr))))

    def define(self, symbol, expr):
        """Evaluate ``expr`` and give its value (and error bound) to ``symbol``."""
        with mpmath.workdps(self.dps), ctx.workprec(self._prec):
            ball = self._eval(_decomposed(_basic(expr)))
            value = _value(ball)
            rel = _rel(ball)
        self.values[symbol] = value
        if rel:
            self.errors[symbol] = rel
            self._balls[symbol] = (value, ball)
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
        """The value of a decomposed expression: a Fraction or an arb ball."""
        if e.is_Symbol:
            v = self.symbol(e)
            if isinstance(v, Fraction):
                return v
            known = self._balls.get(e)
            if known is not None and known[0] is v:
                return known[1]
            # a value set from outside (a leaf given as an mpmath number) is taken as given
            return _ball_of_mpf(v, self.errors.get(e, 0.0))
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q))
        out = self._memo.get(e)
        if out is None:
            out = self._memo[e] = self._eval_compound(e)
        return out

    def _eval_compound(self, e):
        if e.is_Add:
            vals = [self._eval(a) for a in e.args]
            if all(isinstance(v, Fraction) for v in vals):
                return sum(vals, Fraction(0))
            total = arb(0)
            exact = sum((v for v in vals if isinstance(v, Fraction)), Fraction(0))
            if exact:
                total = _ball(exact)
            for v in vals:
                if not isinstance(v, Fraction):
                    total += v
            return total
        if e.is_Mul:
            vals, undefined = [], None
            for a in e.args:  # an exact 0 factor makes the product 0, defined or not
                try:
                    v = self._eval(a)
                except UndefinedAt as exc:
                    undefined = undefined or exc
                    continue
                if isinstance(v, Fraction) and v == 0:
                    return Fraction(0)
                vals.append(v)
            if undefined is not None:
                raise undefined
            exact, out = Fraction(1), None
            for v in vals:
                if isinstance(v, Fraction):
                    exact *= v
                else:
                    out = v if out is None else out * v
            if out is None:
                return exact
            return out if exact == 1 else out * _ball(exact)
        if e.is_Pow:
            return self._pow(e.args[0], e.args[1])
        f = e.func
        if f in (Step, IsPos, IsNonNeg):
            v = self._eval(e.args[0])
            try:
                s = _certain_sign(v)
            except Undetermined:
                if self.zeros is None or not self.zeros(e.args[0]):
                    raise
                s, v = 0, Fraction(0)  # proved exactly 0: the gate is on its kink
            self.gate_values.append((e.args[0], _value(v) if not isinstance(v, Fraction)
                                     else v))
            if f is Step:
                return Fraction(1) if s > 0 else Fraction(0) if s < 0 else self.step0
            return Fraction(1 if s > 0 or (s == 0 and f is IsNonNeg) else 0)
        if f is sympy.log and e.args[0].is_Add and Fraction(1) in _constant(e.args[0]):
            # log(1 + x) as log1p(x): softplus(-246) is 1e-107, not log(1.0) = 0
            x = self._eval(e.args[0] - 1)
            if isinstance(x, Fraction):
                if x == 0:
                    return Fraction(0)
                if x <= -1:
                    raise UndefinedAt("log of a non-positive number")
                x = _ball(x)
            elif x <= -1:
                raise UndefinedAt("log of a non-positive number")
            return x.log1p()
        smooth = primitive_of(f)
        if smooth is not None and smooth.mpmath is not None:
            v = self._eval(e.args[0])
            if isinstance(v, Fraction):
                if any(v == Fraction(p) for p in smooth.poles):
                    raise UndefinedAt(f"{smooth.mpmath}({v}) is undefined")
                at, value = smooth.exact_at or (None, None)
                if v == at:
                    return Fraction(value)  # exp(0) = 1, log(1) = 0, cosh(0) = 1, ...
            return self._smooth(smooth.mpmath, v)
        if e is sympy.pi:
            return arb.pi()
        if e is sympy.E:
            return arb(1).exp()
        if isinstance(e, sympy.Float):
            return _ball_of_mpf(mpmath.mpf(e._mpf_))
        if e.is_Number or e.is_NumberSymbol:
            v = mpmath.mpf(sympy.N(e, self.dps + 5))
            return _ball_of_mpf(v, 10.0 ** -(self.dps + 3))
        raise UndefinedAt(f"cannot evaluate {f.__name__}")

    def _smooth(self, name: str, v):
        """exp, log, erf or a hyperbolic function (by name) of ``v``, as a ball."""
        x = _ball(v) if isinstance(v, Fraction) else v
        if name in ("exp", "sinh", "cosh", "tanh", "sech", "coth", "csch") and \
                not abs(x) <= MAX_EXP_ARGUMENT:
            if abs(x) > MAX_EXP_ARGUMENT:
                raise UndefinedAt(f"{name} of a number too large to evaluate")
            raise Undetermined(f"{name} of a number not known to be small enough")
        if name == "log" and not x > 0:
            if x <= 0:
                raise UndefinedAt("log of a non-positive number")
            raise Undetermined("log of a number within rounding of 0")
        return getattr(x, name)()

    def _pow(self, base_expr, exponent):
        base = self._eval(base_expr)
        if exponent.is_Integer:
            n = int(exponent)
            if isinstance(base, Fraction):
                if base == 0 and n < 0:
                    raise UndefinedAt("division by zero")
                return base ** n
            return base ** n
        e = self._eval(exponent)
        if isinstance(base, Fraction):
            if base == 0:
                if e > 0:
                    return Fraction(0)
                raise UndefinedAt("division by zero")
            if base < 0:
                raise UndefinedAt("a non-integer power of a negative number")
            if isinstance(e, Fraction) and e.denominator == 2:
                rn, rd = _isqrt_exact(base.numerator), _isqrt_exact(base.denominator)
                if rn is not None and rd is not None:
                    return Fraction(rn, rd) ** (2 * e)
            base = _ball(base)
        elif not base > 0:
            if base < 0:
                raise UndefinedAt("a non-integer power of a negative number")
            raise Undetermined("a power of a number within rounding of 0")
        if isinstance(e, Fraction) and e.denominator == 2 and e.numerator == 1:
            return base.sqrt()
        return base ** (_ball(e) if isinstance(e, Fraction) else e)


def _is_constant_expression(v) -> bool:
    """A SymPy number that is not rational (``6/log(1 + exp(3/2))``): a leaf's exact
    irrational value."""
    return isinstance(v, sympy.Basic) and not v.is_Rational and not isinstance(
        v, sympy.Float) and not v.free_symbols


def _constant(add) -> set:
    """The rational constant terms of an Add, as Fractions."""
    return {Fraction(int(a.p), int(a.q)) for a in add.args if a.is_Rational}


def _basic(expr):
    return expr if isinstance(expr, sympy.Basic) else sympy.Integer(expr)


def _isqrt_exact(n: int):
    import math
    r = math.isqrt(n)
    return r if r * r == n else None
