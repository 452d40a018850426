"""Networks and notation real authors use (issue 16): each example must be stated, read
and decided, through the Python API and the CLI."""
import pytest

from derivcheck.app.cli import main
from derivcheck.core.network import chain
from derivcheck.decide.check import check


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


# -- underscored names from forward equations ------------------------------------------
def test_underscored_forward_names_are_read_as_typed(capsys):
    code, out = _run(capsys, "check", "--forward", "h_1 = sigmoid(w*x)", "--forward",
                     "yhat = v*h_1", "--wrt", "v", "(yhat - y)*h_1")
    assert code == 0, out
    assert "equivalent" in out
    code, out = _run(capsys, "check", "--forward", "h_1 = sigmoid(w*x)", "--forward",
                     "yhat = v*h_1", "--wrt", "v", "(yhat - y)*h_1*v")
    assert code == 1, out


# -- derivative names -------------------------------------------------------------------
@pytest.mark.parametrize("act,word", [("relu", "ReLU_prime"), ("relu", "relu_grad"),
                                      ("relu", "drelu"), ("relu", r"\text{ReLU\_Prime}"),
                                      ("sigmoid", "sigmoid_prime"), ("sigmoid", "dsigmoid"),
                                      ("tanh", "tanh_grad")])
def test_derivative_names_read_as_the_activations_derivative(act, word):
    net = chain(["w1"], act)
    r = check(net, f"(yhat - y)*{word}(z1)*x", "w1")
    assert r.verdict.value == "equivalent"
    assert any("the derivative of" in note for note in r.readings)
    wrong = check(net, f"(yhat - y)*{word}(z1)*w1", "w1")
    assert wrong.verdict.value == "not_equivalent"
