r"""Gated matrix formulas, decided for all entries at once rather than entry by entry.

A mask formula such as ``dZ1 = dA1 * (Z1 > 0)`` is not identical to the backward pass
``dA1 * Step(Z1)`` (the two differ at Z1 = 0 for Step(0) = c > 0), so the identity route of
:mod:`.matrix` fails and the general route decides every entry with the scalar procedure,
twice (true level, atom level): slow, and most of that time goes to the kinks of every
unit of the network, once per entry. This route is the same argument, done at once:

1. **Off the kinks, every entry at once.** At the atom level (pre-activations free,
   :mod:`derivcheck.core.matrix.instance`), each gate class is one 0/1 variable
   (:class:`~.formal.FormalEvaluator`'s ``offkink`` mode: ``Step(z)``, ``[z > 0]`` and
   ``[z >= 0]`` are one variable s, ``[z <= 0]`` and ``Step(-z)`` are 1 - s). Entries
   identical as rational functions of the leaves and these variables are equal at every
   point where each gate is 0 or 1, that is off the zero sets of the gates' arguments.
   This is only claimed when every gate's argument is, up to a constant factor, one *free
   leaf* of the atom network (an entry of Z, X, W, b): such an argument vanishes on a
   null set of the atom level's points. A gate on anything else (``(A1 >= 0)``, which is
   1 wherever the ReLU is off, on an open set; ``(Z1 - 1 > 0)``) is refused here, and the
   general route decides the formula. At the true level a pre-activation can still be 0
   on an open set (a dead ReLU layer in a bias-free network); :mod:`.matrix_dead` checks
   those regions: a difference there is refuted there, as on the general route, or the
   formula goes the general route.
   Done on every instance of the proof's grid, this is the off-the-kinks half of
   :mod:`.matrix`'s bound argument, as the general route's atom-level check is.
2. **At a kink, one entry.** ``equivalent_almost_everywhere`` also needs a point of the
   kink set where the formula differs from the reference for an allowed Step(0), sought
   on the first entry at the smallest sizes (the grid's first with ``--assume``) by the
   scalar procedure's kink steps alone (:class:`.equivalence.Procedure`: each gate's
   argument aimed at 0, or, for a kink no rational point reaches, one leaf solved
   exactly for it; both sides compared there by exact or certified evaluation under
   every allowed Step(0)), within a third of the time left. Its other steps prove
   equality off the kinks, which step 1 has done for every entry. A point found is the
   verdict's kink point; else (equal at the kinks too, or none found in time) the general
   route decides the formula.

The route never answers ``equivalent`` nor ``not_equivalent``: equal everywhere is the
identity route's, and a difference off the kinks makes step 1 fail.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.core.conventions import get_convention
>>> from derivcheck.parsing import parse_formula
>>> net = MatrixNetwork(["n0", "n1", 1], "relu,sigmoid", "bce", batch="m")
>>> inst = net.instance({"n0": 2, "n1": 3, "m": 2})
>>> def read(text):
...     return net.with_probabilities(parse_formula(text, net.namespace).expr)
>>> reference = net.namespace.symbols["dZ1"]
>>> conv = get_convention("any")
>>> off_kinks_identical(inst, read("dZ1 = dA1 * (Z1 > 0)"), reference, conv)
True
>>> off_kinks_identical(inst, read("dZ1 = dA1 * (Z1 < 0)"), reference, conv)
False
>>> off_kinks_identical(inst, read("dZ1 = dA1 * (A1 >= 0) * (Z1 > 0)"), reference, conv)
False
"""
from __future__ import annotations

import time

from ..core.assumptions import Assumptions
from ..core.functions import IsNonNeg, IsPos, Step
from ..core.matrix import expr as mx
from ..errors import DerivcheckError
from .evaluate import _decomposed
from .formal import FormalEvaluator
from .equivalence import Procedure
from .matrix_levels import _c_fixed, _entries, _target_assumptions, _values
from .matrix_witness import matrix_witness, one_hot

__all__ = ["off_kinks_identical", "gates_on_free_leaves", "kink_witness"]

#: The kink witness gets at most this part of the time left.
SHARE = 3
#: The kink search's random seed (the scalar procedure's).
SEED = 20261123
_GATES = (Step, IsPos, IsNonNeg)


def gates_on_free_leaves(exprs, definitions) -> bool:
    """Is the argument of every gate in ``exprs`` (and in the definitions they reach) a
    nonzero constant times one symbol that has no definition (a free leaf)?

    >>> import sympy
    >>> from derivcheck.core.functions import ReLU
    >>> z, a = sympy.symbols("z a")
    >>> gates_on_free_leaves([3 * Step(-2 * z) + IsPos(z)], {a: ReLU(z)})
    True
    >>> gates_on_free_leaves([IsNonNeg(a)], {a: ReLU(z)})
    False
    >>> gates_on_free_leaves([a], {a: Step(z - 1)})
    False
    """
    seen, stack = set(), list(exprs)
    while stack:
        e = _decomposed(stack.pop())
        if not hasattr(e, "atoms"):
            continue
        for gate in e.atoms(*_GATES):
            coeff, rest = gate.args[0].as_coeff_Mul()
            if coeff == 0 or not rest.is_Symbol or rest in definitions:
                return False
        for s in e.free_symbols:
            if s in definitions and s not in seen:
                seen.add(s)
                stack.append(definitions[s])
    return True


def off_kinks_identical(inst, expr, reference, conv) -> bool:
    """Every entry of the formula identical to the reference's at the atom level with each
    gate a 0/1 variable, every gate being on a free leaf (step 1 of the module's route)."""
    env = inst.env("atom", conv)
    try:
        cand, ref = _values(expr, reference, env)
    except ValueError:   # the shapes do not fit at these sizes
        return False
    defs = inst.atom_defs(conv)
    pairs = [(mx.as_sympy(r), mx.as_sympy(c))
             for (_, r), (_, c) in zip(_entries(ref), _entries(cand))]
    if not gates_on_free_leaves([e for pair in pairs for e in pair], defs):
        return False
    fe = FormalEvaluator(defs, mode="offkink", c_value=_c_fixed(conv))
    try:
        return all(fe.value(r) == fe.value(c) for r, c in pairs)
    except ZeroDivisionError:
        return False


def kink_witness(net, grid, expr, reference, conv, assumptions, deadline):
    """(sizes, kink point): a point of the kink set where the first entry differs from
    the reference for an allowed Step(0), found by the scalar procedure's kink steps
    (:meth:`.kinks.KinkSteps.kinks`, then
    :meth:`.irrational_kinks.IrrationalKinks.irrational_kink`) within a share of the
    time left; at the smallest sizes, or at the grid's first when assumptions name
    entries (which may not exist at the smallest). None otherwise: the general route
    decides the formula."""
    sizes = grid[0] if assumptions.texts() else {s: 1 for s in net.size_names}
    inst = net.instance(sizes)
    now = time.monotonic()
    try:
        cand, ref = _values(expr, reference, inst.env("true", conv))
    except DerivcheckError:      # undefined at these sizes (a 1/(m - 1)): not here
        return None
    idx, r = _entries(ref)[0]
    r, c = mx.as_sympy(r), mx.as_sympy(dict(_entries(cand))[idx])
    extra = _target_assumptions(inst)
    assume = Assumptions.parse(assumptions.texts() + extra) if extra else assumptions
    proc = Procedure(inst.true_network, r, c, conv, assume, (deadline - now) / SHARE,
                     seed=SEED)
    try:
        found = _kink_steps(proc)
    except ValueError:       # no point to draw (the sampler has no leaf to vary): none
        return None
    if found.decision is not None or found.kink is None:
        return None
    point = one_hot(inst, found.kink, r, c, inst.true_network, conv)
    return sizes, matrix_witness(inst, point or found.kink, idx, reference)


def _kink_steps(proc):
    """The procedure's kink search, then its irrational kinks (one leaf solved exactly)."""
    root, _ = proc.formal("free")
    found = proc.kinks(root)
    if found.decision is None and found.kink is None:   # a kink no rational point reaches
        targets = []
        for info in sorted(root.gates.values(), key=lambda g: g.order):
            targets += [t for t in [info.expr] + (proc.zero_set(info.expr) or [])
                        if t not in targets]
        for target in targets:
            found = proc.irrational_kink(target)
            if found.kink is not None or proc.timed_out():
                break
    return found
