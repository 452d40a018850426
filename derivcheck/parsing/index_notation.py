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
  of its term (the next ``+`` or ``-`` outside brackets), as it is read in print
  (:mod:`.index_sums`).
* A **layer letter** (``w^l``, ``\delta^{l+1}``, ``z^{(k+1)}``) stands for every layer:
  read with a value given (:class:`LayerVariable` says which letter is unbound;
  :mod:`.layer_letters`).

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
from ..core.matrix.shapes import a_shape
from ..errors import NameError_, ParseError
from .examples import axis_words, column_left, matrix_leaf, plain_example, slice_entry
from .index_sums import (SUM_WORD, SumMark, closing, index_call, mismatch, scope_end,
                         source_at, sum_size)
from .layer_letters import LayerVariable, is_matrix_ns, merge_layers, resolve_layers
from .tokens import Word, tok

__all__ = ["SumMark", "LayerVariable", "IndexLeft", "rewrite", "left_side", "is_matrix_ns",
           "resolve_layers", "scalar_body"]

_PLAIN_INDEXED = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)_(?P<sub>[A-Za-z0-9]*[A-Za-z]"
                            r"[A-Za-z0-9]*)$")
_INDEX_HINT = ("give every index letter a meaning: free (on the left side, e.g. "
               "dC/dw^l_{jk} =) or summed (\\sum_k ...)")


@dataclass
class IndexLeft:
    """A left side naming an entry: the gradient's name, its matrix, the free index per
    axis (None for an unwritten axis of length 1)."""

    name: str
    leaf: Leaf
    axes: tuple
    position: int
    free: dict = field(default_factory=dict)   # letter -> (dim, what)
    #: A left side naming one example's column (``dz^{[1](i)}``): the axis of the
    #: examples (the formula is stacked over them); None for an entry.
    slice_axis: int | None = None


@dataclass(frozen=True)
class _Indexed:
    """The value of an ``INDEXED`` token."""

    expr: Entry

    def __str__(self) -> str:
        return self.expr.text()


def _err(res, message, position, hint=None):
    return ParseError(message, text=res.text, position=position, hint=hint)


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
        raise _err(res, f"{leaf.name} is {a_shape(shape)}: it takes {len(shape)} "
                   f"ind{'ex' if len(shape) == 1 else 'ices'}, not {len(indices)}", position,
                   f"write one index per axis, e.g. {leaf.name}[j,k]" if len(shape) == 2 else
                   None)
    for i, d in zip(indices, shape):
        if isinstance(i, int) and (i < 1 or (isinstance(d, int) and i > d)):
            raise _err(res, f"index {i} is out of the dimension of {leaf.name} "
                       f"({a_shape(shape)}; indices count from 1)", position,
                       "indices run from 1 to the size of their axis")
    return Entry(leaf, tuple(indices))



def _latex_entry(t: Token, res):
    """(matrix leaf, index list) of a LaTeX name with a subscript of index letters."""
    word: Word = t.value
    if not word.script or not word.script[2]:
        return None
    stem, layer, sub = word.script
    if not any(c.isalpha() for c in sub):
        return None
    prefix = "".join(u.text for u in word.units[:-1])
    leaf = matrix_leaf(res, prefix + stem + (layer or ""))
    return (leaf, _indices_of(sub)) if leaf is not None else None


def _known_base(t: Token, res) -> None:
    """A left side with index letters names a matrix the network has (``dW^{[l]}_{jk}``
    at a layer l with no such matrix is an unknown name, which a reading for every layer
    skips)."""
    word: Word = t.value
    if word.script and word.script[2] and any(c.isalpha() for c in word.script[2]):
        stem, layer, _ = word.script
        name = "".join(u.text for u in word.units[:-1]) + stem + (layer or "")
        if matrix_leaf(res, name) is None:
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
        layers = [n for n in res.ns.adjoints if re.fullmatch(re.escape(name) + r"\d+", n)]
        hint = ("loss derivatives are known for: " + ", ".join(sorted(res.ns.adjoints)[:16]))
        if layers and not layer:
            hint = (f"{name} is a quantity of every layer ({', '.join(sorted(layers))}): "
                    "write its layer, as a number or as a letter for every layer "
                    "(z^{(k+1)}_j, w^l_{jk}, dZ^{[l]})")
        raise NameError_(f"no loss derivative with respect to {name} in the network",
                         text=res.text, position=position, hint=hint)
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
                mismatch(res, f"index {letter} runs over {where} ({want}) on the left side, "
                          f"but over {what} ({dim}) at {source_at(res, position)}", want, dim,
                          position)
        else:
            raise _err(res, f"index {letter} is neither free nor summed", position,
                       _INDEX_HINT)


def _uses(entry: Entry, scope: _Scope, res, position: int) -> None:
    for axis, (i, d) in enumerate(zip(entry.indices, entry.matrix.shape)):
        if isinstance(i, str):
            what = (f"the {('rows', 'columns')[axis]} of {entry.matrix.name}"
                    if len(entry.matrix.shape) == 2 else f"the entries of {entry.matrix.name}")
            scope.use(i, d, what, position, res)


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


def _walk(tokens: list, res, scope: _Scope) -> list:
    """INDEXED and SUM tokens for one stretch (recursing into sum scopes)."""
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "SUM" or (t.type == "NAME" and isinstance(t.value, Word) and (
                SUM_WORD.match(t.value.name) or index_call(tokens, i))):
            i = _sum(tokens, i, res, scope, out)
            continue
        if t.type == "NAME" and isinstance(t.value, Word) and t.value.example:
            out.append(_slice_token(t, res, scope))
            i += 1
            continue
        if t.type == "NAME" and isinstance(t.value, Word):
            found = _latex_entry(t, res)
            if found is not None:
                out.append(_indexed_token(*found, res, scope, t.start_pos, t.end_pos))
                i += 1
                continue
            leaf = matrix_leaf(res, t.value.name)
            brackets = _bracket_indices(tokens, i + 1) if leaf is not None else None
            if brackets is not None:
                end = tokens[brackets[1] - 1].end_pos
                out.append(_indexed_token(leaf, brackets[0], res, scope, t.start_pos, end))
                i = brackets[1]
                continue
            m = _PLAIN_INDEXED.match(t.value.name)
            if m and not t.value.latex and not res.known(t.value.name):
                plain_example(t, res)
                leaf = matrix_leaf(res, m["base"])
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


def _slice_token(t, res, scope: _Scope) -> Token:
    """One example's column (``dz^{[1](i)}``, ``dZ1[:, i]``) as an INDEXED slice."""
    piece = slice_entry(t, res)
    if isinstance(piece.index, str):
        scope.use(piece.index, piece.matrix.shape[piece.axis],
                  axis_words(piece.matrix, piece.axis), t.start_pos, res)
    return tok("INDEXED", _Indexed(piece), t.start_pos, t.end_pos)


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
        lo, hi = i + 1, scope_end(tokens, i + 1)
        close = None
    elif t.value.name == "sum":     # sum(k, expr)
        mark = SumMark(tokens[i + 2].value.name, None, None, t.start_pos)
        close = closing(tokens, i + 1)
        lo, hi = i + 4, close
    else:                           # sum_k expr
        mark = SumMark(SUM_WORD.match(t.value.name)["letter"], None, None, t.start_pos)
        lo, hi = i + 1, scope_end(tokens, i + 1)
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
    mark.size = sum_size(mark, scope.summed.pop(letter), res)
    end = tokens[hi - 1].end_pos
    out.append(tok("SUM", mark, t.start_pos, end))
    out.append(tok("_LPAR", "(", tokens[lo].start_pos, tokens[lo].start_pos))
    out.extend(inner)
    out.append(tok("_RPAR", ")", end, end))
    return hi + 1 if close is not None else hi


# -- the two entry points ---------------------------------------------------------------
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
        raise _err(res, f"{what} is {a_shape(body.shape)}, not one entry", position,
                   "in index notation write every matrix with its indices (w^l_{jk}, "
                   "W1[j,k])")
    return body


def left_side(tokens: list, res) -> IndexLeft | None:
    """The entry a left side names (``\\frac{\\partial C}{\\partial w^l_{jk}}``,
    ``\\delta^l_j``, ``dC/dW2[j,k]``, ``dW1[j,k]``), or None when it names no entry."""
    if not is_matrix_ns(res.ns) or not tokens:
        return None
    tokens = merge_layers(tokens, res)
    t = tokens[0]
    if not isinstance(t.value, Word):
        return None
    word, leaf, indices, name = t.value, None, None, None
    rest = 1
    if word.example is not None:
        return _slice_left(tokens, res)
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
        elif brackets is not None and matrix_leaf(res, word.name) is not None:
            leaf, (indices, rest) = matrix_leaf(res, word.name), brackets
        elif plain and not word.latex and not res.known(word.name) and matrix_leaf(
                res, plain["base"]) is not None:
            leaf, indices = matrix_leaf(res, plain["base"]), _indices_of(plain["sub"])
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



def _slice_left(tokens: list, res) -> IndexLeft:
    """``dz^{[1](i)} =``, ``dZ1[:, i] =``: the equation for every column i of a gradient."""
    leaf, index, axis = column_left(tokens, res)
    axes = (None, index) if axis == 1 else (index, None)
    return IndexLeft(leaf.name, leaf, axes, tokens[0].start_pos,
                     {index: (leaf.shape[axis], axis_words(leaf, axis))}, slice_axis=axis)
