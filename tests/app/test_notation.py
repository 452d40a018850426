"""Networks and notation real authors use (issue 16): each example must be stated, read
and decided, through the Python API and the CLI."""
import pytest
import sympy

from derivcheck.app.cli import main
from derivcheck.core.network import chain, forward
from derivcheck.decide.check import check
from derivcheck.errors import NameError_


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


# -- the author's own names --------------------------------------------------------------
SIGMOID_DEFS = ["s(z) = sigmoid(z)", "d(z) = s(z)*(1 - s(z))", "y' = yhat"]


def test_definitions_through_the_api():
    net = chain(["w1"], "sigmoid", define=SIGMOID_DEFS)
    r = check(net, "(y' - y)*d(z1)*x", "w1")
    assert r.verdict.value == "equivalent"
    assert any("defined" in note and "d(z)" in note for note in r.readings)
    assert any("y'" in note for note in r.readings)
    assert check(net, "(y' - y)*s(z1)*x", "w1").verdict.value == "not_equivalent"
    f = chain(["w1"], "sigmoid", define=["f(t) = 1/(1 + exp(-t))"])
    assert check(f, "(f(z1) - y)*f(z1)*(1 - f(z1))*x", "w1").verdict.value == "equivalent"


def test_definitions_in_cli_toml_and_batch(capsys, tmp_path):
    args = [a for d in SIGMOID_DEFS for a in ("--define", d)]
    code, out = _run(capsys, "check", "--weights", "w1", "--act", "sigmoid", *args, "--wrt",
                     "w1", "(y' - y)*d(z1)*x")
    assert code == 0 and "read d(...) as the defined d(z) = s(z)*(1 - s(z))" in out, out
    net = tmp_path / "net.toml"
    net.write_text('weights = ["w1"]\nactivations = "sigmoid"\n'
                   'define = ["s(z) = sigmoid(z)", "d(z) = s(z)*(1 - s(z))"]\n')
    code, out = _run(capsys, "check", "--net", str(net), "--wrt", "w1", "(yhat - y)*d(z1)*x")
    assert code == 0, out
    from derivcheck.app.batch import grade_item
    item = {"id": 1, "network": {"weights": ["w1"], "activations": "sigmoid",
                                 "define": SIGMOID_DEFS}, "wrt": "w1",
            "candidate": "(y' - y)*d(z1)*w1"}
    assert grade_item(item)["verdict"] == "not_equivalent"


@pytest.mark.parametrize("defs,message,column", [
    (["s(z) = d(z)", "d(z) = s(z)*(1 - s(z))"], "cycle", 8),
    (["s(z) = s(z) + 1"], "cycle", 8),
    (["x(z) = sigmoid(z)"], "x is a name of the network", 1),
    (["yhat = a1"], "yhat is a name of the network", 1),
    (["relu(z) = z"], "a function derivcheck knows", 1),
    (["s(z) = sigmoid(z)", "s(t) = t"], "defined twice", 1),
    (["s(z) = sigmoid(q)"], "unknown name 'q'", 16),
    (["s(z) = __import__('os')"], "", None),
])
def test_bad_definitions_are_refused_with_a_position(capsys, defs, message, column):
    args = [a for d in defs for a in ("--define", d)]
    code, out = _run(capsys, "check", "--weights", "w1", "--act", "sigmoid", *args,
                     "--wrt", "w1", "x")
    assert code == 2, out
    assert "Traceback" not in out and message in out
    if column is not None:
        assert f"column {column}" in out


# -- a generic index on one neuron's weights --------------------------------------------
NEURON = ["yhat = sigmoid(w1*x1 + w2*x2 + w3*x3)"]


def test_generic_index_is_the_statement_for_every_j(capsys):
    code, out = _run(capsys, "check", "--forward", NEURON[0], "--input", "x1,x2,x3",
                     "--wrt", "w_j", "(yhat - y)*yhat*(1 - yhat)*x_j")
    assert code == 0, out
    for j in (1, 2, 3):
        assert f"j = {j} (w{j}): equivalent" in out


def test_generic_index_counterexample_names_the_j():
    net = forward(NEURON, inputs="x1,x2,x3")
    r = check(net, "(yhat - y)*yhat*(1 - yhat)*x1", "w_j")
    assert r.verdict.value == "not_equivalent" and r.wrt == "w2"
    assert "j = 1 (w1): equivalent" in r.readings
    assert "j = 2 (w2): not_equivalent" in r.readings
    r = check(net, r"(\hat{y} - y)\hat{y}(1 - \hat{y})x_{j}", "w_{j}")
    assert r.verdict.value == "equivalent"
    with pytest.raises(NameError_, match="unknown name 'x_j'"):  # the index is k here
        check(net, "(yhat - y)*yhat*(1 - yhat)*x_j", "w_k")


@pytest.mark.parametrize("latex", [False, True])
def test_a_braced_name_before_a_prime_is_the_primed_name(latex):
    # {y}' is how LaTeX primes a name; it is typed so in plain text too
    net = chain(["w1"], "sigmoid", define=SIGMOID_DEFS)
    text = "({y}' - y)*d(z1)*x"
    r = check(net, text, "w1", latex=latex)
    assert r.verdict.value == "equivalent"
    assert "read {y}' as y'" in r.readings
    assert check(net, "({y}' - y)*d(z1)*w1", "w1", latex=latex).verdict.value == \
        "not_equivalent"


def test_a_defined_function_may_be_primed():
    net = chain(["w1"], "sigmoid", define=["f(t) = 1/(1 + exp(-t))"])
    r = check(net, "(f(z1) - y)*f'(z1)*x", "w1")
    assert r.verdict.value == "equivalent"
    assert any("derivative of the defined f(t)" in note for note in r.readings)
    assert check(net, "(f(z1) - y)*f(z1)*x", "w1").verdict.value == "not_equivalent"


def test_batch_items_take_upstream_loss_and_case_assumptions():
    from derivcheck.app.batch import grade_item
    up = {"id": 1, "network": {"weights": ["w1"], "activations": "sigmoid", "upstream": "dA"},
          "wrt": "w1", "candidate": "dA*a1*(1 - a1)*x"}
    assert grade_item(up)["verdict"] == "equivalent"
    l1 = {"id": 2, "network": {"weights": ["w1"], "activations": "relu", "loss": "l1"},
          "wrt": "w1", "candidate": "step(z1)*x", "assume": ["yhat > y"]}
    assert grade_item(l1)["verdict"] == "equivalent"
    assert grade_item({**l1, "assume": ["yhat < y"]})["verdict"] == "not_equivalent"


@pytest.mark.parametrize("extra", [{"loss": "l1"}, {"loss": "none"}, {"upstream": "dA"},
                                   {"define": ["s(z) = sigmoid(z)"]}])
def test_matrix_networks_refuse_what_they_do_not_compute_yet(extra):
    from derivcheck.core.spec import NetworkSpec
    from derivcheck.errors import SpecError
    with pytest.raises(SpecError, match="matrix networks"):
        NetworkSpec.from_dict({"widths": ["n0", "n1", 1], "batch": "m", **extra})
