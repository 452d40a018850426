"""Test vectors for matrix networks at training sizes: named arrays in JSON or npz.

:func:`make_array_vectors` is what ``derivcheck vectors --widths 784,128,10 ...`` writes:
per point, every array (style names and layout) as exact strings, the loss, every
parameter's gradient exact (``"3/7"``; a 20-digit decimal where it is transcendental, known
to 2^-70 of the array's largest entry) and as float64, and whether the point is a kink.
:func:`save_npz` writes the same as arrays by name (``0/point/W1``, ``0/gradient/W1``
float64, ``0/gradient_exact/W1`` strings, ``0/loss``, ``0/at_kink``).

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork([2, 2, 1], "relu,identity", bias=True)
>>> data = make_array_vectors(net, points=1, kinks=True)
>>> [v["at_kink"] for v in data["vectors"]], data["shapes"]["W1"]
([False, True], [2, 2])
"""
from __future__ import annotations

import decimal
from fractions import Fraction

import numpy as np

from .array_points import place_kinks, random_arrays
from .arrays import ArrayOracle, at_kink
from .dyadic import Mat

__all__ = ["make_array_vectors", "save_npz"]

_CTX = decimal.Context(prec=20)


def _text(mat) -> np.ndarray:
    """Exact strings of a Mat's entries (20-digit decimals for balls)."""
    out = np.empty(mat.shape, dtype=object)
    D = mat.D
    if not mat.exact:
        d = decimal.Decimal(D)
        for idx, v in np.ndenumerate(mat.M):
            out[idx] = format(_CTX.divide(decimal.Decimal(int(v)), d), "g")
        return out
    if mat.M.dtype != object and D < 2 ** 62:
        g = np.gcd(mat.M, D)
        nums, dens = (mat.M // g).ravel().tolist(), (D // g).ravel().tolist()
        out.ravel()[:] = [str(n) if q == 1 else f"{n}/{q}" for n, q in zip(nums, dens)]
        return out
    for idx, v in np.ndenumerate(mat.M):
        f = Fraction(int(v), D)
        out[idx] = str(f.numerator) if f.denominator == 1 else str(f)
    return out


def make_array_vectors(net, *, points: int = 2, kinks: bool = True, convention="torch",
                       seed=0, arrays_out: bool = False) -> dict:
    """``points`` random points plus (with ``kinks``) one with a unit of every piecewise
    layer exactly on a breakpoint; gradients under ``convention``. With ``arrays_out``
    the values stay numpy arrays (for npz) instead of nested lists."""
    oracle = ArrayOracle(net, convention)
    net = oracle.net
    draws = [(random_arrays(net, seed + k), []) for k in range(points)]
    if kinks:
        draws.append(place_kinks(net, random_arrays(net, seed + points), convention))
    vectors = []
    for arrays, sites in draws:
        g = oracle.gradients(arrays)
        loss = _text(g.loss_mat)[0, 0]
        exact = {k: _text(m) for k, m in g.mats.items()}
        conv = (lambda a: a) if arrays_out else (lambda a: a.tolist())
        vectors.append({
            "point": {} if arrays_out else
            {k: _text(Mat.from_floats(v)).tolist() for k, v in arrays.items()},
            "point_float": {k: conv(np.asarray(v, dtype=np.float64)) for k, v in arrays.items()},
            "loss": loss,
            "gradient": {k: conv(v) for k, v in exact.items()},
            "gradient_float": {k: conv(v) for k, v in g.float.items()},
            "at_kink": at_kink(oracle, arrays),
            "kinks": [{"at": name, "entry": [i + 1, j + 1], "breakpoint": str(b)}
                      for name, (i, j), b in sites],
        })
    return {"network": net.spec.to_dict(), "kink_convention": oracle.convention.name,
            "style": net.style.name,
            "shapes": {k: list(s) for k, s in oracle.shapes().items()},
            "vectors": vectors}


def save_npz(data: dict, path) -> None:
    """``make_array_vectors(..., arrays_out=True)`` as an npz file of arrays by name."""
    out = {"kink_convention": np.array(data["kink_convention"])}
    for i, v in enumerate(data["vectors"]):
        for k, a in v["point_float"].items():
            out[f"{i}/point/{k}"] = np.asarray(a, dtype=np.float64)
        for k, a in v["gradient_float"].items():
            out[f"{i}/gradient/{k}"] = np.asarray(a, dtype=np.float64)
        for k, a in v["gradient"].items():
            out[f"{i}/gradient_exact/{k}"] = np.asarray(a, dtype=str)
        out[f"{i}/loss"] = np.array(v["loss"])
        out[f"{i}/at_kink"] = np.array(v["at_kink"])
    np.savez_compressed(path, **out)
