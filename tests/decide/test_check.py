"""check(): the seed question judged formula by formula, and the Result contract."""
import tomllib
from pathlib import Path

import pytest

import derivcheck
from derivcheck.errors import DerivcheckError, ParseError, SpecError
from derivcheck.core.network import from_dict

SEED = tomllib.loads((Path(__file__).resolve().parents[2] / "examples" / "seed_003.toml").read_text())
NETS = {name: from_dict(spec) for name, spec in SEED["networks"].items()}


@pytest.mark.parametrize("formula", SEED["formulas"], ids=lambda f: f["label"][:50])
def test_seed_question_formula_by_formula(formula):
    net = NETS[formula["network"]]
    if formula["expect"] == "parse_error":
        with pytest.raises(ParseError) as err:
            derivcheck.check(net, formula["text"], formula.get("wrt"), assume=SEED["assume"])
        assert err.value.position is not None
        return
    r = derivcheck.check(net, formula["text"], formula.get("wrt"), assume=SEED["assume"])
    assert r.verdict == formula["expect"]
    if r.verdict == "not_equivalent":
        assert r.counterexample.point["x"] > 0          # inside the assumption
        assert r.counterexample.candidate != r.counterexample.expected
        assert r.diagnosis


def test_seed_one_layer_diagnosis_and_json():
    net = derivcheck.chain(["w1"], "relu")
    r = derivcheck.check(net, r"\frac{dC}{w_1}=(y-ReLU(w_1x))(x)", assume=["x > 0"])
    assert [d.kind for d in r.diagnosis] == ["sign_flip", "missing_gate"]
    j = r.to_json()
    assert set(j) >= {"verdict", "wrt", "candidate", "gradient", "counterexample", "kink_point",
                      "diagnosis", "method", "kink_convention", "assumptions"}
    assert j["wrt"] == "w1" and j["assumptions"] == ["x > 0"]
    assert set(j["counterexample"]) == {"point", "candidate", "expected", "step0"}
    assert all(isinstance(v, str) for v in j["counterexample"]["point"].values())
    assert r.exit_code == 1


def test_two_layer_reused_formula_is_named():
    net = derivcheck.chain(["w3", "w2", "w1"], "relu")
    r = derivcheck.check(net, "(y - relu(w1*x))*x", "w1", assume=["x > 0"])
    assert r.verdict == "not_equivalent"
    assert r.diagnosis[0].kind == "reused_last_layer_formula"


@pytest.mark.parametrize("cand, kind", [
    ("2*(relu(w1*x) - y)*step(w1*x)*x", "constant_factor"),
    ("(relu(w1*x) - y)*x", "missing_gate"),
    ("(relu(w1*x) - y)*step(w1*x)*x*step(x*w1 - 1)", None),
])
def test_diagnosis_kinds(cand, kind):
    r = derivcheck.check(derivcheck.chain(["w1"], "relu"), cand, "w1")
    assert r.verdict == "not_equivalent"
    if kind:
        assert kind in [d.kind for d in r.diagnosis]


def test_kink_only_difference_is_almost_everywhere():
    net = derivcheck.chain(["w1"], "relu")
    r = derivcheck.check(net, "(relu(w1 x) - y) [w1 x > 0] x", "w1")
    assert r.verdict == "equivalent_almost_everywhere"
    assert r.kink_point is not None and r.exit_code == 0
    assert r.diagnosis[0].kind == "convention_only"
    assert derivcheck.check(net, "(relu(w1 x) - y) [w1 x > 0] x", "w1",
                            convention="torch").verdict == "equivalent"


def test_wrt_from_left_side_must_agree():
    net = derivcheck.chain(["w1", "w2"], "relu")
    with pytest.raises(DerivcheckError):
        derivcheck.check(net, "dC/dw1 = dC/dz1*x", "w2")
    assert derivcheck.check(net, "dC/dw1 = dC/dz1*x").verdict == "equivalent"


def test_missing_wrt_and_unknown_parameter_are_clear_errors():
    net = derivcheck.chain(["w1", "w2"], "relu")  # one parameter would be inferred
    with pytest.raises(SpecError, match="which parameter"):
        derivcheck.check(net, "x")
    with pytest.raises(SpecError) as err:
        derivcheck.check(net, "x", "w9")
    assert err.value.suggestion in ("w1", "w2")


def test_deep_chain_gradient_is_shown_with_definitions():
    net = derivcheck.chain([f"w{i}" for i in range(1, 41)], "relu")
    r = derivcheck.check(net, "dC/dz1 * x", "w1")
    assert r.verdict == "equivalent"
    assert "z40" in r.definitions and len(r.gradient) < 2000


def test_sigmoid_bce_output_layer():
    net = derivcheck.chain(["w1"], "sigmoid", loss="bce")
    assert derivcheck.check(net, "(sigmoid(w1 x) - y) x", "w1").verdict == "equivalent"
    r = derivcheck.check(net, "(y - sigmoid(w1 x)) x", "w1")
    assert r.verdict == "not_equivalent"
    assert r.diagnosis[0].kind == "sign_flip"


@pytest.mark.parametrize("factor", ["hardtanh(exp(1000*x^2 + 1000))",
                                    "relu6(exp(1000*x^2 + 1000)) / 6",
                                    "(exp(x^2 + 250) + 1) / (exp(x^2 + 250) + 1 - 10^-120)"
                                    " * (1 - 10^-120 / (exp(x^2 + 250) + 1))"])
def test_rounding_in_huge_values_is_never_a_counterexample(factor):
    """Each factor is 1 everywhere, but at 60 (and 180) digits -1 + (E + 1) - (E - 1) with
    E = exp(2000) is rounding noise. The noise gave a false not_equivalent with an exact
    0 as the candidate's value; with error bounds it is never a witness."""
    from derivcheck.core.network import chain
    net = chain(["w1"], ["relu"])
    g = derivcheck.core.printing.plain(net.gradient("w1", form="expanded"))
    result = derivcheck.check(net, f"({g}) * {factor}", "w1")
    assert result.verdict in ("equivalent", "unknown"), result
    assert result.counterexample is None


def test_enums_read_and_serialise_as_the_contract_strings():
    import json
    from derivcheck.decide.verdict import DiagnosisKind, Verdict
    r = derivcheck.check(derivcheck.chain(["w1"], "relu"), "(y - relu(w1*x))*x", wrt="w1",
                         assume=["x > 0"])
    assert r.verdict is Verdict.NOT_EQUIVALENT and r.verdict == "not_equivalent"
    assert r.exit_code == 1 and r.diagnosis[0].kind is DiagnosisKind.SIGN_FLIP
    text = json.dumps(r.to_json())
    assert '"verdict": "not_equivalent"' in text and '"kind": "sign_flip"' in text
    assert type(r.to_json()["verdict"]) is str


def test_a_verdict_reached_is_kept_when_the_budget_runs_out_while_naming_the_mistake(
        monkeypatch):
    """Naming the mistake may run in code that does not return to Python in time (z3,
    SymPy's C parts on a loaded machine): past the whole check's budget, the verdict and
    its counterexample stay, and only the diagnosis is dropped, with a warning."""
    import time
    from derivcheck.decide import check as check_module
    from derivcheck.guard import Timeout

    def stubborn(*args, **kwargs):
        end = time.monotonic() + 2.5          # past the 1 s budget and its 1 s slack
        while time.monotonic() < end:
            try:
                time.sleep(0.02)
            except Timeout:                   # swallowed, as code that ignores the alarm
                pass
        time.sleep(1)                         # back in Python: the alarm is raised here

    monkeypatch.setattr(check_module, "explain", stubborn)
    net = derivcheck.chain(["w1"], "relu")
    r = derivcheck.check(net, "(y - relu(w1*x))*step(w1*x)*x", "w1", timeout=1)
    assert r.verdict == "not_equivalent" and r.counterexample is not None
    assert r.diagnosis == [] and r.gradient
    assert any("not diagnosed" in w for w in r.warnings)


def test_a_verdict_reached_is_kept_when_the_budget_runs_out_while_writing_the_gradient(
        monkeypatch):
    """The gradient is written for display after the verdict: a budget that runs out
    there (a loaded machine) keeps the verdict and says the gradient is not shown."""
    import time
    from derivcheck.decide import check as check_module

    def slow(*args, **kwargs):
        time.sleep(5)                          # past the 1 s budget and its slack

    monkeypatch.setattr(check_module, "gradient_display", slow)
    net = derivcheck.chain(["w1"], "relu")
    r = derivcheck.check(net, "(relu(w1*x) - y)*step(w1*x)*x", "w1", timeout=1)
    assert r.verdict == "equivalent"
    assert r.gradient == "" and any("gradient is not shown" in w for w in r.warnings)
