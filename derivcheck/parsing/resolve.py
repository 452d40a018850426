r"""Names against the network: which symbol, function or loss derivative a word stands for.

:func:`refine` walks the tokens once before parsing and decides, for every name, what it
is, in this order:

1. a function when a ``(`` follows (``ReLU(``, ``H(`` when ``H`` is no name) or a prime
   (``relu'``, ``\sigma'``, ``f'``);
2. ``e`` (and plain ``E``) is Euler's number (in an open namespace only before ``^``) and
   ``\pi`` is pi, unless they are names;
3. a known name (``namespace.symbols``);
4. ``d`` + a quantity with a loss derivative (deeplearning.ai's ``dz2``, ``dW^{[1]}``);
5. a unique split into known names (``w1x`` is ``w1*x``; in LaTeX ``xy`` is ``x*y``);
6. a known name up to letter case (``W_2`` is ``w2``), with a warning;
7. in an open namespace, a fresh symbol;
8. otherwise an error naming the closest known name.

Every decision that is not literal is recorded as a reading ("read W^{(0)} as W0").

>>> from derivcheck.names import Namespace
>>> import sympy
>>> from .tokens import tok, Word
>>> ns = Namespace(symbols={n: sympy.Symbol(n) for n in ("w1", "x")})
>>> res = Resolver(ns, "w1x")
>>> [str(t) for t in refine([tok("NAME", Word.plain("w1x", 0), 0, 3)], res)], res.notes.readings
(['w1', 'x'], ['read w1x as w1*x'])
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from lark import Token

from ..core.gradients import adjoint_name, adjoint_symbol
from ..core.printing import plain
from ..errors import LimitError, NameError_, ParseError
from ..limits import MAX_NAMES
from ..names import Namespace, did_you_mean, valid_name
from .matrix_calls import PLAIN_CALLS
from .tokens import Notes, Unit, Word, tok
from .vocabulary import (GENERIC_ACTIVATIONS, GREEK, derivative_named, function_named,
                         function_names)

__all__ = ["Resolver", "Resolved", "Prime", "refine"]

#: Longest run of letters (in units) read as a product of names (``w1w2x``).
_MAX_SPLIT = 64
#: Name endings that mark a variable, not a function, before '(' in an open namespace.
_VARIABLE_SUFFIXES = ("hat", "bar", "tilde", "star", "prime")


@dataclass(frozen=True)
class Resolved:
    """A name after resolution: the plain name and the expression it stands for."""

    name: str
    expr: sympy.Expr

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Prime:
    """A primed function: ``relu'`` (``function`` set: a name, or a function the author
    defined) or ``f'`` (the layer's activation)."""

    function: object
    letter: str

    def __str__(self) -> str:
        return f"{self.function if isinstance(self.function, str) else self.letter}'"


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _known_list(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


class Resolver:
    """Looks names up in a :class:`Namespace` and remembers how each was read."""

    def __init__(self, namespace: Namespace | None, text: str, notes: Notes | None = None):
        self.ns = namespace if namespace is not None else Namespace.free()
        self.text = text
        self.notes = notes if notes is not None else Notes()
        self.name_of: dict = {}            # expression -> plain name it was read from
        self._symbols: dict[str, sympy.Expr] = {}

    # -- plain lookups -------------------------------------------------------------------
    def known(self, name: str) -> bool:
        return name in self.ns.symbols

    def _source(self, start: int, end: int) -> str:
        """The text of a name as typed, shortened for messages."""
        return _short(self.text[start:end])

    def _error(self, message: str, start: int, name: str | None = None, hint: str | None = None):
        known = self.ns.known()
        suggestion, why = self.ns.suggest(name) if name else (None, None)
        listed = f"known names: {_known_list(known)}" if known else None
        hint = hint or ("; ".join(filter(None, (why, listed))) or None)
        return NameError_(message, text=self.text, position=start, suggestion=suggestion,
                          hint=hint)

    def symbol(self, name: str, start: int, end: int) -> Resolved | None:
        """Exact, letter-case or open-namespace lookup of one plain name; None if unknown."""
        source = self._source(start, end)
        typed = self.text[start:end]
        found = name if self.known(name) else None
        if typed != name and self.known(typed):
            found = typed  # h_1 read by the LaTeX front end as h1, but h_1 is the name
        if found is None and "_" in name and self.known(name.replace("_", "")):
            found = name.replace("_", "")
            self.notes.read(f"read {source} as {found}")
        if found is None and not self.ns.open:
            found = self.ns.case_match(name)
            if found is not None:
                self.notes.read(f"read {source} as {found} (letter case)")
                self.notes.warn(f"{source} matches {found} only up to letter case")
        if found is None and self.ns.open and valid_name(name):
            found = name
        if found is None:
            return None
        if found not in self._symbols:
            if len(self._symbols) >= MAX_NAMES:
                raise LimitError(f"more than {MAX_NAMES} distinct names", text=self.text,
                                 position=start, hint="write the gradient with intermediate "
                                 "quantities (dC/dz2, a1, ...) instead of every weight")
            expr = self.ns.symbols[found] if self.known(found) else self.ns.symbol(found)
            self._symbols[found] = expr
            self.name_of.setdefault(expr, found)
        if source != found and found == name and typed != found:
            self.notes.read(f"read {source} as {found}")
        if found in self.ns.definitions:
            self.notes.read(f"read {source} as {plain(self._symbols[found])} "
                            f"({self.ns.definitions[found]})")
        return Resolved(found, self._symbols[found])

    def adjoint(self, quantity: Word, start: int, end: int) -> Resolved:
        """The symbol standing for dC/d(quantity)."""
        q = self.symbol(quantity.name, quantity.start, quantity.end)
        if q is None:
            source = self._source(quantity.start, quantity.end)
            raise self._error(f"unknown quantity '{source}' in a derivative of the loss",
                              quantity.start, quantity.name)
        expr = self.ns.adjoints.get(q.name)
        if expr is None:
            expr = next((v for k, v in self.ns.adjoints.items()
                         if self.ns.symbols.get(k) == q.expr), None)
        if expr is None and self.ns.open:
            expr = adjoint_symbol(q.name)   # q.name passed valid_name above
        if expr is None:
            has = sorted(self.ns.adjoints)
            raise NameError_(f"the network has no loss derivative {adjoint_name(q.name)}",
                             text=self.text,
                             position=start,
                             hint=f"loss derivatives are known for: {_known_list(has)}"
                             if has else "this network defines no loss derivatives")
        self.notes.read(f"read {self._source(start, end)} as {adjoint_name(q.name)}")
        return Resolved(adjoint_name(q.name), expr)

    def wrt(self, quantity: Word) -> str:
        """The plain name a left side ``dC/dw1 =`` differentiates by."""
        q = self.symbol(quantity.name, quantity.start, quantity.end)
        if q is None:
            raise self._error(f"the left side names '{quantity.name}', which is not in the network",
                              quantity.start, quantity.name)
        return q.name

    # -- words ---------------------------------------------------------------------------
    def split(self, word: Word) -> list[tuple[int, int]] | None:
        """The one way to cut ``word`` into known names, as unit ranges; None if there is none.

        Raises when there are several ways.
        """
        units = word.units
        n = len(units)
        ways, step = [0] * n + [1], [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            text = ""
            for j in range(i + 1, n + 1):
                text += units[j - 1].text
                if len(text) > 64:
                    break
                if ways[j] and self.known(text):
                    ways[i] = min(2, ways[i] + ways[j])
                    step[i] = step[i] or j
        if ways[0] == 0:
            return None
        cuts, i = [], 0
        while i < n:
            cuts.append((i, step[i]))
            i = step[i]
        if ways[0] > 1:
            reading = "*".join("".join(u.text for u in units[a:b]) for a, b in cuts)
            raise self._error(f"'{word.name}' can be read as a product in more than one way "
                              f"(e.g. {reading})", word.start,
                              hint="separate the names with * or spaces")
        return cuts

    def word(self, t: Token, call: bool) -> list[Token]:
        """Tokens for the name token ``t``; ``call`` when a '(' follows it."""
        w: Word = t.value
        name, start, end = w.name, t.start_pos, t.end_pos
        if self.known(name):
            return [_retyped(t, "NAME", self.symbol(name, start, end))]
        if self.ns.open:
            return self._open_word(w, t, call)
        quantity = self._d_quantity(w)
        if quantity is not None and quantity.name in self.ns.adjoints:
            return [_retyped(t, "ADJ", self.adjoint(w.rest(), start, end))]
        cuts = self.split(w) if 1 < len(w.units) <= _MAX_SPLIT else None
        if cuts:
            pieces = ["".join(u.text for u in w.units[a:b]) for a, b in cuts]
            self.notes.read(f"read {self._source(start, end)} as " + "*".join(pieces))
            return [self._unit_token(piece, w.units[a].start, w.units[b - 1].end)
                    for piece, (a, b) in zip(pieces, cuts)]
        resolved = self.symbol(name, start, end)
        if resolved is not None:
            return [_retyped(t, "NAME", resolved)]
        self._not_a_name(w, start, call)
        if quantity is not None:
            return [_retyped(t, "ADJ", self.adjoint(w.rest(), start, end))]
        raise self._error(f"unknown name '{self._source(start, end)}'", start, name)

    def _unit_token(self, name: str, start: int, end: int) -> Token:
        return tok("NAME", self.symbol(name, start, end), start, end)

    def _d_quantity(self, w: Word) -> Resolved | None:
        """For ``dz2``: the known quantity ``z2`` after the leading ``d``, else None."""
        if len(w.units) < 2 or w.units[0].text != "d":
            return None
        rest = w.rest()
        return self.symbol(rest.name, rest.start, rest.end)

    def _not_a_name(self, w: Word, start: int, call: bool) -> None:
        """Raise when an unknown word is an unknown function, or a function without '('."""
        name = w.name
        if call and (not self.ns.open or (len(w.units) > 1 and name.isalpha()
                                          and not name.endswith(_VARIABLE_SUFFIXES))):
            names = function_names()
            suggestion = did_you_mean(name, names) or self.ns.closest(name)
            raise ParseError(f"unknown function '{_short(name)}'", text=self.text, position=start,
                             suggestion=suggestion,
                             hint="known functions: " + ", ".join(names)
                             + ("" if self.ns.open else "; for a product write '*' before '('"))
        if function_named(name) is not None and len(name) > 1 and name not in GREEK:
            raise ParseError(f"'{name}' is a function", text=self.text, position=start,
                             hint=f"write it with its argument: {name}(...)")

    def _open_word(self, w: Word, t: Token, call: bool) -> list[Token]:
        """In an open namespace a plain word is one name and a LaTeX run of letters a product
        of letters (``dz^{[2]}`` is the loss derivative dC/dz2)."""
        start, end = t.start_pos, t.end_pos
        if w.latex and w.layered and len(w.units) > 1 and w.units[0].text == "d":
            return [_retyped(t, "ADJ", self.adjoint(w.rest(), start, end))]
        self._not_a_name(w, start, call)
        if w.latex and 1 < len(w.units) <= _MAX_SPLIT:
            self.notes.read(f"read {self._source(start, end)} as "
                            + "*".join(u.text for u in w.units))
            return [self._unit_token(u.text, u.start, u.end) for u in w.units]
        resolved = self.symbol(w.name, start, end)
        if resolved is None:
            raise ParseError(f"'{self._source(start, end)}' is not a valid name", text=self.text,
                             position=start,
                             hint="names are letters, digits and '_' (at most 64), starting "
                                  "with a letter")
        return [_retyped(t, "NAME", resolved)]

    def prime(self, t: Token, prime: Token) -> Token:
        """``relu'``, ``\\sigma'``, ``\\tanh'``, ``f'`` as a ``DFUNC`` token."""
        name = t.value.name if t.type == "NAME" else str(t.value)
        defined = self.ns.functions.get(name) if t.type == "NAME" else None
        if defined is not None and len(defined.params) == 1:
            self.notes.read(f"read {name}' as the derivative of the defined {defined.text}")
            return tok("DFUNC", Prime(defined, name), t.start_pos, prime.end_pos)
        spec = function_named(name)
        if spec is not None and spec.min_args > 1:
            spec = None
        if spec is None and name not in GENERIC_ACTIVATIONS:
            raise ParseError(f"cannot read {_short(name)}': a prime is read only on an activation",
                             text=self.text, position=prime.start_pos,
                             hint="write e.g. relu'(z), \\sigma'(z), \\tanh'(z) or f'(z1)")
        return tok("DFUNC", Prime(spec.name if spec else None, name), t.start_pos, prime.end_pos)


def _bare_layers(tokens: list[Token], res: Resolver) -> list[Token]:
    """Nielsen's notation: ``w^3``, ``\\delta^{L}`` name the layer when the namespace says
    so (``layer_superscripts``), the name with it is known and the bare name is not."""
    if not getattr(res.ns, "layer_superscripts", False):
        return tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "NAME" and i + 2 < len(tokens) and tokens[i + 1].type == "POW":
            grouped = tokens[i + 2].type == "_LGROUP"
            j = i + 3 if grouped else i + 2
            end = j + 1 if grouped else j
            if (j < len(tokens) and tokens[j].type in ("NUMBER", "NAME")
                    and (not grouped or (end < len(tokens) and tokens[end].type == "_RGROUP"))):
                sup = str(tokens[j].value)
                merged = t.value.name + sup
                if res.known(merged) and not res.known(t.value.name):
                    last = tokens[end]
                    res.notes.read(f"read {res.text[t.start_pos:last.end_pos]} as {merged} "
                                   "(a superscript is the layer in this notation)")
                    word = Word((Unit(merged, t.start_pos, last.end_pos),), t.value.latex)
                    out.append(tok("NAME", word, t.start_pos, last.end_pos))
                    i = end + 1
                    continue
        out.append(t)
        i += 1
    return out


def refine(tokens: list[Token], res: Resolver) -> list[Token]:
    """Resolve every name token (see the module docstring); other tokens pass unchanged."""
    tokens = _bare_layers(tokens, res)
    out: list[Token] = []
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        nxt = tokens[i + 1].type if i + 1 < n else None
        if t.type == "NAME" and nxt == "PRIME" and t.value.name + "'" in res.ns.definitions:
            end = tokens[i + 1].end_pos
            out.append(tok("NAME", res.symbol(t.value.name + "'", t.start_pos, end),
                           t.start_pos, end))
            i += 2
            continue
        if t.type in ("NAME", "FUNC") and nxt == "PRIME":
            out.append(res.prime(t, tokens[i + 1]))
            i += 2
            continue
        if t.type == "PRIME":
            raise ParseError("a prime (') is read only right after an activation", text=res.text,
                             position=t.start_pos, hint="write e.g. relu'(z) or f'(z1)")
        if t.type == "NAME":
            out.extend(_name(t, nxt, res))
        elif t.type == "ADJ":
            out.append(_retyped(t, "ADJ", res.adjoint(t.value, t.start_pos, t.end_pos)))
        else:
            out.append(t)
        i += 1
    return out


def _name(t: Token, nxt: str | None, res: Resolver) -> list[Token]:
    name = t.value.name
    if nxt == "_LPAR" and name in res.ns.functions:
        defined = res.ns.functions[name]
        res.notes.read(f"read {name}(...) as the defined {defined.text}")
        return [_retyped(t, "FUNC", defined)]
    if nxt == "_LPAR" and name in PLAIN_CALLS and not res.known(name):
        return [_retyped(t, "FUNC", name)]
    spec = function_named(name)
    if nxt == "_LPAR" and spec is not None and not (len(name) == 1 and res.known(name)):
        if name.lower() != spec.name:
            res.notes.read(f"read {res.text[t.start_pos:t.end_pos]} as the function {spec.name}")
        return [_retyped(t, "FUNC", spec.name)]
    derivative = derivative_named(name) if nxt == "_LPAR" and not res.known(name) else None
    if derivative is not None:
        res.notes.read(f"read {res.text[t.start_pos:t.end_pos]} as {derivative.name}' "
                       f"(the derivative of {derivative.name})")
        return [_retyped(t, "DFUNC", Prime(derivative.name, name))]
    if (name == "e" or (name == "E" and not t.value.latex)) and not res.known(name) and (
            nxt == "POW" or not res.ns.open):
        return [_retyped(t, "CONST", "E")]
    if name == "pi" and not res.known(name):
        return [_retyped(t, "CONST", "pi")]
    return res.word(t, call=nxt == "_LPAR")


def _retyped(t: Token, type_: str, value) -> Token:
    """``t`` with a new type and value (tokens are made afresh for every formula)."""
    t.type, t.value = type_, value
    return t
