r"""Named mistakes in index notation: one-step fixes of a formula's indices.

A formula in index form (:class:`~derivcheck.core.matrix.indexed.IndexForm`) has no matrix
products to swap or transpose; its mistakes sit in the indices. Each fix below is one edit
of them, and :func:`~derivcheck.decide.matrix_fixes.diagnose_matrix` reports it only when
the fixed formula equals the gradient entry by entry for every size, as every matrix fix:

* ``missing_transpose``: the two free indices swapped throughout (the formula is the
  transpose of the gradient: Nielsen's ``a^{l-1}_j \delta^l_k`` for ``a^{l-1}_k
  \delta^l_j``), or the two indices of one entry swapped inside a product (``w^{l+1}_{jk}``
  for ``w^{l+1}_{kj}``: the matrix untransposed);
* ``wrong_sum_axis``: the two indices of an entry swapped where a sum runs over that entry
  alone (``\sum_i dZ_{ij}`` for ``\sum_i dZ_{ji}``: the sum over the wrong axis), or one
  index letter replaced by another where a sum is involved (``\sum_k w_{kj} \delta_j`` for
  ``\delta_k``: the sum does not run over the index it should).

A matrix product in the wrong order is, in index form, the transpose of the right one
(``X_{ji} dZ_{ki}`` for ``dZ_{ji} X_{ki}``): the free indices swapped.

Sign flips, a missing ``1/m``, a missing ``\sigma'(z^l_j)`` or ReLU mask are the matrix
fixes of the whole formula and need nothing here. A fix must fit: every index ranges over
one size (sums take the size of the axes their letter indexes, as the parser does).

>>> from derivcheck.core.matrix.expr import Leaf, mul
>>> a, d = Leaf("a2", ("n2", 1)), Leaf("delta3", ("n3", 1))
>>> wrong = IndexForm(mul(Entry(a, ("j", None)), Entry(d, ("k", None))), ("j", "k"),
...                   ("n3", "n2"))
>>> [(kind, fixed.text()) for kind, _, fixed in index_rewrites(wrong)][:1]
[('missing_transpose', '[j,k] a2[k] * delta3[j]')]
"""
from __future__ import annotations

from itertools import combinations

from ..core.matrix import expr as mx
from ..core.matrix.indexed import Entry, IndexForm, IndexSum

__all__ = ["index_rewrites"]


class _Misfit(Exception):
    """A fixed formula in which some index ranges over two sizes."""


def index_rewrites(root):
    """(kind, message, fixed formula) for every one-step fix of the indices of ``root``
    (nothing unless ``root`` is in index form) that fits."""
    if not isinstance(root, IndexForm):
        return
    free = [a for a in root.axes if a is not None]
    for a, b in combinations(free, 2):
        fixed = _refit(root, {}, {a: b, b: a})
        if fixed is not None:
            yield ("missing_transpose", f"the free indices {a} and {b} are swapped, so the "
                   f"formula is the transpose of the gradient: write {fixed.body.text()}",
                   fixed)
    entries = list(_entries(root.body, ()))
    yield from _swapped_indices(root, entries)
    yield from _wrong_letters(root, entries, free)


def _swapped_indices(root, entries):
    for entry, sums in entries:
        letters = [(p, x) for p, x in enumerate(entry.indices) if isinstance(x, str)]
        for (p, x), (q, y) in combinations(letters, 2):
            if x == y:
                continue
            new = _with(entry, {p: y, q: x})
            fixed = _refit(root, {id(entry): new})
            if fixed is None:
                continue
            reduced = next((s for s in sums if s.letter in (x, y) and _alone(s, entry)), None)
            if reduced is not None:
                yield ("wrong_sum_axis", f"the sum over {reduced.letter} runs over the wrong "
                       f"axis of {entry.matrix.name}: write {new.text()} for {entry.text()}",
                       fixed)
            else:
                yield ("missing_transpose", f"the indices of {entry.text()} are swapped: "
                       f"write {new.text()} (an entry of the transpose of "
                       f"{entry.matrix.name})", fixed)


def _wrong_letters(root, entries, free):
    for entry, sums in entries:
        summed = [s.letter for s in sums]
        for p, x in enumerate(entry.indices):
            if not isinstance(x, str):
                continue
            for y in free + summed:
                if y == x or not ({x, y} & set(summed)):
                    continue
                new = _with(entry, {p: y})
                fixed = _refit(root, {id(entry): new})
                if fixed is not None:
                    letter = y if y in summed else x
                    yield ("wrong_sum_axis", f"the sum over {letter} runs over the wrong "
                           f"index: write {new.text()} for {entry.text()}", fixed)


def _with(entry: Entry, changes: dict) -> Entry:
    return Entry(entry.matrix, tuple(changes.get(p, i) for p, i in enumerate(entry.indices)))


def _entries(node, sums: tuple):
    """(entry, the sums around it, outermost first) for every entry below ``node``."""
    if isinstance(node, Entry):
        yield node, sums
        return
    inner = sums + (node,) if isinstance(node, IndexSum) else sums
    for child in node.children:
        yield from _entries(child, inner)


def _alone(s: IndexSum, entry: Entry) -> bool:
    """No entry but ``entry`` in the sum ``s`` uses its letter: a sum of one matrix's
    entries along an axis (not a contraction, which is a matrix product)."""
    return all(e is entry or s.letter not in e.letters() for e, _ in _entries(s.body, ()))


def _uses(node, letter: str) -> set:
    """The sizes index ``letter`` ranges over in the entries below ``node``."""
    return {d for e, _ in _entries(node, ()) for i, d in zip(e.indices, e.matrix.shape)
            if i == letter}


def _refit(form: IndexForm, swap: dict, rename: dict | None = None):
    """``form`` with the entries in ``swap`` (by identity) replaced and the index letters
    renamed by ``rename``, its sums ranging over the sizes their letters now index; None
    when an index would range over two sizes."""
    try:
        body = _rebuild(form.body, swap, rename or {})
    except _Misfit:
        return None
    for letter, dim in zip(form.axes, form.left_shape):
        if letter is not None and _uses(body, letter) - {dim}:
            return None
    return IndexForm(body, form.axes, form.left_shape)


def _rebuild(node, swap: dict, rename: dict):
    if id(node) in swap:
        node = swap[id(node)]
    if isinstance(node, Entry):
        if not rename:
            return node
        return Entry(node.matrix, tuple(rename.get(i, i) for i in node.indices))
    if isinstance(node, IndexSum):
        body = _rebuild(node.body, swap, rename)
        dims = _uses(body, node.letter)
        if len(dims) > 1:
            raise _Misfit(node.letter)
        return IndexSum(node.letter, next(iter(dims)) if dims else node.size, body)
    if isinstance(node, mx.Elementwise):
        return mx.Elementwise(node.op, tuple(_rebuild(a, swap, rename) for a in node.args),
                              node.build, node.label)
    if any(True for _ in _entries(node, ())):
        raise _Misfit("an entry inside a matrix operation")
    return node
