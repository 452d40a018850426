r"""Reading candidate gradients and forward equations, in plain syntax or LaTeX.

Two front ends (:mod:`.plain`, :mod:`.latex`) turn the text into one token stream; names
are resolved against the network (:mod:`.resolve`); one LALR grammar builds the SymPy
expression (:mod:`.build`). No text is ever evaluated: every SymPy object is built from a
grammar rule.

A formula may be an equation. Its *last* right side is the candidate and its *first* left
side, when it is a derivative of the loss (``\frac{\partial C}{\partial w_2}``,
``\frac{dC}{dw_1}``, the seed's ``\frac{dC}{w_1}``, ``dC/dw2``, ``dw^{[1]}``), names the
parameter the gradient is taken with respect to. Middle parts of a chain ``A = B = C`` are
not read.

>>> parse_formula("(y - relu(w1*x))*x").expr
x*(y - ReLU(w1*x))
>>> f = parse_formula(r"\frac{dC}{w_1}=(y-ReLU(w_1x))(x)")
>>> f.wrt, f.expr, f.latex
('w1', x*(y - ReLU(w1*x)), True)
"""
from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import sympy

from ..errors import LimitError, ParseError
from ..limits import MAX_NESTING
from ..names import Namespace, valid_name
from .build import parse_tokens
from .latex import LatexSource
from .plain import scan_plain
from .resolve import Resolver, refine
from .structure import check_brackets, check_size, check_text, check_tokens, pair_bars
from .tokens import Notes, Segment, drop_punctuation, fold_adjoint_slashes, segments

__all__ = ["ParsedFormula", "parse_formula", "parse_equation", "is_latex"]

_NESTING_HINT = "name an inner part (e.g. z2) instead of nesting it"
#: Python frames a formula nested MAX_NESTING deep may need: the LaTeX reader recurses into
#: brace arguments (a few frames a level) and SymPy walks the nested expression.
_FRAMES = 2000 + 25 * MAX_NESTING


@contextmanager
def _room_to_recurse(text: str):
    """Raise the recursion limit to ``_FRAMES`` while reading (never lower it); a
    RecursionError that still happens becomes a LimitError."""
    old = sys.getrecursionlimit()
    if old < _FRAMES:
        sys.setrecursionlimit(_FRAMES)
    try:
        yield
    except RecursionError:
        raise LimitError(f"the formula nests too deeply (limit {MAX_NESTING})", text=text,
                         position=0, hint=_NESTING_HINT) from None
    finally:
        if old < _FRAMES:
            sys.setrecursionlimit(old)


@dataclass
class ParsedFormula:
    """A candidate as read: the expression, the parameter a left side names, and how it was read."""

    expr: sympy.Expr
    wrt: str | None
    latex: bool
    readings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Position of a left side that is not a derivative of the loss (``z1 = ...``), which
    #: a check refuses rather than grade the right side alone; None when there is none.
    other_left: int | None = None


_LATEX_SIGNS = re.compile(r"\\[A-Za-z,;:!{}| ]|[\^_]\{|\$|(?<![A-Za-z0-9_])[A-Za-z]_[A-Za-z0-9]"
                          r"|[A-Za-z]_\d")


def is_latex(text: str) -> bool:
    r"""True when ``text`` looks like LaTeX: a command, ``^{``, ``_{``, ``$`` or ``w_1``.

    >>> is_latex(r"\frac{1}{2}"), is_latex("(y-ReLU(w_1x))(x)"), is_latex("W0_12 * relu(x)")
    (True, True, False)
    """
    return bool(_LATEX_SIGNS.search(text))


def _check_input(text) -> None:
    if not isinstance(text, str):
        raise ParseError(f"a formula must be text, not {type(text).__name__}", text="", position=0,
                         hint="pass the formula as a string")
    check_text(text)
    if not text.strip():
        raise ParseError("the formula is empty", text=text, position=0,
                         hint="write a formula such as (y - relu(w1*x))*x")


def _slice(tokens, segment: Segment):
    return tokens[segment.lo:segment.hi]


def _sides(text: str, latex: bool, notes: Notes) -> list[tuple[Segment, partial]]:
    """The sides of the equation, each with a function that gives its tokens."""
    if latex:
        source = LatexSource(text)
        return [(s, partial(source.tokens, s, notes)) for s in source.segments()]
    tokens = scan_plain(text)
    return [(s, partial(_slice, tokens, s))
            for s in segments(tokens, lambda t: t.type, lambda t: (t.start_pos, t.end_pos))]


def _read(tokens, segment: Segment, resolver: Resolver) -> sympy.Expr:
    """The SymPy expression of one side."""
    text = resolver.text
    tokens = drop_punctuation(fold_adjoint_slashes(tokens))
    if not tokens:
        raise ParseError("the formula is empty" if segment.start == 0 else "nothing to read here",
                         text=text, position=segment.start,
                         hint="write a formula such as (y - relu(w1*x))*x")
    check_tokens(tokens, text, ("ERROR",))
    tokens = pair_bars(tokens)
    check_brackets(tokens, text)
    check_tokens(tokens, text)
    expr = parse_tokens(refine(tokens, resolver), resolver)
    check_size(expr, text, segment.start)
    return expr


def _left_side(segment: Segment, tokens, resolver: Resolver) -> str | None:
    """The parameter a left side such as ``dC/dw2`` names, or None (with a warning)."""
    source = resolver.text[segment.start:segment.end].strip()
    try:
        tokens = drop_punctuation(fold_adjoint_slashes(tokens()))
    except ParseError:
        tokens = []
    quantity = None
    if len(tokens) == 1 and tokens[0].type == "ADJ":
        quantity = tokens[0].value
    elif len(tokens) == 1 and tokens[0].type == "NAME":
        word = tokens[0].value
        if (len(word.units) > 1 and word.units[0].text == "d" and not resolver.known(word.name)
                and resolver.symbol(word.rest().name, word.rest().start, word.rest().end)):
            quantity = word.rest()
    if quantity is None:
        resolver.notes.warn(f"the left side {source} is not a derivative of the loss; "
                            "only the last right side was read")
        return None
    name = resolver.wrt(quantity)
    resolver.notes.read(f"read the left side {source} as the gradient with respect to {name}")
    role = resolver.ns.roles.get(name)
    if role not in (None, "parameter"):
        resolver.notes.warn(f"the left side differentiates with respect to {name}, which is "
                            f"{'an' if role[0] in 'aeiou' else 'a'} {role}, not a parameter")
    return name


def parse_formula(text: str, namespace: Namespace | None = None, *, latex: bool | None = None,
                  wrt: str | None = None) -> ParsedFormula:
    r"""Read a candidate formula (auto-detecting LaTeX unless ``latex`` is given).

    ``namespace`` says which names exist; without one every name is accepted. When ``wrt``
    is given and a left side names another parameter, that is an error.

    >>> parse_formula(r"\frac{\partial C}{\partial W^{(0)}} = (ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x"
    ...               ).wrt
    'W0'
    >>> parse_formula("dC/dw2 = x [z2 > 0]").expr
    x*IsPos(z2)
    """
    _check_input(text)
    use_latex = is_latex(text) if latex is None else latex
    notes = Notes()
    resolver = Resolver(namespace, text, notes)
    with _room_to_recurse(text):
        sides = _sides(text, use_latex, notes)
        for segment, _ in sides:
            if segment.lo == segment.hi:
                raise ParseError("one side of the equation is empty", text=text,
                                 position=segment.start,
                                 hint="write 'dC/dw1 = formula' or just the formula")
        named = _left_side(*sides[0], resolver) if len(sides) > 1 else None
        if wrt is not None and named is not None and named != wrt:
            raise ParseError(f"the left side is the gradient with respect to {named}, not {wrt}",
                             text=text, position=sides[0][0].start,
                             hint="check the left side, or ask for the gradient with respect "
                             f"to {named}")
        expr = _read(sides[-1][1](), sides[-1][0], resolver)
    other = sides[0][0].start if len(sides) > 1 and named is None else None
    return ParsedFormula(expr, named, use_latex, notes.readings, notes.warnings, other)


def parse_equation(text: str) -> tuple[str, sympy.Expr]:
    """Read a forward equation ``name = formula`` in plain syntax; every name is a plain symbol.

    >>> parse_equation("z1 = w1*x + b1")
    ('z1', b1 + w1*x)
    """
    _check_input(text)
    resolver = Resolver(Namespace.free(), text)
    tokens = scan_plain(text)
    sides = segments(tokens, lambda t: t.type, lambda t: (t.start_pos, t.end_pos))
    if len(sides) != 2:
        where = tokens[sides[2].lo - 1].start_pos if len(sides) > 2 else 0
        raise ParseError("expected one equation 'name = formula'", text=text, position=where,
                         hint="e.g. z1 = w1*x + b1")
    left = _slice(tokens, sides[0])
    if len(left) != 1 or left[0].type != "NAME" or not valid_name(left[0].value.name):
        raise ParseError("the left side of an equation must be one name", text=text,
                         position=sides[0].start, hint="e.g. z1 = w1*x + b1")
    if sides[1].lo == sides[1].hi:
        raise ParseError("nothing after '='", text=text, position=sides[1].start,
                         hint="e.g. z1 = w1*x + b1")
    with _room_to_recurse(text):
        expr = _read(_slice(tokens, sides[1]), sides[1], resolver)
    return left[0].value.name, expr
