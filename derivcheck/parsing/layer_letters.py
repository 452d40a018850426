r"""Layers written with a letter: Nielsen's ``w^l``, ``\delta^{l+1}``, the seed answer's
``z^{(k+1)}``, deeplearning.ai's ``dW^{[l]}``, on matrix networks.

A formula with a layer letter states itself for every layer: it is read with a value
for the letter (``layers={"l": 3}`` reads ``w^{l+1}`` as ``w4``); without one,
:class:`LayerVariable` says which letter is unbound, and the caller reads the formula once
per layer (:mod:`derivcheck.decide.index_form`). In Nielsen's notation a bare superscript
is the layer (``w^l_{jk}``, ``\partial w^3``), merged into the name here when the name
carries index letters or the layer is a letter (numbers alone are merged by
:mod:`.resolve`).

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.parsing import parse_formula
>>> net = MatrixNetwork(["n1", "n2", "n3"], "sigmoid", style="nielsen")
>>> parse_formula(r"\delta^{l} = \delta^{l}", net.namespace, layers={"l": 2}).wrt
'delta2'
"""
from __future__ import annotations

import re


from ..core.matrix.names import MatrixNames
from ..errors import NameError_, ParseError
from .examples import as_example, refuse_examples
from .tokens import Unit, Word, tok

__all__ = ["LayerVariable", "resolve_layers", "is_matrix_ns", "merge_layers", "layer_value"]

_LAYER_TEXT = re.compile(r"^(?P<letter>[a-zA-Z])(?:(?P<sign>[+-])(?P<shift>\d+))?$")


class LayerVariable(ParseError):
    """A layer written with a letter (``w^l``, ``z^{(k+1)}``) and no value given for it: the
    caller reads the formula once for every layer (``letter``)."""

    kind = "parse_error"

    def __init__(self, letter: str, text: str, position: int):
        super().__init__(f"the layer {letter} is a letter: the formula is read for every "
                         "layer", text=text, position=position,
                         hint="write a layer number, or check the formula with a network")
        self.letter = letter



def is_matrix_ns(ns) -> bool:
    """True for the names of a matrix network (where index notation is read)."""
    return isinstance(getattr(ns, "symbols", None), MatrixNames)


def _err(res, message, position, hint=None):
    return ParseError(message, text=res.text, position=position, hint=hint)


def layer_value(text: str, res, position: int) -> str:
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
    out.example = word.example
    return out


def _has_letter(text) -> bool:
    return text is not None and any(c.isalpha() and c != "L" for c in text)


def merge_layers(tokens: list, res) -> list:
    """Layer letters replaced by their values; Nielsen's bare superscripts on indexed names
    and with letters merged into the name (``w^{l+1}_{kj}`` -> ``w3_kj``)."""
    bare = getattr(res.ns, "layer_superscripts", False)
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t.type in ("NAME", "ADJ") and isinstance(t.value, Word):
            word = t.value
            example = as_example(word, res) if t.type == "NAME" else None
            if example is not None:    # x^{(i)}: the input has no layer, i is an example
                out.append(tok(t.type, example, t.start_pos, t.end_pos))
                i += 1
                continue
            script = word.script
            if script and _has_letter(script[1]):
                layer = layer_value(script[1], res, t.start_pos)
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
    layer = layer_value(text, res, start)
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


def resolve_layers(tokens: list, res) -> list:
    """Layer letters and Nielsen's bare layers of a matrix network made numbers; on other
    namespaces, a sum or a superscript on a derivative's quantity is refused clearly."""
    if not is_matrix_ns(res.ns):
        refuse_examples(tokens, res)
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
    return merge_layers(tokens, res)
