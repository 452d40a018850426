"""derivcheck.core.conventions: Step values, framework profiles and their lookup."""
from fractions import Fraction

import pytest
import sympy
from sympy import Rational, symbols

from derivcheck.core import functions as F
from derivcheck.core.conventions import CONVENTION_NAMES, PROFILES, get_convention
from derivcheck.core.primitives import primitive_named, primitives
from derivcheck.errors import SpecError
from derivcheck.decide.evaluate import PointEvaluator

x, z, a, b = symbols("x z a b")
HALF = Rational(1, 2)


@pytest.mark.parametrize("name, canonical, values", [
    ("any", "any", (0, HALF, 1)),
    ("0", "0", (0,)), ("step0", "0", (0,)),
    ("1", "1", (1,)), ("step1", "1", (1,)),
    ("1/2", "1/2", (HALF,)), ("half", "1/2", (HALF,)), ("0.5", "1/2", (HALF,)),
    ("torch", "torch", (0,)), ("pytorch", "torch", (0,)), (" Torch ", "torch", (0,)),
    ("jax", "jax", (0,)), ("tensorflow", "tensorflow", (0,)), ("tf", "tensorflow", (0,)),
    ("numpy", "numpy", (1,)),
])
def test_lookup(name, canonical, values):
    conv = get_convention(name)
    assert conv.name == canonical
    assert conv.step0_values == values
    assert conv.is_profile == (canonical in PROFILES)


def test_every_advertised_name_resolves():
    for name in CONVENTION_NAMES:
        get_convention(name)


def test_convention_objects_pass_through():
    conv = get_convention("jax")
    assert get_convention(conv) is conv


@pytest.mark.parametrize("name", ["", "torch2", "2", "numpy2", "-1"])
def test_unknown_convention(name):
    with pytest.raises(SpecError) as err:
        get_convention(name)
    assert "unknown kink convention" in err.value.message
    assert "torch" in err.value.hint


@pytest.mark.parametrize("name", ["any", "0", "1", "1/2"])
def test_step_conventions_use_fdiff(name):
    conv = get_convention(name)
    assert conv.derivative(F.ReLU(z), 1) == F.Step(z)
    assert conv.derivative(F.Max2(a, b), 2) == F.Step(b - a)


def value(expr, point, step0=0):
    return PointEvaluator({}, {k: Fraction(v) for k, v in point.items()},
                          step0=Fraction(step0))(expr)


@pytest.mark.parametrize("conv, fn, argindex, point, expected", [
    # d max(x, 0)/dx at the tie: torch and jax split it, tensorflow gives it to x
    ("torch", F.Max2(x, 0), 1, {x: 0}, HALF),
    ("jax", F.Max2(x, 0), 1, {x: 0}, HALF),
    ("tensorflow", F.Max2(x, 0), 1, {x: 0}, 1),
    # ... and with the arguments swapped, tensorflow gives it to the 0
    ("torch", F.Max2(0, x), 2, {x: 0}, HALF),
    ("jax", F.Max2(0, x), 2, {x: 0}, HALF),
    ("tensorflow", F.Max2(0, x), 2, {x: 0}, 0),
    ("torch", F.Min2(x, 0), 1, {x: 0}, HALF),
    ("tensorflow", F.Min2(x, 0), 1, {x: 0}, 1),
    ("tensorflow", F.Min2(0, x), 2, {x: 0}, 0),
    # away from the tie every profile is the plain derivative
    ("torch", F.Max2(x, 0), 1, {x: 2}, 1), ("tensorflow", F.Max2(x, 0), 1, {x: -2}, 0),
    ("jax", F.Max2(a, b), 2, {a: 1, b: 3}, 1),
    # the kink tables
    ("torch", F.ReLU(z), 1, {z: 0}, 0), ("jax", F.ReLU(z), 1, {z: 0}, 0),
    ("tensorflow", F.ReLU(z), 1, {z: 0}, 0),
    ("torch", F.LeakyReLU(z, Rational(1, 100)), 1, {z: 0}, Rational(1, 100)),
    ("jax", F.LeakyReLU(z, Rational(1, 100)), 1, {z: 0}, 1),
    ("tensorflow", F.LeakyReLU(z, Rational(1, 100)), 1, {z: 0}, Rational(1, 100)),
    ("torch", F.Absolute(z), 1, {z: 0}, 0), ("jax", F.Absolute(z), 1, {z: 0}, 1),
    ("torch", F.HardTanh(z), 1, {z: 1}, 0), ("jax", F.HardTanh(z), 1, {z: 1}, 1),
    ("torch", F.HardTanh(z), 1, {z: -1}, 0), ("tensorflow", F.HardTanh(z), 1, {z: -1}, 1),
    ("torch", F.ELU(z, 1), 1, {z: 0}, 1), ("jax", F.ELU(z, 1), 1, {z: 0}, 1),
    ("tensorflow", F.ELU(z, 1), 1, {z: 0}, 1),
])
def test_profile_values(conv, fn, argindex, point, expected):
    d = get_convention(conv).derivative(fn, argindex)
    assert value(d, point) == Fraction(str(expected))


@pytest.mark.parametrize("conv", ["torch", "jax", "tensorflow"])
def test_selu_slope_at_zero(conv):
    got = value(get_convention(conv).derivative(F.SELU(z), 1), {z: 0})
    want = F.SELU_SCALE if conv == "tensorflow" else F.SELU_SCALE * F.SELU_ALPHA
    assert got == Fraction(int(want.p), int(want.q))


@pytest.mark.parametrize("name", ["any", "0", "1", "1/2", "torch", "jax", "tensorflow"])
def test_elu_alpha_one_has_slope_one_at_zero_under_every_convention(name):
    conv = get_convention(name)
    d = conv.derivative(F.ELU(z, 1), 1)
    for c in conv.step0_values:
        assert value(d, {z: 0}, c) == 1


@pytest.mark.parametrize("name", ["any", "0", "1", "1/2", "torch", "jax", "tensorflow"])
def test_necro_relu_surrogate_slope_below_zero(name):
    conv = get_convention(name)
    d = conv.derivative(F.NecroReLU(z, Rational(1, 10)), 1)
    for c in conv.step0_values:
        assert value(d, {z: Rational(-3, 2)}, c) == Fraction(1, 10)
        assert value(d, {z: Rational(3, 2)}, c) == 1


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("fn", [
    F.ReLU(z), F.LeakyReLU(z, Rational(1, 5)), F.PReLU(z, Rational(1, 4)), F.ELU(z, HALF),
    F.SELU(z), F.Absolute(z), F.HardTanh(z), F.ReLU6(z), F.Max2(z, 1), F.Min2(z, 1),
])
@pytest.mark.parametrize("at", [Rational(-7, 3), Rational(-1, 2), Rational(1, 2), Rational(9, 4),
                                Rational(13, 2)])
def test_profiles_equal_step_form_off_kinks(profile, fn, at):
    conv = get_convention(profile)
    for i in range(1, len(fn.args) + 1):
        if fn.args[i - 1].is_Number:
            continue
        assert value(conv.derivative(fn, i), {z: at}) == value(fn.fdiff(i), {z: at})


def test_profiles_are_data_declared_by_the_primitives():
    assert set(PROFILES) == {"torch", "jax", "tensorflow", "numpy"}
    for prim in primitives():
        assert set(prim.at_kink) <= set(PROFILES), prim.name
    for name in ("relu", "max", "abs", "hardtanh"):
        assert {"torch", "jax", "tensorflow"} <= set(primitive_named(name).at_kink)


def test_numpy_profile_is_seed_001s_hand_written_backward():
    """``grad_h[h < 0] = 0`` keeps the gradient at h = 0: relu'(0) = 1, and a candidate's
    own Step(0) is 1 too."""
    conv = get_convention("numpy")
    assert conv.step0_values == (1,)
    assert value(conv.derivative(F.ReLU(z), 1), {z: 0}) == 1
    assert value(conv.derivative(F.ReLU(z), 1), {z: Rational(-1, 2)}) == 0


def test_profile_falls_back_to_fdiff_for_unlisted_arguments():
    conv = get_convention("torch")
    assert conv.derivative(F.LeakyReLU(z, a), 2) == z - F.ReLU(z)
    assert conv.derivative(F.Sigmoid(z), 1) == F.Sigmoid(z) * (1 - F.Sigmoid(z))
    assert conv.derivative(sympy.tanh(z), 1) == 1 - sympy.tanh(z) ** 2


@pytest.mark.torch
@pytest.mark.parametrize("name, fn, torch_fn", [
    ("relu", F.ReLU(z), "relu"),
    ("leaky", F.LeakyReLU(z, Rational(1, 100)), "leaky_relu"),
    ("abs", F.Absolute(z), "abs"),
    ("hardtanh+", F.HardTanh(z), "hardtanh"),
    ("elu", F.ELU(z, 1), "elu"),
    ("selu", F.SELU(z), "selu"),
    ("relu6", F.ReLU6(z), "relu6"),
])
def test_torch_profile_matches_torch_at_kinks(name, fn, torch_fn):
    torch_ = pytest.importorskip("torch")
    tf = {"relu": torch_.relu, "leaky_relu": lambda t: torch_.nn.functional.leaky_relu(t, 0.01),
          "abs": torch_.abs, "hardtanh": torch_.nn.functional.hardtanh,
          "elu": torch_.nn.functional.elu, "selu": torch_.selu,
          "relu6": torch_.nn.functional.relu6}[torch_fn]
    kinks = {"hardtanh": (-1.0, 1.0), "relu6": (0.0, 6.0)}.get(torch_fn, (0.0,))
    for k in kinks:
        t = torch_.tensor(k, dtype=torch_.float64, requires_grad=True)
        tf(t).backward()
        mine = value(get_convention("torch").derivative(fn, 1), {z: Fraction(k)})
        assert abs(float(mine) - t.grad.item()) < 1e-12, (name, k)
