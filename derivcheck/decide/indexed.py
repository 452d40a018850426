"""A generic index on one neuron's weights: the gradient with respect to ``w_j`` written
with ``x_j``, for a neuron with weights w1..wn, is the statement for every j.

:func:`generic_index` recognises such a ``wrt``; :func:`indexed_namespace` gives the names
a formula may use for one value of the index (``x_j`` is ``x2`` when j = 2), and
:func:`combine` makes one result of the per-index results: the first that is not
``equivalent`` (a counterexample names its j), with every j's verdict in the readings.

>>> from derivcheck.core.network import forward
>>> net = forward(["yhat = sigmoid(w1*x1 + w2*x2 + w3*x3)"], inputs="x1,x2,x3")
>>> generic_index(net, "w_j")
('w', 'j', [1, 2, 3])
>>> generic_index(net, "w2") is None, generic_index(net, "v_j") is None
(True, True)
>>> indexed_namespace(net.namespace, "j", 2).symbols["x_j"]
x2
"""
from __future__ import annotations

import dataclasses
import re

from ..names import Namespace
from .verdict import Verdict

__all__ = ["generic_index", "indexed_namespace", "combine"]

_GENERIC = re.compile(r"^(?P<base>[A-Za-z]+)_?\{?(?P<index>[ijklmn])\}?$")
_NUMBERED = re.compile(r"^(?P<base>[A-Za-z]+)(?P<number>\d+)$")
#: Worst first: the verdict the statement for every index gets.
_ORDER = [Verdict.NOT_EQUIVALENT, Verdict.UNKNOWN, Verdict.EQUIVALENT_ALMOST_EVERYWHERE,
          Verdict.EQUIVALENT]


def generic_index(net, wrt) -> tuple[str, str, list[int]] | None:
    """(base, index letter, index values) when ``wrt`` (``w_j``, ``w_{j}``, ``wj``) is
    no parameter but names parameters base1, base2, ... of the network; else None."""
    if wrt is None:
        return None
    wrt = str(wrt)
    if any(p.name == wrt for p in net.params):
        return None
    m = _GENERIC.match(wrt)
    if not m:
        return None
    values = sorted(int(n["number"]) for n in map(_NUMBERED.match, (p.name for p in net.params))
                    if n and n["base"] == m["base"])
    return (m["base"], m["index"], values) if values else None


def indexed_namespace(ns: Namespace, letter: str, value: int) -> Namespace:
    """``ns`` where ``q_j``, ``q_{j}`` and ``qj`` stand for ``q{value}`` for every numbered
    name ``q1``, ``q2``, ... of the network (names already taken keep their meaning)."""
    symbols, roles, adjoints = dict(ns.symbols), dict(ns.roles), dict(ns.adjoints)
    definitions = dict(ns.definitions)
    for name in ns.symbols:
        m = _NUMBERED.match(name)
        if not m or int(m["number"]) != value:
            continue
        for alias in (f"{m['base']}_{letter}", f"{m['base']}{letter}"):
            if alias not in ns.symbols:
                symbols[alias] = ns.symbols[name]
                roles[alias] = ns.roles.get(name, "intermediate")
                definitions[alias] = f"{letter} = {value}"
                if name in ns.adjoints:
                    adjoints[alias] = ns.adjoints[name]
    return dataclasses.replace(ns, symbols=symbols, roles=roles, adjoints=adjoints,
                               definitions=definitions)


def combine(wrt: str, letter: str, results: list):
    """One result for the statement for every index, from ``results`` as (index value,
    result) pairs: the worst result, with a reading per index (``j = 2 (w2):
    not_equivalent``)."""
    k_worst, worst = min(results, key=lambda kr: _ORDER.index(kr[1].verdict))
    notes = [f"read {wrt} as the statement for every {letter}: checked "
             + ", ".join(r.wrt for _, r in results) + " one by one"]
    notes += [f"{letter} = {k} ({r.wrt}): {r.verdict.value}" for k, r in results]
    if worst.verdict != Verdict.EQUIVALENT:
        notes.append(f"shown below: {letter} = {k_worst} ({worst.wrt})")
    worst.readings = notes + [n for n in worst.readings if n not in notes]
    return worst
