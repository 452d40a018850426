"""Checks on the shape of a formula before it is parsed: limits, brackets, stray tokens.

These run on the raw text or the token stream, never recursively, so hostile input (a
megabyte of text, 10^5 nested parentheses, a tower of powers) is refused in linear time
before the parser or SymPy sees it. Unbalanced brackets get their own message, which
points at the bracket left open and says where the closing one is probably missing:

See :func:`check_brackets`.
"""
from __future__ import annotations

import re
import unicodedata

import sympy

from lark import Token

from ..errors import LimitError, ParseError
from ..limits import MAX_DEGREE, MAX_EXPONENT, MAX_NESTING, MAX_TEXT_LENGTH, MAX_VALUE_DIGITS
from .tokens import CLOSERS, OPENERS, tok

__all__ = ["check_text", "pair_bars", "check_brackets", "check_tokens", "check_size"]

_BRACKETS = re.compile(r"[()\[\]{}]")
#: Token types that end an operand: a '|' after one of these closes an absolute value.
_OPERAND_END = frozenset({"NUMBER", "NAME", "CONST", "ADJ", "_RPAR", "_RBRACK", "_RGROUP",
                          "_BAR_CLOSE", "_CASES_END"})
_OPERAND_START = frozenset({"NUMBER", "NAME", "CONST", "ADJ", "FUNC", "DFUNC", "FRAC", "INDICATOR"})
_BREAKS_POWER = frozenset({"ADDOP", "MULOP", "_COMMA", "CMP", "_AMP", "_ROWSEP"})
_CLOSE_TEXT = {"_LPAR": ")", "_LBRACK": "]", "_LGROUP": "}", "_BAR_OPEN": "|",
               "_CASES_BEGIN": "\\end{cases}"}


def check_text(text: str) -> None:
    """Refuse text longer than ``MAX_TEXT_LENGTH`` or brackets nested deeper than ``MAX_NESTING``.

    >>> check_text("(" * 300)
    Traceback (most recent call last):
    ...
    derivcheck.errors.LimitError: error: brackets nest more than 50 deep at column 51...
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise LimitError(f"the formula is {len(text)} characters long, more than the limit of "
                         f"{MAX_TEXT_LENGTH}", text=text, position=MAX_TEXT_LENGTH,
                         hint="split the derivation into intermediate quantities")
    depth = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"brackets nest more than {MAX_NESTING} deep", text=text,
                                 position=m.start(),
                                 hint="name an inner part (e.g. z2) instead of nesting it")
        else:
            depth = max(0, depth - 1)


def pair_bars(tokens: list[Token]) -> list[Token]:
    """Decide for every ``|`` whether it opens or closes an absolute value.

    A ``|`` closes when the innermost open bracket is a ``|`` and an operand ends just
    before it; otherwise it opens (``|a||b|`` is ``|a| |b|``).

    >>> from .plain import scan_plain
    >>> [t.type for t in pair_bars(scan_plain("|a||b|"))]
    ['_BAR_OPEN', 'NAME', '_BAR_CLOSE', '_BAR_OPEN', 'NAME', '_BAR_CLOSE']
    """
    out: list[Token] = []
    stack: list[str] = []
    for t in tokens:
        if t.type == "BAR":
            closes = (stack and stack[-1] == "_BAR_OPEN" and out
                      and out[-1].type in _OPERAND_END)
            t = tok("_BAR_CLOSE" if closes else "_BAR_OPEN", "|", t.start_pos, t.end_pos)
        if t.type in OPENERS:
            stack.append(t.type)
        elif t.type in CLOSERS and stack and stack[-1] == CLOSERS[t.type]:
            stack.pop()
        out.append(t)
    return out


def _source(t: Token, text: str) -> str:
    return text[t.start_pos:t.end_pos] or str(t)


def check_brackets(tokens: list[Token], text: str) -> None:
    """Every bracket closed by its own kind, and nesting (powers included) within the limit.

    >>> from .plain import scan_plain
    >>> text = "(y-ReLU(w_1*ReLU(w_2x))(w_1x)"
    >>> try:
    ...     check_brackets(pair_bars(scan_plain(text)), text)
    ... except ParseError as err:
    ...     print(err.render())
    error: '(' is never closed at column 1
      (y-ReLU(w_1*ReLU(w_2x))(w_1x)
      ^
    hint: a ')' is probably missing before '(w_1x)' at column 24
    """
    stack: list[int] = []
    closer_of: dict[int, int] = {}
    juxtaposed: dict[int, int] = {}   # open bracket -> last '(' right after a ')' inside it
    chain, power_depth, prev = [0], 0, None
    for i, t in enumerate(tokens):
        kind = t.type
        if kind in _BREAKS_POWER and prev != "POW" or (
                (kind in _OPERAND_START or kind in OPENERS) and prev in _OPERAND_END):
            power_depth -= chain[-1]
            chain[-1] = 0
        if kind == "POW":
            chain[-1] += 1
            power_depth += 1
        elif kind in OPENERS:
            if prev == "POW":    # x^(...): the bracket, not the power, nests
                chain[-1] -= 1
                power_depth -= 1
            if stack and prev in CLOSERS:
                juxtaposed[stack[-1]] = i
            stack.append(i)
            chain.append(0)
        elif kind in CLOSERS:
            if not stack:
                raise ParseError(f"'{_source(t, text)}' closes nothing", text=text,
                                 position=t.start_pos,
                                 hint="remove it, or add the bracket it belongs to")
            opener = tokens[stack[-1]]
            if OPENERS[opener.type] != kind:
                raise ParseError(f"'{_source(opener, text)}' at column {opener.start_pos + 1} is "
                                 f"closed by '{_source(t, text)}'", text=text, position=t.start_pos,
                                 hint=f"close it with '{_closing(opener)}'")
            closer_of[stack.pop()] = i
            power_depth -= chain.pop()
        if len(stack) + power_depth > MAX_NESTING:
            raise LimitError(f"the formula nests more than {MAX_NESTING} deep", text=text,
                             position=t.start_pos,
                             hint="name an inner part instead of nesting brackets or powers")
        prev = kind
    if stack:
        raise _unclosed(tokens, stack, juxtaposed, closer_of, text)


def _closing(opener: Token) -> str:
    return "\\}" if opener.value == "\\{" else _CLOSE_TEXT[opener.type]


def _unclosed(tokens, stack, juxtaposed, closer_of, text) -> ParseError:
    first, inner = tokens[stack[0]], stack[-1]
    more = len(stack) - 1
    message = f"'{_source(first, text)}' is never closed"
    if more:
        message += f" (nor {more} more after it)"
    closing = _closing(tokens[inner])
    missing = f"a '{closing}' is" if not more else f"{more + 1} closing brackets are"
    if inner in juxtaposed:
        at = tokens[juxtaposed[inner]]
        end = tokens[closer_of[juxtaposed[inner]]].end_pos
        group = text[at.start_pos:end]
        before = f"'{group}'" if len(group) <= 30 else f"'{_source(at, text)}'"
        hint = f"{missing} probably missing before {before} at column {at.start_pos + 1}"
    else:
        hint = f"{missing} probably missing at the end"
    return ParseError(message, text=text, position=first.start_pos, hint=hint)


_STRAY = {
    "ERROR": ("unexpected character '{src}'", "remove it; formulas use + - * / ^, names, numbers "
                                              "and brackets"),
    "PARTIAL": ("'{src}' is read only in a derivative of the loss",
                "write \\frac{{\\partial C}}{{\\partial w_1}} or dC/dw1"),
    "DOP": ("the derivative operator {src} is not read",
            "write the derivative itself, e.g. Step(z) for d/dz ReLU(z)"),
    "PDERIV": ("{src} is not a derivative of the loss, so its value is unknown",
               "write its value (e.g. x for dz/dw); derivatives of the loss C, J, L or E are read"),
    "PUNCT": ("unexpected '{src}'", "remove it"),
    "EQUAL": ("'=' inside brackets", "only a whole equation 'left side = formula' is read"),
}


def _ascii_form(ch: str) -> str | None:
    """The ASCII digit or letter a non-ASCII one stands for (fullwidth ``１``, ``ｘ``,
    Arabic-Indic ``١``), or None.

    >>> _ascii_form("\uff11"), _ascii_form("\u0661"), _ascii_form("\uff58"), _ascii_form("#")
    ('1', '1', 'x', None)
    """
    if len(ch) != 1 or ch.isascii():
        return None
    if unicodedata.digit(ch, None) is not None:
        return str(unicodedata.digit(ch))
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and folded.isascii() and folded.isalnum() else None


def check_tokens(tokens: list[Token], text: str, kinds=tuple(_STRAY)) -> None:
    """Report the first token of the given ``kinds`` that no grammar rule can read.

    >>> from .plain import scan_plain
    >>> check_tokens(scan_plain("x # y"), "x # y")
    Traceback (most recent call last):
    ...
    derivcheck.errors.ParseError: error: unexpected character '#' at column 3...
    """
    for t in tokens:
        if t.type in kinds:
            message, hint = _STRAY[t.type]
            src = _source(t, text)
            if t.type == "ERROR" and src == "\\":
                hint = "this looks like LaTeX: read it as LaTeX (latex=True, --latex)"
            elif t.type == "ERROR" and _ascii_form(src):
                hint = (f"write it as the ASCII character '{_ascii_form(src)}': digits and "
                        "letters of other scripts and widths are not read")
            raise ParseError(message.format(src=src), text=text, position=t.start_pos,
                             hint=hint.format(src=src))


def check_size(expr, text: str, position: int) -> None:
    """Refuse what SymPy made of a formula when it is past the limits although every piece
    was within them: merged powers (``(x^{1000})^{1000}`` is ``x^{1000000}``), numbers of
    more than ``MAX_VALUE_DIGITS`` digits, a total degree past ``MAX_DEGREE``.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> check_size(x**1000 * (x + 1)**900, "", 0)
    >>> check_size((x**1000)**3, "(x^1000)^3", 0)
    Traceback (most recent call last):
    ...
    derivcheck.errors.LimitError: error: the formula has a power x^3000: an exponent past the limit of 1000...
    """
    degree = {}
    for e in sympy.postorder_traversal(expr):
        if e in degree:
            continue
        if e.is_Rational:
            if max(abs(e.p), e.q).bit_length() > MAX_VALUE_DIGITS * 3.32:
                raise LimitError(f"the formula makes a number of more than {MAX_VALUE_DIGITS} "
                                 "digits", text=text, position=position)
            d = 0
        elif e.is_Pow and e.exp.is_Rational:
            if max(abs(e.exp.p), e.exp.q) > MAX_EXPONENT:
                what = ("a root of degree " + str(e.exp.q) if e.exp.q > abs(e.exp.p) else
                        "an exponent")
                raise LimitError(f"the formula has a power {_short_power(e)}: {what} past the "
                                 f"limit of {MAX_EXPONENT} on exponents", text=text,
                                 position=position,
                                 hint="powers and roots written one inside another (nested "
                                      "\\sqrt, (x^a)^b) multiply their exponents")
            d = degree[e.base] * abs(e.exp.p)
        elif e.is_Mul:
            d = sum(degree[a] for a in e.args)
        else:
            d = 1 if e.is_Symbol else max((degree[a] for a in e.args), default=0)
        if d > MAX_DEGREE:
            raise LimitError(f"the formula has degree {d} in its names, past the limit of "
                             f"{MAX_DEGREE}", text=text, position=position)
        degree[e] = d


def _short_power(e) -> str:
    base = str(e.base) if e.base.is_Atom else "(...)"
    return f"{base}^{e.exp}"
