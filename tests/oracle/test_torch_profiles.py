"""Every primitive with a torch operation against torch itself: the derivative the torch
profile gives (derivcheck.core.primitives.derivative with profile "torch") at each declared
kink and on both sides of it, computed by the registry's own torch operation."""
from fractions import Fraction

import pytest
from sympy import Rational, Symbol

from derivcheck.core.network import chain
from derivcheck.core.primitives import derivative, primitives
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.oracle.adapters import _torch_op
from derivcheck.oracle.exact import Oracle

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

QUARTER = Rational(1, 4)
#: A value for each required parameter (prelu's learnable slope).
REQUIRED = QUARTER


def _cases():
    """(id, primitive, argindex, arguments at the kink) for every kink and operand."""
    out = []
    for prim in primitives():
        if prim.torch is None or not prim.kinks:
            continue
        params = [REQUIRED + Rational(i, 2) if p.default is None else Rational(p.default)
                  for i, p in enumerate(prim.params)]       # clamp(z, 1/4, 3/4)
        named = {p.name: v for p, v in zip(prim.params, params)}
        if prim.operands > 1:      # the one kink is the tie of the operands
            for i in range(1, prim.operands + 1):
                out.append((f"{prim.name} tie, d/d{i}", prim, i, [1] * prim.operands + params))
        else:
            for k in prim.kinks:
                at = named[k] if k in named else Rational(k)
                out.append((f"{prim.name}'({k})", prim, 1, [at, *params]))
    return out


CASES = _cases()


def torch_derivative(prim, args, argindex):
    operands = [torch.tensor(float(a), dtype=torch.float64, requires_grad=True)
                for a in args[:prim.operands]]
    _torch_op(prim)(*operands, *args[prim.operands:]).backward()
    return operands[argindex - 1].grad.item()


def profile_derivative(prim, argindex, args):
    symbols = [Symbol(f"a{i}") for i in range(len(args))]
    fn = prim.cls(*symbols[:prim.operands], *args[prim.operands:])
    d = derivative(fn, argindex, "torch")
    point = {s: Fraction(str(a)) for s, a in zip(symbols, args)}
    return float(PointEvaluator({}, point, step0=Fraction(0))(d))


def test_every_piecewise_primitive_with_a_torch_op_is_checked():
    names = {prim.name for _, prim, _, _ in CASES}
    assert {"relu", "leaky_relu", "prelu", "elu", "selu", "abs", "hardtanh", "relu6", "max",
            "min"} <= names


@pytest.mark.parametrize("offset", [0, -QUARTER, QUARTER], ids=["at", "left", "right"])
@pytest.mark.parametrize("name, prim, argindex, kink", CASES, ids=[c[0] for c in CASES])
def test_profile_matches_torch(name, prim, argindex, kink, offset):
    args = list(kink)
    args[argindex - 1] += offset
    assert torch_derivative(prim, args, argindex) == pytest.approx(
        profile_derivative(prim, argindex, args), rel=1e-15, abs=0)


@pytest.mark.parametrize("act, kink_value", [
    ("relu", 0), ("leaky_relu(0.25)", 1 / 4), ("elu(2)", 2), ("abs", 0), ("hardtanh", 0),
    ("relu6", 0),
])
def test_oracle_with_the_torch_profile_equals_autograd_at_the_kink(act, kink_value):
    """One unit on its kink (z1 = w1 x with w1 = 0, or z1 = 1 for hardtanh): torch's
    dC/dw1 is exactly the oracle's under the torch profile."""
    net = chain(["w1"], act, loss="half_squared")
    w1 = 1 if act == "hardtanh" else 0
    point = {"x": 1, "w1": w1, "y": -2}
    w = torch.tensor(float(w1), dtype=torch.float64, requires_grad=True)
    activation = {"relu": torch.relu, "leaky_relu(0.25)": lambda z: F.leaky_relu(z, 0.25),
                  "elu(2)": lambda z: F.elu(z, 2.0), "abs": torch.abs,
                  "hardtanh": F.hardtanh, "relu6": F.relu6}[act]
    ((activation(w * 1.0) + 2) ** 2 / 2).backward()
    exact = Oracle(net, "torch").gradient("w1", point)
    assert w.grad.item() == float(exact)
    assert exact == Fraction(kink_value) * (w1 + 2)        # act(z1) = w1 here: (a1 - y) f'
