"""Every entry of the torch profile (derivcheck.core.conventions.PROFILES["torch"]) against
torch itself: the derivative at each kink and on both sides of it."""
from fractions import Fraction

import pytest
from sympy import Rational

from derivcheck.core import functions as fn
from derivcheck.core.conventions import PROFILES
from derivcheck.core.network import chain
from derivcheck.oracle.exact import Oracle

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TORCH = PROFILES["torch"]
QUARTER = Rational(1, 4)

#: (name, function class, argument index, kink arguments, fixed extra arguments,
#:  the torch operation on the differentiable arguments)
CASES = [
    ("relu'(0)", fn.ReLU, 1, (0,), (), torch.relu),
    ("leaky_relu'(0) = negative_slope", fn.LeakyReLU, 1, (0,), (Rational(1, 100),),
     lambda z: F.leaky_relu(z, 0.01)),
    ("prelu'(0) = weight", fn.PReLU, 1, (0,), (QUARTER,),
     lambda z: F.prelu(z, torch.tensor(0.25, dtype=torch.float64))),
    ("elu'(0), alpha = 2", fn.ELU, 1, (0,), (2,), lambda z: F.elu(z, 2.0)),
    ("selu'(0)", fn.SELU, 1, (0,), (), F.selu),
    ("abs'(0)", fn.Absolute, 1, (0,), (), torch.abs),
    ("hardtanh'(-1)", fn.HardTanh, 1, (-1,), (), F.hardtanh),
    ("hardtanh'(1)", fn.HardTanh, 1, (1,), (), F.hardtanh),
    ("relu6'(0)", fn.ReLU6, 1, (0,), (), F.relu6),
    ("relu6'(6)", fn.ReLU6, 1, (6,), (), F.relu6),
    ("maximum tie, d/da", fn.Max2, 1, (1, 1), (), torch.maximum),
    ("maximum tie, d/db", fn.Max2, 2, (1, 1), (), torch.maximum),
    ("minimum tie, d/da", fn.Min2, 1, (1, 1), (), torch.minimum),
    ("minimum tie, d/db", fn.Min2, 2, (1, 1), (), torch.minimum),
]


def torch_derivative(op, args, argindex):
    tensors = [torch.tensor(float(a), dtype=torch.float64, requires_grad=True) for a in args]
    op(*tensors).backward()
    return tensors[argindex - 1].grad.item()


def profile_derivative(cls, argindex, args, extra):
    return float(TORCH[cls][argindex](*[Rational(a) for a in args], *extra))


def test_every_torch_entry_is_checked():
    assert {(cls, i) for _, cls, i, *_ in CASES} == {
        (cls, i) for cls, row in TORCH.items() for i in row}


@pytest.mark.parametrize("offset", [0, -QUARTER, QUARTER], ids=["at", "left", "right"])
@pytest.mark.parametrize("name, cls, argindex, kink, extra, op", CASES,
                         ids=[c[0] for c in CASES])
def test_profile_entry_matches_torch(name, cls, argindex, kink, extra, op, offset):
    args = (kink[0] + offset, *kink[1:])
    assert torch_derivative(op, args, argindex) == pytest.approx(
        profile_derivative(cls, argindex, args, extra), rel=1e-15, abs=0)


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
