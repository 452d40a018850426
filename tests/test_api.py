"""The Python API as notebooks and graders use it (CONTRACT section 3): results that can
be asserted, printed and shown in Jupyter, and the README-level names exported."""
import time

import pytest

import derivcheck
from derivcheck.app.cli import main

NET = derivcheck.chain(weights=["w1"], activations="relu")
RIGHT = "(relu(w1*x) - y)*step(w1*x)*x"
WRONG = "(y - relu(w1*x))*x"
KINK = "(relu(w1*x) - y)*[w1*x > 0]*x"


@pytest.mark.parametrize("formula, truth", [(RIGHT, True), (KINK, True), (WRONG, False)])
def test_bool_is_true_only_for_right_formulas(formula, truth):
    assert bool(derivcheck.check(NET, formula, wrt="w1", assume=["x > 0"])) is truth


def test_assert_gradient_passes_and_returns_the_result():
    assert derivcheck.assert_gradient(NET, RIGHT, wrt="w1").verdict == "equivalent"


def test_assert_gradient_message_has_the_counterexample_and_the_diagnosis():
    with pytest.raises(AssertionError) as info:
        derivcheck.assert_gradient(NET, WRONG, wrt="w1", assume=["x > 0"])
    message = str(info.value)
    assert message.startswith("dC/dw1 = ")
    assert "not_equivalent" in message and "counterexample" in message
    assert "sign_flip" in message and "true value" in message


def test_assert_gradient_infers_wrt_and_passes_keywords():
    with pytest.raises(AssertionError, match="kink"):
        derivcheck.assert_gradient(NET, "(relu(w1*x) - y)*x", convention="1")


def test_repr_is_short_and_str_is_the_cli_text(capsys):
    r = derivcheck.check(NET, WRONG, wrt="w1", assume=["x > 0"])
    assert len(repr(r)) < 120 and r.verdict in repr(r)
    main(["check", "--weights", "w1", "--act", "relu", "--wrt", "w1", "--assume", "x > 0", WRONG])
    assert str(r) + "\n" == capsys.readouterr().out


def test_repr_of_a_long_formula_stays_short():
    long = " + ".join([RIGHT] * 40)
    assert len(repr(derivcheck.check(NET, long, wrt="w1"))) < 120


def test_network_repr_shows_its_forward_equations():
    text = repr(derivcheck.chain(["w1", "w2"], "relu"))
    assert "z1 = w1*x" in text and "a2 = relu(z2)" in text


def test_readme_level_names_are_exported():
    for name in ("compare_numpy", "compare_torch", "write_sheet", "LimitError",
                 "assert_gradient", "check", "chain", "mlp", "Oracle", "Network"):
        assert name in derivcheck.__all__ and callable(getattr(derivcheck, name))
    assert issubclass(derivcheck.LimitError, derivcheck.DerivcheckError)


def test_the_package_is_typed():
    from importlib import resources
    assert resources.files("derivcheck").joinpath("py.typed").is_file()


def test_printing_a_long_candidate_is_fast():
    from derivcheck.core.printing import plain
    net = derivcheck.chain([f"w{i}" for i in range(1, 26)], "sigmoid")
    g = net.gradient("w1")
    start = time.process_time()
    text = plain(g)
    for _ in range(10):  # a check prints the same factors again and again
        plain(g)
    assert len(text) > 8000 and time.process_time() - start < 0.5


def test_reading_counts_against_the_timeout_and_unknown_is_not_true():
    from derivcheck.limits import TIMEOUT_SLACK
    net = derivcheck.chain(["w1"], "sigmoid")
    text = "+".join(f"sigmoid(w1*x*{i})*x" for i in range(2, 2400))  # ~10 s to read
    start = time.process_time()  # CPU time: a loaded machine stretches wall time
    r = derivcheck.check(net, text, wrt="w1", timeout=0.05)
    # where the budget ran out (reading or deciding) depends on the machine's speed; the
    # hard stop is at timeout + TIMEOUT_SLACK, and unwinding a half-built parse on a
    # loaded machine takes a while: the bound is far below the ~10 s an unbounded read takes
    assert r.verdict == "unknown" and "time budget of 0.05 s" in r.reason and not r
    assert time.process_time() - start < 0.05 + TIMEOUT_SLACK + 3.0
