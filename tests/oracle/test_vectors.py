"""derivcheck.oracle.vectors: the contract's JSON shape, exact strings, floats, kink points."""
import json
from fractions import Fraction

import mpmath
import pytest

from derivcheck.core.network import chain, mlp
from derivcheck.oracle.exact import Oracle
from derivcheck.oracle.vectors import make_vectors


@pytest.fixture(scope="module")
def relu_vectors():
    net = chain(["w1", "w2"], "relu", loss="half_squared")
    return net, make_vectors(net, points=4, seed=7)


def test_contract_shape(relu_vectors):
    net, data = relu_vectors
    assert set(data) == {"network", "kink_convention", "vectors"}
    assert data["network"] == net.spec.to_dict()
    assert data["kink_convention"] == "torch"
    for v in data["vectors"]:
        assert set(v) == {"point", "loss", "gradient", "gradient_float", "at_kink"}
        assert list(v["point"]) == ["x", "w1", "w2", "y"]
        assert list(v["gradient"]) == list(v["gradient_float"]) == ["w1", "w2"]
        assert isinstance(v["at_kink"], bool)
    json.loads(json.dumps(data))


def test_values_are_exact_strings_that_reverify(relu_vectors):
    net, data = relu_vectors
    oracle = Oracle(net, "torch")
    for v in data["vectors"]:
        point = {k: Fraction(s) for k, s in v["point"].items()}
        assert Fraction(v["loss"]) == oracle.loss(point)
        assert {k: Fraction(s) for k, s in v["gradient"].items()} == oracle.gradients(point)
        assert v["gradient_float"] == {k: float(Fraction(s)) for k, s in v["gradient"].items()}
        assert v["at_kink"] == oracle.at_kink(point)


def test_random_points_then_one_kink_point_per_site(relu_vectors):
    _, data = relu_vectors
    flags = [v["at_kink"] for v in data["vectors"]]
    assert flags == [False] * 4 + [True] * 2


def test_kink_vectors_use_the_convention():
    net = chain(["w1"], "relu")
    kink_values = {}
    for convention in ("torch", "1"):
        data = make_vectors(net, points=0, convention=convention)
        (v,) = data["vectors"]
        assert v["at_kink"] and v["point"]["w1"] == "0"
        assert data["kink_convention"] == convention
        assert v["gradient"]["w1"] == str(Oracle(net, convention).gradient("w1", v["point"]))
        kink_values[convention] = v["gradient"]["w1"]
    assert kink_values["torch"] == "0" != kink_values["1"]


def test_transcendental_values_are_twenty_digit_decimals():
    net = mlp([2, 2, 1], "tanh,sigmoid", loss="bce")
    data = make_vectors(net, points=2, seed=1)
    v = data["vectors"][0]
    digits = v["gradient"]["W0_11"].lstrip("-").replace(".", "").split("e")[0].lstrip("0")
    assert 18 <= len(digits) <= 20
    exact = Oracle(net, "torch").gradients({k: Fraction(s) for k, s in v["point"].items()})
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(v["gradient"]["W0_11"]) - exact["W0_11"]) \
            <= mpmath.mpf(10) ** -18 * abs(exact["W0_11"])


def test_no_kinks_and_seeds():
    net = mlp([2, 2, 1], "relu")
    assert len(make_vectors(net, points=3, kinks=False)["vectors"]) == 3
    assert make_vectors(net, points=3, seed=1) == make_vectors(net, points=3, seed=1)
    assert make_vectors(net, points=3, seed=1) != make_vectors(net, points=3, seed=2)


def test_assumptions_hold_at_every_vector():
    net = chain(["w1", "w2"], "relu", biases=["b1", "b2"])
    data = make_vectors(net, points=3, assume=["b1 >= 1", "x < 1"])
    assert all(Fraction(v["point"]["b1"]) >= 1 and Fraction(v["point"]["x"]) < 1
               for v in data["vectors"])


def test_kink_vectors_are_float64_numbers():
    """Issue 19: a vector labelled at_kink must be on the kink in float64 arithmetic, so
    every value of it is a float64 number (no 34-digit bias)."""
    from fractions import Fraction

    from derivcheck.core.network import mlp
    net = mlp([2, 3, 1], "relu,identity", bias=True)
    data = make_vectors(net, points=2, seed=5)
    kinks = [v for v in data["vectors"] if v["at_kink"]]
    assert kinks
    for v in kinks:
        for value in v["point"].values():
            assert Fraction(float(Fraction(value))) == Fraction(value)
