"""Compare a backward pass over whole arrays with the exact oracle, at training sizes.

:func:`compare_arrays` calls ``gradients_fn(arrays)`` (every array of the network by its
style name, float64, in the style's layout; returning {parameter: gradient array}) at
random points and at a point with one unit of every piecewise layer exactly on a kink,
and returns an :class:`ArrayComparison`: true when every gradient entry agrees within
``rtol`` of the largest |entry| of its array; otherwise it names the first array, the entry,
both values, the point, and whether another kink convention explains the difference.

>>> import numpy as np
>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork([3, 4, 2], "relu,identity", bias=True, batch=2)
>>> def backward(a):                       # relu' = (Z > 0): torch's convention
...     Z1 = a["W1"] @ a["X"] + a["b1"]; A1 = np.maximum(Z1, 0)
...     dZ2 = (a["W2"] @ A1 + a["b2"] - a["Y"]) / 2
...     dZ1 = (a["W2"].T @ dZ2) * (Z1 > 0)
...     return {"W1": dZ1 @ a["X"].T, "b1": dZ1.sum(1, keepdims=True),
...             "W2": dZ2 @ A1.T, "b2": dZ2.sum(1, keepdims=True)}
>>> compare_arrays(net, backward, points=2)
<ArrayComparison ok: 3 points (1 on kinks), convention torch>
>>> print(compare_arrays(net, backward, points=2, convention="1"))
dJ/dW1 differs from the exact gradient (kink convention 1) at entry (1, 1) on a kink point
  exact: -13087/2048
  yours: -0.0361328125
  only a kink convention: your implementation agrees with convention '0'
1 of 3 points disagree (1 on kinks)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SpecError
from .array_points import place_kinks, random_arrays
from .arrays import ArrayOracle, at_kink

__all__ = ["ArrayComparison", "ArrayMismatch", "compare_arrays"]

#: Conventions a disagreement is tried against, in this order.
ALTERNATIVES = ("0", "1/2", "1", "torch", "jax", "tensorflow")


@dataclass
class ArrayMismatch:
    """The first disagreeing entry at one point."""

    name: str
    entry: tuple
    expected: str
    actual: float | None
    at_kink: bool
    point: dict
    convention: str | None = None

    def lines(self, convention: str, loss: str = "J") -> list[str]:
        where = "(missing)" if self.actual is None else repr(self.actual)
        entry = ", ".join(str(i + 1) for i in self.entry)
        out = [f"d{loss}/d{self.name} differs from the exact gradient (kink convention "
               f"{convention}) at entry ({entry})" + (" on a kink point" if self.at_kink
                                                     else ""),
               f"  exact: {self.expected}", f"  yours: {where}"]
        if self.convention:
            out.append(f"  only a kink convention: your implementation agrees with convention "
                       f"{self.convention!r}")
        return out


@dataclass
class ArrayComparison:
    """The outcome at several points; true when all agree."""

    convention: str
    loss: str = "J"
    points: int = 0
    kink_points: int = 0
    mismatches: list[ArrayMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        summary = f"({self.kink_points} on kinks)"
        if self.ok:
            return f"all {self.points} points agree {summary}"
        return "\n".join(self.mismatches[0].lines(self.convention, self.loss) + [
            f"{len(self.mismatches)} of {self.points} points disagree {summary}"])

    def __repr__(self) -> str:
        state = "ok" if self.ok else "failed"
        return (f"<ArrayComparison {state}: {self.points} points ({self.kink_points} on "
                f"kinks), convention {self.convention}>")


def _first_difference(actual: dict, grads, rtol: float, atol: float):
    """(name, entry) of the first entry outside the tolerance, None when all agree."""
    for name, exact in grads.float.items():
        mine = actual.get(name)
        if mine is None:
            return name, ()
        mine = np.asarray(mine.detach().cpu().numpy() if hasattr(mine, "detach") else mine,
                          dtype=np.float64)
        if mine.shape != exact.shape:
            if mine.size == exact.size and 1 in exact.shape + mine.shape:
                mine = mine.reshape(exact.shape)
            else:
                raise SpecError(f"your gradient {name} has shape {mine.shape}, the network's "
                                f"{name} has shape {exact.shape}")
        scale = float(np.abs(exact).max()) if exact.size else 0.0
        bad = ~(np.abs(mine - exact) <= rtol * scale + atol)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return name, (idx, float(mine[idx]))
    return None


def compare_arrays(net, gradients_fn, *, convention="torch", points: int = 4,
                   kinks: bool = True, rtol: float = 1e-12, atol: float = 0.0, seed=0,
                   batch: int | None = None) -> ArrayComparison:
    """Check ``gradients_fn(arrays) -> {parameter: gradient}`` against the oracle."""
    oracle = ArrayOracle(net, convention)
    net = oracle.net
    out = ArrayComparison(oracle.convention.name, net.style.loss)
    draws = [(random_arrays(net, seed + k, batch), False) for k in range(points)]
    if kinks:
        draws.append((place_kinks(net, random_arrays(net, seed + points, batch),
                                  convention)[0], True))
    for arrays, placed in draws:
        kink = placed and at_kink(oracle, arrays)
        out.points += 1
        out.kink_points += kink
        actual = dict(gradients_fn({k: v.copy() for k, v in arrays.items()}))
        grads = oracle.gradients(arrays)
        found = _first_difference(actual, grads, rtol, atol)
        if found is None:
            continue
        name, detail = found
        explained = next((c for c in ALTERNATIVES if c != out.convention and _first_difference(
            actual, ArrayOracle(net, c).gradients(arrays), rtol, atol) is None), None)
        if detail:
            entry, value = detail
            expected = str(grads[name][entry]) if grads.mats[name].exact \
                else repr(float(grads.float[name][entry]))
        else:
            entry, value, expected = (), None, "(an array)"
        out.mismatches.append(ArrayMismatch(name, entry, expected, value, kink,
                                            {k: v for k, v in arrays.items()}, explained))
    return out
