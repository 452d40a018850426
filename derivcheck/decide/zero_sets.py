"""Zero sets of gate arguments: the pieces that make up a kink surface.

A gate's kink is the zero set of its argument. Through definitions, products and
activations whose zero set is declared (relu(u) is 0 on a region, tanh(u) exactly where
u is), that set splits into factors, each a piece of the kink set on its own.
"""
from __future__ import annotations

import sympy

from ..core.functions import IsNonNeg, IsPos, Step
from ..core.primitives import ZeroSet, primitive_of
from .signs import same_sign_as

__all__ = ["zero_set_factors"]

_GATES = (Step, IsPos, IsNonNeg)


def zero_set_factors(expr, definitions: dict, signs: dict) -> list | None:
    """Factors whose zero sets make up the zero set of ``expr`` up to regions (covered by
    the region search) and pieces of the other gates' kinks; None when some factor's zero
    set is not known.

    >>> import sympy
    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1", "w2"], ["tanh", "relu"])
    >>> sorted(map(str, zero_set_factors(sympy.Symbol("z2"), net.definitions(), {})))
    ['w1', 'w2', 'x']
    """
    out, stack, seen = [], [expr], set()
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        if f.is_Number:
            if f == 0:
                return None
        elif f.is_Symbol:
            if f in definitions:
                stack.append(definitions[f])
            elif f not in signs:
                out.append(f)
        elif f.is_Mul:
            stack.extend(f.args)
        elif f.is_Pow and f.exp.is_Integer:
            if f.exp > 0:
                stack.append(f.base)
        elif _zeros(f) in (ZeroSet.NEVER, ZeroSet.REGION):
            continue
        elif _zeros(f) is ZeroSet.AT_ZERO:
            if any(not (a.is_Number and a != 0) for a in f.args[1:]):
                return None  # a parameter that may be 0 (leaky_relu(z, a)) or unknown
            stack.append(f.args[0])
        elif same_sign_as(f, definitions) is not None:
            stack.append(same_sign_as(f, definitions)[1])  # exp(u) - 1 = 0 exactly where u = 0
        elif f.is_Add and _positive_gate_sum(f):
            continue  # 1/10 + 9/10 Step(u), leaky ReLU's slope: never 0
        elif f.is_Add:
            out.append(f)
        else:
            return None
    return out


def _positive_gate_sum(f) -> bool:
    """Is ``f`` a positive constant plus nonnegative multiples of gates (each in [0, 1])?

    >>> import sympy
    >>> from derivcheck.core.functions import Step
    >>> u = sympy.Symbol("u")
    >>> _positive_gate_sum(sympy.Rational(1, 10) + sympy.Rational(9, 10) * Step(u))
    True
    >>> _positive_gate_sum(1 - Step(u)), _positive_gate_sum(u + 1)
    (False, False)
    """
    constant = False
    for term in f.args:
        if term.is_Number:
            if term <= 0:
                return False
            constant = True
            continue
        coefficient, rest = term.as_coeff_Mul()
        if coefficient < 0 or not all(g.func in _GATES for g in sympy.Mul.make_args(rest)):
            return False
    return constant


def _zeros(f) -> ZeroSet | None:
    """How ``f``'s value vanishes, as its primitive declares: never, exactly where its
    argument does, or on a whole region (whose inside the region search covers, and whose
    edge is the kink of the argument's own gate); None when not known."""
    primitive = primitive_of(f)
    return None if primitive is None else primitive.zero_set(f.args)

