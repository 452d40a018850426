r"""One example's column of a batch quantity, as deeplearning.ai and numpy write it.

deeplearning.ai writes example i's column of ``Z^{[1]}`` as ``z^{[1](i)}`` (lowercase, the
vector of one example; ``a^{[2](i)}``, ``dz^{[1](i)}``, ``x^{(i)}``, ``y^{(i)}``) and numpy
as ``Z1[:, i]`` (a row ``Z1[i, :]`` where examples are rows). On a matrix network with a
batch these are read as :class:`~derivcheck.core.matrix.slices.Slice` leaves:

* ``[l](i)`` in a superscript is layer l, example i (the LaTeX reader marks the word);
  ``x^{(i)}``, ``y^{(i)}``, ``\hat{y}^{(i)}`` are examples, not layers, since the input
  and the targets have no layer (:func:`as_example`);
* ``M[:, i]``, ``M[i, :]`` are folded into one marked name (:func:`fold_slices`);
* the index is a letter (free on a left side ``dz^{[1](i)} =``, which states the equation
  for every example, or summed by ``\sum_i``) or a number.

``dz1_i`` is refused: ``_i`` reads as an entry index as often as an example (deeplearning.ai's
``z^{[1]}_i`` is unit i), so it is asked to be written ``dZ1[:, i]`` or ``dz^{[1](i)}``.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.parsing import parse_formula
>>> net = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", style="ng")
>>> f = parse_formula(r"dz^{[2](i)} = a^{[2](i)} - y^{(i)}", net.namespace)
>>> f.wrt, f.expr.text(), f.expr.shape
('dZ2', '[:,i] A2[:,i] - Y[:,i]', (1, 'm'))
"""
from __future__ import annotations

import re

from ..core.matrix.expr import Leaf
from ..core.matrix.slices import Slice, example_axis
from ..errors import NameError_, ParseError
from .tokens import Unit, Word, tok

__all__ = ["fold_slices", "as_example", "example_leaf", "slice_entry", "refuse_examples",
           "plain_example", "matrix_leaf", "axis_words", "column_left"]

_HINT = ("write one example's column as dz^{[1](i)} (deeplearning.ai) or dZ1[:, i] "
         "(numpy), on a matrix network with a batch (--batch m)")


def _err(res, message, position, hint=_HINT):
    return ParseError(message, text=res.text, position=position, hint=hint)


def _colon(t) -> bool:
    return t.type == "PUNCT" and str(t.value) == ":"


def _index(t):
    """A slice index token's value: a letter or a 1-based number; None for others."""
    if t.type == "NUMBER" and str(t.value).isdigit():
        return int(str(t.value))
    if t.type == "NAME" and isinstance(t.value, Word) and len(t.value.name) == 1:
        return t.value.name
    return None


def fold_slices(tokens: list, res) -> list:
    """``M[:, i]`` (column i) and ``M[i, :]`` (row i) made one name marked as a slice;
    on a namespace that is no matrix network, a slice is an error at its position."""
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        window = tokens[i + 1:i + 6]
        if (t.type == "NAME" and isinstance(t.value, Word) and len(window) == 5
                and window[0].type == "_LBRACK" and window[2].type == "_COMMA"
                and window[4].type == "_RBRACK"):
            first, second = window[1], window[3]
            axis = 1 if _colon(first) else 0 if _colon(second) else None
            index = _index(second if axis == 1 else first) if axis is not None else None
            if axis is not None and index is not None:
                if not _is_matrix_ns(res.ns):
                    raise _err(res, f"{res.text[t.start_pos:window[4].end_pos]} is a column "
                               "or row of a matrix: read on matrix networks only",
                               t.start_pos, "describe the network with --widths and --batch")
                word = Word(t.value.units, t.value.latex, t.value.layered, t.value.script)
                word.example = (index, axis)
                out.append(tok("NAME", word, t.start_pos, window[4].end_pos))
                i += 6
                continue
        out.append(t)
        i += 1
    return out


def _is_matrix_ns(ns) -> bool:
    from .layer_letters import is_matrix_ns
    return is_matrix_ns(ns)


def matrix_leaf(res, name: str):
    """The named matrix (or vector) of the network called ``name``; None for others."""
    leaf = res.ns.symbols.get(name) if res.known(name) else None
    return leaf if isinstance(leaf, Leaf) and leaf.shape and leaf.key[0] != "entry" else None


def axis_words(leaf, axis: int) -> str:
    """What an index over ``axis`` of ``leaf`` runs over, for messages and readings."""
    what = f"{('rows', 'columns')[axis]} of {leaf.name}"
    return f"the examples ({what})" if example_axis(leaf) == axis else f"the {what}"


def _candidates(word: Word) -> list:
    """The names a per-example word may stand for: as written, then with the first
    letter of its quantity capitalised (the course's ``dz1`` for the batch's ``dZ1``)."""
    prefix = "".join(u.text for u in word.units[:-1])
    last = word.units[-1].text
    return list(dict.fromkeys([word.name, prefix + last[:1].upper() + last[1:]]))


def as_example(word: Word, res):
    """``x^{(i)}``, ``y^{(1)}``: the word with its superscript read as an example (the
    input, the targets and the output have no layer), or None when it is a layer."""
    if word.example is not None or not word.script or not word.script[1] or word.script[2]:
        return None
    index = word.script[1].strip()
    if not (index.isdigit() or re.fullmatch(r"[A-Za-z]", index)) or index == "L":
        return None
    bare = Word((*word.units[:-1], Unit(word.script[0], word.units[-1].start,
                                        word.units[-1].end)), word.latex)
    if not getattr(res.ns, "batched", False):
        return None
    for name in _candidates(bare):
        leaf = matrix_leaf(res, name)
        if leaf is not None and example_axis(leaf) is not None:
            bare.example = (int(index) if index.isdigit() else index, None)
            return bare
    return None


def example_leaf(t, res):
    """(leaf, index, axis) of a word marked as one example's column or row."""
    word: Word = t.value
    index, axis = word.example
    source = res.text[t.start_pos:t.end_pos]
    if not getattr(res.ns, "batched", False) and axis is None:
        raise _err(res, f"{source} is one example's column, but the network has one "
                   "example", t.start_pos, "drop the example index, or give the network a "
                   "batch (--batch m)")
    leaf = None
    for name in _candidates(word):
        leaf = matrix_leaf(res, name)
        if leaf is not None:
            break
    if leaf is None:
        adjoint = res.ns.adjoints.get(word.rest().name) if len(word.units) > 1 else None
        raise NameError_(f"no batch quantity {word.name} for {source}", text=res.text,
                         position=t.start_pos, hint=None if adjoint is None else _HINT)
    if len(leaf.shape) != 2:
        raise _err(res, f"{leaf.name} is a vector: it has no columns", t.start_pos,
                   "a column is taken of a matrix")
    if axis is None:
        axis = example_axis(leaf)
        if axis is None:
            raise _err(res, f"{leaf.name} has no examples: {source} names no column of it",
                       t.start_pos, "an example index belongs to X, Y, Z, A and their "
                       "gradients dZ, dA")
    if isinstance(index, int):
        d = leaf.shape[axis]
        if index < 1 or (isinstance(d, int) and index > d):
            raise _err(res, f"{source}: {leaf.name} has no {('row', 'column')[axis]} {index}",
                       t.start_pos, "columns and rows are counted from 1")
    what = ("column", "row")[1 - axis]
    res.notes.read(f"read {source} as {what} {index} of {leaf.name}"
                   + (" (one example)" if example_axis(leaf) == axis else ""))
    return leaf, index, axis


def column_left(tokens: list, res):
    """(leaf, letter, axis) of a left side naming one column of a gradient for every
    value of its letter (``dz^{[1](i)} =``, ``dZ1[:, i] =``); what else it names is an
    error at its position."""
    t = tokens[0]
    source = res.text[t.start_pos:tokens[-1].end_pos]
    if t.type == "ADJ":
        raise _err(res, f"the left side {source} differentiates by one example's column",
                   t.start_pos, "write deeplearning.ai's dz^{[1](i)} (example i's gradient, "
                   "a column of dZ^{[1]}) or dZ1[:, i]")
    leaf, index, axis = example_leaf(t, res)
    if len(tokens) != 1:
        raise _err(res, f"cannot read the left side {source}", tokens[1].start_pos,
                   "write one gradient's column, e.g. dz^{[1](i)} = ...")
    if res.ns.roles.get(leaf.name) != "gradient":
        raise _err(res, f"the left side {source} is a column of {leaf.name}, which is no "
                   "gradient", t.start_pos, "the left side names a gradient, e.g. "
                   "dz^{[1](i)} or dZ1[:, i]")
    if not isinstance(index, str):
        raise _err(res, f"the left side {source} names one column by its number",
                   t.start_pos, "write an index letter (dz^{[1](i)}): the equation is "
                   "then checked for every column")
    res.notes.read(f"read the left side {source} as {('row', 'column')[axis]} {index} of "
                   f"{leaf.name}, for every {index}")
    return leaf, index, axis


def slice_entry(t, res) -> Slice:
    """The :class:`Slice` a marked word stands for."""
    leaf, index, axis = example_leaf(t, res)
    return Slice(leaf, index, axis)


def refuse_examples(tokens: list, res) -> None:
    """On a scalar network, one example's column cannot be read: an error at it."""
    for t in tokens:
        if t.type in ("NAME", "ADJ") and isinstance(t.value, Word) and t.value.example:
            raise _err(res, f"{res.text[t.start_pos:t.end_pos]} is one example's column: "
                       "read on matrix networks with a batch", t.start_pos,
                       "describe the network with --widths and --batch m")


_PLAIN_EXAMPLE = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?\d)_(?P<sub>[A-Za-z])$")


def plain_example(t, res) -> None:
    """``dz1_i``: an error saying how to write example i's column (``_i`` reads as an
    entry index as often as an example, so it is not guessed)."""
    word = t.value
    m = _PLAIN_EXAMPLE.match(word.name)
    if m is None or word.latex or res.known(word.name) or res.known(m["base"]):
        return
    base = m["base"]
    upper = next((n for n in _candidates(Word((Unit(base, 0, len(base)),)))[1:]
                  if matrix_leaf(res, n) is not None), None)
    if upper is None:
        prefix = base[:1]
        upper = prefix + base[1:2].upper() + base[2:] if prefix == "d" else None
        if upper is None or matrix_leaf(res, upper) is None:
            return
    if example_axis(matrix_leaf(res, upper)) is None:
        return
    raise _err(res, f"cannot tell what {word.name} means: example {m['sub']}'s column of "
               f"{upper}, or entry {m['sub']} of a vector", t.start_pos,
               f"write {upper}[:, {m['sub']}] for example {m['sub']}'s column, or "
               f"{upper}[j, {m['sub']}] for one entry")
