r"""Sums over an index in index notation: where a sum reaches, and its range.

``\\sum_k`` reaches to the end of its term (the next ``+`` or ``-`` outside brackets, as it
is read in print); ``sum(k, ...)`` to its closing bracket. The range of a sum is the size
of the axes its letter indexes (implied), or given (``\\sum_{k=1}^{n}``), and then it must
be that size. An index used over two different sizes is kept as a shape problem: the
formula denotes no matrix, which the check answers as ``shape_mismatch``.

>>> from .plain import scan_plain
>>> tokens = scan_plain("a*b + c")
>>> scope_end(tokens, 0)
3
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ParseError
from .layer_letters import layer_value, merge_layers
from .tokens import CLOSERS, OPENERS, Word

__all__ = ["SumMark", "scope_end", "closing", "index_call", "SUM_WORD", "sum_size",
           "mismatch", "source_at"]

_OPERAND_END = frozenset({"NAME", "NUMBER", "CONST", "ADJ", "INDEXED", "TRANSPOSE",
                          "_RPAR", "_RBRACK", "_RGROUP", "_BAR_CLOSE"})
_TERM_END = frozenset({"CMP", "EQUAL", "_COMMA", "_AMP", "_ROWSEP", "_CASES_END", "KWARG"})
SUM_WORD = re.compile(r"^sum_(?P<letter>[A-Za-z])$")


def _err(res, message, position, hint=None):
    return ParseError(message, text=res.text, position=position, hint=hint)


@dataclass
class SumMark:
    """A sum as written: its letter, the lower bound's text, the upper bound's tokens and
    their position (or None), and where the sum starts; ``size`` once it is known."""

    letter: str
    lower: str | None
    upper: tuple | None
    position: int
    size: object = None

    def __str__(self) -> str:
        return f"sum_{self.letter}"


def source_at(res, position: int) -> str:
    """The name written at ``position`` (a ``\\frac{..}{..}`` whole), for messages."""
    frac = re.match(r"\\frac\{[^{}]*(\{[^{}]*\}[^{}]*)*\}\{[^{}]*(\{[^{}]*\}[^{}]*)*\}",
                    res.text[position:])
    if frac:
        return frac.group()
    m = re.match(r"\\?[A-Za-z][A-Za-z0-9]*(\^\{[^}]*\}|\^[A-Za-z0-9])?(_\{[^}]*\}|_[A-Za-z0-9]+)?"
                 r"(\^\{[^}]*\}|\^[A-Za-z0-9])?(\[[^\]]*\])?", res.text[position:])
    return m.group() if m else f"column {position + 1}"


def mismatch(res, message: str, left, right, position: int) -> None:
    """An index used over two sizes: the formula denotes no matrix, which the check
    answers as a shape mismatch (never a parse error); the first one is kept."""
    from ..core.matrix.expr import ShapeProblem
    if getattr(res, "index_problem", None) is None:
        res.index_problem = (ShapeProblem(message + " (an index stands for one position: "
                                          "check which index goes where)", (left,), (right,)),
                             position)


def scope_end(tokens: list, i: int) -> int:
    """The end of the term a ``\\sum`` at ``i - 1`` reaches over."""
    depth, j = 0, i
    while j < len(tokens):
        k = tokens[j].type
        if k in OPENERS:
            depth += 1
        elif k in CLOSERS:
            if depth == 0:
                return j
            depth -= 1
        elif depth == 0 and (k in _TERM_END or (
                k == "ADDOP" and j > i and tokens[j - 1].type in _OPERAND_END)):
            return j
        j += 1
    return j


def closing(tokens: list, i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].type in OPENERS:
            depth += 1
        elif tokens[j].type in CLOSERS:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def sum_size(mark: SumMark, uses: list, res):
    """The range of a sum: the size of the axes its letter indexes, or the one given."""
    given = None
    if mark.lower is not None and mark.lower.strip() != "1":
        raise _err(res, f"the sum over {mark.letter} starts at {mark.lower}", mark.position,
                   "index notation counts from 1: write \\sum_{k=1}^{n}")
    if mark.upper is not None:
        given = _upper(mark, res)
    dims = {d for d, _, _ in uses}
    if len(dims) > 1:
        (d1, w1, _), other = uses[0], next(u for u in uses if u[0] != uses[0][0])
        mismatch(res, f"the summed index {mark.letter} runs over {w1} ({d1}) and over "
                  f"{other[1]} ({other[0]}) at {source_at(res, other[2])}", d1, other[0],
                  other[2])
    if dims:
        implied = uses[0][0]
        if given is not None and given != implied:
            raise _err(res, f"the sum over {mark.letter} runs to {given}, but {mark.letter} "
                       f"indexes {uses[0][1]} ({implied})", mark.position,
                       "give the range of the axis the index runs over, or leave it out")
        res.notes.read(f"read the sum over {mark.letter} as running over {uses[0][1]} "
                       f"(1..{implied})")
        return implied
    if given is None:
        raise _err(res, f"the sum over {mark.letter} has no range: {mark.letter} indexes no "
                   "entry, so its range is not implied", mark.position,
                   "give the range: \\sum_{k=1}^{n}")
    return given


_WIDTH = re.compile(r"^n_?\{?(?P<layer>[A-Za-z0-9+-]+)\}?$")


def _upper(mark: SumMark, res):
    """The size a sum's upper end gives: a number, a size name of the network, or
    ``n_{l+1}``, the width of a layer (the style's numbering)."""
    tokens, position, raw = mark.upper
    tokens = merge_layers(list(tokens), res)
    if len(tokens) == 1 and tokens[0].type == "NUMBER" and str(tokens[0].value).isdigit():
        return int(str(tokens[0].value))
    if len(tokens) == 1 and tokens[0].type == "NAME":
        name = tokens[0].value.name
        if res.ns.roles.get(name) == "size":
            return name
    width = _WIDTH.match(raw.replace(" ", ""))
    if width is not None:
        found = _width(layer_value(width["layer"], res, position), res)
        if found is not None:
            res.notes.read(f"read {raw} as the width of layer {found[1]} ({found[0]})")
            return found[0]
    raise _err(res, "cannot read the upper end of this sum as a size of the network",
               position, "sizes: " + (", ".join(k for k, r in res.ns.roles.items()
                                               if r == "size") or "the widths are numbers: "
                                      "write a number") + "; or leave the range out")


def _width(layer: str, res):
    """(size, layer) of layer ``layer`` as the style numbers it: the units of its
    activations (``a3``, ``A^{[3]}``, ``r3``; the input for the first), or None."""
    for stem in ("a", "A", "r", "z", "Z"):
        leaf = res.ns.symbols.get(stem + layer) if res.known(stem + layer) else None
        key = getattr(leaf, "key", ())
        if key and isinstance(key[0], tuple) and leaf.shape:
            return (leaf.shape[-1] if key[1] == "T" else leaf.shape[0]), layer
    return None


def index_call(tokens: list, i: int) -> bool:
    """``sum(k, ...)``: a sum over the index k (``sum(dZ1, axis=1)`` is none)."""
    return (tokens[i].value.name == "sum" and i + 3 < len(tokens)
            and tokens[i + 1].type == "_LPAR" and tokens[i + 2].type == "NAME"
            and isinstance(tokens[i + 2].value, Word) and len(tokens[i + 2].value.name) == 1
            and tokens[i + 3].type == "_COMMA")
