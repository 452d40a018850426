"""Sign-definite factors of a gate's argument, taken out so that spellings meet.

``Step(w x)`` and ``Step(w)`` are one gate when ``x > 0`` is assumed, and ``Step(w2 a1)``
is ``Step(w2)`` when ``a1`` is a sigmoid: factors of known strict sign (from the
assumptions, or positive by structure: exp, sigmoid, softplus) are taken out of a gate's
argument, and monotone rewritings of its zero (``exp(u) - 1``, ``tanh(u)``) are undone.
:class:`SignFactors` is the part of :class:`derivcheck.decide.formal.FormalEvaluator`
that does it; :func:`same_sign_as` is the rewriting rule, used by the kink search too.
"""
from __future__ import annotations

import sympy

from .evaluate import _decomposed
from .residues import P

__all__ = ["SignFactors", "same_sign_as", "STRIP_DEPTH"]

#: Definitions followed when taking sign-definite factors out of a gate's argument.
STRIP_DEPTH = 4


class SignFactors:
    """Sign stripping for the formal evaluator (it provides ``definitions``, ``signs``,
    ``structural``, ``_stripped_memo``, ``_eval`` and ``_const``)."""

    def _stripped(self, e, depth: int = 0):
        """(sign, residues) of ``e`` with factors of known strict sign taken out (from the
        assumptions, or positive by structure: exp, sigmoid, softplus), and monotone
        rewritings of its zero undone (``exp(u) - 1`` and ``tanh(u)`` vanish exactly
        where ``u`` does, with its sign), so Step(w x), Step(z1) with z1 = w x, and
        Step(w) are one gate when x > 0, and Step(w2 a1) is Step(w2) when a1 is a
        sigmoid. Exact at every point, the kinks included."""
        if not self.structural and not self.signs:
            return 1, self._eval(e)
        if e in self._stripped_memo:
            return self._stripped_memo[e]
        out = None
        if not e.is_Symbol and e in self.signs:  # an assumed sign such as yhat - y > 0
            out = (self.signs[e], self._const(1))
        elif not e.is_Symbol and -e in self.signs:
            out = (-self.signs[-e], self._const(1))
        elif self._positive(e):
            out = (1, self._const(1))
        elif e.is_Symbol:
            if e in self.signs:
                out = (self.signs[e], self._const(1))
            elif e in self.definitions and depth < STRIP_DEPTH:
                out = self._stripped(_decomposed(self.definitions[e]), depth + 1)
        elif e.is_Number and e != 0:
            out = (1 if e > 0 else -1, self._eval(abs(e)))
        elif e.is_Mul:
            sign, acc = 1, self._const(1)
            for a in e.args:
                s, v = self._stripped(a, depth)
                sign *= s
                acc = tuple(p * q % P for p, q in zip(acc, v))
            out = (sign, acc)
        elif e.is_Pow and e.args[1].is_Integer:
            s, v = self._stripped(e.args[0], depth)
            n = int(e.args[1])
            if n < 0 and 0 in v:
                raise ZeroDivisionError("a denominator vanished at a random point")
            out = (s ** (n % 2) if s < 0 else 1, tuple(pow(x, n, P) for x in v))
        elif self.structural:
            inner = same_sign_as(e, self.definitions)
            if inner is not None:
                s, v = self._stripped(inner[1], depth)
                out = (inner[0] * s, v)
        if out is None:
            out = (1, self._eval(e))
        self._stripped_memo[e] = out
        return out

    def _positive(self, e, depth: int = 0) -> bool:
        """Is ``e`` certainly > 0 everywhere (by structure or the assumed signs)?"""
        key = ("positive", e)
        if key in self._stripped_memo:
            return self._stripped_memo[key]
        if e.is_Number:
            out = bool(e > 0)
        elif not self.structural:
            out = self.signs.get(e) == 1
        elif e.is_Symbol:
            out = self.signs.get(e) == 1 or (
                e in self.definitions and depth < STRIP_DEPTH
                and self._positive(_decomposed(self.definitions[e]), depth + 1))
        elif isinstance(e, (sympy.exp, sympy.cosh)):
            out = True
        elif e.is_Add or e.is_Mul:
            out = all(self._positive(a, depth) for a in e.args)
        elif e.is_Pow and e.args[1].is_Integer:
            out = self._positive(e.args[0], depth)
        elif e.func is sympy.log:
            # log(1 + t) with t > 0 (softplus): its argument exceeds 1
            arg = e.args[0]
            while arg.is_Symbol and arg in self.definitions and depth < STRIP_DEPTH:
                arg, depth = _decomposed(self.definitions[arg]), depth + 1
            out = arg.is_Add and any(a.is_Number and a >= 1 for a in arg.args) and all(
                self._positive(a, depth) for a in arg.args)
        else:
            out = False
        self._stripped_memo[key] = out
        return out



def same_sign_as(e, definitions=None):
    """(sign, u) when ``e`` has the sign of ``sign * u`` everywhere, ``e`` being an odd
    increasing function of u (tanh, sinh, erf) or ``a exp(u) - a`` (a rational); else
    None.

    >>> u = sympy.Symbol("u")
    >>> same_sign_as(1 - sympy.exp(u)), same_sign_as(sympy.tanh(u)), same_sign_as(u + 1)
    ((-1, u), (1, u), None)
    """
    if e.func in (sympy.tanh, sympy.sinh, sympy.erf) or getattr(e.func, "__name__", "") in (
            "tanh", "sinh"):
        return 1, e.args[0]
    if e.is_Add and len(e.args) == 2:
        const, other = sorted(e.args, key=lambda a: not a.is_Rational)
        coeff, rest = other.as_coeff_Mul()
        for _ in range(STRIP_DEPTH):  # a named exp(u) (names given to compound arguments)
            if rest.is_Symbol and definitions and rest in definitions:
                rest = _decomposed(definitions[rest])
        if (const.is_Rational and const != 0 and rest.func is sympy.exp
                and coeff == -const):
            return (1 if coeff > 0 else -1), rest.args[0]
    return None

