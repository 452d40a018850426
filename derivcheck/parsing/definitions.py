r"""Names the author defines: ``s(z) = sigmoid(z)``, ``d(z) = s(z)*(1 - s(z))``,
``y' = yhat``.

A definition is read by the one grammar like any formula, in the network's namespace (its
parameters are fresh symbols that shadow nothing outside it), and a use of the name in a
candidate is the definition's body with the arguments substituted: nothing is evaluated.
Definitions may use one another in any order; a cycle, a name of the network, a function
derivcheck already knows, or a name defined twice is refused with its position.

>>> from derivcheck.core.network import chain
>>> ns = with_definitions(chain(["w1"], "sigmoid").namespace,
...                       ["d(z) = s(z)*(1 - s(z))", "s(z) = sigmoid(z)", "y' = yhat"])
>>> from derivcheck.parsing import parse_formula
>>> f = parse_formula("(y' - y)*d(z1)*x", ns)
>>> f.expr
x*(1 - Sigmoid(z1))*(a1 - y)*Sigmoid(z1)
>>> f.readings
["read y' as a1 (defined: y' = yhat)", 'read d(...) as the defined d(z) = s(z)*(1 - s(z))']
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy

from ..errors import ParseError
from ..names import Namespace, valid_name
from .plain import scan_plain
from .tokens import segments
from .vocabulary import function_named

__all__ = ["Defined", "with_definitions"]

_HINT = "e.g. --define \"s(z) = sigmoid(z)\" or --define \"y' = yhat\""


@dataclass(frozen=True)
class Defined:
    """A function the author defined: ``name(params) = body``."""

    name: str
    params: tuple
    body: sympy.Expr
    text: str

    def apply(self, args: list) -> sympy.Expr:
        """The body with ``args`` in place of the parameters (same number)."""
        return self.body.xreplace(dict(zip(self.params, args)))

    def derivative(self, arg) -> sympy.Expr:
        """The derivative of a one-parameter function at ``arg`` (``s'(z1)``)."""
        return sympy.diff(self.body, self.params[0]).xreplace({self.params[0]: arg})


@dataclass
class _Left:
    name: str
    params: list[str]
    prime: bool
    text: str
    start: int
    body: tuple[int, int]   # where the right side's text is


def _left(text: str) -> _Left:
    """The left side ``name``, ``name'`` or ``name(p1, p2)`` of one definition."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("a definition must be text 'name(z) = formula'", text=str(text),
                         position=0, hint=_HINT)
    tokens = scan_plain(text)
    sides = segments(tokens, lambda t: t.type, lambda t: (t.start_pos, t.end_pos))
    if len(sides) != 2 or sides[1].lo == sides[1].hi:
        where = tokens[sides[2].lo - 1].start_pos if len(sides) > 2 else len(text)
        raise ParseError("expected one definition 'name(z) = formula'", text=text,
                         position=where if len(sides) > 2 else 0, hint=_HINT)
    left = tokens[sides[0].lo:sides[0].hi]
    kinds = [t.type for t in left]
    start = left[0].start_pos if left else 0
    if not left or left[0].type != "NAME" or not valid_name(left[0].value.name):
        raise ParseError("the left side of a definition must be a name, name' or "
                         "name(z)", text=text, position=start, hint=_HINT)
    name = left[0].value.name
    if kinds == ["NAME"]:
        return _Left(name, [], False, text, start, (sides[1].start, len(text)))
    if kinds == ["NAME", "PRIME"]:
        return _Left(name + "'", [], True, text, start, (sides[1].start, len(text)))
    params = []
    if kinds[1:2] == ["_LPAR"] and kinds[-1] == "_RPAR":
        inner = left[2:-1]
        for i, t in enumerate(inner):
            if i % 2 == 0 and t.type == "NAME" and valid_name(t.value.name):
                params.append(t.value.name)
            elif i % 2 == 1 and t.type == "_COMMA":
                continue
            else:
                raise ParseError("a parameter of a defined function must be a name",
                                 text=text, position=t.start_pos, hint=_HINT)
        if params and len(inner) % 2 == 1 and len(set(params)) == len(params):
            return _Left(name, params, False, text, start, (sides[1].start, len(text)))
    raise ParseError("the left side of a definition must be a name, name' or name(z) with "
                     "distinct parameters", text=text, position=start, hint=_HINT)


def _uses(left: _Left, defined: dict) -> list[tuple[str, int]]:
    """Defined names the right side uses, with their positions."""
    tokens = scan_plain(left.text)
    out = []
    for i, t in enumerate(tokens):
        if t.start_pos < left.body[0] or t.type != "NAME":
            continue
        name = t.value.name
        nxt = tokens[i + 1].type if i + 1 < len(tokens) else None
        if nxt == "PRIME" and name + "'" in defined:
            out.append((name + "'", t.start_pos))
        elif name in defined and not defined[name].prime and name not in left.params:
            out.append((name, t.start_pos))
    return out


def with_definitions(namespace: Namespace, texts) -> Namespace:
    """``namespace`` with the author's definitions ``texts`` added (a new Namespace)."""
    texts = list(texts or ())
    if not texts:
        return namespace
    lefts: dict[str, _Left] = {}
    for text in texts:
        left = _left(text)
        clash = _clash(left.name, namespace, lefts)
        if clash:
            raise ParseError(f"cannot define {left.name}: {clash}", text=text,
                             position=left.start, hint="choose another name")
        lefts[left.name] = left
    order = _order(lefts)
    ns = dataclasses.replace(namespace, symbols=dict(namespace.symbols),
                             roles=dict(namespace.roles),
                             functions=dict(namespace.functions))
    from . import parse_formula  # the one grammar (this module is part of the parser)
    for name in order:
        left = lefts[name]
        inner = ns
        params = tuple(sympy.Dummy(p) for p in left.params)
        if params:
            inner = dataclasses.replace(ns, symbols={**ns.symbols, **dict(zip(left.params,
                                                                           params))})
        body = _body(left, inner, parse_formula)
        if left.params:
            ns.functions[name] = Defined(name, params, body, left.text.strip())
        else:
            ns.symbols[name] = body
            ns.roles[name] = "defined"
            ns.definitions[name] = "defined: " + left.text.strip()
    return ns


def _body(left: _Left, ns: Namespace, parse_formula) -> sympy.Expr:
    """The right side read in ``ns``; errors point into the definition's text."""
    lo = left.body[0]
    right = left.text[lo:]
    try:
        return parse_formula(right, ns).expr
    except ParseError as err:
        raise ParseError(f"in the definition of {left.name}: {err.message}", text=left.text,
                         position=lo + (err.position or 0), hint=err.hint) from None


def _clash(name: str, ns: Namespace, lefts: dict) -> str | None:
    """Why ``name`` cannot be defined, or None."""
    if name in ns.symbols or name in ns.adjoints:
        return f"{name} is a name of the network ({ns.roles.get(name, 'a quantity')})"
    if name in lefts:
        return f"{name} is defined twice"
    if len(name) > 1 and function_named(name) is not None:
        return f"{name} is a function derivcheck knows"
    return None


def _order(lefts: dict) -> list[str]:
    """The definitions in an order where each uses only earlier ones; a cycle is refused
    at the use that closes it."""
    order, state = [], {}

    def visit(name: str, path: list[str]):
        if state.get(name) == "done":
            return
        state[name] = "busy"
        left = lefts[name]
        for used, at in _uses(left, lefts):
            if state.get(used) == "busy":
                cycle = " -> ".join([*path, name, used][[*path, name].index(used):])
                raise ParseError(f"the definitions form a cycle: {cycle}", text=left.text,
                                 position=at, hint="a definition may not use itself, "
                                                   "directly or through others")
            visit(used, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in lefts:
        visit(name, [])
    return order
