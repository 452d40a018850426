"""derivcheck.oracle.exact: exact gradients at a point, the compiled fast path against the
reference evaluator, conventions, points as users write them, and precision."""
import random
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from derivcheck.errors import SpecError
from derivcheck.decide.evaluate import PointEvaluator, UndefinedAt
from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import STEP_VALUES, Oracle, exact_number, exact_point


def mpf(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def close(a, b, digits=45):
    """Equal for exact values; to ``digits`` digits (of 1 or more) otherwise."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    with mpmath.workdps(digits + 10):
        return abs(mpf(a) - mpf(b)) <= mpmath.mpf(10) ** -digits * max(1, abs(mpf(b)))


def fraction_point(net, rng):
    point = {s: Fraction(rng.randint(-12, 12), 4) for s in net.variables}
    point.update({t: Fraction(rng.randint(0, 4), 4) for t in net.targets})
    return point


# --- the contract's examples --------------------------------------------------------------

def test_contract_vector_example():
    oracle = Oracle(chain(["w1", "w2"], "relu"), convention="torch")
    point = {"x": "1/2", "w1": "3", "w2": "2", "y": "1"}
    assert oracle.loss(point) == 2
    assert oracle.gradients(point) == {"w1": 2, "w2": 3}


def test_relu_kink_value_is_the_convention():
    net = chain(["w1", "w2"], "relu")
    kink = {"x": 1, "w1": 0, "w2": 2, "y": 1}   # z1 = z2 = 0: dC/dw1 = -2 Step(0)^2
    assert Oracle(net, "torch").gradient("w1", kink) == 0
    assert Oracle(net, "0").gradient("w1", kink) == 0
    assert Oracle(net, "1/2").gradient("w1", kink) == Fraction(-1, 2)
    assert Oracle(net, "step1").gradient("w1", kink) == -2
    assert Oracle(net, "any").gradients_all_conventions(kink) == {
        "0": {"w1": 0, "w2": 0}, "1/2": {"w1": Fraction(-1, 2), "w2": 0},
        "1": {"w1": -2, "w2": 0}}
    assert Oracle(net, "torch").at_kink(kink)


def test_dead_unit_zero_is_not_a_kink():
    net = chain(["w1", "w2"], "relu")
    behind_dead = {"x": 1, "w1": -1, "w2": 2, "y": 1}   # a1 = 0 so z2 = 0 exactly
    assert not Oracle(net).at_kink(behind_dead)
    assert Oracle(net).gradients(behind_dead) == {"w1": 0, "w2": 0}


def test_leaky_relu_profiles_differ_at_zero():
    net = chain(["w1"], "leaky_relu(0.25)")
    kink = {"x": 2, "w1": 0, "y": 1}          # dC/dw1 = (0 - 1) * leaky'(0) * 2
    assert Oracle(net, "torch").gradient("w1", kink) == Fraction(-1, 2)
    assert Oracle(net, "jax").gradient("w1", kink) == -2
    assert Oracle(net, "tensorflow").gradient("w1", kink) == Fraction(-1, 2)


def test_gradient_of_an_input_and_loss():
    oracle = Oracle(chain(["w1"], "relu"))
    point = {"x": 2, "w1": 3, "y": 1}
    assert oracle.gradient("x", point) == (6 - 1) * 3
    assert oracle.loss(point) == Fraction(25, 2)


def test_oracle_takes_a_network_dict():
    oracle = Oracle({"weights": ["w1"], "activations": "relu"}, "torch")
    assert oracle.gradients({"x": 1, "w1": 1, "y": 0}) == {"w1": 1}


# --- points as users write them -----------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (0.1, Fraction(0.1)), ("0.1", Fraction(1, 10)), ("3/7", Fraction(3, 7)), (3, Fraction(3)),
    (sympy.Rational(-2, 3), Fraction(-2, 3)), (np.float64(0.5), Fraction(1, 2)),
    (np.int64(4), Fraction(4)), (np.float32(0.25), Fraction(1, 4)),
    (np.array(1.5), Fraction(3, 2)), (Fraction(5, 9), Fraction(5, 9)),
])
def test_exact_number(value, expected):
    assert exact_number(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "abc", None, [1]])
def test_exact_number_refuses(value):
    with pytest.raises(SpecError):
        exact_number(value)


def test_floats_are_converted_exactly():
    oracle = Oracle(chain(["w1"], "identity"))
    g = oracle.gradient("w1", {"x": 0.1, "w1": 0.2, "y": 0.3})
    x, w, y = Fraction(0.1), Fraction(0.2), Fraction(0.3)
    assert g == (w * x - y) * x


def test_missing_names_are_listed():
    with pytest.raises(SpecError) as err:
        Oracle(chain(["w1", "w2"])).gradients({"x": 1, "w1": 1})
    assert "no value for w2, y" in str(err.value)
    assert "x, w1, w2, y" in str(err.value)


def test_unknown_name_gets_a_suggestion():
    with pytest.raises(SpecError) as err:
        exact_point(chain(["w1", "w2"]), {"x": 1, "w1": 1, "w22": 2, "y": 0})
    assert "'w22'" in str(err.value) and "did you mean: w2?" in str(err.value)


def test_symbols_as_keys():
    net = chain(["w1"])
    point = {sympy.Symbol("x"): 1, sympy.Symbol("w1"): 2, sympy.Symbol("y"): 0}
    assert Oracle(net).gradients(point) == {"w1": 2}


def test_long_variable_lists_are_shortened_in_hints():
    with pytest.raises(SpecError) as err:
        Oracle(mlp([4, 4, 1])).gradients({})
    assert "in all)" in err.value.hint


# --- the compiled program equals the reference evaluator -----------------------------------

ACTIVATIONS = ["relu", "leaky_relu(0.1)", "prelu(a)", "elu(2)", "selu", "celu", "sigmoid",
               "tanh", "softplus", "abs", "hardtanh", "relu6", "gelu", "swish", "silu",
               "hardswish"]


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("convention", ["any", "1", "torch", "jax", "tensorflow"])
def test_compiled_values_equal_the_reference_evaluator(act, convention):
    net = mlp([2, 2, 2], act, bias=True, loss="cross_entropy") if act != "prelu(a)" else \
        chain(["w1", "w2"], act, biases=["b1", "b2"], loss="mse")
    oracle = Oracle(net, convention)
    definitions = net.definitions(convention if oracle.convention.is_profile else "any")
    rng = random.Random(act + convention)
    for _ in range(3):
        point = fraction_point(net, rng)
        values = oracle.values({s.name: v for s, v in point.items()})
        reference = PointEvaluator(definitions, point, step0=oracle.step0)
        for symbol in definitions:
            assert close(values[symbol], reference.symbol(symbol)), symbol


def test_exact_for_piecewise_rational_networks():
    net = mlp([3, 4, 2], "relu,hardtanh", bias=True, loss="mse")
    grads = Oracle(net, "torch").gradients({s.name: Fraction(1, 3) for s in net.variables})
    assert all(isinstance(g, Fraction) for g in grads.values())


def test_transcendental_values_have_fifty_digits():
    net = chain(["w1", "w2"], "tanh,sigmoid", loss="bce")
    point = {"x": Fraction(3, 2), "w1": Fraction(-1, 2), "w2": 2, "y": Fraction(1, 4)}
    got = Oracle(net).gradients(point)
    with mpmath.workdps(80):
        def loss(w1, w2):
            yhat = 1 / (1 + mpmath.exp(-w2 * mpmath.tanh(w1 * mpmath.mpf(3) / 2)))
            y = mpmath.mpf(1) / 4
            return -(y * mpmath.log(yhat) + (1 - y) * mpmath.log(1 - yhat))
        want = {"w1": mpmath.diff(lambda w: loss(w, 2), mpmath.mpf(-1) / 2),
                "w2": mpmath.diff(lambda w: loss(mpmath.mpf(-1) / 2, w), 2)}
        for k in want:
            assert abs(got[k] - want[k]) < mpmath.mpf(10) ** -50 * abs(want[k])


def test_saturated_sigmoid_raises_precision_instead_of_failing():
    # at 60 digits 1 - sigmoid(200) rounds to 0 and (1 - y) / (1 - yhat) divides by it
    net = chain(["w1"], "sigmoid", loss="bce")
    point = {"x": 1, "w1": 200, "y": 0}
    oracle = Oracle(net)
    with mpmath.workdps(200):
        want = 1 / (1 + mpmath.exp(-200))          # dC/dw1 = (yhat - y) x
        assert abs(oracle.gradient("w1", point) - want) < mpmath.mpf(10) ** -60
        assert abs(oracle.loss(point) - (200 + mpmath.log1p(mpmath.exp(-200)))) \
            < mpmath.mpf(10) ** -50


def test_undefined_points_raise():
    oracle = Oracle(chain(["w1"], "identity", loss="bce"))
    with pytest.raises(UndefinedAt):
        oracle.gradients({"x": 1, "w1": 0, "y": 1})          # log(0)


@pytest.mark.parametrize("convention", ["torch", "jax", "0", "1/2", "1", "any"])
def test_undefined_parts_that_are_multiplied_by_zero_do_not_matter(convention):
    """A dead ReLU output feeds bce: at w1 x = -1 the output is 0, so the loss has log(0)
    and dC/dyhat = -y/yhat is undefined, but Step(z) = 0 multiplies it: the gradient is 0,
    as torch's relu backward (where(z > 0, g, 0)) computes it. (At a live point the
    gradient is (yhat - y) x / (yhat (1 - yhat)), not 0.)"""
    net = chain(["w1"], "relu", loss="bce")
    oracle = Oracle(net, convention)
    dead = {"x": 1, "w1": -1, "y": Fraction(1, 2)}
    with pytest.raises(UndefinedAt):
        oracle.loss(dead)
    assert oracle.gradients(dead) == {"w1": 0}
    assert oracle.gradients({"x": 2, "w1": Fraction(1, 8), "y": Fraction(1, 2)}) == {
        "w1": Fraction(-1, 4) * 2 / (Fraction(1, 4) * Fraction(3, 4))}


def test_an_undefined_part_not_multiplied_by_zero_is_still_undefined():
    net = chain(["w1"], "identity", loss="bce")   # yhat = w1 x = 0: -y/0 reaches the gradient
    with pytest.raises(UndefinedAt):
        Oracle(net, "torch").gradients({"x": 1, "w1": 0, "y": Fraction(1, 2)})


def test_step_values_and_repr():
    assert STEP_VALUES == (0, Fraction(1, 2), 1)
    assert "convention='torch'" in repr(Oracle(chain(["w1"]), "torch"))


def test_compiled_once_per_network():
    net = mlp([2, 3, 1])
    first = Oracle(net, "torch")._program("any")
    assert Oracle(net, "1")._program("any") is first


def test_names_that_look_like_the_generated_code_do_not_reach_it():
    """The compiled program refers to variables by slot, never by name: a network whose
    names are the program's own identifiers evaluates as one with ordinary names."""
    from derivcheck.oracle.exact import generated_source
    plain = Oracle(chain(weights=["w1", "w2"], activations="sigmoid"), "torch")
    odd = Oracle(chain(weights=["K", "s0n"], activations="sigmoid", input="EV", target="V"),
                 "torch")
    point = {"x": "1/3", "w1": 2, "w2": "-3/2", "y": 1}
    renamed = {"EV": "1/3", "K": 2, "s0n": "-3/2", "V": 1}
    assert odd.gradients(renamed) == {"K": plain.gradients(point)["w1"],
                                      "s0n": plain.gradients(point)["w2"]}
    with pytest.raises(AssertionError, match="STRING"):
        generated_source(["def _run(L, S0N, S0D, EV, V):", "    s0n = 's'"])
