"""derivcheck.names: valid names and the one "did you mean" helper."""
import pytest

from derivcheck.names import Namespace, did_you_mean, valid_name


@pytest.mark.parametrize("word, options, expected", [
    ("w_1", ["w1", "w2", "x"], "w1"),
    ("Relu", ["relu", "tanh"], "relu"),            # letter case ignored
    ("RELU6", ["relu", "relu6"], "relu6"),
    ("sigmod", ["sigmoid", "softplus"], "sigmoid"),
    ("qqq", ["w1", "x"], None),                    # nothing close
    ("w1", [], None),
    ("w" * 65, ["w" * 64], None),                  # too long to compare
])
def test_did_you_mean(word, options, expected):
    assert did_you_mean(word, options) == expected


def test_the_namespace_suggests_through_the_same_helper():
    ns = Namespace(symbols={"w1": None, "yhat": None})
    assert ns.closest("YHat") == "yhat" and ns.closest("zzzz") is None


@pytest.mark.parametrize("name, ok", [("w1", True), ("W0_12", True), ("1w", False),
                                      ("a b", False), ("class", False), ("_x", False)])
def test_valid_name(name, ok):
    assert valid_name(name) is ok
