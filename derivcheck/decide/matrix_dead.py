"""Dead regions of a bias-free matrix network: pre-activations that are 0 on an open set.

Where every unit of a ReLU layer is off for an example (its pre-activations all negative,
an open condition), the layer's activations are 0 there, so without biases the next
pre-activations are *identically* 0 on that open set, and so are the ones after them
while each activation maps 0 to 0 (ReLU, leaky ReLU, tanh). A gate on such a
pre-activation is not on a kink of measure zero there: the reference's Step(0) = c and a
candidate's own value at 0 (``(Z2 > 0)`` is 0 there, ``np.where(Z2 >= 0, 1, 0)`` 1) hold on
a whole region, and a difference between them is a difference on a set of positive
measure (CONTRACT section 1: judged per c).

The off-the-kinks route of :mod:`.matrix` (gates 0 or 1 with the pre-activations free)
cannot see these regions, so before it calls a formula ``equivalent_almost_everywhere``,
:func:`dead_differences` evaluates both sides at the atom level once more for each *dead
pattern*: a ReLU layer r and a set S of examples, with Z_r[:, S] negative (its gates
off) and the dead pre-activations after it set to 0 (their gates at their values at 0:
Step(0) = c, the candidate's comparisons as written), every other gate still a free 0/1
variable. Identical there means equal on that dead region off its other kinks. A pattern
that is not identical is refuted at the true level (:func:`dead_assumptions`: a point of
the region, found by the scalar procedure under the assumptions Z_r[i, k] < 0) or left
``unknown``; never ``equivalent_almost_everywhere``.

The patterns are checked on the instances of the proof (every set of examples when there
are at most three, else each example alone and all at once; one ReLU layer at a time).
With every example dead the substitution (Z_r negative, the next Z zero) names no single
index, so the index-form bound of :mod:`.matrix` carries it to every size; the patterns
that single out examples rest on those instances (the method says so).

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork(["n0", "n1", 2], "relu,leaky_relu(1/10)", batch="m")
>>> inst = net.instance({"n0": 2, "n1": 3, "m": 2})
>>> [p.text for p in dead_patterns(inst)]
['every unit of layer 1 is off for example 1', 'every unit of layer 1 is off for example 2', \
'every unit of layer 1 is off for examples 1, 2']
>>> [str(z) for z in dead_patterns(inst)[0].zero]
['Z2_11', 'Z2_21']
>>> dead_patterns(net.instance({"n0": 1, "n1": 1, "m": 1}))[0].signs
{Z1_11: -1}
>>> biased = MatrixNetwork(["n0", "n1", 2], "relu,relu", batch="m", bias=True)
>>> dead_patterns(biased.instance({"n0": 2, "n1": 3, "m": 2}))
[]
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
import sympy

from ..core.matrix import expr as mx
from ..core.primitives import ZeroSet
from .formal import K, FormalEvaluator
from .matrix_levels import _c_fixed, _entries

__all__ = ["DeadPattern", "dead_patterns", "dead_differences", "dead_assumptions"]

#: Examples whose every subset is a pattern; past it, each example alone and all at once.
SUBSETS_UP_TO = 3


@dataclass
class DeadPattern:
    """Layer ``layer``'s units all off for the examples ``examples`` (0-based): ``signs``
    gives those pre-activations their sign, ``zero`` the pre-activations that are then
    identically 0."""

    layer: int
    examples: tuple
    signs: dict
    zero: list

    @property
    def text(self) -> str:
        which = ", ".join(str(k + 1) for k in self.examples)
        noun = "example" if len(self.examples) == 1 else "examples"
        return f"every unit of layer {self.layer} is off for {noun} {which}"


def _off_side(act) -> int | None:
    """-1 when the activation is 0 for every negative argument (ReLU), +1 for every
    positive one, None when it is 0 on no open set (or the side is not known)."""
    if isinstance(act, str) or act.kind.zeros is not ZeroSet.REGION:
        return None
    for side in (-1, 1):
        if all(act.apply(sympy.Rational(side * n, 3)) == 0 for n in (1, 2, 7)):
            return side
    return None


def _keeps_zero(act) -> bool:
    return not isinstance(act, str) and act.apply(sympy.S.Zero) == 0


def dead_patterns(inst) -> list:
    """The dead patterns of an instance (none with biases: a bias keeps the next
    pre-activation free)."""
    net = inst.net
    if net.bias:
        return []
    out = []
    for r in range(1, net.L):
        side = _off_side(net.activation(r))
        if side is None:
            continue
        Z = inst.array(("Z", r))
        m = Z.shape[1]
        if m <= SUBSETS_UP_TO:
            sets = [s for n in range(1, m + 1) for s in itertools.combinations(range(m), n)]
        else:
            sets = [(k,) for k in range(m)] + [tuple(range(m))]
        for cols in sets:
            signs = {Z[i, k]: side for k in cols for i in range(Z.shape[0])}
            zero, layer = [], r + 1
            while layer <= net.L:
                zero += [inst.array(("Z", layer))[i, k] for k in cols
                         for i in range(inst.array(("Z", layer)).shape[0])]
                if not _keeps_zero(net.activation(layer)):
                    break
                layer += 1
            out.append(DeadPattern(r, cols, signs, zero))
    return out


def dead_differences(inst, pattern: DeadPattern, cand, ref, conv) -> list:
    """The entries (index, reference, candidate) of two atom-level arrays that are not
    identical on the pattern's dead region (off its other kinks, for every Step(0))."""
    zero = (0,) * K
    fe = FormalEvaluator(inst.atom_defs(conv), mode="offkink", c_value=_c_fixed(conv),
                         signs=dict(pattern.signs),
                         known={z: zero for z in pattern.zero})
    out = []
    for (idx, r), (_, c) in zip(_entries(ref), _entries(cand)):
        try:
            same = fe.value(mx.as_sympy(r)) == fe.value(mx.as_sympy(c))
        except ZeroDivisionError:
            same = False
        if not same:
            out.append(idx)
    return out


def dead_assumptions(pattern: DeadPattern) -> list:
    """The pattern's region as ``--assume`` texts on the true network's pre-activations.

    >>> z = sympy.Symbol("Z1_11")
    >>> dead_assumptions(DeadPattern(1, (0,), {z: -1}, []))
    ['Z1_11 < 0']
    """
    return [f"{z} {'<' if s < 0 else '>'} 0" for z, s in pattern.signs.items()]

