"""Parser errors in words a user understands, with the position of the offending token.

Lark reports "unexpected token, expected one of LPAR, NAME, ..."; :func:`from_lark` says
instead what was missing where: ``(*ReLU`` gives "expected an operand before '*'".

>>> from lark import Token
>>> from lark.exceptions import UnexpectedToken
>>> tokens = [Token("_LPAR", "(", start_pos=0, end_pos=1),
...           Token("MULOP", "*", start_pos=1, end_pos=2)]
>>> err = from_lark(UnexpectedToken(tokens[1], {"NAME", "NUMBER", "_LPAR"}), tokens, "(*x)")
>>> err.message, err.position
("expected an operand before '*'", 1)
"""
from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from ..errors import ParseError

__all__ = ["from_lark"]

#: Token types that can start an operand.
_OPERANDS = frozenset({"NUMBER", "NAME", "CONST", "ADJ", "FUNC", "DFUNC", "FRAC", "INDICATOR",
                       "_LPAR", "_LBRACK", "_LGROUP", "_BAR_OPEN", "_CASES_BEGIN"})
_OPERATORS = frozenset({"ADDOP", "MULOP", "POW", "CMP", "_COMMA"})
_DESCRIPTIONS = {
    "ADDOP": "an operator", "MULOP": "an operator", "POW": "an operator",
    "_RPAR": "')'", "_RBRACK": "']'", "_RGROUP": "'}'", "_BAR_CLOSE": "a closing '|'",
    "_COMMA": "','", "CMP": "a comparison (>, >=, <, <=)", "_AMP": "'&'",
    "_ROWSEP": "'\\\\'", "_CASES_END": "\\end{cases}", "OTHERWISE": "'otherwise'",
    "$END": "the end of the formula",
}


def _shown(t: Token, text: str) -> str:
    if t.start_pos is None or t.end_pos is None:
        return str(t)
    return text[t.start_pos:t.end_pos] or str(t)


def _expected(expected) -> str:
    words = []
    if expected & _OPERANDS:
        words.append("an operand (a name, a number or '(')")
    for kind in sorted(expected - _OPERANDS):
        word = _DESCRIPTIONS.get(kind)
        if word and word not in words:
            words.append(word)
    return "expected " + (", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else
                          (words[0] if words else "something else"))


def from_lark(err: UnexpectedInput, tokens: list[Token], text: str) -> ParseError:
    """A :class:`ParseError` for a parser error on ``tokens`` (positions into ``text``)."""
    if not isinstance(err, UnexpectedToken) or not tokens:
        return ParseError("the formula cannot be read", text=text, position=0,
                          hint="write a formula such as (y - relu(w1*x))*x")
    t, expected = err.token, set(err.expected)
    at_end = t.type == "$END"
    index = len(tokens) if at_end else next((i for i, u in enumerate(tokens) if u is t),
                                            len(tokens))
    prev = tokens[index - 1] if index > 0 else None
    wants_operand = bool(expected & _OPERANDS)

    def error(message, where, hint=None):
        return ParseError(message, text=text, position=where, hint=hint)

    if at_end:
        if prev is not None and prev.type in _OPERATORS | {"FUNC", "DFUNC", "INDICATOR"}:
            return error(f"expected an operand after '{_shown(prev, text)}'", prev.start_pos,
                         "the formula ends right after it")
        return error("the formula ends too early", len(text), _expected(expected))
    shown = _shown(t, text)
    if prev is not None and prev.type in ("FUNC", "DFUNC") and "_LPAR" in expected:
        return error(f"expected '(' after '{_shown(prev, text)}'", t.start_pos,
                     f"write its argument in parentheses: {_shown(prev, text)}(z)")
    if wants_operand and t.type not in _OPERANDS:
        hint = (f"nothing stands between '{_shown(prev, text)}' and '{shown}'" if prev is not None
                else f"the formula starts with '{shown}'")
        return error(f"expected an operand before '{shown}'", t.start_pos, hint)
    if t.type == "CMP":
        return error(f"a comparison '{shown}' is read only inside [ ], \\mathbb{{1}}[ ] or a "
                     "cases condition", t.start_pos, "write an Iverson bracket such as [z > 0]")
    if t.type == "_COMMA":
        return error("',' outside a function's arguments", t.start_pos,
                     "commas separate arguments, as in max(0, z)")
    if "CMP" in expected:
        return error(f"expected a comparison such as z > 0 before '{shown}'", t.start_pos,
                     "an indicator or cases condition compares two sides")
    return error(f"unexpected '{shown}'", t.start_pos, _expected(expected))
