"""Points for the oracle at training sizes: named float64 arrays that make sense.

:func:`random_arrays` draws every array of a matrix network as small dyadic rationals
(quarters, weights scaled by a power of two near 1/sqrt(fan-in) as initialisers do), so
float64 code computes the forward pass of a piecewise-linear network *exactly* and sees
the same point as the oracle. Targets fit the loss: one-hot columns for cross-entropy,
values in [0, 1] for bce. :func:`place_kinks` then puts one unit of every piecewise layer
exactly on a breakpoint (by moving its bias, or a weight whose input is a power of two),
checked to be a float64 number, so a vector labelled ``at_kink`` is on the kink in
float64 arithmetic too.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork([4, 3, 2], "relu,identity", "cross_entropy", bias=True)
>>> arrays = random_arrays(net, 0)
>>> arrays["Y"].T.tolist(), arrays["W1"].shape
([[1.0, 0.0]], (3, 4))
>>> on, sites = place_kinks(net, arrays, "torch")
>>> sites
[('Z1', (0, 0), 0)]
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .arrays import ArrayOracle
from .dyadic import Mat
from .units import breakpoints

__all__ = ["random_arrays", "place_kinks"]


def _pow2_near(x: float) -> int:
    return 1 << max(0, round(math.log2(max(x, 1.0))))


def random_arrays(net, seed=0, batch: int | None = None) -> dict:
    """Every array of ``net`` (style names and layout), dyadic and float64-exact."""
    rng = np.random.default_rng(seed)
    oracle = ArrayOracle(net)
    net = oracle.net
    m = net.batch if isinstance(net.batch, int) else (batch or 2)
    out = {}
    for name, key in oracle._keys.items():
        shape = net.canonical_shape(key)
        shape = tuple(m if d == net.batch else d for d in shape)
        kind = key[0]
        if kind == "X":
            a = rng.integers(1, 13, shape) / 4
        elif kind == "Y":
            if net.loss == "cross_entropy":
                a = np.zeros(shape)
                a[rng.integers(0, shape[0], shape[1]), np.arange(shape[1])] = 1.0
            elif net.loss == "bce":
                a = rng.integers(0, 5, shape) / 4
            else:
                a = rng.integers(-12, 13, shape) / 4
        elif kind == "W":
            k = rng.integers(1, 13, shape) * rng.choice([-1, 1], shape)
            a = k / (4 * _pow2_near(math.sqrt(shape[1])))
        else:
            a = rng.integers(-4, 5, shape) / 4
        view = net.view(key)
        out[name] = a.T if view == "T" else a.reshape(-1) if view == "vec" else a
    return out


def place_kinks(net, arrays: dict, convention="torch") -> tuple[dict, list]:
    """The arrays moved so that one unit of each piecewise layer sits exactly on a
    breakpoint; returns (arrays, [(pre-activation name, (unit, example), breakpoint)]).

    Layers behind a transcendental activation are skipped: float64 code cannot reach an
    exact breakpoint there.
    """
    oracle = ArrayOracle(net, convention)
    net = oracle.net
    arrays = {k: np.array(v, dtype=np.float64, copy=True) for k, v in arrays.items()}
    sites = []
    for l in range(1, net.L + 1):
        act = net.activation(l)
        if act == "softmax":
            break
        points = breakpoints(act)
        if points:
            values = oracle.canonical(arrays)
            A, Z, _ = oracle.forward(values, oracle.step0)
            if not A[l - 1].exact:
                break
            site = _place(net, oracle, arrays, values, A[l - 1], Z[l], l, points[0])
            if site is not None:
                sites.append((net.name(("Z", l)), site, points[0]))
    return arrays, sites


def _set(net, arrays: dict, key, idx, value: float) -> None:
    """Set canonical entry ``idx`` of quantity ``key`` in the style's arrays."""
    name, view = net.name(key), net.view(key)
    if view == "T":
        arrays[name][idx[::-1]] = value
    elif view == "vec":
        arrays[name][idx[0]] = value
    else:
        arrays[name][idx] = value


def _float_exact(q: Fraction) -> bool:
    f = float(q)
    return math.isfinite(f) and Fraction(f) == q


def _place(net, oracle, arrays, values, A: Mat, Z: Mat, l: int, at) -> tuple | None:
    n, m = Z.shape
    for i in range(n):
        j = 0
        z = Z.entry((i, j))
        if net.has_bias(l):
            b = values[("b", l)].entry((i, 0))
            new = Fraction(at) - (z - b)
            if _float_exact(new):
                _set(net, arrays, ("b", l), (i, 0), float(new))
                return (i, j)
        W = values[("W", l)]
        for c in range(A.shape[0]):
            a = A.entry((c, j))
            if a == 0 or abs(a.numerator) & (abs(a.numerator) - 1) or a.denominator & (a.denominator - 1):
                continue   # not a power of two: the new weight may not be dyadic
            new = W.entry((i, c)) + (Fraction(at) - z) / a
            if _float_exact(new):
                _set(net, arrays, ("W", l), (i, c), float(new))
                return (i, j)
    return _two_weights(net, arrays, A, l, at)


def _two_weights(net, arrays, A: Mat, l: int, at) -> tuple | None:
    """No bias and no input a power of two: unit 1's row gets two weights that cancel,
    W[1, c] = a_d and W[1, d] = -a_c, the rest 0 (only for a breakpoint at 0)."""
    if at != 0:
        return None
    nonzero = [c for c in range(A.shape[0]) if A.entry((c, 0)) != 0]
    if len(nonzero) < 2:
        return None
    c, d = nonzero[:2]
    row = np.zeros(A.shape[0])
    row[c], row[d] = float(A.entry((d, 0))), -float(A.entry((c, 0)))
    if Fraction(row[c]) != A.entry((d, 0)) or Fraction(row[d]) != -A.entry((c, 0)):
        return None
    for k, v in enumerate(row):
        _set(net, arrays, ("W", l), (0, k), v)
    return (0, 0)
