"""Name the compound arguments of functions, so nested formulas stay linear in size.

A candidate written inline, ``elu(w3*elu(w2*elu(w1*x)))``, is a tree whose size is
fine, but taking it apart is not: ``elu(z) = z Step(z) + (exp(z) - 1)(1 - Step(z))``
mentions ``z`` three times, so the decomposed tree of ten nested ``elu`` has 3^10
copies of the innermost argument, and SymPy's assumptions walk every copy (ten took
12 s, twenty never finished). Naming each compound argument (``u = w1*x``,
``elu(u)``) keeps every definition small; the evaluators follow definitions the way
they follow the network's ``z1 = w1*x``.

>>> import sympy
>>> from derivcheck.core.functions import ReLU
>>> w, x = sympy.symbols("w x")
>>> flat, defs = name_arguments(ReLU(w * ReLU(w * x)) + ReLU(w * x))
>>> len(defs), flat.count_ops() < 6
(2, True)
>>> sorted(str(d) for d in defs.values())
['w*ReLU(_u1)', 'w*x']
"""
from __future__ import annotations

import sympy

__all__ = ["name_arguments"]


def name_arguments(expr, prefix: str = "u") -> tuple[sympy.Expr, dict]:
    """``(flat, definitions)``: ``expr`` with every argument of a function application
    that is not a symbol or a number replaced by a fresh symbol, and those symbols'
    definitions (themselves flat), in an order evaluators can follow. Equal
    subexpressions share one symbol. Iterative, so any nesting depth is fine.
    """
    if not isinstance(expr, sympy.Basic):
        return expr, {}
    built: dict = {}          # subexpression -> flat version
    named: dict = {}          # flat argument -> its symbol
    definitions: dict = {}
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in built:
            continue
        if e.is_Atom:
            built[e] = e
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in built)
            continue
        args = [built[a] for a in e.args]
        if isinstance(e, sympy.Function):
            args = [_named(a, named, definitions, prefix) for a in args]
        changed = any(a is not b for a, b in zip(args, e.args))
        built[e] = e.func(*args) if changed else e
    return built[expr], definitions


def _named(arg, named: dict, definitions: dict, prefix: str):
    if arg.is_Atom:
        return arg
    if arg not in named:
        symbol = sympy.Dummy(f"{prefix}{len(named) + 1}")
        named[arg] = symbol
        definitions[symbol] = arg
    return named[arg]
