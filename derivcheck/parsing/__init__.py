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
from .examples import fold_slices
from .masking import split_masking
from .index_notation import (LayerVariable, is_matrix_ns, left_side, resolve_layers, rewrite,
                             scalar_body)
from .latex import LatexSource
from .plain import scan_plain
from .resolve import Resolver, _bare_layers, refine
from .structure import check_brackets, check_size, check_text, check_tokens, pair_bars
from .tokens import (Notes, Segment, drop_punctuation, fold_adjoint_slashes, fold_keywords,
                     segments, tok)

__all__ = ["ParsedFormula", "parse_formula", "parse_equation", "read_equation", "is_latex",
           "left_side_name"]

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
    tokens = fold_keywords(drop_punctuation(fold_adjoint_slashes(tokens)))
    if not tokens:
        raise ParseError("the formula is empty" if segment.start == 0 else "nothing to read here",
                         text=text, position=segment.start,
                         hint="write a formula such as (y - relu(w1*x))*x")
    check_tokens(tokens, text, ("ERROR",))
    tokens = pair_bars(tokens)
    check_brackets(tokens, text)
    tokens = fold_slices(tokens, resolver)
    check_tokens(tokens, text)
    expr = parse_tokens(refine(rewrite(_caret_transposes(tokens, resolver), resolver), resolver),
                        resolver)
    if isinstance(expr, sympy.Basic):
        check_size(expr, text, segment.start)
    return expr


def _caret_transposes(tokens: list, resolver: Resolver) -> list:
    """``H^T`` in plain syntax on a matrix network (cs231n's ``dW2 = H^T dscores``): a
    transpose, as in LaTeX, unless the network has a quantity called T."""
    if not is_matrix_ns(resolver.ns) or resolver.known("T"):
        return tokens
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if (t.type == "POW" and str(t.value) == "^" and i + 1 < len(tokens)
                and tokens[i + 1].type == "NAME" and tokens[i + 1].value.name == "T"):
            out.append(tok("TRANSPOSE", "T", t.start_pos, tokens[i + 1].end_pos))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _left_side(segment: Segment, tokens, resolver: Resolver) -> str | None:
    """The parameter a left side such as ``dC/dw2`` names, or None (with a warning)."""
    source = resolver.text[segment.start:segment.end].strip()
    try:
        tokens = _bare_layers(resolve_layers(drop_punctuation(fold_adjoint_slashes(tokens())),
                                             resolver), resolver)
    except LayerVariable:
        raise
    except ParseError:
        tokens = []
    quantity = None
    if len(tokens) == 1 and tokens[0].type == "ADJ":
        quantity = tokens[0].value
    elif len(tokens) == 1 and tokens[0].type == "NAME":
        word = tokens[0].value
        if resolver.known(word.name) and resolver.ns.roles.get(word.name) == "gradient":
            resolver.notes.read(f"read the left side {source} as the gradient {word.name}")
            return word.name
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
        resolver.notes.read(f"the left side differentiates with respect to {name}, which is "
                            f"{'an' if role[0] in 'aeiou' else 'a'} {role}, not a parameter")
    return name


def _entry_left(side, resolver: Resolver):
    """The entry an index-notation left side names (matrix networks only), or None; a
    left side that cannot even be tokenized is left to :func:`_left_side` to refuse."""
    if not is_matrix_ns(resolver.ns):
        return None
    try:
        tokens = fold_slices(drop_punctuation(fold_adjoint_slashes(side[1]())), resolver)
    except LayerVariable:
        raise
    except ParseError:
        return None
    return left_side(tokens, resolver)


def parse_formula(text: str, namespace: Namespace | None = None, *, latex: bool | None = None,
                  wrt: str | None = None, layers: dict | None = None) -> ParsedFormula:
    r"""Read a candidate formula (auto-detecting LaTeX unless ``latex`` is given).

    ``namespace`` says which names exist; without one every name is accepted. When ``wrt``
    is given and a left side names another parameter, that is an error. ``layers`` gives
    layer letters their values (``{"l": 3}`` reads ``w^l`` as ``w3``); an unbound layer
    letter raises :class:`~.index_notation.LayerVariable`. On a matrix network, a left
    side that names an entry with index letters (``\frac{\partial C}{\partial
    w^3_{jk}}``) makes the formula the matrix of those entries
    (:mod:`.index_notation`).

    >>> parse_formula(r"\frac{\partial C}{\partial W^{(0)}} = (ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x"
    ...               ).wrt
    'W0'
    >>> parse_formula("dC/dw2 = x [z2 > 0]").expr
    x*IsPos(z2)
    """
    _check_input(text)
    pair = split_masking(text) if is_matrix_ns(namespace) and latex is not True else None
    if pair is not None:
        return _masked(text, pair, namespace, wrt, layers)
    use_latex = is_latex(text) if latex is None else latex
    notes = Notes()
    resolver = Resolver(namespace, text, notes)
    resolver.layers, resolver.free = dict(layers or {}), {}
    with _room_to_recurse(text):
        sides = _sides(text, use_latex, notes)
        for segment, _ in sides:
            if segment.lo == segment.hi:
                raise ParseError("one side of the equation is empty", text=text,
                                 position=segment.start,
                                 hint="write 'dC/dw1 = formula' or just the formula")
        entry = _entry_left(sides[0], resolver) if len(sides) > 1 else None
        if entry is not None:
            resolver.free = entry.free
            named = entry.name
        else:
            named = _left_side(*sides[0], resolver) if len(sides) > 1 else None
        if (wrt is not None and named is not None and named != wrt
                and resolver.known(named) and resolver.known(str(wrt))
                and resolver.ns.symbols[named] == resolver.ns.symbols[str(wrt)]):
            named = str(wrt)   # an alias of it: w_j for w2 when j = 2 (a generic index)
        if wrt is not None and named is not None and named != wrt:
            raise ParseError(f"the left side is the gradient with respect to {named}, not {wrt}",
                             text=text, position=sides[0][0].start,
                             hint="check the left side, or ask for the gradient with respect "
                             f"to {named}")
        expr = _read(sides[-1][1](), sides[-1][0], resolver)
        problem = getattr(resolver, "index_problem", None)
        if entry is not None and entry.slice_axis is not None:
            from ..core.matrix.expr import as_mexpr
            from ..core.matrix.slices import Stacked
            letter = next(a for a in entry.axes if a is not None)
            expr = Stacked(as_mexpr(expr), letter, entry.slice_axis, entry.leaf.shape)
            if problem is not None:
                expr.shape, expr.problem = None, problem[0]
        elif entry is not None:
            from ..core.matrix.indexed import IndexForm
            body = scalar_body(expr, resolver, sides[-1][0].start, "the right side")
            expr = IndexForm(body, entry.axes, entry.leaf.shape)
            if problem is not None:   # an index over two sizes: a shape mismatch
                expr.shape, expr.problem = None, problem[0]
        elif problem is not None:
            raise ParseError(problem[0].message, text=text, position=problem[1],
                             hint="an index stands for one position")
    other = sides[0][0].start if len(sides) > 1 and named is None else None
    return ParsedFormula(expr, named, use_latex, notes.readings, notes.warnings, other)


def _masked(text: str, pair, namespace, wrt, layers) -> ParsedFormula:
    """cs231n's ``dhidden = ...`` then ``dhidden[hidden_layer <= 0] = 0``
    (:mod:`.masking`): the first statement's value times ``1 - [condition]``."""
    from ..core.matrix.expr import mul, sub
    from ..errors import DerivcheckError
    try:
        first = parse_formula(pair[0], namespace, latex=False, wrt=wrt, layers=layers)
        condition = parse_formula(pair[1], namespace, latex=False, layers=layers)
    except DerivcheckError as err:
        err.text = text   # the positions are the typed text's
        raise
    first.expr = mul(first.expr, sub(1, condition.expr))
    first.readings += [r for r in condition.readings if r not in first.readings]
    first.readings.append(f"read the masking line {pair[2]} as setting those entries to 0: "
                          "the first line's value times (1 - the condition)")
    first.warnings += condition.warnings
    return first


def left_side_name(text: str, latex: bool | None = None) -> str | None:
    r"""The name a left side ``dC/dq =`` differentiates by, as written and not looked up
    (``w_j``, ``wj``), or None when there is no such left side or it cannot be read.

    >>> left_side_name(r"\frac{\partial C}{\partial w_j} = x_j"), left_side_name("x_j")
    ('w_j', None)
    """
    from ..errors import DerivcheckError
    if not isinstance(text, str):
        return None
    try:
        sides = _sides(text, is_latex(text) if latex is None else latex, Notes())
        if len(sides) < 2:
            return None
        tokens = drop_punctuation(fold_adjoint_slashes(sides[0][1]()))
    except DerivcheckError:
        return None
    if len(tokens) == 1 and tokens[0].type == "ADJ":
        word = tokens[0].value
        return text[word.start:word.end]
    return None


def parse_equation(text: str) -> tuple[str, sympy.Expr]:
    """Read a forward equation ``name = formula`` in plain syntax; every name is a plain symbol.

    >>> parse_equation("z1 = w1*x + b1")
    ('z1', b1 + w1*x)
    """
    return read_equation(text, Resolver(Namespace.free(), text))


def read_equation(text: str, resolver: Resolver, *, latex: bool = False,
                  example: str = "z1 = w1*x + b1") -> tuple[str, object]:
    r"""``name = formula``: the left name and the right side read with ``resolver``, in
    plain syntax or (``latex``) LaTeX, where ``Z^{[1]}`` and ``W_1`` name ``Z1`` and
    ``W1``; a malformed equation is a ParseError at its position (``example`` in the
    hint).

    >>> read_equation(r"z^{[1]} = \tanh(w_1 x)", Resolver(Namespace.free(), ""), latex=True)
    ('z1', tanh(w1*x))
    """
    _check_input(text)
    sides = _sides(text, latex, resolver.notes)
    if len(sides) != 2:
        where = text.find("=", sides[1][0].end) if len(sides) > 2 else 0
        raise ParseError("expected one equation 'name = formula'", text=text, position=where,
                         hint=f"e.g. {example}")
    (left_side, left_tokens), (right_side, right_tokens) = sides
    left = left_tokens()
    if len(left) != 1 or left[0].type != "NAME" or not valid_name(left[0].value.name):
        raise ParseError("the left side of an equation must be one name", text=text,
                         position=left_side.start, hint=f"e.g. {example}")
    if right_side.lo == right_side.hi:
        raise ParseError("nothing after '='", text=text, position=right_side.start,
                         hint=f"e.g. {example}")
    with _room_to_recurse(text):
        expr = _read(right_tokens(), right_side, resolver)
    return left[0].value.name, expr
