r"""Index-form candidates on matrix networks, and formulas stated for every layer.

A formula in index notation (``\frac{\partial C}{\partial w^3_{jk}} = a^2_k \delta^3_j``)
is read by :mod:`derivcheck.parsing.index_notation` into the matrix of its entries
(:class:`~derivcheck.core.matrix.indexed.IndexForm`), which the matrix decision
(:func:`~derivcheck.decide.matrix.check_matrix`) compares with the gradient like any matrix
formula: refuted on instances, proved for every size by the index-form bound (the bound
route is stated in index form, so index-form candidates need no new argument; see
:mod:`derivcheck.core.matrix.indexed` for their bounds).

A layer written with a letter (Nielsen's ``w^l``, ``\delta^{l+1}``; the seed answer's
``W^{(k)}``, ``z^{(k+1)}``) states the formula for every layer: :func:`check_layers`
checks it at every layer where all its names exist and answers with the worst verdict,
each layer's verdict in the readings.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork(["n0", "n1", "n2"], "sigmoid", style="nielsen")
>>> r = check_layers(net, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j")
>>> r.verdict.value
'equivalent'
>>> r.readings[:3]  # doctest: +NORMALIZE_WHITESPACE
['read l as every layer: l = 2, 3 (checked one by one)', 'l = 2: equivalent',
 'l = 3: equivalent']
"""
from __future__ import annotations

from ..errors import NameError_, ParseError, SpecError
from ..parsing.index_notation import LayerVariable
from .verdict import Verdict

__all__ = ["check_layers"]

#: Worst first: the verdict a statement for every layer gets.
_ORDER = [Verdict.NOT_EQUIVALENT, Verdict.UNKNOWN, Verdict.EQUIVALENT_ALMOST_EVERYWHERE,
          Verdict.EQUIVALENT]


def check_layers(net, candidate, wrt=None, **options):
    """:func:`~derivcheck.decide.matrix.check_matrix`, and for a formula with a layer
    letter, the statement for every layer (keywords as ``check_matrix``)."""
    from .matrix import check_matrix
    try:
        return check_matrix(net, candidate, wrt, **options)
    except LayerVariable as unbound:
        letter = unbound.letter
    results, errors = [], []
    for value in range(0, net.L + 2):
        try:
            results.append((value, check_matrix(net, candidate, wrt,
                                                layers={letter: value}, **options)))
        except LayerVariable as other:
            raise ParseError(f"two layer letters ({letter} and {other.letter}) in one "
                                  "formula", text=other.text, position=other.position,
                                  hint="write one layer with a letter and the others as "
                                  f"{letter}+1, {letter}-1") from None
        except (NameError_, SpecError) as err:   # no such layer: a name does not exist there
            errors.append((value, err))
    if not results:
        # the layer read furthest before a name was missing says most
        raise max(errors, key=lambda ve: (ve[1].position or 0, ve[0] >= 1, -ve[0]))[1]
    return _combine(letter, results)


def _combine(letter: str, results: list):
    """The worst result, with every layer's verdict in its readings."""
    value, worst = min(results, key=lambda vr: _ORDER.index(vr[1].verdict))
    values = ", ".join(str(v) for v, _ in results)
    notes = [f"read {letter} as every layer: {letter} = {values} (checked one by one)"]
    notes += [f"{letter} = {v}: {r.verdict.value}" for v, r in results]
    if worst.verdict != Verdict.EQUIVALENT:
        notes.append(f"shown below: {letter} = {value}")
    worst.readings = notes + [n for n in worst.readings if n not in notes]
    return worst
