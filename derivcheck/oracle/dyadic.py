"""Exact and certified matrices for the oracle at training sizes.

A :class:`Mat` is an integer matrix ``M`` over one positive denominator ``D`` (the exact
value ``M / D``), optionally with a radius matrix ``R`` (float64, an upper bound): then the
true value lies in ``[M/D - R, M/D + R]`` entry by entry (a ball, as python-flint's ``arb``
gives, with an exact rational midpoint). Floats given by users are dyadic rationals, so a
float matrix is exactly ``M / 2^k``; a batch mean or a leaky slope of 1/100 just changes
``D``. ``M`` is a numpy ``int64`` array while every product provably fits in 63 bits
(bounds are checked before each operation), and an ``object`` array of Python integers
otherwise, so arithmetic never overflows and never rounds.

Transcendental functions (exp, tanh, log, erf) are applied entry by entry with
python-flint's ``arb`` balls at ``prec`` bits; the result's midpoint is truncated to a
multiple of ``2^-prec`` and the truncation is added to the radius. Radii then travel
through the linear algebra as float64 upper bounds (rounding covered by a relative slack).

>>> import numpy as np
>>> a = Mat.from_floats(np.array([[0.5, -1.25]]))
>>> a.M.tolist(), a.D
([[2, -5]], 4)
>>> (a @ a.T).fractions().tolist()
[[Fraction(29, 16)]]
>>> a.scale(Fraction(1, 3)).floats().tolist()
[[0.16666666666666666, -0.4166666666666667]]
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

__all__ = ["Mat", "NeedPrecision"]

_LIMIT = 2 ** 62
#: Relative slack on every float64 radius computation (covers float64 rounding of sums of
#: up to millions of terms many times over).
_SLACK = 1 + 2.0 ** -30
_TINY = 1e-300


class NeedPrecision(ArithmeticError):
    """A decision (a sign, a comparison) is not certain at the current precision."""


def _maxabs(M) -> int:
    if M.size == 0:
        return 0
    return max(int(M.max()), -int(M.min()))


def _obj(M):
    return M if M.dtype == object else M.astype(object)


def _fits(bound: int) -> bool:
    return bound < _LIMIT


def _shrink(M):
    """An object array back to int64 when its entries fit."""
    if M.dtype == object and _fits(_maxabs(M)):
        return M.astype(np.int64)
    return M


class Mat:
    """``M / D`` (exact), or a ball ``M / D +- R`` (``R`` float64, None when exact)."""

    __slots__ = ("M", "D", "R", "_b", "_f")

    def __init__(self, M, D: int = 1, R=None, bound: int | None = None):
        self.M, self.D, self.R, self._b, self._f = M, int(D), R, bound, None

    @property
    def bound(self) -> int:
        """An upper bound on |M| (exact when computed here, derived after arithmetic)."""
        if self._b is None:
            self._b = _maxabs(self.M)
        return self._b

    # -- building -------------------------------------------------------------------------
    @classmethod
    def from_floats(cls, array) -> "Mat":
        """A float array, exactly (every float is a dyadic rational)."""
        a = np.asarray(array, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError("the array holds a NaN or an infinity")
        if a.size == 0:
            return cls(np.zeros(a.shape, np.int64))
        mant, expo = np.frexp(a)                       # a = mant * 2^expo, |mant| in [0.5, 1)
        nonzero = mant != 0
        if not nonzero.any():
            return cls(np.zeros(a.shape, np.int64), 1, None, 0)
        top, low = int(expo[nonzero].max()), int(expo[nonzero].min())
        if top - low <= 9:      # one shift makes every entry an integer below 2^62
            k = 53 - low
            M = np.ldexp(a, k).astype(np.int64)
            tz = _ctz(int(np.bitwise_or.reduce(np.abs(M).ravel())))
            k -= tz
            M >>= tz
            return cls(M, 1 << k) if k >= 0 else cls(_times(M, 1 << -k, 2 ** 62), 1)
        ints = np.ldexp(mant, 53).astype(np.int64)      # exact: 53-bit mantissas
        shift = expo.astype(np.int64) - 53              # a = ints * 2^shift
        nonzero = ints != 0
        low = int(shift[nonzero].min()) if nonzero.any() else 0
        # trailing zero bits let the common denominator shrink
        tz = _trailing_zeros(ints[nonzero])
        low = int((shift[nonzero] + tz).min()) if nonzero.any() else 0
        ints = np.where(nonzero, ints, 0)
        k = shift - low                                 # >= -tz: ints * 2^k is an integer
        if nonzero.any() and int((k + 53).max()) < 62:
            M = np.where(k >= 0, ints << np.maximum(k, 0), ints >> np.maximum(-k, 0))
        else:
            big = ints.astype(object)
            M = _shrink(np.where(k >= 0, big << np.maximum(k, 0).astype(object),
                                 big >> np.maximum(-k, 0).astype(object)))
        if low >= 0:
            return cls(_obj(M) * (1 << low) if low else M, 1)._normal()
        return cls(M, 1 << -low)

    @classmethod
    def from_fractions(cls, array) -> "Mat":
        """An array of Fractions (or ints), exactly."""
        a = np.asarray(array, dtype=object)
        fr = [Fraction(v) for v in a.flat]
        D = math.lcm(*(f.denominator for f in fr)) if fr else 1
        M = np.array([f.numerator * (D // f.denominator) for f in fr], dtype=object)
        return cls(_shrink(M.reshape(a.shape)), D)

    def _normal(self) -> "Mat":
        if self.M.dtype == object and _fits(self.bound):
            self.M = self.M.astype(np.int64)
        return self

    # -- shape ----------------------------------------------------------------------------
    @property
    def shape(self):
        return self.M.shape

    @property
    def T(self) -> "Mat":
        out = Mat(self.M.T, self.D, None if self.R is None else self.R.T, self._b)
        out._f = None if self._f is None else self._f.T
        return out

    @property
    def exact(self) -> bool:
        return self.R is None

    def reshape(self, *shape) -> "Mat":
        return Mat(self.M.reshape(*shape), self.D, None if self.R is None
                   else self.R.reshape(*shape), self._b)

    # -- values ---------------------------------------------------------------------------
    def mids(self) -> np.ndarray:
        """The midpoints as float64 (within an ulp or two)."""
        if self._f is not None:
            return self._f
        if self.D < 2 ** 1000 and self.bound.bit_length() < 1000:
            out = self.M.astype(np.float64) / float(self.D)
        else:
            out = np.empty(self.shape, dtype=np.float64)
            for idx, v in np.ndenumerate(self.M):
                out[idx] = float(Fraction(int(v), self.D))
        self._f = out
        return out

    def floats(self) -> np.ndarray:
        return self.mids()

    def absbound(self) -> np.ndarray:
        """|value| bounded above entry by entry (float64)."""
        out = _up(np.abs(self.mids()), self.M != 0)
        return out if self.R is None else out + self.R

    def fractions(self) -> np.ndarray:
        """The exact values (midpoints for a ball) as an object array of Fractions."""
        out = np.empty(self.shape, dtype=object)
        D = self.D
        for idx, v in np.ndenumerate(self.M):
            out[idx] = Fraction(int(v), D)
        return out

    def entry(self, idx) -> Fraction:
        return Fraction(int(self.M[idx]), self.D)

    # -- arithmetic -----------------------------------------------------------------------
    def _common(self, other: "Mat"):
        L = self.D * other.D // math.gcd(self.D, other.D)
        a, b = L // self.D, L // other.D
        return (_times(self.M, a, self.bound), _times(other.M, b, other.bound), L,
                self.bound * a, other.bound * b)

    def __add__(self, other: "Mat") -> "Mat":
        A, B, L, ba, bb = self._common(other)
        bound = ba + bb
        M = A + B if _fits(bound) or A.dtype == object or B.dtype == object \
            else _obj(A) + _obj(B)
        return Mat(M, L, _radd(self.R, other.R), bound)._normal()

    def __neg__(self) -> "Mat":
        return Mat(-self.M, self.D, self.R, self._b)

    def __sub__(self, other: "Mat") -> "Mat":
        return self + (-other)

    def __mul__(self, other: "Mat") -> "Mat":
        """Elementwise (numpy broadcasting)."""
        bound = self.bound * other.bound
        M = self.M * other.M if _fits(bound) else _obj(self.M) * _obj(other.M)
        R = None
        if self.R is not None or other.R is not None:
            R = _rmul(self, other)
        return Mat(M, self.D * other.D, R, bound)

    def __matmul__(self, other: "Mat") -> "Mat":
        inner = self.shape[-1]
        bound = self.bound * other.bound * max(inner, 1)
        if _fits(bound):
            M = self.M @ other.M
        elif inner == 1:     # an outer product: elementwise is much faster on objects
            M = _obj(self.M) * _obj(other.M).reshape(1, -1)
            out = Mat(M, self.D * other.D, None, bound)
            # each entry is one product: its float is the product of the floats to an ulp
            out._f = self.mids() * other.mids().reshape(1, -1)
            if self.R is not None or other.R is not None:
                out.R = _rmul(self, Mat(other.M.reshape(1, -1), other.D,
                                        None if other.R is None else other.R.reshape(1, -1)))
            return out
        else:
            M = _obj(self.M) @ _obj(other.M)
        R = None
        if self.R is not None or other.R is not None:
            a, b = self.absbound(), other.absbound()
            ra = np.zeros(self.shape) if self.R is None else self.R
            rb = np.zeros(other.shape) if other.R is None else other.R
            R = _up((ra @ b + np.abs(self.mids()) @ rb) * _SLACK,
                    (ra > 0) @ (b > 0) | (self.M != 0) @ (rb > 0))
            del a
        return Mat(M, self.D * other.D, R, bound)

    def scale(self, c: Fraction) -> "Mat":
        c = Fraction(c)
        M = _times(self.M, c.numerator, self.bound)
        R = None if self.R is None else self.R * abs(float(c)) * _SLACK
        return Mat(M, self.D * c.denominator, R, self.bound * abs(c.numerator))._normal()

    def total(self, axis: int) -> "Mat":
        """Sum over ``axis``, keeping it (length 1)."""
        bound = self.bound * self.shape[axis]
        M = self.M.sum(axis=axis, keepdims=True) if _fits(bound) \
            else _obj(self.M).sum(axis=axis, keepdims=True)
        R = None if self.R is None else self.R.sum(axis=axis, keepdims=True) * _SLACK
        return Mat(M, self.D, R, bound)

    def where(self, mask, other: "Mat") -> "Mat":
        """Entry by entry: self where ``mask`` else other (same shapes)."""
        A, B, L, ba, bb = self._common(other)
        if A.dtype != B.dtype:
            A, B = _obj(A), _obj(B)
        R = None
        if self.R is not None or other.R is not None:
            ra = np.zeros(self.shape) if self.R is None else self.R
            rb = np.zeros(other.shape) if other.R is None else other.R
            R = np.where(mask, ra, rb)
        return Mat(np.where(mask, A, B), L, R, max(ba, bb))._normal()

    def signs(self) -> np.ndarray:
        """-1, 0, 1 entry by entry; NeedPrecision when a ball holds 0 and is not 0."""
        s = np.sign(self.M).astype(np.int64) if self.M.dtype != object else \
            np.array([(v > 0) - (v < 0) for v in self.M.flat], dtype=np.int64).reshape(self.shape)
        if self.R is not None:
            unsure = (self.R > 0) & (np.abs(self.mids()) <= self.R * _SLACK + _TINY)
            if unsure.any():
                raise NeedPrecision("a sign is not certain")
        return s

    def compare(self, value: Fraction) -> np.ndarray:
        """sign(self - value) entry by entry."""
        v = Fraction(value)
        return (self - Mat(np.full(self.shape, v.numerator, dtype=np.int64),
                           v.denominator)).signs()

    def widened(self) -> float:
        """The largest radius relative to the largest |entry| (0 when exact)."""
        if self.R is None or self.R.size == 0:
            return 0.0
        scale = float(np.abs(self.mids()).max())
        return float(self.R.max()) / scale if scale else float(self.R.max())


def _ctz(n: int) -> int:
    return (n & -n).bit_length() - 1 if n else 0


def _trailing_zeros(ints) -> np.ndarray:
    a = np.abs(ints)
    return (np.log2((a & -a).astype(np.float64))).astype(np.int64)


def _times(M, k: int, bound: int):
    if k == 1:
        return M
    if M.dtype != object and _fits(abs(k)) and _fits(bound * abs(k)):
        return M * k
    return _obj(M) * k


def _radd(ra, rb):
    if ra is None and rb is None:
        return None
    if ra is None:
        return rb * _SLACK
    if rb is None:
        return ra * _SLACK
    return (ra + rb) * _SLACK


def _rmul(a: Mat, b: Mat) -> np.ndarray:
    """Radius of an elementwise product of balls."""
    ma, mb = _up(np.abs(a.mids()), a.M != 0), _up(np.abs(b.mids()), b.M != 0)
    ra = np.zeros(a.shape) if a.R is None else a.R
    rb = np.zeros(b.shape) if b.R is None else b.R
    live = (ma > 0) & (rb > 0) | (ra > 0) & ((mb > 0) | (rb > 0))
    return _up((ma * rb + ra * mb + ra * rb) * _SLACK, live)


def _up(values, live) -> np.ndarray:
    """An upper bound: ``values`` widened (float rounding, underflow) where ``live``, and
    exactly 0 where no nonzero term entered (an exact zero stays exact)."""
    return np.where(live, values * _SLACK + _TINY, 0.0)
