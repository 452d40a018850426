"""The plain front end: ``(y - relu(w1*x))*x`` into tokens.

Plain syntax is what one types in a terminal: ``+ - * / ^ **``, parentheses, numbers
(``0.01``, ``1e-3``), identifiers (``w1``, ``W0_12``, ``leaky_relu``), ``[z > 0]``, ``|z|``,
``relu'(z)`` and ``dC/dz2``; for matrices ``@``, ``.T`` and ``np.`` functions
(``np.sum(dZ, axis=1, keepdims=True)``). A few Unicode signs are read too (``σ``, ``ŷ``, ``∂``, ``·``,
``−``, ``≥``).

Nothing here raises: a character that cannot be read becomes an ``ERROR`` token, reported
only if it lies in the part of the formula that is read.

See :func:`scan_plain`.
"""
from __future__ import annotations

import re

from lark import Token

from .tokens import CHAR_TOKENS, Unit, Word, tok
from .vocabulary import greek_name

__all__ = ["scan_plain", "char_token"]

_SCAN = re.compile(r"""
    (?P<space>\s+)
  | (?P<transpose>\.T(?![A-Za-z0-9_]))
  | (?P<npfunc>(?:np|numpy|jnp|jax\.numpy|jax\.nn|torch\.nn\.functional|torch)
                \.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
  | (?P<pow>\*\*)
  | (?P<cmp>>=|<=)
  | (?P<char>.)
""", re.VERBOSE | re.DOTALL)

#: Letters with an accent that name the usual quantities.
_ACCENTED = {"\u0177": "yhat", "\u0176": "Yhat", "\u0233": "ybar"}


def scan_plain(text: str) -> list[Token]:
    """Tokens of a plain-syntax formula, positions into ``text``.

    >>> [(t.type, str(t)) for t in scan_plain("2w1 x**2 >= 0")]  # doctest: +NORMALIZE_WHITESPACE
    [('NUMBER', '2'), ('NAME', 'w1'), ('NAME', 'x'), ('POW', '**'), ('NUMBER', '2'),
     ('CMP', '>='), ('NUMBER', '0')]
    """
    out: list[Token] = []
    for m in _SCAN.finditer(text):
        kind, value, start, end = m.lastgroup, m.group(), m.start(), m.end()
        if kind == "space":
            continue
        if kind == "number":
            out.append(tok("NUMBER", value, start, end))
        elif kind == "ident":
            out.append(tok("NAME", Word.plain(value, start), start, end))
        elif kind == "transpose":
            out.append(tok("TRANSPOSE", "T", start, end))
        elif kind == "npfunc":
            out.append(tok("FUNC", numpy_function(value.rsplit(".", 1)[1], start), start, end))
        elif kind == "pow":
            out.append(tok("POW", value, start, end))
        elif kind == "cmp":
            out.append(tok("CMP", value, start, end))
        elif value == "@":
            out.append(tok("MULOP", "@", start, end))
        else:
            out.append(char_token(value, start))
    return fold_method_dots(out)


def _receiver(tokens: list, i: int) -> int | None:
    """Where the operand ending just before ``tokens[i]`` starts: a name or number (with
    its transposes), a bracketed group, or a call; None when there is none."""
    j = i - 1
    while j >= 0 and tokens[j].type == "TRANSPOSE":
        j -= 1
    if j < 0:
        return None
    if tokens[j].type in ("NAME", "NUMBER"):
        return j
    if tokens[j].type in ("_RPAR", "_RBRACK"):
        depth = 0
        for k in range(j, -1, -1):
            depth += tokens[k].type in ("_RPAR", "_RBRACK")
            depth -= tokens[k].type in ("_LPAR", "_LBRACK")
            if depth == 0:
                return k - 1 if k > 0 and tokens[k - 1].type == "FUNC" else k
    return None


def fold_method_dots(tokens: list) -> list:
    """numpy's method call ``A.dot(B)`` (cs231n's ``dscores.dot(W2.T)``) as ``(A @ (B))``:
    the receiver is one operand, as in Python.

    >>> "".join(str(t) for t in scan_plain("a * b.T.dot(c).dot(d)"))
    'a*((bT@(c))@(d))'
    """
    i = 1
    while i + 2 < len(tokens):
        t = tokens[i]
        if not (t.type == "PUNCT" and str(t) == "." and tokens[i + 1].type == "NAME"
                and tokens[i + 1].value.name == "dot" and tokens[i + 2].type == "_LPAR"):
            i += 1
            continue
        start = _receiver(tokens, i)
        depth, close = 0, None
        for k in range(i + 2, len(tokens)):
            depth += tokens[k].type in ("_LPAR", "_LBRACK")
            depth -= tokens[k].type in ("_RPAR", "_RBRACK")
            if depth == 0:
                close = k
                break
        if start is None or close is None:
            i += 1
            continue
        at, end = tokens[start].start_pos, tokens[close].end_pos
        tokens = (tokens[:start] + [tok("_LPAR", "(", at, at)] + tokens[start:i]
                  + [tok("MULOP", "@", t.start_pos, tokens[i + 1].end_pos)]
                  + tokens[i + 2:close + 1] + [tok("_RPAR", ")", end, end)] + tokens[close + 1:])
        i += 2
    return tokens


def numpy_function(name: str, start: int) -> str:
    """The function ``np.<name>`` calls: a matrix operation (``sum``, ``dot``) or a scalar
    function applied entry by entry (``exp``, ``tanh``); unknown names stay as written and
    are reported when called. ``torch.``, ``jnp.`` (``jax.numpy.``), ``jax.nn.`` and
    ``torch.nn.functional.`` name the same functions: ``torch.maximum(z, 0)`` is max,
    ``torch.clamp`` and ``jnp.clip`` clamp, ``torch.where`` where.

    >>> [str(t) for t in scan_plain("torch.maximum(z, 0) + jnp.clip(z, 0, 1)")][0:8:7]
    ['maximum', 'clamp']
    """
    from .matrix_calls import MATRIX_CALLS
    from .vocabulary import function_named
    del start
    if name in MATRIX_CALLS:
        return name
    spec = function_named(name)
    return spec.name if spec is not None else "np." + name


def char_token(char: str, start: int) -> Token:
    """The token of one character; ``ERROR`` when it means nothing in a formula.

    >>> [(t.type, str(t)) for t in map(char_token, "\u2212\u03b1@", range(3))]
    [('ADDOP', '-'), ('NAME', 'alpha'), ('ERROR', '@')]
    """
    if char in CHAR_TOKENS:
        type_, value = CHAR_TOKENS[char]
        return tok(type_, value, start, start + 1)
    name = _ACCENTED.get(char) or greek_name(char)
    if name:
        return tok("NAME", Word((Unit(name, start, start + 1),)), start, start + 1)
    return tok("ERROR", char, start, start + 1)
