"""Equality on the kink set, stratum by stratum.

The surface test (:class:`derivcheck.decide.kinks.KinkSteps`) proves equality on a kink
piece with every other gate a free atom, which covers the piece and everything on it at
once, but misses formulas that agree only because the other gates are 0/1 and
complementary there (``1 - Step(-z3)`` for ``Step(z3)`` in an ELU's derivative, on the
kink of another unit). Here the kink set is cut into *strata*: for a set S of pieces
(factors of gate arguments), the points where every piece of S is 0.

For each S, the pieces are solved, one leaf each, *symbolically* (each piece affine in its
leaf after the earlier ones are substituted, with a nonzero constant slope or a nonzero
constant rest, so that the solution covers the whole piece), and the sides are compared
by the identity test modulo P with those leaves overridden:

* with every other gate a free atom: equal means equal on the whole stratum and on every
  stratum inside it (done);
* otherwise off the other kinks, each other gate a 0/1 variable (searched by sign region
  as off the kinks), the gates of S at Step(0); then each stratum S + {q} inside it in
  turn. An intersection that is empty (a piece a nonzero constant there) is skipped.

Every stratum proved means equal everywhere on the kink set. Anything else (a piece with
no such leaf, a gate whose kink is not among the pieces, the budget) proves nothing.
"""
from __future__ import annotations

import sympy

from ..core.gradients import tree_size
from .formal import FormalEvaluator
from .irrational_kinks import affine_split, expanded
from .zero_sets import never_zero

__all__ = ["KinkStrata", "MAX_STRATA"]

#: Strata examined before giving up.
MAX_STRATA = 96
#: Sign regions searched on one stratum.
MAX_STRATUM_REGIONS = 256
#: Pieces larger than this (nodes, written out over the leaves) are not solved.
MAX_PIECE_SIZE = 4000


class _Empty(Exception):
    """The stratum is empty: one of its pieces is a nonzero constant on the others."""


class KinkStrata:
    """The stratified kink proof of :class:`derivcheck.decide.equivalence.Procedure` (it
    provides ``defs``, ``signs``, ``seed``, ``reference``, ``candidate``, ``zero_set``,
    ``c_residues``, ``sampler``, ``tests`` and ``timed_out``)."""

    def strata_proof(self, root) -> int | None:
        """The number of strata proved when the sides are equal at every kink point (for
        every allowed Step(0)), else None."""
        pieces = []
        for info in sorted(root.gates.values(), key=lambda g: g.order):
            factors = self.zero_set(info.expr)
            if factors is None:
                return None
            pieces += [f for f in factors if f not in pieces]
        fulls = [expanded(p, self.defs) for p in pieces]
        if any(f is None for f in fulls):
            return None
        fulls = [_expand(f) for f in fulls]
        if any(tree_size(f) > MAX_PIECE_SIZE for f in fulls):
            return None
        self._fulls = fulls
        seen, proved = set(), 0
        stack = [(i,) for i in reversed(range(len(pieces)))]
        while stack:
            chosen = stack.pop()
            key = frozenset(chosen)
            if key in seen:
                continue
            seen.add(key)
            if self.timed_out() or len(seen) > MAX_STRATA:
                return None
            try:
                solution = self._solve([fulls[i] for i in chosen])
            except _Empty:
                continue
            if solution is None:
                return None
            on = [pieces[i] for i in chosen]
            if self._stratum_equal(solution, on, mode="free"):
                proved += 1
                continue
            if not self._stratum_equal(solution, on, mode="offkink"):
                return None
            proved += 1
            stack += [chosen + (j,) for j in reversed(range(len(pieces))) if j not in chosen]
        return proved

    def _solve(self, fulls):
        """{leaf: its value on the stratum} (SymPy, over the other leaves), None when some
        piece has no leaf to solve for; _Empty when the stratum is empty."""
        solution: dict = {}
        for full in fulls:
            after = _decomposed_after(full, solution)
            # over a denominator (earlier slopes, nonzero on the stratum): its numerator
            numerator = _expand(sympy.fraction(sympy.cancel(after))[0])
            if numerator == 0:
                continue  # 0 on the whole stratum so far: no new condition
            if numerator.is_Number or never_zero(numerator):
                raise _Empty
            # the piece as written first (b3 + w3 swish(u) is affine in b3 with slope 1;
            # its numerator over exp-form denominators is not), then its numerator
            found = _solved_leaf(after, solution) or _solved_leaf(numerator, solution)
            if found is None:
                return None
            leaf, root = found
            solution = {k: v.xreplace({leaf: root}) for k, v in solution.items()}
            solution[leaf] = root
            if any(v.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)
                   for v in solution.values()):
                # an earlier slope is 0 here, and a piece solved with a nonzero
                # constant rest cannot vanish where its slope does
                raise _Empty
        return solution

    def _stratum_equal(self, solution, on, *, mode) -> bool:
        """The sides equal on the stratum (leaves of ``solution`` overridden), for Step(0)
        an atom or else for each allowed value; in ``offkink`` mode on every sign region
        of the other gates."""
        cs = self.c_residues()
        return self._equal_for(solution, on, mode, cs[0]) or (
            len(cs) > 1 and all(self._equal_for(solution, on, mode, c) for c in cs[1:]))

    def _equal_for(self, solution, on, mode, c) -> bool:
        """Equal on the stratum where the pieces ``on`` are 0, Step(0) = ``c``; never
        when the overridden leaves do not make those pieces 0 formally (a solution
        written so that the evaluator cannot see it, exp(a + b) as exp(a) exp(b): its
        gates would be free, not at the kink, and nothing would be proved about it)."""
        registry: dict = {}
        stack, regions = [{}], 0
        while stack:
            pattern = stack.pop()
            regions += 1
            if regions > MAX_STRATUM_REGIONS or self.timed_out():
                return False
            fe = FormalEvaluator(self.defs, mode=mode, pattern=pattern, c_value=c,
                                 signs=self.signs, seed=self.seed, registry=registry,
                                 overrides={})
            self.tests += 1
            try:
                values = {leaf: fe.value(v) for leaf, v in solution.items()}
                fe.overrides.update(values)
                if any(any(fe.value(piece)) for piece in on):
                    return False
                same = fe.value(self.reference) == fe.value(self.candidate)
            except ZeroDivisionError:
                return False
            if mode == "offkink" and not self._kinks_known(registry, solution):
                return False
            if same:
                continue
            if mode != "offkink" or not fe.free_gates:
                return False
            key = fe.free_gates[0]
            stack += [{**pattern, key: 0}, {**pattern, key: 1}]
        return True

    def _kinks_known(self, registry, solution) -> bool:
        """Is every gate met on the stratum one whose kink there is made of the pieces
        (so the strata inside this one cover where it is 0)?"""
        pieces = set()
        for full in self._fulls:
            on = _decomposed_after(full, solution)
            pieces |= {on, _expand(-on)}
        for info in registry.values():
            factors = self.zero_set(info.expr)
            if factors is None:
                return False
            for f in factors:
                full = expanded(f, self.defs)
                if full is None or _decomposed_after(full, solution) not in pieces:
                    return False
        return True


def _solved_leaf(full, solution):
    """(leaf, its value where ``full`` = 0) for the first leaf not yet solved that
    ``full`` is affine in with a nonzero constant slope, or a nonzero constant rest (the
    slope cannot vanish where the piece does); None when there is none."""
    for leaf in sorted(full.free_symbols - set(solution), key=str):
        split = affine_split(full, leaf, deep=False)
        if split is None:
            continue
        slope, rest = split
        if (slope.is_Number and slope != 0) or (rest.is_Number and rest != 0):
            return leaf, -rest / slope
    return None


def _expand(expr):
    """``expr`` expanded at the top only: function arguments keep the network's shape
    (exp(b2 + w2 elu(z1)) stays so; written out term by term, the formal evaluator would
    put exp of each term in a class of its own, and miss that the solved leaves make a
    piece 0)."""
    return sympy.expand(expr, deep=False, power_exp=False)


def _decomposed_after(full, solution):
    """``full`` with the solved leaves substituted, expanded."""
    return _expand(full.xreplace(solution))
