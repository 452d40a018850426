"""Degree bounds: the d of the Schwartz-Zippel bound of the formal identity test.

An identity test at K random points modulo P errs with probability at most (d/P)^K,
where d bounds the degree of the difference as a rational function of the leaves and
the atoms. :func:`degree_bound` computes d through the network's definitions.
"""
from __future__ import annotations

from .evaluate import _decomposed

__all__ = ["degree_bound"]


def degree_bound(expr, definitions: dict) -> int:
    """A bound on the degree of ``expr`` as a rational function of leaves and atoms
    (numerator and denominator), with definitions substituted: the d of the
    Schwartz-Zippel bound. Linear in the size of the definitions.

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> degree_bound(1 / (x + y) + x**3, {})
    5
    """
    memo: dict = {}
    stack = [(expr, False)]
    while stack:  # iterative post-order over the DAG
        e, ready = stack.pop()
        if e in memo:
            continue
        kids = (_decomposed(definitions[e]),) if e in definitions else e.args
        if not ready:
            stack.append((e, True))
            stack.extend((k, False) for k in kids if k not in memo)
            continue
        _fold_degree(e, definitions, memo)
    return max(1, sum(memo[expr]))


def _fold_degree(e, definitions, memo) -> None:
    """(numerator degree, denominator degree) of ``e`` from its children's."""
    if e in definitions:
        memo[e] = memo[_decomposed(definitions[e])]
    elif e.is_Atom:
        memo[e] = (0, 0) if e.is_Number else (1, 0)
    elif e.is_Add:
        num, den = 0, 0
        for a in e.args:
            n, d = memo[a]
            num, den = max(num + d, n + den), den + d
        memo[e] = (num, den)
    elif e.is_Mul:
        memo[e] = (sum(memo[a][0] for a in e.args), sum(memo[a][1] for a in e.args))
    elif e.is_Pow and e.args[1].is_Integer:
        n, d = memo[e.args[0]]
        k = int(e.args[1])
        memo[e] = (k * n, k * d) if k >= 0 else (-k * d, -k * n)
    else:  # an atom of its own (gate, exp, log): degree 1
        memo[e] = (1, 0)
