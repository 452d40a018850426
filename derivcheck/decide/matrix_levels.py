"""Deciding a matrix formula at one instance (concrete sizes), entry by entry.

* the **atom** level (:mod:`derivcheck.core.matrix.instance`: pre-activations free):
  :func:`_atom_identity` (identical, every gate free: equal everywhere, kinks included)
  and :func:`_atom_off_kinks` (the scalar procedure's sign regions: equal off the kinks);
* the **true** level (the network itself): :func:`_true_level`, the scalar procedure on
  each entry, with exact counterexamples (one-hot targets for cross-entropy, bce targets
  in [0, 1]);
* :func:`_reference_agrees`: the matrix backward pass, which the atom level uses, equals
  the scalar reverse mode of the whole network at the true level (a guard).

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.core.conventions import get_convention
>>> from derivcheck.core.matrix import expr as mx
>>> net = MatrixNetwork([2, 3, 1], "tanh,sigmoid", "bce", batch="m")
>>> reference = net.namespace.adjoints["W1"]
>>> inst = net.instance({"m": 2})
>>> _atom_identity(inst, reference, reference, get_convention("any"))
True
>>> _reference_agrees(inst, reference, get_convention("any"))
True
"""
from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import sympy

from ..core.assumptions import Assumptions
from ..core.matrix import expr as mx
from .equivalence import decide
from .formal import P, FormalEvaluator
from .matrix_witness import matrix_witness, one_hot

__all__: list = []

_ORDER = {"not_equivalent": 0, "unknown": 1, "equivalent_almost_everywhere": 2,
          "equivalent": 3}
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _entries(arr: np.ndarray) -> list:
    arr = np.asarray(arr, dtype=object)
    if arr.ndim == 0:
        return [((), arr.item())]
    return [(idx, arr[idx]) for idx in np.ndindex(arr.shape)]


def _values(expr, reference, env):
    cand = np.asarray(expr.evaluate(env), dtype=object)
    for value in cand.flat:
        if isinstance(value, sympy.Basic) and value.has(*_UNDEFINED):
            from ..errors import ParseError
            raise ParseError("this part of the formula is undefined (a division by zero)",
                             text=expr.text(), position=0,
                             hint="a gradient formula is defined everywhere: check the "
                                  "denominators and logarithms")
    masks = env.inst.masks
    if masks:
        cand = np.asarray(cand, dtype=object)
        flat = [v.xreplace(masks) if isinstance(v, sympy.Basic) else v for v in cand.flat]
        cand = np.array(flat, dtype=object).reshape(cand.shape)
    ref = np.asarray(reference.evaluate(env), dtype=object)
    if cand.shape != ref.shape:
        cand = cand.reshape(ref.shape)
    return cand, ref


def _c_fixed(conv):
    """Step(0) as a residue when the convention fixes it, else None (an atom)."""
    values = [Fraction(int(c.p), int(c.q)) for c in conv.step0_values]
    if len(values) > 1:
        return None
    return values[0].numerator * pow(values[0].denominator, -1, P) % P


def _atom_identity(inst, expr, reference, conv) -> bool:
    """Equal entry by entry at the atom level, for every Step(0) (formal, free gates)."""
    env = inst.env("atom", conv)
    try:
        cand, ref = _values(expr, reference, env)
    except ValueError:   # the shapes do not fit at these sizes: not identical
        return False
    fe = FormalEvaluator(inst.atom_defs(conv), mode="free", c_value=_c_fixed(conv))
    try:
        return all(fe.value(mx.as_sympy(r)) == fe.value(mx.as_sympy(c))
                   for (_, r), (_, c) in zip(_entries(ref), _entries(cand)))
    except ZeroDivisionError:
        return False


def _reference_agrees(inst, reference, conv) -> bool:
    """The matrix backward pass (what the proof uses) equals the scalar reverse mode of
    the whole network (what refutations use) at one instance: a guard, never skipped."""
    atom = np.asarray(reference.evaluate(inst.env("atom", conv)), dtype=object)
    true = np.asarray(reference.evaluate(inst.env("true", conv)), dtype=object)
    inst.atom_defs(conv)
    fe = FormalEvaluator({**inst.true_network.definitions(conv), **inst.atom_definitions},
                         mode="free")
    try:
        return all(fe.value(mx.as_sympy(a)) == fe.value(mx.as_sympy(t))
                   for (_, a), (_, t) in zip(_entries(atom), _entries(true)))
    except ZeroDivisionError:
        return False


def _atom_off_kinks(inst, expr, reference, conv, assumptions, deadline, strict=False) -> bool:
    """Equal off the kinks entry by entry at the atom level (the scalar procedure's sign
    regions, with Z free): every entry equivalent or equivalent almost everywhere
    (``strict``: every entry equivalent, kinks included)."""
    env = inst.env("atom", conv)
    cand, ref = _values(expr, reference, env)
    atom_net = inst.atom_network_with_gradients(conv)
    for (_, r), (_, c) in zip(_entries(ref), _entries(cand)):
        d = decide(atom_net, mx.as_sympy(r), mx.as_sympy(c), convention=conv,
                   assumptions=assumptions, timeout=max(deadline - time.monotonic(), 0.05))
        if d.verdict not in (("equivalent",) if strict else
                             ("equivalent", "equivalent_almost_everywhere")):
            return False
    return True


def _true_level(inst, expr, reference, conv, assumptions, deadline, only=None):
    """(verdict, counterexample, kink point) over every entry at one instance (the
    entries in ``only``, when given)."""
    env = inst.env("true", conv)
    cand, ref = _values(expr, reference, env)
    net = inst.true_network
    extra = _target_assumptions(inst)
    assume = Assumptions.parse(assumptions.texts() + extra) if extra else assumptions
    worst, kink = "equivalent", None
    for (idx, r), (_, c) in zip(_entries(ref), _entries(cand)):
        if only is not None and idx not in only:
            continue
        left = max(deadline - time.monotonic(), 0.05)
        d = decide(net, mx.as_sympy(r), mx.as_sympy(c), convention=conv, assumptions=assume,
                   timeout=left)
        if d.verdict == "not_equivalent":
            witness = one_hot(inst, d.counterexample, mx.as_sympy(r), mx.as_sympy(c), net,
                               conv)
            if witness is None:
                worst = "unknown"
                continue
            return "not_equivalent", matrix_witness(inst, witness, idx, reference), None
        if _ORDER[d.verdict] < _ORDER[worst]:
            worst = d.verdict
        if d.verdict == "equivalent_almost_everywhere" and kink is None:
            point = one_hot(inst, d.kink_point, mx.as_sympy(r), mx.as_sympy(c), net, conv)
            kink = matrix_witness(inst, point or d.kink_point, idx, reference)
    return worst, None, kink


def _target_assumptions(inst) -> list:
    if inst.net.loss != "bce":
        return []
    out = []
    for y in inst.array(("Y",)).flat:
        out += [f"{y} >= 0", f"{y} <= 1"]
    return out
