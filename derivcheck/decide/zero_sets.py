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

__all__ = ["never_zero", "zero_set_factors"]

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
    return f.is_Add and _sign_of(f) == 1


def never_zero(expr) -> bool:
    """Is ``expr`` certainly not 0 anywhere: nonzero constants, exp, gates' positive
    combinations (``6 (1 + exp(-w x))``, ``1/10 + 9/10 Step(u)``) and their products?

    >>> import sympy
    >>> w, x = sympy.symbols("w x")
    >>> never_zero(6 * (1 + sympy.exp(-w * x))), never_zero(w * (1 + sympy.exp(x)))
    (True, False)
    """
    return _sign_of(expr) == 1 or _sign_of(-expr) == 1 or (
        expr.is_Mul and all(never_zero(a) for a in expr.args))


def _sign_of(e) -> int | None:
    """1 when ``e`` is certainly positive, 0 when certainly >= 0, else None: built from
    positive constants, exp, gates (in [0, 1]), sums and products of such."""
    if e.is_Number:
        return 1 if e > 0 else 0 if e == 0 else None
    if e.func is sympy.exp:
        return 1
    if e.func in _GATES:
        return 0
    if e.is_Pow and e.exp.is_Integer:
        base = _sign_of(e.base)
        return base if base == 1 or (base == 0 and e.exp > 0) else None
    if e.is_Add or e.is_Mul:
        signs = [_sign_of(a) for a in e.args]
        if None in signs:
            return None
        if e.is_Add:
            return 1 if 1 in signs else 0
        return 1 if all(v == 1 for v in signs) else 0
    return None


def _zeros(f) -> ZeroSet | None:
    """How ``f``'s value vanishes, as its primitive declares: never, exactly where its
    argument does, or on a whole region (whose inside the region search covers, and whose
    edge is the kink of the argument's own gate); None when not known."""
    primitive = primitive_of(f)
    return None if primitive is None else primitive.zero_set(f.args)

