"""Networks and notation real authors use (issue 16): each example must be stated, read
and decided, through the Python API and the CLI."""
import pytest
import sympy

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


# -- no loss, l1, upstream ---------------------------------------------------------------
def test_loss_none_is_the_gradient_of_the_output(capsys):
    code, out = _run(capsys, "check", "--weights", "w1,w2", "--act", "relu", "--loss", "none",
                     "--wrt", "w1", "step(z2)*w2*step(z1)*x")
    assert code == 0, out
    code, out = _run(capsys, "check", "--weights", "w1,w2", "--act", "relu", "--loss", "none",
                     "--wrt", "w1", "(yhat - y)*step(z2)*w2*step(z1)*x")
    assert code == 1, out


def test_l1_loss_has_a_kink_at_yhat_equal_y():
    net = chain(["w1"], "relu", loss="l1")
    assert check(net, "sign(yhat - y)*step(z1)*x", "w1").verdict.value == "equivalent"
    r = check(net, "step(z1)*x", "w1")
    assert r.verdict.value == "not_equivalent"
    point = {k: v for k, v in r.counterexample.point.items()}
    assert point  # a real point, re-checked exactly


def test_upstream_gradient_stays_a_symbol(capsys, tmp_path):
    code, out = _run(capsys, "check", "--weights", "w1", "--act", "sigmoid", "--upstream",
                     "--wrt", "w1", "dyhat*sigmoid'(z1)*x")
    assert code == 0, out
    code, out = _run(capsys, "check", "--weights", "w1", "--act", "sigmoid", "--upstream",
                     "dA", "--wrt", "w1", "dA*a1*(1 - a1)*x")
    assert code == 0, out
    code, out = _run(capsys, "check", "--weights", "w1", "--act", "sigmoid", "--upstream",
                     "--wrt", "w1", "sigmoid'(z1)*x")
    assert code == 1, out
    net = tmp_path / "net.toml"
    net.write_text('weights = ["w1"]\nactivations = "sigmoid"\nupstream = "dA"\n')
    code, out = _run(capsys, "check", "--net", str(net), "--wrt", "w1", "dA*a1*(1 - a1)*x")
    assert code == 0, out
    code, out = _run(capsys, "check", "--weights", "w1", "--upstream", "--loss", "bce",
                     "--wrt", "w1", "x")
    assert code == 2 and "upstream replaces the loss" in out


# -- case conditions on intermediate quantities -----------------------------------------
def test_assumptions_on_intermediate_quantities_are_respected():
    net = chain(["w1"], "relu")
    assert check(net, "(yhat - y)*x", "w1", assume=["z1 > 0"]).verdict.value == "equivalent"
    assert check(net, "(yhat - y)*x", "w1").verdict.value != "equivalent"
    r = check(net, "(yhat - y)*w1", "w1", assume=["z1 > 0"])
    assert r.verdict.value == "not_equivalent"
    p = {k: sympy.Rational(v) for k, v in r.counterexample.point.items()}
    assert p["w1"] * p["x"] > 0  # the counterexample satisfies z1 > 0


@pytest.mark.parametrize("case,candidate", [("yhat > y", "step(z1)*x"),
                                            ("yhat < y", "-step(z1)*x")])
def test_l1_cases_as_assumptions(case, candidate):
    net = chain(["w1"], "relu", loss="l1")
    assert check(net, candidate, "w1", assume=[case]).verdict.value == "equivalent"
    r = check(net, "-" + candidate, "w1", assume=[case])
    assert r.verdict.value == "not_equivalent"
    p = {k: sympy.Rational(v) for k, v in r.counterexample.point.items()}
    yhat = max(p["w1"] * p["x"], 0)
    assert (yhat > p["y"]) if ">" in case else (yhat < p["y"])


def test_unknown_name_in_an_assumption_is_refused(capsys):
    code, out = _run(capsys, "check", "--weights", "w1", "--assume", "q > 0", "--wrt", "w1", "x")
    assert code == 2 and "q" in out and "z1" in out
