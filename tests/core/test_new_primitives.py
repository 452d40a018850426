"""hardswish and silu, the primitives added by one registration each
(derivcheck/core/primitives/piecewise.py and smooth.py): judged, printed, differentiated,
profiled and adapted to torch like every other activation. The registry-wide tables
(tests/core/test_primitives.py, tests/oracle/test_torch_profiles.py) check them too."""
import json
from fractions import Fraction

import pytest
from sympy import Rational, Symbol

from derivcheck.app.cli import main
from derivcheck.core.activations import parse_activation
from derivcheck.core.conventions import get_convention
from derivcheck.core.network import chain
from derivcheck.core.printing import plain
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.oracle.exact import Oracle
from derivcheck.parsing import parse_formula
from derivcheck.write.latex import latex

z = Symbol("z")
HS_PRIME = "(relu6(w1*x + 3) + w1*x*{lo}*{hi})/6"


def check(*argv):
    return main(["check", "--weights", "w1", "--wrt", "w1", "--format", "json", *argv])


@pytest.mark.parametrize("act, candidate, convention, verdict", [
    ("hardswish", "x*(hardswish(w1*x) - y)*hardswish'(w1*x)", "any", "equivalent"),
    ("hardswish", "x*(hardswish(w1*x) - y)*" + HS_PRIME.format(lo="step(w1*x + 3)",
                                                              hi="step(3 - w1*x)"),
     "any", "equivalent"),
    # torch's open interval (-3, 3): the strict brackets are its kink values exactly
    ("hardswish", "x*(hardswish(w1*x) - y)*" + HS_PRIME.format(lo="[w1*x + 3 > 0]",
                                                              hi="[3 - w1*x > 0]"),
     "torch", "equivalent"),
    ("hardswish", "x*(hardswish(w1*x) - y)*" + HS_PRIME.format(lo="[w1*x + 3 >= 0]",
                                                              hi="[3 - w1*x >= 0]"),
     "torch", "equivalent_almost_everywhere"),
    ("hardswish", "x*(hardswish(w1*x) - y)*relu6(w1*x + 3)/6", "any", "not_equivalent"),
    ("silu", "x*(silu(w1*x) - y)*(sigmoid(w1*x) + w1*x*sigmoid(w1*x)*(1 - sigmoid(w1*x)))",
     "any", "equivalent"),
    ("silu", "x*(swish(w1*x) - y)*silu'(w1*x)", "any", "equivalent"),
    ("silu", "x*(silu(w1*x) - y)*sigmoid(w1*x)", "any", "not_equivalent"),
    ("swish", "x*(swish(w1*x) - y)*swish'(w1*x)", "any", "equivalent"),
])
def test_judged(capsys, act, candidate, convention, verdict):
    code = check("--act", act, "--kink-convention", convention, candidate)
    assert json.loads(capsys.readouterr().out)["verdict"] == verdict
    assert code == (1 if verdict == "not_equivalent" else 0)


@pytest.mark.parametrize("text, plain_text, tex", [
    ("hardswish(z)", "hardswish(z)", r"\operatorname{hardswish}(z)"),
    ("hard_swish(z)", "hardswish(z)", r"\operatorname{hardswish}(z)"),
    ("silu(z)", "silu(z)", r"\operatorname{SiLU}(z)"),
    ("swish(z)", "swish(z)", r"\operatorname{swish}(z)"),
])
def test_printed_and_read_back(text, plain_text, tex):
    expr = parse_formula(text).expr
    assert plain(expr) == plain_text and latex(expr) == tex
    assert parse_formula(plain_text).expr == expr
    assert parse_formula(tex, latex=True).expr == expr


@pytest.mark.parametrize("at, slope", [
    (-4, 0), (Rational(-3, 2), Rational(0)), (Rational(3, 2), 1), (4, 1), (0, Rational(1, 2)),
])
def test_hardswish_derivative_off_the_kinks(at, slope):
    d = parse_activation("hardswish").derivative(z)
    want = 0 if at < -3 else 1 if at > 3 else Rational(at) / 3 + Rational(1, 2)
    assert PointEvaluator({}, {z: Fraction(str(at))})(d) == Fraction(str(want))


@pytest.mark.parametrize("convention, at, want", [
    ("0", -3, 0), ("1", -3, Rational(-1, 2)), ("0", 3, 1), ("1", 3, Rational(3, 2)),
    ("torch", -3, 0), ("torch", 3, 1), ("jax", -3, 0), ("jax", 3, 1),
    ("tensorflow", -3, 0), ("tensorflow", 3, 1),
])
def test_hardswish_derivative_at_the_kinks(convention, at, want):
    conv = get_convention(convention)
    d = conv.derivative(parse_activation("hardswish").apply(z), 1)
    got = PointEvaluator({}, {z: Fraction(at)}, step0=Fraction(conv.step0_values[0]))(d)
    assert got == Fraction(str(want))


torch = pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.parametrize("act", ["hardswish", "silu"])
@pytest.mark.parametrize("w1", [Fraction(-3), Fraction(3), Fraction(-1, 2), Fraction(7, 4)])
def test_adapted_to_torch(act, w1):
    """torch_forward computes the network with F.hardswish / F.silu: autograd equals the
    exact oracle under the torch profile, on the kinks (x = 1, w1 = +-3) too."""
    from derivcheck.oracle.adapters import compare_torch, torch_forward
    net = chain(["w1"], act, loss="half_squared")
    w = torch.tensor(float(w1), dtype=torch.float64, requires_grad=True)
    torch_forward(net, {"x": 1, "w1": w, "y": 0.5}).backward()
    exact = Oracle(net, "torch").gradient("w1", {"x": 1, "w1": w1, "y": Fraction(1, 2)})
    assert w.grad.item() == pytest.approx(float(exact), rel=1e-14)
    assert compare_torch(net, points=4).ok
