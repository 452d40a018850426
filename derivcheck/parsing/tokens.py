"""The token stream both front ends produce and the one grammar reads.

A token is a :class:`lark.Token` whose ``start_pos``/``end_pos`` point into the text the
user typed, so every error can put its caret there. Names travel as :class:`Word` values:
the plain name (``W0_12``) together with its *units*, the pieces it may be split into when
it is not a known name (``w1x`` is ``w1`` then ``x``).

Token types the grammar reads: ``NUMBER NAME CONST ADJ FUNC DFUNC FRAC INDICATOR ADDOP MULOP
POW CMP OTHERWISE TRANSPOSE KWARG`` and the punctuation ``_LPAR _RPAR _LBRACK _RBRACK _LGROUP _RGROUP
_BAR_OPEN _BAR_CLOSE _COMMA _AMP _ROWSEP _CASES_BEGIN _CASES_END``. Types the front ends
produce but the grammar never sees (they are folded or reported first): ``EQUAL PRIME
PARTIAL BAR PUNCT DOP PDERIV ERROR``.

>>> from .plain import scan_plain
>>> [(t.type, str(t)) for t in fold_adjoint_slashes(scan_plain("dC/dz2 * w1x"))]
[('ADJ', 'z2'), ('MULOP', '*'), ('NAME', 'w1x')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from lark import Token

from .vocabulary import LOSS_NAMES

__all__ = ["Unit", "Word", "tok", "fold_adjoint_slashes", "fold_keywords", "drop_punctuation",
           "loss_differential",
           "differential", "CHAR_TOKENS", "OPENERS", "CLOSERS", "split_on_equals", "Segment",
           "segments", "Notes"]


class Unit(NamedTuple):
    """A piece of a name that is never split further (``w1``, ``W0_12``, ``yhat``)."""

    text: str
    start: int
    end: int


class Word:
    """A name as written: its units, and how it was written.

    ``latex`` marks names from the LaTeX front end (where a run of letters is a product of
    letters when nothing else fits); ``layered`` marks a layer index (``dz^{[2]}``).
    """

    __slots__ = ("units", "latex", "layered", "name", "script", "power", "example")

    def __init__(self, units: tuple[Unit, ...], latex: bool = False, layered: bool = False,
                 script: tuple | None = None):
        self.units, self.latex, self.layered = units, latex, layered
        self.name = units[0].text if len(units) == 1 else "".join(u.text for u in units)
        #: LaTeX scripts of the last unit: (stem, layer as written or None, subscript or
        #: None), e.g. ("z", "k+1", "j") for ``z^{(k+1)}_j`` (read by index notation).
        self.script = script
        #: The tokens of a superscript written after the quantity of a derivative
        #: (``\partial w^l_{jk}``): a layer in Nielsen's notation, read by index notation.
        self.power = None
        #: One example's column (or row) of a batch quantity: ``(index, axis)`` for
        #: deeplearning.ai's ``z^{[1](i)}`` (axis None: the examples' axis) or numpy's
        #: ``Z1[:, i]`` (axis 1); read by :mod:`.examples`.
        self.example = None

    @property
    def start(self) -> int:
        return self.units[0].start

    @property
    def end(self) -> int:
        return self.units[-1].end

    def rest(self) -> "Word":
        """The word without its first unit (``dz2`` -> ``z2``)."""
        out = Word(self.units[1:], self.latex, self.layered, self.script)
        out.power, out.example = self.power, self.example
        return out

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Word({self.name!r})"

    _UNIT = re.compile(r"[A-Za-z](?:[0-9]+|_[A-Za-z0-9]+)*")

    @classmethod
    def plain(cls, ident: str, start: int) -> "Word":
        """Units of a plain identifier: a letter with the digits and ``_suffix`` after it.

        >>> [u.text for u in Word.plain("w1x", 0).units], Word.plain("W0_12", 5).units
        (['w1', 'x'], (Unit(text='W0_12', start=5, end=10),))
        """
        if len(ident) > 64 or cls._UNIT.fullmatch(ident):   # too long to split, or one unit
            return cls((Unit(ident, start, start + len(ident)),))
        units = tuple(Unit(m.group(), start + m.start(), start + m.end())
                      for m in cls._UNIT.finditer(ident))
        if sum(len(u.text) for u in units) != len(ident):
            units = (Unit(ident, start, start + len(ident)),)
        return cls(units)


def tok(type_: str, value, start: int, end: int) -> Token:
    """A token with its place in the text (``Token(type_, value, start_pos=, end_pos=)``,
    without the keyword handling that makes lark's constructor three times slower).

    >>> t = tok("MULOP", "*", 3, 4)
    >>> t.type, str(t), t.start_pos, t.end_pos
    ('MULOP', '*', 3, 4)
    """
    return Token._future_new(type_, value, start, None, None, None, None, end)


#: Single characters both front ends read the same way: type and value.
CHAR_TOKENS = {
    "+": ("ADDOP", "+"), "-": ("ADDOP", "-"), "\u2212": ("ADDOP", "-"), "\u2013": ("ADDOP", "-"),
    "*": ("MULOP", "*"), "\u00b7": ("MULOP", "*"), "\u00d7": ("MULOP", "*"),
    "\u22c5": ("MULOP", "*"), "\u2299": ("MULOP", "*"), "\u2217": ("MULOP", "*"),
    "/": ("MULOP", "/"), "\u00f7": ("MULOP", "/"), "^": ("POW", "^"),
    "(": ("_LPAR", "("), ")": ("_RPAR", ")"), "[": ("_LBRACK", "["), "]": ("_RBRACK", "]"),
    "{": ("_LGROUP", "{"), "}": ("_RGROUP", "}"), ",": ("_COMMA", ","), "=": ("EQUAL", "="),
    "|": ("BAR", "|"), ".": ("PUNCT", "."), ";": ("PUNCT", ";"), ":": ("PUNCT", ":"),
    ">": ("CMP", ">"), "<": ("CMP", "<"), "\u2265": ("CMP", ">="), "\u2264": ("CMP", "<="),
    "\u2202": ("PARTIAL", "\u2202"), "'": ("PRIME", "'"), "\u2032": ("PRIME", "'"),
}

OPENERS = {"_LPAR": "_RPAR", "_LBRACK": "_RBRACK", "_LGROUP": "_RGROUP",
           "_BAR_OPEN": "_BAR_CLOSE", "_CASES_BEGIN": "_CASES_END"}
CLOSERS = {close: open_ for open_, close in OPENERS.items()}


def split_on_equals(items, kind) -> list[tuple[int, int]]:
    """Index ranges of the parts between ``=`` signs outside every bracket.

    ``kind(item)`` gives the token type of an item (``EQUAL``, an opener, a closer, ...).

    >>> split_on_equals(["a", "EQUAL", "b"], lambda t: t)
    [(0, 1), (2, 3)]
    """
    parts, depth, lo = [], 0, 0
    for i, item in enumerate(items):
        k = kind(item)
        if k in OPENERS:
            depth += 1
        elif k in CLOSERS:
            depth = max(0, depth - 1)
        elif k == "EQUAL" and depth == 0:
            parts.append((lo, i))
            lo = i + 1
    parts.append((lo, len(items)))
    return parts


def _is_name(t, text: str | None = None) -> bool:
    return t.type == "NAME" and (text is None or t.value.name == text)


def loss_differential(tokens) -> bool:
    """True for ``∂C``, ``dC``, ``d C`` (the numerator of a loss derivative).

    >>> from .plain import scan_plain
    >>> loss_differential(scan_plain("dJ")), loss_differential(scan_plain("dz"))
    (True, False)
    """
    if len(tokens) == 1 and _is_name(tokens[0]):
        w = tokens[0].value
        return len(w.units) > 1 and w.units[0].text == "d" and w.rest().name in LOSS_NAMES
    return (len(tokens) == 2 and _is_name(tokens[1]) and tokens[1].value.name in LOSS_NAMES
            and (tokens[0].type == "PARTIAL" or _is_name(tokens[0], "d")))


def differential(tokens) -> Word | None:
    """The quantity of ``∂q``, ``dq``, ``d q``; None when the tokens are no differential.

    >>> from .plain import scan_plain
    >>> differential(scan_plain("\u2202 z2")), differential(scan_plain("z2"))
    (Word('z2'), None)
    """
    if len(tokens) == 1 and _is_name(tokens[0]):
        w = tokens[0].value
        return w.rest() if len(w.units) > 1 and w.units[0].text == "d" else None
    if len(tokens) == 2 and _is_name(tokens[1]) and (tokens[0].type == "PARTIAL"
                                                     or _is_name(tokens[0], "d")):
        return tokens[1].value
    if (len(tokens) > 3 and _is_name(tokens[1]) and tokens[2].type == "POW"
            and (tokens[0].type == "PARTIAL" or _is_name(tokens[0], "d"))
            and tokens[1].value.latex):
        word = Word(tokens[1].value.units, True, tokens[1].value.layered,
                    tokens[1].value.script)
        word.power = tokens[2:]   # w^l: index notation reads it as a layer, or refuses it
        return word
    return None


def _adjoint_at(tokens: list[Token], i: int):
    """``(ADJ token, next index)`` when a loss derivative with a slash starts at ``i``."""
    for k in (1, 2):
        slash = i + k
        if (slash < len(tokens) and tokens[slash].type == "MULOP" and tokens[slash].value == "/"
                and loss_differential(tokens[i:slash])):
            for m in (1, 2):
                quantity = differential(tokens[slash + 1: slash + 1 + m])
                if quantity is not None:
                    end = tokens[slash + m].end_pos
                    return tok("ADJ", quantity, tokens[i].start_pos, end), slash + m + 1
    return None


def fold_adjoint_slashes(tokens: list[Token]) -> list[Token]:
    """Replace ``dC/dz2``, ``∂C/∂z2``, ``\\partial C / \\partial z^{(2)}`` by one ``ADJ``
    (example in the module docstring)."""
    out, i = [], 0
    while i < len(tokens):
        found = _adjoint_at(tokens, i)
        if found is None:
            out.append(tokens[i])
            i += 1
        else:
            out.append(found[0])
            i = found[1]
    return out


_BEFORE_DROPPED = {"_AMP", "_ROWSEP", "_CASES_END", None}


#: Keyword arguments a call may take (numpy's).
KEYWORDS = frozenset({"axis", "keepdims"})


def fold_keywords(tokens: list[Token]) -> list[Token]:
    """``axis=1`` inside brackets becomes one ``KWARG`` token (``axis``) before the value;
    ``True``/``False`` values are the numbers 1/0.

    >>> from .plain import scan_plain
    >>> [(t.type, str(t)) for t in fold_keywords(scan_plain("np.sum(a, keepdims=True)"))][-3:]
    [('KWARG', 'keepdims'), ('NUMBER', '1'), ('_RPAR', ')')]
    """
    if not any(t.type == "EQUAL" for t in tokens):
        return tokens
    out: list[Token] = []
    depth = 0
    for t in tokens:
        if t.type in OPENERS:
            depth += 1
        elif t.type in CLOSERS:
            depth -= 1
        if (t.type == "EQUAL" and depth > 0 and out and out[-1].type == "NAME"
                and str(out[-1].value) in KEYWORDS):
            name = out.pop()
            out.append(tok("KWARG", str(name.value), name.start_pos, t.end_pos))
            continue
        if (t.type == "NAME" and str(t.value) in ("True", "False") and out
                and out[-1].type == "KWARG"):
            out.append(tok("NUMBER", "1" if str(t.value) == "True" else "0", t.start_pos,
                           t.end_pos))
            continue
        out.append(t)
    return out


def drop_punctuation(tokens: list[Token]) -> list[Token]:
    """Drop sentence punctuation (``.``, ``,``, ``;``) at the end or before ``&``, ``\\\\``,
    ``\\end``.

    >>> from .plain import scan_plain
    >>> [str(t) for t in drop_punctuation(scan_plain("max(0, x),"))]
    ['max', '(', '0', ',', 'x', ')']
    """
    out = []
    for i, t in enumerate(tokens):
        if t.type in ("PUNCT", "_COMMA"):
            j = i + 1
            while j < len(tokens) and tokens[j].type in ("PUNCT", "_COMMA"):
                j += 1
            if (tokens[j].type if j < len(tokens) else None) in _BEFORE_DROPPED:
                continue
        out.append(t)
    return out


@dataclass(frozen=True)
class Segment:
    """One side of an equation: items ``lo:hi`` of the front end, characters ``start:end``."""

    lo: int
    hi: int
    start: int
    end: int


def segments(items, kind, span) -> list[Segment]:
    """The parts between top-level ``=`` signs, with their character spans.

    >>> from .plain import scan_plain
    >>> tokens = scan_plain("dC/dw1 = (a = b)")
    >>> sides = segments(tokens, lambda t: t.type, lambda t: (t.start_pos, t.end_pos))
    >>> [(s.start, s.end) for s in sides]
    [(0, 6), (9, 16)]

    ``kind(item)`` is the token type of an item and ``span(item)`` its ``(start, end)``.
    """
    out = []
    for lo, hi in split_on_equals(items, kind):
        if lo < hi:
            start, end = span(items[lo])[0], span(items[hi - 1])[1]
        else:
            start = end = span(items[lo - 1])[1] if lo > 0 else (span(items[0])[0] if items else 0)
        out.append(Segment(lo, hi, start, end))
    return out


class Notes:
    """Readings ("read W_2 as w2") and warnings collected while a formula is read."""

    def __init__(self):
        self.readings: list[str] = []
        self.warnings: list[str] = []

    def read(self, message: str) -> None:
        if message not in self.readings:
            self.readings.append(message)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
