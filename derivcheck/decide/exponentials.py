"""Exponentials in the formal evaluation: exp(q h) = E_h^q.

Exponentials of proportional arguments are powers of one base, so ``exp(2 z)`` and
``exp(z)^2`` meet, and a sum in an exponent is split into its terms (through the
network's definitions), so ``exp(b2) exp(w2 a1)`` and ``exp(z2)`` meet. Hyperbolic
functions are rational functions of such a base. :class:`Exponentials` is that part of
:class:`derivcheck.decide.formal.FormalEvaluator`.
"""
from __future__ import annotations

import sympy

from ..core.functions import IsNonNeg, IsPos, Step
from .evaluate import _decomposed
from .residues import P, projective, rational_reconstruct
from .signs import STRIP_DEPTH

__all__ = ["Exponentials", "EXP_UNIT"]

EXP_UNIT = 5040  # exp(q h) for every q with a denominator dividing this shares a base


class Exponentials:
    """Exponential classes for the formal evaluator (it provides ``definitions``,
    ``degree``, ``_exp_classes``, ``_eval``, ``_const`` and ``_random``)."""

    def _hyperbolic(self, form, arg) -> tuple:
        """A hyperbolic function as its rational function of ``u = exp(arg)``."""
        u, n = self._exp_power(arg)
        self.degree = max(self.degree, 2 * n)
        num, den = ([sum(c * pow(x, i, P) for i, c in enumerate(cs)) % P for x in u]
                    for cs in form)
        if 0 in den:
            raise ZeroDivisionError("a denominator vanished at a random point")
        return tuple(a * pow(d, -1, P) % P for a, d in zip(num, den))

    def _exp(self, arg) -> tuple:
        """exp(q h) = E_h^q: exponentials of proportional arguments are related."""
        return self._exp_power(arg)[0]

    def _exp_power(self, arg) -> tuple:
        """(residues of exp(arg), its degree in the bases of its classes). The argument
        is split into its additive terms, through definitions (z2 = w2 a1 + b2), so
        ``exp(b2) exp(w2 a1)`` and ``exp(z2)`` meet."""
        acc, degree = self._const(1), 0
        if not any(self._eval(arg)):
            # exp(0) = 1, however the 0 is written: on a kink stratum b4 = -w4 a3 makes
            # exp(b4 + w4 a3) 1, though its terms fall in classes of their own
            return acc, degree
        for coeff, term in self._additive_terms(arg):
            v = tuple(coeff * x % P for x in self._eval(term))
            if all(x == 0 for x in v):
                continue
            value, n = self._exp_class(v)
            acc = tuple(a * b % P for a, b in zip(acc, value))
            degree += n
        self.degree = max(self.degree, degree)
        return acc, degree

    def _additive_terms(self, arg) -> list:
        """[(coefficient residue, term)] with ``arg`` = sum of coefficient * term, no term
        a sum or a symbol defined as one."""
        out, stack = [], [(1, arg)]
        while stack:
            coeff, e = stack.pop()
            if e.is_Symbol and e in self.definitions:
                d = _decomposed(self.definitions[e])
                if d.is_Add or d.is_Mul or d.is_Symbol:  # a product may distribute
                    stack.append((coeff, d))
                    continue
            if e.is_Add:
                stack.extend((coeff, a) for a in e.args)
                continue
            if e.is_Mul and e.args[0].is_Rational and len(e.args) > 1:
                c = e.args[0]
                rest = e.func(*e.args[1:])
                stack.append((coeff * int(c.p) * pow(int(c.q), -1, P) % P, rest))
                continue
            spread = self._distributed(e) if e.is_Mul and len(out) + len(stack) < 16 else None
            if spread is not None:  # w2 (w1 x + b1) = w2 w1 x + w2 b1: exp of each term
                stack.extend((coeff, t) for t in spread)
                continue
            out.append((coeff, e))
        return out

    def _distributed(self, mul):
        """The terms of a product with one factor a sum none of whose terms is gated (a
        gate among its factors, through definitions: b2 + w2 relu(z1) is, b3 + w3
        hardtanh(z2) is not), directly or through a definition, distributed; None when
        there is none. Definitions are followed in both tests, so a sum and its written-out
        spelling split alike."""
        factors = self._flat_factors(mul.args)
        for i, d in enumerate(factors):
            if d.is_Add and len(d.args) <= 8 and not any(
                    f.func in (Step, IsPos, IsNonNeg)
                    for t in d.args for f in self._flat_factors([t])):
                others = factors[:i] + factors[i + 1:]
                return [sympy.Mul(*others, t) for t in d.args]
        return None

    def _flat_factors(self, args) -> list:
        """The factors of a product, each followed through definitions, products among
        them flattened: ``w2 a1`` with a1 = swish(z1) = z1 / (1 + exp(-z1)) and z1 = w1 x
        + b1 is w2, w1 x + b1 and 1 / (1 + exp(-z1)), as ``w2 swish(w1 x + b1)`` written
        out is, so that both spellings split into the same additive terms."""
        out, stack = [], list(args)
        while stack:
            d = stack.pop()
            for _ in range(STRIP_DEPTH):
                if d.is_Symbol and d in self.definitions:
                    d = _decomposed(self.definitions[d])
            if d.is_Mul and len(out) + len(stack) < 16:
                stack.extend(d.args)
            else:
                out.append(d)
        return out

    def _exp_class(self, v: tuple) -> tuple:
        """(residues of exp(t), degree) for a term t with residues ``v``: exp(q h) = E_h^q,
        so exponentials of proportional terms are related."""
        key, lead = projective(v)
        rep = self._exp_classes.setdefault(key, lead)
        base = self._random(("exp", key))
        rr = rational_reconstruct(lead * pow(rep, -1, P) % P)
        if rr and EXP_UNIT % rr[1] == 0 and abs(rr[0]) <= 64:
            # base stands for exp(rep / EXP_UNIT), so exp(q rep) = base^(q EXP_UNIT)
            n = rr[0] * EXP_UNIT // rr[1]
            return tuple(pow(b, n, P) for b in base), abs(n)
        return self._random(("exp-other", v)), 1

