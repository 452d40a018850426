"""derivcheck.core.sharing: compound arguments named once, at any depth."""
import pytest
import sympy

from derivcheck.core.functions import ELU, ReLU, Sigmoid, Step
from derivcheck.core.sharing import name_arguments

w, x, b = sympy.symbols("w x b")


def substituted(flat, defs):
    """``flat`` with the definitions put back (latest first, since later ones use earlier)."""
    for s, d in reversed(list(defs.items())):
        flat = flat.subs(s, d)
    return flat


@pytest.mark.parametrize("expr, named", [
    (w * x + b, 0),                               # no function: nothing to name
    (ReLU(x), 0),                                 # a symbol argument stays
    (ReLU(w * x), 1),
    (ReLU(w * x) * Step(w * x), 1),               # equal arguments share one name
    (ReLU(w * x) + Sigmoid(w * x + b), 2),
    (ReLU(w * ReLU(w * x)), 2),
    (sympy.exp(ELU(w * x) * w), 2),
])
def test_names_each_compound_argument_once(expr, named):
    flat, defs = name_arguments(expr)
    assert len(defs) == named
    assert substituted(flat, defs) == expr
    for f in flat.atoms(sympy.Function):
        assert all(a.is_Atom for a in f.args)


def test_definitions_come_in_an_order_evaluators_can_follow():
    _, defs = name_arguments(ReLU(w * ReLU(w * ReLU(w * x))))
    seen = set()
    for s, d in defs.items():
        assert d.free_symbols & set(defs) <= seen
        seen.add(s)


def test_deep_nesting_stays_linear():
    expr = x
    for _ in range(200):
        expr = ELU(w * expr)
    flat, defs = name_arguments(expr)
    assert len(defs) == 200 and flat.count_ops() < 5


def test_non_sympy_values_pass_through():
    assert name_arguments(3) == (3, {})
