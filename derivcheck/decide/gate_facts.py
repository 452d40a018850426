"""What a product's gates say about the rest of it: ReLUs written as their linear piece.

In a product ``Step(g) * R``, wherever the product is not 0, ``Step(g)`` is not 0, so
``g >= 0`` (for every Step(0): with Step(0) = 0 even ``g > 0``). Inside ``R`` every
piecewise primitive may therefore be replaced by its piece on that side: ``relu(g)`` by
``g``, ``relu6(u)`` by ``u`` under ``Step(u) * Step(6 - u)``, ``abs(u)`` by ``u``. Where
the gate is 0 the product is 0 either way, as long as ``R`` stays finite, which holds when
every function in it is total. Authors write exactly this: ``(z - y) * Step(z)`` for
``(relu(z) - y) * Step(z)``.

:func:`under_gates` rewrites an expression so; the rewritten expression equals the
original at every point, kinks included, for every value of Step(0) (gates are processed
one after another, each rewritten only with the facts of those before it, so no fact is
used to justify itself). :class:`GateFacts` compares both sides rewritten, with the
network's definitions inlined, by the identity test: equal there means equal everywhere.

>>> import sympy
>>> from derivcheck.core.functions import ReLU, ReLU6, Step
>>> z, w, y = sympy.symbols("z w y")
>>> under_gates((ReLU(z) - y) * Step(z))
(-y + z)*Step(z)
>>> under_gates(ReLU6(w * z) * Step(w * z) * Step(6 - w * z))
w*z*Step(w*z)*Step(-w*z + 6)
>>> under_gates(ReLU(z) * Step(w))   # no fact about z: unchanged
ReLU(z)*Step(w)
"""
from __future__ import annotations

from functools import lru_cache

import sympy

from ..core.functions import IsNonNeg, IsPos, Step, decompose
from ..core.gradients import tree_size
from ..core.primitives import primitive_of

__all__ = ["GateFacts", "inline", "total", "under_gates"]

#: Sides larger than this (nodes, definitions inlined) are not rewritten.
MAX_NODES = 3000

_GATES = (Step, IsPos, IsNonNeg)
#: Primitives undefined on part of the reals without poles to say so.
_PARTIAL = ("log", "sqrt")
_C = sympy.Symbol("Step(0)")
#: Each gate's value for an argument > 0, = 0, < 0 (Step(0) is a symbol: not known).
_VALUES = {Step: (1, _C, 0), IsPos: (1, 0, 0), IsNonNeg: (1, 1, 0)}


def inline(expr, definitions: dict, limit: int = MAX_NODES):
    """``expr`` with every defined name replaced down to the leaves (``definitions`` are
    acyclic); None when the result would have more than ``limit`` nodes.

    >>> a, z, x = sympy.symbols("a z x")
    >>> inline(a + 1, {a: 2 * z, z: x})
    2*x + 1
    """
    if tree_size(expr, definitions) > limit:
        return None
    out = expr
    while True:
        new = out.xreplace(definitions)
        if new == out:
            return out
        out = new


def total(expr) -> bool:
    """Is ``expr`` finite at every point: sums, products, positive integer powers, exp and
    primitives without poles only?

    >>> x = sympy.Symbol("x")
    >>> total(sympy.exp(x) * Step(x)), total(1 / x), total(sympy.log(x))
    (True, False, False)
    """
    for e in sympy.preorder_traversal(expr):
        if e.is_Atom or e.is_Add or e.is_Mul:
            continue
        if e.is_Pow:
            if not (e.exp.is_Integer and e.exp > 0):
                return False
            continue
        if e.func is sympy.exp:
            continue
        primitive = primitive_of(e.func)
        if primitive is None or primitive.poles or primitive.name in _PARTIAL:
            return False
    return True


def under_gates(expr, facts: frozenset = frozenset()):
    """``expr`` with every piecewise primitive inside a product replaced by its piece on
    the side its gates put its argument (see the module docstring); ``facts`` are
    expressions known to be >= 0 wherever ``expr``'s value matters. Exact only for total
    expressions (:func:`total`).

    >>> u, x = sympy.symbols("u x")
    >>> from derivcheck.core.functions import Absolute, ReLU
    >>> under_gates(Absolute(u) * ReLU(-u) * Step(-u))
    u**2*Step(-u)
    >>> under_gates(ReLU(x), frozenset({x}))
    x
    """
    return _Rewriter().rewrite(expr, frozenset(facts))


class _Rewriter:
    """One rewrite, memoised per (subexpression, facts)."""

    def __init__(self):
        self.memo: dict = {}

    def rewrite(self, e, facts):
        if e.is_Atom:
            return e
        key = (e, facts)
        if key not in self.memo:
            self.memo[key] = self._rewrite(e, facts)
        return self.memo[key]

    def _rewrite(self, e, facts):
        if e.is_Mul:
            return self._product(e, facts)
        args = [self.rewrite(a, facts) for a in e.args]
        out = e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
        if isinstance(out, sympy.Function) and out.func not in _GATES:
            piece = _piece(out, facts)
            if piece is not None:
                return piece
        return out

    def _product(self, e, facts):
        gates = sorted((a for a in e.args if _gate_of(a) is not None),
                       key=lambda a: (sympy.count_ops(a), sympy.default_sort_key(a)))
        rest = [a for a in e.args if _gate_of(a) is None]
        known, done = set(facts), []
        for factor in gates:  # each gate rewritten with the facts of those before it only
            gate = _gate_of(factor)
            argument = self.rewrite(gate.args[0], frozenset(known))
            new = gate.func(argument)
            done.append(factor.func(new, *factor.args[1:]) if factor.is_Pow else new)
            if gate.func in (Step, IsPos, IsNonNeg):
                known.add(_key(argument))
        known = frozenset(known)
        return sympy.Mul(*done, *[self.rewrite(a, known) for a in rest])


def _gate_of(factor):
    """The gate of a product's factor (``Step(g)`` or a positive power of it), or None."""
    if factor.is_Pow and factor.exp.is_Integer and factor.exp > 0:
        factor = factor.base
    return factor if factor.func in _GATES else None


def _key(v):
    """``v`` up to a positive constant factor (the form facts are stored in)."""
    return sympy.expand(v).as_content_primitive()[1]


def _side(v, facts) -> int:
    """+1 when ``v >= 0`` follows from ``facts``, -1 when ``v <= 0`` does, else 0.

    >>> x = sympy.Symbol("x")
    >>> _side(2 * x, frozenset({x})), _side(-x, frozenset({x})), _side(x, frozenset())
    (1, -1, 0)
    """
    if v.is_Number:
        return 1 if v >= 0 else -1
    if _key(v) in facts:
        return 1
    if _key(-v) in facts:
        return -1
    return 0


def _piece(application, facts):
    """The piece of a piecewise primitive's application on the side its facts give its
    operand, or None when some gate of its decomposition is not settled by them."""
    operand, *rest = application.args
    form = _decomposition(application.func, tuple(rest))
    if form is None:
        return None
    d, terms = form
    out = []
    for coefficient, gate in terms:
        if gate is None:
            out.append(coefficient)
            continue
        v = gate.args[0]
        slope = sympy.diff(v, d)
        if not slope.is_Number or slope == 0 or v.subs(d, 0).has(d):
            return None
        side = _side(v.xreplace({d: operand}), facts)
        if side == 0:
            return None
        positive, zero, negative = _VALUES[gate.func]
        target = positive if side > 0 else negative
        if zero != target and sympy.simplify(coefficient.subs(d, -v.subs(d, 0) / slope)) != 0:
            return None
        out.append(coefficient * target)
    return sympy.Add(*out).xreplace({d: operand})


@lru_cache(maxsize=256)
def _decomposition(func, rest):
    """(D, [(coefficient, gate or None)]): ``func(D, *rest)`` decomposed and expanded, one
    gate at most per term; None when it has no gate or a term has two."""
    d = sympy.Dummy("d")
    try:
        form = sympy.expand(decompose(func(d, *rest)))
    except (TypeError, ValueError):
        return None
    terms: dict = {}
    for term in sympy.Add.make_args(form):
        factors = sympy.Mul.make_args(term)
        gates = [f for f in factors if f.func in _GATES]
        rest = [f for f in factors if f.func not in _GATES]
        if len(gates) > 1 or any(f.has(*_GATES) for f in rest):
            return None
        gate = gates[0] if gates else None
        terms[gate] = terms.get(gate, 0) + sympy.Mul(*rest)
    if list(terms) == [None]:
        return None
    return d, [(sympy.factor(c), g) for g, c in terms.items()]


class GateFacts:
    """The gate-fact step of :class:`derivcheck.decide.equivalence.Procedure` (it provides
    ``defs``, ``reference``, ``candidate``, ``signs``, ``seed``, ``c_residues`` and
    ``tests``)."""

    def gate_facts_equal(self) -> bool:
        """Both sides, definitions inlined and rewritten by :func:`under_gates`, identical
        as rational functions of the leaves, every gate and Step(0)."""
        from .formal import FormalEvaluator

        sides = [inline(s, self.defs) for s in (self.reference, self.candidate)]
        if any(s is None or not total(s) for s in sides):
            return False
        facts = frozenset(_key(s) for s, sign in self.signs.items() if sign > 0) | \
            frozenset(_key(-s) for s, sign in self.signs.items() if sign < 0)
        try:
            ref, cand = (under_gates(s, facts) for s in sides)
        except RecursionError:
            return False
        if ref == cand:
            return True
        for c in self.c_residues()[:1] if self.c_residues()[0] is None else self.c_residues():
            fe = FormalEvaluator({}, mode="free", c_value=c, signs=self.signs, seed=self.seed,
                                 registry={})
            self.tests += 1
            try:
                if fe.value(ref) != fe.value(cand):
                    return False
            except ZeroDivisionError:
                return False
        return True
