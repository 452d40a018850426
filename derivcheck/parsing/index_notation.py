r"""Index notation on matrix networks: entries with index letters, sums over an index, and
layers written with a letter.

Nielsen's ``\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j``, the seed
answer's ``\frac{\partial C}{\partial r^{(k)}_i} = \sum_{\forall j} \frac{\partial C}
{\partial z^{(k+1)}_j} W^{(k)}_{ij}``, plain ``dC/dW2[j,k] = sum(i, dZ2[j,i]*A1[k,i])``.

* The **left side** names an entry: ``w^l_{jk}`` is entry (j, k) of dC/dw^l; its index
  letters are the *free* indices, each ranging over its axis of that matrix
  (:func:`left_side`).
* On the right side a name with index letters (``a^{l-1}_k``, ``W1[j,k]``, ``W2_kj``) is
  an entry (:class:`~derivcheck.core.matrix.indexed.Entry`); an axis of length 1 may be
  left out (``\delta_j`` of an n x 1 vector). Every letter must be free or summed.
* A **sum** (``\sum_k``, ``\sum_{\forall j}``, ``\sum_{k=1}^{n}``, plain ``sum_k`` and
  ``sum(k, ...)``) runs over one letter; its range is the size of the axes the letter
  indexes (implied), or given, and then it must be that size. ``\sum_k`` reaches to the end
  of its term (the next ``+`` or ``-`` outside brackets), as it is read in print.
* A **layer letter** (``w^l``, ``\delta^{l+1}``, ``z^{(k+1)}``) stands for every layer:
  read with a value given (:class:`LayerVariable` says which letter is unbound).

:func:`rewrite` turns such tokens into ``INDEXED`` and ``SUM`` tokens for the grammar;
misuse is a :class:`~derivcheck.errors.ParseError` with the position.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.parsing import parse_formula
>>> net = MatrixNetwork([2, 3, 2], "sigmoid", style="nielsen")
>>> f = parse_formula(r"\frac{\partial C}{\partial w^3_{jk}} = a^{2}_k \delta^3_j",
...                   net.namespace)
>>> f.wrt, f.expr.text(), f.expr.shape
('w3', '[j,k] a2[k] * delta3[j]', (2, 3))
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token

from ..core.matrix.expr import Leaf
from ..core.matrix.indexed import Entry
from ..core.matrix.names import MatrixNames
from ..core.matrix.shapes import show
from ..errors import NameError_, ParseError
from .tokens import CLOSERS, OPENERS, Unit, Word, tok

__all__ = ["SumMark", "LayerVariable", "IndexLeft", "rewrite", "left_side", "is_matrix_ns",
           "resolve_layers", "scalar_body"]

_OPERAND_END = frozenset({"NAME", "NUMBER", "CONST", "ADJ", "INDEXED", "TRANSPOSE",
                          "_RPAR", "_RBRACK", "_RGROUP", "_BAR_CLOSE"})
_TERM_END = frozenset({"CMP", "EQUAL", "_COMMA", "_AMP", "_ROWSEP", "_CASES_END", "KWARG"})
_LAYER_TEXT = re.compile(r"^(?P<letter>[a-zA-Z])(?:(?P<sign>[+-])(?P<shift>\d+))?$")
_PLAIN_INDEXED = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)_(?P<sub>[A-Za-z0-9]*[A-Za-z]"
                            r"[A-Za-z0-9]*)$")
_SUM_WORD = re.compile(r"^sum_(?P<letter>[A-Za-z])$")
_INDEX_HINT = ("give every index letter a meaning: free (on the left side, e.g. "
               "dC/dw^l_{jk} =) or summed (\\sum_k ...)")


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


class LayerVariable(ParseError):
    """A layer written with a letter (``w^l``, ``z^{(k+1)}``) and no value given for it: the
    caller reads the formula once for every layer (``letter``)."""

    kind = "parse_error"

    def __init__(self, letter: str, text: str, position: int):
        super().__init__(f"the layer {letter} is a letter: the formula is read for every "
                         "layer", text=text, position=position,
                         hint="write a layer number, or check the formula with a network")
        self.letter = letter


@dataclass
class IndexLeft:
    """A left side naming an entry: the gradient's name, its matrix, the free index per
    axis (None for an unwritten axis of length 1)."""

    name: str
    leaf: Leaf
    axes: tuple
    position: int
    free: dict = field(default_factory=dict)   # letter -> (dim, what)


@dataclass(frozen=True)
class _Indexed:
    """The value of an ``INDEXED`` token."""

    expr: Entry

    def __str__(self) -> str:
        return self.expr.text()


def is_matrix_ns(ns) -> bool:
    """True for the names of a matrix network (where index notation is read)."""
    return isinstance(getattr(ns, "symbols", None), MatrixNames)


def _err(res, message, position, hint=None):
    return ParseError(message, text=res.text, position=position, hint=hint)


# -- layers -----------------------------------------------------------------------------
def _layer_value(text: str, res, position: int) -> str:
    """The layer number a written layer stands for (``l+1`` with l = 2 is ``3``); numbers
    and ``L`` stay as they are."""
    text = text.strip()
    if text.isdigit() or text == "L":
        return text
    m = _LAYER_TEXT.match(text)
    if m is None:
        raise _err(res, f"cannot read the layer {text}", position,
                   "write a layer as a number, a letter, or a letter plus or minus a number "
                   "(l+1)")
    letter = m["letter"]
    layers = getattr(res, "layers", None) or {}
    if letter not in layers:
        raise LayerVariable(letter, res.text, position)
    value = layers[letter] + (int(m["shift"]) if m["sign"] == "+" else
                              -int(m["shift"]) if m["sign"] else 0)
    if value < 0:
        raise NameError_(f"layer {text} is {value} here: no such layer", text=res.text,
                         position=position, hint="layers are counted from the input")
    return str(value)


def _group_text(tokens: list, i: int):
    """(text, next index) of a superscript after POW at ``i - 1``: ``{l+1}``, ``3``, ``l``;
    None when it is no layer."""
    if i < len(tokens) and tokens[i].type in ("NUMBER", "NAME"):
        return str(tokens[i].value), i + 1
    if i < len(tokens) and tokens[i].type == "_LGROUP":
        j, parts = i + 1, []
        while j < len(tokens) and tokens[j].type in ("NUMBER", "NAME", "ADDOP"):
            parts.append(str(tokens[j].value))
            j += 1
        if j < len(tokens) and tokens[j].type == "_RGROUP" and parts:
            return "".join(parts), j + 1
    return None


def _renamed(word: Word, layer: str | None, start: int, end: int) -> Word:
    """``word`` with its layer written as a number (``z^{(k+1)}_j`` -> ``z3_j``)."""
    stem, _, sub = word.script or (word.units[-1].text, None, None)
    text = stem + (layer or "")
    if sub:
        text += ("_" if layer or stem[-1].isdigit() else "") + sub
    units = (*word.units[:-1], Unit(text, word.units[-1].start, end))
    out = Word(units, word.latex, word.layered or layer is not None, (stem, layer, sub))
    return out


def _has_letter(text) -> bool:
    return text is not None and any(c.isalpha() and c != "L" for c in text)


def _layers(tokens: list, res) -> list:
    """Layer letters replaced by their values; Nielsen's bare superscripts on indexed names
    and with letters merged into the name (``w^{l+1}_{kj}`` -> ``w3_kj``)."""
    bare = getattr(res.ns, "layer_superscripts", False)
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t.type in ("NAME", "ADJ") and isinstance(t.value, Word):
            word = t.value
            script = word.script
            if script and _has_letter(script[1]):
                layer = _layer_value(script[1], res, t.start_pos)
                word = _renamed(word, layer, t.start_pos, t.end_pos)
            power = word.power if t.type == "ADJ" else None
            if power is not None:
                found = _group_text(power, 1) if bare else None
                if found is None or found[1] != len(power):
                    raise _err(res, "cannot read the superscript of the quantity of this "
                               "derivative", t.start_pos, "write the layer as w^{(l)} or, "
                               "in Nielsen's style (--style nielsen), w^l")
                word = _bare(word, found[0], res, t.start_pos, t.end_pos)
                word.power = None
            elif (bare and t.type == "NAME" and i + 1 < len(tokens)
                  and tokens[i + 1].type == "POW"):
                found = _group_text(tokens, i + 2)
                if found is not None and (_has_letter(found[0]) or (
                        word.script and word.script[2] and not word.script[1])):
                    end = max(t.end_pos, tokens[found[1] - 1].end_pos)
                    merged = _bare(word, found[0], res, t.start_pos, end,
                                   strict=_has_letter(found[0]))
                    if merged is not None:
                        out.append(tok("NAME", merged, t.start_pos, end))
                        i = found[1]
                        continue
            if word is not t.value:
                t = tok(t.type, word, t.start_pos, t.end_pos)
        out.append(t)
        i += 1
    return out


def _bare(word: Word, text: str, res, start: int, end: int, strict: bool = True):
    """``word`` with Nielsen's bare superscript ``text`` as its layer; None (or, when
    ``strict``, an error) when no such name is known."""
    layer = _layer_value(text, res, start)
    merged = _renamed(word, layer, start, end)
    stem = "".join(u.text for u in word.units[:-1]) + merged.script[0] + layer
    if res.known(stem):
        res.notes.read(f"read {res.text[start:end]} with the superscript {text} as the layer "
                       f"({stem})")
        return merged
    if strict:
        where = f" (layer {text} = {layer})" if text != layer else ""
        raise NameError_(f"no quantity {stem} in the network{where}",
                         text=res.text, position=start,
                         hint="the formula is read for the layers where its names exist")
    return None


# -- entries ----------------------------------------------------------------------------
def _indices_of(sub: str) -> list:
    return [int(c) if c.isdigit() else c for c in sub if c.isalnum()]


def _entry_of(leaf: Leaf, indices: list, res, position: int) -> Entry:
    shape = leaf.shape
    if len(indices) < len(shape):
        missing = shape[len(indices):]
        if all(d == 1 for d in missing):
            indices = indices + [None] * len(missing)
    if len(indices) != len(shape):
        raise _err(res, f"{leaf.name} is {_a(show(shape))}: it takes {len(shape)} "
                   f"ind{'ex' if len(shape) == 1 else 'ices'}, not {len(indices)}", position,
                   f"write one index per axis, e.g. {leaf.name}[j,k]" if len(shape) == 2 else
                   None)
    for i, d in zip(indices, shape):
        if isinstance(i, int) and (i < 1 or (isinstance(d, int) and i > d)):
            raise _err(res, f"index {i} is out of the dimension of {leaf.name} "
                       f"({_a(show(shape))}; indices count from 1)", position,
                       "indices run from 1 to the size of their axis")
    return Entry(leaf, tuple(indices))


def _a(text: str) -> str:
    return ("an " if text[0] in "aeiou8" else "a ") + text + (" matrix" if " x " in text else "")


def _matrix(res, name: str):
    leaf = res.ns.symbols.get(name) if res.known(name) else None
    return leaf if isinstance(leaf, Leaf) and leaf.shape and leaf.key[0] != "entry" else None


def _latex_entry(t: Token, res):
    """(matrix leaf, index list) of a LaTeX name with a subscript of index letters."""
    word: Word = t.value
    if not word.script or not word.script[2]:
        return None
    stem, layer, sub = word.script
    if not any(c.isalpha() for c in sub):
        return None
    prefix = "".join(u.text for u in word.units[:-1])
    leaf = _matrix(res, prefix + stem + (layer or ""))
    return (leaf, _indices_of(sub)) if leaf is not None else None


def _known_base(t: Token, res) -> None:
    """A left side with index letters names a matrix the network has (``dW^{[l]}_{jk}``
    at a layer l with no such matrix is an unknown name, which a reading for every layer
    skips)."""
    word: Word = t.value
    if word.script and word.script[2] and any(c.isalpha() for c in word.script[2]):
        stem, layer, _ = word.script
        name = "".join(u.text for u in word.units[:-1]) + stem + (layer or "")
        if _matrix(res, name) is None:
            raise NameError_(f"no matrix {name} in the network", text=res.text,
                             position=t.start_pos, hint="index notation names an entry of "
                             "a matrix of the network, e.g. W^{[1]}_{jk}")


def _adjoint_leaf(res, word: Word, position: int):
    """dC/dq for the quantity named by ``word`` (its layer already a number)."""
    stem, layer, _ = word.script
    prefix = "".join(u.text for u in word.units[:-1])
    name = prefix + stem + (layer or "")
    adjoint = res.ns.adjoints.get(name)
    if adjoint is None:
        raise NameError_(f"no loss derivative with respect to {name} in the network",
                         text=res.text, position=position,
                         hint="loss derivatives are known for: "
                              + ", ".join(sorted(res.ns.adjoints)[:16]))
    return name, adjoint


class _Scope:
    """Letters in use: free ones (from the left side) and summed ones, with the dimension
    each indexes."""

    def __init__(self, free: dict):
        self.free = dict(free)
        self.summed: dict = {}     # letter -> list of (dim, what, position)

    def use(self, letter: str, dim, what: str, position: int, res) -> None:
        if letter in self.summed:
            self.summed[letter].append((dim, what, position))
        elif letter in self.free:
            want, where = self.free[letter]
            if want != dim:
                _mismatch(res, f"index {letter} runs over {where} ({want}) on the left side, "
                          f"but over {what} ({dim}) at {_source(res, position)}", want, dim,
                          position)
        else:
            raise _err(res, f"index {letter} is neither free nor summed", position,
                       _INDEX_HINT)


def _source(res, position: int) -> str:
    m = re.match(r"\\?[A-Za-z]+(\^\{[^}]*\}|\^[A-Za-z0-9])?(_\{[^}]*\}|_[A-Za-z0-9])?"
                 r"(\^\{[^}]*\}|\^[A-Za-z0-9])?(\[[^\]]*\])?", res.text[position:])
    return m.group() if m else f"column {position + 1}"


def _mismatch(res, message: str, left, right, position: int) -> None:
    """An index used over two sizes: the formula denotes no matrix, which the check
    answers as a shape mismatch (never a parse error); the first one is kept."""
    from ..core.matrix.expr import ShapeProblem
    if getattr(res, "index_problem", None) is None:
        res.index_problem = (ShapeProblem(message + " (an index stands for one position: "
                                          "check which index goes where)", (left,), (right,)),
                             position)


def _uses(entry: Entry, scope: _Scope, res, position: int) -> None:
    for axis, (i, d) in enumerate(zip(entry.indices, entry.matrix.shape)):
        if isinstance(i, str):
            what = (f"the {('rows', 'columns')[axis]} of {entry.matrix.name}"
                    if len(entry.matrix.shape) == 2 else f"the entries of {entry.matrix.name}")
            scope.use(i, d, what, position, res)


def _scope_end(tokens: list, i: int) -> int:
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


def _closing(tokens: list, i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].type in OPENERS:
            depth += 1
        elif tokens[j].type in CLOSERS:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _bracket_indices(tokens: list, i: int):
    """(indices, next index) for ``[j, k]`` / ``[3]`` at ``i``; None otherwise."""
    if i >= len(tokens) or tokens[i].type != "_LBRACK":
        return None
    out, j = [], i + 1
    while j < len(tokens):
        t = tokens[j]
        if t.type == "NUMBER" and str(t.value).isdigit():
            out.append(int(str(t.value)))
        elif t.type == "NAME" and isinstance(t.value, Word) and len(t.value.name) == 1:
            out.append(t.value.name)
        else:
            return None
        j += 1
        if j < len(tokens) and tokens[j].type == "_COMMA":
            j += 1
            continue
        if j < len(tokens) and tokens[j].type == "_RBRACK":
            return out, j + 1
        return None
    return None


def _indexed_token(leaf, indices, res, scope, start, end) -> Token:
    entry = _entry_of(leaf, indices, res, start)
    _uses(entry, scope, res, start)
    res.notes.read(f"read {res.text[start:end]} as entry "
                   f"[{', '.join(str(i) for i in indices)}] of {leaf.name}")
    return tok("INDEXED", _Indexed(entry), start, end)


def _sum_size(mark: SumMark, uses: list, res):
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
        _mismatch(res, f"the summed index {mark.letter} runs over {w1} ({d1}) and over "
                  f"{other[1]} ({other[0]}) at {_source(res, other[2])}", d1, other[0],
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


def _upper(mark: SumMark, res):
    tokens, position = mark.upper
    tokens = _layers(list(tokens), res)
    if len(tokens) == 1 and tokens[0].type == "NUMBER" and str(tokens[0].value).isdigit():
        return int(str(tokens[0].value))
    if len(tokens) == 1 and tokens[0].type == "NAME":
        name = tokens[0].value.name
        if res.ns.roles.get(name) == "size":
            return name
    raise _err(res, "cannot read the upper end of this sum as a size of the network",
               position, "sizes: " + (", ".join(k for k, r in res.ns.roles.items()
                                               if r == "size") or "the widths are numbers: "
                                      "write a number") + "; or leave the range out")


def _index_call(tokens: list, i: int) -> bool:
    """``sum(k, ...)``: a sum over the index k (``sum(dZ1, axis=1)`` is none)."""
    return (tokens[i].value.name == "sum" and i + 3 < len(tokens)
            and tokens[i + 1].type == "_LPAR" and tokens[i + 2].type == "NAME"
            and isinstance(tokens[i + 2].value, Word) and len(tokens[i + 2].value.name) == 1
            and tokens[i + 3].type == "_COMMA")


def _walk(tokens: list, res, scope: _Scope) -> list:
    """INDEXED and SUM tokens for one stretch (recursing into sum scopes)."""
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1].type if i + 1 < len(tokens) else None
        if t.type == "SUM" or (t.type == "NAME" and isinstance(t.value, Word) and (
                _SUM_WORD.match(t.value.name) or _index_call(tokens, i))):
            i = _sum(tokens, i, res, scope, out)
            continue
        if t.type == "NAME" and isinstance(t.value, Word):
            found = _latex_entry(t, res)
            if found is not None:
                out.append(_indexed_token(*found, res, scope, t.start_pos, t.end_pos))
                i += 1
                continue
            leaf = _matrix(res, t.value.name)
            brackets = _bracket_indices(tokens, i + 1) if leaf is not None else None
            if brackets is not None:
                end = tokens[brackets[1] - 1].end_pos
                out.append(_indexed_token(leaf, brackets[0], res, scope, t.start_pos, end))
                i = brackets[1]
                continue
            m = _PLAIN_INDEXED.match(t.value.name)
            if m and not t.value.latex and not res.known(t.value.name):
                leaf = _matrix(res, m["base"])
                if leaf is not None:
                    out.append(_indexed_token(leaf, _indices_of(m["sub"]), res, scope,
                                              t.start_pos, t.end_pos))
                    i += 1
                    continue
        if t.type == "ADJ" and isinstance(t.value, Word):
            indexed = _adjoint_entry(tokens, i, res, scope)
            if indexed is not None:
                out.append(indexed[0])
                i = indexed[1]
                continue
        out.append(t)
        i += 1
    return out


def _adjoint_entry(tokens, i, res, scope):
    """``\\frac{\\partial C}{\\partial z^l_j}``, ``dC/dW2[j,k]``: an entry of a gradient."""
    t = tokens[i]
    word: Word = t.value
    if word.script and word.script[2] and any(c.isalpha() for c in word.script[2]):
        _, adjoint = _adjoint_leaf(res, word, t.start_pos)
        return _indexed_token(adjoint, _indices_of(word.script[2]), res, scope, t.start_pos,
                              t.end_pos), i + 1
    brackets = _bracket_indices(tokens, i + 1)
    if brackets is not None:
        found = res.symbol(word.name, t.start_pos, t.end_pos)
        adjoint = res.ns.adjoints.get(found.name) if found is not None else None
        if adjoint is not None:
            end = tokens[brackets[1] - 1].end_pos
            return _indexed_token(adjoint, brackets[0], res, scope, t.start_pos, end), \
                brackets[1]
    return None


def _sum(tokens, i, res, scope: _Scope, out: list) -> int:
    t = tokens[i]
    if t.type == "SUM":
        mark = t.value
        lo, hi = i + 1, _scope_end(tokens, i + 1)
        close = None
    elif t.value.name == "sum":     # sum(k, expr)
        mark = SumMark(tokens[i + 2].value.name, None, None, t.start_pos)
        close = _closing(tokens, i + 1)
        lo, hi = i + 4, close
    else:                           # sum_k expr
        mark = SumMark(_SUM_WORD.match(t.value.name)["letter"], None, None, t.start_pos)
        lo, hi = i + 1, _scope_end(tokens, i + 1)
        close = None
    letter = mark.letter
    if letter in scope.free:
        raise _err(res, f"index {letter} is free on the left side, so it cannot be summed",
                   mark.position, "sum over a letter of its own")
    if letter in scope.summed:
        raise _err(res, f"index {letter} is already summed by an outer sum", mark.position,
                   "give the inner sum a letter of its own")
    if lo >= hi:
        raise _err(res, f"nothing to sum over {letter}", mark.position,
                   "write the summand after the sum")
    scope.summed[letter] = []
    inner = _walk(tokens[lo:hi], res, scope)
    mark.size = _sum_size(mark, scope.summed.pop(letter), res)
    end = tokens[hi - 1].end_pos
    out.append(tok("SUM", mark, t.start_pos, end))
    out.append(tok("_LPAR", "(", tokens[lo].start_pos, tokens[lo].start_pos))
    out.extend(inner)
    out.append(tok("_RPAR", ")", end, end))
    return hi + 1 if close is not None else hi


# -- the two entry points ---------------------------------------------------------------
def resolve_layers(tokens: list, res) -> list:
    """Layer letters and Nielsen's bare layers of a matrix network made numbers; on other
    namespaces, a sum or a superscript on a derivative's quantity is refused clearly."""
    if not is_matrix_ns(res.ns):
        for t in tokens:
            if t.type == "SUM":
                raise _err(res, "'\\sum' cannot be read here: index notation is read for "
                           "matrix networks", t.start_pos,
                           "describe the network with --widths (e.g. --widths n0,n1,n2 "
                           "--style nielsen), or write the terms out for the scalar network")
            if t.type == "ADJ" and isinstance(t.value, Word) and t.value.power is not None:
                raise _err(res, "cannot read the superscript of the quantity of this "
                           "derivative", t.start_pos, "write a layer as w^{(1)} or w_1")
        return tokens
    return _layers(tokens, res)


def rewrite(tokens: list, res) -> list:
    """Tokens with index notation made explicit (see the module docstring); on other
    namespaces, a sum is refused clearly and everything else passes unchanged."""
    tokens = resolve_layers(tokens, res)
    if not is_matrix_ns(res.ns):
        return tokens
    return _walk(tokens, res, _Scope(getattr(res, "free", None) or {}))


def scalar_body(expr, res, position: int, what: str):
    """``expr`` as the scalar matrix expression an entry is; a matrix there (a name written
    without its indices) is an error."""
    from ..core.matrix.expr import as_mexpr
    body = as_mexpr(expr)
    if body.shape is not None and any(d != 1 for d in body.shape):
        raise _err(res, f"{what} is {_a(show(body.shape))}, not one entry", position,
                   "in index notation write every matrix with its indices (w^l_{jk}, "
                   "W1[j,k])")
    return body


def left_side(tokens: list, res) -> IndexLeft | None:
    """The entry a left side names (``\\frac{\\partial C}{\\partial w^l_{jk}}``,
    ``\\delta^l_j``, ``dC/dW2[j,k]``, ``dW1[j,k]``), or None when it names no entry."""
    if not is_matrix_ns(res.ns) or not tokens:
        return None
    tokens = _layers(tokens, res)
    t = tokens[0]
    if not isinstance(t.value, Word):
        return None
    word, leaf, indices, name = t.value, None, None, None
    rest = 1
    if t.type == "ADJ":
        if word.script and word.script[2] and any(c.isalpha() for c in word.script[2]):
            name, leaf = _adjoint_leaf(res, word, t.start_pos)
            indices = _indices_of(word.script[2])
        else:
            brackets = _bracket_indices(tokens, 1)
            if brackets is not None:
                found = res.symbol(word.name, t.start_pos, t.end_pos)
                if found is not None and found.name in res.ns.adjoints:
                    name, leaf = found.name, res.ns.adjoints[found.name]
                    indices, rest = brackets
    elif t.type == "NAME":
        _known_base(t, res)
        found = _latex_entry(t, res)
        brackets = _bracket_indices(tokens, 1)
        plain = _PLAIN_INDEXED.match(word.name)
        if found is not None:
            leaf, indices = found
        elif brackets is not None and _matrix(res, word.name) is not None:
            leaf, (indices, rest) = _matrix(res, word.name), brackets
        elif plain and not word.latex and not res.known(word.name) and _matrix(
                res, plain["base"]) is not None:
            leaf, indices = _matrix(res, plain["base"]), _indices_of(plain["sub"])
        if leaf is not None:
            name = leaf.name
            if res.ns.roles.get(name) != "gradient":
                return None
    if leaf is None or rest != len(tokens):
        return None
    entry = _entry_of(leaf, list(indices), res, t.start_pos)
    letters = [i for i in entry.indices if i is not None]
    if any(not isinstance(i, str) for i in letters) or len(set(letters)) != len(letters):
        raise _err(res, "the left side needs one index letter per axis, each letter once",
                   t.start_pos, "e.g. dC/dw^l_{jk} = ..., or name a single entry by numbers "
                   "with --wrt (W1_32)")
    free = {}
    for axis, (i, d) in enumerate(zip(entry.indices, leaf.shape)):
        if i is not None:
            what = (f"the {('rows', 'columns')[axis]} of {leaf.name}" if len(leaf.shape) == 2
                    else f"the entries of {leaf.name}")
            free[i] = (d, what)
    source = res.text[t.start_pos:tokens[-1].end_pos]
    res.notes.read(f"read the left side {source} as entry [{', '.join(letters)}] of "
                   f"{leaf.name}, for every {', '.join(letters)} (free indices)")
    return IndexLeft(name, leaf, entry.indices, t.start_pos, free)

